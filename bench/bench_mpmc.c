/*
 * bench/bench_mpmc.c — bounded MPMC rings: P producers hand items to C
 * consumers through a ring of 1024 slots (parc/mpmc.h, Vyukov's queue).
 *
 * Points: 1P/1C (one thread per core), 2P/2C, and two oversubscribed ones,
 * 3P/1C and 4P/4C, where a thread is often preempted between claiming a
 * cell and publishing it. A queue that makes everyone spin on such a cell
 * convoys there (ck_ring's MPMC is the known case); parc's blocking forms
 * sleep on an eventcount instead, and should keep at 3P/1C and 4P/4C at
 * least half of their own 1P/1C figure.
 *
 * Cases, each as its users would use it:
 *   parc        parc_mpmc_push/pop: the blocking forms (bounded spin, then
 *               the eventcount).
 *   parc-try    parc_mpmc_push_try/pop_try with the harness's poll-then-
 *               yield wait (bench_wait_poll), like the spinning peers.
 *   ck-ring     ck_ring_enqueue_mpmc/dequeue_mpmc (bounded, non-blocking)
 *               with the same poll-then-yield wait.
 *   moodycamel  ConcurrentQueue<void *> with producer and consumer tokens
 *               (unbounded: it never says "full"; per-producer FIFO only).
 *   glib        GAsyncQueue push / pop (unbounded; mutex + condition).
 *   pthread     a 1024-slot ring under one mutex with two conditions.
 * Every case checks that the sum of the items popped is the sum pushed.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"
#include "parc/mpmc.h"

#ifdef PARC_BENCH_HAVE_CK
#include <ck_ring.h>
#endif
#ifdef PARC_BENCH_HAVE_GLIB
#include <glib.h>
#endif
#ifdef PARC_BENCH_HAVE_MOODYCAMEL
#include "peer_moodycamel.h"
#endif

#define CAPACITY 1024
#define BENCH_NAME mpmc

static const bench_point_t mpmc_points[] = {
    { "1P/1C", 2, 1 }, /* arg: producers; the other threads consume */
    { "2P/2C", 4, 2 },
    { "3P/1C", 4, 3 },
    { "4P/4C", 8, 4 },
    { NULL, 0, 0 },
};
BENCH_DEFINE(mpmc, "bounded MPMC ring (1024 slots): P producers hand items to C consumers",
             mpmc_points)

#define ITEM(i) ((void *)(uintptr_t)((i) + 1))

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

static parc_mpmc_t *parc_make(size_t capacity)
{
    parc_mpmc_t *q;
    return parc_mpmc_create(&q, capacity) == 0 ? q : NULL;
}

XFER_CASE(parc_blocking, "parc", parc_mpmc_t, parc_make, parc_mpmc_free,
          parc_mpmc_push, parc_mpmc_pop, 0)
XFER_CASE(parc_try, "parc-try", parc_mpmc_t, parc_make, parc_mpmc_free,
          parc_mpmc_push_try, parc_mpmc_pop_try, 1)

/* ---- Concurrency Kit --------------------------------------------------- */

#ifdef PARC_BENCH_HAVE_CK
typedef struct ckr {
    PARC_CACHE_ALIGNED ck_ring_t ring;
    ck_ring_buffer_t *buf;
} ckr_t;

static ckr_t *ckr_make(size_t capacity)
{
    ckr_t *q = aligned_alloc(PARC_CACHELINE, sizeof *q);
    if (q == NULL)
        return NULL;
    /* ck_ring needs a power of two and holds size - 1 items: 1023 here
     * against parc's 1024 (doubling it would flatter ck: under preemption
     * a larger ring batches more per time slice). */
    q->buf = calloc(capacity, sizeof *q->buf);
    ck_ring_init(&q->ring, (unsigned)capacity);
    return q;
}

static void ckr_free(ckr_t *q)
{
    free(q->buf);
    free(q);
}

static int ckr_push(ckr_t *q, void *item)
{
    return ck_ring_enqueue_mpmc(&q->ring, q->buf, item) ? 0 : EAGAIN;
}

static int ckr_pop(ckr_t *q, void **item)
{
    return ck_ring_dequeue_mpmc(&q->ring, q->buf, item) ? 0 : EAGAIN;
}

XFER_CASE(ck, "ck-ring", ckr_t, ckr_make, ckr_free, ckr_push, ckr_pop,
          XFER_SPINS_INSIDE)
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
