/*
 * Unit tests for parc/queue.h.
 *
 * Semantics follow CPython 3.13's queue module; each test names the Python
 * behaviour it checks. The many-thread test runs producers and consumers
 * through a small bounded queue (both sides block often) and checks that
 * every item arrives exactly once, in per-producer order for FIFO, and
 * that join returns only after every item was task_done'd.
 */
#include <stdint.h>
#include <time.h>

#include "parc/queue.h"
#include "testutil.h"

#define V(i) ((void *)(uintptr_t)(i))
#define I(v) ((uintptr_t)(v))

/* Priority items: key in the high bits, identity in the low 16. */
#define PRIO(key, id) V(((uintptr_t)(key) << 16) | (uintptr_t)(id))
static int by_key(const void *a, const void *b, void *arg)
{
    (void)arg;
    uintptr_t ka = I(a) >> 16, kb = I(b) >> 16;
    return ka < kb ? -1 : ka > kb;
}

START_TEST(rejects_bad_arguments)
{
    parc_queue_t q;
    void *v;
    ck_assert_int_eq(parc_queue_init(NULL, 0, PARC_QUEUE_FIFO, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_queue_init(&q, -1, PARC_QUEUE_FIFO, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_queue_init(&q, 0, (parc_queue_order_t)7, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_queue_init(&q, 0, PARC_QUEUE_PRIORITY, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_queue_init(&q, 0, PARC_QUEUE_FIFO, NULL, NULL), 0);
    ck_assert_int_eq(parc_queue_put(NULL, V(1)), EINVAL);
    ck_assert_int_eq(parc_queue_put_try(NULL, V(1)), EINVAL);
    ck_assert_int_eq(parc_queue_put_timed(NULL, V(1), 0), EINVAL);
    ck_assert_int_eq(parc_queue_put_timed(&q, V(1), -1), EINVAL);
    ck_assert_int_eq(parc_queue_get(NULL, &v), EINVAL);
    ck_assert_int_eq(parc_queue_get(&q, NULL), EINVAL);
    ck_assert_int_eq(parc_queue_get_try(&q, NULL), EINVAL);
    ck_assert_int_eq(parc_queue_get_timed(&q, &v, -1), EINVAL);
    ck_assert_int_eq(parc_queue_task_done(NULL), EINVAL);
    ck_assert_int_eq(parc_queue_join(NULL), EINVAL);
    ck_assert_int_eq(parc_queue_join_try(NULL), EINVAL);
    ck_assert_int_eq(parc_queue_join_timed(&q, -1), EINVAL);
    ck_assert_int_eq(parc_queue_shutdown(NULL, false), EINVAL);
    ck_assert_int_eq(parc_queue_shutdown_drop(&q, NULL, NULL), EINVAL);
    ck_assert_uint_eq(parc_queue_qsize(NULL), 0);
    ck_assert(parc_queue_empty(NULL));
    ck_assert(!parc_queue_full(NULL));
    ck_assert(!parc_queue_is_shutdown(NULL));
    /* task_done more often than put: Python's ValueError */
    ck_assert_int_eq(parc_queue_task_done(&q), EINVAL);
    ck_assert_int_eq(parc_queue_destroy(&q), 0);
    ck_assert_int_eq(parc_queue_destroy(NULL), EINVAL);
}
END_TEST

/* The short FIFO init and the heap forms (issue 14): the same queue as
 * parc_queue_init(q, maxsize, FIFO, NULL, NULL); the heap one is
 * cache-line aligned as the struct demands. */
START_TEST(init_fifo_and_heap_forms)
{
    parc_queue_t q;
    void *v;
    ck_assert_int_eq(parc_queue_init_fifo(NULL, 2), EINVAL);
    ck_assert_int_eq(parc_queue_init_fifo(&q, -1), EINVAL);
    ck_assert_int_eq(parc_queue_init_fifo(&q, INT64_C(1) << 62), EINVAL);
    ck_assert_int_eq(parc_queue_init_fifo(&q, 2), 0);
    ck_assert_int_eq(parc_queue_put(&q, V(1)), 0);
    ck_assert_int_eq(parc_queue_put(&q, V(2)), 0);
    ck_assert_int_eq(parc_queue_put_try(&q, V(3)), EAGAIN); /* bounded */
    ck_assert_int_eq(parc_queue_get(&q, &v), 0);
    ck_assert_ptr_eq(v, V(1)); /* FIFO */
    ck_assert_int_eq(parc_queue_destroy(&q), 0);

    parc_queue_t *h = NULL;
    ck_assert_int_eq(parc_queue_create(NULL, 0, PARC_QUEUE_FIFO, NULL, NULL),
                     EINVAL);
    ck_assert_int_eq(parc_queue_create(&h, 0, PARC_QUEUE_PRIORITY, NULL, NULL),
                     EINVAL);
    ck_assert_ptr_null(h);
    ck_assert_int_eq(parc_queue_create(&h, 0, PARC_QUEUE_LIFO, NULL, NULL), 0);
    ck_assert_ptr_nonnull(h);
    ck_assert_uint_eq((uintptr_t)h % PARC_CACHELINE, 0);
    ck_assert_int_eq(parc_queue_put(h, V(1)), 0);
    ck_assert_int_eq(parc_queue_put(h, V(2)), 0);
    ck_assert_int_eq(parc_queue_get(h, &v), 0);
    ck_assert_ptr_eq(v, V(2)); /* LIFO */
    parc_queue_free(h); /* with an item still inside: not the queue's */
    parc_queue_free(NULL);
}
END_TEST

START_TEST(fifo_lifo_and_static_init)
{
    parc_queue_t f = PARC_QUEUE_INIT, l;
    ck_assert_int_eq(parc_queue_init(&l, 0, PARC_QUEUE_LIFO, NULL, NULL), 0);
    void *v = V(77);
    ck_assert_int_eq(parc_queue_get_try(&f, &v), EAGAIN);
    ck_assert_ptr_eq(v, V(77));
    const uintptr_t n = 5000; /* grows past MIN_CAP many times */
    for (uintptr_t i = 0; i < n; i++) {
        ck_assert_int_eq(parc_queue_put(&f, V(i)), 0);
        ck_assert_int_eq(parc_queue_put_try(&l, V(i)), 0);
    }
    ck_assert_uint_eq(parc_queue_qsize(&f), n);
    ck_assert(!parc_queue_full(&f)); /* unbounded is never full */
    for (uintptr_t i = 0; i < n; i++) {
        ck_assert_int_eq(parc_queue_get(&f, &v), 0);
        ck_assert_uint_eq(I(v), i);
        ck_assert_int_eq(parc_queue_get_try(&l, &v), 0);
        ck_assert_uint_eq(I(v), n - 1 - i);
    }
    ck_assert(parc_queue_empty(&f));
    /* memory was given back as the queues drained */
    ck_assert_uint_le(f.cap, 64);
    ck_assert_uint_le(l.cap, 64);
    ck_assert_int_eq(parc_queue_put(&f, NULL), 0); /* NULL is an item */
    ck_assert_int_eq(parc_queue_get_timed(&f, &v, 0), 0);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(parc_queue_destroy(&f), 0);
    ck_assert_int_eq(parc_queue_destroy(&l), 0);
}
END_TEST

START_TEST(priority_is_stable)
{
    parc_queue_t q;
    ck_assert_int_eq(parc_queue_init(&q, 0, PARC_QUEUE_PRIORITY, by_key, NULL), 0);
    /* 600 items over 5 keys, keys in a scrambled order */
    enum { N = 600, KEYS = 5 };
    for (unsigned i = 0; i < N; i++)
        ck_assert_int_eq(parc_queue_put(&q, PRIO((i * 7 + 3) % KEYS, i)), 0);
    void *v;
    uintptr_t last_key = 0, last_id = 0;
    for (unsigned i = 0; i < N; i++) {
        ck_assert_int_eq(parc_queue_get(&q, &v), 0);
        uintptr_t key = I(v) >> 16, id = I(v) & 0xFFFF;
        if (i > 0) {
            ck_assert_uint_ge(key, last_key);
            if (key == last_key)
                ck_assert_uint_gt(id, last_id); /* FIFO among equals */
        }
        last_key = key;
        last_id = id;
    }
    ck_assert_int_eq(parc_queue_get_try(&q, &v), EAGAIN);
    ck_assert_int_eq(parc_queue_destroy(&q), 0);
}
END_TEST

START_TEST(bounded_full_and_timeouts)
{
    parc_queue_t q;
    ck_assert_int_eq(parc_queue_init(&q, 2, PARC_QUEUE_FIFO, NULL, NULL), 0);
    void *v;
    ck_assert_int_eq(parc_queue_get_timed(&q, &v, 0), ETIMEDOUT);
    int64_t t0 = parc_now_ns();
    ck_assert_int_eq(parc_queue_get_timed(&q, &v, 10 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns() - t0, 10 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_queue_put(&q, V(1)), 0);
    ck_assert_int_eq(parc_queue_put(&q, V(2)), 0);
    ck_assert(parc_queue_full(&q));
    ck_assert_int_eq(parc_queue_put_try(&q, V(3)), EAGAIN);
    ck_assert_int_eq(parc_queue_put_timed(&q, V(3), 0), ETIMEDOUT);
    t0 = parc_now_ns();
    ck_assert_int_eq(parc_queue_put_timed(&q, V(3), 10 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns() - t0, 10 * PARC_NS_PER_MS);
    ck_assert_uint_eq(parc_queue_qsize(&q), 2);
    ck_assert_int_eq(parc_queue_get(&q, &v), 0);
    ck_assert_uint_eq(I(v), 1);
    ck_assert(!parc_queue_full(&q));
    ck_assert_int_eq(parc_queue_put_timed(&q, V(3), PARC_NS_PER_MS), 0);
    ck_assert_int_eq(parc_queue_destroy(&q), 0);
}
END_TEST

/* ---- blocked callers ---------------------------------------------------- */

enum op { OP_GET, OP_PUT, OP_JOIN };

struct caller {
    parc_queue_t *q;
    enum op op;
    void *item;
    int rc;
};

static void *call_blocking(void *arg)
{
    struct caller *c = arg;
    switch (c->op) {
    case OP_GET:
        c->rc = parc_queue_get(c->q, &c->item);
        break;
    case OP_PUT:
        c->rc = parc_queue_put(c->q, c->item);
        break;
    default:
        c->rc = parc_queue_join(c->q);
        break;
    }
    return NULL;
}

START_TEST(task_done_and_join)
{
    parc_queue_t q;
    ck_assert_int_eq(parc_queue_init(&q, 0, PARC_QUEUE_FIFO, NULL, NULL), 0);
    ck_assert_int_eq(parc_queue_join(&q), 0); /* nothing put: returns */
    for (uintptr_t i = 0; i < 3; i++)
        ck_assert_int_eq(parc_queue_put(&q, V(i)), 0);
    ck_assert_int_eq(parc_queue_join_try(&q), EAGAIN);
    ck_assert_int_eq(parc_queue_join_timed(&q, PARC_NS_PER_MS), ETIMEDOUT);
    struct caller j = { &q, OP_JOIN, NULL, -1 };
    pthread_t th;
    parc_test_spawn(&th, 1, call_blocking, &j, 0);
    void *v;
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(parc_queue_get(&q, &v), 0);
        /* the join must still be waiting: one task is not done */
        ck_assert_int_eq(parc_queue_join_try(&q), EAGAIN);
        ck_assert_int_eq(parc_queue_task_done(&q), 0);
    }
    parc_test_join(&th, 1);
    ck_assert_int_eq(j.rc, 0);
    ck_assert_int_eq(parc_queue_join_try(&q), 0);
    ck_assert_int_eq(parc_queue_task_done(&q), EINVAL); /* one too many */
    ck_assert_int_eq(parc_queue_destroy(&q), 0);
}
END_TEST

/* A blocking call whose return the test thread can watch. */
struct flagged {
    struct caller c;
    parc_atomic(int) done;
};

static void *call_and_flag(void *arg)
{
    struct flagged *f = arg;
    call_blocking(&f->c);
    /* release: publishes the caller's rc/item to the acquire load below */
    parc_store(&f->done, 1, PARC_RELEASE);
    return NULL;
}

static bool returned_in_time(struct flagged *f)
{
    parc_deadline_t patience;
    parc_deadline_in(&patience, PARC_TEST_PATIENCE_NS);
    /* acquire: pairs with the release store in call_and_flag */
    while (!parc_load(&f->done, PARC_ACQUIRE) && !parc_deadline_passed(patience))
        parc_sleep_ns(PARC_NS_PER_MS / 10);
    return parc_load(&f->done, PARC_ACQUIRE) != 0;
}

/* No lost wake-up, with no shutdown to rescue a waiter: a parked get
 * returns after a put, a parked put after a get. Half the rounds act at
 * once (the waiter is still spinning), half after it has parked. */
START_TEST(put_and_get_wake_parked_waiters)
{
    for (int order = 0; order < 3; order++) {
        parc_queue_t q;
        ck_assert_int_eq(parc_queue_init(&q, 1, (parc_queue_order_t)order,
                                         order == PARC_QUEUE_PRIORITY ? by_key : NULL, NULL), 0);
        for (uintptr_t round = 0; round < 20; round++) {
            void *v;
            /* a get parked on the empty queue, woken by a put */
            struct flagged g = { { &q, OP_GET, NULL, -1 }, 0 };
            pthread_t th;
            ck_assert_int_eq(pthread_create(&th, NULL, call_and_flag, &g), 0);
            if (round % 2)
                parc_sleep_ns(2 * PARC_NS_PER_MS);
            ck_assert_int_eq(parc_queue_put(&q, V(round + 1)), 0);
            ck_assert_msg(returned_in_time(&g), "order %d round %u: get stayed parked",
                          order, (unsigned)round);
            ck_assert_int_eq(pthread_join(th, NULL), 0);
            ck_assert_int_eq(g.c.rc, 0);
            ck_assert_uint_eq(I(g.c.item), round + 1);
            /* a put parked on the full queue, woken by a get */
            ck_assert_int_eq(parc_queue_put(&q, V(1)), 0);
            struct flagged p = { { &q, OP_PUT, V(2), -1 }, 0 };
            ck_assert_int_eq(pthread_create(&th, NULL, call_and_flag, &p), 0);
            if (round % 2)
                parc_sleep_ns(2 * PARC_NS_PER_MS);
            ck_assert_int_eq(parc_queue_get(&q, &v), 0);
            ck_assert_msg(returned_in_time(&p), "order %d round %u: put stayed parked",
                          order, (unsigned)round);
            ck_assert_int_eq(pthread_join(th, NULL), 0);
            ck_assert_int_eq(p.c.rc, 0);
            ck_assert_int_eq(parc_queue_get(&q, &v), 0);
            ck_assert_uint_eq(I(v), 2);
            /* a join parked on unfinished tasks, woken by the last
             * task_done (puts so far: 3 per round, 2 of them done) */
            for (int i = 0; i < 2; i++)
                ck_assert_int_eq(parc_queue_task_done(&q), 0);
            struct flagged j = { { &q, OP_JOIN, NULL, -1 }, 0 };
            ck_assert_int_eq(pthread_create(&th, NULL, call_and_flag, &j), 0);
            if (round % 2)
                parc_sleep_ns(2 * PARC_NS_PER_MS);
            ck_assert_int_eq(parc_queue_task_done(&q), 0);
            ck_assert_msg(returned_in_time(&j), "order %d round %u: join stayed parked",
                          order, (unsigned)round);
            ck_assert_int_eq(pthread_join(th, NULL), 0);
            ck_assert_int_eq(j.c.rc, 0);
        }
        ck_assert_int_eq(parc_queue_destroy(&q), 0);
    }
}
END_TEST

/* ---- an idle waiter must not burn a core ----------------------------- */

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * PARC_NS_PER_S + ts.tv_nsec;
}

/* A timed call that waits out its whole second, with the CPU time its
 * thread spent meanwhile. */
struct idle {
    struct caller c;
    int64_t cpu_ns, wall_ns;
};

static void *idle_wait(void *arg)
{
    struct idle *i = arg;
    int64_t cpu0 = thread_cpu_ns(), t0 = parc_now_ns();
    switch (i->c.op) {
    case OP_GET:
        i->c.rc = parc_queue_get_timed(i->c.q, &i->c.item, PARC_NS_PER_S);
        break;
    case OP_PUT:
        i->c.rc = parc_queue_put_timed(i->c.q, i->c.item, PARC_NS_PER_S);
        break;
    case OP_JOIN:
        i->c.rc = parc_queue_join_timed(i->c.q, PARC_NS_PER_S);
        break;
    }
    i->cpu_ns = thread_cpu_ns() - cpu0;
    i->wall_ns = parc_now_ns() - t0;
    return NULL;
}

/* A get on an empty queue, a put on a full one and a join with a task
 * left, each waiting a second with nothing happening: after a short spin
 * (~25 us) each must sleep, far below 5% of a core over the second. */
START_TEST(idle_waiters_burn_no_cpu)
{
    parc_queue_t empty, full;
    ck_assert_int_eq(parc_queue_init(&empty, 0, PARC_QUEUE_FIFO, NULL, NULL), 0);
    ck_assert_int_eq(parc_queue_init(&full, 1, PARC_QUEUE_FIFO, NULL, NULL), 0);
    ck_assert_int_eq(parc_queue_put(&full, V(1)), 0); /* full; task open */
    struct idle w[3] = {
        { { &empty, OP_GET, NULL, -1 }, 0, 0 },
        { { &full, OP_PUT, V(2), -1 }, 0, 0 },
        { { &full, OP_JOIN, NULL, -1 }, 0, 0 },
    };
    pthread_t th[3];
    parc_test_spawn(th, 3, idle_wait, w, sizeof w[0]);
    parc_test_join(th, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(w[i].c.rc, ETIMEDOUT);
        ck_assert_int_ge(w[i].wall_ns, PARC_NS_PER_S);
        ck_assert_msg(w[i].cpu_ns <= w[i].wall_ns / 20,
                      "waiter %d used %lld ns of CPU in %lld ns", i,
                      (long long)w[i].cpu_ns, (long long)w[i].wall_ns);
    }
    ck_assert_int_eq(parc_queue_destroy(&empty), 0);
    ck_assert_int_eq(parc_queue_destroy(&full), 0);
}
END_TEST

/* Start callers, give them time to block, run `shutdown`, join them. */
static void run_blocked(struct caller *c, int n, void (*shutdown)(parc_queue_t *),
                        parc_queue_t *q)
{
    pthread_t th[8];
    ck_assert_int_le(n, 8);
    parc_test_spawn(th, n, call_blocking, c, sizeof c[0]);
    parc_sleep_ns(20 * PARC_NS_PER_MS); /* let them park (not required) */
    shutdown(q);
    parc_test_join(th, n);
}

static void shut_gentle(parc_queue_t *q) { ck_assert_int_eq(parc_queue_shutdown(q, false), 0); }
static void shut_now(parc_queue_t *q) { ck_assert_int_eq(parc_queue_shutdown(q, true), 0); }

START_TEST(shutdown_wakes_blocked_getters_and_putters)
{
    for (int immediate = 0; immediate < 2; immediate++) {
        /* getters blocked on an empty queue */
        parc_queue_t e;
        ck_assert_int_eq(parc_queue_init(&e, 0, PARC_QUEUE_FIFO, NULL, NULL), 0);
        struct caller g[4];
        for (int i = 0; i < 4; i++)
            g[i] = (struct caller){ &e, OP_GET, NULL, -1 };
        run_blocked(g, 4, immediate ? shut_now : shut_gentle, &e);
        for (int i = 0; i < 4; i++)
            ck_assert_int_eq(g[i].rc, EPIPE);
        ck_assert_int_eq(parc_queue_put(&e, V(1)), EPIPE);
        ck_assert_int_eq(parc_queue_put_try(&e, V(1)), EPIPE);
        ck_assert(parc_queue_is_shutdown(&e));
        ck_assert_int_eq(parc_queue_destroy(&e), 0);

        /* putters blocked on a full queue; the queued items stay
         * readable after a gentle shutdown, go after an immediate one */
        parc_queue_t f;
        ck_assert_int_eq(parc_queue_init(&f, 2, PARC_QUEUE_FIFO, NULL, NULL), 0);
        ck_assert_int_eq(parc_queue_put(&f, V(1)), 0);
        ck_assert_int_eq(parc_queue_put(&f, V(2)), 0);
        struct caller p[4];
        for (int i = 0; i < 4; i++)
            p[i] = (struct caller){ &f, OP_PUT, V(10 + i), -1 };
        run_blocked(p, 4, immediate ? shut_now : shut_gentle, &f);
        for (int i = 0; i < 4; i++)
            ck_assert_int_eq(p[i].rc, EPIPE);
        void *v;
        if (!immediate) {
            ck_assert_int_eq(parc_queue_get(&f, &v), 0);
            ck_assert_uint_eq(I(v), 1);
            ck_assert_int_eq(parc_queue_get_try(&f, &v), 0);
            ck_assert_uint_eq(I(v), 2);
        }
        ck_assert_int_eq(parc_queue_get(&f, &v), EPIPE);
        ck_assert_int_eq(parc_queue_get_try(&f, &v), EPIPE);
        ck_assert_int_eq(parc_queue_get_timed(&f, &v, PARC_NS_PER_MS), EPIPE);
        ck_assert_int_eq(parc_queue_destroy(&f), 0);
    }
}
END_TEST

START_TEST(shutdown_and_join)
{
    /* gentle: join waits until the drained items are task_done'd */
    parc_queue_t q;
    ck_assert_int_eq(parc_queue_init(&q, 0, PARC_QUEUE_LIFO, NULL, NULL), 0);
    ck_assert_int_eq(parc_queue_put(&q, V(1)), 0);
    ck_assert_int_eq(parc_queue_put(&q, V(2)), 0);
    struct caller j[3];
    for (int i = 0; i < 3; i++)
        j[i] = (struct caller){ &q, OP_JOIN, NULL, -1 };
    pthread_t th[3];
    parc_test_spawn(th, 3, call_blocking, j, sizeof j[0]);
    ck_assert_int_eq(parc_queue_shutdown(&q, false), 0);
    ck_assert_int_eq(parc_queue_join_try(&q), EAGAIN);
    void *v;
    while (parc_queue_get(&q, &v) == 0)
        ck_assert_int_eq(parc_queue_task_done(&q), 0);
    parc_test_join(th, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(j[i].rc, 0);
    ck_assert_int_eq(parc_queue_destroy(&q), 0);

    /* immediate: dropping the items releases every join */
    ck_assert_int_eq(parc_queue_init(&q, 0, PARC_QUEUE_FIFO, NULL, NULL), 0);
    for (uintptr_t i = 0; i < 100; i++)
        ck_assert_int_eq(parc_queue_put(&q, V(i)), 0);
    for (int i = 0; i < 3; i++)
        j[i] = (struct caller){ &q, OP_JOIN, NULL, -1 };
    run_blocked(j, 3, shut_now, &q);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(j[i].rc, 0);
    ck_assert_uint_eq(parc_queue_qsize(&q), 0);
    ck_assert_int_eq(parc_queue_get_try(&q, &v), EPIPE);
    ck_assert_int_eq(parc_queue_destroy(&q), 0);
}
END_TEST

struct dropped {
    uintptr_t next;
    int bad;
};

static void drop_in_order(void *item, void *arg)
{
    struct dropped *d = arg;
    uintptr_t key = I(item) >> 16;
    if (key != d->next++)
        d->bad++;
}

START_TEST(shutdown_drop_hands_items_back_in_order)
{
    parc_queue_t q;
    ck_assert_int_eq(parc_queue_init(&q, 0, PARC_QUEUE_PRIORITY, by_key, NULL), 0);
    for (unsigned i = 0; i < 50; i++)
        ck_assert_int_eq(parc_queue_put(&q, PRIO((i * 17) % 50, i)), 0);
    void *v;
    ck_assert_int_eq(parc_queue_get(&q, &v), 0); /* key 0, task not done */
    struct dropped d = { 1, 0 };
    ck_assert_int_eq(parc_queue_shutdown_drop(&q, drop_in_order, &d), 0);
    ck_assert_int_eq(d.bad, 0);
    ck_assert_uint_eq(d.next, 50);
    /* 49 dropped count as done; the one got is still unfinished */
    ck_assert_int_eq(parc_queue_join_try(&q), EAGAIN);
    ck_assert_int_eq(parc_queue_task_done(&q), 0);
    ck_assert_int_eq(parc_queue_join_try(&q), 0);
    ck_assert_int_eq(parc_queue_destroy(&q), 0);
}
END_TEST

static void drop_fifo(void *item, void *arg)
{
    struct dropped *d = arg;
    if (I(item) != d->next++)
        d->bad++;
}

/* FIFO storage is a chain of segments (64, 128, ... 1024 slots): order
 * holds across every boundary, while the two ends are in different
 * segments and after the queue drained (the spare segment reused), and an
 * immediate shutdown hands back exactly the items left, in order, across
 * several segments. */
START_TEST(fifo_order_across_segments)
{
    parc_queue_t q;
    void *v;
    ck_assert_int_eq(parc_queue_init(&q, 0, PARC_QUEUE_FIFO, NULL, NULL), 0);
    uintptr_t put = 0, got = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 5000; i++) /* 64+128+256+512+1024+... */
            ck_assert_int_eq(parc_queue_put(&q, V(put++)), 0);
        for (int i = 0; i < 2500; i++) {
            ck_assert_int_eq(parc_queue_get_try(&q, &v), 0);
            ck_assert_uint_eq(I(v), got++);
        }
        for (int i = 0; i < 3000; i++) { /* both ends move */
            ck_assert_int_eq(parc_queue_put(&q, V(put++)), 0);
            ck_assert_int_eq(parc_queue_get_try(&q, &v), 0);
            ck_assert_uint_eq(I(v), got++);
        }
        while (got < put) {
            ck_assert_int_eq(parc_queue_get_try(&q, &v), 0);
            ck_assert_uint_eq(I(v), got++);
        }
        ck_assert_int_eq(parc_queue_get_try(&q, &v), EAGAIN);
        ck_assert_uint_eq(parc_queue_qsize(&q), 0);
    }
    for (int i = 0; i < 3000; i++)
        ck_assert_int_eq(parc_queue_put(&q, V(put++)), 0);
    for (int i = 0; i < 1000; i++) {
        ck_assert_int_eq(parc_queue_get_try(&q, &v), 0);
        ck_assert_uint_eq(I(v), got++);
    }
    struct dropped d = { got, 0 };
    ck_assert_int_eq(parc_queue_shutdown_drop(&q, drop_fifo, &d), 0);
    ck_assert_int_eq(d.bad, 0);
    ck_assert_uint_eq(d.next, put);
    ck_assert_int_eq(parc_queue_get_try(&q, &v), EPIPE);
    ck_assert_int_eq(parc_queue_put(&q, V(1)), EPIPE);
    ck_assert_int_eq(parc_queue_destroy(&q), 0);
}
END_TEST

/* ---- many threads ---------------------------------------------------- */

enum { PRODUCERS = 3, CONSUMERS = 3 };
#define PER_PRODUCER (50000 / PARC_SLOWDOWN)
#define ITEM(p, s) V(((uintptr_t)(p) << 32) | (uintptr_t)(s))

struct mt {
    parc_queue_t q;
    bool fifo;
    parc_atomic(uint8_t) seen[PRODUCERS * PER_PRODUCER];
    parc_atomic(int) failed;
    parc_atomic(uint64_t) done; /* task_done calls made */
};

struct role {
    struct mt *m;
    unsigned id;
};

static void *mt_producer(void *arg)
{
    struct role *r = arg;
    for (uint32_t s = 0; s < PER_PRODUCER; s++) {
        if (s % 4096 == 0)
            parc_yield(); /* let the consumers catch up: the ring shrinks */
        int rc;
        if (s % 3 == 0)
            rc = parc_queue_put(&r->m->q, ITEM(r->id, s));
        else
            while ((rc = parc_queue_put_timed(&r->m->q, ITEM(r->id, s), PARC_NS_PER_MS)) == ETIMEDOUT)
                ;
        if (rc != 0)
            parc_store(&r->m->failed, 1, PARC_RELAXED);
    }
    return NULL;
}

static void *mt_consumer(void *arg)
{
    struct role *r = arg;
    struct mt *m = r->m;
    int64_t last[PRODUCERS] = { -1, -1, -1 };
    void *v;
    for (unsigned i = 0;; i++) {
        int rc = i % 2 ? parc_queue_get(&m->q, &v) : parc_queue_get_timed(&m->q, &v, PARC_NS_PER_MS);
        if (rc == ETIMEDOUT)
            continue;
        if (rc == EPIPE)
            break;
        if (rc != 0) {
            parc_store(&m->failed, 2, PARC_RELAXED);
            break;
        }
        uintptr_t p = I(v) >> 32, s = I(v) & 0xFFFFFFFFu;
        if (p >= PRODUCERS || s >= PER_PRODUCER) {
            parc_store(&m->failed, 3, PARC_RELAXED);
            continue;
        }
        if (m->fifo && (int64_t)s <= last[p])
            parc_store(&m->failed, 4, PARC_RELAXED);
        last[p] = (int64_t)s;
        if (parc_xchg(&m->seen[p * PER_PRODUCER + s], 1, PARC_RELAXED) != 0)
            parc_store(&m->failed, 5, PARC_RELAXED);
        parc_faa(&m->done, 1, PARC_RELAXED);
        if (parc_queue_task_done(&m->q) != 0)
            parc_store(&m->failed, 6, PARC_RELAXED);
    }
    return NULL;
}

static void run_mt(parc_queue_order_t order, int64_t maxsize)
{
    struct mt *m = calloc(1, sizeof *m);
    ck_assert_ptr_nonnull(m);
    m->fifo = order == PARC_QUEUE_FIFO;
    ck_assert_int_eq(parc_queue_init(&m->q, maxsize, order, NULL, NULL), 0);
    struct role pr[PRODUCERS], cr[CONSUMERS];
    for (unsigned i = 0; i < PRODUCERS; i++)
        pr[i] = (struct role){ m, i };
    for (unsigned i = 0; i < CONSUMERS; i++)
        cr[i] = (struct role){ m, i };
    pthread_t pt[PRODUCERS], ct[CONSUMERS];
    parc_test_spawn(ct, CONSUMERS, mt_consumer, cr, sizeof cr[0]);
    parc_test_spawn(pt, PRODUCERS, mt_producer, pr, sizeof pr[0]);
    parc_test_join(pt, PRODUCERS);
    /* every item put; join returns only once all were task_done'd */
    ck_assert_int_eq(parc_queue_join(&m->q), 0);
    uint64_t done = parc_load(&m->done, PARC_RELAXED);
    ck_assert_uint_eq(done, (uint64_t)PRODUCERS * PER_PRODUCER);
    ck_assert_int_eq(parc_queue_shutdown(&m->q, false), 0);
    parc_test_join(ct, CONSUMERS);
    int failed = parc_load(&m->failed, PARC_RELAXED);
    ck_assert_int_eq(failed, 0);
    for (size_t i = 0; i < (size_t)PRODUCERS * PER_PRODUCER; i++) {
        unsigned seen = parc_load(&m->seen[i], PARC_RELAXED);
        ck_assert_uint_eq(seen, 1);
    }
    ck_assert_int_eq(parc_queue_destroy(&m->q), 0);
    free(m);
}

START_TEST(fifo_many_threads_exactly_once)
{
    run_mt(PARC_QUEUE_FIFO, 8);
}
END_TEST

/* Unbounded: producers run ahead in bursts, so the ring grows and shrinks
 * (under both locks) while the other side works. */
START_TEST(fifo_unbounded_grows_and_shrinks_under_load)
{
    run_mt(PARC_QUEUE_FIFO, 0);
}
END_TEST

START_TEST(lifo_many_threads_exactly_once)
{
    run_mt(PARC_QUEUE_LIFO, 8);
}
END_TEST

static Suite *queue_suite(void)
{
    Suite *s = suite_create("queue");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_test(tc, rejects_bad_arguments);
    tcase_add_test(tc, fifo_lifo_and_static_init);
    tcase_add_test(tc, init_fifo_and_heap_forms);
    tcase_add_test(tc, priority_is_stable);
    tcase_add_test(tc, bounded_full_and_timeouts);
    tcase_add_test(tc, task_done_and_join);
    tcase_add_test(tc, put_and_get_wake_parked_waiters);
    tcase_add_test(tc, idle_waiters_burn_no_cpu);
    tcase_add_test(tc, shutdown_wakes_blocked_getters_and_putters);
    tcase_add_test(tc, shutdown_and_join);
    tcase_add_test(tc, shutdown_drop_hands_items_back_in_order);
    tcase_add_test(tc, fifo_order_across_segments);
    tcase_add_test(tc, fifo_many_threads_exactly_once);
    tcase_add_test(tc, fifo_unbounded_grows_and_shrinks_under_load);
    tcase_add_test(tc, lifo_many_threads_exactly_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(queue_suite());
}
