/*
 * Unit tests for parc/actor.h: messages and the thread-per-actor mode
 * (the seed's life cycle): close ordering, send after close, join with a
 * timeout, recv in its three forms, a close racing with senders
 * (every accepted message is received, none after EPIPE), and
 * request/reply (ask, reply, await in its three forms; a request never
 * answered completes with EPIPE).
 */
#include <stdint.h>
#include <string.h>

#include "parc/actor.h"
#include "testutil.h"

typedef struct int_msg {
    parc_msg_t hdr;
    int value;
} int_msg_t;

START_TEST(rejects_bad_arguments)
{
    parc_actor_t a;
    parc_msg_t *m = NULL;
    ck_assert_int_eq(parc_actor_init(NULL, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_actor_init(&a, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_actor_start(NULL), EINVAL);
    ck_assert_int_eq(parc_actor_send(NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_actor_recv(NULL, &m), EINVAL);
    ck_assert_int_eq(parc_actor_recv_try(NULL, &m), EINVAL);
    ck_assert_int_eq(parc_actor_recv_timed(NULL, &m, 0), EINVAL);
    ck_assert_int_eq(parc_actor_close(NULL), EINVAL);
    ck_assert_int_eq(parc_actor_join(NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_actor_join_timed(NULL, NULL, 0), EINVAL);
    ck_assert_int_eq(parc_actor_destroy(NULL), EINVAL);
    ck_assert_int_eq(parc_actor_free(NULL), EINVAL);
    parc_actor_t *h = NULL;
    ck_assert_int_eq(parc_actor_create(NULL, NULL, &h), EINVAL);
    ck_assert_ptr_null(h);
    parc_future_t f;
    parc_msg_t q;
    parc_msg_init(&q, PARC_MSG_USER, NULL);
    ck_assert_int_eq(parc_actor_ask(NULL, &q, &f), EINVAL);
    ck_assert_int_eq(parc_actor_await(NULL, &f, NULL), EINVAL);
    ck_assert_int_eq(parc_actor_await_try(NULL, &f, NULL), EINVAL);
    ck_assert_int_eq(parc_actor_await_timed(NULL, &f, NULL, 0), EINVAL);
}
END_TEST

/* Receives int messages until EPIPE; checks they come in order. */
static int collect(parc_actor_t *self, void *arg)
{
    int *out_of_order = arg;
    int expect = 0, rc;
    parc_msg_t *m;
    while ((rc = parc_actor_recv(self, &m)) == 0) {
        int v = parc_msg_entry(m, int_msg_t, hdr)->value;
        if (v != expect)
            (*out_of_order)++;
        expect++;
        parc_msg_free(m);
    }
    return rc == EPIPE ? expect : -rc;
}

START_TEST(close_comes_after_every_earlier_message)
{
    enum { N = 2000 };
    static int_msg_t msgs[N];
    int out_of_order = 0, status = -1;
    parc_actor_t a;
    ck_assert_int_eq(parc_actor_init(&a, collect, &out_of_order), 0);
    for (int i = 0; i < N / 2; i++) { /* some before start */
        parc_msg_init(&msgs[i].hdr, PARC_MSG_USER, NULL);
        msgs[i].value = i;
        ck_assert_int_eq(parc_actor_send(&a, &msgs[i].hdr), 0);
    }
    ck_assert_int_eq(parc_actor_start(&a), 0);
    ck_assert_int_eq(parc_actor_start(&a), EALREADY);
    for (int i = N / 2; i < N; i++) {
        parc_msg_init(&msgs[i].hdr, PARC_MSG_USER, NULL);
        msgs[i].value = i;
        ck_assert_int_eq(parc_actor_send(&a, &msgs[i].hdr), 0);
    }
    ck_assert_int_eq(parc_actor_close(&a), 0);
    ck_assert_int_eq(parc_actor_close(&a), 0); /* idempotent */
    ck_assert_int_eq(parc_actor_join(&a, &status), 0);
    ck_assert_int_eq(status, N);
    ck_assert_int_eq(out_of_order, 0);
    ck_assert_int_eq(parc_actor_join(&a, NULL), EALREADY);
    ck_assert_int_eq(parc_actor_destroy(&a), 0);
}
END_TEST

static parc_atomic(int) int_msgs_freed;

static void free_int_msg(parc_msg_t *m)
{
    parc_faa(&int_msgs_freed, 1, PARC_RELAXED); /* read after join/free */
    free(parc_msg_entry(m, int_msg_t, hdr));
}

static parc_msg_t *new_int_msg(int value)
{
    int_msg_t *m = malloc(sizeof *m);
    ck_assert_ptr_nonnull(m);
    parc_msg_init(&m->hdr, PARC_MSG_USER, free_int_msg);
    m->value = value;
    return &m->hdr;
}

/* The heap form: aligned as the mailbox needs, refused while running,
 * freed with what is still queued once joined or never started. */
START_TEST(heap_actor_is_aligned_and_freed_after_join)
{
    int out_of_order = 0, status = -1;
    parc_actor_t *a;
    parc_atomic_init(&int_msgs_freed, 0);
    ck_assert_int_eq(parc_actor_create(collect, &out_of_order, &a), 0);
    ck_assert_uint_eq((uintptr_t)a % PARC_CACHELINE, 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(parc_actor_send(a, new_int_msg(i)), 0);
    ck_assert_int_eq(parc_actor_start(a), 0);
    ck_assert_int_eq(parc_actor_free(a), EBUSY); /* running: kept */
    ck_assert_int_eq(parc_actor_close(a), 0);
    ck_assert_int_eq(parc_actor_join(a, &status), 0);
    ck_assert_int_eq(status, 3);
    ck_assert_int_eq(out_of_order, 0);
    ck_assert_int_eq(parc_actor_free(a), 0);
    ck_assert_int_eq(parc_load(&int_msgs_freed, PARC_RELAXED), 3);

    ck_assert_int_eq(parc_actor_create(collect, &out_of_order, &a), 0);
    /* Never received: free disposes of it. */
    ck_assert_int_eq(parc_actor_send(a, new_int_msg(0)), 0);
    ck_assert_int_eq(parc_actor_free(a), 0); /* never started */
    ck_assert_int_eq(parc_load(&int_msgs_freed, PARC_RELAXED), 4);
}
END_TEST

START_TEST(send_after_close_is_refused)
{
    int ooo = 0;
    parc_actor_t a;
    int_msg_t m;
    parc_msg_init(&m.hdr, PARC_MSG_USER, NULL);
    m.value = 0;
    ck_assert_int_eq(parc_actor_init(&a, collect, &ooo), 0);
    ck_assert_int_eq(parc_actor_start(&a), 0);
    ck_assert_int_eq(parc_actor_close(&a), 0);
    ck_assert_int_eq(parc_actor_send(&a, &m.hdr), EPIPE);
    int status = -1;
    ck_assert_int_eq(parc_actor_join(&a, &status), 0);
    ck_assert_int_eq(status, 0);
    ck_assert_int_eq(parc_actor_send(&a, &m.hdr), EPIPE);
    ck_assert_int_eq(parc_actor_destroy(&a), 0);
}
END_TEST

START_TEST(join_times_out_while_running)
{
    int ooo = 0;
    parc_actor_t a;
    ck_assert_int_eq(parc_actor_init(&a, collect, &ooo), 0);
    ck_assert_int_eq(parc_actor_join(&a, NULL), EINVAL); /* not started */
    ck_assert_int_eq(parc_actor_start(&a), 0);
    ck_assert_int_eq(parc_actor_destroy(&a), EBUSY);
    int64_t t0 = parc_now_ns();
    ck_assert_int_eq(parc_actor_join_timed(&a, NULL, 20 * PARC_NS_PER_MS),
                     ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns() - t0, 20 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_actor_join_timed(&a, NULL, -1), EINVAL);
    ck_assert_int_eq(parc_actor_close(&a), 0);
    ck_assert_int_eq(parc_actor_join_timed(&a, NULL, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq(parc_actor_destroy(&a), 0);
}
END_TEST

/* recv_try and recv_timed on an empty open mailbox, then a message. */
static int timed_body(parc_actor_t *self, void *arg)
{
    parc_atomic(int) *checked = arg;
    parc_msg_t *m;
    if (parc_actor_recv_try(self, &m) != EAGAIN)
        return 1;
    int64_t t0 = parc_now_ns();
    if (parc_actor_recv_timed(self, &m, 10 * PARC_NS_PER_MS) != ETIMEDOUT)
        return 2;
    if (parc_now_ns() - t0 < 10 * PARC_NS_PER_MS)
        return 3;
    if (parc_actor_recv_timed(self, &m, -1) != EINVAL)
        return 4;
    /* release: tells the main thread it may send now (it must not before:
     * a message in the 10 ms window above would end that wait early) */
    parc_store(checked, 1, PARC_RELEASE);
    /* The main thread sends one message after join_timed timed out. */
    if (parc_actor_recv_timed(self, &m, PARC_TEST_PATIENCE_NS) != 0)
        return 5;
    parc_msg_free(m);
    if (parc_actor_recv_timed(self, &m, PARC_TEST_PATIENCE_NS) != EPIPE)
        return 6;
    return 42;
}

START_TEST(recv_forms_time_out_and_see_close)
{
    parc_actor_t a;
    static parc_atomic(int) checked;
    parc_atomic_init(&checked, 0);
    ck_assert_int_eq(parc_actor_init(&a, timed_body, (void *)&checked), 0);
    ck_assert_int_eq(parc_actor_start(&a), 0);
    ck_assert(parc_test_eventually(&checked));
    /* the actor now waits for a message: join must time out */
    ck_assert_int_eq(parc_actor_join_timed(&a, NULL, 10 * PARC_NS_PER_MS),
                     ETIMEDOUT);
    parc_msg_t *m;
    ck_assert_int_eq(parc_msg_new(PARC_MSG_USER, NULL, 0, &m), 0);
    ck_assert_int_eq(parc_actor_send(&a, m), 0);
    ck_assert_int_eq(parc_actor_close(&a), 0);
    int status = 0;
    ck_assert_int_eq(parc_actor_join(&a, &status), 0);
    ck_assert_int_eq(status, 42);
    ck_assert_int_eq(parc_actor_destroy(&a), 0);
}
END_TEST

/* Senders race with close: each counts what was accepted. */
#define SENDERS 4
struct race {
    parc_actor_t a;
    parc_atomic(int) accepted;
};

static void *race_sender(void *arg)
{
    struct race *r = arg;
    for (;;) {
        parc_msg_t *m;
        ck_assert_int_eq(parc_msg_new(PARC_MSG_USER, NULL, 0, &m), 0);
        int rc = parc_actor_send(&r->a, m);
        if (rc != 0) {
            ck_assert_int_eq(rc, EPIPE);
            parc_msg_free(m);
            return NULL;
        }
        parc_faa(&r->accepted, 1, PARC_RELAXED);
    }
}

static int count_body(parc_actor_t *self, void *arg)
{
    (void)arg;
    int n = 0;
    parc_msg_t *m;
    while (parc_actor_recv(self, &m) == 0) {
        parc_msg_free(m);
        n++;
    }
    return n;
}

START_TEST(close_racing_with_senders_loses_nothing)
{
    for (int round = 0; round < 10; round++) {
        struct race r;
        parc_atomic_init(&r.accepted, 0);
        ck_assert_int_eq(parc_actor_init(&r.a, count_body, NULL), 0);
        ck_assert_int_eq(parc_actor_start(&r.a), 0);
        pthread_t t[SENDERS];
        for (int i = 0; i < SENDERS; i++)
            ck_assert_int_eq(pthread_create(&t[i], NULL, race_sender, &r), 0);
        parc_sleep_ns(PARC_NS_PER_MS);
        ck_assert_int_eq(parc_actor_close(&r.a), 0);
        parc_test_join(t, SENDERS);
        int got = -1;
        ck_assert_int_eq(parc_actor_join(&r.a, &got), 0);
        ck_assert_int_eq(got, parc_load(&r.accepted, PARC_RELAXED));
        ck_assert_int_eq(parc_actor_destroy(&r.a), 0);
    }
}
END_TEST

/* Request/reply. The actor answers requests with their value + 1, but
 * first waits for a "go" message after every request whose value is
 * negative, so the asker can see a reply still missing. */
typedef struct rr_state {
    int answered;
} rr_state_t;

static int answer_run(parc_actor_t *self, void *arg)
{
    rr_state_t *st = arg;
    parc_msg_t *m;
    while (parc_actor_recv(self, &m) == 0) {
        if (m->reply_ == NULL) /* a stray "go" */
            continue;
        int v = parc_msg_entry(m, int_msg_t, hdr)->value;
        if (v < 0) {
            parc_msg_t *go;
            if (parc_actor_recv(self, &go) != 0) {
                parc_msg_free(m); /* closed: the asker gets EPIPE */
                break;
            }
        }
        st->answered++;
        ck_assert_int_eq(parc_msg_reply(m, v == 100000 ? ERANGE : 0,
                                        (void *)(intptr_t)(v + 1)), 0);
    }
    return 0;
}

START_TEST(ask_and_await_in_three_forms)
{
    parc_actor_t a;
    rr_state_t st = { 0 };
    ck_assert_int_eq(parc_actor_init(&a, answer_run, &st), 0);
    ck_assert_int_eq(parc_actor_start(&a), 0);
    int_msg_t q;
    parc_future_t reply;
    void *v = NULL;
    /* Blocking: many round trips, each with its answer. */
    for (int i = 0; i < 1000; i++) {
        parc_msg_init(&q.hdr, PARC_MSG_USER, NULL);
        q.value = i;
        ck_assert_int_eq(parc_actor_ask(&a, &q.hdr, &reply), 0);
        ck_assert_int_eq(parc_actor_await(&a, &reply, &v), 0);
        ck_assert_int_eq((intptr_t)v, i + 1);
        ck_assert_int_eq(parc_future_destroy(&reply), 0);
    }
    /* The answer's error status comes back. */
    parc_msg_init(&q.hdr, PARC_MSG_USER, NULL);
    q.value = 100000;
    ck_assert_int_eq(parc_actor_ask(&a, &q.hdr, &reply), 0);
    ck_assert_int_eq(parc_actor_await(&a, &reply, &v), ERANGE);
    parc_future_destroy(&reply);
    /* A held-back answer: try and timed see it missing, then it comes. */
    parc_msg_t go;
    parc_msg_init(&q.hdr, PARC_MSG_USER, NULL);
    q.value = -5;
    ck_assert_int_eq(parc_actor_ask(&a, &q.hdr, &reply), 0);
    ck_assert_int_eq(parc_actor_await_try(&a, &reply, &v), EAGAIN);
    ck_assert_int_eq(parc_actor_await_timed(&a, &reply, &v, 0), ETIMEDOUT);
    ck_assert_int_eq(parc_actor_await_timed(&a, &reply, &v, 5000000), ETIMEDOUT);
    ck_assert_int_eq(parc_actor_await_timed(&a, &reply, &v, -1), EINVAL);
    parc_msg_init(&go, PARC_MSG_USER, NULL);
    ck_assert_int_eq(parc_actor_send(&a, &go), 0);
    ck_assert_int_eq(parc_actor_await_timed(&a, &reply, &v, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq((intptr_t)v, -4);
    ck_assert_int_eq(parc_actor_await_try(&a, &reply, &v), 0); /* stays */
    parc_future_destroy(&reply);
    /* A request the actor never answers: it ends (closed) while holding
     * it back, and disposes of it: EPIPE. */
    parc_msg_init(&q.hdr, PARC_MSG_USER, NULL);
    q.value = -1;
    ck_assert_int_eq(parc_actor_ask(&a, &q.hdr, &reply), 0);
    ck_assert_int_eq(parc_actor_close(&a), 0);
    ck_assert_int_eq(parc_actor_await(&a, &reply, &v), EPIPE);
    parc_future_destroy(&reply);
    ck_assert_int_eq(parc_actor_join(&a, NULL), 0);
    ck_assert_int_eq(st.answered, 1000 + 1 + 1);
    /* Asking a closed actor is refused; nothing to wait for. */
    parc_msg_init(&q.hdr, PARC_MSG_USER, NULL);
    ck_assert_int_eq(parc_actor_ask(&a, &q.hdr, &reply), EPIPE);
    ck_assert_ptr_null(q.hdr.reply_);
    ck_assert_int_eq(parc_actor_destroy(&a), 0);
}
END_TEST

/* A request still queued when the actor is destroyed is answered with
 * EPIPE by the disposal. */
static int return_at_once(parc_actor_t *self, void *arg)
{
    (void)self;
    (void)arg;
    return 0;
}

START_TEST(queued_request_is_answered_with_epipe)
{
    parc_actor_t a;
    ck_assert_int_eq(parc_actor_init(&a, return_at_once, NULL), 0);
    parc_msg_t q;
    parc_future_t reply;
    parc_msg_init(&q, PARC_MSG_USER, NULL);
    ck_assert_int_eq(parc_actor_ask(&a, &q, &reply), 0); /* before start */
    ck_assert_int_eq(parc_actor_start(&a), 0);
    ck_assert_int_eq(parc_actor_join(&a, NULL), 0);
    ck_assert_int_eq(parc_actor_await_try(&a, &reply, NULL), EAGAIN);
    ck_assert_int_eq(parc_actor_destroy(&a), 0);
    ck_assert_int_eq(parc_actor_await(&a, &reply, NULL), EPIPE);
    parc_future_destroy(&reply);
}
END_TEST

static Suite *actor_suite(void)
{
    Suite *s = suite_create("actor");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_test(tc, rejects_bad_arguments);
    tcase_add_test(tc, heap_actor_is_aligned_and_freed_after_join);
    tcase_add_test(tc, close_comes_after_every_earlier_message);
    tcase_add_test(tc, send_after_close_is_refused);
    tcase_add_test(tc, join_times_out_while_running);
    tcase_add_test(tc, recv_forms_time_out_and_see_close);
    tcase_add_test(tc, close_racing_with_senders_loses_nothing);
    tcase_add_test(tc, ask_and_await_in_three_forms);
    tcase_add_test(tc, queued_request_is_answered_with_epipe);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(actor_suite());
}
