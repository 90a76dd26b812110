// bench/peer_tbb.cpp — see peer_tbb.h. Compiled with the other bench C++
// files; empty unless CMake found oneTBB.
#ifdef PARC_BENCH_HAVE_TBB
#include <new>

#include <tbb/concurrent_queue.h>

#include "peer_tbb.h"

struct bench_tbb_queue {
    tbb::concurrent_bounded_queue<uint64_t> q;
};

extern "C" bench_tbb_queue_t *bench_tbb_create(size_t capacity)
{
    bench_tbb_queue_t *q = new (std::nothrow) bench_tbb_queue_t;
    if (q != nullptr)
        q->q.set_capacity(static_cast<std::ptrdiff_t>(capacity));
    return q;
}

extern "C" void bench_tbb_destroy(bench_tbb_queue_t *q)
{
    delete q;
}

extern "C" void bench_tbb_push(bench_tbb_queue_t *q, uint64_t v)
{
    q->q.push(v);
}

extern "C" uint64_t bench_tbb_pop(bench_tbb_queue_t *q)
{
    uint64_t v = 0;
    q->q.pop(v);
    return v;
}
#endif
