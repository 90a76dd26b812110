/* Scheduled actors on a pool (parc/actor_sched.h). The scheduling
 * protocol is argued in the header and at proc_turn() below. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parc/actor_sched.h"
#include "parc/cond.h"
#include "parc/mutex.h"
#include "parc/park.h"
#include "parc/sem.h"

/* A pinned actor's thread and the semaphore its turns are posted to. */
typedef struct pin {
    pthread_t thread;
    parc_sem_t sem;
    struct pin *next;     /* in rt->pins, under rt->lock */
} pin_t;

struct parc_sactor {
    parc_mpsc_t mbox;                 /* two cache-aligned lines */
    /* Third line: what a send reads or writes (and the turn's status
     * words); no holes, so the actor is 4 lines (see parc_spawn). */
    parc_actors_t *rt;
    pin_t *pin;                       /* NULL unless pinned */
    parc_atomic(uint32_t) refs;
    parc_atomic(uint32_t) stop_sent;  /* the stop message went out */
    parc_atomic(uint32_t) stopped;    /* 1 once stopped (exit_status set) */
    uint32_t capacity;                /* 0: unbounded */
    parc_atomic(uint32_t) count;      /* counted messages queued */
    parc_atomic(uint32_t) space_waiters;
    parc_park_word_t space;           /* bumped when room appears */
    int exit_status;
    parc_atomic(uintptr_t) monitors;  /* parc_down_t list, or MON_CLOSED */
    bool exit_requested;              /* turn-private */
    /* Fourth line: the behaviour, and what only spawn and stop touch. */
    parc_behaviour_fn fn;
    void *state;
    void *block;                      /* what malloc returned (for free) */
    parc_msg_t stop_msg;              /* the one stop message */
};

#define MON_CLOSED ((uintptr_t)1)

typedef struct timer {
    int64_t when;
    uint64_t id;
    parc_sactor_t *to;
    parc_msg_t *msg;
} timer_t_;

struct parc_actors {
    parc_pool_t *pool;
    /* Turns scheduled or running plus pending timers; parked on by
     * quiesce. Written by every scheduling send: its own line. */
    PARC_CACHE_ALIGNED parc_park_word_t busy;
    parc_atomic(uint32_t) qwaiters;
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) live;
    /* Timers and pins, under lock. */
    PARC_CACHE_ALIGNED parc_mutex_t lock;
    parc_cond_t timer_cond;
    timer_t_ *heap;
    size_t nheap, capheap;
    uint64_t next_id;
    bool stopping;
    pthread_t timer_thread;
    pin_t *pins;
};

/* ---- quiescence count ---------------------------------------------------- */

static void busy_inc(parc_actors_t *rt)
{
    /* relaxed: the increment happens before the work it counts is handed
     * on (the decrement of whoever created that work comes later in the
     * same thread, a seq_cst RMW on the same word, so the total never
     * touches zero in between). */
    parc_faa(&rt->busy, 1u, PARC_RELAXED);
}

static void busy_dec(parc_actors_t *rt)
{
    /* seq_cst: releases the finished turn's effects to quiesce's acquire
     * load, and orders this decrement before the load of qwaiters against
     * quiesce's increment of qwaiters before its load of busy (Dekker: one
     * of the two sees the other). */
    if (parc_fas(&rt->busy, 1u, PARC_SEQ_CST) == 1u &&
        parc_load(&rt->qwaiters, PARC_SEQ_CST) != 0)
        parc_park_wake_all(&rt->busy);
}

static int quiesce_wait(parc_actors_t *rt, parc_deadline_t deadline, bool try)
{
    if (rt == NULL)
        return EINVAL;
    for (unsigned i = 0; i < PARC_SPIN_POLLS; i++) {
        /* acquire: pairs with busy_dec's release; the actors' work is
         * visible once zero is seen. */
        if (parc_load(&rt->busy, PARC_ACQUIRE) == 0)
            return 0;
        if (try)
            return EAGAIN;
        parc_spin_poll(i);
    }
    for (;;) {
        /* seq_cst: the other half of busy_dec's Dekker pair. */
        parc_faa(&rt->qwaiters, 1u, PARC_SEQ_CST);
        uint32_t b = parc_load(&rt->busy, PARC_SEQ_CST);
        int rc = 0;
        if (b != 0)
            rc = parc_park_wait(&rt->busy, b, deadline);
        parc_fas(&rt->qwaiters, 1u, PARC_RELAXED);
        if (b == 0)
            return 0;
        if (rc == ETIMEDOUT || parc_deadline_passed(deadline)) {
            /* acquire: as above. */
            return parc_load(&rt->busy, PARC_ACQUIRE) == 0 ? 0 : ETIMEDOUT;
        }
    }
}

int parc_actors_quiesce(parc_actors_t *rt)
{
    return quiesce_wait(rt, PARC_FOREVER, false);
}

int parc_actors_quiesce_try(parc_actors_t *rt)
{
    return quiesce_wait(rt, PARC_FOREVER, true);
}

int parc_actors_quiesce_timed(parc_actors_t *rt, int64_t timeout_ns)
{
    parc_deadline_t d;
    if (rt == NULL || parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    return quiesce_wait(rt, d, false);
}

uint64_t parc_actors_live(parc_actors_t *rt)
{
    return rt == NULL ? 0 : parc_load(&rt->live, PARC_RELAXED);
}

/* ---- references ------------------------------------------------------------ */

void parc_sactor_retain(parc_sactor_t *a)
{
    if (a != NULL)
        parc_faa(&a->refs, 1u, PARC_RELAXED); /* the caller holds one */
}

void parc_sactor_release(parc_sactor_t *a)
{
    if (a == NULL)
        return;
    /* acq_rel: every holder's uses happen before the free (release by
     * them, acquire by the last). */
    if (parc_fas(&a->refs, 1u, PARC_ACQ_REL) != 1u)
        return;
    parc_mpsc_destroy(&a->mbox);
    free(a->block);
}

parc_actors_t *parc_sactor_runtime(parc_sactor_t *a)
{
    return a == NULL ? NULL : a->rt;
}

/* ---- turns ------------------------------------------------------------------ */

static void schedule(parc_sactor_t *a);
static void finish(parc_sactor_t *a);
static int push(parc_sactor_t *a, parc_msg_t *m);

static parc_msg_t *msg_of(parc_mpsc_node_t *n)
{
    return parc_mpsc_entry(n, parc_msg_t, node_);
}

/* A counted message left the mailbox: make room, wake blocked senders. */
static void uncount(parc_sactor_t *a, parc_msg_t *m)
{
    if ((m->flags_ & PARC_MSG_COUNTED_) == 0)
        return;
    m->flags_ &= ~PARC_MSG_COUNTED_;
    /* seq_cst: Dekker with a blocked sender (it raises space_waiters, then
     * reads count; we lower count, then read space_waiters). */
    parc_fas(&a->count, 1u, PARC_SEQ_CST);
    if (parc_load(&a->space_waiters, PARC_SEQ_CST) != 0) {
        parc_faa(&a->space, 1u, PARC_RELAXED); /* the wake's futex word */
        parc_park_wake_all(&a->space);
    }
}

/*
 * One turn: at most PARC_ACTOR_BATCH messages. Returns true when the
 * actor stopped (the caller must not touch it again).
 *
 * Why exactly one turn is ever scheduled: the turn runs because some push
 * took the mailbox's empty mark, and the mark is set again only by this
 * turn's parc_mpsc_mark_empty(), whose CAS succeeds only when nothing is
 * linked and no push is between its exchange and its link. A push that
 * precedes that CAS makes it fail (we pop on); a push after it takes the
 * mark and schedules the next turn, which therefore starts after this one
 * gave up the mark, i.e. after its last access to the actor's state. When
 * the batch is exhausted we keep the token (the mark stays clear) and
 * schedule ourselves again, so nobody else can.
 */
static bool proc_turn(parc_sactor_t *a)
{
    unsigned done = 0;
    while (done < PARC_ACTOR_BATCH) {
        parc_mpsc_node_t *n;
        int rc = parc_mpsc_pop_try(&a->mbox, &n);
        if (rc == EAGAIN) {
            if (parc_mpsc_mark_empty(&a->mbox)) {
                busy_dec(a->rt); /* idle: the next push reschedules us */
                return false;
            }
            done++; /* a push in flight: let the batch bound the wait */
            parc_cpu_relax();
            continue;
        }
        if (rc != 0) { /* EPIPE: only after finish(), which ends turns */
            busy_dec(a->rt);
            return false;
        }
        done++;
        parc_msg_t *m = msg_of(n);
        uncount(a, m);
        if (m->type == PARC_MSG_STOP_ && m == &a->stop_msg) {
            a->exit_requested = true;
            a->exit_status = (int)(intptr_t)m->reply_;
            m->reply_ = NULL;
        } else {
            a->fn(a, a->state, m);
        }
        if (a->exit_requested) {
            finish(a);
            return true;
        }
    }
    schedule(a); /* still holding the token: resubmit (busy stays counted) */
    return false;
}

static int turn_task(void *arg, void **result)
{
    (void)result;
    proc_turn(arg);
    return 0;
}

/* Called by whoever took the empty mark (or a turn that kept it). */
static void schedule(parc_sactor_t *a)
{
    if (a->pin != NULL) {
        parc_sem_release(&a->pin->sem, 1);
        return;
    }
    if (parc_pool_submit(a->rt->pool, turn_task, a, NULL) != 0)
        proc_turn(a); /* no memory: run the turn here (we hold the token) */
}

static void *pin_main(void *arg)
{
    parc_sactor_t *a = arg;
    pin_t *pin = a->pin;
    while (parc_sem_acquire(&pin->sem, 1) == 0)
        if (proc_turn(a))
            break;
    return NULL;
}

/* Stop: close the mailbox, dispose what is left, tell the monitors. */
static void finish(parc_sactor_t *a)
{
    parc_actors_t *rt = a->rt;
    parc_mpsc_close(&a->mbox);
    /* seq_cst: release publishes exit_status to parc_sactor_stopped; and
     * Dekker with a blocked sender (claim raises space_waiters, then reads
     * stopped; we set stopped, then read space_waiters below). */
    parc_store(&a->stopped, 1u, PARC_SEQ_CST);
    parc_mpsc_node_t *n;
    while (parc_mpsc_pop(&a->mbox, &n) == 0) { /* closed: never sleeps */
        parc_msg_t *m = msg_of(n);
        uncount(a, m);
        if (m != &a->stop_msg)
            parc_msg_free(m);
    }
    /* Blocked senders: they will find the actor stopped. Only when some
     * may be parked (a futex wake per stop would cost a spawn ~40%). */
    if (a->capacity != 0 && parc_load(&a->space_waiters, PARC_SEQ_CST) != 0) {
        parc_faa(&a->space, 1u, PARC_RELAXED);
        parc_park_wake_all(&a->space);
    }
    /* acq_rel: acquire the monitors pushed so far (their release CAS);
     * release our stop to those that later find the list closed. */
    uintptr_t list = parc_xchg(&a->monitors, MON_CLOSED, PARC_ACQ_REL);
    for (parc_down_t *d = (parc_down_t *)list; d != NULL;) {
        parc_down_t *next = d->next_;
        d->status = a->exit_status;
        parc_sactor_t *w = d->watcher_;
        d->watcher_ = NULL;
        if (push(w, &d->msg) != 0) /* uncounted: never blocks */
            parc_msg_free(&d->msg);
        parc_sactor_release(w);
        d = next;
    }
    parc_fas(&rt->live, 1u, PARC_RELAXED);
    busy_dec(rt);              /* this turn is over */
    parc_sactor_release(a);    /* the runtime's reference */
}

/* ---- spawning -------------------------------------------------------------- */

int parc_spawn(parc_actors_t *rt, parc_behaviour_fn fn, void *state,
               const parc_spawn_options_t *opts, parc_sactor_t **out)
{
    if (rt == NULL || fn == NULL || out == NULL)
        return EINVAL;
    /* Plain malloc, aligned by hand: glibc's aligned_alloc takes a slow
     * path (it splits and later coalesces chunks) that costs a spawn more
     * than the rest of it. malloc's blocks are 16-byte aligned. */
    void *block = malloc(sizeof(parc_sactor_t) + PARC_CACHELINE - 16);
    if (block == NULL)
        return ENOMEM;
    parc_sactor_t *a = (parc_sactor_t *)(((uintptr_t)block + PARC_CACHELINE - 1) &
                                         ~(uintptr_t)(PARC_CACHELINE - 1));
    a->block = block;
    parc_mpsc_init(&a->mbox);
    a->rt = rt;
    a->fn = fn;
    a->state = state;
    a->pin = NULL;
    parc_atomic_init(&a->refs, 2u); /* the caller's and the runtime's */
    parc_atomic_init(&a->stop_sent, 0u);
    parc_atomic_init(&a->stopped, 0u);
    a->exit_status = 0;
    a->exit_requested = false;
    a->capacity = opts != NULL ? opts->capacity : 0;
    parc_atomic_init(&a->count, 0u);
    parc_atomic_init(&a->space_waiters, 0u);
    parc_atomic_init(&a->space, 0u);
    parc_atomic_init(&a->monitors, (uintptr_t)0);
    parc_msg_init(&a->stop_msg, PARC_MSG_STOP_, NULL);
    if (opts != NULL && opts->pinned) {
        pin_t *pin = malloc(sizeof *pin);
        if (pin == NULL) {
            free(block);
            return ENOMEM;
        }
        parc_sem_init(&pin->sem, 0);
        a->pin = pin;
        if (pthread_create(&pin->thread, NULL, pin_main, a) != 0) {
            free(pin);
            free(block);
            return EAGAIN;
        }
        parc_mutex_lock(&rt->lock);
        pin->next = rt->pins;
        rt->pins = pin;
        parc_mutex_unlock(&rt->lock);
    }
    parc_faa(&rt->live, 1u, PARC_RELAXED);
    *out = a;
    return 0;
}

/* ---- sending ----------------------------------------------------------------- */

/* Push m; schedule the actor when this push made the mailbox non-empty. */
static int push(parc_sactor_t *a, parc_msg_t *m)
{
    bool was_empty;
    int rc = parc_mpsc_push(&a->mbox, &m->node_, &was_empty);
    if (rc == 0 && was_empty) {
        busy_inc(a->rt);
        schedule(a);
    }
    return rc;
}

/* Claim a slot of a bounded mailbox. */
static int claim(parc_sactor_t *a, bool wait, parc_deadline_t deadline)
{
    for (unsigned spins = 0;; spins++) {
        uint32_t c = parc_load(&a->count, PARC_RELAXED);
        while (c < a->capacity) {
            /* relaxed: the count only bounds memory; the message itself
             * is published by the mailbox's push. */
            if (parc_cas_weak(&a->count, &c, c + 1, PARC_RELAXED,
                              PARC_RELAXED))
                return 0;
        }
        if (parc_load(&a->stopped, PARC_RELAXED) != 0)
            return EPIPE;
        if (!wait)
            return EAGAIN;
        if (spins < PARC_SPIN_POLLS) {
            parc_spin_poll(spins); /* yields now and then: the actor
                                    * draining the mailbox may need our core */
            continue;
        }
        uint32_t seq = parc_load(&a->space, PARC_RELAXED);
        /* seq_cst: Dekker with uncount (see there). */
        parc_faa(&a->space_waiters, 1u, PARC_SEQ_CST);
        int rc = 0;
        if (parc_load(&a->count, PARC_SEQ_CST) >= a->capacity &&
            parc_load(&a->stopped, PARC_SEQ_CST) == 0)
            rc = parc_park_wait(&a->space, seq, deadline);
        parc_fas(&a->space_waiters, 1u, PARC_RELAXED);
        if (rc == ETIMEDOUT || parc_deadline_passed(deadline)) {
            c = parc_load(&a->count, PARC_RELAXED);
            if (c < a->capacity &&
                parc_cas(&a->count, &c, c + 1, PARC_RELAXED, PARC_RELAXED))
                return 0;
            return ETIMEDOUT;
        }
    }
}

static int send_common(parc_sactor_t *a, parc_msg_t *m, bool wait,
                       parc_deadline_t deadline)
{
    if (a->capacity != 0) {
        int rc = claim(a, wait, deadline);
        if (rc != 0)
            return rc;
        m->flags_ |= PARC_MSG_COUNTED_;
    }
    int rc = push(a, m);
    if (rc != 0 && (m->flags_ & PARC_MSG_COUNTED_)) {
        m->flags_ &= ~PARC_MSG_COUNTED_;
        parc_fas(&a->count, 1u, PARC_RELAXED);
    }
    return rc;
}

int parc_sactor_send(parc_sactor_t *a, parc_msg_t *m)
{
    if (a == NULL || m == NULL)
        return EINVAL;
    return send_common(a, m, true, PARC_FOREVER);
}

int parc_sactor_send_try(parc_sactor_t *a, parc_msg_t *m)
{
    if (a == NULL || m == NULL)
        return EINVAL;
    return send_common(a, m, false, PARC_FOREVER);
}

int parc_sactor_send_timed(parc_sactor_t *a, parc_msg_t *m, int64_t timeout_ns)
{
    parc_deadline_t d;
    if (a == NULL || m == NULL || parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    return send_common(a, m, true, d);
}

int parc_sactor_ask(parc_sactor_t *a, parc_msg_t *m, parc_future_t **reply)
{
    if (a == NULL || m == NULL || reply == NULL)
        return EINVAL;
    parc_future_t *f;
    if (parc_future_create(NULL, NULL, &f) != 0)
        return ENOMEM;
    parc_future_retain(f); /* one for the message, one for the asker */
    m->reply_ = f;
    int rc = parc_sactor_send(a, m);
    if (rc != 0) {
        m->reply_ = NULL;
        parc_future_release(f);
        parc_future_release(f);
        return rc;
    }
    *reply = f;
    return 0;
}

int parc_msg_reply(parc_msg_t *m, int status, void *value)
{
    if (m == NULL || m->reply_ == NULL)
        return m == NULL ? EINVAL : EALREADY;
    parc_future_t *f = m->reply_;
    m->reply_ = NULL;
    /* Dispose first: once the future completes, the asker may reuse or
     * free a message that lives in its own storage. */
    if (m->dispose != NULL)
        m->dispose(m);
    int rc = parc_future_complete(f, status, value);
    parc_future_release(f);
    return rc;
}

/* ---- stopping and monitors ------------------------------------------------ */

void parc_sactor_exit(parc_sactor_t *self, int status)
{
    if (self == NULL)
        return;
    self->exit_requested = true;
    self->exit_status = status;
}

int parc_sactor_stop(parc_sactor_t *a, int status)
{
    if (a == NULL)
        return EINVAL;
    /* relaxed: elects the one sender of the embedded stop message. */
    if (parc_xchg(&a->stop_sent, 1u, PARC_RELAXED) != 0)
        return parc_load(&a->stopped, PARC_RELAXED) ? EPIPE : 0;
    a->stop_msg.reply_ = (parc_future_t *)(intptr_t)status; /* the status */
    int rc = push(a, &a->stop_msg);
    if (rc != 0)
        a->stop_msg.reply_ = NULL;
    return rc;
}

bool parc_sactor_stopped(parc_sactor_t *a, int *status)
{
    /* acquire: pairs with finish's release store; exit_status is set. */
    if (a == NULL || parc_load(&a->stopped, PARC_ACQUIRE) == 0)
        return false;
    if (status != NULL)
        *status = a->exit_status;
    return true;
}

static void down_dispose(parc_msg_t *m)
{
    parc_down_t *d = parc_msg_entry(m, parc_down_t, msg);
    parc_sactor_release(d->who);
    parc_sactor_release(d->watcher_);
    free(d);
}

int parc_sactor_monitor(parc_sactor_t *watcher, parc_sactor_t *target)
{
    if (watcher == NULL || target == NULL)
        return EINVAL;
    parc_down_t *d = malloc(sizeof *d);
    if (d == NULL)
        return ENOMEM;
    parc_msg_init(&d->msg, PARC_MSG_DOWN, down_dispose);
    parc_sactor_retain(target);
    parc_sactor_retain(watcher);
    d->who = target;
    d->watcher_ = watcher;
    d->status = 0;
    uintptr_t head = parc_load(&target->monitors, PARC_ACQUIRE);
    for (;;) {
        if (head == MON_CLOSED) {
            /* acquire (the load/CAS failure above): finish's xchg
             * released exit_status. Already stopped: down at once. */
            d->status = target->exit_status;
            d->watcher_ = NULL;
            if (push(watcher, &d->msg) != 0) /* uncounted */
                parc_msg_free(&d->msg);
            parc_sactor_release(watcher);
            return 0;
        }
        d->next_ = (parc_down_t *)head;
        /* release: publishes d to finish's acquire exchange; acquire on
         * failure: we may read MON_CLOSED and then exit_status. */
        if (parc_cas_weak(&target->monitors, &head, (uintptr_t)d,
                          PARC_RELEASE, PARC_ACQUIRE))
            return 0;
    }
}

/* ---- timers ---------------------------------------------------------------- */

static void heap_swap(parc_actors_t *rt, size_t i, size_t j)
{
    timer_t_ t = rt->heap[i];
    rt->heap[i] = rt->heap[j];
    rt->heap[j] = t;
}

static void heap_up(parc_actors_t *rt, size_t i)
{
    while (i > 0 && rt->heap[(i - 1) / 2].when > rt->heap[i].when) {
        heap_swap(rt, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(parc_actors_t *rt, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, min = i;
        if (l < rt->nheap && rt->heap[l].when < rt->heap[min].when)
            min = l;
        if (r < rt->nheap && rt->heap[r].when < rt->heap[min].when)
            min = r;
        if (min == i)
            return;
        heap_swap(rt, i, min);
        i = min;
    }
}

static timer_t_ heap_remove(parc_actors_t *rt, size_t i)
{
    timer_t_ t = rt->heap[i];
    rt->heap[i] = rt->heap[--rt->nheap];
    if (i < rt->nheap) {
        heap_down(rt, i);
        heap_up(rt, i);
    }
    return t;
}

/* Deliver a timer's message, not counted against a bounded mailbox. */
static void timer_fire(parc_actors_t *rt, timer_t_ t)
{
    if (push(t.to, t.msg) != 0)
        parc_msg_free(t.msg);
    parc_sactor_release(t.to);
    busy_dec(rt);
}

static void *timer_main(void *arg)
{
    parc_actors_t *rt = arg;
    parc_mutex_lock(&rt->lock);
    while (!rt->stopping) {
        if (rt->nheap == 0) {
            parc_cond_wait(&rt->timer_cond, &rt->lock);
            continue;
        }
        int64_t when = rt->heap[0].when;
        if (when > parc_now_ns()) {
            parc_cond_wait_until(&rt->timer_cond, &rt->lock,
                                 (parc_deadline_t)when);
            continue;
        }
        timer_t_ t = heap_remove(rt, 0);
        parc_mutex_unlock(&rt->lock);
        timer_fire(rt, t);
        parc_mutex_lock(&rt->lock);
    }
    parc_mutex_unlock(&rt->lock);
    return NULL;
}

int parc_actors_send_after(parc_actors_t *rt, int64_t delay_ns,
                           parc_sactor_t *a, parc_msg_t *m, uint64_t *id)
{
    parc_deadline_t d;
    if (rt == NULL || a == NULL || m == NULL ||
        parc_deadline_in(&d, delay_ns) != 0)
        return EINVAL;
    parc_mutex_lock(&rt->lock);
    if (rt->stopping) {
        parc_mutex_unlock(&rt->lock);
        return EPIPE;
    }
    if (rt->nheap == rt->capheap) {
        size_t cap = rt->capheap ? 2 * rt->capheap : 16;
        timer_t_ *h = realloc(rt->heap, cap * sizeof *h);
        if (h == NULL) {
            parc_mutex_unlock(&rt->lock);
            return ENOMEM;
        }
        rt->heap = h;
        rt->capheap = cap;
    }
    parc_sactor_retain(a);
    busy_inc(rt); /* a pending timer keeps the runtime from quiescing */
    uint64_t tid = ++rt->next_id;
    rt->heap[rt->nheap] = (timer_t_){ (int64_t)d, tid, a, m };
    heap_up(rt, rt->nheap++);
    bool first = rt->heap[0].id == tid;
    parc_mutex_unlock(&rt->lock);
    if (first)
        parc_cond_notify_one(&rt->timer_cond);
    if (id != NULL)
        *id = tid;
    return 0;
}

int parc_actors_timer_cancel(parc_actors_t *rt, uint64_t id, parc_msg_t **m)
{
    if (rt == NULL)
        return EINVAL;
    parc_mutex_lock(&rt->lock);
    for (size_t i = 0; i < rt->nheap; i++) {
        if (rt->heap[i].id != id)
            continue;
        timer_t_ t = heap_remove(rt, i);
        parc_mutex_unlock(&rt->lock);
        if (m != NULL)
            *m = t.msg;
        else
            parc_msg_free(t.msg);
        parc_sactor_release(t.to);
        busy_dec(rt);
        return 0;
    }
    parc_mutex_unlock(&rt->lock);
    return EALREADY;
}

/* ---- the runtime ------------------------------------------------------------ */

int parc_actors_create(unsigned workers, parc_actors_t **out)
{
    if (out == NULL)
        return EINVAL;
    if (workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        workers = n > 0 ? (unsigned)n : 1u;
    }
    parc_actors_t *rt = aligned_alloc(PARC_CACHELINE,
                                      (sizeof *rt + PARC_CACHELINE - 1) &
                                          ~(size_t)(PARC_CACHELINE - 1));
    if (rt == NULL)
        return ENOMEM;
    memset(rt, 0, sizeof *rt);
    parc_atomic_init(&rt->busy, 0u);
    parc_atomic_init(&rt->qwaiters, 0u);
    parc_atomic_init(&rt->live, 0u);
    parc_mutex_init(&rt->lock, PARC_MUTEX_NORMAL);
    parc_cond_init(&rt->timer_cond);
    parc_pool_options_t po = PARC_POOL_OPTIONS_INIT;
    po.name_prefix = "parc-actor";
    int rc = parc_pool_create(workers, &po, &rt->pool);
    if (rc != 0) {
        free(rt);
        return rc;
    }
    if (pthread_create(&rt->timer_thread, NULL, timer_main, rt) != 0) {
        parc_pool_free(rt->pool);
        free(rt);
        return EAGAIN;
    }
    *out = rt;
    return 0;
}

int parc_actors_free(parc_actors_t *rt)
{
    if (rt == NULL)
        return EINVAL;
    if (parc_pool_current_worker(rt->pool) >= 0)
        return EDEADLK;
    parc_mutex_lock(&rt->lock);
    bool busy = parc_load(&rt->live, PARC_RELAXED) != 0 || rt->nheap != 0;
    if (!busy)
        rt->stopping = true;
    parc_mutex_unlock(&rt->lock);
    if (busy)
        return EBUSY;
    parc_cond_notify_all(&rt->timer_cond);
    pthread_join(rt->timer_thread, NULL);
    parc_pool_free(rt->pool); /* every turn has run to its end */
    for (pin_t *p = rt->pins; p != NULL;) {
        pin_t *next = p->next;
        pthread_join(p->thread, NULL);
        parc_sem_destroy(&p->sem);
        free(p);
        p = next;
    }
    free(rt->heap);
    parc_cond_destroy(&rt->timer_cond);
    parc_mutex_destroy(&rt->lock);
    free(rt);
    return 0;
}
