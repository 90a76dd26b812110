// bench/peer_tbb.cpp — see peer_tbb.h. Compiled with the other bench C++
// files; empty unless CMake found oneTBB.
#ifdef PARC_BENCH_HAVE_TBB
#include <new>

#include <tbb/blocked_range.h>
#include <tbb/concurrent_queue.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include "peer_tbb.h"
#include "peer_tbb_arena.hpp"

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

// ---- parallel_for: the loop family of bench_pool.c ----------------------

// One arena per thread count, made on first use and kept (as parc's pools):
// arena(T) runs a loop on T threads, the calling one among them. oneTBB
// caps its workers at the machine's CPUs - 1 unless told otherwise; the
// cap is raised to 8 so that "4 threads" means four here as for every
// other case of the family (parc's pool of 4, OpenMP's team of 4).
tbb::task_arena *bench_tbb_arena(int threads)
{
    static tbb::global_control cap(tbb::global_control::max_allowed_parallelism, 8);
    static tbb::task_arena *arenas[9];
    if (threads < 1 || threads > 8)
        return nullptr;
    if (arenas[threads] == nullptr) {
        arenas[threads] = new (std::nothrow) tbb::task_arena(threads);
        if (arenas[threads] != nullptr)
            arenas[threads]->initialize();
    }
    return arenas[threads];
}

extern "C" int bench_tbb_square(const int *in, int *out, size_t n, int threads,
                                bench_tbb_kind_t kind, bench_tbb_elem_fn elem)
{
    tbb::task_arena *a = bench_tbb_arena(threads);
    if (a == nullptr)
        return -1;
    tbb::blocked_range<size_t> all(0, n);
    a->execute([&] {
        switch (kind) {
        case BENCH_TBB_AUTO:
            tbb::parallel_for(all, [=](const tbb::blocked_range<size_t> &r) {
                for (size_t i = r.begin(); i != r.end(); i++)
                    out[i] = in[i] * in[i];
            }, tbb::auto_partitioner());
            break;
        case BENCH_TBB_STATIC:
            tbb::parallel_for(all, [=](const tbb::blocked_range<size_t> &r) {
                for (size_t i = r.begin(); i != r.end(); i++)
                    out[i] = in[i] * in[i];
            }, tbb::static_partitioner());
            break;
        case BENCH_TBB_AUTO_FNPTR:
            tbb::parallel_for(all, [=](const tbb::blocked_range<size_t> &r) {
                for (size_t i = r.begin(); i != r.end(); i++)
                    elem(&in[i], &out[i]);
            }, tbb::auto_partitioner());
            break;
        }
    });
    return 0;
}

extern "C" int bench_tbb_sum_squares(const int *in, size_t n, int threads,
                                     int64_t *sum)
{
    tbb::task_arena *a = bench_tbb_arena(threads);
    if (a == nullptr)
        return -1;
    a->execute([&] {
        *sum = tbb::parallel_reduce(
            tbb::blocked_range<size_t>(0, n), int64_t(0),
            [=](const tbb::blocked_range<size_t> &r, int64_t acc) {
                for (size_t i = r.begin(); i != r.end(); i++)
                    acc += int64_t(in[i]) * in[i];
                return acc;
            },
            [](int64_t x, int64_t y) { return x + y; }, tbb::auto_partitioner());
    });
    return 0;
}
#endif
