/*
 * parc/task_group.h: parc_pool_parallel_reduce and the adaptive
 * partitioner behind it (Rayon's adaptive splitter, oneTBB's
 * auto_partitioner, described in their documentation; the idea is
 * Cilk's lazy binary splitting).
 *
 * A range [lo, hi) with a split budget `splits` either runs whole (the
 * budget is spent or the range is at most `grain` long) or halves: the
 * right half becomes a task of a one-task group, the left half continues
 * on this thread with half the budget, and the two accumulators are
 * joined (left op right) after the wait. The first budget is 4 x the
 * workers, so a range that nobody steals is cut into about that many
 * pieces, enough for balance and few enough to pay nothing for the rest.
 * A right half that runs on another thread than the one that split it was
 * stolen: a thread had nothing to do, so the budget it carries is raised
 * to at least the number of workers again (more, finer pieces where the
 * load is uneven), as Rayon does.
 *
 * Rejected: a fixed chunk count (parallel_for's static chunks): unbalanced
 * bodies leave workers idle at the end; a per-element task: overhead.
 */
#include <stdlib.h>
#include <string.h>

#include "parc/task_group.h"

typedef struct reduce_job {
    parc_pool_t *pool;
    int64_t grain;
    unsigned workers;
    size_t value_size;
    const void *identity;
    parc_pool_reduce_body_fn body;
    parc_pool_reduce_join_fn join;
    void *arg;
} reduce_job_t;

typedef struct range_task {
    const reduce_job_t *job;
    int64_t lo, hi;
    void *acc;
    unsigned splits;
    const void *splitter; /* the thread that made it (see stolen) */
} range_task_t;

/* A distinct address per thread: tells a stolen half from one its own
 * splitter took back. */
static _Thread_local char thread_token;

/* Accumulators up to this size live on the splitting thread's stack. */
#define LOCAL_VALUE 64u

static int split_or_run(const reduce_job_t *j, int64_t lo, int64_t hi,
                        void *acc, unsigned splits);

static int range_run(void *arg)
{
    range_task_t *r = arg;
    unsigned splits = r->splits;
    if (r->splitter != (const void *)&thread_token && splits < r->job->workers)
        splits = r->job->workers; /* stolen: split again, finer */
    return split_or_run(r->job, r->lo, r->hi, r->acc, splits);
}

static int split_or_run(const reduce_job_t *j, int64_t lo, int64_t hi,
                        void *acc, unsigned splits)
{
    if (hi - lo <= j->grain || splits == 0)
        return j->body(j->arg, lo, hi, acc);
    splits /= 2;
    int64_t mid = lo + (hi - lo) / 2;
    unsigned char local[LOCAL_VALUE];
    void *right = local;
    if (j->value_size > LOCAL_VALUE && (right = malloc(j->value_size)) == NULL)
        return ENOMEM;
    if (j->value_size > 0)
        memcpy(right, j->identity, j->value_size);
    range_task_t r = { j, mid, hi, right, splits, &thread_token };
    parc_task_group_t g;
    int rc = parc_task_group_init(&g, j->pool);
    int rc_right = rc == 0 ? parc_task_group_run(&g, range_run, &r) : rc;
    if (rc_right != 0) /* not spawned (closed pool, no memory): do it here */
        rc_right = split_or_run(j, mid, hi, right, splits);
    int rc_left = split_or_run(j, lo, mid, acc, splits);
    if (rc_left != 0)
        parc_task_group_cancel(&g); /* the right half need not start */
    if (rc == 0) {
        int w = parc_task_group_wait(&g);
        if (rc_right == 0)
            rc_right = w;
        parc_task_group_destroy(&g);
    }
    if (rc_left == 0 && rc_right == 0 && j->join != NULL)
        j->join(j->arg, acc, right);
    if (right != local)
        free(right);
    return rc_left != 0 ? rc_left : rc_right;
}

int parc_pool_parallel_reduce(parc_pool_t *p, int64_t begin, int64_t end,
                              int64_t grain, size_t value_size,
                              const void *identity, parc_pool_reduce_body_fn body,
                              parc_pool_reduce_join_fn join, void *arg,
                              void *result)
{
    if (p == NULL || body == NULL || begin > end || grain < 0
        || (value_size > 0 && (identity == NULL || result == NULL || join == NULL)))
        return EINVAL;
    unsigned workers = parc_pool_workers(p);
    reduce_job_t j = { p, grain > 0 ? grain : 1, workers, value_size, identity,
                       body, join, arg };
    if (value_size > 0)
        memmove(result, identity, value_size);
    /* The caller takes part: on the pool, it runs the leftmost pieces
     * itself; from outside, it submits the whole range as one task (so a
     * pool closed to it says EPIPE, as every submission) and its wait
     * runs that task or what it spawns. */
    if (parc_pool_current() == p)
        return split_or_run(&j, begin, end, result, 4u * workers);
    range_task_t root = { &j, begin, end, result, 4u * workers, &thread_token };
    parc_task_group_t g;
    parc_task_group_init(&g, p);
    int rc = parc_task_group_run(&g, range_run, &root);
    if (rc == 0)
        rc = parc_task_group_wait(&g);
    parc_task_group_destroy(&g);
    return rc;
}
