/*
 * Stress adapter for parc's reentrant lock (parc/rlock.h):
 *
 *   parc.rlock   each acquisition takes the lock twice (the second time as
 *                its owner, by re-entry, alternating the three forms) and
 *                each release gives it back twice, so lock.exclusion checks
 *                that re-entry never lets a second thread in and that only
 *                the last unlock releases the lock.
 */
#include <errno.h>
#include <stdlib.h>

#include "parc/rlock.h"
#include "parc/stress.h"

static int rl_create(void **out)
{
    parc_rlock_t *l = malloc(sizeof *l);
    if (l == NULL)
        return ENOMEM;
    (void)parc_rlock_init(l);
    *out = l;
    return 0;
}

static void rl_destroy(void *l)
{
    if (parc_rlock_destroy(l) != 0)
        abort(); /* the harness destroys only a free lock */
    free(l);
}

/* Which form the next re-entry uses (per thread, round robin). */
static _Thread_local unsigned next_form;

/* Take the lock a second time, as its owner: must succeed at once. */
static int reenter(parc_rlock_t *l)
{
    int rc;
    switch (parc_rlock_count(l) == 1 ? next_form++ % 3u : 9u) {
    case 0:
        rc = parc_rlock_lock_try(l);
        break;
    case 1:
        rc = parc_rlock_lock_timed(l, 0);
        break;
    case 2:
        rc = parc_rlock_lock(l);
        break;
    default:
        return EPERM; /* not held exactly once by us: a broken lock */
    }
    if (rc == 0 && parc_rlock_count(l) != 2)
        return EPERM;
    return rc;
}

static int rl_lock(void *p, void *ctx)
{
    (void)ctx;
    parc_rlock_t *l = p;
    int rc = parc_rlock_lock(l);
    return rc != 0 ? rc : reenter(l);
}

static int rl_trylock(void *p, void *ctx)
{
    (void)ctx;
    parc_rlock_t *l = p;
    int rc = parc_rlock_lock_try(l);
    return rc != 0 ? rc : reenter(l);
}

static int rl_unlock(void *p, void *ctx)
{
    (void)ctx;
    parc_rlock_t *l = p;
    int rc = parc_rlock_unlock(l);
    if (rc == 0 && !parc_rlock_is_owned(l))
        return EPERM; /* the first of two unlocks released it */
    return rc != 0 ? rc : parc_rlock_unlock(l);
}

static const parc_stress_lock_impl_t rlock_impl = {
    .name = "parc.rlock",
    .description = "reentrant lock, every hold nested twice",
    .create = rl_create,
    .destroy = rl_destroy,
    .lock = rl_lock,
    .trylock = rl_trylock,
    .unlock = rl_unlock,
};
PARC_STRESS_LOCK(rlock_impl)
