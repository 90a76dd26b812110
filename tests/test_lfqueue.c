/*
 * Unit tests for parc/lfqueue.h.
 *
 * Items are encoded as (producer << 32 | sequence) + 1, so that a consumer
 * can tell who pushed an item and in which order. The central test runs
 * producers and consumers together and checks that every item arrives
 * exactly once and that each consumer sees each producer's items in the
 * order pushed (per-producer FIFO, implied by the global FIFO promised).
 * Another closes the queue while producers push and checks that every
 * push that reported success was delivered and nothing else was.
 */
#include <stdint.h>

#include "parc/lfqueue.h"
#include "testutil.h"

#define ITEM(p, s) ((void *)(uintptr_t)((((uint64_t)(p) << 32) | (uint64_t)(s)) + 1))
#define ITEM_PRODUCER(v) ((unsigned)((((uint64_t)(uintptr_t)(v)) - 1) >> 32))
#define ITEM_SEQ(v) ((uint32_t)(((uint64_t)(uintptr_t)(v)) - 1))

START_TEST(rejects_bad_arguments)
{
    parc_lfqueue_t q;
    void *v;
    ck_assert_int_eq(parc_lfqueue_init(NULL), EINVAL);
    ck_assert_int_eq(parc_lfqueue_init(&q), 0);
    ck_assert_int_eq(parc_lfqueue_push(NULL, ITEM(0, 0)), EINVAL);
    ck_assert_int_eq(parc_lfqueue_push(&q, NULL), EINVAL);
    ck_assert_int_eq(parc_lfqueue_pop_try(NULL, &v), EINVAL);
    ck_assert_int_eq(parc_lfqueue_pop_try(&q, NULL), EINVAL);
    ck_assert_int_eq(parc_lfqueue_pop(NULL, &v), EINVAL);
    ck_assert_int_eq(parc_lfqueue_pop(&q, NULL), EINVAL);
    ck_assert_int_eq(parc_lfqueue_pop_timed(&q, &v, -1), EINVAL);
    ck_assert_int_eq(parc_lfqueue_pop_timed(NULL, &v, 0), EINVAL);
    ck_assert_int_eq(parc_lfqueue_close(NULL), EINVAL);
    ck_assert(!parc_lfqueue_is_closed(NULL));
    ck_assert_int_eq(parc_lfqueue_destroy(NULL), EINVAL);
    ck_assert_int_eq(parc_lfqueue_destroy(&q), 0);
}
END_TEST

START_TEST(fifo_across_segments)
{
    parc_lfqueue_t q;
    ck_assert_int_eq(parc_lfqueue_init(&q), 0);
    void *v = NULL;
    ck_assert_int_eq(parc_lfqueue_pop_try(&q, &v), EAGAIN);
    const uint32_t n = 3 * PARC_LFQUEUE_SEGMENT_SLOTS + 7;
    /* twice: the second round runs on recycled head/tail positions */
    for (int round = 0; round < 2; round++) {
        for (uint32_t i = 0; i < n; i++)
            ck_assert_int_eq(parc_lfqueue_push(&q, ITEM(0, i)), 0);
        for (uint32_t i = 0; i < n; i++) {
            ck_assert_int_eq(parc_lfqueue_pop_try(&q, &v), 0);
            ck_assert_uint_eq(ITEM_SEQ(v), i);
        }
        ck_assert_int_eq(parc_lfqueue_pop_try(&q, &v), EAGAIN);
    }
    /* leave items inside: destroy frees the segments, not the items */
    for (uint32_t i = 0; i < n; i++)
        ck_assert_int_eq(parc_lfqueue_push(&q, ITEM(0, i)), 0);
    ck_assert_int_eq(parc_lfqueue_destroy(&q), 0);
    parc_lfqueue_quiesce();
}
END_TEST

START_TEST(timed_pop_times_out)
{
    parc_lfqueue_t q;
    ck_assert_int_eq(parc_lfqueue_init(&q), 0);
    void *v;
    ck_assert_int_eq(parc_lfqueue_pop_timed(&q, &v, 0), ETIMEDOUT);
    int64_t t0 = parc_now_ns();
    ck_assert_int_eq(parc_lfqueue_pop_timed(&q, &v, 20 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns() - t0, 20 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_lfqueue_push(&q, ITEM(0, 5)), 0);
    ck_assert_int_eq(parc_lfqueue_pop_timed(&q, &v, 0), 0);
    ck_assert_uint_eq(ITEM_SEQ(v), 5);
    ck_assert_int_eq(parc_lfqueue_destroy(&q), 0);
}
END_TEST

START_TEST(close_drains_then_epipe)
{
    parc_lfqueue_t q;
    ck_assert_int_eq(parc_lfqueue_init(&q), 0);
    const uint32_t n = PARC_LFQUEUE_SEGMENT_SLOTS + 3; /* two segments */
    for (uint32_t i = 0; i < n; i++)
        ck_assert_int_eq(parc_lfqueue_push(&q, ITEM(0, i)), 0);
    ck_assert(!parc_lfqueue_is_closed(&q));
    ck_assert_int_eq(parc_lfqueue_close(&q), 0);
    ck_assert_int_eq(parc_lfqueue_close(&q), 0); /* idempotent */
    ck_assert(parc_lfqueue_is_closed(&q));
    ck_assert_int_eq(parc_lfqueue_push(&q, ITEM(0, 99)), EPIPE);
    void *v;
    for (uint32_t i = 0; i < n; i++) {
        ck_assert_int_eq(parc_lfqueue_pop(&q, &v), 0);
        ck_assert_uint_eq(ITEM_SEQ(v), i);
    }
    ck_assert_int_eq(parc_lfqueue_pop_try(&q, &v), EPIPE);
    ck_assert_int_eq(parc_lfqueue_pop(&q, &v), EPIPE);
    ck_assert_int_eq(parc_lfqueue_pop_timed(&q, &v, PARC_NS_PER_MS), EPIPE);
    ck_assert_int_eq(parc_lfqueue_destroy(&q), 0);
}
END_TEST

START_TEST(close_of_full_segment)
{
    /* the last segment is exactly full: the seal alone must stop pushes */
    parc_lfqueue_t q;
    ck_assert_int_eq(parc_lfqueue_init(&q), 0);
    for (uint32_t i = 0; i < PARC_LFQUEUE_SEGMENT_SLOTS; i++)
        ck_assert_int_eq(parc_lfqueue_push(&q, ITEM(0, i)), 0);
    ck_assert_int_eq(parc_lfqueue_close(&q), 0);
    ck_assert_int_eq(parc_lfqueue_push(&q, ITEM(0, 0)), EPIPE);
    void *v;
    for (uint32_t i = 0; i < PARC_LFQUEUE_SEGMENT_SLOTS; i++)
        ck_assert_int_eq(parc_lfqueue_pop_try(&q, &v), 0);
    ck_assert_int_eq(parc_lfqueue_pop_try(&q, &v), EPIPE);
    ck_assert_int_eq(parc_lfqueue_destroy(&q), 0);
}
END_TEST

struct blocked {
    parc_lfqueue_t *q;
    void *item;
    int rc;
};

static void *blocked_pop(void *arg)
{
    struct blocked *b = arg;
    b->rc = parc_lfqueue_pop(b->q, &b->item);
    return NULL;
}

START_TEST(blocked_pops_wake_on_push_and_close)
{
    parc_lfqueue_t q;
    ck_assert_int_eq(parc_lfqueue_init(&q), 0);
    enum { N = 4 };
    struct blocked b[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++)
        b[i] = (struct blocked){ &q, NULL, -1 };
    parc_test_spawn(th, N, blocked_pop, b, sizeof b[0]);
    parc_sleep_ns(20 * PARC_NS_PER_MS); /* let them park (not required) */
    ck_assert_int_eq(parc_lfqueue_push(&q, ITEM(1, 1)), 0);
    /* exactly one wakes with the item; close wakes the rest with EPIPE */
    parc_sleep_ns(20 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_lfqueue_close(&q), 0);
    parc_test_join(th, N);
    int got = 0, pipe = 0;
    for (int i = 0; i < N; i++) {
        if (b[i].rc == 0) {
            got++;
            ck_assert_ptr_eq(b[i].item, ITEM(1, 1));
        } else {
            ck_assert_int_eq(b[i].rc, EPIPE);
            pipe++;
        }
    }
    ck_assert_int_eq(got, 1);
    ck_assert_int_eq(pipe, N - 1);
    ck_assert_int_eq(parc_lfqueue_destroy(&q), 0);
}
END_TEST

struct waiter {
    parc_lfqueue_t *q;
    parc_atomic(int) done;
    void *item;
    int rc;
};

static void *pop_and_flag(void *arg)
{
    struct waiter *w = arg;
    w->rc = parc_lfqueue_pop(w->q, &w->item);
    /* release: publishes rc and item to the test thread's acquire load */
    parc_store(&w->done, 1, PARC_RELEASE);
    return NULL;
}

/* No lost wake-up: a pop parked on an empty queue returns once an item is
 * pushed, with no close to rescue it. Half the rounds push at once (the
 * popper is still spinning or registering), half after it has parked. */
START_TEST(push_wakes_a_parked_pop)
{
    parc_lfqueue_t q;
    ck_assert_int_eq(parc_lfqueue_init(&q), 0);
    for (uint32_t round = 0; round < 40; round++) {
        struct waiter w = { &q, 0, NULL, -1 };
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, pop_and_flag, &w), 0);
        if (round % 2)
            parc_sleep_ns(2 * PARC_NS_PER_MS); /* well past the spin */
        ck_assert_int_eq(parc_lfqueue_push(&q, ITEM(0, round)), 0);
        parc_deadline_t patience;
        parc_deadline_in(&patience, PARC_TEST_PATIENCE_NS);
        /* acquire: pairs with the release store in pop_and_flag */
        while (!parc_load(&w.done, PARC_ACQUIRE) && !parc_deadline_passed(patience))
            parc_sleep_ns(PARC_NS_PER_MS / 10);
        int done = parc_load(&w.done, PARC_ACQUIRE);
        ck_assert_msg(done, "round %u: a pop stayed parked after a push", round);
        ck_assert_int_eq(pthread_join(th, NULL), 0);
        ck_assert_int_eq(w.rc, 0);
        ck_assert_ptr_eq(w.item, ITEM(0, round));
    }
    ck_assert_int_eq(parc_lfqueue_destroy(&q), 0);
}
END_TEST

/* ---- many threads ---------------------------------------------------- */

enum { PRODUCERS = 4, CONSUMERS = 4 };
#define PER_PRODUCER (200000 / PARC_SLOWDOWN)

struct mpmc {
    parc_lfqueue_t q;
    parc_atomic(uint8_t) *seen; /* PRODUCERS * PER_PRODUCER flags */
    parc_atomic(int) failed;
    parc_atomic(uint64_t) progress; /* pushes / 1024, for the close race */
    uint64_t pushed[PRODUCERS];     /* each producer's successful pushes */
    parc_atomic(uint64_t) popped;
    bool close_early; /* the close race: producers stop at EPIPE */
};

struct role {
    struct mpmc *m;
    unsigned id;
};

static void *producer(void *arg)
{
    struct role *r = arg;
    struct mpmc *m = r->m;
    uint32_t s;
    for (s = 0; s < PER_PRODUCER; s++) {
        int rc = parc_lfqueue_push(&m->q, ITEM(r->id, s));
        if (rc == EPIPE && m->close_early)
            break;
        if (rc != 0) {
            parc_store(&m->failed, 1, PARC_RELAXED);
            break;
        }
        if ((s & 1023) == 1023)
            parc_faa(&m->progress, 1, PARC_RELAXED);
    }
    m->pushed[r->id] = s; /* read after the join */
    return NULL;
}

static void *consumer(void *arg)
{
    struct role *r = arg;
    struct mpmc *m = r->m;
    int64_t last[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++)
        last[p] = -1;
    uint64_t n = 0;
    void *v;
    int rc;
    /* alternate the three forms */
    for (unsigned i = 0;; i++) {
        if (i % 3 == 0)
            rc = parc_lfqueue_pop(&m->q, &v);
        else if (i % 3 == 1)
            rc = parc_lfqueue_pop_timed(&m->q, &v, PARC_NS_PER_MS);
        else
            rc = parc_lfqueue_pop_try(&m->q, &v);
        if (rc == EAGAIN || rc == ETIMEDOUT)
            continue;
        if (rc == EPIPE)
            break;
        if (rc != 0) {
            parc_store(&m->failed, 2, PARC_RELAXED);
            break;
        }
        unsigned p = ITEM_PRODUCER(v);
        uint32_t s = ITEM_SEQ(v);
        if (p >= PRODUCERS || s >= PER_PRODUCER) {
            parc_store(&m->failed, 3, PARC_RELAXED);
            continue;
        }
        if ((int64_t)s <= last[p]) /* per-producer FIFO */
            parc_store(&m->failed, 4, PARC_RELAXED);
        last[p] = s;
        if (parc_xchg(&m->seen[(size_t)p * PER_PRODUCER + s], 1, PARC_RELAXED) != 0)
            parc_store(&m->failed, 5, PARC_RELAXED); /* duplicate */
        n++;
    }
    parc_faa(&m->popped, n, PARC_RELAXED);
    return NULL;
}

static void run_mpmc(bool close_early)
{
    struct mpmc *m = calloc(1, sizeof *m);
    ck_assert_ptr_nonnull(m);
    m->seen = calloc((size_t)PRODUCERS * PER_PRODUCER, sizeof m->seen[0]);
    ck_assert_ptr_nonnull(m->seen);
    m->close_early = close_early;
    ck_assert_int_eq(parc_lfqueue_init(&m->q), 0);
    struct role pr[PRODUCERS], cr[CONSUMERS];
    for (unsigned i = 0; i < PRODUCERS; i++)
        pr[i] = (struct role){ m, i };
    for (unsigned i = 0; i < CONSUMERS; i++)
        cr[i] = (struct role){ m, i };
    pthread_t pt[PRODUCERS], ct[CONSUMERS];
    parc_test_spawn(ct, CONSUMERS, consumer, cr, sizeof cr[0]);
    parc_test_spawn(pt, PRODUCERS, producer, pr, sizeof pr[0]);
    if (close_early) {
        /* close while producers are still pushing (about a quarter in) */
        uint64_t quarter = PRODUCERS * (PER_PRODUCER / 1024) / 4;
        while (parc_load(&m->progress, PARC_RELAXED) < quarter)
            parc_sleep_ns(PARC_NS_PER_MS / 10);
        ck_assert_int_eq(parc_lfqueue_close(&m->q), 0);
        parc_test_join(pt, PRODUCERS);
    } else {
        parc_test_join(pt, PRODUCERS);
        ck_assert_int_eq(parc_lfqueue_close(&m->q), 0);
    }
    parc_test_join(ct, CONSUMERS);
    int failed = parc_load(&m->failed, PARC_RELAXED);
    ck_assert_int_eq(failed, 0);
    /* every successful push delivered once, nothing else delivered */
    uint64_t total = 0;
    for (unsigned p = 0; p < PRODUCERS; p++) {
        if (!close_early)
            ck_assert_uint_eq(m->pushed[p], PER_PRODUCER);
        total += m->pushed[p];
        for (uint32_t s = 0; s < PER_PRODUCER; s++) {
            unsigned seen = parc_load(&m->seen[(size_t)p * PER_PRODUCER + s], PARC_RELAXED);
            ck_assert_uint_eq(seen, s < m->pushed[p] ? 1 : 0);
        }
    }
    uint64_t popped = parc_load(&m->popped, PARC_RELAXED);
    ck_assert_uint_eq(popped, total);
    ck_assert_int_eq(parc_lfqueue_destroy(&m->q), 0);
    free(m->seen);
    free(m);
}

START_TEST(mpmc_exactly_once_per_producer_fifo)
{
    run_mpmc(false);
}
END_TEST

START_TEST(close_while_pushing_loses_nothing)
{
    run_mpmc(true);
}
END_TEST

/* Short-lived threads register and release hazard-pointer records; records must be
 * recycled and retired segments freed at exit (LSan checks the latter). */
static void *short_lived(void *arg)
{
    parc_lfqueue_t *q = arg;
    void *v;
    for (uint32_t i = 0; i < 2 * PARC_LFQUEUE_SEGMENT_SLOTS; i++) {
        if (parc_lfqueue_push(q, ITEM(0, i)) != 0)
            return (void *)1;
        if (parc_lfqueue_pop_try(q, &v) != 0)
            return (void *)1;
    }
    return NULL;
}

START_TEST(threads_come_and_go)
{
    parc_lfqueue_t q;
    ck_assert_int_eq(parc_lfqueue_init(&q), 0);
    for (int round = 0; round < 20; round++) {
        pthread_t th[4];
        for (int i = 0; i < 4; i++)
            ck_assert_int_eq(pthread_create(&th[i], NULL, short_lived, &q), 0);
        for (int i = 0; i < 4; i++) {
            void *res;
            ck_assert_int_eq(pthread_join(th[i], &res), 0);
            ck_assert_ptr_null(res);
        }
    }
    void *v;
    ck_assert_int_eq(parc_lfqueue_pop_try(&q, &v), EAGAIN);
    ck_assert_int_eq(parc_lfqueue_destroy(&q), 0);
}
END_TEST

static Suite *lfqueue_suite(void)
{
    Suite *s = suite_create("lfqueue");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_test(tc, rejects_bad_arguments);
    tcase_add_test(tc, fifo_across_segments);
    tcase_add_test(tc, timed_pop_times_out);
    tcase_add_test(tc, close_drains_then_epipe);
    tcase_add_test(tc, close_of_full_segment);
    tcase_add_test(tc, blocked_pops_wake_on_push_and_close);
    tcase_add_test(tc, push_wakes_a_parked_pop);
    tcase_add_test(tc, mpmc_exactly_once_per_producer_fifo);
    tcase_add_test(tc, close_while_pushing_loses_nothing);
    tcase_add_test(tc, threads_come_and_go);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(lfqueue_suite());
}
