/*
 * stress/impls/actor.c — custom workloads for scheduled actors
 * (parc/act.h).
 *
 *   actor.delivery    N harness threads x M actors on a 2-worker runtime:
 *                     every message is processed exactly once, each
 *                     sender's messages to one actor in the order sent,
 *                     and no actor's behaviour ever runs on two threads at
 *                     once (an "inside" flag raised while it runs).
 *   actor.value_msgs  as actor.delivery with parc_msg_new messages of
 *                     random sizes across the message allocator's classes
 *                     (made on the senders' threads, freed on the
 *                     workers'): each payload is a pattern of its sender,
 *                     sequence and size, checked whole by the receiver,
 *                     so a block handed out twice or reused while live is
 *                     caught; senders also free some of their own at once.
 *   actor.quiescence  tokens circle a ring of actors for random hop counts,
 *                     launched from several threads: when quiesce returns,
 *                     every hop has happened (never reported early).
 *   actor.thread_close  thread-per-actor (parc/actor.h): senders race with
 *                     close; every accepted message is received, in each
 *                     sender's order, before recv's EPIPE; later sends get
 *                     EPIPE.
 *   actor.thread_ask  thread-per-actor request/reply: askers (await,
 *                     await_try, await_timed at random) each get their own
 *                     answer, while a closer closes the actor: an ask
 *                     accepted before the close is answered (recv drains
 *                     it before EPIPE), a later one refused; replies live
 *                     in the askers' stack, reused at once (TSan sees any
 *                     touch after completion).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parc/actor.h"
#include "parc/act.h"
#include "parc/stress.h"

#ifndef PARC_SLOWDOWN
#define PARC_SLOWDOWN 1
#endif

enum { T_DATA = PARC_MSG_USER, T_HOP };

#define MAX_SENDERS 64
#define ACTORS 4

/* ---- actor.delivery ---------------------------------------------------- */

typedef struct dmsg {
    parc_msg_t hdr;
    uint32_t sender;
    uint64_t seq;   /* the sender's sequence, across all actors */
} dmsg_t;

typedef struct dactor {
    parc_stress_ctx_t *ctx;
    parc_atomic(int) inside;
    /* Plain: only the actor's turns touch them (the property under test;
     * TSan would flag two turns racing). */
    uint64_t last[MAX_SENDERS];    /* last seq + 1 from each sender */
    uint64_t got[MAX_SENDERS];
} dactor_t;

typedef struct delivery {
    parc_act_rt_t *rt;
    parc_act_t *actors[ACTORS];
    dactor_t state[ACTORS];
    dmsg_t *msgs[MAX_SENDERS];
    uint64_t sent[MAX_SENDERS][ACTORS];
    size_t per_round;
    uint64_t round_base;
} delivery_t;

static void delivery_behaviour(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    dactor_t *d = state;
    if (parc_raw_xchg(&d->inside, 1, PARC_RELAXED) != 0)
        parc_stress_fail(d->ctx, "an actor's behaviour ran on two threads at once");
    dmsg_t *x = parc_msg_entry(m, dmsg_t, hdr);
    if (x->seq + 1 <= d->last[x->sender])
        parc_stress_fail(d->ctx, "sender %u: seq %llu after %llu (duplicate or reordered)",
                         x->sender, (unsigned long long)x->seq,
                         (unsigned long long)d->last[x->sender] - 1);
    d->last[x->sender] = x->seq + 1;
    d->got[x->sender]++;
    parc_raw_store(&d->inside, 0, PARC_RELAXED);
}

static void delivery_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    delivery_t *d = arg;
    for (size_t i = 0; i < d->per_round; i++) {
        dmsg_t *x = &d->msgs[index][i];
        unsigned to = (unsigned)(parc_stress_random(ctx, index) % ACTORS);
        parc_msg_init(&x->hdr, T_DATA, NULL);
        x->sender = index;
        x->seq = d->round_base + i;
        int rc = parc_act_send(d->actors[to], &x->hdr);
        if (rc != 0) {
            parc_stress_fail(ctx, "send returned %d", rc);
            return;
        }
        d->sent[index][to]++;
        if ((i & 1023u) == 0)
            parc_stress_progress(ctx, index, "send");
    }
}

static int delivery_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    unsigned threads = parc_stress_threads(ctx);
    delivery_t *d = calloc(1, sizeof *d);
    if (d == NULL)
        return ENOMEM;
    d->per_round = 20000 / PARC_SLOWDOWN;
    int rc = parc_act_rt_create(2, &d->rt);
    for (unsigned i = 0; rc == 0 && i < threads; i++)
        if ((d->msgs[i] = malloc(d->per_round * sizeof(dmsg_t))) == NULL)
            rc = ENOMEM;
    for (unsigned a = 0; rc == 0 && a < ACTORS; a++) {
        d->state[a].ctx = ctx;
        parc_atomic_init(&d->state[a].inside, 0);
        rc = parc_act_spawn(d->rt, delivery_behaviour, &d->state[a], NULL,
                        &d->actors[a]);
    }
    while (rc == 0) {
        rc = parc_stress_run_threads(ctx, threads, delivery_thread, d);
        if (rc != 0)
            break;
        if (parc_act_rt_quiesce_timed(d->rt, parc_stress_patience_ns(ctx)) != 0) {
            parc_stress_fail(ctx, "not quiescent after the patience period");
            break;
        }
        for (unsigned a = 0; a < ACTORS; a++)
            for (unsigned s = 0; s < threads; s++)
                if (d->state[a].got[s] != d->sent[s][a])
                    parc_stress_fail(ctx, "actor %u got %llu messages from sender %u, "
                                          "which sent %llu", a,
                                     (unsigned long long)d->state[a].got[s], s,
                                     (unsigned long long)d->sent[s][a]);
        parc_stress_add_ops(ctx, (uint64_t)threads * d->per_round);
        d->round_base += d->per_round;
        if (parc_stress_stopping(ctx))
            break;
    }
    for (unsigned a = 0; a < ACTORS; a++) {
        if (d->actors[a] != NULL) {
            parc_act_stop(d->actors[a], 0);
            parc_act_release(d->actors[a]);
        }
    }
    if (d->rt != NULL) {
        parc_act_rt_quiesce(d->rt);
        parc_act_rt_free(d->rt);
    }
    for (unsigned i = 0; i < threads; i++)
        free(d->msgs[i]);
    free(d);
    return rc;
}

static const parc_stress_workload_t delivery_workload = {
    .name = "actor.delivery",
    .impl = "parc.act",
    .description = "N senders x 4 actors: exactly once, per-sender FIFO, a behaviour never runs concurrently",
    .max_threads = MAX_SENDERS,
    .run = delivery_run,
};
PARC_STRESS_WORKLOAD(delivery_workload)

/* ---- actor.value_msgs ----------------------------------------------------- */

/* A value message's payload: who, which, how long, then pattern bytes. */
typedef struct vhead {
    uint32_t sender;
    uint32_t size;  /* payload bytes, this header included */
    uint64_t seq;
} vhead_t;

static unsigned char vbyte(const vhead_t *h, size_t i)
{
    return (unsigned char)(h->seq * 31u + h->sender * 7u + i);
}

static void value_behaviour(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    dactor_t *d = state;
    if (parc_raw_xchg(&d->inside, 1, PARC_RELAXED) != 0)
        parc_stress_fail(d->ctx, "an actor's behaviour ran on two threads at once");
    const vhead_t *h = parc_msg_data(m);
    const unsigned char *p = (const unsigned char *)parc_msg_data(m);
    for (size_t i = sizeof *h; i < h->size; i++)
        if (p[i] != vbyte(h, i)) {
            parc_stress_fail(d->ctx, "sender %u seq %llu: payload byte %zu of %u "
                                     "overwritten (a block shared by two messages)",
                             h->sender, (unsigned long long)h->seq, i, h->size);
            break;
        }
    if (h->sender >= MAX_SENDERS || h->seq + 1 <= d->last[h->sender])
        parc_stress_fail(d->ctx, "sender %u: seq %llu duplicate or reordered",
                         h->sender, (unsigned long long)h->seq);
    else {
        d->last[h->sender] = h->seq + 1;
        d->got[h->sender]++;
    }
    parc_raw_store(&d->inside, 0, PARC_RELAXED);
    parc_msg_free(m);
}

/* A message of a random size (up to 300 bytes: every class and malloc's)
 * carrying its pattern. */
static parc_msg_t *value_make(parc_stress_ctx_t *ctx, unsigned index,
                              uint64_t seq)
{
    unsigned char buf[300];
    vhead_t h = { index, 0, seq };
    h.size = (uint32_t)(sizeof h + parc_stress_random(ctx, index) %
                                       (sizeof buf - sizeof h + 1));
    memcpy(buf, &h, sizeof h);
    for (size_t i = sizeof h; i < h.size; i++)
        buf[i] = vbyte(&h, i);
    parc_msg_t *m;
    if (parc_msg_new(T_DATA, buf, h.size, &m) != 0)
        return NULL;
    return m;
}

static void value_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    delivery_t *d = arg;
    for (size_t i = 0; i < d->per_round; i++) {
        if ((parc_stress_random(ctx, index) & 7u) == 0) {
            /* made and freed here: the thread's own cache */
            parc_msg_free(value_make(ctx, index, 0));
        }
        parc_msg_t *m = value_make(ctx, index, d->round_base + i);
        if (m == NULL) {
            parc_stress_fail(ctx, "parc_msg_new failed");
            return;
        }
        unsigned to = (unsigned)(parc_stress_random(ctx, index) % ACTORS);
        int rc = parc_act_send(d->actors[to], m);
        if (rc != 0) {
            parc_msg_free(m);
            parc_stress_fail(ctx, "send returned %d", rc);
            return;
        }
        d->sent[index][to]++;
        if ((i & 1023u) == 0)
            parc_stress_progress(ctx, index, "send");
    }
}

static int value_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    unsigned threads = parc_stress_threads(ctx);
    delivery_t *d = calloc(1, sizeof *d);
    if (d == NULL)
        return ENOMEM;
    d->per_round = 10000 / PARC_SLOWDOWN;
    int rc = parc_act_rt_create(2, &d->rt);
    for (unsigned a = 0; rc == 0 && a < ACTORS; a++) {
        d->state[a].ctx = ctx;
        parc_atomic_init(&d->state[a].inside, 0);
        rc = parc_act_spawn(d->rt, value_behaviour, &d->state[a], NULL,
                            &d->actors[a]);
    }
    while (rc == 0) {
        rc = parc_stress_run_threads(ctx, threads, value_thread, d);
        if (rc != 0)
            break;
        if (parc_act_rt_quiesce_timed(d->rt, parc_stress_patience_ns(ctx)) != 0) {
            parc_stress_fail(ctx, "not quiescent after the patience period");
            break;
        }
        for (unsigned a = 0; a < ACTORS; a++)
            for (unsigned s = 0; s < threads; s++)
                if (d->state[a].got[s] != d->sent[s][a])
                    parc_stress_fail(ctx, "actor %u got %llu messages from sender %u, "
                                          "which sent %llu", a,
                                     (unsigned long long)d->state[a].got[s], s,
                                     (unsigned long long)d->sent[s][a]);
        parc_stress_add_ops(ctx, (uint64_t)threads * d->per_round);
        d->round_base += d->per_round;
        if (parc_stress_stopping(ctx))
            break;
    }
    for (unsigned a = 0; a < ACTORS; a++) {
        if (d->actors[a] != NULL) {
            parc_act_stop(d->actors[a], 0);
            parc_act_release(d->actors[a]);
        }
    }
    if (d->rt != NULL) {
        parc_act_rt_quiesce(d->rt);
        parc_act_rt_free(d->rt);
    }
    free(d);
    return rc;
}

static const parc_stress_workload_t value_workload = {
    .name = "actor.value_msgs",
    .impl = "parc.act",
    .description = "N senders x 4 actors, parc_msg_new messages of random sizes: payloads intact, exactly once, per-sender FIFO",
    .max_threads = MAX_SENDERS,
    .run = value_run,
};
PARC_STRESS_WORKLOAD(value_workload)

/* ---- actor.quiescence ------------------------------------------------------ */

#define RING 16

typedef struct token {
    parc_msg_t hdr;
    uint32_t left;
} token_t;

typedef struct ring {
    parc_act_rt_t *rt;
    parc_act_t *actors[RING];
    parc_act_t *next[RING];
    parc_atomic(uint64_t) hops;
    uint64_t want[MAX_SENDERS];
    token_t tokens[MAX_SENDERS];
} ring_t;

static ring_t *the_ring;

static void ring_behaviour(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    parc_act_t *next = *(parc_act_t **)state;
    token_t *t = parc_msg_entry(m, token_t, hdr);
    parc_raw_faa(&the_ring->hops, 1, PARC_RELAXED);
    if (t->left > 0) {
        t->left--;
        parc_act_send(next, m);
    }
}

static void ring_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    ring_t *r = arg;
    uint32_t hops = (uint32_t)(parc_stress_random(ctx, index) % (2000 / PARC_SLOWDOWN));
    token_t *t = &r->tokens[index];
    parc_msg_init(&t->hdr, T_HOP, NULL);
    t->left = hops;
    r->want[index] = (uint64_t)hops + 1;
    if (parc_act_send(r->actors[index % RING], &t->hdr) != 0)
        parc_stress_fail(ctx, "send to the ring failed");
    parc_stress_progress(ctx, index, "token");
}

static int ring_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    unsigned threads = parc_stress_threads(ctx);
    ring_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return ENOMEM;
    the_ring = r;
    int rc = parc_act_rt_create(2, &r->rt);
    /* Each actor's state is the slot of its successor, filled in before
     * any message is sent. */
    for (int i = 0; rc == 0 && i < RING; i++)
        rc = parc_act_spawn(r->rt, ring_behaviour, &r->next[i], NULL, &r->actors[i]);
    if (rc == 0)
        for (int i = 0; i < RING; i++)
            r->next[i] = r->actors[(i + 1) % RING];
    while (rc == 0) {
        parc_raw_store(&r->hops, 0, PARC_RELAXED);
        rc = parc_stress_run_threads(ctx, threads, ring_thread, r);
        if (rc != 0)
            break;
        if (parc_act_rt_quiesce_timed(r->rt, parc_stress_patience_ns(ctx)) != 0) {
            parc_stress_fail(ctx, "not quiescent after the patience period");
            break;
        }
        uint64_t want = 0;
        for (unsigned i = 0; i < threads; i++)
            want += r->want[i];
        uint64_t hops = parc_raw_load(&r->hops, PARC_RELAXED);
        if (hops != want) {
            parc_stress_fail(ctx, "quiescent after %llu of %llu hops",
                             (unsigned long long)hops, (unsigned long long)want);
            break;
        }
        parc_stress_add_ops(ctx, want);
        if (parc_stress_stopping(ctx))
            break;
    }
    for (int i = 0; i < RING; i++) {
        if (r->actors[i] != NULL) {
            parc_act_stop(r->actors[i], 0);
            parc_act_release(r->actors[i]);
        }
    }
    if (r->rt != NULL) {
        parc_act_rt_quiesce(r->rt);
        parc_act_rt_free(r->rt);
    }
    free(r);
    the_ring = NULL;
    return rc;
}

static const parc_stress_workload_t ring_workload = {
    .name = "actor.quiescence",
    .impl = "parc.act",
    .description = "tokens circle a ring from several threads: quiesce never returns before the last hop",
    .max_threads = MAX_SENDERS,
    .run = ring_run,
};
PARC_STRESS_WORKLOAD(ring_workload)

/* ---- actor.thread_close ------------------------------------------------- */

typedef struct tclose {
    parc_actor_t actor;
    parc_stress_ctx_t *ctx;
    uint64_t accepted[MAX_SENDERS];   /* per sender, written by the sender */
    uint64_t received[MAX_SENDERS];   /* per sender, written by the actor */
    uint64_t quota;
} tclose_t;

static int tclose_body(parc_actor_t *self, void *arg)
{
    tclose_t *t = arg;
    parc_msg_t *m;
    int rc;
    while ((rc = parc_actor_recv(self, &m)) == 0) {
        dmsg_t *x = parc_msg_entry(m, dmsg_t, hdr);
        if (x->seq != t->received[x->sender])
            parc_stress_fail(t->ctx, "sender %u: got seq %llu, expected %llu",
                             x->sender, (unsigned long long)x->seq,
                             (unsigned long long)t->received[x->sender]);
        t->received[x->sender] = x->seq + 1;
        free(x);
    }
    return rc;
}

static void tclose_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    tclose_t *t = arg;
    if (index == 0) { /* the closer: after a random pause */
        uint64_t spin = parc_stress_random(ctx, index) % 20000;
        for (uint64_t i = 0; i < spin; i++)
            parc_cpu_relax();
        parc_actor_close(&t->actor);
        return;
    }
    for (uint64_t i = 0; i < t->quota; i++) {
        dmsg_t *x = malloc(sizeof *x);
        if (x == NULL)
            return;
        parc_msg_init(&x->hdr, T_DATA, NULL);
        x->sender = index;
        x->seq = i;
        int rc = parc_actor_send(&t->actor, &x->hdr);
        if (rc != 0) {
            free(x);
            if (rc != EPIPE)
                parc_stress_fail(ctx, "send returned %d", rc);
            break;
        }
        t->accepted[index]++;
    }
    /* Once refused, refused for good. */
    dmsg_t late;
    parc_msg_init(&late.hdr, T_DATA, NULL);
    if (parc_mpsc_is_closed(&t->actor.mbox) &&
        parc_actor_send(&t->actor, &late.hdr) != EPIPE)
        parc_stress_fail(ctx, "a send after close was accepted");
}

static int tclose_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    unsigned threads = parc_stress_threads(ctx);
    int rc = 0;
    do {
        tclose_t *t = calloc(1, sizeof *t);
        if (t == NULL)
            return ENOMEM;
        t->ctx = ctx;
        t->quota = 5000 / PARC_SLOWDOWN;
        rc = parc_actor_init(&t->actor, tclose_body, t);
        if (rc == 0)
            rc = parc_actor_start(&t->actor);
        if (rc == 0)
            rc = parc_stress_run_threads(ctx, threads, tclose_thread, t);
        int status = 0;
        if (parc_actor_join_timed(&t->actor, &status, parc_stress_patience_ns(ctx)) != 0)
            parc_stress_fail(ctx, "the actor did not end after close");
        else if (status != EPIPE)
            parc_stress_fail(ctx, "recv ended with %d, not EPIPE", status);
        for (unsigned s = 1; s < threads; s++)
            if (t->received[s] != t->accepted[s])
                parc_stress_fail(ctx, "sender %u: %llu accepted, %llu received", s,
                                 (unsigned long long)t->accepted[s],
                                 (unsigned long long)t->received[s]);
        uint64_t n = 0;
        for (unsigned s = 1; s < threads; s++)
            n += t->accepted[s];
        parc_stress_add_ops(ctx, n);
        parc_actor_destroy(&t->actor);
        free(t);
    } while (rc == 0 && !parc_stress_stopping(ctx));
    return rc;
}

static const parc_stress_workload_t tclose_workload = {
    .name = "actor.thread_close",
    .impl = "parc.actor",
    .description = "senders race close on a thread actor: every accepted message received in order before EPIPE",
    .min_threads = 2,
    .max_threads = MAX_SENDERS,
    .run = tclose_run,
};
PARC_STRESS_WORKLOAD(tclose_workload)

/* ---- actor.thread_ask ---------------------------------------------------- */

typedef struct tq {
    parc_msg_t hdr;
    uint64_t x;
} tq_t;

typedef struct task_ {
    parc_actor_t actor;
    parc_stress_ctx_t *ctx;
    uint64_t quota;
} task_t_;

static int task_body(parc_actor_t *self, void *arg)
{
    (void)arg;
    parc_msg_t *m;
    int rc;
    while ((rc = parc_actor_recv(self, &m)) == 0) {
        tq_t *q = parc_msg_entry(m, tq_t, hdr);
        uint64_t answer = q->x * 3 + 1;
        parc_msg_reply(m, 0, (void *)(uintptr_t)answer); /* q is the asker's now */
    }
    return rc;
}

static void task_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    task_t_ *t = arg;
    if (index == 0) { /* the closer: after a random pause */
        uint64_t spin = parc_stress_random(ctx, index) % 200000;
        for (uint64_t i = 0; i < spin; i++)
            parc_cpu_relax();
        parc_actor_close(&t->actor);
        return;
    }
    for (uint64_t i = 0; i < t->quota && !parc_stress_stopping(ctx); i++) {
        tq_t q; /* reused every round, on this stack */
        parc_future_t reply;
        parc_msg_init(&q.hdr, T_DATA, NULL);
        q.x = ((uint64_t)index << 32) | i;
        int rc = parc_actor_ask(&t->actor, &q.hdr, &reply);
        if (rc == EPIPE)
            return; /* closed: refused, nothing to wait for */
        if (rc != 0) {
            parc_stress_fail(ctx, "ask returned %d", rc);
            return;
        }
        void *v = NULL;
        switch (parc_stress_random(ctx, index) % 3) {
        case 0:
            rc = parc_actor_await(&t->actor, &reply, &v);
            break;
        case 1:
            while ((rc = parc_actor_await_try(&t->actor, &reply, &v)) == EAGAIN)
                parc_yield();
            break;
        default:
            while ((rc = parc_actor_await_timed(&t->actor, &reply, &v,
                                                1000)) == ETIMEDOUT)
                ;
            break;
        }
        parc_future_destroy(&reply);
        if (rc != 0 || (uint64_t)(uintptr_t)v != q.x * 3 + 1) {
            parc_stress_fail(ctx, "asker %u, ask %llu: status %d, answer %llu",
                             index, (unsigned long long)i, rc,
                             (unsigned long long)(uintptr_t)v);
            return;
        }
        parc_stress_step(ctx, index, "ask");
    }
}

static int task_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    unsigned threads = parc_stress_threads(ctx);
    int rc = 0;
    do {
        task_t_ *t = calloc(1, sizeof *t);
        if (t == NULL)
            return ENOMEM;
        t->ctx = ctx;
        t->quota = 20000 / PARC_SLOWDOWN;
        rc = parc_actor_init(&t->actor, task_body, t);
        if (rc == 0)
            rc = parc_actor_start(&t->actor);
        if (rc == 0)
            rc = parc_stress_run_threads(ctx, threads, task_thread, t);
        int status = 0;
        if (parc_actor_join_timed(&t->actor, &status,
                                  parc_stress_patience_ns(ctx)) != 0)
            parc_stress_fail(ctx, "the actor did not end after close");
        else if (status != EPIPE)
            parc_stress_fail(ctx, "recv ended with %d, not EPIPE", status);
        parc_actor_destroy(&t->actor);
        free(t);
    } while (rc == 0 && !parc_stress_stopping(ctx));
    return rc;
}

static const parc_stress_workload_t task_workload = {
    .name = "actor.thread_ask",
    .impl = "parc.actor",
    .description = "askers of a thread actor get their own answer exactly once (or EPIPE) while it is closed",
    .flags = PARC_STRESS_NO_BATON,
    .min_threads = 2,
    .max_threads = MAX_SENDERS,
    .run = task_run,
};
PARC_STRESS_WORKLOAD(task_workload)
