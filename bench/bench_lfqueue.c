/*
 * bench/bench_lfqueue.c — parc's unbounded lock-free MPMC queue
 * (parc/lfqueue.h) against liburcu's wfcqueue and Concurrency Kit's
 * ck_fifo_mpmc.
 *
 *   lfqueue_pairs     every thread alternates push and pop (the classic
 *                     Michael–Scott workload); 1, 2 and 4 threads. One op
 *                     is one push plus one pop.
 *   lfqueue_transfer  one producer pushes, one consumer pops: throughput
 *                     of items handed over (the queue may grow while the
 *                     producer runs ahead).
 *
 * The peers, as a user would use them:
 *   urcu-wfcq  cds_wfcq_enqueue (wait-free) and cds_wfcq_dequeue_blocking,
 *              which serialises dequeuers with the queue's mutex; nodes are
 *              intrusive, preallocated here.
 *   ck-fifo    ck_fifo_mpmc (Michael–Scott with a double-width CAS and
 *              generation counters); a dequeue returns the old dummy entry,
 *              which the caller recycles for its next enqueue.
 * parc's queue takes bare pointers: no node management at all.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"
#include "parc/lfqueue.h"

#ifdef PARC_BENCH_HAVE_URCU
#define _LGPL_SOURCE /* the inline fast paths, as a performance-minded user would */
#include <urcu/wfcqueue.h>
#endif
#ifdef PARC_BENCH_HAVE_CK
#include <ck_fifo.h>
#endif

static const bench_point_t pairs_points[] = {
    { "1 thread", 1, 0, NULL },
    { "2 threads", 2, 0, NULL },
    { "4 threads", 4, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(lfqueue_pairs, "unbounded MPMC queue: each thread pushes then pops, repeatedly",
             pairs_points)

static const bench_point_t transfer_points[] = {
    { "1 producer 1 consumer", 2, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(lfqueue_transfer, "unbounded MPMC queue: one producer hands items to one consumer",
             transfer_points)

#define ITEM(i) ((void *)(uintptr_t)((i) + 1))

/* ---- parc ----------------------------------------------------------------- */

static void parc_pairs_body(bench_worker_t *w)
{
    parc_lfqueue_t *q = w->shared;
    void *v;
    for (uint64_t i = 0; i < w->share; i++) {
        parc_lfqueue_push(q, ITEM(i));
        uint32_t polls = 0;
        while (parc_lfqueue_pop_try(q, &v) != 0) /* another thread took ours */
            bench_wait_poll(&polls);
    }
}

static void parc_transfer_body(bench_worker_t *w)
{
    parc_lfqueue_t *q = w->shared;
    void *v;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < w->ops; i++) {
        if (w->id == 0) {
            parc_lfqueue_push(q, ITEM(i));
        } else {
            uint32_t polls = 0;
            while (parc_lfqueue_pop_try(q, &v) != 0)
                bench_wait_poll(&polls);
            sum += (uintptr_t)v;
        }
    }
    bench_consume(sum);
}

static int64_t parc_case(bench_run_t *r, bench_body_fn body)
{
    parc_lfqueue_t q;
    if (parc_lfqueue_init(&q) != 0)
        return BENCH_FAILED;
    int64_t ns = bench_parallel(r, body, &q);
    void *v;
    if (parc_lfqueue_pop_try(&q, &v) == 0) /* every item came out */
        ns = BENCH_FAILED;
    parc_lfqueue_destroy(&q);
    parc_lfqueue_quiesce();
    return ns;
}

static int64_t parc_pairs(bench_run_t *r) { return parc_case(r, parc_pairs_body); }
static int64_t parc_transfer(bench_run_t *r)
{
    int64_t ns = parc_case(r, parc_transfer_body);
    r->items = r->ops;
    return ns;
}
BENCH_CASE(lfqueue_pairs, "parc", parc_pairs)
BENCH_CASE(lfqueue_transfer, "parc", parc_transfer)

/* ---- liburcu wfcqueue ------------------------------------------------------ */

#ifdef PARC_BENCH_HAVE_URCU
typedef struct wfcq {
    struct cds_wfcq_head head;
    struct cds_wfcq_tail tail;
    struct cds_wfcq_node *nodes; /* transfer: one per item */
} wfcq_t;

static void wfcq_pairs_body(bench_worker_t *w)
{
    wfcq_t *q = w->shared;
    struct cds_wfcq_node *mine = malloc(sizeof *mine);
    if (mine == NULL)
        abort();
    for (uint64_t i = 0; i < w->share; i++) {
        cds_wfcq_node_init(mine);
        cds_wfcq_enqueue(&q->head, &q->tail, mine);
        uint32_t polls = 0;
        while ((mine = cds_wfcq_dequeue_blocking(&q->head, &q->tail)) == NULL)
            bench_wait_poll(&polls);
    }
    free(mine); /* the node we dequeued last: ours now */
}

static void wfcq_transfer_body(bench_worker_t *w)
{
    wfcq_t *q = w->shared;
    for (uint64_t i = 0; i < w->ops; i++) {
        if (w->id == 0) {
            cds_wfcq_enqueue(&q->head, &q->tail, &q->nodes[i]);
        } else {
            uint32_t polls = 0;
            while (cds_wfcq_dequeue_blocking(&q->head, &q->tail) == NULL)
                bench_wait_poll(&polls);
        }
    }
}

static int64_t wfcq_case(bench_run_t *r, bench_body_fn body, bool transfer)
{
    wfcq_t q;
    cds_wfcq_init(&q.head, &q.tail);
    q.nodes = NULL;
    if (transfer) {
        q.nodes = malloc(r->ops * sizeof q.nodes[0]);
        if (q.nodes == NULL)
            return BENCH_FAILED;
        for (uint64_t i = 0; i < r->ops; i++)
            cds_wfcq_node_init(&q.nodes[i]);
    }
    int64_t ns = bench_parallel(r, body, &q);
    if (!cds_wfcq_empty(&q.head, &q.tail))
        ns = BENCH_FAILED;
    cds_wfcq_destroy(&q.head, &q.tail);
    free(q.nodes);
    return ns;
}

static int64_t wfcq_pairs(bench_run_t *r) { return wfcq_case(r, wfcq_pairs_body, false); }
static int64_t wfcq_transfer(bench_run_t *r)
{
    int64_t ns = wfcq_case(r, wfcq_transfer_body, true);
    r->items = r->ops;
    return ns;
}
BENCH_CASE(lfqueue_pairs, "urcu-wfcq", wfcq_pairs)
BENCH_CASE(lfqueue_transfer, "urcu-wfcq", wfcq_transfer)
#endif

/* ---- Concurrency Kit ck_fifo_mpmc ------------------------------------------ */

#if defined(PARC_BENCH_HAVE_CK) && defined(CK_F_FIFO_MPMC)
typedef struct ckq {
    ck_fifo_mpmc_t fifo;
    ck_fifo_mpmc_entry_t *entries; /* transfer: one per item */
} ckq_t;

static void ck_pairs_body(bench_worker_t *w)
{
    ckq_t *q = w->shared;
    ck_fifo_mpmc_entry_t *mine = aligned_alloc(16, sizeof *mine);
    if (mine == NULL)
        abort();
    void *v;
    for (uint64_t i = 0; i < w->share; i++) {
        ck_fifo_mpmc_enqueue(&q->fifo, mine, ITEM(i));
        uint32_t polls = 0;
        while (!ck_fifo_mpmc_dequeue(&q->fifo, &v, &mine))
            bench_wait_poll(&polls);
    }
    free(mine); /* the dummy we were handed last: ours now */
}

static void ck_transfer_body(bench_worker_t *w)
{
    ckq_t *q = w->shared;
    void *v;
    ck_fifo_mpmc_entry_t *garbage;
    for (uint64_t i = 0; i < w->ops; i++) {
        if (w->id == 0) {
            ck_fifo_mpmc_enqueue(&q->fifo, &q->entries[i + 1], ITEM(i));
        } else {
            uint32_t polls = 0;
            while (!ck_fifo_mpmc_dequeue(&q->fifo, &v, &garbage))
                bench_wait_poll(&polls);
        }
    }
}

static int64_t ck_case(bench_run_t *r, bench_body_fn body, bool transfer)
{
    ckq_t *q = aligned_alloc(64, sizeof *q);
    if (q == NULL)
        return BENCH_FAILED;
    /* transfer: entries[0] is the stub, entries[i + 1] carries item i.
     * pairs: the stub is a block of its own, since a worker may be handed
     * it as garbage and frees what it holds at the end. */
    q->entries = aligned_alloc(16, (transfer ? r->ops + 1 : 1) * sizeof q->entries[0]);
    if (q->entries == NULL) {
        free(q);
        return BENCH_FAILED;
    }
    ck_fifo_mpmc_init(&q->fifo, &q->entries[0]);
    int64_t ns = bench_parallel(r, body, q);
    void *v;
    ck_fifo_mpmc_entry_t *garbage;
    if (ck_fifo_mpmc_dequeue(&q->fifo, &v, &garbage))
        ns = BENCH_FAILED;
    ck_fifo_mpmc_deinit(&q->fifo, &garbage);
    if (!transfer)
        free(garbage); /* the final dummy: the stub or a worker's entry */
    else
        free(q->entries);
    free(q);
    return ns;
}

static int64_t ck_pairs(bench_run_t *r) { return ck_case(r, ck_pairs_body, false); }
static int64_t ck_transfer(bench_run_t *r)
{
    int64_t ns = ck_case(r, ck_transfer_body, true);
    r->items = r->ops;
    return ns;
}
BENCH_CASE(lfqueue_pairs, "ck-fifo", ck_pairs)
BENCH_CASE(lfqueue_transfer, "ck-fifo", ck_transfer)
#endif
