/*
 * parc/impl/eventcount.h — the inline fast paths behind parc/eventcount.h.
 * Included at the bottom of parc/eventcount.h; not an API: the contracts are
 * documented there.
 */
#ifndef PARC_IMPL_EVENTCOUNT_H
#define PARC_IMPL_EVENTCOUNT_H

#include "parc/eventcount.h"

PARC_BEGIN_DECLS

static inline parc_eventcount_key_t
parc_eventcount_prepare_wait(parc_eventcount_t *ec)
{
    parc_faa(&ec->waiters, 1u, PARC_RELAXED);
    /* seq_cst fence: orders the registration above before the caller's
     * re-check of its condition; pairs with the fence in
     * parc_eventcount_notify_one/all (see the protocol in
     * parc/eventcount.h). */
    parc_fence(PARC_SEQ_CST);
    /* acquire: if this reads a notifier's epoch bump, everything that
     * notifier published before its notify is visible to the re-check;
     * pairs with the release increment in the notify slow path. */
    return parc_load(&ec->epoch, PARC_ACQUIRE);
}

static inline void parc_eventcount_cancel_wait(parc_eventcount_t *ec)
{
    parc_fas(&ec->waiters, 1u, PARC_RELAXED);
}

static inline bool parc_eventcount_has_waiters(parc_eventcount_t *ec)
{
    return parc_load(&ec->waiters, PARC_RELAXED) != 0;
}

static inline void parc_eventcount_notify_one(parc_eventcount_t *ec)
{
    /* seq_cst fence: orders the caller's publish before the waiter-count
     * load; pairs with the fence in parc_eventcount_prepare_wait(). */
    parc_fence(PARC_SEQ_CST);
    if (parc_eventcount_has_waiters(ec))
        parc_eventcount_wake(ec, false);
}

static inline void parc_eventcount_notify_all(parc_eventcount_t *ec)
{
    /* seq_cst fence: as in parc_eventcount_notify_one(). */
    parc_fence(PARC_SEQ_CST);
    if (parc_eventcount_has_waiters(ec))
        parc_eventcount_wake(ec, true);
}

PARC_END_DECLS

#endif /* PARC_IMPL_EVENTCOUNT_H */
