/*
 * bench/peer_tbb_mutex.h — oneTBB's spin_mutex and queuing_mutex
 * (libtbb-dev, C++) behind a C interface for bench/bench_mutex.c.
 * Compiled in with PARC_BENCH_HAVE_TBB (see peer_tbb.h).
 *
 * For the reader of a ratio: spin_mutex is a test-and-set byte with
 * exponential backoff that yields the CPU after a few rounds, never
 * sleeps; queuing_mutex is an MCS queue lock (FIFO, each waiter spins on
 * its own node, with backoff then yield), never sleeps either. The
 * queuing lock's node lives in a thread-local here (one lock held at a
 * time per thread, as in the benchmark). One wrapper call more than
 * pthread's.
 */
#ifndef PARC_BENCH_PEER_TBB_MUTEX_H
#define PARC_BENCH_PEER_TBB_MUTEX_H

#include "peer_locks.h"

#ifdef __cplusplus
extern "C" {
#endif

int bench_tbb_spin_init(bench_cxx_lock_t *l);
int bench_tbb_spin_lock(bench_cxx_lock_t *l);
int bench_tbb_spin_unlock(bench_cxx_lock_t *l);
int bench_tbb_spin_destroy(bench_cxx_lock_t *l); /* 0, or -1 when held */

int bench_tbb_queuing_init(bench_cxx_lock_t *l);
int bench_tbb_queuing_lock(bench_cxx_lock_t *l);
int bench_tbb_queuing_unlock(bench_cxx_lock_t *l);
int bench_tbb_queuing_destroy(bench_cxx_lock_t *l);

#ifdef __cplusplus
}
#endif

#endif /* PARC_BENCH_PEER_TBB_MUTEX_H */
