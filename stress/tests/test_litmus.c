/* Unit tests for parc/stress_litmus.h: every actor runs once on every
 * fresh state, outcomes are tallied and graded, forbidden means FAIL and
 * more actors than CPUs means SKIP, never PASS. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <check.h>

#include "parc/atomic.h"
#include "parc/stress_litmus.h"
#include "parc/time.h"

#ifndef PARC_SLOWDOWN
#define PARC_SLOWDOWN 1
#endif

/* Each actor adds its bit and counts itself: a state that was not fresh,
 * skipped by an actor or run twice shows in the outcome. */
typedef struct visit {
    parc_atomic(unsigned) bits;
    parc_atomic(unsigned) visits;
} visit_t;

static void visit_init(void *p)
{
    visit_t *v = p;
    parc_atomic_init(&v->bits, 0u);
    parc_atomic_init(&v->visits, 0u);
}

#define ACTOR(i)                                                   \
    static void actor##i(void *p)                                  \
    {                                                              \
        visit_t *v = p;                                            \
        parc_raw_faa(&v->bits, 1u << (i), PARC_RELAXED);           \
        parc_raw_faa(&v->visits, 1u, PARC_RELAXED);                \
    }
ACTOR(0)
ACTOR(1)
ACTOR(2)
ACTOR(3)

static uint64_t visit_outcome(const void *p)
{
    const visit_t *v = p;
    return (uint64_t)parc_raw_load(&v->visits, PARC_RELAXED) << 8 |
           parc_raw_load(&v->bits, PARC_RELAXED);
}

static unsigned expected_threads;

static parc_litmus_grade_t exactly_once(uint64_t o)
{
    unsigned all = (1u << expected_threads) - 1;
    return o == ((uint64_t)expected_threads << 8 | all) ? PARC_LITMUS_ACCEPTABLE
                                                        : PARC_LITMUS_FORBIDDEN;
}

static parc_litmus_grade_t everything_forbidden(uint64_t o)
{
    (void)o;
    return PARC_LITMUS_FORBIDDEN;
}

static parc_litmus_t visit_test(unsigned threads)
{
    parc_litmus_t t = { .name = "visits", .threads = threads,
                        .state_size = sizeof(visit_t), .init = visit_init,
                        .actor = { actor0, actor1, actor2, actor3 },
                        .outcome = visit_outcome, .grade = exactly_once };
    expected_threads = threads;
    return t;
}

START_TEST(every_actor_runs_once_on_every_fresh_state)
{
    parc_litmus_t t = visit_test(2);
    parc_litmus_options_t o = { .samples = 200000 / PARC_SLOWDOWN, .stride = 1000 };
    parc_litmus_result_t r;
    ck_assert_int_eq(parc_litmus_run(&t, &o, &r), 0);
    ck_assert_uint_ge(r.samples, o.samples);
    ck_assert_uint_eq(r.samples % o.stride, 0);
    ck_assert_uint_eq(r.forbidden, 0);
    ck_assert_uint_eq(r.outcomes, 1);
    ck_assert_uint_eq(r.outcome[0].count, r.samples);
    ck_assert_int_eq(r.verdict, r.cpus >= 2 ? PARC_LITMUS_PASS : PARC_LITMUS_SKIP);
    parc_litmus_print(stdout, &t, &r);
}
END_TEST

START_TEST(a_forbidden_outcome_fails_the_run)
{
    parc_litmus_t t = visit_test(2);
    t.grade = everything_forbidden;
    parc_litmus_options_t o = { .samples = 5000, .stride = 100 };
    parc_litmus_result_t r;
    ck_assert_int_eq(parc_litmus_run(&t, &o, &r), 0);
    ck_assert_int_eq(r.verdict, PARC_LITMUS_FAIL);
    ck_assert_uint_eq(r.forbidden, r.samples);
}
END_TEST

START_TEST(more_actors_than_cpus_is_a_skip_never_a_pass)
{
    parc_litmus_t t = visit_test(4);
    parc_litmus_options_t o = { .samples = 20000, .stride = 500 };
    parc_litmus_result_t r;
    ck_assert_int_eq(parc_litmus_run(&t, &o, &r), 0);
    ck_assert_uint_eq(r.forbidden, 0);
    ck_assert_uint_eq(r.outcome[0].count, r.samples);
    if (parc_litmus_cpus() < 4)
        ck_assert_int_eq(r.verdict, PARC_LITMUS_SKIP);
    else
        ck_assert_int_eq(r.verdict, PARC_LITMUS_PASS);
    /* ... but a forbidden outcome still fails it */
    t.grade = everything_forbidden;
    ck_assert_int_eq(parc_litmus_run(&t, &o, &r), 0);
    ck_assert_int_eq(r.verdict, PARC_LITMUS_FAIL);
}
END_TEST

START_TEST(duration_bounds_the_run)
{
    parc_litmus_t t = visit_test(2);
    parc_litmus_options_t o = { .samples = UINT64_MAX / 2, .stride = 256,
                                .duration_ns = 50 * PARC_NS_PER_MS };
    parc_litmus_result_t r;
    ck_assert_int_eq(parc_litmus_run(&t, &o, &r), 0);
    ck_assert_uint_gt(r.samples, 0);
    ck_assert_int_lt(r.elapsed_ns, PARC_NS_PER_S * 30 * PARC_SLOWDOWN);
}
END_TEST

static parc_atomic(uint64_t) serial;

static void unique_actor(void *p)
{
    (void)p;
}

static uint64_t unique_outcome(const void *p)
{
    (void)p;
    return parc_raw_faa(&serial, 1u, PARC_RELAXED);
}

START_TEST(bad_arguments_and_too_many_outcomes)
{
    parc_litmus_t t = visit_test(2);
    parc_litmus_result_t r;
    ck_assert_int_eq(parc_litmus_run(NULL, NULL, &r), EINVAL);
    ck_assert_int_eq(parc_litmus_run(&t, NULL, NULL), EINVAL);
    t.threads = 1;
    ck_assert_int_eq(parc_litmus_run(&t, NULL, &r), EINVAL);
    t.threads = PARC_LITMUS_MAX_THREADS + 1;
    ck_assert_int_eq(parc_litmus_run(&t, NULL, &r), EINVAL);
    t = visit_test(3);
    t.actor[2] = NULL;
    ck_assert_int_eq(parc_litmus_run(&t, NULL, &r), EINVAL);
    t = visit_test(2);
    t.grade = NULL;
    ck_assert_int_eq(parc_litmus_run(&t, NULL, &r), EINVAL);

    t = visit_test(2);
    t.actor[0] = t.actor[1] = unique_actor;
    t.outcome = unique_outcome;
    t.grade = everything_forbidden;
    parc_litmus_options_t o = { .samples = 1000, .stride = 100 };
    ck_assert_int_eq(parc_litmus_run(&t, &o, &r), EOVERFLOW);
}
END_TEST

/* Store buffering with seq_cst: (0, 0) is impossible, whatever the load.
 * seq_cst on all four accesses: the single total order is under test. */
typedef struct sb {
    parc_atomic(int) x, y;
    int r0, r1;
} sb_t;

static void sb_t0(void *p)
{
    sb_t *s = p;
    parc_raw_store(&s->x, 1, PARC_SEQ_CST);
    s->r0 = parc_raw_load(&s->y, PARC_SEQ_CST);
}

static void sb_t1(void *p)
{
    sb_t *s = p;
    parc_raw_store(&s->y, 1, PARC_SEQ_CST);
    s->r1 = parc_raw_load(&s->x, PARC_SEQ_CST);
}

static uint64_t sb_outcome(const void *p)
{
    const sb_t *s = p;
    return (uint64_t)(s->r0 * 2 + s->r1);
}

static parc_litmus_grade_t sb_grade(uint64_t o)
{
    return o == 0 ? PARC_LITMUS_FORBIDDEN : PARC_LITMUS_ACCEPTABLE;
}

START_TEST(seq_cst_store_buffering_never_shows_0_0)
{
    parc_litmus_t t = { .name = "sb.seq_cst", .threads = 2, .state_size = sizeof(sb_t),
                        .actor = { sb_t0, sb_t1 }, .outcome = sb_outcome,
                        .grade = sb_grade };
    parc_litmus_options_t o = { .samples = 500000 / PARC_SLOWDOWN };
    parc_litmus_result_t r;
    ck_assert_int_eq(parc_litmus_run(&t, &o, &r), 0);
    ck_assert_uint_eq(r.forbidden, 0);
    ck_assert_int_ne(r.verdict, PARC_LITMUS_FAIL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stress_litmus");
    TCase *tc = tcase_create("litmus");
    tcase_set_timeout(tc, 120 * PARC_SLOWDOWN);
    tcase_add_test(tc, every_actor_runs_once_on_every_fresh_state);
    tcase_add_test(tc, a_forbidden_outcome_fails_the_run);
    tcase_add_test(tc, more_actors_than_cpus_is_a_skip_never_a_pass);
    tcase_add_test(tc, duration_bounds_the_run);
    tcase_add_test(tc, bad_arguments_and_too_many_outcomes);
    tcase_add_test(tc, seq_cst_store_buffering_never_shows_0_0);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
