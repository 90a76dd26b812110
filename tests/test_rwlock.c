/* Unit tests for parc/rwlock.h: every form on both sides, error paths,
 * timeouts, writer preference (a waiting writer holds back new readers, a
 * stream of readers does not starve a writer), wake-ups, and exclusion
 * between readers and writers under many threads. */
#include <stdint.h>

#include "parc/rwlock.h"
#include "testutil.h"

START_TEST(null_and_bad_arguments)
{
    parc_rwlock_t l;
    ck_assert_int_eq(parc_rwlock_init(NULL), EINVAL);
    ck_assert_int_eq(parc_rwlock_destroy(NULL), EINVAL);
    ck_assert_int_eq(parc_rwlock_rdlock(NULL), EINVAL);
    ck_assert_int_eq(parc_rwlock_rdlock_try(NULL), EINVAL);
    ck_assert_int_eq(parc_rwlock_rdlock_timed(NULL, 0), EINVAL);
    ck_assert_int_eq(parc_rwlock_rdunlock(NULL), EINVAL);
    ck_assert_int_eq(parc_rwlock_wrlock(NULL), EINVAL);
    ck_assert_int_eq(parc_rwlock_wrlock_try(NULL), EINVAL);
    ck_assert_int_eq(parc_rwlock_wrlock_timed(NULL, 0), EINVAL);
    ck_assert_int_eq(parc_rwlock_wrunlock(NULL), EINVAL);
    ck_assert_int_eq(parc_rwlock_init(&l), 0);
    ck_assert_int_eq(parc_rwlock_rdlock_timed(&l, -1), EINVAL);
    ck_assert_int_eq(parc_rwlock_wrlock_timed(&l, -1), EINVAL);
    ck_assert_int_eq(parc_rwlock_destroy(&l), 0);
}
END_TEST

START_TEST(every_form_on_both_sides)
{
    static parc_rwlock_t l = PARC_RWLOCK_INIT;
    ck_assert_int_eq(parc_rwlock_rdunlock(&l), EPERM);
    ck_assert_int_eq(parc_rwlock_wrunlock(&l), EPERM);
    ck_assert_int_eq(parc_rwlock_rdlock(&l), 0);
    ck_assert_int_eq(parc_rwlock_rdlock_try(&l), 0);
    ck_assert_int_eq(parc_rwlock_rdlock_timed(&l, 0), 0);
    ck_assert_int_eq(parc_rwlock_rdlock_timed(&l, PARC_FOREVER), 0);
    ck_assert_int_eq(parc_rwlock_wrlock_try(&l), EAGAIN);
    ck_assert_int_eq(parc_rwlock_destroy(&l), EAGAIN);
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(parc_rwlock_rdunlock(&l), 0);
    ck_assert_int_eq(parc_rwlock_rdunlock(&l), EPERM);
    ck_assert_int_eq(parc_rwlock_wrlock(&l), 0);
    ck_assert_int_eq(parc_rwlock_destroy(&l), EAGAIN);
    ck_assert_int_eq(parc_rwlock_rdunlock(&l), EPERM);
    ck_assert_int_eq(parc_rwlock_wrunlock(&l), 0);
    ck_assert_int_eq(parc_rwlock_wrunlock(&l), EPERM);
    ck_assert_int_eq(parc_rwlock_wrlock_try(&l), 0);
    ck_assert_int_eq(parc_rwlock_wrunlock(&l), 0);
    ck_assert_int_eq(parc_rwlock_wrlock_timed(&l, 0), 0);
    ck_assert_int_eq(parc_rwlock_wrunlock(&l), 0);
    ck_assert_int_eq(parc_rwlock_wrlock_timed(&l, PARC_FOREVER), 0);
    ck_assert_int_eq(parc_rwlock_wrunlock(&l), 0);
    ck_assert_int_eq(parc_rwlock_destroy(&l), 0);
}
END_TEST

START_TEST(the_writer_locking_again_is_edeadlk)
{
    parc_rwlock_t l;
    ck_assert_int_eq(parc_rwlock_init(&l), 0);
    ck_assert_int_eq(parc_rwlock_wrlock(&l), 0);
    ck_assert_int_eq(parc_rwlock_wrlock(&l), EDEADLK);
    ck_assert_int_eq(parc_rwlock_wrlock_try(&l), EDEADLK);
    ck_assert_int_eq(parc_rwlock_wrlock_timed(&l, PARC_NS_PER_MS), EDEADLK);
    ck_assert_int_eq(parc_rwlock_rdlock(&l), EDEADLK);
    ck_assert_int_eq(parc_rwlock_rdlock_try(&l), EDEADLK);
    ck_assert_int_eq(parc_rwlock_rdlock_timed(&l, PARC_NS_PER_MS), EDEADLK);
    ck_assert_int_eq(parc_rwlock_wrunlock(&l), 0);
    ck_assert_int_eq(parc_rwlock_destroy(&l), 0);
}
END_TEST

START_TEST(a_full_reader_count_is_eoverflow)
{
    parc_rwlock_t l;
    ck_assert_int_eq(parc_rwlock_init(&l), 0);
    /* white box: 2^26 readers would take a while */
    parc_store(&l.word, PARC_RWLOCK_BIAS | (PARC_RWLOCK_GUARD - 1u), PARC_RELAXED);
    ck_assert_int_eq(parc_rwlock_rdlock(&l), 0);          /* the last one */
    ck_assert_int_eq(parc_rwlock_rdlock(&l), EOVERFLOW);
    ck_assert_int_eq(parc_rwlock_rdlock_try(&l), EOVERFLOW);
    ck_assert_int_eq(parc_rwlock_rdlock_timed(&l, 0), EOVERFLOW);
    ck_assert_int_eq(parc_rwlock_rdunlock(&l), 0);
    ck_assert_uint_eq(parc_load(&l.word, PARC_RELAXED),
                      PARC_RWLOCK_BIAS | (PARC_RWLOCK_GUARD - 1u));
    parc_store(&l.word, PARC_RWLOCK_BIAS, PARC_RELAXED);
    ck_assert_int_eq(parc_rwlock_destroy(&l), 0);
}
END_TEST

START_TEST(a_wrong_rdunlock_is_undone)
{
    parc_rwlock_t l;
    ck_assert_int_eq(parc_rwlock_init(&l), 0);
    ck_assert_int_eq(parc_rwlock_rdunlock(&l), EPERM);
    ck_assert_uint_eq(parc_load(&l.word, PARC_RELAXED), PARC_RWLOCK_BIAS);
    ck_assert_int_eq(parc_rwlock_wrlock(&l), 0);
    ck_assert_int_eq(parc_rwlock_rdunlock(&l), EPERM);
    ck_assert_uint_eq(parc_load(&l.word, PARC_RELAXED),
                      PARC_RWLOCK_BIAS | PARC_RWLOCK_WRITER);
    ck_assert_int_eq(parc_rwlock_wrunlock(&l), 0);
    ck_assert_int_eq(parc_rwlock_rdlock(&l), 0);
    ck_assert_int_eq(parc_rwlock_rdunlock(&l), 0);
    ck_assert_int_eq(parc_rwlock_destroy(&l), 0);
}
END_TEST

/* One operation in a helper thread. */
static int op_tryrd(parc_test_op_t *o)
{
    int rc = parc_rwlock_rdlock_try(o->obj);
    return rc != 0 ? rc : parc_rwlock_rdunlock(o->obj);
}
static int op_trywr(parc_test_op_t *o)
{
    int rc = parc_rwlock_wrlock_try(o->obj);
    return rc != 0 ? rc : parc_rwlock_wrunlock(o->obj);
}
static int op_timedrd(parc_test_op_t *o)
{
    int rc = parc_rwlock_rdlock_timed(o->obj, o->timeout_ns);
    return rc != 0 ? rc : parc_rwlock_rdunlock(o->obj);
}
static int op_timedwr(parc_test_op_t *o)
{
    int rc = parc_rwlock_wrlock_timed(o->obj, o->timeout_ns);
    return rc != 0 ? rc : parc_rwlock_wrunlock(o->obj);
}
static int op_rd(parc_test_op_t *o)
{
    int rc = parc_rwlock_rdlock(o->obj);
    return rc != 0 ? rc : parc_rwlock_rdunlock(o->obj);
}
static int op_wr(parc_test_op_t *o)
{
    int rc = parc_rwlock_wrlock(o->obj);
    return rc != 0 ? rc : parc_rwlock_wrunlock(o->obj);
}
static int op_wrunlock(parc_test_op_t *o) { return parc_rwlock_wrunlock(o->obj); }

static void start_op(parc_test_op_t *o, pthread_t *t, parc_rwlock_t *l,
                     int (*fn)(parc_test_op_t *), int64_t timeout_ns)
{
    *o = (parc_test_op_t){ .obj = l, .fn = fn, .timeout_ns = timeout_ns };
    parc_atomic_init(&o->done, 0);
    ck_assert_int_eq(pthread_create(t, NULL, parc_test_run_op, o), 0);
}

static int run_in_thread(parc_rwlock_t *l, int (*fn)(parc_test_op_t *), int64_t timeout_ns,
                         int64_t *elapsed)
{
    parc_test_op_t o;
    pthread_t t;
    start_op(&o, &t, l, fn, timeout_ns);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    if (elapsed)
        *elapsed = o.ended - o.started;
    return o.rc;
}

static const int64_t timeouts[] = { 0, 1000, 3 * PARC_NS_PER_MS };
#define NTIMEOUTS (sizeof timeouts / sizeof timeouts[0])

START_TEST(readers_share_and_keep_writers_out)
{
    parc_rwlock_t l;
    ck_assert_int_eq(parc_rwlock_init(&l), 0);
    ck_assert_int_eq(parc_rwlock_rdlock(&l), 0);
    /* another reader gets in at the same time */
    ck_assert_int_eq(run_in_thread(&l, op_tryrd, 0, NULL), 0);
    ck_assert_int_eq(run_in_thread(&l, op_timedrd, 0, NULL), 0);
    ck_assert_int_eq(run_in_thread(&l, op_rd, 0, NULL), 0);
    /* a writer does not */
    ck_assert_int_eq(run_in_thread(&l, op_trywr, 0, NULL), EAGAIN);
    for (size_t k = 0; k < NTIMEOUTS; k++) {
        int64_t elapsed;
        ck_assert_int_eq(run_in_thread(&l, op_timedwr, timeouts[k], &elapsed), ETIMEDOUT);
        ck_assert_int_ge(elapsed, timeouts[k]);
        /* the writer that timed out draining gave the spin token back */
        ck_assert_uint_eq(parc_load(&l.spinner, PARC_RELAXED), 0u);
    }
    /* a timed-out writer let readers back in */
    ck_assert_int_eq(run_in_thread(&l, op_tryrd, 0, NULL), 0);
    ck_assert_int_eq(parc_rwlock_rdunlock(&l), 0);
    ck_assert_int_eq(parc_rwlock_destroy(&l), 0);
}
END_TEST

START_TEST(a_writer_keeps_everyone_out)
{
    parc_rwlock_t l;
    ck_assert_int_eq(parc_rwlock_init(&l), 0);
    ck_assert_int_eq(parc_rwlock_wrlock(&l), 0);
    ck_assert_int_eq(run_in_thread(&l, op_wrunlock, 0, NULL), EPERM);
    ck_assert_int_eq(run_in_thread(&l, op_tryrd, 0, NULL), EAGAIN);
    ck_assert_int_eq(run_in_thread(&l, op_trywr, 0, NULL), EAGAIN);
    for (size_t k = 0; k < NTIMEOUTS; k++) {
        int64_t elapsed;
        ck_assert_int_eq(run_in_thread(&l, op_timedrd, timeouts[k], &elapsed), ETIMEDOUT);
        ck_assert_int_ge(elapsed, timeouts[k]);
        /* a reader that timed out gave the spin token back */
        ck_assert_uint_eq(parc_load(&l.spinner, PARC_RELAXED), 0u);
        ck_assert_int_eq(run_in_thread(&l, op_timedwr, timeouts[k], &elapsed), ETIMEDOUT);
        ck_assert_int_ge(elapsed, timeouts[k]);
        ck_assert_uint_eq(parc_load(&l.spinner, PARC_RELAXED), 0u); /* and a writer */
    }
    ck_assert_int_eq(parc_rwlock_wrunlock(&l), 0);
    ck_assert_int_eq(run_in_thread(&l, op_tryrd, 0, NULL), 0);
    ck_assert_int_eq(run_in_thread(&l, op_trywr, 0, NULL), 0);
    ck_assert_int_eq(parc_rwlock_destroy(&l), 0);
}
END_TEST

START_TEST(a_waiting_writer_holds_back_new_readers)
{
    parc_rwlock_t l;
    ck_assert_int_eq(parc_rwlock_init(&l), 0);
    ck_assert_int_eq(parc_rwlock_rdlock(&l), 0);
    parc_test_op_t w;
    pthread_t tw;
    start_op(&w, &tw, &l, op_wr, 0);
    /* wait until the writer has announced itself */
    parc_deadline_t d;
    parc_deadline_in(&d, PARC_TEST_PATIENCE_NS);
    while (!(parc_load(&l.word, PARC_RELAXED) & PARC_RWLOCK_WRITER)) {
        ck_assert_msg(!parc_deadline_passed(d), "the writer never announced itself");
        parc_sleep_ns(100 * PARC_NS_PER_US);
    }
    ck_assert_int_eq(run_in_thread(&l, op_tryrd, 0, NULL), EAGAIN);
    int64_t elapsed;
    ck_assert_int_eq(run_in_thread(&l, op_timedrd, 2 * PARC_NS_PER_MS, &elapsed), ETIMEDOUT);
    ck_assert_int_ge(elapsed, 2 * PARC_NS_PER_MS);
    /* a reader that blocks now gets in after the writer */
    parc_test_op_t r;
    pthread_t tr;
    start_op(&r, &tr, &l, op_rd, 0);
    parc_sleep_ns(10 * PARC_NS_PER_MS);
    ck_assert(!parc_load(&w.done, PARC_ACQUIRE));
    ck_assert(!parc_load(&r.done, PARC_ACQUIRE));
    ck_assert_int_eq(parc_rwlock_rdunlock(&l), 0);
    ck_assert_msg(parc_test_eventually(&w.done), "the writer was never woken");
    ck_assert_msg(parc_test_eventually(&r.done), "the parked reader was never woken");
    ck_assert_int_eq(pthread_join(tw, NULL), 0);
    ck_assert_int_eq(pthread_join(tr, NULL), 0);
    ck_assert_int_eq(w.rc, 0);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_int_eq(parc_rwlock_destroy(&l), 0);
}
END_TEST

START_TEST(wrunlock_wakes_every_parked_reader_and_writer)
{
    parc_rwlock_t l;
    ck_assert_int_eq(parc_rwlock_init(&l), 0);
    ck_assert_int_eq(parc_rwlock_wrlock(&l), 0);
    enum { N = 5 };
    parc_test_op_t o[N];
    pthread_t t[N];
    for (int k = 0; k < N; k++)
        start_op(&o[k], &t[k], &l, k == 2 ? op_wr : (k == 4 ? op_timedrd : op_rd),
                 PARC_FOREVER);
    parc_sleep_ns(20 * PARC_NS_PER_MS); /* let them park */
    for (int k = 0; k < N; k++)
        ck_assert(!parc_load(&o[k].done, PARC_ACQUIRE));
    ck_assert_int_eq(parc_rwlock_wrunlock(&l), 0);
    for (int k = 0; k < N; k++)
        ck_assert_msg(parc_test_eventually(&o[k].done), "waiter %d never woken", k);
    parc_test_join(t, N);
    for (int k = 0; k < N; k++)
        ck_assert_int_eq(o[k].rc, 0);
    ck_assert_int_eq(parc_rwlock_destroy(&l), 0);
}
END_TEST

/* ---- a stream of overlapping readers does not starve a writer --------- */

struct stream {
    parc_rwlock_t l;
    parc_atomic(int) stop;
    parc_atomic(int) errors;
    int index;
};

struct streamer {
    struct stream *s;
    int index;
};

static void *read_stream(void *arg)
{
    struct streamer *r = arg;
    struct stream *s = r->s;
    /* staggered: some reader is always inside, unless one is held back */
    parc_sleep_ns(r->index * 500 * PARC_NS_PER_US);
    while (!parc_load(&s->stop, PARC_ACQUIRE)) {
        if (parc_rwlock_rdlock(&s->l) != 0) {
            parc_faa(&s->errors, 1, PARC_RELAXED);
            break;
        }
        parc_sleep_ns(2 * PARC_NS_PER_MS);
        if (parc_rwlock_rdunlock(&s->l) != 0)
            parc_faa(&s->errors, 1, PARC_RELAXED);
    }
    return NULL;
}

START_TEST(a_stream_of_readers_does_not_starve_a_writer)
{
    static struct stream s;
    ck_assert_int_eq(parc_rwlock_init(&s.l), 0);
    parc_atomic_init(&s.stop, 0);
    parc_atomic_init(&s.errors, 0);
    enum { R = 4 };
    struct streamer r[R];
    pthread_t t[R];
    for (int k = 0; k < R; k++) {
        r[k] = (struct streamer){ .s = &s, .index = k };
        ck_assert_int_eq(pthread_create(&t[k], NULL, read_stream, &r[k]), 0);
    }
    parc_sleep_ns(10 * PARC_NS_PER_MS); /* the stream is flowing */
    parc_test_op_t w;
    pthread_t tw;
    start_op(&w, &tw, &s.l, op_wr, 0);
    bool got_in = parc_test_eventually(&w.done);
    /* release: pairs with the readers' acquire load of stop */
    parc_store(&s.stop, 1, PARC_RELEASE);
    parc_test_join(t, R);
    ck_assert_msg(got_in, "the writer starved behind the readers");
    ck_assert_int_eq(pthread_join(tw, NULL), 0);
    ck_assert_int_eq(w.rc, 0);
    int errors = parc_load(&s.errors, PARC_RELAXED);
    ck_assert_int_eq(errors, 0);
    ck_assert_int_eq(parc_rwlock_destroy(&s.l), 0);
}
END_TEST

/* ---- exclusion under many threads ---------------------------------------- */

#define NTHREADS 8
#define ITERS (50000 / PARC_SLOWDOWN)

struct shared {
    parc_rwlock_t l;
    long a, b;                      /* plain: written only by writers, equal
                                     * whenever the lock is free */
    parc_atomic(int) readers_in;    /* readers inside (checked, not used
                                     * for exclusion) */
    parc_atomic(int) writers_in;
    parc_atomic(int) violations;
    parc_atomic(int) errors;
    pthread_barrier_t start;
};

struct worker {
    struct shared *s;
    int index;
};

static int take(struct shared *s, bool write, long i)
{
    int rc;
    switch (i % 3) {
    case 0:
        while ((rc = write ? parc_rwlock_wrlock_try(&s->l) : parc_rwlock_rdlock_try(&s->l)) == EAGAIN)
            parc_yield();
        return rc;
    case 1:
        while ((rc = write ? parc_rwlock_wrlock_timed(&s->l, 20000)
                           : parc_rwlock_rdlock_timed(&s->l, 20000)) == ETIMEDOUT)
            ;
        return rc;
    default:
        return write ? parc_rwlock_wrlock(&s->l) : parc_rwlock_rdlock(&s->l);
    }
}

static void *mixed(void *arg)
{
    struct worker *w = arg;
    struct shared *s = w->s;
    pthread_barrier_wait(&s->start);
    for (long i = 0; i < ITERS; i++) {
        /* threads 0 and 1 write every 4th time, the others only read */
        bool write = w->index < 2 && (i % 4) == 0;
        if (take(s, write, i / 4) != 0) {
            parc_faa(&s->errors, 1, PARC_RELAXED);
            continue;
        }
        if (write) {
            if (parc_faa(&s->writers_in, 1, PARC_RELAXED) != 0 ||
                parc_load(&s->readers_in, PARC_RELAXED) != 0)
                parc_faa(&s->violations, 1, PARC_RELAXED);
            s->a++;
            s->b++;
            parc_fas(&s->writers_in, 1, PARC_RELAXED);
            if (parc_rwlock_wrunlock(&s->l) != 0)
                parc_faa(&s->errors, 1, PARC_RELAXED);
        } else {
            parc_faa(&s->readers_in, 1, PARC_RELAXED);
            if (parc_load(&s->writers_in, PARC_RELAXED) != 0 || s->a != s->b)
                parc_faa(&s->violations, 1, PARC_RELAXED);
            parc_fas(&s->readers_in, 1, PARC_RELAXED);
            if (parc_rwlock_rdunlock(&s->l) != 0)
                parc_faa(&s->errors, 1, PARC_RELAXED);
        }
    }
    return NULL;
}

START_TEST(readers_and_writers_exclude_each_other)
{
    static struct shared s;
    ck_assert_int_eq(parc_rwlock_init(&s.l), 0);
    s.a = s.b = 0;
    parc_atomic_init(&s.readers_in, 0);
    parc_atomic_init(&s.writers_in, 0);
    parc_atomic_init(&s.violations, 0);
    parc_atomic_init(&s.errors, 0);
    ck_assert_int_eq(pthread_barrier_init(&s.start, NULL, NTHREADS), 0);
    struct worker w[NTHREADS];
    pthread_t t[NTHREADS];
    for (int k = 0; k < NTHREADS; k++)
        w[k] = (struct worker){ .s = &s, .index = k };
    parc_test_spawn(t, NTHREADS, mixed, w, sizeof w[0]);
    parc_test_join(t, NTHREADS);
    pthread_barrier_destroy(&s.start);
    int errors = parc_load(&s.errors, PARC_RELAXED);
    int violations = parc_load(&s.violations, PARC_RELAXED);
    ck_assert_int_eq(errors, 0);
    ck_assert_int_eq(violations, 0);
    long writes = 2 * ((ITERS + 3) / 4);
    ck_assert_int_eq(s.a, writes);
    ck_assert_int_eq(s.b, writes);
    /* Every wait gave the spin token back, on each way out (entered,
     * parked, timed out: the timed forms above time out often): a wait
     * that kept it would leave every later waiter parking at once. */
    ck_assert_uint_eq(parc_load(&s.l.spinner, PARC_RELAXED), 0u);
    ck_assert_int_eq(parc_rwlock_destroy(&s.l), 0);
}
END_TEST

static Suite *rwlock_suite(void)
{
    Suite *s = suite_create("rwlock");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, null_and_bad_arguments);
    tcase_add_test(tc, every_form_on_both_sides);
    tcase_add_test(tc, the_writer_locking_again_is_edeadlk);
    tcase_add_test(tc, a_full_reader_count_is_eoverflow);
    tcase_add_test(tc, a_wrong_rdunlock_is_undone);
    tcase_add_test(tc, readers_share_and_keep_writers_out);
    tcase_add_test(tc, a_writer_keeps_everyone_out);
    suite_add_tcase(s, tc);
    TCase *tw = tcase_create("waiting");
    tcase_add_test(tw, a_waiting_writer_holds_back_new_readers);
    tcase_add_test(tw, wrunlock_wakes_every_parked_reader_and_writer);
    tcase_add_test(tw, a_stream_of_readers_does_not_starve_a_writer);
    suite_add_tcase(s, tw);
    TCase *tm = tcase_create("threads");
    tcase_add_test(tm, readers_and_writers_exclude_each_other);
    suite_add_tcase(s, tm);
    return s;
}

int main(void)
{
    return parc_test_run(rwlock_suite());
}
