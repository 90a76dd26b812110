/*
 * Negative control: a semaphore that takes a permit with a load and a
 * store instead of a compare-and-swap. Two threads that read the last
 * permit both take it. permits.bound must FAIL (over-admission).
 */
#include <errno.h>
#include <stdlib.h>

#include "parc/atomic.h"
#include "parc/stress.h"
#include "parc/time.h"

typedef struct oversem {
    parc_atomic(unsigned) count;
} oversem_t;

static int over_create(void **out, unsigned permits)
{
    oversem_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return ENOMEM;
    parc_atomic_init(&s->count, permits);
    *out = s;
    return 0;
}

static void over_destroy(void *s)
{
    free(s);
}

static int over_try(void *p)
{
    oversem_t *s = p;
    /* acquire: pairs with the release increment in over_release. */
    unsigned n = parc_load(&s->count, PARC_ACQUIRE);
    if (n == 0)
        return EAGAIN;
    /* THE BUG: not a CAS; a concurrent taker read the same n. */
    parc_store(&s->count, n - 1, PARC_RELAXED);
    return 0;
}

static int over_acquire(void *p)
{
    parc_backoff_t b = PARC_BACKOFF_INIT;
    while (over_try(p) != 0)
        parc_backoff_spin(&b);
    return 0;
}

static int over_acquire_timed(void *p, int64_t timeout_ns)
{
    parc_deadline_t d;
    int rc = parc_deadline_in(&d, timeout_ns);
    if (rc)
        return rc;
    parc_backoff_t b = PARC_BACKOFF_INIT;
    while (over_try(p) != 0) {
        if (parc_deadline_passed(d))
            return ETIMEDOUT;
        parc_backoff_spin(&b);
    }
    return 0;
}

static int over_release(void *p)
{
    oversem_t *s = p;
    /* release: the holder's work happens before the next taker's. */
    parc_faa(&s->count, 1u, PARC_RELEASE);
    return 0;
}

static const parc_stress_permits_impl_t overadmit_sem = {
    .name = "mutant.overadmit_sem",
    .description = "semaphore that takes a permit with load+store (over-admits)",
    .flags = PARC_STRESS_MUTANT,
    .create = over_create,
    .destroy = over_destroy,
    .acquire = over_acquire,
    .try_acquire = over_try,
    .acquire_timed = over_acquire_timed,
    .release = over_release,
};
PARC_STRESS_PERMITS(overadmit_sem)
