/*
 * bench/xfer.h — the transfer harness shared by the queue benchmarks
 * (bench_spsc.c, bench_mpsc.c, bench_mpmc.c): P producers hand numbered
 * items to C consumers through a queue, and the run checks that the sum
 * popped is the sum pushed.
 *
 * The including file defines, before it uses XFER_CASE:
 *   BENCH_NAME  the benchmark the cases register with (BENCH_DEFINE'd)
 *   CAPACITY    the capacity each case's create() gets (may use `r`)
 *   ITEM(i)     the item pushed as the i-th (non-NULL)
 * and, at its end, may include bench/xfer_peers.h for the peers every
 * queue benchmark shares (moodycamel, GLib, a pthread mutex+cond ring).
 */
#ifndef PARC_BENCH_XFER_H
#define PARC_BENCH_XFER_H

#include <stdint.h>

#include "bench.h"
#include "parc/atomic.h"

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
        if ((nb) == XFER_SPINS_INSIDE && r->threads > bench_cpus() &&      \
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

#ifdef PARC_BENCH_HAVE_CK
#include <stdlib.h>

#include <ck_ring.h>

/* Concurrency Kit's ring as a transfer-harness queue: the benchmarks add
 * push/pop with the ck_ring variant they compare (spsc, mpmc). */
typedef struct ckr {
    PARC_CACHE_ALIGNED ck_ring_t ring;
    ck_ring_buffer_t *buf;
} ckr_t;

static inline ckr_t *ckr_make(size_t capacity)
{
    ckr_t *q = aligned_alloc(PARC_CACHELINE, sizeof *q);
    if (q == NULL)
        return NULL;
    /* ck_ring needs a power of two and holds size - 1 items: 1023 here
     * against parc's 1024 (doubling it would flatter ck: under preemption
     * a larger ring batches more per time slice). */
    if ((q->buf = calloc(capacity, sizeof *q->buf)) == NULL) {
        free(q);
        return NULL;
    }
    ck_ring_init(&q->ring, (unsigned)capacity);
    return q;
}

static inline void ckr_free(ckr_t *q)
{
    free(q->buf);
    free(q);
}
#endif

#endif /* PARC_BENCH_XFER_H */
