/*
 * bench/qmatrix_tbb.h — oneTBB's concurrent_queue as a qm_ops_t of the
 * streaming matrix (bench/qmatrix.h): one adapter for both benchmarks that
 * run it (bench_queue.c among the blocking queues, bench_lfqueue.c among the
 * non-blocking ones), so both measure the same calls. It has no blocking
 * get: its consumers poll. Include only under PARC_BENCH_HAVE_TBB.
 */
#ifndef PARC_BENCH_QMATRIX_TBB_H
#define PARC_BENCH_QMATRIX_TBB_H

#include "peer_tbb_queue.h"
#include "qmatrix.h"

static void *qm_tbbq_create(void) { return bench_tbbq_create(); }
static void qm_tbbq_destroy(void *q) { bench_tbbq_destroy(q); }
static bool qm_tbbq_put(void *q, void *ctx, void *item)
{
    (void)ctx;
    return bench_tbbq_push(q, item) == 0;
}
static bool qm_tbbq_try_get(void *q, void *ctx, void **item)
{
    (void)ctx;
    return bench_tbbq_try_pop(q, item) == 0;
}
static const qm_ops_t qm_tbbq_ops = { qm_tbbq_create, qm_tbbq_destroy, NULL, NULL,
                                      qm_tbbq_put, NULL, qm_tbbq_try_get, false };

#endif
