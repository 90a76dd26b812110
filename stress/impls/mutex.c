/*
 * Stress adapters for parc's mutex (parc/mutex.h): lock.exclusion and
 * lock.trylock run each of them.
 *
 *   parc.mutex             the normal kind: lock / trylock / unlock
 *   parc.mutex_errorcheck  the error-checking kind (owner tracked)
 *   parc.mutex_timed       locks with parc_mutex_lock_timed() and a timeout
 *                          of a few microseconds, retried: waiters keep
 *                          giving up and re-registering, which exercises
 *                          the timed-out waiter's departure (a departure
 *                          that strands the others shows as a HANG)
 */
#include <errno.h>
#include <stdlib.h>

#include "parc/mutex.h"
#include "parc/stress.h"

static int create_kind(void **out, unsigned kind)
{
    parc_mutex_t *m = malloc(sizeof *m);
    if (m == NULL)
        return ENOMEM;
    int rc = parc_mutex_init(m, kind);
    if (rc != 0) {
        free(m);
        return rc;
    }
    *out = m;
    return 0;
}

static int normal_create(void **out)
{
    return create_kind(out, PARC_MUTEX_NORMAL);
}

static int errorcheck_create(void **out)
{
    return create_kind(out, PARC_MUTEX_ERRORCHECK);
}

static void mutex_destroy(void *m)
{
    /* The harness destroys only a free lock: EAGAIN here is a bug. */
    if (parc_mutex_destroy(m) != 0)
        abort();
    free(m);
}

static int mutex_lock(void *m, void *ctx)
{
    (void)ctx;
    return parc_mutex_lock(m);
}

static int mutex_trylock(void *m, void *ctx)
{
    (void)ctx;
    return parc_mutex_lock_try(m);
}

static int mutex_unlock(void *m, void *ctx)
{
    (void)ctx;
    return parc_mutex_unlock(m);
}

static int mutex_timedlock(void *m, void *ctx)
{
    (void)ctx;
    int rc;
    /* 2 us: shorter than the spin phase, so most attempts time out while
     * registered and parked, or right after. */
    while ((rc = parc_mutex_lock_timed(m, 2 * PARC_NS_PER_US)) == ETIMEDOUT)
        ;
    return rc;
}

static const parc_stress_lock_impl_t normal_impl = {
    .name = "parc.mutex",
    .description = "futex mutex, normal kind (spin, then park)",
    .create = normal_create,
    .destroy = mutex_destroy,
    .lock = mutex_lock,
    .trylock = mutex_trylock,
    .unlock = mutex_unlock,
};
PARC_STRESS_LOCK(normal_impl)

static const parc_stress_lock_impl_t errorcheck_impl = {
    .name = "parc.mutex_errorcheck",
    .description = "futex mutex, error-checking kind (owner tracked)",
    .create = errorcheck_create,
    .destroy = mutex_destroy,
    .lock = mutex_lock,
    .trylock = mutex_trylock,
    .unlock = mutex_unlock,
};
PARC_STRESS_LOCK(errorcheck_impl)

static const parc_stress_lock_impl_t timed_impl = {
    .name = "parc.mutex_timed",
    .description = "futex mutex taken with short timed locks, retried",
    .create = normal_create,
    .destroy = mutex_destroy,
    .lock = mutex_timedlock,
    .trylock = mutex_trylock,
    .unlock = mutex_unlock,
};
PARC_STRESS_LOCK(timed_impl)
