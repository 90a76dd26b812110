/* Unit tests for parc/time.h: deadline arithmetic at the edges. */
#include <stdint.h>

#include "parc/time.h"
#include "testutil.h"

START_TEST(deadline_rejects_bad_arguments)
{
    parc_deadline_t d = 123;
    ck_assert_int_eq(parc_deadline_in(NULL, 10), EINVAL);
    ck_assert_int_eq(parc_deadline_in(&d, -1), EINVAL);
    ck_assert_int_eq(parc_deadline_in(&d, INT64_MIN), EINVAL);
    ck_assert_int_eq(d, 123); /* untouched on error */
    ck_assert_int_eq(parc_sleep_ns(-5), EINVAL);
    ck_assert_int_eq(parc_sleep_ns(PARC_FOREVER), EINVAL);
    ck_assert_int_eq(parc_sleep_until(PARC_FOREVER), EINVAL);
}
END_TEST

START_TEST(deadline_forever_and_overflow_saturate)
{
    parc_deadline_t d;
    ck_assert_int_eq(parc_deadline_in(&d, PARC_FOREVER), 0);
    ck_assert_int_eq(d, PARC_FOREVER);
    /* now + (INT64_MAX - 1) overflows: it must saturate, not wrap. */
    ck_assert_int_eq(parc_deadline_in(&d, INT64_MAX - 1), 0);
    ck_assert_int_eq(d, PARC_FOREVER);
    ck_assert(!parc_deadline_passed(d));
    ck_assert_int_eq(parc_deadline_remaining(PARC_FOREVER), PARC_FOREVER);
    ck_assert_int_eq(parc_add_sat(INT64_MAX - 10, 11), INT64_MAX);
    ck_assert_int_eq(parc_add_sat(INT64_MAX - 10, 10), INT64_MAX);
    ck_assert_int_eq(parc_add_sat(INT64_MAX - 10, 9), INT64_MAX - 1);
    ck_assert_int_eq(parc_add_sat(5, 7), 12);
}
END_TEST

START_TEST(deadline_zero_has_passed)
{
    parc_deadline_t d;
    ck_assert_int_eq(parc_deadline_in(&d, 0), 0);
    ck_assert(parc_deadline_passed(d));
    ck_assert_int_eq(parc_deadline_remaining(d), 0);
}
END_TEST

START_TEST(deadline_remaining_counts_down)
{
    parc_deadline_t d;
    int64_t before = parc_now_ns();
    ck_assert_int_eq(parc_deadline_in(&d, 50 * PARC_NS_PER_MS), 0);
    ck_assert_int_ge(d, before + 50 * PARC_NS_PER_MS);
    int64_t left = parc_deadline_remaining(d);
    ck_assert_int_le(left, 50 * PARC_NS_PER_MS);
    ck_assert_int_gt(left, 0);
    ck_assert(!parc_deadline_passed(d));
    ck_assert_int_eq(parc_sleep_until(d), 0);
    /* never wakes before the deadline */
    ck_assert_int_ge(parc_now_ns(), d);
    ck_assert(parc_deadline_passed(d));
    ck_assert_int_eq(parc_deadline_remaining(d), 0);
}
END_TEST

START_TEST(deadline_timespec_splits_and_clamps)
{
    struct timespec ts = parc_deadline_timespec(3 * PARC_NS_PER_S + 7);
    ck_assert_int_eq(ts.tv_sec, 3);
    ck_assert_int_eq(ts.tv_nsec, 7);
    ts = parc_deadline_timespec(-42);
    ck_assert_int_eq(ts.tv_sec, 0);
    ck_assert_int_eq(ts.tv_nsec, 0);
    ts = parc_deadline_timespec(INT64_MAX - 1);
    ck_assert_int_eq(ts.tv_sec, (INT64_MAX - 1) / PARC_NS_PER_S);
    ck_assert_int_lt(ts.tv_nsec, PARC_NS_PER_S);
}
END_TEST

START_TEST(sleep_ns_sleeps_at_least)
{
    int64_t t0 = parc_now_ns();
    ck_assert_int_eq(parc_sleep_ns(2 * PARC_NS_PER_MS), 0);
    ck_assert_int_ge(parc_now_ns() - t0, 2 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_sleep_ns(0), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("deadline");
    tcase_add_test(tc, deadline_rejects_bad_arguments);
    tcase_add_test(tc, deadline_forever_and_overflow_saturate);
    tcase_add_test(tc, deadline_zero_has_passed);
    tcase_add_test(tc, deadline_remaining_counts_down);
    tcase_add_test(tc, deadline_timespec_splits_and_clamps);
    tcase_add_test(tc, sleep_ns_sleeps_at_least);
    suite_add_tcase(s, tc);
    return parc_test_run(s);
}
