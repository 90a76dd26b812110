/*
 * bench/xfer_peers.h — the peer cases every queue benchmark shares:
 * moodycamel's ConcurrentQueue with tokens (when found), GLib's
 * GAsyncQueue (when found) and a pthread mutex + two conditions ring.
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
#ifdef PARC_BENCH_HAVE_MOODYCAMEL
#include "peer_moodycamel.h"
#endif

/* ---- moodycamel -------------------------------------------------------- */

#ifdef PARC_BENCH_HAVE_MOODYCAMEL
/* Tokens are per thread: a small table indexed by the worker, made before
 * the run (a token is created against its queue). */
typedef struct mc {
    bench_mc_queue_t *q;
    bench_mc_ptok_t *ptok[16];
    bench_mc_ctok_t *ctok[16];
} mc_t;

static _Thread_local int mc_slot; /* this worker's token index (< 16) */

static mc_t *mc_make(size_t capacity)
{
    mc_t *m = calloc(1, sizeof *m);
    if (m == NULL || (m->q = bench_mc_create(capacity)) == NULL) {
        free(m);
        return NULL;
    }
    for (int i = 0; i < 16; i++) {
        m->ptok[i] = bench_mc_ptok_create(m->q);
        m->ctok[i] = bench_mc_ctok_create(m->q);
    }
    return m;
}

static void mc_free(mc_t *m)
{
    for (int i = 0; i < 16; i++) {
        bench_mc_ptok_destroy(m->ptok[i]);
        bench_mc_ctok_destroy(m->ctok[i]);
    }
    bench_mc_destroy(m->q);
    free(m);
}

static int mc_push(mc_t *m, void *item)
{
    return bench_mc_enqueue_tok(m->q, m->ptok[mc_slot], item);
}

static int mc_pop(mc_t *m, void **item)
{
    return bench_mc_try_dequeue_tok(m->q, m->ctok[mc_slot], item);
}

static void mc_bind(mc_t *m, int worker)
{
    (void)m;
    mc_slot = worker;
}

XFER_CASE_BOUND(mc, "moodycamel", mc_t, mc_make, mc_free, mc_bind, mc_push, mc_pop, 1)
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

XFER_CASE(glib, "glib", GAsyncQueue, glib_make, g_async_queue_unref, glib_push, glib_pop, 0)
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

XFER_CASE(pthread, "pthread", pq_t, pq_make, pq_free, pq_push, pq_pop, 0)
