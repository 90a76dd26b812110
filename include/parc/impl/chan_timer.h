/*
 * parc/impl/chan_timer.h — inline bodies for parc/chan_timer.h. Not an
 * API header: include parc/chan_timer.h.
 */
#ifndef PARC_IMPL_CHAN_TIMER_H
#define PARC_IMPL_CHAN_TIMER_H

#include "parc/chan_timer.h"

PARC_BEGIN_DECLS

static inline parc_chan_t *parc_timer_chan(parc_timer_t *t)
{
    return &t->chan;
}

PARC_END_DECLS

#endif /* PARC_IMPL_CHAN_TIMER_H */
