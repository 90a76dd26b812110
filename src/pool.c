/* parc/pool.h: the work-stealing scheduler, its workers and life cycle. */
#define _GNU_SOURCE /* pthread_setname_np, pthread_attr_setaffinity_np */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parc/deque.h"
#include "parc/eventcount.h"
#include "pool_internal.h"

#define POOL_MAX_WORKERS 1024u
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

typedef struct pool_worker {
    parc_deque_t deque;      /* cache-aligned inside */
    /* Parking: the worker sleeps on its own eventcount until a waker
     * claims it (sets `claimed` and takes it off the sleepers list). */
    PARC_CACHE_ALIGNED parc_eventcount_t ec;
    parc_atomic(int) claimed;
    bool asleep;                       /* on the sleepers list (sleep_lock) */
    struct pool_worker *next_sleeper;  /* sleep_lock */
    parc_pool_t *pool;
    unsigned index;
    uint32_t tick;
    uint64_t rng;            /* xorshift64 state for victim order */
    void *stash;             /* a task item to run next (deque push failed) */
    pthread_t thread;
    bool started;
} pool_worker_t;

/* ---- the injection queue ---------------------------------------------------- *
 *
 * Submissions from threads outside the pool go to INJECT_SHARDS shards, a
 * submitting thread always to the same one (threads are dealt out round
 * robin), as ForkJoinPool's external submission queues (Doug Lea,
 * java.util.concurrent). A shard is a ring buffer guarded by one word that
 * holds its item count, a CLOSED bit and a LOCKED bit:
 *
 *   push   CAS LOCKED in (acquire; fails with EPIPE once CLOSED), store the
 *          item, then one fetch-and-add that adds the item to the count and
 *          clears LOCKED at once (seq_cst: it publishes the item and is the
 *          RMW the fence-free wake-up in push_item relies on).
 *   take   CAS LOCKED in, take up to INJECT_BATCH items (at most half of
 *          them when other workers could take the rest), store the new
 *          count with LOCKED clear (release). The worker runs the first
 *          and puts the rest on its own deque, where it finds them without
 *          touching the shard again and idle workers may steal them (Go's
 *          scheduler takes batches from its global run queue likewise).
 *   close  CAS CLOSED in (waiting out a holder): every later push fails,
 *          and a shard seen CLOSED and empty stays empty.
 *
 * Against the lock-free parc/lfqueue.h this was until, a push costs two
 * RMWs on a line that usually stays with the submitting thread (the
 * lfqueue needed an epoch-section exchange, a fetch-and-add and a CAS on
 * lines that consumers keep pulling away), and consumers touch the shard
 * once per batch. The lock is held for a few stores: a push spins (with
 * parc_spin_poll, yielding now and then) only while another thread holds
 * it; a worker never waits for it (a busy shard is simply retried later).
 */
#define INJECT_SHARDS 4u
#define INJECT_BATCH 32u
#define INJECT_BUSY_POLLS 64u /* looks at a held shard before moving on */
#define INJECT_RING_MIN 256u    /* slots a shard starts with and shrinks to */
#define INJECT_RING_KEEP 16384u /* an emptied ring larger than this shrinks */
#define SHARD_LOCKED UINT64_C(1)
#define SHARD_CLOSED UINT64_C(2)
#define SHARD_ONE UINT64_C(4)   /* one item in the count */

/* A queued submission: a fire-and-forget task inline (fn, arg), or with
 * fn NULL, a task item (a future) in arg. Inline tasks cost the submitter
 * no allocation at all. */
typedef struct inject_entry {
    parc_task_fn fn;
    void *arg;
} inject_entry_t;

typedef struct inject_shard {
    /* count * SHARD_ONE | SHARD_CLOSED | SHARD_LOCKED */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) word;
    /* Guarded by LOCKED: the oldest entry's ring index, the ring. */
    size_t head;
    size_t cap;              /* a power of two */
    inject_entry_t *ring;
} inject_shard_t;

struct parc_pool {
    inject_shard_t inject[INJECT_SHARDS]; /* outside submissions */
    /* Workers looking for work (not parked, not running): a submission
     * wakes a sleeper only when this is 0. Written by every worker that
     * runs out of work: its own line. */
    PARC_CACHE_ALIGNED parc_atomic(uint32_t) searching;
    /* Parked workers: a list under a lock (taken only to park and to
     * wake, both of which cost a futex call anyway) and its length,
     * which notifiers read without the lock. */
    PARC_CACHE_ALIGNED parc_atomic(uint32_t) nsleepers;
    pthread_mutex_t sleep_lock;
    pool_worker_t *sleepers;
    /* Read by every task and every steal, written once: a line of their
     * own, away from the sleepers' churn. */
    PARC_CACHE_ALIGNED parc_atomic(int) terminating;
    unsigned nworkers;
    pool_worker_t *workers;
    void (*initializer)(void *arg, unsigned worker);
    void *initializer_arg;
    char prefix[16];
    /* Life cycle: cold. */
    PARC_CACHE_ALIGNED pthread_mutex_t join_lock;
    bool joined;
};

static _Thread_local unsigned inject_slot; /* 0: none dealt yet */
static parc_atomic(unsigned) inject_dealt;

static size_t shard_count(uint64_t word)
{
    return (size_t)(word / SHARD_ONE);
}

static int shard_init(inject_shard_t *s)
{
    s->ring = malloc(INJECT_RING_MIN * sizeof *s->ring);
    if (s->ring == NULL)
        return ENOMEM;
    parc_atomic_init(&s->word, UINT64_C(0));
    s->head = 0;
    s->cap = INJECT_RING_MIN;
    return 0;
}

/* Append one entry. Returns 0; EAGAIN when another thread holds the
 * shard (or won the race for it); EPIPE when the shard is closed; ENOMEM
 * when a full ring could not grow. */
static int shard_push(inject_shard_t *s, parc_task_fn fn, void *arg)
{
    uint64_t w = parc_load(&s->word, PARC_RELAXED);
    if (w & SHARD_CLOSED)
        return EPIPE;
    if (w & SHARD_LOCKED)
        return EAGAIN; /* the caller tries another shard first */
    /* acquire: the ring as the previous holder left it (its release
     * store or seq_cst add of the word) is visible. */
    if (!parc_cas(&s->word, &w, w | SHARD_LOCKED, PARC_ACQUIRE, PARC_RELAXED))
        return (w & SHARD_CLOSED) ? EPIPE : EAGAIN;
    size_t n = shard_count(w);
    if (n == s->cap) {
        inject_entry_t *bigger = malloc(2 * s->cap * sizeof *bigger);
        if (bigger == NULL) {
            /* release: nothing changed, but the next holder's acquire
             * pairs with every unlock alike. */
            parc_store(&s->word, w, PARC_RELEASE);
            return ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
            bigger[i] = s->ring[(s->head + i) & (s->cap - 1)];
        free(s->ring);
        s->ring = bigger;
        s->head = 0;
        s->cap *= 2;
    }
    inject_entry_t *e = &s->ring[(s->head + n) & (s->cap - 1)];
    e->fn = fn;
    e->arg = arg;
    /* Count the item and unlock in one RMW (w | LOCKED + ONE - LOCKED is
     * w + ONE). release: publishes the item and the ring to the next
     * holder (its acquire CAS). seq_cst: see push_item. */
    parc_faa(&s->word, SHARD_ONE - SHARD_LOCKED, PARC_SEQ_CST);
    return 0;
}

/* Take up to `max` entries (oldest first) into out. Returns how many; 0
 * when the shard is empty, or when it is locked, which sets *busy. */
static size_t shard_take(inject_shard_t *s, inject_entry_t *out, size_t max,
                         bool *busy)
{
    uint64_t w = parc_load(&s->word, PARC_RELAXED);
    for (;;) {
        if (shard_count(w) == 0)
            return 0;
        if (w & SHARD_LOCKED) {
            *busy = true;
            return 0;
        }
        /* acquire: as in shard_push. */
        if (parc_cas_weak(&s->word, &w, w | SHARD_LOCKED, PARC_ACQUIRE, PARC_RELAXED))
            break;
    }
    size_t n = shard_count(w), k = n < max ? n : max;
    for (size_t i = 0; i < k; i++)
        out[i] = s->ring[(s->head + i) & (s->cap - 1)];
    s->head = (s->head + k) & (s->cap - 1);
    if (k == n && s->cap > INJECT_RING_KEEP) { /* a burst is over: shrink */
        inject_entry_t *small = malloc(INJECT_RING_MIN * sizeof *small);
        if (small != NULL) {
            free(s->ring);
            s->ring = small;
            s->cap = INJECT_RING_MIN;
            s->head = 0;
        }
    }
    /* release: our ring updates happen before the next holder's acquire
     * CAS. Nobody else writes the word while it is LOCKED. */
    parc_store(&s->word, w - k * SHARD_ONE, PARC_RELEASE);
    return k;
}

/* Mark the shard closed, waiting out a holder. */
static void shard_close(inject_shard_t *s)
{
    uint64_t w = parc_load(&s->word, PARC_RELAXED);
    for (unsigned i = 0; !(w & SHARD_CLOSED);) {
        if (w & SHARD_LOCKED) {
            parc_spin_poll(i++);
            w = parc_load(&s->word, PARC_RELAXED);
            continue;
        }
        /* relaxed: the bit is all a pusher needs, and it reads it in the
         * word's modification order (its CAS). */
        parc_cas_weak(&s->word, &w, w | SHARD_CLOSED, PARC_RELAXED, PARC_RELAXED);
    }
}

/* True when some shard holds items (a snapshot; relaxed: nothing is read
 * through it). */
static bool inject_nonempty(parc_pool_t *p)
{
    for (unsigned i = 0; i < INJECT_SHARDS; i++)
        if (shard_count(parc_load(&p->inject[i].word, PARC_RELAXED)) > 0)
            return true;
    return false;
}

/* Push from an outside thread: to its own shard, or when another thread
 * holds that one (a worker taking a batch, possibly preempted meanwhile),
 * to the next free one: a submission never waits for a holder unless every
 * shard is held at once. Returns as shard_push, never EAGAIN. */
static int inject_push(parc_pool_t *p, parc_task_fn fn, void *arg)
{
    if (inject_slot == 0)
        inject_slot = parc_faa(&inject_dealt, 1u, PARC_RELAXED) % INJECT_SHARDS + 1u;
    unsigned first = inject_slot - 1u;
    for (unsigned i = 0;; i++) {
        int rc = shard_push(&p->inject[(first + i) % INJECT_SHARDS], fn, arg);
        if (rc != EAGAIN)
            return rc;
        if (i % INJECT_SHARDS == INJECT_SHARDS - 1)
            parc_spin_poll(i / INJECT_SHARDS); /* all held: wait a little */
    }
}

static _Thread_local pool_worker_t *current;

static void *alloc_aligned(size_t size)
{
    size_t rounded = (size + PARC_CACHELINE - 1) / PARC_CACHELINE * PARC_CACHELINE;
    void *m = aligned_alloc(PARC_CACHELINE, rounded);
    if (m != NULL)
        memset(m, 0, rounded);
    return m;
}

static bool terminating(parc_pool_t *p)
{
    /* acquire: pairs with the release store in terminate; nothing is read
     * through it but the flag, acquire keeps later drains after it. */
    return parc_load(&p->terminating, PARC_ACQUIRE) != 0;
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
static void wake_all(parc_pool_t *p)
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
    bool more = inject_nonempty(p) || parc_deque_size(&w->deque) > 0;
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
 * Records are recycled as futures are (see src/future.c): one is made on
 * the submitting thread and released on a worker, and glibc serves such
 * cross-thread frees slowly. A releasing thread gathers records into a
 * chain; a full chain (LIGHT_BATCH records) it keeps for its own
 * allocations if it has none, or else hands at once (one CAS) to a
 * process-wide stack of up to LIGHT_SHARED records (~2 MiB), which an
 * allocating thread with none left takes whole (one exchange: no ABA);
 * beyond, records are freed. A thread's own records are freed when it
 * exits. AddressSanitizer builds do not recycle, so it sees every use
 * after free.
 */
typedef struct light_task {
    parc_task_fn fn;
    void *arg;
} light_task_t;

typedef struct light_free {
    struct light_free *next;
    struct light_free *batch_next; /* next chain on the shared stack */
    struct light_free *tail;       /* a chain's last record (its head) */
} light_free_t;

_Static_assert(sizeof(light_task_t) >= sizeof(void *) * 2, "two words");
#define LIGHT_SIZE (sizeof(light_free_t) > sizeof(light_task_t) \
                        ? sizeof(light_free_t) : sizeof(light_task_t))
#define LIGHT_TAG ((uintptr_t)1)

#if defined(__SANITIZE_ADDRESS__)
#define POOL_LIGHT_RECYCLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_LIGHT_RECYCLE 0
#endif
#endif
#ifndef POOL_LIGHT_RECYCLE
#define POOL_LIGHT_RECYCLE 1
#endif

#define LIGHT_BATCH 256u
#define LIGHT_SHARED 65536u

#if POOL_LIGHT_RECYCLE
typedef struct light_cache {
    light_free_t *head;      /* records this thread allocates from */
    light_free_t *batch;     /* records it released, a chain being built */
    light_free_t *batch_tail;
    unsigned batch_len;
    bool registered;         /* the exit destructor knows about it */
} light_cache_t;

/* Chains of LIGHT_BATCH records, each chain's head naming its tail. */
static parc_atomic(light_free_t *) light_shared;
static parc_atomic(size_t) light_shared_count; /* approximate: a cap only */
static _Thread_local light_cache_t light_local;
static pthread_key_t light_key;
static pthread_once_t light_key_once = PTHREAD_ONCE_INIT;

static void free_list(light_free_t *r)
{
    while (r != NULL) {
        light_free_t *next = r->next;
        free(r);
        r = next;
    }
}

static void light_exit(void *arg)
{
    light_cache_t *c = arg;
    free_list(c->head);
    free_list(c->batch);
    c->head = c->batch = NULL;
    c->batch_len = 0;
}

static void light_key_create(void)
{
    (void)pthread_key_create(&light_key, light_exit);
}

/* Tell the exit destructor about this thread's cache; false when it
 * cannot (then the thread keeps no records). */
static bool light_register(light_cache_t *c)
{
    if (!c->registered) {
        pthread_once(&light_key_once, light_key_create);
        c->registered = pthread_setspecific(light_key, c) == 0;
    }
    return c->registered;
}
#endif

static light_task_t *light_alloc(void)
{
#if POOL_LIGHT_RECYCLE
    light_cache_t *c = &light_local;
    if (c->head == NULL && c->batch != NULL) { /* our own releases */
        c->head = c->batch;
        c->batch = NULL;
        c->batch_len = 0;
    }
    if (c->head == NULL && parc_load(&light_shared, PARC_RELAXED) != NULL
        && light_register(c)) {
        /* acquire: the records' last uses by the threads that released
         * them happen before we reuse them; pairs with the release CAS in
         * light_free. */
        light_free_t *chains = parc_xchg(&light_shared, NULL, PARC_ACQUIRE);
        parc_store(&light_shared_count, (size_t)0, PARC_RELAXED); /* a hint */
        while (chains != NULL) { /* splice the chains into one list */
            light_free_t *next_chain = chains->batch_next;
            chains->tail->next = c->head;
            c->head = chains;
            chains = next_chain;
        }
    }
    if (c->head != NULL) {
        light_free_t *r = c->head;
        c->head = r->next;
        return (light_task_t *)(void *)r;
    }
#endif
    return malloc(LIGHT_SIZE);
}

static void light_free(light_task_t *t)
{
#if POOL_LIGHT_RECYCLE
    light_cache_t *c = &light_local;
    if (light_register(c)) {
        light_free_t *r = (light_free_t *)(void *)t;
        r->next = c->batch;
        if (c->batch == NULL)
            c->batch_tail = r;
        c->batch = r;
        if (++c->batch_len < LIGHT_BATCH)
            return;
        light_free_t *chain = c->batch;
        chain->tail = c->batch_tail;
        c->batch = NULL;
        c->batch_len = 0;
        if (c->head == NULL) { /* a thread that allocates keeps its own */
            c->head = chain;
            return;
        }
        if (parc_load(&light_shared_count, PARC_RELAXED) < LIGHT_SHARED) {
            parc_faa(&light_shared_count, (size_t)LIGHT_BATCH, PARC_RELAXED);
            light_free_t *head = parc_load(&light_shared, PARC_RELAXED);
            do {
                chain->batch_next = head;
                /* release: our uses of the records happen before their
                 * reuse; pairs with the acquire exchange in light_alloc. */
            } while (!parc_cas_weak(&light_shared, &head, chain, PARC_RELEASE,
                                    PARC_RELAXED));
            return;
        }
        free_list(chain);
        return;
    }
#endif
    free(t);
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
    if (is_light(item)) {
        light_task_t *t = as_light(item);
        if (!terminating(p)) {
            void *ignored = NULL;
            (void)t->fn(t->arg, &ignored); /* nobody asked for the outcome */
        }
        light_free(t);
        return;
    }
    parc_future_t *f = item;
    bool heap = f->heap != 0;
    if (terminating(p))
        parc_future_drop(f);
    else
        parc_future_run(f);
    if (heap)
        parc_future_release(f);
}

static void cancel_task(void *item)
{
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
static void *entry_item(const inject_entry_t *e)
{
    if (e->fn == NULL)
        return e->arg;
    light_task_t *t = light_alloc();
    if (t == NULL)
        return NULL;
    t->fn = e->fn;
    t->arg = e->arg;
    return (void *)((uintptr_t)t | LIGHT_TAG);
}

/* Run an entry at once (when it could not be queued as an item). */
static void run_entry(parc_pool_t *p, const inject_entry_t *e)
{
    if (e->fn == NULL) {
        run_task(p, e->arg);
    } else if (!terminating(p)) {
        void *ignored = NULL;
        (void)e->fn(e->arg, &ignored);
    }
}

static void cancel_entry(const inject_entry_t *e)
{
    if (e->fn == NULL)
        cancel_task(e->arg); /* an inline task simply never runs */
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
 * Take from the injection shards, starting at the worker's own: the oldest
 * item of the first shard with any into *item, the rest of a batch onto
 * w's deque (in order: w pops the oldest first). A shard that is busy
 * while holding items is retried (its holder takes a few stores): it
 * holds work. Returns true when it took an item. *closed_empty (when not
 * NULL) is set when every shard was seen closed and empty.
 */
static bool inject_take(parc_pool_t *p, pool_worker_t *w, void **item,
                        bool *closed_empty)
{
    bool all_closed_empty = true;
    unsigned start = w != NULL ? w->index : 0;
    for (unsigned i = 0; i < INJECT_SHARDS; i++) {
        inject_shard_t *s = &p->inject[(start + i) % INJECT_SHARDS];
        for (unsigned spins = 0;; spins++) {
            uint64_t word = parc_load(&s->word, PARC_RELAXED); /* a peek */
            size_t n = shard_count(word);
            if (n == 0) {
                if (!(word & SHARD_CLOSED))
                    all_closed_empty = false;
                break;
            }
            /* At most half when other workers could take the rest. */
            size_t max = w == NULL ? 1
                         : p->nworkers == 1 ? INJECT_BATCH
                         : (n + 1) / 2 < INJECT_BATCH ? (n + 1) / 2
                                                      : INJECT_BATCH;
            inject_entry_t batch[INJECT_BATCH];
            bool busy = false;
            size_t k = shard_take(s, batch, max, &busy);
            if (k > 0) {
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
                continue;
            }
            if (busy) {
                /* Held for a few stores: look again a few times. Held
                 * longer (the holder was preempted): move on. Nothing is
                 * stranded: a pusher wakes a worker after it (see
                 * push_outside), a worker taking a batch comes back for
                 * the rest. */
                if (spins < INJECT_BUSY_POLLS) {
                    parc_cpu_relax();
                    continue;
                }
                all_closed_empty = false;
                break;
            }
        }
    }
    if (closed_empty != NULL)
        *closed_empty = all_closed_empty;
    return false;
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
        if (terminating(p))
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
        if (drained || terminating(p))
            break;

        /* Sleep: register, fence, look a last time, park. */
        register_sleeper(p, w);
        /* seq_cst fence: orders leaving the searchers and joining the
         * sleepers before the last look; pairs with pool_notify's fence. */
        parc_fence(PARC_SEQ_CST);
        f = find_work(p, w, &drained);
        if (f != NULL || drained || terminating(p)) {
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
    return !terminating(w->pool) && parc_deque_pop_if_inline_(&w->deque, f) == 0;
}

bool parc_pool_help_(parc_pool_t *p)
{
    return current != NULL && current->pool == p && worker_help(current);
}

static void *worker_main(void *arg)
{
    pool_worker_t *w = arg;
    parc_pool_t *p = w->pool;
    current = w;
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
    wake_all(p);
    void *item;
    if (w->stash != NULL)
        cancel_task(w->stash);
    while (parc_deque_pop(&w->deque, &item) == 0)
        cancel_task(item);
    parc_future_set_help_hook(NULL, NULL);
    parc_future_set_join_hook(NULL, NULL);
    current = NULL;
    return NULL;
}

/* ---- life cycle ------------------------------------------------------- */

static void stop_and_join(parc_pool_t *p, bool cancel)
{
    if (cancel)
        parc_pool_terminate(p);
    else
        parc_pool_close(p);
    pthread_mutex_lock(&p->join_lock);
    if (!p->joined) {
        for (unsigned i = 0; i < p->nworkers; i++)
            if (p->workers[i].started)
                pthread_join(p->workers[i].thread, NULL);
        p->joined = true;
    }
    pthread_mutex_unlock(&p->join_lock);
}

/* Close every injection shard, then cancel what they still hold. */
static void inject_cancel_all(parc_pool_t *p)
{
    for (unsigned i = 0; i < INJECT_SHARDS; i++) {
        inject_shard_t *s = &p->inject[i];
        shard_close(s);
        for (;;) {
            inject_entry_t batch[INJECT_BATCH];
            bool busy = false;
            size_t k = shard_take(s, batch, INJECT_BATCH, &busy);
            for (size_t j = 0; j < k; j++)
                cancel_entry(&batch[j]);
            if (k == 0 && !busy)
                break;
            if (k == 0)
                parc_cpu_relax(); /* a worker is taking a batch */
        }
    }
}

static void inject_destroy(parc_pool_t *p)
{
    for (unsigned i = 0; i < INJECT_SHARDS; i++)
        free(p->inject[i].ring);
}

static void destroy_pool(parc_pool_t *p)
{
    inject_cancel_all(p); /* none after a join; keeps create's failure path exact */
    for (unsigned i = 0; i < p->nworkers; i++)
        parc_deque_destroy(&p->workers[i].deque);
    inject_destroy(p);
    pthread_mutex_destroy(&p->join_lock);
    pthread_mutex_destroy(&p->sleep_lock);
    free(p->workers);
    free(p);
}

int parc_pool_create(unsigned workers, const parc_pool_options_t *opts,
                     parc_pool_t **out)
{
    if (out == NULL || workers > POOL_MAX_WORKERS)
        return EINVAL;
    parc_pool_options_t defaults = PARC_POOL_OPTIONS_INIT;
    if (opts == NULL)
        opts = &defaults;
    if (workers == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        workers = cpus < 1 ? 1u : cpus > (long)POOL_MAX_WORKERS ? POOL_MAX_WORKERS
                                                                : (unsigned)cpus;
    }
    for (size_t i = 0; opts->cpus != NULL && i < opts->ncpus; i++)
        if (opts->cpus[i] < 0 || opts->cpus[i] >= CPU_SETSIZE)
            return EINVAL;

    parc_pool_t *p = alloc_aligned(sizeof *p);
    if (p == NULL)
        return ENOMEM;
    p->workers = alloc_aligned(sizeof *p->workers * workers);
    bool shards_ok = true;
    for (unsigned i = 0; i < INJECT_SHARDS; i++)
        shards_ok = shard_init(&p->inject[i]) == 0 && shards_ok;
    if (p->workers == NULL || !shards_ok) {
        inject_destroy(p); /* alloc_aligned zeroed the rings not made */
        free(p->workers);
        free(p);
        return ENOMEM;
    }
    parc_atomic_init(&p->searching, 0u);
    parc_atomic_init(&p->nsleepers, 0u);
    pthread_mutex_init(&p->sleep_lock, NULL);
    p->sleepers = NULL;
    parc_atomic_init(&p->terminating, 0);
    p->initializer = opts->initializer;
    p->initializer_arg = opts->initializer_arg;
    snprintf(p->prefix, sizeof p->prefix, "%s",
             opts->name_prefix != NULL ? opts->name_prefix : "parc-w");
    pthread_mutex_init(&p->join_lock, NULL);
    p->nworkers = workers;
    int rc = 0;
    for (unsigned i = 0; i < workers; i++) {
        pool_worker_t *w = &p->workers[i];
        w->pool = p;
        w->index = i;
        parc_eventcount_init(&w->ec);
        parc_atomic_init(&w->claimed, 0);
        w->rng = 0x9e3779b97f4a7c15ull * (i + 1);
        if (parc_deque_init(&w->deque, opts->deque_capacity) != 0) {
            /* the deques before this one are destroyed with the pool */
            for (unsigned j = 0; j < i; j++)
                parc_deque_destroy(&p->workers[j].deque);
            inject_destroy(p);
            pthread_mutex_destroy(&p->join_lock);
            pthread_mutex_destroy(&p->sleep_lock);
            free(p->workers);
            free(p);
            return ENOMEM;
        }
    }
    for (unsigned i = 0; i < workers && rc == 0; i++) {
        pool_worker_t *w = &p->workers[i];
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        if (opts->cpus != NULL && opts->ncpus > 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(opts->cpus[i % opts->ncpus], &set);
            pthread_attr_setaffinity_np(&attr, sizeof set, &set);
        }
        int e = pthread_create(&w->thread, &attr, worker_main, w);
        pthread_attr_destroy(&attr);
        if (e == 0)
            w->started = true;
        else
            rc = e == EINVAL ? EINVAL : EAGAIN;
    }
    if (rc != 0) {
        stop_and_join(p, true);
        destroy_pool(p);
        return rc;
    }
    *out = p;
    return 0;
}

unsigned parc_pool_workers(const parc_pool_t *p)
{
    return p != NULL ? p->nworkers : 0;
}

int parc_pool_current_worker(const parc_pool_t *p)
{
    return p != NULL && current != NULL && current->pool == p
               ? (int)current->index : -1;
}

int parc_pool_close(parc_pool_t *p)
{
    if (p == NULL)
        return EINVAL;
    for (unsigned i = 0; i < INJECT_SHARDS; i++)
        shard_close(&p->inject[i]);
    /* Parked workers re-check: the ones that find the pool drained exit
     * (and each exiting worker wakes the rest, see worker_main). */
    wake_all(p);
    return 0;
}

int parc_pool_terminate(parc_pool_t *p)
{
    if (p == NULL)
        return EINVAL;
    /* release: orders nothing but the flag before the drains below;
     * pairs with the acquire loads in terminating(). */
    parc_store(&p->terminating, 1, PARC_RELEASE);
    inject_cancel_all(p);
    void *item;
    for (unsigned i = 0; i < p->nworkers; i++) {
        pool_worker_t *v = &p->workers[i];
        while (parc_deque_size(&v->deque) > 0)
            if (parc_deque_steal(&v->deque, &item) == 0)
                cancel_task(item);
    }
    wake_all(p);
    return 0;
}

int parc_pool_join(parc_pool_t *p)
{
    if (p == NULL)
        return EINVAL;
    if (current != NULL && current->pool == p)
        return EDEADLK;
    stop_and_join(p, false);
    return 0;
}

int parc_pool_shutdown(parc_pool_t *p, bool wait, bool cancel_pending)
{
    if (p == NULL)
        return EINVAL;
    if (cancel_pending)
        parc_pool_terminate(p);
    else
        parc_pool_close(p);
    return wait ? parc_pool_join(p) : 0;
}

int parc_pool_free(parc_pool_t *p)
{
    if (p == NULL)
        return EINVAL;
    if (current != NULL && current->pool == p)
        return EDEADLK;
    stop_and_join(p, false);
    destroy_pool(p);
    return 0;
}

/* ---- submitting --------------------------------------------------------- */

/* Queue an entry from a thread outside the pool (fn NULL: arg is a task
 * item), then wake a worker if none is searching. */
static int push_outside(parc_pool_t *p, parc_task_fn fn, void *arg)
{
    int rc = inject_push(p, fn, arg);
    if (rc != 0)
        return rc;
    /*
     * pool_notify without its fence. A parking worker leaves the searchers
     * and joins the sleepers, runs a seq_cst fence F, then looks at the
     * shards. shard_push publishes the entry with a seq_cst RMW of the
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
    pool_worker_t *w = current;
    if (w == NULL || w->pool != p)
        return push_outside(p, NULL, item);
    if (terminating(p))
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

int parc_pool_submit(parc_pool_t *p, parc_task_fn fn, void *arg,
                     parc_future_t **out)
{
    if (p == NULL || fn == NULL)
        return EINVAL;
    if (out == NULL) { /* fire-and-forget: no future */
        pool_worker_t *w = current;
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
