/*
 * Unit tests for parc/msg.h: message headers, plain-value messages, and
 * the answer to an ask (a reply future carried by the message), outside
 * any actor: dispose called exactly once by free and by reply, an
 * unanswered request completed with EPIPE, a second answer refused.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "parc/msg.h"
#include "testutil.h"

START_TEST(rejects_bad_arguments)
{
    parc_msg_t *m = NULL;
    parc_msg_t q;
    ck_assert_int_eq(parc_msg_init(NULL, 0, NULL), EINVAL);
    ck_assert_int_eq(parc_msg_new(PARC_MSG_USER, NULL, 4, &m), EINVAL);
    ck_assert_int_eq(parc_msg_new(PARC_MSG_USER, NULL, 0, NULL), EINVAL);
    ck_assert_int_eq(parc_msg_reply(NULL, 0, NULL), EINVAL);
    ck_assert_int_eq(parc_msg_init(&q, PARC_MSG_USER, NULL), 0);
    ck_assert_int_eq(parc_msg_reply(&q, 0, NULL), EALREADY); /* not an ask */
    parc_msg_free(NULL);
    parc_msg_free(&q); /* no dispose, no ask: nothing to do */
}
END_TEST

START_TEST(value_messages_copy_their_payload)
{
    double x = 2.5;
    parc_msg_t *m;
    ck_assert_int_eq(parc_msg_new(PARC_MSG_USER + 1, &x, sizeof x, &m), 0);
    x = 0;
    ck_assert_int_eq(m->type, PARC_MSG_USER + 1);
    ck_assert_uint_eq((uintptr_t)parc_msg_data(m) % _Alignof(max_align_t), 0);
    ck_assert(*(double *)parc_msg_data(m) == 2.5);
    parc_msg_free(m);
    ck_assert_int_eq(parc_msg_new(PARC_MSG_USER, NULL, 0, &m), 0);
    parc_msg_free(m);
}
END_TEST

typedef struct counted {
    parc_msg_t hdr;
    int disposed;
} counted_t;

static void count_dispose(parc_msg_t *m)
{
    parc_msg_entry(m, counted_t, hdr)->disposed++;
}

/* A request as parc_act_ask builds it: a heap future, one reference for
 * the message (released by the answer) and one for the asker. */
static parc_future_t *make_request(counted_t *c)
{
    parc_future_t *f;
    parc_msg_init(&c->hdr, PARC_MSG_USER, count_dispose);
    c->disposed = 0;
    ck_assert_int_eq(parc_future_create(NULL, NULL, &f), 0);
    parc_future_retain(f);
    c->hdr.reply_ = f;
    return f;
}

START_TEST(reply_answers_once_and_free_answers_epipe)
{
    counted_t c;
    void *v = NULL;
    parc_future_t *f = make_request(&c);
    ck_assert_int_eq(parc_msg_reply(&c.hdr, 0, (void *)(uintptr_t)42), 0);
    ck_assert_int_eq(c.disposed, 1);
    ck_assert_ptr_null(c.hdr.reply_);
    ck_assert_int_eq(parc_future_get(f, &v), 0);
    ck_assert_ptr_eq(v, (void *)(uintptr_t)42);
    ck_assert_int_eq(parc_msg_reply(&c.hdr, 0, NULL), EALREADY);
    ck_assert_int_eq(c.disposed, 1);
    parc_future_release(f);

    f = make_request(&c);
    parc_msg_free(&c.hdr); /* disposed unanswered: the asker learns EPIPE */
    ck_assert_int_eq(c.disposed, 1);
    ck_assert_int_eq(parc_future_get(f, &v), EPIPE);
    parc_future_release(f);
}
END_TEST

/* Value messages of every size around the allocator's class limits
 * (payload 0..300 bytes): each keeps its whole payload while others of
 * its class are live (a block handed out twice would be overwritten),
 * and the payload is aligned for any type. */
START_TEST(value_messages_of_every_size_keep_their_bytes)
{
    enum { MAXP = 300 };
    static parc_msg_t *live[MAXP + 1];
    unsigned char buf[MAXP];
    for (int round = 0; round < 3; round++) {
        for (size_t n = 0; n <= MAXP; n++) {
            memset(buf, (int)(n + round), n);
            ck_assert_int_eq(parc_msg_new(PARC_MSG_USER, buf, n, &live[n]), 0);
            ck_assert_uint_eq((uintptr_t)parc_msg_data(live[n]) %
                                  _Alignof(max_align_t), 0);
        }
        for (size_t n = 0; n <= MAXP; n++) {
            const unsigned char *p = parc_msg_data(live[n]);
            for (size_t i = 0; i < n; i++)
                ck_assert_uint_eq(p[i], (unsigned char)(n + round));
            parc_msg_free(live[n]);
        }
    }
}
END_TEST

/* Messages made on one thread and freed on another, many more than a
 * thread keeps: the freeing thread's batches come back to the maker's
 * allocations, and no block is live twice (payloads checked). */
enum { XT = 20000 };
static parc_msg_t *xt_msgs[XT];

static void *xt_free_all(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < XT; i++) {
        const uint64_t *v = parc_msg_data(xt_msgs[i]);
        if (*v != i * 3 + 1)
            return (void *)1;
        parc_msg_free(xt_msgs[i]);
    }
    return NULL;
}

START_TEST(value_messages_freed_on_another_thread)
{
    for (int round = 0; round < 4; round++) {
        for (size_t i = 0; i < XT; i++) {
            uint64_t v = i * 3 + 1;
            ck_assert_int_eq(parc_msg_new(PARC_MSG_USER, &v, sizeof v,
                                          &xt_msgs[i]), 0);
        }
        pthread_t t;
        void *bad = NULL;
        ck_assert_int_eq(pthread_create(&t, NULL, xt_free_all, NULL), 0);
        ck_assert_int_eq(pthread_join(t, &bad), 0);
        ck_assert_ptr_null(bad);
    }
}
END_TEST

static Suite *msg_suite(void)
{
    Suite *s = suite_create("msg");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rejects_bad_arguments);
    tcase_add_test(tc, value_messages_copy_their_payload);
    tcase_add_test(tc, value_messages_of_every_size_keep_their_bytes);
    tcase_add_test(tc, value_messages_freed_on_another_thread);
    tcase_add_test(tc, reply_answers_once_and_free_answers_epipe);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(msg_suite());
}
