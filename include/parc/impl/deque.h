/*
 * parc/impl/deque.h — the inline fast paths behind parc/deque.h.
 * Included at the bottom of parc/deque.h; not an API: the contracts are
 * documented there.
 */
#ifndef PARC_IMPL_DEQUE_H
#define PARC_IMPL_DEQUE_H

#include "parc/deque.h"

PARC_BEGIN_DECLS

/* The circular array: a header followed by `mask + 1` atomic slots, item i
 * at slot i & mask. The slots follow the struct (parc_deque_slots_) rather
 * than being a flexible array member, which C++ does not have. */
struct parc_deque_array {
    int64_t mask;                   /* capacity - 1; capacity a power of 2 */
    struct parc_deque_array *prev;  /* older retired array (owner only) */
};

static inline parc_atomic(void *) *
parc_deque_slots_(struct parc_deque_array *a)
{
    return (parc_atomic(void *) *)(void *)(a + 1);
}

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
    parc_store(&parc_deque_slots_(a)[b & a->mask], item, PARC_RELAXED);
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
        /* relaxed: the slot is ours */
        *item = parc_load(&parc_deque_slots_(a)[b & a->mask], PARC_RELAXED);
        return 0;
    }
    int rc = 0;
    if (t == b) {
        /* relaxed: the slot is ours */
        void *x = parc_load(&parc_deque_slots_(a)[b & a->mask], PARC_RELAXED);
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
    /* relaxed: the slot is ours */
    if (parc_load(&parc_deque_slots_(a)[b & a->mask], PARC_RELAXED) != expected)
        return EAGAIN;
    void *item;
    return parc_deque_take_newest_(d, a, b, &item);
}

PARC_END_DECLS

#endif /* PARC_IMPL_DEQUE_H */
