/*
 * Negative control: an event whose waiter checks the flag and then sleeps
 * on a wake-up counter it reads AFTER the check, instead of following the
 * eventcount protocol (register, re-check, then sleep on the value read
 * before the re-check). A set between the check and the read is missed:
 * the waiter sleeps until its timeout. signal.wakeup must FAIL.
 *
 * The sched_yield in the window stands for the preemption that makes this
 * bug bite in production; without it the window is a few nanoseconds and
 * a 2-core machine needs far longer than a test's budget to hit it.
 */
#include <errno.h>
#include <stdlib.h>

#include "parc/atomic.h"
#include "parc/park.h"
#include "parc/stress.h"
#include "parc/time.h"

typedef struct lossy_event {
    parc_atomic(uint32_t) flag;
    parc_park_word_t wakeups;
} lossy_event_t;

static int ev_create(void **out)
{
    lossy_event_t *e = calloc(1, sizeof *e);
    if (e == NULL)
        return ENOMEM;
    *out = e;
    return 0;
}

static void ev_destroy(void *e)
{
    free(e);
}

static int ev_set(void *p)
{
    lossy_event_t *e = p;
    /* release: pairs with the waiter's acquire load of the flag. */
    parc_store(&e->flag, 1u, PARC_RELEASE);
    parc_faa(&e->wakeups, 1u, PARC_RELEASE); /* as above, for the wake word */
    parc_park_wake_all(&e->wakeups);
    return 0;
}

static int ev_clear(void *p)
{
    lossy_event_t *e = p;
    parc_store(&e->flag, 0u, PARC_RELAXED); /* no waiters: publishes nothing */
    return 0;
}

static int ev_wait_timed(void *p, int64_t timeout_ns)
{
    lossy_event_t *e = p;
    parc_deadline_t d;
    int rc = parc_deadline_in(&d, timeout_ns);
    if (rc)
        return rc;
    for (;;) {
        /* acquire: pairs with the release store in ev_set. */
        if (parc_load(&e->flag, PARC_ACQUIRE))
            return 0;
        parc_yield(); /* the preemption window (see the top of the file) */
        /* THE BUG: the counter is read after the check, so a set that
         * came in between has already bumped it: we sleep on the new
         * value and nobody wakes us. */
        uint32_t seen = parc_load(&e->wakeups, PARC_ACQUIRE);
        if (parc_park_wait(&e->wakeups, seen, d) == ETIMEDOUT)
            return ETIMEDOUT;
    }
}

static const parc_stress_signal_impl_t lost_wakeup_event = {
    .name = "mutant.lost_wakeup_event",
    .description = "event that checks then sleeps without the eventcount protocol",
    .flags = PARC_STRESS_MUTANT,
    .create = ev_create,
    .destroy = ev_destroy,
    .set = ev_set,
    .clear = ev_clear,
    .wait_timed = ev_wait_timed,
};
PARC_STRESS_SIGNAL(lost_wakeup_event)
