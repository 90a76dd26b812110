/*
 * bench/peer_tbb_tg.h — oneTBB's task_group (libtbb-dev, C++) running
 * bench_task_group.c's fork/join programs, behind a C interface.
 * Compiled in with PARC_BENCH_HAVE_TBB (see peer_tbb.h).
 *
 * Each program is the same recursion as the parc cases (bench/tg_kernels.h
 * holds the serial parts): a tbb::task_group per internal call, run() per
 * child, wait(); a fork also bumps *forks (relaxed), as the parc cases
 * bump theirs. It runs inside a task_arena of `threads` threads, the
 * calling thread one of them (arena.execute), oneTBB's spinning and
 * sleeping as it comes. Each returns 0, or -1 (threads not in 1..8).
 */
#ifndef PARC_BENCH_PEER_TBB_TG_H
#define PARC_BENCH_PEER_TBB_TG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int bench_tbb_tg_fib(int threads, int64_t n, int64_t *result, uint64_t *forks);
int bench_tbb_tg_nqueens(int threads, int n, int64_t *count, uint64_t *forks);
int bench_tbb_tg_uts(int threads, int64_t *nodes, uint64_t *forks);

#ifdef __cplusplus
}
#endif

#endif /* PARC_BENCH_PEER_TBB_TG_H */
