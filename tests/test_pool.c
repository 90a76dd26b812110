/*
 * Unit tests for parc/pool.h: every call and the life-cycle edges
 * (submit after close, join twice, terminate cancelling queued work),
 * fork/join that must not deadlock with one worker, map/starmap/imap/
 * parallel_for order and chunking, callbacks, worker names, initializer,
 * affinity, and an idle pool that burns no CPU.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "parc/pool.h"
#include "testutil.h"

static int ret_arg(void *arg, void **result)
{
    *result = arg;
    return 0;
}

static int fail_with(void *arg, void **result)
{
    (void)result;
    return (int)(intptr_t)arg;
}

static int count_task(void *arg, void **result)
{
    (void)result;
    parc_faa((parc_atomic(int64_t) *)arg, 1, PARC_RELAXED);
    return 0;
}

static parc_pool_t *make_pool(unsigned workers)
{
    parc_pool_t *p = NULL;
    ck_assert_int_eq(parc_pool_create(workers, NULL, &p), 0);
    ck_assert_ptr_nonnull(p);
    return p;
}

START_TEST(create_and_bad_arguments)
{
    parc_pool_t *p = NULL;
    ck_assert_int_eq(parc_pool_create(1, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_pool_create(100000, NULL, &p), EINVAL);
    int bad_cpu = -1;
    parc_pool_options_t o = PARC_POOL_OPTIONS_INIT;
    o.cpus = &bad_cpu;
    o.ncpus = 1;
    ck_assert_int_eq(parc_pool_create(1, &o, &p), EINVAL);
    ck_assert_int_eq(parc_pool_workers(NULL), 0);
    ck_assert_int_eq(parc_pool_current_worker(NULL), -1);
    ck_assert_int_eq(parc_pool_close(NULL), EINVAL);
    ck_assert_int_eq(parc_pool_join(NULL), EINVAL);
    ck_assert_int_eq(parc_pool_terminate(NULL), EINVAL);
    ck_assert_int_eq(parc_pool_shutdown(NULL, true, false), EINVAL);
    ck_assert_int_eq(parc_pool_free(NULL), EINVAL);
    ck_assert_int_eq(parc_pool_submit(NULL, ret_arg, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_pool_imap_next(NULL, NULL, NULL), EINVAL);

    ck_assert_int_eq(parc_pool_create(0, NULL, &p), 0);
    ck_assert_uint_eq(parc_pool_workers(p), (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
    ck_assert_int_eq(parc_pool_current_worker(p), -1);
    ck_assert_int_eq(parc_pool_submit(p, NULL, NULL, NULL), EINVAL);
    int x;
    ck_assert_int_eq(parc_pool_map(p, NULL, &x, &x, 1, 4, 4, 0), EINVAL);
    ck_assert_int_eq(parc_pool_map(p, (parc_pool_map_fn)NULL, NULL, NULL, 0, 4, 4, 0), EINVAL);
    ck_assert_int_eq(parc_pool_parallel_for(p, 5, 1, 0, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_pool_free(p), 0);
}
END_TEST

START_TEST(submit_get_and_life_cycle)
{
    parc_pool_t *p = make_pool(2);
    parc_future_t *f, *g;
    void *v;
    ck_assert_int_eq(parc_pool_submit(p, ret_arg, (void *)42, &f), 0);
    ck_assert_int_eq(parc_pool_submit(p, fail_with, (void *)(intptr_t)ERANGE, &g), 0);
    ck_assert_int_eq(parc_future_get(f, &v), 0);
    ck_assert_int_eq((intptr_t)v, 42);
    ck_assert_int_eq(parc_future_get(g, &v), ERANGE); /* failure as a code */
    parc_future_release(f);
    parc_future_release(g);

    parc_atomic(int64_t) runs;
    parc_atomic_init(&runs, 0);
    enum { N = 1000 };
    for (int i = 0; i < N; i++) /* fire and forget */
        ck_assert_int_eq(parc_pool_submit(p, count_task, (void *)&runs, NULL), 0);
    ck_assert_int_eq(parc_pool_close(p), 0);
    ck_assert_int_eq(parc_pool_submit(p, count_task, (void *)&runs, NULL), EPIPE);
    ck_assert_int_eq(parc_pool_submit(p, count_task, (void *)&runs, &f), EPIPE);
    ck_assert_int_eq(parc_pool_close(p), 0); /* idempotent */
    ck_assert_int_eq(parc_pool_join(p), 0);
    /* join: all accepted work has run */
    ck_assert_int_eq(parc_load(&runs, PARC_RELAXED), N);
    ck_assert_int_eq(parc_pool_join(p), 0); /* twice is harmless */
    ck_assert_int_eq(parc_pool_shutdown(p, true, false), 0);
    int x = 1;
    ck_assert_int_eq(parc_pool_map(p, (parc_pool_map_fn)ret_arg, &x, &x, 1, sizeof x, sizeof x, 0), EPIPE);
    ck_assert_int_eq(parc_pool_free(p), 0);
}
END_TEST

/* ---- workers: names, initializer, affinity, current ------------------ */

struct init_log {
    parc_atomic(int) calls;
    parc_atomic(int) seen_mask;
};

static void init_worker(void *arg, unsigned worker)
{
    struct init_log *l = arg;
    parc_faa(&l->calls, 1, PARC_RELAXED);
    parc_for(&l->seen_mask, 1 << worker, PARC_RELAXED);
}

static parc_pool_t *name_pool;

static int report_worker(void *arg, void **result)
{
    char *name = arg;
    pthread_getname_np(pthread_self(), name, 16);
    *result = (void *)(intptr_t)parc_pool_current_worker(name_pool);
    return 0;
}

static int report_cpu(void *arg, void **result)
{
    (void)arg;
    *result = (void *)(intptr_t)sched_getcpu();
    return 0;
}

START_TEST(workers_named_initialized_pinned)
{
    struct init_log log;
    parc_atomic_init(&log.calls, 0);
    parc_atomic_init(&log.seen_mask, 0);
    parc_pool_options_t o = PARC_POOL_OPTIONS_INIT;
    o.initializer = init_worker;
    o.initializer_arg = &log;
    int cpu0 = 0;
    o.cpus = &cpu0;
    o.ncpus = 1;
    parc_pool_t *p;
    ck_assert_int_eq(parc_pool_create(3, &o, &p), 0);
    name_pool = p;
    char name[16] = "";
    parc_future_t *f;
    void *v;
    ck_assert_int_eq(parc_pool_submit(p, report_worker, name, &f), 0);
    ck_assert_int_eq(parc_future_get(f, &v), 0);
    parc_future_release(f);
    int idx = (int)(intptr_t)v;
    ck_assert_int_ge(idx, 0);
    ck_assert_int_lt(idx, 3);
    char want[16];
    snprintf(want, sizeof want, "parc-w%d", idx);
    ck_assert_str_eq(name, want);
    ck_assert_int_eq(parc_pool_submit(p, report_cpu, NULL, &f), 0);
    ck_assert_int_eq(parc_future_get(f, &v), 0);
    ck_assert_int_eq((intptr_t)v, 0); /* pinned to CPU 0 */
    parc_future_release(f);
    ck_assert_int_eq(parc_pool_join(p), 0);
    /* the initializer ran once on each worker */
    ck_assert_int_eq(parc_load(&log.calls, PARC_RELAXED), 3);
    ck_assert_int_eq(parc_load(&log.seen_mask, PARC_RELAXED), 7);
    parc_pool_free(p);
}
END_TEST

/* ---- fork/join ------------------------------------------------------- */

static parc_pool_t *fj_pool;

static int fib_task(void *arg, void **result)
{
    intptr_t n = (intptr_t)arg;
    if (n < 2) {
        *result = (void *)n;
        return 0;
    }
    parc_future_t *a;
    int rc = parc_pool_submit(fj_pool, fib_task, (void *)(n - 1), &a);
    if (rc != 0)
        return rc;
    void *vb;
    fib_task((void *)(n - 2), &vb); /* the other half here */
    void *va;
    rc = parc_future_get(a, &va); /* helps instead of blocking */
    parc_future_release(a);
    *result = (void *)((intptr_t)va + (intptr_t)vb);
    return rc;
}

static void check_fib(unsigned workers)
{
    fj_pool = make_pool(workers);
    parc_future_t *f;
    void *v;
    ck_assert_int_eq(parc_pool_submit(fj_pool, fib_task, (void *)18, &f), 0);
    ck_assert_int_eq(parc_future_get_timed(f, &v, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq((intptr_t)v, 2584);
    parc_future_release(f);
    ck_assert_int_eq(parc_pool_free(fj_pool), 0);
}

/* fib with the child's future on the parent's stack (submit_future). */
static int fib_stack_task(void *arg, void **result)
{
    intptr_t n = (intptr_t)arg;
    if (n < 2) {
        *result = (void *)n;
        return 0;
    }
    parc_future_t a;
    ck_assert_int_eq(parc_future_init(&a, fib_stack_task, (void *)(n - 1)), 0);
    int rc = parc_pool_submit_future(fj_pool, &a);
    if (rc != 0)
        return rc;
    void *vb;
    fib_stack_task((void *)(n - 2), &vb);
    void *va;
    rc = parc_future_get(&a, &va); /* helps instead of blocking */
    ck_assert_int_eq(parc_future_destroy(&a), 0);
    *result = (void *)((intptr_t)va + (intptr_t)vb);
    return rc;
}

static int promise_then(void *arg, void *value, void **result)
{
    (void)arg;
    *result = value;
    return 0;
}

START_TEST(submit_future_caller_storage_and_heap)
{
    for (unsigned workers = 1; workers <= 3; workers++) {
        fj_pool = make_pool(workers);
        parc_future_t root;
        void *v;
        ck_assert_int_eq(parc_future_init(&root, fib_stack_task, (void *)18), 0);
        ck_assert_int_eq(parc_pool_submit_future(fj_pool, &root), 0);
        ck_assert_int_eq(parc_future_get_timed(&root, &v, PARC_TEST_PATIENCE_NS), 0);
        ck_assert_int_eq((intptr_t)v, 2584);
        ck_assert_int_eq(parc_pool_submit_future(fj_pool, &root), EALREADY); /* ran */
        ck_assert_int_eq(parc_future_destroy(&root), 0);
        /* a heap future: the pool takes its own reference */
        parc_future_t *h;
        ck_assert_int_eq(parc_future_create(ret_arg, (void *)7, &h), 0);
        ck_assert_int_eq(parc_pool_submit_future(fj_pool, h), 0);
        ck_assert_int_eq(parc_future_get_timed(h, &v, PARC_TEST_PATIENCE_NS), 0);
        ck_assert_int_eq((intptr_t)v, 7);
        parc_future_release(h); /* the last one (the pool dropped its own) */
        /* bad arguments */
        parc_future_t promise, *chained;
        ck_assert_int_eq(parc_future_init(&promise, NULL, NULL), 0);
        ck_assert_int_eq(parc_pool_submit_future(NULL, &root), EINVAL);
        ck_assert_int_eq(parc_pool_submit_future(fj_pool, NULL), EINVAL);
        ck_assert_int_eq(parc_pool_submit_future(fj_pool, &promise), EINVAL);
        ck_assert_int_eq(parc_future_then(&promise, promise_then, NULL, &chained), 0);
        ck_assert_int_eq(parc_pool_submit_future(fj_pool, chained), EINVAL);
        ck_assert_int_eq(parc_future_complete(&promise, 0, (void *)3), 0);
        ck_assert_int_eq(parc_future_get(chained, &v), 0);
        ck_assert_int_eq((intptr_t)v, 3);
        parc_future_release(chained);
        ck_assert_int_eq(parc_future_destroy(&promise), 0);
        /* refused after close: left pending and untouched */
        parc_pool_close(fj_pool);
        parc_future_t late;
        ck_assert_int_eq(parc_future_init(&late, ret_arg, NULL), 0);
        ck_assert_int_eq(parc_pool_submit_future(fj_pool, &late), EPIPE);
        ck_assert(!parc_future_is_done(&late));
        ck_assert_int_eq(parc_future_create(ret_arg, NULL, &h), 0);
        ck_assert_int_eq(parc_pool_submit_future(fj_pool, h), EPIPE);
        parc_future_release(h); /* our reference is the only one: freed */
        ck_assert_int_eq(parc_future_destroy(&late), 0);
        ck_assert_int_eq(parc_pool_free(fj_pool), 0);
    }
}
END_TEST

START_TEST(fib_one_worker) { check_fib(1); }
END_TEST
START_TEST(fib_two_workers) { check_fib(2); }
END_TEST
START_TEST(fib_four_workers) { check_fib(4); }
END_TEST

/* parallel mergesort: sort both halves (one as a subtask), merge */
struct msort {
    int *a, *tmp;
    size_t n;
};

static int msort_task(void *arg, void **result)
{
    struct msort *m = arg;
    (void)result;
    if (m->n <= 16) { /* insertion sort at the leaves */
        for (size_t i = 1; i < m->n; i++)
            for (size_t j = i; j > 0 && m->a[j - 1] > m->a[j]; j--) {
                int t = m->a[j];
                m->a[j] = m->a[j - 1];
                m->a[j - 1] = t;
            }
        return 0;
    }
    size_t h = m->n / 2;
    struct msort left = { m->a, m->tmp, h }, right = { m->a + h, m->tmp + h, m->n - h };
    parc_future_t *f;
    int rc = parc_pool_submit(fj_pool, msort_task, &left, &f);
    if (rc != 0)
        return rc;
    msort_task(&right, NULL);
    rc = parc_future_get(f, NULL); /* the child's struct lives on our stack */
    parc_future_release(f);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < m->n)
        m->tmp[k++] = m->a[i] <= m->a[j] ? m->a[i++] : m->a[j++];
    while (i < h)
        m->tmp[k++] = m->a[i++];
    while (j < m->n)
        m->tmp[k++] = m->a[j++];
    memcpy(m->a, m->tmp, m->n * sizeof *m->a);
    return rc;
}

static void check_mergesort(unsigned workers)
{
    enum { N = 20000 };
    fj_pool = make_pool(workers);
    int *a = malloc(N * sizeof *a), *tmp = malloc(N * sizeof *tmp);
    uint32_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        a[i] = (int)(x >> 8) % 1000;
    }
    struct msort root = { a, tmp, N };
    parc_future_t *f;
    ck_assert_int_eq(parc_pool_submit(fj_pool, msort_task, &root, &f), 0);
    ck_assert_int_eq(parc_future_get_timed(f, NULL, PARC_TEST_PATIENCE_NS), 0);
    parc_future_release(f);
    for (int i = 1; i < N; i++)
        ck_assert_int_le(a[i - 1], a[i]);
    free(a);
    free(tmp);
    ck_assert_int_eq(parc_pool_free(fj_pool), 0);
}

START_TEST(mergesort_one_worker) { check_mergesort(1); }
END_TEST
START_TEST(mergesort_two_workers) { check_mergesort(2); }
END_TEST

static int wait_own_child(void *arg, void **result)
{
    (void)arg;
    parc_future_t *child;
    int rc = parc_pool_submit(fj_pool, ret_arg, (void *)7, &child);
    if (rc != 0)
        return rc;
    rc = parc_future_get(child, result); /* one worker: must run it itself */
    parc_future_release(child);
    return rc;
}

START_TEST(task_waits_on_own_child_with_one_worker)
{
    fj_pool = make_pool(1);
    parc_future_t *f;
    void *v;
    ck_assert_int_eq(parc_pool_submit(fj_pool, wait_own_child, NULL, &f), 0);
    ck_assert_int_eq(parc_future_get_timed(f, &v, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq((intptr_t)v, 7);
    parc_future_release(f);
    ck_assert_int_eq(parc_pool_join(fj_pool), 0);
    parc_pool_free(fj_pool);
}
END_TEST

static int join_from_worker(void *arg, void **result)
{
    (void)result;
    return parc_pool_join((parc_pool_t *)arg);
}

START_TEST(join_from_own_worker_is_edeadlk)
{
    parc_pool_t *p = make_pool(1);
    parc_future_t *f;
    ck_assert_int_eq(parc_pool_submit(p, join_from_worker, p, &f), 0);
    ck_assert_int_eq(parc_future_get(f, NULL), EDEADLK);
    parc_future_release(f);
    parc_pool_free(p);
}
END_TEST

/* ---- apply_async and callbacks --------------------------------------- */

struct cb_state {
    parc_pool_t *pool;
    parc_atomic(int) ok, err, submitted_ran;
    intptr_t value;
    int status;
};

static int note_run(void *arg, void **result)
{
    (void)result;
    parc_faa(&((struct cb_state *)arg)->submitted_ran, 1, PARC_RELAXED);
    return 0;
}

static void on_ok(void *ctx, void *value)
{
    struct cb_state *s = ctx;
    s->value = (intptr_t)value;
    /* a callback may submit */
    ck_assert_int_eq(parc_pool_submit(s->pool, note_run, s, NULL), 0);
    parc_faa(&s->ok, 1, PARC_RELAXED);
}

static void on_err(void *ctx, int status)
{
    struct cb_state *s = ctx;
    s->status = status;
    parc_faa(&s->err, 1, PARC_RELAXED);
}

START_TEST(apply_async_callbacks)
{
    struct cb_state s = { .pool = make_pool(2) };
    parc_atomic_init(&s.ok, 0);
    parc_atomic_init(&s.err, 0);
    parc_atomic_init(&s.submitted_ran, 0);
    parc_future_t *f;
    ck_assert_int_eq(parc_pool_apply_async(s.pool, ret_arg, (void *)5, on_ok, on_err, &s, &f), 0);
    ck_assert_int_eq(parc_future_get(f, NULL), 0);
    /* callbacks run before the future completes (Python's order) */
    ck_assert_int_eq(parc_load(&s.ok, PARC_RELAXED), 1);
    ck_assert_int_eq(s.value, 5);
    parc_future_release(f);
    ck_assert_int_eq(parc_pool_apply_async(s.pool, fail_with, (void *)(intptr_t)EIO, on_ok, on_err, &s, &f), 0);
    ck_assert_int_eq(parc_future_get(f, NULL), EIO);
    ck_assert_int_eq(parc_load(&s.err, PARC_RELAXED), 1);
    ck_assert_int_eq(s.status, EIO);
    parc_future_release(f);
    ck_assert_int_eq(parc_pool_apply_async(s.pool, ret_arg, NULL, NULL, NULL, NULL, NULL), 0);
    ck_assert_int_eq(parc_pool_join(s.pool), 0);
    ck_assert_int_eq(parc_load(&s.submitted_ran, PARC_RELAXED), 1);
    ck_assert_int_eq(parc_load(&s.ok, PARC_RELAXED), 1);
    ck_assert_int_eq(parc_pool_apply_async(s.pool, ret_arg, NULL, on_ok, NULL, &s, NULL), EPIPE);
    parc_pool_free(s.pool);
}
END_TEST

/* ---- terminate and cancel ---------------------------------------------- */

static parc_atomic(int) gate;

static int wait_gate(void *arg, void **result)
{
    (void)arg;
    (void)result;
    /* acquire: pairs with the release store that opens the gate */
    while (parc_load(&gate, PARC_ACQUIRE) == 0)
        parc_sleep_ns(100 * PARC_NS_PER_US);
    return 0;
}

static void block_worker(parc_pool_t *p, parc_future_t **blocker)
{
    parc_store(&gate, 0, PARC_RELAXED);
    ck_assert_int_eq(parc_pool_submit(p, wait_gate, NULL, blocker), 0);
    /* wait until the worker has started it (acquire: pairs with the
     * claim's CAS; only the phase is read) */
    while (!parc_future_is_done(*blocker)
           && (parc_load(&(*blocker)->state, PARC_ACQUIRE) & PARC_FUTURE_PHASE)
                  != PARC_FUTURE_RUNNING)
        parc_sleep_ns(100 * PARC_NS_PER_US);
}

START_TEST(cancel_queued_task)
{
    parc_pool_t *p = make_pool(1);
    parc_future_t *blocker, *f;
    parc_atomic(int64_t) runs;
    parc_atomic_init(&runs, 0);
    block_worker(p, &blocker);
    ck_assert_int_eq(parc_pool_submit(p, count_task, (void *)&runs, &f), 0);
    ck_assert(!parc_future_cancel(blocker)); /* already running */
    ck_assert(parc_future_cancel(f));        /* not started: wins */
    ck_assert_int_eq(parc_future_get(f, NULL), ECANCELED);
    parc_store(&gate, 1, PARC_RELEASE); /* release: pairs with wait_gate's acquire */
    ck_assert_int_eq(parc_pool_join(p), 0);
    ck_assert_int_eq(parc_load(&runs, PARC_RELAXED), 0);
    ck_assert_int_eq(parc_future_get(blocker, NULL), 0);
    parc_future_release(f);
    parc_future_release(blocker);
    parc_pool_free(p);
}
END_TEST

/* A caller-storage future cancelled while it waits in the pool's queue:
 * the worker still looks at it when it gets there, so the storage must
 * not be reused before: destroy says EBUSY until the pool let go (after
 * that worker's look), then 0. Without the hold, destroy said 0 at once
 * and the worker later read freed stack memory (ASan: use after return). */
START_TEST(cancelled_caller_storage_future_is_held_until_the_pool_lets_go)
{
    parc_pool_t *p = make_pool(1);
    parc_future_t *blocker;
    parc_atomic(int64_t) runs;
    parc_atomic_init(&runs, 0);
    block_worker(p, &blocker);
    parc_future_t f, g;
    parc_future_init(&f, count_task, (void *)&runs);
    parc_future_init(&g, count_task, (void *)&runs);
    ck_assert_int_eq(parc_pool_submit_future(p, &f), 0);
    ck_assert_int_eq(parc_pool_submit_future(p, &f), EALREADY); /* held */
    ck_assert_int_eq(parc_pool_submit_future(p, &g), 0);
    ck_assert_int_eq(parc_future_destroy(&g), EBUSY); /* pending, queued */
    ck_assert(parc_future_cancel(&f));                /* not started: wins */
    ck_assert_int_eq(parc_future_get(&f, NULL), ECANCELED);
    ck_assert_int_eq(parc_future_destroy(&f), EBUSY); /* the queue holds it */
    parc_store(&gate, 1, PARC_RELEASE); /* release: pairs with wait_gate's acquire */
    ck_assert_int_eq(parc_future_get(&g, NULL), 0);
    ck_assert_int_eq(parc_future_destroy(&g), 0); /* ran: not held */
    /* join: every accepted item has been taken, f included */
    ck_assert_int_eq(parc_pool_join(p), 0);
    ck_assert_int_eq(parc_future_destroy(&f), 0);
    ck_assert_int_eq(parc_load(&runs, PARC_RELAXED), 1); /* g only */
    ck_assert_int_eq(parc_future_get(blocker, NULL), 0);
    parc_future_release(blocker);
    parc_pool_free(p);
}
END_TEST

/* terminate cancels a held caller-storage future and lets go of it in
 * the same step: destroy is 0 right after the pool is joined. */
START_TEST(terminate_lets_go_of_caller_storage_futures)
{
    parc_pool_t *p = make_pool(1);
    parc_future_t *blocker;
    parc_atomic(int64_t) runs;
    parc_atomic_init(&runs, 0);
    block_worker(p, &blocker);
    parc_future_t f;
    parc_future_init(&f, count_task, (void *)&runs);
    ck_assert_int_eq(parc_pool_submit_future(p, &f), 0);
    ck_assert_int_eq(parc_pool_terminate(p), 0);
    parc_store(&gate, 1, PARC_RELEASE); /* release: pairs with wait_gate's acquire */
    ck_assert_int_eq(parc_pool_join(p), 0);
    ck_assert_int_eq(parc_future_get(&f, NULL), ECANCELED);
    ck_assert_int_eq(parc_future_destroy(&f), 0);
    ck_assert_int_eq(parc_load(&runs, PARC_RELAXED), 0);
    parc_future_release(blocker);
    parc_pool_free(p);
}
END_TEST

START_TEST(terminate_cancels_work_not_started)
{
    for (int round = 0; round < 2; round++) {
        parc_pool_t *p = make_pool(1);
        parc_future_t *blocker;
        enum { N = 100 };
        parc_future_t *fs[N];
        parc_atomic(int64_t) runs;
        parc_atomic_init(&runs, 0);
        block_worker(p, &blocker);
        for (int i = 0; i < N; i++)
            ck_assert_int_eq(parc_pool_submit(p, count_task, (void *)&runs, &fs[i]), 0);
        if (round == 0)
            ck_assert_int_eq(parc_pool_terminate(p), 0);
        else
            ck_assert_int_eq(parc_pool_shutdown(p, false, true), 0);
        ck_assert_int_eq(parc_pool_submit(p, count_task, (void *)&runs, NULL), EPIPE);
        for (int i = 0; i < N; i++)
            ck_assert_int_eq(parc_future_get(fs[i], NULL), ECANCELED);
        /* release: pairs with wait_gate's acquire; the running task ends */
        parc_store(&gate, 1, PARC_RELEASE);
        ck_assert_int_eq(parc_future_get(blocker, NULL), 0);
        ck_assert_int_eq(parc_pool_join(p), 0);
        ck_assert_int_eq(parc_load(&runs, PARC_RELAXED), 0);
        for (int i = 0; i < N; i++)
            parc_future_release(fs[i]);
        parc_future_release(blocker);
        ck_assert_int_eq(parc_pool_free(p), 0);
    }
}
END_TEST

START_TEST(cancel_races_with_workers)
{
    /* submit and cancel at once, many times: exactly one of {the task
     * ran, the cancel won} for each */
    parc_pool_t *p = make_pool(2);
    enum { N = 4000 };
    parc_atomic(int64_t) *ran = calloc(N, sizeof *ran);
    bool *won = calloc(N, sizeof *won);
    parc_future_t *f;
    for (int i = 0; i < N / PARC_SLOWDOWN; i++) {
        ck_assert_int_eq(parc_pool_submit(p, count_task, (void *)&ran[i], &f), 0);
        if (i % 3 == 1)
            parc_sleep_ns(1000); /* sometimes let a worker get there first */
        won[i] = parc_future_cancel(f);
        ck_assert_int_eq(parc_future_get(f, NULL), won[i] ? ECANCELED : 0);
        parc_future_release(f);
    }
    ck_assert_int_eq(parc_pool_join(p), 0);
    int cancels = 0;
    for (int i = 0; i < N / PARC_SLOWDOWN; i++) {
        ck_assert_int_eq(parc_load(&ran[i], PARC_RELAXED) + (won[i] ? 1 : 0), 1);
        cancels += won[i];
    }
    ck_assert_int_gt(cancels, 0); /* the race was really run */
    free(ran);
    free(won);
    parc_pool_free(p);
}
END_TEST

/* A worker's join takes its child back from its own deque and runs it
 * directly (the join hook); a cancel from another thread races that run:
 * exactly one of {the child ran, the cancel won}, and the joining get
 * says which (ECANCELED or 0). One worker: the child is always the
 * newest item of the joiner's own deque. */
struct join_race {
    parc_pool_t *pool;
    parc_atomic(parc_future_t *) child; /* published for the canceller */
    parc_atomic(int64_t) ran;
    unsigned delay;
    int get_rc;
};

static int join_race_parent(void *arg, void **result)
{
    (void)result;
    struct join_race *j = arg;
    parc_future_t *c;
    int rc = parc_pool_submit(j->pool, count_task, (void *)&j->ran, &c);
    if (rc != 0)
        return rc;
    parc_future_retain(c); /* the canceller's reference */
    /* release: publishes c (and its reference) to the canceller's
     * acquire load */
    parc_store(&j->child, c, PARC_RELEASE);
    for (unsigned i = 0; i < j->delay; i++)
        parc_cpu_relax();
    j->get_rc = parc_future_get(c, NULL);
    parc_future_release(c);
    return 0;
}

START_TEST(cancel_races_with_join)
{
    parc_pool_t *p = make_pool(1);
    int rounds = 2000 / PARC_SLOWDOWN;
    for (int i = 0; i < rounds; i++) {
        struct join_race j = { .pool = p, .delay = (unsigned)(i % 97) * 4u };
        parc_atomic_init(&j.child, (parc_future_t *)NULL);
        parc_atomic_init(&j.ran, 0);
        parc_future_t *pf;
        ck_assert_int_eq(parc_pool_submit(p, join_race_parent, &j, &pf), 0);
        parc_future_t *c;
        /* acquire: pairs with the parent's release store */
        while ((c = parc_load(&j.child, PARC_ACQUIRE)) == NULL)
            parc_cpu_relax();
        bool won = parc_future_cancel(c);
        parc_future_release(c);
        ck_assert_int_eq(parc_future_get(pf, NULL), 0);
        parc_future_release(pf);
        ck_assert_int_eq(j.get_rc, won ? ECANCELED : 0);
        ck_assert_int_eq(parc_load(&j.ran, PARC_RELAXED), won ? 0 : 1);
    }
    parc_pool_free(p);
}
END_TEST

/* ---- many outside submitters --------------------------------------------- */

struct submitter {
    parc_pool_t *pool;
    parc_atomic(int64_t) *hits; /* one counter per task: each must run once */
    int base, count;
};

static int hit_task(void *arg, void **result)
{
    (void)result;
    parc_faa((parc_atomic(int64_t) *)arg, 1, PARC_RELAXED);
    return 0;
}

static void *submit_many(void *arg)
{
    struct submitter *s = arg;
    for (int i = 0; i < s->count; i++)
        ck_assert_int_eq(parc_pool_submit(s->pool, hit_task, (void *)&s->hits[s->base + i], NULL), 0);
    return NULL;
}

/* Submitters racing with close: every accepted task runs exactly once,
 * every refused one (EPIPE) never, and join returns after all of them. */
struct close_racer {
    parc_pool_t *pool;
    parc_atomic(int64_t) *hits;
    int base, count;
    int accepted;            /* tasks [base, base + accepted) were taken */
};

static void *submit_until_closed(void *arg)
{
    struct close_racer *s = arg;
    s->accepted = s->count;
    for (int i = 0; i < s->count; i++) {
        int rc = parc_pool_submit(s->pool, hit_task, (void *)&s->hits[s->base + i], NULL);
        if (rc == EPIPE) {
            s->accepted = i;
            break;
        }
        ck_assert_int_eq(rc, 0);
    }
    return NULL;
}

START_TEST(close_races_with_outside_submitters)
{
    enum { T = 4 };
    int per = 40000 / PARC_SLOWDOWN;
    for (int round = 0; round < 3; round++) {
        parc_pool_t *p = make_pool(2);
        parc_atomic(int64_t) *hits = calloc((size_t)(T * per), sizeof *hits);
        struct close_racer s[T];
        pthread_t th[T];
        for (int i = 0; i < T; i++)
            s[i] = (struct close_racer){ p, hits, i * per, per, 0 };
        parc_test_spawn(th, T, submit_until_closed, s, sizeof s[0]);
        parc_sleep_ns((round + 1) * PARC_NS_PER_MS);
        ck_assert_int_eq(parc_pool_close(p), 0);
        ck_assert_int_eq(parc_pool_join(p), 0);
        parc_test_join(th, T);
        for (int t = 0; t < T; t++)
            for (int i = 0; i < per; i++)
                ck_assert_int_eq(parc_load(&hits[s[t].base + i], PARC_RELAXED),
                                 i < s[t].accepted ? 1 : 0);
        free(hits);
        parc_pool_free(p);
    }
}
END_TEST

START_TEST(outside_submitters_each_task_once)
{
    enum { T = 4 };
    int per = 20000 / PARC_SLOWDOWN;
    parc_pool_t *p = make_pool(2);
    parc_atomic(int64_t) *hits = calloc((size_t)(T * per), sizeof *hits);
    struct submitter s[T];
    pthread_t th[T];
    for (int i = 0; i < T; i++)
        s[i] = (struct submitter){ p, hits, i * per, per };
    parc_test_spawn(th, T, submit_many, s, sizeof s[0]);
    parc_test_join(th, T);
    ck_assert_int_eq(parc_pool_join(p), 0);
    for (int i = 0; i < T * per; i++)
        ck_assert_int_eq(parc_load(&hits[i], PARC_RELAXED), 1);
    free(hits);
    parc_pool_free(p);
}
END_TEST

/* ---- map, starmap, parallel_for, imap ------------------------------------- */

static int square(const void *in, void *out)
{
    int x = *(const int *)in;
    *(int *)out = x * x;
    return 0;
}

static int square_fail_on_13(const void *in, void *out)
{
    int x = *(const int *)in;
    if (x % 13 == 0 && x > 0)
        return x == 13 ? EDOM : ERANGE;
    *(int *)out = x * x;
    return 0;
}

static parc_atomic(int) elems_seen;

static int count_elem(const void *in, void *out)
{
    (void)in;
    if (out != NULL)
        return EINVAL;
    parc_faa(&elems_seen, 1, PARC_RELAXED);
    return 0;
}

START_TEST(map_like_python)
{
    parc_pool_t *p = make_pool(5); /* the seed: Pool(5).map(square, [1,2,3]) */
    int in[3] = { 1, 2, 3 }, out[3] = { 0 };
    ck_assert_int_eq(parc_pool_map(p, square, in, out, 3, sizeof(int), sizeof(int), 0), 0);
    ck_assert_int_eq(out[0], 1);
    ck_assert_int_eq(out[1], 4);
    ck_assert_int_eq(out[2], 9);
    ck_assert_int_eq(parc_pool_map(p, square, NULL, NULL, 0, sizeof(int), sizeof(int), 0), 0);
    /* sizes not divisible by the chunk size, and automatic chunks */
    enum { N = 1009 };
    int *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    for (size_t chunk = 0; chunk < 12; chunk++) {
        for (int n = 0; n <= N; n += 97) {
            for (int i = 0; i < N; i++) {
                a[i] = i;
                b[i] = -1;
            }
            ck_assert_int_eq(parc_pool_map(p, square, a, b, (size_t)n, sizeof(int), sizeof(int), chunk), 0);
            for (int i = 0; i < n; i++)
                ck_assert_int_eq(b[i], i * i);
            for (int i = n; i < N; i++)
                ck_assert_int_eq(b[i], -1); /* nothing past n written */
        }
    }
    /* out_size 0 and no output array: fn sees out == NULL */
    ck_assert_int_eq(parc_pool_map(p, count_elem, a, NULL, N, sizeof(int), 0, 7), 0);
    ck_assert_int_eq(parc_load(&elems_seen, PARC_RELAXED), N);
    /* the first failure in input order is reported */
    ck_assert_int_eq(parc_pool_map(p, square_fail_on_13, a, b, N, sizeof(int), sizeof(int), 1), EDOM);
    ck_assert_int_eq(parc_pool_map(p, square_fail_on_13, a, b, 13, sizeof(int), sizeof(int), 3), 0);
    free(a);
    free(b);
    parc_pool_close(p);
    ck_assert_int_eq(parc_pool_join(p), 0);
    parc_pool_free(p);
}
END_TEST

/* The typed map: an int -> long64 element function inlined into each
 * chunk's loop (the strides are the types', not byte sizes). */
static inline int widen_square(const void *in, void *out)
{
    int64_t x = *(const int *)in;
    *(int64_t *)out = x * x + 1;
    return 0;
}
PARC_POOL_MAP_DEFINE(widen_square_map, widen_square, int, int64_t);
PARC_POOL_MAP_DEFINE(square_fail_map, square_fail_on_13, int, int);

START_TEST(typed_map_define)
{
    parc_pool_t *p = make_pool(3);
    enum { N = 1009 };
    int *a = malloc(N * sizeof *a);
    int64_t *b = malloc(N * sizeof *b);
    for (size_t chunk = 0; chunk < 12; chunk++) {
        for (int n = 0; n <= N; n += 97) {
            for (int i = 0; i < N; i++) {
                a[i] = i;
                b[i] = -1;
            }
            ck_assert_int_eq(widen_square_map(p, a, b, (size_t)n, chunk), 0);
            for (int i = 0; i < n; i++)
                ck_assert_int_eq(b[i], (int64_t)i * i + 1);
            for (int i = n; i < N; i++)
                ck_assert_int_eq(b[i], -1); /* nothing past n written */
        }
    }
    /* the first failure in input order is reported, as parc_pool_map */
    int *c = malloc(N * sizeof *c);
    ck_assert_int_eq(square_fail_map(p, a, c, N, 1), EDOM);
    ck_assert_int_eq(square_fail_map(p, a, c, N, 0), EDOM);
    ck_assert_int_eq(square_fail_map(p, a, c, 13, 3), 0);
    ck_assert_int_eq(c[12], 144);
    /* bad arguments */
    ck_assert_int_eq(widen_square_map(NULL, a, b, 1, 0), EINVAL);
    ck_assert_int_eq(widen_square_map(p, NULL, b, 1, 0), EINVAL);
    ck_assert_int_eq(widen_square_map(p, a, NULL, 1, 0), EINVAL);
    ck_assert_int_eq(widen_square_map(p, NULL, NULL, 0, 0), 0);
    parc_pool_close(p);
    ck_assert_int_eq(widen_square_map(p, a, b, 1, 0), EPIPE);
    ck_assert_int_eq(parc_pool_join(p), 0);
    parc_pool_free(p);
    free(a);
    free(b);
    free(c);
}
END_TEST

struct pair {
    int a, b;
};

static int add_scaled(void *ctx, const void *args, void *out)
{
    const struct pair *pr = args;
    *(int *)out = (pr->a + pr->b) * *(int *)ctx;
    return 0;
}

static int sum_range(void *arg, int64_t lo, int64_t hi)
{
    int64_t s = 0;
    for (int64_t i = lo; i < hi; i++)
        s += i;
    parc_faa((parc_atomic(int64_t) *)arg, s, PARC_RELAXED);
    return 0;
}

static int fail_range(void *arg, int64_t lo, int64_t hi)
{
    (void)arg;
    (void)hi;
    return lo >= 50 ? EIO : 0;
}

START_TEST(starmap_and_parallel_for)
{
    parc_pool_t *p = make_pool(2);
    struct pair args[5] = { { 1, 2 }, { 3, 4 }, { 5, 6 }, { 7, 8 }, { 9, 10 } };
    int out[5], scale = 10;
    ck_assert_int_eq(parc_pool_starmap(p, add_scaled, &scale, args, out, 5, sizeof args[0], sizeof out[0], 2), 0);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(out[i], (args[i].a + args[i].b) * 10);
    parc_atomic(int64_t) sum;
    for (int64_t grain = 0; grain < 40; grain += 7) {
        parc_atomic_init(&sum, 0);
        ck_assert_int_eq(parc_pool_parallel_for(p, -100, 1001, grain, sum_range, (void *)&sum), 0);
        ck_assert_int_eq(parc_load(&sum, PARC_RELAXED), (1000 * 1001) / 2 - (100 * 101) / 2);
    }
    ck_assert_int_eq(parc_pool_parallel_for(p, 0, 0, 0, sum_range, (void *)&sum), 0);
    ck_assert_int_eq(parc_pool_parallel_for(p, 0, 100, 10, fail_range, NULL), EIO);
    parc_pool_free(p);
}
END_TEST

START_TEST(imap_in_order_and_unordered)
{
    parc_pool_t *p = make_pool(2);
    enum { N = 103 };
    int in[N];
    for (int i = 0; i < N; i++)
        in[i] = i;
    for (int unordered = 0; unordered < 2; unordered++) {
        for (size_t chunk = 0; chunk < 9; chunk += 4) {
            parc_pool_imap_t *it;
            int rc = unordered
                         ? parc_pool_imap_unordered(p, square, in, N, sizeof(int), sizeof(int), chunk, &it)
                         : parc_pool_imap(p, square, in, N, sizeof(int), sizeof(int), chunk, &it);
            ck_assert_int_eq(rc, 0);
            bool seen[N] = { false };
            int v;
            size_t idx;
            for (int k = 0; k < N; k++) {
                ck_assert_int_eq(parc_pool_imap_next_timed(it, &v, &idx, PARC_TEST_PATIENCE_NS), 0);
                ck_assert_uint_lt(idx, N);
                if (!unordered)
                    ck_assert_uint_eq(idx, (size_t)k); /* input order */
                ck_assert(!seen[idx]);
                seen[idx] = true;
                ck_assert_int_eq(v, (int)(idx * idx));
            }
            ck_assert_int_eq(parc_pool_imap_next(it, &v, &idx), EPIPE);
            ck_assert_int_eq(parc_pool_imap_next_try(it, &v, &idx), EPIPE);
            parc_pool_imap_free(it);
        }
    }
    /* a failed chunk is reported once, then iteration goes on */
    parc_pool_imap_t *it;
    ck_assert_int_eq(parc_pool_imap(p, square_fail_on_13, in, 20, sizeof(int), sizeof(int), 5, &it), 0);
    int v, errors = 0, values = 0;
    size_t idx;
    int rc;
    while ((rc = parc_pool_imap_next(it, &v, &idx)) != EPIPE) {
        if (rc == 0) {
            values++;
        } else {
            ck_assert_int_eq(rc, EDOM);
            ck_assert_uint_eq(idx, 10);
            errors++;
        }
    }
    ck_assert_int_eq(errors, 1);
    ck_assert_int_eq(values, 15);
    parc_pool_imap_free(it);
    /* an empty imap ends at once; free with chunks still running is fine */
    ck_assert_int_eq(parc_pool_imap(p, square, in, 0, sizeof(int), sizeof(int), 0, &it), 0);
    ck_assert_int_eq(parc_pool_imap_next_try(it, &v, &idx), EPIPE);
    parc_pool_imap_free(it);
    ck_assert_int_eq(parc_pool_imap_unordered(p, square, in, N, sizeof(int), sizeof(int), 1, &it), 0);
    parc_pool_imap_free(it);
    parc_pool_free(p);
}
END_TEST

/* a task running map on its own pool: the nested waits must help */
static parc_pool_t *nest_pool;
static int nested_map(void *arg, void **result)
{
    (void)arg;
    int in[50], out[50];
    for (int i = 0; i < 50; i++)
        in[i] = i;
    int rc = parc_pool_map(nest_pool, square, in, out, 50, sizeof(int), sizeof(int), 3);
    *result = (void *)(intptr_t)out[49];
    return rc;
}

static int nested_imap(void *arg, void **result)
{
    int unordered = (int)(intptr_t)arg;
    int in[40];
    for (int i = 0; i < 40; i++)
        in[i] = i;
    parc_pool_imap_t *it;
    int rc = unordered ? parc_pool_imap_unordered(nest_pool, square, in, 40, sizeof(int), sizeof(int), 3, &it)
                       : parc_pool_imap(nest_pool, square, in, 40, sizeof(int), sizeof(int), 3, &it);
    if (rc != 0)
        return rc;
    intptr_t sum = 0;
    int v;
    while ((rc = parc_pool_imap_next(it, &v, NULL)) == 0)
        sum += v;
    parc_pool_imap_free(it);
    *result = (void *)sum;
    return rc == EPIPE ? 0 : rc;
}

START_TEST(imap_from_inside_a_task)
{
    for (unsigned workers = 1; workers <= 2; workers++) {
        nest_pool = make_pool(workers);
        for (int unordered = 0; unordered < 2; unordered++) {
            parc_future_t *f;
            void *v;
            ck_assert_int_eq(parc_pool_submit(nest_pool, nested_imap, (void *)(intptr_t)unordered, &f), 0);
            ck_assert_int_eq(parc_future_get_timed(f, &v, PARC_TEST_PATIENCE_NS), 0);
            ck_assert_int_eq((intptr_t)v, 39 * 40 * 79 / 6); /* sum of squares */
            parc_future_release(f);
        }
        parc_pool_free(nest_pool);
    }
}
END_TEST

START_TEST(map_from_inside_a_task)
{
    nest_pool = make_pool(1);
    parc_future_t *f;
    void *v;
    ck_assert_int_eq(parc_pool_submit(nest_pool, nested_map, NULL, &f), 0);
    ck_assert_int_eq(parc_future_get_timed(f, &v, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq((intptr_t)v, 49 * 49);
    parc_future_release(f);
    parc_pool_free(nest_pool);
}
END_TEST

/* ---- the loop: the caller works, at most `workers` threads, errors -------- */

#include "parc/task_group.h"

enum { LOOP_THREADS = 8 };

/* Which threads ran a loop's pieces: up to LOOP_THREADS distinct ids. */
typedef struct loop_seen {
    pthread_mutex_t lock;
    pthread_t ids[LOOP_THREADS];
    int n;
    parc_atomic(int64_t) sum;
} loop_seen_t;

static int loop_note(void *arg, int64_t lo, int64_t hi)
{
    loop_seen_t *s = arg;
    pthread_t me = pthread_self();
    pthread_mutex_lock(&s->lock);
    int i = 0;
    while (i < s->n && !pthread_equal(s->ids[i], me))
        i++;
    if (i == s->n && s->n < LOOP_THREADS)
        s->ids[s->n++] = me;
    pthread_mutex_unlock(&s->lock);
    int64_t t = 0;
    for (int64_t k = lo; k < hi; k++)
        t += k;
    parc_faa(&s->sum, t, PARC_RELAXED);
    return 0;
}

/* A loop on a pool of W workers runs on at most W threads, the caller one
 * of the places: on 1 worker, an outside caller runs every piece itself. */
START_TEST(loop_caller_takes_a_place)
{
    for (unsigned workers = 1; workers <= 3; workers++) {
        parc_pool_t *p = make_pool(workers);
        for (int64_t grain = 0; grain <= 3; grain += 3) {
            loop_seen_t s = { .n = 0 };
            pthread_mutex_init(&s.lock, NULL);
            parc_atomic_init(&s.sum, 0);
            ck_assert_int_eq(parc_pool_parallel_for(p, 0, 20000, grain, loop_note, &s), 0);
            ck_assert_int_eq(parc_load(&s.sum, PARC_RELAXED), (int64_t)20000 * 19999 / 2);
            ck_assert_int_ge(s.n, 1);
            ck_assert_int_le(s.n, (int)workers);
            if (workers == 1) {
                ck_assert_int_eq(s.n, 1);
                ck_assert(pthread_equal(s.ids[0], pthread_self()));
            }
            pthread_mutex_destroy(&s.lock);
        }
        parc_pool_free(p);
    }
}
END_TEST

/* Two failing ranges far apart, in every chunking: the left one's error,
 * always (the right one may or may not have run). */
static int fail_two(void *arg, int64_t lo, int64_t hi)
{
    (void)arg;
    if (lo <= 30 && 30 < hi)
        return EDOM;
    if (hi > 7000)
        return EIO;
    return 0;
}

/* Uneven work: the first tenth of the range costs far more per index, so
 * the others must steal from its owner. */
static int uneven(void *arg, int64_t lo, int64_t hi)
{
    int64_t t = 0;
    for (int64_t i = lo; i < hi; i++) {
        int64_t spin = i < 1000 ? 2000 : 1;
        for (int64_t k = 0; k < spin; k++)
            t += (i ^ k) & 1;
        t += i;
        t -= (i ^ 0) & 0; /* keep the loop */
    }
    parc_faa((parc_atomic(int64_t) *)arg, t, PARC_RELAXED);
    return 0;
}

START_TEST(loop_first_error_and_uneven_load)
{
    parc_pool_t *p = make_pool(3);
    for (int rep = 0; rep < 30; rep++)
        for (int64_t grain = 0; grain <= 13; grain += 13)
            ck_assert_int_eq(parc_pool_parallel_for(p, 0, 10000, grain, fail_two, NULL), EDOM);
    int64_t want = 0;
    for (int64_t i = 0; i < 10000; i++) {
        int64_t spin = i < 1000 ? 2000 : 1;
        for (int64_t k = 0; k < spin; k++)
            want += (i ^ k) & 1;
        want += i;
    }
    for (int64_t grain = 0; grain <= 5; grain += 5) {
        parc_atomic(int64_t) sum;
        parc_atomic_init(&sum, 0);
        ck_assert_int_eq(parc_pool_parallel_for(p, 0, 10000, grain, uneven, (void *)&sum), 0);
        ck_assert_int_eq(parc_load(&sum, PARC_RELAXED), want);
    }
    parc_pool_free(p);
}
END_TEST

/* A loop started by a task of a cancelled group runs nothing and says
 * ECANCELED; a loop inside a loop's piece works; a task of a closed pool
 * is not refused (an outside caller is: EPIPE). */
typedef struct loop_in_task {
    parc_task_group_t *outer;
    parc_atomic(int64_t) sum;
    int rc;
} loop_in_task_t;

static int add_range(void *arg, int64_t lo, int64_t hi)
{
    int64_t t = 0;
    for (int64_t i = lo; i < hi; i++)
        t += i;
    parc_faa((parc_atomic(int64_t) *)arg, t, PARC_RELAXED);
    return 0;
}

static int cancelled_loop(void *arg)
{
    loop_in_task_t *t = arg;
    parc_task_group_cancel(t->outer);
    t->rc = parc_pool_parallel_for(parc_pool_current(), 0, 1000, 0, add_range,
                                   (void *)&t->sum);
    return 0;
}

static int inner_loop(void *arg, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++) {
        int rc = parc_pool_parallel_for(parc_pool_current(), 0, 100, 0, add_range, arg);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int loop_after_close(void *arg, void **result)
{
    loop_in_task_t *t = arg;
    (void)result;
    parc_pool_t *p = parc_pool_current();
    parc_pool_close(p);
    t->rc = parc_pool_parallel_for(p, 0, 1000, 0, add_range, (void *)&t->sum);
    return 0;
}

START_TEST(loop_cancelled_nested_closed)
{
    parc_pool_t *p = make_pool(2);
    parc_task_group_t g;
    loop_in_task_t t = { .outer = &g, .rc = -1 };
    parc_atomic_init(&t.sum, 0);
    parc_task_group_init(&g, p);
    ck_assert_int_eq(parc_task_group_run(&g, cancelled_loop, &t), 0);
    ck_assert_int_eq(parc_task_group_wait(&g), ECANCELED);
    parc_task_group_destroy(&g);
    ck_assert_int_eq(t.rc, ECANCELED);
    ck_assert_int_eq(parc_load(&t.sum, PARC_RELAXED), 0);

    parc_atomic_init(&t.sum, 0);
    ck_assert_int_eq(parc_pool_parallel_for(p, 0, 50, 0, inner_loop, (void *)&t.sum), 0);
    ck_assert_int_eq(parc_load(&t.sum, PARC_RELAXED), (int64_t)50 * (99 * 100 / 2));

    parc_atomic_init(&t.sum, 0);
    t.rc = -1;
    parc_future_t *f;
    ck_assert_int_eq(parc_pool_submit(p, loop_after_close, &t, &f), 0);
    ck_assert_int_eq(parc_future_get_timed(f, NULL, PARC_TEST_PATIENCE_NS), 0);
    parc_future_release(f);
    ck_assert_int_eq(t.rc, 0);
    ck_assert_int_eq(parc_load(&t.sum, PARC_RELAXED), (int64_t)999 * 1000 / 2);
    ck_assert_int_eq(parc_pool_parallel_for(p, 0, 1000, 0, add_range, (void *)&t.sum), EPIPE);
    parc_pool_free(p);
}
END_TEST

/* ---- one submission wakes one sleeper, not a herd ---------------------------- */

#include <dirent.h>

/* Voluntary context switches of this process's threads named prefix*:
 * fills tids/switches, returns how many. */
static int worker_switches(const char *prefix, long *tids, long *switches, int max)
{
    DIR *d = opendir("/proc/self/task");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], comm[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        if (fgets(comm, sizeof comm, f) == NULL)
            comm[0] = 0;
        fclose(f);
        if (strncmp(comm, prefix, strlen(prefix)) != 0)
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
        f = fopen(path, "r");
        if (f == NULL)
            continue;
        char line[256];
        long v = -1;
        while (fgets(line, sizeof line, f) != NULL)
            if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1)
                break;
        fclose(f);
        tids[n] = atol(e->d_name);
        switches[n] = v;
        n++;
    }
    closedir(d);
    return n;
}

START_TEST(one_submission_wakes_one_sleeper)
{
    enum { W = 6 };
    parc_pool_options_t o = PARC_POOL_OPTIONS_INIT;
    o.name_prefix = "herd-w";
    parc_pool_t *p;
    ck_assert_int_eq(parc_pool_create(W, &o, &p), 0);
    parc_atomic(int64_t) runs;
    parc_atomic_init(&runs, 0);
    for (int round = 0; round < 3; round++) {
        parc_sleep_ns(100 * PARC_NS_PER_MS); /* every worker parked */
        long t0[W], s0[W], t1[W], s1[W];
        ck_assert_int_eq(worker_switches("herd-w", t0, s0, W), W);
        parc_future_t *f;
        ck_assert_int_eq(parc_pool_submit(p, count_task, (void *)&runs, &f), 0);
        ck_assert_int_eq(parc_future_get(f, NULL), 0);
        parc_future_release(f);
        parc_sleep_ns(50 * PARC_NS_PER_MS); /* it parks again */
        ck_assert_int_eq(worker_switches("herd-w", t1, s1, W), W);
        int woke = 0;
        for (int i = 0; i < W; i++)
            for (int j = 0; j < W; j++)
                if (t0[i] == t1[j] && s0[i] != s1[j])
                    woke++;
        /* one task, one wake-up (2 allowed for luck); a herd wakes all */
        ck_assert_msg(woke >= 1 && woke <= 2, "%d of %d sleeping workers woke for one task", woke, W);
    }
    parc_pool_free(p);
}
END_TEST

/* ---- an idle pool burns no CPU --------------------------------------------- */

static int64_t process_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * PARC_NS_PER_S + ts.tv_nsec;
}

START_TEST(idle_pool_uses_no_cpu)
{
    parc_pool_t *p = make_pool(2);
    parc_atomic(int64_t) runs;
    parc_atomic_init(&runs, 0);
    for (int i = 0; i < 100; i++) /* wake everybody once */
        parc_pool_submit(p, count_task, (void *)&runs, NULL);
    parc_sleep_ns(50 * PARC_NS_PER_MS); /* past the short spin */
    int64_t cpu0 = process_cpu_ns(), t0 = parc_now_ns();
    parc_sleep_ns(PARC_NS_PER_S);
    int64_t cpu = process_cpu_ns() - cpu0, wall = parc_now_ns() - t0;
    /* generous: 5% of one core (sanitizer runtimes have busy threads of
     * their own: 20% there); a spinning worker would use 100% */
    int64_t bound = wall / (PARC_SLOWDOWN > 1 ? 5 : 20);
    ck_assert_msg(cpu <= bound, "idle pool used %lld ns of CPU in %lld ns",
                  (long long)cpu, (long long)wall);
    ck_assert_int_eq(parc_load(&runs, PARC_RELAXED), 100);
    parc_pool_free(p);
}
END_TEST

/* A task that resubmits itself forever must not bury an older task in the
 * same worker's deque: with one worker nobody steals, and the owner pops
 * LIFO. (A busy scheduled actor is exactly such a task.) */
static parc_atomic(int) buried_ran, resubmit_stop;
static parc_pool_t *fair_pool;

static int buried(void *arg, void **result)
{
    (void)arg;
    (void)result;
    parc_store(&buried_ran, 1, PARC_RELEASE);
    return 0;
}

static int resubmitter(void *arg, void **result)
{
    (void)result;
    if (!parc_load(&resubmit_stop, PARC_ACQUIRE))
        ck_assert_int_eq(parc_pool_submit(fair_pool, resubmitter, arg, NULL), 0);
    return 0;
}

static int seed_both(void *arg, void **result)
{
    (void)result;
    /* From a worker both go on its own deque: buried first (the top). */
    ck_assert_int_eq(parc_pool_submit(fair_pool, buried, arg, NULL), 0);
    ck_assert_int_eq(parc_pool_submit(fair_pool, resubmitter, arg, NULL), 0);
    return 0;
}

START_TEST(self_resubmitting_task_does_not_starve_older_local_work)
{
    parc_atomic_init(&buried_ran, 0);
    parc_atomic_init(&resubmit_stop, 0);
    ck_assert_int_eq(parc_pool_create(1, NULL, &fair_pool), 0);
    ck_assert_int_eq(parc_pool_submit(fair_pool, seed_both, NULL, NULL), 0);
    bool ran = parc_test_eventually(&buried_ran);
    parc_store(&resubmit_stop, 1, PARC_RELEASE);
    ck_assert_msg(ran, "the older task on the worker's deque never ran");
    ck_assert_int_eq(parc_pool_close(fair_pool), 0);
    ck_assert_int_eq(parc_pool_join(fair_pool), 0);
    ck_assert_int_eq(parc_pool_free(fair_pool), 0);
}
END_TEST

static Suite *pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, create_and_bad_arguments);
    tcase_add_test(tc, submit_get_and_life_cycle);
    tcase_add_test(tc, workers_named_initialized_pinned);
    tcase_add_test(tc, fib_one_worker);
    tcase_add_test(tc, fib_two_workers);
    tcase_add_test(tc, fib_four_workers);
    tcase_add_test(tc, submit_future_caller_storage_and_heap);
    tcase_add_test(tc, mergesort_one_worker);
    tcase_add_test(tc, mergesort_two_workers);
    tcase_add_test(tc, task_waits_on_own_child_with_one_worker);
    tcase_add_test(tc, join_from_own_worker_is_edeadlk);
    tcase_add_test(tc, apply_async_callbacks);
    tcase_add_test(tc, cancel_queued_task);
    tcase_add_test(tc, terminate_cancels_work_not_started);
    tcase_add_test(tc, cancelled_caller_storage_future_is_held_until_the_pool_lets_go);
    tcase_add_test(tc, terminate_lets_go_of_caller_storage_futures);
    tcase_add_test(tc, cancel_races_with_workers);
    tcase_add_test(tc, cancel_races_with_join);
    tcase_add_test(tc, outside_submitters_each_task_once);
    tcase_add_test(tc, close_races_with_outside_submitters);
    tcase_add_test(tc, map_like_python);
    tcase_add_test(tc, typed_map_define);
    tcase_add_test(tc, starmap_and_parallel_for);
    tcase_add_test(tc, imap_in_order_and_unordered);
    tcase_add_test(tc, map_from_inside_a_task);
    tcase_add_test(tc, imap_from_inside_a_task);
    tcase_add_test(tc, loop_caller_takes_a_place);
    tcase_add_test(tc, loop_first_error_and_uneven_load);
    tcase_add_test(tc, loop_cancelled_nested_closed);
    tcase_add_test(tc, one_submission_wakes_one_sleeper);
    tcase_add_test(tc, idle_pool_uses_no_cpu);
    tcase_add_test(tc, self_resubmitting_task_does_not_starve_older_local_work);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(pool_suite());
}
