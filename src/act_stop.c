/* Scheduled actors (parc/act.h): waiting for a stop, and shutting a
 * whole runtime down. The live table is what makes the second possible:
 * a runtime otherwise knows its actors only as slots in slabs, and a
 * freed slot cannot be told from a live one without reading freed memory.
 *
 * Rejected: a lock-free list threaded through the actors (the actor has
 * room for one word, and unlinking from a singly linked list needs the
 * predecessor); walking the slabs (freed slots are poisoned under ASan
 * and reused at any time). A table under the runtime's mutex costs one
 * uncontended lock per spawn and per stop. */
#include <errno.h>
#include <stdlib.h>

#include "act_internal.h"

/* ---- the live table ----------------------------------------------------- */

int act_live_add(parc_act_rt_t *rt, parc_act_t *a)
{
    int rc = 0;
    parc_mutex_lock(&rt->lock);
    if (rt->closing) {
        rc = EPIPE;
    } else if (rt->nlive == rt->cap_live) {
        uint32_t cap = rt->cap_live != 0 ? 2 * rt->cap_live : 64u;
        parc_act_t **t = realloc(rt->live, cap * sizeof *t);
        if (t == NULL) {
            rc = ENOMEM;
        } else {
            rt->live = t;
            rt->cap_live = cap;
        }
    }
    if (rc == 0) {
        a->live_ix = rt->nlive;
        rt->live[rt->nlive++] = a;
    }
    parc_mutex_unlock(&rt->lock);
    return rc;
}

void act_live_remove(parc_act_rt_t *rt, parc_act_t *a)
{
    parc_mutex_lock(&rt->lock);
    parc_act_t *last = rt->live[--rt->nlive];
    rt->live[a->live_ix] = last;
    last->live_ix = a->live_ix;
    parc_mutex_unlock(&rt->lock);
}

void act_ext_add(parc_act_rt_t *rt, actor_ext_t *x)
{
    parc_mutex_lock(&rt->lock);
    x->prev = NULL;
    x->next = rt->exts;
    if (x->next != NULL)
        x->next->prev = x;
    rt->exts = x;
    parc_mutex_unlock(&rt->lock);
}

void act_ext_remove(parc_act_rt_t *rt, actor_ext_t *x)
{
    parc_mutex_lock(&rt->lock);
    if (x->prev != NULL)
        x->prev->next = x->next;
    else
        rt->exts = x->next;
    if (x->next != NULL)
        x->next->prev = x->prev;
    parc_mutex_unlock(&rt->lock);
}

/* ---- waiting for a stop -------------------------------------------------- */

void act_stop_wake(parc_act_rt_t *rt)
{
    /* seq_cst: Dekker with wait_stopped (it raises stop_waiters, then
     * reads the flags; finish set F_STOPPED, then reads stop_waiters). */
    if (parc_load(&rt->stop_waiters, PARC_SEQ_CST) != 0) {
        parc_faa(&rt->stop_seq, 1u, PARC_RELAXED); /* the futex word */
        parc_park_wake_all(&rt->stop_seq);
    }
}

#define stopped_now(a, mo) ((parc_load(&(a)->flags, mo) & F_STOPPED) != 0)

static int wait_stopped(parc_act_t *a, int *status, parc_deadline_t deadline)
{
    if (a == NULL)
        return EINVAL;
    parc_act_rt_t *rt = act_rt_of(a);
    if (a == parc_act_self() || parc_pool_current_worker(rt->pool) >= 0)
        return EDEADLK;
    int rc = 0;
    for (unsigned spins = 0;; spins++) {
        /* acquire: pairs with finish's seq_cst set of F_STOPPED; the exit
         * status is final once it is seen. */
        if (stopped_now(a, PARC_ACQUIRE))
            break;
        if (spins < PARC_SPIN_POLLS) {
            parc_spin_poll(spins);
            continue;
        }
        uint32_t seq = parc_load(&rt->stop_seq, PARC_RELAXED);
        /* seq_cst: Dekker with act_stop_wake (see there). */
        parc_faa(&rt->stop_waiters, 1u, PARC_SEQ_CST);
        int prc = 0;
        if (!stopped_now(a, PARC_SEQ_CST))
            prc = parc_park_wait(&rt->stop_seq, seq, deadline);
        parc_fas(&rt->stop_waiters, 1u, PARC_RELAXED);
        if (prc == ETIMEDOUT || parc_deadline_passed(deadline)) {
            /* acquire: as above. */
            if (!stopped_now(a, PARC_ACQUIRE))
                rc = ETIMEDOUT;
            break;
        }
    }
    if (rc == 0 && status != NULL)
        *status = a->exit_status;
    return rc;
}

int parc_act_wait(parc_act_t *a, int *status)
{
    return wait_stopped(a, status, PARC_FOREVER);
}

int parc_act_wait_timed(parc_act_t *a, int *status, int64_t timeout_ns)
{
    parc_deadline_t d;
    if (a == NULL || parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    return wait_stopped(a, status, d);
}

int parc_act_stop_wait(parc_act_t *a, int status, int *exit_status)
{
    if (a == NULL)
        return EINVAL;
    int rc = parc_act_stop(a, status);
    if (rc != 0 && rc != EPIPE)
        return rc;
    return wait_stopped(a, exit_status, PARC_FOREVER);
}

/* ---- shutting the runtime down ------------------------------------------ */

/* Stop every actor in the table, a batch at a time (stopping under the
 * lock could deadlock: a stop may run the actor's last turn inline, whose
 * finish takes the lock). Removals shift the table, so a pass may skip
 * some; the caller repeats until the table is empty. */
static void stop_pass(parc_act_rt_t *rt, int status)
{
    enum { BATCH = 64 };
    parc_act_t *batch[BATCH];
    for (uint32_t from = 0;; from += BATCH) {
        unsigned n = 0;
        parc_mutex_lock(&rt->lock);
        for (uint32_t i = from; i < rt->nlive && n < BATCH; i++) {
            batch[n] = rt->live[i];
            parc_act_retain(batch[n++]); /* still live: the runtime's
                                          * reference keeps it */
        }
        parc_mutex_unlock(&rt->lock);
        if (n == 0)
            return;
        for (unsigned i = 0; i < n; i++) {
            parc_act_stop(batch[i], status); /* EPIPE: already stopping */
            parc_act_release(batch[i]);
        }
    }
}

int parc_act_rt_shutdown(parc_act_rt_t *rt, int status)
{
    if (rt == NULL)
        return EINVAL;
    if (parc_pool_current_worker(rt->pool) >= 0 || parc_act_self() != NULL)
        return EDEADLK;
    parc_mutex_lock(&rt->lock);
    rt->closing = true; /* spawns from here on: EPIPE */
    parc_mutex_unlock(&rt->lock);
    for (;;) {
        stop_pass(rt, status);
        parc_act_rt_quiesce(rt); /* every stop processed, timers fired */
        parc_mutex_lock(&rt->lock);
        uint32_t left = rt->nlive;
        parc_mutex_unlock(&rt->lock);
        if (left == 0)
            break;
    }
    act_rt_teardown(rt);
    return 0;
}
