/* pool_submit's workload: empty fire-and-forget tasks from one outside
 * thread to a pool of 2 workers, until all have run (each bumps its
 * worker's padded counter; the submitter polls their sum, sleeping).
 * One op: one task. Arguments: tasks per rep, reps. */
#define _GNU_SOURCE
#include "common.h"
#include "parc/pool.h"

static parc_pool_t *pool;
static struct {
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) done;
} counter[2];

static int task(void *arg, void **result)
{
    (void)result;
    int w = parc_pool_current_worker(arg);
    parc_faa(&counter[w].done, 1u, PARC_RELAXED); /* a count only */
    return 0;
}

static uint64_t done(void)
{
    return parc_load(&counter[0].done, PARC_RELAXED) +
           parc_load(&counter[1].done, PARC_RELAXED);
}

static int rep(long ops)
{
    uint64_t want = done() + (uint64_t)ops;
    for (long i = 0; i < ops; i++)
        if (parc_pool_submit(pool, task, pool, NULL) != 0)
            return 1;
    while (done() < want) {
        struct timespec ts = { 0, 20000 };
        nanosleep(&ts, NULL);
    }
    return 0;
}

int main(int argc, char **argv)
{
    long ops = argc > 1 ? atol(argv[1]) : 300000;
    if (parc_pool_create(2, NULL, &pool) != 0)
        return 1;
    return run_reps(ops, argc > 2 ? atoi(argv[2]) : 5, rep);
}
