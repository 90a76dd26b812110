/* Private to src/pool_loop.c, src/pool_map.c and src/parallel_reduce.c:
 * the job a data-parallel call describes, and the loop that runs it with
 * the calling thread working (pool_loop.c says how). */
#ifndef PARC_POOL_LOOP_H
#define PARC_POOL_LOOP_H

#include "parc/lfqueue.h"
#include "parc/pool.h"
#include "parc/task_group.h"

enum job_kind { JOB_MAP, JOB_STARMAP, JOB_FOR, JOB_REDUCE };

typedef struct map_job {
    enum job_kind kind;
    union {
        parc_pool_map_fn map;
        parc_pool_starmap_fn star;
        int (*range)(void *arg, int64_t lo, int64_t hi);
        parc_pool_reduce_body_fn reduce;
    } fn;
    void *ctx;
    const char *in;
    char *out;
    size_t in_size, out_size;
    int64_t begin;           /* JOB_FOR, JOB_REDUCE: index of element 0 */
    parc_lfqueue_t *done;    /* imap_unordered: chunks as they finish */
    /* JOB_REDUCE: values of value_size bytes (0: none), joined in index
     * order into *result, which holds the identity on entry. */
    size_t value_size;
    const void *identity;
    parc_pool_reduce_join_fn join;
    void *result;
} map_job_t;

/* Run elements [lo, hi) of j (not JOB_REDUCE); stops at the first
 * failing element and returns its error, else 0. */
int parc_pool_job_run_(const map_job_t *j, size_t lo, size_t hi);

/* Run j over elements [0, n) on p, the calling thread working too: pieces
 * of `chunk` elements, or adaptive ones with chunk 0, never smaller than
 * `min_piece` elements then (0: no floor beyond the loop's own). Returns
 * 0; the first failing piece's error in index order; EPIPE (p closed or
 * terminated, the caller outside it); ECANCELED (the calling task's group
 * was cancelled and elements were skipped); ENOMEM (JOB_REDUCE only: a
 * value could not be allocated). Blocks until every element has run. */
int parc_pool_loop_run_(parc_pool_t *p, const map_job_t *j, size_t n, size_t chunk,
                   size_t min_piece);

#endif
