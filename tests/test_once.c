/*
 * Unit tests for parc/once.h.
 *
 * 16 threads race to run one slow initialiser: it must run exactly once,
 * and no caller may return before it has finished (each checks the value
 * the initialiser wrote last).
 */
#include <stdint.h>

#include "parc/once.h"
#include "testutil.h"

static parc_atomic(int) runs;

static void count_run(void *arg)
{
    (void)arg;
    parc_faa(&runs, 1, PARC_RELAXED);
}

START_TEST(rejects_bad_arguments)
{
    parc_once_t o = PARC_ONCE_INIT;
    ck_assert_int_eq(parc_once_init(NULL), EINVAL);
    ck_assert_int_eq(parc_once_call(NULL, count_run, NULL), EINVAL);
    ck_assert_int_eq(parc_once_call(&o, NULL, NULL), EINVAL);
    ck_assert(!parc_once_done(NULL));
    ck_assert(!parc_once_done(&o));
}
END_TEST

START_TEST(runs_once)
{
    parc_once_t o;
    ck_assert_int_eq(parc_once_init(&o), 0);
    parc_atomic_init(&runs, 0);
    ck_assert_int_eq(parc_once_call(&o, count_run, NULL), 0);
    ck_assert(parc_once_done(&o));
    ck_assert_int_eq(parc_once_call(&o, count_run, NULL), 0);
    ck_assert_int_eq(parc_load(&runs, PARC_RELAXED), 1);
}
END_TEST

static parc_once_t nested = PARC_ONCE_INIT;
static parc_once_t inner = PARC_ONCE_INIT;
static int nested_rc = -1, inner_rc = -1;

static void call_inner(void *arg)
{
    (void)arg;
    /* calls back into the outer once: would wait for itself */
    inner_rc = parc_once_call(&nested, count_run, NULL);
}

static void call_self(void *arg)
{
    (void)arg;
    nested_rc = parc_once_call(&nested, count_run, NULL);
    /* a different once inside is fine, and its own nested call is not */
    ck_assert_int_eq(parc_once_call(&inner, call_inner, NULL), 0);
}

START_TEST(recursive_call_is_edeadlk)
{
    parc_atomic_init(&runs, 0);
    ck_assert_int_eq(parc_once_call(&nested, call_self, NULL), 0);
    ck_assert_int_eq(nested_rc, EDEADLK);
    ck_assert_int_eq(inner_rc, EDEADLK);
    ck_assert_int_eq(parc_load(&runs, PARC_RELAXED), 0);
    ck_assert(parc_once_done(&nested) && parc_once_done(&inner));
}
END_TEST

/* ---- 16 racing threads ----------------------------------------------- */

#define RACERS 16

struct race {
    parc_once_t once;
    parc_atomic(int) runs;
    parc_atomic(int) go;
    int value;                 /* plain: written by the initialiser */
    parc_atomic(int) early;    /* a caller returned before it finished */
};

static void slow_init(void *arg)
{
    struct race *r = arg;
    parc_faa(&r->runs, 1, PARC_RELAXED);
    r->value = 1;
    for (int i = 0; i < 50; i++)
        sched_yield(); /* give the others time to pile up and sleep */
    r->value = 42;
}

static void *racer(void *arg)
{
    struct race *r = arg;
    while (!parc_load(&r->go, PARC_ACQUIRE))
        sched_yield();
    ck_assert_int_eq(parc_once_call(&r->once, slow_init, r), 0);
    if (r->value != 42)
        parc_faa(&r->early, 1, PARC_RELAXED);
    return NULL;
}

START_TEST(sixteen_threads_run_it_exactly_once)
{
    static struct race r;
    for (int round = 0; round < 100 / PARC_SLOWDOWN; round++) {
        ck_assert_int_eq(parc_once_init(&r.once), 0);
        parc_atomic_init(&r.runs, 0);
        parc_atomic_init(&r.go, 0);
        parc_atomic_init(&r.early, 0);
        r.value = 0;
        pthread_t t[RACERS];
        parc_test_spawn(t, RACERS, racer, &r, 0);
        parc_store(&r.go, 1, PARC_RELEASE);
        parc_test_join(t, RACERS);
        ck_assert_int_eq(parc_load(&r.runs, PARC_RELAXED), 1);
        ck_assert_int_eq(parc_load(&r.early, PARC_RELAXED), 0);
        ck_assert(parc_once_done(&r.once));
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("once");
    TCase *basic = tcase_create("basic");
    tcase_add_test(basic, rejects_bad_arguments);
    tcase_add_test(basic, runs_once);
    tcase_add_test(basic, recursive_call_is_edeadlk);
    suite_add_tcase(s, basic);
    TCase *mt = tcase_create("threads");
    tcase_set_timeout(mt, 120 * PARC_SLOWDOWN);
    tcase_add_test(mt, sixteen_threads_run_it_exactly_once);
    suite_add_tcase(s, mt);
    return parc_test_run(s);
}
