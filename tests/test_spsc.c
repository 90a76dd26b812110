/*
 * Unit tests for parc/spsc.h.
 *
 * Items are sequence numbers + 1 (so that none is NULL, though NULL is a
 * legal item). The central tests run one producer and one consumer over a
 * tiny ring, so that every push and pop crosses the full and empty edges
 * and both sides sleep and wake, and check that the consumer sees exactly
 * 1, 2, 3, ... in order. The close race checks that every push that
 * returned 0 pops and no other does.
 */
#include <stdint.h>

#include "parc/spsc.h"
#include "testutil.h"

#define ITEM(s) ((void *)(uintptr_t)((s) + 1))
#define SEQ(v) ((uint64_t)(uintptr_t)(v) - 1)
#define N_ITEMS (50000 / PARC_SLOWDOWN)

START_TEST(rejects_bad_arguments)
{
    parc_spsc_t q;
    void *buf[8];
    void *v = NULL;
    ck_assert_int_eq(parc_spsc_init(NULL, buf, 8), EINVAL);
    ck_assert_int_eq(parc_spsc_init(&q, NULL, 8), EINVAL);
    ck_assert_int_eq(parc_spsc_init(&q, buf, 0), EINVAL);
    ck_assert_int_eq(parc_spsc_init(&q, buf, 3), EINVAL);
    ck_assert_int_eq(parc_spsc_init(&q, buf, 6), EINVAL);
    parc_spsc_t *qp = (parc_spsc_t *)1;
    ck_assert_int_eq(parc_spsc_create(NULL, 8), EINVAL);
    ck_assert_int_eq(parc_spsc_create(&qp, 0), EINVAL);
    ck_assert_int_eq(parc_spsc_create(&qp, 12), EINVAL);
    ck_assert_int_eq(parc_spsc_init(&q, buf, 8), 0);
    ck_assert_int_eq(parc_spsc_push_try(NULL, ITEM(0)), EINVAL);
    ck_assert_int_eq(parc_spsc_push(NULL, ITEM(0)), EINVAL);
    ck_assert_int_eq(parc_spsc_push_timed(NULL, ITEM(0), 0), EINVAL);
    ck_assert_int_eq(parc_spsc_push_timed(&q, ITEM(0), -1), EINVAL);
    ck_assert_int_eq(parc_spsc_pop_try(NULL, &v), EINVAL);
    ck_assert_int_eq(parc_spsc_pop_try(&q, NULL), EINVAL);
    ck_assert_int_eq(parc_spsc_pop(&q, NULL), EINVAL);
    ck_assert_int_eq(parc_spsc_pop_timed(&q, &v, -1), EINVAL);
    ck_assert_int_eq(parc_spsc_pop_timed(NULL, &v, 0), EINVAL);
    ck_assert_uint_eq(parc_spsc_push_bulk(NULL, buf, 1), 0);
    ck_assert_uint_eq(parc_spsc_push_bulk(&q, NULL, 1), 0);
    ck_assert_uint_eq(parc_spsc_pop_bulk(&q, NULL, 1), 0);
    ck_assert_int_eq(parc_spsc_close(NULL), EINVAL);
    ck_assert(!parc_spsc_is_closed(NULL));
    ck_assert_int_eq(parc_spsc_destroy(NULL), EINVAL);
    ck_assert_int_eq(parc_spsc_destroy(&q), 0);
}
END_TEST

START_TEST(fifo_full_and_empty)
{
    parc_spsc_t q;
    void *buf[4];
    void *v = NULL;
    ck_assert_int_eq(parc_spsc_init(&q, buf, 4), 0);
    ck_assert_uint_eq(parc_spsc_capacity(&q), 4);
    ck_assert_int_eq(parc_spsc_pop_try(&q, &v), EAGAIN);
    for (unsigned lap = 0; lap < 3; lap++) { /* wrap the indices */
        for (uint64_t i = 0; i < 4; i++)
            ck_assert_int_eq(parc_spsc_push_try(&q, ITEM(i)), 0);
        ck_assert_uint_eq(parc_spsc_size(&q), 4);
        ck_assert_int_eq(parc_spsc_push_try(&q, ITEM(9)), EAGAIN);
        for (uint64_t i = 0; i < 4; i++) {
            ck_assert_int_eq(parc_spsc_pop_try(&q, &v), 0);
            ck_assert_uint_eq(SEQ(v), i);
        }
        ck_assert_int_eq(parc_spsc_pop_try(&q, &v), EAGAIN);
    }
    ck_assert_int_eq(parc_spsc_push_try(&q, NULL), 0); /* NULL is an item */
    v = ITEM(1);
    ck_assert_int_eq(parc_spsc_pop_try(&q, &v), 0);
    ck_assert_ptr_null(v);
    parc_spsc_destroy(&q);
}
END_TEST

START_TEST(capacity_one)
{
    parc_spsc_t *q;
    void *v = NULL;
    ck_assert_int_eq(parc_spsc_create(&q, 1), 0);
    ck_assert_int_eq(parc_spsc_push_try(q, ITEM(1)), 0);
    ck_assert_int_eq(parc_spsc_push_try(q, ITEM(2)), EAGAIN);
    ck_assert_int_eq(parc_spsc_pop_try(q, &v), 0);
    ck_assert_uint_eq(SEQ(v), 1);
    ck_assert_int_eq(parc_spsc_push_try(q, ITEM(2)), 0);
    ck_assert_int_eq(parc_spsc_pop_try(q, &v), 0);
    ck_assert_uint_eq(SEQ(v), 2);
    parc_spsc_free(q);
}
END_TEST

START_TEST(bulk_moves_what_fits)
{
    parc_spsc_t *q;
    void *in[10], *out[10];
    for (uint64_t i = 0; i < 10; i++)
        in[i] = ITEM(i);
    ck_assert_int_eq(parc_spsc_create(&q, 8), 0);
    ck_assert_uint_eq(parc_spsc_push_bulk(q, in, 3), 3);
    ck_assert_uint_eq(parc_spsc_push_bulk(q, in + 3, 7), 5); /* 8 fit */
    ck_assert_uint_eq(parc_spsc_push_bulk(q, in, 1), 0);     /* full */
    ck_assert_uint_eq(parc_spsc_pop_bulk(q, out, 2), 2);
    ck_assert_uint_eq(parc_spsc_pop_bulk(q, out + 2, 10), 6);
    for (uint64_t i = 0; i < 8; i++)
        ck_assert_uint_eq(SEQ(out[i]), i);
    ck_assert_uint_eq(parc_spsc_pop_bulk(q, out, 10), 0); /* empty */
    /* across the wrap */
    ck_assert_uint_eq(parc_spsc_push_bulk(q, in, 8), 8);
    ck_assert_uint_eq(parc_spsc_pop_bulk(q, out, 8), 8);
    for (uint64_t i = 0; i < 8; i++)
        ck_assert_uint_eq(SEQ(out[i]), i);
    parc_spsc_close(q);
    ck_assert_uint_eq(parc_spsc_push_bulk(q, in, 2), 0);
    parc_spsc_free(q);
}
END_TEST

START_TEST(timeouts)
{
    parc_spsc_t *q;
    void *v = NULL;
    parc_deadline_t d;
    ck_assert_int_eq(parc_spsc_create(&q, 2), 0);
    parc_deadline_in(&d, 10 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_spsc_pop_timed(q, &v, 10 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns(), d);
    ck_assert_int_eq(parc_spsc_pop_timed(q, &v, 0), ETIMEDOUT);
    ck_assert_int_eq(parc_spsc_push_timed(q, ITEM(0), 0), 0);
    ck_assert_int_eq(parc_spsc_push_timed(q, ITEM(1), 0), 0);
    parc_deadline_in(&d, 10 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_spsc_push_timed(q, ITEM(2), 10 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns(), d);
    ck_assert_int_eq(parc_spsc_pop_timed(q, &v, 0), 0);
    ck_assert_uint_eq(SEQ(v), 0);
    parc_spsc_free(q);
}
END_TEST

START_TEST(close_drains_then_epipe)
{
    parc_spsc_t *q;
    void *v = NULL;
    ck_assert_int_eq(parc_spsc_create(&q, 4), 0);
    ck_assert_int_eq(parc_spsc_push(q, ITEM(0)), 0);
    ck_assert_int_eq(parc_spsc_push(q, ITEM(1)), 0);
    ck_assert_int_eq(parc_spsc_close(q), 0);
    ck_assert(parc_spsc_is_closed(q));
    ck_assert_int_eq(parc_spsc_close(q), 0); /* idempotent */
    ck_assert_int_eq(parc_spsc_push_try(q, ITEM(2)), EPIPE);
    ck_assert_int_eq(parc_spsc_push(q, ITEM(2)), EPIPE);
    ck_assert_int_eq(parc_spsc_push_timed(q, ITEM(2), PARC_NS_PER_MS), EPIPE);
    ck_assert_int_eq(parc_spsc_pop(q, &v), 0);
    ck_assert_uint_eq(SEQ(v), 0);
    ck_assert_int_eq(parc_spsc_pop_try(q, &v), 0);
    ck_assert_uint_eq(SEQ(v), 1);
    ck_assert_int_eq(parc_spsc_pop_try(q, &v), EPIPE);
    ck_assert_int_eq(parc_spsc_pop(q, &v), EPIPE);
    ck_assert_int_eq(parc_spsc_pop_timed(q, &v, PARC_NS_PER_MS), EPIPE);
    parc_spsc_free(q);
}
END_TEST

START_TEST(init_empties_a_dirty_buffer)
{
    /* The slots say full or empty: init must clear the caller's array. */
    parc_spsc_t q;
    void *buf[4] = { ITEM(90), ITEM(91), ITEM(92), ITEM(93) };
    void *v = NULL;
    ck_assert_int_eq(parc_spsc_init(&q, buf, 4), 0);
    ck_assert_int_eq(parc_spsc_pop_try(&q, &v), EAGAIN);
    ck_assert_uint_eq(parc_spsc_pop_bulk(&q, &v, 1), 0);
    for (uint64_t i = 0; i < 4; i++)
        ck_assert_int_eq(parc_spsc_push_try(&q, ITEM(i)), 0);
    ck_assert_int_eq(parc_spsc_push_try(&q, ITEM(9)), EAGAIN);
    parc_spsc_destroy(&q);
}
END_TEST

START_TEST(null_items_in_every_form)
{
    parc_spsc_t *q;
    void *in[3] = { NULL, ITEM(1), NULL }, *out[3] = { ITEM(7), ITEM(7), ITEM(7) };
    void *v = ITEM(7);
    ck_assert_int_eq(parc_spsc_create(&q, 4), 0);
    ck_assert_uint_eq(parc_spsc_push_bulk(q, in, 3), 3);
    ck_assert_int_eq(parc_spsc_push(q, NULL), 0);
    ck_assert_uint_eq(parc_spsc_size(q), 4);
    ck_assert_int_eq(parc_spsc_push_try(q, NULL), EAGAIN); /* NULL fills too */
    ck_assert_uint_eq(parc_spsc_pop_bulk(q, out, 3), 3);
    ck_assert_ptr_null(out[0]);
    ck_assert_uint_eq(SEQ(out[1]), 1);
    ck_assert_ptr_null(out[2]);
    ck_assert_int_eq(parc_spsc_pop(q, &v), 0);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(parc_spsc_pop_try(q, &v), EAGAIN);
    parc_spsc_close(q);
    ck_assert_int_eq(parc_spsc_pop_try(q, &v), EPIPE);
    parc_spsc_free(q);
}
END_TEST

/* With any fill level, a push succeeds exactly when fewer than capacity
 * items are in: the producer's look-ahead never refuses a free slot, and
 * a bulk push takes exactly the free slots. Over many laps of a ring
 * larger than the look-ahead, with a FIFO check on every pop. */
START_TEST(exact_capacity_at_every_fill_level)
{
    enum { CAP = 256 };
    parc_spsc_t *q;
    void *batch[CAP + 8], *v = NULL;
    uint64_t pushed = 0, popped = 0;
    ck_assert_int_eq(parc_spsc_create(&q, CAP), 0);
    for (unsigned round = 0; round < 400; round++) {
        /* pop a varying number, then fill up again one way or another */
        size_t drop = (round * 37u) % (CAP + 1);
        for (size_t k = 0; k < drop && popped < pushed; k++) {
            ck_assert_int_eq(parc_spsc_pop_try(q, &v), 0);
            ck_assert_uint_eq(SEQ(v), popped++);
        }
        ck_assert_uint_eq(parc_spsc_size(q), pushed - popped);
        size_t room = CAP - (size_t)(pushed - popped);
        if (round % 2 == 0) {
            for (size_t k = 0; k < room; k++)
                ck_assert_int_eq(parc_spsc_push_try(q, ITEM(pushed++)), 0);
        } else {
            size_t want = room + 8;
            for (size_t k = 0; k < want; k++)
                batch[k] = ITEM(pushed + k);
            ck_assert_uint_eq(parc_spsc_push_bulk(q, batch, want), room);
            pushed += room;
        }
        ck_assert_int_eq(parc_spsc_push_try(q, ITEM(0)), EAGAIN);
        ck_assert_uint_eq(parc_spsc_push_bulk(q, batch, 1), 0);
    }
    while (popped < pushed) {
        size_t m = parc_spsc_pop_bulk(q, batch, 5);
        ck_assert_uint_gt(m, 0);
        for (size_t k = 0; k < m; k++)
            ck_assert_uint_eq(SEQ(batch[k]), popped++);
    }
    ck_assert_int_eq(parc_spsc_pop_try(q, &v), EAGAIN);
    parc_spsc_free(q);
}
END_TEST

/* ---- blocking and waking -------------------------------------------- */

struct later {
    parc_spsc_t *q;
    int what; /* 0: push one item, 1: close, 2: pop one item */
};

static void *act_later(void *arg)
{
    struct later *l = arg;
    parc_sleep_ns(20 * PARC_NS_PER_MS); /* long enough for the other to sleep */
    void *v = NULL;
    if (l->what == 0)
        ck_assert_int_eq(parc_spsc_push(l->q, ITEM(7)), 0);
    else if (l->what == 1)
        parc_spsc_close(l->q);
    else
        ck_assert_int_eq(parc_spsc_pop(l->q, &v), 0);
    return NULL;
}

START_TEST(blocked_pop_woken_by_push)
{
    parc_spsc_t *q;
    void *v = NULL;
    ck_assert_int_eq(parc_spsc_create(&q, 2), 0);
    struct later l = { q, 0 };
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, act_later, &l), 0);
    ck_assert_int_eq(parc_spsc_pop_timed(q, &v, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_uint_eq(SEQ(v), 7);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    parc_spsc_free(q);
}
END_TEST

START_TEST(blocked_push_woken_by_pop)
{
    parc_spsc_t *q;
    ck_assert_int_eq(parc_spsc_create(&q, 1), 0);
    ck_assert_int_eq(parc_spsc_push(q, ITEM(0)), 0);
    struct later l = { q, 2 };
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, act_later, &l), 0);
    ck_assert_int_eq(parc_spsc_push_timed(q, ITEM(1), PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    parc_spsc_free(q);
}
END_TEST

START_TEST(close_wakes_blocked_pop_and_push)
{
    parc_spsc_t *q;
    void *v = NULL;
    pthread_t t;
    ck_assert_int_eq(parc_spsc_create(&q, 1), 0);
    struct later l = { q, 1 };
    ck_assert_int_eq(pthread_create(&t, NULL, act_later, &l), 0);
    ck_assert_int_eq(parc_spsc_pop_timed(q, &v, PARC_TEST_PATIENCE_NS), EPIPE);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    parc_spsc_free(q);

    ck_assert_int_eq(parc_spsc_create(&q, 1), 0);
    ck_assert_int_eq(parc_spsc_push(q, ITEM(0)), 0);
    l.q = q;
    ck_assert_int_eq(pthread_create(&t, NULL, act_later, &l), 0);
    ck_assert_int_eq(parc_spsc_push_timed(q, ITEM(1), PARC_TEST_PATIENCE_NS), EPIPE);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(parc_spsc_pop(q, &v), 0); /* the accepted item stays */
    ck_assert_uint_eq(SEQ(v), 0);
    ck_assert_int_eq(parc_spsc_pop(q, &v), EPIPE);
    parc_spsc_free(q);
}
END_TEST

/* ---- producer and consumer ------------------------------------------- */

struct run {
    parc_spsc_t *q;
    uint64_t n;
    uint64_t accepted; /* producer: pushes that returned 0 */
    int close_after;   /* producer closes after this many (-1: never) */
};

static void *producer(void *arg)
{
    struct run *r = arg;
    uint64_t i = 0;
    while (i < r->n) {
        int rc;
        switch (i % 5) {
        case 0: { /* a bulk of up to 3 */
            void *b[3] = { ITEM(i), ITEM(i + 1), ITEM(i + 2) };
            size_t want = r->n - i < 3 ? (size_t)(r->n - i) : 3;
            size_t m = parc_spsc_push_bulk(r->q, b, want);
            i += m;
            if (m != 0)
                continue;
            rc = parc_spsc_push(r->q, ITEM(i)); /* full or closed */
            break;
        }
        case 1:
            rc = parc_spsc_push_try(r->q, ITEM(i));
            break;
        case 2:
            rc = parc_spsc_push_timed(r->q, ITEM(i), PARC_NS_PER_MS);
            break;
        default:
            rc = parc_spsc_push(r->q, ITEM(i));
        }
        if (rc == EPIPE)
            break;
        ck_assert(rc == 0 || rc == EAGAIN || rc == ETIMEDOUT);
        if (rc == 0)
            i++;
    }
    r->accepted = i;
    return NULL;
}

/* Pop until `n` items or EPIPE, checking 0, 1, 2, ... in order. */
static uint64_t consume(parc_spsc_t *q, uint64_t n)
{
    uint64_t next = 0;
    while (next < n) {
        void *v = NULL, *b[4];
        int rc;
        if (next % 7 == 3) {
            size_t m = parc_spsc_pop_bulk(q, b, 4);
            for (size_t k = 0; k < m; k++)
                ck_assert_uint_eq(SEQ(b[k]), next++);
            if (m != 0)
                continue;
        }
        rc = (next % 3 == 0) ? parc_spsc_pop(q, &v)
                             : parc_spsc_pop_timed(q, &v, PARC_NS_PER_MS);
        if (rc == EPIPE)
            break;
        if (rc == ETIMEDOUT)
            continue;
        ck_assert_int_eq(rc, 0);
        ck_assert_uint_eq(SEQ(v), next);
        next++;
    }
    return next;
}

/* Over a tiny ring (every push and pop at an edge) and over one larger
 * than the producer's look-ahead. */
START_TEST(one_producer_one_consumer_in_order)
{
    parc_spsc_t *q;
    ck_assert_int_eq(parc_spsc_create(&q, _i == 0 ? 4 : 256), 0);
    struct run r = { q, N_ITEMS, 0, -1 };
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, producer, &r), 0);
    ck_assert_uint_eq(consume(q, N_ITEMS), N_ITEMS);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_uint_eq(r.accepted, N_ITEMS);
    void *v = NULL;
    ck_assert_int_eq(parc_spsc_pop_try(q, &v), EAGAIN);
    parc_spsc_free(q);
}
END_TEST

struct closer {
    parc_spsc_t *q;
    int64_t delay_ns;
};

static void *close_later(void *arg)
{
    struct closer *c = arg;
    parc_sleep_ns(c->delay_ns);
    parc_spsc_close(c->q);
    return NULL;
}

START_TEST(close_racing_push_loses_nothing)
{
    for (int round = 0; round < 50; round++) {
        parc_spsc_t *q;
        ck_assert_int_eq(parc_spsc_create(&q, 8), 0);
        struct run r = { q, UINT64_MAX / 2, 0, -1 };
        struct closer c = { q, (round % 5) * 200 * PARC_NS_PER_US };
        pthread_t tp, tc;
        ck_assert_int_eq(pthread_create(&tp, NULL, producer, &r), 0);
        ck_assert_int_eq(pthread_create(&tc, NULL, close_later, &c), 0);
        uint64_t popped = consume(q, UINT64_MAX);
        ck_assert_int_eq(pthread_join(tp, NULL), 0);
        ck_assert_int_eq(pthread_join(tc, NULL), 0);
        /* Every accepted push popped before EPIPE, nothing else did. */
        ck_assert_uint_eq(popped, r.accepted);
        parc_spsc_free(q);
    }
}
END_TEST

static Suite *spsc_suite(void)
{
    Suite *s = suite_create("spsc");
    TCase *tc = tcase_create("spsc");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_test(tc, rejects_bad_arguments);
    tcase_add_test(tc, fifo_full_and_empty);
    tcase_add_test(tc, capacity_one);
    tcase_add_test(tc, bulk_moves_what_fits);
    tcase_add_test(tc, timeouts);
    tcase_add_test(tc, close_drains_then_epipe);
    tcase_add_test(tc, blocked_pop_woken_by_push);
    tcase_add_test(tc, blocked_push_woken_by_pop);
    tcase_add_test(tc, close_wakes_blocked_pop_and_push);
    tcase_add_test(tc, init_empties_a_dirty_buffer);
    tcase_add_test(tc, null_items_in_every_form);
    tcase_add_test(tc, exact_capacity_at_every_fill_level);
    tcase_add_loop_test(tc, one_producer_one_consumer_in_order, 0, 2);
    tcase_add_test(tc, close_racing_push_loses_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(spsc_suite());
}
