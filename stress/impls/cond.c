/*
 * Stress workload for parc's condition variable (parc/cond.h) over
 * parc_mutex_t.
 *
 *   cond.buffer  a bounded buffer (4 slots) under one parc_mutex_t with two
 *                condition variables, not_empty and not_full; half the
 *                threads produce, half consume. Waits are timed (plain
 *                loops and wait_for, at random); notifies are notify_one,
 *                sometimes notify_all, sometimes after unlocking. A waiter
 *                that times out while what it waits for has been there
 *                for more than half the patience (an item put, a slot
 *                freed, with no change since) was not woken: a lost
 *                wake-up; so is one that slept through more notifies of
 *                its variable than could have gone to the sleepers ahead
 *                of it (futex wakes are oldest first). At the end every item put was taken exactly once
 *                (counts and value sums) and the buffer is empty.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "parc/cond.h"
#include "parc/mutex.h"
#include "parc/stress.h"
#include "parc/time.h"

#define SLOTS 4
/* The harness's own counters: no ordering needed, only the counts. */
#define PARC_RAW_ORDER PARC_RELAXED

typedef struct buffer {
    parc_mutex_t m;
    parc_cond_t not_empty, not_full;
    /* all below guarded by m */
    uint64_t items[SLOTS];
    unsigned head, count;
    int64_t changed_at;           /* when count last changed */
    unsigned producers_left;
    bool done;                    /* every producer has finished */
    unsigned producers, threads;
    /* notify calls per condition variable (index 0: not_empty) */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) notifies[2];
    /* totals */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) put_sum;
    parc_atomic(uint64_t) put_count;
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) taken_sum;
    parc_atomic(uint64_t) taken_count;
} buffer_t;

static bool has_room(void *arg) { buffer_t *b = arg; return b->count < SLOTS; }
static bool has_item_or_done(void *arg) { buffer_t *b = arg; return b->count > 0 || b->done; }

static void lock(buffer_t *b) { parc_mutex_lock(&b->m); }
static void unlock(buffer_t *b) { parc_mutex_unlock(&b->m); }

/* Wait on `c` until ready(b): returns false after reporting a lost
 * wake-up. Holds m throughout (but inside the waits). */
static bool await(parc_stress_ctx_t *ctx, unsigned index, buffer_t *b,
                  parc_cond_t *c, bool (*ready)(void *), const char *what)
{
    int64_t patience = parc_stress_patience_ns(ctx);
    parc_atomic(uint64_t) *notifies = &b->notifies[c == &b->not_full];
    while (!ready(b)) {
        uint64_t before = parc_raw_load(notifies, PARC_RAW_ORDER);
        int64_t started = parc_now_ns();
        bool single = parc_stress_random(ctx, index) & 1;
        int rc = single ? parc_cond_wait_timed(c, &b->m, patience)
                        : parc_cond_wait_for_timed(c, &b->m, ready, b, patience);
        if (rc != 0 && rc != ETIMEDOUT) {
            parc_stress_fail(ctx, "%s: cond wait returned %d", what, rc);
            return false;
        }
        /* One wait that lasted until its deadline slept all along (it
         * returns as soon as it sees a notify). A futex wakes its oldest
         * sleeper first: at most threads-1 others were ahead of us, and
         * at most one notify per thread may predate our registration; so
         * more notifies than twice the threads meant one for us. (Not for
         * wait_for, which may be woken many times in vain.) */
        uint64_t missed = parc_raw_load(notifies, PARC_RAW_ORDER) - before;
        bool slept_long = parc_now_ns() - started >= patience;
        bool slept_through = single && slept_long;
        if (slept_through && missed > 2u * b->threads + 2u) {
            parc_stress_fail(ctx, "lost wake-up: %" PRIu64 " notifies for %s while "
                                  "a waiter slept until its deadline", missed, what);
            return false;
        }
        /* Waited until the deadline (parc returns 0 then if a notify
         * bumped the sequence without waking us, wait_for if the
         * predicate holds) while what we wait for has been there,
         * unchanged, for half the patience: nobody woke us for it. */
        int64_t still = parc_now_ns() - b->changed_at;
        if ((rc == ETIMEDOUT || slept_long) && ready(b) && still > patience / 2) {
            parc_stress_fail(ctx, "lost wake-up: %s ready for %.2f s (no change "
                                  "since) but the waiter slept until its deadline",
                             what, (double)still / 1e9);
            return false;
        }
        if (rc == 0)
            continue;
        parc_stress_progress(ctx, index, "cond wait (timed out)");
    }
    return true;
}

static void notify(parc_stress_ctx_t *ctx, unsigned index, buffer_t *b, parc_cond_t *c)
{
    parc_raw_faa(&b->notifies[c == &b->not_full], 1u, PARC_RAW_ORDER);
    if (parc_stress_random(ctx, index) % 8 == 0)
        parc_cond_notify_all(c);
    else
        parc_cond_notify_one(c);
}

static void producer(parc_stress_ctx_t *ctx, unsigned index, buffer_t *b)
{
    for (uint64_t seq = 0;; seq++) {
        bool go = parc_stress_step(ctx, index, "put");
        lock(b);
        if (!go || !await(ctx, index, b, &b->not_full, has_room, "a free slot")) {
            if (--b->producers_left == 0) {
                b->done = true;
                b->changed_at = parc_now_ns();
                parc_cond_notify_all(&b->not_empty);
            }
            unlock(b);
            return;
        }
        uint64_t value = ((uint64_t)index << 40) + seq + 1;
        b->items[(b->head + b->count) % SLOTS] = value;
        b->count++;
        b->changed_at = parc_now_ns();
        parc_raw_faa(&b->put_sum, value, PARC_RELAXED);
        parc_raw_faa(&b->put_count, 1u, PARC_RELAXED);
        bool after = parc_stress_random(ctx, index) & 1;
        if (!after)
            notify(ctx, index, b, &b->not_empty);
        unlock(b);
        if (after)
            notify(ctx, index, b, &b->not_empty);
    }
}

static void consumer(parc_stress_ctx_t *ctx, unsigned index, buffer_t *b)
{
    for (;;) {
        parc_stress_progress(ctx, index, "take");
        lock(b);
        if (!await(ctx, index, b, &b->not_empty, has_item_or_done, "an item")) {
            unlock(b);
            return;
        }
        if (b->count == 0) { /* done and drained */
            unlock(b);
            return;
        }
        uint64_t value = b->items[b->head];
        b->head = (b->head + 1) % SLOTS;
        b->count--;
        b->changed_at = parc_now_ns();
        bool after = parc_stress_random(ctx, index) & 1;
        if (!after)
            notify(ctx, index, b, &b->not_full);
        unlock(b);
        if (after)
            notify(ctx, index, b, &b->not_full);
        parc_raw_faa(&b->taken_sum, value, PARC_RELAXED);
        parc_raw_faa(&b->taken_count, 1u, PARC_RELAXED);
    }
}

static void buffer_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    buffer_t *b = arg;
    if (index < b->producers)
        producer(ctx, index, b);
    else
        consumer(ctx, index, b);
}

static int buffer_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    buffer_t *b = aligned_alloc(PARC_CACHELINE,
        (sizeof(buffer_t) + PARC_CACHELINE - 1) / PARC_CACHELINE * PARC_CACHELINE);
    if (b == NULL)
        return ENOMEM;
    unsigned threads = parc_stress_threads(ctx);
    parc_mutex_init(&b->m, PARC_MUTEX_NORMAL);
    parc_cond_init(&b->not_empty);
    parc_cond_init(&b->not_full);
    b->head = b->count = 0;
    b->changed_at = parc_now_ns();
    b->producers = b->producers_left = threads / 2;
    b->threads = threads;
    parc_atomic_init(&b->notifies[0], 0u);
    parc_atomic_init(&b->notifies[1], 0u);
    b->done = false;
    parc_atomic_init(&b->put_sum, 0u);
    parc_atomic_init(&b->put_count, 0u);
    parc_atomic_init(&b->taken_sum, 0u);
    parc_atomic_init(&b->taken_count, 0u);
    int err = parc_stress_run_threads(ctx, threads, buffer_thread, b);
    if (err == 0) {
        uint64_t put = parc_raw_load(&b->put_count, PARC_RELAXED);
        uint64_t taken = parc_raw_load(&b->taken_count, PARC_RELAXED);
        if (b->count != 0 || put != taken ||
            parc_raw_load(&b->put_sum, PARC_RELAXED) != parc_raw_load(&b->taken_sum, PARC_RELAXED))
            parc_stress_fail(ctx, "%" PRIu64 " items put, %" PRIu64 " taken, %u left "
                                  "in the buffer (or the value sums differ)",
                             put, taken, b->count);
        if (parc_cond_destroy(&b->not_empty) != 0 || parc_cond_destroy(&b->not_full) != 0)
            parc_stress_fail(ctx, "a condition variable still has waiters at the end");
        parc_stress_add_ops(ctx, taken);
    }
    free(b);
    return err;
}

static const parc_stress_workload_t buffer_workload = {
    .name = "cond.buffer",
    .impl = "parc.cond",
    .description = "bounded buffer, mutex + two conds: no lost wake-up, exactly once",
    .min_threads = 2,
    .run = buffer_run,
};
PARC_STRESS_WORKLOAD(buffer_workload)
