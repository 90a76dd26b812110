/*
 * parc/fiber.h: M:N scheduling on a pool, and the park hook that makes
 * every parc blocking call park a spawned fiber instead of its worker.
 *
 * Running: each pool gets a FIFO run queue of ready fibers; making a fiber
 * ready from outside (a thread, the timer thread, another pool, an
 * explicit yield) appends it and submits one pool task, and each such
 * task runs the fiber at the head. So the pool's workers (and its work
 * stealing) carry them, and they run in the order they became ready.
 * Rejected: one task naming its own fiber: a worker runs its own deque
 * LIFO, so a fiber that yields would be popped again at once, and a fiber
 * spinning on parc_fiber_yield for another fiber's progress would starve
 * that fiber on a one-worker pool.
 *
 * Local hand-offs (Go's runnext, the scheduler of Go's runtime/proc.go
 * as described in its comments; no code of it used): a task, once
 * running a fiber, stays a small scheduler on its worker (run_one). A
 * fiber woken by a fiber running on the same worker goes into that
 * worker's runnext slot instead of the pool (no submission, no worker
 * wake-up, no other core), and runs as soon as the waker blocks, yields
 * or finishes: a waker that parks (hook_wait) or spins (parc_spin_poll,
 * through the spin hook) switches to it straight, one switch, since that
 * is usually the fiber it now waits for; one that yields or finishes
 * returns to run_one, which switches to it. A spinning fiber with an
 * empty runnext slot runs the head of the pool's queue instead of
 * pausing when fibers are queued there (its partner may be among them).
 * Two fibers handing values back and forth on one worker thus cost one
 * switch and the primitive's own work per hand-off. A budget of local runs and a time slice (LOCAL_RUNS_MAX,
 * LOCAL_SLICE_NS) make the task hand the rest to the pool when other
 * work waits, so such a pair cannot keep the worker from it. The
 * runnext fiber is not stealable: it waits for its waker's worker to
 * switch, which a fiber that holds its worker in a plain spin loop or a
 * system call would delay (a declared blocking call hands it to the
 * pool first: parc_fiber_block_begin).
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
#include "pool_internal.h"

/* ---- per-pool run queues ------------------------------------------------------ */

/* One per pool ever used with fibers, kept for the life of the process (a
 * few words each): a pool freed and another made at the same address
 * inherit an empty queue. */
typedef struct parc_fiber_runq {
    parc_pool_t *pool;
    struct parc_fiber_runq *next;
    parc_spin_ttas_t lock;
    parc_fiber_t *head, *tail;       /* through fiber->next_ready */
    /* How many are queued: written under the lock, read without it by a
     * spinning fiber deciding whether to run one (a hint; relaxed). */
    parc_atomic(uint32_t) n;
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

/* ---- the worker's local scheduler ------------------------------------------ */

#if defined(__GNUC__)
#define SCHED_TLS __attribute__((tls_model("initial-exec")))
#else
#define SCHED_TLS
#endif

/* The thread running run_one (a pool worker or compensator): the fibers
 * it will run next without going back to the pool. Touched only by that
 * thread (by run_one on its own stack, and by the fibers it runs, which
 * read it before any switch: see "Thread-locals and switches" in
 * src/fiber.c), so plain fields. */
typedef struct local_sched {
    runq_t *q;               /* the pool whose fiber runs here; NULL outside run_one */
    parc_fiber_t *runnext;   /* made ready by a fiber running here */
    parc_fiber_t *pick;      /* runs before runnext (a spin yield's partner) */
    unsigned runs;           /* fibers run back to back by this run_one */
    int64_t since;           /* when its budget first ran out (0: not yet) */
} local_sched_t;

static _Thread_local local_sched_t local SCHED_TLS;

/* How many fibers one run_one runs back to back from runnext before it
 * may hand the rest to the pool: two fibers handing a value back and
 * forth would otherwise keep their worker from the pool's other work
 * forever (Go's runnext inherits the time slice and is preempted after
 * 10 ms; fibers here cannot be preempted, so the bound counts runs, and
 * a clock read every LOCAL_RUNS_MAX runs adds a time slice).
 *
 * At the bound: fibers waiting in the pool's queue get the worker at once
 * (they are what a spinning pair most likely waits on); other tasks get
 * it once the run_one has held the worker for LOCAL_SLICE_NS and the
 * pool holds queued work. Otherwise the budget starts again: handing
 * the pair to the pool would only cost two submissions and two task
 * starts for no one. Why not ask the pool at every bound: a run_one task
 * whose fiber a spinner took straight from the queue (spin_yielded)
 * stays queued, empty, until a worker runs it, so "the pool holds
 * queued work" is true for as long as the pair runs; the slice bounds
 * how long a real task can wait behind the pair (the pair's cost: two
 * submissions per slice). */
#define LOCAL_RUNS_MAX 256
#define LOCAL_SLICE_NS (1 * PARC_NS_PER_MS)

/* At the bound: true when the pair should give the worker back. The
 * slice counts from the first time the budget ran out (a run_one that
 * never gets that far never reads the clock). */
static bool others_wait(local_sched_t *l)
{
    if (parc_load(&l->q->n, PARC_RELAXED) > 0)
        return true;
    int64_t now = parc_now_ns();
    if (l->since == 0)
        l->since = now;
    return now - l->since >= LOCAL_SLICE_NS && parc_pool_has_queued_(l->q->pool);
}

static void runq_append(runq_t *q, parc_fiber_t *f)
{
    f->next_ready = NULL;
    parc_spin_ttas_lock(&q->lock);
    if (q->tail != NULL)
        q->tail->next_ready = f;
    else
        q->head = f;
    q->tail = f;
    parc_store(&q->n, parc_load(&q->n, PARC_RELAXED) + 1, PARC_RELAXED);
    parc_spin_ttas_unlock(&q->lock);
}

/* The head of q, or NULL. There is a pool task per fiber appended, but a
 * spinning fiber may take one without its task (spin_yielded): a task
 * may find the queue empty. */
static parc_fiber_t *runq_pop(runq_t *q)
{
    parc_spin_ttas_lock(&q->lock);
    parc_fiber_t *f = q->head;
    if (f != NULL) {
        q->head = f->next_ready;
        if (q->head == NULL)
            q->tail = NULL;
        parc_store(&q->n, parc_load(&q->n, PARC_RELAXED) - 1, PARC_RELAXED);
    }
    parc_spin_ttas_unlock(&q->lock);
    return f;
}

/* The pool task: run the fiber at the head of the queue, then whatever it
 * (and those after it) made ready on this worker, switching to each
 * straight from here: no pool submission, no worker wake-up. */
static int run_one(void *arg, void **result)
{
    (void)result;
    runq_t *q = arg;
    parc_fiber_t *f = runq_pop(q);
    if (f == NULL)
        return 0; /* a spinning fiber ran it already */
    /* This base context never leaves this thread, so `l` stays valid. A
     * task that helps (a future wait on a plain task) may nest run_one:
     * the outer state comes back afterwards. */
    local_sched_t *l = &local, saved = *l;
    l->q = q;
    l->runnext = l->pick = NULL;
    l->runs = 0;
    l->since = 0; /* read the clock only once the budget runs out */
    parc_future_hooks_t hooks;
    parc_future_hooks_take(&hooks); /* a fiber parks, never helps */
    for (;; l->runs++) {
        /* The queue's lock (or, for a local fiber, this thread) ordered
         * the fiber's last run before this one. */
        parc_store(&f->state, PARC_FIBER_RUNNING, PARC_RELAXED);
        parc_fiber_run_(f);
        f = l->pick;
        l->pick = NULL;
        if (f == NULL) {
            f = l->runnext;
            l->runnext = NULL;
        }
        if (f == NULL)
            break;
        if (l->runs >= LOCAL_RUNS_MAX && !others_wait(l)) {
            l->runs = 0;
        } else if (l->runs >= LOCAL_RUNS_MAX) {
            parc_fiber_ready_(f, NULL);
            if (l->runnext != NULL)
                parc_fiber_ready_(l->runnext, NULL);
            l->runnext = NULL;
            break;
        }
    }
    parc_future_hooks_put(&hooks);
    *l = saved;
    return 0;
}

/* Make a spawned fiber that is off its stack ready, from a fiber (or the
 * scheduler) running on one of its pool's threads: into this thread's
 * runnext slot, to run as soon as the current fiber blocks, yields or
 * finishes; the slot's previous occupant goes to the pool (Go's runnext:
 * a woken partner runs next, on the waker's cache). Elsewhere (a thread,
 * the timer thread, another pool): through the pool. */
static void make_ready(parc_fiber_t *f)
{
    local_sched_t *l = &local; /* no switch in here */
    if (l->q != f->runq) {
        parc_fiber_ready_(f, NULL);
        return;
    }
    parc_store(&f->state, PARC_FIBER_QUEUED, PARC_RELAXED);
    parc_fiber_t *old = l->runnext;
    l->runnext = f;
    if (old != NULL)
        parc_fiber_ready_(old, NULL);
}

void parc_fiber_sched_flush_(void)
{
    local_sched_t *l = &local; /* no switch in here */
    parc_fiber_t *f = l->runnext;
    l->runnext = NULL;
    if (f != NULL)
        parc_fiber_ready_(f, NULL);
}

/* The hook of a spin hand-off, on the side of the fiber handed to: the
 * spinner, off its stack now, runs after it. */
static void *handed_off(void *arg)
{
    parc_fiber_t *f = arg;
    parc_store(&f->state, PARC_FIBER_QUEUED, PARC_RELAXED);
    local.runnext = f; /* emptied by the hand-off */
    return NULL;
}

/* The after action of a spin yield, on the worker: the fiber in runnext
 * (or else the head of the pool's queue) runs next, the spinner after it.
 * With neither (the queue emptied meanwhile) the spinner runs again. */
static void spin_yielded(parc_fiber_t *f, void *unused)
{
    (void)unused;
    local_sched_t *l = &local;
    parc_store(&f->state, PARC_FIBER_QUEUED, PARC_RELAXED);
    l->pick = l->runnext != NULL ? l->runnext : runq_pop(l->q);
    l->runnext = f;
}

void parc_fiber_ready_(parc_fiber_t *f, void *unused)
{
    (void)unused;
    runq_t *q = f->runq;
    parc_store(&f->state, PARC_FIBER_QUEUED, PARC_RELAXED);
    runq_append(q, f);
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

/* The hook of a park's direct switch (hook_wait), on the side of the
 * fiber switched to: the parked fiber is off its stack now, so the
 * bucket it parked in may let its wakers in. */
static void *parked_handoff(void *bucket)
{
    parc_spin_ttas_unlock(&((bucket_t *)bucket)->lock);
    return NULL;
}

/* The fiber this worker should switch to straight from the calling
 * fiber `self`, which is about to block: the runnext fiber, while the
 * budget of local runs lasts (past it, the block goes through run_one,
 * which decides whether the pool's other work comes first), taken out of
 * the slot and counted as a local run; or NULL. */
static parc_fiber_t *take_runnext(local_sched_t *l, parc_fiber_t *self)
{
    parc_fiber_t *next = l->runnext;
    if (next == NULL || l->q != self->runq || l->runs >= LOCAL_RUNS_MAX)
        return NULL;
    l->runnext = NULL;
    l->runs++;
    /* relaxed: this thread ordered next's last run (it was parked on, or
     * handed off from, this worker; or the bucket lock a waker took here
     * ordered it), as in run_one. */
    parc_store(&next->state, PARC_FIBER_RUNNING, PARC_RELAXED);
    return next;
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
    /* Inside a declared blocking section the fiber holds its worker (a
     * compensator stands in): it waits as a thread does. */
    if (self == NULL || self->pool == NULL || self->blocking > 0)
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
    /* Step 6. When a fiber waits in this worker's runnext slot (usually
     * the one we just woke, and now wait for), switch to it straight,
     * one switch, rather than to run_one and from there to it (two
     * switches and the scheduler loop): Go's gopark then runnext, in one
     * step. Its hook unlocks the bucket on its side, as unlock_bucket
     * does on run_one's. `local` is read before the switch only. */
    parc_fiber_t *next = take_runnext(&local, self);
    if (next != NULL)
        (void)parc_fiber_handoff_(self, next, parked_handoff, b);
    else
        parc_fiber_suspend_(self, unlock_bucket, b);
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
        make_ready(w->fiber);
    }
    return n;
}

static const parc_park_hook_t fiber_hook = { hook_wait, hook_wake };

/* Poll i of a spinning fiber (parc_spin_poll): when a fiber is ready on
 * this worker (runnext) it is usually the one we wait for (we woke it),
 * and when fibers are queued on the pool the one we wait for may be
 * among them (it yielded while spinning for us): either runs now, on this
 * worker, and we poll again after it, as threads on two cores would have.
 * Otherwise (what we wait for runs on another worker, or on a thread)
 * relax, and every PARC_SPIN_YIELD_EVERY-th poll yield to the pool. */
static bool hook_spin(unsigned i)
{
    parc_fiber_t *self = parc_fiber_self_();
    if (self == NULL || self->pool == NULL || self->blocking > 0)
        return false;
    local_sched_t *l = &local; /* read before the switch only */
    parc_fiber_t *next = take_runnext(l, self);
    if (next != NULL) {
        /* Straight to it, one switch; we take its place in runnext
         * (handed_off, on its side). Both sides of a hand-off usually
         * spin through the same calls, so the returns after the switch
         * go back through the return addresses the processor saw. */
        (void)parc_fiber_handoff_(self, next, handed_off, self);
        return true;
    }
    if (l->q == self->runq &&
        (l->runnext != NULL || parc_load(&l->q->n, PARC_RELAXED) > 0)) {
        parc_fiber_suspend_(self, spin_yielded, NULL);
        return true;
    }
    if (i % PARC_SPIN_YIELD_EVERY == PARC_SPIN_YIELD_EVERY - 1)
        parc_fiber_yield();
    else
        parc_cpu_relax();
    return true;
}

static bool hook_yield(void)
{
    parc_fiber_t *self = parc_fiber_self_();
    if (self == NULL || self->pool == NULL || self->blocking > 0)
        return false;
    parc_fiber_yield();
    return true;
}

/* ---- declared blocking calls through the pool's API ---------------------------- */

/* parc_pool_block_begin/end called from a spawned fiber: the fiber's own
 * declaration (parc_fiber_block_begin keeps the fiber on the thread that
 * counted the begin until the outermost end). */
static int block_hook_begin(void)
{
    parc_fiber_t *self = parc_fiber_self_();
    if (self == NULL || self->pool == NULL)
        return PARC_POOL_BLOCK_DECLINE;
    parc_fiber_block_begin();
    return 0;
}

static int block_hook_end(void)
{
    parc_fiber_t *self = parc_fiber_self_();
    if (self == NULL || self->pool == NULL)
        return PARC_POOL_BLOCK_DECLINE;
    if (self->blocking == 0)
        return EINVAL;
    parc_fiber_block_end();
    return 0;
}

static const parc_pool_block_hook_t block_hook = { block_hook_begin, block_hook_end };

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
    parc_spin_hook_install(hook_spin);
    parc_pool_block_hook_install_(&block_hook);
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
    runq_append(q, f);
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
        parc_store(&q->n, parc_load(&q->n, PARC_RELAXED) - 1, PARC_RELAXED);
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
