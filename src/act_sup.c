/* Supervisors for scheduled actors (parc/act_sup.h): OTP's strategies,
 * restart types and intensity, on monitors (parc_act_monitor).
 *
 * The supervisor is an actor whose state is the parc_act_sup_t. Its
 * children's table is under s->lock, taken for the whole of each of its
 * steps (a down handled, the initial start, a stop), so the starting
 * thread, the supervisor's turns and parc_act_sup_child readers see it
 * whole. A child's down is matched to its slot by the instance (cur);
 * a down of an instance no longer in the table is stale and ignored.
 *
 * Group restarts (one_for_all, rest_for_one) wait for the downs of every
 * child they stopped (awaiting, counted in s->waiting) before starting
 * anything, so old and new instances of a child never overlap. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "act_internal.h"
#include "parc/act_sup.h"

/* The type of the supervisor's own stop request (below PARC_MSG_USER). */
#define SUP_STOP 5

typedef struct kid {
    parc_act_sup_spec_t spec;
    parc_act_t *cur;   /* the running instance (our reference), or NULL */
    bool awaiting;     /* stopped by us for a group restart: its down due */
    bool pending;      /* to start once no down is awaited */
} kid_t;

struct parc_act_sup {
    parc_act_t *self;
    parc_mutex_t lock;
    kid_t *kids;
    size_t n;
    parc_act_sup_options_t opts;
    unsigned waiting;                 /* downs awaited (under lock) */
    bool exiting;                     /* stopping or gave up */
    int64_t *stamps;                  /* the last `intensity` restarts */
    uint32_t nstamps, next_stamp;
    parc_atomic(uint64_t) restarts;
    parc_atomic(uint32_t) stop_sent;
    parc_msg_t stop_msg;              /* SUP_STOP, sent once */
};

/* Start child i: spawn, on_start, enter it, monitor it (a child that has
 * already stopped is then reported at once). Under s->lock. */
static int start_kid(parc_act_sup_t *s, size_t i)
{
    kid_t *k = &s->kids[i];
    parc_act_t *c;
    int rc = parc_act_spawn(act_rt_of(s->self), k->spec.fn, k->spec.state,
                            &k->spec.opts, &c);
    if (rc != 0)
        return rc;
    if (k->spec.on_start != NULL)
        k->spec.on_start(c, k->spec.state);
    k->cur = c;
    rc = parc_act_monitor(s->self, c);
    if (rc != 0) { /* unsupervised it must not run */
        parc_act_stop(c, PARC_ACT_SUP_SHUTDOWN);
        parc_act_release(c);
        k->cur = NULL;
    }
    return rc;
}

/* Stop every running child, last first, and forget them. Under lock. */
static void stop_all(parc_act_sup_t *s)
{
    for (size_t j = s->n; j-- > 0;) {
        kid_t *k = &s->kids[j];
        if (k->cur != NULL) {
            parc_act_stop(k->cur, PARC_ACT_SUP_SHUTDOWN);
            parc_act_release(k->cur);
            k->cur = NULL;
        }
        k->awaiting = k->pending = false;
    }
    s->waiting = 0;
}

static void give_up(parc_act_sup_t *s)
{
    s->exiting = true;
    stop_all(s);
    parc_act_exit(s->self, PARC_ACT_SUP_GAVE_UP);
}

/* Count a restart; false when it exceeds intensity per period. */
static bool count_restart(parc_act_sup_t *s)
{
    uint32_t max = s->opts.intensity;
    if (max == 0)
        return false;
    int64_t now = parc_now_ns();
    /* The ring holds the last `max` restarts; the oldest is next_stamp. */
    if (s->nstamps == max && now - s->stamps[s->next_stamp] < s->opts.period_ns)
        return false;
    s->stamps[s->next_stamp] = now;
    s->next_stamp = (s->next_stamp + 1) % max;
    if (s->nstamps < max)
        s->nstamps++;
    /* relaxed: a statistic. */
    parc_faa(&s->restarts, 1u, PARC_RELAXED);
    return true;
}

static void start_pending(parc_act_sup_t *s)
{
    for (size_t j = 0; j < s->n; j++) {
        if (!s->kids[j].pending)
            continue;
        s->kids[j].pending = false;
        int rc = start_kid(s, j);
        if (rc == EPIPE) /* the runtime is shutting down */
            continue;
        if (rc != 0) {
            give_up(s);
            return;
        }
    }
}

static bool restarts(const kid_t *k, int status)
{
    switch (k->spec.restart) {
    case PARC_ACT_SUP_PERMANENT:
        return true;
    case PARC_ACT_SUP_TRANSIENT:
        return status != 0 && status != PARC_ACT_SUP_SHUTDOWN;
    default:
        return false;
    }
}

static void on_down(parc_act_sup_t *s, parc_act_t *who, int status)
{
    size_t i = 0;
    while (i < s->n && s->kids[i].cur != who)
        i++;
    if (i == s->n || s->exiting)
        return; /* stale: an instance we already let go */
    kid_t *k = &s->kids[i];
    parc_act_release(k->cur);
    k->cur = NULL;
    if (k->awaiting) {
        k->awaiting = false;
        if (--s->waiting == 0)
            start_pending(s);
        return;
    }
    if (!restarts(k, status))
        return;
    if (!count_restart(s)) {
        give_up(s);
        return;
    }
    k->pending = true;
    if (s->opts.strategy != PARC_ACT_SUP_ONE_FOR_ONE) {
        for (size_t j = s->n; j-- > 0;) {
            kid_t *o = &s->kids[j];
            bool in_group = s->opts.strategy == PARC_ACT_SUP_ONE_FOR_ALL
                                ? j != i
                                : j > i;
            if (!in_group || o->cur == NULL || o->awaiting)
                continue;
            parc_act_stop(o->cur, PARC_ACT_SUP_SHUTDOWN);
            o->awaiting = true;
            o->pending = o->spec.restart != PARC_ACT_SUP_TEMPORARY;
            s->waiting++;
        }
    }
    if (s->waiting == 0)
        start_pending(s);
}

static void sup_behaviour(parc_act_t *self, void *state, parc_msg_t *m)
{
    parc_act_sup_t *s = state;
    parc_mutex_lock(&s->lock);
    if (m->type == PARC_ACT_DOWN) {
        parc_act_down_t *d = parc_msg_entry(m, parc_act_down_t, msg);
        on_down(s, d->who, d->status);
    } else if (m->type == SUP_STOP) {
        s->exiting = true;
        stop_all(s);
        parc_act_exit(self, 0);
    }
    parc_mutex_unlock(&s->lock);
    parc_msg_free(m); /* SUP_STOP's is s's own: no dispose */
}

static void sup_destroy(parc_act_sup_t *s)
{
    parc_mutex_destroy(&s->lock);
    free(s->stamps);
    free(s->kids);
    free(s);
}

int parc_act_sup_start(parc_act_rt_t *rt, const parc_act_sup_options_t *opts,
                       const parc_act_sup_spec_t *specs, size_t n,
                       parc_act_sup_t **out)
{
    parc_act_sup_options_t o = PARC_ACT_SUP_OPTIONS_INIT;
    if (opts != NULL)
        o = *opts;
    if (rt == NULL || out == NULL || (specs == NULL && n > 0) ||
        o.period_ns < 0)
        return EINVAL;
    for (size_t i = 0; i < n; i++)
        if (specs[i].fn == NULL)
            return EINVAL;
    parc_act_sup_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return ENOMEM;
    s->kids = calloc(n != 0 ? n : 1, sizeof *s->kids);
    s->stamps = calloc(o.intensity != 0 ? o.intensity : 1, sizeof(int64_t));
    if (s->kids == NULL || s->stamps == NULL) {
        free(s->kids);
        free(s->stamps);
        free(s);
        return ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        s->kids[i].spec = specs[i];
    s->n = n;
    s->opts = o;
    parc_mutex_init(&s->lock, PARC_MUTEX_NORMAL);
    parc_atomic_init(&s->restarts, 0u);
    parc_atomic_init(&s->stop_sent, 0u);
    parc_msg_init(&s->stop_msg, SUP_STOP, NULL);
    int rc = parc_act_spawn(rt, sup_behaviour, s, NULL, &s->self);
    if (rc != 0) {
        sup_destroy(s);
        return rc;
    }
    parc_mutex_lock(&s->lock);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = start_kid(s, i);
    if (rc != 0) {
        s->exiting = true;
        stop_all(s);
    }
    parc_mutex_unlock(&s->lock);
    if (rc != 0) {
        parc_act_stop(s->self, rc);
        /* Not from a worker: waiting is safe; from a behaviour it is not,
         * and the supervisor then frees nothing it still uses (exiting). */
        if (parc_act_wait(s->self, NULL) == 0) {
            parc_act_release(s->self);
            sup_destroy(s);
        }
        return rc;
    }
    *out = s;
    return 0;
}

parc_act_t *parc_act_sup_actor(parc_act_sup_t *s)
{
    return s == NULL ? NULL : s->self;
}

int parc_act_sup_child(parc_act_sup_t *s, size_t i, parc_act_t **out)
{
    if (s == NULL || out == NULL || i >= s->n)
        return EINVAL;
    parc_mutex_lock(&s->lock);
    parc_act_t *c = s->kids[i].awaiting ? NULL : s->kids[i].cur;
    parc_act_retain(c);
    parc_mutex_unlock(&s->lock);
    *out = c;
    return c != NULL ? 0 : EAGAIN;
}

uint64_t parc_act_sup_restarts(parc_act_sup_t *s)
{
    /* relaxed: a statistic. */
    return s == NULL ? 0 : parc_load(&s->restarts, PARC_RELAXED);
}

int parc_act_sup_stop(parc_act_sup_t *s)
{
    if (s == NULL)
        return EINVAL;
    /* relaxed: elects the one sender of the embedded stop message. */
    if (parc_xchg(&s->stop_sent, 1u, PARC_RELAXED) != 0)
        return parc_act_stopped(s->self, NULL) ? EPIPE : 0;
    return parc_act_send(s->self, &s->stop_msg);
}

int parc_act_sup_free(parc_act_sup_t *s)
{
    if (s == NULL)
        return EINVAL;
    parc_act_rt_t *rt = act_rt_of(s->self);
    if (parc_act_self() != NULL || parc_pool_current_worker(rt->pool) >= 0)
        return EDEADLK;
    parc_act_sup_stop(s); /* EPIPE: stopped already */
    int rc = parc_act_wait(s->self, NULL);
    if (rc != 0)
        return rc;
    /* Stopped some other way (parc_act_stop): its children are let go. */
    parc_mutex_lock(&s->lock);
    s->exiting = true;
    stop_all(s);
    parc_mutex_unlock(&s->lock);
    parc_act_release(s->self);
    sup_destroy(s);
    return 0;
}
