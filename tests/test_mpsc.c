/*
 * Unit tests for parc/mpsc.h.
 *
 * Messages embed the node and carry (producer, sequence). The central test
 * runs more producers than cores against one consumer and checks that each
 * producer's messages arrive exactly once and in order. The close race
 * checks that every push that returned 0 pops before EPIPE and nothing
 * else does, and that a refused message is really the caller's again (the
 * producer scribbles over it at once; a queue still holding it would
 * break).
 */
#include <stdint.h>
#include <string.h>

#include "parc/mpsc.h"
#include "testutil.h"

struct msg {
    uint32_t producer;
    uint32_t seq;
    parc_mpsc_node_t node;
};

#define PRODUCERS 4
#define PER_PRODUCER (50000 / PARC_SLOWDOWN)

static struct msg *msg_of(parc_mpsc_node_t *n)
{
    return parc_mpsc_entry(n, struct msg, node);
}

/* Two cache lines, each on its own line: the size is every actor's
 * mailbox (idle memory per actor). */
START_TEST(two_cache_lines)
{
    ck_assert_uint_le(sizeof(parc_mpsc_t), 2 * PARC_CACHELINE);
    ck_assert_uint_eq(_Alignof(parc_mpsc_t), PARC_CACHELINE);
    ck_assert_uint_ge(offsetof(parc_mpsc_t, tail) - offsetof(parc_mpsc_t, head),
                      PARC_CACHELINE);
}
END_TEST

START_TEST(rejects_bad_arguments)
{
    parc_mpsc_t q;
    struct msg m;
    parc_mpsc_node_t *n;
    bool was_empty = true;
    ck_assert_int_eq(parc_mpsc_init(NULL), EINVAL);
    ck_assert_int_eq(parc_mpsc_init(&q), 0);
    ck_assert_int_eq(parc_mpsc_push(NULL, &m.node, &was_empty), EINVAL);
    ck_assert(!was_empty);
    ck_assert_int_eq(parc_mpsc_push(&q, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_mpsc_pop_try(NULL, &n), EINVAL);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, NULL), EINVAL);
    ck_assert_int_eq(parc_mpsc_pop(&q, NULL), EINVAL);
    ck_assert_int_eq(parc_mpsc_pop(NULL, &n), EINVAL);
    ck_assert_int_eq(parc_mpsc_pop_timed(&q, &n, -1), EINVAL);
    ck_assert_int_eq(parc_mpsc_pop_timed(NULL, &n, 0), EINVAL);
    ck_assert(!parc_mpsc_mark_empty(NULL));
    ck_assert_int_eq(parc_mpsc_close(NULL), EINVAL);
    ck_assert(!parc_mpsc_is_closed(NULL));
    ck_assert_int_eq(parc_mpsc_destroy(NULL), EINVAL);
    ck_assert_int_eq(parc_mpsc_destroy(&q), 0);
}
END_TEST

START_TEST(fifo_and_entry)
{
    parc_mpsc_t q;
    struct msg m[5];
    parc_mpsc_node_t *n;
    ck_assert_int_eq(parc_mpsc_init(&q), 0);
    n = &m[0].node;
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EAGAIN);
    ck_assert_ptr_null(n); /* defined even when nothing popped */
    for (unsigned round = 0; round < 3; round++) {
        for (uint32_t i = 0; i < 5; i++) {
            m[i].seq = i;
            ck_assert_int_eq(parc_mpsc_push(&q, &m[i].node, NULL), 0);
        }
        for (uint32_t i = 0; i < 5; i++) {
            ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
            ck_assert_ptr_eq(msg_of(n), &m[i]);
            ck_assert_uint_eq(msg_of(n)->seq, i);
        }
        ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EAGAIN);
    }
    /* one at a time: the last node is handed back through the stub */
    for (uint32_t i = 0; i < 5; i++) {
        ck_assert_int_eq(parc_mpsc_push(&q, &m[i].node, NULL), 0);
        ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
        ck_assert_ptr_eq(n, &m[i].node);
        ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EAGAIN);
    }
    parc_mpsc_destroy(&q);
}
END_TEST

/* The heap form (issue 14): cache-line aligned, initialised like
 * parc_mpsc_init (marked empty: the first push reports was_empty). */
START_TEST(create_and_free)
{
    parc_mpsc_t *q = NULL;
    struct msg m = { .seq = 7 };
    parc_mpsc_node_t *n;
    bool was_empty = false;
    ck_assert_int_eq(parc_mpsc_create(NULL), EINVAL);
    ck_assert_int_eq(parc_mpsc_create(&q), 0);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq((uintptr_t)q % PARC_CACHELINE, 0);
    ck_assert_int_eq(parc_mpsc_push(q, &m.node, &was_empty), 0);
    ck_assert(was_empty);
    ck_assert_int_eq(parc_mpsc_pop_try(q, &n), 0);
    ck_assert_ptr_eq(msg_of(n), &m);
    parc_mpsc_free(q);
    parc_mpsc_free(NULL);
}
END_TEST

START_TEST(was_empty_reports_the_mark)
{
    parc_mpsc_t q;
    struct msg m[3];
    parc_mpsc_node_t *n;
    bool e = false;
    ck_assert_int_eq(parc_mpsc_init(&q), 0);
    ck_assert_int_eq(parc_mpsc_push(&q, &m[0].node, &e), 0);
    ck_assert(e); /* a new queue starts marked empty */
    ck_assert_int_eq(parc_mpsc_push(&q, &m[1].node, &e), 0);
    ck_assert(!e);
    ck_assert(!parc_mpsc_mark_empty(&q)); /* not empty */
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    ck_assert(!parc_mpsc_mark_empty(&q));
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    /* empty but not marked: a push does not report it */
    ck_assert_int_eq(parc_mpsc_push(&q, &m[2].node, &e), 0);
    ck_assert(!e);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    ck_assert(parc_mpsc_mark_empty(&q));
    ck_assert(parc_mpsc_mark_empty(&q)); /* already marked */
    ck_assert_int_eq(parc_mpsc_push(&q, &m[0].node, &e), 0);
    ck_assert(e); /* exactly one push takes the mark */
    ck_assert_int_eq(parc_mpsc_push(&q, &m[1].node, &e), 0);
    ck_assert(!e);
    parc_mpsc_destroy(&q);
}
END_TEST

START_TEST(in_flight_push_is_not_empty_nor_closed)
{
    /* Simulate a producer preempted between its exchange and its link. */
    parc_mpsc_t q;
    struct msg m;
    parc_mpsc_node_t *n;
    ck_assert_int_eq(parc_mpsc_init(&q), 0);
    parc_store(&m.node.next, 0, PARC_RELAXED);
    uintptr_t prev = parc_xchg(&q.head, (uintptr_t)&m.node, PARC_ACQ_REL);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EAGAIN);
    ck_assert(!parc_mpsc_mark_empty(&q));
    ck_assert_int_eq(parc_mpsc_close(&q), 0);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EAGAIN); /* not EPIPE */
    ck_assert_int_eq(parc_mpsc_pop_timed(&q, &n, PARC_NS_PER_MS), ETIMEDOUT);
    /* the producer links: the message pops, then EPIPE */
    parc_store(&((parc_mpsc_node_t *)(prev & ~(uintptr_t)3))->next,
               (uintptr_t)&m.node, PARC_RELEASE);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    ck_assert_ptr_eq(n, &m.node);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EPIPE);
    ck_assert_int_eq(parc_mpsc_pop(&q, &n), EPIPE);
}
END_TEST

/* A push in flight behind the last linked node: pop_try reports EAGAIN
 * every time (it reads the head, sees the push in flight and leaves the
 * head alone: no stub CAS; after the first miss it also pauses by its
 * pace, then looks at the link again), the node pops once the push
 * links, and when the same node comes back later as the only message,
 * nothing in flight, it pops at once (a consumer that kept believing "in
 * flight" for that node, or whose pace took the node without its link,
 * would fail here). And a miss on a drained queue writes nothing shared:
 * the head is untouched. */
START_TEST(in_flight_behind_last_node_then_reused)
{
    parc_mpsc_t q;
    struct msg a, b;
    parc_mpsc_node_t *n;
    ck_assert_int_eq(parc_mpsc_init(&q), 0);
    ck_assert_int_eq(parc_mpsc_push(&q, &a.node, NULL), 0);
    parc_store(&b.node.next, 0, PARC_RELAXED);
    uintptr_t prev = parc_xchg(&q.head, (uintptr_t)&b.node, PARC_ACQ_REL);
    ck_assert_uint_eq(prev, (uintptr_t)&a.node);
    for (int i = 0; i < 8; i++) /* arms, pauses, halves, ...: always EAGAIN */
        ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EAGAIN);
    ck_assert_uint_eq(parc_load(&q.head, PARC_RELAXED), (uintptr_t)&b.node);
    parc_store(&a.node.next, (uintptr_t)&b.node, PARC_RELEASE); /* it links */
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    ck_assert_ptr_eq(n, &a.node);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    ck_assert_ptr_eq(n, &b.node);
    uintptr_t drained = parc_load(&q.head, PARC_RELAXED);
    ck_assert_uint_eq(drained & ~(uintptr_t)3, (uintptr_t)&q.stub);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EAGAIN);
    ck_assert_uint_eq(parc_load(&q.head, PARC_RELAXED), drained);
    /* a again, alone: it must pop now */
    ck_assert_int_eq(parc_mpsc_push(&q, &a.node, NULL), 0);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    ck_assert_ptr_eq(n, &a.node);
    ck_assert_int_eq(parc_mpsc_push(&q, &a.node, NULL), 0);
    ck_assert_int_eq(parc_mpsc_pop(&q, &n), 0);
    ck_assert_ptr_eq(n, &a.node);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EAGAIN);
    parc_mpsc_destroy(&q);
}
END_TEST

/* The same, with the node that had a push in flight behind it popped by
 * each consumer path (pop_try, pop, pop_timed: three places that move the
 * tail on): the node, pushed again alone, must then pop at once (a
 * consumer that remembered "in flight" for it would never hand it out).
 * While the push is in flight, a try leaves the head alone and reports
 * EAGAIN until the push links. */
START_TEST(in_flight_node_then_alone_by_every_pop)
{
    for (int way = 0; way < 3; way++) {
        parc_mpsc_t q;
        struct msg a, b;
        parc_mpsc_node_t *n;
        ck_assert_int_eq(parc_mpsc_init(&q), 0);
        ck_assert_int_eq(parc_mpsc_push(&q, &a.node, NULL), 0);
        parc_store(&b.node.next, 0, PARC_RELAXED);
        /* b's push between its exchange and its link */
        uintptr_t prev = parc_xchg(&q.head, (uintptr_t)&b.node, PARC_ACQ_REL);
        ck_assert_uint_eq(prev, (uintptr_t)&a.node);
        for (int i = 0; i < 3; i++) {
            ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EAGAIN);
            ck_assert_ptr_null(n);
            ck_assert_uint_eq(parc_load(&q.head, PARC_RELAXED), (uintptr_t)&b.node);
        }
        parc_store(&a.node.next, (uintptr_t)&b.node, PARC_RELEASE); /* it links */
        int rc = way == 0 ? parc_mpsc_pop_try(&q, &n)
                 : way == 1 ? parc_mpsc_pop(&q, &n)
                            : parc_mpsc_pop_timed(&q, &n, 1000000000);
        ck_assert_int_eq(rc, 0);
        ck_assert_ptr_eq(n, &a.node);
        ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
        ck_assert_ptr_eq(n, &b.node);
        ck_assert_int_eq(parc_mpsc_push(&q, &a.node, NULL), 0); /* a alone */
        ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
        ck_assert_ptr_eq(n, &a.node);
        ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EAGAIN);
        parc_mpsc_destroy(&q);
    }
}
END_TEST

START_TEST(close_drains_then_epipe)
{
    parc_mpsc_t q;
    struct msg m[3];
    parc_mpsc_node_t *n;
    ck_assert_int_eq(parc_mpsc_init(&q), 0);
    ck_assert_int_eq(parc_mpsc_push(&q, &m[0].node, NULL), 0);
    ck_assert_int_eq(parc_mpsc_push(&q, &m[1].node, NULL), 0);
    ck_assert_int_eq(parc_mpsc_close(&q), 0);
    ck_assert_int_eq(parc_mpsc_close(&q), 0);
    ck_assert(parc_mpsc_is_closed(&q));
    ck_assert_int_eq(parc_mpsc_push(&q, &m[2].node, NULL), EPIPE);
    ck_assert_int_eq(parc_mpsc_pop(&q, &n), 0);
    ck_assert_ptr_eq(n, &m[0].node);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    ck_assert_ptr_eq(n, &m[1].node);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EPIPE);
    ck_assert_int_eq(parc_mpsc_pop(&q, &n), EPIPE);
    ck_assert_int_eq(parc_mpsc_pop_timed(&q, &n, PARC_NS_PER_MS), EPIPE);
}
END_TEST

/* A push whose exchange lands after close's (its early flag check passed
 * before the close): the steps of parc_mpsc_push after that check. */
static uintptr_t exchange_only(parc_mpsc_t *q, parc_mpsc_node_t *n)
{
    parc_store(&n->next, 0, PARC_RELAXED);
    return parc_xchg(&q->head, (uintptr_t)n, PARC_ACQ_REL);
}

START_TEST(push_after_close_is_refused_and_restored)
{
    parc_mpsc_t q;
    struct msg m[2];
    parc_mpsc_node_t *n;
    ck_assert_int_eq(parc_mpsc_init(&q), 0);
    ck_assert_int_eq(parc_mpsc_push(&q, &m[0].node, NULL), 0);
    ck_assert_int_eq(parc_mpsc_close(&q), 0);
    uintptr_t closed_head = parc_load(&q.head, PARC_RELAXED);
    ck_assert_uint_eq(closed_head, (uintptr_t)&q.end);
    uintptr_t prev = exchange_only(&q, &m[1].node);
    ck_assert_uint_eq(prev, closed_head);
    bool e = false; /* (push sets it false before its slow path) */
    ck_assert_int_eq(parc_mpsc_push_slow_(&q, &m[1].node, prev, &e, true), EPIPE);
    ck_assert(!e);
    ck_assert_uint_eq(parc_load(&q.head, PARC_RELAXED), closed_head);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    ck_assert_ptr_eq(n, &m[0].node);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EPIPE);
}
END_TEST

struct refused {
    parc_mpsc_t *q;
    parc_mpsc_node_t *n;
    uintptr_t prev;
    int rc;
};

static void *finish_refused(void *arg)
{
    struct refused *r = arg;
    r->rc = parc_mpsc_push_slow_(r->q, r->n, r->prev, NULL, true);
    return NULL;
}

START_TEST(refused_run_hands_its_verdict_on)
{
    /* Two pushes land after the close, one behind the other. The first
     * cannot put the end back (the second holds the head) and must wait
     * for the second's acknowledgement; the second reads the first's
     * verdict (refused), acks, and restores the end. */
    parc_mpsc_t q;
    struct msg m[3];
    parc_mpsc_node_t *n;
    pthread_t t;
    ck_assert_int_eq(parc_mpsc_init(&q), 0);
    ck_assert_int_eq(parc_mpsc_push(&q, &m[0].node, NULL), 0);
    ck_assert_int_eq(parc_mpsc_close(&q), 0);
    struct refused r1 = { &q, &m[1].node, exchange_only(&q, &m[1].node), -1 };
    uintptr_t prev2 = exchange_only(&q, &m[2].node);
    ck_assert_uint_eq(prev2, (uintptr_t)&m[1].node);
    ck_assert_int_eq(pthread_create(&t, NULL, finish_refused, &r1), 0);
    ck_assert_int_eq(parc_mpsc_push_slow_(&q, &m[2].node, prev2, NULL, true), EPIPE);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(r1.rc, EPIPE);
    ck_assert_uint_eq(parc_load(&q.head, PARC_RELAXED), (uintptr_t)&q.end);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    ck_assert_ptr_eq(n, &m[0].node);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EPIPE);
}
END_TEST

/* A push exchanges before the close but reads the flag after it: it is
 * accepted (close links behind it), takes the initial empty mark, and
 * pops before EPIPE -- with the wake-up (parc_mpsc_push) or without it
 * (parc_mpsc_push_nowake). */
static void check_push_before_close_is_accepted(bool wake)
{
    parc_mpsc_t q;
    struct msg m;
    parc_mpsc_node_t *n;
    ck_assert_int_eq(parc_mpsc_init(&q), 0);
    uintptr_t prev = exchange_only(&q, &m.node);
    ck_assert_int_eq(parc_mpsc_close(&q), 0);
    bool e = false;
    ck_assert_int_eq(parc_mpsc_push_slow_(&q, &m.node, prev, &e, wake), 0);
    ck_assert(e);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    ck_assert_ptr_eq(n, &m.node);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EPIPE);
    ck_assert_int_eq(parc_mpsc_pop(&q, &n), EPIPE);
}

START_TEST(push_before_close_seeing_the_flag_is_accepted)
{
    check_push_before_close_is_accepted(true);
}
END_TEST

struct later {
    parc_mpsc_t *q;
    int what; /* 0 push, 1 close */
    struct msg m;
};

static void *act_later(void *arg)
{
    struct later *l = arg;
    /* Wait until the consumer has marked the queue empty on its way to
     * sleep (a fixed delay is not enough under TSan on a loaded machine). */
    parc_deadline_t d;
    parc_deadline_in(&d, PARC_TEST_PATIENCE_NS);
    while ((parc_load(&l->q->head, PARC_RELAXED) & PARC_MPSC_EMPTY_) == 0 &&
           !parc_deadline_passed(d))
        parc_sleep_ns(PARC_NS_PER_MS);
    parc_sleep_ns(5 * PARC_NS_PER_MS); /* and, most likely, parked */
    if (l->what == 0) {
        bool e = false;
        ck_assert_int_eq(parc_mpsc_push(l->q, &l->m.node, &e), 0);
        ck_assert(e); /* the sleeping consumer had marked it */
    } else {
        parc_mpsc_close(l->q);
    }
    return NULL;
}

START_TEST(blocked_pop_woken_by_push_and_close)
{
    parc_mpsc_t q;
    parc_mpsc_node_t *n;
    pthread_t t;
    ck_assert_int_eq(parc_mpsc_init(&q), 0);
    bool e;
    struct msg first;
    ck_assert_int_eq(parc_mpsc_push(&q, &first.node, &e), 0); /* take the
                                                              * initial mark */
    ck_assert_int_eq(parc_mpsc_pop(&q, &n), 0);
    struct later l = { &q, 0, { 0, 7, { 0 } } };
    ck_assert_int_eq(pthread_create(&t, NULL, act_later, &l), 0);
    ck_assert_int_eq(parc_mpsc_pop_timed(&q, &n, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_ptr_eq(n, &l.m.node);
    ck_assert_int_eq(pthread_join(t, NULL), 0);

    l.what = 1;
    ck_assert_int_eq(pthread_create(&t, NULL, act_later, &l), 0);
    ck_assert_int_eq(parc_mpsc_pop_timed(&q, &n, PARC_TEST_PATIENCE_NS), EPIPE);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
}
END_TEST

/* ---- many producers --------------------------------------------------- */

struct shared {
    parc_mpsc_t q;
    uint32_t per_producer;
    struct msg *msgs;              /* [PRODUCERS * per_producer] */
    uint32_t accepted[PRODUCERS];
};

struct producer_arg {
    struct shared *s;
    uint32_t id;
};

static void *producer(void *arg)
{
    struct producer_arg *a = arg;
    struct shared *s = a->s;
    uint32_t i;
    for (i = 0; i < s->per_producer; i++) {
        struct msg *m = &s->msgs[(size_t)a->id * s->per_producer + i];
        m->producer = a->id;
        m->seq = i;
        int rc = parc_mpsc_push(&s->q, &m->node, NULL);
        if (rc == EPIPE) {
            /* The message is ours again: scribble over it. */
            m->producer = UINT32_MAX;
            parc_store(&m->node.next, (uintptr_t)0xdead0, PARC_RELAXED);
            break;
        }
        ck_assert_int_eq(rc, 0);
        if (i % 64 == 63)
            parc_yield(); /* mix the producers' runs */
    }
    s->accepted[a->id] = i;
    return NULL;
}

/* Pop until EPIPE (or `stop` messages), checking per-producer order. */
static uint64_t consume(struct shared *s, uint64_t stop, uint32_t next[PRODUCERS])
{
    uint64_t got = 0;
    while (got < stop) {
        parc_mpsc_node_t *n;
        int rc = (got % 4 == 0) ? parc_mpsc_pop_timed(&s->q, &n, PARC_NS_PER_MS)
                                : parc_mpsc_pop(&s->q, &n);
        if (rc == EPIPE)
            break;
        if (rc == ETIMEDOUT)
            continue;
        ck_assert_int_eq(rc, 0);
        struct msg *m = msg_of(n);
        ck_assert_uint_lt(m->producer, PRODUCERS);
        ck_assert_uint_eq(m->seq, next[m->producer]); /* exactly once, FIFO */
        next[m->producer]++;
        got++;
    }
    return got;
}

START_TEST(many_producers_exactly_once_in_order)
{
    struct shared *s = calloc(1, sizeof *s);
    ck_assert_int_eq(parc_mpsc_init(&s->q), 0);
    s->per_producer = PER_PRODUCER;
    s->msgs = calloc((size_t)PRODUCERS * PER_PRODUCER, sizeof *s->msgs);
    struct producer_arg pa[PRODUCERS];
    pthread_t pt[PRODUCERS];
    for (uint32_t i = 0; i < PRODUCERS; i++)
        pa[i] = (struct producer_arg){ s, i };
    parc_test_spawn(pt, PRODUCERS, producer, pa, sizeof pa[0]);
    uint64_t total = (uint64_t)PRODUCERS * PER_PRODUCER;
    uint32_t next[PRODUCERS] = { 0 };
    ck_assert_uint_eq(consume(s, total, next), total);
    parc_test_join(pt, PRODUCERS);
    parc_mpsc_node_t *n;
    ck_assert_int_eq(parc_mpsc_pop_try(&s->q, &n), EAGAIN);
    free(s->msgs);
    free(s);
}
END_TEST

struct closer {
    parc_mpsc_t *q;
    int64_t delay_ns;
};

static void *close_later(void *arg)
{
    struct closer *c = arg;
    parc_sleep_ns(c->delay_ns);
    parc_mpsc_close(c->q);
    return NULL;
}

START_TEST(close_racing_push_loses_nothing)
{
    for (int round = 0; round < 20; round++) {
        struct shared *s = calloc(1, sizeof *s);
        ck_assert_int_eq(parc_mpsc_init(&s->q), 0);
        s->per_producer = PER_PRODUCER;
        s->msgs = calloc((size_t)PRODUCERS * PER_PRODUCER, sizeof *s->msgs);
        struct producer_arg pa[PRODUCERS];
        pthread_t pt[PRODUCERS], tc;
        for (uint32_t i = 0; i < PRODUCERS; i++)
            pa[i] = (struct producer_arg){ s, i };
        struct closer c = { &s->q, (round % 5) * 100 * PARC_NS_PER_US };
        parc_test_spawn(pt, PRODUCERS, producer, pa, sizeof pa[0]);
        ck_assert_int_eq(pthread_create(&tc, NULL, close_later, &c), 0);
        uint32_t next[PRODUCERS] = { 0 };
        uint64_t got = consume(s, UINT64_MAX, next);
        parc_test_join(pt, PRODUCERS);
        ck_assert_int_eq(pthread_join(tc, NULL), 0);
        /* each producer's accepted pushes popped, in order, nothing else */
        for (int p = 0; p < PRODUCERS; p++)
            ck_assert_uint_eq(next[p], s->accepted[p]);
        uint64_t accepted = 0;
        for (int p = 0; p < PRODUCERS; p++)
            accepted += s->accepted[p];
        ck_assert_uint_eq(got, accepted);
        free(s->msgs);
        free(s);
    }
}
END_TEST

START_TEST(nowake_reports_the_mark_and_keeps_order)
{
    parc_mpsc_t q;
    struct msg m[4];
    parc_mpsc_node_t *n;
    bool e = true;
    ck_assert_int_eq(parc_mpsc_push_nowake(NULL, &m[0].node, &e), EINVAL);
    ck_assert(!e);
    ck_assert_int_eq(parc_mpsc_init(&q), 0);
    ck_assert_int_eq(parc_mpsc_push_nowake(&q, NULL, &e), EINVAL);
    ck_assert_int_eq(parc_mpsc_push_nowake(&q, &m[0].node, &e), 0);
    ck_assert(e); /* a new queue starts marked empty */
    ck_assert_int_eq(parc_mpsc_push_nowake(&q, &m[1].node, &e), 0);
    ck_assert(!e);
    ck_assert_int_eq(parc_mpsc_push_nowake(&q, &m[2].node, NULL), 0);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    ck_assert_ptr_eq(n, &m[0].node);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    ck_assert_ptr_eq(n, &m[1].node);
    ck_assert(!parc_mpsc_mark_empty(&q)); /* m[2] is still there */
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    ck_assert_ptr_eq(n, &m[2].node);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EAGAIN);
    /* empty but not marked: no report */
    ck_assert_int_eq(parc_mpsc_push_nowake(&q, &m[3].node, &e), 0);
    ck_assert(!e);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    ck_assert_ptr_eq(n, &m[3].node);
    ck_assert(parc_mpsc_mark_empty(&q));
    /* the two pushes share the mark: exactly one of them takes it */
    ck_assert_int_eq(parc_mpsc_push(&q, &m[0].node, &e), 0);
    ck_assert(e);
    ck_assert_int_eq(parc_mpsc_push_nowake(&q, &m[1].node, &e), 0);
    ck_assert(!e);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    ck_assert(parc_mpsc_mark_empty(&q));
    ck_assert_int_eq(parc_mpsc_push_nowake(&q, &m[2].node, &e), 0);
    ck_assert(e);
    ck_assert_int_eq(parc_mpsc_close(&q), 0);
    ck_assert_int_eq(parc_mpsc_push_nowake(&q, &m[3].node, &e), EPIPE);
    ck_assert(!e);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), 0);
    ck_assert_ptr_eq(n, &m[2].node);
    ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EPIPE);
    parc_mpsc_destroy(&q);
}
END_TEST

START_TEST(nowake_slow_path_reports_the_mark)
{
    /* The close-race path of the variant. */
    check_push_before_close_is_accepted(false);
}
END_TEST

/* A scheduled consumer, as in the actor scheduler: it runs only while it
 * holds the token; it gives the token up by marking the queue empty, and
 * the producer whose push_nowake reports was_empty hands it back (here
 * by raising `turns`; nobody sleeps in pop). Wrong reports lose the
 * consumer (no token: the test never ends) or run it twice (two tokens:
 * the count check fails). */
struct sched_shared {
    parc_mpsc_t q;
    struct msg *msgs;
    uint32_t per_producer;
    parc_atomic(uint32_t) turns;     /* tokens handed over, ever */
};

struct sched_producer {
    struct sched_shared *s;
    uint32_t id;
};

static void *sched_producer(void *arg)
{
    struct sched_producer *a = arg;
    struct sched_shared *s = a->s;
    for (uint32_t i = 0; i < s->per_producer; i++) {
        struct msg *m = &s->msgs[(size_t)a->id * s->per_producer + i];
        m->producer = a->id;
        m->seq = i;
        bool e;
        ck_assert_int_eq(parc_mpsc_push_nowake(&s->q, &m->node, &e), 0);
        /* release: our push comes before the consumer's turn; pairs with
         * its acquire load of turns. */
        if (e)
            parc_faa(&s->turns, 1u, PARC_RELEASE);
        if (i % 64 == 63)
            parc_yield();
    }
    return NULL;
}

START_TEST(nowake_schedules_a_polling_consumer)
{
    struct sched_shared *s = calloc(1, sizeof *s);
    ck_assert_int_eq(parc_mpsc_init(&s->q), 0);
    s->per_producer = PER_PRODUCER;
    s->msgs = calloc((size_t)PRODUCERS * PER_PRODUCER, sizeof *s->msgs);
    struct sched_producer pa[PRODUCERS];
    pthread_t pt[PRODUCERS];
    for (uint32_t i = 0; i < PRODUCERS; i++)
        pa[i] = (struct sched_producer){ s, i };
    parc_test_spawn(pt, PRODUCERS, sched_producer, pa, sizeof pa[0]);
    uint64_t total = (uint64_t)PRODUCERS * PER_PRODUCER, got = 0;
    uint32_t next[PRODUCERS] = { 0 }, taken = 0;
    int64_t give_up = parc_now_ns() + PARC_TEST_PATIENCE_NS;
    while (got < total) {
        /* Wait for a token (the initial mark is taken by the first push). */
        /* acquire: pairs with the release increment of the producer. */
        while (parc_load(&s->turns, PARC_ACQUIRE) == taken) {
            ck_assert_int_lt(parc_now_ns(), give_up);
            parc_yield();
        }
        taken++;
        ck_assert_uint_eq(parc_load(&s->turns, PARC_ACQUIRE), taken);
        for (;;) { /* one turn: pop until the queue can be marked empty */
            parc_mpsc_node_t *n;
            int rc = parc_mpsc_pop_try(&s->q, &n);
            if (rc == EAGAIN) {
                if (parc_mpsc_mark_empty(&s->q))
                    break;
                parc_yield(); /* a push in flight */
                continue;
            }
            ck_assert_int_eq(rc, 0);
            struct msg *m = msg_of(n);
            ck_assert_uint_lt(m->producer, PRODUCERS);
            ck_assert_uint_eq(m->seq, next[m->producer]);
            next[m->producer]++;
            got++;
        }
    }
    parc_test_join(pt, PRODUCERS);
    /* Every mark we set was taken by exactly one push, the last one too
     * is ours to keep: no token is left over. */
    ck_assert_uint_eq(parc_load(&s->turns, PARC_ACQUIRE), taken);
    free(s->msgs);
    free(s);
}
END_TEST

START_TEST(pace_grows_only_with_a_backlog)
{
    /* The blocking pop pauses when it catches up only after it saw a
     * stream (a second message queued behind the one it waited for); a
     * hand-off (one message at a time) never pays the pause. */
    parc_mpsc_t q;
    struct msg m[4];
    parc_mpsc_node_t *n;
    ck_assert_int_eq(parc_mpsc_init(&q), 0);
    for (int i = 0; i < 3; i++) { /* hand-offs */
        ck_assert_int_eq(parc_mpsc_push(&q, &m[0].node, NULL), 0);
        ck_assert_int_eq(parc_mpsc_pop(&q, &n), 0);
        ck_assert_ptr_eq(n, &m[0].node);
        ck_assert_uint_eq(q.pace, 0);
    }
    for (int round = 0; round < 8; round++) { /* a stream: a backlog */
        for (int i = 0; i < 4; i++)
            ck_assert_int_eq(parc_mpsc_push(&q, &m[i].node, NULL), 0);
        ck_assert_int_eq(parc_mpsc_pop(&q, &n), 0); /* waits: tail was the stub */
        ck_assert_ptr_eq(n, &m[0].node);
        ck_assert_uint_gt(q.pace, 0); /* a backlog: pause next time */
        ck_assert_uint_le(q.pace, 64); /* bounded (a few hundred ns) */
        for (int i = 1; i < 4; i++) {
            ck_assert_int_eq(parc_mpsc_pop(&q, &n), 0);
            ck_assert_ptr_eq(n, &m[i].node);
        }
        ck_assert_int_eq(parc_mpsc_pop_try(&q, &n), EAGAIN);
    }
    for (int i = 0; i < 16 && q.pace != 0; i++) { /* hand-offs again */
        ck_assert_int_eq(parc_mpsc_push(&q, &m[0].node, NULL), 0);
        ck_assert_int_eq(parc_mpsc_pop(&q, &n), 0);
        ck_assert_ptr_eq(n, &m[0].node);
    }
    ck_assert_uint_eq(q.pace, 0); /* back to an immediate look */
    parc_mpsc_destroy(&q);
}
END_TEST

static Suite *mpsc_suite(void)
{
    Suite *s = suite_create("mpsc");
    TCase *tc = tcase_create("mpsc");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_test(tc, two_cache_lines);
    tcase_add_test(tc, rejects_bad_arguments);
    tcase_add_test(tc, fifo_and_entry);
    tcase_add_test(tc, create_and_free);
    tcase_add_test(tc, was_empty_reports_the_mark);
    tcase_add_test(tc, in_flight_push_is_not_empty_nor_closed);
    tcase_add_test(tc, in_flight_behind_last_node_then_reused);
    tcase_add_test(tc, in_flight_node_then_alone_by_every_pop);
    tcase_add_test(tc, close_drains_then_epipe);
    tcase_add_test(tc, push_after_close_is_refused_and_restored);
    tcase_add_test(tc, refused_run_hands_its_verdict_on);
    tcase_add_test(tc, push_before_close_seeing_the_flag_is_accepted);
    tcase_add_test(tc, blocked_pop_woken_by_push_and_close);
    tcase_add_test(tc, many_producers_exactly_once_in_order);
    tcase_add_test(tc, close_racing_push_loses_nothing);
    tcase_add_test(tc, nowake_reports_the_mark_and_keeps_order);
    tcase_add_test(tc, nowake_slow_path_reports_the_mark);
    tcase_add_test(tc, nowake_schedules_a_polling_consumer);
    tcase_add_test(tc, pace_grows_only_with_a_backlog);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(mpsc_suite());
}
