/*
 * parc/sem.h — counting semaphore, optionally bounded (layer 2).
 *
 * Dijkstra's counting semaphore (EWD 74, 1965) in the form Python's
 * threading.Semaphore / BoundedSemaphore and java.util.concurrent.Semaphore
 * give it: acquire and release any number of permits at once. The count is
 * one atomic word taken with a compare-and-swap; a thread that finds too
 * few permits spins briefly (PARC_SPIN_POLLS), then sleeps on an eventcount
 * (parc/eventcount.h), so a release with nobody asleep costs one fence and
 * one load beyond its CAS. While spinning it yields the processor every 32
 * polls: a releaser that shares its core (oversubscribed) runs at once
 * instead of after the whole spin. (The other blocking primitives of this
 * layer, event, latch, once, barrier and cond, wait the same way.)
 *
 * Bound: a bounded semaphore refuses a release that would push the count
 * past its bound (EOVERFLOW, nothing changes), which catches "released more
 * than acquired" bugs the way Python's BoundedSemaphore raises ValueError.
 * An unbounded semaphore has the bound PARC_SEM_VALUE_MAX.
 *
 * Fairness (what is promised): none. Acquirers barge (a running thread may
 * take permits that a sleeping one was woken for), like Python's Semaphore
 * and Java's non-fair Semaphore. An acquirer of n > 1 permits can starve
 * while acquirers of fewer permits keep the count below n. Every permit
 * released is taken by some acquirer that can use it: no wake-up is lost.
 *
 * Memory order: a successful acquire synchronizes with every release whose
 * permits it could have taken (acquire CAS / release CAS on the count; the
 * CAS chain forms one release sequence), so a semaphore of one permit works
 * as a lock.
 *
 * Threads: every function may be called from any thread, concurrently,
 * except _init/_destroy (no other thread may use the semaphore then).
 */
#ifndef PARC_SEM_H
#define PARC_SEM_H

#include <stdbool.h>
#include <stdint.h>

#include "parc/atomic.h"
#include "parc/eventcount.h"
#include "parc/status.h"
#include "parc/time.h"

/* The largest count, and the largest bound, a semaphore can have. */
#define PARC_SEM_VALUE_MAX UINT32_C(0x7fffffff)

typedef struct parc_sem {
    parc_atomic(uint32_t) permits;     /* available permits */
    uint32_t bound;                    /* most permits the count may reach */
    parc_atomic(uint32_t) big_waiters; /* waiters asking for > 1 permit:
                                        * a release must wake them all */
    parc_ec_t ec;                      /* where acquirers sleep */
} parc_sem_t;

/* Static initialisers: `permits` available, unbounded or bounded. The
 * caller must keep permits <= bound <= PARC_SEM_VALUE_MAX and bound >= 1
 * (the _init functions check this; the macros cannot). */
#define PARC_SEM_INIT(permits) { (permits), PARC_SEM_VALUE_MAX, 0, PARC_EC_INIT }
#define PARC_SEM_INIT_BOUNDED(permits, bound) { (permits), (bound), 0, PARC_EC_INIT }

/* Initialise an unbounded semaphore holding `permits` permits. Returns 0, or
 * EINVAL when s is NULL or permits > PARC_SEM_VALUE_MAX. Never blocks. */
PARC_API int parc_sem_init(parc_sem_t *s, uint32_t permits);

/* Initialise a bounded semaphore: `permits` available, a release that would
 * take the count past `bound` fails with EOVERFLOW. Returns 0, or EINVAL when
 * s is NULL, bound is 0 or > PARC_SEM_VALUE_MAX, or permits > bound. */
PARC_API int parc_sem_init_bounded(parc_sem_t *s, uint32_t permits, uint32_t bound);

/* Release the semaphore's resources (there are none today). No thread may
 * be using it. Returns 0, or EINVAL when s is NULL. */
PARC_API int parc_sem_destroy(parc_sem_t *s);

/* Take `n` permits as one block (all or none), if available now. Never
 * blocks. Returns 0; EAGAIN when fewer than n are available; EINVAL when s
 * is NULL, n is 0 or n exceeds the bound (it could never succeed). */
static inline int parc_sem_acquire_try(parc_sem_t *s, uint32_t n)
{
    if (s == NULL || n == 0 || n > s->bound)
        return EINVAL;
    uint32_t v = parc_load(&s->permits, PARC_RELAXED);
    while (v >= n)
        /* acquire: makes visible what the releasers of these permits wrote
         * before releasing; pairs with the release CAS in
         * parc_sem_release(). */
        if (parc_cas_weak(&s->permits, &v, v - n, PARC_ACQUIRE, PARC_RELAXED))
            return 0;
    return EAGAIN;
}

/* Slow path of the blocking acquires (spin, then sleep); not for callers. */
PARC_API int parc_sem_acquire_wait_(parc_sem_t *s, uint32_t n, parc_deadline_t deadline);

/* Take `n` permits as one block, waiting as long as it takes. Blocks
 * (spins briefly, then sleeps). Returns 0, or EINVAL when s is NULL, n is 0
 * or n exceeds the bound. */
static inline int parc_sem_acquire(parc_sem_t *s, uint32_t n)
{
    int rc = parc_sem_acquire_try(s, n);
    return rc == EAGAIN ? parc_sem_acquire_wait_(s, n, PARC_FOREVER) : rc;
}

/* Take `n` permits as one block, waiting at most `timeout_ns` nanoseconds
 * (relative; 0 = try once; PARC_FOREVER = no limit). Blocks. Returns 0;
 * ETIMEDOUT when the permits were not available by the deadline (never
 * before it); EINVAL when s is NULL, n is 0 or exceeds the bound, or
 * timeout_ns < 0. */
PARC_API int parc_sem_acquire_timed(parc_sem_t *s, uint32_t n, int64_t timeout_ns);

/* Return `n` permits and wake acquirers that may now proceed. Never blocks.
 * Any thread may release, not only one that acquired (as in Python and
 * Java). Returns 0; EOVERFLOW when the count would pass the bound (nothing
 * is released); EINVAL when s is NULL, n is 0 or n exceeds the bound. */
PARC_API int parc_sem_release(parc_sem_t *s, uint32_t n);

/* The number of permits available at the moment of the call (stale as soon
 * as it returns; for monitoring and tests). 0 when s is NULL. Never blocks. */
static inline uint32_t parc_sem_value(parc_sem_t *s)
{
    return s == NULL ? 0 : parc_load(&s->permits, PARC_RELAXED);
}

#endif /* PARC_SEM_H */
