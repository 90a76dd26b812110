/* Unit tests for parc/stress_baton.h: in a PARC_CHAOS build the same seed
 * gives the same schedule and another seed another one; parked threads
 * hand the baton on and get it back; a run where everyone parks for good
 * is reported as a hang. Without PARC_CHAOS the baton refuses (ENOTSUP). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "parc/atomic.h"
#include "parc/chaos.h"
#include "parc/park.h"
#include "parc/stress_baton.h"
#include "parc/time.h"

#define LOG_SIZE 4096
#define ROUNDS 100

/* The workload's own view of the schedule: which thread took each slot. */
static parc_atomic(unsigned) next_slot;
static parc_atomic(unsigned) total;
static unsigned char slot_owner[LOG_SIZE];

static void counting(unsigned index, void *arg)
{
    (void)arg;
    for (int k = 0; k < ROUNDS; k++) {
        unsigned p = parc_faa(&next_slot, 1u, PARC_RELAXED);
        if (p < LOG_SIZE)
            slot_owner[p] = (unsigned char)(index + 1);
        parc_faa(&total, 1u, PARC_RELAXED);
    }
}

static void run_counting(uint64_t seed, parc_baton_result_t *res, unsigned char *log)
{
    parc_atomic_init(&next_slot, 0u);
    parc_atomic_init(&total, 0u);
    memset(slot_owner, 0, sizeof slot_owner);
    parc_baton_options_t o = { .seed = seed, .depth = 4, .expected_steps = 3 * ROUNDS * 2 };
    ck_assert_int_eq(parc_baton_run(3, counting, NULL, &o, res), 0);
    ck_assert_uint_eq(parc_raw_load(&total, PARC_RELAXED), 3 * ROUNDS);
    memcpy(log, slot_owner, sizeof slot_owner);
}

START_TEST(same_seed_same_schedule_other_seed_other_schedule)
{
    if (!parc_baton_available()) {
        ck_assert_int_eq(parc_baton_run(2, counting, NULL, NULL, NULL), ENOTSUP);
        ck_assert_int_eq(parc_baton_begin(2, NULL), ENOTSUP);
        return;
    }
    static unsigned char a[LOG_SIZE], b[LOG_SIZE], c[LOG_SIZE];
    parc_baton_result_t ra, rb, rc;
    run_counting(42, &ra, a);
    run_counting(42, &rb, b);
    run_counting(43, &rc, c);
    parc_baton_print(stdout, &ra);
    parc_baton_print(stdout, &rc);
    ck_assert_uint_ge(ra.steps, 3 * ROUNDS * 2);
    ck_assert_uint_gt(ra.switches, 1);
    /* replay: identical decisions and an identical execution */
    ck_assert_uint_eq(ra.schedule_hash, rb.schedule_hash);
    ck_assert_uint_eq(ra.steps, rb.steps);
    ck_assert_int_eq(memcmp(a, b, LOG_SIZE), 0);
    /* another seed: another schedule */
    ck_assert_uint_ne(ra.schedule_hash, rc.schedule_hash);
    ck_assert_int_ne(memcmp(a, c, LOG_SIZE), 0);
}
END_TEST

/* Two threads take turns through a parked word: each parks until it is
 * its turn, so the baton must pass through block/unblock. */
static parc_park_word_t turn;
static unsigned turns_taken;

static void ping_pong(unsigned index, void *arg)
{
    (void)arg;
    for (int k = 0; k < 20; k++) {
        uint32_t other = 1u - index;
        /* acquire: pairs with the other thread's release store of the turn */
        while (parc_load(&turn, PARC_ACQUIRE) != index)
            parc_park_wait(&turn, other, PARC_FOREVER);
        turns_taken++; /* ordered by the turn hand-over */
        /* release: hands the turn (and turns_taken) to the other thread */
        parc_store(&turn, other, PARC_RELEASE);
        parc_park_wake_all(&turn);
    }
}

START_TEST(parked_threads_pass_the_baton_and_get_it_back)
{
    if (!parc_baton_available())
        return;
    parc_atomic_init(&turn, 0u);
    turns_taken = 0;
    parc_baton_result_t r;
    parc_baton_options_t o = { .seed = 7 };
    ck_assert_int_eq(parc_baton_run(2, ping_pong, NULL, &o, &r), 0);
    ck_assert_uint_eq(turns_taken, 40);
    ck_assert_uint_gt(r.parks, 0);

    /* Parks replay too: the scheduler settles parked threads (asleep or
     * back) before every decision, so the kernel's timing does not leak
     * into the schedule -- except that a spurious or late futex wake-up
     * still can (stress_baton.h says so), which happens now and then on a
     * loaded machine (under a parallel ctest run, 2 of 5 reruns were
     * exact; in a CI run beside other jobs, 0 of 5). So: some rerun in
     * thirty must replay exactly (the loop stops at the first); a
     * scheduler that let the kernel's timing in (the version without
     * settling) gives a different schedule nearly every time. Exact
     * replay without parks is asserted strictly in
     * same_seed_same_schedule_other_seed_other_schedule. */
    int exact = 0;
    for (int again = 0; again < 30 && exact == 0; again++) {
        parc_atomic_init(&turn, 0u);
        turns_taken = 0;
        parc_baton_result_t r2;
        ck_assert_int_eq(parc_baton_run(2, ping_pong, NULL, &o, &r2), 0);
        ck_assert_uint_eq(turns_taken, 40);
        exact += r2.schedule_hash == r.schedule_hash && r2.parks == r.parks &&
                 r2.steps == r.steps;
    }
    ck_assert_int_ge(exact, 1);
}
END_TEST

/* Everyone parks with a deadline and nobody wakes them: time passes, the
 * waits expire, the run completes. */
static parc_park_word_t never;
static parc_atomic(unsigned) timeouts;

static void timed_sleeper(unsigned index, void *arg)
{
    (void)index;
    (void)arg;
    parc_deadline_t d;
    parc_deadline_in(&d, 20 * PARC_NS_PER_MS);
    int rc;
    while ((rc = parc_park_wait(&never, 0, d)) == 0)
        ;
    if (rc == ETIMEDOUT)
        parc_faa(&timeouts, 1u, PARC_RELAXED);
}

START_TEST(all_parked_with_deadlines_lets_time_pass)
{
    if (!parc_baton_available())
        return;
    parc_atomic_init(&never, 0u);
    parc_atomic_init(&timeouts, 0u);
    parc_baton_result_t r;
    ck_assert_int_eq(parc_baton_run(3, timed_sleeper, NULL, NULL, &r), 0);
    ck_assert_uint_eq(parc_raw_load(&timeouts, PARC_RELAXED), 3);
    ck_assert_uint_ge(r.parks, 3);
}
END_TEST

static void bad_args(void)
{
    ck_assert_int_eq(parc_baton_run(0, counting, NULL, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_baton_run(2, NULL, NULL, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_baton_run(PARC_BATON_MAX_THREADS + 1, counting, NULL, NULL, NULL),
                     EINVAL);
    ck_assert_int_eq(parc_baton_enter(0), EINVAL); /* no active run */
}

START_TEST(bad_arguments)
{
    if (!parc_baton_available())
        return;
    bad_args();
    /* a second run while one is active is refused */
    ck_assert_int_eq(parc_baton_begin(1, NULL), 0);
    ck_assert_int_eq(parc_baton_begin(1, NULL), EBUSY);
    ck_assert_int_eq(parc_baton_end(NULL), 0);
}
END_TEST

/* Everyone parks forever: a hang, reported (the stuck threads die with
 * this forked test process). */
static void forever_sleeper(unsigned index, void *arg)
{
    (void)index;
    (void)arg;
    for (;;)
        parc_park_wait(&never, 0, PARC_FOREVER);
}

START_TEST(everyone_parked_for_good_is_a_hang)
{
    if (!parc_baton_available())
        return;
    if (getenv("CK_FORK") != NULL && strcmp(getenv("CK_FORK"), "no") == 0)
        return; /* the stuck threads would outlive the test */
    parc_atomic_init(&never, 0u);
    parc_baton_result_t r;
    parc_baton_options_t o = { .seed = 1, .hang_ns = 300 * PARC_NS_PER_MS };
    ck_assert_int_eq(parc_baton_run(2, forever_sleeper, NULL, &o, &r), EDEADLK);
    ck_assert(r.hang);
    ck_assert_int_eq(parc_baton_begin(1, NULL), EBUSY);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stress_baton");
    TCase *tc = tcase_create("baton");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, same_seed_same_schedule_other_seed_other_schedule);
    tcase_add_test(tc, parked_threads_pass_the_baton_and_get_it_back);
    tcase_add_test(tc, all_parked_with_deadlines_lets_time_pass);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, everyone_parked_for_good_is_a_hang);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
