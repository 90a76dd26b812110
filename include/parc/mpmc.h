/*
 * parc/mpmc.h — bounded multi-producer/multi-consumer ring (layer 2).
 *
 * Dmitry Vyukov's "Bounded MPMC queue" (1024cores.net, 2010): an array of
 * cells, each with a sequence number that says whose turn the cell is.
 * A producer at position pos owns cell pos % capacity when its sequence
 * equals pos, claims it with one compare-exchange on the enqueue index,
 * writes the item and sets the sequence to pos + 1; a consumer at pos
 * owns it when the sequence equals pos + 1 and hands it to the next lap
 * with pos + capacity. Producers and consumers touch separate indices and
 * meet only on cells; the item is published by the cell's own sequence.
 *
 * Ordering:  global FIFO by claimed position. Items pop in the order their
 *            pushes claimed positions, hence per-producer FIFO; two pops
 *            running at once may return in either order.
 * Memory:    bounded: a power-of-two number of cells (at least 2: with one
 *            cell "free for the next lap" and "published" would be the
 *            same sequence number) fixed at init; never allocates after
 *            parc_mpmc_create().
 *
 * No convoy. A cell claimed by a producer that was preempted before it
 * published stops consumers at that cell (Vyukov's queue is not
 * non-blocking there), as a consumer preempted between its claim and its
 * release stops a lapping producer. Unlike ck_ring's MPMC, which makes
 * every later thread spin on the stalled one, here a _try caller returns
 * EAGAIN at once instead of spinning on a claimed-but-unpublished cell,
 * and the blocking forms spin for a bounded time (PARC_SPIN_POLLS) and
 * then sleep on an eventcount that the stalled thread's publish wakes.
 *
 * Wake-ups use the asymmetric barrier of parc/spsc.h: the fast path
 * publishes, lets the compiler order the publish before one load of an
 * "armed" flag, and wakes only when it is set; a thread about to sleep
 * sets it and pays the heavy side. The flag, not the eventcount's waiter
 * count, gates the wake-up because a woken thread stays counted until it
 * runs again: when threads outnumber cores that is often a time slice
 * later, and every push or pop meanwhile made a futex system call (3
 * producers and 1 consumer: 86,000 wake calls for 3 M items, against 250
 * sleeps). A notifier that sees the flag clears it, then wakes every
 * waiter (parc_ec_wake, whose epoch increment is a release): a waiter
 * whose key predates that increment cannot sleep through it, and one
 * whose key follows it re-arms after the clear (its acquire of the epoch
 * orders the clear before its own store), so the next notifier sees it.
 *
 * Close. The closed flag is the top bit of the enqueue index, so a
 * producer's claim and a close are ordered by that one word: a claim that
 * comes first is accepted (its item will pop), a claim after it fails and
 * the push returns EPIPE. Pop returns EPIPE once the index is closed and
 * every claimed position has been popped: a claimed but unpublished cell
 * is waited for (the blocking forms) or reported as EAGAIN (_try), never
 * as "closed and empty".
 *
 * Synchronization table (liburcu style):
 *
 *                  push*  pop*   close  size   init/destroy
 *   push*          yes    yes    yes    yes    no
 *   pop*           yes    yes    yes    yes    no
 *   close          yes    yes    yes    yes    no
 *   size           yes    yes    yes    yes    no
 */
#ifndef PARC_MPMC_H
#define PARC_MPMC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parc/atomic.h"
#include "parc/eventcount.h"
#include "parc/asymfence.h"
#include "parc/status.h"
#include "parc/time.h"

typedef struct parc_mpmc_cell {
    parc_atomic(size_t) seq; /* pos: free for the producer at pos;
                              * pos + 1: holds the item for the consumer */
    void *item;
} parc_mpmc_cell_t;

/* The top bit of the enqueue index: closed. */
#define PARC_MPMC_CLOSED (((size_t)-1 >> 1) + 1)

typedef struct parc_mpmc {
    PARC_CACHE_ALIGNED parc_atomic(size_t) enq; /* producers' claims (+CLOSED) */
    PARC_CACHE_ALIGNED parc_atomic(size_t) deq; /* consumers' claims */
    /* Read-mostly: the fast paths read it from their caches. */
    PARC_CACHE_ALIGNED parc_mpmc_cell_t *cells;
    size_t mask;
    bool asym;                  /* parc_asym_available() at init */
    bool owns_cells;            /* allocated by parc_mpmc_create() */
    parc_ec_t items;            /* consumers wait here */
    parc_ec_t space;            /* producers wait here */
    parc_atomic(uint32_t) items_armed; /* a consumer may sleep on items */
    parc_atomic(uint32_t) space_armed; /* a producer may sleep on space */
} parc_mpmc_t;

/* Initialise `q` over the caller's array of `capacity` cells (a power of
 * two >= 2). Returns 0, or EINVAL (NULL, capacity not a power of two or
 * below 2). No other thread may use q during init. */
PARC_API int parc_mpmc_init(parc_mpmc_t *q, parc_mpmc_cell_t *cells, size_t capacity);

/* Marks q unusable; frees nothing. Returns 0 or EINVAL. No concurrent
 * use. */
PARC_API int parc_mpmc_destroy(parc_mpmc_t *q);

/* Allocate and initialise a ring of `capacity` cells. Returns 0 with *out
 * set, EINVAL or ENOMEM. */
PARC_API int parc_mpmc_create(parc_mpmc_t **out, size_t capacity);

/* Free a ring made by parc_mpmc_create() (NULL is ignored). */
PARC_API void parc_mpmc_free(parc_mpmc_t *q);

/* Close: later pushes return EPIPE; accepted items still pop, then pops
 * return EPIPE; every blocked push and pop wakes. Idempotent. Any thread;
 * never blocks. Returns 0 or EINVAL. */
PARC_API int parc_mpmc_close(parc_mpmc_t *q);

/* True once closed (false for NULL). Any thread. */
static inline bool parc_mpmc_is_closed(parc_mpmc_t *q)
{
    return q != NULL && (parc_load(&q->enq, PARC_RELAXED) & PARC_MPMC_CLOSED) != 0;
}

/* Number of cells (0 for NULL). Any thread. */
static inline size_t parc_mpmc_capacity(const parc_mpmc_t *q)
{
    return q == NULL ? 0 : q->mask + 1;
}

/* Claimed-but-not-popped positions at some moment (approximate under
 * concurrency; includes claims not yet published). Any thread. */
static inline size_t parc_mpmc_size(parc_mpmc_t *q)
{
    if (q == NULL)
        return 0;
    size_t d = parc_load(&q->deq, PARC_RELAXED);
    size_t e = parc_load(&q->enq, PARC_RELAXED) & ~PARC_MPMC_CLOSED;
    return e - d > q->mask + 1 ? 0 : e - d;
}

/* Slow paths (src/mpmc.c). */
PARC_API int parc_mpmc_push_wait_(parc_mpmc_t *q, void *item, parc_deadline_t deadline);
PARC_API int parc_mpmc_pop_wait_(parc_mpmc_t *q, void **item, parc_deadline_t deadline);

/* After a publish or a release: wake the waiters of `ec` if one has
 * armed it since the last wake-up (see "Wake-ups" above). */
static inline void parc_mpmc_notify_(parc_mpmc_t *q, parc_ec_t *ec,
                                     parc_atomic(uint32_t) *armed)
{
    /* store-load: the publish or release before the flag check; pairs with
     * the heavy fence of a thread about to sleep (parc_mpmc_*_wait_). */
    parc_asym_light_fence(q->asym);
    if (parc_load(armed, PARC_RELAXED) != 0) {
        /* relaxed: parc_ec_wake's release increment of the epoch orders
         * the clear before it for a waiter that reads the new epoch. */
        parc_store(armed, 0u, PARC_RELAXED);
        parc_ec_wake(ec, true);
    }
}

/* Push `item` if a cell is free. Any thread; never blocks (the claim is a
 * compare-exchange loop: lock-free). Returns 0, EAGAIN (full, or the next
 * cell's consumer has claimed it but not released it yet), EPIPE (closed)
 * or EINVAL (q NULL). */
static inline int parc_mpmc_push_try(parc_mpmc_t *q, void *item)
{
    if (q == NULL)
        return EINVAL;
    size_t pos = parc_load(&q->enq, PARC_RELAXED);
    parc_mpmc_cell_t *cell;
    for (;;) {
        if (pos & PARC_MPMC_CLOSED)
            return EPIPE;
        cell = &q->cells[pos & q->mask];
        /* acquire: the consumer that released this cell has finished
         * reading it; pairs with the release store of seq in pop. */
        size_t seq = parc_load(&cell->seq, PARC_ACQUIRE);
        intptr_t dif = (intptr_t)(seq - pos);
        if (dif == 0) {
            /* relaxed: the claim orders nothing; the cell's seq carries
             * the item. On failure pos is reloaded (maybe with CLOSED). */
            if (parc_cas_weak(&q->enq, &pos, pos + 1, PARC_RELAXED, PARC_RELAXED))
                break;
        } else if (dif < 0) {
            return EAGAIN;
        } else {
            pos = parc_load(&q->enq, PARC_RELAXED);
        }
    }
    cell->item = item; /* ours since the claim */
    /* release: publishes the item; pairs with the acquire load of seq in
     * pop. */
    parc_store(&cell->seq, pos + 1, PARC_RELEASE);
    parc_mpmc_notify_(q, &q->items, &q->items_armed);
    return 0;
}

/* Push, waiting while full. Any thread; blocks. Returns 0, EPIPE or
 * EINVAL. */
static inline int parc_mpmc_push(parc_mpmc_t *q, void *item)
{
    int rc = parc_mpmc_push_try(q, item);
    return rc == EAGAIN ? parc_mpmc_push_wait_(q, item, PARC_FOREVER) : rc;
}

/* Push, waiting at most timeout_ns (relative). Any thread; blocks.
 * Returns 0, ETIMEDOUT, EPIPE or EINVAL (q NULL, timeout_ns < 0). */
static inline int parc_mpmc_push_timed(parc_mpmc_t *q, void *item,
                                       int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (q == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    int rc = parc_mpmc_push_try(q, item);
    return rc == EAGAIN ? parc_mpmc_push_wait_(q, item, deadline) : rc;
}

/* Pop the oldest published item into *item. Any thread; never blocks.
 * Returns 0, EAGAIN (empty, or the next cell is claimed by a producer
 * that has not published yet), EPIPE (closed and every accepted item
 * popped) or EINVAL (NULL). */
static inline int parc_mpmc_pop_try(parc_mpmc_t *q, void **item)
{
    if (q == NULL || item == NULL)
        return EINVAL;
    size_t pos = parc_load(&q->deq, PARC_RELAXED);
    parc_mpmc_cell_t *cell;
    for (;;) {
        cell = &q->cells[pos & q->mask];
        /* acquire: the item written before the producer's publish is
         * visible; pairs with the release store of seq in push. */
        size_t seq = parc_load(&cell->seq, PARC_ACQUIRE);
        intptr_t dif = (intptr_t)(seq - (pos + 1));
        if (dif == 0) {
            /* relaxed: as in push, the cell's seq carries the ordering */
            if (parc_cas_weak(&q->deq, &pos, pos + 1, PARC_RELAXED, PARC_RELAXED))
                break;
        } else if (dif < 0) {
            /* Empty or unpublished. Closed and drained when the claims are
             * frozen at our position: every accepted item was popped. */
            size_t e = parc_load(&q->enq, PARC_RELAXED);
            return e == (pos | PARC_MPMC_CLOSED) ? EPIPE : EAGAIN;
        } else {
            pos = parc_load(&q->deq, PARC_RELAXED);
        }
    }
    *item = cell->item;
    /* release: our read of the item happens before the next lap's producer
     * overwrites it; pairs with the acquire load of seq in push. */
    parc_store(&cell->seq, pos + q->mask + 1, PARC_RELEASE);
    parc_mpmc_notify_(q, &q->space, &q->space_armed);
    return 0;
}

/* Pop, waiting while empty. Any thread; blocks. Returns 0, EPIPE or
 * EINVAL. */
static inline int parc_mpmc_pop(parc_mpmc_t *q, void **item)
{
    int rc = parc_mpmc_pop_try(q, item);
    return rc == EAGAIN ? parc_mpmc_pop_wait_(q, item, PARC_FOREVER) : rc;
}

/* Pop, waiting at most timeout_ns (relative). Any thread; blocks.
 * Returns 0, ETIMEDOUT, EPIPE or EINVAL (NULL, timeout_ns < 0). */
static inline int parc_mpmc_pop_timed(parc_mpmc_t *q, void **item,
                                      int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (q == NULL || item == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    int rc = parc_mpmc_pop_try(q, item);
    return rc == EAGAIN ? parc_mpmc_pop_wait_(q, item, deadline) : rc;
}

#endif /* PARC_MPMC_H */
