/*
 * Unit tests for parc/act_sup.h (supervisors) and parc/act.h's links:
 * which children each strategy restarts (counted by on_start), which
 * exits each restart type answers, the restart intensity (a supervisor
 * that gives up stops its children and exits abnormally), and links
 * with and without trapping exits.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "parc/act_sup.h"
#include "parc/event.h"
#include "testutil.h"

enum { T_CRASH = PARC_MSG_USER, T_NOTE };

typedef struct kid_state {
    parc_atomic(int) starts;
} kid_state_t;

static void kid(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)state;
    if (m->type == T_CRASH)
        parc_act_exit(self, *(int *)parc_msg_data(m));
    parc_msg_free(m);
}

static void kid_started(parc_act_t *child, void *state)
{
    (void)child;
    kid_state_t *k = state;
    parc_faa(&k->starts, 1, PARC_RELAXED); /* a count, polled */
}

static int starts(kid_state_t *k)
{
    return parc_load(&k->starts, PARC_RELAXED);
}

/* Poll until cond holds or patience runs out. */
#define EVENTUALLY(cond)                                                  \
    do {                                                                  \
        int64_t until_ = parc_now_ns() + PARC_TEST_PATIENCE_NS;           \
        while (!(cond) && parc_now_ns() < until_)                         \
            usleep(200);                                                  \
        ck_assert(cond);                                                  \
    } while (0)

static void crash(parc_act_sup_t *s, size_t i, int status)
{
    parc_act_t *c;
    ck_assert_int_eq(parc_act_sup_child(s, i, &c), 0);
    parc_msg_t *m;
    ck_assert_int_eq(parc_msg_new(T_CRASH, &status, sizeof status, &m), 0);
    ck_assert_int_eq(parc_act_send(c, m), 0);
    ck_assert_int_eq(parc_act_wait(c, NULL), 0);
    parc_act_release(c);
}

static parc_act_rt_t *rt;

static void setup(void)
{
    ck_assert_int_eq(parc_act_rt_create(2, &rt), 0);
}

static void teardown(void)
{
    ck_assert_int_eq(parc_act_rt_shutdown(rt, 0), 0);
}

/* Three children with the given restart types under `strategy`; crash
 * child 1 with `status`; expect the start counts. */
static void run_strategy(parc_act_sup_strategy_t strategy,
                         parc_act_sup_restart_t restart, int status,
                         const int want[3], uint64_t want_restarts)
{
    kid_state_t ks[3];
    parc_act_sup_spec_t spec[3];
    for (int i = 0; i < 3; i++) {
        parc_atomic_init(&ks[i].starts, 0);
        parc_act_sup_spec_t sp = PARC_ACT_SUP_SPEC_INIT;
        sp.fn = kid;
        sp.state = &ks[i];
        sp.restart = i == 1 ? restart : PARC_ACT_SUP_PERMANENT;
        sp.on_start = kid_started;
        spec[i] = sp;
    }
    parc_act_sup_options_t o = PARC_ACT_SUP_OPTIONS_INIT;
    o.strategy = strategy;
    parc_act_sup_t *s;
    ck_assert_int_eq(parc_act_sup_start(rt, &o, spec, 3, &s), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(starts(&ks[i]), 1);
    crash(s, 1, status);
    for (int i = 0; i < 3; i++)
        EVENTUALLY(starts(&ks[i]) == want[i]);
    /* The supervisor has settled once it answers its own queue: quiesce. */
    ck_assert_int_eq(parc_act_rt_quiesce(rt), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(starts(&ks[i]), want[i]);
    ck_assert_uint_eq(parc_act_sup_restarts(s), want_restarts);
    for (int i = 0; i < 3; i++) {
        parc_act_t *c;
        int rc = parc_act_sup_child(s, (size_t)i, &c);
        bool gone = i == 1 && want_restarts == 0;
        ck_assert_int_eq(rc, gone ? EAGAIN : 0);
        if (rc == 0) {
            ck_assert(!parc_act_stopped(c, NULL));
            parc_act_release(c);
        }
    }
    ck_assert_int_eq(parc_act_sup_free(s), 0);
}

START_TEST(one_for_one_restarts_the_one)
{
    int want[3] = { 1, 2, 1 };
    run_strategy(PARC_ACT_SUP_ONE_FOR_ONE, PARC_ACT_SUP_PERMANENT, 1, want, 1);
}
END_TEST

START_TEST(one_for_all_restarts_all)
{
    int want[3] = { 2, 2, 2 };
    run_strategy(PARC_ACT_SUP_ONE_FOR_ALL, PARC_ACT_SUP_PERMANENT, 1, want, 1);
}
END_TEST

START_TEST(rest_for_one_restarts_it_and_later_ones)
{
    int want[3] = { 1, 2, 2 };
    run_strategy(PARC_ACT_SUP_REST_FOR_ONE, PARC_ACT_SUP_PERMANENT, 1, want,
                 1);
}
END_TEST

START_TEST(restart_types)
{
    int again[3] = { 1, 2, 1 }, once[3] = { 1, 1, 1 };
    run_strategy(PARC_ACT_SUP_ONE_FOR_ONE, PARC_ACT_SUP_PERMANENT, 0, again, 1);
    run_strategy(PARC_ACT_SUP_ONE_FOR_ONE, PARC_ACT_SUP_TRANSIENT, 3, again, 1);
    run_strategy(PARC_ACT_SUP_ONE_FOR_ONE, PARC_ACT_SUP_TRANSIENT, 0, once, 0);
    run_strategy(PARC_ACT_SUP_ONE_FOR_ONE, PARC_ACT_SUP_TEMPORARY, 3, once, 0);
}
END_TEST

START_TEST(intensity_exceeded_gives_up)
{
    kid_state_t ks[2];
    parc_act_sup_spec_t spec[2];
    for (int i = 0; i < 2; i++) {
        parc_atomic_init(&ks[i].starts, 0);
        parc_act_sup_spec_t sp = PARC_ACT_SUP_SPEC_INIT;
        sp.fn = kid;
        sp.state = &ks[i];
        sp.on_start = kid_started;
        spec[i] = sp;
    }
    parc_act_sup_options_t o = PARC_ACT_SUP_OPTIONS_INIT;
    o.intensity = 2;
    o.period_ns = 3600 * PARC_NS_PER_S;
    parc_act_sup_t *s;
    ck_assert_int_eq(parc_act_sup_start(rt, &o, spec, 2, &s), 0);
    parc_act_t *other;
    ck_assert_int_eq(parc_act_sup_child(s, 1, &other), 0);
    crash(s, 0, 1);
    EVENTUALLY(starts(&ks[0]) == 2);
    crash(s, 0, 1);
    EVENTUALLY(starts(&ks[0]) == 3);
    crash(s, 0, 1); /* the third within the period: too many */
    int st = 0;
    ck_assert_int_eq(parc_act_wait(parc_act_sup_actor(s), &st), 0);
    ck_assert_int_eq(st, PARC_ACT_SUP_GAVE_UP);
    ck_assert_int_eq(parc_act_wait(other, &st), 0); /* stopped with it */
    ck_assert_int_eq(st, PARC_ACT_SUP_SHUTDOWN);
    parc_act_release(other);
    ck_assert_int_eq(starts(&ks[0]), 3);
    parc_act_t *c;
    ck_assert_int_eq(parc_act_sup_child(s, 0, &c), EAGAIN);
    ck_assert_int_eq(parc_act_sup_stop(s), EPIPE);
    ck_assert_int_eq(parc_act_sup_free(s), 0);
}
END_TEST

/* ---- links ---- */

typedef struct trapper {
    parc_act_t *who;
    int status;
    parc_event_t got;
} trapper_t;

static void trapping(parc_act_t *self, void *state, parc_msg_t *m)
{
    trapper_t *t = state;
    if (m->type == T_NOTE) {
        parc_act_trap_exits(self, true);
    } else if (m->type == PARC_ACT_EXIT) {
        parc_act_down_t *d = parc_msg_entry(m, parc_act_down_t, msg);
        t->who = d->who;
        t->status = d->status;
        parc_event_set(&t->got);
    }
    parc_msg_free(m);
}

static void send_note(parc_act_t *a)
{
    parc_msg_t *m;
    ck_assert_int_eq(parc_msg_new(T_NOTE, NULL, 0, &m), 0);
    ck_assert_int_eq(parc_act_send(a, m), 0);
}

static void send_crash(parc_act_t *a, int status)
{
    parc_msg_t *m;
    ck_assert_int_eq(parc_msg_new(T_CRASH, &status, sizeof status, &m), 0);
    ck_assert_int_eq(parc_act_send(a, m), 0);
}

START_TEST(links_propagate_abnormal_exits_unless_trapped)
{
    parc_act_t *a, *b, *c, *d, *e, *f;
    ck_assert_int_eq(parc_act_spawn(rt, kid, NULL, NULL, &a), 0);
    ck_assert_int_eq(parc_act_spawn(rt, kid, NULL, NULL, &b), 0);
    ck_assert_int_eq(parc_act_link(a, b), 0);
    ck_assert_int_eq(parc_act_link(a, a), EINVAL);
    send_crash(b, 7);
    int st = 0;
    ck_assert_int_eq(parc_act_wait(a, &st), 0); /* taken down with b */
    ck_assert_int_eq(st, 7);

    /* A normal exit leaves a linked partner running. */
    ck_assert_int_eq(parc_act_spawn(rt, kid, NULL, NULL, &e), 0);
    ck_assert_int_eq(parc_act_spawn(rt, kid, NULL, NULL, &f), 0);
    ck_assert_int_eq(parc_act_link(e, f), 0);
    send_crash(f, 0);
    ck_assert_int_eq(parc_act_wait(f, NULL), 0);
    ck_assert_int_eq(parc_act_rt_quiesce(rt), 0);
    ck_assert(!parc_act_stopped(e, NULL));

    /* A trapping partner gets a message instead, and lives on. */
    trapper_t t;
    memset(&t, 0, sizeof t);
    parc_event_init(&t.got);
    ck_assert_int_eq(parc_act_spawn(rt, trapping, &t, NULL, &c), 0);
    send_note(c); /* trap exits */
    ck_assert_int_eq(parc_act_spawn(rt, kid, NULL, NULL, &d), 0);
    ck_assert_int_eq(parc_act_link(c, d), 0);
    send_crash(d, 3);
    ck_assert_int_eq(parc_event_wait_timed(&t.got, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_ptr_eq(t.who, d);
    ck_assert_int_eq(t.status, 3);
    ck_assert(!parc_act_stopped(c, NULL));

    /* Linking to an actor already stopped notifies at once. */
    parc_act_t *g;
    ck_assert_int_eq(parc_act_spawn(rt, kid, NULL, NULL, &g), 0);
    ck_assert_int_eq(parc_act_link(g, b), 0);
    ck_assert_int_eq(parc_act_wait(g, &st), 0);
    ck_assert_int_eq(st, 7);

    parc_act_t *all[] = { a, b, c, d, e, f, g };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        parc_act_release(all[i]);
    ck_assert_int_eq(parc_act_rt_shutdown(rt, 0), 0);
    ck_assert_int_eq(parc_act_rt_create(2, &rt), 0); /* for teardown */
    parc_event_destroy(&t.got);
}
END_TEST

static Suite *act_sup_suite(void)
{
    Suite *s = suite_create("act_sup");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, one_for_one_restarts_the_one);
    tcase_add_test(tc, one_for_all_restarts_all);
    tcase_add_test(tc, rest_for_one_restarts_it_and_later_ones);
    tcase_add_test(tc, restart_types);
    tcase_add_test(tc, intensity_exceeded_gives_up);
    tcase_add_test(tc, links_propagate_abnormal_exits_unless_trapped);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(act_sup_suite());
}
