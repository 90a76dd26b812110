/*
 * bench/qmatrix.h — the streaming and ping-pong matrix shared by
 * bench/bench_queue.c (blocking queues) and bench/bench_lfqueue.c
 * (non-blocking queues): one harness, so that every implementation in a
 * case runs the same loop with the same waiting policy.
 *
 * Streaming: P producers each put their share of r->ops items, then C
 * stop markers; C consumers get until each has seen P stop markers (so
 * every consumer leaves, and since each producer's markers follow its
 * items, every item was taken by then, in a queue that keeps at least
 * per-producer FIFO order). Points: 1P1C, 3P1C, 2P2C and 4P4C (8 threads
 * on however many cores: oversubscribed on small machines).
 *
 * Consumers either block (the queue's own blocking get) or poll: a
 * try-get, and while it fails bench_wait_poll() (relax, then yield): the
 * same spin-then-yield policy for every implementation. An implementation
 * without the form needed at a point is skipped there.
 *
 * Verification, every run: an item is (producer + 1) << 40 | (sequence +
 * 1); each consumer checks that every producer's sequence numbers it sees
 * increase (per-producer FIFO; global FIFO is stronger), and the run checks
 * that the consumers together saw each producer's count, sum and sum of
 * squares of sequence numbers (exactly once: a lost and a duplicated item
 * would have to agree on both sums to pass). A run that fails returns
 * BENCH_FAILED, and parc-bench exits non-zero.
 *
 * A run that convoys (an implementation that spins inside its calls on a
 * preempted thread, with more threads than cores) would take minutes:
 * its producers stop early once the run has lasted several times its
 * target (bench_overrun), the markers still follow, and the run counts
 * the items actually handed over. The same rule for every implementation.
 *
 * Ping-pong: two threads and two queues; thread 0 puts into the first and
 * gets from the second, thread 1 the reverse; one op is a round trip. The
 * count and sum of what comes back are checked.
 *
 * Each implementation is a qm_ops_t: create/destroy, an optional per-thread
 * context (for peers whose nodes or tokens are per thread: wfcqueue's
 * preallocated nodes, moodycamel's tokens), put, and get and/or try_get.
 * Calls go through function pointers for every implementation alike.
 */
#ifndef PARC_BENCH_QMATRIX_H
#define PARC_BENCH_QMATRIX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"
#include "parc/atomic.h"

typedef struct qm_ops {
    void *(*create)(void);              /* NULL: out of memory */
    void (*destroy)(void *q);
    /* Optional: a worker's context, made by the worker before its loop
     * (inside the timed run: `puts` is how many items it will put, markers
     * included; 0 for a consumer); freed by thread_fini. */
    void *(*thread_init)(void *q, uint64_t puts);
    void (*thread_fini)(void *q, void *ctx);
    /* Put item (non-NULL); returns false when it could not (a failure of
     * the run). A bounded peer polls (bench_wait_poll) while full. */
    bool (*put)(void *q, void *ctx, void *item);
    /* Blocking get (NULL: the implementation has none). */
    void *(*get)(void *q, void *ctx);
    /* Try-get: true with *item set, false when it looked empty (NULL: the
     * implementation has none). */
    bool (*try_get)(void *q, void *ctx, void **item);
    /* True for a peer that does not keep even per-producer FIFO order
     * (atomic_queue: see bench_lfqueue.c): only exactly-once is checked,
     * and the table says so in the case's name. */
    bool unordered;
} qm_ops_t;

#define QM_STOP ((void *)(uintptr_t)1)
#define QM_ITEM(p, seq) ((void *)(uintptr_t)(((uint64_t)(p) + 1) << 40 | ((uint64_t)(seq) + 1)))
#define QM_MAX_PRODUCERS 64

/* Points: label, threads, arg = producers. */
#define QM_STREAM_POINTS                                                   \
    { "1P1C", 2, 1, NULL }, { "3P1C", 4, 3, NULL }, { "2P2C", 4, 2, NULL }, \
    { "4P4C (oversubscribed)", 8, 4, NULL }, { NULL, 0, 0, NULL }

typedef struct qm_totals {
    uint64_t count, sum, sumsq;
} qm_totals_t;

typedef struct qm_run {
    const qm_ops_t *ops;
    void *q[2];
    int producers;
    bool poll;
    PARC_CACHE_ALIGNED parc_atomic(int) failed;
    parc_atomic(int) lock; /* guards seen[] at the end of a consumer */
    qm_totals_t seen[QM_MAX_PRODUCERS];
    uint64_t produced[QM_MAX_PRODUCERS]; /* items each producer put */
} qm_run_t;

static inline uint64_t qm_share(uint64_t ops, int n, int k)
{
    return ops / (uint64_t)n + ((uint64_t)k < ops % (uint64_t)n);
}

static inline void *qm_take(qm_run_t *x, void *q, void *ctx)
{
    void *v;
    if (!x->poll)
        return x->ops->get(q, ctx);
    uint32_t polls = 0;
    while (!x->ops->try_get(q, ctx, &v))
        bench_wait_poll(&polls);
    return v;
}

static inline void qm_fail(qm_run_t *x)
{
    parc_raw_store(&x->failed, 1, PARC_RELAXED);
}

static inline void qm_stream_body(bench_worker_t *w)
{
    qm_run_t *x = w->shared;
    int P = x->producers, C = w->threads - P;
    void *q = x->q[0];
    if (w->id < P) {
        uint64_t n = qm_share(w->ops, P, w->id);
        void *ctx = x->ops->thread_init ? x->ops->thread_init(q, n + (uint64_t)C) : NULL;
        uint64_t i;
        for (i = 0; i < n; i++) {
            if (bench_overrun(w, i))
                break; /* a convoy: stop early; the markers still follow */
            if (!x->ops->put(q, ctx, QM_ITEM(w->id, i)))
                qm_fail(x);
        }
        x->produced[w->id] = i; /* read after the join */
        for (int c = 0; c < C; c++)
            if (!x->ops->put(q, ctx, QM_STOP))
                qm_fail(x);
        if (x->ops->thread_fini)
            x->ops->thread_fini(q, ctx);
        return;
    }
    void *ctx = x->ops->thread_init ? x->ops->thread_init(q, 0) : NULL;
    qm_totals_t mine[QM_MAX_PRODUCERS] = { { 0, 0, 0 } };
    uint64_t last[QM_MAX_PRODUCERS] = { 0 };
    for (int stops = 0; stops < P;) {
        void *v = qm_take(x, q, ctx);
        if (v == QM_STOP) {
            stops++;
            continue;
        }
        uint64_t p = ((uint64_t)(uintptr_t)v >> 40) - 1;
        uint64_t seq = (uint64_t)(uintptr_t)v & ((UINT64_C(1) << 40) - 1);
        if (p >= (uint64_t)P || (seq <= last[p] && !x->ops->unordered)) { /* unknown, repeated or out of order */
            qm_fail(x);
            continue;
        }
        last[p] = seq;
        mine[p].count++;
        mine[p].sum += seq;
        mine[p].sumsq += seq * seq;
    }
    if (x->ops->thread_fini)
        x->ops->thread_fini(q, ctx);
    int unlocked = 0;
    while (!parc_raw_cas(&x->lock, &unlocked, 1, PARC_ACQUIRE, PARC_RELAXED)) {
        unlocked = 0; /* acquire: the totals other consumers added */
        bench_wait_poll(&(uint32_t){ 0 });
    }
    for (int p = 0; p < P; p++) {
        x->seen[p].count += mine[p].count;
        x->seen[p].sum += mine[p].sum;
        x->seen[p].sumsq += mine[p].sumsq;
    }
    parc_raw_store(&x->lock, 0, PARC_RELEASE); /* release: our totals */
}

static inline void qm_pingpong_body(bench_worker_t *w)
{
    qm_run_t *x = w->shared;
    void *there = x->q[w->id], *back = x->q[1 - w->id];
    void *ctx = x->ops->thread_init ? x->ops->thread_init(there, w->ops) : NULL;
    uint64_t sum = 0, expect = 0;
    for (uint64_t i = 0; i < w->ops; i++) {
        if (w->id == 0) {
            if (!x->ops->put(there, ctx, QM_ITEM(0, i)))
                qm_fail(x);
            sum += (uintptr_t)qm_take(x, back, ctx);
            expect += (uintptr_t)QM_ITEM(0, i);
        } else {
            if (!x->ops->put(there, ctx, qm_take(x, back, ctx)))
                qm_fail(x);
        }
    }
    if (x->ops->thread_fini)
        x->ops->thread_fini(there, ctx);
    if (sum != expect)
        qm_fail(x);
}

/* Run one streaming point (poll: consumers poll) of implementation ops. */
static inline int64_t qm_stream(bench_run_t *r, const qm_ops_t *ops, bool poll)
{
    if (poll ? ops->try_get == NULL : ops->get == NULL)
        return BENCH_SKIPPED;
    int P = (int)r->arg;
    if (P < 1 || P >= r->threads || P > QM_MAX_PRODUCERS)
        return BENCH_FAILED;
    qm_run_t *x = calloc(1, sizeof *x);
    if (x == NULL)
        return BENCH_FAILED;
    x->ops = ops;
    x->producers = P;
    x->poll = poll;
    x->q[0] = ops->create();
    if (x->q[0] == NULL) {
        free(x);
        return BENCH_FAILED;
    }
    int64_t ns = bench_parallel(r, qm_stream_body, x);
    r->items = 0;
    for (int p = 0; p < P; p++)
        r->items += x->produced[p];
    for (int p = 0; p < P; p++) {
        uint64_t n = x->produced[p];
        /* sums of 1..n and of their squares (mod 2^64 alike) */
        uint64_t a = n, b = n + 1, c = 2 * n + 1;
        uint64_t sum = (a % 2 == 0) ? a / 2 * b : b / 2 * a;
        /* n(n+1)(2n+1)/6: divide out 2 and 3 before multiplying */
        uint64_t f[3] = { a, b, c };
        for (int i = 0; i < 3; i++)
            if (f[i] % 2 == 0) {
                f[i] /= 2;
                break;
            }
        for (int i = 0; i < 3; i++)
            if (f[i] % 3 == 0) {
                f[i] /= 3;
                break;
            }
        uint64_t sumsq = f[0] * f[1] * f[2];
        if (x->seen[p].count != n || x->seen[p].sum != sum || x->seen[p].sumsq != sumsq)
            ns = BENCH_FAILED;
    }
    if (parc_raw_load(&x->failed, PARC_RELAXED))
        ns = BENCH_FAILED;
    ops->destroy(x->q[0]);
    free(x);
    return ns;
}

static inline int64_t qm_pingpong(bench_run_t *r, const qm_ops_t *ops, bool poll)
{
    if (poll ? ops->try_get == NULL : ops->get == NULL)
        return BENCH_SKIPPED;
    qm_run_t *x = calloc(1, sizeof *x);
    if (x == NULL)
        return BENCH_FAILED;
    x->ops = ops;
    x->poll = poll;
    x->q[0] = ops->create();
    x->q[1] = ops->create();
    int64_t ns = BENCH_FAILED;
    if (x->q[0] != NULL && x->q[1] != NULL) {
        ns = bench_parallel(r, qm_pingpong_body, x);
        r->items = r->ops;
        if (parc_raw_load(&x->failed, PARC_RELAXED))
            ns = BENCH_FAILED;
    }
    for (int i = 0; i < 2; i++)
        if (x->q[i] != NULL)
            ops->destroy(x->q[i]);
    free(x);
    return ns;
}

/* Register implementation `ops` (a qm_ops_t) as case `impl` of benchmark
 * `bench`, run by qm_stream or qm_pingpong with consumers that poll or
 * not; fn is a fresh identifier. */
#define QM_CASE(bench, fn, impl, ops, runner, poll)                          \
    static int64_t fn(bench_run_t *r) { return runner(r, &(ops), (poll)); } \
    BENCH_CASE(bench, impl, fn)

#endif /* PARC_BENCH_QMATRIX_H */
