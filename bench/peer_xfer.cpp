/*
 * bench/peer_xfer.cpp — the C interface of peer_xfer.h. Compiled only
 * with the C++ peers (see bench/CMakeLists.txt). Exceptions never cross
 * into C: they become NULL or ENOMEM.
 */
#include <cerrno>
#include <cstdint>
#include <new>

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan" /* as in peer_moodycamel.cpp */
#endif
#include <blockingconcurrentqueue.h>
#include <concurrentqueue.h>
#ifdef PARC_BENCH_HAVE_RWQ
#include <readerwriterqueue.h>
#endif
#ifdef PARC_BENCH_HAVE_ATOMIC_QUEUE
#include <atomic_queue/atomic_queue.h>
#endif
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic pop
#endif

#include "peer_xfer.h"

/* ---- moodycamel BlockingConcurrentQueue with tokens ---------------------- */

struct xp_mcb {
    moodycamel::BlockingConcurrentQueue<void *> q;
    moodycamel::ProducerToken *ptok[XFER_PEER_TOKENS] = {};
    moodycamel::ConsumerToken *ctok[XFER_PEER_TOKENS] = {};
    explicit xp_mcb(size_t capacity) : q(capacity) {}
    ~xp_mcb()
    {
        for (int i = 0; i < XFER_PEER_TOKENS; i++) {
            delete ptok[i];
            delete ctok[i];
        }
    }
};

xp_mcb_t *xp_mcb_create(size_t capacity)
{
    try {
        xp_mcb *m = new xp_mcb(capacity);
        try {
            for (int i = 0; i < XFER_PEER_TOKENS; i++) {
                m->ptok[i] = new moodycamel::ProducerToken(m->q);
                m->ctok[i] = new moodycamel::ConsumerToken(m->q);
            }
        } catch (...) {
            delete m;
            return nullptr;
        }
        return m;
    } catch (...) {
        return nullptr;
    }
}

void xp_mcb_destroy(xp_mcb_t *q)
{
    delete q;
}

int xp_mcb_push(xp_mcb_t *q, int worker, void *item)
{
    try {
        return q->q.enqueue(*q->ptok[worker], item) ? 0 : ENOMEM;
    } catch (...) {
        return ENOMEM;
    }
}

int xp_mcb_pop_try(xp_mcb_t *q, int worker, void **item)
{
    return q->q.try_dequeue(*q->ctok[worker], *item) ? 0 : EAGAIN;
}

int xp_mcb_pop_wait(xp_mcb_t *q, int worker, void **item)
{
    q->q.wait_dequeue(*q->ctok[worker], *item);
    return 0;
}

/* ---- moodycamel BlockingReaderWriterQueue -------------------------------- */

#ifdef PARC_BENCH_HAVE_RWQ
struct xp_brwq {
    moodycamel::BlockingReaderWriterQueue<void *> q;
    explicit xp_brwq(size_t capacity) : q(capacity) {}
};

xp_brwq_t *xp_brwq_create(size_t capacity)
{
    try {
        return new xp_brwq(capacity);
    } catch (...) {
        return nullptr;
    }
}

void xp_brwq_destroy(xp_brwq_t *q)
{
    delete q;
}

int xp_brwq_push_try(xp_brwq_t *q, void *item)
{
    return q->q.try_enqueue(item) ? 0 : EAGAIN;
}

int xp_brwq_pop_try(xp_brwq_t *q, void **item)
{
    return q->q.try_dequeue(*item) ? 0 : EAGAIN;
}

int xp_brwq_pop_wait(xp_brwq_t *q, void **item)
{
    q->q.wait_dequeue(*item);
    return 0;
}
#endif

/* ---- atomic_queue ---------------------------------------------------------- */

#ifdef PARC_BENCH_HAVE_ATOMIC_QUEUE
/* The library's defaults (MAXIMIZE_THROUGHPUT on, TOTAL_ORDER off), as a
 * user gets them; SPSC as a template argument. */
template <bool SPSC>
using xp_aq_ring = atomic_queue::AtomicQueueB<void *, std::allocator<void *>, nullptr,
                                              true, false, SPSC>;

struct xp_aq {
    xp_aq_ring<false> *mpmc = nullptr;
    xp_aq_ring<true> *spsc = nullptr;
    ~xp_aq()
    {
        delete mpmc;
        delete spsc;
    }
};

xp_aq_t *xp_aq_create(size_t capacity, int spsc)
{
    try {
        xp_aq *q = new xp_aq;
        try {
            if (spsc)
                q->spsc = new xp_aq_ring<true>(static_cast<unsigned>(capacity));
            else
                q->mpmc = new xp_aq_ring<false>(static_cast<unsigned>(capacity));
        } catch (...) {
            delete q;
            return nullptr;
        }
        return q;
    } catch (...) {
        return nullptr;
    }
}

void xp_aq_destroy(xp_aq_t *q)
{
    delete q;
}

int xp_aq_push_try(xp_aq_t *q, void *item)
{
    bool ok = q->spsc != nullptr ? q->spsc->try_push(item) : q->mpmc->try_push(item);
    return ok ? 0 : EAGAIN;
}

int xp_aq_pop_try(xp_aq_t *q, void **item)
{
    bool ok = q->spsc != nullptr ? q->spsc->try_pop(*item) : q->mpmc->try_pop(*item);
    return ok ? 0 : EAGAIN;
}
#endif
