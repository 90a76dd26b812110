/* Scheduled actors (parc/act.h): an actor's life from spawn to its last
 * release: sending, turns, stopping and monitors. The scheduling protocol
 * is argued in the header and at proc_turn() below. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "act_internal.h"
#include "msg_internal.h"
#include "pool_internal.h"

/* The actor whose behaviour runs on this thread, and the sender of the
 * message it is handling (one reference, dropped when the behaviour
 * returns). Saved and restored around each call: a turn can run inside
 * another (schedule's fallback when the pool has no memory).
 * initial-exec (POOL_TLS, pool_internal.h): no __tls_get_addr call per
 * send and per message in the shared library. */
static _Thread_local parc_act_t *cur_self POOL_TLS;
static _Thread_local parc_act_t *cur_sender POOL_TLS;

parc_act_t *parc_act_self(void)
{
    return cur_self;
}

parc_act_t *parc_act_sender(void)
{
    return cur_sender;
}

/* Drop the sender reference a message carries (parc_act_send from inside
 * a behaviour retained it). */
static void drop_sender(parc_msg_t *m)
{
    parc_act_t *s = m->sender_;
    m->sender_ = NULL;
    parc_act_release(s);
}

/* ---- references -------------------------------------------------------- */

void parc_act_retain(parc_act_t *a)
{
    if (a != NULL)
        parc_faa(&a->refs, 1u, PARC_RELAXED); /* the caller holds one */
}

/* Drop n references to a (NULL or 0: none). */
static void release_n(parc_act_t *a, uint32_t n)
{
    if (a == NULL || n == 0)
        return;
    /* acq_rel: every holder's uses happen before the free (release by
     * them, acquire by the last). */
    if (parc_fas(&a->refs, n, PARC_ACQ_REL) != n)
        return;
    parc_mpsc_destroy(&a->mbox);
    if (a->ext != NULL)
        act_ext_remove(act_rt_of(a), a->ext);
    free(a->ext); /* its pin, if any, is the runtime's (joined at free) */
    act_slot_free(act_rt_of(a), a);
}

void parc_act_release(parc_act_t *a)
{
    release_n(a, 1);
}

/*
 * The reference a message's sender carries is dropped after the
 * behaviour returns, on the receiving worker: an atomic RMW on the
 * sender's line, which the sender's own turns read (its behaviour and
 * state share the line), so in a ping-pong each hop would hand that line
 * to the other core and back. A worker therefore keeps the references of
 * the last sender it saw (act_pending_t) and drops them in one RMW when a
 * message from another sender comes, often on a turn of that very
 * sender, whose line is then this core's; a stream from one sender costs
 * one RMW per sender change instead of one per message. The deferral
 * holds at most one actor per worker a little longer; parc_act_rt_free
 * and teardown flush it. Only a worker of the sender's own runtime
 * defers (a runtime can flush only its own workers' references), and
 * never a pinned actor's thread.
 *
 * Rejected: taking no reference (a stopped sender's slot may be reused
 * by a new actor while the message waits: a dangling sender is worse
 * than a slow one); a reference only when the receiver reads the sender
 * (which is known only after the send); the count on the mailbox's
 * producer line, which the receiver writes anyway (the line is
 * parc_mpsc_t's, laid out by mpsc.h).
 */
/* This thread's slot, set by turn_task for the runtime whose worker the
 * thread is (a worker lives and dies with its runtime's pool, so the pair
 * never outlives the runtime); NULL on any other thread. */
static _Thread_local parc_act_rt_t *pend_rt POOL_TLS;
static _Thread_local act_pending_t *pend_slot POOL_TLS;

static void drop_sender_ref(parc_act_t *receiver, parc_act_t *s)
{
    if (s == NULL)
        return;
    parc_act_rt_t *rt = act_rt_of(receiver);
    act_pending_t *p = pend_slot;
    if (p == NULL || pend_rt != rt || act_rt_of(s) != rt) {
        release_n(s, 1);
        return;
    }
    if (p->who == s) {
        p->n++;
        return;
    }
    parc_act_t *old = p->who;
    uint32_t k = p->n;
    p->who = s;
    p->n = 1;
    release_n(old, k);
}

void act_pending_flush(parc_act_rt_t *rt)
{
    for (unsigned i = 0; i < rt->npending; i++) {
        act_pending_t *p = &rt->pending[i];
        parc_act_t *old = p->who;
        uint32_t k = p->n;
        p->who = NULL;
        p->n = 0;
        release_n(old, k);
    }
}

parc_act_rt_t *parc_act_runtime(parc_act_t *a)
{
    return a == NULL ? NULL : act_rt_of(a);
}

/* ---- turns ------------------------------------------------------------- */

static void schedule(parc_act_t *a);
static void finish(parc_act_t *a);
int act_push(parc_act_t *a, parc_msg_t *m);

static parc_msg_t *msg_of(parc_mpsc_node_t *n)
{
    return parc_mpsc_entry(n, parc_msg_t, node_);
}

/* A counted message left the mailbox: make room, wake blocked senders. */
static void uncount(parc_act_t *a, parc_msg_t *m)
{
    if ((m->flags_ & PARC_MSG_COUNTED_) == 0)
        return;
    m->flags_ &= ~PARC_MSG_COUNTED_;
    actor_ext_t *x = a->ext; /* counted: the actor is bounded */
    /* seq_cst: Dekker with a blocked sender (it raises space_waiters, then
     * reads count; we lower count, then read space_waiters). */
    parc_fas(&x->count, 1u, PARC_SEQ_CST);
    if (parc_load(&x->space_waiters, PARC_SEQ_CST) != 0) {
        parc_faa(&x->space, 1u, PARC_RELAXED); /* the wake's futex word */
        parc_park_wake_all(&x->space);
    }
}

/* Run a's behaviour on m with self and sender set. */
static void behave(parc_act_t *a, parc_msg_t *m)
{
    parc_act_t *outer_self = cur_self, *outer_sender = cur_sender;
    cur_self = a;
    cur_sender = m->sender_; /* the behaviour owns m now */
    m->sender_ = NULL;
    a->fn(a, a->state, m);
    drop_sender_ref(a, cur_sender);
    cur_self = outer_self;
    cur_sender = outer_sender;
}

/*
 * Whether a turn that has used up its batch may go on with another one
 * instead of resubmitting itself: only on a worker of the actor's own
 * pool with nothing else to run, neither in its deque (or stash) nor in
 * the injection queue. The batch bound is there so that other work gets
 * its turn; when there is none here, resubmitting only costs a push and a
 * pop, and lets an idle worker steal the turn: the actor's lines (its
 * mailbox's consumer line, its state) would move to the other core each
 * batch while one sender streams to it (Savina's Counting). Work that
 * arrives meanwhile waits at most one more batch, as it would have
 * behind the resubmitted turn. Work in other workers' deques is theirs
 * to run. Relaxed peeks: a hint, read once per batch; a task pushed just
 * after them waits one batch. A pinned actor's thread is no worker: it
 * posts its semaphore as before.
 */
static bool turn_may_go_on(parc_act_rt_t *rt)
{
    pool_worker_t *w = pool_self();
    if (w == NULL || w->pool != rt->pool || w->stash != NULL ||
        pool_terminating(rt->pool))
        return false;
    return parc_deque_size(&w->deque) == 0 &&
           parc_inject_size(&rt->pool->inject) == 0;
}

/*
 * One turn: at most PARC_ACT_BATCH messages at a time (see
 * turn_may_go_on for when it takes another batch). Returns true when the
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
static bool proc_turn(parc_act_t *a)
{
    unsigned done = 0, stalls = 0;
    for (;;) {
        if (done == PARC_ACT_BATCH) {
            if (!turn_may_go_on(act_rt_of(a)))
                break;
            done = 0;
        }
        parc_mpsc_node_t *n;
        int rc = parc_mpsc_pop_try(&a->mbox, &n);
        if (rc == EAGAIN) {
            if (parc_mpsc_mark_empty(&a->mbox)) {
                /* idle: the next push reschedules us */
                act_busy_dec(act_rt_of(a));
                return false;
            }
            /* A push in flight: its sender is between its exchange and
             * its link, a few instructions, unless it was preempted
             * there; then it may be waiting for this very CPU (a loaded
             * machine, or one whose CPUs are time-shared), so every
             * PARC_ACT_BATCH polls give the CPU away. The batch bounds
             * the wait as it bounds the messages. */
            done++;
            if (++stalls % PARC_ACT_BATCH == 0)
                parc_yield();
            else
                parc_cpu_relax();
            continue;
        }
        stalls = 0;
        if (rc != 0) { /* EPIPE: only after finish(), which ends turns */
            act_busy_dec(act_rt_of(a));
            return false;
        }
        done++;
        if (n == &a->stop_node) {
            /* relaxed: the stopper's push published stop_status (our
             * pop's acquire); the flag is turn-private. */
            a->exit_status = a->stop_status;
            parc_for(&a->flags, F_EXIT, PARC_RELAXED);
        } else {
            parc_msg_t *m = msg_of(n);
            uncount(a, m);
            /* A link's notice may be consumed (act_link.c). */
            if (m->type != ACT_LINK_DOWN || act_link_deliver(a, m))
                behave(a, m);
        }
        /* relaxed: F_EXIT is set by this turn only (above, or by the
         * behaviour through parc_act_exit). */
        if (parc_load(&a->flags, PARC_RELAXED) & F_EXIT) {
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
    parc_act_rt_t *rt = act_rt_of(arg);
    if (pend_rt != rt) { /* first turn of rt on this worker */
        int w = parc_pool_current_worker(rt->pool);
        pend_rt = rt;
        pend_slot = w >= 0 && (unsigned)w < rt->npending ? &rt->pending[w]
                                                         : NULL;
    }
    proc_turn(arg);
    return 0;
}

/* Called by whoever took the empty mark (or a turn that kept it). */
static void schedule(parc_act_t *a)
{
    if (a->ext != NULL && a->ext->pin != NULL) {
        parc_sem_release(&a->ext->pin->sem, 1);
        return;
    }
    if (parc_pool_submit(act_rt_of(a)->pool, turn_task, a, NULL) != 0)
        proc_turn(a); /* no memory: run the turn here (we hold the token) */
}

static void *pin_main(void *arg)
{
    parc_act_t *a = arg;
    pin_t *pin = a->ext->pin;
    while (parc_sem_acquire(&pin->sem, 1) == 0)
        if (proc_turn(a))
            break;
    return NULL;
}

/* Stop: close the mailbox, dispose what is left, tell the monitors. */
static void finish(parc_act_t *a)
{
    parc_act_rt_t *rt = act_rt_of(a);
    parc_mpsc_close(&a->mbox);
    /* seq_cst: release publishes exit_status to parc_act_stopped; and
     * Dekker with a blocked sender (claim raises space_waiters, then reads
     * the flags; we set F_STOPPED, then read space_waiters below). */
    parc_for(&a->flags, F_STOPPED, PARC_SEQ_CST);
    /* The name goes first: once a monitor (a supervisor) hears of the
     * stop, the name is free for a successor. seq_cst: F_STOPPED (just
     * set) before this read; see parc_act_register. */
    if (parc_load(&a->flags, PARC_SEQ_CST) & F_NAMED)
        act_name_drop(rt, a);
    parc_mpsc_node_t *n;
    while (parc_mpsc_pop(&a->mbox, &n) == 0) { /* closed: never sleeps */
        if (n == &a->stop_node)
            continue;
        parc_msg_t *m = msg_of(n);
        uncount(a, m);
        drop_sender(m);
        act_dead_letter(a, m);
    }
    /* Blocked senders: they will find the actor stopped. Only when some
     * may be parked (a futex wake per stop would cost a spawn ~40%). */
    actor_ext_t *x = a->ext;
    if (x != NULL && x->capacity != 0 &&
        parc_load(&x->space_waiters, PARC_SEQ_CST) != 0) {
        parc_faa(&x->space, 1u, PARC_RELAXED);
        parc_park_wake_all(&x->space);
    }
    /* acq_rel: acquire the monitors pushed so far (their release CAS);
     * release our stop to those that later find the list closed. */
    uintptr_t list = parc_xchg(&a->monitors, MON_CLOSED, PARC_ACQ_REL);
    for (parc_act_down_t *d = (parc_act_down_t *)list; d != NULL;) {
        parc_act_down_t *next = d->next_;
        d->status = a->exit_status;
        parc_act_t *w = d->watcher_;
        d->watcher_ = NULL;
        if (act_push(w, &d->msg) != 0) /* uncounted: never blocks */
            parc_msg_free(&d->msg);
        parc_act_release(w);
        d = next;
    }
    /* The runtime's reference is its live-table entry's, dropped by a
     * sweep once the actor is retired (act_stop.c): our last touch of a.
     * Retired before it stops counting as live, so that
     * parc_act_rt_free, once it sees no actor live, finds every entry
     * retired and its sweep gives every slot back. */
    act_live_retire(rt, a);
    /* release: the retirement above happens before the acquire loads of
     * stopped (parc_act_rt_free, parc_act_rt_live). */
    parc_faa(&rt->stopped, 1u, PARC_RELEASE);
    /* Waiters (parc_act_wait, stop_wait) return on the retirement: the
     * actor is stopped, told, nameless and drained by then. Woken after
     * the count, so that a waiter that frees the runtime next finds this
     * stop counted (parc_act_rt_free waits out the few instructions
     * between a retirement and its count). Only rt is touched: it lives
     * until this turn ends (its teardown joins the pool). */
    act_stop_wake(rt);
    act_busy_dec(rt);              /* this turn is over */
}

/* ---- spawning ---------------------------------------------------------- */

/* Fill a fresh slot (act_live_spawn calls it under its shard's lock:
 * a few stores). */
void act_init(parc_act_t *a, const act_init_t *init)
{
    parc_mpsc_init(&a->mbox);
    a->fn = init->fn;
    a->state = init->state;
    a->ext = init->ext;
    parc_atomic_init(&a->monitors, (uintptr_t)0);
    memset(&a->stop_node, 0, sizeof a->stop_node);
    parc_atomic_init(&a->refs, 2u); /* the caller's and the runtime's */
    parc_atomic_init(&a->flags, 0u);
    a->exit_status = 0;
    a->stop_status = 0;
}

int parc_act_spawn(parc_act_rt_t *rt, parc_act_fn fn, void *state,
               const parc_act_options_t *opts, parc_act_t **out)
{
    if (rt == NULL || fn == NULL || out == NULL)
        return EINVAL;
    bool pinned = opts != NULL && opts->pinned;
    uint32_t capacity = opts != NULL ? opts->capacity : 0;
    actor_ext_t *x = NULL;
    if (pinned || capacity != 0) {
        x = malloc(sizeof *x);
        if (x == NULL)
            return ENOMEM;
        x->pin = NULL;
        x->capacity = capacity;
        parc_atomic_init(&x->count, 0u);
        parc_atomic_init(&x->space_waiters, 0u);
        parc_atomic_init(&x->space, 0u);
    }
    act_init_t init = { fn, state, x };
    parc_act_t *a;
    int lrc = act_live_spawn(rt, act_init, &init, &a);
    if (lrc != 0) {
        free(x);
        return lrc;
    }
    if (x != NULL)
        act_ext_add(rt, x);
    if (pinned) {
        pin_t *pin = malloc(sizeof *pin);
        if (pin == NULL) {
            act_live_unspawn(rt, a); /* counts it stopped, frees the slot */
            act_ext_remove(rt, x);
            free(x);
            return ENOMEM;
        }
        parc_sem_init(&pin->sem, 0);
        x->pin = pin;
        if (pthread_create(&pin->thread, NULL, pin_main, a) != 0) {
            parc_sem_destroy(&pin->sem);
            free(pin);
            act_live_unspawn(rt, a); /* counts it stopped, frees the slot */
            act_ext_remove(rt, x);
            free(x);
            return EAGAIN;
        }
        parc_mutex_lock(&rt->lock);
        pin->next = rt->pins;
        rt->pins = pin;
        parc_mutex_unlock(&rt->lock);
    }
    *out = a;
    return 0;
}

/* ---- sending ----------------------------------------------------------- */

/* Push m; schedule the actor when this push made the mailbox non-empty.
 *
 * Without the mailbox's wake-up (parc_mpsc_push_nowake: no seq_cst fence,
 * no read of the consumer's line): nobody ever sleeps in parc_mpsc_pop()
 * on a scheduled actor's mailbox. Turns poll it with pop_try and end by
 * marking it empty, and the push that takes the mark schedules the next
 * turn (the pool's submit, or for a pinned actor its semaphore, which is
 * what its thread sleeps on); finish() pops only after closing it, when
 * pop never sleeps (the end node is linked: it returns EPIPE). */
int act_push(parc_act_t *a, parc_msg_t *m)
{
    bool was_empty;
    int rc = parc_mpsc_push_nowake(&a->mbox, &m->node_, &was_empty);
    if (rc == 0 && was_empty) {
        act_busy_inc(act_rt_of(a));
        schedule(a);
    }
    return rc;
}

/* Claim a slot of a bounded mailbox. */
static int claim(parc_act_t *a, bool wait, parc_deadline_t deadline)
{
    actor_ext_t *x = a->ext;
    for (unsigned spins = 0;; spins++) {
        uint32_t c = parc_load(&x->count, PARC_RELAXED);
        while (c < x->capacity) {
            /* relaxed: the count only bounds memory; the message itself
             * is published by the mailbox's push. */
            if (parc_cas_weak(&x->count, &c, c + 1, PARC_RELAXED,
                              PARC_RELAXED))
                return 0;
        }
        if ((parc_load(&a->flags, PARC_RELAXED) & F_STOPPED) != 0)
            return EPIPE;
        if (!wait)
            return EAGAIN;
        if (spins < PARC_SPIN_POLLS) {
            parc_spin_poll(spins); /* yields now and then: the actor
                                    * draining the mailbox may need our core */
            continue;
        }
        uint32_t seq = parc_load(&x->space, PARC_RELAXED);
        /* seq_cst: Dekker with uncount (see there). */
        parc_faa(&x->space_waiters, 1u, PARC_SEQ_CST);
        int rc = 0;
        if (parc_load(&x->count, PARC_SEQ_CST) >= x->capacity &&
            (parc_load(&a->flags, PARC_SEQ_CST) & F_STOPPED) == 0)
            rc = parc_park_wait(&x->space, seq, deadline);
        parc_fas(&x->space_waiters, 1u, PARC_RELAXED);
        if (rc == ETIMEDOUT || parc_deadline_passed(deadline)) {
            c = parc_load(&x->count, PARC_RELAXED);
            if (c < x->capacity &&
                parc_cas(&x->count, &c, c + 1, PARC_RELAXED, PARC_RELAXED))
                return 0;
            return ETIMEDOUT;
        }
    }
}

static int send_common(parc_act_t *a, parc_msg_t *m, bool wait,
                       parc_deadline_t deadline)
{
    if (a->ext != NULL && a->ext->capacity != 0) {
        int rc = claim(a, wait, deadline);
        if (rc != 0)
            return rc;
        m->flags_ |= PARC_MSG_COUNTED_;
    }
    m->sender_ = cur_self; /* the reference is taken before the push
                            * publishes m: the receiver may drop it */
    parc_act_retain(cur_self);
    int rc = act_push(a, m);
    if (rc != 0)
        drop_sender(m);
    if (rc != 0 && (m->flags_ & PARC_MSG_COUNTED_)) {
        m->flags_ &= ~PARC_MSG_COUNTED_;
        parc_fas(&a->ext->count, 1u, PARC_RELAXED);
    }
    return rc;
}

int act_send_(parc_act_t *a, parc_msg_t *m)
{
    return send_common(a, m, true, PARC_FOREVER);
}

int parc_act_send(parc_act_t *a, parc_msg_t *m)
{
    if (a == NULL || m == NULL)
        return EINVAL;
    return send_common(a, m, true, PARC_FOREVER);
}

int parc_act_send_try(parc_act_t *a, parc_msg_t *m)
{
    if (a == NULL || m == NULL)
        return EINVAL;
    return send_common(a, m, false, PARC_FOREVER);
}

int parc_act_send_timed(parc_act_t *a, parc_msg_t *m, int64_t timeout_ns)
{
    parc_deadline_t d;
    if (a == NULL || m == NULL || parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    return send_common(a, m, true, d);
}

int parc_act_ask(parc_act_t *a, parc_msg_t *m, parc_future_t **reply)
{
    if (a == NULL || m == NULL || reply == NULL)
        return EINVAL;
    parc_future_t *f;
    if (parc_future_create(NULL, NULL, &f) != 0)
        return ENOMEM;
    parc_future_retain(f); /* one for the message, one for the asker */
    m->reply_ = f;
    m->flags_ &= ~PARC_MSG_LOCAL_REPLY_; /* a heap reply: released */
    int rc = parc_act_send(a, m);
    if (rc != 0) {
        m->reply_ = NULL;
        parc_future_release(f);
        parc_future_release(f);
        return rc;
    }
    *reply = f;
    return 0;
}

/* ---- stopping and monitors --------------------------------------------- */

void parc_act_exit(parc_act_t *self, int status)
{
    if (self == NULL)
        return;
    self->exit_status = status;
    /* relaxed: read by this same turn (proc_turn). */
    parc_for(&self->flags, F_EXIT, PARC_RELAXED);
}

int parc_act_stop(parc_act_t *a, int status)
{
    if (a == NULL)
        return EINVAL;
    /* relaxed: elects the one sender of the embedded stop node. */
    if (parc_for(&a->flags, F_STOP_SENT, PARC_RELAXED) & F_STOP_SENT)
        return (parc_load(&a->flags, PARC_RELAXED) & F_STOPPED) ? EPIPE : 0;
    a->stop_status = status; /* published by the push (its release) */
    bool was_empty;
    /* nowake: see act_push() */
    int rc = parc_mpsc_push_nowake(&a->mbox, &a->stop_node, &was_empty);
    if (rc == 0 && was_empty) {
        act_busy_inc(act_rt_of(a));
        schedule(a);
    }
    return rc;
}

bool parc_act_stopped(parc_act_t *a, int *status)
{
    /* acquire: pairs with finish's release store; exit_status is set. */
    if (a == NULL || (parc_load(&a->flags, PARC_ACQUIRE) & F_STOPPED) == 0)
        return false;
    if (status != NULL)
        *status = a->exit_status;
    return true;
}

static void down_dispose(parc_msg_t *m)
{
    parc_act_down_t *d = parc_msg_entry(m, parc_act_down_t, msg);
    parc_act_release(d->who);
    parc_act_release(d->watcher_);
    free(d);
}

int parc_act_monitor(parc_act_t *watcher, parc_act_t *target)
{
    return act_watch(watcher, target, PARC_ACT_DOWN);
}

int act_watch(parc_act_t *watcher, parc_act_t *target, int32_t type)
{
    if (watcher == NULL || target == NULL)
        return EINVAL;
    parc_act_down_t *d = malloc(sizeof *d);
    if (d == NULL)
        return ENOMEM;
    parc_msg_init(&d->msg, type, down_dispose);
    parc_act_retain(target);
    parc_act_retain(watcher);
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
            if (act_push(watcher, &d->msg) != 0) /* uncounted */
                parc_msg_free(&d->msg);
            parc_act_release(watcher);
            return 0;
        }
        d->next_ = (parc_act_down_t *)head;
        /* release: publishes d to finish's acquire exchange; acquire on
         * failure: we may read MON_CLOSED and then exit_status. */
        if (parc_cas_weak(&target->monitors, &head, (uintptr_t)d,
                          PARC_RELEASE, PARC_ACQUIRE))
            return 0;
    }
}

