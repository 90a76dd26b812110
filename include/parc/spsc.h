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

#include "parc/api.h"
#include "parc/asymfence.h"
#include "parc/atomic.h"
#include "parc/eventcount.h"
#include "parc/status.h"
#include "parc/time.h"

PARC_BEGIN_DECLS

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
    bool asym;                      /* parc_asymfence_available() at init */
    bool owns_buf;                  /* allocated by parc_spsc_create() */
    parc_eventcount_t items;        /* the consumer waits here for items */
    parc_eventcount_t space;        /* the producer waits here for room */
    parc_atomic(uint32_t) items_armed; /* the consumer may sleep on items */
    parc_atomic(uint32_t) space_armed; /* the producer may sleep on space */
} parc_spsc_t;

/** Initialise `q` over the caller's array `buf` of `capacity` slots, which
 * init empties (sets to NULL) and the ring then owns until destroy: the
 * caller must not touch it meanwhile (the ring accesses it as atomic
 * pointers). capacity must be a power of two >= 1. Returns 0, or EINVAL (q
 * or buf NULL, capacity 0 or not a power of two). Not thread-safe: no
 * other thread may use q during init. Never blocks. */
PARC_API int parc_spsc_init(parc_spsc_t *q, void **buf, size_t capacity);

/** Release nothing (the buffer is the caller's); marks q unusable. Returns
 * 0 or EINVAL. No thread may use q concurrently. Never blocks. */
PARC_API int parc_spsc_destroy(parc_spsc_t *q);

/** Allocate and initialise a ring of `capacity` slots (power of two).
 * Returns 0 with *out set, EINVAL (out NULL, bad capacity) or ENOMEM. Any
 * thread; never blocks. The ring is cache-line aligned; free it with
 * parc_spsc_free(). */
PARC_API int parc_spsc_create(parc_spsc_t **out, size_t capacity);

/** Free a ring made by parc_spsc_create() (NULL is ignored). No thread may
 * use q concurrently. Never blocks. */
PARC_API void parc_spsc_free(parc_spsc_t *q);

/** Close: later pushes return EPIPE; items already accepted still pop;
 * then pops return EPIPE. Wakes every blocked push and pop. Idempotent.
 * Any thread; never blocks. Returns 0 or EINVAL. */
PARC_API int parc_spsc_close(parc_spsc_t *q);

/** True once parc_spsc_close() was called (false for NULL). Any thread.
 * Never blocks. */
static inline bool parc_spsc_is_closed(parc_spsc_t *q);

/** Number of slots (0 for NULL). Any thread. Never blocks. */
static inline size_t parc_spsc_capacity(const parc_spsc_t *q);

/** Items in the ring at some moment during the call (approximate when the
 * producer or consumer runs concurrently). Any thread; never blocks.
 * Returns that number (0 for NULL). */
static inline size_t parc_spsc_size(parc_spsc_t *q);


/** Push `item` (any pointer, NULL included) if a slot is free. Producer
 * only; never blocks. Returns 0, EAGAIN (full), EPIPE (closed) or EINVAL
 * (q NULL). */
static inline int parc_spsc_push_try(parc_spsc_t *q, void *item);

/** Push `item`, waiting while the ring is full. Producer only; blocks.
 * Returns 0, EPIPE (closed, before or while waiting) or EINVAL. */
static inline int parc_spsc_push(parc_spsc_t *q, void *item);

/** Push `item`, waiting at most timeout_ns (relative) while full.
 * Producer only; blocks. Returns 0, ETIMEDOUT, EPIPE or EINVAL (q NULL or
 * timeout_ns < 0). */
static inline int parc_spsc_push_timed(parc_spsc_t *q, void *item,
                                       int64_t timeout_ns);

/** Push up to n items from `items` (in order; NULL items allowed) without
 * blocking; returns how many were pushed: 0 when full, closed, n is 0, or
 * q or items is NULL. At most one wake-up for the whole batch. Producer
 * only. */
static inline size_t parc_spsc_push_bulk(parc_spsc_t *q, void *const *items,
                                         size_t n);

/** Pop the oldest item into *item if there is one. Consumer only; never
 * blocks. Returns 0, EAGAIN (empty, or a push racing with close still in
 * progress), EPIPE (closed and drained) or EINVAL (q or item NULL). */
static inline int parc_spsc_pop_try(parc_spsc_t *q, void **item);

/** Pop the oldest item, waiting while the ring is empty. Consumer only;
 * blocks. Returns 0, EPIPE (closed and drained) or EINVAL. */
static inline int parc_spsc_pop(parc_spsc_t *q, void **item);

/** Pop, waiting at most timeout_ns (relative). Consumer only; blocks.
 * Returns 0, ETIMEDOUT, EPIPE or EINVAL (NULL, timeout_ns < 0). */
static inline int parc_spsc_pop_timed(parc_spsc_t *q, void **item,
                                      int64_t timeout_ns);

/** Pop up to n items into `items` (oldest first) without blocking; returns
 * how many: 0 when empty (or closed and drained: parc_spsc_pop_try() tells
 * which, with EPIPE, and waits out a push racing with close), n is 0, or q
 * or items is NULL. At most one wake-up for the batch. Consumer only. */
static inline size_t parc_spsc_pop_bulk(parc_spsc_t *q, void **items, size_t n);

PARC_END_DECLS

#include "parc/impl/spsc.h"

#endif /* PARC_SPSC_H */
