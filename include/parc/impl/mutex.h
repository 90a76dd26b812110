/*
 * parc/impl/mutex.h — the inline fast paths behind parc/mutex.h.
 * Included at the bottom of parc/mutex.h; not an API: the contracts are
 * documented there.
 */
#ifndef PARC_IMPL_MUTEX_H
#define PARC_IMPL_MUTEX_H

#include <stdbool.h>

#include "parc/mutex.h"

PARC_BEGIN_DECLS

/* Slow paths, in src/mutex.c; call the functions below instead. */
PARC_API int parc_mutex_lock_slow_(parc_mutex_t *m, parc_deadline_t deadline);

PARC_API int parc_mutex_lock_try_slow_(parc_mutex_t *m);

PARC_API int parc_mutex_unlock_slow_(parc_mutex_t *m, uint32_t seen);

/* The fast path of every lock form: true when a NORMAL mutex was free
 * with nobody waiting and is now ours. A blind CAS from 0, not a load
 * first: when the word's line is in another core's cache (the lock just
 * changed hands), a load would fetch it shared and the CAS then upgrade it
 * (two transfers); the CAS asks for it exclusive at once, and when it
 * fails (the lock is held, or free with waiters registered) the slow path
 * works on the line it now holds.
 * acquire: the previous holder's critical section happens-before ours;
 * pairs with the release RMW in parc_mutex_unlock(). */
static inline bool parc_mutex_take_free_(parc_mutex_t *m)
{
    uint32_t expected = 0u;
    return m->kind == PARC_MUTEX_NORMAL &&
           parc_cas(&m->word, &expected, PARC_MUTEX_LOCKED,
                    PARC_ACQUIRE, PARC_RELAXED);
}

static inline int parc_mutex_lock(parc_mutex_t *m)
{
    if (m == NULL)
        return EINVAL;
    if (parc_mutex_take_free_(m))
        return 0;
    return parc_mutex_lock_slow_(m, PARC_FOREVER);
}

static inline int parc_mutex_lock_try(parc_mutex_t *m)
{
    if (m == NULL)
        return EINVAL;
    if (parc_mutex_take_free_(m))
        return 0;
    return parc_mutex_lock_try_slow_(m);
}

static inline int parc_mutex_lock_timed(parc_mutex_t *m, int64_t timeout_ns)
{
    if (m == NULL || timeout_ns < 0)
        return EINVAL;
    if (parc_mutex_take_free_(m))
        return 0;
    parc_deadline_t deadline;
    (void)parc_deadline_in(&deadline, timeout_ns);
    return parc_mutex_lock_slow_(m, deadline);
}

static inline int parc_mutex_lock_until(parc_mutex_t *m,
                                        parc_deadline_t deadline)
{
    if (m == NULL)
        return EINVAL;
    if (parc_mutex_take_free_(m))
        return 0;
    return parc_mutex_lock_slow_(m, deadline);
}

static inline int parc_mutex_unlock(parc_mutex_t *m)
{
    if (m == NULL)
        return EINVAL;
    /* A blind CAS from "locked, nobody waiting", for the reason given at
     * parc_mutex_take_free_(); when it fails, `seen` is the word as it
     * is, and the slow path clears LOCKED with one RMW and wakes a waiter.
     * release: publishes the critical section to the next holder; pairs
     * with the acquire RMW that takes the lock. */
    uint32_t seen = PARC_MUTEX_LOCKED;
    if (m->kind == PARC_MUTEX_NORMAL &&
        parc_cas(&m->word, &seen, 0u, PARC_RELEASE, PARC_RELAXED))
        return 0;
    return parc_mutex_unlock_slow_(m, seen);
}

static inline bool parc_mutex_is_locked(parc_mutex_t *m)
{
    return m != NULL &&
           (parc_load(&m->word, PARC_RELAXED) & PARC_MUTEX_LOCKED) != 0;
}

PARC_END_DECLS

#endif /* PARC_IMPL_MUTEX_H */
