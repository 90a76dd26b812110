/*
 * Unit tests for parc/inject.h: bad arguments, one thread's entries taken
 * in its order (through ring growth and shrinking), batch bounds (max and
 * half), close refusing later pushes while losing nothing, and producers
 * racing consumers and a close with every accepted entry taken exactly
 * once.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "parc/inject.h"
#include "testutil.h"

#define FN ((parc_inject_fn)(uintptr_t)0) /* entries are (NULL, seq) here */

static void *seq_ptr(uint64_t v)
{
    return (void *)(uintptr_t)(v + 1); /* never NULL */
}

static uint64_t ptr_seq(void *p)
{
    return (uint64_t)(uintptr_t)p - 1;
}

START_TEST(rejects_bad_arguments)
{
    parc_inject_t q;
    parc_inject_entry_t e[4];
    size_t n;
    ck_assert_int_eq(parc_inject_init(NULL, 4), EINVAL);
    ck_assert_int_eq(parc_inject_init(&q, 0), EINVAL);
    ck_assert_int_eq(parc_inject_init(&q, PARC_INJECT_MAX_SHARDS + 1), EINVAL);
    ck_assert_int_eq(parc_inject_init(&q, 2), 0);
    ck_assert_int_eq(parc_inject_push(NULL, FN, NULL), EINVAL);
    ck_assert_int_eq(parc_inject_take(NULL, 0, e, 4, 0, &n), EINVAL);
    ck_assert_int_eq(parc_inject_take(&q, 0, NULL, 4, 0, &n), EINVAL);
    ck_assert_int_eq(parc_inject_take(&q, 0, e, 0, 0, &n), EINVAL);
    ck_assert_int_eq(parc_inject_take(&q, 0, e, 4, 0, NULL), EINVAL);
    ck_assert_int_eq(parc_inject_take(&q, 0, e, 4, 0x80, &n), EINVAL);
    ck_assert_int_eq(parc_inject_drain(NULL, e, 4, &n), EINVAL);
    ck_assert_int_eq(parc_inject_drain(&q, e, 0, &n), EINVAL);
    ck_assert_int_eq(parc_inject_drain(&q, NULL, 4, &n), EINVAL);
    ck_assert_int_eq(parc_inject_drain(&q, e, 4, NULL), EINVAL);
    ck_assert_int_eq(parc_inject_close(NULL), EINVAL);
    ck_assert_int_eq(parc_inject_destroy(NULL), EINVAL);
    ck_assert_uint_eq(parc_inject_size(NULL), 0);
    ck_assert_int_eq(parc_inject_take(&q, 0, e, 4, 0, &n), EAGAIN); /* empty */
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(parc_inject_destroy(&q), 0);
}
END_TEST

/* One thread's entries come back in its order, in batches of at most max,
 * through a ring that doubles many times and then shrinks. */
START_TEST(one_thread_fifo_through_growth)
{
    const uint64_t total = 3 * PARC_INJECT_RING_KEEP; /* grows past KEEP */
    parc_inject_t q;
    ck_assert_int_eq(parc_inject_init(&q, 3), 0);
    for (int round = 0; round < 2; round++) { /* the second after shrinking */
        for (uint64_t i = 0; i < total; i++)
            ck_assert_int_eq(parc_inject_push(&q, FN, seq_ptr(i)), 0);
        ck_assert_uint_eq(parc_inject_size(&q), total);
        uint64_t next = 0;
        parc_inject_entry_t e[7];
        size_t n;
        for (unsigned start = 0; next < total; start++) {
            ck_assert_int_eq(parc_inject_take(&q, start, e, 7, 0, &n), 0);
            ck_assert_uint_ge(n, 1);
            ck_assert_uint_le(n, 7);
            for (size_t i = 0; i < n; i++) {
                ck_assert_ptr_null((void *)(uintptr_t)e[i].fn);
                ck_assert_uint_eq(ptr_seq(e[i].arg), next++);
            }
        }
        ck_assert_uint_eq(parc_inject_size(&q), 0);
        ck_assert_int_eq(parc_inject_take(&q, 0, e, 7, 0, &n), EAGAIN);
    }
    ck_assert_int_eq(parc_inject_destroy(&q), 0);
}
END_TEST

START_TEST(half_takes_at_most_half)
{
    parc_inject_t q;
    ck_assert_int_eq(parc_inject_init(&q, 1), 0);
    for (uint64_t i = 0; i < 9; i++)
        ck_assert_int_eq(parc_inject_push(&q, FN, seq_ptr(i)), 0);
    parc_inject_entry_t e[32];
    size_t n;
    ck_assert_int_eq(parc_inject_take(&q, 0, e, 32, PARC_INJECT_HALF, &n), 0);
    ck_assert_uint_eq(n, 5); /* ceil(9 / 2) */
    ck_assert_int_eq(parc_inject_take(&q, 0, e, 3, PARC_INJECT_HALF, &n), 0);
    ck_assert_uint_eq(n, 2); /* ceil(4 / 2) */
    ck_assert_uint_eq(ptr_seq(e[0].arg), 5);
    ck_assert_int_eq(parc_inject_take(&q, 0, e, 32, 0, &n), 0);
    ck_assert_uint_eq(n, 2); /* the rest */
    ck_assert_uint_eq(ptr_seq(e[1].arg), 8);
    /* One entry: half rounds up, so the last entry is taken too. */
    ck_assert_int_eq(parc_inject_push(&q, FN, seq_ptr(42)), 0);
    ck_assert_int_eq(parc_inject_take(&q, 0, e, 32, PARC_INJECT_HALF, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(parc_inject_destroy(&q), 0);
}
END_TEST

START_TEST(close_refuses_pushes_and_loses_nothing)
{
    parc_inject_t q;
    ck_assert_int_eq(parc_inject_init(&q, 4), 0);
    for (uint64_t i = 0; i < 100; i++)
        ck_assert_int_eq(parc_inject_push(&q, FN, seq_ptr(i)), 0);
    ck_assert_int_eq(parc_inject_close(&q), 0);
    ck_assert_int_eq(parc_inject_close(&q), 0); /* idempotent */
    ck_assert_int_eq(parc_inject_push(&q, FN, seq_ptr(100)), EPIPE);
    parc_inject_entry_t e[16];
    size_t n;
    /* take still hands out what was queued, then says closed. */
    ck_assert_int_eq(parc_inject_take(&q, 1, e, 16, 0, &n), 0);
    ck_assert_uint_eq(n, 16);
    uint64_t next = 0;
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(ptr_seq(e[i].arg), next++);
    while (parc_inject_drain(&q, e, 16, &n) == 0 && n > 0)
        for (size_t i = 0; i < n; i++)
            ck_assert_uint_eq(ptr_seq(e[i].arg), next++);
    ck_assert_uint_eq(next, 100);
    ck_assert_int_eq(parc_inject_take(&q, 0, e, 16, 0, &n), EPIPE);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(parc_inject_push(&q, FN, seq_ptr(0)), EPIPE);
    ck_assert_int_eq(parc_inject_destroy(&q), 0);
}
END_TEST

/* Producers push (producer, seq) until closed; consumers take concurrently
 * (with and without HALF); a closer closes midway. Every push that
 * returned 0 is taken exactly once, by a consumer or the final drain, and
 * none that returned EPIPE is. */
#define RACE_PRODUCERS 4
#define RACE_CONSUMERS 2
#define RACE_PER_PRODUCER 20000u

typedef struct race {
    parc_inject_t q;
    parc_atomic(uint32_t) seen[RACE_PRODUCERS][RACE_PER_PRODUCER];
    uint32_t accepted[RACE_PRODUCERS]; /* pushes that returned 0 */
    parc_atomic(int) producers_done;
    parc_atomic(int) started;
} race_t;

typedef struct race_arg {
    race_t *r;
    unsigned id;
} race_arg_t;

static void record(race_t *r, const parc_inject_entry_t *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v = ptr_seq(e[i].arg);
        unsigned prod = (unsigned)(v / RACE_PER_PRODUCER);
        ck_assert_uint_lt(prod, RACE_PRODUCERS);
        parc_faa(&r->seen[prod][v % RACE_PER_PRODUCER], 1u, PARC_RELAXED);
    }
}

static void *race_producer(void *arg)
{
    race_arg_t *a = arg;
    race_t *r = a->r;
    parc_faa(&r->started, 1, PARC_RELAXED);
    for (uint32_t i = 0; i < RACE_PER_PRODUCER; i++) {
        int rc = parc_inject_push(&r->q, FN,
                                  seq_ptr((uint64_t)a->id * RACE_PER_PRODUCER + i));
        if (rc == EPIPE)
            break; /* closed: every later push fails too */
        ck_assert_int_eq(rc, 0);
        r->accepted[a->id] = i + 1;
    }
    parc_faa(&r->producers_done, 1, PARC_RELEASE); /* publishes accepted[] */
    return NULL;
}

static void *race_consumer(void *arg)
{
    race_arg_t *a = arg;
    race_t *r = a->r;
    parc_inject_entry_t e[32];
    for (;;) {
        size_t n;
        int rc = parc_inject_take(&r->q, a->id, e, 32,
                                  a->id % 2 ? PARC_INJECT_HALF : 0, &n);
        if (rc == 0)
            record(r, e, n);
        else if (rc == EPIPE)
            return NULL; /* closed and empty */
        else
            ck_assert_int_eq(rc, EAGAIN);
    }
}

START_TEST(race_exactly_once_with_close)
{
    race_t *r = calloc(1, sizeof *r);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(parc_inject_init(&r->q, 4), 0);
    pthread_t prod[RACE_PRODUCERS], cons[RACE_CONSUMERS];
    race_arg_t pa[RACE_PRODUCERS], ca[RACE_CONSUMERS];
    for (unsigned i = 0; i < RACE_PRODUCERS; i++) {
        pa[i] = (race_arg_t){ r, i };
        parc_test_spawn(&prod[i], 1, race_producer, &pa[i], 0);
    }
    for (unsigned i = 0; i < RACE_CONSUMERS; i++) {
        ca[i] = (race_arg_t){ r, i };
        parc_test_spawn(&cons[i], 1, race_consumer, &ca[i], 0);
    }
    /* Close once some entries went through (or the producers finished). */
    while (parc_inject_size(&r->q) < 1000
           && parc_load(&r->producers_done, PARC_ACQUIRE) < RACE_PRODUCERS)
        sched_yield();
    ck_assert_int_eq(parc_inject_close(&r->q), 0);
    parc_test_join(prod, RACE_PRODUCERS);
    parc_test_join(cons, RACE_CONSUMERS);
    parc_inject_entry_t e[32];
    size_t n;
    while (parc_inject_drain(&r->q, e, 32, &n) == 0 && n > 0)
        record(r, e, n); /* none: consumers leave on EPIPE only when empty */
    for (unsigned p = 0; p < RACE_PRODUCERS; p++)
        for (uint32_t i = 0; i < RACE_PER_PRODUCER; i++)
            ck_assert_uint_eq(parc_load(&r->seen[p][i], PARC_RELAXED),
                              i < r->accepted[p] ? 1u : 0u);
    ck_assert_int_eq(parc_inject_destroy(&r->q), 0);
    free(r);
}
END_TEST

static Suite *inject_suite(void)
{
    Suite *s = suite_create("inject");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_test(tc, rejects_bad_arguments);
    tcase_add_test(tc, one_thread_fifo_through_growth);
    tcase_add_test(tc, half_takes_at_most_half);
    tcase_add_test(tc, close_refuses_pushes_and_loses_nothing);
    tcase_add_test(tc, race_exactly_once_with_close);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(inject_suite());
}
