/*
 * Unit tests for parc/future.h: the state machine (run, complete, cancel
 * and their races), the three waiting forms, chaining, sets and the help
 * hook.
 */
#include <stdint.h>

#include "parc/future.h"
#include "testutil.h"

static int add_one(void *arg, void **result)
{
    *result = (void *)((intptr_t)arg + 1);
    return 0;
}

static int fail_with(void *arg, void **result)
{
    (void)result;
    return (int)(intptr_t)arg;
}

static int count_runs(void *arg, void **result)
{
    (void)result;
    parc_faa((parc_atomic(int) *)arg, 1, PARC_RELAXED);
    return 0;
}

START_TEST(rejects_bad_arguments)
{
    parc_future_t *p = NULL;
    ck_assert_int_eq(parc_future_init(NULL, add_one, NULL), EINVAL);
    ck_assert_int_eq(parc_future_create(add_one, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_future_destroy(NULL), EINVAL);
    ck_assert_int_eq(parc_future_run(NULL), EINVAL);
    ck_assert_int_eq(parc_future_complete(NULL, 0, NULL), EINVAL);
    ck_assert(!parc_future_cancel(NULL));
    ck_assert(!parc_future_is_done(NULL));
    ck_assert(!parc_future_is_cancelled(NULL));
    ck_assert_int_eq(parc_future_wait(NULL), EINVAL);
    ck_assert_int_eq(parc_future_wait_try(NULL), EINVAL);
    ck_assert_int_eq(parc_future_wait_timed(NULL, 0), EINVAL);
    ck_assert_int_eq(parc_future_get(NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_future_get_try(NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_future_get_timed(NULL, NULL, 0), EINVAL);
    ck_assert_int_eq(parc_future_then(NULL, NULL, NULL, &p), EINVAL);
    parc_future_release(NULL);

    parc_future_t f;
    ck_assert_int_eq(parc_future_init(&f, NULL, NULL), 0);
    ck_assert_int_eq(parc_future_run(&f), EINVAL); /* a promise has no task */
    ck_assert_int_eq(parc_future_wait_timed(&f, -1), EINVAL);
    ck_assert_int_eq(parc_future_complete(&f, ECANCELED, NULL), EINVAL);
    ck_assert_int_eq(parc_future_then(&f, NULL, NULL, &p), EINVAL);
    parc_future_t *set[1] = { NULL };
    size_t idx;
    ck_assert_int_eq(parc_future_wait_all(set, 1), EINVAL);
    ck_assert_int_eq(parc_future_wait_any(set, 1, &idx), EINVAL);
    set[0] = &f;
    ck_assert_int_eq(parc_future_wait_any(set, 0, &idx), EINVAL);
    ck_assert_int_eq(parc_future_wait_any(set, 1, NULL), EINVAL);
    ck_assert_int_eq(parc_future_wait_all_timed(set, 1, -5), EINVAL);
    ck_assert_int_eq(parc_future_destroy(&f), 0);
}
END_TEST

START_TEST(run_then_get)
{
    parc_future_t f;
    void *v = NULL;
    ck_assert_int_eq(parc_future_init(&f, add_one, (void *)41), 0);
    ck_assert(!parc_future_is_done(&f));
    ck_assert_int_eq(parc_future_get_try(&f, &v), EAGAIN);
    ck_assert_int_eq(parc_future_wait_try(&f), EAGAIN);
    ck_assert_int_eq(parc_future_get_timed(&f, &v, 1 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_eq(parc_future_run(&f), 0);
    ck_assert(parc_future_is_done(&f));
    ck_assert(!parc_future_is_cancelled(&f));
    ck_assert_int_eq(parc_future_get(&f, &v), 0);
    ck_assert_int_eq((intptr_t)v, 42);
    ck_assert_int_eq(parc_future_get_try(&f, NULL), 0);
    ck_assert_int_eq(parc_future_run(&f), EALREADY); /* runs once */
    ck_assert(!parc_future_cancel(&f));
    ck_assert_int_eq(parc_future_complete(&f, 0, NULL), EALREADY);
    ck_assert_int_eq(parc_future_destroy(&f), 0);
}
END_TEST

START_TEST(failure_is_carried_as_code)
{
    parc_future_t *f;
    void *v = (void *)1;
    ck_assert_int_eq(parc_future_create(fail_with, (void *)(intptr_t)ERANGE, &f), 0);
    ck_assert_int_eq(parc_future_run(f), 0);
    ck_assert_int_eq(parc_future_get(f, &v), ERANGE);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(parc_future_get_timed(f, &v, 0), ERANGE);
    parc_future_release(f);
}
END_TEST

START_TEST(cancel_before_start_never_runs)
{
    parc_atomic(int) runs;
    parc_atomic_init(&runs, 0);
    parc_future_t f;
    parc_future_init(&f, count_runs, (void *)&runs);
    ck_assert(parc_future_cancel(&f));
    ck_assert(!parc_future_cancel(&f)); /* only once */
    ck_assert(parc_future_is_done(&f));
    ck_assert(parc_future_is_cancelled(&f));
    ck_assert_int_eq(parc_future_run(&f), ECANCELED);
    ck_assert_int_eq(parc_load(&runs, PARC_RELAXED), 0);
    ck_assert_int_eq(parc_future_get(&f, NULL), ECANCELED);
    ck_assert_int_eq(parc_future_complete(&f, 0, NULL), ECANCELED);
    parc_future_destroy(&f);
}
END_TEST

START_TEST(promise_completed_by_user)
{
    parc_future_t *f;
    void *v;
    ck_assert_int_eq(parc_future_create(NULL, NULL, &f), 0);
    ck_assert_int_eq(parc_future_complete(f, 0, (void *)7), 0);
    ck_assert_int_eq(parc_future_complete(f, 0, (void *)8), EALREADY);
    ck_assert_int_eq(parc_future_get(f, &v), 0);
    ck_assert_int_eq((intptr_t)v, 7);
    parc_future_release(f);
}
END_TEST

struct later {
    parc_future_t *f;
    int64_t delay_ns;
    int status;
};

static void *complete_later(void *arg)
{
    struct later *l = arg;
    parc_sleep_ns(l->delay_ns);
    ck_assert_int_eq(parc_future_complete(l->f, l->status, (void *)99), 0);
    return NULL;
}

START_TEST(waiter_parks_until_completed)
{
    parc_future_t f;
    parc_future_init(&f, NULL, NULL);
    struct later l = { &f, 20 * PARC_NS_PER_MS, 0 };
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, complete_later, &l), 0);
    void *v;
    ck_assert_int_eq(parc_future_get_timed(&f, &v, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq((intptr_t)v, 99);
    parc_test_join(&t, 1);
    parc_future_destroy(&f); /* right after the wait: the completer is gone */
}
END_TEST

START_TEST(timed_wait_times_out_then_succeeds)
{
    parc_future_t f;
    parc_future_init(&f, NULL, NULL);
    int64_t t0 = parc_now_ns();
    ck_assert_int_eq(parc_future_wait_timed(&f, 5 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns() - t0, 5 * PARC_NS_PER_MS);
    parc_future_complete(&f, 0, NULL);
    ck_assert_int_eq(parc_future_wait_timed(&f, 0), 0);
    parc_future_destroy(&f);
}
END_TEST

/* ---- the race between a start and a cancel --------------------------- */

/* A scheduler's hold (parc_future_hold): destroy waits for its let-go,
 * whether the scheduler runs, drops or unholds the future, or a user
 * cancelled it first. */
START_TEST(held_future_is_not_destroyed_before_the_scheduler_lets_go)
{
    parc_atomic(int) runs;
    parc_atomic_init(&runs, 0);
    parc_future_t f, p;
    ck_assert_int_eq(parc_future_hold(NULL), EINVAL);
    parc_future_init(&p, NULL, NULL);
    ck_assert_int_eq(parc_future_hold(&p), EINVAL); /* a promise */
    ck_assert_int_eq(parc_future_destroy(&p), 0);

    /* cancelled by the user while held: EBUSY until the scheduler's run
     * finds it cancelled and lets go */
    parc_future_init(&f, count_runs, (void *)&runs);
    ck_assert_int_eq(parc_future_hold(&f), 0);
    ck_assert_int_eq(parc_future_hold(&f), EALREADY);
    ck_assert_int_eq(parc_future_destroy(&f), EBUSY); /* pending and held */
    ck_assert(parc_future_cancel(&f));
    ck_assert_int_eq(parc_future_get(&f, NULL), ECANCELED);
    ck_assert_int_eq(parc_future_destroy(&f), EBUSY);
    ck_assert_int_eq(parc_future_run(&f), ECANCELED);
    ck_assert_int_eq(parc_future_destroy(&f), 0);

    /* run by the scheduler: its claim lets go */
    parc_future_init(&f, count_runs, (void *)&runs);
    ck_assert_int_eq(parc_future_hold(&f), 0);
    ck_assert_int_eq(parc_future_run(&f), 0);
    ck_assert_int_eq(parc_future_destroy(&f), 0);

    /* dropped by the scheduler: cancelled and let go in one step */
    parc_future_init(&f, count_runs, (void *)&runs);
    ck_assert_int_eq(parc_future_hold(&f), 0);
    ck_assert(parc_future_drop(&f));
    ck_assert(!parc_future_drop(&f));
    ck_assert_int_eq(parc_future_get(&f, NULL), ECANCELED);
    ck_assert_int_eq(parc_future_destroy(&f), 0);

    /* an enqueue that failed: unhold, and it is an ordinary pending
     * future again (destroy cancels it) */
    parc_future_init(&f, count_runs, (void *)&runs);
    ck_assert_int_eq(parc_future_hold(&f), 0);
    parc_future_unhold(&f);
    ck_assert_int_eq(parc_future_destroy(&f), 0);
    ck_assert_int_eq(parc_load(&runs, PARC_RELAXED), 1);
}
END_TEST

struct race {
    parc_future_t f;
    parc_atomic(int) runs;
    parc_atomic(int) go;
    int run_rc;
};

static void *racer_run(void *arg)
{
    struct race *r = arg;
    while (parc_load(&r->go, PARC_ACQUIRE) == 0) /* pairs with the release store below */
        parc_cpu_relax();
    r->run_rc = parc_future_run(&r->f);
    return NULL;
}

START_TEST(cancel_races_with_start)
{
    int iterations = 2000 / PARC_SLOWDOWN;
    int cancels_won = 0, runs_won = 0;
    for (int i = 0; i < iterations; i++) {
        struct race r;
        parc_atomic_init(&r.runs, 0);
        parc_atomic_init(&r.go, 0);
        parc_future_init(&r.f, count_runs, (void *)&r.runs);
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, racer_run, &r), 0);
        /* release: start the runner together with our cancel */
        parc_store(&r.go, 1, PARC_RELEASE);
        bool won = parc_future_cancel(&r.f);
        parc_test_join(&t, 1);
        int ran = parc_load(&r.runs, PARC_RELAXED);
        /* exactly one of {the task ran, the cancel won} */
        ck_assert_int_eq(ran + (won ? 1 : 0), 1);
        ck_assert_int_eq(r.run_rc, won ? ECANCELED : 0);
        ck_assert_int_eq(parc_future_get(&r.f, NULL), won ? ECANCELED : 0);
        cancels_won += won;
        runs_won += !won;
        parc_future_destroy(&r.f);
    }
    ck_assert_int_eq(cancels_won + runs_won, iterations);
}
END_TEST

/* ---- chaining ----------------------------------------------------------- */

static int twice(void *arg, void *value, void **result)
{
    (void)arg;
    *result = (void *)((intptr_t)value * 2);
    return 0;
}

static int then_count(void *arg, void *value, void **result)
{
    (void)value;
    (void)result;
    parc_faa((parc_atomic(int) *)arg, 1, PARC_RELAXED);
    return 0;
}

START_TEST(then_chains_values_and_errors)
{
    parc_future_t *f, *g, *h;
    void *v;
    ck_assert_int_eq(parc_future_create(add_one, (void *)20, &f), 0);
    ck_assert_int_eq(parc_future_then(f, twice, NULL, &g), 0);
    ck_assert_int_eq(parc_future_then(g, twice, NULL, &h), 0);
    ck_assert(!parc_future_is_done(g));
    ck_assert_int_eq(parc_future_run(g), EINVAL); /* continuations are not tasks */
    ck_assert_int_eq(parc_future_run(f), 0);
    ck_assert_int_eq(parc_future_get(h, &v), 0);
    ck_assert_int_eq((intptr_t)v, 84);
    parc_future_t *late;
    ck_assert_int_eq(parc_future_then(f, twice, NULL, &late), 0); /* runs at once */
    ck_assert_int_eq(parc_future_get_try(late, &v), 0);
    ck_assert_int_eq((intptr_t)v, 42);
    parc_future_release(late);
    parc_future_release(h);
    parc_future_release(g);
    parc_future_release(f);

    parc_atomic(int) calls;
    parc_atomic_init(&calls, 0);
    ck_assert_int_eq(parc_future_create(fail_with, (void *)(intptr_t)EDOM, &f), 0);
    ck_assert_int_eq(parc_future_then(f, then_count, (void *)&calls, &g), 0);
    parc_future_run(f);
    ck_assert_int_eq(parc_future_get(g, NULL), EDOM); /* failure passes down */
    ck_assert_int_eq(parc_load(&calls, PARC_RELAXED), 0);
    parc_future_release(g);
    parc_future_release(f);

    /* cancelling the source cancels the chain; cancelling a link skips it */
    ck_assert_int_eq(parc_future_create(add_one, NULL, &f), 0);
    ck_assert_int_eq(parc_future_then(f, then_count, (void *)&calls, &g), 0);
    ck_assert_int_eq(parc_future_then(f, then_count, (void *)&calls, &h), 0);
    ck_assert(parc_future_cancel(h));
    ck_assert(parc_future_cancel(f));
    ck_assert_int_eq(parc_future_get(g, NULL), ECANCELED);
    ck_assert(parc_future_is_cancelled(g));
    ck_assert_int_eq(parc_load(&calls, PARC_RELAXED), 0);
    parc_future_release(h);
    parc_future_release(g);
    parc_future_release(f);

    /* a pending heap future released by its last holder is cancelled */
    ck_assert_int_eq(parc_future_create(add_one, NULL, &f), 0);
    ck_assert_int_eq(parc_future_then(f, then_count, (void *)&calls, &g), 0);
    parc_future_release(f);
    ck_assert_int_eq(parc_future_get(g, NULL), ECANCELED);
    parc_future_release(g);
}
END_TEST

/* then() racing with the completion: each continuation runs exactly
 * once, with its source's value, whichever side wins. */
static int count_and_pass(void *arg, void *value, void **result)
{
    parc_faa((parc_atomic(int) *)arg, 1, PARC_RELAXED);
    *result = value;
    return 0;
}

struct race_sources {
    parc_future_t **fs;
    int n;
};

static void *run_sources(void *arg)
{
    struct race_sources *r = arg;
    for (int i = 0; i < r->n; i++)
        ck_assert_int_eq(parc_future_run(r->fs[i]), 0);
    return NULL;
}

START_TEST(then_races_with_completion)
{
    int n = 20000 / PARC_SLOWDOWN;
    parc_future_t **fs = calloc((size_t)n, sizeof *fs);
    parc_future_t **gs = calloc((size_t)n, sizeof *gs);
    parc_atomic(int) calls;
    parc_atomic_init(&calls, 0);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(parc_future_create(add_one, (void *)(intptr_t)i, &fs[i]), 0);
    struct race_sources r = { fs, n };
    pthread_t th;
    parc_test_spawn(&th, 1, run_sources, &r, sizeof r);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(parc_future_then(fs[i], count_and_pass, (void *)&calls, &gs[i]), 0);
    parc_test_join(&th, 1);
    for (int i = 0; i < n; i++) {
        void *v = NULL;
        ck_assert_int_eq(parc_future_get_timed(gs[i], &v, PARC_TEST_PATIENCE_NS), 0);
        ck_assert_int_eq((intptr_t)v, i + 1);
        parc_future_release(gs[i]);
        parc_future_release(fs[i]);
    }
    ck_assert_int_eq(parc_load(&calls, PARC_RELAXED), n);
    free(fs);
    free(gs);
}
END_TEST

/* ---- sets ----------------------------------------------------------------- */

START_TEST(wait_all_and_any)
{
    enum { N = 4 };
    parc_future_t fs[N];
    parc_future_t *set[N];
    for (int i = 0; i < N; i++) {
        parc_future_init(&fs[i], NULL, NULL);
        set[i] = &fs[i];
    }
    size_t idx = 99;
    ck_assert_int_eq(parc_future_wait_all(set, 0), 0);
    ck_assert_int_eq(parc_future_wait_any_try(set, N, &idx), EAGAIN);
    ck_assert_int_eq(parc_future_wait_any_timed(set, N, &idx, 2 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_eq(parc_future_wait_all_timed(set, N, 2 * PARC_NS_PER_MS), ETIMEDOUT);

    /* as_completed: each completion from another thread is reported once */
    struct later l[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        l[i] = (struct later){ &fs[i], (int64_t)(N - i) * 5 * PARC_NS_PER_MS, 0 };
        ck_assert_int_eq(pthread_create(&t[i], NULL, complete_later, &l[i]), 0);
    }
    size_t left = N;
    while (left > 0) {
        ck_assert_int_eq(parc_future_wait_any_timed(set, left, &idx, PARC_TEST_PATIENCE_NS), 0);
        ck_assert_uint_lt(idx, left);
        ck_assert(parc_future_is_done(set[idx]));
        set[idx] = set[--left];
    }
    for (int i = 0; i < N; i++)
        set[i] = &fs[i];
    ck_assert_int_eq(parc_future_wait_all(set, N), 0);
    parc_test_join(t, N);
    for (int i = 0; i < N; i++)
        parc_future_destroy(&fs[i]);
}
END_TEST

/* ---- the help hook: a waiter runs the work it waits for ------------------ */

struct helper_state {
    parc_future_t *pending;
    int helped;
};

static bool run_pending(void *ctx)
{
    struct helper_state *h = ctx;
    if (h->pending == NULL)
        return false;
    parc_future_t *f = h->pending;
    h->pending = NULL;
    h->helped++;
    parc_future_run(f);
    return true;
}

START_TEST(help_hook_runs_work_instead_of_blocking)
{
    /* One thread, nobody else to run the task: without the hook the wait
     * would time out. */
    parc_future_t f;
    parc_future_init(&f, add_one, (void *)1);
    struct helper_state h = { &f, 0 };
    parc_future_set_help_hook(run_pending, &h);
    void *v;
    ck_assert_int_eq(parc_future_get_timed(&f, &v, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq((intptr_t)v, 2);
    ck_assert_int_eq(h.helped, 1);

    parc_future_t g;
    parc_future_init(&g, add_one, (void *)2);
    parc_future_t *set[1] = { &g };
    size_t idx;
    h.pending = &g;
    ck_assert_int_eq(parc_future_wait_any_timed(set, 1, &idx, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq(h.helped, 2);
    parc_future_set_help_hook(NULL, NULL);
    parc_future_destroy(&f);
    parc_future_destroy(&g);
}
END_TEST

/* A join hook that "takes back" one future: the one it was given. */
struct joiner_state {
    parc_future_t *queued; /* what the pretend queue holds */
    int calls;
    parc_future_t *last_asked;
};

static bool take_back(void *ctx, parc_future_t *f)
{
    struct joiner_state *j = ctx;
    j->calls++;
    j->last_asked = f;
    if (j->queued != f)
        return false;
    j->queued = NULL;
    return true;
}

START_TEST(join_hook_runs_the_awaited_future_inline)
{
    struct joiner_state j = { NULL, 0, NULL };
    struct helper_state h = { NULL, 0 };
    parc_future_set_join_hook(take_back, &j);
    parc_future_set_help_hook(run_pending, &h);

    /* Taken back: runs here, on this thread, without the help hook. */
    parc_future_t f;
    parc_future_init(&f, add_one, (void *)1);
    j.queued = &f;
    void *v;
    ck_assert_int_eq(parc_future_get(&f, &v), 0);
    ck_assert_int_eq((intptr_t)v, 2);
    ck_assert_int_eq(j.calls, 1);
    ck_assert_ptr_eq(j.last_asked, &f);
    ck_assert_int_eq(h.helped, 0);
    /* Complete: a second get asks nobody. */
    ck_assert_int_eq(parc_future_get(&f, &v), 0);
    ck_assert_int_eq(j.calls, 1);

    /* Not taken (the hook says false): the help hook runs it instead. */
    parc_future_t g;
    parc_future_init(&g, add_one, (void *)2);
    h.pending = &g;
    ck_assert_int_eq(parc_future_wait_timed(&g, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq(j.calls, 2);
    ck_assert_int_eq(h.helped, 1);

    /* Cancelled before the join: never runs, the hook is not asked. */
    parc_future_t c;
    parc_future_init(&c, add_one, (void *)3);
    j.queued = &c;
    ck_assert(parc_future_cancel(&c));
    ck_assert_int_eq(parc_future_get(&c, &v), ECANCELED);
    ck_assert_int_eq(j.calls, 2);

    /* A heap future: the queue's reference is dropped after the run, the
     * waiter's stays. */
    parc_future_t *hf;
    ck_assert_int_eq(parc_future_create(add_one, (void *)4, &hf), 0);
    parc_future_retain(hf); /* the pretend queue's reference */
    j.queued = hf;
    ck_assert_int_eq(parc_future_get(hf, &v), 0);
    ck_assert_int_eq((intptr_t)v, 5);
    ck_assert_uint_eq(parc_load(&hf->refs, PARC_RELAXED), 1u);
    parc_future_release(hf);

    parc_future_set_join_hook(NULL, NULL);
    parc_future_set_help_hook(NULL, NULL);
    parc_future_destroy(&f);
    parc_future_destroy(&g);
    parc_future_destroy(&c);
}
END_TEST

static Suite *future_suite(void)
{
    Suite *s = suite_create("future");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rejects_bad_arguments);
    tcase_add_test(tc, run_then_get);
    tcase_add_test(tc, failure_is_carried_as_code);
    tcase_add_test(tc, cancel_before_start_never_runs);
    tcase_add_test(tc, held_future_is_not_destroyed_before_the_scheduler_lets_go);
    tcase_add_test(tc, promise_completed_by_user);
    tcase_add_test(tc, waiter_parks_until_completed);
    tcase_add_test(tc, timed_wait_times_out_then_succeeds);
    tcase_add_test(tc, cancel_races_with_start);
    tcase_add_test(tc, then_chains_values_and_errors);
    tcase_add_test(tc, then_races_with_completion);
    tcase_add_test(tc, wait_all_and_any);
    tcase_add_test(tc, help_hook_runs_work_instead_of_blocking);
    tcase_add_test(tc, join_hook_runs_the_awaited_future_inline);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(future_suite());
}
