/*
 * bench/peer_tbb.h — oneTBB's concurrent_bounded_queue<uint64_t>
 * (libtbb-dev, C++) behind a C interface for bench/bench_chan.c.
 * PARC_BENCH_HAVE_TBB is defined (and peer_tbb.cpp compiled in) only when
 * CMake found the header, the library and a C++ compiler.
 *
 * And oneTBB's parallel_for over a square of ints for bench/bench_pool.c's
 * loop family (pool_loop), and its parallel_reduce of a sum of squares for
 * bench/bench_task_group.c's tg_reduce.
 *
 * oneTBB's promises, for the reader of a ratio: MPMC, FIFO, push blocks
 * while the queue holds `capacity` items, pop blocks while it is empty
 * (both spin briefly, then sleep); abort() wakes the blocked callers.
 */
#ifndef PARC_BENCH_PEER_TBB_H
#define PARC_BENCH_PEER_TBB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bench_tbb_queue bench_tbb_queue_t;

/* A queue of at most `capacity` items; NULL when out of memory. */
bench_tbb_queue_t *bench_tbb_create(size_t capacity);
void bench_tbb_destroy(bench_tbb_queue_t *q);
void bench_tbb_push(bench_tbb_queue_t *q, uint64_t v); /* blocks while full */
uint64_t bench_tbb_pop(bench_tbb_queue_t *q);          /* blocks while empty */

/* tbb::parallel_for over blocked_range(0, n) in a task_arena of `threads`
 * (the calling thread one of them): out[i] = in[i] * in[i], with the body
 * inlined (AUTO: auto_partitioner, oneTBB's default; STATIC:
 * static_partitioner), or AUTO_FNPTR: elem(&in[i], &out[i]) called
 * through the pointer for each element, as parc_pool_map calls its
 * function. Blocks until done; 0, or -1 (threads not in 1..8). */
typedef enum {
    BENCH_TBB_AUTO,
    BENCH_TBB_STATIC,
    BENCH_TBB_AUTO_FNPTR
} bench_tbb_kind_t;
typedef int (*bench_tbb_elem_fn)(const void *in, void *out);
int bench_tbb_square(const int *in, int *out, size_t n, int threads,
                     bench_tbb_kind_t kind, bench_tbb_elem_fn elem);

/* tbb::parallel_reduce (auto_partitioner) of in[i] * in[i] over [0, n)
 * into *sum, in a task_arena of `threads` as above. 0, or -1. */
int bench_tbb_sum_squares(const int *in, size_t n, int threads, int64_t *sum);

#ifdef __cplusplus
}
#endif

#endif /* PARC_BENCH_PEER_TBB_H */
