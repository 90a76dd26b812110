/* parc/pool.h: the work-stealing scheduler (search, park, wake, the
 * fairness tick), its workers, task items and submission. The life cycle
 * (create, close, terminate, join, free) is in pool_life.c, the
 * data-parallel calls in pool_map.c. */
#define _GNU_SOURCE /* pthread_setname_np, pthread_attr_setaffinity_np */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parc/deque.h"
#include "parc/eventcount.h"
#include "parc/inject.h"
#include "pool_internal.h"
#include "recycle.h"

/* Rounds of looking for work before a searching worker parks, with a
 * pause of SEARCH_PAUSE relaxes between rounds: about PARC_SPIN_POLLS
 * relaxes in all, the spin bound every blocking path in parc uses. */
#define SEARCH_ROUNDS 16u
#define SEARCH_PAUSE (PARC_SPIN_POLLS / SEARCH_ROUNDS)
/* Every FAIRNESS_TICKth task a worker takes from the injection queue
 * before its own deque (Go uses 61 too), or else the OLDEST task of its
 * own deque (a steal from its own top): the owner pops its deque LIFO, so
 * a task that keeps resubmitting itself (a busy actor's turn) would
 * otherwise bury an older one there forever when no thief comes (one
 * worker). Outside and older work is not starved. */
#define FAIRNESS_TICK 61u

_Thread_local pool_worker_t *parc_pool_cur_ POOL_TLS;

pool_worker_t *parc_pool_self_(void)
{
    return parc_pool_cur_;
}

/*
 * Wake one parked worker: take it off the sleepers list and count it as
 * searching *on its behalf*, so that until it is up and has looked, other
 * notifiers see a searcher and do not wake a second one for nothing (the
 * eventcount alone cannot say which thread a wake-up will reach; Tokio's
 * scheduler makes the same claim). Returns false when nobody sleeps.
 */
static bool wake_one(parc_pool_t *p)
{
    pthread_mutex_lock(&p->sleep_lock);
    pool_worker_t *w = p->sleepers;
    if (w != NULL) {
        p->sleepers = w->next_sleeper;
        w->asleep = false;
        parc_store(&p->nsleepers, parc_load(&p->nsleepers, PARC_RELAXED) - 1u,
                   PARC_RELAXED); /* writers hold sleep_lock */
        parc_faa(&p->searching, 1u, PARC_RELAXED);
        /* release: pairs with the sleeper's acquire load of `claimed`;
         * set under the lock, so a sleeper that finds itself off the list
         * (under the lock) finds it set too. */
        parc_store(&w->claimed, 1, PARC_RELEASE);
    }
    pthread_mutex_unlock(&p->sleep_lock);
    if (w == NULL)
        return false;
    parc_eventcount_notify_one(&w->ec);
    return true;
}

/* Wake every worker parked now (each at most once: a worker that parks
 * again right away is not chased). */
void parc_pool_wake_all_(parc_pool_t *p)
{
    for (unsigned i = 0; i < p->nworkers && wake_one(p); i++) {
    }
}

/* A new task is visible (pushed to a deque or the injection queue): wake
 * one parked worker, unless a worker is searching and will find it. */
static void pool_notify(parc_pool_t *p)
{
    /* seq_cst fence: orders the push before the loads of `searching` and
     * `nsleepers`; pairs with the seq_cst fence a worker executes after
     * leaving the searching count and joining the sleepers, before its
     * last look for work: either that look sees the task, or these loads
     * see the worker gone from the searchers and on the sleepers list. */
    parc_fence(PARC_SEQ_CST);
    if (parc_load(&p->searching, PARC_RELAXED) != 0
        || parc_load(&p->nsleepers, PARC_RELAXED) == 0)
        return;
    wake_one(p);
}

/*
 * Leave the searching count after finding work. The last searcher to
 * leave looks whether more work is waiting and, if so, wakes a sleeper to
 * take it, which ramps a burst up one worker at a time, while a lone task
 * wakes exactly one worker. More work: a task in an injection shard, or
 * in any worker's deque (ours holds the rest of a batch taken from a
 * shard, for the woken worker to steal). A submission racing with this look
 * either is seen by it or sees the searching count at 0 and wakes a
 * sleeper itself (the fences below and in pool_notify pair up).
 */
static void found_work(parc_pool_t *p, pool_worker_t *w)
{
    if (parc_fas(&p->searching, 1u, PARC_RELAXED) != 1u)
        return;
    /* seq_cst fence: orders leaving the searchers before the look below;
     * pairs with pool_notify's fence (store-buffering pattern). */
    parc_fence(PARC_SEQ_CST);
    /* Our own deque counts too: a batch taken from a shard waits there. */
    bool more = parc_inject_size(&p->inject) > 0 || parc_deque_size(&w->deque) > 0;
    for (unsigned i = 0; !more && i < p->nworkers; i++)
        more = &p->workers[i] != w && parc_deque_size(&p->workers[i].deque) > 0;
    if (more)
        pool_notify(p);
}

/* ---- task items ------------------------------------------------------------ *
 *
 * The deques and the injection queue hold pointers, "items", of two kinds:
 * a future (parc_future_t *, from submit with a future, apply_async and
 * the data-parallel calls), or a fire-and-forget task (submit with out ==
 * NULL): nobody can observe its outcome, so it needs no future, no state
 * machine and no reference count, only its function and argument, in a
 * two-word record tagged by the low bit of the item (records are at least
 * pointer-aligned, so the bit is free). Running one is a call; cancelling
 * one (terminate) drops it unrun.
 *
 * Records come from a recycler (src/recycle.h), as futures do: one is made
 * on the submitting thread and freed on a worker, which glibc's malloc
 * serves slowly. The freeing worker keeps LIGHT_BATCH records for its own
 * allocations and hands the rest on in chains of LIGHT_BATCH to a shared
 * stack of up to LIGHT_SHARED records (~2 MiB), which a submitter with
 * none left takes whole.
 */
typedef struct light_task {
    parc_task_fn fn;
    void *arg;
} light_task_t;

_Static_assert(sizeof(light_task_t) >= sizeof(void *) * 2, "two words");
#define LIGHT_TAG ((uintptr_t)1)
#define LIGHT_BATCH 256u
#define LIGHT_SHARED 65536u

static parc_recycler_t lights = PARC_RECYCLE_HEAP_INIT(
    sizeof(light_task_t), LIGHT_BATCH, LIGHT_BATCH, LIGHT_SHARED);
static _Thread_local parc_recycle_cache_t lights_cache;

static light_task_t *light_alloc(void)
{
    return parc_recycle_alloc(&lights, &lights_cache);
}

static void light_free(light_task_t *t)
{
    parc_recycle_free(&lights, &lights_cache, t);
}

static bool is_light(void *item)
{
    return ((uintptr_t)item & LIGHT_TAG) != 0;
}

static light_task_t *as_light(void *item)
{
    return (light_task_t *)(void *)((uintptr_t)item & ~LIGHT_TAG);
}

/* Run (or, once terminating, cancel) a task item taken from a queue, then
 * drop the queue's reference. A caller-storage future may be freed by its
 * waiter as soon as it completes: read `heap` first. */
static void run_task(parc_pool_t *p, void *item)
{
    if (((uintptr_t)item & POOL_GROUP_TAG) != 0) {
        if (pool_terminating(p))
            parc_task_group_cancel_item_(item);
        else
            parc_task_group_run_item_(item);
        return;
    }
    if (is_light(item)) {
        light_task_t *t = as_light(item);
        if (!pool_terminating(p)) {
            void *ignored = NULL;
            (void)t->fn(t->arg, &ignored); /* nobody asked for the outcome */
        }
        light_free(t);
        return;
    }
    parc_future_t *f = item;
    bool heap = f->heap != 0;
    if (pool_terminating(p))
        parc_future_drop(f);
    else
        parc_future_run(f);
    if (heap)
        parc_future_release(f);
}

void parc_pool_cancel_item_(void *item)
{
    if (((uintptr_t)item & POOL_GROUP_TAG) != 0) {
        parc_task_group_cancel_item_(item);
        return;
    }
    if (is_light(item)) {
        light_free(as_light(item)); /* never runs */
        return;
    }
    parc_future_t *f = item;
    bool heap = f->heap != 0;
    parc_future_drop(f);
    if (heap)
        parc_future_release(f);
}

/* The task item of a shard entry: a future as it is; an inline task in a
 * light record, from the calling worker's own cache (records made here
 * are mostly released here too). NULL when no record could be had. */
static void *entry_item(const parc_inject_entry_t *e)
{
    if (e->fn == NULL)
        return e->arg;
    light_task_t *t = light_alloc();
    if (t == NULL)
        return NULL;
    t->fn = (parc_task_fn)e->fn;
    t->arg = e->arg;
    return (void *)((uintptr_t)t | LIGHT_TAG);
}

/* Run an entry at once (when it could not be queued as an item). */
static void run_entry(parc_pool_t *p, const parc_inject_entry_t *e)
{
    if (e->fn == NULL) {
        run_task(p, e->arg);
    } else if (!pool_terminating(p)) {
        void *ignored = NULL;
        (void)((parc_task_fn)e->fn)(e->arg, &ignored);
    }
}

void parc_pool_cancel_entry_(const parc_inject_entry_t *e)
{
    if (e->fn == NULL)
        parc_pool_cancel_item_(e->arg); /* an inline task simply never runs */
}

static uint64_t next_random(pool_worker_t *w)
{
    uint64_t x = w->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return w->rng = x;
}

/*
 * Take from the injection queue, starting at the worker's own shard: the
 * oldest entry of a batch into *item, the rest onto w's deque (in order:
 * w pops the oldest first). A shard that stays held is skipped: nothing
 * is stranded, a pusher wakes a worker after it (see push_outside), and a
 * worker taking a batch comes back for the rest. Returns true when it
 * took an item. *closed_empty (when not NULL) is set when every shard was
 * seen closed and empty.
 */
static bool inject_take(parc_pool_t *p, pool_worker_t *w, void **item,
                        bool *closed_empty)
{
    /* A helper outside the workers (w NULL) has no deque: one entry. At
     * most half a shard when other workers could take the rest. */
    size_t max = w == NULL ? 1 : INJECT_BATCH;
    unsigned flags = w != NULL && p->nworkers > 1 ? PARC_INJECT_HALF : 0;
    parc_inject_entry_t batch[INJECT_BATCH];
    for (;;) {
        size_t k;
        int rc = parc_inject_take(&p->inject, w != NULL ? w->index : 0, batch,
                                  max, flags, &k);
        if (rc != 0) {
            if (closed_empty != NULL)
                *closed_empty = rc == EPIPE;
            return false;
        }
        for (size_t j = k - 1; j > 0; j--) {
            void *it = entry_item(&batch[j]);
            if (it == NULL)
                run_entry(p, &batch[j]); /* no memory: run it now */
            else if (parc_deque_push(&w->deque, it) != 0)
                run_task(p, it); /* likewise */
        }
        void *it = entry_item(&batch[0]);
        if (it != NULL) {
            *item = it;
            return true;
        }
        run_entry(p, &batch[0]); /* no memory: run it, look again */
    }
}

/* Look once everywhere but our own deque: the injection shards, then the
 * other workers' deques from a random victim on. *drained is set when the
 * injection shards are closed and empty and no deque held anything. */
static void *find_work(parc_pool_t *p, pool_worker_t *w, bool *drained)
{
    void *item;
    bool empty;
    if (inject_take(p, w, &item, &empty))
        return item;
    unsigned n = p->nworkers;
    unsigned start = w != NULL ? (unsigned)(next_random(w) % n) : 0;
    for (unsigned i = 0; i < n; i++) {
        pool_worker_t *v = &p->workers[(start + i) % n];
        if (v == w)
            continue;
        for (;;) {
            if (parc_deque_steal(&v->deque, &item) == 0)
                return item;
            /* a lost race means the deque was not empty: retry it */
            if (parc_deque_size(&v->deque) == 0)
                break;
            empty = false;
            parc_cpu_relax();
        }
    }
    if (drained != NULL)
        *drained = empty;
    return NULL;
}

void *parc_pool_find_work_(parc_pool_t *p, bool *drained)
{
    return find_work(p, NULL, drained);
}

void parc_pool_run_item_(parc_pool_t *p, void *item)
{
    run_task(p, item);
}

/* Join the sleepers list (not counted as searching any more). */
static void register_sleeper(parc_pool_t *p, pool_worker_t *w)
{
    pthread_mutex_lock(&p->sleep_lock);
    w->asleep = true;
    parc_store(&w->claimed, 0, PARC_RELAXED); /* only wakers set it, under the lock */
    w->next_sleeper = p->sleepers;
    p->sleepers = w;
    parc_store(&p->nsleepers, parc_load(&p->nsleepers, PARC_RELAXED) + 1u,
               PARC_RELAXED); /* writers hold sleep_lock */
    pthread_mutex_unlock(&p->sleep_lock);
}

/* Leave the sleepers list without parking. Returns true when a waker
 * claimed w first (and so counted it as searching). */
static bool unregister_sleeper(parc_pool_t *p, pool_worker_t *w)
{
    pthread_mutex_lock(&p->sleep_lock);
    bool claimed = !w->asleep;
    if (!claimed) {
        pool_worker_t **pp = &p->sleepers;
        while (*pp != w)
            pp = &(*pp)->next_sleeper;
        *pp = w->next_sleeper;
        w->asleep = false;
        parc_store(&p->nsleepers, parc_load(&p->nsleepers, PARC_RELAXED) - 1u,
                   PARC_RELAXED);
    }
    pthread_mutex_unlock(&p->sleep_lock);
    return claimed;
}

/* Park until a waker claims w (eventcount protocol on `claimed`). */
static void park_until_claimed(pool_worker_t *w)
{
    /* acquire: pairs with the release store in wake_one */
    while (parc_load(&w->claimed, PARC_ACQUIRE) == 0) {
        parc_eventcount_key_t key = parc_eventcount_prepare_wait(&w->ec);
        if (parc_load(&w->claimed, PARC_ACQUIRE) != 0) { /* as above */
            parc_eventcount_cancel_wait(&w->ec);
            break;
        }
        parc_eventcount_wait(&w->ec, key, PARC_FOREVER);
    }
}

/* The next task for worker w, or NULL when it should exit: its own deque,
 * the injection queue, a search with stealing, and parking. */
static void *next_task(parc_pool_t *p, pool_worker_t *w)
{
    void *item;
    bool counted = false; /* w is counted in p->searching */
    for (;;) {
        if (pool_terminating(p))
            break;
        void *f = w->stash;
        w->stash = NULL;
        if (f == NULL && ++w->tick % FAIRNESS_TICK == 0
            && (inject_take(p, w, &item, NULL)
                || parc_deque_steal(&w->deque, &item) == 0))
            f = item;
        if (f == NULL && (parc_deque_pop_inline_(&w->deque, &item) == 0
                          || inject_take(p, w, &item, NULL)))
            f = item;
        if (f != NULL) {
            if (counted)
                found_work(p, w);
            return f;
        }

        /* Search: steal for a short spin before parking. At most half
         * the workers spin at once (Go's and Tokio's rule): more would
         * only take cores from the threads that make the work. The others
         * go straight to the parking protocol below. */
        unsigned rounds = SEARCH_ROUNDS;
        if (!counted) {
            uint32_t now = parc_faa(&p->searching, 1u, PARC_RELAXED); /* see pool_notify */
            if (2u * now >= p->nworkers && p->nworkers > 1)
                rounds = 1; /* one look, then park */
        }
        counted = true;
        bool drained = false;
        for (unsigned r = 0; r < rounds && !drained; r++) {
            f = find_work(p, w, &drained);
            if (f != NULL) {
                found_work(p, w);
                return f;
            }
            for (unsigned i = 0; i < SEARCH_PAUSE; i++)
                parc_cpu_relax();
        }
        parc_fas(&p->searching, 1u, PARC_RELAXED);
        counted = false;
        if (drained || pool_terminating(p))
            break;

        /* Sleep: register, fence, look a last time, park. */
        register_sleeper(p, w);
        /* seq_cst fence: orders leaving the searchers and joining the
         * sleepers before the last look; pairs with pool_notify's fence. */
        parc_fence(PARC_SEQ_CST);
        f = find_work(p, w, &drained);
        if (f != NULL || drained || pool_terminating(p)) {
            counted = unregister_sleeper(p, w);
            if (f != NULL) {
                if (counted)
                    found_work(p, w);
                else
                    pool_notify(p); /* we were not searching: pass it on */
                return f;
            }
            break;
        }
        park_until_claimed(w);
        counted = true; /* the waker counted us as searching */
    }
    if (counted)
        parc_fas(&p->searching, 1u, PARC_RELAXED);
    return NULL;
}

/* The help hook of every worker: run one task from anywhere. */
static bool worker_help(void *ctx)
{
    pool_worker_t *w = ctx;
    parc_pool_t *p = w->pool;
    void *item;
    void *f = NULL;
    if (parc_deque_pop_inline_(&w->deque, &item) == 0)
        f = item;
    else
        f = find_work(p, w, NULL);
    if (f == NULL)
        return false;
    run_task(p, f);
    return true;
}

/* The join hook of every worker (parc_future_join_fn): take f back when
 * it is the newest item of our own deque, the fork/join case (the task
 * that forked f and now waits on it pushed it last, and whatever it
 * forked after f is joined already). Once terminating, leave f to the
 * help hook, which cancels what it takes. */
static bool worker_join(void *ctx, parc_future_t *f)
{
    pool_worker_t *w = ctx;
    return !pool_terminating(w->pool) && parc_deque_pop_if_inline_(&w->deque, f) == 0;
}

bool parc_pool_help_(parc_pool_t *p)
{
    pool_worker_t *w = parc_pool_cur_;
    return w != NULL && w->pool == p && worker_help(w);
}

void *parc_pool_worker_main_(void *arg)
{
    pool_worker_t *w = arg;
    parc_pool_t *p = w->pool;
    parc_pool_cur_ = w;
    char name[32];
    snprintf(name, sizeof name, "%s%u", p->prefix, w->index);
    name[15] = '\0'; /* the kernel's limit: 15 characters */
    pthread_setname_np(pthread_self(), name);
    parc_future_set_help_hook(worker_help, w);
    parc_future_set_join_hook(worker_join, w);
    if (p->initializer != NULL)
        p->initializer(p->initializer_arg, w->index);
    for (;;) {
        void *f = next_task(p, w);
        if (f == NULL)
            break;
        run_task(p, f);
    }
    /* Closed and drained, or terminated: wake the parked workers, which
     * went to sleep while others still had work, so they see it and exit
     * too. What is left on our deque (terminated) never starts. */
    parc_pool_wake_all_(p);
    void *item;
    if (w->stash != NULL)
        parc_pool_cancel_item_(w->stash);
    while (parc_deque_pop(&w->deque, &item) == 0)
        parc_pool_cancel_item_(item);
    parc_future_set_help_hook(NULL, NULL);
    parc_future_set_join_hook(NULL, NULL);
    parc_pool_cur_ = NULL;
    return NULL;
}

bool parc_pool_has_queued_(parc_pool_t *p)
{
    pool_worker_t *w = parc_pool_cur_;
    if (w != NULL && w->pool == p && w->stash != NULL)
        return true;
    if (parc_inject_size(&p->inject) > 0)
        return true;
    for (unsigned i = 0; i < p->nworkers; i++)
        if (parc_deque_size(&p->workers[i].deque) > 0)
            return true;
    return false;
}

/* ---- submitting --------------------------------------------------------- */

/* Queue an entry from a thread outside the pool (fn NULL: arg is a task
 * item), then wake a worker if none is searching. */
static int push_outside(parc_pool_t *p, parc_task_fn fn, void *arg)
{
    int rc = parc_inject_push(&p->inject, (parc_inject_fn)fn, arg);
    if (rc != 0)
        return rc;
    /*
     * pool_notify without its fence. A parking worker leaves the searchers
     * and joins the sleepers, runs a seq_cst fence F, then looks at the
     * shards. parc_inject_push publishes the entry with a seq_cst RMW of a
     * shard's word and the loads below are seq_cst. In the single order S
     * either these loads come after F, and then they see the worker's
     * registration (C11 7.17.3p11: a seq_cst load after F reads the store
     * sequenced before F, or a later one), or they come before F, and
     * then so does the RMW, which the worker's look at the word after F
     * must see (7.17.3p10). Either the worker finds the task or we wake
     * it. On x86 the loads are plain loads: no fence per submission.
     */
    if (parc_load(&p->searching, PARC_SEQ_CST) == 0
        && parc_load(&p->nsleepers, PARC_SEQ_CST) != 0)
        wake_one(p);
    return 0;
}

/* Hand a task item to the pool: the calling worker's deque, or an
 * injection shard from outside. */
static inline int push_item(parc_pool_t *p, void *item)
{
    pool_worker_t *w = parc_pool_cur_;
    if (w == NULL || w->pool != p)
        return push_outside(p, NULL, item);
    if (pool_terminating(p))
        return EPIPE;
    int rc = parc_deque_push_inline_(&w->deque, item);
    /* A worker always empties its own deque before it parks, so a task
     * pushed here runs even if no one is woken: the wake-up only buys
     * parallelism and needs no fence (that would cost every fork of a
     * fork/join ~20 ns). Relaxed peeks at the searching count and at the
     * number of sleepers decide. */
    if (rc == 0 && parc_load(&p->searching, PARC_RELAXED) == 0
        && parc_load(&p->nsleepers, PARC_RELAXED) != 0)
        wake_one(p);
    return rc;
}

int parc_pool_push_(parc_pool_t *p, parc_future_t *f)
{
    return push_item(p, f);
}

int parc_pool_push_item_(parc_pool_t *p, void *item)
{
    return push_item(p, item);
}

int parc_pool_submit(parc_pool_t *p, parc_task_fn fn, void *arg,
                     parc_future_t **out)
{
    if (p == NULL || fn == NULL)
        return EINVAL;
    if (out == NULL) { /* fire-and-forget: no future */
        pool_worker_t *w = parc_pool_cur_;
        if (w == NULL || w->pool != p) /* inline in the shard: no allocation */
            return push_outside(p, fn, arg);
        light_task_t *t = light_alloc();
        if (t == NULL)
            return ENOMEM;
        t->fn = fn;
        t->arg = arg;
        int rc = push_item(p, (void *)((uintptr_t)t | LIGHT_TAG));
        if (rc != 0)
            light_free(t); /* never queued: never runs */
        return rc;
    }
    parc_future_t *f;
    int rc = parc_future_create(fn, arg, &f);
    if (rc != 0)
        return rc;
    parc_atomic_init(&f->refs, 2u); /* the caller's too; nobody sees f yet */
    rc = push_item(p, f);
    if (rc != 0) {
        parc_future_release(f);
        parc_future_release(f); /* pending: cancelled, then freed */
        return rc;
    }
    *out = f;
    return 0;
}

int parc_pool_submit_future(parc_pool_t *p, parc_future_t *f)
{
    if (p == NULL || f == NULL || f->fn.task == NULL || f->source != NULL)
        return EINVAL;
    /* Caller storage has no count: the queue holds it instead, so a user
     * who cancels it before it runs cannot reuse the storage while a
     * worker may still look at it (destroy says EBUSY). A heap future:
     * the queue takes a reference. */
    int rc = parc_future_hold(f);
    if (rc != 0)
        return rc;
    if (f->heap)
        parc_future_retain(f); /* the queue's reference */
    rc = push_item(p, f);
    if (rc != 0) {
        if (f->heap) /* give the queue's reference back, unrun: the */
            parc_fas(&f->refs, 1u, PARC_RELAXED); /* caller holds one */
        else
            parc_future_unhold(f); /* never published */
    }
    return rc;
}

/* apply_async: the future and the callbacks in one block. */
typedef struct apply_task {
    parc_future_t f; /* first: the last release frees the block */
    parc_task_fn fn;
    void *arg;
    void (*callback)(void *ctx, void *value);
    void (*error_callback)(void *ctx, int status);
    void *ctx;
} apply_task_t;

static int apply_run(void *arg, void **result)
{
    apply_task_t *a = arg;
    void *v = NULL;
    int rc = a->fn(a->arg, &v);
    if (rc == 0 && a->callback != NULL)
        a->callback(a->ctx, v);
    else if (rc != 0 && a->error_callback != NULL)
        a->error_callback(a->ctx, rc);
    *result = v;
    return rc;
}

int parc_pool_apply_async(parc_pool_t *p, parc_task_fn fn, void *arg,
                          void (*callback)(void *ctx, void *value),
                          void (*error_callback)(void *ctx, int status),
                          void *ctx, parc_future_t **out)
{
    if (p == NULL || fn == NULL)
        return EINVAL;
    apply_task_t *a = malloc(sizeof *a);
    if (a == NULL)
        return ENOMEM;
    parc_future_init_heap(&a->f, apply_run, a);
    a->fn = fn;
    a->arg = arg;
    a->callback = callback;
    a->error_callback = error_callback;
    a->ctx = ctx;
    if (out != NULL)
        parc_future_retain(&a->f);
    int rc = parc_pool_push_(p, &a->f);
    if (rc != 0) {
        if (out != NULL)
            parc_future_release(&a->f);
        parc_future_release(&a->f);
        return rc;
    }
    if (out != NULL)
        *out = &a->f;
    return 0;
}
