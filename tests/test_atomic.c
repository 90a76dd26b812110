/* Unit tests for parc/atomic.h: wrapper semantics, padding, backoff, and
 * the release/acquire message-passing pattern under threads. */
#include <stddef.h>

#include "parc/atomic.h"
#include "testutil.h"

START_TEST(wrappers_have_c11_semantics)
{
    parc_atomic(int) x;
    parc_atomic_init(&x, 5);
    ck_assert_int_eq(parc_load(&x, PARC_RELAXED), 5);
    parc_store(&x, 7, PARC_RELEASE);
    ck_assert_int_eq(parc_load(&x, PARC_ACQUIRE), 7);
    ck_assert_int_eq(parc_xchg(&x, 9, PARC_ACQ_REL), 7);
    ck_assert_int_eq(parc_faa(&x, 3, PARC_RELAXED), 9);
    ck_assert_int_eq(parc_fas(&x, 2, PARC_RELAXED), 12);
    ck_assert_int_eq(parc_for(&x, 0x100, PARC_RELAXED), 10);
    ck_assert_int_eq(parc_fand(&x, 0xff, PARC_RELAXED), 0x10a);
    ck_assert_int_eq(parc_load(&x, PARC_SEQ_CST), 10);

    int expected = 11;
    ck_assert(!parc_cas(&x, &expected, 20, PARC_ACQ_REL, PARC_ACQUIRE));
    ck_assert_int_eq(expected, 10); /* failure reports the value seen */
    ck_assert(parc_cas(&x, &expected, 20, PARC_ACQ_REL, PARC_ACQUIRE));
    ck_assert_int_eq(parc_load(&x, PARC_RELAXED), 20);
    expected = 20;
    while (!parc_cas_weak(&x, &expected, 21, PARC_RELEASE, PARC_RELAXED))
        ck_assert_int_eq(expected, 20);
    ck_assert_int_eq(parc_raw_load(&x, PARC_RELAXED), 21);
    parc_fence(PARC_SEQ_CST);
    parc_fence(PARC_ACQ_REL);
}
END_TEST

struct padded {
    PARC_CACHE_ALIGNED parc_atomic(int) a;
    PARC_CACHE_ALIGNED parc_atomic(int) b;
};

START_TEST(cache_alignment_separates_fields)
{
    ck_assert_int_eq(offsetof(struct padded, b) - offsetof(struct padded, a), PARC_CACHELINE);
    ck_assert_int_eq(_Alignof(struct padded), PARC_CACHELINE);
    struct {
        int used;
        PARC_PAD(pad, sizeof(int));
        int next;
    } p;
    ck_assert_int_eq((char *)&p.next - (char *)&p.used, PARC_CACHELINE);
}
END_TEST

START_TEST(backoff_grows_to_its_bound_then_yields)
{
    parc_backoff_t b = PARC_BACKOFF_INIT;
    ck_assert_uint_eq(b.iterations, PARC_BACKOFF_MIN);
    unsigned calls = 0;
    while (parc_backoff_spinning(&b)) {
        uint32_t before = b.iterations;
        parc_backoff_spin(&b);
        ck_assert_uint_eq(b.iterations, before * 2);
        calls++;
    }
    ck_assert_uint_le(calls, 11); /* 1 -> 1024 in ten doublings */
    ck_assert_uint_eq(b.iterations, PARC_BACKOFF_MAX);
    parc_backoff_spin(&b); /* yields, stays capped */
    ck_assert_uint_eq(b.iterations, PARC_BACKOFF_MAX);
    parc_backoff_reset(&b);
    ck_assert_uint_eq(b.iterations, PARC_BACKOFF_MIN);
    parc_cpu_relax();
}
END_TEST

/* Four threads add to one counter with relaxed fetch-add: nothing lost. */
#define ADDERS 4
#define ADDS 200000
static parc_atomic(long) counter;

static void *adder(void *arg)
{
    (void)arg;
    for (int i = 0; i < ADDS; i++)
        parc_faa(&counter, 1, PARC_RELAXED);
    return NULL;
}

START_TEST(fetch_add_loses_nothing)
{
    pthread_t t[ADDERS];
    parc_atomic_init(&counter, 0);
    parc_test_spawn(t, ADDERS, adder, NULL, 0);
    parc_test_join(t, ADDERS);
    ck_assert_int_eq(parc_load(&counter, PARC_RELAXED), (long)ADDERS * ADDS);
}
END_TEST

/* Message passing: a plain payload published by a release store is seen by
 * the acquire load that reads the flag (TSan checks the pairing). */
#define MESSAGES 20000
static long payload;
static parc_atomic(int) turn; /* 0: producer writes, 1: consumer reads */

static void *mp_producer(void *arg)
{
    (void)arg;
    for (long i = 1; i <= MESSAGES; i++) {
        parc_backoff_t b = PARC_BACKOFF_INIT;
        /* acquire: see the consumer's read finished before reuse */
        while (parc_load(&turn, PARC_ACQUIRE) != 0)
            parc_backoff_spin(&b);
        payload = i;
        /* release: publishes payload; pairs with the consumer's acquire */
        parc_store(&turn, 1, PARC_RELEASE);
    }
    return NULL;
}

START_TEST(release_acquire_publishes_plain_data)
{
    pthread_t t;
    parc_atomic_init(&turn, 0);
    payload = 0;
    ck_assert_int_eq(pthread_create(&t, NULL, mp_producer, NULL), 0);
    for (long i = 1; i <= MESSAGES; i++) {
        parc_backoff_t b = PARC_BACKOFF_INIT;
        while (parc_load(&turn, PARC_ACQUIRE) != 1)
            parc_backoff_spin(&b);
        ck_assert_int_eq(payload, i);
        parc_store(&turn, 0, PARC_RELEASE);
    }
    ck_assert_int_eq(pthread_join(t, NULL), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("atomic");
    TCase *tc = tcase_create("atomic");
    tcase_add_test(tc, wrappers_have_c11_semantics);
    tcase_add_test(tc, cache_alignment_separates_fields);
    tcase_add_test(tc, backoff_grows_to_its_bound_then_yields);
    tcase_add_test(tc, fetch_add_loses_nothing);
    tcase_add_test(tc, release_acquire_publishes_plain_data);
    suite_add_tcase(s, tc);
    return parc_test_run(s);
}
