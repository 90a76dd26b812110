/*
 * tests/testutil.h — small helpers shared by the Check unit tests.
 */
#ifndef PARC_TESTUTIL_H
#define PARC_TESTUTIL_H

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "parc/atomic.h"
#include "parc/time.h"

#ifndef PARC_SLOWDOWN
#define PARC_SLOWDOWN 1
#endif

/* A generous bound for "this must happen eventually", scaled for sanitizer
 * and chaos builds. Never a statement about speed. */
#define PARC_TEST_PATIENCE_NS (5 * PARC_NS_PER_S * PARC_SLOWDOWN)

/* Start n threads running fn(arg_i) where arg_i = base + i * stride. */
static inline void parc_test_spawn(pthread_t *threads, int n, void *(*fn)(void *),
                                   void *base, size_t stride)
{
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, fn,
                                        (char *)base + (size_t)i * stride), 0);
}

static inline void parc_test_join(pthread_t *threads, int n)
{
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
}

/* Poll `flag` until it is non-zero or the test's patience runs out; true
 * when it was set. For "this must happen eventually", never for speed. */
static inline bool parc_test_eventually(parc_atomic(int) *flag)
{
    parc_deadline_t d;
    parc_deadline_in(&d, PARC_TEST_PATIENCE_NS);
    while (!parc_deadline_passed(d)) {
        /* acquire: pairs with the release store of the flag */
        if (parc_load(flag, PARC_ACQUIRE))
            return true;
        parc_sleep_ns(PARC_NS_PER_MS);
    }
    return parc_load(flag, PARC_ACQUIRE) != 0;
}

/* One operation run on a helper thread, with its result and timing: the
 * lock tests start one, check that it blocks (or not), and read rc and
 * the times once `done` is set (parc_test_eventually). */
typedef struct parc_test_op {
    void *obj;                         /* the lock under test */
    int (*fn)(struct parc_test_op *);  /* the operation */
    int64_t timeout_ns;                /* for timed operations */
    int rc;
    int64_t started, ended;            /* CLOCK_MONOTONIC ns */
    parc_atomic(int) done;
} parc_test_op_t;

/* pthread body: run o->fn(o), record the result and the times. */
static inline void *parc_test_run_op(void *arg)
{
    parc_test_op_t *o = arg;
    o->started = parc_now_ns();
    o->rc = o->fn(o);
    o->ended = parc_now_ns();
    /* release: publishes rc and times; pairs with parc_test_eventually()'s
     * acquire */
    parc_store(&o->done, 1, PARC_RELEASE);
    return NULL;
}

/* "An idle waiter burns no CPU": run wait(arg) -- a timed wait that
 * nothing will satisfy -- on a new thread and record its return code, the
 * wall time it took and the CPU time that thread used meanwhile. A waiter
 * that spins briefly and then sleeps uses a few tens of microseconds; one
 * that keeps spinning uses its whole wall time. */
typedef struct parc_test_idle {
    int (*wait)(void *arg);
    void *arg;
    int rc;
    int64_t wall_ns, cpu_ns;
} parc_test_idle_t;

static inline int64_t parc_test_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * PARC_NS_PER_S + ts.tv_nsec;
}

static inline void *parc_test_idle_body_(void *arg)
{
    parc_test_idle_t *m = arg;
    int64_t cpu0 = parc_test_thread_cpu_ns(), t0 = parc_now_ns();
    m->rc = m->wait(m->arg);
    m->cpu_ns = parc_test_thread_cpu_ns() - cpu0;
    m->wall_ns = parc_now_ns() - t0;
    return NULL;
}

static inline void parc_test_measure_idle(parc_test_idle_t *m)
{
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, parc_test_idle_body_, m), 0);
    parc_test_join(&t, 1);
}

/* Run one suite; exit status is the number of failures (ctest reads it). */
static inline int parc_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
