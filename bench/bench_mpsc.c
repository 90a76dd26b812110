/*
 * bench/bench_mpsc.c — the mailbox: P producers send to one consumer
 * (parc/mpsc.h, Vyukov's intrusive MPSC queue).
 *
 * Points: 1 producer (a thread per core) and 3 producers (oversubscribed).
 *
 * Cases, each as its users would use it:
 *   parc        parc_mpsc_push (one exchange) and the blocking
 *               parc_mpsc_pop (spin, yield, then sleep on the eventcount
 *               after marking the queue empty); messages embed the node.
 *   parc-try    parc_mpsc_pop_try with the harness's poll-then-yield wait.
 *   urcu-wfcq   liburcu's wfcqueue: cds_wfcq_enqueue (one exchange) and,
 *               with a single consumer, __cds_wfcq_dequeue_blocking (no
 *               mutex needed; "blocking" only waits out an in-flight
 *               enqueue) with the poll-then-yield wait when empty; nodes
 *               embedded as for parc.
 *   moodycamel  ConcurrentQueue<void *> with producer tokens and a consumer
 *               token (per-producer FIFO, unbounded, never gives memory
 *               back).
 *   glib        GAsyncQueue push / pop (mutex + condition).
 *   pthread     a ring as large as the run under one mutex with two
 *               conditions.
 * The intrusive cases get one node per item, allocated before the run.
 * Every case checks that the sum of the items popped is the sum pushed.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"
#include "parc/mpsc.h"

#ifdef PARC_BENCH_HAVE_URCU
#define _LGPL_SOURCE /* the inline fast paths, as a performance-minded user would */
#include <urcu/wfcqueue.h>
#endif
#ifdef PARC_BENCH_HAVE_GLIB
#include <glib.h>
#endif
#ifdef PARC_BENCH_HAVE_MOODYCAMEL
#include "peer_moodycamel.h"
#endif

/* Intrusive queues need a node per item: "capacity" is the run's items. */
#define CAPACITY r->ops
#define BENCH_NAME mpsc

static const bench_point_t mpsc_points[] = {
    { "1 producer", 2, 1 }, /* arg: producers; one consumer */
    { "3 producers", 4, 3 },
    { NULL, 0, 0 },
};
BENCH_DEFINE(mpsc, "mailbox (MPSC): P producers send to one consumer", mpsc_points)

#define ITEM(i) ((void *)(uintptr_t)((i) + 1))
#define INDEX(item) ((uint64_t)(uintptr_t)(item) - 1)

/* ---- the transfer harness ------------------------------------------------ */

typedef struct xfer {
    void *queue;
    int producers;
    int nonblocking;                                  /* may stop early */
    PARC_CACHE_ALIGNED parc_atomic(int) stop;         /* a convoy: wind down */
    parc_atomic(int) producers_done;
    parc_atomic(uint64_t) pushed;                     /* items, once done */
    parc_atomic(uint64_t) pushed_sum;
    parc_atomic(uint64_t) popped;                     /* items, in drain mode */
    parc_atomic(uint64_t) popped_sum;
} xfer_t;

/* nb = XFER_SPINS_INSIDE: a non-blocking peer whose calls themselves spin
 * on a preempted thread (ck_ring's MPMC waits inside enqueue for earlier
 * producers to publish): it cannot be stopped from outside, so when
 * threads outnumber cores a run hands over only this many
 * items (its throughput is what is measured, not its patience). */
#define XFER_SPINS_INSIDE 2
#define XFER_CONVOY_ITEMS 4096u
static int bench_cpus_(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* BENCH_CASE with its benchmark name macro-expanded first. */
#define XFER_REGISTER(name, impl, fn) BENCH_CASE(name, impl, fn)

/* The k-th of n equal shares of `ops`: [*start, *start + *count). */
static void share_of(uint64_t ops, int n, int k, uint64_t *start, uint64_t *count)
{
    uint64_t base = ops / (uint64_t)n, extra = ops % (uint64_t)n;
    *count = base + ((uint64_t)k < extra);
    *start = base * (uint64_t)k + ((uint64_t)k < extra ? (uint64_t)k : extra);
}

/* For the non-blocking cases only: true (and the run winds down) once it
 * has lasted several times its target, i.e. it convoys. */
static int xfer_overrun(xfer_t *x, const bench_worker_t *w, uint32_t polls)
{
    if (!x->nonblocking)
        return 0;
    if (parc_raw_load(&x->stop, PARC_RELAXED))
        return 1;
    if ((polls & 255u) == 255u && bench_now_ns() > w->deadline_ns) {
        parc_raw_store(&x->stop, 1, PARC_RELAXED);
        return 1;
    }
    return 0;
}

/*
 * XFER_CASE(tag, impl, type, create, destroy, push, pop, nonblocking):
 * case `impl` over a `type *` made by create(capacity) (NULL: failed) and
 * freed by destroy. push(q, item) and pop(q, &item) return 0 when done;
 * anything else means "retry" (full/empty), after a poll. Called directly
 * so that inline fast paths stay inline. Non-blocking cases that convoy
 * stop early: producers stop pushing, consumers drain what was pushed, and
 * the run counts what was handed over.
 */
#define XFER_CASE(tag, impl, type, create, destroy, push, pop, nb)          \
    XFER_CASE_BOUND(tag, impl, type, create, destroy, no_bind, push, pop, nb)

static inline void no_bind(void *q, int worker)
{
    (void)q;
    (void)worker;
}

/* The same, calling bind(q, worker id) first in each worker (for peers
 * with per-thread tokens). */
#define XFER_CASE_BOUND(tag, impl, type, create, destroy, bind, push, pop, nb) \
    static void tag##_body(bench_worker_t *w)                               \
    {                                                                       \
        xfer_t *x = w->shared;                                              \
        type *q = x->queue;                                                 \
        uint64_t start, n, i, sum = 0;                                      \
        bind(q, w->id);                                                     \
        if (w->id < x->producers) {                                         \
            share_of(w->ops, x->producers, w->id, &start, &n);              \
            for (i = start; i < start + n; i++) {                           \
                uint32_t polls = 0;                                         \
                while (push(q, ITEM(i)) != 0) {                             \
                    if (xfer_overrun(x, w, polls))                          \
                        goto produced;                                      \
                    bench_wait_poll(&polls);                                \
                }                                                           \
                sum += (uint64_t)(uintptr_t)ITEM(i);                        \
            }                                                               \
        produced:                                                           \
            parc_raw_faa(&x->pushed_sum, sum, PARC_RELAXED);                \
            parc_raw_faa(&x->pushed, i - start, PARC_RELAXED);              \
            /* release: our counts before "done"; pairs with the drain */  \
            parc_raw_faa(&x->producers_done, 1, PARC_RELEASE);              \
            return;                                                         \
        }                                                                   \
        share_of(w->ops, w->threads - x->producers, w->id - x->producers,   \
                 &start, &n);                                               \
        void *v = NULL;                                                     \
        for (i = 0; i < n; i++) {                                           \
            uint32_t polls = 0;                                             \
            while (pop(q, &v) != 0) {                                       \
                if (xfer_overrun(x, w, polls))                              \
                    goto drain;                                             \
                bench_wait_poll(&polls);                                    \
            }                                                               \
            sum += (uint64_t)(uintptr_t)v;                                  \
        }                                                                   \
        parc_raw_faa(&x->popped, i, PARC_RELAXED);                          \
        parc_raw_faa(&x->popped_sum, sum, PARC_RELAXED);                    \
        return;                                                             \
    drain:                                                                  \
        parc_raw_faa(&x->popped, i, PARC_RELAXED);                          \
        for (uint32_t polls = 0;;) {                                        \
            if (pop(q, &v) == 0) {                                          \
                sum += (uint64_t)(uintptr_t)v;                              \
                parc_raw_faa(&x->popped, 1, PARC_RELAXED);                  \
                continue;                                                   \
            }                                                               \
            /* acquire: the producers' counts; pairs with their release */ \
            if (parc_raw_load(&x->producers_done, PARC_ACQUIRE) ==          \
                    x->producers &&                                         \
                parc_raw_load(&x->popped, PARC_RELAXED) ==                  \
                    parc_raw_load(&x->pushed, PARC_RELAXED))                \
                break;                                                      \
            bench_wait_poll(&polls);                                        \
        }                                                                   \
        parc_raw_faa(&x->popped_sum, sum, PARC_RELAXED);                    \
    }                                                                       \
    static int64_t tag##_case(bench_run_t *r)                               \
    {                                                                       \
        xfer_t x = { 0 };                                                   \
        x.queue = create(CAPACITY);                                         \
        if (x.queue == NULL)                                                \
            return BENCH_FAILED;                                            \
        x.producers = (int)r->arg;                                          \
        x.nonblocking = (nb);                                               \
        if ((nb) == XFER_SPINS_INSIDE && r->threads > bench_cpus_() &&      \
            r->ops > XFER_CONVOY_ITEMS)                                     \
            r->ops = XFER_CONVOY_ITEMS;                                     \
        int64_t ns = bench_parallel(r, tag##_body, &x);                     \
        destroy((type *)x.queue);                                           \
        r->items = parc_raw_load(&x.pushed, PARC_RELAXED);                  \
        if (parc_raw_load(&x.popped_sum, PARC_RELAXED) !=                   \
            parc_raw_load(&x.pushed_sum, PARC_RELAXED))                     \
            return BENCH_FAILED; /* an item lost or duplicated */           \
        return ns;                                                          \
    }                                                                       \
    XFER_REGISTER(BENCH_NAME, impl, tag##_case)

/* ---- parc ------------------------------------------------------------------ */

typedef struct pm {
    parc_mpsc_t q;
    parc_mpsc_node_t *nodes; /* node i carries item i */
} pm_t;

static pm_t *pm_make(size_t items)
{
    pm_t *m = aligned_alloc(PARC_CACHELINE, sizeof *m);
    if (m == NULL)
        return NULL;
    m->nodes = malloc((items + 1) * sizeof *m->nodes);
    if (m->nodes == NULL) {
        free(m);
        return NULL;
    }
    parc_mpsc_init(&m->q);
    return m;
}

static void pm_free(pm_t *m)
{
    parc_mpsc_destroy(&m->q);
    free(m->nodes);
    free(m);
}

static int pm_push(pm_t *m, void *item)
{
    return parc_mpsc_push(&m->q, &m->nodes[INDEX(item)], NULL);
}

static int pm_pop(pm_t *m, void **item)
{
    parc_mpsc_node_t *n;
    int rc = parc_mpsc_pop(&m->q, &n);
    if (rc == 0)
        *item = ITEM(n - m->nodes);
    return rc;
}

static int pm_pop_try(pm_t *m, void **item)
{
    parc_mpsc_node_t *n;
    int rc = parc_mpsc_pop_try(&m->q, &n);
    if (rc == 0)
        *item = ITEM(n - m->nodes);
    return rc;
}

XFER_CASE(parc_blocking, "parc", pm_t, pm_make, pm_free, pm_push, pm_pop, 0)
XFER_CASE(parc_try, "parc-try", pm_t, pm_make, pm_free, pm_push, pm_pop_try, 1)

/* ---- liburcu ------------------------------------------------------------- */

#ifdef PARC_BENCH_HAVE_URCU
typedef struct wq {
    struct cds_wfcq_head head;
    struct cds_wfcq_tail tail;
    struct cds_wfcq_node *nodes;
} wq_t;

static wq_t *wq_make(size_t items)
{
    wq_t *w = aligned_alloc(PARC_CACHELINE, sizeof *w);
    if (w == NULL)
        return NULL;
    w->nodes = malloc((items + 1) * sizeof *w->nodes);
    if (w->nodes == NULL) {
        free(w);
        return NULL;
    }
    cds_wfcq_init(&w->head, &w->tail);
    return w;
}

static void wq_free(wq_t *w)
{
    cds_wfcq_destroy(&w->head, &w->tail);
    free(w->nodes);
    free(w);
}

static int wq_push(wq_t *w, void *item)
{
    struct cds_wfcq_node *n = &w->nodes[INDEX(item)];
    cds_wfcq_node_init(n);
    cds_wfcq_enqueue(&w->head, &w->tail, n);
    return 0;
}

static int wq_pop(wq_t *w, void **item)
{
    struct cds_wfcq_node *n = __cds_wfcq_dequeue_blocking(&w->head, &w->tail);
    if (n == NULL)
        return EAGAIN;
    *item = ITEM(n - w->nodes);
    return 0;
}

XFER_CASE(urcu, "urcu-wfcq", wq_t, wq_make, wq_free, wq_push, wq_pop, 1)
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
