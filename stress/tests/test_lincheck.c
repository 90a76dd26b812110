/* Unit tests for parc/stress_lincheck.h: the checker accepts linearizable
 * histories and rejects the others, for every model; the runner catches a
 * queue that breaks its promise. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "parc/atomic.h"
#include "parc/chaos.h"
#include "parc/stress.h"
#include "parc/stress_baton.h"
#include "parc/stress_lincheck.h"

#ifndef PARC_SLOWDOWN
#define PARC_SLOWDOWN 1
#endif

/* ---- building histories by hand ------------------------------------------ */

static parc_lc_history_t hist;

static void begin(unsigned threads)
{
    memset(&hist, 0, sizeof hist);
    hist.threads = threads;
}

/* Append to thread t an operation that was invoked after s0/s1/s2 operations
 * of threads 0/1/2 had completed (the entry for t itself is ignored). */
static void op(unsigned t, parc_lc_opcode_t code, uint64_t arg, int rc,
               uint64_t result, uint32_t s0, uint32_t s1, uint32_t s2)
{
    parc_lc_op_t *o = &hist.ops[t][hist.count[t]++];
    o->opcode = code;
    o->arg = arg;
    o->rc = rc;
    o->result = result;
    o->seen[0] = s0;
    o->seen[1] = s1;
    o->seen[2] = s2;
}

static const parc_lc_model_t fifo = { PARC_LC_FIFO, 0, 0 };
static const parc_lc_model_t lifo = { PARC_LC_LIFO, 0, 0 };
static const parc_lc_model_t mailbox = { PARC_LC_FIFO, PARC_LC_RELAXED_EMPTY, 0 };
static const parc_lc_model_t counter = { PARC_LC_COUNTER, 0, 0 };
static const parc_lc_model_t set = { PARC_LC_SET, 0, 0 };

static int check(const parc_lc_model_t *m)
{
    return parc_lc_check(&hist, m, NULL);
}

START_TEST(fifo_rejects_reordered_pop)
{
    /* T0 pushes 1 then 2; T1, after both pushes returned, pops 2: no FIFO
     * order explains it. */
    begin(2);
    op(0, PARC_LC_PUSH, 1, 0, 0, 0, 0, 0);
    op(0, PARC_LC_PUSH, 2, 0, 0, 0, 0, 0);
    op(1, PARC_LC_POP, 0, 0, 2, 2, 0, 0);
    ck_assert_int_eq(check(&fifo), EDOM);
    /* ... while a stack explains it */
    ck_assert_int_eq(check(&lifo), 0);
}
END_TEST

START_TEST(fifo_accepts_concurrent_pushes_in_either_order)
{
    /* T0 push(1) and T1 push(2) overlap; T2, after both, pops 2 then 1:
     * linearizable with push(2) first. */
    begin(3);
    op(0, PARC_LC_PUSH, 1, 0, 0, 0, 0, 0);
    op(1, PARC_LC_PUSH, 2, 0, 0, 0, 0, 0);
    op(2, PARC_LC_POP, 0, 0, 2, 1, 1, 0);
    op(2, PARC_LC_POP, 0, 0, 1, 1, 1, 0);
    ck_assert_int_eq(check(&fifo), 0);

    /* The same pushes, but T1 invoked push(2) after push(1) returned:
     * then popping 2 first is a violation. */
    hist.ops[1][0].seen[0] = 1;
    ck_assert_int_eq(check(&fifo), EDOM);
}
END_TEST

START_TEST(fifo_rejects_duplicate_and_invented_values)
{
    begin(3);
    op(0, PARC_LC_PUSH, 7, 0, 0, 0, 0, 0);
    op(1, PARC_LC_POP, 0, 0, 7, 0, 0, 0);
    op(2, PARC_LC_POP, 0, 0, 7, 0, 0, 0); /* delivered twice */
    ck_assert_int_eq(check(&fifo), EDOM);

    begin(2);
    op(0, PARC_LC_PUSH, 7, 0, 0, 0, 0, 0);
    op(1, PARC_LC_POP, 0, 0, 8, 0, 0, 0); /* nobody pushed 8 */
    ck_assert_int_eq(check(&fifo), EDOM);
}
END_TEST

START_TEST(empty_pop_needs_an_empty_queue_or_the_relaxed_model)
{
    /* T0's push(1) returned; T1 pushes 2 concurrently; T2 pops after
     * push(1) returned and finds nothing. Strict FIFO: 1 was there. The
     * mailbox model: a push (T1's) was in flight, so EAGAIN is allowed. */
    begin(3);
    op(0, PARC_LC_PUSH, 1, 0, 0, 0, 0, 0);
    op(1, PARC_LC_PUSH, 2, 0, 0, 0, 0, 0);
    op(2, PARC_LC_POP, 0, EAGAIN, 0, 1, 0, 0);
    ck_assert_int_eq(check(&fifo), EDOM);
    ck_assert_int_eq(check(&mailbox), 0);

    /* Once T1's push had returned too, nothing was in flight. */
    hist.ops[2][0].seen[1] = 1;
    ck_assert_int_eq(check(&mailbox), EDOM);

    /* An empty pop before any push is fine in both models. */
    begin(2);
    op(0, PARC_LC_POP, 0, EAGAIN, 0, 0, 0, 0);
    op(1, PARC_LC_PUSH, 1, 0, 0, 1, 0, 0);
    op(0, PARC_LC_POP, 0, 0, 1, 0, 1, 0);
    ck_assert_int_eq(check(&fifo), 0);
    ck_assert_int_eq(check(&mailbox), 0);
}
END_TEST

START_TEST(bounded_queue_reports_full_only_at_capacity)
{
    parc_lc_model_t ring = { PARC_LC_FIFO, 0, 1 };
    begin(2);
    op(0, PARC_LC_PUSH, 1, 0, 0, 0, 0, 0);
    op(1, PARC_LC_PUSH, 2, EAGAIN, 0, 1, 0, 0);
    ck_assert_int_eq(check(&ring), 0);
    ring.capacity = 2;
    ck_assert_int_eq(check(&ring), EDOM);
    ring.flags = PARC_LC_RELAXED_FULL; /* no pop in flight: still wrong */
    ck_assert_int_eq(check(&ring), EDOM);
}
END_TEST

START_TEST(lifo_model)
{
    begin(2);
    op(0, PARC_LC_PUSH, 1, 0, 0, 0, 0, 0);
    op(0, PARC_LC_PUSH, 2, 0, 0, 0, 0, 0);
    op(1, PARC_LC_POP, 0, 0, 2, 2, 0, 0);
    op(1, PARC_LC_POP, 0, 0, 1, 2, 0, 0);
    ck_assert_int_eq(check(&lifo), 0);
    ck_assert_int_eq(check(&fifo), EDOM);

    /* A pop concurrent with both pushes may see either top. */
    begin(2);
    op(0, PARC_LC_PUSH, 1, 0, 0, 0, 0, 0);
    op(0, PARC_LC_PUSH, 2, 0, 0, 0, 0, 0);
    op(1, PARC_LC_POP, 0, 0, 1, 0, 0, 0);
    ck_assert_int_eq(check(&lifo), 0);
    /* but not after both returned */
    hist.ops[1][0].seen[0] = 2;
    ck_assert_int_eq(check(&lifo), EDOM);
}
END_TEST

START_TEST(counter_model)
{
    /* Two overlapping fetch-and-adds cannot both see 0. */
    begin(2);
    op(0, PARC_LC_ADD, 1, 0, 0, 0, 0, 0);
    op(1, PARC_LC_ADD, 1, 0, 0, 0, 0, 0);
    ck_assert_int_eq(check(&counter), EDOM);
    hist.ops[1][0].result = 1;
    ck_assert_int_eq(check(&counter), 0);
    op(1, PARC_LC_GET, 0, 0, 2, 1, 0, 0);
    ck_assert_int_eq(check(&counter), 0);
    hist.ops[1][1].result = 1; /* lost update */
    ck_assert_int_eq(check(&counter), EDOM);
}
END_TEST

START_TEST(set_model)
{
    begin(3);
    op(0, PARC_LC_ADD, 5, 0, 0, 0, 0, 0);
    op(1, PARC_LC_ADD, 5, EEXIST, 0, 0, 0, 0);
    op(2, PARC_LC_CONTAINS, 5, 0, 1, 0, 0, 0);
    op(2, PARC_LC_REMOVE, 5, 0, 0, 0, 0, 0);
    op(2, PARC_LC_REMOVE, 5, ENOENT, 0, 0, 0, 0);
    ck_assert_int_eq(check(&set), 0);
    hist.ops[1][0].rc = 0; /* both inserted 5, nobody removed it between */
    hist.ops[1][0].seen[2] = 0;
    ck_assert_int_eq(check(&set), 0); /* T2's remove can sit between */
    hist.ops[2][0].seen[1] = 1;       /* ... unless T2 saw T1's add first */
    hist.ops[2][1].seen[1] = 1;
    hist.ops[2][2].seen[1] = 1;
    hist.ops[2][0].seen[0] = 1;
    hist.ops[2][1].seen[0] = 1;
    hist.ops[2][2].seen[0] = 1;
    ck_assert_int_eq(check(&set), EDOM);
}
END_TEST

START_TEST(malformed_histories_are_refused)
{
    ck_assert_int_eq(parc_lc_check(NULL, &fifo, NULL), EINVAL);
    begin(2);
    ck_assert_int_eq(parc_lc_check(&hist, NULL, NULL), EINVAL);
    op(0, PARC_LC_POP, 0, EAGAIN, 0, 0, 3, 0); /* saw 3 of T1's 0 operations */
    ck_assert_int_eq(check(&fifo), EINVAL);
    begin(0);
    ck_assert_int_eq(check(&fifo), EINVAL);
    begin(PARC_LC_MAX_THREADS + 1);
    ck_assert_int_eq(check(&fifo), EINVAL);
}
END_TEST

START_TEST(search_is_cut_by_the_cache)
{
    /* 4 threads x 4 (push v, pop -> v), all overlapping, and a wrong last
     * pop: the failure cache must cut the search short (without it every
     * interleaving of the 32 operations would be tried). */
    begin(4);
    for (unsigned t = 0; t < 4; t++) {
        for (unsigned k = 0; k < 4; k++) {
            op(t, PARC_LC_PUSH, 1 + t * 10 + k, 0, 0, 0, 0, 0);
            op(t, PARC_LC_POP, 0, 0, 1 + t * 10 + k, 0, 0, 0);
        }
    }
    hist.ops[3][7].result = 999;
    parc_lc_stats_t st;
    ck_assert_int_eq(parc_lc_check(&hist, &fifo, &st), EDOM);
    ck_assert_uint_lt(st.steps, 50u * 1000 * 1000);
    /* and a linearizable one of the same size is found */
    ck_assert_uint_gt(st.cache_hits, 0);
    hist.ops[3][7].result = 34;
    ck_assert_int_eq(parc_lc_check(&hist, &fifo, &st), 0);
}
END_TEST

START_TEST(recorder_counts_completed_operations)
{
    parc_lc_recorder_t rec;
    parc_lc_recorder_reset(&rec, &hist, 2);
    parc_lc_op_t *a = parc_lc_invoke(&rec, &hist, 0, PARC_LC_PUSH, 1);
    parc_lc_op_t *b = parc_lc_invoke(&rec, &hist, 1, PARC_LC_POP, 0);
    ck_assert_uint_eq(b->seen[0], 0); /* a is still pending */
    parc_lc_respond(&rec, &hist, 0, a, 0, 0);
    parc_lc_respond(&rec, &hist, 1, b, EAGAIN, 0);
    parc_lc_op_t *c = parc_lc_invoke(&rec, &hist, 1, PARC_LC_POP, 0);
    ck_assert_uint_eq(c->seen[0], 1);
    parc_lc_respond(&rec, &hist, 1, c, 0, 1);
    ck_assert_uint_eq(hist.count[0], 1);
    ck_assert_uint_eq(hist.count[1], 2);
    ck_assert_int_eq(check(&fifo), 0);
    FILE *devnull = fopen("/dev/null", "w");
    ck_assert_ptr_nonnull(devnull);
    parc_lc_history_print(devnull, &hist, &fifo);
    fclose(devnull);
}
END_TEST

/* ---- the runner against small locked containers -------------------------- */

/* A mutex-protected array that pops from the front (a correct FIFO) or
 * from the back (a stack that claims to be a FIFO: the negative control). */
typedef struct locked {
    pthread_mutex_t mu;
    unsigned head, tail;
    uint64_t items[64];
} locked_t;

static void *locked_create(void *ctx)
{
    (void)ctx;
    locked_t *q = calloc(1, sizeof *q);
    if (q != NULL)
        pthread_mutex_init(&q->mu, NULL);
    return q;
}

static void locked_destroy(void *ctx, void *obj)
{
    (void)ctx;
    locked_t *q = obj;
    pthread_mutex_destroy(&q->mu);
    free(q);
}

static int locked_apply(void *obj, parc_lc_opcode_t code, uint64_t arg,
                        uint64_t *result, int from_back)
{
    locked_t *q = obj;
    int rc = 0;
    pthread_mutex_lock(&q->mu);
    if (code == PARC_LC_PUSH) {
        if (q->tail == 64)
            rc = EAGAIN;
        else
            q->items[q->tail++] = arg;
    } else if (q->head == q->tail) {
        rc = EAGAIN;
    } else {
        *result = from_back ? q->items[--q->tail] : q->items[q->head++];
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int fifo_apply(void *obj, parc_lc_opcode_t code, uint64_t arg, uint64_t *result)
{
    return locked_apply(obj, code, arg, result, 0);
}

static int lifo_apply(void *obj, parc_lc_opcode_t code, uint64_t arg, uint64_t *result)
{
    return locked_apply(obj, code, arg, result, 1);
}

START_TEST(runner_accepts_a_correct_queue)
{
    parc_lc_target_t t = { "locked-fifo", fifo, locked_create, locked_destroy,
                           fifo_apply, NULL, 0, 0 };
    parc_lc_options_t o = { .seed = 42, .threads = 3, .scenarios = 4000 / PARC_SLOWDOWN };
    parc_lc_report_t r;
    ck_assert_int_eq(parc_lc_run(&t, &o, &r), 0);
    ck_assert_uint_eq(r.scenarios, o.scenarios);
    ck_assert_uint_eq(r.violations, 0);
    /* the same queue is also a correct "stack" in no way: */
    t.model = lifo;
    FILE *devnull = fopen("/dev/null", "w");
    o.report = devnull;
    ck_assert_int_eq(parc_lc_run(&t, &o, &r), EDOM);
    fclose(devnull);
}
END_TEST

START_TEST(runner_rejects_a_stack_posing_as_a_queue)
{
    parc_lc_target_t t = { "lifo-posing-as-fifo", fifo, locked_create,
                           locked_destroy, lifo_apply, NULL, 0, 0 };
    parc_lc_options_t o = { .seed = 7, .threads = 2, .scenarios = 4000 };
    parc_lc_report_t r;
    ck_assert_int_eq(parc_lc_run(&t, &o, &r), EDOM);
    ck_assert_uint_eq(r.violations, 1);
    ck_assert_uint_eq(r.violation_scenario + 1, r.scenarios);
    /* As a stack it is correct. */
    t.model = lifo;
    ck_assert_int_eq(parc_lc_run(&t, &o, &r), 0);
    ck_assert_int_eq(parc_lc_run(NULL, &o, &r), EINVAL);
    o.threads = PARC_LC_MAX_THREADS + 1;
    ck_assert_int_eq(parc_lc_run(&t, &o, &r), EINVAL);
}
END_TEST

/* ---- the same through the harness's queue adapter interface --------------- */

static int sq_create(void **q, size_t capacity)
{
    (void)capacity;
    *q = locked_create(NULL);
    return *q ? 0 : ENOMEM;
}

static void sq_destroy(void *q)
{
    locked_destroy(NULL, q);
}

static int sq_push(void *q, parc_stress_item_t *it)
{
    uint64_t unused;
    return locked_apply(q, PARC_LC_PUSH, (uint64_t)(uintptr_t)it, &unused, 0);
}

static int sq_pop(void *q, parc_stress_item_t **it)
{
    uint64_t v = 0;
    int rc = locked_apply(q, PARC_LC_POP, 0, &v, 0);
    *it = (parc_stress_item_t *)(uintptr_t)v;
    return rc;
}

static int sq_pop_back(void *q, parc_stress_item_t **it)
{
    uint64_t v = 0;
    int rc = locked_apply(q, PARC_LC_POP, 0, &v, 1);
    *it = (parc_stress_item_t *)(uintptr_t)v;
    return rc;
}

START_TEST(queue_adapters_are_checked_by_their_promised_order)
{
    parc_stress_queue_impl_t good = {
        .name = "test.locked", .order = PARC_STRESS_ORDER_FIFO,
        .create = sq_create, .destroy = sq_destroy, .push = sq_push, .pop = sq_pop,
    };
    parc_lc_options_t o = { .seed = 3, .scenarios = 2000 / PARC_SLOWDOWN };
    parc_lc_report_t r;
    ck_assert_int_eq(parc_lc_run_queue(&good, &o, &r), 0);
    ck_assert_uint_eq(r.scenarios, o.scenarios);

    /* a stack claiming FIFO order is caught */
    parc_stress_queue_impl_t bad = good;
    bad.name = "test.lifo-claims-fifo";
    bad.pop = sq_pop_back;
    ck_assert_int_eq(parc_lc_run_queue(&bad, &o, &r), EDOM);
    bad.order = PARC_STRESS_ORDER_LIFO; /* and accepted as what it is */
    ck_assert_int_eq(parc_lc_run_queue(&bad, &o, &r), 0);

    /* SPSC roles: thread 0 only pushes, thread 1 only pops */
    good.max_producers = 1;
    good.max_consumers = 1;
    o.threads = 3;
    ck_assert_int_eq(parc_lc_run_queue(&good, &o, &r), 0);

    bad.order = PARC_STRESS_ORDER_NONE;
    ck_assert_int_eq(parc_lc_run_queue(&bad, &o, &r), ENOTSUP);
    ck_assert_int_eq(parc_lc_run_queue(NULL, &o, &r), EINVAL);

    ck_assert_uint_eq(parc_lc_relaxed_flags("test.mailbox"), 0);
    ck_assert_int_eq(parc_lc_declare_relaxed("test.mailbox", PARC_LC_RELAXED_EMPTY), 0);
    ck_assert_uint_eq(parc_lc_relaxed_flags("test.mailbox"), PARC_LC_RELAXED_EMPTY);
    ck_assert_int_eq(parc_lc_declare_relaxed("test.mailbox", 64), EINVAL);
}
END_TEST

/* ---- under the baton (PARC_CHAOS builds) -------------------------------- */

/* A queue whose push is a non-atomic read-modify-write of the tail: two
 * interleaved pushes write the same slot and one item is lost. Only the
 * baton's serialized schedules interleave it (at its chaos points). */
typedef struct racy {
    parc_atomic(unsigned) head, tail;
    parc_atomic(uint64_t) items[64];
} racy_t;

static void *racy_create(void *ctx)
{
    (void)ctx;
    racy_t *q = calloc(1, sizeof *q);
    return q;
}

static void racy_destroy(void *ctx, void *obj)
{
    (void)ctx;
    free(obj);
}

static int racy_apply(void *obj, parc_lc_opcode_t code, uint64_t arg, uint64_t *result)
{
    racy_t *q = obj;
    /* acquire/release as a correct ring would use them (tail publishes the
     * slot, head hands it back); the bug is the non-atomic tail update */
    if (code == PARC_LC_PUSH) {
        unsigned t = parc_load(&q->tail, PARC_ACQUIRE);
        parc_store(&q->items[t], arg, PARC_RELAXED);
        parc_store(&q->tail, t + 1, PARC_RELEASE); /* lost update when raced */
        return 0;
    }
    for (;;) {
        unsigned h = parc_load(&q->head, PARC_ACQUIRE);
        if (h == parc_load(&q->tail, PARC_ACQUIRE))
            return EAGAIN;
        uint64_t v = parc_load(&q->items[h], PARC_RELAXED);
        if (parc_cas(&q->head, &h, h + 1, PARC_ACQ_REL, PARC_ACQUIRE)) {
            *result = v;
            return 0;
        }
    }
}

START_TEST(baton_finds_a_race_and_replays_it_exactly)
{
    parc_lc_target_t t = { "racy-push", fifo, racy_create, racy_destroy,
                           racy_apply, NULL, 0, 0 };
    parc_lc_options_t o = { .seed = 11, .threads = 3, .scenarios = 3000,
                            .baton = true };
    parc_lc_report_t r1, r2;
    FILE *devnull = fopen("/dev/null", "w");
    o.report = devnull;
    if (!parc_baton_available()) {
        ck_assert_int_eq(parc_lc_run(&t, &o, &r1), ENOTSUP);
        fclose(devnull);
        return;
    }
    ck_assert_int_eq(parc_lc_run(&t, &o, &r1), EDOM);
    o.report = stdout;
    ck_assert_int_eq(parc_lc_run(&t, &o, &r2), EDOM);
    /* the same seed fails at the same scenario: the schedule replayed */
    ck_assert_uint_eq(r1.violation_scenario, r2.violation_scenario);
    fclose(devnull);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stress_lincheck");
    TCase *tc = tcase_create("checker");
    tcase_add_test(tc, fifo_rejects_reordered_pop);
    tcase_add_test(tc, fifo_accepts_concurrent_pushes_in_either_order);
    tcase_add_test(tc, fifo_rejects_duplicate_and_invented_values);
    tcase_add_test(tc, empty_pop_needs_an_empty_queue_or_the_relaxed_model);
    tcase_add_test(tc, bounded_queue_reports_full_only_at_capacity);
    tcase_add_test(tc, lifo_model);
    tcase_add_test(tc, counter_model);
    tcase_add_test(tc, set_model);
    tcase_add_test(tc, malformed_histories_are_refused);
    tcase_add_test(tc, search_is_cut_by_the_cache);
    tcase_add_test(tc, recorder_counts_completed_operations);
    suite_add_tcase(s, tc);
    TCase *run = tcase_create("runner");
    tcase_set_timeout(run, 120 * PARC_SLOWDOWN);
    tcase_add_test(run, runner_accepts_a_correct_queue);
    tcase_add_test(run, runner_rejects_a_stack_posing_as_a_queue);
    tcase_add_test(run, queue_adapters_are_checked_by_their_promised_order);
    tcase_add_test(run, baton_finds_a_race_and_replays_it_exactly);
    suite_add_tcase(s, run);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
