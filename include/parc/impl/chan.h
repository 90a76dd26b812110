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
    /* relaxed: a snapshot; the count is written under the lock and
     * publishes nothing a caller could use without the lock. */
    return c == NULL ? 0 : parc_load(&c->count, PARC_RELAXED);
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
