/*
 * Stress workload for libparc's private timer service (src/timer.h), which
 * the scheduled actors' send_after and, next, channel and select timeouts
 * share:
 *
 *   timer.exactly_once  N threads add timers due within 200 us and cancel
 *                       about half of them, some at once, some after a
 *                       while (racing the timer thread's fire): every
 *                       timer either fires exactly once, never before its
 *                       deadline, or is cancelled exactly once (cancel
 *                       returned 0 and handed its argument back), never
 *                       both; nothing stays pending.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "parc/atomic.h"
#include "parc/stress.h"
#include "timer.h"

#ifndef PARC_SLOWDOWN
#define PARC_SLOWDOWN 1
#endif

#define MAX_THREADS 64
#define FIRED 1u
#define CANCELLED 4u /* so that fired twice (2) is neither */

typedef struct rec {
    parc_deadline_t when;
    uint64_t id;
    parc_atomic(uint32_t) state;   /* FIRED / CANCELLED bits, added */
    parc_stress_ctx_t *ctx;
} rec_t;

typedef struct tstate {
    parc_timers_t *t;
    rec_t *recs[MAX_THREADS];
    size_t per_round;
} tstate_t;

static void rec_fire(void *arg)
{
    rec_t *r = arg;
    if (parc_now_ns() < r->when)
        parc_stress_fail(r->ctx, "a timer fired %lld ns before its deadline",
                         (long long)(r->when - parc_now_ns()));
    /* relaxed: read after the round's fence timer (below), which the
     * timer thread fires after this one returned. */
    parc_faa(&r->state, FIRED, PARC_RELAXED);
}

static void timer_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    tstate_t *s = arg;
    rec_t *recs = s->recs[index];
    size_t later = 0; /* recs[later..i) may still be cancelled */
    for (size_t i = 0; i < s->per_round; i++) {
        rec_t *r = &recs[i];
        uint64_t rnd = parc_stress_random(ctx, index);
        r->ctx = ctx;
        r->when = parc_now_ns() + (int64_t)(rnd % 200000);
        parc_atomic_init(&r->state, 0u);
        int rc = parc_timers_add(s->t, r->when, rec_fire, r, &r->id);
        if (rc != 0) {
            parc_stress_fail(ctx, "add returned %d", rc);
            return;
        }
        /* Cancel a quarter at once, a quarter a few adds later. */
        rec_t *victim = NULL;
        if ((rnd >> 20) % 4 == 0)
            victim = r;
        else if ((rnd >> 20) % 4 == 1 && later < i)
            victim = &recs[later++];
        if (victim != NULL) {
            void *got = NULL;
            rc = parc_timers_cancel(s->t, victim->id, &got);
            if (rc == 0) {
                if (got != victim)
                    parc_stress_fail(ctx, "cancel gave back the wrong argument");
                parc_faa(&victim->state, CANCELLED, PARC_RELAXED);
            } else if (rc != EALREADY) {
                parc_stress_fail(ctx, "cancel returned %d", rc);
            }
        }
        if ((i & 255u) == 0)
            parc_stress_progress(ctx, index, "add");
    }
}

typedef struct fence {
    parc_atomic(int) fired;
} fence_t;

static void fence_fire(void *arg)
{
    /* release: every earlier fire on this thread returned before. */
    parc_store(&((fence_t *)arg)->fired, 1, PARC_RELEASE);
}

static int timer_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    unsigned threads = parc_stress_threads(ctx);
    tstate_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return ENOMEM;
    s->per_round = 4000 / PARC_SLOWDOWN;
    int rc = parc_timers_create(&s->t);
    for (unsigned i = 0; rc == 0 && i < threads; i++)
        if ((s->recs[i] = calloc(s->per_round, sizeof(rec_t))) == NULL)
            rc = ENOMEM;
    while (rc == 0) {
        rc = parc_stress_run_threads(ctx, threads, timer_thread, s);
        if (rc != 0)
            break;
        /* Everything left is due within 200 us. */
        parc_deadline_t d = PARC_FOREVER;
        parc_deadline_in(&d, parc_stress_patience_ns(ctx));
        while (parc_timers_pending(s->t) != 0 && !parc_deadline_passed(d))
            parc_sleep_ns(PARC_NS_PER_MS);
        /* A fence timer, due now, fires after every fire that began before
         * it was added has returned: fires run one at a time, in order. */
        fence_t f;
        parc_atomic_init(&f.fired, 0);
        if ((rc = parc_timers_add(s->t, 0, fence_fire, &f, NULL)) != 0)
            break;
        /* acquire: pairs with fence_fire's release. */
        while (parc_load(&f.fired, PARC_ACQUIRE) == 0 && !parc_deadline_passed(d))
            parc_sleep_ns(PARC_NS_PER_MS / 10);
        if (parc_load(&f.fired, PARC_ACQUIRE) == 0) {
            parc_stress_fail(ctx, "timers still pending after the patience period");
            break;
        }
        uint64_t bad = 0;
        for (unsigned i = 0; i < threads; i++) {
            for (size_t j = 0; j < s->per_round; j++) {
                uint32_t st = parc_load(&s->recs[i][j].state, PARC_RELAXED);
                if (st == FIRED || st == CANCELLED || bad++ != 0)
                    continue; /* report the first, count the rest */
                const char *what = st == 0       ? "neither fired nor cancelled"
                                   : st == 2 * FIRED ? "fired twice"
                                                     : "fired and cancelled";
                parc_stress_fail(ctx, "thread %u, timer %zu: %s", i, j, what);
            }
        }
        if (bad > 1)
            parc_stress_fail(ctx, "%llu timers in all", (unsigned long long)bad);
        parc_stress_add_ops(ctx, (uint64_t)threads * s->per_round);
        if (parc_stress_stopping(ctx))
            break;
    }
    parc_timers_free(s->t);
    for (unsigned i = 0; i < threads; i++)
        free(s->recs[i]);
    free(s);
    return rc;
}

static const parc_stress_workload_t timer_workload = {
    .name = "timer.exactly_once",
    .impl = "parc.timers",
    .description = "N threads add timers and cancel half, racing the fire: each fires once, on time, or is cancelled once",
    .max_threads = MAX_THREADS,
    .run = timer_run,
};
PARC_STRESS_WORKLOAD(timer_workload)
