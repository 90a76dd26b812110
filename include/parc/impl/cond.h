/*
 * parc/impl/cond.h — the inline fast paths behind parc/cond.h.
 * Included at the bottom of parc/cond.h; not an API: the contracts are
 * documented there.
 */
#ifndef PARC_IMPL_COND_H
#define PARC_IMPL_COND_H

#include "parc/cond.h"

PARC_BEGIN_DECLS

/* Slow path of the notifies; not for callers. */
PARC_API void parc_cond_notify_slow_(parc_cond_t *c, bool all);

static inline int parc_cond_notify_one(parc_cond_t *c)
{
    if (c == NULL)
        return EINVAL;
    /* relaxed: waiters register under the mutex before the notifier's
     * critical section (mutex acquire/release order it); a waiter that
     * registers later saw the changed condition and needs no notify. */
    if (parc_load(&c->waiters, PARC_RELAXED) != 0)
        parc_cond_notify_slow_(c, false);
    return 0;
}

static inline int parc_cond_notify_all(parc_cond_t *c)
{
    if (c == NULL)
        return EINVAL;
    /* relaxed: as in parc_cond_notify_one() */
    if (parc_load(&c->waiters, PARC_RELAXED) != 0)
        parc_cond_notify_slow_(c, true);
    return 0;
}

PARC_END_DECLS

#endif /* PARC_IMPL_COND_H */
