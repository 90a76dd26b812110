/* Unit tests for parc/chaos.h: seeds reproduce, hooks take over. */
#include <stdlib.h>

#include "parc/atomic.h"
#include "parc/chaos.h"
#include "parc/park.h"
#include "testutil.h"

static void draw(unsigned index, uint64_t *out, int n)
{
    parc_chaos_thread_begin(index);
    for (int i = 0; i < n; i++)
        out[i] = parc_chaos_random();
}

START_TEST(seed_and_index_reproduce_the_sequence)
{
    uint64_t a[16], b[16], c[16], d[16];
    parc_chaos_set_seed(12345);
    ck_assert_uint_eq(parc_chaos_seed(), 12345);
    draw(3, a, 16);
    ck_assert_uint_eq(parc_chaos_thread_index(), 3);
    draw(3, b, 16);
    draw(4, c, 16);
    parc_chaos_set_seed(54321);
    draw(3, d, 16);
    int same_ab = 1, same_ac = 1, same_ad = 1;
    for (int i = 0; i < 16; i++) {
        ck_assert_uint_ne(a[i], 0);
        same_ab &= a[i] == b[i];
        same_ac &= a[i] == c[i];
        same_ad &= a[i] == d[i];
    }
    ck_assert(same_ab);   /* same (seed, index): same decisions */
    ck_assert(!same_ac);  /* another thread index: another stream */
    ck_assert(!same_ad);  /* another seed: another stream */
}
END_TEST

START_TEST(seed_zero_is_never_used)
{
    parc_chaos_set_seed(0);
    ck_assert_uint_ne(parc_chaos_seed(), 0);
}
END_TEST

static int points, blocks, unblocks;
static void on_point(void *ctx) { (void)ctx; points++; }
static void on_block(void *ctx) { (void)ctx; blocks++; }
static void on_unblock(void *ctx) { (void)ctx; unblocks++; }

START_TEST(hooks_replace_the_default_noise)
{
    parc_chaos_hooks_t h = { on_point, on_block, on_unblock, NULL };
    points = blocks = unblocks = 0;
    parc_chaos_set_hooks(&h);
    parc_chaos_point();
    ck_assert_int_eq(points, 1);

    parc_atomic(int) x;
    parc_atomic_init(&x, 0);
    parc_park_word_t w;
    parc_atomic_init(&w, 1);
    (void)parc_load(&x, PARC_RELAXED);
    parc_store(&x, 1, PARC_RELAXED);
    ck_assert_int_eq(parc_park_wait(&w, 0, PARC_FOREVER), 0); /* 1 != 0 */
    parc_chaos_set_hooks(NULL);
    if (parc_chaos_compiled()) {
        /* every atomic operation and the park are chaos points */
        ck_assert_int_ge(points, 3);
        ck_assert_int_eq(blocks, 1);
        ck_assert_int_eq(unblocks, 1);
    } else {
        /* a normal build has no chaos points at all */
        ck_assert_int_eq(points, 1);
        ck_assert_int_eq(blocks, 0);
    }
    int before = points;
    parc_chaos_point(); /* hooks removed: default noise, no hook call */
    ck_assert_int_eq(points, before);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("chaos");
    TCase *tc = tcase_create("chaos");
    tcase_add_test(tc, seed_and_index_reproduce_the_sequence);
    tcase_add_test(tc, seed_zero_is_never_used);
    tcase_add_test(tc, hooks_replace_the_default_noise);
    suite_add_tcase(s, tc);
    return parc_test_run(s);
}
