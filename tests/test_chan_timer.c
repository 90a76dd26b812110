/*
 * Unit tests for parc/chan_timer.h: a one-shot timer delivers once, not
 * before its deadline; a stopped timer never delivers; a ticker ticks
 * repeatedly, drops ticks nobody reads, and stops; a timer wakes a select;
 * destroy waits for a firing in progress.
 */
#include <stdint.h>

#include "parc/chan_timer.h"
#include "parc/select.h"
#include "testutil.h"

START_TEST(rejects_bad_arguments)
{
    parc_timer_t t;
    ck_assert_int_eq(parc_timer_after(NULL, 1), EINVAL);
    ck_assert_int_eq(parc_timer_after(&t, -1), EINVAL);
    ck_assert_int_eq(parc_timer_at(NULL, 0), EINVAL);
    ck_assert_int_eq(parc_timer_tick(&t, 0), EINVAL);
    ck_assert_int_eq(parc_timer_tick(&t, -5), EINVAL);
    ck_assert_int_eq(parc_timer_stop(NULL), EINVAL);
    ck_assert_int_eq(parc_timer_destroy(NULL), EINVAL);
}
END_TEST

START_TEST(after_fires_once_not_early)
{
    parc_timer_t t;
    int64_t t0 = parc_now_ns(), when;
    ck_assert_int_eq(parc_timer_after(&t, 20 * PARC_NS_PER_MS), 0);
    ck_assert_int_eq(parc_chan_recv_timed(parc_timer_chan(&t), &when,
                                          PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_ge(when - t0, 20 * PARC_NS_PER_MS);
    ck_assert_int_ge(parc_now_ns() - t0, 20 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_chan_recv_timed(parc_timer_chan(&t), &when,
                                          30 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_eq(parc_timer_stop(&t), EALREADY);
    ck_assert_int_eq(parc_timer_destroy(&t), 0);
}
END_TEST

START_TEST(stopped_timer_never_fires)
{
    parc_timer_t t;
    int64_t when;
    ck_assert_int_eq(parc_timer_after(&t, 10 * PARC_NS_PER_MS), 0);
    ck_assert_int_eq(parc_timer_stop(&t), 0);
    ck_assert_int_eq(parc_timer_stop(&t), EALREADY);
    ck_assert_int_eq(parc_chan_recv_timed(parc_timer_chan(&t), &when,
                                          40 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_eq(parc_timer_destroy(&t), 0);
}
END_TEST

START_TEST(tick_ticks_drops_and_stops)
{
    parc_timer_t t;
    int64_t when, last = 0;
    ck_assert_int_eq(parc_timer_tick(&t, 5 * PARC_NS_PER_MS), 0);
    for (int k = 0; k < 4; k++) {
        ck_assert_int_eq(parc_chan_recv_timed(parc_timer_chan(&t), &when,
                                              PARC_TEST_PATIENCE_NS), 0);
        ck_assert_int_gt(when, last);
        last = when;
    }
    parc_sleep_ns(40 * PARC_NS_PER_MS); /* ~8 ticks, one kept */
    ck_assert_uint_le(parc_chan_len(parc_timer_chan(&t)), 1);
    ck_assert_int_eq(parc_timer_stop(&t), 0);
    (void)parc_chan_recv_try(parc_timer_chan(&t), &when);
    ck_assert_int_eq(parc_chan_recv_timed(parc_timer_chan(&t), &when,
                                          20 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_eq(parc_timer_destroy(&t), 0);
}
END_TEST

START_TEST(timer_wakes_select)
{
    parc_chan_t work = PARC_CHAN_INIT(sizeof(int), 1);
    parc_timer_t t;
    int job;
    int64_t when;
    ck_assert_int_eq(parc_timer_after(&t, 10 * PARC_NS_PER_MS), 0);
    parc_select_case_t cs[2];
    cs[0] = parc_select_recv(&work, &job);
    cs[1] = parc_select_recv(parc_timer_chan(&t), &when);
    size_t i;
    ck_assert_int_eq(parc_select_timed(cs, 2, 0, &i, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_uint_eq(i, 1);
    ck_assert_int_eq(parc_timer_destroy(&t), 0);
    ck_assert_int_eq(parc_chan_destroy(&work), 0);
}
END_TEST

START_TEST(many_timers_start_and_stop)
{
    enum { N = 64 };
    static parc_timer_t ts[N];
    for (int round = 0; round < 10; round++) {
        for (int k = 0; k < N; k++)
            ck_assert_int_eq(k % 2 ? parc_timer_after(&ts[k], k * 10000)
                                   : parc_timer_tick(&ts[k], 100000 + k), 0);
        parc_sleep_ns(PARC_NS_PER_MS);
        for (int k = 0; k < N; k++)
            ck_assert_int_eq(parc_timer_destroy(&ts[k]), 0);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("chan_timer");
    TCase *tc = tcase_create("timers");
    tcase_add_test(tc, rejects_bad_arguments);
    tcase_add_test(tc, after_fires_once_not_early);
    tcase_add_test(tc, stopped_timer_never_fires);
    tcase_add_test(tc, tick_ticks_drops_and_stops);
    tcase_add_test(tc, timer_wakes_select);
    tcase_add_test(tc, many_timers_start_and_stop);
    suite_add_tcase(s, tc);
    return parc_test_run(s);
}
