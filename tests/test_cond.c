/*
 * Unit tests for parc/cond.h.
 *
 * Besides every operation and error path: producers and consumers share a
 * small bounded buffer guarded by a parc_mutex_t with two condition
 * variables (not empty / not full) and notify_one; every wait is bounded
 * by a generous patience, so a lost wake-up leaves a thread asleep with
 * work available until it times out, and the test fails. wait_for is
 * checked against Python's semantics: the predicate is checked first and
 * after every wake-up, and its last value decides at the deadline.
 */
#include <sched.h>
#include <stdint.h>

#include "parc/cond.h"
#include "testutil.h"

static bool never(void *arg) { (void)arg; return false; }
static bool always(void *arg) { (void)arg; return true; }

START_TEST(rejects_bad_arguments)
{
    parc_cond_t c = PARC_COND_INIT;
    parc_mutex_t m = PARC_MUTEX_INIT;
    ck_assert_int_eq(parc_cond_init(NULL), EINVAL);
    ck_assert_int_eq(parc_cond_destroy(NULL), EINVAL);
    ck_assert_int_eq(parc_cond_notify_one(NULL), EINVAL);
    ck_assert_int_eq(parc_cond_notify_all(NULL), EINVAL);
    ck_assert_int_eq(parc_cond_wait(NULL, &m), EINVAL);
    ck_assert_int_eq(parc_cond_wait(&c, NULL), EINVAL);
    ck_assert_int_eq(parc_cond_wait_timed(NULL, &m, 0), EINVAL);
    ck_assert_int_eq(parc_cond_wait_timed(&c, NULL, 0), EINVAL);
    ck_assert_int_eq(parc_cond_wait_until(NULL, &m, 0), EINVAL);
    ck_assert_int_eq(parc_cond_wait_until(&c, NULL, 0), EINVAL);
    ck_assert_int_eq(parc_cond_wait_for(NULL, &m, always, NULL), EINVAL);
    ck_assert_int_eq(parc_cond_wait_for(&c, NULL, always, NULL), EINVAL);
    ck_assert_int_eq(parc_cond_wait_for(&c, &m, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_cond_wait_for_timed(&c, &m, NULL, NULL, 0), EINVAL);
    ck_assert_int_eq(parc_mutex_lock(&m), 0);
    ck_assert_int_eq(parc_cond_wait_timed(&c, &m, -1), EINVAL);
    ck_assert_int_eq(parc_cond_wait_for_timed(&c, &m, always, NULL, -1), EINVAL);
    ck_assert(parc_mutex_is_locked(&m)); /* untouched */
    ck_assert_int_eq(parc_mutex_unlock(&m), 0);
    ck_assert_int_eq(parc_cond_destroy(&c), 0);
}
END_TEST

START_TEST(wait_without_the_mutex_is_eperm)
{
    parc_cond_t c;
    parc_mutex_t m = PARC_MUTEX_INIT;
    ck_assert_int_eq(parc_cond_init(&c), 0);
    ck_assert_int_eq(parc_cond_wait(&c, &m), EPERM);
    ck_assert_int_eq(parc_cond_wait_timed(&c, &m, PARC_NS_PER_MS), EPERM);
    ck_assert_int_eq(parc_cond_wait_for(&c, &m, never, NULL), EPERM);
    ck_assert(!parc_mutex_is_locked(&m));
    ck_assert_uint_eq(parc_load(&c.waiters, PARC_RELAXED), 0); /* undone */
    ck_assert_int_eq(parc_cond_destroy(&c), 0);
}
END_TEST

static parc_mutex_t held_elsewhere;
static parc_atomic(int) holder_stage; /* 1: holding, 2: may release */

static void *hold_mutex(void *arg)
{
    (void)arg;
    parc_mutex_lock(&held_elsewhere);
    parc_store(&holder_stage, 1, PARC_RELEASE);
    while (parc_load(&holder_stage, PARC_ACQUIRE) != 2)
        sched_yield();
    parc_mutex_unlock(&held_elsewhere);
    return NULL;
}

START_TEST(wait_on_a_mutex_held_by_another_thread_is_eperm)
{
    /* ERRORCHECK mutexes know their owner: a wait from another thread
     * must not release it */
    parc_cond_t c = PARC_COND_INIT;
    parc_mutex_init(&held_elsewhere, PARC_MUTEX_ERRORCHECK);
    parc_atomic_init(&holder_stage, 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, hold_mutex, NULL), 0);
    while (parc_load(&holder_stage, PARC_ACQUIRE) != 1)
        sched_yield();
    ck_assert_int_eq(parc_cond_wait_timed(&c, &held_elsewhere, PARC_NS_PER_MS), EPERM);
    ck_assert(parc_mutex_is_locked(&held_elsewhere)); /* still the other's */
    ck_assert_uint_eq(parc_load(&c.waiters, PARC_RELAXED), 0);
    parc_store(&holder_stage, 2, PARC_RELEASE);
    parc_test_join(&t, 1);
}
END_TEST

START_TEST(notify_without_waiters_is_one_load)
{
    parc_cond_t c = PARC_COND_INIT;
    ck_assert_int_eq(parc_cond_notify_one(&c), 0);
    ck_assert_int_eq(parc_cond_notify_all(&c), 0);
    ck_assert_uint_eq(parc_load(&c.seq, PARC_RELAXED), 0); /* untouched */
}
END_TEST

START_TEST(timed_wait_times_out_with_the_mutex_held)
{
    parc_cond_t c = PARC_COND_INIT;
    parc_mutex_t m = PARC_MUTEX_INIT;
    ck_assert_int_eq(parc_mutex_lock(&m), 0);
    int64_t t0 = parc_now_ns();
    ck_assert_int_eq(parc_cond_wait_timed(&c, &m, 20 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns() - t0, 20 * PARC_NS_PER_MS);
    ck_assert(parc_mutex_is_locked(&m));
    ck_assert_int_eq(parc_cond_wait_timed(&c, &m, 0), ETIMEDOUT);
    ck_assert(parc_mutex_is_locked(&m));
    parc_deadline_t d;
    parc_deadline_in(&d, 10 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_cond_wait_until(&c, &m, d), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns(), d);
    ck_assert_uint_eq(parc_load(&c.waiters, PARC_RELAXED), 0);
    ck_assert_int_eq(parc_mutex_unlock(&m), 0); /* we held it */
}
END_TEST

/* ---- wait_for: Python's Condition.wait_for --------------------------- */

struct flagged {
    parc_cond_t c;
    parc_mutex_t m;
    int flag;          /* guarded by m */
    int calls;         /* predicate calls, guarded by m */
    int notifies;      /* notify_all calls before raising the flag */
    int notify;        /* whether raising the flag notifies */
    int64_t delay_ns;
};

static bool flag_up(void *arg)
{
    struct flagged *f = arg;
    f->calls++;
    ck_assert(parc_mutex_is_locked(&f->m)); /* always called under m */
    return f->flag != 0;
}

static void *raise_flag(void *arg)
{
    struct flagged *f = arg;
    for (int i = 0; i < f->notifies; i++) {
        parc_sleep_ns(2 * PARC_NS_PER_MS);
        parc_mutex_lock(&f->m);
        parc_cond_notify_all(&f->c); /* a wake-up with the flag still down */
        parc_mutex_unlock(&f->m);
    }
    parc_sleep_ns(f->delay_ns);
    parc_mutex_lock(&f->m);
    f->flag = 1;
    if (f->notify)
        parc_cond_notify_all(&f->c);
    parc_mutex_unlock(&f->m);
    return NULL;
}

static void flagged_init(struct flagged *f, int notifies, int notify, int64_t delay_ns)
{
    parc_cond_init(&f->c);
    parc_mutex_init(&f->m, PARC_MUTEX_ERRORCHECK);
    f->flag = 0;
    f->calls = 0;
    f->notifies = notifies;
    f->notify = notify;
    f->delay_ns = delay_ns;
}

START_TEST(wait_for_checks_first)
{
    static struct flagged f;
    flagged_init(&f, 0, 1, 0);
    f.flag = 1;
    parc_mutex_lock(&f.m);
    ck_assert_int_eq(parc_cond_wait_for(&f.c, &f.m, flag_up, &f), 0);
    ck_assert_int_eq(f.calls, 1); /* no wait at all */
    ck_assert_int_eq(parc_cond_wait_for_timed(&f.c, &f.m, flag_up, &f, 0), 0);
    ck_assert_int_eq(parc_cond_wait_for_timed(&f.c, &f.m, never, NULL, 0), ETIMEDOUT);
    parc_mutex_unlock(&f.m);
}
END_TEST

START_TEST(wait_for_rechecks_after_every_wakeup)
{
    static struct flagged f;
    flagged_init(&f, 5, 1, 5 * PARC_NS_PER_MS);
    pthread_t t;
    parc_mutex_lock(&f.m);
    ck_assert_int_eq(pthread_create(&t, NULL, raise_flag, &f), 0);
    ck_assert_int_eq(parc_cond_wait_for_timed(&f.c, &f.m, flag_up, &f,
                                              PARC_TEST_PATIENCE_NS), 0);
    ck_assert_int_eq(f.flag, 1);
    ck_assert_int_ge(f.calls, 2); /* before waiting, and after the raise */
    parc_mutex_unlock(&f.m);
    parc_test_join(&t, 1);
}
END_TEST

static bool past(void *arg)
{
    return parc_now_ns() >= *(int64_t *)arg;
}

START_TEST(wait_for_returns_last_value_at_deadline)
{
    /* Nobody notifies, and the predicate turns true on its own just as the
     * deadline comes: the check after the deadline decides (true: 0). */
    parc_cond_t c = PARC_COND_INIT;
    parc_mutex_t m;
    parc_mutex_init(&m, PARC_MUTEX_ERRORCHECK);
    ck_assert_int_eq(parc_mutex_lock(&m), 0);
    int64_t t0 = parc_now_ns(), when = t0 + 30 * PARC_NS_PER_MS;
    ck_assert_int_eq(parc_cond_wait_for_timed(&c, &m, past, &when,
                                              30 * PARC_NS_PER_MS), 0);
    ck_assert_int_ge(parc_now_ns() - t0, 30 * PARC_NS_PER_MS);
    /* and false at the deadline: ETIMEDOUT, not before it */
    t0 = parc_now_ns();
    ck_assert_int_eq(parc_cond_wait_for_timed(&c, &m, never, NULL,
                                              20 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns() - t0, 20 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_mutex_unlock(&m), 0); /* held on return */
}
END_TEST

/* ---- notify_all wakes every waiter ------------------------------------ */

struct gate {
    parc_cond_t c;
    parc_mutex_t m;
    int open;              /* guarded by m */
    int inside;            /* waiters registered, guarded by m */
    parc_atomic(int) passed;
    parc_atomic(int) timeouts;
};

static bool gate_open(void *arg) { return ((struct gate *)arg)->open != 0; }

static void *gate_waiter(void *arg)
{
    struct gate *g = arg;
    parc_mutex_lock(&g->m);
    g->inside++;
    int rc = parc_cond_wait_for_timed(&g->c, &g->m, gate_open, g, PARC_TEST_PATIENCE_NS);
    parc_mutex_unlock(&g->m);
    parc_faa(rc == 0 ? &g->passed : &g->timeouts, 1, PARC_RELAXED);
    return NULL;
}

START_TEST(notify_all_wakes_every_waiter)
{
    static struct gate g;
    parc_cond_init(&g.c);
    parc_mutex_init(&g.m, PARC_MUTEX_NORMAL);
    g.open = 0;
    g.inside = 0;
    parc_atomic_init(&g.passed, 0);
    parc_atomic_init(&g.timeouts, 0);
    pthread_t t[16];
    parc_test_spawn(t, 16, gate_waiter, &g, 0);
    for (;;) { /* all registered, most of them asleep */
        parc_mutex_lock(&g.m);
        int n = g.inside;
        parc_mutex_unlock(&g.m);
        if (n == 16)
            break;
        parc_sleep_ns(PARC_NS_PER_MS);
    }
    parc_sleep_ns(10 * PARC_NS_PER_MS);
    parc_mutex_lock(&g.m);
    g.open = 1;
    parc_mutex_unlock(&g.m);
    ck_assert_int_eq(parc_cond_notify_all(&g.c), 0); /* after unlocking */
    parc_test_join(t, 16);
    ck_assert_int_eq(parc_load(&g.timeouts, PARC_RELAXED), 0);
    ck_assert_int_eq(parc_load(&g.passed, PARC_RELAXED), 16);
    ck_assert_int_eq(parc_cond_destroy(&g.c), 0);
}
END_TEST

/* ---- bounded buffer: producers/consumers, notify_one ---------------- */

#define SLOTS 4

struct buffer {
    parc_mutex_t m;
    parc_cond_t not_empty, not_full;
    int64_t items[SLOTS]; /* guarded by m */
    int head, count;      /* guarded by m */
    int per_thread;
    parc_atomic(int64_t) sum;
    parc_atomic(int) timeouts;
};

static bool has_item(void *arg) { return ((struct buffer *)arg)->count > 0; }
static bool has_room(void *arg) { return ((struct buffer *)arg)->count < SLOTS; }

static void *buffer_producer(void *arg)
{
    struct buffer *b = arg;
    for (int i = 1; i <= b->per_thread; i++) {
        parc_mutex_lock(&b->m);
        int rc = 0;
        if (i & 1)
            rc = parc_cond_wait_for_timed(&b->not_full, &b->m, has_room, b,
                                          PARC_TEST_PATIENCE_NS);
        else /* the classic loop, with plain timed waits */
            while (!has_room(b) && rc == 0)
                rc = parc_cond_wait_timed(&b->not_full, &b->m, PARC_TEST_PATIENCE_NS);
        if (rc != 0) {
            parc_mutex_unlock(&b->m);
            parc_faa(&b->timeouts, 1, PARC_RELAXED);
            return NULL;
        }
        b->items[(b->head + b->count) % SLOTS] = i;
        b->count++;
        parc_cond_notify_one(&b->not_empty);
        parc_mutex_unlock(&b->m);
    }
    return NULL;
}

static void *buffer_consumer(void *arg)
{
    struct buffer *b = arg;
    for (int i = 0; i < b->per_thread; i++) {
        parc_mutex_lock(&b->m);
        int rc = parc_cond_wait_for_timed(&b->not_empty, &b->m, has_item, b,
                                          PARC_TEST_PATIENCE_NS);
        if (rc != 0) {
            parc_mutex_unlock(&b->m);
            parc_faa(&b->timeouts, 1, PARC_RELAXED);
            return NULL;
        }
        int64_t v = b->items[b->head];
        b->head = (b->head + 1) % SLOTS;
        b->count--;
        parc_mutex_unlock(&b->m);
        parc_cond_notify_one(&b->not_full); /* after unlocking */
        parc_faa(&b->sum, v, PARC_RELAXED);
    }
    return NULL;
}

static void run_buffer(int producers, int consumers, int per_thread)
{
    static struct buffer b;
    parc_mutex_init(&b.m, PARC_MUTEX_NORMAL);
    parc_cond_init(&b.not_empty);
    parc_cond_init(&b.not_full);
    b.head = b.count = 0;
    b.per_thread = per_thread;
    parc_atomic_init(&b.sum, 0);
    parc_atomic_init(&b.timeouts, 0);
    pthread_t p[8], c[8];
    parc_test_spawn(c, consumers, buffer_consumer, &b, 0);
    parc_test_spawn(p, producers, buffer_producer, &b, 0);
    parc_test_join(p, producers);
    parc_test_join(c, consumers);
    ck_assert_int_eq(parc_load(&b.timeouts, PARC_RELAXED), 0);
    ck_assert_int_eq(b.count, 0);
    int64_t expect = (int64_t)producers * per_thread * (per_thread + 1) / 2;
    ck_assert_int_eq(parc_load(&b.sum, PARC_RELAXED), expect);
    ck_assert_int_eq(parc_cond_destroy(&b.not_empty), 0);
    ck_assert_int_eq(parc_cond_destroy(&b.not_full), 0);
}

START_TEST(one_producer_one_consumer) { run_buffer(1, 1, 40000 / PARC_SLOWDOWN); }
END_TEST
START_TEST(producers_and_consumers) { run_buffer(4, 4, 10000 / PARC_SLOWDOWN); }
END_TEST

/* An idle waiter spins briefly, then sleeps: over one second it uses far
 * below 2% of a core. */
struct cond_and_mutex {
    parc_cond_t c;
    parc_mutex_t m;
};

static int wait_one_second(void *arg)
{
    struct cond_and_mutex *cm = arg;
    parc_mutex_lock(&cm->m);
    int rc = parc_cond_wait_timed(&cm->c, &cm->m, PARC_NS_PER_S);
    parc_mutex_unlock(&cm->m);
    return rc;
}

START_TEST(idle_waiter_burns_no_cpu)
{
    struct cond_and_mutex cm = { PARC_COND_INIT, PARC_MUTEX_INIT };
    parc_test_idle_t m = { wait_one_second, &cm, -1, 0, 0 };
    parc_test_measure_idle(&m);
    ck_assert_int_eq(m.rc, ETIMEDOUT);
    ck_assert_int_ge(m.wall_ns, PARC_NS_PER_S);
    ck_assert_int_le(m.cpu_ns, m.wall_ns / 50);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cond");
    TCase *basic = tcase_create("basic");
    tcase_add_test(basic, rejects_bad_arguments);
    tcase_add_test(basic, wait_without_the_mutex_is_eperm);
    tcase_add_test(basic, wait_on_a_mutex_held_by_another_thread_is_eperm);
    tcase_add_test(basic, notify_without_waiters_is_one_load);
    tcase_add_test(basic, timed_wait_times_out_with_the_mutex_held);
    tcase_add_test(basic, wait_for_checks_first);
    tcase_add_test(basic, wait_for_rechecks_after_every_wakeup);
    tcase_add_test(basic, wait_for_returns_last_value_at_deadline);
    tcase_add_test(basic, idle_waiter_burns_no_cpu);
    suite_add_tcase(s, basic);
    TCase *mt = tcase_create("threads");
    tcase_set_timeout(mt, 120 * PARC_SLOWDOWN);
    tcase_add_test(mt, notify_all_wakes_every_waiter);
    tcase_add_test(mt, one_producer_one_consumer);
    tcase_add_test(mt, producers_and_consumers);
    suite_add_tcase(s, mt);
    return parc_test_run(s);
}
