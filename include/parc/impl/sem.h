/*
 * parc/impl/sem.h — the inline fast paths behind parc/sem.h.
 * Included at the bottom of parc/sem.h; not an API: the contracts are
 * documented there.
 */
#ifndef PARC_IMPL_SEM_H
#define PARC_IMPL_SEM_H

#include "parc/sem.h"

PARC_BEGIN_DECLS

static inline int parc_sem_acquire_try(parc_sem_t *s, uint32_t n)
{
    if (s == NULL || n == 0 || n > s->bound)
        return EINVAL;
    uint32_t v = parc_load(&s->permits, PARC_RELAXED);
    while (v >= n)
        /* acquire: makes visible what the releasers of these permits wrote
         * before releasing; pairs with the release CAS in
         * parc_sem_release(). */
        if (parc_cas_weak(&s->permits, &v, v - n, PARC_ACQUIRE, PARC_RELAXED))
            return 0;
    return EAGAIN;
}

/* Slow path of the blocking acquires (spin, then sleep); not for callers. */
PARC_API int parc_sem_acquire_wait_(parc_sem_t *s, uint32_t n,
                                    parc_deadline_t deadline);

static inline int parc_sem_acquire(parc_sem_t *s, uint32_t n)
{
    int rc = parc_sem_acquire_try(s, n);
    return rc == EAGAIN ? parc_sem_acquire_wait_(s, n, PARC_FOREVER) : rc;
}

static inline uint32_t parc_sem_value(parc_sem_t *s)
{
    return s == NULL ? 0 : parc_load(&s->permits, PARC_RELAXED);
}

PARC_END_DECLS

#endif /* PARC_IMPL_SEM_H */
