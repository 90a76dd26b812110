/*
 * bench/cs_work.h — a calibrated stretch of work for critical sections
 * (bench_mutex.c, bench_rwlock.c).
 *
 * A lock's verdict changes with how long it is held: an empty critical
 * section measures the hand-over alone, ~50 ns is a few cache misses'
 * worth of work (a hash-table update), ~500 ns a small computation under
 * the lock, long enough that a waiter spinning for it pays. The work is a
 * dependent chain of multiply-adds on a register (no memory traffic, so it
 * does not disturb the lock's cache lines), calibrated once per process
 * (the fastest of a few timed runs: the machine may be loaded) and the
 * same for every case of a benchmark: a point's `arg` says how many ns.
 */
#ifndef PARC_BENCH_CS_WORK_H
#define PARC_BENCH_CS_WORK_H

#include <stdint.h>

/* Iterations of bench_cs_spin() that take about `ns` nanoseconds (0 for
 * 0). Calibrates on first use; thread-safe (callers compute it before
 * starting workers). */
uint64_t bench_cs_iters(long ns);

/* Run `iters` iterations of the work; returns a value to feed
 * bench_consume() or a shared record, so it is not optimised away. */
static inline uint64_t bench_cs_spin(uint64_t iters, uint64_t x)
{
    for (uint64_t k = 0; k < iters; k++) {
        x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        __asm__ __volatile__("" : "+r"(x)); /* one step at a time */
    }
    return x;
}

#endif /* PARC_BENCH_CS_WORK_H */
