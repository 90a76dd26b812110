/*
 * Workloads over parc_stress_queue_impl_t: transfer, churn and close.
 *
 * Every item carries {producer, seq, checksum}. A bitmap per producer
 * records which sequence numbers came out: a second delivery is a
 * duplicate, a missing bit at the end a loss (accepted = taken + drained).
 * Where the container promises per-producer FIFO, each consumer checks
 * that a producer's sequence numbers reach it in increasing order.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "parc/time.h"
#include "stress_internal.h"

#define NO_SEQ UINT64_MAX

/* ---- delivery tracking ----------------------------------------------------- */

typedef struct tracker {
    parc_stress_ctx_t *ctx;
    parc_stress_order_t order;
    unsigned producers;
    uint64_t cap;                  /* sequence numbers per producer */
    size_t words;                  /* bitmap words per producer */
    parc_atomic(uint64_t) *bits;   /* producers * words */
    uint64_t *accepted;            /* per producer; read after join */
} tracker_t;

static int tracker_init(tracker_t *t, parc_stress_ctx_t *ctx,
                        parc_stress_order_t order, unsigned producers, uint64_t cap)
{
    memset(t, 0, sizeof *t);
    t->ctx = ctx;
    t->order = order;
    t->producers = producers;
    t->cap = cap;
    t->words = (size_t)((cap + 63) / 64);
    t->bits = calloc((size_t)producers * t->words, sizeof *t->bits);
    t->accepted = calloc(producers, sizeof *t->accepted);
    if (t->bits == NULL || t->accepted == NULL) {
        free(t->bits);
        free(t->accepted);
        return ENOMEM;
    }
    return 0;
}

static void tracker_destroy(tracker_t *t)
{
    free(t->bits);
    free(t->accepted);
}

static bool checks_order(parc_stress_order_t o)
{
    return o == PARC_STRESS_ORDER_PRODUCER_FIFO || o == PARC_STRESS_ORDER_FIFO;
}

/* Check and record one delivered item. `last` (per producer, this
 * consumer's) is used for the order check. Returns false when the item is
 * unusable (corrupt). Any consumer thread. */
static bool tracker_take(tracker_t *t, const parc_stress_item_t *it, uint64_t *last)
{
    if (it == NULL) {
        parc_stress_fail(t->ctx, "pop returned 0 but no item (NULL)");
        return false;
    }
    uint32_t p = it->producer;
    uint64_t s = it->seq;
    if (p >= t->producers || s >= t->cap ||
        it->check != parc_stress_item_checksum(p, s)) {
        parc_stress_fail(t->ctx,
                         "corrupt item: producer %u seq %" PRIu64 " checksum %016" PRIx64,
                         p, s, it->check);
        return false;
    }
    uint64_t bit = UINT64_C(1) << (s % 64);
    /* relaxed: the bitmap is the harness's tally; the RMW alone decides
     * which of two deliveries of one item came second. */
    parc_atomic(uint64_t) *word = &t->bits[(size_t)p * t->words + s / 64];
    uint64_t old = parc_raw_load(word, PARC_RELAXED);
    while (!parc_raw_cas(word, &old, old | bit, PARC_RELAXED, PARC_RELAXED))
        ;
    if (old & bit)
        parc_stress_fail(t->ctx, "duplicate: producer %u's item %" PRIu64
                                 " delivered twice", p, s);
    if (last && checks_order(t->order)) {
        if (last[p] != NO_SEQ && s <= last[p])
            parc_stress_fail(t->ctx, "order: producer %u's item %" PRIu64
                                     " came out after its item %" PRIu64
                                     " (FIFO per producer promised)", p, s, last[p]);
        last[p] = s;
    }
    return true;
}

/* After the run: every accepted item came out exactly once. */
static void tracker_check_all(tracker_t *t, uint64_t delivered)
{
    uint64_t accepted = 0;
    for (unsigned p = 0; p < t->producers; p++)
        accepted += t->accepted[p];
    if (delivered == accepted)
        return;
    for (unsigned p = 0; p < t->producers; p++) {
        for (uint64_t s = 0; s < t->accepted[p]; s++) {
            uint64_t w = parc_raw_load(&t->bits[(size_t)p * t->words + s / 64],
                                       PARC_RELAXED);
            if (!(w & (UINT64_C(1) << (s % 64)))) {
                parc_stress_fail(t->ctx,
                                 "lost: %" PRIu64 " accepted, %" PRIu64
                                 " delivered (first missing: producer %u's item %" PRIu64 ")",
                                 accepted, delivered, p, s);
                return;
            }
        }
    }
    parc_stress_fail(t->ctx, "count: %" PRIu64 " accepted, %" PRIu64 " delivered",
                     accepted, delivered);
}

static uint64_t *new_last(unsigned producers)
{
    uint64_t *last = malloc(producers * sizeof *last);
    if (last)
        for (unsigned p = 0; p < producers; p++)
            last[p] = NO_SEQ;
    return last;
}

/* Main thread, after the workers: pop what is left (at most `limit` + 1
 * items, so a container that loops is caught rather than followed).
 * Returns the number drained; *closed_rc gets the final pop's code. */
static uint64_t drain(parc_stress_ctx_t *ctx, const parc_stress_queue_impl_t *impl,
                      void *q, tracker_t *t, uint64_t limit, int *final_rc)
{
    uint64_t *last = new_last(t->producers);
    uint64_t n = 0;
    int rc;
    for (;;) {
        parc_stress_item_t *it = NULL;
        rc = impl->pop(q, &it);
        parc_stress_progress(ctx, STRESS_MAIN_SLOT, "drain pop");
        if (rc != 0)
            break;
        if (n++ > limit) {
            parc_stress_fail(ctx, "drain: more items came out than were accepted "
                                  "(a cycle or duplicates)");
            break;
        }
        tracker_take(t, it, last);
    }
    free(last);
    if (final_rc)
        *final_rc = rc;
    return n;
}

/* ---- transfer and close: producers and consumers ------------------------- */

#define POOL 256u  /* items per producer in flight at most */

typedef struct pool {
    parc_stress_item_t items[POOL];
    parc_atomic(uint32_t) free[POOL];  /* 1: the producer may reuse it */
} pool_t;

typedef struct xfer {
    parc_stress_ctx_t *ctx;
    const parc_stress_queue_impl_t *impl;
    void *q;
    tracker_t t;
    pool_t *pools;
    unsigned producers, consumers;
    bool closing;                          /* the close workload */
    int64_t close_at_ns;                   /* producer 0 closes then */
    PARC_CACHE_ALIGNED parc_atomic(unsigned) producers_done;
    parc_atomic(int) close_started, close_done;
    parc_atomic(unsigned) consumers_saw_epipe;
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) taken[STRESS_MAX_THREADS];
} xfer_t;

static void do_close(xfer_t *x)
{
    if (parc_raw_load(&x->close_started, PARC_SEQ_CST))
        return;
    /* seq_cst: producers and consumers compare these flags with the
     * outcome of their own calls; one total order makes "before close"
     * and "after close returned" well defined. */
    parc_raw_store(&x->close_started, 1, PARC_SEQ_CST);
    int rc = x->impl->close(x->q);
    if (rc != 0)
        parc_stress_fail(x->ctx, "close returned %d", rc);
    parc_raw_store(&x->close_done, 1, PARC_SEQ_CST);
}

static void producer(xfer_t *x, unsigned index)
{
    parc_stress_ctx_t *ctx = x->ctx;
    pool_t *pool = &x->pools[index];
    uint64_t seq = 0;
    bool go = true;
    while (go && !parc_stress_stopping(ctx)) {
        if (x->closing && index == 0 &&
            (seq >= ctx->ops_per_thread / 2 || parc_now_ns() >= x->close_at_ns))
            do_close(x);
        unsigned slot = (unsigned)(seq % POOL);
        int64_t waited_since = 0;
        /* acquire: the consumer's reads of this item happen before we
         * overwrite it; pairs with its release store of free[slot]. */
        while (!parc_raw_load(&pool->free[slot], PARC_ACQUIRE)) {
            if (parc_stress_stopping(ctx))
                goto out;
            /* An item of ours is still out. Perhaps a consumer is merely
             * descheduled; perhaps the container lost it. Stop producing
             * after a while either way: the final check tells which. */
            if (waited_since == 0)
                waited_since = parc_now_ns();
            else if (parc_now_ns() - waited_since > ctx->patience_ns)
                goto out;
            parc_stress_note(ctx, index, "wait for a free item");
            parc_yield(); /* a chaos point: under --baton the awaited thread gets to run */
        }
        parc_raw_store(&pool->free[slot], 0u, PARC_RELAXED);
        parc_stress_item_t *it = &pool->items[slot];
        it->link[0] = it->link[1] = NULL;
        it->producer = index;
        it->seq = seq;
        it->check = parc_stress_item_checksum(index, seq);
        for (unsigned tries = 0;; tries++) {
            bool was_closed = parc_raw_load(&x->close_done, PARC_SEQ_CST);
            bool timed = x->impl->push_timed &&
                         (parc_stress_random(ctx, index) & 7) == 0;
            int rc = timed ? x->impl->push_timed(x->q, it, 100 * PARC_NS_PER_US)
                           : x->impl->push(x->q, it);
            if (timed && rc == ETIMEDOUT)
                rc = EAGAIN; /* still full: the same as a refused try */
            if (rc == 0) {
                if (was_closed)
                    parc_stress_fail(ctx, "push accepted producer %u's item %" PRIu64
                                          " after close() had returned", index, seq);
                x->t.accepted[index]++;
                seq++;
                go = parc_stress_step(ctx, index, timed ? "push_timed" : "push");
                break;
            }
            if (rc != EAGAIN || parc_stress_stopping(ctx)) {
                /* Not accepted: the item is ours again. */
                parc_raw_store(&pool->free[slot], 1u, PARC_RELAXED);
                if (rc == EPIPE && !parc_raw_load(&x->close_started, PARC_SEQ_CST))
                    parc_stress_fail(ctx, "push returned EPIPE but nobody closed");
                else if (rc != EPIPE && rc != EAGAIN)
                    parc_stress_fail(ctx, "push returned %d (expected 0, EAGAIN, EPIPE)",
                                     rc);
                goto out;
            }
            if (x->closing && index == 0 && parc_now_ns() >= x->close_at_ns)
                do_close(x);
            parc_stress_note(ctx, index, "push (full)");
            if (tries % 16 == 15)
                parc_yield(); /* a chaos point: under --baton the awaited thread gets to run */
        }
    }
out:
    if (x->closing && index == 0)
        do_close(x);
    /* release: every push of this producer has returned; pairs with the
     * consumers' acquire load. */
    parc_raw_faa(&x->producers_done, 1u, PARC_RELEASE);
}

static uint64_t taken_sum(xfer_t *x)
{
    uint64_t sum = 0;
    for (unsigned c = 0; c < x->consumers; c++)
        sum += parc_raw_load(&x->taken[c], PARC_RELAXED);
    return sum;
}

static void consumer(xfer_t *x, unsigned index, unsigned c)
{
    parc_stress_ctx_t *ctx = x->ctx;
    uint64_t *last = new_last(x->producers);
    if (last == NULL) {
        parc_stress_fail(ctx, "out of memory");
        return;
    }
    uint64_t taken = 0;
    int64_t idle_since = 0;
    for (;;) {
        parc_stress_item_t *it = NULL;
        int rc;
        bool timed = x->impl->pop_timed && (parc_stress_random(ctx, index) & 7) == 0;
        rc = timed ? x->impl->pop_timed(x->q, &it, 100 * PARC_NS_PER_US)
                   : x->impl->pop(x->q, &it);
        if (rc == 0) {
            idle_since = 0;
            if (tracker_take(&x->t, it, last)) {
                uint32_t p = it->producer;
                size_t slot = (size_t)(it - x->pools[p].items);
                if (slot >= POOL) {
                    parc_stress_fail(ctx, "pop returned a pointer that is not an item");
                } else {
                    /* release: our reads of the item happen before the
                     * producer reuses it (its acquire load). */
                    parc_raw_store(&x->pools[p].free[slot], 1u, PARC_RELEASE);
                }
            }
            taken++;
            parc_raw_store(&x->taken[c], taken, PARC_RELAXED);
            parc_stress_step(ctx, index, timed ? "pop_timed" : "pop");
            /* A broken container may never run dry (a cycle): stop once
             * the run has failed. */
            if (parc_raw_load(&ctx->violations, PARC_RELAXED))
                break;
            continue;
        }
        if (rc == EPIPE) {
            if (!parc_raw_load(&x->close_started, PARC_SEQ_CST))
                parc_stress_fail(ctx, "pop returned EPIPE but nobody closed");
            parc_raw_faa(&x->consumers_saw_epipe, 1u, PARC_RELAXED);
            break;
        }
        if (rc != EAGAIN && !(timed && rc == ETIMEDOUT)) {
            parc_stress_fail(ctx, "pop returned %d (expected 0, EAGAIN%s, EPIPE)", rc,
                             timed ? ", ETIMEDOUT" : "");
            break;
        }
        if (parc_raw_load(&ctx->violations, PARC_RELAXED))
            break;
        parc_stress_note(ctx, index, timed ? "pop_timed (empty)" : "pop (empty)");
        /* acquire: pairs with the producers' release increments; every
         * push has returned, so an empty queue now stays empty. What is
         * missing then is lost: the drain and final check name it. */
        if (!x->closing &&
            parc_raw_load(&x->producers_done, PARC_ACQUIRE) == x->producers)
            break;
        if (x->closing && parc_raw_load(&x->close_done, PARC_SEQ_CST) &&
            parc_raw_load(&x->producers_done, PARC_ACQUIRE) == x->producers) {
            /* Closed, and every push has returned: a queue that is empty
             * must say EPIPE. (The patience only forgives try forms that
             * give up under contention.) */
            int64_t now = parc_now_ns();
            if (idle_since == 0)
                idle_since = now;
            else if (now - idle_since > ctx->patience_ns) {
                parc_stress_fail(ctx, "pop keeps returning EAGAIN %.1f s after "
                                      "close (never EPIPE)",
                                 (double)(now - idle_since) / 1e9);
                break;
            }
        }
        parc_yield(); /* a chaos point: under --baton the awaited thread gets to run */
    }
    free(last);
}

static void xfer_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    xfer_t *x = arg;
    (void)ctx;
    if (index < x->producers)
        producer(x, index);
    else
        consumer(x, index, index - x->producers);
}

static int run_xfer(parc_stress_ctx_t *ctx, const parc_stress_queue_impl_t *impl,
                    bool closing)
{
    unsigned t = ctx->threads;
    if (t < 2) {
        parc_stress_skip(ctx, "needs 2 threads (a producer and a consumer)");
        return 0;
    }
    unsigned p = t / 2, c = t - p;
    if (impl->max_producers && p > impl->max_producers)
        p = impl->max_producers;
    if (impl->max_consumers && c > impl->max_consumers)
        c = impl->max_consumers;
    /* A single-consumer container gets the spare threads as producers. */
    if (!impl->max_producers && p + c < t)
        p = t - c;

    xfer_t *x = aligned_alloc(PARC_CACHELINE,
        (sizeof *x + PARC_CACHELINE - 1) / PARC_CACHELINE * PARC_CACHELINE);
    if (x == NULL)
        return ENOMEM;
    memset(x, 0, sizeof *x);
    x->ctx = ctx;
    x->impl = impl;
    x->producers = p;
    x->consumers = c;
    x->closing = closing;
    int64_t span = ctx->deadline_ns == PARC_FOREVER ? PARC_FOREVER
                                                    : (ctx->deadline_ns - ctx->start_ns) / 2;
    x->close_at_ns = span == PARC_FOREVER ? PARC_FOREVER : ctx->start_ns + span;
    int err = tracker_init(&x->t, ctx, impl->order, p, ctx->ops_per_thread + 1);
    if (err) {
        free(x);
        return err;
    }
    x->pools = calloc(p, sizeof *x->pools);
    if (x->pools == NULL) {
        tracker_destroy(&x->t);
        free(x);
        return ENOMEM;
    }
    for (unsigned i = 0; i < p; i++)
        for (unsigned s = 0; s < POOL; s++)
            parc_raw_store(&x->pools[i].free[s], 1u, PARC_RELAXED);

    err = impl->create(&x->q, 64);
    if (err) {
        parc_stress_fail(ctx, "create(64) returned %d", err);
        goto done;
    }
    err = parc_stress_run_threads(ctx, p + c, xfer_thread, x);
    if (err == 0) {
        uint64_t taken = taken_sum(x), accepted = 0;
        for (unsigned i = 0; i < p; i++)
            accepted += x->t.accepted[i];
        int final_rc = 0;
        uint64_t left = accepted > taken ? accepted - taken : 0;
        uint64_t drained = drain(ctx, impl, x->q, &x->t, left, &final_rc);
        if (closing) {
            unsigned saw = parc_raw_load(&x->consumers_saw_epipe, PARC_RELAXED);
            if (drained && saw == c && !parc_raw_load(&ctx->violations, PARC_RELAXED))
                parc_stress_fail(ctx, "%" PRIu64 " accepted items came out after every "
                                      "consumer got EPIPE (closed and drained)", drained);
            if (final_rc != EPIPE)
                parc_stress_fail(ctx, "pop on a closed, drained queue returned %d, "
                                      "not EPIPE", final_rc);
            parc_stress_item_t spare = { .producer = 0 };
            int rc = impl->push(x->q, &spare);
            if (rc != EPIPE)
                parc_stress_fail(ctx, "push after close returned %d, not EPIPE", rc);
        } else if (final_rc != EAGAIN) {
            parc_stress_fail(ctx, "pop on an empty queue returned %d, not EAGAIN",
                             final_rc);
        }
        tracker_check_all(&x->t, taken + drained);
    }
    impl->destroy(x->q);
done:
    tracker_destroy(&x->t);
    free(x->pools);
    free(x);
    return err;
}

static int run_transfer(parc_stress_ctx_t *ctx, const void *impl)
{
    return run_xfer(ctx, impl, false);
}

static int run_close(parc_stress_ctx_t *ctx, const void *impl)
{
    return run_xfer(ctx, impl, true);
}

static bool applies_close(const void *p)
{
    const parc_stress_queue_impl_t *impl = p;
    return (impl->flags & PARC_STRESS_CLOSABLE) && impl->close;
}

const stress_builtin_t stress_queue_transfer = {
    "queue.transfer", PARC_STRESS_KIND_QUEUE,
    "producers push numbered items, consumers pop: exactly once, FIFO where promised",
    NULL, run_transfer,
};

const stress_builtin_t stress_queue_close = {
    "queue.close", PARC_STRESS_KIND_QUEUE,
    "close mid-run: later pushes get EPIPE, every accepted item still comes out",
    applies_close, run_close,
};

/* ---- churn: every thread pushes and pops, items are recycled ----------- */

#define CHURN_OWN 2u  /* items a thread may hold: few, so nodes recycle fast */

typedef struct churn {
    parc_stress_ctx_t *ctx;
    const parc_stress_queue_impl_t *impl;
    void *q;
    tracker_t t;
    parc_stress_item_t *items;        /* threads * CHURN_OWN */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) taken[STRESS_MAX_THREADS];
} churn_t;

static void churn_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    churn_t *ch = arg;
    parc_stress_item_t *own[CHURN_OWN];
    unsigned n = 0;
    for (; n < CHURN_OWN; n++)
        own[n] = &ch->items[index * CHURN_OWN + n];
    uint64_t *last = new_last(ch->t.producers);
    if (last == NULL) {
        parc_stress_fail(ctx, "out of memory");
        return;
    }
    uint64_t seq = 0, taken = 0;
    bool go = true;
    while (go) {
        bool push = n == CHURN_OWN || (n > 0 && (parc_stress_random(ctx, index) & 1));
        if (push) {
            if (seq + 1 >= ch->t.cap)
                break;
            parc_stress_item_t *it = own[n - 1];
            it->link[0] = it->link[1] = NULL;
            it->producer = index;
            it->seq = seq;
            it->check = parc_stress_item_checksum(index, seq);
            int rc = ch->impl->push(ch->q, it);
            if (rc == 0) {
                n--;
                ch->t.accepted[index]++;
                seq++;
            } else if (rc != EAGAIN) {
                parc_stress_fail(ctx, "push returned %d (expected 0 or EAGAIN)", rc);
                break;
            }
            go = parc_stress_step(ctx, index, rc ? "push (full)" : "push");
        } else {
            parc_stress_item_t *it = NULL;
            int rc = ch->impl->pop(ch->q, &it);
            if (rc == 0) {
                taken++;
                parc_raw_store(&ch->taken[index], taken, PARC_RELAXED);
                if (tracker_take(&ch->t, it, last))
                    own[n++] = it; /* recycled: this thread pushes it next */
            } else if (rc != EAGAIN) {
                parc_stress_fail(ctx, "pop returned %d (expected 0 or EAGAIN)", rc);
                break;
            }
            go = parc_stress_step(ctx, index, rc ? "pop (empty)" : "pop");
        }
    }
    free(last);
}

static int run_churn(parc_stress_ctx_t *ctx, const void *p)
{
    const parc_stress_queue_impl_t *impl = p;
    unsigned t = ctx->threads;
    churn_t *ch = aligned_alloc(PARC_CACHELINE,
        (sizeof *ch + PARC_CACHELINE - 1) / PARC_CACHELINE * PARC_CACHELINE);
    if (ch == NULL)
        return ENOMEM;
    memset(ch, 0, sizeof *ch);
    ch->ctx = ctx;
    ch->impl = impl;
    int err = tracker_init(&ch->t, ctx, impl->order, t, ctx->ops_per_thread + 1);
    if (err) {
        free(ch);
        return err;
    }
    ch->items = calloc((size_t)t * CHURN_OWN, sizeof *ch->items);
    if (ch->items == NULL) {
        err = ENOMEM;
        goto done;
    }
    /* Capacity for every item at once: a full container would only make
     * the pushes spin. */
    size_t cap = 2;
    while (cap < (size_t)t * CHURN_OWN)
        cap *= 2;
    err = impl->create(&ch->q, cap);
    if (err) {
        parc_stress_fail(ctx, "create(%zu) returned %d", cap, err);
        goto done;
    }
    err = parc_stress_run_threads(ctx, t, churn_thread, ch);
    if (err == 0) {
        uint64_t taken = 0, accepted = 0;
        for (unsigned i = 0; i < t; i++) {
            taken += parc_raw_load(&ch->taken[i], PARC_RELAXED);
            accepted += ch->t.accepted[i];
        }
        uint64_t left = accepted > taken ? accepted - taken : 0;
        uint64_t drained = drain(ctx, impl, ch->q, &ch->t, left, NULL);
        tracker_check_all(&ch->t, taken + drained);
    }
    impl->destroy(ch->q);
done:
    tracker_destroy(&ch->t);
    free(ch->items);
    free(ch);
    return err;
}

static bool applies_churn(const void *p)
{
    const parc_stress_queue_impl_t *impl = p;
    return impl->max_producers == 0 && impl->max_consumers == 0;
}

const stress_builtin_t stress_queue_churn = {
    "queue.churn", PARC_STRESS_KIND_QUEUE,
    "every thread pushes and pops a few recycled items (provokes ABA): exactly once",
    applies_churn, run_churn,
};
