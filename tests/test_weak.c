/*
 * parc/weak.h: the C11 weak-memory model.
 *
 * In every build: the seam functions act as plain atomics outside a model
 * run, and a run cannot start without PARC_WEAK. In a PARC_WEAK build:
 * each C11 rule the model implements, checked deterministically. "Threads"
 * of a run are pthreads started one after the other (the model does not
 * see the join, so to it they are concurrent); a chooser picks which store
 * each load reads: the latest, or the oldest the model offers.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "parc/atomic.h"
#include "parc/weak.h"
#include "testutil.h"

/* ---- every build ------------------------------------------------------------ */

START_TEST(outside_a_run_the_seam_is_plain_atomics)
{
    uint32_t w = 7;
    parc_weak_store(&w, sizeof w, 9, PARC_RELAXED);
    ck_assert_uint_eq(parc_weak_load(&w, sizeof w, PARC_ACQUIRE), 9);
    ck_assert_uint_eq(parc_weak_rmw(&w, sizeof w, PARC_WEAK_ADD, 3, PARC_SEQ_CST), 9);
    ck_assert_uint_eq(parc_weak_rmw(&w, sizeof w, PARC_WEAK_SUB, 2, PARC_SEQ_CST), 12);
    ck_assert_uint_eq(parc_weak_rmw(&w, sizeof w, PARC_WEAK_XCHG, 1, PARC_SEQ_CST), 10);
    uint32_t expected = 5;
    ck_assert(!parc_weak_cas(&w, sizeof w, &expected, 2, PARC_SEQ_CST, PARC_RELAXED));
    ck_assert_uint_eq(expected, 1);
    ck_assert(parc_weak_cas(&w, sizeof w, &expected, 2, PARC_SEQ_CST, PARC_RELAXED));
    ck_assert_uint_eq(w, 2);
    uint8_t b = 0xff; /* values are truncated to the object's size */
    ck_assert_uint_eq(parc_weak_rmw(&b, 1, PARC_WEAK_ADD, 1, PARC_RELAXED), 0xff);
    ck_assert_uint_eq(b, 0);
    parc_weak_fence(PARC_SEQ_CST);
    parc_weak_forget(&w);
}
END_TEST

START_TEST(a_run_needs_the_weak_build)
{
    int rc = parc_weak_begin(2, 1);
    if (!parc_weak_compiled()) {
        ck_assert_int_eq(rc, ENOTSUP);
        return;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(parc_weak_begin(2, 1), EBUSY);
    ck_assert_int_eq(parc_weak_thread_enter(2), EINVAL);
    parc_weak_end(NULL);
    ck_assert_int_eq(parc_weak_begin(0, 1), EINVAL);
    ck_assert_int_eq(parc_weak_begin(PARC_WEAK_MAX_THREADS + 1, 1), EINVAL);
}
END_TEST

/* ---- PARC_WEAK builds ------------------------------------------------------------- */

typedef struct shared {
    parc_atomic(int) x;
    parc_atomic(int) y;
    int r[4];
} shared_t;

static shared_t S;
static bool oldest; /* the chooser's policy */

static unsigned chooser(void *ctx, unsigned kind, unsigned options)
{
    (void)ctx;
    (void)kind;
    return oldest ? options - 1 : 0;
}

typedef struct as_arg {
    unsigned tid;
    void (*fn)(void);
} as_arg_t;

static void *as_main(void *p)
{
    as_arg_t *a = p;
    ck_assert_int_eq(parc_weak_thread_enter(a->tid), 0);
    a->fn();
    parc_weak_thread_exit();
    return NULL;
}

/* Run fn as participant tid, to completion. */
static void as(unsigned tid, void (*fn)(void))
{
    pthread_t t;
    as_arg_t a = { tid, fn };
    ck_assert_int_eq(pthread_create(&t, NULL, as_main, &a), 0);
    pthread_join(t, NULL);
}

static void begin(void)
{
    parc_atomic_init(&S.x, 0);
    parc_atomic_init(&S.y, 0);
    S.r[0] = S.r[1] = S.r[2] = S.r[3] = -1;
    ck_assert_int_eq(parc_weak_begin(3, 1), 0);
    parc_weak_set_chooser(chooser, NULL);
    oldest = false;
}

static parc_weak_stats_t end(void)
{
    parc_weak_stats_t st;
    parc_weak_set_chooser(NULL, NULL);
    parc_weak_end(&st);
    return st;
}

#define WEAK_ONLY()                                                                 \
    do {                                                                           \
        if (!parc_weak_compiled())                                                 \
            return;                                                                \
    } while (0)

static void w_rlx(void) { parc_store(&S.x, 1, PARC_RELAXED); parc_store(&S.y, 1, PARC_RELAXED); }
/* release: publishes x */
static void w_rel(void) { parc_store(&S.x, 1, PARC_RELAXED); parc_store(&S.y, 1, PARC_RELEASE); }
/* the flag read at the latest store, the data at the oldest allowed */
static void r_acq(void)
{
    S.r[0] = parc_load(&S.y, PARC_ACQUIRE); /* pairs with w_rel's release */
    oldest = true;
    S.r[1] = parc_load(&S.x, PARC_RELAXED);
}

START_TEST(relaxed_message_passing_may_read_stale_data)
{
    WEAK_ONLY();
    begin();
    as(0, w_rlx);
    as(1, r_acq);
    parc_weak_stats_t st = end();
    ck_assert_int_eq(S.r[0], 1);
    ck_assert_int_eq(S.r[1], 0); /* allowed by C11: nothing orders x */
    ck_assert_uint_ge(st.stale, 1);
}
END_TEST

START_TEST(release_acquire_forbids_stale_data)
{
    WEAK_ONLY();
    begin();
    as(0, w_rel);
    as(1, r_acq);
    end();
    ck_assert_int_eq(S.r[0], 1);
    ck_assert_int_eq(S.r[1], 1);
}
END_TEST

static void w_fences(void)
{
    parc_store(&S.x, 1, PARC_RELAXED);
    parc_fence(PARC_RELEASE); /* publishes x to an acquire fence after y */
    parc_store(&S.y, 1, PARC_RELAXED);
}
static void r_fences(void)
{
    S.r[0] = parc_load(&S.y, PARC_RELAXED);
    parc_fence(PARC_ACQUIRE); /* pairs with w_fences' release fence */
    oldest = true;
    S.r[1] = parc_load(&S.x, PARC_RELAXED);
}

START_TEST(fences_synchronize)
{
    WEAK_ONLY();
    begin();
    as(0, w_fences);
    as(1, r_fences);
    end();
    ck_assert_int_eq(S.r[0], 1);
    ck_assert_int_eq(S.r[1], 1);
}
END_TEST

static void rmw_y(void) { (void)parc_faa(&S.y, 1, PARC_RELAXED); }
static void r_acq_y2(void)
{
    S.r[0] = parc_load(&S.y, PARC_ACQUIRE); /* reads the RMW's 2 */
    oldest = true;
    S.r[1] = parc_load(&S.x, PARC_RELAXED);
}

START_TEST(an_rmw_continues_the_release_sequence)
{
    WEAK_ONLY();
    begin();
    as(0, w_rel);
    as(2, rmw_y);
    as(1, r_acq_y2);
    end();
    ck_assert_int_eq(S.r[0], 2);
    ck_assert_int_eq(S.r[1], 1);
}
END_TEST

static void w_rel_then_rlx(void)
{
    w_rel();
    parc_store(&S.y, 2, PARC_RELAXED); /* C11: still in w_rel's release sequence */
}

START_TEST(the_heads_own_later_store_continues_it)
{
    WEAK_ONLY();
    begin();
    as(0, w_rel_then_rlx);
    as(1, r_acq_y2);
    end();
    ck_assert_int_eq(S.r[0], 2);
    ck_assert_int_eq(S.r[1], 1);
}
END_TEST

static void w_x12(void) { parc_store(&S.x, 1, PARC_RELAXED); parc_store(&S.x, 2, PARC_RELAXED); }
static unsigned script[4], script_pos;
static unsigned scripted(void *ctx, unsigned kind, unsigned options)
{
    (void)ctx;
    (void)kind;
    unsigned c = script[script_pos++];
    return c < options ? c : options - 1;
}
static void r_x_twice(void)
{
    S.r[0] = parc_load(&S.x, PARC_RELAXED);
    S.r[1] = parc_load(&S.x, PARC_RELAXED);
}

START_TEST(coherence_read_read)
{
    WEAK_ONLY();
    begin();
    as(0, w_x12);
    script[0] = 1; /* the middle store: x = 1 */
    script[1] = 9; /* then the oldest offered */
    script_pos = 0;
    parc_weak_set_chooser(scripted, NULL);
    as(1, r_x_twice);
    end();
    ck_assert_int_eq(S.r[0], 1);
    ck_assert_int_eq(S.r[1], 1); /* never back to 0 */
}
END_TEST

static void own_write_then_read(void)
{
    parc_store(&S.x, 3, PARC_RELAXED);
    oldest = true;
    S.r[0] = parc_load(&S.x, PARC_RELAXED);
}

START_TEST(coherence_write_read_and_rmw_reads_latest)
{
    WEAK_ONLY();
    begin();
    as(0, w_x12);
    as(1, own_write_then_read);
    ck_assert_int_eq(S.r[0], 3); /* its own store happens before */
    oldest = true;
    as(2, rmw_y);
    as(2, w_x12);
    end();
    begin();
    as(0, w_x12);
    oldest = true;
    as(1, rmw_y); /* y: only the initial store */
    end();
    ck_assert_int_eq(parc_raw_load(&S.y, PARC_RELAXED), 1);
}
END_TEST

static void sc_store_x(void) { parc_store(&S.x, 1, PARC_SEQ_CST); } /* seq_cst: under test */
static void sc_load_x(void)
{
    oldest = true;
    S.r[0] = parc_load(&S.x, PARC_SEQ_CST); /* seq_cst: under test */
}

START_TEST(seq_cst_operations_are_totally_ordered)
{
    WEAK_ONLY();
    begin();
    as(0, sc_store_x);
    as(1, sc_load_x);
    end();
    ck_assert_int_eq(S.r[0], 1);
}
END_TEST

static void rlx_load_x(void)
{
    oldest = true;
    S.r[0] = parc_load(&S.x, PARC_RELAXED);
}
static void sync_then_load_x(void)
{
    parc_weak_sync_all();
    rlx_load_x();
}

START_TEST(writes_behind_the_model_and_sync_all)
{
    WEAK_ONLY();
    begin();
    as(0, w_x12);
    parc_raw_store(&S.x, 5, PARC_RELAXED); /* behind the model's back */
    as(1, rlx_load_x);
    ck_assert_int_eq(S.r[0], 5);
    as(0, w_x12);
    as(1, sync_then_load_x);
    parc_weak_stats_t st = end();
    ck_assert_int_eq(S.r[0], 2);
    ck_assert_uint_ge(st.resets, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("weak");
    TCase *tc = tcase_create("seam");
    tcase_add_test(tc, outside_a_run_the_seam_is_plain_atomics);
    tcase_add_test(tc, a_run_needs_the_weak_build);
    suite_add_tcase(s, tc);
    TCase *model = tcase_create("model");
    tcase_add_test(model, relaxed_message_passing_may_read_stale_data);
    tcase_add_test(model, release_acquire_forbids_stale_data);
    tcase_add_test(model, fences_synchronize);
    tcase_add_test(model, an_rmw_continues_the_release_sequence);
    tcase_add_test(model, the_heads_own_later_store_continues_it);
    tcase_add_test(model, coherence_read_read);
    tcase_add_test(model, coherence_write_read_and_rmw_reads_latest);
    tcase_add_test(model, seq_cst_operations_are_totally_ordered);
    tcase_add_test(model, writes_behind_the_model_and_sync_all);
    suite_add_tcase(s, model);
    return parc_test_run(s);
}
