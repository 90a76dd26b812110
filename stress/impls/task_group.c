/*
 * stress/impls/task_group.c — custom workloads for parc/task_group.h.
 *
 *   task_group.exactly_once  harness threads (outside the pool) each run a
 *                      group whose tasks spawn nested groups and more tasks
 *                      into their own group while the harness thread waits
 *                      on it; some rounds cancel the group at a random
 *                      moment, racing completion. Every task either ran
 *                      exactly once or was reported skipped (ran + skipped
 *                      = spawned, no task twice); an uncancelled round runs
 *                      all; wait says ECANCELED exactly when cancelled or
 *                      something was skipped.
 *   task_group.reduce  parallel_reduce of a sum from several outside
 *                      threads and from inside tasks: right totals.
 */
#include <stdint.h>
#include <stdlib.h>

#include "parc/stress.h"
#include "parc/task_group.h"

#ifndef PARC_SLOWDOWN
#define PARC_SLOWDOWN 1
#endif

/* ---- task_group.exactly_once ------------------------------------------------ */

#define EO_SLOTS (4096 / PARC_SLOWDOWN)

typedef struct eo_round {
    parc_atomic(uint8_t) runs[EO_SLOTS]; /* per task: times it ran */
    parc_atomic(uint32_t) next;          /* next free slot */
    parc_atomic(uint32_t) spawned;       /* tasks run() accepted */
    parc_atomic(uint32_t) nested_skipped;
    parc_task_group_t group;
} eo_round_t;

typedef struct eo_task {
    eo_round_t *r;
    struct eo_task *base; /* this round's argument array */
    uint32_t slot;
    int depth;
} eo_task_t;

static eo_task_t eo_args[4][EO_SLOTS];
static parc_pool_t *eo_pool;

static int eo_task(void *arg);

/* Spawn a task of depth d into g, if a slot is left. */
static void eo_spawn(eo_round_t *r, eo_task_t *args, parc_task_group_t *g, int d)
{
    uint32_t k = parc_faa(&r->next, 1u, PARC_RELAXED);
    if (k >= EO_SLOTS)
        return;
    args[k] = (eo_task_t){ r, args, k, d };
    /* odd slots: spawned by copy (the record's own argument), even: run */
    int rc = (k & 1u) != 0
                 ? PARC_TASK_GROUP_SPAWN(g, eo_task, eo_task_t, r, args, k, d)
                 : parc_task_group_run(g, eo_task, &args[k]);
    if (rc == 0)
        parc_faa(&r->spawned, 1u, PARC_RELAXED);
}

static int eo_task(void *arg)
{
    eo_task_t *t = arg;
    eo_round_t *r = t->r;
    eo_task_t *args = t->base;
    parc_faa(&r->runs[t->slot], 1u, PARC_RELAXED);
    if (t->depth == 0)
        return 0;
    /* more work into our own group, while its outside waiter waits */
    eo_spawn(r, args, &r->group, t->depth - 1);
    /* a nested group: 1-3 children waited here */
    parc_task_group_t inner = PARC_TASK_GROUP_INIT; /* bound at first spawn */
    int kids = 1 + (int)(t->slot % 3);
    for (int i = 0; i < kids; i++)
        eo_spawn(r, args, &inner, t->depth - 1);
    parc_task_group_wait(&inner);
    parc_faa(&r->nested_skipped, (uint32_t)parc_task_group_skipped(&inner),
             PARC_RELAXED);
    parc_task_group_finish(&inner); /* waited: destroys */
    return 0;
}

static eo_round_t *eo_rounds[4];

static void eo_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    (void)arg;
    eo_round_t *r = eo_rounds[index];
    while (parc_stress_step(ctx, index, "group")) {
        for (uint32_t i = 0; i < EO_SLOTS; i++)
            parc_store(&r->runs[i], 0u, PARC_RELAXED);
        parc_store(&r->next, 0u, PARC_RELAXED);
        parc_store(&r->spawned, 0u, PARC_RELAXED);
        parc_store(&r->nested_skipped, 0u, PARC_RELAXED);
        parc_task_group_init(&r->group, eo_pool);
        uint64_t rnd = parc_stress_random(ctx, index);
        bool cancel = rnd % 3 == 0;
        for (int i = 0; i < 4; i++)
            eo_spawn(r, eo_args[index], &r->group, 6);
        if (cancel) {
            for (uint64_t spin = (rnd >> 8) % 2000; spin > 0; spin--)
                parc_cpu_relax();
            parc_task_group_cancel(&r->group);
        }
        int rc = parc_task_group_wait(&r->group);
        uint64_t skipped = parc_task_group_skipped(&r->group)
                           + parc_load(&r->nested_skipped, PARC_RELAXED);
        if (parc_task_group_destroy(&r->group) != 0)
            parc_stress_fail(ctx, "destroy after wait: busy");
        uint32_t spawned = parc_load(&r->spawned, PARC_RELAXED);
        uint64_t ran = 0;
        uint32_t used = parc_load(&r->next, PARC_RELAXED);
        if (used > EO_SLOTS)
            used = EO_SLOTS;
        for (uint32_t i = 0; i < used; i++) {
            uint8_t n = parc_load(&r->runs[i], PARC_RELAXED);
            if (n > 1)
                parc_stress_fail(ctx, "task %u ran %u times", i, n);
            ran += n;
        }
        if (ran + skipped != spawned)
            parc_stress_fail(ctx, "ran %llu + skipped %llu != spawned %u (cancel %d)",
                             (unsigned long long)ran, (unsigned long long)skipped,
                             spawned, cancel);
        if (!cancel && (skipped != 0 || rc != 0))
            parc_stress_fail(ctx, "uncancelled round: rc %d, %llu skipped", rc,
                             (unsigned long long)skipped);
        if (cancel && rc != ECANCELED)
            parc_stress_fail(ctx, "cancelled round: wait said %d", rc);
        parc_stress_add_ops(ctx, spawned);
    }
}

static int eo_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    unsigned workers = 1 + (unsigned)(parc_stress_seed(ctx) % 3);
    int rc = parc_pool_create(workers, NULL, &eo_pool);
    if (rc != 0)
        return rc;
    unsigned threads = parc_stress_threads(ctx);
    for (unsigned i = 0; i < threads; i++)
        if ((eo_rounds[i] = calloc(1, sizeof *eo_rounds[i])) == NULL)
            rc = ENOMEM;
    if (rc == 0)
        rc = parc_stress_run_threads(ctx, threads, eo_thread, NULL);
    parc_pool_free(eo_pool);
    for (unsigned i = 0; i < threads; i++)
        free(eo_rounds[i]);
    return rc;
}

static const parc_stress_workload_t eo_workload = {
    .name = "task_group.exactly_once",
    .impl = "parc.task_group",
    .description = "outside waiters while tasks spawn into their group and nested groups, cancels racing completion: each task ran once or was reported skipped",
    .max_threads = 4,
    .run = eo_run,
};
PARC_STRESS_WORKLOAD(eo_workload)

/* ---- task_group.reduce ----------------------------------------------------- */

static parc_pool_t *rd_pool;

static int rd_body(void *arg, int64_t lo, int64_t hi, void *acc)
{
    (void)arg;
    int64_t *s = acc;
    for (int64_t i = lo; i < hi; i++)
        *s += i;
    return 0;
}

static void rd_join(void *arg, void *left, const void *right)
{
    (void)arg;
    *(int64_t *)left += *(const int64_t *)right;
}

static int rd_check(int64_t n)
{
    int64_t zero = 0, sum = -1;
    int rc = parc_pool_parallel_reduce(rd_pool, 0, n, 0, sizeof sum, &zero,
                                       rd_body, rd_join, NULL, &sum);
    return rc != 0 ? rc : sum == n * (n - 1) / 2 ? 0 : EDOM;
}

static int rd_inside(void *arg)
{
    return rd_check((int64_t)(intptr_t)arg);
}

static void rd_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    (void)arg;
    while (parc_stress_step(ctx, index, "reduce")) {
        int64_t n = (int64_t)(parc_stress_random(ctx, index) % 50000);
        int rc;
        if (n % 2 == 0) {
            rc = rd_check(n);
        } else {
            parc_task_group_t g;
            parc_task_group_init(&g, rd_pool);
            rc = parc_task_group_run(&g, rd_inside, (void *)(intptr_t)n);
            int w = parc_task_group_wait(&g);
            if (rc == 0)
                rc = w;
            parc_task_group_destroy(&g);
        }
        if (rc != 0) {
            parc_stress_fail(ctx, "parallel_reduce over %lld: %d", (long long)n, rc);
            return;
        }
    }
}

static int rd_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    unsigned workers = 1 + (unsigned)(parc_stress_seed(ctx) % 3);
    int rc = parc_pool_create(workers, NULL, &rd_pool);
    if (rc != 0)
        return rc;
    rc = parc_stress_run_threads(ctx, parc_stress_threads(ctx), rd_thread, NULL);
    parc_pool_free(rd_pool);
    return rc;
}

static const parc_stress_workload_t rd_workload = {
    .name = "task_group.reduce",
    .impl = "parc.task_group",
    .description = "parallel_reduce sums from outside threads and from inside tasks on 1-3 workers: right totals",
    .max_threads = 4,
    .run = rd_run,
};
PARC_STRESS_WORKLOAD(rd_workload)
