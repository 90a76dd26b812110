/* Unit tests for parc/park.h, run against both back-ends (futex and
 * condvar) whichever one the library was configured with. */
#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "park_backend.h"
#include "parc/park.h"
#include "testutil.h"

static const parc_park_backend_t *backends[] = {
#ifdef __linux__
    &parc_park_futex_backend,
#endif
    &parc_park_condvar_backend,
};
#define NBACKENDS ((int)(sizeof backends / sizeof backends[0]))

START_TEST(public_api_checks_arguments)
{
    ck_assert_int_eq(parc_park_wait(NULL, 0, PARC_FOREVER), EINVAL);
    ck_assert_int_eq(parc_park_wake_one(NULL), EINVAL);
    ck_assert_int_eq(parc_park_wake_all(NULL), EINVAL);
    const char *name = parc_park_backend();
    ck_assert(strcmp(name, "futex") == 0 || strcmp(name, "condvar") == 0);
    ck_assert_str_eq(name, PARC_PARK_FUTEX ? "futex" : "condvar");
}
END_TEST

START_TEST(returns_at_once_when_the_value_differs)
{
    const parc_park_backend_t *b = backends[_i];
    parc_park_word_t w;
    parc_atomic_init(&w, 7);
    ck_assert_int_eq(b->wait(&w, 6, PARC_FOREVER), 0);
}
END_TEST

START_TEST(times_out_after_the_deadline_never_before)
{
    const parc_park_backend_t *b = backends[_i];
    parc_park_word_t w;
    parc_atomic_init(&w, 0);
    for (int round = 0; round < 3; round++) {
        parc_deadline_t d;
        ck_assert_int_eq(parc_deadline_in(&d, 20 * PARC_NS_PER_MS), 0);
        ck_assert_int_eq(b->wait(&w, 0, d), ETIMEDOUT);
        ck_assert_int_ge(parc_now_ns(), d);
    }
    /* a deadline in the past times out at once */
    ck_assert_int_eq(b->wait(&w, 0, parc_now_ns() - PARC_NS_PER_MS), ETIMEDOUT);
}
END_TEST

struct waiter {
    const parc_park_backend_t *b;
    parc_park_word_t *word;
    uint32_t expected;
    parc_atomic(int) returned;
    int rc;
};

static void *wait_once(void *arg)
{
    struct waiter *w = arg;
    parc_deadline_t d;
    parc_deadline_in(&d, PARC_TEST_PATIENCE_NS);
    w->rc = w->b->wait(w->word, w->expected, d);
    /* release: publishes rc; pairs with the acquire load in the test */
    parc_store(&w->returned, 1, PARC_RELEASE);
    return NULL;
}

START_TEST(returns_on_wake_without_a_value_change)
{
    parc_park_word_t word;
    parc_atomic_init(&word, 0);
    struct waiter w = { .b = backends[_i], .word = &word, .expected = 0 };
    parc_atomic_init(&w.returned, 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, wait_once, &w), 0);
    /* The waiter may not be asleep yet when a wake comes: wake until it
     * returns, but never change the word. */
    while (!parc_load(&w.returned, PARC_ACQUIRE)) {
        backends[_i]->wake(&word, 1);
        parc_sleep_ns(PARC_NS_PER_MS);
    }
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(w.rc, 0); /* woken, not timed out */
}
END_TEST

START_TEST(returns_on_value_change_and_wake)
{
    parc_park_word_t word;
    parc_atomic_init(&word, 0);
    struct waiter w = { .b = backends[_i], .word = &word, .expected = 0 };
    parc_atomic_init(&w.returned, 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, wait_once, &w), 0);
    parc_sleep_ns(5 * PARC_NS_PER_MS);
    parc_store(&word, 1, PARC_RELEASE);
    backends[_i]->wake(&word, INT32_MAX);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(w.rc, 0);
}
END_TEST

/*
 * 64 threads wait and are woken in rounds. Each round the main thread waits
 * until every waiter has announced it is about to wait for round r, then
 * bumps the round word and wakes (all, or one at a time 64 times). A lost
 * wake-up leaves a waiter asleep until its deadline: it reports ETIMEDOUT
 * and the test fails.
 */
#define WAITERS 64
#define ROUNDS 40

struct rounds {
    const parc_park_backend_t *b;
    int wake_one;
    parc_park_word_t round;
    parc_atomic(int) ready;
    parc_atomic(int) timeouts;
};

static void *round_waiter(void *arg)
{
    struct rounds *r = arg;
    for (uint32_t k = 0; k < ROUNDS; k++) {
        parc_faa(&r->ready, 1, PARC_RELAXED);
        parc_deadline_t d;
        parc_deadline_in(&d, PARC_TEST_PATIENCE_NS);
        /* acquire: pairs with the main thread's release bump of the round */
        while (parc_load(&r->round, PARC_ACQUIRE) == k) {
            if (r->b->wait(&r->round, k, d) == ETIMEDOUT) {
                parc_faa(&r->timeouts, 1, PARC_RELAXED);
                return NULL;
            }
        }
    }
    return NULL;
}

static void run_rounds(const parc_park_backend_t *b, int wake_one)
{
    static struct rounds r;
    r.b = b;
    r.wake_one = wake_one;
    parc_atomic_init(&r.round, 0);
    parc_atomic_init(&r.ready, 0);
    parc_atomic_init(&r.timeouts, 0);
    pthread_t t[WAITERS];
    parc_test_spawn(t, WAITERS, round_waiter, &r, 0);
    for (uint32_t k = 0; k < ROUNDS; k++) {
        parc_deadline_t d;
        parc_deadline_in(&d, PARC_TEST_PATIENCE_NS);
        while (parc_load(&r.ready, PARC_RELAXED) < (int)((k + 1) * WAITERS)) {
            ck_assert_msg(!parc_deadline_passed(d), "waiters never got ready");
            ck_assert_int_eq(parc_load(&r.timeouts, PARC_RELAXED), 0);
            sched_yield();
        }
        /* release: the new round; pairs with the waiters' acquire loads */
        parc_store(&r.round, k + 1, PARC_RELEASE);
        if (wake_one)
            for (int i = 0; i < WAITERS; i++)
                b->wake(&r.round, 1);
        else
            b->wake(&r.round, INT32_MAX);
    }
    parc_test_join(t, WAITERS);
    ck_assert_int_eq(parc_load(&r.timeouts, PARC_RELAXED), 0);
}

START_TEST(many_waiters_lose_no_wakeup_wake_all)
{
    run_rounds(backends[_i], 0);
}
END_TEST

START_TEST(many_waiters_lose_no_wakeup_wake_one)
{
    run_rounds(backends[_i], 1);
}
END_TEST

/*
 * The condvar back-end's wake-ups are exact: wake(word, 1) returns one
 * parked thread, never more, so N parked threads need N wakes. (A
 * broadcast would return every parked thread at the first wake; the
 * 20 ms pause before it makes it likely they are all parked by then.)
 * The futex back-end is not held to this: the kernel may return a
 * futex wait spuriously.
 */
#define ONE_BY_ONE 4

START_TEST(condvar_wake_one_returns_one_thread)
{
    const parc_park_backend_t *b = &parc_park_condvar_backend;
    parc_park_word_t word;
    parc_atomic_init(&word, 0);
    struct waiter w[ONE_BY_ONE];
    pthread_t t[ONE_BY_ONE];
    for (int i = 0; i < ONE_BY_ONE; i++) {
        w[i] = (struct waiter){ .b = b, .word = &word, .expected = 0 };
        parc_atomic_init(&w[i].returned, 0);
        ck_assert_int_eq(pthread_create(&t[i], NULL, wait_once, &w[i]), 0);
    }
    parc_sleep_ns(20 * PARC_NS_PER_MS);
    int wakes = 0, returned = 0;
    while (returned < ONE_BY_ONE) {
        b->wake(&word, 1);
        wakes++;
        parc_sleep_ns(PARC_NS_PER_MS);
        returned = 0;
        for (int i = 0; i < ONE_BY_ONE; i++)
            returned += parc_load(&w[i].returned, PARC_ACQUIRE);
        ck_assert_msg(returned <= wakes, "%d threads returned after %d wake_one",
                      returned, wakes);
    }
    for (int i = 0; i < ONE_BY_ONE; i++) {
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        ck_assert_int_eq(w[i].rc, 0); /* woken, not timed out */
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("park");
    TCase *tc = tcase_create("park");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_test(tc, public_api_checks_arguments);
    tcase_add_loop_test(tc, returns_at_once_when_the_value_differs, 0, NBACKENDS);
    tcase_add_loop_test(tc, times_out_after_the_deadline_never_before, 0, NBACKENDS);
    tcase_add_loop_test(tc, returns_on_wake_without_a_value_change, 0, NBACKENDS);
    tcase_add_loop_test(tc, returns_on_value_change_and_wake, 0, NBACKENDS);
    tcase_add_loop_test(tc, many_waiters_lose_no_wakeup_wake_all, 0, NBACKENDS);
    tcase_add_loop_test(tc, many_waiters_lose_no_wakeup_wake_one, 0, NBACKENDS);
    tcase_add_test(tc, condvar_wake_one_returns_one_thread);
    suite_add_tcase(s, tc);
    return parc_test_run(s);
}
