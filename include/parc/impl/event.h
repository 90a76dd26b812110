/*
 * parc/impl/event.h — the inline fast paths behind parc/event.h.
 * Included at the bottom of parc/event.h; not an API: the contracts are
 * documented there.
 */
#ifndef PARC_IMPL_EVENT_H
#define PARC_IMPL_EVENT_H

#include "parc/event.h"

PARC_BEGIN_DECLS

static inline bool parc_event_is_set(parc_event_t *e)
{
    /* acquire: pairs with the release RMW in parc_event_set() */
    return e != NULL && (parc_load(&e->state, PARC_ACQUIRE) & PARC_EVENT_SET_BIT);
}

static inline int parc_event_wait_try(parc_event_t *e)
{
    if (e == NULL)
        return EINVAL;
    return parc_event_is_set(e) ? 0 : EAGAIN;
}

PARC_END_DECLS

#endif /* PARC_IMPL_EVENT_H */
