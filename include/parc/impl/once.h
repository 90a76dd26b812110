/*
 * parc/impl/once.h — the inline fast paths behind parc/once.h.
 * Included at the bottom of parc/once.h; not an API: the contracts are
 * documented there.
 */
#ifndef PARC_IMPL_ONCE_H
#define PARC_IMPL_ONCE_H

#include "parc/once.h"

PARC_BEGIN_DECLS

/* Slow path of parc_once_call(); not for callers. */
PARC_API int parc_once_call_slow_(parc_once_t *once, void (*init)(void *arg),
                                  void *arg);

static inline int parc_once_call(parc_once_t *once, void (*init)(void *arg),
                                 void *arg)
{
    /* acquire: pairs with the release store of DONE after the initialiser
     * ran, so its writes are visible; the whole fast path is this load. */
    if (once != NULL && init != NULL &&
        parc_load(&once->state, PARC_ACQUIRE) == PARC_ONCE_DONE)
        return 0;
    return parc_once_call_slow_(once, init, arg);
}

static inline bool parc_once_done(parc_once_t *once)
{
    /* acquire: pairs with the release store of DONE */
    return once != NULL && parc_load(&once->state, PARC_ACQUIRE) == PARC_ONCE_DONE;
}

PARC_END_DECLS

#endif /* PARC_IMPL_ONCE_H */
