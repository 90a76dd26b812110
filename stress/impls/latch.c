/*
 * Stress workload for parc's latch (parc/latch.h).
 *
 *   latch.countdown  rounds; in each, half the threads (a different half
 *                    every round) mark their slot and count down, the
 *                    rest wait (plain, timed or polling with the _try
 *                    form) and then check every counter's mark: a waiter
 *                    that returns before the last count_down, or does not
 *                    see a counter's write, fails; so does a timed wait
 *                    that times out (every count_down of the round comes).
 *                    Two latches alternate; rounds are separated by a
 *                    parc barrier.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>

#include "parc/barrier.h"
#include "parc/latch.h"
#include "parc/stress.h"

#define NOT_YET UINT64_MAX

typedef struct latches {
    parc_barrier_t rounds;
    parc_latch_t latch[2];
    unsigned threads, counters;
    uint64_t *mark;              /* per thread: round + 1 once counted
                                  * (plain; published by count_down) */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) stop_after;
} latches_t;

static bool counts_in(const latches_t *l, unsigned index, uint64_t round)
{
    return (index + round) % l->threads < l->counters;
}

static int wait_some_way(parc_stress_ctx_t *ctx, unsigned index, parc_latch_t *latch)
{
    switch (parc_stress_random(ctx, index) % 3) {
    case 0:
        return parc_latch_wait(latch);
    case 1:
        return parc_latch_wait_timed(latch, parc_stress_patience_ns(ctx));
    default: {
        int64_t until = parc_now_ns() + parc_stress_patience_ns(ctx);
        int rc;
        while ((rc = parc_latch_wait_try(latch)) == EAGAIN && parc_now_ns() < until)
            sched_yield();
        return rc == EAGAIN ? ETIMEDOUT : rc;
    }
    }
}

static void latch_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    latches_t *l = arg;
    for (uint64_t round = 0;; round++) {
        parc_stress_progress(ctx, index, "latch round");
        parc_latch_t *latch = &l->latch[round & 1];
        if (counts_in(l, index, round)) {
            l->mark[index] = round + 1;
            parc_latch_count_down(latch);
        }
        int rc = wait_some_way(ctx, index, latch);
        if (rc != 0) {
            parc_stress_fail(ctx, "round %" PRIu64 ": latch wait returned %d "
                                  "(count %u)", round, rc, parc_latch_count(latch));
        } else {
            for (unsigned i = 0; i < l->threads; i++)
                if (counts_in(l, i, round) && l->mark[i] != round + 1) {
                    parc_stress_fail(ctx, "round %" PRIu64 ": a waiter returned "
                                          "without counter %u's write", round, i);
                    break;
                }
        }
        unsigned arrival;
        rc = parc_barrier_wait_timed(&l->rounds, &arrival, parc_stress_patience_ns(ctx));
        if (rc != 0) {
            if (!parc_stress_stopping(ctx))
                parc_stress_fail(ctx, "round barrier returned %d", rc);
            parc_barrier_abort(&l->rounds);
            return;
        }
        if (arrival == l->threads - 1) {
            /* The checker: everybody is past this round's latch; it is
             * next used in round + 2, after we arrive again. */
            if (parc_latch_count(latch) != 0)
                parc_stress_fail(ctx, "round %" PRIu64 ": latch count %u at the end",
                                 round, parc_latch_count(latch));
            parc_latch_init(latch, l->counters);
            parc_stress_add_ops(ctx, l->threads);
            /* decide once: a later checker must not move the decision */
            if (!parc_stress_step(ctx, index, "check round") &&
                parc_raw_load(&l->stop_after, PARC_RELAXED) == NOT_YET)
                parc_raw_store(&l->stop_after, round + 1, PARC_RELAXED);
        }
        if (parc_raw_load(&l->stop_after, PARC_RELAXED) == round)
            return;
    }
}

static int latch_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    latches_t *l = aligned_alloc(PARC_CACHELINE,
        (sizeof(latches_t) + PARC_CACHELINE - 1) / PARC_CACHELINE * PARC_CACHELINE);
    if (l == NULL)
        return ENOMEM;
    l->threads = parc_stress_threads(ctx);
    l->counters = l->threads / 2;
    l->mark = calloc(l->threads, sizeof *l->mark);
    if (l->mark == NULL) {
        free(l);
        return ENOMEM;
    }
    parc_barrier_init(&l->rounds, l->threads);
    parc_latch_init(&l->latch[0], l->counters);
    parc_latch_init(&l->latch[1], l->counters);
    parc_atomic_init(&l->stop_after, NOT_YET);
    int err = parc_stress_run_threads(ctx, l->threads, latch_thread, l);
    free(l->mark);
    free(l);
    return err;
}

static const parc_stress_workload_t latch_workload = {
    .name = "latch.countdown",
    .impl = "parc.latch",
    .description = "half count down, all wait: nobody early, nobody left asleep",
    .min_threads = 2,
    .run = latch_run,
};
PARC_STRESS_WORKLOAD(latch_workload)
