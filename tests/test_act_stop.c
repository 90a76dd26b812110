/*
 * Unit tests for parc/act.h's self, sender, waiting for a stop and
 * shutting a runtime down (issue 17): the receiver sees who sent each
 * message (and nobody for outside sends), replies to it, and the sender
 * references are all dropped (the runtime frees without EBUSY);
 * stop_wait returns with the stop final; shutdown stops every actor,
 * queued messages disposed, spawns during it refused, references left.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "parc/act.h"
#include "parc/event.h"
#include "testutil.h"

enum { T_GO = PARC_MSG_USER, T_PING, T_PONG, T_WORK, T_SPAWN, T_WAITSELF };

typedef struct tmsg {
    parc_msg_t hdr;
    parc_act_t *to;       /* T_GO: whom to ping */
    parc_atomic(int) *disposed;
} tmsg_t;

static void tmsg_dispose(parc_msg_t *m)
{
    tmsg_t *t = parc_msg_entry(m, tmsg_t, hdr);
    if (t->disposed != NULL)
        parc_faa(t->disposed, 1, PARC_RELAXED); /* a count, read after */
    free(t);
}

static parc_msg_t *tmsg(int type, parc_act_t *to, parc_atomic(int) *disposed)
{
    tmsg_t *t = malloc(sizeof *t);
    ck_assert_ptr_nonnull(t);
    parc_msg_init(&t->hdr, type, tmsg_dispose);
    t->to = to;
    t->disposed = disposed;
    return &t->hdr;
}

typedef struct seen {
    parc_act_t *self_at_go, *sender_at_go;    /* the outside send */
    parc_act_t *self_at_ping, *sender_at_ping;
    parc_act_t *sender_at_pong;
    parc_event_t done;
} seen_t;

static void pinger(parc_act_t *self, void *state, parc_msg_t *m)
{
    seen_t *s = state;
    if (m->type == T_GO) {
        s->self_at_go = parc_act_self();
        s->sender_at_go = parc_act_sender();
        parc_act_t *to = parc_msg_entry(m, tmsg_t, hdr)->to;
        ck_assert_int_eq(parc_act_send(to, tmsg(T_PING, NULL, NULL)), 0);
    } else if (m->type == T_PONG) {
        s->sender_at_pong = parc_act_sender();
        parc_event_set(&s->done);
    }
    (void)self;
    parc_msg_free(m);
}

static void ponger(parc_act_t *self, void *state, parc_msg_t *m)
{
    seen_t *s = state;
    if (m->type == T_PING) {
        s->self_at_ping = parc_act_self();
        s->sender_at_ping = parc_act_sender();
        ck_assert_ptr_eq(s->self_at_ping, self);
        /* Reply to whoever asked, without carrying the sender by hand. */
        ck_assert_int_eq(parc_act_send(parc_act_sender(),
                                       tmsg(T_PONG, NULL, NULL)), 0);
    }
    parc_msg_free(m);
}

START_TEST(sender_is_the_sending_actor_and_reply_reaches_it)
{
    parc_act_rt_t *rt;
    ck_assert_int_eq(parc_act_rt_create(2, &rt), 0);
    seen_t s;
    memset(&s, 0, sizeof s);
    parc_event_init(&s.done);
    parc_act_t *a, *b;
    ck_assert_int_eq(parc_act_spawn(rt, pinger, &s, NULL, &a), 0);
    ck_assert_int_eq(parc_act_spawn(rt, ponger, &s, NULL, &b), 0);
    ck_assert_ptr_null(parc_act_self());   /* not a behaviour */
    ck_assert_ptr_null(parc_act_sender());
    ck_assert_int_eq(parc_act_send(a, tmsg(T_GO, b, NULL)), 0);
    ck_assert_int_eq(parc_event_wait_timed(&s.done, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq(parc_act_rt_quiesce(rt), 0);
    ck_assert_ptr_eq(s.self_at_go, a);
    ck_assert_ptr_null(s.sender_at_go);    /* sent from outside */
    ck_assert_ptr_eq(s.self_at_ping, b);
    ck_assert_ptr_eq(s.sender_at_ping, a);
    ck_assert_ptr_eq(s.sender_at_pong, b);
    /* Every sender reference was dropped: once both stop and ours are
     * released, the runtime frees at once. */
    ck_assert_int_eq(parc_act_stop(a, 0), 0);
    ck_assert_int_eq(parc_act_stop(b, 0), 0);
    ck_assert_int_eq(parc_act_rt_quiesce(rt), 0);
    parc_act_release(a);
    parc_act_release(b);
    ck_assert_int_eq(parc_act_rt_free(rt), 0);
    parc_event_destroy(&s.done);
}
END_TEST

/* Messages queued behind the stop's sender references: disposed at the
 * stop, their references dropped (the free would say EBUSY otherwise). */
static parc_act_t *sink_target;
static parc_atomic(int) sink_disposed;

static void flood(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    (void)state;
    if (m->type == T_GO)
        for (int i = 0; i < 100; i++) {
            parc_msg_t *w = tmsg(T_WORK, NULL, &sink_disposed);
            if (parc_act_send(sink_target, w) != 0)
                parc_msg_free(w); /* EPIPE: the sink has stopped */
        }
    parc_msg_free(m);
}

/* Exits on its first message: the rest of the flood is left queued (or
 * refused), each carrying a reference to its sender. */
static void exiting_sink(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)state;
    usleep(1000);
    parc_act_exit(self, 5);
    parc_msg_free(m);
}

static void slow_sink(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    (void)state;
    usleep(100);
    parc_msg_free(m);
}

START_TEST(sender_references_dropped_with_undelivered_messages)
{
    parc_act_rt_t *rt;
    ck_assert_int_eq(parc_act_rt_create(2, &rt), 0);
    parc_atomic_init(&sink_disposed, 0);
    parc_act_t *a, *b;
    ck_assert_int_eq(parc_act_spawn(rt, exiting_sink, NULL, NULL, &b), 0);
    sink_target = b;
    ck_assert_int_eq(parc_act_spawn(rt, flood, NULL, NULL, &a), 0);
    ck_assert_int_eq(parc_act_send(a, tmsg(T_GO, NULL, NULL)), 0);
    ck_assert_int_eq(parc_act_stop_wait(a, 1, NULL), 0);
    int st = -1;
    ck_assert_int_eq(parc_act_wait(b, &st), 0);
    ck_assert_int_eq(st, 5);
    ck_assert_int_eq(parc_act_rt_quiesce(rt), 0);
    ck_assert_int_eq(parc_load(&sink_disposed, PARC_RELAXED), 100);
    parc_act_release(a);
    parc_act_release(b);
    ck_assert_int_eq(parc_act_rt_free(rt), 0);
}
END_TEST

static void waits_for_itself(parc_act_t *self, void *state, parc_msg_t *m)
{
    int *rc = state;
    rc[0] = parc_act_wait(self, NULL);
    rc[1] = parc_act_rt_shutdown(parc_act_runtime(self), 0);
    parc_act_exit(self, 9);
    parc_msg_free(m);
}

START_TEST(stop_wait_returns_with_the_stop_final)
{
    parc_act_rt_t *rt;
    ck_assert_int_eq(parc_act_rt_create(1, &rt), 0);
    parc_atomic_init(&sink_disposed, 0);
    parc_act_t *b;
    ck_assert_int_eq(parc_act_spawn(rt, slow_sink, NULL, NULL, &b), 0);
    for (int i = 0; i < 200; i++)
        ck_assert_int_eq(
            parc_act_send(b, tmsg(T_WORK, NULL, &sink_disposed)), 0);
    ck_assert_int_eq(parc_act_wait_timed(b, NULL, 1000000), ETIMEDOUT);
    int st = -1;
    ck_assert_int_eq(parc_act_stop_wait(b, 3, &st), 0);
    ck_assert_int_eq(st, 3);
    ck_assert(parc_act_stopped(b, NULL));
    /* Every message sent before the stop was handled (in order). */
    ck_assert_int_eq(parc_load(&sink_disposed, PARC_RELAXED), 200);
    parc_msg_t *late = tmsg(T_WORK, NULL, NULL);
    ck_assert_int_eq(parc_act_send(b, late), EPIPE); /* still ours */
    parc_msg_free(late);
    ck_assert_int_eq(parc_act_stop_wait(b, 4, &st), 0); /* again: first's */
    ck_assert_int_eq(st, 3);
    ck_assert_int_eq(parc_act_wait_timed(b, &st, 0), 0);
    ck_assert_int_eq(parc_act_wait(NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_act_wait_timed(b, NULL, -1), EINVAL);

    /* A behaviour may wait neither for itself nor shut its runtime down. */
    int rc[2] = { -1, -1 };
    parc_act_t *c;
    ck_assert_int_eq(parc_act_spawn(rt, waits_for_itself, rc, NULL, &c), 0);
    ck_assert_int_eq(parc_act_send(c, tmsg(T_WAITSELF, NULL, NULL)), 0);
    ck_assert_int_eq(parc_act_wait(c, &st), 0);
    ck_assert_int_eq(st, 9);
    ck_assert_int_eq(rc[0], EDEADLK);
    ck_assert_int_eq(rc[1], EDEADLK);
    parc_act_release(b);
    parc_act_release(c);
    ck_assert_int_eq(parc_act_rt_quiesce(rt), 0);
    ck_assert_int_eq(parc_act_rt_free(rt), 0);
}
END_TEST

/* Shutdown: many actors, some pinned, some with messages queued, some
 * spawning children while they are stopped, and references still held:
 * every message is handled or disposed, every actor stopped, no EBUSY. */
static parc_atomic(int) handled;
static parc_atomic(int) spawn_refused;

static void busy(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)state;
    if (m->type == T_SPAWN) {
        parc_act_t *child;
        int rc = parc_act_spawn(parc_act_runtime(self), busy, NULL, NULL,
                                &child);
        if (rc == 0) {
            parc_act_send(child, tmsg(T_SPAWN, NULL, NULL));
            parc_act_release(child);
        } else {
            ck_assert_int_eq(rc, EPIPE);
            parc_faa(&spawn_refused, 1, PARC_RELAXED); /* a count */
        }
    }
    parc_faa(&handled, 1, PARC_RELAXED); /* a count */
    parc_msg_free(m);
}

START_TEST(shutdown_stops_everything_and_loses_nothing)
{
    parc_act_rt_t *rt;
    ck_assert_int_eq(parc_act_rt_create(2, &rt), 0);
    parc_atomic(int) disposed;
    parc_atomic_init(&disposed, 0);
    parc_atomic_init(&handled, 0);
    parc_atomic_init(&spawn_refused, 0);
    enum { N = 200, PER = 20 };
    parc_act_t *kept[N];
    int sent = 0;
    for (int i = 0; i < N; i++) {
        parc_act_options_t o = PARC_ACT_OPTIONS_INIT;
        o.pinned = i % 50 == 0;
        o.capacity = i % 7 == 0 ? 1000u : 0u;
        ck_assert_int_eq(parc_act_spawn(rt, busy, NULL, &o, &kept[i]), 0);
        for (int j = 0; j < PER; j++, sent++)
            ck_assert_int_eq(
                parc_act_send(kept[i], tmsg(T_WORK, NULL, &disposed)), 0);
    }
    /* A chain of spawners: each spawns the next until shutdown refuses. */
    ck_assert_int_eq(parc_act_send(kept[1], tmsg(T_SPAWN, NULL, NULL)), 0);
    for (int i = 0; i < N; i += 2)
        parc_act_release(kept[i]); /* the odd ones stay referenced */
    ck_assert_int_eq(parc_act_rt_shutdown(NULL, 0), EINVAL);
    ck_assert_int_eq(parc_act_rt_shutdown(rt, 0), 0);
    /* Every T_WORK message was disposed exactly once (handled or not). */
    ck_assert_int_eq(parc_load(&disposed, PARC_RELAXED), sent);
    ck_assert_int_ge(parc_load(&handled, PARC_RELAXED), 1);
}
END_TEST

static Suite *act_stop_suite(void)
{
    Suite *s = suite_create("act_stop");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_test(tc, sender_is_the_sending_actor_and_reply_reaches_it);
    tcase_add_test(tc, sender_references_dropped_with_undelivered_messages);
    tcase_add_test(tc, stop_wait_returns_with_the_stop_final);
    tcase_add_test(tc, shutdown_stops_everything_and_loses_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(act_stop_suite());
}
