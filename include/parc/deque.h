/*
 * parc/deque.h — Chase–Lev work-stealing deque of pointers (layer 2).
 *
 * Algorithm: D. Chase and Y. Lev, "Dynamic Circular Work-Stealing Deque"
 * (SPAA 2005), with the memory orders of the portable C11 version proved
 * by N. M. Lê, A. Pop, A. Cohen and F. Zappa Nardelli, "Correct and
 * Efficient Work-Stealing for Weak Memory Models" (PPoPP 2013). One owner
 * thread pushes and pops at the bottom like a stack; any number of thieves
 * steal from the top. The owner's operations touch no shared line unless
 * the deque is nearly empty; a steal is one CAS on the top index.
 *
 * Departures from the paper, each argued where it happens in
 * src/deque.c: indices are signed 64-bit (the paper's size_t wraps when
 * pop runs on a deque that was never pushed to); push publishes bottom
 * with a release store instead of a release fence plus a relaxed store
 * (the same guarantee, and one ThreadSanitizer understands); push checks
 * for room against a top it read before and reads top again only when
 * that says full (top only grows: argued at parc_deque_push_inline_ in
 * parc/impl/deque.h).
 *
 * Growth: when the circular array is full, push copies the live items into
 * one twice as large. Thieves may still be reading the old array, so it is
 * kept, not freed, until parc_deque_destroy: the retired arrays together
 * are smaller than the current one (sizes double), so this at most doubles
 * the footprint, and it keeps steal free of any reclamation cost. No item
 * is lost or duplicated by growth: a thief that read the old array gets
 * the same item the new array holds at that index, and its CAS on top
 * decides who takes it.
 *
 * ThreadSanitizer: take and steal order their index accesses with seq_cst
 * fences (a store-load Dekker pattern that nothing cheaper orders). In a
 * TSan build parc_fence() becomes a seq_cst RMW on one global word
 * (parc/atomic.h), which keeps the algorithm correct on x86 and gives TSan
 * the synchronisation it cannot see in a fence. Items' contents are
 * published by push's release store of bottom and acquired by the thief's
 * acquire load of it, which TSan sees directly.
 *
 * Ordering guarantee: none across ends: the owner sees LIFO, thieves see
 * FIFO (oldest first); every item is taken exactly once.
 * Memory: grows (doubling) to hold the most items held at once; never
 * shrinks; everything is freed by destroy.
 * Items: any pointer, NULL included; the deque never dereferences them.
 *
 * Synchronization table (liburcu style):
 *
 *                 push   pop    steal   size   destroy
 *   push           no     no     yes     yes     no
 *   pop            no     no     yes     yes     no
 *   steal          yes    yes    yes     yes     no
 *   size           yes    yes    yes     yes     no
 *   destroy        no     no     no      no      no
 *
 * push and pop must be called by one thread, the owner (or by threads that
 * hand ownership over with a happens-before edge, e.g. a mutex or a join).
 * That cannot be detected cheaply and is not checked. push, pop and steal
 * are lock-free and never block.
 */
#ifndef PARC_DEQUE_H
#define PARC_DEQUE_H

#include <stddef.h>
#include <stdint.h>

#include "parc/api.h"
#include "parc/atomic.h"
#include "parc/status.h"

PARC_BEGIN_DECLS

/* Slots allocated by parc_deque_init when the hint is 0. */
#define PARC_DEQUE_DEFAULT_CAPACITY 256u

/* The circular array: private, defined in parc/impl/deque.h for the
 * owner's inlined push and pop. */
struct parc_deque_array;

typedef struct parc_deque {
    /* Thieves CAS top; the owner writes bottom: separate lines. */
    PARC_CACHE_ALIGNED parc_atomic(int64_t) top;
    PARC_CACHE_ALIGNED parc_atomic(int64_t) bottom;
    parc_atomic(struct parc_deque_array *) array; /* read by thieves */
    struct parc_deque_array *retired;             /* owner only */
    /* Owner only: a value of top that push read before (with acquire).
     * top only grows, so it is never above the real top: when it says
     * there is room, there is (see parc/impl/deque.h). */
    int64_t top_cache;
} parc_deque_t;

/** Initialise an empty deque with room for `capacity_hint` items before it
 * first grows (rounded up to a power of two; 0 picks
 * PARC_DEQUE_DEFAULT_CAPACITY). Returns 0; EINVAL when d is NULL or the
 * hint exceeds 2^40; ENOMEM. Needs exclusive access. Never blocks. */
PARC_API int parc_deque_init(parc_deque_t *d, size_t capacity_hint);

/** Free the arrays. Items still inside are not freed. No other call may run
 * on d concurrently or afterwards. Returns 0 or EINVAL when d is NULL.
 * Never blocks. */
PARC_API int parc_deque_destroy(parc_deque_t *d);

/** Owner only: push `item` at the bottom. Never blocks; allocates only when
 * the deque must grow. Returns 0; EINVAL when d is NULL; ENOMEM when it
 * could not grow (the item was not pushed). */
PARC_API int parc_deque_push(parc_deque_t *d, void *item);

/** Owner only: pop the most recently pushed item into *item. Never blocks.
 * Returns 0; EAGAIN when empty (including when a thief took the last item
 * first); EINVAL when d or item is NULL. */
PARC_API int parc_deque_pop(parc_deque_t *d, void **item);

/**
 * Any thread: steal the oldest item into *item. Never blocks, never
 * retries. Returns 0; EINVAL when d or item is NULL; EAGAIN when nothing
 * was taken, either because the deque was empty or because the steal lost
 * a race for the top item to the owner or another thief (the paper's
 * ABORT). A lost race means the deque was not empty a moment ago: a
 * thief that wants to tell the two apart checks parc_deque_size() > 0
 * and retries rather than looking elsewhere or parking.
 */
PARC_API int parc_deque_steal(parc_deque_t *d, void **item);

/** The number of items at the moment of the call (a snapshot, possibly
 * stale at once). Any thread; never blocks. 0 for NULL. */
PARC_API size_t parc_deque_size(parc_deque_t *d);

/* ---- the owner's operations, inlined --------------------------------- *
 *
 * parc_deque_push and parc_deque_pop are these two without the argument
 * checks. They live here so that a scheduler's fork and join (a push and
 * a pop per task, tens of ns in all) inline them instead of calling into
 * another translation unit. Same contracts as the functions above, owner
 * only; d (and item) must not be NULL.
 */

PARC_END_DECLS

#include "parc/impl/deque.h"

#endif /* PARC_DEQUE_H */
