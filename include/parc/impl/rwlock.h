/*
 * parc/impl/rwlock.h — the inline fast paths behind parc/rwlock.h.
 * Included at the bottom of parc/rwlock.h; not an API: the contracts are
 * documented there.
 */
#ifndef PARC_IMPL_RWLOCK_H
#define PARC_IMPL_RWLOCK_H

#include "parc/rwlock.h"

PARC_BEGIN_DECLS

/* Slow paths, in src/rwlock.c. */
PARC_API int parc_rwlock_rdlock_slow_(parc_rwlock_t *l, uint32_t seen,
                                      parc_deadline_t deadline);

PARC_API int parc_rwlock_wrlock_slow_(parc_rwlock_t *l,
                                      parc_deadline_t deadline, bool try_only);

PARC_API int parc_rwlock_rdunlock_slow_(parc_rwlock_t *l, uint32_t seen);

/* True when a reader that saw `prev` before its increment may stay: no
 * writer, no count overflow, BIAS in place. */
static inline bool parc_rwlock_reader_may_enter_(uint32_t prev)
{
    return ((prev ^ PARC_RWLOCK_BIAS) &
            (PARC_RWLOCK_WRITER | PARC_RWLOCK_BIAS | PARC_RWLOCK_GUARD)) == 0u;
}

static inline int parc_rwlock_rdlock(parc_rwlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    /* acquire: the last writer's critical section happens-before ours;
     * pairs with the release fetch-and-sub in parc_rwlock_wrunlock()
     * (reader increments in between continue its release sequence). */
    uint32_t prev = parc_faa(&l->word, 1u, PARC_ACQUIRE);
    if (parc_rwlock_reader_may_enter_(prev))
        return 0;
    return parc_rwlock_rdlock_slow_(l, prev, PARC_FOREVER);
}

static inline int parc_rwlock_rdlock_timed(parc_rwlock_t *l, int64_t timeout_ns)
{
    if (l == NULL || timeout_ns < 0)
        return EINVAL;
    /* acquire: as in parc_rwlock_rdlock(). */
    uint32_t prev = parc_faa(&l->word, 1u, PARC_ACQUIRE);
    if (parc_rwlock_reader_may_enter_(prev))
        return 0;
    parc_deadline_t deadline;
    (void)parc_deadline_in(&deadline, timeout_ns);
    return parc_rwlock_rdlock_slow_(l, prev, deadline);
}

static inline int parc_rwlock_rdunlock(parc_rwlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    /* release: our reads of the protected data happen-before the next
     * writer's writes; pairs with the writer's acquire that sees the count
     * reach 0 (its CAS, or the load in its drain loop). */
    uint32_t prev = parc_fas(&l->word, 1u, PARC_RELEASE);
    /* Slow only when we were the last reader and the draining writer
     * parked (wake it), or when no reader held the lock (misuse). */
    if ((prev & (PARC_RWLOCK_WPARK | PARC_RWLOCK_READERS)) == (PARC_RWLOCK_WPARK | 1u) ||
        (prev & PARC_RWLOCK_READERS) == 0u)
        return parc_rwlock_rdunlock_slow_(l, prev);
    return 0;
}

static inline int parc_rwlock_wrlock(parc_rwlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    uint32_t expected = PARC_RWLOCK_BIAS;
    /* acquire: the last writer's and readers' critical sections happen-
     * before ours; pairs with their release RMWs on the word. Only from a
     * quiet word (no reader, no writer, nobody parked); otherwise the slow
     * path. */
    if (parc_cas(&l->word, &expected, PARC_RWLOCK_BIAS | PARC_RWLOCK_WRITER,
                 PARC_ACQUIRE, PARC_RELAXED)) {
        parc_store(&l->writer, parc_thread_id(), PARC_RELAXED);
        return 0;
    }
    return parc_rwlock_wrlock_slow_(l, PARC_FOREVER, false);
}

static inline int parc_rwlock_wrlock_try(parc_rwlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    return parc_rwlock_wrlock_slow_(l, PARC_FOREVER, true);
}

static inline int parc_rwlock_wrlock_timed(parc_rwlock_t *l, int64_t timeout_ns)
{
    if (l == NULL || timeout_ns < 0)
        return EINVAL;
    parc_deadline_t deadline;
    (void)parc_deadline_in(&deadline, timeout_ns);
    return parc_rwlock_wrlock_slow_(l, deadline, false);
}

PARC_END_DECLS

#endif /* PARC_IMPL_RWLOCK_H */
