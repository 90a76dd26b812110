/*
 * Unit tests for parc/event.h.
 *
 * Besides every operation and error path: many waiters block on one set()
 * (a lost wake-up leaves one asleep past a generous patience: it times out
 * and the test fails); a set() immediately undone by clear() still releases
 * the waiters that were waiting (Python's guarantee); an idle waiter burns
 * next to no CPU while it sleeps.
 */
#include <stdint.h>
#include <time.h>

#include "parc/event.h"
#include "testutil.h"

START_TEST(rejects_bad_arguments)
{
    parc_event_t e = PARC_EVENT_INIT;
    ck_assert_int_eq(parc_event_init(NULL), EINVAL);
    ck_assert_int_eq(parc_event_destroy(NULL), EINVAL);
    ck_assert_int_eq(parc_event_set(NULL), EINVAL);
    ck_assert_int_eq(parc_event_clear(NULL), EINVAL);
    ck_assert(!parc_event_is_set(NULL));
    ck_assert_int_eq(parc_event_wait(NULL), EINVAL);
    ck_assert_int_eq(parc_event_wait_try(NULL), EINVAL);
    ck_assert_int_eq(parc_event_wait_timed(NULL, 0), EINVAL);
    ck_assert_int_eq(parc_event_wait_timed(&e, -1), EINVAL);
    ck_assert_int_eq(parc_event_destroy(&e), 0);
}
END_TEST

START_TEST(set_clear_is_set)
{
    parc_event_t e;
    ck_assert_int_eq(parc_event_init(&e), 0);
    ck_assert(!parc_event_is_set(&e));
    ck_assert_int_eq(parc_event_wait_try(&e), EAGAIN);
    ck_assert_int_eq(parc_event_wait_timed(&e, 0), ETIMEDOUT);
    ck_assert_int_eq(parc_event_set(&e), 0);
    ck_assert_int_eq(parc_event_set(&e), 0); /* idempotent */
    ck_assert(parc_event_is_set(&e));
    ck_assert_int_eq(parc_event_wait_try(&e), 0);
    ck_assert_int_eq(parc_event_wait_timed(&e, 0), 0);
    ck_assert_int_eq(parc_event_wait(&e), 0);
    ck_assert_int_eq(parc_event_clear(&e), 0);
    ck_assert_int_eq(parc_event_clear(&e), 0);
    ck_assert(!parc_event_is_set(&e));
    ck_assert_int_eq(parc_event_wait_try(&e), EAGAIN);
}
END_TEST

START_TEST(timed_wait_times_out_after_deadline)
{
    parc_event_t e = PARC_EVENT_INIT;
    int64_t t0 = parc_now_ns();
    ck_assert_int_eq(parc_event_wait_timed(&e, 20 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns() - t0, 20 * PARC_NS_PER_MS);
}
END_TEST

struct setter {
    parc_event_t *e;
    int clear_after; /* undo the set at once */
    int64_t delay_ns;
};

static void *set_later(void *arg)
{
    struct setter *s = arg;
    parc_sleep_ns(s->delay_ns);
    ck_assert_int_eq(parc_event_set(s->e), 0);
    if (s->clear_after)
        ck_assert_int_eq(parc_event_clear(s->e), 0);
    return NULL;
}

struct waiter {
    parc_event_t *e;
    parc_atomic(int) *released;
    parc_atomic(int) *timeouts;
};

static void *wait_event(void *arg)
{
    struct waiter *w = arg;
    if (parc_event_wait_timed(w->e, PARC_TEST_PATIENCE_NS) == 0)
        parc_faa(w->released, 1, PARC_RELAXED);
    else
        parc_faa(w->timeouts, 1, PARC_RELAXED);
    return NULL;
}

static void run_waiters(int n, int clear_after)
{
    static parc_event_t e;
    static parc_atomic(int) released, timeouts;
    parc_event_init(&e);
    parc_atomic_init(&released, 0);
    parc_atomic_init(&timeouts, 0);
    struct waiter w = { &e, &released, &timeouts };
    pthread_t t[32];
    parc_test_spawn(t, n, wait_event, &w, 0);
    struct setter s = { &e, clear_after, 30 * PARC_NS_PER_MS * PARC_SLOWDOWN };
    pthread_t st;
    ck_assert_int_eq(pthread_create(&st, NULL, set_later, &s), 0);
    parc_test_join(&st, 1);
    parc_test_join(t, n);
    ck_assert_int_eq(parc_load(&timeouts, PARC_RELAXED), 0);
    ck_assert_int_eq(parc_load(&released, PARC_RELAXED), n);
}

START_TEST(set_wakes_every_waiter) { run_waiters(32, 0); }
END_TEST

/* Python's Event: wait() returns True for a waiter that was waiting when
 * set() ran, even if clear() follows at once. */
START_TEST(set_then_clear_still_releases_waiters) { run_waiters(16, 1); }
END_TEST

/* Rounds of set/clear with waiters racing them: every waiter of a round
 * must return, each within the patience. */
struct round_state {
    parc_event_t go;
    parc_event_t done;
    parc_atomic(int) arrived;
    parc_atomic(int) left;
    parc_atomic(int) timeouts;
    int waiters;
    int rounds;
};

static void *round_waiter(void *arg)
{
    struct round_state *r = arg;
    for (int i = 0; i < r->rounds; i++) {
        if (parc_event_wait_timed(&r->go, PARC_TEST_PATIENCE_NS) != 0) {
            parc_faa(&r->timeouts, 1, PARC_RELAXED);
            return NULL;
        }
        if (parc_faa(&r->arrived, 1, PARC_ACQ_REL) + 1 == r->waiters)
            parc_event_set(&r->done);
        /* wait for the round to close before looking at `go` again */
        if (parc_event_wait_timed(&r->done, PARC_TEST_PATIENCE_NS) != 0) {
            parc_faa(&r->timeouts, 1, PARC_RELAXED);
            return NULL;
        }
        parc_faa(&r->left, 1, PARC_RELEASE);
        while (parc_event_is_set(&r->done))
            sched_yield();
    }
    return NULL;
}

START_TEST(rounds_of_set_and_clear)
{
    static struct round_state r;
    parc_event_init(&r.go);
    parc_event_init(&r.done);
    parc_atomic_init(&r.arrived, 0);
    parc_atomic_init(&r.left, 0);
    parc_atomic_init(&r.timeouts, 0);
    r.waiters = 6;
    r.rounds = 2000 / PARC_SLOWDOWN;
    pthread_t t[6];
    parc_test_spawn(t, r.waiters, round_waiter, &r, 0);
    for (int i = 0; i < r.rounds; i++) {
        parc_event_set(&r.go);
        ck_assert_int_eq(parc_event_wait_timed(&r.done, PARC_TEST_PATIENCE_NS), 0);
        ck_assert_int_eq(parc_load(&r.arrived, PARC_ACQUIRE), r.waiters);
        parc_event_clear(&r.go);
        /* every waiter has seen `done` before it is cleared again */
        while (parc_load(&r.left, PARC_ACQUIRE) != r.waiters &&
               parc_load(&r.timeouts, PARC_RELAXED) == 0)
            sched_yield();
        parc_store(&r.left, 0, PARC_RELAXED);
        parc_store(&r.arrived, 0, PARC_RELEASE);
        parc_event_clear(&r.done);
        if (parc_load(&r.timeouts, PARC_RELAXED) != 0)
            break;
    }
    parc_test_join(t, r.waiters);
    ck_assert_int_eq(parc_load(&r.timeouts, PARC_RELAXED), 0);
}
END_TEST

/* ---- an idle waiter must not burn a core ----------------------------- */

static int wait_one_second(void *e)
{
    return parc_event_wait_timed(e, PARC_NS_PER_S);
}

START_TEST(idle_waiter_burns_no_cpu)
{
    parc_event_t e = PARC_EVENT_INIT;
    parc_test_idle_t m = { wait_one_second, &e, -1, 0, 0 };
    parc_test_measure_idle(&m);
    ck_assert_int_eq(m.rc, ETIMEDOUT);
    ck_assert_int_ge(m.wall_ns, PARC_NS_PER_S);
    /* spins ~25 us, then sleeps: far below 2% of a core over one second */
    ck_assert_int_le(m.cpu_ns, m.wall_ns / 50);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("event");
    TCase *basic = tcase_create("basic");
    tcase_add_test(basic, rejects_bad_arguments);
    tcase_add_test(basic, set_clear_is_set);
    tcase_add_test(basic, timed_wait_times_out_after_deadline);
    tcase_add_test(basic, idle_waiter_burns_no_cpu);
    suite_add_tcase(s, basic);
    TCase *mt = tcase_create("threads");
    tcase_set_timeout(mt, 120 * PARC_SLOWDOWN);
    tcase_add_test(mt, set_wakes_every_waiter);
    tcase_add_test(mt, set_then_clear_still_releases_waiters);
    tcase_add_test(mt, rounds_of_set_and_clear);
    suite_add_tcase(s, mt);
    return parc_test_run(s);
}
