/*
 * Unit tests for parc/latch.h.
 *
 * Besides every operation and error path: many waiters block until many
 * counters have counted down; no waiter may return before the last
 * count_down (each counter's write must be visible), and none may stay
 * asleep after it (a generous patience turns a lost wake-up into a
 * failure).
 */
#include <stdint.h>

#include "parc/latch.h"
#include "testutil.h"

START_TEST(rejects_bad_arguments)
{
    parc_latch_t l = PARC_LATCH_INIT(1);
    ck_assert_int_eq(parc_latch_init(NULL, 1), EINVAL);
    ck_assert_int_eq(parc_latch_destroy(NULL), EINVAL);
    ck_assert_int_eq(parc_latch_count_down(NULL), EINVAL);
    ck_assert_uint_eq(parc_latch_count(NULL), 0);
    ck_assert_int_eq(parc_latch_wait(NULL), EINVAL);
    ck_assert_int_eq(parc_latch_wait_try(NULL), EINVAL);
    ck_assert_int_eq(parc_latch_wait_timed(NULL, 0), EINVAL);
    ck_assert_int_eq(parc_latch_wait_timed(&l, -1), EINVAL);
    ck_assert_uint_eq(parc_latch_count(&l), 1);
    ck_assert_int_eq(parc_latch_destroy(&l), 0);
}
END_TEST

START_TEST(counts_down_to_zero_and_stays_open)
{
    parc_latch_t l;
    ck_assert_int_eq(parc_latch_init(&l, 2), 0);
    ck_assert_uint_eq(parc_latch_count(&l), 2);
    ck_assert_int_eq(parc_latch_wait_try(&l), EAGAIN);
    ck_assert_int_eq(parc_latch_wait_timed(&l, 0), ETIMEDOUT);
    ck_assert_int_eq(parc_latch_count_down(&l), 0);
    ck_assert_uint_eq(parc_latch_count(&l), 1);
    ck_assert_int_eq(parc_latch_wait_try(&l), EAGAIN);
    ck_assert_int_eq(parc_latch_count_down(&l), 0);
    ck_assert_uint_eq(parc_latch_count(&l), 0);
    ck_assert_int_eq(parc_latch_wait_try(&l), 0);
    ck_assert_int_eq(parc_latch_wait(&l), 0);
    ck_assert_int_eq(parc_latch_wait_timed(&l, 0), 0);
    ck_assert_int_eq(parc_latch_count_down(&l), 0); /* at zero: nothing */
    ck_assert_uint_eq(parc_latch_count(&l), 0);
    ck_assert_int_eq(parc_latch_init(&l, 0), 0); /* open from the start */
    ck_assert_int_eq(parc_latch_wait(&l), 0);
}
END_TEST

START_TEST(timed_wait_times_out_after_deadline)
{
    parc_latch_t l = PARC_LATCH_INIT(1);
    int64_t t0 = parc_now_ns();
    ck_assert_int_eq(parc_latch_wait_timed(&l, 20 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns() - t0, 20 * PARC_NS_PER_MS);
}
END_TEST

#define COUNTERS 8
#define WAITERS 8

struct race {
    parc_latch_t latch;
    int written[COUNTERS];      /* plain: published by count_down */
    parc_atomic(int) next;
    parc_atomic(int) early;     /* a waiter saw a missing write */
    parc_atomic(int) timeouts;
};

static void *count(void *arg)
{
    struct race *r = arg;
    int me = parc_faa(&r->next, 1, PARC_RELAXED);
    sched_yield();
    r->written[me] = me + 1;
    parc_latch_count_down(&r->latch);
    return NULL;
}

static void *await_all(void *arg)
{
    struct race *r = arg;
    int rc = (parc_faa(&r->next, 0, PARC_RELAXED) & 1)
                 ? parc_latch_wait_timed(&r->latch, PARC_TEST_PATIENCE_NS)
                 : parc_latch_wait(&r->latch);
    if (rc != 0) {
        parc_faa(&r->timeouts, 1, PARC_RELAXED);
        return NULL;
    }
    for (int i = 0; i < COUNTERS; i++)
        if (r->written[i] == 0)
            parc_faa(&r->early, 1, PARC_RELAXED);
    return NULL;
}

START_TEST(waiters_released_by_the_last_count_down)
{
    static struct race r;
    for (int round = 0; round < 200 / PARC_SLOWDOWN; round++) {
        ck_assert_int_eq(parc_latch_init(&r.latch, COUNTERS), 0);
        for (int i = 0; i < COUNTERS; i++)
            r.written[i] = 0;
        parc_atomic_init(&r.next, 0);
        parc_atomic_init(&r.early, 0);
        parc_atomic_init(&r.timeouts, 0);
        pthread_t w[WAITERS], c[COUNTERS];
        parc_test_spawn(w, WAITERS, await_all, &r, 0);
        parc_test_spawn(c, COUNTERS, count, &r, 0);
        parc_test_join(c, COUNTERS);
        parc_test_join(w, WAITERS);
        ck_assert_int_eq(parc_load(&r.timeouts, PARC_RELAXED), 0);
        ck_assert_int_eq(parc_load(&r.early, PARC_RELAXED), 0);
        ck_assert_uint_eq(parc_latch_count(&r.latch), 0);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("latch");
    TCase *basic = tcase_create("basic");
    tcase_add_test(basic, rejects_bad_arguments);
    tcase_add_test(basic, counts_down_to_zero_and_stays_open);
    tcase_add_test(basic, timed_wait_times_out_after_deadline);
    suite_add_tcase(s, basic);
    TCase *mt = tcase_create("threads");
    tcase_set_timeout(mt, 120 * PARC_SLOWDOWN);
    tcase_add_test(mt, waiters_released_by_the_last_count_down);
    suite_add_tcase(s, mt);
    return parc_test_run(s);
}
