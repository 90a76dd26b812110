/* The scheduled actors' runtime (parc/act.h): its life cycle, the
 * quiescence count and timers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act_internal.h"

/* ---- quiescence count -------------------------------------------------- */

static int quiesce_wait(parc_act_rt_t *rt, parc_deadline_t deadline, bool try)
{
    if (rt == NULL)
        return EINVAL;
    for (unsigned i = 0; i < PARC_SPIN_POLLS; i++) {
        /* acquire: pairs with act_busy_dec's release; the actors' work is
         * visible once zero is seen. */
        if (parc_load(&rt->busy, PARC_ACQUIRE) == 0)
            return 0;
        if (try)
            return EAGAIN;
        parc_spin_poll(i);
    }
    for (;;) {
        /* seq_cst: the other half of act_busy_dec's Dekker pair. */
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

int parc_act_rt_quiesce(parc_act_rt_t *rt)
{
    return quiesce_wait(rt, PARC_FOREVER, false);
}

int parc_act_rt_quiesce_try(parc_act_rt_t *rt)
{
    return quiesce_wait(rt, PARC_FOREVER, true);
}

int parc_act_rt_quiesce_timed(parc_act_rt_t *rt, int64_t timeout_ns)
{
    parc_deadline_t d;
    if (rt == NULL || parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    return quiesce_wait(rt, d, false);
}

uint64_t parc_act_rt_live(parc_act_rt_t *rt)
{
    if (rt == NULL)
        return 0;
    /* acquire: pairs with finish's (act.c) release increment, so each stopped
     * actor's spawn (counted before it could run) is in the count read
     * next: never fewer spawned than stopped. */
    uint64_t stopped = parc_load(&rt->stopped, PARC_ACQUIRE);
    return act_live_spawned(rt) - stopped;
}

/* ---- timers ------------------------------------------------------------ */

/* A delayed message: what the timer service's fire needs, one malloc per
 * send_after (timers are rare next to sends). */
typedef struct delayed {
    parc_act_t *to;
    parc_msg_t *msg;
} delayed_t;

/* Deliver a timer's message (on the timer thread), not counted against a
 * bounded mailbox. */
static void delayed_fire(void *arg)
{
    delayed_t *d = arg;
    parc_act_t *to = d->to;
    parc_act_rt_t *rt = act_rt_of(to);
    if (act_push(to, d->msg) != 0)
        act_dead_letter(to, d->msg);
    free(d);
    /* The reference goes before the count, so that once quiesce sees the
     * runtime idle no timer still holds an actor (parc_act_rt_free would
     * find its slot in use). rt stays valid: its free joins this thread. */
    parc_act_release(to);
    act_busy_dec(rt);
}

int parc_act_rt_send_after(parc_act_rt_t *rt, int64_t delay_ns,
                           parc_act_t *a, parc_msg_t *m, uint64_t *id)
{
    parc_deadline_t when;
    if (rt == NULL || a == NULL || m == NULL ||
        parc_deadline_in(&when, delay_ns) != 0)
        return EINVAL;
    delayed_t *d = malloc(sizeof *d);
    if (d == NULL)
        return ENOMEM;
    d->to = a;
    d->msg = m;
    m->sender_ = NULL; /* a timer's message has no sending actor */
    parc_act_retain(a);
    act_busy_inc(rt); /* a pending timer keeps the runtime from quiescing */
    int rc = parc_timers_add(rt->timers, when, delayed_fire, d, id);
    if (rc != 0) {
        act_busy_dec(rt);
        parc_act_release(a);
        free(d);
    }
    return rc;
}

int parc_act_rt_timer_cancel(parc_act_rt_t *rt, uint64_t id, parc_msg_t **m)
{
    if (rt == NULL)
        return EINVAL;
    void *arg;
    if (parc_timers_cancel(rt->timers, id, &arg) != 0)
        return EALREADY; /* fired, firing, cancelled, or never given out */
    delayed_t *d = arg;
    if (m != NULL)
        *m = d->msg;
    else
        parc_msg_free(d->msg);
    parc_act_release(d->to);
    free(d);
    act_busy_dec(rt);
    return 0;
}

/* ---- the runtime ------------------------------------------------------- */

int parc_act_rt_create(unsigned workers, parc_act_rt_t **out)
{
    if (out == NULL)
        return EINVAL;
    if (workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        workers = n > 0 ? (unsigned)n : 1u;
    }
    parc_act_rt_t *rt = aligned_alloc(PARC_CACHELINE,
                                      (sizeof *rt + PARC_CACHELINE - 1) &
                                          ~(size_t)(PARC_CACHELINE - 1));
    if (rt == NULL)
        return ENOMEM;
    memset(rt, 0, sizeof *rt);
    parc_atomic_init(&rt->busy, 0u);
    parc_atomic_init(&rt->qwaiters, 0u);
    parc_atomic_init(&rt->stopped, 0u);
    parc_atomic_init(&rt->stop_seq, 0u);
    parc_atomic_init(&rt->stop_waiters, 0u);
    parc_atomic_init(&rt->names, (uintptr_t)0);
    parc_atomic_init(&rt->dead, 0u);
    parc_mutex_init(&rt->lock, PARC_MUTEX_NORMAL);
    /* The slab's owner word is rt: act_rt_of. */
    if (parc_recycle_init_slab(&rt->slots, sizeof(parc_act_t), ACT_SLAB_BYTES,
                               rt) != 0) {
        free(rt); /* only with pages larger than ACT_SLAB_BYTES */
        return ENOMEM;
    }
    int rc = act_live_init(rt);
    if (rc != 0) {
        free(rt);
        return rc;
    }
    parc_pool_options_t po = PARC_POOL_OPTIONS_INIT;
    po.name_prefix = "parc-actor";
    rc = parc_pool_create(workers, &po, &rt->pool);
    if (rc != 0) {
        act_live_free(rt);
        free(rt);
        return rc;
    }
    rt->npending = parc_pool_workers(rt->pool);
    rt->pending = aligned_alloc(PARC_CACHELINE,
                                rt->npending * sizeof *rt->pending);
    rc = rt->pending == NULL ? ENOMEM : parc_timers_create(&rt->timers);
    if (rc != 0) {
        free(rt->pending);
        parc_pool_free(rt->pool);
        act_live_free(rt);
        free(rt);
        return rc;
    }
    for (unsigned i = 0; i < rt->npending; i++) {
        rt->pending[i].who = NULL;
        rt->pending[i].n = 0;
    }
    *out = rt;
    return 0;
}

int parc_act_rt_free(parc_act_rt_t *rt)
{
    if (rt == NULL)
        return EINVAL;
    if (parc_pool_current_worker(rt->pool) >= 0)
        return EDEADLK;
    /* A pending timer holds a reference to its actor, so a timer that
     * fires meanwhile is still seen below as a slot in use until its
     * delivery has released the actor. */
    bool busy = parc_timers_pending(rt->timers) != 0;
    if (!busy) {
        /* Every actor stopped, and every reference gone too: the slabs go
         * with the runtime. The sweep drops the live table's retired
         * entries (the runtime's references); an entry left means an
         * actor not retired yet: live, or its stop not complete. */
        busy = act_live_sweep_all(rt) != 0;
    }
    if (!busy) {
        /* Every spawned actor is retired (or was never spawned), and
         * stopped counts each one a few instructions after its
         * retirement (finish, act.c): a stop that a waiter saw complete
         * may not be counted yet. Wait for those counts: nothing of the
         * user's runs between the two. acquire: pairs with finish's
         * release increment; the retirements are visible. */
        for (unsigned i = 0; act_live_spawned(rt) != parc_load(&rt->stopped, PARC_ACQUIRE); i++)
            parc_spin_poll(i);
        /* No actor is live, so no behaviour runs: the workers'
         * deferred sender releases are ours to drop (each was written
         * in a behaviour, which happened before its actor's stop). */
        act_pending_flush(rt);
        act_live_flush(rt); /* the shards' cached slots count free */
        busy = parc_recycle_slab_in_use(&rt->slots) != 0;
    }
    if (busy)
        return EBUSY;
    act_rt_teardown(rt);
    return 0;
}

void act_rt_teardown(parc_act_rt_t *rt)
{
    parc_timers_free(rt->timers); /* joins a delivery still running */
    parc_pool_free(rt->pool); /* every turn has run to its end */
    for (pin_t *p = rt->pins; p != NULL;) {
        pin_t *next = p->next;
        pthread_join(p->thread, NULL);
        parc_sem_destroy(&p->sem);
        free(p);
        p = next;
    }
    act_pending_flush(rt); /* the workers are gone */
    free(rt->pending);
    parc_recycle_destroy_slab(&rt->slots);
    parc_mutex_destroy(&rt->lock);
    act_names_free(rt);
    act_live_free(rt);
    for (actor_ext_t *x = rt->exts; x != NULL;) { /* still referenced */
        actor_ext_t *next = x->next;
        free(x);
        x = next;
    }
    free(rt);
}
