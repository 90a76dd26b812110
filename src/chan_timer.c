/*
 * parc/chan_timer.h: timers that send on a channel, on the private timer
 * service (src/timer.h) shared by the whole process.
 *
 * A firing (fire(), on the timer thread):
 *   1. takes the timer's lock; if the timer was stopped meanwhile it does
 *      nothing more;
 *   2. sends the current time with the try form (the channel has room for
 *      one: a one-shot timer always delivers, a tick is dropped while the
 *      last one is unread);
 *   3. a ticking timer adds its next firing (the next multiple of the
 *      period after now: missed ticks are skipped, not bunched) and keeps
 *      its id for stop;
 *   4. unlocks, then drops its count in `pending` (release: the last
 *      touch of the timer), which destroy waits to see at 0.
 * Stop takes the lock, marks the timer stopped and cancels the pending
 * firing: either the cancel wins (the firing never runs: drop its count)
 * or the firing is past the service's heap and will see `stopped` in 1.
 */
#include <errno.h>
#include <pthread.h>

#include "parc/chan_timer.h"
#include "timer.h"

static parc_timers_t *service;
static pthread_once_t service_once = PTHREAD_ONCE_INIT;
static int service_rc;

static void service_start(void)
{
    service_rc = parc_timers_create(&service);
}

static int timers(parc_timers_t **out)
{
    pthread_once(&service_once, service_start);
    *out = service;
    return service_rc;
}

static void fire(void *arg);

/* Add the firing at t->next (lock held, or t not yet shared). */
static int schedule(parc_timer_t *t)
{
    parc_timers_t *s;
    int rc = timers(&s);
    if (rc != 0)
        return rc;
    parc_faa(&t->pending, 1u, PARC_RELAXED);
    rc = parc_timers_add(s, t->next, fire, t, &t->id);
    if (rc != 0)
        parc_fas(&t->pending, 1u, PARC_RELAXED);
    return rc;
}

static void fire(void *arg)
{
    parc_timer_t *t = arg;
    parc_mutex_lock(&t->lock);
    if (!t->stopped) {
        int64_t now = parc_now_ns();
        (void)parc_chan_send_try(&t->chan, &now);
        if (t->period > 0) {
            int64_t late = now - t->next;
            t->next += (late / t->period + 1) * t->period;
            if (schedule(t) != 0)
                t->stopped = true; /* the service is gone: no more ticks */
        } else {
            t->stopped = true;
        }
    }
    parc_mutex_unlock(&t->lock);
    /* release: our last touch of t; pairs with the acquire load in
     * parc_timer_destroy(), after which t's memory may go. */
    parc_fas(&t->pending, 1u, PARC_RELEASE);
}

static int start(parc_timer_t *t, parc_deadline_t first, int64_t period)
{
    int rc = parc_chan_init(&t->chan, sizeof(int64_t), 1);
    if (rc != 0)
        return rc;
    parc_mutex_init(&t->lock, PARC_MUTEX_NORMAL);
    t->period = period;
    t->next = first;
    t->id = 0;
    t->stopped = false;
    parc_atomic_init(&t->pending, 0u);
    rc = schedule(t);
    if (rc != 0) {
        parc_mutex_destroy(&t->lock);
        parc_chan_destroy(&t->chan);
    }
    return rc;
}

int parc_timer_at(parc_timer_t *t, parc_deadline_t deadline)
{
    if (t == NULL)
        return EINVAL;
    return start(t, deadline, 0);
}

int parc_timer_after(parc_timer_t *t, int64_t delay_ns)
{
    parc_deadline_t d;
    if (t == NULL || parc_deadline_in(&d, delay_ns) != 0)
        return EINVAL;
    return start(t, d, 0);
}

int parc_timer_tick(parc_timer_t *t, int64_t period_ns)
{
    parc_deadline_t d;
    if (t == NULL || period_ns <= 0 || period_ns == PARC_FOREVER ||
        parc_deadline_in(&d, period_ns) != 0)
        return EINVAL;
    return start(t, d, period_ns);
}

int parc_timer_stop(parc_timer_t *t)
{
    if (t == NULL)
        return EINVAL;
    int rc = EALREADY;
    parc_mutex_lock(&t->lock);
    if (!t->stopped) {
        /* Not fired yet (a firing sets `stopped` for a one-shot timer when
         * it sends): one that is past the service's heap waits for our
         * lock and will see the flag. */
        t->stopped = true;
        rc = 0;
        parc_timers_t *s;
        if (timers(&s) == 0 && parc_timers_cancel(s, t->id, NULL) == 0)
            parc_fas(&t->pending, 1u, PARC_RELAXED); /* it never runs */
    }
    parc_mutex_unlock(&t->lock);
    return rc;
}

int parc_timer_destroy(parc_timer_t *t)
{
    if (t == NULL)
        return EINVAL;
    (void)parc_timer_stop(t);
    /* acquire: pairs with fire()'s release decrement: once it reads 0 no
     * firing touches t again. */
    while (parc_load(&t->pending, PARC_ACQUIRE) != 0)
        parc_yield();
    int rc = parc_chan_destroy(&t->chan);
    if (rc != 0)
        return rc;
    return parc_mutex_destroy(&t->lock);
}
