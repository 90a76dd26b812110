/*
 * Unit tests for parc/select.h.
 *
 * Each kind of case, ready at once and becoming ready while the select is
 * parked; exactly one case completes when several are ready (the others'
 * values stay where they were); random choice reaches every ready case,
 * PARC_SELECT_ORDERED always the first; a select never completes with
 * itself (both ends of one rendezvous channel); close wakes a select with
 * EPIPE; selects sending and receiving against each other on rendezvous
 * channels move every value exactly once; an idle select burns no CPU; a
 * fiber blocked in a select parks the fiber, not its worker thread.
 */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "parc/fiber.h"
#include "parc/pool.h"
#include "parc/select.h"
#include "testutil.h"

START_TEST(rejects_bad_arguments)
{
    parc_chan_t c = PARC_CHAN_INIT(sizeof(int), 1);
    int v;
    size_t i;
    parc_select_case_t cs[2];
    cs[0] = parc_select_recv(&c, &v);
    ck_assert_int_eq(parc_select_try(NULL, 1, 0, &i), EINVAL);
    ck_assert_int_eq(parc_select_try(cs, 0, 0, &i), EINVAL);
    ck_assert_int_eq(parc_select_try(cs, PARC_SELECT_MAX + 1, 0, &i), EINVAL);
    ck_assert_int_eq(parc_select_try(cs, 1, 0, NULL), EINVAL);
    ck_assert_int_eq(parc_select_try(cs, 1, 0x80, &i), EINVAL);
    ck_assert_int_eq(parc_select_timed(cs, 1, 0, &i, -1), EINVAL);
    cs[0] = parc_select_recv(&c, NULL);
    ck_assert_int_eq(parc_select_try(cs, 1, 0, &i), EINVAL);
    cs[0] = parc_select_event(NULL);
    ck_assert_int_eq(parc_select_try(cs, 1, 0, &i), EINVAL);
    cs[0] = parc_select_readable(-1);
    ck_assert_int_eq(parc_select_try(cs, 1, 0, &i), EINVAL);
    cs[0].kind = (parc_select_kind_t)99;
    ck_assert_int_eq(parc_select_try(cs, 1, 0, &i), EINVAL);
    ck_assert_int_eq(parc_chan_destroy(&c), 0);
}
END_TEST

START_TEST(nothing_ready)
{
    parc_chan_t a = PARC_CHAN_INIT(sizeof(int), 1), b = PARC_CHAN_INIT(sizeof(int), 0);
    int x, y = 1;
    size_t i = 77;
    parc_select_case_t cs[3];
    cs[0] = parc_select_recv(&a, &x);
    cs[1] = parc_select_send(&b, &y);
    cs[2] = parc_select_recv(NULL, &x); /* a nil channel: never ready */
    ck_assert_int_eq(parc_select_try(cs, 3, 0, &i), EAGAIN);
    ck_assert_int_eq(parc_select_timed(cs, 3, 0, &i, 0), ETIMEDOUT);
    int64_t t0 = parc_now_ns();
    ck_assert_int_eq(parc_select_timed(cs, 3, 0, &i, 20 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns() - t0, 20 * PARC_NS_PER_MS);
    ck_assert_uint_eq(i, 77);
    /* the abandoned records are gone: the channels are idle again */
    ck_assert_int_eq(parc_chan_send_try(&b, &y), EAGAIN);
    ck_assert_int_eq(parc_chan_destroy(&a), 0);
    ck_assert_int_eq(parc_chan_destroy(&b), 0);
}
END_TEST

START_TEST(exactly_one_of_several_ready)
{
    parc_chan_t a = PARC_CHAN_INIT(sizeof(int), 1), b = PARC_CHAN_INIT(sizeof(int), 1);
    parc_sem_t s = PARC_SEM_INIT(1);
    int counts[3] = { 0, 0, 0 };
    for (int round = 0; round < 300; round++) {
        int va = 1, vb = 2, x = 0;
        if (parc_chan_len(&a) == 0)
            ck_assert_int_eq(parc_chan_send(&a, &va), 0);
        if (parc_chan_len(&b) == 0)
            ck_assert_int_eq(parc_chan_send(&b, &vb), 0);
        if (parc_sem_value(&s) == 0)
            ck_assert_int_eq(parc_sem_release(&s, 1), 0);
        parc_select_case_t cs[3];
        cs[0] = parc_select_recv(&a, &x);
        cs[1] = parc_select_recv(&b, &x);
        cs[2] = parc_select_sem(&s);
        size_t i = 9;
        ck_assert_int_eq(parc_select(cs, 3, 0, &i), 0);
        ck_assert_uint_lt(i, 3);
        counts[i]++;
        /* the chosen one completed, the others are untouched */
        ck_assert_uint_eq(parc_chan_len(&a), i == 0 ? 0 : 1);
        ck_assert_uint_eq(parc_chan_len(&b), i == 1 ? 0 : 1);
        ck_assert_uint_eq(parc_sem_value(&s), i == 2 ? 0 : 1);
        if (i < 2)
            ck_assert_int_eq(x, (int)i + 1);
    }
    for (int k = 0; k < 3; k++) /* uniform: ~100 each; never 0 */
        ck_assert_int_gt(counts[k], 10);
    /* ordered: always the first ready one */
    int x, one = 1;
    if (parc_chan_len(&a) == 0)
        ck_assert_int_eq(parc_chan_send(&a, &one), 0);
    if (parc_chan_len(&b) == 0)
        ck_assert_int_eq(parc_chan_send(&b, &one), 0);
    parc_select_case_t cs[2];
    cs[0] = parc_select_recv(&a, &x);
    cs[1] = parc_select_recv(&b, &x);
    size_t i;
    ck_assert_int_eq(parc_select(cs, 2, PARC_SELECT_ORDERED, &i), 0);
    ck_assert_uint_eq(i, 0);
    ck_assert_int_eq(parc_select(cs, 2, PARC_SELECT_ORDERED, &i), 0);
    ck_assert_uint_eq(i, 1);
    ck_assert_int_eq(parc_chan_destroy(&a), 0);
    ck_assert_int_eq(parc_chan_destroy(&b), 0);
}
END_TEST

START_TEST(never_completes_with_itself)
{
    parc_chan_t c = PARC_CHAN_INIT(sizeof(int), 0);
    int v = 1, x;
    parc_select_case_t cs[2];
    cs[0] = parc_select_send(&c, &v);
    cs[1] = parc_select_recv(&c, &x);
    size_t i;
    ck_assert_int_eq(parc_select_timed(cs, 2, 0, &i, 10 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_eq(parc_chan_destroy(&c), 0);
}
END_TEST

/* ---- a select parked in another thread ----------------------------------- */

typedef struct sel_thread {
    parc_select_case_t cs[4];
    size_t n;
    size_t index;
    int rc;
    parc_atomic(int) done;
} sel_thread_t;

static void *run_select(void *arg)
{
    sel_thread_t *s = arg;
    s->rc = parc_select_timed(s->cs, s->n, 0, &s->index, PARC_TEST_PATIENCE_NS);
    /* release: publishes rc and index; pairs with the test's acquire */
    parc_store(&s->done, 1, PARC_RELEASE);
    return NULL;
}

static pthread_t start_select(sel_thread_t *s)
{
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, run_select, s), 0);
    parc_sleep_ns(20 * PARC_NS_PER_MS); /* let it park (not required) */
    /* acquire: pairs with run_select's release */
    ck_assert_int_eq(parc_load(&s->done, PARC_ACQUIRE), 0);
    return t;
}

START_TEST(wakes_for_each_kind)
{
    for (int kind = 0; kind < 7; kind++) {
        parc_chan_t rv = PARC_CHAN_INIT(sizeof(int), 0);   /* recv case */
        parc_chan_t full = PARC_CHAN_INIT(sizeof(int), 1); /* send case */
        parc_event_t e = PARC_EVENT_INIT;
        parc_sem_t sem = PARC_SEM_INIT(0);
        parc_future_t f;
        ck_assert_int_eq(parc_future_init(&f, NULL, NULL), 0);
        int pipefd[2];
        ck_assert_int_eq(pipe(pipefd), 0);
        int got = 0, out = 42, one = 1, drop;
        ck_assert_int_eq(parc_chan_send(&full, &one), 0);
        sel_thread_t s;
        memset(&s, 0, sizeof s);
        s.n = 4;
        s.cs[0] = parc_select_recv(&rv, &got);
        s.cs[1] = parc_select_send(&full, &out);
        if (kind < 2) {
            s.cs[2] = parc_select_event(&e);
            s.cs[3] = parc_select_sem(&sem);
        } else if (kind < 5) {
            s.cs[2] = parc_select_future(&f);
            s.cs[3] = parc_select_sem(&sem);
        } else {
            s.cs[2] = parc_select_readable(pipefd[0]);
            s.cs[3] = parc_select_event(&e);
        }
        pthread_t t = start_select(&s);
        size_t want;
        switch (kind) {
        case 0: ck_assert_int_eq(parc_event_set(&e), 0); want = 2; break;
        case 1: ck_assert_int_eq(parc_sem_release(&sem, 1), 0); want = 3; break;
        case 2: ck_assert_int_eq(parc_future_complete(&f, 0, NULL), 0); want = 2; break;
        case 3: ck_assert_int_eq(parc_chan_send(&rv, &out), 0); want = 0; break;
        case 4: ck_assert_int_eq(parc_chan_recv(&full, &drop), 0); want = 1; break;
        case 5: ck_assert_int_eq(write(pipefd[1], "x", 1), 1); want = 2; break;
        default: ck_assert_int_eq(parc_chan_send(&rv, &out), 0); want = 0; break;
        }
        parc_test_join(&t, 1);
        ck_assert_int_eq(s.rc, 0);
        ck_assert_uint_eq(s.index, want);
        if (want == 0)
            ck_assert_int_eq(got, 42);
        if (want == 1) { /* the select's value went into the freed slot */
            ck_assert_int_eq(parc_chan_recv_try(&full, &drop), 0);
            ck_assert_int_eq(drop, 42);
        }
        if (want == 3)
            ck_assert_uint_eq(parc_sem_value(&sem), 0);
        close(pipefd[0]);
        close(pipefd[1]);
        parc_future_destroy(&f);
        ck_assert_int_eq(parc_chan_destroy(&rv), 0);
        ck_assert_int_eq(parc_chan_destroy(&full), 0);
    }
}
END_TEST

START_TEST(close_wakes_select_with_epipe)
{
    parc_chan_t a = PARC_CHAN_INIT(sizeof(int), 4), b = PARC_CHAN_INIT(sizeof(int), 0);
    int x, y;
    sel_thread_t s;
    memset(&s, 0, sizeof s);
    s.n = 2;
    s.cs[0] = parc_select_recv(&a, &x);
    s.cs[1] = parc_select_recv(&b, &y);
    pthread_t t = start_select(&s);
    ck_assert_int_eq(parc_chan_close(&b), 0);
    parc_test_join(&t, 1);
    ck_assert_int_eq(s.rc, EPIPE);
    ck_assert_uint_eq(s.index, 1);
    ck_assert_int_eq(parc_chan_destroy(&a), 0);
    ck_assert_int_eq(parc_chan_destroy(&b), 0);
}
END_TEST

/* ---- selects against selects on rendezvous channels ------------------------ */

enum { NCHAN = 3, PER_SENDER = 3000, SENDERS = 2, RECEIVERS = 2 };

typedef struct duel {
    parc_chan_t ch[NCHAN];
    parc_atomic(int) next_id;
    parc_atomic(uint64_t) sum, count;
} duel_t;

static void *duel_sender(void *arg)
{
    duel_t *d = arg;
    uint64_t id = (uint64_t)parc_faa(&d->next_id, 1, PARC_RELAXED);
    for (uint64_t k = 0; k < PER_SENDER; k++) {
        uint64_t v = id * PER_SENDER + k;
        parc_select_case_t cs[NCHAN];
        for (int c = 0; c < NCHAN; c++)
            cs[c] = parc_select_send(&d->ch[c], &v);
        size_t i;
        ck_assert_int_eq(parc_select(cs, NCHAN, 0, &i), 0);
    }
    return NULL;
}

static void *duel_receiver(void *arg)
{
    duel_t *d = arg;
    for (;;) {
        uint64_t v[NCHAN];
        parc_select_case_t cs[NCHAN];
        for (int c = 0; c < NCHAN; c++)
            cs[c] = parc_select_recv(&d->ch[c], &v[c]);
        size_t i;
        int rc = parc_select(cs, NCHAN, 0, &i);
        if (rc == EPIPE)
            return NULL;
        ck_assert_int_eq(rc, 0);
        parc_faa(&d->sum, v[i], PARC_RELAXED);
        parc_faa(&d->count, 1, PARC_RELAXED);
    }
}

START_TEST(select_against_select_exactly_once)
{
    static duel_t d;
    memset(&d, 0, sizeof d);
    for (int c = 0; c < NCHAN; c++)
        ck_assert_int_eq(parc_chan_init(&d.ch[c], sizeof(uint64_t), 0), 0);
    pthread_t s[SENDERS], r[RECEIVERS];
    parc_test_spawn(r, RECEIVERS, duel_receiver, &d, 0);
    parc_test_spawn(s, SENDERS, duel_sender, &d, 0);
    parc_test_join(s, SENDERS);
    for (int c = 0; c < NCHAN; c++) /* a receiver stops at the first */
        ck_assert_int_eq(parc_chan_close(&d.ch[c]), 0);
    parc_test_join(r, RECEIVERS);
    uint64_t n = (uint64_t)SENDERS * PER_SENDER;
    ck_assert_uint_eq(parc_load(&d.count, PARC_RELAXED), n);
    ck_assert_uint_eq(parc_load(&d.sum, PARC_RELAXED), n * (n - 1) / 2);
    for (int c = 0; c < NCHAN; c++)
        ck_assert_int_eq(parc_chan_destroy(&d.ch[c]), 0);
}
END_TEST

static int select_one_second(void *arg)
{
    parc_chan_t *c = arg;
    int x;
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return -1;
    parc_select_case_t cs[2];
    cs[0] = parc_select_recv(c, &x);
    cs[1] = parc_select_readable(pipefd[0]);
    size_t i;
    /* a third of a second each: channels only (the state word), with an
     * fd (ppoll), with an event (futex_waitv) */
    int rc = parc_select_timed(cs, 1, 0, &i, PARC_NS_PER_S / 3);
    if (rc == ETIMEDOUT)
        rc = parc_select_timed(cs, 2, 0, &i, PARC_NS_PER_S / 3);
    parc_event_t e = PARC_EVENT_INIT;
    cs[1] = parc_select_event(&e);
    if (rc == ETIMEDOUT)
        rc = parc_select_timed(cs, 2, 0, &i, PARC_NS_PER_S / 3 + 1);
    close(pipefd[0]);
    close(pipefd[1]);
    return rc;
}

START_TEST(idle_select_burns_no_cpu)
{
    parc_chan_t c = PARC_CHAN_INIT(sizeof(int), 4);
    parc_test_idle_t m = { select_one_second, &c, -1, 0, 0 };
    parc_test_measure_idle(&m);
    ck_assert_int_eq(m.rc, ETIMEDOUT);
    ck_assert_int_ge(m.wall_ns, PARC_NS_PER_S);
    ck_assert_int_le(m.cpu_ns, m.wall_ns / 50);
    ck_assert_int_eq(parc_chan_destroy(&c), 0);
}
END_TEST

/* ---- a fiber in a select does not block its worker ---------------------- */

typedef struct fiber_sel {
    parc_chan_t ring, rv;        /* a bounded and a rendezvous channel */
    parc_event_t ev;             /* with_event: the case that completes */
    bool with_event;
    parc_atomic(int) selecting;  /* the selecting fiber is in parc_select */
    parc_atomic(int) returned;   /* ... and has returned from it */
    parc_atomic(int) other_ran_first; /* the other fiber ran meanwhile */
    int rc, sent_rc;
    size_t index;
    int value;
} fiber_sel_t;

static void selecting_fiber(void *arg)
{
    fiber_sel_t *x = arg;
    int from_ring = 0;
    parc_select_case_t cs[3];
    cs[0] = parc_select_recv(&x->ring, &from_ring);
    cs[1] = parc_select_recv(&x->rv, &x->value);
    cs[2] = parc_select_event(&x->ev);
    /* release: pairs with the other fiber's acquire load. */
    parc_store(&x->selecting, 1, PARC_RELEASE);
    /* A deadline so that a worker blocked by this select (the bug) ends
     * in a failed assertion rather than a hung test. */
    x->rc = parc_select_timed(cs, x->with_event ? 3 : 2, 0, &x->index,
                              5 * PARC_NS_PER_S);
    parc_store(&x->returned, 1, PARC_RELEASE);
}

static void other_fiber(void *arg)
{
    fiber_sel_t *x = arg;
    /* acquire: pairs with the release stores of the selecting fiber. */
    while (!parc_load(&x->selecting, PARC_ACQUIRE))
        parc_fiber_yield();
    /* Long past the select's spin phase (whose polls yield the fiber):
     * the select has parked by now, and this fiber gets the worker back
     * only if that park suspended the fiber. */
    int64_t until = parc_now_ns() + 100 * PARC_NS_PER_MS;
    while (parc_now_ns() < until)
        parc_fiber_yield();
    /* One worker: this fiber runs only when the selecting one is parked
     * (or yielding in its spin), never while it blocks the thread. */
    parc_store(&x->other_ran_first, !parc_load(&x->returned, PARC_ACQUIRE),
               PARC_RELAXED);
    int v = 42;
    if (x->with_event)
        x->sent_rc = parc_event_set(&x->ev);
    else
        x->sent_rc = parc_chan_send_timed(&x->rv, &v, 5 * PARC_NS_PER_S);
}

/* _i == 0: a select over channels only; 1: channels and an event (parked
 * in slices by a fiber). */
START_TEST(fiber_select_parks_the_fiber_not_the_worker)
{
    parc_pool_t *p;
    ck_assert_int_eq(parc_pool_create(1, NULL, &p), 0);
    fiber_sel_t x;
    memset(&x, 0, sizeof x);
    ck_assert_int_eq(parc_chan_init(&x.ring, sizeof(int), 4), 0);
    ck_assert_int_eq(parc_chan_init(&x.rv, sizeof(int), 0), 0);
    ck_assert_int_eq(parc_event_init(&x.ev), 0);
    x.with_event = _i == 1;
    parc_fiber_t *a, *b;
    ck_assert_int_eq(parc_fiber_spawn(p, selecting_fiber, &x, NULL, &a), 0);
    ck_assert_int_eq(parc_fiber_spawn(p, other_fiber, &x, NULL, &b), 0);
    ck_assert_int_eq(parc_fiber_join(a), 0);
    ck_assert_int_eq(parc_fiber_join(b), 0);
    ck_assert_int_eq(parc_load(&x.other_ran_first, PARC_RELAXED), 1);
    ck_assert_int_eq(x.rc, 0);
    ck_assert_uint_eq(x.index, x.with_event ? 2 : 1);
    ck_assert_int_eq(x.value, x.with_event ? 0 : 42);
    ck_assert_int_eq(x.sent_rc, 0);
    parc_fiber_free(a);
    parc_fiber_free(b);
    ck_assert_int_eq(parc_pool_free(p), 0);
    ck_assert_int_eq(parc_chan_destroy(&x.ring), 0);
    ck_assert_int_eq(parc_chan_destroy(&x.rv), 0);
    ck_assert_int_eq(parc_event_destroy(&x.ev), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("select");
    TCase *basic = tcase_create("basic");
    tcase_add_test(basic, rejects_bad_arguments);
    tcase_add_test(basic, nothing_ready);
    tcase_add_test(basic, exactly_one_of_several_ready);
    tcase_add_test(basic, never_completes_with_itself);
    tcase_add_test(basic, idle_select_burns_no_cpu);
    suite_add_tcase(s, basic);
    TCase *mt = tcase_create("threads");
    tcase_add_test(mt, wakes_for_each_kind);
    tcase_add_test(mt, close_wakes_select_with_epipe);
    tcase_add_test(mt, select_against_select_exactly_once);
    tcase_add_loop_test(mt, fiber_select_parks_the_fiber_not_the_worker, 0, 2);
    suite_add_tcase(s, mt);
    return parc_test_run(s);
}
