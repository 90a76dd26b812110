/*
 * parc/spsc.h — bounded single-producer/single-consumer ring (layer 2).
 *
 * FastForward (Giacomoni, Moseley & Vachharajani, PPoPP 2008): the slots
 * themselves say full or empty. An empty slot holds NULL; the producer
 * writes an item into the slot at its position once that slot is empty,
 * the consumer takes the item from the slot at its position once it is
 * not, and writes NULL back. Neither side reads the other's index: the
 * only cache lines that move between the cores are the slots', which
 * must move anyway to carry the items. (Lamport's ring, TOPLAS 1983,
 * even with each side caching the other's index as in ck_ring or
 * Rigtorp's queue, moves the producer's index line once per item when
 * the consumer keeps up: every pop finds its copy exhausted and reads the
 * index the producer has just written.)
 *
 * The producer looks ahead, after B-Queue (Wang, Zhang, Tang & Hua,
 * IJPP 2013): the consumer empties the slots in order, so when the slot
 * `lookahead` positions ahead is empty, every slot up to it is, and the
 * next `lookahead` pushes write without reading a slot first (one probe
 * per 64 items instead of one read of a line the consumer may hold).
 * When that slot is still full the producer probes its own slot alone,
 * so the ring still holds exactly `capacity` items. There is no batching
 * on the consumer side and no delayed publication: each push publishes
 * its item at once (one release store into its slot).
 *
 * NULL items. NULL marks an empty slot, so a NULL item is stored as the
 * address of the internal object parc_spsc_null_ and popped as NULL
 * again: NULL is a legal item, and pushing &parc_spsc_null_ itself pops
 * NULL (that one address is reserved).
 *
 * Ordering:  global FIFO (one producer, one consumer).
 * Memory:    bounded: a power-of-two number of slots, fixed at init; never
 *            allocates after parc_spsc_create(). (No static initialiser:
 *            init learns at run time whether membarrier is available,
 *            and empties the slots.)
 *
 * Blocking. pop waits for an item, push for a free slot, both through an
 * eventcount (parc/eventcount.h), after a bounded spin. A waiter must not
 * miss the publish that ends its wait: that is Dekker's pattern (the
 * publisher stores into the slot then loads the waiter count; the waiter
 * stores the count then loads the slot), which needs a store-load
 * barrier on both sides. A full fence on every push and pop would cost
 * more than the rest of the operation, so parc makes the barrier
 * asymmetric (parc/asymfence.h): the fast path only
 * keeps the compiler from reordering, and the thread about to sleep runs
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which makes every running
 * thread of the process pass a full barrier. The waiting side pays ~1 us
 * before a ~45 us sleep; the fast path pays one load of a line that only
 * changes when someone starts or stops waiting. Where membarrier is not
 * available (old kernels, seccomp), and in ThreadSanitizer builds (which
 * do not model it), both sides use seq_cst fences instead. The publisher
 * checks an "armed" flag that the waiter sets before its heavy fence, not
 * the eventcount's waiter count: a woken waiter stays counted until it
 * runs again, and every push or pop meanwhile would make a futex call
 * (parc/mpmc.h, "Wake-ups", has the argument and the figures).
 *
 * Close. parc_spsc_close() may be called from any thread. Afterwards push
 * returns EPIPE; items already pushed still pop; then pop returns EPIPE.
 * A push racing with close is either accepted (and pops before EPIPE) or
 * refused with EPIPE, never lost: the producer raises a "push in
 * progress" mark (on its private cache line) before it reads the closed
 * flag and lowers it after its publish, and the consumer, having seen the
 * flag, passes the heavy barrier and then reads the mark and its slot:
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

/* How far ahead the producer probes for free slots (capped at half the
 * capacity): one probe per this many pushes while the consumer keeps up. */
#define PARC_SPSC_LOOKAHEAD 64u

/* ---- the ring ------------------------------------------------------------ */

typedef struct parc_spsc {
    /* The producer's private line: the consumer reads nothing here on its
     * fast path (`pushing` only on its way to "closed and empty"; `tail`
     * only size() reads), so the stores here cost no coherence traffic. */
    PARC_CACHE_ALIGNED parc_atomic(size_t) tail;  /* items pushed */
    size_t free_end;                              /* the slots of positions
                                                   * below it are known empty */
    parc_atomic(uint32_t) pushing;                /* a push is between its
                                                   * closed check and its
                                                   * publish */
    /* The consumer's private line (size() reads it). */
    PARC_CACHE_ALIGNED parc_atomic(size_t) head;  /* items popped */
    /* Read-mostly: written only at init, on close and by threads that
     * start or stop waiting; both fast paths read it from their caches. */
    PARC_CACHE_ALIGNED parc_atomic(void *) *slots; /* NULL: empty */
    size_t mask;                    /* capacity - 1 */
    size_t lookahead;               /* < capacity; 0 for capacity 1 */
    parc_atomic(uint32_t) closed;
    bool asym;                      /* parc_asym_available() at init */
    bool owns_buf;                  /* allocated by parc_spsc_create() */
    parc_ec_t items;                /* the consumer waits here for items */
    parc_ec_t space;                /* the producer waits here for room */
    parc_atomic(uint32_t) items_armed; /* the consumer may sleep on items */
    parc_atomic(uint32_t) space_armed; /* the producer may sleep on space */
} parc_spsc_t;

/* The stand-in stored for a NULL item (see "NULL items" above). */
PARC_API extern char parc_spsc_null_;
#define PARC_SPSC_NULL_ ((void *)&parc_spsc_null_)

/* Initialise `q` over the caller's array `buf` of `capacity` slots, which
 * init empties (sets to NULL) and the ring then owns until destroy: the
 * caller must not touch it meanwhile (the ring accesses it as atomic
 * pointers). capacity must be a power of two >= 1. Returns 0, or EINVAL
 * (q or buf NULL, capacity 0 or not a power of two). Not thread-safe: no
 * other thread may use q during init. */
PARC_API int parc_spsc_init(parc_spsc_t *q, void **buf, size_t capacity);

/* Release nothing (the buffer is the caller's); marks q unusable.
 * Returns 0 or EINVAL. No thread may use q concurrently. */
PARC_API int parc_spsc_destroy(parc_spsc_t *q);

/* Allocate and initialise a ring of `capacity` slots (power of two).
 * Returns 0 with *out set, EINVAL (out NULL, bad capacity) or ENOMEM. */
PARC_API int parc_spsc_create(parc_spsc_t **out, size_t capacity);

/* Free a ring made by parc_spsc_create() (NULL is ignored). No thread may
 * use q concurrently. */
PARC_API void parc_spsc_free(parc_spsc_t *q);

/* Close: later pushes return EPIPE; items already accepted still pop;
 * then pops return EPIPE. Wakes every blocked push and pop. Idempotent.
 * Any thread; never blocks. Returns 0 or EINVAL. */
PARC_API int parc_spsc_close(parc_spsc_t *q);

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
PARC_API int parc_spsc_closed_empty_(parc_spsc_t *q, size_t head);
PARC_API int parc_spsc_push_wait_(parc_spsc_t *q, void *item, parc_deadline_t deadline);
PARC_API int parc_spsc_pop_wait_(parc_spsc_t *q, void **item, parc_deadline_t deadline);

static inline parc_atomic(void *) *parc_spsc_slot_(parc_spsc_t *q, size_t pos)
{
    return &q->slots[pos & q->mask];
}

/* True when the slot of position `pos` is empty. For the producer only,
 * for a position below its own plus the capacity: an empty slot there
 * means the consumer took the item of pos - capacity, hence every earlier
 * one, so the slots of positions up to pos are all free. */
static inline bool parc_spsc_free_at_(parc_spsc_t *q, size_t pos)
{
    /* acquire: the consumer's reads of every slot it emptied up to this
     * one happen before we overwrite them; pairs with the release stores
     * of NULL in pop. */
    return parc_load(parc_spsc_slot_(q, pos), PARC_ACQUIRE) == NULL;
}

/* The producer's slow check, when free_end says nothing about tail t:
 * true (free_end advanced past t) when the slot of t is free. Probes the
 * slot `lookahead` ahead first, so that the next pushes need no probe. */
static inline bool parc_spsc_room_(parc_spsc_t *q, size_t t)
{
    if (q->lookahead != 0 && parc_spsc_free_at_(q, t + q->lookahead)) {
        q->free_end = t + q->lookahead;
        return true;
    }
    if (!parc_spsc_free_at_(q, t))
        return false;
    q->free_end = t + 1;
    return true;
}

/* After a publish or a release: wake the waiter of `ec` if it armed the
 * flag since the last wake-up. */
static inline void parc_spsc_notify_(parc_spsc_t *q, parc_ec_t *ec,
                                     parc_atomic(uint32_t) *armed)
{
    /* store-load: the publish or release before the flag check; pairs with
     * the heavy fence of a thread about to sleep (parc_spsc_*_wait_). */
    parc_asym_light_fence(q->asym);
    if (parc_load(armed, PARC_RELAXED) != 0) {
        /* relaxed: parc_ec_wake's release increment of the epoch orders
         * the clear before it for a waiter that reads the new epoch (and
         * then re-arms after it). */
        parc_store(armed, 0u, PARC_RELAXED);
        parc_ec_wake(ec, true);
    }
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

/* Publish `item` (NULL stands in as parc_spsc_null_) into the slot of
 * position t, which is ours until this store. */
static inline void parc_spsc_put_(parc_spsc_t *q, size_t t, void *item)
{
    /* release: the item's contents, written before the push, are visible
     * to the consumer that takes it; pairs with the acquire load of the
     * slot in pop. */
    parc_store(parc_spsc_slot_(q, t), item != NULL ? item : PARC_SPSC_NULL_,
               PARC_RELEASE);
}

/* After the items below t_new are published: end the mark and wake a
 * waiting consumer. */
static inline void parc_spsc_end_push_(parc_spsc_t *q, size_t t_new)
{
    parc_store(&q->tail, t_new, PARC_RELAXED); /* for size() only */
    /* release: the publish before the end of the mark; pairs with the
     * acquire load of the mark in parc_spsc_closed_empty_(). */
    parc_store(&q->pushing, 0u, PARC_RELEASE);
    parc_spsc_notify_(q, &q->items, &q->items_armed);
}

/* Push `item` (any pointer, NULL included) if a slot is free. Producer
 * only; never blocks. Returns 0, EAGAIN (full), EPIPE (closed) or EINVAL
 * (q NULL). */
static inline int parc_spsc_push_try(parc_spsc_t *q, void *item)
{
    if (q == NULL)
        return EINVAL;
    size_t t = parc_load(&q->tail, PARC_RELAXED); /* our own index */
    if (t == q->free_end && !parc_spsc_room_(q, t))
        return parc_load(&q->closed, PARC_RELAXED) != 0 ? EPIPE : EAGAIN;
    if (!parc_spsc_begin_push_(q))
        return EPIPE;
    parc_spsc_put_(q, t, item);
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

/* The producer's room for up to `want` (1..capacity) items from tail t:
 * how many consecutive slots from t are free (free_end updated). The
 * producer keeps t <= free_end. */
static inline size_t parc_spsc_room_for_(parc_spsc_t *q, size_t t, size_t want)
{
    if (q->free_end - t >= want)
        return want;
    /* The last slot wanted is empty: all before it are (see free_at_). */
    if (parc_spsc_free_at_(q, t + want - 1)) {
        q->free_end = t + want;
        return want;
    }
    /* Else count the free slots after those known free: the consumer
     * empties in order, so they are a prefix. */
    size_t end = q->free_end;
    while (end - t < want && parc_spsc_free_at_(q, end))
        end++;
    q->free_end = end;
    return end - t;
}

/* Push up to n items from `items` (in order; NULL items allowed) without
 * blocking; returns how many were pushed: 0 when full, closed, n is 0, or
 * q or items is NULL. At most one wake-up for the whole batch. Producer
 * only. */
static inline size_t parc_spsc_push_bulk(parc_spsc_t *q, void *const *items,
                                         size_t n)
{
    if (q == NULL || items == NULL || n == 0)
        return 0;
    size_t t = parc_load(&q->tail, PARC_RELAXED);
    size_t m = parc_spsc_room_for_(q, t, n <= q->mask ? n : q->mask + 1);
    if (m == 0 || !parc_spsc_begin_push_(q))
        return 0;
    for (size_t i = 0; i < m; i++)
        parc_spsc_put_(q, t + i, items[i]);
    parc_spsc_end_push_(q, t + m);
    return m;
}

/* The item in the slot of position h, or NULL when it is empty. Consumer
 * only. */
static inline void *parc_spsc_peek_(parc_spsc_t *q, size_t h)
{
    /* acquire: the item's contents, written before its push, are visible;
     * pairs with the release store into the slot in push. */
    return parc_load(parc_spsc_slot_(q, h), PARC_ACQUIRE);
}

/* Empty the slot of position h after reading it. */
static inline void parc_spsc_take_(parc_spsc_t *q, size_t h)
{
    /* release: our read of the slot happens before the producer reuses it;
     * pairs with the acquire probes in parc_spsc_free_at_(). */
    parc_store(parc_spsc_slot_(q, h), NULL, PARC_RELEASE);
}

/* After emptying the slots below h_new: wake a waiting producer. */
static inline void parc_spsc_end_pop_(parc_spsc_t *q, size_t h_new)
{
    parc_store(&q->head, h_new, PARC_RELAXED); /* our index; size() reads it */
    parc_spsc_notify_(q, &q->space, &q->space_armed);
}

/* Pop the oldest item into *item if there is one. Consumer only; never
 * blocks. Returns 0, EAGAIN (empty, or a push racing with close still in
 * progress), EPIPE (closed and drained) or EINVAL (q or item NULL). */
static inline int parc_spsc_pop_try(parc_spsc_t *q, void **item)
{
    if (q == NULL || item == NULL)
        return EINVAL;
    size_t h = parc_load(&q->head, PARC_RELAXED); /* our own index */
    void *v = parc_spsc_peek_(q, h);
    if (v == NULL)
        return parc_load(&q->closed, PARC_RELAXED) != 0
                   ? parc_spsc_closed_empty_(q, h) : EAGAIN;
    *item = v != PARC_SPSC_NULL_ ? v : NULL;
    parc_spsc_take_(q, h);
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
 * or items is NULL. At most one wake-up for the batch. Consumer only. */
static inline size_t parc_spsc_pop_bulk(parc_spsc_t *q, void **items, size_t n)
{
    if (q == NULL || items == NULL || n == 0)
        return 0;
    size_t h = parc_load(&q->head, PARC_RELAXED);
    size_t m = 0;
    for (; m < n; m++) {
        void *v = parc_spsc_peek_(q, h + m);
        if (v == NULL)
            break;
        items[m] = v != PARC_SPSC_NULL_ ? v : NULL;
        parc_spsc_take_(q, h + m);
    }
    if (m != 0)
        parc_spsc_end_pop_(q, h + m);
    return m;
}

#endif /* PARC_SPSC_H */
