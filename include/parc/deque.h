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
 * that says full (top only grows: argued in parc_deque_push_inline_).
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

#include "parc/atomic.h"
#include "parc/status.h"

/* Slots allocated by parc_deque_init when the hint is 0. */
#define PARC_DEQUE_DEFAULT_CAPACITY 256u

/* The circular array. Visible only so that the owner's push and pop can
 * be inlined (parc_deque_push_inline_ below); use the functions. */
struct parc_deque_array {
    int64_t mask;                   /* capacity - 1; capacity a power of 2 */
    struct parc_deque_array *prev;  /* older retired array (owner only) */
    parc_atomic(void *) slots[];    /* item i lives at slots[i & mask] */
};

typedef struct parc_deque {
    /* Thieves CAS top; the owner writes bottom: separate lines. */
    PARC_CACHE_ALIGNED parc_atomic(int64_t) top;
    PARC_CACHE_ALIGNED parc_atomic(int64_t) bottom;
    parc_atomic(struct parc_deque_array *) array; /* read by thieves */
    struct parc_deque_array *retired;             /* owner only */
    /* Owner only: a value of top that push read before (with acquire).
     * top only grows, so it is never above the real top: when it says
     * there is room, there is (see parc_deque_push_inline_). */
    int64_t top_cache;
} parc_deque_t;

/* Initialise an empty deque with room for `capacity_hint` items before it
 * first grows (rounded up to a power of two; 0 picks
 * PARC_DEQUE_DEFAULT_CAPACITY). Returns 0; EINVAL when d is NULL or the
 * hint exceeds 2^40; ENOMEM. Needs exclusive access. */
PARC_API int parc_deque_init(parc_deque_t *d, size_t capacity_hint);

/* Free the arrays. Items still inside are not freed. No other call may
 * run on d concurrently or afterwards. Returns 0 or EINVAL when d is
 * NULL. */
PARC_API int parc_deque_destroy(parc_deque_t *d);

/* Owner only: push `item` at the bottom. Never blocks; allocates only when
 * the deque must grow. Returns 0; EINVAL when d is NULL; ENOMEM when it
 * could not grow (the item was not pushed). */
PARC_API int parc_deque_push(parc_deque_t *d, void *item);

/* Owner only: pop the most recently pushed item into *item. Never blocks.
 * Returns 0; EAGAIN when empty (including when a thief took the last item
 * first); EINVAL when d or item is NULL. */
PARC_API int parc_deque_pop(parc_deque_t *d, void **item);

/*
 * Any thread: steal the oldest item into *item. Never blocks, never
 * retries. Returns 0; EINVAL when d or item is NULL; EAGAIN when nothing
 * was taken, either because the deque was empty or because the steal lost
 * a race for the top item to the owner or another thief (the paper's
 * ABORT). A lost race means the deque was not empty a moment ago: a
 * thief that wants to tell the two apart checks parc_deque_size() > 0
 * and retries rather than looking elsewhere or parking.
 */
PARC_API int parc_deque_steal(parc_deque_t *d, void **item);

/* The number of items at the moment of the call (a snapshot, possibly
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

/* Out of line, owner only: replace the full array `a` by one twice its
 * size holding the items [t, b). Returns the new array or NULL (ENOMEM). */
PARC_API struct parc_deque_array *parc_deque_grow_(parc_deque_t *d,
                                          struct parc_deque_array *a,
                                          int64_t t, int64_t b);

static inline int parc_deque_push_inline_(parc_deque_t *d, void *item)
{
    int64_t b = parc_load(&d->bottom, PARC_RELAXED); /* only we write it */
    struct parc_deque_array *a = parc_load(&d->array, PARC_RELAXED); /* ours */
    /*
     * Room check against the cached top first: the paper loads top on
     * every push, which pulls the thieves' line to the owner each time a
     * steal moved it. The cache was read from top with acquire and top
     * only grows, so cache <= top: when b - cache fits, b - top fits too.
     * The slot we overwrite held item b - capacity < cache, taken by a
     * thief whose CAS wrote a top value at most the one our acquire load
     * read; every write of top is a CAS (an RMW continues the release
     * sequence), so that load synchronised with the thief's CAS and its
     * read of the slot happens before our store. Only when the cache says
     * full is top read again.
     */
    if (b - d->top_cache > a->mask) {
        /* acquire: pairs with the seq_cst CAS of a thief that advanced
         * top: its read of the slot we may now overwrite happened before. */
        int64_t t = parc_load(&d->top, PARC_ACQUIRE);
        d->top_cache = t;
        if (b - t > a->mask) {
            a = parc_deque_grow_(d, a, t, b);
            if (a == NULL)
                return ENOMEM;
        }
    }
    parc_store(&a->slots[b & a->mask], item, PARC_RELAXED);
    /* release: publishes the slot (and the item's contents) to a thief
     * that reads this bottom with its acquire load in steal. The paper
     * writes a release fence then a relaxed store: the same guarantee,
     * which TSan can also see. */
    parc_store(&d->bottom, b + 1, PARC_RELEASE);
    return 0;
}

/* Pop: the part after the empty check. b is bottom - 1 (the newest
 * item's index), a the array. */
static inline int parc_deque_take_newest_(parc_deque_t *d,
                                          struct parc_deque_array *a,
                                          int64_t b, void **item)
{
    parc_store(&d->bottom, b, PARC_RELAXED);
    /* seq_cst fence: the bottom store above must be ordered before the top
     * load below (store-load: only a full fence orders it). Pairs with the
     * seq_cst fence in steal: either the thief sees the smaller bottom and
     * backs off, or we see its advanced top; never both miss. */
    parc_fence(PARC_SEQ_CST);
    int64_t t = parc_load(&d->top, PARC_RELAXED);
    if (t < b) { /* more than one item left: ours without a race */
        *item = parc_load(&a->slots[b & a->mask], PARC_RELAXED); /* ours */
        return 0;
    }
    int rc = 0;
    if (t == b) {
        void *x = parc_load(&a->slots[b & a->mask], PARC_RELAXED); /* ours */
        /* The last item: race the thieves for it through top.
         * seq_cst: the paper's order; it is the CAS that thieves'
         * seq_cst CAS and fences are totally ordered with. */
        if (!parc_cas(&d->top, &t, t + 1, PARC_SEQ_CST, PARC_RELAXED))
            rc = EAGAIN; /* a thief took it */
        else
            *item = x;
    } else {
        rc = EAGAIN; /* empty: undo the reservation below */
    }
    parc_store(&d->bottom, b + 1, PARC_RELAXED);
    return rc;
}

static inline int parc_deque_pop_inline_(parc_deque_t *d, void **item)
{
    int64_t b = parc_load(&d->bottom, PARC_RELAXED) - 1; /* only we write it */
    /* Empty without the fence: top only grows, so a top read at least
     * bottom (even a stale one, which is smaller than the real one) means
     * no item is left, and only we could add one. A worker looking for
     * work tries its own deque first, usually empty: this saves it a full
     * fence. relaxed: nothing is read through it. */
    if (parc_load(&d->top, PARC_RELAXED) > b)
        return EAGAIN;
    return parc_deque_take_newest_(d, parc_load(&d->array, PARC_RELAXED), b,
                                   item); /* array: only we write it */
}

/* Owner only: pop the newest item only when it is `expected` (a join
 * taking back the task it forked last). Returns 0 (it was popped);
 * EAGAIN when the deque is empty, its newest item is another, or a thief
 * took it first. A slot the owner wrote is read without a race: only the
 * owner writes slots, and a thief only reads them. */
static inline int parc_deque_pop_if_inline_(parc_deque_t *d, void *expected)
{
    int64_t b = parc_load(&d->bottom, PARC_RELAXED) - 1; /* only we write it */
    /* relaxed, as in pop: a stale top only makes this look non-empty. */
    if (parc_load(&d->top, PARC_RELAXED) > b)
        return EAGAIN;
    struct parc_deque_array *a = parc_load(&d->array, PARC_RELAXED); /* ours */
    if (parc_load(&a->slots[b & a->mask], PARC_RELAXED) != expected) /* ours */
        return EAGAIN;
    void *item;
    return parc_deque_take_newest_(d, a, b, &item);
}

#endif /* PARC_DEQUE_H */
