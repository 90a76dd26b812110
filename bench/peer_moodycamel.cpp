/*
 * bench/peer_moodycamel.cpp — the C interface of peer_moodycamel.h over
 * moodycamel::ConcurrentQueue and BlockingConcurrentQueue. Compiled only
 * when CMake found a C++ compiler and libconcurrentqueue-dev's headers.
 * Exceptions (allocation failures) never cross into C: they become NULL or
 * ENOMEM.
 */
#include <cerrno>
#include <cstdint>
#include <new>

// GCC warns that ThreadSanitizer does not model the standalone fences in
// libstdc++'s <atomic> (used by moodycamel); the TSan build compiles this
// peer but never runs benchmarks, so the warning is not ours to fix.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#endif
#include <blockingconcurrentqueue.h>
#include <concurrentqueue.h>
#ifdef PARC_BENCH_HAVE_RWQ
#include <readerwriterqueue.h>
#endif
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic pop
#endif

#include "peer_moodycamel.h"

struct bench_mc_queue {
    moodycamel::ConcurrentQueue<void *> q;
    explicit bench_mc_queue(size_t capacity) : q(capacity) {}
};
struct bench_mc_ptok {
    moodycamel::ProducerToken t;
    explicit bench_mc_ptok(bench_mc_queue *q) : t(q->q) {}
};
struct bench_mc_ctok {
    moodycamel::ConsumerToken t;
    explicit bench_mc_ctok(bench_mc_queue *q) : t(q->q) {}
};
#ifdef PARC_BENCH_HAVE_RWQ
struct bench_rwq_queue {
    moodycamel::ReaderWriterQueue<void *> q;
    explicit bench_rwq_queue(size_t capacity) : q(capacity) {}
};
#endif
struct bench_mcb_queue {
    moodycamel::BlockingConcurrentQueue<void *> q;
    explicit bench_mcb_queue(size_t capacity) : q(capacity) {}
};

extern "C" {

bench_mc_queue_t *bench_mc_create(size_t capacity)
{
    try {
        return new bench_mc_queue(capacity);
    } catch (...) {
        return nullptr;
    }
}

void bench_mc_destroy(bench_mc_queue_t *q)
{
    delete q;
}

int bench_mc_enqueue(bench_mc_queue_t *q, void *item)
{
    try {
        return q->q.enqueue(item) ? 0 : ENOMEM;
    } catch (...) {
        return ENOMEM;
    }
}

int bench_mc_try_dequeue(bench_mc_queue_t *q, void **item)
{
    return q->q.try_dequeue(*item) ? 0 : EAGAIN;
}

bench_mc_ptok_t *bench_mc_ptok_create(bench_mc_queue_t *q)
{
    try {
        return new bench_mc_ptok(q);
    } catch (...) {
        return nullptr;
    }
}

void bench_mc_ptok_destroy(bench_mc_ptok_t *t)
{
    delete t;
}

bench_mc_ctok_t *bench_mc_ctok_create(bench_mc_queue_t *q)
{
    try {
        return new bench_mc_ctok(q);
    } catch (...) {
        return nullptr;
    }
}

void bench_mc_ctok_destroy(bench_mc_ctok_t *t)
{
    delete t;
}

int bench_mc_enqueue_tok(bench_mc_queue_t *q, bench_mc_ptok_t *t, void *item)
{
    try {
        return q->q.enqueue(t->t, item) ? 0 : ENOMEM;
    } catch (...) {
        return ENOMEM;
    }
}

int bench_mc_try_dequeue_tok(bench_mc_queue_t *q, bench_mc_ctok_t *t, void **item)
{
    return q->q.try_dequeue(t->t, *item) ? 0 : EAGAIN;
}

bench_mcb_queue_t *bench_mcb_create(size_t capacity)
{
    try {
        return new bench_mcb_queue(capacity);
    } catch (...) {
        return nullptr;
    }
}

void bench_mcb_destroy(bench_mcb_queue_t *q)
{
    delete q;
}

int bench_mcb_enqueue(bench_mcb_queue_t *q, void *item)
{
    try {
        return q->q.enqueue(item) ? 0 : ENOMEM;
    } catch (...) {
        return ENOMEM;
    }
}

int bench_mcb_try_dequeue(bench_mcb_queue_t *q, void **item)
{
    return q->q.try_dequeue(*item) ? 0 : EAGAIN;
}

int bench_mcb_wait_dequeue(bench_mcb_queue_t *q, void **item, long long timeout_ns)
{
    if (timeout_ns < 0) {
        q->q.wait_dequeue(*item);
        return 0;
    }
    // moodycamel's timeout is in microseconds.
    return q->q.wait_dequeue_timed(*item, static_cast<std::int64_t>(timeout_ns / 1000))
               ? 0
               : ETIMEDOUT;
}

#ifdef PARC_BENCH_HAVE_RWQ
bench_rwq_queue_t *bench_rwq_create(size_t capacity)
{
    try {
        return new bench_rwq_queue(capacity);
    } catch (...) {
        return nullptr;
    }
}

void bench_rwq_destroy(bench_rwq_queue_t *q)
{
    delete q;
}

int bench_rwq_push(bench_rwq_queue_t *q, void *item)
{
    return q->q.try_enqueue(item) ? 0 : EAGAIN;
}

int bench_rwq_pop(bench_rwq_queue_t *q, void **item)
{
    return q->q.try_dequeue(*item) ? 0 : EAGAIN;
}
#endif

} // extern "C"
