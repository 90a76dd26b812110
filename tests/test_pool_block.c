/* parc/pool.h: parc_pool_block_begin/end (compensating workers). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#include "parc/atomic.h"
#include "parc/pool.h"
#include "parc/task_group.h"
#include "parc/time.h"
#include "pool_internal.h" /* parc_pool_block_self_ */
#include "testutil.h"

/* ---- every task blocks until all have started ------------------------ */

/* N tasks that each wait on one condition released only when all N have
 * started: with 2 workers and no compensation the first two wait forever
 * and the rest never start; with it, every wait gets a thread. */
typedef struct gather {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int started;
    int n;
    int finished;
    int max_threads_seen;  /* most compensators alive at a task's start */
    bool use_block;
    parc_pool_t *pool;
    int64_t deadline;      /* a task gives up then (uncompensated case) */
    int gave_up;
} gather_t;

static int gather_task(void *arg, void **result)
{
    gather_t *g = arg;
    (void)result;
    int rc = g->use_block ? parc_pool_block_begin() : 0;
    pthread_mutex_lock(&g->lock);
    g->started++;
    unsigned c = parc_pool_compensators(g->pool);
    if ((int)c > g->max_threads_seen)
        g->max_threads_seen = (int)c;
    pthread_cond_broadcast(&g->cv);
    while (g->started < g->n) {
        if (parc_now_ns() > g->deadline) {
            g->gave_up++;
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->cv, &g->lock, &ts);
    }
    g->finished++;
    pthread_mutex_unlock(&g->lock);
    if (g->use_block)
        ck_assert_int_eq(parc_pool_block_end(), 0);
    return rc;
}

static void gather_init(gather_t *g, parc_pool_t *p, int n, bool use_block,
                        int64_t patience)
{
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->started = g->finished = g->max_threads_seen = g->gave_up = 0;
    g->n = n;
    g->use_block = use_block;
    g->pool = p;
    g->deadline = parc_now_ns() + patience;
}

static void gather_fini(gather_t *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->lock);
}

START_TEST(test_compensation_unblocks_gather)
{
    enum { N = 12 }; /* 2 workers, 6x their number of mutually waiting tasks */
    parc_pool_t *p;
    ck_assert_int_eq(parc_pool_create(2, NULL, &p), 0);
    gather_t g;
    gather_init(&g, p, N, true, PARC_TEST_PATIENCE_NS);
    parc_future_t *f[N];
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(parc_pool_submit(p, gather_task, &g, &f[i]), 0);
    for (int i = 0; i < N; i++) {
        void *v;
        ck_assert_int_eq(parc_future_get(f[i], &v), 0); /* begin returned 0 */
        parc_future_release(f[i]);
    }
    ck_assert_int_eq(g.gave_up, 0);
    ck_assert_int_eq(g.finished, N);
    /* N threads were waiting at once: at least N - 2 compensators */
    ck_assert_int_ge(g.max_threads_seen, N - 2);
    ck_assert_int_le(g.max_threads_seen, N); /* one per block at most */
    ck_assert_int_eq(parc_pool_free(p), 0); /* joins the compensators */
    gather_fini(&g);
}
END_TEST

/* The same without begin/end: the two workers wait, the rest never start
 * until the waits give up (the deadlock compensation removes). */
START_TEST(test_no_compensation_stalls)
{
    enum { N = 6 };
    parc_pool_t *p;
    ck_assert_int_eq(parc_pool_create(2, NULL, &p), 0);
    gather_t g;
    gather_init(&g, p, N, false, 200 * PARC_NS_PER_MS);
    parc_future_t *f[N];
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(parc_pool_submit(p, gather_task, &g, &f[i]), 0);
    for (int i = 0; i < N; i++) {
        void *v;
        ck_assert_int_eq(parc_future_get(f[i], &v), 0);
        parc_future_release(f[i]);
    }
    ck_assert_int_gt(g.gave_up, 0);
    ck_assert_int_eq(parc_pool_compensators(p), 0);
    ck_assert_int_eq(parc_pool_free(p), 0);
    gather_fini(&g);
}
END_TEST

/* ---- off the pool, unmatched end, bad arguments ----------------------- */

START_TEST(test_off_pool)
{
    ck_assert_int_eq(parc_pool_block_begin(), EPERM);
    ck_assert_int_eq(parc_pool_block_end(), EPERM);
    ck_assert_int_eq(parc_pool_set_block_cap(NULL, 1), EINVAL);
    ck_assert_int_eq(parc_pool_compensators(NULL), 0u);
    parc_pool_t *p;
    ck_assert_int_eq(parc_pool_create(1, NULL, &p), 0);
    ck_assert_int_eq(parc_pool_set_block_cap(p, PARC_POOL_BLOCK_CAP_MAX + 1), EINVAL);
    ck_assert_int_eq(parc_pool_set_block_cap(p, PARC_POOL_BLOCK_CAP_MAX), 0);
    ck_assert_int_eq(parc_pool_block_begin(), EPERM); /* still not a pool thread */
    ck_assert_int_eq(parc_pool_free(p), 0);
}
END_TEST

static int unmatched_task(void *arg, void **result)
{
    (void)arg;
    (void)result;
    int a = parc_pool_block_end();          /* EINVAL: nothing open */
    int b = parc_pool_block_begin();        /* 0 */
    int c = parc_pool_block_begin();        /* 0, nested */
    int d = parc_pool_block_end();          /* 0, still blocked */
    int e = parc_pool_block_end();          /* 0, running again */
    int f = parc_pool_block_end();          /* EINVAL */
    return a == EINVAL && b == 0 && c == 0 && d == 0 && e == 0 && f == EINVAL
               ? 0 : EPROTO;
}

START_TEST(test_nesting_and_unmatched_end)
{
    parc_pool_t *p;
    ck_assert_int_eq(parc_pool_create(1, NULL, &p), 0);
    parc_future_t *f;
    ck_assert_int_eq(parc_pool_submit(p, unmatched_task, NULL, &f), 0);
    void *v;
    ck_assert_int_eq(parc_future_get(f, &v), 0);
    parc_future_release(f);
    ck_assert_int_eq(parc_pool_free(p), 0);
}
END_TEST

/* ---- the cap ---------------------------------------------------------- */

START_TEST(test_cap_respected)
{
    enum { N = 8, CAP = 2 };
    parc_pool_t *p;
    ck_assert_int_eq(parc_pool_create(2, NULL, &p), 0);
    ck_assert_int_eq(parc_pool_set_block_cap(p, CAP), 0);
    gather_t g;
    /* 2 workers + 2 compensators can hold 4 of the 8 waits: they give up
     * after a while, and the compensator count never passed the cap */
    gather_init(&g, p, N, true, 300 * PARC_NS_PER_MS);
    parc_future_t *f[N];
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(parc_pool_submit(p, gather_task, &g, &f[i]), 0);
    for (int i = 0; i < N; i++) {
        void *v;
        ck_assert_int_eq(parc_future_get(f[i], &v), 0);
        parc_future_release(f[i]);
    }
    ck_assert_int_gt(g.gave_up, 0);
    ck_assert_int_le(g.max_threads_seen, CAP);
    ck_assert_int_le(parc_pool_compensators(p), CAP);
    ck_assert_int_eq(parc_pool_free(p), 0);
    gather_fini(&g);
}
END_TEST

/* ---- retirement: compensators leave once the blocks end --------------- */

START_TEST(test_compensators_retire)
{
    enum { N = 6 };
    parc_pool_t *p;
    ck_assert_int_eq(parc_pool_create(2, NULL, &p), 0);
    gather_t g;
    gather_init(&g, p, N, true, PARC_TEST_PATIENCE_NS);
    parc_future_t *f[N];
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(parc_pool_submit(p, gather_task, &g, &f[i]), 0);
    for (int i = 0; i < N; i++) {
        void *v;
        ck_assert_int_eq(parc_future_get(f[i], &v), 0);
        parc_future_release(f[i]);
    }
    ck_assert_int_ge(g.max_threads_seen, N - 2);
    /* spares exit after their keep time: all gone eventually */
    int64_t until = parc_now_ns() + PARC_TEST_PATIENCE_NS;
    while (parc_pool_compensators(p) > 0 && parc_now_ns() < until)
        parc_sleep_ns(5 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_pool_compensators(p), 0);
    ck_assert_int_eq(parc_pool_free(p), 0);
    gather_fini(&g);
}
END_TEST

/* ---- shutdown while compensators run ---------------------------------- */

typedef struct slow {
    parc_atomic(int) ran;
    parc_atomic(int) release;
} slow_t;

static int slow_block_task(void *arg, void **result)
{
    slow_t *s = arg;
    (void)result;
    ck_assert_int_eq(parc_pool_block_begin(), 0);
    /* acquire: pairs with the test's release store; publishes nothing
     * but the flag */
    while (parc_load(&s->release, PARC_ACQUIRE) == 0)
        parc_sleep_ns(200 * PARC_NS_PER_US);
    ck_assert_int_eq(parc_pool_block_end(), 0);
    parc_faa(&s->ran, 1, PARC_RELAXED);
    return 0;
}

static void *releaser(void *arg)
{
    slow_t *s = arg;
    parc_sleep_ns(50 * PARC_NS_PER_MS);
    parc_store(&s->release, 1, PARC_RELEASE); /* see slow_block_task */
    return NULL;
}

START_TEST(test_shutdown_with_compensators)
{
    enum { N = 10 };
    for (int cancel = 0; cancel < 2; cancel++) {
        parc_pool_t *p;
        ck_assert_int_eq(parc_pool_create(2, NULL, &p), 0);
        slow_t s;
        parc_atomic_init(&s.ran, 0);
        parc_atomic_init(&s.release, 0);
        for (int i = 0; i < N; i++)
            ck_assert_int_eq(parc_pool_submit(p, slow_block_task, &s, NULL), 0);
        /* wait until some compensator runs, then shut down under it */
        int64_t until = parc_now_ns() + PARC_TEST_PATIENCE_NS;
        while (parc_pool_compensators(p) == 0 && parc_now_ns() < until)
            parc_sleep_ns(PARC_NS_PER_MS);
        ck_assert_uint_gt(parc_pool_compensators(p), 0);
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, releaser, &s), 0);
        ck_assert_int_eq(parc_pool_shutdown(p, true, cancel != 0), 0);
        ck_assert_int_eq(parc_pool_compensators(p), 0); /* all joined */
        if (!cancel)
            ck_assert_int_eq(parc_load(&s.ran, PARC_RELAXED), N); /* none lost */
        else
            ck_assert_int_le(parc_load(&s.ran, PARC_RELAXED), N);
        ck_assert_int_eq(pthread_join(t, NULL), 0);
        ck_assert_int_eq(parc_pool_free(p), 0);
    }
}
END_TEST

/* A compensator may not join or free its own pool. */
static int free_self_task(void *arg, void **result)
{
    parc_pool_t *p = arg;
    (void)result;
    ck_assert_int_eq(parc_pool_block_begin(), 0);
    int rc = parc_pool_join(p) == EDEADLK && parc_pool_free(p) == EDEADLK
                     && parc_pool_current() == p
                 ? 0 : EPROTO;
    ck_assert_int_eq(parc_pool_block_end(), 0);
    return rc;
}

static int spawn_on_comp(void *arg, void **result)
{
    parc_pool_t *p = arg;
    (void)result;
    /* block so that a compensator runs the nested task */
    ck_assert_int_eq(parc_pool_block_begin(), 0);
    parc_future_t *f;
    int rc = parc_pool_submit(p, free_self_task, p, &f);
    /* give the compensator time to steal it (if this worker takes it
     * back in the get below instead, the worker gets EDEADLK too) */
    parc_sleep_ns(50 * PARC_NS_PER_MS);
    if (rc == 0) {
        void *v;
        rc = parc_future_get(f, &v);
        parc_future_release(f);
    }
    ck_assert_int_eq(parc_pool_block_end(), 0);
    return rc;
}

START_TEST(test_join_from_pool_thread)
{
    parc_pool_t *p;
    ck_assert_int_eq(parc_pool_create(1, NULL, &p), 0);
    parc_future_t *f;
    ck_assert_int_eq(parc_pool_submit(p, spawn_on_comp, p, &f), 0);
    void *v;
    ck_assert_int_eq(parc_future_get(f, &v), 0);
    parc_future_release(f);
    ck_assert_int_eq(parc_pool_free(p), 0);
}
END_TEST

/* ---- a taken spare is moved onto the blocker's CPU, then let go ------- */

/* A begin pins the spare it takes to its own CPU (the hand-over in
 * pool_block.c); the spare must restore its mask before it runs tasks,
 * or compensators would pile up on single CPUs. Every task checks the
 * mask of the thread it runs on, before and after its block. */
typedef struct mask_run {
    cpu_set_t initial;
    parc_atomic(int) mismatches;
    parc_atomic(int) on_comp;    /* tasks that ran on a compensator */
    parc_atomic(int) done;
} mask_run_t;

static void check_mask(mask_run_t *m)
{
    cpu_set_t now;
    ck_assert_int_eq(sched_getaffinity(0, sizeof now, &now), 0);
    if (!CPU_EQUAL(&now, &m->initial))
        parc_faa(&m->mismatches, 1, PARC_RELAXED); /* a count */
}

static int mask_task(void *arg, void **result)
{
    mask_run_t *m = (mask_run_t *)((uintptr_t)arg & ~(uintptr_t)1);
    (void)result;
    check_mask(m);
    if (parc_pool_block_self_() != NULL)
        parc_faa(&m->on_comp, 1, PARC_RELAXED); /* a count */
    int64_t until = parc_now_ns() + 20 * PARC_NS_PER_US; /* some work */
    while (parc_now_ns() < until) {
    }
    if (((uintptr_t)arg & 1u) != 0) {
        ck_assert_int_eq(parc_pool_block_begin(), 0);
        parc_sleep_ns(PARC_NS_PER_MS);
        ck_assert_int_eq(parc_pool_block_end(), 0);
        check_mask(m);
    }
    parc_faa(&m->done, 1, PARC_RELAXED); /* read after the futures */
    return 0;
}

START_TEST(test_taken_spares_get_their_mask_back)
{
    enum { N = 300 };
    static mask_run_t m; /* aligned: the low bit of its address is free */
    ck_assert_int_eq(sched_getaffinity(0, sizeof m.initial, &m.initial), 0);
    parc_atomic_init(&m.mismatches, 0);
    parc_atomic_init(&m.on_comp, 0);
    parc_atomic_init(&m.done, 0);
    parc_pool_t *p;
    ck_assert_int_eq(parc_pool_create(2, NULL, &p), 0);
    for (int round = 0; round < 2; round++) { /* the second takes spares */
        parc_future_t *f[N];
        for (int i = 0; i < N; i++)
            ck_assert_int_eq(parc_pool_submit(p, mask_task,
                                              (void *)((uintptr_t)&m | (uintptr_t)(i & 1)),
                                              &f[i]), 0);
        for (int i = 0; i < N; i++) {
            void *v;
            ck_assert_int_eq(parc_future_get(f[i], &v), 0);
            parc_future_release(f[i]);
        }
    }
    ck_assert_int_eq(parc_load(&m.done, PARC_RELAXED), 2 * N);
    ck_assert_int_gt(parc_load(&m.on_comp, PARC_RELAXED), 0);
    ck_assert_int_eq(parc_load(&m.mismatches, PARC_RELAXED), 0);
    ck_assert_int_eq(parc_pool_free(p), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pool_block");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_compensation_unblocks_gather);
    tcase_add_test(tc, test_no_compensation_stalls);
    tcase_add_test(tc, test_off_pool);
    tcase_add_test(tc, test_nesting_and_unmatched_end);
    tcase_add_test(tc, test_cap_respected);
    tcase_add_test(tc, test_compensators_retire);
    tcase_add_test(tc, test_shutdown_with_compensators);
    tcase_add_test(tc, test_join_from_pool_thread);
    tcase_add_test(tc, test_taken_spares_get_their_mask_back);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
