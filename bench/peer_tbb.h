/*
 * bench/peer_tbb.h — oneTBB's concurrent_bounded_queue<uint64_t>
 * (libtbb-dev, C++) behind a C interface for bench/bench_chan.c.
 * PARC_BENCH_HAVE_TBB is defined (and peer_tbb.cpp compiled in) only when
 * CMake found the header, the library and a C++ compiler.
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

#ifdef __cplusplus
}
#endif

#endif /* PARC_BENCH_PEER_TBB_H */
