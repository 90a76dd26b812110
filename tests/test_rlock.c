/* Unit tests for parc/rlock.h: re-entry, the three lock forms, owner
 * checks, timeouts, wake-ups, and mutual exclusion with nested holds. */
#include <stdint.h>

#include "parc/rlock.h"
#include "testutil.h"

START_TEST(null_and_bad_arguments)
{
    parc_rlock_t l;
    ck_assert_int_eq(parc_rlock_init(NULL), EINVAL);
    ck_assert_int_eq(parc_rlock_destroy(NULL), EINVAL);
    ck_assert_int_eq(parc_rlock_lock(NULL), EINVAL);
    ck_assert_int_eq(parc_rlock_lock_try(NULL), EINVAL);
    ck_assert_int_eq(parc_rlock_lock_timed(NULL, 0), EINVAL);
    ck_assert_int_eq(parc_rlock_unlock(NULL), EINVAL);
    ck_assert(!parc_rlock_is_owned(NULL));
    ck_assert_uint_eq(parc_rlock_count(NULL), 0);
    ck_assert_int_eq(parc_rlock_init(&l), 0);
    ck_assert_int_eq(parc_rlock_lock_timed(&l, -1), EINVAL);
    ck_assert_int_eq(parc_rlock_destroy(&l), 0);
}
END_TEST

START_TEST(the_owner_reenters_in_every_form)
{
    static parc_rlock_t l = PARC_RLOCK_INIT;
    ck_assert_int_eq(parc_rlock_unlock(&l), EPERM); /* nobody owns it */
    ck_assert_int_eq(parc_rlock_lock(&l), 0);
    ck_assert_int_eq(parc_rlock_lock(&l), 0);
    ck_assert_int_eq(parc_rlock_lock_try(&l), 0);
    ck_assert_int_eq(parc_rlock_lock_timed(&l, 0), 0);
    ck_assert_int_eq(parc_rlock_lock_timed(&l, PARC_FOREVER), 0);
    ck_assert(parc_rlock_is_owned(&l));
    ck_assert_uint_eq(parc_rlock_count(&l), 5);
    ck_assert_int_eq(parc_rlock_destroy(&l), EAGAIN);
    for (int k = 4; k >= 0; k--) {
        ck_assert_int_eq(parc_rlock_unlock(&l), 0);
        ck_assert_uint_eq(parc_rlock_count(&l), (uint32_t)k);
    }
    ck_assert(!parc_rlock_is_owned(&l));
    ck_assert_int_eq(parc_rlock_unlock(&l), EPERM);
    ck_assert_int_eq(parc_rlock_destroy(&l), 0);
}
END_TEST

START_TEST(a_full_count_is_eoverflow)
{
    parc_rlock_t l;
    ck_assert_int_eq(parc_rlock_init(&l), 0);
    ck_assert_int_eq(parc_rlock_lock(&l), 0);
    l.count = UINT32_MAX; /* white box: 2^32 - 1 holds would take a while */
    ck_assert_int_eq(parc_rlock_lock(&l), EOVERFLOW);
    ck_assert_int_eq(parc_rlock_lock_try(&l), EOVERFLOW);
    ck_assert_int_eq(parc_rlock_lock_timed(&l, 0), EOVERFLOW);
    l.count = 1;
    ck_assert_int_eq(parc_rlock_unlock(&l), 0);
    ck_assert_int_eq(parc_rlock_destroy(&l), 0);
}
END_TEST

static int op_unlock(parc_test_op_t *o) { return parc_rlock_unlock(o->obj); }
static int op_trylock(parc_test_op_t *o) { return parc_rlock_lock_try(o->obj); }
static int op_timedlock(parc_test_op_t *o) { return parc_rlock_lock_timed(o->obj, o->timeout_ns); }
static int op_lock_twice_unlock_twice(parc_test_op_t *o)
{
    int rc = parc_rlock_lock(o->obj);
    if (rc == 0)
        rc = parc_rlock_lock(o->obj);
    if (rc == 0)
        rc = parc_rlock_unlock(o->obj);
    if (rc == 0)
        rc = parc_rlock_unlock(o->obj);
    return rc;
}

static int run_in_thread(parc_rlock_t *l, int (*fn)(parc_test_op_t *), int64_t timeout_ns,
                         int64_t *elapsed)
{
    parc_test_op_t o = { .obj = l, .fn = fn, .timeout_ns = timeout_ns };
    parc_atomic_init(&o.done, 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, parc_test_run_op, &o), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    if (elapsed)
        *elapsed = o.ended - o.started;
    return o.rc;
}

START_TEST(other_threads_are_refused_while_owned)
{
    parc_rlock_t l;
    ck_assert_int_eq(parc_rlock_init(&l), 0);
    ck_assert_int_eq(parc_rlock_lock(&l), 0);
    ck_assert_int_eq(parc_rlock_lock(&l), 0);
    ck_assert_int_eq(run_in_thread(&l, op_unlock, 0, NULL), EPERM);
    ck_assert_int_eq(run_in_thread(&l, op_trylock, 0, NULL), EAGAIN);
    const int64_t timeouts[] = { 0, 1000, 5 * PARC_NS_PER_MS };
    for (size_t k = 0; k < sizeof timeouts / sizeof timeouts[0]; k++) {
        int64_t elapsed;
        ck_assert_int_eq(run_in_thread(&l, op_timedlock, timeouts[k], &elapsed), ETIMEDOUT);
        ck_assert_int_ge(elapsed, timeouts[k]);
    }
    ck_assert_uint_eq(parc_rlock_count(&l), 2);
    ck_assert_int_eq(parc_rlock_unlock(&l), 0);
    /* still owned once: others still refused */
    ck_assert_int_eq(run_in_thread(&l, op_trylock, 0, NULL), EAGAIN);
    ck_assert_int_eq(parc_rlock_unlock(&l), 0);
    ck_assert_int_eq(run_in_thread(&l, op_lock_twice_unlock_twice, 0, NULL), 0);
    ck_assert_int_eq(parc_rlock_destroy(&l), 0);
}
END_TEST

START_TEST(the_last_unlock_wakes_a_parked_waiter)
{
    parc_rlock_t l;
    ck_assert_int_eq(parc_rlock_init(&l), 0);
    ck_assert_int_eq(parc_rlock_lock(&l), 0);
    ck_assert_int_eq(parc_rlock_lock(&l), 0);
    parc_test_op_t o = { .obj = &l, .fn = op_lock_twice_unlock_twice };
    parc_atomic_init(&o.done, 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, parc_test_run_op, &o), 0);
    parc_sleep_ns(20 * PARC_NS_PER_MS); /* let it park */
    ck_assert_int_eq(parc_rlock_unlock(&l), 0);
    parc_sleep_ns(5 * PARC_NS_PER_MS);
    ck_assert_msg(!parc_load(&o.done, PARC_ACQUIRE), "entered while still held once");
    ck_assert_int_eq(parc_rlock_unlock(&l), 0);
    ck_assert_msg(parc_test_eventually(&o.done), "the waiter was never woken");
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(o.rc, 0);
    ck_assert_int_eq(parc_rlock_destroy(&l), 0);
}
END_TEST

#define NTHREADS 8
#define ITERS (100000 / PARC_SLOWDOWN)

struct shared {
    parc_rlock_t l;
    long counter;          /* plain: protected by l */
    volatile int inside;   /* plain (volatile: kept in memory), by l */
    parc_atomic(int) violations;
    parc_atomic(int) errors;
    pthread_barrier_t start;
};

static void *hammer(void *arg)
{
    struct shared *s = arg;
    pthread_barrier_wait(&s->start);
    for (long i = 0; i < ITERS; i++) {
        int rc;
        if (i % 3 == 0) {
            while ((rc = parc_rlock_lock_timed(&s->l, 1000)) == ETIMEDOUT)
                ;
        } else if (i % 3 == 1) {
            while ((rc = parc_rlock_lock_try(&s->l)) == EAGAIN)
                parc_cpu_relax();
        } else {
            rc = parc_rlock_lock(&s->l);
        }
        if (rc != 0) {
            parc_faa(&s->errors, 1, PARC_RELAXED);
            continue;
        }
        if (s->inside++ != 0)
            parc_faa(&s->violations, 1, PARC_RELAXED);
        /* nested hold */
        if (parc_rlock_lock(&s->l) != 0 || parc_rlock_count(&s->l) != 2)
            parc_faa(&s->errors, 1, PARC_RELAXED);
        s->counter++;
        if (parc_rlock_unlock(&s->l) != 0)
            parc_faa(&s->errors, 1, PARC_RELAXED);
        s->inside--;
        if (parc_rlock_unlock(&s->l) != 0)
            parc_faa(&s->errors, 1, PARC_RELAXED);
    }
    return NULL;
}

START_TEST(mutual_exclusion_with_nested_holds)
{
    static struct shared s;
    ck_assert_int_eq(parc_rlock_init(&s.l), 0);
    s.counter = 0;
    s.inside = 0;
    parc_atomic_init(&s.violations, 0);
    parc_atomic_init(&s.errors, 0);
    ck_assert_int_eq(pthread_barrier_init(&s.start, NULL, NTHREADS), 0);
    pthread_t t[NTHREADS];
    for (int k = 0; k < NTHREADS; k++)
        ck_assert_int_eq(pthread_create(&t[k], NULL, hammer, &s), 0);
    parc_test_join(t, NTHREADS);
    pthread_barrier_destroy(&s.start);
    int errors = parc_load(&s.errors, PARC_RELAXED);
    int violations = parc_load(&s.violations, PARC_RELAXED);
    ck_assert_int_eq(errors, 0);
    ck_assert_int_eq(violations, 0);
    ck_assert_int_eq(s.counter, (long)NTHREADS * ITERS);
    ck_assert_int_eq(parc_rlock_destroy(&s.l), 0);
}
END_TEST

static Suite *rlock_suite(void)
{
    Suite *s = suite_create("rlock");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, null_and_bad_arguments);
    tcase_add_test(tc, the_owner_reenters_in_every_form);
    tcase_add_test(tc, a_full_count_is_eoverflow);
    tcase_add_test(tc, other_threads_are_refused_while_owned);
    tcase_add_test(tc, the_last_unlock_wakes_a_parked_waiter);
    suite_add_tcase(s, tc);
    TCase *tm = tcase_create("threads");
    tcase_add_test(tm, mutual_exclusion_with_nested_holds);
    suite_add_tcase(s, tm);
    return s;
}

int main(void)
{
    return parc_test_run(rlock_suite());
}
