/*
 * Stress workload for parc's once (parc/once.h).
 *
 *   once.exactly_once  rounds; in each, every thread calls parc_once_call()
 *                      on the round's once object, whose initialiser counts
 *                      its runs and writes its result in two steps with
 *                      yields between. Every caller must return 0 and see
 *                      the finished result (none may return while the
 *                      initialiser runs); the round's checker verifies
 *                      exactly one run. Two once objects alternate; rounds
 *                      are separated by a parc barrier (itself stressed
 *                      by barrier.generations).
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>

#include "parc/barrier.h"
#include "parc/once.h"
#include "parc/stress.h"

#define NOT_YET UINT64_MAX

typedef struct slot {
    parc_once_t once;
    uint64_t round;               /* set before the round starts */
    uint64_t result;              /* plain: written by the initialiser */
    parc_atomic(unsigned) runs;
} slot_t;

typedef struct onces {
    parc_barrier_t rounds;
    slot_t slot[2];
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) stop_after;
} onces_t;

static uint64_t expected(uint64_t round) { return round * 2 + 1; }

static void initialise(void *arg)
{
    slot_t *s = arg;
    parc_raw_faa(&s->runs, 1u, PARC_RELAXED);
    s->result = 1; /* half done: a caller that sees this returned early */
    for (int i = 0; i < 3; i++)
        sched_yield();
    s->result = expected(s->round);
}

static void slot_reset(slot_t *s, uint64_t round)
{
    parc_once_init(&s->once);
    s->round = round;
    s->result = 0;
    parc_atomic_init(&s->runs, 0u);
}

static void once_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    onces_t *o = arg;
    for (uint64_t round = 0;; round++) {
        parc_stress_progress(ctx, index, "once_call");
        slot_t *s = &o->slot[round & 1];
        int rc = parc_once_call(&s->once, initialise, s);
        if (rc != 0)
            parc_stress_fail(ctx, "parc_once_call returned %d in round %" PRIu64, rc, round);
        else if (s->result != expected(round))
            parc_stress_fail(ctx, "round %" PRIu64 ": parc_once_call returned before "
                                  "the initialiser finished (result %" PRIu64 ")",
                             round, s->result);
        unsigned arrival;
        rc = parc_barrier_wait_timed(&o->rounds, &arrival, parc_stress_patience_ns(ctx));
        if (rc != 0) {
            if (!parc_stress_stopping(ctx))
                parc_stress_fail(ctx, "round barrier returned %d", rc);
            parc_barrier_abort(&o->rounds);
            return;
        }
        if (arrival == parc_barrier_parties(&o->rounds) - 1) {
            /* The checker: everybody is past this round's once; its slot
             * is next used in round + 2, after we arrive again. */
            unsigned runs = parc_raw_load(&s->runs, PARC_RELAXED);
            if (runs != 1)
                parc_stress_fail(ctx, "round %" PRIu64 ": the initialiser ran %u times",
                                 round, runs);
            slot_reset(s, round + 2);
            parc_stress_add_ops(ctx, parc_barrier_parties(&o->rounds));
            /* decide once: a later checker must not move the decision */
            if ((!parc_stress_step(ctx, index, "check round") || runs != 1) &&
                parc_raw_load(&o->stop_after, PARC_RELAXED) == NOT_YET)
                parc_raw_store(&o->stop_after, round + 1, PARC_RELAXED);
        }
        if (parc_raw_load(&o->stop_after, PARC_RELAXED) == round)
            return;
    }
}

static int once_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    onces_t *o = aligned_alloc(PARC_CACHELINE,
        (sizeof(onces_t) + PARC_CACHELINE - 1) / PARC_CACHELINE * PARC_CACHELINE);
    if (o == NULL)
        return ENOMEM;
    unsigned threads = parc_stress_threads(ctx);
    parc_barrier_init(&o->rounds, threads);
    slot_reset(&o->slot[0], 0);
    slot_reset(&o->slot[1], 1);
    parc_atomic_init(&o->stop_after, NOT_YET);
    int err = parc_stress_run_threads(ctx, threads, once_thread, o);
    free(o);
    return err;
}

static const parc_stress_workload_t once_workload = {
    .name = "once.exactly_once",
    .impl = "parc.once",
    .description = "all threads race one initialiser per round: runs once, nobody early",
    .min_threads = 2,
    .run = once_run,
};
PARC_STRESS_WORKLOAD(once_workload)
