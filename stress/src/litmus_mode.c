/*
 * The --litmus mode of parc-stress: a small catalogue of classic litmus
 * tests over parc's atomic seam, then every test registered with
 * PARC_LITMUS. Each prints its histogram; a forbidden outcome FAILs.
 *
 * The actors use parc_raw_* (the same C11 operations without the chaos
 * point of a PARC_CHAOS build): a chaos point's yield or sleep between two
 * accesses would hide the reorderings the tests look for.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lincheck_modes.h"
#include "parc/atomic.h"
#include "parc/stress_litmus.h"
#include "parc/time.h"
#include "weak_modes.h" /* --weak --litmus */

/* Two shared words and up to four results. */
typedef struct lit_state {
    parc_atomic(int) x;
    parc_atomic(int) y;
    int r[4];
} lit_state_t;

static void lit_init(void *p)
{
    lit_state_t *s = p;
    parc_atomic_init(&s->x, 0);
    parc_atomic_init(&s->y, 0);
    s->r[0] = s->r[1] = s->r[2] = s->r[3] = 0;
}

static uint64_t two_results(const void *p)
{
    const lit_state_t *s = p;
    return (uint64_t)(s->r[0] * 2 + s->r[1]);
}

static uint64_t four_results(const void *p)
{
    const lit_state_t *s = p;
    return (uint64_t)(s->r[0] * 8 + s->r[1] * 4 + s->r[2] * 2 + s->r[3]);
}

static void describe_two(uint64_t o, char *buf, size_t size)
{
    snprintf(buf, size, "r0=%d r1=%d", (int)(o >> 1 & 1), (int)(o & 1));
}

static void describe_four(uint64_t o, char *buf, size_t size)
{
    snprintf(buf, size, "r0=%d r1=%d r2=%d r3=%d", (int)(o >> 3 & 1),
             (int)(o >> 2 & 1), (int)(o >> 1 & 1), (int)(o & 1));
}

/* ---- store buffering: x=1; r0=y || y=1; r1=x. (0,0) needs a store to
 * wait behind a later load. */
#define SB(order)                                                            \
    static void sb_##order##_0(void *p)                                      \
    {                                                                        \
        lit_state_t *s = p;                                                  \
        parc_raw_store(&s->x, 1, order);                                     \
        s->r[0] = parc_raw_load(&s->y, order);                               \
    }                                                                        \
    static void sb_##order##_1(void *p)                                      \
    {                                                                        \
        lit_state_t *s = p;                                                  \
        parc_raw_store(&s->y, 1, order);                                     \
        s->r[1] = parc_raw_load(&s->x, order);                               \
    }
SB(PARC_RELAXED)
SB(PARC_SEQ_CST) /* seq_cst: one total order over all four operations */

static parc_litmus_grade_t zero_zero_interesting(uint64_t o)
{
    return o == 0 ? PARC_LITMUS_INTERESTING : PARC_LITMUS_ACCEPTABLE;
}

static parc_litmus_grade_t zero_zero_forbidden(uint64_t o)
{
    return o == 0 ? PARC_LITMUS_FORBIDDEN : PARC_LITMUS_ACCEPTABLE;
}

/* ---- message passing: x=1; y=1 || r0=y; r1=x. (1,0) sees the flag
 * without the data. */
static void mp_ra_0(void *p)
{
    lit_state_t *s = p;
    parc_raw_store(&s->x, 1, PARC_RELAXED);
    parc_raw_store(&s->y, 1, PARC_RELEASE); /* publishes x */
}

static void mp_ra_1(void *p)
{
    lit_state_t *s = p;
    s->r[0] = parc_raw_load(&s->y, PARC_ACQUIRE); /* pairs with the release */
    s->r[1] = parc_raw_load(&s->x, PARC_RELAXED);
}

static void mp_rlx_0(void *p)
{
    lit_state_t *s = p;
    parc_raw_store(&s->x, 1, PARC_RELAXED);
    parc_raw_store(&s->y, 1, PARC_RELAXED);
}

static void mp_rlx_1(void *p)
{
    lit_state_t *s = p;
    s->r[0] = parc_raw_load(&s->y, PARC_RELAXED);
    s->r[1] = parc_raw_load(&s->x, PARC_RELAXED);
}

static parc_litmus_grade_t flag_without_data_forbidden(uint64_t o)
{
    return o == 2 ? PARC_LITMUS_FORBIDDEN : PARC_LITMUS_ACCEPTABLE;
}

static parc_litmus_grade_t flag_without_data_interesting(uint64_t o)
{
    return o == 2 ? PARC_LITMUS_INTERESTING : PARC_LITMUS_ACCEPTABLE;
}

/* ---- load buffering: r0=y; x=1 || r1=x; y=1. (1,1) needs a load to
 * read a store that comes after it in the other thread. */
static void lb_0(void *p)
{
    lit_state_t *s = p;
    s->r[0] = parc_raw_load(&s->y, PARC_RELAXED);
    parc_raw_store(&s->x, 1, PARC_RELAXED);
}

static void lb_1(void *p)
{
    lit_state_t *s = p;
    s->r[1] = parc_raw_load(&s->x, PARC_RELAXED);
    parc_raw_store(&s->y, 1, PARC_RELAXED);
}

static parc_litmus_grade_t one_one_interesting(uint64_t o)
{
    return o == 3 ? PARC_LITMUS_INTERESTING : PARC_LITMUS_ACCEPTABLE;
}

/* ---- independent reads of independent writes, seq_cst: x=1 || y=1 ||
 * r0=x; r1=y || r2=y; r3=x. (1,0,1,0): the readers disagree on the order
 * of the two writes, which seq_cst forbids. Four actors: a SKIP on fewer
 * than four CPUs. */
/* seq_cst throughout: the single total order is what is under test */
static void iriw_0(void *p)
{
    parc_raw_store(&((lit_state_t *)p)->x, 1, PARC_SEQ_CST);
}

static void iriw_1(void *p)
{
    parc_raw_store(&((lit_state_t *)p)->y, 1, PARC_SEQ_CST);
}

static void iriw_2(void *p)
{
    lit_state_t *s = p;
    s->r[0] = parc_raw_load(&s->x, PARC_SEQ_CST);
    s->r[1] = parc_raw_load(&s->y, PARC_SEQ_CST);
}

static void iriw_3(void *p)
{
    lit_state_t *s = p;
    s->r[2] = parc_raw_load(&s->y, PARC_SEQ_CST);
    s->r[3] = parc_raw_load(&s->x, PARC_SEQ_CST);
}

static parc_litmus_grade_t iriw_grade(uint64_t o)
{
    return o == 10 ? PARC_LITMUS_FORBIDDEN : PARC_LITMUS_ACCEPTABLE;
}

#define TWO(nm, a, b, g)                                                     \
    { .name = nm, .threads = 2, .state_size = sizeof(lit_state_t),           \
      .init = lit_init, .actor = { a, b }, .outcome = two_results,           \
      .grade = g, .describe = describe_two }

static const parc_litmus_t catalogue[] = {
    TWO("sb.relaxed", sb_PARC_RELAXED_0, sb_PARC_RELAXED_1, zero_zero_interesting),
    TWO("sb.seq_cst", sb_PARC_SEQ_CST_0, sb_PARC_SEQ_CST_1, zero_zero_forbidden),
    TWO("mp.release_acquire", mp_ra_0, mp_ra_1, flag_without_data_forbidden),
    TWO("mp.relaxed", mp_rlx_0, mp_rlx_1, flag_without_data_interesting),
    TWO("lb.relaxed", lb_0, lb_1, one_one_interesting),
    { .name = "iriw.seq_cst", .threads = 4, .state_size = sizeof(lit_state_t),
      .init = lit_init, .actor = { iriw_0, iriw_1, iriw_2, iriw_3 },
      .outcome = four_results, .grade = iriw_grade, .describe = describe_four },
};

static bool selected(const stress_options_t *opt, const parc_litmus_t *t)
{
    char key[160];
    snprintf(key, sizeof key, "litmus/%s", t->name ? t->name : "?");
    if (opt->filter == NULL)
        return true;
    return strpbrk(opt->filter, "*?[") ? fnmatch(opt->filter, key, 0) == 0
                                        : strstr(key, opt->filter) != NULL;
}

int stress_mode_litmus(const stress_options_t *opt, const char *arg)
{
    (void)arg;
    if (opt->weak)
        return stress_mode_litmus_weak(opt);
    const parc_litmus_t *const *user;
    size_t nuser = parc_litmus_registered(&user);
    size_t nbuilt = sizeof catalogue / sizeof catalogue[0];
    unsigned passed = 0, failed = 0, skipped = 0;
    parc_litmus_options_t lo = {
        .samples = opt->ops,
        .duration_ns = opt->seconds > 0 ? (int64_t)(opt->seconds * 1e9) : 0,
    };
    if (opt->list) {
        for (size_t i = 0; i < nbuilt + nuser; i++) {
            const parc_litmus_t *t = i < nbuilt ? &catalogue[i] : user[i - nbuilt];
            if (selected(opt, t))
                printf("litmus/%s\n", t->name ? t->name : "?");
        }
        return 0;
    }
    printf("parc-stress --litmus: %u cpus, up to %" PRIu64 " samples or %g s per test\n",
           parc_litmus_cpus(), lo.samples ? lo.samples : UINT64_C(2000000),
           opt->seconds);
    for (size_t i = 0; i < nbuilt + nuser; i++) {
        const parc_litmus_t *t = i < nbuilt ? &catalogue[i] : user[i - nbuilt];
        if (!selected(opt, t))
            continue;
        parc_litmus_result_t res;
        int rc = parc_litmus_run(t, &lo, &res);
        if (rc != 0 && rc != EOVERFLOW) {
            printf("litmus %s: could not run: %s\n", t->name ? t->name : "?",
                   strerror(rc));
            failed++;
            continue;
        }
        parc_litmus_print(stdout, t, &res);
        if (rc == EOVERFLOW) {
            printf("  FAIL: more than %d distinct outcomes (histogram truncated)\n",
                   PARC_LITMUS_MAX_OUTCOMES);
            res.verdict = PARC_LITMUS_FAIL;
        }
        fflush(stdout);
        if (res.verdict == PARC_LITMUS_PASS)
            passed++;
        else if (res.verdict == PARC_LITMUS_SKIP)
            skipped++;
        else
            failed++;
    }
    printf("\n%u passed, %u failed", passed, failed);
    if (skipped)
        printf(", %u skipped", skipped);
    printf("\n");
    return failed ? 1 : 0;
}
