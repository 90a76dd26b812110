/*
 * bench/bench_queue.c — parc's blocking queue (parc/queue.h) against
 * moodycamel's BlockingConcurrentQueue (lock-free, spins then sleeps on a
 * semaphore), GLib's GAsyncQueue and a plain pthread mutex + condition
 * variable queue, each used through its blocking calls.
 *
 *   queue_pingpong  two threads, two queues: thread 0 puts into the first
 *                   and gets from the second, thread 1 the reverse. One op
 *                   is one round trip (two hand-offs). Every get usually
 *                   finds the queue empty and must wait, so this measures
 *                   the cost of a blocking hand-off: parc spins briefly
 *                   before parking (a futex wake-up costs ~45 us here),
 *                   as moodycamel does; GLib and the cond queue sleep in
 *                   the kernel at once. The xfloor column gives the round
 *                   trip as a multiple of the cache-line round trip.
 *   queue_transfer  one producer puts, one consumer gets, unbounded:
 *                   throughput of items handed over.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"
#include "parc/queue.h"

#ifdef PARC_BENCH_HAVE_GLIB
#include <glib.h>
#endif
#ifdef PARC_BENCH_HAVE_MOODYCAMEL
#include "peer_moodycamel.h"
#endif

static const bench_point_t pingpong_points[] = {
    { "round trip", 2, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(queue_pingpong, "blocking queue: a round trip between two threads via two queues",
             pingpong_points)

static const bench_point_t transfer_points[] = {
    { "1 producer 1 consumer", 2, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(queue_transfer, "blocking queue, unbounded: one producer hands items to one consumer",
             transfer_points)

#define ITEM(i) ((void *)(uintptr_t)((i) + 1))

/* One implementation behind blocking put/get, for both workloads. */
typedef struct ops {
    void *(*create)(void);
    void (*destroy)(void *q);
    void (*put)(void *q, void *item);
    void *(*get)(void *q);
} ops_t;

typedef struct pair {
    const ops_t *ops;
    void *q[2];
} pair_t;

static void pingpong_body(bench_worker_t *w)
{
    pair_t *p = w->shared;
    void *there = p->q[w->id], *back = p->q[1 - w->id];
    uint64_t sum = 0;
    for (uint64_t i = 0; i < w->ops; i++) {
        if (w->id == 0) {
            p->ops->put(there, ITEM(i));
            sum += (uintptr_t)p->ops->get(back);
        } else {
            p->ops->put(there, p->ops->get(back));
        }
    }
    bench_consume(sum);
}

static void transfer_body(bench_worker_t *w)
{
    pair_t *p = w->shared;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < w->ops; i++) {
        if (w->id == 0)
            p->ops->put(p->q[0], ITEM(i));
        else
            sum += (uintptr_t)p->ops->get(p->q[0]);
    }
    bench_consume(sum);
}

static int64_t run(bench_run_t *r, const ops_t *ops, bench_body_fn body)
{
    pair_t p = { ops, { ops->create(), ops->create() } };
    if (p.q[0] == NULL || p.q[1] == NULL)
        return BENCH_FAILED;
    int64_t ns = bench_parallel(r, body, &p);
    r->items = r->ops;
    ops->destroy(p.q[0]);
    ops->destroy(p.q[1]);
    return ns;
}

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
static void parc_put(void *q, void *item)
{
    if (parc_queue_put(q, item) != 0)
        abort();
}
static void *parc_get(void *q)
{
    void *item;
    if (parc_queue_get(q, &item) != 0)
        abort();
    return item;
}
static const ops_t parc_ops = { parc_create, parc_destroy, parc_put, parc_get };
static int64_t parc_pingpong(bench_run_t *r) { return run(r, &parc_ops, pingpong_body); }
static int64_t parc_transfer(bench_run_t *r) { return run(r, &parc_ops, transfer_body); }
BENCH_CASE(queue_pingpong, "parc", parc_pingpong)
BENCH_CASE(queue_transfer, "parc", parc_transfer)

/* ---- moodycamel BlockingConcurrentQueue --------------------------------- */

#ifdef PARC_BENCH_HAVE_MOODYCAMEL
static void *mcb_create(void) { return bench_mcb_create(1024); }
static void mcb_destroy(void *q) { bench_mcb_destroy(q); }
static void mcb_put(void *q, void *item)
{
    if (bench_mcb_enqueue(q, item) != 0)
        abort();
}
static void *mcb_get(void *q)
{
    void *item;
    (void)bench_mcb_wait_dequeue(q, &item, -1); /* forever: always 0 */
    return item;
}
static const ops_t mcb_ops = { mcb_create, mcb_destroy, mcb_put, mcb_get };
static int64_t mcb_pingpong(bench_run_t *r) { return run(r, &mcb_ops, pingpong_body); }
static int64_t mcb_transfer(bench_run_t *r) { return run(r, &mcb_ops, transfer_body); }
BENCH_CASE(queue_pingpong, "moodycamel-blocking", mcb_pingpong)
BENCH_CASE(queue_transfer, "moodycamel-blocking", mcb_transfer)
#endif

/* ---- GLib GAsyncQueue ---------------------------------------------------- */

#ifdef PARC_BENCH_HAVE_GLIB
static void *glib_create(void) { return g_async_queue_new(); }
static void glib_destroy(void *q) { g_async_queue_unref(q); }
static void glib_put(void *q, void *item) { g_async_queue_push(q, item); }
static void *glib_get(void *q) { return g_async_queue_pop(q); }
static const ops_t glib_ops = { glib_create, glib_destroy, glib_put, glib_get };
static int64_t glib_pingpong(bench_run_t *r) { return run(r, &glib_ops, pingpong_body); }
static int64_t glib_transfer(bench_run_t *r) { return run(r, &glib_ops, transfer_body); }
BENCH_CASE(queue_pingpong, "glib-async", glib_pingpong)
BENCH_CASE(queue_transfer, "glib-async", glib_transfer)
#endif

/* ---- pthread mutex + condition variable: the textbook queue --------------- */

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
static void condq_put(void *p, void *item)
{
    condq_t *q = p;
    pthread_mutex_lock(&q->lock);
    if (q->count == q->cap) { /* grow, unwrapping the ring */
        void **n = malloc(2 * q->cap * sizeof n[0]);
        if (n == NULL)
            abort();
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
}
static void *condq_get(void *p)
{
    condq_t *q = p;
    pthread_mutex_lock(&q->lock);
    while (q->count == 0)
        pthread_cond_wait(&q->nonempty, &q->lock);
    void *item = q->ring[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    pthread_mutex_unlock(&q->lock);
    return item;
}
static const ops_t condq_ops = { condq_create, condq_destroy, condq_put, condq_get };
static int64_t condq_pingpong(bench_run_t *r) { return run(r, &condq_ops, pingpong_body); }
static int64_t condq_transfer(bench_run_t *r) { return run(r, &condq_ops, transfer_body); }
BENCH_CASE(queue_pingpong, "pthread-cond", condq_pingpong)
BENCH_CASE(queue_transfer, "pthread-cond", condq_transfer)
