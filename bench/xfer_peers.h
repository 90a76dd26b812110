/*
 * bench/xfer_peers.h — the peer cases every queue benchmark shares, each
 * under both waiting policies of bench/xfer.h:
 *   moodycamel   block: BlockingConcurrentQueue<void *> with a producer
 *                and a consumer token per worker, wait_dequeue (spins
 *                briefly, then sleeps on its semaphore); poll:
 *                ConcurrentQueue<void *> with tokens, try_dequeue.
 *                Unbounded; FIFO per producer.
 *   glib         GAsyncQueue: block g_async_queue_pop, poll
 *                g_async_queue_try_pop (unbounded; mutex + condition).
 *   pthread      a ring under one mutex with two conditions (as large as
 *                CAPACITY, rounded up to a power of two): block waits on
 *                the conditions; poll uses try forms that still signal
 *                (the queue's pushes do not know how it is drained).
 *   atomic_queue (where the benchmark defines XFER_BOUNDED: the bounded
 *                rings) AtomicQueueB<void *> of CAPACITY slots, the SPSC
 *                form where XFER_BOUNDED_SPSC is defined; try_push/try_pop
 *                under both policies (its push()/pop() spin without ever
 *                yielding, which a block point on an oversubscribed
 *                machine turns into a scheduler lottery); and its try
 *                forms wait inside for a claimed cell (as ck_ring's MPMC
 *                does: XFER_SPINS_INSIDE). Its MPMC form
 *                is not per-producer FIFO under preemption (see below):
 *                those runs are checked for exactly-once only.
 * Each is skipped when CMake did not find it (pthread is always there).
 *
 * Not an ordinary header: included once, at the end of a queue benchmark
 * (after bench/xfer.h and the definition of BENCH_NAME and CAPACITY), it
 * defines that benchmark's cases for these peers.
 */
#include <pthread.h>
#include <stdlib.h>

#ifdef PARC_BENCH_HAVE_GLIB
#include <glib.h>
#endif
#if defined(PARC_BENCH_HAVE_MOODYCAMEL) || defined(PARC_BENCH_HAVE_ATOMIC_QUEUE)
#include "peer_moodycamel.h"
#include "peer_xfer.h"
#endif

/* ---- moodycamel -------------------------------------------------------- */

#ifdef PARC_BENCH_HAVE_MOODYCAMEL
/* One of the two queues, the one the policy uses (xfer_polling), with
 * its tokens made before the run. */
typedef struct mc {
    bench_mc_queue_t *q;
    xp_mcb_t *bq;
    bench_mc_ptok_t *ptok[XFER_PEER_TOKENS];
    bench_mc_ctok_t *ctok[XFER_PEER_TOKENS];
} mc_t;

static void mc_free(mc_t *m)
{
    if (m == NULL)
        return;
    for (int i = 0; i < XFER_PEER_TOKENS; i++) {
        if (m->ptok[i] != NULL)
            bench_mc_ptok_destroy(m->ptok[i]);
        if (m->ctok[i] != NULL)
            bench_mc_ctok_destroy(m->ctok[i]);
    }
    if (m->q != NULL)
        bench_mc_destroy(m->q);
    if (m->bq != NULL)
        xp_mcb_destroy(m->bq);
    free(m);
}

static mc_t *mc_make(size_t capacity)
{
    mc_t *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    if (!xfer_polling) {
        if ((m->bq = xp_mcb_create(capacity)) == NULL) {
            mc_free(m);
            return NULL;
        }
        return m;
    }
    if ((m->q = bench_mc_create(capacity)) == NULL) {
        mc_free(m);
        return NULL;
    }
    for (int i = 0; i < XFER_PEER_TOKENS; i++) {
        m->ptok[i] = bench_mc_ptok_create(m->q);
        m->ctok[i] = bench_mc_ctok_create(m->q);
        if (m->ptok[i] == NULL || m->ctok[i] == NULL) {
            mc_free(m);
            return NULL;
        }
    }
    return m;
}

static int mc_push(mc_t *m, void *item)
{
    return bench_mc_enqueue_tok(m->q, m->ptok[xfer_worker], item);
}

static int mc_pop(mc_t *m, void **item)
{
    return bench_mc_try_dequeue_tok(m->q, m->ctok[xfer_worker], item);
}

static int mcb_push(mc_t *m, void *item)
{
    return xp_mcb_push(m->bq, xfer_worker, item);
}

static int mcb_pop(mc_t *m, void **item)
{
    return xp_mcb_pop_wait(m->bq, xfer_worker, item);
}

XFER_CASE(mc, "moodycamel", mc_t, mc_make, mc_free, xfer_bind_worker, mcb_push, mcb_pop,
          mc_push, mc_pop, XFER_BLOCKS)
#endif

/* ---- GLib ---------------------------------------------------------------- */

#ifdef PARC_BENCH_HAVE_GLIB
static GAsyncQueue *glib_make(size_t capacity)
{
    (void)capacity;
    return g_async_queue_new();
}

static int glib_push(GAsyncQueue *q, void *item)
{
    g_async_queue_push(q, item);
    return 0;
}

static int glib_pop(GAsyncQueue *q, void **item)
{
    *item = g_async_queue_pop(q);
    return 0;
}

static int glib_pop_try(GAsyncQueue *q, void **item)
{
    *item = g_async_queue_try_pop(q);
    return *item != NULL ? 0 : EAGAIN;
}

XFER_CASE(glib, "glib", GAsyncQueue, glib_make, g_async_queue_unref, xfer_no_bind, glib_push,
          glib_pop, glib_push, glib_pop_try, XFER_BLOCKS)
#endif

/* ---- pthread --------------------------------------------------------------- */

typedef struct pq {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    void **buf;
    size_t mask, head, tail; /* guarded by lock */
} pq_t;

static pq_t *pq_make(size_t capacity)
{
    size_t pow2 = 2;
    while (pow2 < capacity)
        pow2 <<= 1;
    capacity = pow2;
    pq_t *q = calloc(1, sizeof *q);
    if (q == NULL || (q->buf = calloc(capacity, sizeof *q->buf)) == NULL) {
        free(q);
        return NULL;
    }
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    q->mask = capacity - 1;
    return q;
}

static void pq_free(pq_t *q)
{
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q->buf);
    free(q);
}

static int pq_push(pq_t *q, void *item)
{
    pthread_mutex_lock(&q->lock);
    while (q->tail - q->head > q->mask)
        pthread_cond_wait(&q->not_full, &q->lock);
    q->buf[q->tail++ & q->mask] = item;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

static int pq_pop(pq_t *q, void **item)
{
    pthread_mutex_lock(&q->lock);
    while (q->tail == q->head)
        pthread_cond_wait(&q->not_empty, &q->lock);
    *item = q->buf[q->head++ & q->mask];
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

static int pq_push_try(pq_t *q, void *item)
{
    pthread_mutex_lock(&q->lock);
    int rc = EAGAIN;
    if (q->tail - q->head <= q->mask) {
        q->buf[q->tail++ & q->mask] = item;
        pthread_cond_signal(&q->not_empty);
        rc = 0;
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

static int pq_pop_try(pq_t *q, void **item)
{
    pthread_mutex_lock(&q->lock);
    int rc = EAGAIN;
    if (q->tail != q->head) {
        *item = q->buf[q->head++ & q->mask];
        pthread_cond_signal(&q->not_full);
        rc = 0;
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

XFER_CASE(pthread, "pthread", pq_t, pq_make, pq_free, xfer_no_bind, pq_push, pq_pop,
          pq_push_try, pq_pop_try, XFER_BLOCKS)

/* ---- atomic_queue (bounded rings only) --------------------------------------- */

#if defined(PARC_BENCH_HAVE_ATOMIC_QUEUE) && defined(XFER_BOUNDED)
/* The MPMC form is checked without the order check: a producer that
 * claimed a slot one lap ahead can fill the cell while the producer of
 * the current lap, preempted after its claim, has not yet; its item then
 * pops a lap early, ahead of items its producer pushed before it (the
 * harness's order check caught this at 3P/1C and 2P/2C). */
#ifdef XFER_BOUNDED_SPSC
#define XFER_AQ_SPSC 1
#define XFER_AQ_ORDER 0
#else
#define XFER_AQ_SPSC 0
#define XFER_AQ_ORDER XFER_UNORDERED
#endif
static xp_aq_t *aq_make(size_t capacity)
{
    return xp_aq_create(capacity, XFER_AQ_SPSC);
}

XFER_CASE(aq, "atomic_queue", xp_aq_t, aq_make, xp_aq_destroy, xfer_no_bind, xp_aq_push_try,
          xp_aq_pop_try, xp_aq_push_try, xp_aq_pop_try, XFER_SPINS_INSIDE | XFER_AQ_ORDER)
#endif
