/*
 * Negative control: the futex mutex of U. Drepper, "Futexes Are Tricky"
 * (2011), with the bug that paper warns about. The word is 0 (free), 1
 * (locked) or 2 (locked, maybe waiters); unlock wakes only when it swaps
 * out a 2. A waiter that wakes and takes the lock must store 2, since
 * other waiters may still sleep; this one stores 1. Its unlock then wakes
 * nobody, and the sleepers stay asleep once no new contention comes: the
 * workers cannot be joined and the watchdog must report a HANG.
 */
#include <errno.h>
#include <stdlib.h>

#include "parc/atomic.h"
#include "parc/park.h"
#include "parc/stress.h"

typedef struct drepper {
    parc_park_word_t word;
} drepper_t;

static int dm_create(void **out)
{
    drepper_t *m = calloc(1, sizeof *m);
    if (m == NULL)
        return ENOMEM;
    *out = m;
    return 0;
}

static void dm_destroy(void *m)
{
    free(m);
}

static uint32_t cas_value(parc_park_word_t *w, uint32_t expected, uint32_t desired)
{
    /* acquire: taking the lock pairs with the release exchange in unlock. */
    parc_cas(w, &expected, desired, PARC_ACQUIRE, PARC_RELAXED);
    return expected; /* the value seen, as Drepper's cmpxchg returns it */
}

static int dm_lock(void *p, void *ctx)
{
    drepper_t *m = p;
    (void)ctx;
    uint32_t c = cas_value(&m->word, 0, 1);
    if (c == 0)
        return 0;
    do {
        if (c == 2 || cas_value(&m->word, 1, 2) != 0)
            parc_park_wait(&m->word, 2, PARC_FOREVER);
        /* THE BUG: after sleeping we must take the lock as 2 (there may be
         * more sleepers); taking it as 1 makes our unlock wake nobody. */
    } while ((c = cas_value(&m->word, 0, 1)) != 0);
    return 0;
}

static int dm_trylock(void *p, void *ctx)
{
    drepper_t *m = p;
    (void)ctx;
    return cas_value(&m->word, 0, 1) == 0 ? 0 : EBUSY;
}

static int dm_unlock(void *p, void *ctx)
{
    drepper_t *m = p;
    (void)ctx;
    /* release: publishes the critical section to the next owner. */
    if (parc_xchg(&m->word, 0u, PARC_RELEASE) == 2)
        parc_park_wake_one(&m->word);
    return 0;
}

static const parc_stress_lock_impl_t lost_wake_mutex = {
    .name = "mutant.lost_wake_mutex",
    .description = "Drepper's futex mutex, re-locking as 1 after a wait (sleepers stranded)",
    .flags = PARC_STRESS_MUTANT,
    .create = dm_create,
    .destroy = dm_destroy,
    .lock = dm_lock,
    .trylock = dm_trylock,
    .unlock = dm_unlock,
};
PARC_STRESS_LOCK(lost_wake_mutex)
