/*
 * Unit tests for parc/stack.h.
 *
 * The ABA test keeps a handful of tokens circulating among many threads:
 * each pops a token, marks it held (a second holder means the stack handed
 * one item out twice), unmarks it and pushes it back. With so few nodes,
 * the same node returns to the top constantly, the pattern that breaks a
 * Treiber stack without ABA protection: it then loses or duplicates
 * tokens, which the marks and the final count catch.
 */
#include <stdint.h>

#include "parc/stack.h"
#include "testutil.h"

#define TOKEN(i) ((void *)(uintptr_t)((i) + 1))
#define TOKEN_INDEX(v) ((size_t)(uintptr_t)(v) - 1)

START_TEST(rejects_bad_arguments)
{
    parc_stack_t s = PARC_STACK_INIT;
    void *v;
    ck_assert_int_eq(parc_stack_init(NULL), EINVAL);
    ck_assert_int_eq(parc_stack_destroy(NULL), EINVAL);
    ck_assert_int_eq(parc_stack_push(NULL, TOKEN(0)), EINVAL);
    ck_assert_int_eq(parc_stack_pop_try(NULL, &v), EINVAL);
    ck_assert_int_eq(parc_stack_pop_try(&s, NULL), EINVAL);
    ck_assert(parc_stack_empty(NULL));
    ck_assert_int_eq(parc_stack_destroy(&s), 0);
}
END_TEST

START_TEST(lifo_with_null_items_and_growth)
{
    parc_stack_t s;
    ck_assert_int_eq(parc_stack_init(&s), 0);
    void *v = TOKEN(7);
    ck_assert(parc_stack_empty(&s));
    ck_assert_int_eq(parc_stack_pop_try(&s, &v), EAGAIN);
    ck_assert_ptr_eq(v, TOKEN(7)); /* untouched on EAGAIN */
    ck_assert_int_eq(parc_stack_push(&s, NULL), 0);
    ck_assert(!parc_stack_empty(&s));
    ck_assert_int_eq(parc_stack_pop_try(&s, &v), 0);
    ck_assert_ptr_null(v);
    /* many chunks: 64 + 128 + ... nodes */
    const size_t n = 50000;
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < n; i++)
            ck_assert_int_eq(parc_stack_push(&s, TOKEN(i)), 0);
        for (size_t i = n; i-- > 0;) {
            ck_assert_int_eq(parc_stack_pop_try(&s, &v), 0);
            ck_assert_ptr_eq(v, TOKEN(i));
        }
        ck_assert_int_eq(parc_stack_pop_try(&s, &v), EAGAIN);
    }
    /* the second round reused the first round's nodes */
    uint64_t fresh = parc_load(&s.fresh, PARC_RELAXED);
    ck_assert_uint_le(fresh, n);
    ck_assert_int_eq(parc_stack_push(&s, TOKEN(1)), 0); /* left inside */
    ck_assert_int_eq(parc_stack_destroy(&s), 0);
}
END_TEST

/* ---- many threads ---------------------------------------------------- */

enum { THREADS = 8, TOKENS = 3 };
#define ROUNDS (200000 / PARC_SLOWDOWN)
#define PER_THREAD (50000 / PARC_SLOWDOWN)

struct shared {
    parc_stack_t s;
    parc_atomic(uint8_t) held[THREADS * PER_THREAD];
    parc_atomic(int) failed;
};

static void *circulate(void *arg)
{
    struct shared *sh = arg;
    void *v;
    for (unsigned i = 0; i < ROUNDS; i++) {
        if (parc_stack_pop_try(&sh->s, &v) != 0)
            continue; /* all tokens held by others right now */
        size_t t = TOKEN_INDEX(v);
        if (t >= TOKENS) {
            parc_store(&sh->failed, 1, PARC_RELAXED);
            return NULL;
        }
        if (parc_xchg(&sh->held[t], 1, PARC_RELAXED) != 0) {
            parc_store(&sh->failed, 2, PARC_RELAXED); /* handed out twice */
            return NULL;
        }
        if (i % 64 == 0)
            parc_yield(); /* get preempted while holding, now and then */
        parc_store(&sh->held[t], 0, PARC_RELAXED);
        if (parc_stack_push(&sh->s, v) != 0) {
            parc_store(&sh->failed, 3, PARC_RELAXED);
            return NULL;
        }
    }
    return NULL;
}

START_TEST(aba_circulating_tokens)
{
    struct shared *sh = calloc(1, sizeof *sh);
    ck_assert_ptr_nonnull(sh);
    ck_assert_int_eq(parc_stack_init(&sh->s), 0);
    for (size_t i = 0; i < TOKENS; i++)
        ck_assert_int_eq(parc_stack_push(&sh->s, TOKEN(i)), 0);
    pthread_t th[THREADS];
    parc_test_spawn(th, THREADS, circulate, sh, 0);
    parc_test_join(th, THREADS);
    int failed = parc_load(&sh->failed, PARC_RELAXED);
    ck_assert_int_eq(failed, 0);
    /* exactly the tokens, each once */
    int count[TOKENS] = { 0 };
    void *v;
    size_t n = 0;
    while (parc_stack_pop_try(&sh->s, &v) == 0 && n++ < 100) {
        ck_assert_uint_lt(TOKEN_INDEX(v), TOKENS);
        count[TOKEN_INDEX(v)]++;
    }
    ck_assert_uint_eq(n, TOKENS);
    for (size_t i = 0; i < TOKENS; i++)
        ck_assert_int_eq(count[i], 1);
    ck_assert_int_eq(parc_stack_destroy(&sh->s), 0);
    free(sh);
}
END_TEST

struct worker {
    struct shared *sh;
    unsigned id;
};

/* Push own distinct items and pop anyone's, interleaved. */
static void *push_pop(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    void *v;
    for (unsigned i = 0; i < PER_THREAD; i++) {
        if (parc_stack_push(&sh->s, TOKEN((size_t)w->id * PER_THREAD + i)) != 0)
            parc_store(&sh->failed, 1, PARC_RELAXED);
        if (i % 3 == 0 && parc_stack_pop_try(&sh->s, &v) == 0) {
            size_t t = TOKEN_INDEX(v);
            if (t >= (size_t)THREADS * PER_THREAD ||
                parc_xchg(&sh->held[t], 1, PARC_RELAXED) != 0)
                parc_store(&sh->failed, 2, PARC_RELAXED);
        }
    }
    return NULL;
}

START_TEST(concurrent_exactly_once)
{
    struct shared *sh = calloc(1, sizeof *sh);
    ck_assert_ptr_nonnull(sh);
    ck_assert_int_eq(parc_stack_init(&sh->s), 0);
    struct worker w[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        w[i] = (struct worker){ sh, i };
    pthread_t th[THREADS];
    parc_test_spawn(th, THREADS, push_pop, w, sizeof w[0]);
    parc_test_join(th, THREADS);
    int failed = parc_load(&sh->failed, PARC_RELAXED);
    ck_assert_int_eq(failed, 0);
    void *v;
    while (parc_stack_pop_try(&sh->s, &v) == 0) {
        size_t t = TOKEN_INDEX(v);
        ck_assert_uint_lt(t, (size_t)THREADS * PER_THREAD);
        unsigned was = parc_xchg(&sh->held[t], 1, PARC_RELAXED);
        ck_assert_uint_eq(was, 0);
    }
    for (size_t i = 0; i < (size_t)THREADS * PER_THREAD; i++) {
        unsigned held = parc_load(&sh->held[i], PARC_RELAXED);
        ck_assert_uint_eq(held, 1);
    }
    ck_assert_int_eq(parc_stack_destroy(&sh->s), 0);
    free(sh);
}
END_TEST

static Suite *stack_suite(void)
{
    Suite *s = suite_create("stack");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_test(tc, rejects_bad_arguments);
    tcase_add_test(tc, lifo_with_null_items_and_growth);
    tcase_add_test(tc, aba_circulating_tokens);
    tcase_add_test(tc, concurrent_exactly_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(stack_suite());
}
