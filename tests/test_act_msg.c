/*
 * Unit tests for parc/act_msg.h: typed messages declared in one line,
 * sent in one call, matched by type in the behaviour; a reply through
 * the sender; an ask answered; a failed send frees the message (ASan
 * would see a leak).
 */
#include <stdint.h>
#include <string.h>

#include "parc/act_msg.h"
#include "parc/event.h"
#include "testutil.h"

typedef struct { int seq; char tag[8]; } ping_t;
typedef struct { int seq; } pong_t;
typedef struct { int a, b; } add_t;

PARC_ACT_MSG(ping, ping_t, PARC_MSG_USER + 1)
PARC_ACT_MSG(pong, pong_t, PARC_MSG_USER + 2)
PARC_ACT_MSG(add, add_t, PARC_MSG_USER + 3)

static void server(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    (void)state;
    ping_t *p;
    add_t *a;
    pong_t *wrong;
    ck_assert(!pong_match(m, &wrong));
    if (ping_match(m, &p)) {
        ck_assert_str_eq(p->tag, "hi");
        pong_t r = { p->seq + 1 };
        ck_assert_int_eq(pong_send(parc_act_sender(), r), 0);
    } else if (add_match(m, &a)) {
        parc_msg_reply(m, 0, (void *)(intptr_t)(a->a + a->b));
        return; /* the reply disposed of m */
    }
    parc_msg_free(m);
}

typedef struct client {
    parc_act_t *server;
    int got;
    parc_event_t done;
} client_t;

static void client(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    client_t *c = state;
    pong_t *r;
    if (m->type == PARC_MSG_USER) {
        ping_t p = { 41, "hi" };
        ck_assert_int_eq(ping_send(c->server, p), 0);
    } else if (pong_match(m, &r)) {
        c->got = r->seq;
        parc_event_set(&c->done);
    }
    parc_msg_free(m);
}

START_TEST(typed_messages_round_trip)
{
    ck_assert_int_eq(ping_TYPE, PARC_MSG_USER + 1);
    parc_act_rt_t *rt;
    ck_assert_int_eq(parc_act_rt_create(2, &rt), 0);
    client_t c;
    memset(&c, 0, sizeof c);
    parc_event_init(&c.done);
    parc_act_t *s, *cl;
    ck_assert_int_eq(parc_act_spawn(rt, server, NULL, NULL, &s), 0);
    c.server = s;
    ck_assert_int_eq(parc_act_spawn(rt, client, &c, NULL, &cl), 0);
    parc_msg_t *go;
    ck_assert_int_eq(parc_msg_new(PARC_MSG_USER, NULL, 0, &go), 0);
    ck_assert_int_eq(parc_act_send(cl, go), 0);
    ck_assert_int_eq(parc_event_wait_timed(&c.done, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq(c.got, 42);

    add_t a = { 2, 3 };
    parc_future_t *f;
    ck_assert_int_eq(add_ask(s, a, &f), 0);
    void *v;
    ck_assert_int_eq(parc_future_get(f, &v), 0);
    ck_assert_int_eq((int)(intptr_t)v, 5);
    parc_future_release(f);
    ck_assert_int_eq(add_ask(s, a, NULL), EINVAL);

    ck_assert_int_eq(parc_act_stop_wait(s, 0, NULL), 0);
    ping_t p = { 0, "x" };
    ck_assert_int_eq(ping_send(s, p), EPIPE); /* freed, not leaked */
    ck_assert_int_eq(ping_send(NULL, p), EINVAL);
    parc_act_release(s);
    parc_act_release(cl);
    ck_assert_int_eq(parc_act_rt_shutdown(rt, 0), 0);
    parc_event_destroy(&c.done);
}
END_TEST

static Suite *act_msg_suite(void)
{
    Suite *s = suite_create("act_msg");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_test(tc, typed_messages_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(act_msg_suite());
}
