/*
 * Unit tests for parc/act.h: scheduled actors on a pool.
 *
 * Many senders x one actor: exactly-once, per-sender FIFO, and an
 * "inside" flag that a second concurrent turn would find raised; ask and
 * reply in the three waiting forms; stop in order and exit from inside;
 * monitors placed before and after the stop; a bounded mailbox full
 * (EAGAIN, ETIMEDOUT) and freed; timers fired and cancelled; quiescence
 * not reported while a token still travels a ring; a pinned actor; the
 * memory an idle actor costs; freeing the runtime while an actor is still
 * referenced.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "parc/act.h"
#include "parc/event.h"
#include "testutil.h"

enum { T_DATA = PARC_MSG_USER, T_GET, T_EXIT, T_TOKEN, T_BLOCK };

typedef struct data_msg {
    parc_msg_t hdr;
    uint32_t sender;
    uint32_t seq;
} data_msg_t;

#define SENDERS 4
#define PER_SENDER (20000 / PARC_SLOWDOWN)

typedef struct counter {
    parc_atomic(int) inside;
    parc_atomic(int) overlaps;
    uint32_t next[SENDERS];   /* plain: only the actor touches them */
    uint64_t total;
    int fifo_errors;
} counter_t;

static void counter_behaviour(parc_act_t *self, void *state, parc_msg_t *m)
{
    counter_t *c = state;
    if (parc_xchg(&c->inside, 1, PARC_RELAXED) != 0)
        parc_faa(&c->overlaps, 1, PARC_RELAXED);
    switch (m->type) {
    case T_DATA: {
        data_msg_t *d = parc_msg_entry(m, data_msg_t, hdr);
        if (d->seq != c->next[d->sender])
            c->fifo_errors++;
        c->next[d->sender] = d->seq + 1;
        c->total++;
        parc_msg_free(m);
        break;
    }
    case T_GET:
        parc_msg_reply(m, 0, (void *)(uintptr_t)c->total); /* frees m */
        break;
    case T_EXIT:
        parc_msg_free(m);
        parc_act_exit(self, 3);
        break;
    default:
        parc_msg_free(m);
    }
    parc_store(&c->inside, 0, PARC_RELAXED);
}

static parc_act_rt_t *rt;

static void setup(void)
{
    ck_assert_int_eq(parc_act_rt_create(2, &rt), 0);
}

static void teardown(void)
{
    ck_assert_int_eq(parc_act_rt_quiesce_timed(rt, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq(parc_act_rt_free(rt), 0);
    rt = NULL;
}

START_TEST(rejects_bad_arguments)
{
    parc_act_t *a;
    counter_t c;
    memset(&c, 0, sizeof c);
    parc_msg_t m;
    parc_msg_init(&m, T_DATA, NULL);
    parc_future_t *f;
    ck_assert_int_eq(parc_act_rt_create(1, NULL), EINVAL);
    ck_assert_int_eq(parc_act_spawn(NULL, counter_behaviour, &c, NULL, &a), EINVAL);
    ck_assert_int_eq(parc_act_spawn(rt, NULL, &c, NULL, &a), EINVAL);
    ck_assert_int_eq(parc_act_spawn(rt, counter_behaviour, &c, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_act_send(NULL, &m), EINVAL);
    ck_assert_int_eq(parc_act_send_try(NULL, &m), EINVAL);
    ck_assert_int_eq(parc_act_send_timed(NULL, &m, 0), EINVAL);
    ck_assert_int_eq(parc_act_ask(NULL, &m, &f), EINVAL);
    ck_assert_int_eq(parc_act_stop(NULL, 0), EINVAL);
    ck_assert_int_eq(parc_act_monitor(NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_msg_reply(NULL, 0, NULL), EINVAL);
    ck_assert_int_eq(parc_msg_reply(&m, 0, NULL), EALREADY);
    ck_assert_int_eq(parc_act_rt_quiesce_timed(rt, -1), EINVAL);
    ck_assert_int_eq(parc_act_rt_send_after(rt, -1, NULL, &m, NULL), EINVAL);
    ck_assert_int_eq(parc_act_rt_timer_cancel(NULL, 1, NULL), EINVAL);
    ck_assert_int_eq(parc_act_rt_free(NULL), EINVAL);
    ck_assert_int_eq(parc_act_rt_quiesce_try(rt), 0);
}
END_TEST

struct sender_arg {
    parc_act_t *a;
    uint32_t id;
    data_msg_t *msgs;
};

static void *sender(void *arg)
{
    struct sender_arg *s = arg;
    for (uint32_t i = 0; i < PER_SENDER; i++) {
        data_msg_t *d = &s->msgs[i];
        parc_msg_init(&d->hdr, T_DATA, NULL);
        d->sender = s->id;
        d->seq = i;
        ck_assert_int_eq(parc_act_send(s->a, &d->hdr), 0);
    }
    return NULL;
}

static uintptr_t ask_total(parc_act_t *a)
{
    parc_msg_t m;
    parc_msg_init(&m, T_GET, NULL);
    parc_future_t *f;
    ck_assert_int_eq(parc_act_ask(a, &m, &f), 0);
    void *v = NULL;
    ck_assert_int_eq(parc_future_get_timed(f, &v, PARC_TEST_PATIENCE_NS), 0);
    parc_future_release(f);
    return (uintptr_t)v;
}

START_TEST(many_senders_exactly_once_fifo_never_concurrent)
{
    static counter_t c;
    memset(&c, 0, sizeof c);
    parc_act_t *a;
    ck_assert_int_eq(parc_act_spawn(rt, counter_behaviour, &c, NULL, &a), 0);
    pthread_t t[SENDERS];
    struct sender_arg args[SENDERS];
    for (uint32_t i = 0; i < SENDERS; i++) {
        args[i] = (struct sender_arg){ a, i, malloc(PER_SENDER * sizeof(data_msg_t)) };
        ck_assert_ptr_nonnull(args[i].msgs);
        ck_assert_int_eq(pthread_create(&t[i], NULL, sender, &args[i]), 0);
    }
    parc_test_join(t, SENDERS);
    ck_assert_uint_eq(ask_total(a), (uintptr_t)SENDERS * PER_SENDER);
    ck_assert_int_eq(c.fifo_errors, 0);
    ck_assert_int_eq(parc_load(&c.overlaps, PARC_RELAXED), 0);
    ck_assert_int_eq(parc_act_stop(a, 0), 0);
    ck_assert_int_eq(parc_act_rt_quiesce_timed(rt, PARC_TEST_PATIENCE_NS), 0);
    int status = -1;
    ck_assert(parc_act_stopped(a, &status));
    ck_assert_int_eq(status, 0);
    parc_act_release(a);
    for (int i = 0; i < SENDERS; i++)
        free(args[i].msgs);
}
END_TEST

START_TEST(ask_waits_in_three_forms)
{
    static counter_t c;
    memset(&c, 0, sizeof c);
    parc_act_t *a;
    ck_assert_int_eq(parc_act_spawn(rt, counter_behaviour, &c, NULL, &a), 0);
    parc_msg_t m;
    parc_msg_init(&m, T_GET, NULL);
    parc_future_t *f;
    void *v = (void *)1;
    ck_assert_int_eq(parc_act_ask(a, &m, &f), 0);
    ck_assert_int_eq(parc_future_get(f, &v), 0);
    ck_assert_ptr_null(v);
    parc_future_release(f);
    ck_assert_int_eq(parc_act_ask(a, &m, &f), 0);
    ck_assert_int_eq(parc_future_get_timed(f, &v, PARC_TEST_PATIENCE_NS), 0);
    int rc;
    while ((rc = parc_future_get_try(f, &v)) == EAGAIN)
        ;
    ck_assert_int_eq(rc, 0);
    parc_future_release(f);
    ck_assert_int_eq(parc_act_stop(a, 0), 0);
    ck_assert_int_eq(parc_act_rt_quiesce_timed(rt, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq(parc_act_ask(a, &m, &f), EPIPE); /* stopped */
    parc_act_release(a);
}
END_TEST

/* A watcher records the down messages it gets. */
typedef struct watcher {
    parc_atomic(int) downs;
    parc_atomic(int) last_status;
    parc_act_t *last_who;
} watcher_t;

static void watcher_behaviour(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    watcher_t *w = state;
    if (m->type == PARC_ACT_DOWN) {
        parc_act_down_t *d = parc_msg_entry(m, parc_act_down_t, msg);
        w->last_who = d->who;
        parc_store(&w->last_status, d->status, PARC_RELAXED);
        /* release: last_who is published with the count. */
        parc_faa(&w->downs, 1, PARC_RELEASE);
    }
    parc_msg_free(m);
}

START_TEST(stop_is_in_order_and_monitors_see_it)
{
    static counter_t c;
    static watcher_t w;
    memset(&c, 0, sizeof c);
    memset(&w, 0, sizeof w);
    parc_act_t *a, *wa;
    ck_assert_int_eq(parc_act_spawn(rt, counter_behaviour, &c, NULL, &a), 0);
    ck_assert_int_eq(parc_act_spawn(rt, watcher_behaviour, &w, NULL, &wa), 0);
    ck_assert_int_eq(parc_act_monitor(wa, a), 0); /* before the stop */
    enum { N = 1000 };
    static data_msg_t msgs[N];
    for (uint32_t i = 0; i < N; i++) {
        parc_msg_init(&msgs[i].hdr, T_DATA, NULL);
        msgs[i].sender = 0;
        msgs[i].seq = i;
        ck_assert_int_eq(parc_act_send(a, &msgs[i].hdr), 0);
    }
    ck_assert_int_eq(parc_act_stop(a, 7), 0);
    ck_assert_int_eq(parc_act_rt_quiesce_timed(rt, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_uint_eq(c.total, N); /* every earlier message processed */
    int status = 0;
    ck_assert(parc_act_stopped(a, &status));
    ck_assert_int_eq(status, 7);
    ck_assert_int_eq(parc_act_send(a, &msgs[0].hdr), EPIPE);
    ck_assert_int_eq(parc_act_stop(a, 8), EPIPE);
    ck_assert_int_eq(parc_load(&w.downs, PARC_ACQUIRE), 1);
    ck_assert_int_eq(parc_load(&w.last_status, PARC_RELAXED), 7);
    ck_assert_ptr_eq(w.last_who, a);
    ck_assert_int_eq(parc_act_monitor(wa, a), 0); /* after the stop */
    ck_assert_int_eq(parc_act_rt_quiesce_timed(rt, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq(parc_load(&w.downs, PARC_ACQUIRE), 2);
    ck_assert_int_eq(parc_load(&w.last_status, PARC_RELAXED), 7);
    ck_assert_int_eq(parc_act_rt_free(rt), EBUSY); /* the watcher lives */
    ck_assert_int_eq(parc_act_stop(wa, 0), 0);
    parc_act_release(a);
    parc_act_release(wa);
}
END_TEST

START_TEST(exit_from_inside_disposes_the_rest)
{
    static counter_t c;
    memset(&c, 0, sizeof c);
    parc_act_t *a;
    ck_assert_int_eq(parc_act_spawn(rt, counter_behaviour, &c, NULL, &a), 0);
    parc_msg_t ex, get;
    parc_msg_init(&ex, T_EXIT, NULL);
    parc_msg_init(&get, T_GET, NULL);
    parc_future_t *f;
    ck_assert_int_eq(parc_act_send(a, &ex), 0);
    int rc = parc_act_ask(a, &get, &f); /* behind the exit, or refused */
    ck_assert_int_eq(parc_act_rt_quiesce_timed(rt, PARC_TEST_PATIENCE_NS), 0);
    if (rc == 0) {
        void *v;
        ck_assert_int_eq(parc_future_get_timed(f, &v, PARC_TEST_PATIENCE_NS),
                         EPIPE);
        parc_future_release(f);
    } else {
        ck_assert_int_eq(rc, EPIPE);
    }
    int status = 0;
    ck_assert(parc_act_stopped(a, &status));
    ck_assert_int_eq(status, 3);
    parc_act_release(a);
}
END_TEST

/* Blocks on a gate (a pinned actor may block). */
typedef struct gated {
    parc_event_t entered, gate;
    parc_atomic(int) got;
} gated_t;

static void gated_behaviour(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    gated_t *g = state;
    if (m->type == T_BLOCK) {
        parc_event_set(&g->entered);
        parc_event_wait(&g->gate);
    }
    parc_faa(&g->got, 1, PARC_RELAXED);
    parc_msg_free(m);
}

START_TEST(bounded_mailbox_pushes_back)
{
    static gated_t g;
    memset(&g, 0, sizeof g);
    parc_event_init(&g.entered);
    parc_event_init(&g.gate);
    parc_act_options_t o = PARC_ACT_OPTIONS_INIT;
    o.capacity = 2;
    o.pinned = true;
    parc_act_t *a;
    ck_assert_int_eq(parc_act_spawn(rt, gated_behaviour, &g, &o, &a), 0);
    static parc_msg_t msgs[8];
    parc_msg_init(&msgs[0], T_BLOCK, NULL);
    ck_assert_int_eq(parc_act_send(a, &msgs[0]), 0);
    ck_assert_int_eq(parc_event_wait_timed(&g.entered, PARC_TEST_PATIENCE_NS), 0);
    for (int i = 1; i < 8; i++)
        parc_msg_init(&msgs[i], T_DATA, NULL);
    ck_assert_int_eq(parc_act_send_try(a, &msgs[1]), 0);
    ck_assert_int_eq(parc_act_send(a, &msgs[2]), 0);
    ck_assert_int_eq(parc_act_send_try(a, &msgs[3]), EAGAIN);
    int64_t t0 = parc_now_ns();
    ck_assert_int_eq(parc_act_send_timed(a, &msgs[3], 10 * PARC_NS_PER_MS),
                     ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns() - t0, 10 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_act_send_timed(a, &msgs[3], -1), EINVAL);
    ck_assert_int_eq(parc_act_rt_quiesce_try(rt), EAGAIN);
    parc_event_set(&g.gate);
    ck_assert_int_eq(parc_act_send(a, &msgs[3]), 0); /* waits for room */
    ck_assert_int_eq(parc_act_send_timed(a, &msgs[4], PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq(parc_act_rt_quiesce_timed(rt, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq(parc_load(&g.got, PARC_RELAXED), 5);
    ck_assert_int_eq(parc_act_stop(a, 0), 0);
    parc_act_release(a);
}
END_TEST

START_TEST(timers_fire_and_cancel)
{
    static gated_t g;
    memset(&g, 0, sizeof g);
    parc_event_init(&g.entered);
    parc_event_init(&g.gate);
    parc_act_t *a;
    ck_assert_int_eq(parc_act_spawn(rt, gated_behaviour, &g, NULL, &a), 0);
    static parc_msg_t m1, m2;
    parc_msg_init(&m1, T_DATA, NULL);
    parc_msg_init(&m2, T_DATA, NULL);
    uint64_t id1, id2;
    int64_t t0 = parc_now_ns();
    ck_assert_int_eq(parc_act_rt_send_after(rt, 10 * PARC_NS_PER_MS, a, &m1, &id1), 0);
    ck_assert_int_eq(parc_act_rt_send_after(rt, 3600 * PARC_NS_PER_S, a, &m2, &id2), 0);
    ck_assert_int_eq(parc_act_rt_quiesce_try(rt), EAGAIN); /* timers pending */
    parc_msg_t *back = NULL;
    ck_assert_int_eq(parc_act_rt_timer_cancel(rt, id2, &back), 0);
    ck_assert_ptr_eq(back, &m2);
    ck_assert_int_eq(parc_act_rt_timer_cancel(rt, id2, &back), EALREADY);
    ck_assert_int_eq(parc_act_rt_quiesce_timed(rt, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_ge(parc_now_ns() - t0, 10 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_load(&g.got, PARC_RELAXED), 1);
    ck_assert_int_eq(parc_act_rt_timer_cancel(rt, id1, NULL), EALREADY);
    ck_assert_int_eq(parc_act_stop(a, 0), 0);
    parc_act_release(a);
}
END_TEST

/* A ring: each actor forwards the token to the next until hops run out. */
#define RING 50
typedef struct ring_node {
    parc_act_t *next;
    uint64_t *hops; /* plain: the token orders the hops */
} ring_node_t;

typedef struct token {
    parc_msg_t hdr;
    uint64_t left;
} token_t;

static void ring_behaviour(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    ring_node_t *n = state;
    token_t *t = parc_msg_entry(m, token_t, hdr);
    (*n->hops)++;
    if (t->left-- > 0)
        ck_assert_int_eq(parc_act_send(n->next, m), 0);
}

START_TEST(quiescence_waits_for_the_token)
{
    static ring_node_t nodes[RING];
    static parc_act_t *actors[RING];
    static uint64_t hops;
    hops = 0;
    for (int i = 0; i < RING; i++)
        ck_assert_int_eq(parc_act_spawn(rt, ring_behaviour, &nodes[i], NULL, &actors[i]), 0);
    for (int i = 0; i < RING; i++) {
        nodes[i].next = actors[(i + 1) % RING];
        nodes[i].hops = &hops;
    }
    for (int round = 0; round < 5; round++) {
        static token_t tok;
        parc_msg_init(&tok.hdr, T_TOKEN, NULL);
        tok.left = 2000 / PARC_SLOWDOWN;
        hops = 0;
        uint64_t want = tok.left + 1;
        ck_assert_int_eq(parc_act_send(actors[0], &tok.hdr), 0);
        ck_assert_int_eq(parc_act_rt_quiesce(rt), 0);
        ck_assert_uint_eq(hops, want); /* never reported early */
    }
    for (int i = 0; i < RING; i++) {
        ck_assert_int_eq(parc_act_stop(actors[i], 0), 0);
        parc_act_release(actors[i]);
    }
}
END_TEST

START_TEST(pinned_actor_answers)
{
    static counter_t c;
    memset(&c, 0, sizeof c);
    parc_act_options_t o = PARC_ACT_OPTIONS_INIT;
    o.pinned = true;
    parc_act_t *a;
    ck_assert_int_eq(parc_act_spawn(rt, counter_behaviour, &c, &o, &a), 0);
    static data_msg_t d[100];
    for (uint32_t i = 0; i < 100; i++) {
        parc_msg_init(&d[i].hdr, T_DATA, NULL);
        d[i].sender = 1;
        d[i].seq = i;
        ck_assert_int_eq(parc_act_send(a, &d[i].hdr), 0);
    }
    ck_assert_uint_eq(ask_total(a), 100);
    ck_assert_int_eq(c.fifo_errors, 0);
    ck_assert_int_eq(parc_act_stop(a, 5), 0);
    ck_assert_int_eq(parc_act_rt_quiesce_timed(rt, PARC_TEST_PATIENCE_NS), 0);
    int status = 0;
    ck_assert(parc_act_stopped(a, &status));
    ck_assert_int_eq(status, 5);
    parc_act_release(a);
}
END_TEST

/* A busy actor re-sends to itself forever; on one worker, another actor
 * still gets its turn (batches end turns even when mailboxes never run
 * dry). */
static parc_atomic(int) spin_stop;

static void self_sender(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)state;
    if (parc_load(&spin_stop, PARC_RELAXED)) {
        parc_act_exit(self, 0);
        return;
    }
    ck_assert_int_eq(parc_act_send(self, m), 0);
}

static void set_event(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    (void)m;
    parc_event_set(state);
}

START_TEST(busy_actor_does_not_starve_others)
{
    parc_act_rt_t *one;
    ck_assert_int_eq(parc_act_rt_create(1, &one), 0);
    parc_store(&spin_stop, 0, PARC_RELAXED);
    static parc_event_t ran;
    parc_event_init(&ran);
    parc_act_t *busy, *other;
    ck_assert_int_eq(parc_act_spawn(one, self_sender, NULL, NULL, &busy), 0);
    ck_assert_int_eq(parc_act_spawn(one, set_event, &ran, NULL, &other), 0);
    static parc_msg_t m1, m2;
    parc_msg_init(&m1, T_DATA, NULL);
    parc_msg_init(&m2, T_DATA, NULL);
    ck_assert_int_eq(parc_act_send(busy, &m1), 0);
    parc_sleep_ns(PARC_NS_PER_MS);
    ck_assert_int_eq(parc_act_send(other, &m2), 0);
    ck_assert_int_eq(parc_event_wait_timed(&ran, PARC_TEST_PATIENCE_NS), 0);
    parc_store(&spin_stop, 1, PARC_RELAXED);
    ck_assert_int_eq(parc_act_stop(other, 0), 0);
    ck_assert_int_eq(parc_act_rt_quiesce_timed(one, PARC_TEST_PATIENCE_NS), 0);
    ck_assert(parc_act_stopped(busy, NULL));
    parc_act_release(busy);
    parc_act_release(other);
    ck_assert_int_eq(parc_act_rt_free(one), 0);
}
END_TEST

/* The same from inside: the busy actor itself sends to another actor of
 * its one-worker runtime once (the turn it schedules goes to the worker's
 * own deque, not the injection queue). The busy turn would go on batch
 * after batch if it did not look at that deque, and the other actor's
 * turn would never run. */
static parc_act_t *nudge_target;
static parc_msg_t nudge_msg;
static parc_atomic(int) nudged;

static void self_sender_nudging(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)state;
    if (parc_load(&spin_stop, PARC_RELAXED)) {
        parc_act_exit(self, 0);
        return;
    }
    /* relaxed: only this actor's turns touch it (one at a time). */
    if (parc_load(&nudged, PARC_RELAXED) == 0) {
        parc_store(&nudged, 1, PARC_RELAXED);
        ck_assert_int_eq(parc_act_send(nudge_target, &nudge_msg), 0);
    }
    ck_assert_int_eq(parc_act_send(self, m), 0);
}

START_TEST(busy_actor_yields_to_a_turn_it_scheduled)
{
    parc_act_rt_t *one;
    ck_assert_int_eq(parc_act_rt_create(1, &one), 0);
    parc_store(&spin_stop, 0, PARC_RELAXED);
    parc_store(&nudged, 0, PARC_RELAXED);
    static parc_event_t ran;
    parc_event_init(&ran);
    parc_act_t *busy, *other;
    ck_assert_int_eq(parc_act_spawn(one, set_event, &ran, NULL, &other), 0);
    nudge_target = other;
    parc_msg_init(&nudge_msg, T_DATA, NULL);
    ck_assert_int_eq(
        parc_act_spawn(one, self_sender_nudging, NULL, NULL, &busy), 0);
    static parc_msg_t m1;
    parc_msg_init(&m1, T_DATA, NULL);
    ck_assert_int_eq(parc_act_send(busy, &m1), 0);
    ck_assert_int_eq(parc_event_wait_timed(&ran, PARC_TEST_PATIENCE_NS), 0);
    parc_store(&spin_stop, 1, PARC_RELAXED);
    ck_assert_int_eq(parc_act_stop(other, 0), 0);
    ck_assert_int_eq(parc_act_rt_quiesce_timed(one, PARC_TEST_PATIENCE_NS), 0);
    ck_assert(parc_act_stopped(busy, NULL));
    parc_act_release(busy);
    parc_act_release(other);
    ck_assert_int_eq(parc_act_rt_free(one), 0);
}
END_TEST

/* Idle memory per actor, measured as bench_actor does: the growth of the
 * resident set (/proc/self/statm) over N spawned idle actors, so slabs,
 * their headers and any malloc'd part all count. The bound is the issue's
 * 256 bytes; the layout of src/act_slab.c gives 192 (three cache lines
 * in 256 KiB slabs) and the old malloc'd actor (a 320-byte chunk) fails
 * it. Skipped under sanitizers (their shadow memory grows the resident set
 * too) and where /proc/self/statm is missing. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || \
    defined(PARC_TSAN)
#define IDLE_MEMORY_MEASURABLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define IDLE_MEMORY_MEASURABLE 0
#endif
#endif
#if !defined(IDLE_MEMORY_MEASURABLE) && defined(__linux__)
#define IDLE_MEMORY_MEASURABLE 1
#endif
#ifndef IDLE_MEMORY_MEASURABLE
#define IDLE_MEMORY_MEASURABLE 0
#endif
#define IDLE_ACTOR_BYTES_MAX 256
#define ONE_OFF_BYTES (64 * 1024)

#if IDLE_MEMORY_MEASURABLE
static void idle_behaviour(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    (void)state;
    parc_msg_free(m);
}

static long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = -1;
    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}
#endif

START_TEST(idle_actor_memory_is_bounded)
{
#if IDLE_MEMORY_MEASURABLE
    enum { N = 20000 };
    static parc_act_t *a[N];
    memset(a, 0xff, sizeof a); /* the array's pages are not the actors' */
    long before = resident_bytes();
    if (before < 0)
        return; /* no /proc here */
    int failed = 0; /* no check between the two reads: Check allocates */
    for (int i = 0; i < N; i++)
        failed += parc_act_spawn(rt, idle_behaviour, NULL, NULL, &a[i]) != 0;
    long after = resident_bytes();
    ck_assert_int_eq(failed, 0);
    long bytes = after - before;
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(parc_act_stop(a[i], 0), 0);
        parc_act_release(a[i]);
    }
    /* One-off costs on the way (a slab's partly used last page) are not
     * per actor. */
    ck_assert_msg(bytes <= (long)N * IDLE_ACTOR_BYTES_MAX + ONE_OFF_BYTES,
                  "idle actors: resident set grew %ld bytes for %d (at most "
                  "%d each)", bytes, N, IDLE_ACTOR_BYTES_MAX);
#endif
}
END_TEST

static void nop_behaviour(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    (void)state;
    parc_msg_free(m);
}

/* The runtime's slabs hold every actor: freeing it while a stopped actor
 * is still referenced would leave that reference dangling, so it is
 * refused (EBUSY) until the last release; the slot is reused after. */
START_TEST(free_waits_for_the_last_reference)
{
    parc_act_rt_t *one;
    ck_assert_int_eq(parc_act_rt_create(1, &one), 0);
    parc_act_t *a, *b;
    ck_assert_int_eq(parc_act_spawn(one, nop_behaviour, NULL, NULL, &a), 0);
    ck_assert_int_eq(parc_act_rt_live(one), 1);
    ck_assert_int_eq(parc_act_rt_free(one), EBUSY); /* running */
    ck_assert_int_eq(parc_act_stop(a, 7), 0);
    ck_assert_int_eq(parc_act_rt_quiesce(one), 0);
    ck_assert_int_eq(parc_act_rt_live(one), 0);
    int status = 0;
    ck_assert(parc_act_stopped(a, &status));
    ck_assert_int_eq(status, 7);
    ck_assert_int_eq(parc_act_rt_free(one), EBUSY); /* we still hold a */
    parc_act_release(a);
    /* The freed slot is the next spawn's. */
    ck_assert_int_eq(parc_act_spawn(one, nop_behaviour, NULL, NULL, &b), 0);
    ck_assert_ptr_eq(b, a);
    ck_assert_int_eq(parc_act_stop(b, 0), 0);
    parc_act_release(b);
    ck_assert_int_eq(parc_act_rt_quiesce(one), 0);
    ck_assert_int_eq(parc_act_rt_free(one), 0);
}
END_TEST

/* An actor of one runtime sending to an actor of another: the receiving
 * runtime's workers drop the sender's reference (they may defer only
 * their own runtime's), so the sender's runtime can be freed while the
 * receiver's lives on. */
static void forward_behaviour(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    parc_msg_free(m);
    parc_msg_t *fwd;
    uint64_t v = 1;
    ck_assert_int_eq(parc_msg_new(PARC_MSG_USER, &v, sizeof v, &fwd), 0);
    ck_assert_int_eq(parc_act_send(*(parc_act_t **)state, fwd), 0);
}

START_TEST(sender_of_another_runtime_is_released)
{
    parc_act_rt_t *one, *two;
    ck_assert_int_eq(parc_act_rt_create(1, &one), 0);
    ck_assert_int_eq(parc_act_rt_create(1, &two), 0);
    parc_act_t *a, *b;
    ck_assert_int_eq(parc_act_spawn(two, nop_behaviour, NULL, NULL, &b), 0);
    ck_assert_int_eq(parc_act_spawn(one, forward_behaviour, &b, NULL, &a), 0);
    for (int i = 0; i < 100; i++) {
        parc_msg_t *m;
        uint64_t v = 0;
        ck_assert_int_eq(parc_msg_new(PARC_MSG_USER, &v, sizeof v, &m), 0);
        ck_assert_int_eq(parc_act_send(a, m), 0);
    }
    ck_assert_int_eq(parc_act_rt_quiesce(one), 0);
    ck_assert_int_eq(parc_act_rt_quiesce(two), 0); /* b handled all 100 */
    ck_assert_int_eq(parc_act_stop(a, 0), 0);
    parc_act_release(a);
    ck_assert_int_eq(parc_act_rt_quiesce(one), 0);
    /* b's worker holds no reference to a: one can go, two still runs. */
    ck_assert_int_eq(parc_act_rt_free(one), 0);
    ck_assert_int_eq(parc_act_stop(b, 0), 0);
    parc_act_release(b);
    ck_assert_int_eq(parc_act_rt_quiesce(two), 0);
    ck_assert_int_eq(parc_act_rt_free(two), 0);
}
END_TEST

static Suite *act_suite(void)
{
    Suite *s = suite_create("act");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, rejects_bad_arguments);
    tcase_add_test(tc, many_senders_exactly_once_fifo_never_concurrent);
    tcase_add_test(tc, ask_waits_in_three_forms);
    tcase_add_test(tc, stop_is_in_order_and_monitors_see_it);
    tcase_add_test(tc, exit_from_inside_disposes_the_rest);
    tcase_add_test(tc, bounded_mailbox_pushes_back);
    tcase_add_test(tc, timers_fire_and_cancel);
    tcase_add_test(tc, quiescence_waits_for_the_token);
    tcase_add_test(tc, pinned_actor_answers);
    tcase_add_test(tc, busy_actor_does_not_starve_others);
    tcase_add_test(tc, busy_actor_yields_to_a_turn_it_scheduled);
    tcase_add_test(tc, idle_actor_memory_is_bounded);
    tcase_add_test(tc, free_waits_for_the_last_reference);
    tcase_add_test(tc, sender_of_another_runtime_is_released);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(act_suite());
}
