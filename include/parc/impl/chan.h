/*
 * parc/impl/chan.h — inline bodies for parc/chan.h. Not an API header:
 * include parc/chan.h.
 */
#ifndef PARC_IMPL_CHAN_H
#define PARC_IMPL_CHAN_H

#include "parc/chan.h"

PARC_BEGIN_DECLS

static inline size_t parc_chan_len(parc_chan_t *c)
{
    if (c == NULL || c->capacity == 0)
        return 0;
    if (c->capacity == PARC_CHAN_UNBOUNDED)
        /* relaxed: a snapshot; written under the lock. */
        return parc_load(&c->count, PARC_RELAXED);
    /* Bounded: the distance between the stamps, taken from a consistent
     * pair (tail read again unchanged around head). relaxed: a snapshot
     * that publishes nothing. */
    uint64_t idx = c->mark - 1;
    for (;;) {
        uint64_t t = parc_load(&c->tail, PARC_RELAXED);
        uint64_t h = parc_load(&c->head, PARC_RELAXED);
        if (parc_load(&c->tail, PARC_RELAXED) != t)
            continue;
        t &= ~c->mark;
        uint64_t hi = h & idx, ti = t & idx;
        if (hi < ti)
            return (size_t)(ti - hi);
        if (hi > ti)
            return (size_t)(c->capacity - hi + ti);
        return t == h ? 0 : c->capacity;
    }
}

static inline size_t parc_chan_cap(const parc_chan_t *c)
{
    return c == NULL ? 0 : c->capacity;
}

static inline bool parc_chan_is_closed(parc_chan_t *c)
{
    /* acquire: pairs with the release store in parc_chan_close(), so a
     * caller that sees the flag sees what the closer wrote before. */
    return c != NULL && parc_load(&c->closed, PARC_ACQUIRE) != 0;
}

PARC_END_DECLS

#endif /* PARC_IMPL_CHAN_H */
