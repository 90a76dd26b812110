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
 *   parc.mutex_mixed       each lock picks one of the four forms at random:
 *                          lock, lock_timed with a timeout of 0 to 20 us,
 *                          lock_until with a deadline up to 50 us away, and
 *                          lock_try retried; waiters of every kind meet on
 *                          one word (a lost wake-up, the lock free with
 *                          WAKING set and waiters parked, shows as a HANG)
 */
#include <errno.h>
#include <stdint.h>
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

/* The calling thread's xorshift32 state for parc.mutex_mixed (harness-side
 * randomness: which lock form to use; never 0). */
static _Thread_local uint32_t mixed_rng;

static uint32_t mixed_random(void)
{
    uint32_t x = mixed_rng ? mixed_rng : (uint32_t)parc_thread_id() | 1u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return mixed_rng = x;
}

static int mutex_mixedlock(void *m, void *ctx)
{
    (void)ctx;
    uint32_t r = mixed_random();
    int rc;
    switch (r % 4u) {
    case 0:
        return parc_mutex_lock(m);
    case 1: /* timeouts 0, 1, 2, ... 20 us: often expiring while parked */
        while ((rc = parc_mutex_lock_timed(m, (int64_t)((r >> 2) % 21u) *
                                                  PARC_NS_PER_US)) == ETIMEDOUT)
            ;
        return rc;
    case 2: {
        for (;;) {
            parc_deadline_t d;
            (void)parc_deadline_in(&d, (int64_t)((r >> 2) % 50000u));
            if ((rc = parc_mutex_lock_until(m, d)) != ETIMEDOUT)
                return rc;
            r = mixed_random();
        }
    }
    default: /* barging: a trylock ignores the parked queue and WAKING */
        while ((rc = parc_mutex_lock_try(m)) == EAGAIN)
            parc_cpu_relax();
        return rc;
    }
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

static const parc_stress_lock_impl_t mixed_impl = {
    .name = "parc.mutex_mixed",
    .description = "futex mutex taken with lock, lock_timed, lock_until and lock_try mixed",
    .create = normal_create,
    .destroy = mutex_destroy,
    .lock = mutex_mixedlock,
    .trylock = mutex_trylock,
    .unlock = mutex_unlock,
};
PARC_STRESS_LOCK(mixed_impl)
