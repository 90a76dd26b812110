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
 *   - A group's stack holds every record run into it since the last
 *     drain; the waiter takes it whole (exchange with NULL: no ABA).
 *
 * The waiter parks on the pending word itself (parc/park.h). The last
 * finisher's wake-up may reach the word after the waiter returned and
 * the group's storage went away: futex and the condvar back-end use the
 * address only as a key, so a stale wake is at worst a spurious wake-up
 * of an unrelated word, which every parc waiter tolerates. Rejected: a
 * count of finishers in flight that wait() drains (two more RMWs on every
 * task for the rare parked waiter).
 */
#include <stdlib.h>

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

bool parc_task_group_cancelled(const parc_task_group_t *g)
{
    for (; g != NULL; g = g->parent) /* parents outlive their children */
        if (parc_load(&g->cancelled, PARC_RELAXED) != 0) /* a flag only */
            return true;
    return false;
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

static void execute(tg_task_t *t)
{
    parc_task_group_t *g = t->group;
    if (parc_task_group_cancelled(g) || pool_terminating(g->pool)) {
        skip(t);
        return;
    }
    parc_task_group_t *outer = running_group;
    running_group = g;
    int rc = t->fn(t->arg);
    running_group = outer;
    if (rc != 0) {
        int none = 0;
        /* relaxed: published by finish's release decrement */
        parc_cas(&g->error, &none, rc, PARC_RELAXED, PARC_RELAXED);
        parc_store(&g->cancelled, 1, PARC_RELAXED); /* a flag only */
    }
    finish(g);
}

void parc_task_group_run_item_(void *item)
{
    tg_task_t *t = as_record(item);
    if (claim(t))
        execute(t);
    release(t);
}

void parc_task_group_cancel_item_(void *item)
{
    tg_task_t *t = as_record(item);
    if (claim(t))
        skip(t);
    release(t);
}

int parc_task_group_init(parc_task_group_t *g, parc_pool_t *p)
{
    if (g == NULL || p == NULL)
        return EINVAL;
    g->pool = p;
    g->parent = running_group;
    parc_atomic_init(&g->pending, 0u);
    parc_atomic_init(&g->stack, NULL);
    parc_atomic_init(&g->cancelled, 0);
    parc_atomic_init(&g->error, 0);
    parc_atomic_init(&g->skipped, 0u);
    return 0;
}

/* Take the stack whole and run (claim) what nobody claimed yet, dropping
 * the stack's references. Returns true when it ran or skipped a task. */
static bool drain_stack(parc_task_group_t *g)
{
    /* A look before the exchange: a waiter polls this in its spin, and an
     * exchange on an empty stack would still take the line from the
     * spawners. relaxed: nothing is read through a NULL. */
    if (parc_load(&g->stack, PARC_RELAXED) == NULL)
        return false;
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

int parc_task_group_run(parc_task_group_t *g, parc_task_group_fn fn, void *arg)
{
    if (g == NULL || fn == NULL)
        return EINVAL;
    tg_task_t *t = parc_recycle_alloc(&records, &records_cache);
    if (t == NULL)
        return ENOMEM;
    t->fn = fn;
    t->arg = arg;
    t->group = g;
    parc_atomic_init(&t->claimed, 0u);
    parc_atomic_init(&t->refs, 2u);
    /* relaxed: counted before the push publishes the record, so its
     * finish (after a claim that follows the push) comes later in
     * pending's modification order. */
    parc_faa(&g->pending, 1u, PARC_RELAXED);
    /* The pool first: once the record is on the stack a waiter may claim
     * it, so a failed push could no longer be undone. */
    int rc = parc_pool_push_item_(g->pool, as_item(t));
    if (rc != 0) {
        finish(g);
        parc_recycle_free(&records, &records_cache, t);
        return rc;
    }
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
    return 0;
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

/* Run one task of g's lineage, if the waiter can reach one: the newest
 * item of its own deque when it is one, else g's stack. */
static bool help(parc_task_group_t *g, pool_worker_t *w)
{
    if (w != NULL) {
        void *item = peek_newest(&w->deque);
        /* A record in our deque is alive (the item's reference), and so
         * is its group (it has pending tasks) and that group's parents. */
        if (item != NULL && is_record(item)
            && in_lineage(as_record(item)->group, g)
            && parc_deque_pop_if_inline_(&w->deque, item) == 0) {
            parc_task_group_run_item_(item);
            return true;
        }
    }
    return drain_stack(g);
}

int parc_task_group_wait(parc_task_group_t *g)
{
    if (g == NULL)
        return EINVAL;
    pool_worker_t *w = parc_pool_self_();
    if (w != NULL && w->pool != g->pool)
        w = NULL; /* a worker of another pool helps as an outsider */
    unsigned idle = 0;
    for (;;) {
        /* acquire: pairs with finish's release decrement */
        uint32_t v = parc_load(&g->pending, PARC_ACQUIRE);
        if (COUNT(v) == 0)
            break;
        if (help(g, w)) {
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
        if (parc_load(&g->stack, PARC_SEQ_CST) != NULL) /* see above */
            continue;
        parc_park_wait(&g->pending, v, PARC_FOREVER);
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
    return parc_task_group_cancelled(g) || skipped ? ECANCELED : 0;
}

int parc_task_group_cancel(parc_task_group_t *g)
{
    if (g == NULL)
        return EINVAL;
    parc_store(&g->cancelled, 1, PARC_RELAXED); /* a flag only */
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
    return parc_task_group_cancelled(running_group);
}

parc_pool_t *parc_pool_current(void)
{
    pool_worker_t *w = parc_pool_self_();
    if (w != NULL)
        return w->pool;
    parc_pool_t *comp = parc_pool_block_self_(); /* a compensating thread */
    if (comp != NULL)
        return comp;
    return running_group != NULL ? running_group->pool : NULL;
}
