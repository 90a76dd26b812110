/*
 * stress/impls/pool_block.c — parc_pool_block_begin/end under churn.
 *
 *   pool.block   rounds on a pool of 1..3 workers with a cap of 2..7
 *                compensators: tasks that block briefly inside (sometimes
 *                nested) begin/end pairs and spawn children from inside
 *                the block (where a compensator may run them), beside a
 *                gather of workers + cap tasks that each wait until all
 *                have started (completes only if every one of them got a
 *                thread: the cap is exactly enough). The round ends with
 *                close + join (every task ran exactly once, the gather
 *                completed) or terminate (each ran at most once); after
 *                the join no compensator is alive.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "parc/pool.h"
#include "parc/stress.h"
#include "parc/time.h"

#ifndef PARC_SLOWDOWN
#define PARC_SLOWDOWN 1
#endif

#define BLOCK_TASKS (400 / PARC_SLOWDOWN + 20)

typedef struct block_round {
    parc_stress_ctx_t *ctx;
    parc_pool_t *pool;
    parc_atomic(uint8_t) *runs;      /* per slot: times it ran */
    parc_atomic(uint8_t) *submitted; /* per slot: its submit succeeded */
    struct block_arg *args;          /* per slot (a terminate drops tasks unrun:
                                        their arguments are not theirs to free) */
    size_t ntasks;                   /* slots [0, n) tasks, [n, 2n) children */
    /* the gather */
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int started, size, stalled;
    int64_t deadline;
} block_round_t;

typedef struct block_arg {
    block_round_t *r;
    size_t slot;
    uint32_t rnd;
} block_arg_t;

static int block_child(void *arg, void **result)
{
    (void)result;
    block_arg_t *a = arg;
    parc_faa(&a->r->runs[a->slot], 1, PARC_RELAXED);
    return 0;
}

static int block_task(void *arg, void **result)
{
    (void)result;
    block_arg_t *a = arg;
    block_round_t *r = a->r;
    parc_faa(&r->runs[a->slot], 1, PARC_RELAXED);
    uint32_t x = a->rnd;
    bool blocks = (x & 1u) != 0, nested = (x & 6u) == 0, spawn = (x & 24u) == 0;
    if (blocks && parc_pool_block_begin() != 0)
        parc_stress_fail(r->ctx, "block_begin on a pool thread failed");
    if (blocks && nested)
        (void)parc_pool_block_begin();
    if (spawn) {
        block_arg_t *c = &r->args[a->slot + r->ntasks];
        *c = (block_arg_t){ r, a->slot + r->ntasks, 0 };
        /* EPIPE: closed, and we are a compensator (the outside path) */
        int rc = parc_pool_submit(r->pool, block_child, c, NULL);
        if (rc == 0)
            parc_store(&r->submitted[c->slot], 1, PARC_RELAXED);
        else if (rc != EPIPE)
            parc_stress_fail(r->ctx, "submit from a pool thread: %d", rc);
    }
    parc_sleep_ns((int64_t)((x >> 8) % 100u) * PARC_NS_PER_US);
    if (blocks && nested && parc_pool_block_end() != 0)
        parc_stress_fail(r->ctx, "nested block_end failed");
    if (blocks && parc_pool_block_end() != 0)
        parc_stress_fail(r->ctx, "block_end failed");
    return 0;
}

static int gather_task(void *arg, void **result)
{
    (void)result;
    block_round_t *r = arg;
    (void)parc_pool_block_begin();
    pthread_mutex_lock(&r->lock);
    r->started++;
    pthread_cond_broadcast(&r->cv);
    while (r->started < r->size && !r->stalled) {
        if (parc_now_ns() > r->deadline) {
            r->stalled = 1;
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 5 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&r->cv, &r->lock, &ts);
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->lock);
    (void)parc_pool_block_end();
    return 0;
}

/* The main thread's own generator (xorshift64, seeded from the run). */
static uint64_t block_random(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static int block_run(parc_stress_ctx_t *ctx, void *arg)
{
    uint64_t seed = parc_stress_seed(ctx) | 1u;
    (void)arg;
    size_t n = BLOCK_TASKS;
    block_round_t r;
    r.ctx = ctx;
    r.ntasks = n;
    r.runs = calloc(2 * n, sizeof *r.runs);
    r.submitted = calloc(2 * n, sizeof *r.submitted);
    r.args = calloc(2 * n, sizeof *r.args);
    if (r.runs == NULL || r.submitted == NULL || r.args == NULL) {
        free((void *)r.runs);
        free((void *)r.submitted);
        free(r.args);
        return ENOMEM;
    }
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.cv, NULL);
    do {
        uint64_t rnd = block_random(&seed);
        unsigned workers = 1u + (unsigned)(rnd % 3u);
        unsigned cap = 2u + (unsigned)((rnd >> 8) % 6u);
        bool terminate = ((rnd >> 16) & 3u) == 0;
        parc_pool_t *p;
        int rc = parc_pool_create(workers, NULL, &p);
        if (rc != 0)
            break;
        parc_pool_set_block_cap(p, cap);
        r.pool = p;
        for (size_t i = 0; i < 2 * n; i++) {
            parc_store(&r.runs[i], 0, PARC_RELAXED);
            parc_store(&r.submitted[i], 0, PARC_RELAXED);
        }
        r.started = r.stalled = 0;
        r.size = terminate ? 0 : (int)(workers + cap);
        r.deadline = parc_now_ns() + parc_stress_patience_ns(ctx);
        size_t gather_at = (size_t)((rnd >> 24) % n);
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (i == gather_at)
                for (int g = 0; g < r.size && rc == 0; g++)
                    rc = parc_pool_submit(p, gather_task, &r, NULL);
            block_arg_t *a = &r.args[i];
            *a = (block_arg_t){ &r, i, (uint32_t)block_random(&seed) };
            rc = parc_pool_submit(p, block_task, a, NULL);
            if (rc == 0)
                parc_store(&r.submitted[i], 1, PARC_RELAXED);
        }
        if (rc != 0)
            parc_stress_fail(ctx, "submit from outside: %d", rc);
        parc_pool_shutdown(p, true, terminate);
        if (parc_pool_compensators(p) != 0)
            parc_stress_fail(ctx, "%u compensators alive after the join",
                             parc_pool_compensators(p));
        /* the join orders every task's writes before these reads */
        for (size_t i = 0; i < 2 * n; i++) {
            unsigned ran = parc_load(&r.runs[i], PARC_RELAXED);
            unsigned sub = parc_load(&r.submitted[i], PARC_RELAXED);
            if (ran > sub || (!terminate && ran != sub))
                parc_stress_fail(ctx, "slot %zu: submitted %u, ran %u (%s)", i, sub,
                                 ran, terminate ? "terminate" : "close");
        }
        if (!terminate && (r.stalled || r.started != r.size))
            parc_stress_fail(ctx, "gather of %d on %u workers, cap %u: %d started%s",
                             r.size, workers, cap, r.started,
                             r.stalled ? ", stalled" : "");
        parc_pool_free(p);
        parc_stress_add_ops(ctx, n);
        parc_stress_progress(ctx, 0, "block round");
    } while (!parc_stress_stopping(ctx));
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.lock);
    free((void *)r.runs);
    free((void *)r.submitted);
    free(r.args);
    return 0;
}

static const parc_stress_workload_t block_workload = {
    .name = "pool.block",
    .impl = "parc.pool",
    .description = "block_begin/end with brief blocks, nesting, spawns from compensators and a gather needing exactly the cap; close: all ran once, gather done; terminate: at most once; no compensator after join",
    .run = block_run,
};
PARC_STRESS_WORKLOAD(block_workload)
