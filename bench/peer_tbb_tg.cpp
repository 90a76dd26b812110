// bench/peer_tbb_tg.cpp — see peer_tbb_tg.h. Empty unless CMake found
// oneTBB.
#ifdef PARC_BENCH_HAVE_TBB
#include <atomic>

#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include "peer_tbb_arena.hpp"
#include "peer_tbb_tg.h"
#include "tg_kernels.h"

static std::atomic<uint64_t> tg_forks;

static int64_t fib_tbb(int64_t n)
{
    if (n < TG_FIB_CUTOFF)
        return tg_fib_serial(n);
    tg_forks.fetch_add(1, std::memory_order_relaxed);
    int64_t x = 0;
    tbb::task_group g;
    g.run([&x, n] { x = fib_tbb(n - 1); });
    int64_t y = fib_tbb(n - 2);
    g.wait();
    return x + y;
}

static int64_t queens_tbb(const board_t &b)
{
    if (b.n - b.row <= TG_QUEENS_SERIAL)
        return tg_queens_serial(&b);
    board_t child[32];
    int64_t count[32] = { 0 };
    tbb::task_group g;
    for (int c = 0; c < b.n; c++)
        if (tg_place(&b, c, &child[c])) {
            tg_forks.fetch_add(1, std::memory_order_relaxed);
            g.run([&child, &count, c] { count[c] = queens_tbb(child[c]); });
        }
    g.wait();
    int64_t total = 0;
    for (int c = 0; c < b.n; c++)
        total += count[c];
    return total;
}

static int64_t uts_tbb(uint64_t id, int depth)
{
    int n = tg_uts_children(id, depth);
    std::atomic<int64_t> count{ 1 };
    tbb::task_group g;
    for (int i = 0; i < n; i++) {
        tg_forks.fetch_add(1, std::memory_order_relaxed);
        g.run([&count, id, i, depth] {
            count.fetch_add(uts_tbb(tg_uts_child(id, i), depth + 1),
                            std::memory_order_relaxed);
        });
    }
    g.wait();
    return count.load(std::memory_order_relaxed);
}

template <typename F> static int in_arena(int threads, uint64_t *forks, F body)
{
    tbb::task_arena *a = bench_tbb_arena(threads);
    if (a == nullptr)
        return -1;
    tg_forks.store(0, std::memory_order_relaxed);
    a->execute(body);
    *forks = tg_forks.load(std::memory_order_relaxed);
    return 0;
}

extern "C" int bench_tbb_tg_fib(int threads, int64_t n, int64_t *result, uint64_t *forks)
{
    return in_arena(threads, forks, [=] { *result = fib_tbb(n); });
}

extern "C" int bench_tbb_tg_nqueens(int threads, int n, int64_t *count, uint64_t *forks)
{
    board_t b = { n, 0, 0, 0, 0, 0 };
    return in_arena(threads, forks, [=] { *count = queens_tbb(b); });
}

extern "C" int bench_tbb_tg_uts(int threads, int64_t *nodes, uint64_t *forks)
{
    return in_arena(threads, forks, [=] { *nodes = uts_tbb(1, 0); });
}
#endif
