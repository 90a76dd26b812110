/*
 * Stress adapters for parc's readers-writer lock (parc/rwlock.h):
 * lock.exclusion and lock.trylock run the write side, rwlock.exclusion
 * both sides (readers overlap one another, never a writer).
 *
 *   parc.rwlock        wrlock / trywrlock / wrunlock, rdlock / rdunlock
 *   parc.rwlock_timed  the timed forms with timeouts of a few
 *                      microseconds, retried: writers that give up while
 *                      draining readers must let the held-back readers in
 *                      again, readers that give up must leave no trace
 */
#include <errno.h>
#include <stdlib.h>

#include "parc/rwlock.h"
#include "parc/stress.h"

static int rw_create(void **out)
{
    parc_rwlock_t *l = malloc(sizeof *l);
    if (l == NULL)
        return ENOMEM;
    (void)parc_rwlock_init(l);
    *out = l;
    return 0;
}

static void rw_destroy(void *l)
{
    if (parc_rwlock_destroy(l) != 0)
        abort(); /* the harness destroys only a free lock */
    free(l);
}

static int rw_wrlock(void *l, void *ctx)
{
    (void)ctx;
    return parc_rwlock_wrlock(l);
}

static int rw_trywrlock(void *l, void *ctx)
{
    (void)ctx;
    return parc_rwlock_wrlock_try(l);
}

static int rw_wrunlock(void *l, void *ctx)
{
    (void)ctx;
    return parc_rwlock_wrunlock(l);
}

static int rw_rdlock(void *l, void *ctx)
{
    (void)ctx;
    return parc_rwlock_rdlock(l);
}

static int rw_rdunlock(void *l, void *ctx)
{
    (void)ctx;
    return parc_rwlock_rdunlock(l);
}

static int rw_timedwrlock(void *l, void *ctx)
{
    (void)ctx;
    int rc;
    while ((rc = parc_rwlock_wrlock_timed(l, 3 * PARC_NS_PER_US)) == ETIMEDOUT)
        ;
    return rc;
}

static int rw_timedrdlock(void *l, void *ctx)
{
    (void)ctx;
    int rc;
    while ((rc = parc_rwlock_rdlock_timed(l, 2 * PARC_NS_PER_US)) == ETIMEDOUT)
        ;
    return rc;
}

static int rw_tryrdlock_or_wait(void *l, void *ctx)
{
    /* Alternate the try form with the blocking one. */
    int rc = parc_rwlock_rdlock_try(l);
    return rc == EAGAIN ? rw_rdlock(l, ctx) : rc;
}

static const parc_stress_lock_impl_t rwlock_impl = {
    .name = "parc.rwlock",
    .description = "writer-preferring readers-writer lock",
    .create = rw_create,
    .destroy = rw_destroy,
    .lock = rw_wrlock,
    .trylock = rw_trywrlock,
    .unlock = rw_wrunlock,
    .lock_shared = rw_tryrdlock_or_wait,
    .unlock_shared = rw_rdunlock,
};
PARC_STRESS_LOCK(rwlock_impl)

static const parc_stress_lock_impl_t rwlock_timed_impl = {
    .name = "parc.rwlock_timed",
    .description = "readers-writer lock taken with short timed forms, retried",
    .create = rw_create,
    .destroy = rw_destroy,
    .lock = rw_timedwrlock,
    .trylock = rw_trywrlock,
    .unlock = rw_wrunlock,
    .lock_shared = rw_timedrdlock,
    .unlock_shared = rw_rdunlock,
};
PARC_STRESS_LOCK(rwlock_timed_impl)
