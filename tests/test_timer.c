/*
 * Unit tests for src/timer.h, the private timer service.
 *
 * Deadline order with ties in add order (the thread held inside a fire
 * while the rest are added, so the order is the heap's, not the adds');
 * cancel before, during and after firing; fire adding and cancelling on
 * its own service (it runs outside the lock); free dropping what is
 * pending and refusing adds with EPIPE once it has begun; threads racing
 * add and cancel: every timer fired or cancelled, exactly once.
 */
#include <errno.h>
#include <stdint.h>

#include "parc/event.h"
#include "testutil.h"
#include "timer.h"

static void nop_fire(void *arg)
{
    (void)arg;
}

START_TEST(rejects_bad_arguments)
{
    parc_timers_t *t;
    uint64_t id;
    ck_assert_int_eq(parc_timers_create(NULL), EINVAL);
    ck_assert_int_eq(parc_timers_create(&t), 0);
    ck_assert_int_eq(parc_timers_add(NULL, 0, nop_fire, NULL, &id), EINVAL);
    ck_assert_int_eq(parc_timers_add(t, 0, NULL, NULL, &id), EINVAL);
    ck_assert_int_eq(parc_timers_cancel(NULL, 1, NULL), EINVAL);
    ck_assert_int_eq(parc_timers_cancel(t, 0, NULL), EINVAL);
    ck_assert_int_eq(parc_timers_cancel(t, 1, NULL), EINVAL); /* none yet */
    ck_assert_uint_eq(parc_timers_pending(NULL), 0);
    /* A timer that never fires, still cancellable. */
    ck_assert_int_eq(parc_timers_add(t, PARC_FOREVER, nop_fire, NULL, &id), 0);
    ck_assert_uint_ne(id, 0);
    ck_assert_uint_eq(parc_timers_pending(t), 1);
    ck_assert_int_eq(parc_timers_cancel(t, id + 1, NULL), EINVAL);
    ck_assert_int_eq(parc_timers_cancel(t, id, NULL), 0);
    ck_assert_int_eq(parc_timers_cancel(t, id, NULL), EALREADY);
    ck_assert_uint_eq(parc_timers_pending(t), 0);
    parc_timers_free(t);
    parc_timers_free(NULL);
}
END_TEST

/* ---- order ------------------------------------------------------------- */

#define ORDERED 32

typedef struct order {
    parc_event_t release;      /* the gate timer waits for it */
    parc_atomic(int) gate_in;  /* the gate timer is firing */
    parc_atomic(int) n;        /* fires recorded */
    int seen[ORDERED];         /* written by the timer thread only */
} order_t;

typedef struct tag {
    order_t *o;
    int key;
} tag_t;

static void gate_fire(void *arg)
{
    order_t *o = arg;
    /* release: nothing to publish; the flag just says we are inside. */
    parc_store(&o->gate_in, 1, PARC_RELEASE);
    parc_event_wait(&o->release);
}

static void record_fire(void *arg)
{
    tag_t *g = arg;
    int n = parc_load(&g->o->n, PARC_RELAXED);
    g->o->seen[n] = g->key;
    /* release: publishes seen[n] to the test's acquire load of n. */
    parc_store(&g->o->n, n + 1, PARC_RELEASE);
}

START_TEST(fires_in_deadline_order_ties_in_add_order)
{
    parc_timers_t *t;
    order_t o;
    tag_t tags[ORDERED];
    parc_event_init(&o.release);
    parc_atomic_init(&o.gate_in, 0);
    parc_atomic_init(&o.n, 0);
    ck_assert_int_eq(parc_timers_create(&t), 0);
    /* Hold the thread inside a fire: everything added meanwhile is due
     * when it comes back, and leaves the heap in heap order. */
    ck_assert_int_eq(parc_timers_add(t, 0, gate_fire, &o, NULL), 0);
    ck_assert(parc_test_eventually(&o.gate_in));
    /* Keys: deadline 100 - i/2 (descending, pairs equal), so the expected
     * order is by deadline, then by add order within a pair. */
    for (int i = 0; i < ORDERED; i++) {
        tags[i].o = &o;
        tags[i].key = i;
        ck_assert_int_eq(parc_timers_add(t, 100 - i / 2, record_fire,
                                         &tags[i], NULL), 0);
    }
    ck_assert_uint_eq(parc_timers_pending(t), ORDERED);
    parc_event_set(&o.release);
    parc_deadline_t d = PARC_FOREVER;
    parc_deadline_in(&d, PARC_TEST_PATIENCE_NS);
    while (parc_load(&o.n, PARC_ACQUIRE) < ORDERED && !parc_deadline_passed(d))
        parc_sleep_ns(PARC_NS_PER_MS);
    /* acquire: pairs with record_fire's release; seen[] is complete. */
    ck_assert_int_eq(parc_load(&o.n, PARC_ACQUIRE), ORDERED);
    for (int j = 0; j < ORDERED; j++) {
        int pair = ORDERED / 2 - 1 - j / 2;  /* latest pair first */
        ck_assert_int_eq(o.seen[j], 2 * pair + j % 2);
    }
    parc_timers_free(t);
    parc_event_destroy(&o.release);
}
END_TEST

/* ---- cancel ------------------------------------------------------------ */

typedef struct count {
    parc_atomic(int) fired;
} count_t;

static void count_fire(void *arg)
{
    count_t *c = arg;
    /* release: the test's acquire load sees the fire done. */
    parc_faa(&c->fired, 1, PARC_RELEASE);
}

START_TEST(cancel_before_during_and_after_firing)
{
    parc_timers_t *t;
    order_t o;
    count_t c;
    uint64_t gate, pending, fired;
    void *arg = NULL;
    parc_event_init(&o.release);
    parc_atomic_init(&o.gate_in, 0);
    parc_atomic_init(&c.fired, 0);
    ck_assert_int_eq(parc_timers_create(&t), 0);
    /* After: a fired timer cannot be cancelled. */
    ck_assert_int_eq(parc_timers_add(t, 0, count_fire, &c, &fired), 0);
    ck_assert(parc_test_eventually(&c.fired));
    ck_assert_int_eq(parc_timers_cancel(t, fired, &arg), EALREADY);
    ck_assert_ptr_null(arg);
    /* During: the gate is firing (out of the heap), so EALREADY. */
    ck_assert_int_eq(parc_timers_add(t, 0, gate_fire, &o, &gate), 0);
    ck_assert(parc_test_eventually(&o.gate_in));
    ck_assert_int_eq(parc_timers_cancel(t, gate, NULL), EALREADY);
    /* Before: a due timer behind the held thread is still cancellable,
     * returns its argument, and never fires. */
    ck_assert_int_eq(parc_timers_add(t, 0, count_fire, &c, &pending), 0);
    ck_assert_int_eq(parc_timers_cancel(t, pending, &arg), 0);
    ck_assert_ptr_eq(arg, &c);
    ck_assert_int_eq(parc_timers_cancel(t, pending, &arg), EALREADY);
    parc_event_set(&o.release);
    /* Let the thread run past where the cancelled one would have fired. */
    ck_assert_int_eq(parc_timers_add(t, 0, count_fire, &c, NULL), 0);
    parc_deadline_t d = PARC_FOREVER;
    parc_deadline_in(&d, PARC_TEST_PATIENCE_NS);
    while (parc_load(&c.fired, PARC_ACQUIRE) < 2 && !parc_deadline_passed(d))
        parc_sleep_ns(PARC_NS_PER_MS);
    ck_assert_int_eq(parc_load(&c.fired, PARC_ACQUIRE), 2);
    parc_timers_free(t);
    ck_assert_int_eq(parc_load(&c.fired, PARC_ACQUIRE), 2);
    parc_event_destroy(&o.release);
}
END_TEST

/* ---- fire re-entering the service -------------------------------------- */

typedef struct reenter {
    parc_timers_t *t;
    uint64_t victim;
    int cancel_rc;             /* written by the fire, read after done */
    count_t c;
} reenter_t;

static void reenter_fire(void *arg)
{
    reenter_t *r = arg;
    r->cancel_rc = parc_timers_cancel(r->t, r->victim, NULL);
    /* Re-arm a plain timer: add from fire must not deadlock. */
    ck_assert_int_eq(parc_timers_add(r->t, 0, count_fire, &r->c, NULL), 0);
}

START_TEST(fire_may_add_and_cancel)
{
    reenter_t r;
    parc_atomic_init(&r.c.fired, 0);
    r.cancel_rc = -1;
    ck_assert_int_eq(parc_timers_create(&r.t), 0);
    ck_assert_int_eq(parc_timers_add(r.t, PARC_FOREVER, nop_fire, NULL,
                                     &r.victim), 0);
    ck_assert_int_eq(parc_timers_add(r.t, 0, reenter_fire, &r, NULL), 0);
    /* acquire (in eventually): the fire's writes, then count_fire's. */
    ck_assert(parc_test_eventually(&r.c.fired));
    ck_assert_int_eq(r.cancel_rc, 0);
    ck_assert_uint_eq(parc_timers_pending(r.t), 0);
    parc_timers_free(r.t);
}
END_TEST

/* ---- free -------------------------------------------------------------- */

typedef struct closing {
    parc_timers_t *t;
    parc_atomic(int) inside;
    int add_rc;                /* the add that found free begun */
    count_t c;
} closing_t;

/* Runs while free has begun (or is about to): adds until refused. */
static void closing_fire(void *arg)
{
    closing_t *k = arg;
    parc_store(&k->inside, 1, PARC_RELEASE); /* nothing published */
    parc_deadline_t d = PARC_FOREVER;
    parc_deadline_in(&d, PARC_TEST_PATIENCE_NS);
    int rc;
    do {
        /* PARC_FOREVER: pending until free drops them. */
        rc = parc_timers_add(k->t, PARC_FOREVER, count_fire, &k->c, NULL);
        if (rc == 0)
            parc_sleep_ns(PARC_NS_PER_MS / 10);
    } while (rc == 0 && !parc_deadline_passed(d));
    k->add_rc = rc;
}

START_TEST(free_drops_pending_and_refuses_adds)
{
    closing_t k;
    parc_atomic_init(&k.inside, 0);
    parc_atomic_init(&k.c.fired, 0);
    k.add_rc = -1;
    ck_assert_int_eq(parc_timers_create(&k.t), 0);
    for (int i = 0; i < 8; i++) /* pending at free: dropped */
        ck_assert_int_eq(parc_timers_add(k.t, parc_now_ns() + PARC_NS_PER_S,
                                         count_fire, &k.c, NULL), 0);
    ck_assert_int_eq(parc_timers_add(k.t, 0, closing_fire, &k, NULL), 0);
    ck_assert(parc_test_eventually(&k.inside));
    parc_timers_free(k.t); /* joins closing_fire, which saw EPIPE */
    ck_assert_int_eq(k.add_rc, EPIPE);
    ck_assert_int_eq(parc_load(&k.c.fired, PARC_RELAXED), 0);
}
END_TEST

/* ---- racing add and cancel --------------------------------------------- */

#define RACERS 4
#define PER_RACER (2000 / PARC_SLOWDOWN)

typedef struct racer {
    parc_timers_t *t;
    parc_atomic(uint8_t) *fired;   /* one per timer of this racer */
    int cancelled;
} racer_t;

static void race_fire(void *arg)
{
    parc_atomic(uint8_t) *f = arg;
    parc_faa(f, (uint8_t)1, PARC_RELAXED); /* counted; read after free */
}

static void *racer_main(void *arg)
{
    racer_t *r = arg;
    for (int i = 0; i < PER_RACER; i++) {
        uint64_t id;
        /* Deadlines from "now" to 200 us ahead: some fire before the
         * cancel, some during it, some are cancelled. */
        parc_deadline_t when = parc_now_ns() + (i % 5) * 50000;
        ck_assert_int_eq(parc_timers_add(r->t, when, race_fire,
                                         (void *)&r->fired[i], &id), 0);
        if (i % 2 == 0)
            continue;
        void *got = NULL;
        int rc = parc_timers_cancel(r->t, id, &got);
        if (rc == 0) {
            ck_assert_ptr_eq(got, (void *)&r->fired[i]);
            r->cancelled++;
            /* Cancelled: marked 2, so a fire after this shows up as 3. */
            parc_faa(&r->fired[i], (uint8_t)2, PARC_RELAXED);
        } else {
            ck_assert_int_eq(rc, EALREADY);
        }
    }
    return NULL;
}

START_TEST(racing_add_and_cancel_exactly_once)
{
    parc_timers_t *t;
    racer_t r[RACERS];
    pthread_t th[RACERS];
    ck_assert_int_eq(parc_timers_create(&t), 0);
    for (int i = 0; i < RACERS; i++) {
        r[i].t = t;
        r[i].fired = calloc(PER_RACER, sizeof *r[i].fired);
        ck_assert_ptr_nonnull(r[i].fired);
        r[i].cancelled = 0;
    }
    parc_test_spawn(th, RACERS, racer_main, r, sizeof r[0]);
    parc_test_join(th, RACERS);
    /* Everything not cancelled is due within 200 us: wait for it. */
    parc_deadline_t d = PARC_FOREVER;
    parc_deadline_in(&d, PARC_TEST_PATIENCE_NS);
    while (parc_timers_pending(t) != 0 && !parc_deadline_passed(d))
        parc_sleep_ns(PARC_NS_PER_MS);
    ck_assert_uint_eq(parc_timers_pending(t), 0);
    parc_timers_free(t); /* joins the thread: every fire has returned */
    for (int i = 0; i < RACERS; i++) {
        for (int j = 0; j < PER_RACER; j++) {
            uint8_t f = parc_load(&r[i].fired[j], PARC_RELAXED);
            ck_assert_msg(f == 1 || f == 2, "timer %d/%d: fired %u", i, j,
                          (unsigned)f);
        }
        free(r[i].fired);
    }
}
END_TEST

static Suite *timer_suite(void)
{
    Suite *s = suite_create("timer");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_test(tc, rejects_bad_arguments);
    tcase_add_test(tc, fires_in_deadline_order_ties_in_add_order);
    tcase_add_test(tc, cancel_before_during_and_after_firing);
    tcase_add_test(tc, fire_may_add_and_cancel);
    tcase_add_test(tc, free_drops_pending_and_refuses_adds);
    tcase_add_test(tc, racing_add_and_cancel_exactly_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(timer_suite());
}
