/*
 * bench/xfer.h — the transfer harness shared by the queue benchmarks
 * (bench_spsc.c, bench_mpsc.c, bench_mpmc.c): P producers hand numbered
 * items to C consumers through a queue, and every run is verified.
 *
 * Items. Producer k pushes the items of its share [start, start + n) of
 * the run, in order, each as XFER_ITEM(k, i): k in the high bits, 1 + i
 * in the low ones (never 0: several peers use NULL as "no item"). A
 * consumer checks, for every item it pops, that the item's sequence is
 * above the last one it popped from the same producer (per-producer FIFO
 * as each consumer sees it: every queue here promises that much), and
 * counts the items, their sum and the sum of their squares. The run
 * fails (BENCH_FAILED: parc-bench then exits non-zero) unless the counts
 * and both sums popped equal those pushed. With one consumer that is
 * exactly-once outright (a strictly increasing sequence per producer
 * cannot repeat an item, and the count then rules out a loss); with
 * several, a duplicate in one consumer and a loss elsewhere would have to
 * leave both power sums unchanged, which no pair and no two pairs of
 * distinct items do.
 *
 * Waiting policies: each point says which (its arg has XFER_POLL or not),
 * and every case of the point uses that policy:
 *   block  the queue's own blocking pop (and blocking push when bounded)
 *          where it has one; a queue with none is polled as below (what
 *          its users do), and the case list says so;
 *   poll   the try forms on both sides, and after each miss the same
 *          generic spin-then-yield for every implementation:
 *          bench_wait_poll() (bench.h: 2048 PAUSEs, ~50-80 us, then a
 *          sched_yield per further miss; the count restarts per item).
 * Pinning is the framework's --pin (worker i on the i-th allowed CPU).
 *
 * The including file defines, before it uses XFER_CASE:
 *   BENCH_NAME  the benchmark the cases register with (BENCH_DEFINE'd)
 *   CAPACITY    the capacity each case's create() gets (may use `r`)
 * and, at its end, includes bench/xfer_peers.h for the peers every queue
 * benchmark shares (moodycamel, GLib, a pthread mutex+cond ring, and
 * atomic_queue where it defines XFER_BOUNDED).
 */
#ifndef PARC_BENCH_XFER_H
#define PARC_BENCH_XFER_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "parc/atomic.h"

/* Point arg: the producer count, or-ed with XFER_POLL for the poll
 * policy; the other threads of the point consume. */
#define XFER_POLL 0x100L
#define XFER_PRODUCERS(arg) ((int)((arg) & 0xff))
#define XFER_POLLS(arg) (((arg) & XFER_POLL) != 0)
#define XFER_MAX_PRODUCERS 16

/* Items: the producer in the high bits, 1 + the run's index below. */
#define XFER_SEQ_BITS 40
#define XFER_SEQ_MASK ((UINT64_C(1) << XFER_SEQ_BITS) - 1)
#define XFER_ITEM(k, i) \
    ((void *)(uintptr_t)(((uint64_t)(k) << XFER_SEQ_BITS) | ((uint64_t)(i) + 1)))
/* The run's index of an item (for intrusive queues: which node). */
#define XFER_INDEX(item) ((((uint64_t)(uintptr_t)(item)) & XFER_SEQ_MASK) - 1)

typedef struct xfer {
    void *queue;
    int producers;
    int nonblocking;                                  /* may stop early */
    int unordered;                                    /* XFER_UNORDERED */
    PARC_CACHE_ALIGNED parc_atomic(int) stop;         /* a convoy: wind down */
    parc_atomic(int) producers_done;
    parc_atomic(int) bad;                             /* an order check failed */
    parc_atomic(uint64_t) pushed;                     /* items, once done */
    parc_atomic(uint64_t) pushed_sum;
    parc_atomic(uint64_t) pushed_sum2;
    parc_atomic(uint64_t) popped;                     /* items, in drain mode */
    parc_atomic(uint64_t) popped_sum;
    parc_atomic(uint64_t) popped_sum2;
} xfer_t;

/* One side's tally (a worker's own, on its stack). */
typedef struct xfer_tally {
    uint64_t count, sum, sum2;
    uint64_t last[XFER_MAX_PRODUCERS]; /* consumer: last sequence per producer */
    int bad;
    int unordered; /* the queue does not promise per-producer FIFO */
} xfer_tally_t;

static inline void xfer_pushed(xfer_tally_t *t, void *item)
{
    uint64_t v = (uint64_t)(uintptr_t)item;
    t->count++;
    t->sum += v;
    t->sum2 += v * v;
}

static inline void xfer_popped(xfer_tally_t *t, void *item, int producers)
{
    uint64_t v = (uint64_t)(uintptr_t)item;
    uint64_t k = v >> XFER_SEQ_BITS, seq = v & XFER_SEQ_MASK;
    if (k >= (uint64_t)producers || (seq <= t->last[k] && !t->unordered))
        t->bad = 1; /* out of order, repeated, or not an item at all */
    else
        t->last[k] = seq;
    t->count++;
    t->sum += v;
    t->sum2 += v * v;
}

static inline void xfer_add_pushed(xfer_t *x, const xfer_tally_t *t)
{
    parc_raw_faa(&x->pushed_sum, t->sum, PARC_RELAXED);
    parc_raw_faa(&x->pushed_sum2, t->sum2, PARC_RELAXED);
    parc_raw_faa(&x->pushed, t->count, PARC_RELAXED);
    /* release: our counts before "done"; pairs with the drain's acquire */
    parc_raw_faa(&x->producers_done, 1, PARC_RELEASE);
}

static inline void xfer_add_popped(xfer_t *x, const xfer_tally_t *t)
{
    parc_raw_faa(&x->popped_sum, t->sum, PARC_RELAXED);
    parc_raw_faa(&x->popped_sum2, t->sum2, PARC_RELAXED);
    if (t->bad)
        parc_raw_store(&x->bad, 1, PARC_RELAXED);
}

/* After the run (the workers joined): 0 when everything pushed popped
 * once and in order, else BENCH_FAILED. */
static inline int64_t xfer_verdict(xfer_t *x, int64_t ns)
{
    if (ns < 0)
        return ns;
    if (parc_raw_load(&x->bad, PARC_RELAXED) ||
        parc_raw_load(&x->popped, PARC_RELAXED) != parc_raw_load(&x->pushed, PARC_RELAXED) ||
        parc_raw_load(&x->popped_sum, PARC_RELAXED) !=
            parc_raw_load(&x->pushed_sum, PARC_RELAXED) ||
        parc_raw_load(&x->popped_sum2, PARC_RELAXED) !=
            parc_raw_load(&x->pushed_sum2, PARC_RELAXED)) {
        fprintf(stderr, "xfer: %llu items pushed, %llu popped, sums %s, order %s\n",
                (unsigned long long)parc_raw_load(&x->pushed, PARC_RELAXED),
                (unsigned long long)parc_raw_load(&x->popped, PARC_RELAXED),
                parc_raw_load(&x->popped_sum, PARC_RELAXED) ==
                            parc_raw_load(&x->pushed_sum, PARC_RELAXED) &&
                        parc_raw_load(&x->popped_sum2, PARC_RELAXED) ==
                            parc_raw_load(&x->pushed_sum2, PARC_RELAXED)
                    ? "equal"
                    : "differ",
                parc_raw_load(&x->bad, PARC_RELAXED) ? "broken" : "kept");
        return BENCH_FAILED; /* lost, duplicated or reordered */
    }
    return ns;
}

/* The generic wait after a miss, the same for every case (see above). */
#define xfer_wait(polls) bench_wait_poll(polls)

/* Case kinds (XFER_CASE's last argument):
 *   XFER_BLOCKS        its block forms block (a block point cannot stop
 *                      them early);
 *   XFER_NB            it has no blocking forms: the block point polls
 *                      its try forms too;
 *   XFER_SPINS_INSIDE  as XFER_NB, and its calls themselves spin on a
 *                      preempted thread (ck_ring's MPMC waits inside
 *                      enqueue for earlier producers to publish): it
 *                      cannot be stopped from outside, so when threads
 *                      outnumber cores a run hands over only
 *                      XFER_CONVOY_ITEMS items (its throughput is what is
 *                      measured, not its patience);
 * or-ed with XFER_POLL_ONLY for a case that exists only under the poll
 * policy (skipped at block points), and with XFER_UNORDERED for a queue
 * that does not promise per-producer FIFO (its runs are checked for
 * count and sums only). */
#define XFER_BLOCKS 0
#define XFER_NB 1
#define XFER_SPINS_INSIDE 2
#define XFER_POLL_ONLY 4
#define XFER_UNORDERED 8
#define XFER_CONVOY_ITEMS 4096u

/* BENCH_CASE with its benchmark name macro-expanded first. */
#define XFER_REGISTER(name, impl, fn) BENCH_CASE(name, impl, fn)

/* The k-th of n equal shares of `ops`: [*start, *start + *count). */
static inline void share_of(uint64_t ops, int n, int k, uint64_t *start,
                            uint64_t *count)
{
    uint64_t base = ops / (uint64_t)n, extra = ops % (uint64_t)n;
    *count = base + ((uint64_t)k < extra);
    *start = base * (uint64_t)k + ((uint64_t)k < extra ? (uint64_t)k : extra);
}

/* For the cases that may stop early only: true (and the run winds down)
 * once it has lasted several times its target, i.e. it convoys. */
static inline int xfer_overrun(xfer_t *x, const bench_worker_t *w, uint32_t polls)
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

/* A consumer that stopped early pops whatever was pushed until every
 * producer is done and every item is out. */
#define XFER_DRAIN_(x, q, pop, t)                                           \
    for (uint32_t dpolls = 0;;) {                                           \
        void *dv = NULL;                                                    \
        if (pop(q, &dv) == 0) {                                             \
            xfer_popped(&(t), dv, (x)->producers);                          \
            parc_raw_faa(&(x)->popped, 1, PARC_RELAXED);                    \
            continue;                                                       \
        }                                                                   \
        /* acquire: the producers' counts; pairs with their release */     \
        if (parc_raw_load(&(x)->producers_done, PARC_ACQUIRE) ==            \
                (x)->producers &&                                           \
            parc_raw_load(&(x)->popped, PARC_RELAXED) ==                    \
                parc_raw_load(&(x)->pushed, PARC_RELAXED))                  \
            break;                                                          \
        xfer_wait(&dpolls);                                                 \
    }

/* One worker's body under one policy: push and pop are that policy's
 * forms; anything but 0 from them means "retry after a poll". */
#define XFER_BODY_(fn, type, bind, push, pop)                               \
    static void fn(bench_worker_t *w)                                       \
    {                                                                       \
        xfer_t *x = w->shared;                                              \
        type *q = x->queue;                                                 \
        uint64_t start, n, i;                                               \
        xfer_tally_t t;                                                     \
        memset(&t, 0, sizeof t);                                            \
        t.unordered = x->unordered;                                         \
        bind(q, w->id);                                                     \
        if (w->id < x->producers) {                                         \
            int k = w->id;                                                  \
            share_of(w->ops, x->producers, k, &start, &n);                  \
            for (i = start; i < start + n; i++) {                           \
                uint32_t polls = 0;                                         \
                while (push(q, XFER_ITEM(k, i)) != 0) {                     \
                    if (xfer_overrun(x, w, polls))                          \
                        goto produced;                                      \
                    xfer_wait(&polls);                                      \
                }                                                           \
                xfer_pushed(&t, XFER_ITEM(k, i));                           \
            }                                                               \
        produced:                                                           \
            xfer_add_pushed(x, &t);                                         \
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
                xfer_wait(&polls);                                          \
            }                                                               \
            xfer_popped(&t, v, x->producers);                               \
        }                                                                   \
        parc_raw_faa(&x->popped, i, PARC_RELAXED);                          \
        xfer_add_popped(x, &t);                                             \
        return;                                                             \
    drain:                                                                  \
        parc_raw_faa(&x->popped, i, PARC_RELAXED);                          \
        XFER_DRAIN_(x, q, pop, t)                                           \
        xfer_add_popped(x, &t);                                             \
    }

/* Run body over a fresh queue at the point's policy; the verdict. */
static inline int64_t xfer_run(bench_run_t *r, void *queue, int kind,
                               bench_body_fn body)
{
    xfer_t x;
    memset(&x, 0, sizeof x);
    x.queue = queue;
    x.producers = XFER_PRODUCERS(r->arg);
    int nb = kind & 3;
    x.unordered = (kind & XFER_UNORDERED) != 0;
    x.nonblocking = XFER_POLLS(r->arg) ? (nb ? nb : XFER_NB) : nb;
    if (x.nonblocking == XFER_SPINS_INSIDE && r->threads > bench_cpus() &&
        r->ops > XFER_CONVOY_ITEMS)
        r->ops = XFER_CONVOY_ITEMS;
    int64_t ns = bench_parallel(r, body, &x);
    r->items = parc_raw_load(&x.pushed, PARC_RELAXED);
    return xfer_verdict(&x, ns);
}

/*
 * XFER_CASE(tag, impl, type, create, destroy, bind,
 *           push_block, pop_block, push_poll, pop_poll, kind):
 * case `impl` over a `type *` made by create(capacity) (NULL: failed) and
 * freed by destroy; bind(q, worker id) runs first in each worker (peers
 * with per-thread tokens; xfer_no_bind otherwise). The _block forms serve
 * block points, the _poll forms poll points (a queue without blocking
 * forms passes its try forms for both, with kind XFER_NB). push(q, item)
 * and pop(q, &item) return 0 when done; anything else means "retry"
 * (full/empty), after xfer_wait. Called directly so that inline fast
 * paths stay inline. Cases that may stop early (see the kinds) and
 * convoy do: producers stop pushing, consumers drain what was pushed, and
 * the run counts what was handed over.
 */
#define XFER_CASE(tag, impl, type, create, destroy, bind, push_block,        \
                  pop_block, push_poll, pop_poll, kind)                     \
    XFER_BODY_(tag##_block_body, type, bind, push_block, pop_block)         \
    XFER_BODY_(tag##_poll_body, type, bind, push_poll, pop_poll)            \
    static int64_t tag##_case(bench_run_t *r)                               \
    {                                                                       \
        int polls = XFER_POLLS(r->arg);                                     \
        if (((kind) & XFER_POLL_ONLY) && !polls)                            \
            return BENCH_SKIPPED;                                           \
        xfer_polling = polls;                                               \
        type *q = create(CAPACITY);                                         \
        if (q == NULL)                                                      \
            return BENCH_FAILED;                                            \
        int64_t ns = xfer_run(r, q, (kind),                                 \
                              polls ? tag##_poll_body : tag##_block_body);  \
        destroy(q);                                                         \
        return ns;                                                          \
    }                                                                       \
    XFER_REGISTER(BENCH_NAME, impl, tag##_case)

/* The policy of the case being made: for a create() that makes only the
 * queue that policy uses. Set by the case before create (main thread). */
static int xfer_polling;

static inline void xfer_no_bind(void *q, int worker)
{
    (void)q;
    (void)worker;
}

/* Worker id of the calling thread, for peers whose calls take a token
 * (set by their bind). */
static _Thread_local int xfer_worker;

static inline void xfer_bind_worker(void *q, int worker)
{
    (void)q;
    xfer_worker = worker;
}

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
