/* parc/rlock.h: owner check, hold count, and the inner mutex. */
#include "parc/rlock.h"

int parc_rlock_init(parc_rlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    (void)parc_mutex_init(&l->mutex, PARC_MUTEX_NORMAL);
    parc_atomic_init(&l->owner, (uintptr_t)0);
    l->count = 0;
    return 0;
}

int parc_rlock_destroy(parc_rlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    return parc_mutex_destroy(&l->mutex);
}

int parc_rlock_acquire_(parc_rlock_t *l, uintptr_t self, parc_deadline_t deadline,
                        bool try_only)
{
    /* relaxed: only the holder writes `owner`; we read our own id only if
     * we hold the lock (see the header). */
    if (parc_load(&l->owner, PARC_RELAXED) == self) {
        if (l->count == UINT32_MAX)
            return EOVERFLOW;
        l->count++;
        return 0;
    }
    int rc = try_only ? parc_mutex_lock_try(&l->mutex)
                      : parc_mutex_lock_until(&l->mutex, deadline);
    if (rc != 0)
        return rc;
    /* Inside the mutex: the previous owner's clearing of `owner` and
     * `count` happened-before this (mutex acquire/release). */
    parc_store(&l->owner, self, PARC_RELAXED);
    l->count = 1;
    return 0;
}

int parc_rlock_unlock(parc_rlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    if (parc_load(&l->owner, PARC_RELAXED) != parc_thread_id())
        return EPERM;
    if (--l->count > 0)
        return 0;
    /* Clear ownership while still holding the mutex; its release publishes
     * the clearing to the next owner. */
    parc_store(&l->owner, (uintptr_t)0, PARC_RELAXED);
    return parc_mutex_unlock(&l->mutex);
}
