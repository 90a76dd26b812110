/*
 * bench/bench_queue.c — parc's blocking FIFO queue (parc/queue.h) against
 * the blocking queues users pick instead, in the matrix of bench/qmatrix.h:
 *
 *   queue_stream         P producers put, C consumers get (blocking):
 *                        1P1C, 3P1C, 2P2C, 4P4C; per-producer FIFO and
 *                        exactly-once checked every run
 *   queue_stream_poll    the same, consumers poll (try-get, then
 *                        bench_wait_poll's relax-then-yield)
 *   queue_pingpong       a round trip between two threads through two
 *                        queues, blocking gets: every get usually finds
 *                        the queue empty, so this is the cost of a
 *                        blocking hand-off (a futex wake-up costs ~45 us
 *                        here; parc and moodycamel spin briefly first,
 *                        GLib and the cond queues sleep at once)
 *   queue_pingpong_poll  the same with polling gets
 *
 * Peers (each only where it has the form a case needs):
 *   pthread-cond-list    the textbook queue: a linked list (one malloc per
 *                        item) under one pthread mutex, a condition
 *                        variable signalled at every put
 *   pthread-cond-ring    the same over a growable ring (no allocation per
 *                        item)
 *   glib-async           GLib's GAsyncQueue (push, pop, try_pop)
 *   tbb-bounded          oneTBB's concurrent_bounded_queue (unbounded
 *                        capacity; blocking pop, try_pop)
 *   tbb-queue            oneTBB's concurrent_queue (try_pop only: polls)
 *   moodycamel-blocking  BlockingConcurrentQueue (wait_dequeue,
 *                        try_dequeue; FIFO per producer only)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"
#include "parc/queue.h"
#include "qmatrix.h"

#ifdef PARC_BENCH_HAVE_GLIB
#include <glib.h>
#endif
#ifdef PARC_BENCH_HAVE_MOODYCAMEL
#include "peer_moodycamel.h"
#endif
#ifdef PARC_BENCH_HAVE_TBB
#include "qmatrix_tbb.h"
#endif

static const bench_point_t stream_points[] = { QM_STREAM_POINTS };
BENCH_DEFINE(queue_stream, "blocking queue, unbounded: P producers stream items to C blocking consumers",
             stream_points)
BENCH_DEFINE(queue_stream_poll, "blocking queue, unbounded: P producers stream items to C polling consumers",
             stream_points)

static const bench_point_t pingpong_points[] = {
    { "round trip", 2, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(queue_pingpong, "blocking queue: a round trip between two threads via two queues (blocking gets)",
             pingpong_points)
BENCH_DEFINE(queue_pingpong_poll, "blocking queue: a round trip between two threads via two queues (polling gets)",
             pingpong_points)

#define REGISTER(tag, impl, ops)                                              \
    QM_CASE(queue_stream, tag##_s, impl, ops, qm_stream, false)               \
    QM_CASE(queue_stream_poll, tag##_sp, impl, ops, qm_stream, true)          \
    QM_CASE(queue_pingpong, tag##_p, impl, ops, qm_pingpong, false)           \
    QM_CASE(queue_pingpong_poll, tag##_pp, impl, ops, qm_pingpong, true)

/* ---- parc ----------------------------------------------------------------- */

static void *parc_create(void)
{
    parc_queue_t *q = aligned_alloc(_Alignof(parc_queue_t), sizeof *q); /* cache-line aligned */
    if (q != NULL && parc_queue_init(q, 0, PARC_QUEUE_FIFO, NULL, NULL) != 0) {
        free(q);
        q = NULL;
    }
    return q;
}
static void parc_destroy(void *q)
{
    parc_queue_destroy(q);
    free(q);
}
static bool parc_put(void *q, void *ctx, void *item)
{
    (void)ctx;
    return parc_queue_put(q, item) == 0;
}
static void *parc_get(void *q, void *ctx)
{
    (void)ctx;
    void *item;
    return parc_queue_get(q, &item) == 0 ? item : NULL;
}
static bool parc_try_get(void *q, void *ctx, void **item)
{
    (void)ctx;
    return parc_queue_get_try(q, item) == 0;
}
static const qm_ops_t parc_ops = { parc_create, parc_destroy, NULL, NULL,
                                   parc_put, parc_get, parc_try_get, false };
REGISTER(parc, "parc", parc_ops)

/* ---- pthread mutex + condition variable over a linked list ----------------- */

typedef struct cl_node {
    struct cl_node *next;
    void *item;
} cl_node_t;

typedef struct condl {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    cl_node_t *head, *tail;
} condl_t;

static void *condl_create(void)
{
    condl_t *q = calloc(1, sizeof *q);
    if (q == NULL)
        return NULL;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->nonempty, NULL);
    return q;
}
static void condl_destroy(void *p)
{
    condl_t *q = p;
    while (q->head != NULL) {
        cl_node_t *n = q->head;
        q->head = n->next;
        free(n);
    }
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->nonempty);
    free(q);
}
static bool condl_put(void *p, void *ctx, void *item)
{
    (void)ctx;
    condl_t *q = p;
    cl_node_t *n = malloc(sizeof *n);
    if (n == NULL)
        return false;
    n->next = NULL;
    n->item = item;
    pthread_mutex_lock(&q->lock);
    if (q->tail != NULL)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
    pthread_cond_signal(&q->nonempty);
    pthread_mutex_unlock(&q->lock);
    return true;
}
static void *condl_unlink(condl_t *q) /* lock held, not empty */
{
    cl_node_t *n = q->head;
    q->head = n->next;
    if (q->head == NULL)
        q->tail = NULL;
    void *item = n->item;
    free(n);
    return item;
}
static void *condl_get(void *p, void *ctx)
{
    (void)ctx;
    condl_t *q = p;
    pthread_mutex_lock(&q->lock);
    while (q->head == NULL)
        pthread_cond_wait(&q->nonempty, &q->lock);
    void *item = condl_unlink(q);
    pthread_mutex_unlock(&q->lock);
    return item;
}
static bool condl_try_get(void *p, void *ctx, void **item)
{
    (void)ctx;
    condl_t *q = p;
    pthread_mutex_lock(&q->lock);
    bool ok = q->head != NULL;
    if (ok)
        *item = condl_unlink(q);
    pthread_mutex_unlock(&q->lock);
    return ok;
}
static const qm_ops_t condl_ops = { condl_create, condl_destroy, NULL, NULL,
                                    condl_put, condl_get, condl_try_get, false };
REGISTER(condl, "pthread-cond-list", condl_ops)

/* ---- pthread mutex + condition variable over a growable ring ---------------- */

typedef struct condq {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    void **ring;
    size_t cap, head, count;
} condq_t;

static void *condq_create(void)
{
    condq_t *q = calloc(1, sizeof *q);
    if (q == NULL)
        return NULL;
    q->cap = 1024;
    q->ring = malloc(q->cap * sizeof q->ring[0]);
    if (q->ring == NULL) {
        free(q);
        return NULL;
    }
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->nonempty, NULL);
    return q;
}
static void condq_destroy(void *p)
{
    condq_t *q = p;
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->nonempty);
    free(q->ring);
    free(q);
}
static bool condq_put(void *p, void *ctx, void *item)
{
    (void)ctx;
    condq_t *q = p;
    pthread_mutex_lock(&q->lock);
    if (q->count == q->cap) { /* grow, unwrapping the ring */
        void **n = malloc(2 * q->cap * sizeof n[0]);
        if (n == NULL) {
            pthread_mutex_unlock(&q->lock);
            return false;
        }
        for (size_t i = 0; i < q->count; i++)
            n[i] = q->ring[(q->head + i) % q->cap];
        free(q->ring);
        q->ring = n;
        q->head = 0;
        q->cap *= 2;
    }
    q->ring[(q->head + q->count++) % q->cap] = item;
    pthread_cond_signal(&q->nonempty);
    pthread_mutex_unlock(&q->lock);
    return true;
}
static void *condq_take(condq_t *q) /* lock held, not empty */
{
    void *item = q->ring[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return item;
}
static void *condq_get(void *p, void *ctx)
{
    (void)ctx;
    condq_t *q = p;
    pthread_mutex_lock(&q->lock);
    while (q->count == 0)
        pthread_cond_wait(&q->nonempty, &q->lock);
    void *item = condq_take(q);
    pthread_mutex_unlock(&q->lock);
    return item;
}
static bool condq_try_get(void *p, void *ctx, void **item)
{
    (void)ctx;
    condq_t *q = p;
    pthread_mutex_lock(&q->lock);
    bool ok = q->count != 0;
    if (ok)
        *item = condq_take(q);
    pthread_mutex_unlock(&q->lock);
    return ok;
}
static const qm_ops_t condq_ops = { condq_create, condq_destroy, NULL, NULL,
                                    condq_put, condq_get, condq_try_get, false };
REGISTER(condq, "pthread-cond-ring", condq_ops)

/* ---- GLib GAsyncQueue ------------------------------------------------------ */

#ifdef PARC_BENCH_HAVE_GLIB
static void *glib_create(void) { return g_async_queue_new(); }
static void glib_destroy(void *q) { g_async_queue_unref(q); }
static bool glib_put(void *q, void *ctx, void *item)
{
    (void)ctx;
    g_async_queue_push(q, item);
    return true;
}
static void *glib_get(void *q, void *ctx)
{
    (void)ctx;
    return g_async_queue_pop(q);
}
static bool glib_try_get(void *q, void *ctx, void **item)
{
    (void)ctx;
    *item = g_async_queue_try_pop(q);
    return *item != NULL;
}
static const qm_ops_t glib_ops = { glib_create, glib_destroy, NULL, NULL,
                                   glib_put, glib_get, glib_try_get, false };
REGISTER(glib, "glib-async", glib_ops)
#endif

/* ---- oneTBB ---------------------------------------------------------------- */

#ifdef PARC_BENCH_HAVE_TBB
static void *tbbb_create(void) { return bench_tbbbq_create(); }
static void tbbb_destroy(void *q) { bench_tbbbq_destroy(q); }
static bool tbbb_put(void *q, void *ctx, void *item)
{
    (void)ctx;
    return bench_tbbbq_push(q, item) == 0;
}
static void *tbbb_get(void *q, void *ctx)
{
    (void)ctx;
    return bench_tbbbq_pop(q);
}
static bool tbbb_try_get(void *q, void *ctx, void **item)
{
    (void)ctx;
    return bench_tbbbq_try_pop(q, item) == 0;
}
static const qm_ops_t tbbb_ops = { tbbb_create, tbbb_destroy, NULL, NULL,
                                   tbbb_put, tbbb_get, tbbb_try_get, false };
REGISTER(tbbb, "tbb-bounded", tbbb_ops)

REGISTER(tbbq, "tbb-queue", qm_tbbq_ops)
#endif

/* ---- moodycamel BlockingConcurrentQueue ------------------------------------ */

#ifdef PARC_BENCH_HAVE_MOODYCAMEL
static void *mcb_create(void) { return bench_mcb_create(1024); }
static void mcb_destroy(void *q) { bench_mcb_destroy(q); }
static bool mcb_put(void *q, void *ctx, void *item)
{
    (void)ctx;
    return bench_mcb_enqueue(q, item) == 0;
}
static void *mcb_get(void *q, void *ctx)
{
    (void)ctx;
    void *item;
    (void)bench_mcb_wait_dequeue(q, &item, -1); /* forever: always 0 */
    return item;
}
static bool mcb_try_get(void *q, void *ctx, void **item)
{
    (void)ctx;
    return bench_mcb_try_dequeue(q, item) == 0;
}
static const qm_ops_t mcb_ops = { mcb_create, mcb_destroy, NULL, NULL,
                                  mcb_put, mcb_get, mcb_try_get, false };
REGISTER(mcb, "moodycamel-blocking", mcb_ops)
#endif
