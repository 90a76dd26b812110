/*
 * bench/bench_lfqueue.c — parc's unbounded lock-free MPMC queue
 * (parc/lfqueue.h) against the non-blocking queues users pick instead.
 *
 *   lfqueue_pairs   every thread alternates push and pop (the classic
 *                   Michael–Scott workload); 1, 2 and 4 threads. One op is
 *                   one push plus one pop.
 *   lfqueue_stream  P producers push, C consumers pop_try and poll
 *                   (bench_wait_poll) while empty: 1P1C, 3P1C, 2P2C, 4P4C,
 *                   in the matrix of bench/qmatrix.h (per-producer FIFO and
 *                   exactly-once checked every run).
 *
 * The peers, as a user would use them:
 *   urcu-wfcq      cds_wfcq_enqueue (wait-free) and cds_wfcq_dequeue_blocking,
 *                  which serialises dequeuers with the queue's mutex; nodes
 *                  are intrusive, preallocated per producer (no allocation
 *                  per item: its best case).
 *   ck-fifo        ck_fifo_mpmc (Michael–Scott with a double-width CAS and
 *                  generation counters); entries preallocated likewise.
 *   moodycamel     ConcurrentQueue without tokens, and with a token per
 *                  thread (moodycamel-tok); FIFO per producer only, memory
 *                  never given back before destroy.
 *   tbb-queue      oneTBB's concurrent_queue (push, try_pop).
 *   atomic-queue-unord
 *                  atomic_queue's AtomicQueueB, bounded (65536 slots; a
 *                  producer that finds it full polls like a consumer). Its
 *                  slots carry no lap number: with more threads than
 *                  cores, a producer preempted between claiming an index
 *                  and storing lets a producer one lap ahead fill the
 *                  slot first, and a producer's items come out of order
 *                  (seen here: sequence 137300 before 71765, 65535 apart).
 *                  So only exactly-once is checked for it ("-unord").
 * parc's queue takes bare pointers: no node management at all, and it
 * gives drained segments back.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "parc/lfqueue.h"
#include "qmatrix.h"

#ifdef PARC_BENCH_HAVE_MOODYCAMEL
#include "peer_moodycamel.h"
#endif
#ifdef PARC_BENCH_HAVE_TBB
#include "qmatrix_tbb.h"
#endif

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

static const bench_point_t stream_points[] = { QM_STREAM_POINTS };
BENCH_DEFINE(lfqueue_stream, "unbounded MPMC queue: P producers stream items to C polling consumers",
             stream_points)

#define ITEM(i) ((void *)(uintptr_t)((i) + 1))

/* Per-producer node arrays of the intrusive peers (wfcq, ck): kept until
 * the queue is destroyed, since consumers read a node after its producer
 * is done. */
typedef struct node_block {
    struct node_block *next;
} node_block_t;

typedef struct blocks {
    pthread_mutex_t lock;
    node_block_t *list;
} blocks_t;

static void *blocks_alloc(blocks_t *b, size_t bytes)
{
    node_block_t *n = aligned_alloc(64, (sizeof(node_block_t) + 63) / 64 * 64 + (bytes + 63) / 64 * 64);
    if (n == NULL)
        return NULL;
    pthread_mutex_lock(&b->lock);
    n->next = b->list;
    b->list = n;
    pthread_mutex_unlock(&b->lock);
    return (char *)n + (sizeof(node_block_t) + 63) / 64 * 64;
}

/* A producer's context: its node array and how much of it is used. */
typedef struct cursor {
    char *nodes;
    uint64_t used;
} cursor_t;

static void blocks_free(blocks_t *b)
{
    while (b->list != NULL) {
        node_block_t *n = b->list;
        b->list = n->next;
        free(n);
    }
}

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

static int64_t parc_pairs(bench_run_t *r)
{
    parc_lfqueue_t q;
    if (parc_lfqueue_init(&q) != 0)
        return BENCH_FAILED;
    int64_t ns = bench_parallel(r, parc_pairs_body, &q);
    void *v;
    if (parc_lfqueue_pop_try(&q, &v) == 0) /* every item came out */
        ns = BENCH_FAILED;
    parc_lfqueue_destroy(&q);
    parc_lfqueue_quiesce();
    return ns;
}
BENCH_CASE(lfqueue_pairs, "parc", parc_pairs)

static void *parc_create(void)
{
    parc_lfqueue_t *q = aligned_alloc(_Alignof(parc_lfqueue_t), sizeof *q);
    if (q != NULL && parc_lfqueue_init(q) != 0) {
        free(q);
        q = NULL;
    }
    return q;
}
static void parc_destroy(void *q)
{
    parc_lfqueue_destroy(q);
    free(q);
    parc_lfqueue_quiesce();
}
static bool parc_put(void *q, void *ctx, void *item)
{
    (void)ctx;
    return parc_lfqueue_push(q, item) == 0;
}
static bool parc_try_get(void *q, void *ctx, void **item)
{
    (void)ctx;
    return parc_lfqueue_pop_try(q, item) == 0;
}
static const qm_ops_t parc_ops = { parc_create, parc_destroy, NULL, NULL,
                                   parc_put, NULL, parc_try_get, false };
QM_CASE(lfqueue_stream, parc_stream, "parc", parc_ops, qm_stream, true)

/* ---- liburcu wfcqueue ------------------------------------------------------ */

#ifdef PARC_BENCH_HAVE_URCU
/* Head (with the dequeuers' mutex) and tail on lines of their own, as
 * liburcu's header asks when enqueue and dequeue run on different CPUs,
 * and as parc's queue keeps its head and tail. */
typedef struct wfcq {
    PARC_CACHE_ALIGNED struct cds_wfcq_head head;
    PARC_CACHE_ALIGNED struct cds_wfcq_tail tail;
    PARC_CACHE_ALIGNED blocks_t blocks;
} wfcq_t;

typedef struct wfcq_node {
    struct cds_wfcq_node node;
    void *item;
} wfcq_node_t;

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

static int64_t wfcq_pairs(bench_run_t *r)
{
    wfcq_t q;
    cds_wfcq_init(&q.head, &q.tail);
    int64_t ns = bench_parallel(r, wfcq_pairs_body, &q);
    if (!cds_wfcq_empty(&q.head, &q.tail))
        ns = BENCH_FAILED;
    cds_wfcq_destroy(&q.head, &q.tail);
    return ns;
}
BENCH_CASE(lfqueue_pairs, "urcu-wfcq", wfcq_pairs)

static void *wfcq_create(void)
{
    wfcq_t *q = aligned_alloc(PARC_CACHELINE, sizeof *q); /* sizeof: whole lines */
    if (q == NULL)
        return NULL;
    memset(q, 0, sizeof *q);
    cds_wfcq_init(&q->head, &q->tail);
    pthread_mutex_init(&q->blocks.lock, NULL);
    return q;
}
static void wfcq_destroy(void *p)
{
    wfcq_t *q = p;
    cds_wfcq_destroy(&q->head, &q->tail);
    blocks_free(&q->blocks);
    pthread_mutex_destroy(&q->blocks.lock);
    free(q);
}
static void *wfcq_thread_init(void *p, uint64_t puts)
{
    wfcq_t *q = p;
    if (puts == 0)
        return NULL;
    cursor_t *c = blocks_alloc(&q->blocks, sizeof(cursor_t) + puts * sizeof(wfcq_node_t));
    if (c != NULL) {
        c->nodes = (char *)(c + 1);
        c->used = 0;
    }
    return c;
}
static bool wfcq_put(void *p, void *ctx, void *item)
{
    wfcq_t *q = p;
    cursor_t *c = ctx;
    if (c == NULL)
        return false;
    wfcq_node_t *n = (wfcq_node_t *)(void *)c->nodes + c->used++;
    cds_wfcq_node_init(&n->node);
    n->item = item;
    cds_wfcq_enqueue(&q->head, &q->tail, &n->node);
    return true;
}
static bool wfcq_try_get(void *p, void *ctx, void **item)
{
    (void)ctx;
    wfcq_t *q = p;
    struct cds_wfcq_node *n = cds_wfcq_dequeue_blocking(&q->head, &q->tail);
    if (n == NULL)
        return false;
    *item = caa_container_of(n, wfcq_node_t, node)->item;
    return true;
}
static const qm_ops_t wfcq_ops = { wfcq_create, wfcq_destroy, wfcq_thread_init, NULL,
                                   wfcq_put, NULL, wfcq_try_get, false };
QM_CASE(lfqueue_stream, wfcq_stream, "urcu-wfcq", wfcq_ops, qm_stream, true)
#endif

/* ---- Concurrency Kit ck_fifo_mpmc ------------------------------------------ */

#if defined(PARC_BENCH_HAVE_CK) && defined(CK_F_FIFO_MPMC)
typedef struct ckq {
    ck_fifo_mpmc_t fifo;
    ck_fifo_mpmc_entry_t *stub;
    blocks_t blocks;
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

static int64_t ck_pairs(bench_run_t *r)
{
    ckq_t *q = aligned_alloc(64, sizeof *q);
    if (q == NULL)
        return BENCH_FAILED;
    /* the stub is a block of its own, since a worker may be handed it as
     * garbage and frees what it holds at the end */
    ck_fifo_mpmc_entry_t *stub = aligned_alloc(16, sizeof *stub);
    if (stub == NULL) {
        free(q);
        return BENCH_FAILED;
    }
    ck_fifo_mpmc_init(&q->fifo, stub);
    int64_t ns = bench_parallel(r, ck_pairs_body, q);
    void *v;
    ck_fifo_mpmc_entry_t *garbage;
    if (ck_fifo_mpmc_dequeue(&q->fifo, &v, &garbage))
        ns = BENCH_FAILED;
    ck_fifo_mpmc_deinit(&q->fifo, &garbage);
    free(garbage); /* the final dummy: the stub or a worker's entry */
    free(q);
    return ns;
}
BENCH_CASE(lfqueue_pairs, "ck-fifo", ck_pairs)

static void *ck_create(void)
{
    ckq_t *q = aligned_alloc(64, sizeof *q);
    if (q == NULL)
        return NULL;
    q->stub = aligned_alloc(16, sizeof *q->stub);
    if (q->stub == NULL) {
        free(q);
        return NULL;
    }
    q->blocks.list = NULL;
    pthread_mutex_init(&q->blocks.lock, NULL);
    ck_fifo_mpmc_init(&q->fifo, q->stub);
    return q;
}
static void ck_destroy(void *p)
{
    ckq_t *q = p;
    ck_fifo_mpmc_entry_t *garbage;
    ck_fifo_mpmc_deinit(&q->fifo, &garbage);
    blocks_free(&q->blocks);
    pthread_mutex_destroy(&q->blocks.lock);
    free(q->stub);
    free(q);
}
static void *ck_thread_init(void *p, uint64_t puts)
{
    ckq_t *q = p;
    if (puts == 0)
        return NULL;
    cursor_t *c = blocks_alloc(&q->blocks, sizeof(cursor_t) + 16 + puts * sizeof(ck_fifo_mpmc_entry_t));
    if (c != NULL) {
        c->nodes = (char *)(((uintptr_t)(c + 1) + 15) & ~(uintptr_t)15);
        c->used = 0;
    }
    return c;
}
static bool ck_put(void *p, void *ctx, void *item)
{
    ckq_t *q = p;
    cursor_t *c = ctx;
    if (c == NULL)
        return false;
    ck_fifo_mpmc_enqueue(&q->fifo, (ck_fifo_mpmc_entry_t *)(void *)c->nodes + c->used++, item);
    return true;
}
static bool ck_try_get(void *p, void *ctx, void **item)
{
    (void)ctx;
    ckq_t *q = p;
    ck_fifo_mpmc_entry_t *garbage; /* a producer's entry or the stub: freed at destroy */
    return ck_fifo_mpmc_dequeue(&q->fifo, item, &garbage);
}
static const qm_ops_t ck_ops = { ck_create, ck_destroy, ck_thread_init, NULL,
                                 ck_put, NULL, ck_try_get, false };
QM_CASE(lfqueue_stream, ck_stream, "ck-fifo", ck_ops, qm_stream, true)
#endif

/* ---- moodycamel ConcurrentQueue -------------------------------------------- */

#ifdef PARC_BENCH_HAVE_MOODYCAMEL
static void *mc_create(void) { return bench_mc_create(1024); }
static void mc_destroy(void *q) { bench_mc_destroy(q); }
static bool mc_put(void *q, void *ctx, void *item)
{
    (void)ctx;
    return bench_mc_enqueue(q, item) == 0;
}
static bool mc_try_get(void *q, void *ctx, void **item)
{
    (void)ctx;
    return bench_mc_try_dequeue(q, item) == 0;
}
static const qm_ops_t mc_ops = { mc_create, mc_destroy, NULL, NULL,
                                 mc_put, NULL, mc_try_get, false };
QM_CASE(lfqueue_stream, mc_stream, "moodycamel", mc_ops, qm_stream, true)

/* With tokens: a producer's token (ptok) or a consumer's (ctok). */
typedef struct mc_tok {
    bench_mc_ptok_t *p;
    bench_mc_ctok_t *c;
} mc_tok_t;
static void *mct_thread_init(void *q, uint64_t puts)
{
    mc_tok_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    if (puts > 0)
        t->p = bench_mc_ptok_create(q);
    else
        t->c = bench_mc_ctok_create(q);
    return t;
}
static void mct_thread_fini(void *q, void *ctx)
{
    (void)q;
    mc_tok_t *t = ctx;
    if (t == NULL)
        return;
    if (t->p != NULL)
        bench_mc_ptok_destroy(t->p);
    if (t->c != NULL)
        bench_mc_ctok_destroy(t->c);
    free(t);
}
static bool mct_put(void *q, void *ctx, void *item)
{
    mc_tok_t *t = ctx;
    return t != NULL && t->p != NULL && bench_mc_enqueue_tok(q, t->p, item) == 0;
}
static bool mct_try_get(void *q, void *ctx, void **item)
{
    mc_tok_t *t = ctx;
    if (t == NULL || t->c == NULL)
        return bench_mc_try_dequeue(q, item) == 0;
    return bench_mc_try_dequeue_tok(q, t->c, item) == 0;
}
static const qm_ops_t mct_ops = { mc_create, mc_destroy, mct_thread_init, mct_thread_fini,
                                  mct_put, NULL, mct_try_get, false };
QM_CASE(lfqueue_stream, mct_stream, "moodycamel-tok", mct_ops, qm_stream, true)
#endif

/* ---- oneTBB concurrent_queue ------------------------------------------------ */

#ifdef PARC_BENCH_HAVE_TBB
QM_CASE(lfqueue_stream, tbbq_stream, "tbb-queue", qm_tbbq_ops, qm_stream, true)
#endif

/* ---- atomic_queue (bounded) -------------------------------------------------- */

#ifdef PARC_BENCH_HAVE_ATOMIC_QUEUE
static void *aq_create(void) { return bench_aq_create(65536); }
static void aq_destroy(void *q) { bench_aq_destroy(q); }
static bool aq_put(void *q, void *ctx, void *item)
{
    (void)ctx;
    uint32_t polls = 0;
    while (bench_aq_try_push(q, item) != 0) /* full: poll as consumers do */
        bench_wait_poll(&polls);
    return true;
}
static bool aq_try_get(void *q, void *ctx, void **item)
{
    (void)ctx;
    return bench_aq_try_pop(q, item) == 0;
}
static const qm_ops_t aq_ops = { aq_create, aq_destroy, NULL, NULL,
                                 aq_put, NULL, aq_try_get, true };
QM_CASE(lfqueue_stream, aq_stream, "atomic-queue-unord", aq_ops, qm_stream, true)
#endif
