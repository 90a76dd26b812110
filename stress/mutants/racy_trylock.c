/*
 * Negative control: a spin lock whose trylock checks the word and then
 * sets it (two steps) instead of exchanging it. Two threads that both see
 * it free both "acquire" it. lock.trylock must FAIL (mutual exclusion).
 *
 * The short spin between the check and the set stands for the preemption
 * or cache miss that opens the window on a real machine; without it the
 * window is a nanosecond and two cores need a long run to hit it.
 */
#include <errno.h>
#include <stdlib.h>

#include "parc/atomic.h"
#include "parc/stress.h"

typedef struct racy {
    parc_atomic(unsigned) word;
} racy_t;

static int racy_create(void **out)
{
    racy_t *l = calloc(1, sizeof *l);
    if (l == NULL)
        return ENOMEM;
    *out = l;
    return 0;
}

static void racy_destroy(void *l)
{
    free(l);
}

static int racy_trylock(void *p, void *ctx)
{
    racy_t *l = p;
    (void)ctx;
    /* acquire: pairs with the release store in unlock. */
    if (parc_load(&l->word, PARC_ACQUIRE) != 0)
        return EBUSY;
    for (int i = 0; i < 8; i++) /* the window (see the top of the file) */
        parc_cpu_relax();
    /* THE BUG: another thread may have seen 0 too. */
    parc_store(&l->word, 1u, PARC_RELAXED);
    return 0;
}

static int racy_lock(void *p, void *ctx)
{
    racy_t *l = p;
    (void)ctx;
    parc_backoff_t b = PARC_BACKOFF_INIT;
    /* acquire: pairs with the release store in unlock (a correct path). */
    while (parc_xchg(&l->word, 1u, PARC_ACQUIRE) != 0)
        parc_backoff_spin(&b);
    return 0;
}

static int racy_unlock(void *p, void *ctx)
{
    racy_t *l = p;
    (void)ctx;
    /* release: publishes the critical section to the next owner. */
    parc_store(&l->word, 0u, PARC_RELEASE);
    return 0;
}

static const parc_stress_lock_impl_t racy_trylock_impl = {
    .name = "mutant.racy_trylock",
    .description = "spin lock whose trylock is check-then-set",
    .flags = PARC_STRESS_MUTANT,
    .create = racy_create,
    .destroy = racy_destroy,
    .lock = racy_lock,
    .trylock = racy_trylock,
    .unlock = racy_unlock,
};
PARC_STRESS_LOCK(racy_trylock_impl)
