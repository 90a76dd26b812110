/*
 * Unit tests for parc/eventcount.h.
 *
 * The central test: producers add to a plain atomic counter of "items" and
 * notify; consumers take items with a CAS and, when there are none, sleep
 * through the raw eventcount protocol. A consumer whose wait times out while
 * items are available was not woken when it should have been: a lost
 * wake-up, and the test fails. Nothing but the eventcount wakes consumers.
 */
#include <stdint.h>

#include "parc/eventcount.h"
#include "testutil.h"

START_TEST(rejects_null)
{
    ck_assert_int_eq(parc_eventcount_init(NULL), EINVAL);
    ck_assert_int_eq(parc_eventcount_wait(NULL, 0, PARC_FOREVER), EINVAL);
    parc_eventcount_t ec = PARC_EVENTCOUNT_INIT;
    ck_assert_int_eq(parc_eventcount_await(NULL, NULL, NULL, PARC_FOREVER), EINVAL);
    ck_assert_int_eq(parc_eventcount_await(&ec, NULL, NULL, PARC_FOREVER), EINVAL);
}
END_TEST

START_TEST(notify_without_waiters_changes_nothing)
{
    parc_eventcount_t ec;
    ck_assert_int_eq(parc_eventcount_init(&ec), 0);
    parc_eventcount_notify_one(&ec);
    parc_eventcount_notify_all(&ec);
    /* the fast path only loads the waiter count: the epoch stays */
    ck_assert_uint_eq(parc_load(&ec.epoch, PARC_RELAXED), 0);
    ck_assert_uint_eq(parc_load(&ec.waiters, PARC_RELAXED), 0);
}
END_TEST

START_TEST(prepare_then_notify_makes_wait_return)
{
    parc_eventcount_t ec = PARC_EVENTCOUNT_INIT;
    parc_eventcount_key_t key = parc_eventcount_prepare_wait(&ec);
    ck_assert_uint_eq(parc_load(&ec.waiters, PARC_RELAXED), 1);
    parc_eventcount_notify_one(&ec); /* sees the waiter: bumps the epoch */
    ck_assert_uint_ne(parc_load(&ec.epoch, PARC_RELAXED), key);
    ck_assert_int_eq(parc_eventcount_wait(&ec, key, PARC_FOREVER), 0); /* no sleep */
    ck_assert_uint_eq(parc_load(&ec.waiters, PARC_RELAXED), 0);

    key = parc_eventcount_prepare_wait(&ec);
    parc_eventcount_cancel_wait(&ec);
    ck_assert_uint_eq(parc_load(&ec.waiters, PARC_RELAXED), 0);
}
END_TEST

START_TEST(wait_times_out_after_deadline)
{
    parc_eventcount_t ec = PARC_EVENTCOUNT_INIT;
    parc_eventcount_key_t key = parc_eventcount_prepare_wait(&ec);
    parc_deadline_t d;
    parc_deadline_in(&d, 10 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_eventcount_wait(&ec, key, d), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns(), d);
    ck_assert_uint_eq(parc_load(&ec.waiters, PARC_RELAXED), 0);
}
END_TEST

static bool never(void *arg) { (void)arg; return false; }
static bool flag_set(void *arg)
{
    /* acquire: pairs with the release store of the flag by the setter */
    return parc_load((parc_atomic(int) *)arg, PARC_ACQUIRE) != 0;
}

START_TEST(await_times_out_and_succeeds)
{
    parc_eventcount_t ec = PARC_EVENTCOUNT_INIT;
    parc_deadline_t d;
    parc_deadline_in(&d, 5 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_eventcount_await(&ec, never, NULL, d), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns(), d);
    parc_atomic(int) flag;
    parc_atomic_init(&flag, 1);
    ck_assert_int_eq(parc_eventcount_await(&ec, flag_set, (void *)&flag, d), 0);
    ck_assert_uint_eq(parc_load(&ec.waiters, PARC_RELAXED), 0);
}
END_TEST

struct flag_setter {
    parc_eventcount_t *ec;
    parc_atomic(int) *flag;
};

static void *set_later(void *arg)
{
    struct flag_setter *s = arg;
    parc_sleep_ns(20 * PARC_NS_PER_MS); /* long enough for the waiter to park */
    parc_store(s->flag, 1, PARC_RELEASE);
    parc_eventcount_notify_all(s->ec);
    return NULL;
}

START_TEST(await_parks_until_notified)
{
    parc_eventcount_t ec = PARC_EVENTCOUNT_INIT;
    parc_atomic(int) flag;
    parc_atomic_init(&flag, 0);
    struct flag_setter s = { &ec, &flag };
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, set_later, &s), 0);
    parc_deadline_t d;
    parc_deadline_in(&d, PARC_TEST_PATIENCE_NS);
    ck_assert_int_eq(parc_eventcount_await(&ec, flag_set, (void *)&flag, d), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
}
END_TEST

/* ---- producers and consumers over a counter ------------------------- */

struct pc {
    parc_eventcount_t ec;
    parc_atomic(int64_t) items;     /* available */
    parc_atomic(int64_t) taken;     /* consumed so far */
    parc_atomic(int) done;          /* every item taken */
    parc_atomic(int) lost_wakeups;
    int64_t total;
    int per_producer;
    int notify_all;
};

static bool pc_try_take(struct pc *pc)
{
    int64_t n = parc_load(&pc->items, PARC_ACQUIRE);
    while (n > 0)
        /* acq_rel: take an item published by a producer's release add */
        if (parc_cas_weak(&pc->items, &n, n - 1, PARC_ACQ_REL, PARC_ACQUIRE))
            return true;
    return false;
}

static bool pc_ready(struct pc *pc)
{
    return parc_load(&pc->items, PARC_ACQUIRE) > 0 || parc_load(&pc->done, PARC_ACQUIRE);
}

static void *pc_producer(void *arg)
{
    struct pc *pc = arg;
    for (int i = 0; i < pc->per_producer; i++) {
        /* release: publishes the item; pairs with the consumers' acquire */
        parc_faa(&pc->items, 1, PARC_RELEASE);
        if (pc->notify_all)
            parc_eventcount_notify_all(&pc->ec);
        else
            parc_eventcount_notify_one(&pc->ec);
        if ((i & 63) == 0)
            sched_yield(); /* let consumers drain and sleep often */
    }
    return NULL;
}

static void *pc_consumer(void *arg)
{
    struct pc *pc = arg;
    for (;;) {
        if (pc_try_take(pc)) {
            if (parc_faa(&pc->taken, 1, PARC_RELAXED) + 1 == pc->total) {
                parc_store(&pc->done, 1, PARC_RELEASE);
                parc_eventcount_notify_all(&pc->ec);
            }
            continue;
        }
        if (parc_load(&pc->done, PARC_ACQUIRE))
            return NULL;
        parc_eventcount_key_t key = parc_eventcount_prepare_wait(&pc->ec);
        if (pc_ready(pc)) {
            parc_eventcount_cancel_wait(&pc->ec);
            continue;
        }
        parc_deadline_t d;
        parc_deadline_in(&d, PARC_TEST_PATIENCE_NS);
        if (parc_eventcount_wait(&pc->ec, key, d) == ETIMEDOUT && pc_ready(pc)) {
            /* asleep for the whole patience while work was there */
            parc_faa(&pc->lost_wakeups, 1, PARC_RELAXED);
            return NULL;
        }
    }
}

static void run_pc(int producers, int consumers, int per_producer, int notify_all)
{
    static struct pc pc;
    parc_eventcount_init(&pc.ec);
    parc_atomic_init(&pc.items, 0);
    parc_atomic_init(&pc.taken, 0);
    parc_atomic_init(&pc.done, 0);
    parc_atomic_init(&pc.lost_wakeups, 0);
    pc.per_producer = per_producer;
    pc.total = (int64_t)producers * per_producer;
    pc.notify_all = notify_all;
    pthread_t c[16], p[16];
    parc_test_spawn(c, consumers, pc_consumer, &pc, 0);
    parc_test_spawn(p, producers, pc_producer, &pc, 0);
    parc_test_join(p, producers);
    parc_test_join(c, consumers);
    ck_assert_int_eq(parc_load(&pc.lost_wakeups, PARC_RELAXED), 0);
    ck_assert_int_eq(parc_load(&pc.taken, PARC_RELAXED), pc.total);
    ck_assert_int_eq(parc_load(&pc.items, PARC_RELAXED), 0);
    ck_assert_uint_eq(parc_load(&pc.ec.waiters, PARC_RELAXED), 0);
}

#define PER (20000 / PARC_SLOWDOWN)

START_TEST(one_producer_one_consumer) { run_pc(1, 1, PER, 0); }
END_TEST
START_TEST(producers_and_consumers_notify_one) { run_pc(4, 4, PER, 0); }
END_TEST
START_TEST(producers_and_consumers_notify_all) { run_pc(3, 5, PER, 1); }
END_TEST
START_TEST(oversubscribed) { run_pc(8, 16, PER / 4, 0); }
END_TEST

int main(void)
{
    Suite *s = suite_create("eventcount");
    TCase *basic = tcase_create("protocol");
    tcase_add_test(basic, rejects_null);
    tcase_add_test(basic, notify_without_waiters_changes_nothing);
    tcase_add_test(basic, prepare_then_notify_makes_wait_return);
    tcase_add_test(basic, wait_times_out_after_deadline);
    tcase_add_test(basic, await_times_out_and_succeeds);
    tcase_add_test(basic, await_parks_until_notified);
    suite_add_tcase(s, basic);
    TCase *mt = tcase_create("producers-consumers");
    tcase_set_timeout(mt, 120 * PARC_SLOWDOWN);
    tcase_add_test(mt, one_producer_one_consumer);
    tcase_add_test(mt, producers_and_consumers_notify_one);
    tcase_add_test(mt, producers_and_consumers_notify_all);
    tcase_add_test(mt, oversubscribed);
    suite_add_tcase(s, mt);
    return parc_test_run(s);
}
