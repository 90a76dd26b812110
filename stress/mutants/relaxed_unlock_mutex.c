/*
 * Negative control: a test-and-set lock whose unlock stores 0 with
 * memory_order_relaxed instead of release. Nothing orders the critical
 * section before the next owner's: on x86 the hardware hides it (stores
 * are not reordered with stores), on weaker machines or after compiler
 * reordering the guarded data tears. ThreadSanitizer reports the race on
 * the workload's non-atomic counter, so lock.exclusion must FAIL in the
 * tsan build (exit 66); other builds report SKIP.
 */
#include <errno.h>
#include <stdlib.h>

#include "parc/atomic.h"
#include "parc/stress.h"

typedef struct tas {
    parc_atomic(unsigned) word;
} tas_t;

static int tas_create(void **out)
{
    tas_t *l = calloc(1, sizeof *l);
    if (l == NULL)
        return ENOMEM;
    *out = l;
    return 0;
}

static void tas_destroy(void *l)
{
    free(l);
}

static int tas_trylock(void *p, void *ctx)
{
    tas_t *l = p;
    (void)ctx;
    /* acquire: would pair with a release unlock — which never comes. */
    return parc_xchg(&l->word, 1u, PARC_ACQUIRE) ? EBUSY : 0;
}

static int tas_lock(void *p, void *ctx)
{
    parc_backoff_t b = PARC_BACKOFF_INIT;
    while (tas_trylock(p, ctx) != 0)
        parc_backoff_spin(&b);
    return 0;
}

static int tas_unlock(void *p, void *ctx)
{
    tas_t *l = p;
    (void)ctx;
    /* THE BUG: relaxed, so the critical section is not published. */
    parc_store(&l->word, 0u, PARC_RELAXED);
    return 0;
}

static const parc_stress_lock_impl_t relaxed_unlock_mutex = {
    .name = "mutant.relaxed_unlock_mutex",
    .description = "test-and-set lock whose unlock store is relaxed (TSan sees it)",
    .flags = PARC_STRESS_MUTANT | PARC_STRESS_NEEDS_TSAN,
    .create = tas_create,
    .destroy = tas_destroy,
    .lock = tas_lock,
    .trylock = tas_trylock,
    .unlock = tas_unlock,
};
PARC_STRESS_LOCK(relaxed_unlock_mutex)
