/*
 * Unit tests for parc/chan.h.
 *
 * Every operation and error path of the three kinds (bounded, unbounded,
 * rendezvous); FIFO order across ring wrap-around and segment boundaries;
 * a rendezvous send that returns only once a receiver holds the value;
 * close semantics (drain, then EPIPE; every blocked caller wakes); the
 * eventfd readable exactly while a receive would not block; and many
 * producers and consumers moving every value exactly once with
 * per-producer FIFO.
 */
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "parc/chan.h"
#include "parc/select.h"
#include "testutil.h"

START_TEST(rejects_bad_arguments)
{
    parc_chan_t c;
    int v = 0;
    ck_assert_int_eq(parc_chan_init(NULL, 4, 1), EINVAL);
    ck_assert_int_eq(parc_chan_init(&c, 0, 1), EINVAL);
    ck_assert_int_eq(parc_chan_init(&c, PARC_CHAN_ELEM_MAX + 1, 1), EINVAL);
    ck_assert_int_eq(parc_chan_init(&c, 4, PARC_CHAN_CAP_MAX + 1), EINVAL);
    parc_chan_t huge = PARC_CHAN_INIT(4, PARC_CHAN_CAP_MAX + 1);
    ck_assert_int_eq(parc_chan_send_try(&huge, &v), EINVAL);
    ck_assert_int_eq(parc_chan_init(&c, sizeof v, 4), 0);
    ck_assert_int_eq(parc_chan_send(NULL, &v), EINVAL);
    ck_assert_int_eq(parc_chan_send(&c, NULL), EINVAL);
    ck_assert_int_eq(parc_chan_send_try(&c, NULL), EINVAL);
    ck_assert_int_eq(parc_chan_send_timed(&c, &v, -1), EINVAL);
    ck_assert_int_eq(parc_chan_recv(NULL, &v), EINVAL);
    ck_assert_int_eq(parc_chan_recv_try(&c, NULL), EINVAL);
    ck_assert_int_eq(parc_chan_recv_timed(&c, &v, -1), EINVAL);
    ck_assert_int_eq(parc_chan_close(NULL), EINVAL);
    ck_assert_int_eq(parc_chan_fd(&c, NULL), EINVAL);
    ck_assert_int_eq(parc_chan_destroy(NULL), EINVAL);
    ck_assert_int_eq(parc_chan_create(NULL, 4, 1), EINVAL);
    parc_chan_t *h;
    ck_assert_int_eq(parc_chan_create(&h, 0, 1), EINVAL);
    ck_assert_int_eq(parc_chan_free(NULL), 0);
    parc_chan_t bad = PARC_CHAN_INIT(0, 1); /* a bad static init */
    ck_assert_int_eq(parc_chan_send(&bad, &v), EINVAL);
    ck_assert_uint_eq(parc_chan_len(NULL), 0);
    ck_assert_uint_eq(parc_chan_cap(NULL), 0);
    ck_assert_int_eq(parc_chan_destroy(&c), 0);
}
END_TEST

START_TEST(bounded_fifo_and_wraparound)
{
    parc_chan_t c = PARC_CHAN_INIT(sizeof(uint64_t), 3);
    ck_assert_uint_eq(parc_chan_cap(&c), 3);
    uint64_t next_in = 0, next_out = 0, x;
    for (int round = 0; round < 10; round++) {
        while (parc_chan_send_try(&c, &next_in) == 0)
            next_in++;
        ck_assert_uint_eq(parc_chan_len(&c), 3);
        ck_assert_int_eq(parc_chan_send_timed(&c, &next_in, PARC_NS_PER_MS), ETIMEDOUT);
        ck_assert_int_eq(parc_chan_send_timed(&c, &next_in, 0), ETIMEDOUT);
        for (int k = 0; k < 2; k++) { /* leave one in: the ring wraps */
            ck_assert_int_eq(parc_chan_recv(&c, &x), 0);
            ck_assert_uint_eq(x, next_out++);
        }
    }
    while (parc_chan_recv_try(&c, &x) == 0)
        ck_assert_uint_eq(x, next_out++);
    ck_assert_uint_eq(next_out, next_in);
    ck_assert_int_eq(parc_chan_recv_try(&c, &x), EAGAIN);
    ck_assert_int_eq(parc_chan_recv_timed(&c, &x, PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_eq(parc_chan_destroy(&c), 0);
}
END_TEST

START_TEST(unbounded_crosses_segments)
{
    parc_chan_t *c;
    ck_assert_int_eq(parc_chan_create(&c, sizeof(uint32_t), PARC_CHAN_UNBOUNDED), 0);
    ck_assert_uint_eq(parc_chan_cap(c), PARC_CHAN_UNBOUNDED);
    uint32_t in = 0, out = 0, x;
    for (int round = 0; round < 5; round++) {
        for (int k = 0; k < 3000; k++, in++)
            ck_assert_int_eq(parc_chan_send_try(c, &in), 0);
        for (int k = 0; k < 2000; k++) {
            ck_assert_int_eq(parc_chan_recv_try(c, &x), 0);
            ck_assert_uint_eq(x, out++);
        }
    }
    ck_assert_uint_eq(parc_chan_len(c), in - out);
    while (parc_chan_recv_try(c, &x) == 0)
        ck_assert_uint_eq(x, out++);
    ck_assert_uint_eq(out, in);
    ck_assert_int_eq(parc_chan_free(c), 0);
}
END_TEST

START_TEST(rendezvous_needs_a_partner)
{
    parc_chan_t c = PARC_CHAN_INIT(sizeof(int), 0);
    int v = 7, x;
    ck_assert_int_eq(parc_chan_send_try(&c, &v), EAGAIN);
    ck_assert_int_eq(parc_chan_recv_try(&c, &x), EAGAIN);
    ck_assert_int_eq(parc_chan_send_timed(&c, &v, PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_eq(parc_chan_recv_timed(&c, &x, PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_uint_eq(parc_chan_len(&c), 0);
    ck_assert_int_eq(parc_chan_destroy(&c), 0);
}
END_TEST

/* A helper thread's blocking operation on a channel. */
typedef struct op {
    parc_chan_t *c;
    bool send;
    int value;
    int64_t timeout_ns; /* < 0: the blocking form */
    int rc;
    parc_atomic(int) done;
} op_t;

static void *run_op(void *arg)
{
    op_t *o = arg;
    if (o->send)
        o->rc = o->timeout_ns < 0 ? parc_chan_send(o->c, &o->value)
                                  : parc_chan_send_timed(o->c, &o->value, o->timeout_ns);
    else
        o->rc = o->timeout_ns < 0 ? parc_chan_recv(o->c, &o->value)
                                  : parc_chan_recv_timed(o->c, &o->value, o->timeout_ns);
    /* release: publishes rc and value; pairs with the test's acquire */
    parc_store(&o->done, 1, PARC_RELEASE);
    return NULL;
}

static bool is_done(op_t *o)
{
    /* acquire: pairs with run_op's release */
    return parc_load(&o->done, PARC_ACQUIRE) != 0;
}

START_TEST(rendezvous_send_waits_for_receiver)
{
    parc_chan_t c = PARC_CHAN_INIT(sizeof(int), 0);
    op_t s = { &c, true, 99, -1, -1, 0 };
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, run_op, &s), 0);
    parc_sleep_ns(20 * PARC_NS_PER_MS);
    ck_assert(!is_done(&s)); /* nobody has taken the value */
    int x = 0;
    ck_assert_int_eq(parc_chan_recv(&c, &x), 0);
    ck_assert_int_eq(x, 99);
    parc_test_join(&t, 1);
    ck_assert_int_eq(s.rc, 0);
    ck_assert_int_eq(parc_chan_destroy(&c), 0);
}
END_TEST

START_TEST(blocked_sender_on_full_channel_is_moved_in)
{
    parc_chan_t c = PARC_CHAN_INIT(sizeof(int), 1);
    int one = 1, x;
    ck_assert_int_eq(parc_chan_send(&c, &one), 0);
    op_t s = { &c, true, 2, -1, -1, 0 };
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, run_op, &s), 0);
    parc_sleep_ns(20 * PARC_NS_PER_MS);
    ck_assert(!is_done(&s));
    ck_assert_int_eq(parc_chan_recv(&c, &x), 0);
    ck_assert_int_eq(x, 1);
    parc_test_join(&t, 1);
    ck_assert_int_eq(s.rc, 0);
    ck_assert_uint_eq(parc_chan_len(&c), 1); /* its value went in */
    ck_assert_int_eq(parc_chan_recv_try(&c, &x), 0);
    ck_assert_int_eq(x, 2);
    ck_assert_int_eq(parc_chan_destroy(&c), 0);
}
END_TEST

/* Receivers and senders all blocked on a small bounded channel: each
 * value and each freed slot must wake somebody (a lost notification
 * leaves a thread parked for good: the join below then fails). */
START_TEST(every_blocked_caller_is_woken)
{
    enum { N = 6 };
    parc_chan_t c = PARC_CHAN_INIT(sizeof(int), 2);
    op_t r[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        op_t o = { &c, false, -1, -1, -1, 0 };
        r[i] = o;
        ck_assert_int_eq(pthread_create(&t[i], NULL, run_op, &r[i]), 0);
    }
    parc_sleep_ns(20 * PARC_NS_PER_MS); /* let them park */
    for (int i = 0; i < N; i++) {
        int v = i;
        ck_assert_int_eq(parc_chan_send(&c, &v), 0);
    }
    parc_test_join(t, N);
    int seen = 0;
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(r[i].rc, 0);
        ck_assert(r[i].value >= 0 && r[i].value < N);
        ck_assert(!(seen & (1 << r[i].value)));
        seen |= 1 << r[i].value;
    }
    /* now the other way round: senders blocked on a full channel */
    for (int i = 0; i < 2; i++) {
        int v = 100 + i;
        ck_assert_int_eq(parc_chan_send(&c, &v), 0);
    }
    for (int i = 0; i < N; i++) {
        op_t o = { &c, true, 200 + i, -1, -1, 0 };
        r[i] = o;
        ck_assert_int_eq(pthread_create(&t[i], NULL, run_op, &r[i]), 0);
    }
    parc_sleep_ns(20 * PARC_NS_PER_MS);
    int x, got = 0;
    for (int i = 0; i < N + 2; i++) {
        ck_assert_int_eq(parc_chan_recv(&c, &x), 0);
        got += x;
    }
    parc_test_join(t, N);
    ck_assert_int_eq(got, 100 + 101 + 200 * N + N * (N - 1) / 2);
    ck_assert_int_eq(parc_chan_recv_try(&c, &x), EAGAIN);
    ck_assert_int_eq(parc_chan_destroy(&c), 0);
}
END_TEST

START_TEST(close_drains_then_epipe_and_wakes_everyone)
{
    for (size_t cap = 0; cap < 3; cap++) {
        parc_chan_t c;
        ck_assert_int_eq(parc_chan_init(&c, sizeof(int), cap == 2 ? PARC_CHAN_UNBOUNDED : cap), 0);
        int v = 5, x;
        if (cap != 0)
            ck_assert_int_eq(parc_chan_send(&c, &v), 0);
        /* blocked callers: receivers on an empty (rendezvous) channel,
         * a sender on a full one */
        op_t ops[3] = { { &c, false, 0, -1, -1, 0 }, { &c, false, 0, -1, -1, 0 },
                        { &c, true, 6, -1, -1, 0 } };
        pthread_t t[3];
        int nops = cap == 0 ? 2 : (cap == 1 ? 3 : 0);
        if (cap == 1) { /* a full channel: only the sender blocks */
            ops[0] = ops[2];
            nops = 1;
        }
        for (int i = 0; i < nops; i++)
            ck_assert_int_eq(pthread_create(&t[i], NULL, run_op, &ops[i]), 0);
        parc_sleep_ns(20 * PARC_NS_PER_MS);
        ck_assert_int_eq(parc_chan_close(&c), 0);
        ck_assert_int_eq(parc_chan_close(&c), EPIPE);
        ck_assert(parc_chan_is_closed(&c));
        parc_test_join(t, nops);
        for (int i = 0; i < nops; i++)
            ck_assert_int_eq(ops[i].rc, EPIPE);
        ck_assert_int_eq(parc_chan_send(&c, &v), EPIPE);
        ck_assert_int_eq(parc_chan_send_try(&c, &v), EPIPE);
        if (cap != 0) { /* the accepted value is still there */
            ck_assert_int_eq(parc_chan_recv(&c, &x), 0);
            ck_assert_int_eq(x, 5);
        }
        ck_assert_int_eq(parc_chan_recv(&c, &x), EPIPE);
        ck_assert_int_eq(parc_chan_recv_try(&c, &x), EPIPE);
        ck_assert_int_eq(parc_chan_recv_timed(&c, &x, PARC_NS_PER_MS), EPIPE);
        ck_assert_int_eq(parc_chan_destroy(&c), 0);
    }
}
END_TEST

static bool fd_readable(int fd)
{
    struct pollfd p = { fd, POLLIN, 0 };
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

START_TEST(eventfd_readable_exactly_while_receivable)
{
    parc_chan_t c = PARC_CHAN_INIT(sizeof(int), 2);
    int fd, fd2, v = 1, x;
    ck_assert_int_eq(parc_chan_fd(&c, &fd), 0);
    ck_assert_int_eq(parc_chan_fd(&c, &fd2), 0);
    ck_assert_int_eq(fd, fd2);
    ck_assert(!fd_readable(fd));
    ck_assert_int_eq(parc_chan_send(&c, &v), 0);
    ck_assert(fd_readable(fd));
    ck_assert_int_eq(parc_chan_send(&c, &v), 0);
    ck_assert(fd_readable(fd));
    ck_assert_int_eq(parc_chan_recv(&c, &x), 0);
    ck_assert(fd_readable(fd));
    ck_assert_int_eq(parc_chan_recv(&c, &x), 0);
    ck_assert(!fd_readable(fd));
    ck_assert_int_eq(parc_chan_close(&c), 0);
    ck_assert(fd_readable(fd)); /* EOF-like: a receive says EPIPE at once */
    ck_assert_int_eq(parc_chan_destroy(&c), 0);

    /* rendezvous: readable while a sender waits */
    parc_chan_t r = PARC_CHAN_INIT(sizeof(int), 0);
    ck_assert_int_eq(parc_chan_fd(&r, &fd), 0);
    ck_assert(!fd_readable(fd));
    op_t s = { &r, true, 3, -1, -1, 0 };
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, run_op, &s), 0);
    struct pollfd p = { fd, POLLIN, 0 };
    ck_assert_int_eq(poll(&p, 1, (int)(PARC_TEST_PATIENCE_NS / PARC_NS_PER_MS)), 1);
    ck_assert_int_eq(parc_chan_recv_try(&r, &x), 0);
    ck_assert_int_eq(x, 3);
    parc_test_join(&t, 1);
    ck_assert(!fd_readable(fd));
    ck_assert_int_eq(parc_chan_destroy(&r), 0);
}
END_TEST

START_TEST(send_fd_readable_exactly_while_sendable)
{
    parc_chan_t c = PARC_CHAN_INIT(sizeof(int), 2);
    int fd, rfd, v = 1, x;
    ck_assert_int_eq(parc_chan_send_fd(NULL, &fd), EINVAL);
    ck_assert_int_eq(parc_chan_send_fd(&c, &fd), 0);
    ck_assert_int_eq(parc_chan_fd(&c, &rfd), 0);
    ck_assert_int_ne(fd, rfd);
    ck_assert(fd_readable(fd)); /* empty: room */
    ck_assert_int_eq(parc_chan_send(&c, &v), 0);
    ck_assert(fd_readable(fd));
    ck_assert_int_eq(parc_chan_send(&c, &v), 0);
    ck_assert(!fd_readable(fd)); /* full */
    ck_assert(fd_readable(rfd));
    ck_assert_int_eq(parc_chan_recv(&c, &x), 0);
    ck_assert(fd_readable(fd));
    ck_assert_int_eq(parc_chan_destroy(&c), 0);

    /* rendezvous: sendable while a receiver waits */
    parc_chan_t r = PARC_CHAN_INIT(sizeof(int), 0);
    ck_assert_int_eq(parc_chan_send_fd(&r, &fd), 0);
    ck_assert(!fd_readable(fd));
    op_t o = { &r, false, 0, -1, -1, 0 };
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, run_op, &o), 0);
    struct pollfd p = { fd, POLLIN, 0 };
    ck_assert_int_eq(poll(&p, 1, (int)(PARC_TEST_PATIENCE_NS / PARC_NS_PER_MS)), 1);
    v = 8;
    ck_assert_int_eq(parc_chan_send_try(&r, &v), 0);
    parc_test_join(&t, 1);
    ck_assert_int_eq(o.value, 8);
    ck_assert(!fd_readable(fd));
    ck_assert_int_eq(parc_chan_close(&r), 0);
    ck_assert(fd_readable(fd)); /* a send says EPIPE at once */
    ck_assert_int_eq(parc_chan_destroy(&r), 0);
}
END_TEST

/* ---- the rendezvous receiver's slot (src/chan.c) ------------------------- */

/* Wait until a blocked plain receiver waits in r's slot (white box: the
 * slot's state word, 1 = WAIT, with or without the PARKED bit). */
static void await_slot_receiver(parc_chan_t *r)
{
    int64_t waited = 0;
    /* acquire: nothing to publish; a loop on the state only */
    while ((parc_load(&r->rv, PARC_ACQUIRE) & 0x7fffffffu) != 1u) {
        ck_assert_int_lt(waited, PARC_TEST_PATIENCE_NS);
        parc_sleep_ns(PARC_NS_PER_MS);
        waited += PARC_NS_PER_MS;
    }
}

/* A receiver in the slot is a waiting receiver for everything that asks:
 * destroy (EBUSY), an eventfd created meanwhile (sendable, then not once
 * a sender took it without the lock), a select's send case, close
 * (EPIPE), and its own deadline (the slot is free again after it). */
START_TEST(slot_receiver_is_seen_by_everything)
{
    parc_chan_t r = PARC_CHAN_INIT(sizeof(int), 0);
    op_t o = { &r, false, 0, -1, -1, 0 };
    pthread_t t;
    int fd, v = 5;
    ck_assert_int_eq(pthread_create(&t, NULL, run_op, &o), 0);
    await_slot_receiver(&r);
    ck_assert_int_eq(parc_chan_destroy(&r), EBUSY);
    ck_assert_int_eq(parc_chan_send_fd(&r, &fd), 0);
    ck_assert(fd_readable(fd)); /* a receiver waits: sendable */
    ck_assert_int_eq(parc_chan_send_try(&r, &v), 0);
    parc_test_join(&t, 1);
    ck_assert_int_eq(o.rc, 0);
    ck_assert_int_eq(o.value, 5);
    ck_assert(!fd_readable(fd)); /* nobody waits any more */
    ck_assert_int_eq(parc_chan_destroy(&r), 0);

    /* a select's send case completes the slot's receiver */
    parc_chan_t s = PARC_CHAN_INIT(sizeof(int), 0);
    op_t o2 = { &s, false, 0, -1, -1, 0 };
    ck_assert_int_eq(pthread_create(&t, NULL, run_op, &o2), 0);
    await_slot_receiver(&s);
    int w = 6;
    size_t index = 9;
    parc_select_case_t cases[1] = { parc_select_send(&s, &w) };
    ck_assert_int_eq(parc_select_timed(cases, 1, 0, &index, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_uint_eq(index, 0);
    parc_test_join(&t, 1);
    ck_assert_int_eq(o2.rc, 0);
    ck_assert_int_eq(o2.value, 6);

    /* close wakes it with EPIPE */
    op_t o3 = { &s, false, 0, -1, -1, 0 };
    ck_assert_int_eq(pthread_create(&t, NULL, run_op, &o3), 0);
    await_slot_receiver(&s);
    ck_assert_int_eq(parc_chan_close(&s), 0);
    parc_test_join(&t, 1);
    ck_assert_int_eq(o3.rc, EPIPE);
    ck_assert_int_eq(parc_chan_destroy(&s), 0);

    /* a deadline takes the receiver back out of the slot */
    parc_chan_t d = PARC_CHAN_INIT(sizeof(int), 0);
    op_t o4 = { &d, false, 0, 20 * PARC_NS_PER_MS, -1, 0 };
    ck_assert_int_eq(pthread_create(&t, NULL, run_op, &o4), 0);
    parc_test_join(&t, 1);
    ck_assert_int_eq(o4.rc, ETIMEDOUT);
    ck_assert_int_eq(parc_chan_send_try(&d, &v), EAGAIN);
    ck_assert_int_eq(parc_chan_destroy(&d), 0);
}
END_TEST

/* ---- many producers and consumers --------------------------------------- */

enum { PRODUCERS = 4, CONSUMERS = 4, PER_PRODUCER = 20000 };

typedef struct mpmc {
    parc_chan_t *c;
    parc_atomic(int) next_producer;
    parc_atomic(uint64_t) received;
    parc_atomic(uint64_t) sum;
    uint32_t seen[CONSUMERS][PRODUCERS]; /* last sequence seen + 1 */
    parc_atomic(int) next_consumer;
    parc_atomic(int) fifo_broken;
} mpmc_t;

static void *producer(void *arg)
{
    mpmc_t *m = arg;
    uint32_t id = (uint32_t)parc_faa(&m->next_producer, 1, PARC_RELAXED);
    for (uint32_t s = 0; s < PER_PRODUCER; s++) {
        uint64_t v = ((uint64_t)id << 32) | s;
        ck_assert_int_eq(parc_chan_send(m->c, &v), 0);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    mpmc_t *m = arg;
    int me = parc_faa(&m->next_consumer, 1, PARC_RELAXED);
    uint64_t v;
    int rc;
    while ((rc = parc_chan_recv(m->c, &v)) == 0) {
        uint32_t p = (uint32_t)(v >> 32), s = (uint32_t)v;
        if (s + 1 <= m->seen[me][p]) /* per-producer FIFO, per consumer */
            parc_store(&m->fifo_broken, 1, PARC_RELAXED);
        m->seen[me][p] = s + 1;
        parc_faa(&m->received, 1, PARC_RELAXED);
        parc_faa(&m->sum, s, PARC_RELAXED);
    }
    ck_assert_int_eq(rc, EPIPE);
    return NULL;
}

static void run_mpmc(size_t cap)
{
    static mpmc_t m;
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(parc_chan_create(&m.c, sizeof(uint64_t), cap), 0);
    pthread_t p[PRODUCERS], c[CONSUMERS];
    parc_test_spawn(c, CONSUMERS, consumer, &m, 0);
    parc_test_spawn(p, PRODUCERS, producer, &m, 0);
    parc_test_join(p, PRODUCERS);
    ck_assert_int_eq(parc_chan_close(m.c), 0);
    parc_test_join(c, CONSUMERS);
    ck_assert_uint_eq(parc_load(&m.received, PARC_RELAXED),
                      (uint64_t)PRODUCERS * PER_PRODUCER);
    ck_assert_uint_eq(parc_load(&m.sum, PARC_RELAXED),
                      (uint64_t)PRODUCERS * PER_PRODUCER * (PER_PRODUCER - 1) / 2);
    ck_assert_int_eq(parc_load(&m.fifo_broken, PARC_RELAXED), 0);
    ck_assert_int_eq(parc_chan_free(m.c), 0);
}

START_TEST(mpmc_bounded_exactly_once) { run_mpmc(16); }
END_TEST
START_TEST(mpmc_unbounded_exactly_once) { run_mpmc(PARC_CHAN_UNBOUNDED); }
END_TEST
START_TEST(mpmc_rendezvous_exactly_once) { run_mpmc(0); }
END_TEST
START_TEST(mpmc_bounded_large_exactly_once) { run_mpmc(1024); }
END_TEST

/* Fill a value of `size` bytes with a pattern derived from `k`. */
static void pattern(unsigned char *v, size_t size, uint64_t k)
{
    for (size_t i = 0; i < size; i++)
        v[i] = (unsigned char)(k * 131u + i * 7u + 1u);
}

/* Rings of every shape: slots of 16 to 112 bytes (values of 1 to 100
 * bytes), capacities powers of two and not. Every slot must hold its own
 * value: a layout that mapped two stamps to one slot would overwrite a
 * value (the byte pattern check fails) or find a slot's sequence wrong
 * (a send_try says EAGAIN before the ring is full). Several laps, with a
 * partial fill so the stamps wrap at different indexes. */
START_TEST(bounded_every_layout_keeps_every_value)
{
    static const size_t sizes[] = { 1, 8, 16, 24, 40, 56, 100 };
    static const size_t caps[] = { 1, 2, 3, 4, 8, 16, 64, 100, 1024 };
    unsigned char in[128], out[128];
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
            size_t size = sizes[si], cap = caps[ci];
            parc_chan_t c;
            ck_assert_int_eq(parc_chan_init(&c, size, cap), 0);
            uint64_t next_in = 0, next_out = 0;
            for (int lap = 0; lap < 5; lap++) {
                for (;;) {
                    pattern(in, size, next_in);
                    if (parc_chan_send_try(&c, in) != 0)
                        break;
                    next_in++;
                }
                ck_assert_uint_eq(next_in - next_out, cap);
                ck_assert_uint_eq(parc_chan_len(&c), cap);
                /* leave a third in (at least one when cap > 1) */
                size_t take = cap - cap / 3;
                for (size_t k = 0; k < take; k++) {
                    ck_assert_int_eq(parc_chan_recv(&c, out), 0);
                    pattern(in, size, next_out++);
                    ck_assert_mem_eq(out, in, size);
                }
            }
            while (parc_chan_recv_try(&c, out) == 0) {
                pattern(in, size, next_out++);
                ck_assert_mem_eq(out, in, size);
            }
            ck_assert_uint_eq(next_out, next_in);
            ck_assert_int_eq(parc_chan_destroy(&c), 0);
        }
    }
}
END_TEST

/* A rendezvous hand-off of every value size, to a receiver blocked first
 * and from a sender blocked first: values up to 16 bytes travel in the
 * blocked caller's record and are handed over with one CAS, bigger ones
 * by claim, copy and finish. Every byte must arrive. */
typedef struct big_op {
    parc_chan_t *c;
    bool send;
    unsigned char value[64];
    int rc;
} big_op_t;

static void *run_big_op(void *arg)
{
    big_op_t *o = arg;
    o->rc = o->send ? parc_chan_send(o->c, o->value) : parc_chan_recv(o->c, o->value);
    return NULL;
}

START_TEST(rendezvous_hands_off_every_size)
{
    static const size_t sizes[] = { 1, 4, 8, 15, 16, 17, 32, 64 };
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t size = sizes[si];
        parc_chan_t c;
        ck_assert_int_eq(parc_chan_init(&c, size, 0), 0);
        unsigned char want[64], got[64 + 1];
        /* the receiver blocks first */
        big_op_t r = { &c, false, { 0 }, -1 };
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, run_big_op, &r), 0);
        parc_sleep_ns(2 * PARC_NS_PER_MS);
        pattern(want, size, size);
        ck_assert_int_eq(parc_chan_send(&c, want), 0);
        parc_test_join(&t, 1);
        ck_assert_int_eq(r.rc, 0);
        ck_assert_mem_eq(r.value, want, size);
        /* the sender blocks first */
        big_op_t s = { &c, true, { 0 }, -1 };
        pattern(s.value, size, size + 1);
        memcpy(want, s.value, size);
        ck_assert_int_eq(pthread_create(&t, NULL, run_big_op, &s), 0);
        parc_sleep_ns(2 * PARC_NS_PER_MS);
        memset(got, 0xee, sizeof got);
        ck_assert_int_eq(parc_chan_recv(&c, got), 0);
        parc_test_join(&t, 1);
        ck_assert_int_eq(s.rc, 0);
        ck_assert_mem_eq(got, want, size);
        ck_assert_int_eq(got[size], 0xee); /* nothing past the value */
        ck_assert_int_eq(parc_chan_destroy(&c), 0);
    }
}
END_TEST

/* Receivers that time out at random moments race senders on a
 * rendezvous channel: a hand-off that claims a record whose caller just
 * gave up must neither count the value as received nor lose it. Every
 * send that returned 0 is received exactly once; each receiver sees each
 * sender's values in order. */
enum { RT_SENDERS = 2, RT_RECEIVERS = 2, RT_PER_SENDER = 3000 };

typedef struct rt {
    parc_chan_t c;
    parc_atomic(uint64_t) sent_sum, recv_sum, sent, received;
    parc_atomic(int) next_id, senders_left, order_broken;
} rt_t;

static void *rt_sender(void *arg)
{
    rt_t *x = arg;
    uint64_t id = (uint64_t)parc_faa(&x->next_id, 1, PARC_RELAXED);
    for (uint64_t s = 1; s <= RT_PER_SENDER; s++) {
        uint64_t v = id << 32 | s;
        int rc = parc_chan_send_timed(&x->c, &v, (int64_t)(s % 7) * PARC_NS_PER_US * 20);
        if (rc == 0) {
            parc_faa(&x->sent, 1, PARC_RELAXED);
            parc_faa(&x->sent_sum, v, PARC_RELAXED);
        } else {
            ck_assert_int_eq(rc, ETIMEDOUT);
        }
    }
    parc_faa(&x->senders_left, -1, PARC_RELAXED);
    return NULL;
}

static void *rt_receiver(void *arg)
{
    rt_t *x = arg;
    uint64_t last[RT_SENDERS] = { 0 };
    for (unsigned k = 0;; k++) {
        uint64_t v;
        int rc = parc_chan_recv_timed(&x->c, &v, (int64_t)(k % 5) * PARC_NS_PER_US * 30);
        if (rc == 0) {
            uint64_t id = v >> 32, s = v & 0xffffffffu;
            ck_assert_uint_lt(id, RT_SENDERS);
            if (s <= last[id])
                parc_store(&x->order_broken, 1, PARC_RELAXED);
            last[id] = s;
            parc_faa(&x->received, 1, PARC_RELAXED);
            parc_faa(&x->recv_sum, v, PARC_RELAXED);
            continue;
        }
        ck_assert_int_eq(rc, ETIMEDOUT);
        if (parc_load(&x->senders_left, PARC_RELAXED) == 0)
            break;
    }
    return NULL;
}

START_TEST(rendezvous_timeouts_race_hand_offs)
{
    static rt_t x;
    memset(&x, 0, sizeof x);
    ck_assert_int_eq(parc_chan_init(&x.c, sizeof(uint64_t), 0), 0);
    parc_store(&x.senders_left, RT_SENDERS, PARC_RELAXED);
    pthread_t s[RT_SENDERS], r[RT_RECEIVERS];
    parc_test_spawn(r, RT_RECEIVERS, rt_receiver, &x, 0);
    parc_test_spawn(s, RT_SENDERS, rt_sender, &x, 0);
    parc_test_join(s, RT_SENDERS);
    parc_test_join(r, RT_RECEIVERS);
    ck_assert_uint_eq(parc_load(&x.received, PARC_RELAXED), parc_load(&x.sent, PARC_RELAXED));
    ck_assert_uint_eq(parc_load(&x.recv_sum, PARC_RELAXED), parc_load(&x.sent_sum, PARC_RELAXED));
    ck_assert_int_eq(parc_load(&x.order_broken, PARC_RELAXED), 0);
    ck_assert_int_eq(parc_chan_destroy(&x.c), 0);
}
END_TEST

static int recv_one_second(void *arg)
{
    int x;
    return parc_chan_recv_timed(arg, &x, PARC_NS_PER_S);
}

START_TEST(idle_receiver_burns_no_cpu)
{
    parc_chan_t c = PARC_CHAN_INIT(sizeof(int), 4);
    parc_test_idle_t m = { recv_one_second, &c, -1, 0, 0 };
    parc_test_measure_idle(&m);
    ck_assert_int_eq(m.rc, ETIMEDOUT);
    ck_assert_int_ge(m.wall_ns, PARC_NS_PER_S);
    ck_assert_int_le(m.cpu_ns, m.wall_ns / 50);
    ck_assert_int_eq(parc_chan_destroy(&c), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("chan");
    TCase *basic = tcase_create("basic");
    tcase_add_test(basic, rejects_bad_arguments);
    tcase_add_test(basic, bounded_fifo_and_wraparound);
    tcase_add_test(basic, unbounded_crosses_segments);
    tcase_add_test(basic, rendezvous_needs_a_partner);
    tcase_add_test(basic, eventfd_readable_exactly_while_receivable);
    tcase_add_test(basic, send_fd_readable_exactly_while_sendable);
    tcase_add_test(basic, idle_receiver_burns_no_cpu);
    tcase_add_test(basic, bounded_every_layout_keeps_every_value);
    suite_add_tcase(s, basic);
    TCase *mt = tcase_create("threads");
    tcase_add_test(mt, rendezvous_send_waits_for_receiver);
    tcase_add_test(mt, blocked_sender_on_full_channel_is_moved_in);
    tcase_add_test(mt, every_blocked_caller_is_woken);
    tcase_add_test(mt, close_drains_then_epipe_and_wakes_everyone);
    tcase_add_test(mt, mpmc_bounded_exactly_once);
    tcase_add_test(mt, mpmc_unbounded_exactly_once);
    tcase_add_test(mt, mpmc_rendezvous_exactly_once);
    tcase_add_test(mt, mpmc_bounded_large_exactly_once);
    tcase_add_test(mt, rendezvous_hands_off_every_size);
    tcase_add_test(mt, rendezvous_timeouts_race_hand_offs);
    tcase_add_test(mt, slot_receiver_is_seen_by_everything);
    suite_add_tcase(s, mt);
    return parc_test_run(s);
}
