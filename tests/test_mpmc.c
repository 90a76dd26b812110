/*
 * Unit tests for parc/mpmc.h.
 *
 * Items are (producer << 32 | sequence) + 1. The central test runs several
 * producers and consumers over a small ring (every operation meets the
 * full and empty edges, threads outnumber cores) and checks that every
 * item arrives exactly once and that each consumer sees each producer's
 * items in increasing order (per-producer FIFO, implied by the FIFO
 * promised). The close race checks that every push that returned 0 was
 * popped exactly once before the consumers saw EPIPE, and nothing else.
 */
#include <stdint.h>
#include <string.h>

#include "parc/mpmc.h"
#include "testutil.h"

#define ITEM(p, s) ((void *)(uintptr_t)((((uint64_t)(p) << 32) | (uint64_t)(s)) + 1))
#define ITEM_PRODUCER(v) ((unsigned)((((uint64_t)(uintptr_t)(v)) - 1) >> 32))
#define ITEM_SEQ(v) ((uint32_t)(((uint64_t)(uintptr_t)(v)) - 1))

#define PRODUCERS 3
#define CONSUMERS 3
#define PER_PRODUCER (40000 / PARC_SLOWDOWN)

START_TEST(rejects_bad_arguments)
{
    parc_mpmc_t q;
    parc_mpmc_cell_t cells[8];
    void *v;
    ck_assert_int_eq(parc_mpmc_init(NULL, cells, 8), EINVAL);
    ck_assert_int_eq(parc_mpmc_init(&q, NULL, 8), EINVAL);
    ck_assert_int_eq(parc_mpmc_init(&q, cells, 0), EINVAL);
    ck_assert_int_eq(parc_mpmc_init(&q, cells, 1), EINVAL); /* Vyukov needs 2 */
    ck_assert_int_eq(parc_mpmc_init(&q, cells, 6), EINVAL);
    parc_mpmc_t *qp;
    ck_assert_int_eq(parc_mpmc_create(NULL, 8), EINVAL);
    ck_assert_int_eq(parc_mpmc_create(&qp, 0), EINVAL);
    ck_assert_int_eq(parc_mpmc_create(&qp, 24), EINVAL);
    ck_assert_int_eq(parc_mpmc_init(&q, cells, 8), 0);
    ck_assert_int_eq(parc_mpmc_push_try(NULL, ITEM(0, 0)), EINVAL);
    ck_assert_int_eq(parc_mpmc_push(NULL, ITEM(0, 0)), EINVAL);
    ck_assert_int_eq(parc_mpmc_push_timed(NULL, ITEM(0, 0), 0), EINVAL);
    ck_assert_int_eq(parc_mpmc_push_timed(&q, ITEM(0, 0), -5), EINVAL);
    ck_assert_int_eq(parc_mpmc_pop_try(NULL, &v), EINVAL);
    ck_assert_int_eq(parc_mpmc_pop_try(&q, NULL), EINVAL);
    ck_assert_int_eq(parc_mpmc_pop(&q, NULL), EINVAL);
    ck_assert_int_eq(parc_mpmc_pop_timed(&q, &v, -1), EINVAL);
    ck_assert_int_eq(parc_mpmc_close(NULL), EINVAL);
    ck_assert(!parc_mpmc_is_closed(NULL));
    ck_assert_int_eq(parc_mpmc_destroy(NULL), EINVAL);
    ck_assert_int_eq(parc_mpmc_destroy(&q), 0);
}
END_TEST

START_TEST(fifo_full_and_empty)
{
    parc_mpmc_t *q;
    void *v = NULL;
    ck_assert_int_eq(parc_mpmc_create(&q, 4), 0);
    ck_assert_uint_eq(parc_mpmc_capacity(q), 4);
    ck_assert_int_eq(parc_mpmc_pop_try(q, &v), EAGAIN);
    for (unsigned lap = 0; lap < 3; lap++) {
        for (unsigned i = 0; i < 4; i++)
            ck_assert_int_eq(parc_mpmc_push_try(q, ITEM(0, i)), 0);
        ck_assert_uint_eq(parc_mpmc_size(q), 4);
        ck_assert_int_eq(parc_mpmc_push_try(q, ITEM(0, 9)), EAGAIN);
        for (unsigned i = 0; i < 4; i++) {
            ck_assert_int_eq(parc_mpmc_pop_try(q, &v), 0);
            ck_assert_uint_eq(ITEM_SEQ(v), i);
        }
        ck_assert_int_eq(parc_mpmc_pop_try(q, &v), EAGAIN);
    }
    parc_mpmc_free(q);
}
END_TEST

START_TEST(unpublished_cell_is_eagain_not_a_spin)
{
    /* Simulate a producer preempted between its claim and its publish:
     * claim position 0 by hand and never publish. */
    parc_mpmc_t *q;
    void *v;
    ck_assert_int_eq(parc_mpmc_create(&q, 4), 0);
    parc_store(&q->enq, 1, PARC_RELAXED);
    ck_assert_int_eq(parc_mpmc_pop_try(q, &v), EAGAIN);
    ck_assert_int_eq(parc_mpmc_pop_timed(q, &v, PARC_NS_PER_MS), ETIMEDOUT);
    /* closed with the claim outstanding: still not "drained" */
    ck_assert_int_eq(parc_mpmc_close(q), 0);
    ck_assert_int_eq(parc_mpmc_pop_try(q, &v), EAGAIN);
    /* the claimant publishes: the item pops, then EPIPE */
    q->cells[0].item = ITEM(0, 5);
    parc_store(&q->cells[0].seq, 1, PARC_RELEASE);
    ck_assert_int_eq(parc_mpmc_pop_try(q, &v), 0);
    ck_assert_uint_eq(ITEM_SEQ(v), 5);
    ck_assert_int_eq(parc_mpmc_pop_try(q, &v), EPIPE);
    parc_mpmc_free(q);
}
END_TEST

START_TEST(timeouts)
{
    parc_mpmc_t *q;
    void *v;
    parc_deadline_t d;
    ck_assert_int_eq(parc_mpmc_create(&q, 2), 0);
    parc_deadline_in(&d, 10 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_mpmc_pop_timed(q, &v, 10 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns(), d);
    ck_assert_int_eq(parc_mpmc_push_timed(q, ITEM(0, 0), 0), 0);
    ck_assert_int_eq(parc_mpmc_push_timed(q, ITEM(0, 1), 0), 0);
    parc_deadline_in(&d, 10 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_mpmc_push_timed(q, ITEM(0, 2), 10 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns(), d);
    parc_mpmc_free(q);
}
END_TEST

START_TEST(close_drains_then_epipe)
{
    parc_mpmc_t *q;
    void *v;
    ck_assert_int_eq(parc_mpmc_create(&q, 4), 0);
    ck_assert_int_eq(parc_mpmc_push(q, ITEM(0, 0)), 0);
    ck_assert_int_eq(parc_mpmc_push(q, ITEM(0, 1)), 0);
    ck_assert_int_eq(parc_mpmc_close(q), 0);
    ck_assert_int_eq(parc_mpmc_close(q), 0);
    ck_assert(parc_mpmc_is_closed(q));
    ck_assert_int_eq(parc_mpmc_push_try(q, ITEM(0, 2)), EPIPE);
    ck_assert_int_eq(parc_mpmc_push(q, ITEM(0, 2)), EPIPE);
    ck_assert_int_eq(parc_mpmc_pop(q, &v), 0);
    ck_assert_uint_eq(ITEM_SEQ(v), 0);
    ck_assert_int_eq(parc_mpmc_pop_try(q, &v), 0);
    ck_assert_uint_eq(ITEM_SEQ(v), 1);
    ck_assert_int_eq(parc_mpmc_pop_try(q, &v), EPIPE);
    ck_assert_int_eq(parc_mpmc_pop(q, &v), EPIPE);
    ck_assert_int_eq(parc_mpmc_pop_timed(q, &v, PARC_NS_PER_MS), EPIPE);
    parc_mpmc_free(q);
}
END_TEST

struct later {
    parc_mpmc_t *q;
    int what; /* 0 push, 1 close, 2 pop */
};

static void *act_later(void *arg)
{
    struct later *l = arg;
    void *v;
    parc_sleep_ns(20 * PARC_NS_PER_MS);
    if (l->what == 0)
        ck_assert_int_eq(parc_mpmc_push(l->q, ITEM(0, 7)), 0);
    else if (l->what == 1)
        parc_mpmc_close(l->q);
    else
        ck_assert_int_eq(parc_mpmc_pop(l->q, &v), 0);
    return NULL;
}

START_TEST(blocking_forms_are_woken)
{
    parc_mpmc_t *q;
    void *v;
    pthread_t t;
    ck_assert_int_eq(parc_mpmc_create(&q, 2), 0);
    struct later l = { q, 0 };
    ck_assert_int_eq(pthread_create(&t, NULL, act_later, &l), 0);
    ck_assert_int_eq(parc_mpmc_pop_timed(q, &v, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_uint_eq(ITEM_SEQ(v), 7);
    ck_assert_int_eq(pthread_join(t, NULL), 0);

    ck_assert_int_eq(parc_mpmc_push(q, ITEM(0, 0)), 0);
    ck_assert_int_eq(parc_mpmc_push(q, ITEM(0, 1)), 0);
    l.what = 2;
    ck_assert_int_eq(pthread_create(&t, NULL, act_later, &l), 0);
    ck_assert_int_eq(parc_mpmc_push_timed(q, ITEM(0, 2), PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);

    l.what = 1; /* full: a blocked push gets EPIPE */
    ck_assert_int_eq(pthread_create(&t, NULL, act_later, &l), 0);
    ck_assert_int_eq(parc_mpmc_push_timed(q, ITEM(0, 3), PARC_TEST_PATIENCE_NS), EPIPE);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    parc_mpmc_free(q);

    ck_assert_int_eq(parc_mpmc_create(&q, 2), 0);
    l.q = q; /* empty: a blocked pop gets EPIPE */
    ck_assert_int_eq(pthread_create(&t, NULL, act_later, &l), 0);
    ck_assert_int_eq(parc_mpmc_pop_timed(q, &v, PARC_TEST_PATIENCE_NS), EPIPE);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    parc_mpmc_free(q);
}
END_TEST

/* Two producers asleep on a full ring, two pops back to back: both
 * pushes must complete, with no close to rescue anyone. The second pop
 * usually finds the flag cleared by the first and the first woken
 * producer not yet re-armed, which is why a wake-up is for every sleeper
 * (the order is likely, not forced: the woken producer may run first). */
struct blocked_pusher {
    parc_mpmc_t *q;
    unsigned id;
    int rc;
};

static void *push_blocked(void *arg)
{
    struct blocked_pusher *b = arg;
    b->rc = parc_mpmc_push_timed(b->q, ITEM(b->id, 100), PARC_TEST_PATIENCE_NS);
    return NULL;
}

START_TEST(every_sleeping_producer_is_woken)
{
    parc_mpmc_t *q;
    void *v = NULL;
    ck_assert_int_eq(parc_mpmc_create(&q, 2), 0);
    ck_assert_int_eq(parc_mpmc_push(q, ITEM(0, 0)), 0);
    ck_assert_int_eq(parc_mpmc_push(q, ITEM(0, 1)), 0);
    struct blocked_pusher b[2] = { { q, 1, -1 }, { q, 2, -1 } };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, push_blocked, &b[i]), 0);
    parc_sleep_ns(50 * PARC_NS_PER_MS); /* both spin out and park */
    ck_assert_int_eq(parc_mpmc_pop(q, &v), 0);
    ck_assert_uint_eq(ITEM_SEQ(v), 0);
    ck_assert_int_eq(parc_mpmc_pop(q, &v), 0);
    ck_assert_uint_eq(ITEM_SEQ(v), 1);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        ck_assert_int_eq(b[i].rc, 0);
    }
    ck_assert_uint_eq(parc_mpmc_size(q), 2);
    parc_mpmc_free(q);
}
END_TEST

/* ---- many producers and consumers ----------------------------------- */

struct shared {
    parc_mpmc_t *q;
    uint32_t per_producer;         /* UINT32_MAX: until EPIPE */
    parc_atomic(uint32_t) *seen;   /* [PRODUCERS * per_producer] counts */
    uint32_t accepted[PRODUCERS];
};

struct worker {
    struct shared *s;
    unsigned id;
    uint64_t popped;
};

static void *producer(void *arg)
{
    struct worker *w = arg;
    struct shared *s = w->s;
    uint32_t i = 0;
    while (i < s->per_producer) {
        int rc;
        switch (i % 3) {
        case 0: rc = parc_mpmc_push(s->q, ITEM(w->id, i)); break;
        case 1: rc = parc_mpmc_push_try(s->q, ITEM(w->id, i)); break;
        default: rc = parc_mpmc_push_timed(s->q, ITEM(w->id, i), PARC_NS_PER_MS);
        }
        if (rc == EPIPE)
            break;
        ck_assert(rc == 0 || rc == EAGAIN || rc == ETIMEDOUT);
        if (rc == 0)
            i++;
        else
            parc_yield();
    }
    s->accepted[w->id] = i;
    return NULL;
}

static void *consumer(void *arg)
{
    struct worker *w = arg;
    struct shared *s = w->s;
    int64_t last[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++)
        last[p] = -1;
    for (uint64_t k = 0;; k++) {
        void *v = NULL;
        int rc = (k % 2) ? parc_mpmc_pop(s->q, &v)
                         : parc_mpmc_pop_timed(s->q, &v, PARC_NS_PER_MS);
        if (rc == EPIPE)
            break;
        if (rc == ETIMEDOUT)
            continue;
        ck_assert_int_eq(rc, 0);
        unsigned p = ITEM_PRODUCER(v);
        uint32_t seq = ITEM_SEQ(v);
        ck_assert_uint_lt(p, PRODUCERS);
        ck_assert_int_gt((int64_t)seq, last[p]); /* per-producer FIFO */
        last[p] = seq;
        if (s->seen != NULL)
            parc_faa(&s->seen[(size_t)p * s->per_producer + seq], 1u, PARC_RELAXED);
        w->popped++;
    }
    return NULL;
}

START_TEST(many_producers_consumers_exactly_once)
{
    struct shared s;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(parc_mpmc_create(&s.q, 8), 0);
    s.per_producer = PER_PRODUCER;
    size_t total = (size_t)PRODUCERS * PER_PRODUCER;
    s.seen = calloc(total, sizeof *s.seen);
    ck_assert_ptr_nonnull(s.seen);
    struct worker pw[PRODUCERS], cw[CONSUMERS];
    pthread_t pt[PRODUCERS], ct[CONSUMERS];
    for (unsigned i = 0; i < PRODUCERS; i++)
        pw[i] = (struct worker){ &s, i, 0 };
    for (unsigned i = 0; i < CONSUMERS; i++)
        cw[i] = (struct worker){ &s, i, 0 };
    parc_test_spawn(ct, CONSUMERS, consumer, cw, sizeof cw[0]);
    parc_test_spawn(pt, PRODUCERS, producer, pw, sizeof pw[0]);
    parc_test_join(pt, PRODUCERS);
    parc_mpmc_close(s.q); /* consumers drain, then see EPIPE */
    parc_test_join(ct, CONSUMERS);
    for (size_t i = 0; i < total; i++)
        ck_assert_uint_eq(parc_load(&s.seen[i], PARC_RELAXED), 1);
    free(s.seen);
    parc_mpmc_free(s.q);
}
END_TEST

static void *close_soon(void *arg)
{
    parc_sleep_ns(*(int64_t *)((void **)arg)[1]);
    parc_mpmc_close(((void **)arg)[0]);
    return NULL;
}

START_TEST(close_racing_push_loses_nothing)
{
    for (int round = 0; round < 10; round++) {
        struct shared s;
        memset(&s, 0, sizeof s);
        ck_assert_int_eq(parc_mpmc_create(&s.q, 4), 0);
        s.per_producer = UINT32_MAX;
        struct worker pw[PRODUCERS], cw[2];
        pthread_t pt[PRODUCERS], ct[2], closer;
        for (unsigned i = 0; i < PRODUCERS; i++)
            pw[i] = (struct worker){ &s, i, 0 };
        for (unsigned i = 0; i < 2; i++)
            cw[i] = (struct worker){ &s, i, 0 };
        int64_t delay = (round % 5) * 300 * PARC_NS_PER_US;
        void *arg[2] = { s.q, &delay };
        parc_test_spawn(ct, 2, consumer, cw, sizeof cw[0]);
        parc_test_spawn(pt, PRODUCERS, producer, pw, sizeof pw[0]);
        ck_assert_int_eq(pthread_create(&closer, NULL, close_soon, arg), 0);
        parc_test_join(pt, PRODUCERS);
        parc_test_join(ct, 2);
        ck_assert_int_eq(pthread_join(closer, NULL), 0);
        uint64_t accepted = 0;
        for (int p = 0; p < PRODUCERS; p++)
            accepted += s.accepted[p];
        ck_assert_uint_eq(cw[0].popped + cw[1].popped, accepted);
        parc_mpmc_free(s.q);
    }
}
END_TEST

static Suite *mpmc_suite(void)
{
    Suite *s = suite_create("mpmc");
    TCase *tc = tcase_create("mpmc");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_test(tc, rejects_bad_arguments);
    tcase_add_test(tc, fifo_full_and_empty);
    tcase_add_test(tc, unpublished_cell_is_eagain_not_a_spin);
    tcase_add_test(tc, timeouts);
    tcase_add_test(tc, close_drains_then_epipe);
    tcase_add_test(tc, blocking_forms_are_woken);
    tcase_add_test(tc, every_sleeping_producer_is_woken);
    tcase_add_test(tc, many_producers_consumers_exactly_once);
    tcase_add_test(tc, close_racing_push_loses_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(mpmc_suite());
}
