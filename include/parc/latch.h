/*
 * parc/latch.h — a one-shot countdown that threads wait for (layer 2).
 *
 * Java's java.util.concurrent.CountDownLatch: created with a count;
 * count_down() lowers it by one; wait() returns once it has reached zero,
 * and from then on at once. It never resets (use parc/barrier.h for a
 * cyclic rendezvous). The count is one atomic word; waiters spin briefly,
 * then sleep on an eventcount (parc/eventcount.h, after Vyukov) that only
 * the count_down reaching zero notifies.
 *
 * Memory order: a wait that returns 0 synchronizes with every count_down()
 * (each is a release RMW, and the chain of them is one release sequence
 * that the waiter's acquire load of zero reads from), so what any thread
 * wrote before its count_down() is visible after the wait.
 *
 * Threads: any number of counters and waiters, concurrently; _init and
 * _destroy only while no other thread uses the latch.
 */
#ifndef PARC_LATCH_H
#define PARC_LATCH_H

#include <stdint.h>

#include "parc/atomic.h"
#include "parc/eventcount.h"
#include "parc/status.h"
#include "parc/time.h"

typedef struct parc_latch {
    parc_atomic(uint32_t) count; /* count_down()s still awaited */
    parc_ec_t ec;                /* where waiters sleep */
} parc_latch_t;

/* Static initialiser: a latch that opens after `count` count_down()s. */
#define PARC_LATCH_INIT(count) { (count), PARC_EC_INIT }

/* Initialise a latch that opens after `count` count_down()s (0: open
 * already). Returns 0, or EINVAL when l is NULL. Never blocks. */
PARC_API int parc_latch_init(parc_latch_t *l, uint32_t count);

/* Release resources (none today). No thread may be using the latch.
 * Returns 0, or EINVAL when l is NULL. */
PARC_API int parc_latch_destroy(parc_latch_t *l);

/* Lower the count by one; the step to zero wakes every waiter. At zero it
 * does nothing (as Java's countDown). Never blocks. Returns 0, or EINVAL
 * when l is NULL. */
PARC_API int parc_latch_count_down(parc_latch_t *l);

/* The count at the moment of the call (0 when l is NULL). Never blocks. */
static inline uint32_t parc_latch_count(parc_latch_t *l)
{
    return l == NULL ? 0 : parc_load(&l->count, PARC_RELAXED);
}

/* Return 0 if the latch is open (count zero), else EAGAIN. Never blocks.
 * EINVAL when l is NULL. */
static inline int parc_latch_wait_try(parc_latch_t *l)
{
    if (l == NULL)
        return EINVAL;
    /* acquire: pairs with the release RMWs in parc_latch_count_down() */
    return parc_load(&l->count, PARC_ACQUIRE) == 0 ? 0 : EAGAIN;
}

/* Wait until the count reaches zero. Blocks (spins briefly, then sleeps).
 * Returns 0, or EINVAL when l is NULL. */
PARC_API int parc_latch_wait(parc_latch_t *l);

/* As parc_latch_wait(), for at most `timeout_ns` nanoseconds (relative;
 * 0 = check once; PARC_FOREVER = no limit). Blocks. Returns 0; ETIMEDOUT
 * when the count was still above zero at the deadline (never before it);
 * EINVAL when l is NULL or timeout_ns < 0. */
PARC_API int parc_latch_wait_timed(parc_latch_t *l, int64_t timeout_ns);

#endif /* PARC_LATCH_H */
