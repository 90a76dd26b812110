/*
 * Stress workload for parc's cyclic barrier (parc/barrier.h).
 *
 *   barrier.generations  all threads are the parties. In every generation
 *                        each writes the generation number into its own
 *                        slot (a plain write), waits (plain or timed, at
 *                        random), then reads every slot: a party that left
 *                        early or a slot still stale fails. The arrival
 *                        indices of a generation must be exactly
 *                        0..parties-1 (their sum and sum of squares) with
 *                        exactly one "last"; a second wait keeps the next
 *                        generation's writes away from the readers. Any
 *                        wait that does not return 0 fails (nothing
 *                        aborts or times out in a healthy run).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "parc/barrier.h"
#include "parc/stress.h"
#include "parc/time.h"

#define NOT_YET UINT64_MAX

typedef struct gens {
    parc_barrier_t b;
    unsigned parties;
    uint64_t *seen;                  /* per party: its generation (plain;
                                      * ordered by the barrier) */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) sum[2];   /* of arrival indices */
    parc_atomic(uint64_t) squares[2];                  /* of their squares */
    parc_atomic(uint64_t) lasts[2];                    /* "arrived last" */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) stop_after; /* last generation */
} gens_t;

static int barrier_wait_some_way(parc_stress_ctx_t *ctx, unsigned index,
                                 gens_t *g, unsigned *arrival)
{
    if (parc_stress_random(ctx, index) & 1)
        return parc_barrier_wait(&g->b, arrival);
    return parc_barrier_wait_timed(&g->b, arrival, parc_stress_patience_ns(ctx));
}

/* A wait failed: report it (unless we are already failing, in which case
 * the EPIPE is our own abort coming back) and break the barrier so that
 * every other party returns too. */
static void give_up(parc_stress_ctx_t *ctx, gens_t *g, const char *what, int rc,
                    uint64_t gen)
{
    if (!(rc == EPIPE && parc_stress_stopping(ctx)))
        parc_stress_fail(ctx, "%s returned %d in generation %" PRIu64, what, rc, gen);
    parc_barrier_abort(&g->b);
}

static void generations_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    gens_t *g = arg;
    uint64_t p = g->parties;
    for (uint64_t gen = 0;; gen++) {
        parc_stress_progress(ctx, index, "generation");
        g->seen[index] = gen;
        unsigned arrival = UINT32_MAX;
        int rc = barrier_wait_some_way(ctx, index, g, &arrival);
        if (rc != 0) {
            give_up(ctx, g, "first wait", rc, gen);
            return;
        }
        for (unsigned i = 0; i < g->parties; i++)
            if (g->seen[i] != gen) {
                parc_stress_fail(ctx, "generation %" PRIu64 ": party %u saw party "
                                      "%u in generation %" PRIu64,
                                 gen, index, i, g->seen[i]);
                parc_barrier_abort(&g->b);
                return;
            }
        parc_raw_faa(&g->sum[gen & 1], arrival, PARC_RELAXED);
        parc_raw_faa(&g->squares[gen & 1], (uint64_t)arrival * arrival, PARC_RELAXED);
        if (arrival == g->parties - 1)
            parc_raw_faa(&g->lasts[gen & 1], 1u, PARC_RELAXED);
        unsigned second = UINT32_MAX;
        rc = barrier_wait_some_way(ctx, index, g, &second);
        if (rc != 0) {
            give_up(ctx, g, "second wait", rc, gen);
            return;
        }
        if (second == g->parties - 1) {
            /* The checker of this generation: every party has added its
             * index (before the second wait); the counters for gen & 1 are
             * next touched in generation gen + 2, after we arrive again. */
            uint64_t sum = parc_raw_load(&g->sum[gen & 1], PARC_RELAXED);
            uint64_t squares = parc_raw_load(&g->squares[gen & 1], PARC_RELAXED);
            uint64_t lasts = parc_raw_load(&g->lasts[gen & 1], PARC_RELAXED);
            if (sum != p * (p - 1) / 2 || squares != (p - 1) * p * (2 * p - 1) / 6 ||
                lasts != 1) {
                parc_stress_fail(ctx, "generation %" PRIu64 ": arrival indices sum "
                                      "%" PRIu64 " (squares %" PRIu64 "), %" PRIu64
                                      " parties told they were last; expected 0..%u "
                                      "once each and one last",
                                 gen, sum, squares, lasts, g->parties - 1);
                parc_barrier_abort(&g->b);
                return;
            }
            parc_raw_store(&g->sum[gen & 1], 0u, PARC_RELAXED);
            parc_raw_store(&g->squares[gen & 1], 0u, PARC_RELAXED);
            parc_raw_store(&g->lasts[gen & 1], 0u, PARC_RELAXED);
            parc_stress_add_ops(ctx, 2 * p);
            /* One thread decides when to stop, once, for a generation
             * that has not started yet: every party reads the decision
             * after the waits of generation gen + 1 have published it. A
             * later checker must not move it (some may have read it). */
            if (!parc_stress_step(ctx, index, "check generation") &&
                parc_raw_load(&g->stop_after, PARC_RELAXED) == NOT_YET)
                parc_raw_store(&g->stop_after, gen + 1, PARC_RELAXED);
        }
        if (parc_raw_load(&g->stop_after, PARC_RELAXED) == gen)
            return;
    }
}

static int generations_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    gens_t *g = aligned_alloc(PARC_CACHELINE,
        (sizeof(gens_t) + PARC_CACHELINE - 1) / PARC_CACHELINE * PARC_CACHELINE);
    if (g == NULL)
        return ENOMEM;
    g->parties = parc_stress_threads(ctx);
    g->seen = calloc(g->parties, sizeof *g->seen);
    if (g->seen == NULL) {
        free(g);
        return ENOMEM;
    }
    parc_barrier_init(&g->b, g->parties);
    for (int i = 0; i < 2; i++) {
        parc_atomic_init(&g->sum[i], 0u);
        parc_atomic_init(&g->squares[i], 0u);
        parc_atomic_init(&g->lasts[i], 0u);
    }
    parc_atomic_init(&g->stop_after, NOT_YET);
    int err = parc_stress_run_threads(ctx, g->parties, generations_thread, g);
    if (err == 0 && parc_barrier_broken(&g->b)) /* aborted on a failure */
        parc_stress_fail(ctx, "the barrier ended broken");
    free(g->seen);
    free(g);
    return err;
}

static const parc_stress_workload_t generations_workload = {
    .name = "barrier.generations",
    .impl = "parc.barrier",
    .description = "every party sees every generation; indices 0..N-1, one last",
    .min_threads = 2,
    .run = generations_run,
};
PARC_STRESS_WORKLOAD(generations_workload)
