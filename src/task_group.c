/*
 * parc/task_group.h: task groups on the pool. Read the header's
 * Semantics first; this file holds the record protocol and the waiter.
 *
 * Invariants:
 *   - A record is claimed (claimed 0 -> 1, one CAS) at most once, by the
 *     thread that then runs or skips it; a record is counted in its
 *     group's pending from before it is published until just after its
 *     claimer finished it.
 *   - A record has two references, the pool item's and the group stack's;
 *     each side drops its own after claiming or failing to claim, and the
 *     last drop frees it. So a pool item reached after its group was
 *     destroyed touches only its record (the claim fails, it drops).
 *   - A group's stack holds every shared record run into it since the
 *     last drain; the waiter takes it whole (exchange with NULL: no ABA).
 *   - Home records. A run made on the group's home worker (the worker
 *     whose task bound it, which structured code also waits on it) is
 *     only a pool item: not on the stack, never claimed, no references;
 *     whoever takes the item from the deque (the home worker's pop or a
 *     thief's steal, each exactly once) runs it and frees it. That is
 *     the fork/join common case, and it costs the two RMWs of `pending`
 *     instead of seven (stack push, claim, two reference drops, the
 *     waiter's exchange and its failed claim). Such a record is
 *     reachable by the home worker only through its own deque: the
 *     waiter takes it when it is the newest item, and before parking it
 *     digs (pops items into a buffer down to one of its records, then
 *     pushes the others back in order) so that a record buried under
 *     unrelated items (a fire-and-forget submit of a nested task) is
 *     still found by a pool of one worker. A waiter on another thread
 *     cannot reach home records: it relies on the home worker (which
 *     structured code has waiting on the group too) and on thieves.
 *     Every other run (outside threads, other workers) is shared.
 *
 * The waiter parks on the pending word itself (parc/park.h). The last
 * finisher's wake-up may reach the word after the waiter returned and
 * the group's storage went away: futex and the condvar back-end use the
 * address only as a key, so a stale wake is at worst a spurious wake-up
 * of an unrelated word, which every parc waiter tolerates. Rejected: a
 * count of finishers in flight that wait() drains (two more RMWs on every
 * task for the rare parked waiter).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "parc/task_group.h"
#include "pool_internal.h"
#include "recycle.h"

/* The high bit of `pending`: a waiter parked (or is about to). */
#define WAITERS 0x80000000u
#define COUNT(v) ((v) & ~WAITERS)

typedef struct tg_task {
    parc_task_group_fn fn;
    void *arg;
    parc_task_group_t *group;
    struct tg_task *next;          /* on the group's stack */
    parc_atomic(uint32_t) claimed; /* 0 until a runner claims it */
    parc_atomic(uint32_t) refs;    /* the pool item's and the stack's */
    bool shared;                   /* on the stack too (else: home record) */
    /* spawn's copy of its argument (arg points here then) */
    _Alignas(max_align_t) unsigned char copy[PARC_TASK_GROUP_ARG_MAX];
} tg_task_t;

static parc_recycler_t records =
    PARC_RECYCLE_HEAP_INIT(sizeof(tg_task_t), 256u, 256u, 65536u);
static _Thread_local parc_recycle_cache_t records_cache;

/* The group whose task this thread runs (NULL outside), and its pool. */
static _Thread_local parc_task_group_t *running_group;

static void *as_item(tg_task_t *t)
{
    return (void *)((uintptr_t)t | POOL_GROUP_TAG);
}

static tg_task_t *as_record(void *item)
{
    return (tg_task_t *)(void *)((uintptr_t)item & ~POOL_GROUP_TAG);
}

static bool is_record(void *item)
{
    return ((uintptr_t)item & POOL_GROUP_TAG) != 0;
}

static bool claim(tg_task_t *t)
{
    uint32_t free_ = 0;
    /* relaxed: the record's fields were published by the pool push or the
     * stack push (release) that the claimer's take acquired; the claim
     * only decides who runs it. */
    return parc_cas(&t->claimed, &free_, 1u, PARC_RELAXED, PARC_RELAXED);
}

static void release(tg_task_t *t)
{
    /* acq_rel: the release publishes our last use of the record; the
     * acquire of the last drop pairs with the other side's release, so
     * the free comes after both. */
    if (parc_fas(&t->refs, 1u, PARC_ACQ_REL) == 1u)
        parc_recycle_free(&records, &records_cache, t);
}

/*
 * Cancellation reaches a group from any ancestor, and a task asks at
 * every start (and a long task polls): walking up the parents each time
 * costs the tree's depth in loads of other groups' lines (a UTS walk,
 * 60 deep, spent a tenth of its time there). So every cancel also bumps
 * one process-wide generation after raising its flag, and a group keeps
 * the answer of its last walk with the generation it saw (`seen`): while
 * the generation has not moved, no flag was raised since, and the answer
 * stands. The generation is written only by cancels (rare, whatever the
 * pool's size), so its line stays shared in every core's cache. A
 * per-pool generation would need the group's pool at every look and
 * would save nothing while cancels are rare.
 */
static struct {
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) gen;
    char pad[PARC_CACHELINE - sizeof(parc_atomic(uint64_t))];
} cancels;

static void raise_cancel(parc_task_group_t *g)
{
    parc_store(&g->cancelled, 1, PARC_RELAXED); /* published by the bump */
    /* release: publishes the flag; pairs with the acquire load of the
     * generation in cancelled(): a reader of the new generation walks and
     * sees the flag. */
    parc_faa(&cancels.gen, 1u, PARC_RELEASE);
}

/* The walk of cancelled() when the generation moved: out of line, so
 * that the common answer (every task start asks) is a few inline loads. */
static __attribute__((noinline)) bool cancelled_walk(const parc_task_group_t *g,
                                                     uint64_t gen);

static inline bool cancelled(const parc_task_group_t *g)
{
    if (g == NULL)
        return false;
    /* acquire: pairs with raise_cancel's release bump: every flag raised
     * before the generation we read is visible to the walk. */
    uint64_t gen = parc_load(&cancels.gen, PARC_ACQUIRE);
    parc_task_group_t *m = (parc_task_group_t *)g; /* the cache only */
    uint64_t seen = parc_load(&m->seen, PARC_RELAXED); /* our own value */
    if (__builtin_expect(seen >> 1 == gen, 1))
        return (seen & 1u) != 0;
    return cancelled_walk(g, gen);
}

bool parc_task_group_cancelled(const parc_task_group_t *g)
{
    return cancelled(g);
}

static bool cancelled_walk(const parc_task_group_t *g, uint64_t gen)
{
    parc_task_group_t *m = (parc_task_group_t *)g; /* the cache only */
    bool c = false;
    for (const parc_task_group_t *x = g; x != NULL && !c; x = x->parent)
        c = parc_load(&x->cancelled, PARC_RELAXED) != 0; /* after gen */
    /* relaxed: a racing walker may store an older generation's answer
     * over ours; the next look then sees a newer generation and walks. */
    parc_store(&m->seen, gen << 1 | (c ? 1u : 0u), PARC_RELAXED);
    return c;
}

/* One task of g is done (ran or skipped). g may be gone after the
 * decrement when no wait holds it: only its address is used after. */
static void finish(parc_task_group_t *g)
{
    /* release: publishes the task's effects and its error; pairs with the
     * acquire load of pending in wait (the decrements form one release
     * sequence, so the waiter that reads 0 sees every task's effects). */
    uint32_t old = parc_fas(&g->pending, 1u, PARC_RELEASE);
    if (old == (WAITERS | 1u))
        parc_park_wake_all(&g->pending);
}

static void skip(tg_task_t *t)
{
    parc_task_group_t *g = t->group;
    parc_faa(&g->skipped, 1u, PARC_RELAXED); /* read after pending's acquire */
    finish(g);
}

/* Set by an isolated waiter about to run a record it stole. */
static _Thread_local bool stolen_in_wait;

/*
 * Lineage publishing, for waiters that steal (steal_ours). A worker that
 * starts a group task with its deque empty (the outermost group task it
 * runs, or one it stole while waiting) publishes the task's group and
 * its three nearest ancestors in tg_lineage: until the task returns,
 * everything on its deque was pushed from inside that task (with the
 * exceptions steal_ours checks for), so a waiter on one of those groups
 * may steal there without breaking isolation. Returns whether it
 * published; *saved gets what to restore.
 */
static bool publish(parc_task_group_t *g, pool_worker_t *w, void **saved)
{
    if (w == NULL || w->pool != g->pool || parc_deque_size(&w->deque) != 0)
        return false;
    const parc_task_group_t *x = g;
    for (unsigned k = 0; k < 4; k++) {
        saved[k] = parc_load(&w->tg_lineage[k], PARC_RELAXED); /* ours */
        /* relaxed: thieves only compare these addresses, never follow
         * them; a stale one costs them a steal they give back */
        parc_store(&w->tg_lineage[k], (void *)x, PARC_RELAXED);
        x = x != NULL ? x->parent : NULL; /* alive: g's task runs */
    }
    return true;
}

static void unpublish(pool_worker_t *w, void *const *saved)
{
    for (unsigned k = 0; k < 4; k++)
        parc_store(&w->tg_lineage[k], saved[k], PARC_RELAXED); /* as above */
}

static void execute(tg_task_t *t)
{
    parc_task_group_t *g = t->group;
    if (cancelled(g) || pool_terminating(g->pool)) {
        skip(t);
        return;
    }
    parc_task_group_t *outer = running_group;
    pool_worker_t *w = NULL;
    void *saved[4];
    bool pub = false;
    if (outer == NULL || stolen_in_wait) {
        stolen_in_wait = false;
        w = pool_self();
        pub = publish(g, w, saved);
    }
    running_group = g;
    int rc = t->fn(t->arg);
    running_group = outer;
    if (pub)
        unpublish(w, saved);
    if (rc != 0) {
        int none = 0;
        /* relaxed: published by finish's release decrement */
        parc_cas(&g->error, &none, rc, PARC_RELAXED, PARC_RELAXED);
        raise_cancel(g);
    }
    finish(g);
}

void parc_task_group_run_item_(void *item)
{
    tg_task_t *t = as_record(item);
    if (!t->shared) { /* the one taker of a home record */
        execute(t);
        parc_recycle_free(&records, &records_cache, t);
        return;
    }
    if (claim(t))
        execute(t);
    release(t);
}

void parc_task_group_cancel_item_(void *item)
{
    tg_task_t *t = as_record(item);
    if (!t->shared) {
        skip(t);
        parc_recycle_free(&records, &records_cache, t);
        return;
    }
    if (claim(t))
        skip(t);
    release(t);
}

/* g's parent and its cached cancellation state, from the calling task. */
static void bind(parc_task_group_t *g, parc_pool_t *p)
{
    g->pool = p;
    g->parent = running_group;
    pool_worker_t *w = pool_self();
    g->home = w != NULL && w->pool == p ? w : NULL;
    /* acquire: as in cancelled(); the parent's answer holds for it */
    uint64_t gen = parc_load(&cancels.gen, PARC_ACQUIRE);
    bool c = parc_load(&g->cancelled, PARC_RELAXED) != 0 /* after gen */
             || cancelled(g->parent);
    parc_atomic_init(&g->seen, gen << 1 | (c ? 1u : 0u));
}

int parc_task_group_init(parc_task_group_t *g, parc_pool_t *p)
{
    if (g == NULL || p == NULL)
        return EINVAL;
    parc_atomic_init(&g->pending, 0u);
    parc_atomic_init(&g->stack, NULL);
    parc_atomic_init(&g->cancelled, 0);
    parc_atomic_init(&g->error, 0);
    parc_atomic_init(&g->skipped, 0u);
    bind(g, p);
    return 0;
}

/* A PARC_TASK_GROUP_INIT group is bound at its first use, by the thread
 * that declared it (the header's rule): false outside every pool. */
static bool bound(parc_task_group_t *g)
{
    if (g->pool != NULL)
        return true;
    parc_pool_t *p = parc_pool_current();
    if (p == NULL)
        return false;
    bind(g, p);
    return true;
}

static __attribute__((noinline)) bool drain_stack_slow(parc_task_group_t *g);

/* Take the stack whole and run (claim) what nobody claimed yet, dropping
 * the stack's references. Returns true when it ran or skipped a task. */
static inline bool drain_stack(parc_task_group_t *g)
{
    /* A look before the exchange: a waiter polls this in its spin, and an
     * exchange on an empty stack would still take the line from the
     * spawners. relaxed: nothing is read through a NULL. Inline: every
     * wait's end and destroy look, and the stack is mostly empty. */
    if (parc_load(&g->stack, PARC_RELAXED) == NULL)
        return false;
    return drain_stack_slow(g);
}

static bool drain_stack_slow(parc_task_group_t *g)
{
    /* acquire: pairs with the release CAS of run's stack push: the
     * records' fields and links are visible. */
    tg_task_t *t = parc_xchg(&g->stack, NULL, PARC_ACQUIRE);
    bool ran = false;
    while (t != NULL) {
        tg_task_t *next = t->next;
        if (claim(t)) {
            execute(t);
            ran = true;
        }
        release(t);
        t = next;
    }
    return ran;
}

int parc_task_group_destroy(parc_task_group_t *g)
{
    if (g == NULL)
        return EINVAL;
    /* acquire: pairs with finish's release, as in wait */
    if (COUNT(parc_load(&g->pending, PARC_ACQUIRE)) != 0)
        return EBUSY;
    (void)drain_stack(g); /* nothing unclaimed is left: it only frees */
    return 0;
}

static void share(parc_task_group_t *g, tg_task_t *t);
static bool steal_ours(parc_task_group_t *g, pool_worker_t *w);

/* Spawn fn(arg) into g; with size > 0, arg is copied into the record. */
static int spawn(parc_task_group_t *g, parc_task_group_fn fn, void *arg,
                 size_t size)
{
    if (g == NULL || fn == NULL || size > PARC_TASK_GROUP_ARG_MAX
        || (arg == NULL && size > 0) || !bound(g))
        return EINVAL;
    tg_task_t *t = parc_recycle_alloc(&records, &records_cache);
    if (t == NULL)
        return ENOMEM;
    t->fn = fn;
    t->arg = arg;
    if (size > 0)
        t->arg = memcpy(t->copy, arg, size);
    t->group = g;
    pool_worker_t *w = pool_self();
    t->shared = w == NULL || w != g->home;
    parc_atomic_init(&t->claimed, 0u);
    parc_atomic_init(&t->refs, 2u);
    /* relaxed: counted before the push publishes the record, so its
     * finish (after a claim that follows the push) comes later in
     * pending's modification order. */
    parc_faa(&g->pending, 1u, PARC_RELAXED);
    if (!t->shared) {
        /* A home record: the deque push (release) publishes it to the
         * thief that steals it (acquire) or to our own pop. No waiter
         * needs a wake-up: only the home worker, this thread, reaches it. */
        int rc = parc_pool_push_item_(g->pool, as_item(t));
        if (rc != 0) {
            finish(g);
            parc_recycle_free(&records, &records_cache, t);
        }
        return rc;
    }
    /* The pool first: once the record is on the stack a waiter may claim
     * it, so a failed push could no longer be undone. */
    int rc = parc_pool_push_item_(g->pool, as_item(t));
    if (rc != 0) {
        finish(g);
        parc_recycle_free(&records, &records_cache, t);
        return rc;
    }
    share(g, t);
    return 0;
}

/* Put shared record t on g's stack and wake a parked waiter to help. */
static void share(parc_task_group_t *g, tg_task_t *t)
{
    void *head = parc_load(&g->stack, PARC_RELAXED);
    do {
        t->next = head;
        /* seq_cst: publishes the record's fields and link (release, pairs
         * with drain_stack's acquire) and is ordered before the load of
         * pending below; pairs with wait's seq_cst waiters-bit CAS and
         * stack load (store-buffering: either we see the bit and wake the
         * waiter, or its look at the stack sees this record). */
    } while (!parc_cas(&g->stack, &head, (void *)t, PARC_SEQ_CST, PARC_RELAXED));
    if ((parc_load(&g->pending, PARC_SEQ_CST) & WAITERS) != 0) /* see above */
        parc_park_wake_all(&g->pending); /* a parked waiter comes to help */
}

int parc_task_group_run(parc_task_group_t *g, parc_task_group_fn fn, void *arg)
{
    return spawn(g, fn, arg, 0);
}

int parc_task_group_spawn(parc_task_group_t *g, parc_task_group_fn fn,
                          const void *arg, size_t size)
{
    return spawn(g, fn, (void *)arg, size); /* a const copy source only */
}

/* Owner only: the newest item of d without taking it (NULL when empty),
 * read as parc_deque_pop_if_inline_ reads it. */
static void *peek_newest(parc_deque_t *d)
{
    int64_t b = parc_load(&d->bottom, PARC_RELAXED) - 1; /* only we write it */
    if (parc_load(&d->top, PARC_RELAXED) > b) /* a stale top: looks non-empty */
        return NULL;
    struct parc_deque_array *a = parc_load(&d->array, PARC_RELAXED); /* ours */
    return parc_load(&parc_deque_slots_(a)[b & a->mask], PARC_RELAXED); /* ours */
}

static bool in_lineage(const parc_task_group_t *x, const parc_task_group_t *g)
{
    for (; x != NULL; x = x->parent)
        if (x == g)
            return true;
    return false;
}

/* Whether the waiter on g may run item, a record it took from its own
 * deque (so the record is alive, and a home record's group too: the
 * record is pending in it). A shared record's group may be gone (a
 * stale item, claimed and run through the stack): only its address is
 * compared, and a claimed one is taken anyway, to be dropped. */
static bool ours(const parc_task_group_t *g, tg_task_t *t)
{
    if (!t->shared)
        return in_lineage(t->group, g);
    /* relaxed: a stale record is only dropped (run_item's failed claim) */
    return t->group == g || parc_load(&t->claimed, PARC_RELAXED) != 0;
}

/* Run one task of g's lineage, if the waiter can reach one: the newest
 * item of its own deque when it is one (*rejected: the item last found
 * not to be, left in place; only this thread pushes onto its deque, so
 * the same pointer there is the same item), else g's stack. */
static bool help(parc_task_group_t *g, pool_worker_t *w, void **rejected)
{
    if (w != NULL) {
        void *item = peek_newest(&w->deque);
        if (item != NULL && item != *rejected && is_record(item)
            && parc_deque_pop_if_inline_(&w->deque, item) == 0) {
            if (ours(g, as_record(item))) {
                parc_task_group_run_item_(item);
                return true;
            }
            /* back where it was: the slot it left needs no growth */
            if (parc_deque_push_inline_(&w->deque, item) != 0)
                parc_task_group_run_item_(item); /* cannot happen */
            *rejected = item;
        }
    }
    return drain_stack(g) || (w != NULL && steal_ours(g, w));
}

/* An item an isolated waiter stole but may not run: back into the pool
 * through its own deque (thieves, and the worker's help in a future's
 * get, take it there). A home record first becomes shared, on its
 * group's stack, since its home worker can no longer reach it. */
static void give_back(pool_worker_t *w, void *item)
{
    if (is_record(item) && !as_record(item)->shared) {
        tg_task_t *t = as_record(item); /* ours alone: just stolen */
        t->shared = true;
        parc_atomic_init(&t->claimed, 0u);
        parc_atomic_init(&t->refs, 2u);
        share(t->group, t); /* alive: t is pending in it */
    }
    if (parc_deque_push(&w->deque, item) != 0)
        parc_pool_run_item_(w->pool, item); /* out of memory: run it */
}

/* Steal for g from a worker whose published lineage includes g (its
 * deque holds tasks of g's descendants): one steal, from the first such
 * worker after w. Returns true when it ran a task of g's lineage. */
static bool steal_ours(parc_task_group_t *g, pool_worker_t *w)
{
    parc_pool_t *p = g->pool;
    unsigned n = p->nworkers;
    for (unsigned i = 1; i < n; i++) {
        pool_worker_t *v = &p->workers[(w->index + i) % n];
        bool related = false;
        for (unsigned k = 0; k < 4 && !related; k++) /* relaxed: compared only */
            related = parc_load(&v->tg_lineage[k], PARC_RELAXED) == (void *)g;
        void *item;
        if (!related || parc_deque_steal(&v->deque, &item) != 0)
            continue;
        if (is_record(item) && ours(g, as_record(item))) {
            stolen_in_wait = true;
            parc_task_group_run_item_(item);
            stolen_in_wait = false;
            return true;
        }
        give_back(w, item);
        return false;
    }
    return false;
}

/* Before parking: pop w's items newest first down to one the waiter on
 * g may run, push the others back in their order, run that one. A
 * stale shared record met on the way is dropped. Returns true when it
 * ran or dropped something. The buffer grows by doubling; when it
 * cannot, the dig stops there (the waiter parks and a thief or a later
 * look gets the rest). */
static bool dig(parc_task_group_t *g, pool_worker_t *w)
{
    void *local[32], **buf = local, *found = NULL;
    size_t n = 0, cap = 32;
    bool did = false;
    void *item;
    while (found == NULL && parc_deque_pop(&w->deque, &item) == 0) {
        tg_task_t *t = is_record(item) ? as_record(item) : NULL;
        if (t != NULL && ours(g, t)) {
            found = item;
            break;
        }
        if (n == cap) {
            void **bigger = malloc(2 * cap * sizeof *bigger);
            if (bigger == NULL) {
                (void)parc_deque_push(&w->deque, item); /* its own slot */
                break;
            }
            memcpy(bigger, buf, n * sizeof *buf);
            if (buf != local)
                free(buf);
            buf = bigger;
            cap *= 2;
        }
        buf[n++] = item;
    }
    while (n > 0) /* oldest first, as they were; their slots are there */
        if (parc_deque_push(&w->deque, buf[--n]) != 0)
            parc_pool_run_item_(g->pool, buf[n]); /* cannot happen */
    if (buf != local)
        free(buf);
    if (found != NULL) {
        parc_task_group_run_item_(found);
        did = true;
    }
    return did;
}

/*
 * Whether a thread outside g's pool leaves g's tasks to the pool rather
 * than running them itself: while a worker is idle (searching or
 * parked), it will take them, and an outsider that ran one would be one
 * thread more than the pool has workers, competing with them for the
 * cores (and its forks, made without a deque, go through the injection
 * queue and the group's stack: slower than a worker's). When every
 * worker is busy, the calling thread works too (oneTBB's arena.execute).
 * relaxed: a hint; a stale answer costs one oversubscribed help or a
 * park that the group's last finish (or a run into it) ends.
 */
static bool outsider_defers(parc_pool_t *p)
{
    return parc_load(&p->searching, PARC_RELAXED) != 0
           || parc_load(&p->nsleepers, PARC_RELAXED) != 0;
}

int parc_task_group_wait(parc_task_group_t *g)
{
    if (g == NULL)
        return EINVAL;
    if (g->pool == NULL) /* PARC_TASK_GROUP_INIT, nothing run yet */
        return parc_load(&g->cancelled, PARC_RELAXED) != 0 ? ECANCELED : 0;
    pool_worker_t *w = pool_self();
    if (w != NULL && w->pool != g->pool)
        w = NULL; /* a worker of another pool helps as an outsider */
    unsigned idle = 0;
    void *rejected = NULL;
    for (;;) {
        /* acquire: pairs with finish's release decrement */
        uint32_t v = parc_load(&g->pending, PARC_ACQUIRE);
        if (COUNT(v) == 0)
            break;
        bool defer = w == NULL && outsider_defers(g->pool);
        if (!defer && help(g, w, &rejected)) {
            rejected = NULL; /* the task may have pushed and popped */
            idle = 0;
            continue;
        }
        if (++idle < PARC_SPIN_POLLS) { /* the group's tasks run elsewhere */
            parc_cpu_relax();
            continue;
        }
        if ((v & WAITERS) == 0) {
            /* seq_cst: ordered before the stack load below; pairs with
             * run's seq_cst stack push and pending load. */
            if (!parc_cas(&g->pending, &v, v | WAITERS, PARC_SEQ_CST, PARC_RELAXED))
                continue;
            v |= WAITERS;
        }
        if (parc_load(&g->stack, PARC_SEQ_CST) != NULL && !defer) /* see above */
            continue;
        if (w != NULL && dig(g, w)) {
            rejected = NULL;
            idle = 0;
            continue;
        }
        parc_park_wait(&g->pending, v, PARC_FOREVER);
        rejected = NULL;
    }
    (void)drain_stack(g); /* free what the pool ran; run anything newer */
    uint32_t bit = WAITERS;
    /* relaxed: only clears the bit when no task is pending; every parked
     * waiter was woken when the count reached 0. The load first spares a
     * locked instruction in the common case (no waiter ever parked). */
    if (parc_load(&g->pending, PARC_RELAXED) == WAITERS)
        parc_cas(&g->pending, &bit, 0u, PARC_RELAXED, PARC_RELAXED);
    int e = parc_load(&g->error, PARC_RELAXED); /* after pending's acquire */
    if (e != 0)
        return e;
    bool skipped = parc_load(&g->skipped, PARC_RELAXED) != 0; /* likewise */
    return cancelled(g) || skipped ? ECANCELED : 0;
}

int parc_task_group_finish(parc_task_group_t *g)
{
    int rc = parc_task_group_wait(g);
    if (rc != EINVAL)
        (void)parc_task_group_destroy(g); /* nothing pending: 0 */
    return rc;
}

int parc_task_group_cancel(parc_task_group_t *g)
{
    if (g == NULL)
        return EINVAL;
    raise_cancel(g);
    return 0;
}

uint64_t parc_task_group_skipped(const parc_task_group_t *g)
{
    return parc_load(&((parc_task_group_t *)g)->skipped, PARC_RELAXED);
}

parc_task_group_t *parc_task_group_enter_(parc_task_group_t *g)
{
    parc_task_group_t *outer = running_group;
    running_group = g;
    return outer;
}

void parc_task_group_leave_(parc_task_group_t *outer)
{
    running_group = outer;
}

bool parc_task_cancelled(void)
{
    return cancelled(running_group);
}

parc_pool_t *parc_pool_current(void)
{
    pool_worker_t *w = pool_self();
    if (w != NULL)
        return w->pool;
    parc_pool_t *comp = parc_pool_block_self_(); /* a compensating thread */
    if (comp != NULL)
        return comp;
    return running_group != NULL ? running_group->pool : NULL;
}
