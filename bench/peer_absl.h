/*
 * bench/peer_absl.h — Abseil's absl::Mutex (libabsl-dev, C++) behind a C
 * interface for bench/bench_mutex.c and bench/bench_rwlock.c.
 * PARC_BENCH_HAVE_ABSL is defined (and peer_absl.cpp compiled in) only
 * when CMake found absl_synchronization and a C++ compiler.
 *
 * absl::Mutex, for the reader of a ratio: one word, a reader-writer lock
 * (Lock/ReaderLock), spins a little (a bounded number of attempts on a
 * multi-core machine), then queues the waiter on a list kept in the word's
 * upper bits and sleeps on a per-thread semaphore (a futex); a releasing
 * thread wakes one. Each call here is one out-of-line call more than a
 * pthread_mutex_lock call (the wrapper), about a nanosecond.
 */
#ifndef PARC_BENCH_PEER_ABSL_H
#define PARC_BENCH_PEER_ABSL_H

#include "peer_locks.h"

#ifdef __cplusplus
extern "C" {
#endif

int bench_absl_init(bench_cxx_lock_t *l);
int bench_absl_lock(bench_cxx_lock_t *l);
int bench_absl_unlock(bench_cxx_lock_t *l);
int bench_absl_rdlock(bench_cxx_lock_t *l);
int bench_absl_rdunlock(bench_cxx_lock_t *l);
int bench_absl_destroy(bench_cxx_lock_t *l); /* 0, or -1 when held */

#ifdef __cplusplus
}
#endif

#endif /* PARC_BENCH_PEER_ABSL_H */
