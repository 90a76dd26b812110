/*
 * parc/task_group.h: parc_pool_parallel_reduce, on the loop of
 * pool_loop.c (the calling thread one of at most P threads; shares,
 * pieces and range stealing as oneTBB documents its auto_partitioner).
 *
 * Values: a participant accumulates the pieces it runs one after the
 * other into one value as long as each piece starts where the last one
 * ended (the pieces it takes from the front of its own share always do);
 * a piece elsewhere (a stolen range) starts a new value, a copy of the
 * identity. After the loop the values, a few per thread, are joined into
 * *result in index order: the op need only be associative. The value of
 * a run of pieces is malloc'd (value_size bytes): P of them per call, and
 * one more per steal.
 *
 * Rejected: lazy binary splitting with a task group per split (halve,
 * spawn the right half, join after the wait): a task group per split,
 * and its outside caller, running the root from its wait while every
 * worker joined in, made P + 1 threads on P cores; a value per piece: an
 * allocation per piece where a run of adjacent pieces needs one.
 */
#include <string.h>

#include "parc/task_group.h"
#include "pool_internal.h"
#include "pool_loop.h"

int parc_pool_parallel_reduce(parc_pool_t *p, int64_t begin, int64_t end,
                              int64_t grain, size_t value_size,
                              const void *identity, parc_pool_reduce_body_fn body,
                              parc_pool_reduce_join_fn join, void *arg,
                              void *result)
{
    if (p == NULL || body == NULL || begin > end || grain < 0
        || (value_size > 0 && (identity == NULL || result == NULL || join == NULL)))
        return EINVAL;
    if (value_size > 0)
        memmove(result, identity, value_size);
    map_job_t job = { .kind = JOB_REDUCE, .fn.reduce = body, .ctx = arg,
                      .begin = begin, .value_size = value_size,
                      .identity = identity, .join = join, .result = result };
    /* end - begin overflows int64_t for the widest ranges, not uint64_t */
    return parc_pool_loop_run_(p, &job, (size_t)((uint64_t)end - (uint64_t)begin), 0,
                          (size_t)grain);
}
