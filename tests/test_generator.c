/* Unit tests for parc/generator.h: Python's generator protocol. */
#include <check.h>
#include <errno.h>
#include <stdint.h>

#include "parc/generator.h"

#include "testutil.h"

/* def count(n): yield 0 .. n-1 */
static int count(parc_generator_t *g, void *arg)
{
    for (intptr_t i = 0; i < (intptr_t)arg; i++)
        if (parc_generator_yield(g, (void *)i, NULL) != 0)
            return 0;
    return 0;
}

START_TEST(next_yields_values_then_stop_iteration)
{
    parc_generator_t *g;
    ck_assert_int_eq(parc_generator_create(&g, count, (void *)(intptr_t)5, NULL), 0);
    void *v;
    for (intptr_t i = 0; i < 5; i++) {
        ck_assert_int_eq(parc_generator_next(g, &v), 0);
        ck_assert_int_eq((intptr_t)v, i);
    }
    ck_assert_int_eq(parc_generator_next(g, &v), EPIPE);
    ck_assert_int_eq(parc_generator_next(g, &v), EPIPE); /* stays exhausted */
    ck_assert_int_eq(parc_generator_free(g), 0);
}
END_TEST

/* def running_sum(): total = 0; while True: total += yield total */
static int running_sum(parc_generator_t *g, void *arg)
{
    (void)arg;
    intptr_t total = 0;
    for (;;) {
        void *in;
        if (parc_generator_yield(g, (void *)total, &in) != 0)
            return 0;
        total += (intptr_t)in;
    }
}

START_TEST(send_delivers_into_the_pending_yield)
{
    parc_generator_t *g;
    ck_assert_int_eq(parc_generator_create(&g, running_sum, NULL, NULL), 0);
    void *v;
    /* Python: TypeError for a non-None first send. */
    ck_assert_int_eq(parc_generator_send(g, (void *)1, &v), EINVAL);
    ck_assert_int_eq(parc_generator_send(g, NULL, &v), 0);
    ck_assert_int_eq((intptr_t)v, 0);
    ck_assert_int_eq(parc_generator_send(g, (void *)10, &v), 0);
    ck_assert_int_eq((intptr_t)v, 10);
    ck_assert_int_eq(parc_generator_send(g, (void *)5, &v), 0);
    ck_assert_int_eq((intptr_t)v, 15);
    ck_assert_int_eq(parc_generator_next(g, &v), 0); /* next sends None */
    ck_assert_int_eq((intptr_t)v, 15);
    ck_assert_int_eq(parc_generator_close(g), 0);
    ck_assert_int_eq(parc_generator_next(g, &v), EPIPE);
    ck_assert_int_eq(parc_generator_free(g), 0);
}
END_TEST

static int cleaned_up;

/* try: yield 1; yield 2 finally: cleaned_up = 1 */
static int with_cleanup(parc_generator_t *g, void *arg)
{
    (void)arg;
    int rc = parc_generator_yield(g, (void *)1, NULL);
    if (rc == 0)
        rc = parc_generator_yield(g, (void *)2, NULL);
    ck_assert(rc == 0 || rc == EPIPE);
    cleaned_up++;
    return 0;
}

START_TEST(close_raises_generator_exit_in_the_body)
{
    parc_generator_t *g;
    void *v;
    cleaned_up = 0;
    ck_assert_int_eq(parc_generator_create(&g, with_cleanup, NULL, NULL), 0);
    ck_assert_int_eq(parc_generator_next(g, &v), 0);
    ck_assert_int_eq(parc_generator_close(g), 0);
    ck_assert_int_eq(cleaned_up, 1);
    ck_assert_int_eq(parc_generator_close(g), 0); /* idempotent */
    ck_assert_int_eq(parc_generator_next(g, &v), EPIPE);
    parc_generator_free(g);

    /* Closed before it started: the body never runs. */
    ck_assert_int_eq(parc_generator_create(&g, with_cleanup, NULL, NULL), 0);
    ck_assert_int_eq(parc_generator_close(g), 0);
    ck_assert_int_eq(parc_generator_next(g, &v), EPIPE);
    ck_assert_int_eq(cleaned_up, 1);
    parc_generator_free(g);
}
END_TEST

static int stubborn(parc_generator_t *g, void *arg)
{
    (void)arg;
    for (;;)
        (void)parc_generator_yield(g, NULL, NULL); /* ignores GeneratorExit */
    return 0;
}

START_TEST(ignoring_generator_exit_is_reported)
{
    parc_generator_t *g;
    void *v;
    ck_assert_int_eq(parc_generator_create(&g, stubborn, NULL, NULL), 0);
    ck_assert_int_eq(parc_generator_next(g, &v), 0);
    ck_assert_int_eq(parc_generator_close(g), EPROTO);
    ck_assert_int_eq(parc_generator_next(g, &v), EPIPE);
    ck_assert_int_eq(parc_generator_free(g), 0); /* abandoned mid-body */
}
END_TEST

static int failing(parc_generator_t *g, void *arg)
{
    (void)arg;
    parc_generator_yield(g, (void *)7, NULL);
    return ERANGE; /* an exception */
}

START_TEST(body_error_is_reported_once)
{
    parc_generator_t *g;
    void *v;
    ck_assert_int_eq(parc_generator_create(&g, failing, NULL, NULL), 0);
    ck_assert_int_eq(parc_generator_next(g, &v), 0);
    ck_assert_int_eq((intptr_t)v, 7);
    ck_assert_int_eq(parc_generator_next(g, &v), ERANGE);
    ck_assert_int_eq(parc_generator_next(g, &v), EPIPE);
    parc_generator_free(g);
}
END_TEST

static int reentrant(parc_generator_t *g, void *arg)
{
    (void)arg;
    void *v;
    /* Python: ValueError, generator already executing. */
    ck_assert_int_eq(parc_generator_next(g, &v), EBUSY);
    ck_assert_int_eq(parc_generator_yield(NULL, NULL, NULL), EPERM);
    return 0;
}

START_TEST(misuse_is_reported)
{
    parc_generator_t *g;
    void *v;
    ck_assert_int_eq(parc_generator_create(NULL, count, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_generator_create(&g, NULL, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_generator_next(NULL, &v), EINVAL);
    ck_assert_int_eq(parc_generator_close(NULL), EINVAL);
    ck_assert_int_eq(parc_generator_free(NULL), EINVAL);
    ck_assert_int_eq(parc_generator_create(&g, reentrant, NULL, NULL), 0);
    ck_assert_int_eq(parc_generator_yield(g, NULL, NULL), EPERM); /* not its body */
    ck_assert_int_eq(parc_generator_next(g, &v), EPIPE);
    parc_generator_free(g);
}
END_TEST

/* Generators nest: one pulls from another (Python's `yield from`). */
static int doubled(parc_generator_t *g, void *arg)
{
    parc_generator_t *inner = arg;
    void *v;
    while (parc_generator_next(inner, &v) == 0)
        if (parc_generator_yield(g, (void *)(2 * (intptr_t)v), NULL) != 0)
            break;
    return 0;
}

START_TEST(generators_nest)
{
    parc_generator_t *in, *out;
    ck_assert_int_eq(parc_generator_create(&in, count, (void *)(intptr_t)100, NULL), 0);
    ck_assert_int_eq(parc_generator_create(&out, doubled, in, NULL), 0);
    intptr_t sum = 0;
    void *v;
    while (parc_generator_next(out, &v) == 0)
        sum += (intptr_t)v;
    ck_assert_int_eq(sum, 2 * 99 * 100 / 2);
    parc_generator_free(out);
    parc_generator_free(in);
}
END_TEST

/* ---- stackless generators (parc_gen_t) ----------------------------------- */

typedef struct scount {
    parc_gen_t gen;
    intptr_t i, n;
} scount_t;

/* def count(n): yield 0 .. n-1 */
static int scount(parc_gen_t *g, void *out)
{
    scount_t *c = (scount_t *)g;
    PARC_GEN_BEGIN(g);
    for (c->i = 0; c->i < c->n; c->i++)
        PARC_GEN_YIELD(g, *(intptr_t *)out = c->i);
    PARC_GEN_END(g);
}

START_TEST(stackless_next_yields_values_then_stop_iteration)
{
    scount_t c = { PARC_GEN_INIT, 0, 5 };
    intptr_t v = -1;
    for (intptr_t i = 0; i < 5; i++) {
        ck_assert_int_eq(parc_gen_next(&c.gen, scount, &v), 0);
        ck_assert_int_eq(v, i);
        ck_assert(!parc_gen_done(&c.gen));
    }
    v = -1;
    ck_assert_int_eq(parc_gen_next(&c.gen, scount, &v), EPIPE);
    ck_assert_int_eq(v, -1); /* nothing written at the end */
    ck_assert(parc_gen_done(&c.gen));
    ck_assert_int_eq(parc_gen_next(&c.gen, scount, &v), EPIPE); /* stays exhausted */
    /* Several generators at once: each resumes at its own yield. */
    scount_t a = { PARC_GEN_INIT, 0, 3 }, b = { PARC_GEN_INIT, 0, 3 };
    intptr_t va, vb;
    ck_assert_int_eq(parc_gen_next(&a.gen, scount, &va), 0);
    ck_assert_int_eq(parc_gen_next(&a.gen, scount, &va), 0);
    ck_assert_int_eq(parc_gen_next(&b.gen, scount, &vb), 0);
    ck_assert_int_eq(va, 1);
    ck_assert_int_eq(vb, 0);
}
END_TEST

/* Two yields per round on one line, and a value computed from what was
 * sent: def running_total(): t = 0; while True: t += (yield t) */
typedef struct total {
    parc_gen_t gen;
    intptr_t t;
} total_t;

static int running_total(parc_gen_t *g, void *out)
{
    total_t *s = (total_t *)g;
    PARC_GEN_BEGIN(g);
    for (;;) {
        PARC_GEN_YIELD(g, *(intptr_t *)out = s->t); PARC_GEN_YIELD(g, *(intptr_t *)out = -s->t);
        s->t += (intptr_t)parc_gen_sent(g);
    }
    PARC_GEN_END(g);
}

START_TEST(stackless_send_delivers_into_the_pending_yield)
{
    total_t s = { PARC_GEN_INIT, 0 };
    intptr_t v;
    ck_assert_int_eq(parc_gen_send(&s.gen, running_total, (void *)1, &v), EINVAL);
    ck_assert_int_eq(parc_gen_send(&s.gen, running_total, NULL, &v), 0); /* prime */
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(parc_gen_next(&s.gen, running_total, &v), 0); /* second yield */
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(parc_gen_send(&s.gen, running_total, (void *)(intptr_t)5, &v), 0);
    ck_assert_int_eq(v, 5);
    ck_assert_int_eq(parc_gen_next(&s.gen, running_total, &v), 0);
    ck_assert_int_eq(v, -5);
    ck_assert_int_eq(parc_gen_send(&s.gen, running_total, (void *)(intptr_t)7, &v), 0);
    ck_assert_int_eq(v, 12);
    ck_assert_int_eq(parc_gen_close(&s.gen, running_total, &v), 0);
    ck_assert_int_eq(parc_gen_next(&s.gen, running_total, &v), EPIPE);
}
END_TEST

/* A body that catches GeneratorExit (cleans up), one that ignores it
 * (yields again), one that fails. */
typedef struct guarded {
    parc_gen_t gen;
    int cleaned, ignore, fail_at, step;
} guarded_t;

static int guarded(parc_gen_t *g, void *out)
{
    guarded_t *s = (guarded_t *)g;
    PARC_GEN_BEGIN(g);
    for (s->step = 0;; s->step++) {
        if (s->step == s->fail_at)
            PARC_GEN_RETURN(g, ENOSPC);
        PARC_GEN_YIELD_CATCH(g, *(int *)out = s->step);
        if (parc_gen_closing(g)) {
            s->cleaned++;
            if (s->ignore)
                PARC_GEN_YIELD_CATCH(g, *(int *)out = -1);
            PARC_GEN_RETURN(g, 0);
        }
    }
    PARC_GEN_END(g);
}

START_TEST(stackless_close_and_errors)
{
    int v;
    guarded_t a = { PARC_GEN_INIT, 0, 0, -1, 0 };
    ck_assert_int_eq(parc_gen_next(&a.gen, guarded, &v), 0);
    ck_assert_int_eq(parc_gen_close(&a.gen, guarded, &v), 0);
    ck_assert_int_eq(a.cleaned, 1);
    ck_assert_int_eq(parc_gen_next(&a.gen, guarded, &v), EPIPE);
    ck_assert_int_eq(parc_gen_close(&a.gen, guarded, &v), 0); /* again: no-op */
    ck_assert_int_eq(a.cleaned, 1);

    guarded_t b = { PARC_GEN_INIT, 0, 1, -1, 0 };
    ck_assert_int_eq(parc_gen_next(&b.gen, guarded, &v), 0);
    ck_assert_int_eq(parc_gen_close(&b.gen, guarded, &v), EPROTO);
    ck_assert_int_eq(parc_gen_next(&b.gen, guarded, &v), EPIPE);

    guarded_t c = { PARC_GEN_INIT, 0, 0, 2, 0 };
    ck_assert_int_eq(parc_gen_next(&c.gen, guarded, &v), 0);
    ck_assert_int_eq(parc_gen_next(&c.gen, guarded, &v), 0);
    ck_assert_int_eq(parc_gen_next(&c.gen, guarded, &v), ENOSPC); /* once */
    ck_assert_int_eq(parc_gen_next(&c.gen, guarded, &v), EPIPE);

    guarded_t d = { PARC_GEN_INIT, 0, 0, -1, 0 }; /* never started */
    ck_assert_int_eq(parc_gen_close(&d.gen, guarded, &v), 0);
    ck_assert_int_eq(d.cleaned, 0);
    ck_assert_int_eq(parc_gen_next(&d.gen, guarded, &v), EPIPE);

    /* A plain PARC_GEN_YIELD ends the body at a close. */
    scount_t e = { PARC_GEN_INIT, 0, 5 };
    intptr_t iv;
    ck_assert_int_eq(parc_gen_next(&e.gen, scount, &iv), 0);
    ck_assert_int_eq(parc_gen_close(&e.gen, scount, &iv), 0);
    ck_assert_int_eq(parc_gen_next(&e.gen, scount, &iv), EPIPE);

    ck_assert_int_eq(parc_gen_next(NULL, scount, &iv), EINVAL);
    ck_assert_int_eq(parc_gen_next(&e.gen, NULL, &iv), EINVAL);
    ck_assert_int_eq(parc_gen_close(NULL, scount, &iv), EINVAL);
}
END_TEST

/* A body that calls next on itself: "generator already executing". */
typedef struct selfish {
    parc_gen_t gen;
    int inner;
} selfish_t;

static int selfish(parc_gen_t *g, void *out)
{
    selfish_t *s = (selfish_t *)g;
    int v;
    PARC_GEN_BEGIN(g);
    s->inner = parc_gen_next(g, selfish, &v);
    PARC_GEN_YIELD(g, *(int *)out = s->inner);
    PARC_GEN_END(g);
}

START_TEST(stackless_recursion_is_busy)
{
    selfish_t s = { PARC_GEN_INIT, 0 };
    int v = 0;
    ck_assert_int_eq(parc_gen_next(&s.gen, selfish, &v), 0);
    ck_assert_int_eq(v, EBUSY);
    ck_assert_int_eq(parc_gen_next(&s.gen, selfish, &v), EPIPE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("generator");
    TCase *tc = tcase_create("protocol");
    tcase_add_test(tc, next_yields_values_then_stop_iteration);
    tcase_add_test(tc, send_delivers_into_the_pending_yield);
    tcase_add_test(tc, close_raises_generator_exit_in_the_body);
    tcase_add_test(tc, ignoring_generator_exit_is_reported);
    tcase_add_test(tc, body_error_is_reported_once);
    tcase_add_test(tc, misuse_is_reported);
    tcase_add_test(tc, generators_nest);
    suite_add_tcase(s, tc);
    TCase *sl = tcase_create("stackless");
    tcase_add_test(sl, stackless_next_yields_values_then_stop_iteration);
    tcase_add_test(sl, stackless_send_delivers_into_the_pending_yield);
    tcase_add_test(sl, stackless_close_and_errors);
    tcase_add_test(sl, stackless_recursion_is_busy);
    suite_add_tcase(s, sl);
    return parc_test_run(s);
}
