/*
 * parc/spsc.h — bounded single-producer/single-consumer ring (layer 2).
 *
 * Lamport's ring ("Specifying Concurrent Program Modules", TOPLAS 1983):
 * the producer alone writes the tail index, the consumer alone the head
 * index, and a slot belongs to whoever's side of the indices it is on, so
 * neither side needs a read-modify-write. With the refinement of
 * FastForward (Giacomoni et al., PPoPP 2008), Rigtorp's SPSCQueue and
 * ck_ring: each side keeps a private copy of the other's index and reads
 * the real one only when its copy says "full" (producer) or "empty"
 * (consumer), so in steady state each side touches its own cache line and
 * the slots, and the index lines move between the cores once per lap
 * instead of once per item.
 *
 * Ordering:  global FIFO (one producer, one consumer).
 * Memory:    bounded: a power-of-two number of slots, fixed at init; never
 *            allocates after parc_spsc_create(). (No static initialiser:
 *            init learns at run time whether membarrier is available.)
 *
 * Blocking. pop waits for an item, push for a free slot, both through an
 * eventcount (parc/eventcount.h), after a bounded spin. A waiter must not
 * miss the publish that ends its wait: that is Dekker's pattern (the
 * publisher stores its index then loads the waiter count; the waiter
 * stores the count then loads the index), which needs a store-load
 * barrier on both sides. A full fence on every push and pop would cost
 * more than the rest of the operation, so parc makes the barrier
 * asymmetric (parc/asymfence.h): the fast path only
 * keeps the compiler from reordering, and the thread about to sleep runs
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which makes every running
 * thread of the process pass a full barrier. The waiting side pays ~1 us
 * before a ~45 us sleep; the fast path pays one load of a line that only
 * changes when someone starts or stops waiting. Where membarrier is not
 * available (old kernels, seccomp), and in ThreadSanitizer builds (which
 * do not model it), both sides use seq_cst fences instead.
 *
 * Close. parc_spsc_close() may be called from any thread. Afterwards push
 * returns EPIPE; items already pushed still pop; then pop returns EPIPE.
 * A push racing with close is either accepted (and pops before EPIPE) or
 * refused with EPIPE, never lost: the producer raises a "push in
 * progress" mark (on its private cache line) before it reads the closed
 * flag and lowers it after its publish, and the consumer, having seen the
 * flag, passes the heavy barrier and then reads the mark and the tail:
 * either the producer's closed check comes after the barrier and sees the
 * flag (the push backs out), or its mark (or the publish that precedes
 * lowering it) is visible to the consumer, which then waits for the push
 * to finish or back out before it reports EPIPE.
 *
 * Synchronization table (liburcu style; "P" = the producer thread, "C" =
 * the consumer thread, at most one of each at any time):
 *
 *                  push*  pop*   close  size   init/destroy
 *   push* (P)      -      yes    yes    yes    no
 *   pop*  (C)      yes    -      yes    yes    no
 *   close (any)    yes    yes    yes    yes    no
 *   size  (any)    yes    yes    yes    yes    no
 *
 * "-": the operation may not run concurrently with itself (one producer,
 * one consumer); the producer and the consumer may change over time only
 * with a happens-before edge between the old and the new one.
 */
#ifndef PARC_SPSC_H
#define PARC_SPSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parc/asymfence.h"
#include "parc/atomic.h"
#include "parc/eventcount.h"
#include "parc/status.h"
#include "parc/time.h"

/* ---- the ring ------------------------------------------------------------ */

typedef struct parc_spsc {
    /* Published by the producer on every push; read by the consumer only
     * when its copy says empty. */
    PARC_CACHE_ALIGNED parc_atomic(size_t) tail;  /* items pushed */
    /* The producer's private line: the consumer reads `pushing` only on
     * its way to "closed and empty", so the fast path's stores here cost
     * no coherence traffic. */
    PARC_CACHE_ALIGNED size_t head_cache;         /* producer's copy of head */
    parc_atomic(uint32_t) pushing;                /* a push is between its
                                                   * closed check and its
                                                   * publish */
    /* The consumer's line, read by the producer when its copy says full. */
    PARC_CACHE_ALIGNED parc_atomic(size_t) head;  /* items popped */
    size_t tail_cache;                            /* consumer's copy of tail */
    /* Read-mostly: written only at init, on close and by threads that
     * start or stop waiting; both fast paths read it from their caches. */
    PARC_CACHE_ALIGNED void **buf;
    size_t mask;                    /* capacity - 1 */
    parc_atomic(uint32_t) closed;
    bool asym;                      /* parc_asym_available() at init */
    bool owns_buf;                  /* allocated by parc_spsc_create() */
    parc_ec_t items;                /* the consumer waits here for items */
    parc_ec_t space;                /* the producer waits here for room */
} parc_spsc_t;

/* Initialise `q` over the caller's array `buf` of `capacity` slots.
 * capacity must be a power of two >= 1. Returns 0, or EINVAL (q or buf
 * NULL, capacity 0 or not a power of two). Not thread-safe: no other
 * thread may use q during init. */
int parc_spsc_init(parc_spsc_t *q, void **buf, size_t capacity);

/* Release nothing (the buffer is the caller's); marks q unusable.
 * Returns 0 or EINVAL. No thread may use q concurrently. */
int parc_spsc_destroy(parc_spsc_t *q);

/* Allocate and initialise a ring of `capacity` slots (power of two).
 * Returns 0 with *out set, EINVAL (out NULL, bad capacity) or ENOMEM. */
int parc_spsc_create(parc_spsc_t **out, size_t capacity);

/* Free a ring made by parc_spsc_create() (NULL is ignored). No thread may
 * use q concurrently. */
void parc_spsc_free(parc_spsc_t *q);

/* Close: later pushes return EPIPE; items already accepted still pop;
 * then pops return EPIPE. Wakes every blocked push and pop. Idempotent.
 * Any thread; never blocks. Returns 0 or EINVAL. */
int parc_spsc_close(parc_spsc_t *q);

/* True once parc_spsc_close() was called (false for NULL). Any thread. */
static inline bool parc_spsc_is_closed(parc_spsc_t *q)
{
    return q != NULL && parc_load(&q->closed, PARC_RELAXED) != 0;
}

/* Number of slots (0 for NULL). Any thread. */
static inline size_t parc_spsc_capacity(const parc_spsc_t *q)
{
    return q == NULL ? 0 : q->mask + 1;
}

/* Items in the ring at some moment during the call (approximate when the
 * producer or consumer runs concurrently). Any thread; never blocks. */
static inline size_t parc_spsc_size(parc_spsc_t *q)
{
    if (q == NULL)
        return 0;
    size_t h = parc_load(&q->head, PARC_RELAXED);
    size_t t = parc_load(&q->tail, PARC_RELAXED);
    return t - h > q->mask + 1 ? 0 : t - h;
}

/* Slow paths (src/spsc.c). parc_spsc_closed_empty_: the ring looked empty
 * and closed; EPIPE if no push is in progress, else EAGAIN. */
int parc_spsc_closed_empty_(parc_spsc_t *q, size_t head);
int parc_spsc_push_wait_(parc_spsc_t *q, void *item, parc_deadline_t deadline);
int parc_spsc_pop_wait_(parc_spsc_t *q, void **item, parc_deadline_t deadline);

/* Refresh the producer's copy of head; true when `want` slots are free
 * from tail index t. */
static inline bool parc_spsc_room_(parc_spsc_t *q, size_t t, size_t want)
{
    if (q->mask + 1 - (t - q->head_cache) >= want)
        return true;
    /* acquire: the consumer's reads of the slots it freed happen before we
     * overwrite them; pairs with the release store of head in pop. */
    q->head_cache = parc_load(&q->head, PARC_ACQUIRE);
    return q->mask + 1 - (t - q->head_cache) >= want;
}

/* Mark a push in progress and check the closed flag: true when the push
 * may go on, false (mark withdrawn) when the ring is closed. */
static inline bool parc_spsc_begin_push_(parc_spsc_t *q)
{
    parc_store(&q->pushing, 1u, PARC_RELAXED); /* ordered by the fence below */
    /* store-load: the mark before the closed check; pairs with the heavy
     * fence in parc_spsc_closed_empty_(). */
    parc_asym_light_fence(q->asym);
    if (parc_load(&q->closed, PARC_RELAXED) != 0) {
        /* release: a consumer that reads 0 here may conclude; nothing was
         * published (pairs with its acquire load of the mark). */
        parc_store(&q->pushing, 0u, PARC_RELEASE);
        return false;
    }
    return true;
}

/* Publish pushes up to index t_new and wake a waiting consumer. */
static inline void parc_spsc_end_push_(parc_spsc_t *q, size_t t_new)
{
    /* release: publishes the slots written before; pairs with the acquire
     * load of tail in pop. */
    parc_store(&q->tail, t_new, PARC_RELEASE);
    /* release: the publish before the end of the mark; pairs with the
     * acquire load of the mark in parc_spsc_closed_empty_(). */
    parc_store(&q->pushing, 0u, PARC_RELEASE);
    /* store-load: the publish before the waiter check; pairs with the heavy
     * fence of a consumer about to sleep (parc_spsc_pop_wait_). */
    parc_asym_light_fence(q->asym);
    if (parc_ec_has_waiters(&q->items))
        parc_ec_wake(&q->items, false);
}

/* Push `item` if a slot is free. Producer only; never blocks. Returns 0,
 * EAGAIN (full), EPIPE (closed) or EINVAL (q NULL). */
static inline int parc_spsc_push_try(parc_spsc_t *q, void *item)
{
    if (q == NULL)
        return EINVAL;
    size_t t = parc_load(&q->tail, PARC_RELAXED); /* our own index */
    if (!parc_spsc_room_(q, t, 1))
        return parc_load(&q->closed, PARC_RELAXED) != 0 ? EPIPE : EAGAIN;
    if (!parc_spsc_begin_push_(q))
        return EPIPE;
    q->buf[t & q->mask] = item; /* our slot until the publish below */
    parc_spsc_end_push_(q, t + 1);
    return 0;
}

/* Push `item`, waiting while the ring is full. Producer only; blocks.
 * Returns 0, EPIPE (closed, before or while waiting) or EINVAL. */
static inline int parc_spsc_push(parc_spsc_t *q, void *item)
{
    int rc = parc_spsc_push_try(q, item);
    return rc == EAGAIN ? parc_spsc_push_wait_(q, item, PARC_FOREVER) : rc;
}

/* Push `item`, waiting at most timeout_ns (relative) while full.
 * Producer only; blocks. Returns 0, ETIMEDOUT, EPIPE or EINVAL (q NULL or
 * timeout_ns < 0). */
static inline int parc_spsc_push_timed(parc_spsc_t *q, void *item,
                                       int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (q == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    int rc = parc_spsc_push_try(q, item);
    return rc == EAGAIN ? parc_spsc_push_wait_(q, item, deadline) : rc;
}

/* Push up to n items from `items` (in order) without blocking; returns how
 * many were pushed: 0 when full, closed, n is 0, or q or items is NULL.
 * One publish (and at most one wake-up) for the whole batch. Producer
 * only. */
static inline size_t parc_spsc_push_bulk(parc_spsc_t *q, void *const *items,
                                         size_t n)
{
    if (q == NULL || items == NULL || n == 0)
        return 0;
    size_t t = parc_load(&q->tail, PARC_RELAXED);
    (void)parc_spsc_room_(q, t, n); /* refreshes the copy if short */
    size_t room = q->mask + 1 - (t - q->head_cache);
    size_t m = n < room ? n : room;
    if (m == 0 || !parc_spsc_begin_push_(q))
        return 0;
    for (size_t i = 0; i < m; i++)
        q->buf[(t + i) & q->mask] = items[i];
    parc_spsc_end_push_(q, t + m);
    return m;
}

/* Refresh the consumer's copy of tail; true when an item is at head h. */
static inline bool parc_spsc_avail_(parc_spsc_t *q, size_t h)
{
    if (h != q->tail_cache)
        return true;
    /* acquire: the slot contents written before the producer's publish are
     * visible; pairs with the release stores of tail in push. */
    q->tail_cache = parc_load(&q->tail, PARC_ACQUIRE);
    return h != q->tail_cache;
}

/* Free slots up to index h_new and wake a waiting producer. */
static inline void parc_spsc_end_pop_(parc_spsc_t *q, size_t h_new)
{
    /* release: our reads of the slots happen before the producer reuses
     * them; pairs with the acquire load of head in parc_spsc_room_(). */
    parc_store(&q->head, h_new, PARC_RELEASE);
    /* store-load: the release before the waiter check; pairs with the heavy
     * fence of a producer about to sleep (parc_spsc_push_wait_). */
    parc_asym_light_fence(q->asym);
    if (parc_ec_has_waiters(&q->space))
        parc_ec_wake(&q->space, false);
}

/* Pop the oldest item into *item if there is one. Consumer only; never
 * blocks. Returns 0, EAGAIN (empty, or a push racing with close still in
 * progress), EPIPE (closed and drained) or EINVAL (q or item NULL). */
static inline int parc_spsc_pop_try(parc_spsc_t *q, void **item)
{
    if (q == NULL || item == NULL)
        return EINVAL;
    size_t h = parc_load(&q->head, PARC_RELAXED); /* our own index */
    if (!parc_spsc_avail_(q, h))
        return parc_load(&q->closed, PARC_RELAXED) != 0
                   ? parc_spsc_closed_empty_(q, h) : EAGAIN;
    *item = q->buf[h & q->mask];
    parc_spsc_end_pop_(q, h + 1);
    return 0;
}

/* Pop the oldest item, waiting while the ring is empty. Consumer only;
 * blocks. Returns 0, EPIPE (closed and drained) or EINVAL. */
static inline int parc_spsc_pop(parc_spsc_t *q, void **item)
{
    int rc = parc_spsc_pop_try(q, item);
    return rc == EAGAIN ? parc_spsc_pop_wait_(q, item, PARC_FOREVER) : rc;
}

/* Pop, waiting at most timeout_ns (relative). Consumer only; blocks.
 * Returns 0, ETIMEDOUT, EPIPE or EINVAL (NULL, timeout_ns < 0). */
static inline int parc_spsc_pop_timed(parc_spsc_t *q, void **item,
                                      int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (q == NULL || item == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    int rc = parc_spsc_pop_try(q, item);
    return rc == EAGAIN ? parc_spsc_pop_wait_(q, item, deadline) : rc;
}

/* Pop up to n items into `items` (oldest first) without blocking; returns
 * how many: 0 when empty (or closed and drained: parc_spsc_pop_try() tells
 * which, with EPIPE, and waits out a push racing with close), n is 0, or q
 * or items is NULL. One index update for the batch. Consumer only. */
static inline size_t parc_spsc_pop_bulk(parc_spsc_t *q, void **items, size_t n)
{
    if (q == NULL || items == NULL || n == 0)
        return 0;
    size_t h = parc_load(&q->head, PARC_RELAXED);
    if (q->tail_cache - h < n) {
        /* acquire: as in parc_spsc_avail_() */
        q->tail_cache = parc_load(&q->tail, PARC_ACQUIRE);
    }
    size_t avail = q->tail_cache - h;
    size_t m = n < avail ? n : avail;
    if (m == 0)
        return 0;
    for (size_t i = 0; i < m; i++)
        items[i] = q->buf[(h + i) & q->mask];
    parc_spsc_end_pop_(q, h + m);
    return m;
}

#endif /* PARC_SPSC_H */
