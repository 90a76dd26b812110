/*
 * parc/impl/rlock.h — the inline fast paths behind parc/rlock.h.
 * Included at the bottom of parc/rlock.h; not an API: the contracts are
 * documented there.
 */
#ifndef PARC_IMPL_RLOCK_H
#define PARC_IMPL_RLOCK_H

#include "parc/rlock.h"

PARC_BEGIN_DECLS

/* Slow path, in src/rlock.c. */
PARC_API int parc_rlock_acquire_(parc_rlock_t *l, uintptr_t self,
                                 parc_deadline_t deadline,
                        bool try_only);

static inline int parc_rlock_lock(parc_rlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    return parc_rlock_acquire_(l, parc_thread_id(), PARC_FOREVER, false);
}

static inline int parc_rlock_lock_try(parc_rlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    return parc_rlock_acquire_(l, parc_thread_id(), PARC_FOREVER, true);
}

static inline int parc_rlock_lock_timed(parc_rlock_t *l, int64_t timeout_ns)
{
    if (l == NULL || timeout_ns < 0)
        return EINVAL;
    parc_deadline_t deadline;
    (void)parc_deadline_in(&deadline, timeout_ns);
    return parc_rlock_acquire_(l, parc_thread_id(), deadline, false);
}

static inline bool parc_rlock_is_owned(parc_rlock_t *l)
{
    /* relaxed: see the header comment. */
    return l != NULL && parc_load(&l->owner, PARC_RELAXED) == parc_thread_id();
}

static inline uint32_t parc_rlock_count(parc_rlock_t *l)
{
    return parc_rlock_is_owned(l) ? l->count : 0u;
}

PARC_END_DECLS

#endif /* PARC_IMPL_RLOCK_H */
