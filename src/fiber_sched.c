/*
 * parc/fiber.h: M:N scheduling on a pool, and the park hook that makes
 * every parc blocking call park a spawned fiber instead of its worker.
 *
 * Running: each pool gets a FIFO run queue of ready fibers; making a fiber
 * ready appends it and submits one pool task, and each such task runs the
 * fiber at the head. So there is exactly one task per ready fiber, the
 * pool's workers (and its work stealing) carry them, and ready fibers run
 * in the order they became ready. Rejected: one task naming its own fiber
 * (the plain design): a worker runs its own deque LIFO, so a fiber that
 * yields would be popped again at once, and a fiber spinning on
 * parc_fiber_yield for another fiber's progress would starve that fiber
 * on a one-worker pool.
 *
 * Parking (the hook, src/park_hook.h): a parked fiber's wait record sits
 * in one of 256 buckets hashed by the word's address, each a list under a
 * spinlock with a count of its waiters. The protocol, which keeps
 * parc/park.h's promise that a wake after a change of the word is never
 * missed:
 *   fiber   1. lock the bucket; 2. count += 1; 3. seq_cst fence;
 *           4. if *word != expected: count -= 1, unlock, return 0;
 *           5. link the record (and arm its timer for a deadline);
 *           6. switch to the worker; the worker, off the fiber's stack,
 *              unlocks the bucket.
 *   waker   (the caller changed *word) 1. seq_cst fence; 2. if the
 *           bucket's count is 0, no fiber waits: done; 3. lock, unlink up
 *           to n records for this word, unlock; 4. make their fibers ready.
 * Steps fiber 2-4 and waker 1-2 are Dekker's pattern: with both fences,
 * either the waker sees the count or the fiber sees the new word. Holding
 * the bucket lock across the switch (step 6) keeps a waker from making
 * the fiber ready while it is still on its stack.
 *
 * Spinning: every blocking path spins briefly before it parks, calling
 * parc_yield() now and then; the yield hook makes that a fiber yield, so
 * the fiber a spinner waits for (often queued on the same worker) runs.
 *
 * Cost: a bucket holds the waiters of every word hashed to it, so a wake
 * scans the bucket's list; with 256 buckets and a few hot words a wake-up
 * stays short, but thousands of fibers parked on one word make each wake
 * of another word in their bucket walk past them all (Linux's futex hash
 * buckets scan the same way). A queue per word inside the bucket would
 * avoid it, at the price of allocating and recycling queue heads.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "parc/spinlock.h"

#include "fiber_internal.h"
#include "fiber_timer.h"
#include "future_hooks.h"
#include "park_hook.h"

/* ---- per-pool run queues ------------------------------------------------------ */

/* One per pool ever used with fibers, kept for the life of the process (a
 * few words each): a pool freed and another made at the same address
 * inherit an empty queue. */
typedef struct parc_fiber_runq {
    parc_pool_t *pool;
    struct parc_fiber_runq *next;
    parc_spin_ttas_t lock;
    parc_fiber_t *head, *tail;       /* through fiber->next_ready */
} runq_t;

static parc_spin_ttas_t runqs_lock = PARC_SPIN_TTAS_INIT;
static runq_t *runqs;

static runq_t *runq_of(parc_pool_t *pool)
{
    parc_spin_ttas_lock(&runqs_lock);
    runq_t *q = runqs;
    while (q != NULL && q->pool != pool)
        q = q->next;
    if (q == NULL && (q = calloc(1, sizeof *q)) != NULL) {
        q->pool = pool;
        parc_spin_ttas_init(&q->lock);
        q->next = runqs;
        runqs = q;
    }
    parc_spin_ttas_unlock(&runqs_lock);
    return q;
}

/* The pool task: run the fiber at the head of the queue. */
static int run_one(void *arg, void **result)
{
    (void)result;
    runq_t *q = arg;
    parc_spin_ttas_lock(&q->lock);
    parc_fiber_t *f = q->head;   /* never NULL: one task per queued fiber */
    q->head = f->next_ready;
    if (q->head == NULL)
        q->tail = NULL;
    parc_spin_ttas_unlock(&q->lock);
    /* The queue's lock ordered the fiber's last run before this one. */
    parc_store(&f->state, PARC_FIBER_RUNNING, PARC_RELAXED);
    parc_future_hooks_t hooks;
    parc_future_hooks_take(&hooks); /* a fiber parks, never helps */
    parc_fiber_run_(f);
    parc_future_hooks_put(&hooks);
    return 0;
}

void parc_fiber_ready_(parc_fiber_t *f, void *unused)
{
    (void)unused;
    runq_t *q = f->runq;
    parc_store(&f->state, PARC_FIBER_QUEUED, PARC_RELAXED);
    f->next_ready = NULL;
    parc_spin_ttas_lock(&q->lock);
    if (q->tail != NULL)
        q->tail->next_ready = f;
    else
        q->head = f;
    q->tail = f;
    parc_spin_ttas_unlock(&q->lock);
    int rc = parc_pool_submit(q->pool, run_one, q, NULL);
    if (rc != 0) {
        /* The fiber is queued but no task will ever run it: a wake-up
         * after the pool closed, or no memory. Losing a fiber silently
         * would hang whoever waits for it. */
        fprintf(stderr, "parc: a fiber became ready but its pool refused it "
                        "(error %d): close a pool only after its fibers finished\n", rc);
        abort();
    }
}

/* ---- the park hook --------------------------------------------------------- */

typedef struct bucket bucket_t;

typedef struct waiter {
    parc_fiber_t *fiber;
    parc_park_word_t *word;
    struct waiter *next, *prev;
    bucket_t *bucket;
    bool linked;
    int result;                  /* 0 woken, ETIMEDOUT */
    parc_fiber_timer_t timer;
} waiter_t;

struct bucket {
    PARC_CACHE_ALIGNED parc_spin_ttas_t lock;
    parc_atomic(uint32_t) count;  /* waiters linked or about to check */
    waiter_t *head, *tail;
};

#define NBUCKETS 256
static bucket_t buckets[NBUCKETS];

static bucket_t *bucket_of(parc_park_word_t *word)
{
    /* Fibonacci hashing (Knuth): the product's top bits mix every bit of
     * the address; its low bits would not (words at the same offset of
     * page-aligned stacks differ only in high bits). */
    uint64_t h = (uint64_t)(uintptr_t)word * UINT64_C(0x9E3779B97F4A7C15);
    return &buckets[h >> (64 - 8)]; /* NBUCKETS = 2^8 */
}

static void unlink_waiter(bucket_t *b, waiter_t *w)
{
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        b->head = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    else
        b->tail = w->prev;
    w->linked = false;
    parc_faa(&b->count, (uint32_t)-1, PARC_RELAXED); /* under the lock */
}

static void unlock_bucket(parc_fiber_t *f, void *bucket)
{
    (void)f;
    parc_spin_ttas_unlock(&((bucket_t *)bucket)->lock);
}

static void on_timeout(void *arg)
{
    waiter_t *w = arg;
    bucket_t *b = w->bucket;
    parc_spin_ttas_lock(&b->lock);
    bool mine = w->linked;
    if (mine) {
        unlink_waiter(b, w);
        w->result = ETIMEDOUT;
    }
    parc_fiber_t *f = w->fiber;
    parc_spin_ttas_unlock(&b->lock);
    if (mine)
        parc_fiber_ready_(f, NULL);
}

static int hook_wait(parc_park_word_t *word, uint32_t expected, parc_deadline_t deadline)
{
    parc_fiber_t *self = parc_fiber_self_();
    if (self == NULL || self->pool == NULL)
        return PARC_PARK_HOOK_DECLINE;
    if (deadline != PARC_FOREVER && deadline <= parc_now_ns())
        return parc_load(word, PARC_RELAXED) != expected ? 0 : ETIMEDOUT;
    bucket_t *b = bucket_of(word);
    waiter_t w = { .fiber = self, .word = word, .bucket = b };
    parc_spin_ttas_lock(&b->lock);                          /* step 1 */
    parc_faa(&b->count, 1u, PARC_RELAXED);                  /* step 2 */
    parc_fence(PARC_SEQ_CST); /* step 3: Dekker with the waker's fence */
    if (parc_load(word, PARC_RELAXED) != expected) {        /* step 4 */
        parc_faa(&b->count, (uint32_t)-1, PARC_RELAXED);
        parc_spin_ttas_unlock(&b->lock);
        return 0;
    }
    w.prev = b->tail;                                       /* step 5 */
    if (b->tail != NULL)
        b->tail->next = &w;
    else
        b->head = &w;
    b->tail = &w;
    w.linked = true;
    bool timed = deadline != PARC_FOREVER &&
                 parc_fiber_timer_add(&w.timer, deadline, on_timeout, &w) == 0;
    if (deadline != PARC_FOREVER && !timed) {
        /* No timer thread: wait as a thread does rather than forever. */
        unlink_waiter(b, &w);
        parc_spin_ttas_unlock(&b->lock);
        return PARC_PARK_HOOK_DECLINE;
    }
    parc_store(&self->state, PARC_FIBER_PARKED, PARC_RELAXED);
    parc_fiber_suspend_(self, unlock_bucket, b);            /* step 6 */
    if (timed)
        parc_fiber_timer_cancel(&w.timer);
    return w.result;
}

static int hook_wake(parc_park_word_t *word, int count)
{
    bucket_t *b = bucket_of(word);
    parc_fence(PARC_SEQ_CST); /* step 1: Dekker with the parker's fence */
    if (parc_load(&b->count, PARC_RELAXED) == 0)            /* step 2 */
        return 0;
    waiter_t *woken = NULL, **last = &woken;
    int n = 0;
    parc_spin_ttas_lock(&b->lock);                          /* step 3 */
    for (waiter_t *w = b->head, *next; w != NULL && n < count; w = next) {
        next = w->next;
        if (w->word != word)
            continue;
        unlink_waiter(b, w);
        w->next = NULL;
        *last = w;
        last = &w->next;
        n++;
    }
    parc_spin_ttas_unlock(&b->lock);
    while (woken != NULL) {                                 /* step 4 */
        waiter_t *w = woken;
        woken = w->next;        /* read before the fiber can run and return */
        parc_fiber_ready_(w->fiber, NULL);
    }
    return n;
}

static const parc_park_hook_t fiber_hook = { hook_wait, hook_wake };

static bool hook_yield(void)
{
    parc_fiber_t *self = parc_fiber_self_();
    if (self == NULL || self->pool == NULL)
        return false;
    parc_fiber_yield();
    return true;
}

/* ---- spawn, join, sleep ------------------------------------------------------ */

int parc_fiber_spawn(parc_pool_t *pool, parc_fiber_fn fn, void *arg,
                     const parc_fiber_attr_t *attr, parc_fiber_t **out)
{
    if (pool == NULL || fn == NULL)
        return EINVAL;
    runq_t *q = runq_of(pool);
    if (q == NULL)
        return ENOMEM;
    parc_park_hook_install(&fiber_hook);
    parc_yield_hook_install(hook_yield);
    parc_fiber_t *f;
    int rc = parc_fiber_new_(&f, fn, arg, attr);
    if (rc != 0)
        return rc;
    f->pool = pool;
    f->runq = q;
    if (out == NULL)
        parc_fiber_unref_(f); /* detached: only the "alive" reference */
    /* As parc_fiber_ready_, but a refusal here is the caller's to see. */
    parc_store(&f->state, PARC_FIBER_QUEUED, PARC_RELAXED);
    parc_spin_ttas_lock(&q->lock);
    if (q->tail != NULL)
        q->tail->next_ready = f;
    else
        q->head = f;
    q->tail = f;
    parc_spin_ttas_unlock(&q->lock);
    rc = parc_pool_submit(pool, run_one, q, NULL);
    if (rc != 0) {
        /* Take it back out: it is still queued, since no task runs it. */
        parc_spin_ttas_lock(&q->lock);
        parc_fiber_t **p = &q->head, *prev = NULL;
        while (*p != f) {
            prev = *p;
            p = &(*p)->next_ready;
        }
        *p = f->next_ready;
        if (q->tail == f)
            q->tail = prev;
        parc_spin_ttas_unlock(&q->lock);
        parc_ctx_destroy(&f->ctx);
        parc_fiber_stack_t stack = f->stack;
        parc_fiber_stack_put(&stack);
        return rc;
    }
    if (out != NULL)
        *out = f;
    return 0;
}

int parc_fiber_join(parc_fiber_t *f)
{
    if (f == NULL || f->pool == NULL)
        return EINVAL;
    if (f == parc_fiber_self_())
        return EDEADLK;
    /* `finished`: 0 running, 2 running with a joiner parked (so that a
     * finish wakes only when someone waits), 1 finished. Acquire:
     * everything f did happens before join returns; pairs with the
     * release exchange in finish() (src/fiber.c). */
    uint32_t v = parc_load(&f->finished, PARC_ACQUIRE);
    while (v != 1u) {
        if (v == 0u && !parc_cas(&f->finished, &v, 2u, PARC_ACQUIRE, PARC_ACQUIRE))
            continue; /* v reloaded: finished meanwhile, or another joiner */
        (void)parc_park_wait(&f->finished, 2u, PARC_FOREVER);
        v = parc_load(&f->finished, PARC_ACQUIRE);
    }
    return 0;
}

int parc_fiber_sleep(int64_t timeout_ns)
{
    if (timeout_ns < 0)
        return EINVAL;
    parc_deadline_t deadline;
    parc_deadline_in(&deadline, timeout_ns);
    /* A word nobody wakes: the wait ends at the deadline, parking a
     * spawned fiber on a timer or sleeping a thread. */
    parc_park_word_t word;
    parc_atomic_init(&word, 0u);
    while (parc_park_wait(&word, 0u, deadline) != ETIMEDOUT)
        ;
    return 0;
}
