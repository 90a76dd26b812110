/*
 * litmus_sb.c — the store-buffering litmus test, run jcstress style.
 *
 *     x = y = 0
 *     thread 0: x = 1; r0 = y        thread 1: y = 1; r1 = x
 *
 * Can both threads read 0? Under sequential consistency no: whichever
 * store comes first in the single total order is seen by the other
 * thread's load. With relaxed atomics yes, even on x86: each store waits
 * in its core's store buffer while the load behind it reads the old value
 * from cache (x86-TSO allows exactly this reordering; Sewell et al., CACM
 * 2010). seq_cst stores (XCHG on x86) drain the buffer first.
 *
 * The harness (parc/stress_litmus.h) runs both actors in lockstep over
 * arrays of fresh states and prints the histogram: with relaxed atomics
 * (0, 0) is "interesting" and usually shows up; with seq_cst it is
 * "forbidden", and seeing it once fails the run.
 */
#include <stdio.h>
#include <stdlib.h>

#include <parc/parc.h>
#include <parc/stress_litmus.h>

typedef struct sb_state {
    parc_atomic(int) x;
    parc_atomic(int) y;
    int r0; /* written by thread 0 only, read after the round */
    int r1; /* written by thread 1 only */
} sb_state_t;

/* The actors use parc_raw_store/parc_raw_load: the same C11 operations as
 * parc_store/parc_load but without the chaos point that a PARC_CHAOS build
 * puts in front of every parc atomic. A chaos point may yield or sleep
 * between the store and the load, draining the store buffer and spreading
 * the two threads apart: it would hide the very effect measured here. */

static void sb_init(void *p)
{
    sb_state_t *s = p;
    parc_atomic_init(&s->x, 0);
    parc_atomic_init(&s->y, 0);
    s->r0 = s->r1 = -1;
}

/* relaxed: no ordering at all between each thread's store and load */
static void relaxed_t0(void *p)
{
    sb_state_t *s = p;
    parc_raw_store(&s->x, 1, PARC_RELAXED);
    s->r0 = parc_raw_load(&s->y, PARC_RELAXED);
}

static void relaxed_t1(void *p)
{
    sb_state_t *s = p;
    parc_raw_store(&s->y, 1, PARC_RELAXED);
    s->r1 = parc_raw_load(&s->x, PARC_RELAXED);
}

/* seq_cst: all four operations sit in one total order, so at least one
 * load comes after the other thread's store (acquire/release would not
 * do: they never order a store before a later load). */
static void seq_cst_t0(void *p)
{
    sb_state_t *s = p;
    parc_raw_store(&s->x, 1, PARC_SEQ_CST);    /* in the total order ... */
    s->r0 = parc_raw_load(&s->y, PARC_SEQ_CST); /* ... before this load */
}

static void seq_cst_t1(void *p)
{
    sb_state_t *s = p;
    parc_raw_store(&s->y, 1, PARC_SEQ_CST);    /* in the total order ... */
    s->r1 = parc_raw_load(&s->x, PARC_SEQ_CST); /* ... before this load */
}

static uint64_t sb_outcome(const void *p)
{
    const sb_state_t *s = p;
    return (uint64_t)(s->r0 * 2 + s->r1);
}

static void sb_describe(uint64_t outcome, char *buf, size_t size)
{
    snprintf(buf, size, "r0=%d r1=%d", (int)(outcome / 2), (int)(outcome % 2));
}

static parc_litmus_grade_t relaxed_grade(uint64_t outcome)
{
    return outcome == 0 ? PARC_LITMUS_INTERESTING : PARC_LITMUS_ACCEPTABLE;
}

static parc_litmus_grade_t seq_cst_grade(uint64_t outcome)
{
    return outcome == 0 ? PARC_LITMUS_FORBIDDEN : PARC_LITMUS_ACCEPTABLE;
}

int main(void)
{
    const parc_litmus_t tests[] = {
        { .name = "store-buffering, relaxed", .threads = 2,
          .state_size = sizeof(sb_state_t), .init = sb_init,
          .actor = { relaxed_t0, relaxed_t1 }, .outcome = sb_outcome,
          .grade = relaxed_grade, .describe = sb_describe },
        { .name = "store-buffering, seq_cst", .threads = 2,
          .state_size = sizeof(sb_state_t), .init = sb_init,
          .actor = { seq_cst_t0, seq_cst_t1 }, .outcome = sb_outcome,
          .grade = seq_cst_grade, .describe = sb_describe },
    };
    /* up to 5 million samples or 1 s per test, whichever comes first
     * (sanitizer builds run slower and stop on time) */
    const parc_litmus_options_t opt = { .samples = 5000000,
                                        .duration_ns = PARC_NS_PER_S };
    int failed = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        parc_litmus_result_t res;
        int rc = parc_litmus_run(&tests[i], &opt, &res);
        if (rc != 0) {
            fprintf(stderr, "litmus %s: %s\n", tests[i].name, parc_strerror(rc));
            return EXIT_FAILURE;
        }
        parc_litmus_print(stdout, &tests[i], &res);
        if (i == 0 && res.interesting == 0)
            printf("  (0, 0) not seen this time: the cores never overlapped "
                   "closely enough, or a sanitizer serialized them\n");
        failed |= res.verdict == PARC_LITMUS_FAIL;
    }
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
