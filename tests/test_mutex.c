/* Unit tests for parc/mutex.h: every lock form, every error path, timeouts,
 * wake-ups, and mutual exclusion under oversubscription. */
#include <stdint.h>

#include "parc/mutex.h"
#include "testutil.h"

/* Poll `flag` until it is non-zero or the test's patience runs out. */
static const unsigned kinds[] = { PARC_MUTEX_NORMAL, PARC_MUTEX_ERRORCHECK };

START_TEST(null_and_bad_arguments)
{
    parc_mutex_t m;
    ck_assert_int_eq(parc_mutex_init(NULL, PARC_MUTEX_NORMAL), EINVAL);
    ck_assert_int_eq(parc_mutex_init(&m, 7u), EINVAL);
    ck_assert_int_eq(parc_mutex_destroy(NULL), EINVAL);
    ck_assert_int_eq(parc_mutex_lock(NULL), EINVAL);
    ck_assert_int_eq(parc_mutex_lock_try(NULL), EINVAL);
    ck_assert_int_eq(parc_mutex_lock_timed(NULL, 0), EINVAL);
    ck_assert_int_eq(parc_mutex_lock_until(NULL, PARC_FOREVER), EINVAL);
    ck_assert_int_eq(parc_mutex_unlock(NULL), EINVAL);
    ck_assert(!parc_mutex_is_locked(NULL));
    ck_assert_int_eq(parc_mutex_init(&m, PARC_MUTEX_NORMAL), 0);
    ck_assert_int_eq(parc_mutex_lock_timed(&m, -1), EINVAL);
    ck_assert(!parc_mutex_is_locked(&m));
    ck_assert_int_eq(parc_thread_id() != 0, 1);
}
END_TEST

START_TEST(static_initializer_gives_a_working_normal_mutex)
{
    static parc_mutex_t m = PARC_MUTEX_INIT;
    ck_assert_int_eq(parc_mutex_lock(&m), 0);
    ck_assert(parc_mutex_is_locked(&m));
    ck_assert_int_eq(parc_mutex_lock_try(&m), EAGAIN);
    ck_assert_int_eq(parc_mutex_destroy(&m), EAGAIN);
    ck_assert_int_eq(parc_mutex_unlock(&m), 0);
    ck_assert_int_eq(parc_mutex_destroy(&m), 0);
}
END_TEST

START_TEST(every_form_locks_and_unlocks)
{
    parc_mutex_t m;
    ck_assert_int_eq(parc_mutex_init(&m, kinds[_i]), 0);
    ck_assert_int_eq(parc_mutex_lock(&m), 0);
    ck_assert_int_eq(parc_mutex_unlock(&m), 0);
    ck_assert_int_eq(parc_mutex_lock_try(&m), 0);
    ck_assert(parc_mutex_is_locked(&m));
    ck_assert_int_eq(parc_mutex_unlock(&m), 0);
    ck_assert_int_eq(parc_mutex_lock_timed(&m, 0), 0);
    ck_assert_int_eq(parc_mutex_unlock(&m), 0);
    ck_assert_int_eq(parc_mutex_lock_timed(&m, PARC_FOREVER), 0);
    ck_assert_int_eq(parc_mutex_unlock(&m), 0);
    ck_assert_int_eq(parc_mutex_lock_until(&m, PARC_FOREVER), 0);
    ck_assert_int_eq(parc_mutex_unlock(&m), 0);
    ck_assert(!parc_mutex_is_locked(&m));
    ck_assert_int_eq(parc_mutex_destroy(&m), 0);
}
END_TEST

START_TEST(unlock_of_an_unlocked_mutex_is_eperm)
{
    parc_mutex_t m;
    ck_assert_int_eq(parc_mutex_init(&m, kinds[_i]), 0);
    ck_assert_int_eq(parc_mutex_unlock(&m), EPERM);
    ck_assert_int_eq(parc_mutex_lock(&m), 0);
    ck_assert_int_eq(parc_mutex_unlock(&m), 0);
    ck_assert_int_eq(parc_mutex_unlock(&m), EPERM);
    ck_assert_int_eq(parc_mutex_destroy(&m), 0);
}
END_TEST

START_TEST(errorcheck_relock_by_the_owner_is_edeadlk)
{
    parc_mutex_t m;
    ck_assert_int_eq(parc_mutex_init(&m, PARC_MUTEX_ERRORCHECK), 0);
    ck_assert_int_eq(parc_mutex_lock(&m), 0);
    ck_assert_int_eq(parc_mutex_lock(&m), EDEADLK);
    ck_assert_int_eq(parc_mutex_lock_try(&m), EDEADLK);
    ck_assert_int_eq(parc_mutex_lock_timed(&m, PARC_NS_PER_MS), EDEADLK);
    ck_assert_int_eq(parc_mutex_lock_until(&m, PARC_FOREVER), EDEADLK);
    ck_assert_int_eq(parc_mutex_unlock(&m), 0);
    /* after unlock the owner may lock again */
    ck_assert_int_eq(parc_mutex_lock_try(&m), 0);
    ck_assert_int_eq(parc_mutex_unlock(&m), 0);
}
END_TEST

static int op_unlock(parc_test_op_t *o) { return parc_mutex_unlock(o->obj); }
static int op_trylock(parc_test_op_t *o) { return parc_mutex_lock_try(o->obj); }
static int op_timedlock(parc_test_op_t *o) { return parc_mutex_lock_timed(o->obj, o->timeout_ns); }
static int op_lock_unlock(parc_test_op_t *o)
{
    int rc = parc_mutex_lock(o->obj);
    return rc != 0 ? rc : parc_mutex_unlock(o->obj);
}

static int run_in_thread(parc_mutex_t *m, int (*fn)(parc_test_op_t *), int64_t timeout_ns)
{
    parc_test_op_t o = { .obj = m, .fn = fn, .timeout_ns = timeout_ns };
    parc_atomic_init(&o.done, 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, parc_test_run_op, &o), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    return o.rc;
}

START_TEST(errorcheck_unlock_by_a_non_owner_is_eperm)
{
    parc_mutex_t m;
    ck_assert_int_eq(parc_mutex_init(&m, PARC_MUTEX_ERRORCHECK), 0);
    ck_assert_int_eq(parc_mutex_lock(&m), 0);
    ck_assert_int_eq(run_in_thread(&m, op_unlock, 0), EPERM);
    ck_assert(parc_mutex_is_locked(&m));
    ck_assert_int_eq(run_in_thread(&m, op_trylock, 0), EAGAIN);
    ck_assert_int_eq(parc_mutex_unlock(&m), 0);
}
END_TEST

/* A thread that exits holding an ERRORCHECK mutex leaves it held by
 * nobody alive. glibc gives the next thread the exited one's stack, and so
 * the same TLS addresses: an id taken from a TLS address would make that
 * thread the owner (unlock 0, lock_try EDEADLK). */
typedef struct exit_holding {
    parc_mutex_t *m;
    uintptr_t id;   /* the thread's parc_thread_id() */
    int unlock_rc;  /* second thread: its unlock */
    int trylock_rc; /* second thread: its lock_try */
} exit_holding_t;

static void *lock_and_exit(void *arg)
{
    exit_holding_t *e = arg;
    e->id = parc_thread_id();
    e->unlock_rc = parc_mutex_lock(e->m); /* kept: the thread exits holding */
    return NULL;
}

static void *try_the_orphan(void *arg)
{
    exit_holding_t *e = arg;
    e->id = parc_thread_id();
    e->unlock_rc = parc_mutex_unlock(e->m);
    e->trylock_rc = parc_mutex_lock_try(e->m);
    return NULL;
}

START_TEST(errorcheck_owner_that_exited_is_not_the_next_thread)
{
    parc_mutex_t m;
    ck_assert_int_eq(parc_mutex_init(&m, PARC_MUTEX_ERRORCHECK), 0);
    for (int round = 0; round < 4; round++) {
        exit_holding_t first = { .m = &m }, next = { .m = &m };
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, lock_and_exit, &first), 0);
        ck_assert_int_eq(pthread_join(t, NULL), 0);
        ck_assert_int_eq(first.unlock_rc, 0);
        ck_assert_int_eq(pthread_create(&t, NULL, try_the_orphan, &next), 0);
        ck_assert_int_eq(pthread_join(t, NULL), 0);
        ck_assert(first.id != 0 && next.id != 0);
        ck_assert_msg(next.id != first.id, "thread id %ju reused",
                      (uintmax_t)next.id);
        ck_assert_int_eq(next.unlock_rc, EPERM);
        ck_assert_int_eq(next.trylock_rc, EAGAIN);
        ck_assert(parc_mutex_is_locked(&m));
        /* Free it for the next round the way nothing else can: re-init
         * (the orphan is exactly what error checking cannot repair). */
        ck_assert_int_eq(parc_mutex_init(&m, PARC_MUTEX_ERRORCHECK), 0);
    }
}
END_TEST

START_TEST(trylock_from_another_thread_is_eagain_while_held)
{
    parc_mutex_t m;
    ck_assert_int_eq(parc_mutex_init(&m, kinds[_i]), 0);
    ck_assert_int_eq(parc_mutex_lock(&m), 0);
    ck_assert_int_eq(run_in_thread(&m, op_trylock, 0), EAGAIN);
    ck_assert_int_eq(parc_mutex_unlock(&m), 0);
    ck_assert_int_eq(run_in_thread(&m, op_lock_unlock, 0), 0);
}
END_TEST

START_TEST(timedlock_times_out_after_the_deadline_never_before)
{
    parc_mutex_t m;
    ck_assert_int_eq(parc_mutex_init(&m, kinds[_i]), 0);
    ck_assert_int_eq(parc_mutex_lock(&m), 0);
    const int64_t timeouts[] = { 0, 1000, 2 * PARC_NS_PER_MS, 30 * PARC_NS_PER_MS };
    for (size_t k = 0; k < sizeof timeouts / sizeof timeouts[0]; k++) {
        parc_test_op_t o = { .obj = &m, .fn = op_timedlock, .timeout_ns = timeouts[k] };
        parc_atomic_init(&o.done, 0);
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, parc_test_run_op, &o), 0);
        ck_assert_int_eq(pthread_join(t, NULL), 0);
        ck_assert_int_eq(o.rc, ETIMEDOUT);
        ck_assert_int_ge(o.ended - o.started, timeouts[k]);
    }
    ck_assert_int_eq(parc_mutex_unlock(&m), 0);
    ck_assert_int_eq(parc_mutex_destroy(&m), 0); /* timed-out waiters left */
}
END_TEST

START_TEST(unlock_wakes_a_parked_waiter)
{
    parc_mutex_t m;
    ck_assert_int_eq(parc_mutex_init(&m, kinds[_i]), 0);
    ck_assert_int_eq(parc_mutex_lock(&m), 0);
    parc_test_op_t o = { .obj = &m, .fn = op_lock_unlock };
    parc_atomic_init(&o.done, 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, parc_test_run_op, &o), 0);
    /* long enough for the waiter to stop spinning and park */
    parc_sleep_ns(20 * PARC_NS_PER_MS);
    ck_assert(!parc_load(&o.done, PARC_ACQUIRE));
    ck_assert_int_eq(parc_mutex_unlock(&m), 0);
    ck_assert_msg(parc_test_eventually(&o.done), "a parked waiter was never woken");
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(o.rc, 0);
    ck_assert_int_eq(parc_mutex_destroy(&m), 0);
}
END_TEST

START_TEST(a_timed_out_waiter_does_not_strand_the_others)
{
    parc_mutex_t m;
    ck_assert_int_eq(parc_mutex_init(&m, kinds[_i]), 0);
    ck_assert_int_eq(parc_mutex_lock(&m), 0);
    parc_test_op_t w[4];
    pthread_t t[4];
    for (int k = 0; k < 4; k++) {
        /* even: wait forever; odd: give up after 10 ms */
        w[k] = (parc_test_op_t){ .obj = &m, .fn = (k & 1) ? op_timedlock : op_lock_unlock,
                            .timeout_ns = 10 * PARC_NS_PER_MS };
        parc_atomic_init(&w[k].done, 0);
        ck_assert_int_eq(pthread_create(&t[k], NULL, parc_test_run_op, &w[k]), 0);
    }
    ck_assert(parc_test_eventually(&w[1].done));
    ck_assert(parc_test_eventually(&w[3].done));
    ck_assert_int_eq(w[1].rc, ETIMEDOUT);
    ck_assert_int_eq(w[3].rc, ETIMEDOUT);
    ck_assert_int_eq(parc_mutex_unlock(&m), 0);
    ck_assert_msg(parc_test_eventually(&w[0].done) && parc_test_eventually(&w[2].done),
                  "waiters stranded after others timed out");
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(pthread_join(t[k], NULL), 0);
    ck_assert_int_eq(w[0].rc, 0);
    ck_assert_int_eq(w[2].rc, 0);
    ck_assert_int_eq(parc_mutex_destroy(&m), 0);
}
END_TEST

/* Mutual exclusion: threads increment a plain counter and check an
 * "inside" flag, taking the lock with all three forms. */
#define NTHREADS 8
#define ITERS (200000 / PARC_SLOWDOWN)

struct shared {
    parc_mutex_t m;
    long counter;   /* plain: protected by m */
    volatile int inside; /* plain (volatile: kept in memory), by m */
    parc_atomic(int) violations;
    parc_atomic(int) errors;
    pthread_barrier_t start; /* all threads begin together */
};

struct worker {
    struct shared *s;
    int index;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    struct shared *s = w->s;
    pthread_barrier_wait(&s->start);
    for (long i = 0; i < ITERS; i++) {
        int rc;
        switch ((i + w->index) % 4) {
        case 0:
            while ((rc = parc_mutex_lock_try(&s->m)) == EAGAIN)
                parc_cpu_relax();
            break;
        case 1:
            while ((rc = parc_mutex_lock_timed(&s->m, 1000)) == ETIMEDOUT)
                ;
            break;
        default:
            rc = parc_mutex_lock(&s->m);
        }
        if (rc != 0) {
            parc_faa(&s->errors, 1, PARC_RELAXED);
            continue;
        }
        if (s->inside++ != 0)
            parc_faa(&s->violations, 1, PARC_RELAXED);
        s->counter++;
        s->inside--;
        if (parc_mutex_unlock(&s->m) != 0)
            parc_faa(&s->errors, 1, PARC_RELAXED);
    }
    return NULL;
}

START_TEST(mutual_exclusion_under_oversubscription)
{
    static struct shared s;
    ck_assert_int_eq(parc_mutex_init(&s.m, kinds[_i]), 0);
    s.counter = 0;
    s.inside = 0;
    parc_atomic_init(&s.violations, 0);
    parc_atomic_init(&s.errors, 0);
    ck_assert_int_eq(pthread_barrier_init(&s.start, NULL, NTHREADS), 0);
    struct worker w[NTHREADS];
    pthread_t t[NTHREADS];
    for (int k = 0; k < NTHREADS; k++)
        w[k] = (struct worker){ .s = &s, .index = k };
    parc_test_spawn(t, NTHREADS, hammer, w, sizeof w[0]);
    parc_test_join(t, NTHREADS);
    pthread_barrier_destroy(&s.start);
    int errors = parc_load(&s.errors, PARC_RELAXED);
    int violations = parc_load(&s.violations, PARC_RELAXED);
    ck_assert_int_eq(errors, 0);
    ck_assert_int_eq(violations, 0);
    ck_assert_int_eq(s.counter, (long)NTHREADS * ITERS);
    ck_assert_int_eq(parc_mutex_destroy(&s.m), 0);
}
END_TEST

static Suite *mutex_suite(void)
{
    Suite *s = suite_create("mutex");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, null_and_bad_arguments);
    tcase_add_test(tc, static_initializer_gives_a_working_normal_mutex);
    tcase_add_loop_test(tc, every_form_locks_and_unlocks, 0, 2);
    tcase_add_loop_test(tc, unlock_of_an_unlocked_mutex_is_eperm, 0, 2);
    tcase_add_test(tc, errorcheck_relock_by_the_owner_is_edeadlk);
    tcase_add_test(tc, errorcheck_unlock_by_a_non_owner_is_eperm);
    tcase_add_test(tc, errorcheck_owner_that_exited_is_not_the_next_thread);
    tcase_add_loop_test(tc, trylock_from_another_thread_is_eagain_while_held, 0, 2);
    suite_add_tcase(s, tc);
    TCase *tw = tcase_create("waiting");
    tcase_add_loop_test(tw, timedlock_times_out_after_the_deadline_never_before, 0, 2);
    tcase_add_loop_test(tw, unlock_wakes_a_parked_waiter, 0, 2);
    tcase_add_loop_test(tw, a_timed_out_waiter_does_not_strand_the_others, 0, 2);
    suite_add_tcase(s, tw);
    TCase *tm = tcase_create("threads");
    tcase_add_loop_test(tm, mutual_exclusion_under_oversubscription, 0, 2);
    suite_add_tcase(s, tm);
    return s;
}

int main(void)
{
    return parc_test_run(mutex_suite());
}
