// bench/peer_tbb_queue.cpp — see peer_tbb_queue.h. Compiled with the other
// bench C++ files; each part only when its peer was found.
#include <cerrno>
#include <new>

#include "peer_tbb_queue.h"

#ifdef PARC_BENCH_HAVE_TBB
#include <tbb/concurrent_queue.h>

struct bench_tbbq {
    tbb::concurrent_queue<void *> q;
};
struct bench_tbbbq {
    tbb::concurrent_bounded_queue<void *> q;
};

extern "C" bench_tbbq_t *bench_tbbq_create(void)
{
    return new (std::nothrow) bench_tbbq_t;
}
extern "C" void bench_tbbq_destroy(bench_tbbq_t *q) { delete q; }
extern "C" int bench_tbbq_push(bench_tbbq_t *q, void *item)
{
    try {
        q->q.push(item);
        return 0;
    } catch (...) {
        return ENOMEM;
    }
}
extern "C" int bench_tbbq_try_pop(bench_tbbq_t *q, void **item)
{
    return q->q.try_pop(*item) ? 0 : EAGAIN;
}

extern "C" bench_tbbbq_t *bench_tbbbq_create(void)
{
    return new (std::nothrow) bench_tbbbq_t;
}
extern "C" void bench_tbbbq_destroy(bench_tbbbq_t *q) { delete q; }
extern "C" int bench_tbbbq_push(bench_tbbbq_t *q, void *item)
{
    try {
        q->q.push(item);
        return 0;
    } catch (...) {
        return ENOMEM;
    }
}
extern "C" void *bench_tbbbq_pop(bench_tbbbq_t *q)
{
    void *item = nullptr;
    q->q.pop(item);
    return item;
}
extern "C" int bench_tbbbq_try_pop(bench_tbbbq_t *q, void **item)
{
    return q->q.try_pop(*item) ? 0 : EAGAIN;
}
#endif

#ifdef PARC_BENCH_HAVE_ATOMIC_QUEUE
#include <atomic_queue/atomic_queue.h>

struct bench_aq {
    explicit bench_aq(unsigned capacity) : q(capacity) {}
    atomic_queue::AtomicQueueB<void *> q; // NIL (empty) is nullptr
};

extern "C" bench_aq_t *bench_aq_create(unsigned capacity)
{
    try {
        return new bench_aq_t(capacity);
    } catch (...) {
        return nullptr;
    }
}
extern "C" void bench_aq_destroy(bench_aq_t *q) { delete q; }
extern "C" int bench_aq_try_push(bench_aq_t *q, void *item)
{
    return q->q.try_push(item) ? 0 : EAGAIN;
}
extern "C" int bench_aq_try_pop(bench_aq_t *q, void **item)
{
    return q->q.try_pop(*item) ? 0 : EAGAIN;
}
#endif
