/*
 * parc/impl/latch.h — the inline fast paths behind parc/latch.h.
 * Included at the bottom of parc/latch.h; not an API: the contracts are
 * documented there.
 */
#ifndef PARC_IMPL_LATCH_H
#define PARC_IMPL_LATCH_H

#include "parc/latch.h"

PARC_BEGIN_DECLS

static inline uint32_t parc_latch_count(parc_latch_t *l)
{
    return l == NULL ? 0 : parc_load(&l->count, PARC_RELAXED);
}

static inline int parc_latch_wait_try(parc_latch_t *l)
{
    if (l == NULL)
        return EINVAL;
    /* acquire: pairs with the release RMWs in parc_latch_count_down() */
    return parc_load(&l->count, PARC_ACQUIRE) == 0 ? 0 : EAGAIN;
}

PARC_END_DECLS

#endif /* PARC_IMPL_LATCH_H */
