/*
 * Unit tests for parc/sem.h.
 *
 * Besides every operation and error path: many threads hold permits while
 * an atomic holder count checks that the semaphore never admits more than
 * its permits (an over-admitting semaphore fails), and producers/consumers
 * hand items over through the semaphore alone, each acquire bounded by a
 * generous patience (a lost wake-up leaves a consumer asleep with permits
 * available: it times out and the test fails).
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>

#include "parc/sem.h"
#include "testutil.h"

START_TEST(rejects_bad_arguments)
{
    parc_sem_t s;
    ck_assert_int_eq(parc_sem_init(NULL, 1), EINVAL);
    ck_assert_int_eq(parc_sem_init(&s, PARC_SEM_VALUE_MAX + 1u), EINVAL);
    ck_assert_int_eq(parc_sem_init_bounded(&s, 0, 0), EINVAL);
    ck_assert_int_eq(parc_sem_init_bounded(&s, 3, 2), EINVAL);
    ck_assert_int_eq(parc_sem_init_bounded(&s, 0, PARC_SEM_VALUE_MAX + 1u), EINVAL);
    ck_assert_int_eq(parc_sem_init_bounded(&s, 1, 2), 0);
    ck_assert_int_eq(parc_sem_acquire(NULL, 1), EINVAL);
    ck_assert_int_eq(parc_sem_acquire(&s, 0), EINVAL);
    ck_assert_int_eq(parc_sem_acquire(&s, 3), EINVAL); /* > bound: never */
    ck_assert_int_eq(parc_sem_acquire_try(NULL, 1), EINVAL);
    ck_assert_int_eq(parc_sem_acquire_try(&s, 0), EINVAL);
    ck_assert_int_eq(parc_sem_acquire_try(&s, 3), EINVAL);
    ck_assert_int_eq(parc_sem_acquire_timed(NULL, 1, 0), EINVAL);
    ck_assert_int_eq(parc_sem_acquire_timed(&s, 0, 0), EINVAL);
    ck_assert_int_eq(parc_sem_acquire_timed(&s, 3, 0), EINVAL);
    ck_assert_int_eq(parc_sem_acquire_timed(&s, 1, -1), EINVAL);
    ck_assert_int_eq(parc_sem_release(NULL, 1), EINVAL);
    ck_assert_int_eq(parc_sem_release(&s, 0), EINVAL);
    ck_assert_int_eq(parc_sem_release(&s, 3), EINVAL);
    ck_assert_uint_eq(parc_sem_value(&s), 1); /* nothing changed */
    ck_assert_uint_eq(parc_sem_value(NULL), 0);
    ck_assert_int_eq(parc_sem_destroy(NULL), EINVAL);
    ck_assert_int_eq(parc_sem_destroy(&s), 0);
}
END_TEST

START_TEST(try_takes_blocks_of_permits)
{
    parc_sem_t s = PARC_SEM_INIT(3);
    ck_assert_int_eq(parc_sem_acquire_try(&s, 2), 0);
    ck_assert_uint_eq(parc_sem_value(&s), 1);
    ck_assert_int_eq(parc_sem_acquire_try(&s, 2), EAGAIN); /* all or none */
    ck_assert_uint_eq(parc_sem_value(&s), 1);
    ck_assert_int_eq(parc_sem_acquire(&s, 1), 0);
    ck_assert_int_eq(parc_sem_acquire_try(&s, 1), EAGAIN);
    ck_assert_int_eq(parc_sem_release(&s, 3), 0);
    ck_assert_uint_eq(parc_sem_value(&s), 3);
    ck_assert_int_eq(parc_sem_acquire_timed(&s, 3, 0), 0);
    ck_assert_int_eq(parc_sem_acquire_timed(&s, 1, 0), ETIMEDOUT);
    /* unbounded: a release may exceed the initial count */
    ck_assert_int_eq(parc_sem_release(&s, 10), 0);
    ck_assert_uint_eq(parc_sem_value(&s), 10);
}
END_TEST

START_TEST(bounded_release_overflows)
{
    parc_sem_t s;
    ck_assert_int_eq(parc_sem_init_bounded(&s, 1, 2), 0);
    ck_assert_int_eq(parc_sem_release(&s, 2), EOVERFLOW);
    ck_assert_uint_eq(parc_sem_value(&s), 1); /* refused entirely */
    ck_assert_int_eq(parc_sem_release(&s, 1), 0);
    ck_assert_int_eq(parc_sem_release(&s, 1), EOVERFLOW);
    ck_assert_uint_eq(parc_sem_value(&s), 2);
    parc_sem_t u = PARC_SEM_INIT(PARC_SEM_VALUE_MAX);
    ck_assert_int_eq(parc_sem_release(&u, 1), EOVERFLOW); /* unbounded too */
    parc_sem_t b = PARC_SEM_INIT_BOUNDED(0, 1);
    ck_assert_int_eq(parc_sem_release(&b, 1), 0);
    ck_assert_int_eq(parc_sem_release(&b, 1), EOVERFLOW);
}
END_TEST

START_TEST(timed_acquire_times_out_after_deadline)
{
    parc_sem_t s = PARC_SEM_INIT(1);
    int64_t t0 = parc_now_ns();
    ck_assert_int_eq(parc_sem_acquire_timed(&s, 2, 20 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns() - t0, 20 * PARC_NS_PER_MS);
    ck_assert_uint_eq(parc_sem_value(&s), 1); /* nothing taken */
    t0 = parc_now_ns();
    ck_assert_int_eq(parc_sem_acquire_timed(&s, 1, 20 * PARC_NS_PER_MS), 0);
    ck_assert_int_eq(parc_sem_acquire_timed(&s, 1, 10 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns() - t0, 10 * PARC_NS_PER_MS);
}
END_TEST

struct later {
    parc_sem_t *s;
    uint32_t n, times;
};

static void *release_later(void *arg)
{
    struct later *l = arg;
    for (uint32_t i = 0; i < l->times; i++) {
        parc_sleep_ns(10 * PARC_NS_PER_MS); /* long enough to park */
        ck_assert_int_eq(parc_sem_release(l->s, l->n), 0);
    }
    return NULL;
}

START_TEST(blocked_acquire_woken_by_release)
{
    parc_sem_t s = PARC_SEM_INIT(0);
    struct later l = { &s, 1, 1 };
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, release_later, &l), 0);
    ck_assert_int_eq(parc_sem_acquire(&s, 1), 0);
    parc_test_join(&t, 1);
    ck_assert_uint_eq(parc_sem_value(&s), 0);
}
END_TEST

START_TEST(large_acquire_gathers_single_releases)
{
    /* five separate releases of one permit must wake a waiter for five */
    parc_sem_t s = PARC_SEM_INIT(0);
    struct later l = { &s, 1, 5 };
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, release_later, &l), 0);
    ck_assert_int_eq(parc_sem_acquire_timed(&s, 5, PARC_TEST_PATIENCE_NS), 0);
    parc_test_join(&t, 1);
    ck_assert_uint_eq(parc_sem_value(&s), 0);
}
END_TEST

struct taker {
    parc_sem_t *s;
    uint32_t n;
    int rc;
};

static void *take_timed(void *arg)
{
    struct taker *t = arg;
    int64_t t0 = parc_now_ns();
    t->rc = parc_sem_acquire_timed(t->s, t->n, PARC_TEST_PATIENCE_NS);
    /* success only at the deadline (the last check) means nobody woke us */
    if (parc_now_ns() - t0 >= PARC_TEST_PATIENCE_NS)
        t->rc = ETIMEDOUT;
    return NULL;
}

START_TEST(release_reaches_a_waiter_that_can_use_it)
{
    /* A (wants 2) sleeps first, B (wants 1) second. One permit released:
     * a single wake-up would go to A, who cannot use it, and B would sleep
     * on beside a free permit. B must get it. */
    parc_sem_t s = PARC_SEM_INIT(0);
    struct taker a = { &s, 2, -1 }, b = { &s, 1, -1 };
    pthread_t ta, tb;
    ck_assert_int_eq(pthread_create(&ta, NULL, take_timed, &a), 0);
    parc_sleep_ns(20 * PARC_NS_PER_MS * PARC_SLOWDOWN);
    ck_assert_int_eq(pthread_create(&tb, NULL, take_timed, &b), 0);
    parc_sleep_ns(20 * PARC_NS_PER_MS * PARC_SLOWDOWN);
    ck_assert_int_eq(parc_sem_release(&s, 1), 0);
    parc_test_join(&tb, 1);
    ck_assert_int_eq(b.rc, 0);
    ck_assert_int_eq(parc_sem_release(&s, 2), 0);
    parc_test_join(&ta, 1);
    ck_assert_int_eq(a.rc, 0);
    ck_assert_uint_eq(parc_sem_value(&s), 0);
}
END_TEST

/* ---- the permit bound under many threads ---------------------------- */

#define PERMITS 3

struct holders {
    parc_sem_t sem;
    parc_atomic(int) inside;  /* permits held right now */
    parc_atomic(int) most;    /* the largest `inside` ever seen */
    parc_atomic(int) failures;
    int rounds;
};

static void *hold_permits(void *arg)
{
    struct holders *h = arg;
    unsigned seed = (unsigned)(uintptr_t)&seed;
    for (int i = 0; i < h->rounds; i++) {
        uint32_t n = (rand_r(&seed) % 4 == 0) ? 2 : 1;
        int rc = (i % 3 == 0) ? parc_sem_acquire_timed(&h->sem, n, PARC_TEST_PATIENCE_NS)
               : (i % 3 == 1) ? parc_sem_acquire(&h->sem, n)
                              : parc_sem_acquire_try(&h->sem, n);
        if (rc == EAGAIN)
            continue;
        if (rc != 0) {
            parc_faa(&h->failures, 1, PARC_RELAXED);
            return NULL;
        }
        int now = parc_faa(&h->inside, (int)n, PARC_RELAXED) + (int)n;
        int most = parc_load(&h->most, PARC_RELAXED);
        while (now > most && !parc_cas_weak(&h->most, &most, now, PARC_RELAXED, PARC_RELAXED))
            ;
        if ((i & 7) == 0)
            sched_yield(); /* hold it across a reschedule sometimes */
        parc_fas(&h->inside, (int)n, PARC_RELAXED);
        ck_assert_int_eq(parc_sem_release(&h->sem, n), 0);
    }
    return NULL;
}

/* An idle acquirer spins briefly, then sleeps: over one second it uses
 * far below 2% of a core. */
static int acquire_for_one_second(void *s)
{
    return parc_sem_acquire_timed(s, 1, PARC_NS_PER_S);
}

START_TEST(idle_acquirer_burns_no_cpu)
{
    parc_sem_t s = PARC_SEM_INIT(0);
    parc_test_idle_t m = { acquire_for_one_second, &s, -1, 0, 0 };
    parc_test_measure_idle(&m);
    ck_assert_int_eq(m.rc, ETIMEDOUT);
    ck_assert_int_ge(m.wall_ns, PARC_NS_PER_S);
    ck_assert_int_le(m.cpu_ns, m.wall_ns / 50);
}
END_TEST

START_TEST(never_admits_more_than_its_permits)
{
    static struct holders h;
    ck_assert_int_eq(parc_sem_init_bounded(&h.sem, PERMITS, PERMITS), 0);
    parc_atomic_init(&h.inside, 0);
    parc_atomic_init(&h.most, 0);
    parc_atomic_init(&h.failures, 0);
    h.rounds = 20000 / PARC_SLOWDOWN;
    pthread_t t[8];
    parc_test_spawn(t, 8, hold_permits, &h, 0);
    parc_test_join(t, 8);
    ck_assert_int_eq(parc_load(&h.failures, PARC_RELAXED), 0);
    ck_assert_int_le(parc_load(&h.most, PARC_RELAXED), PERMITS);
    ck_assert_int_ge(parc_load(&h.most, PARC_RELAXED), 2); /* it did overlap */
    ck_assert_uint_eq(parc_sem_value(&h.sem), PERMITS);
}
END_TEST

/* ---- producers and consumers: no lost wake-up ------------------------ */

struct pc {
    parc_sem_t items;
    parc_atomic(int) consumed;
    parc_atomic(int) timeouts;
    int per_thread;
};

static void *produce(void *arg)
{
    struct pc *pc = arg;
    for (int i = 0; i < pc->per_thread; i++) {
        ck_assert_int_eq(parc_sem_release(&pc->items, 1), 0);
        if ((i & 31) == 0)
            sched_yield(); /* let consumers run dry and sleep */
    }
    return NULL;
}

static void *consume(void *arg)
{
    struct pc *pc = arg;
    for (int i = 0; i < pc->per_thread; i++) {
        if (parc_sem_acquire_timed(&pc->items, 1, PARC_TEST_PATIENCE_NS) != 0) {
            parc_faa(&pc->timeouts, 1, PARC_RELAXED);
            return NULL;
        }
        parc_faa(&pc->consumed, 1, PARC_RELAXED);
    }
    return NULL;
}

START_TEST(producers_consumers_lose_no_wakeup)
{
    static struct pc pc;
    ck_assert_int_eq(parc_sem_init(&pc.items, 0), 0);
    parc_atomic_init(&pc.consumed, 0);
    parc_atomic_init(&pc.timeouts, 0);
    pc.per_thread = 20000 / PARC_SLOWDOWN;
    pthread_t c[6], p[6];
    parc_test_spawn(c, 6, consume, &pc, 0);
    parc_test_spawn(p, 6, produce, &pc, 0);
    parc_test_join(p, 6);
    parc_test_join(c, 6);
    ck_assert_int_eq(parc_load(&pc.timeouts, PARC_RELAXED), 0);
    ck_assert_int_eq(parc_load(&pc.consumed, PARC_RELAXED), 6 * pc.per_thread);
    ck_assert_uint_eq(parc_sem_value(&pc.items), 0);
}
END_TEST

/* Mixed block sizes: waiters for 1, 2 and 3 permits, fed one at a time
 * (a release of one permit must reach a waiter that can use it). */
struct block_consumer {
    parc_sem_t *s;
    uint32_t n;
    int rounds;
    parc_atomic(int) *timeouts;
};

static void *take_blocks(void *arg)
{
    struct block_consumer *b = arg;
    for (int i = 0; i < b->rounds; i++)
        if (parc_sem_acquire_timed(b->s, b->n, PARC_TEST_PATIENCE_NS) != 0) {
            parc_faa(b->timeouts, 1, PARC_RELAXED);
            return NULL;
        }
    return NULL;
}

START_TEST(mixed_block_sizes_lose_no_wakeup)
{
    static parc_sem_t s;
    static parc_atomic(int) timeouts;
    parc_sem_init(&s, 0);
    parc_atomic_init(&timeouts, 0);
    int rounds = 3000 / PARC_SLOWDOWN;
    struct block_consumer bc[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        bc[i] = (struct block_consumer){ &s, (uint32_t)i + 1, rounds, &timeouts };
        ck_assert_int_eq(pthread_create(&t[i], NULL, take_blocks, &bc[i]), 0);
    }
    for (int i = 0; i < 6 * rounds; i++) { /* 1 + 2 + 3 permits per round */
        ck_assert_int_eq(parc_sem_release(&s, 1), 0);
        if ((i & 15) == 0)
            sched_yield();
    }
    parc_test_join(t, 3);
    ck_assert_int_eq(parc_load(&timeouts, PARC_RELAXED), 0);
    ck_assert_uint_eq(parc_sem_value(&s), 0);
}
END_TEST

/* Two threads on one CPU ping-pong through two process-shared semaphores
 * (the kind whose waits take the rule of src/spin_wait.h): each hop is a
 * yield to the partner, which makes the next wait park at once; a park
 * of that kind that missed its wake-up would leave both waiting (timed:
 * the test fails). */
struct one_cpu {
    parc_sem_t s[2];
    int rounds;
    parc_atomic(int) timeouts; /* and failed releases */
};

static void *one_cpu_side(void *arg)
{
    static parc_atomic(int) next_side;
    struct one_cpu *o = arg;
    int side = parc_faa(&next_side, 1, PARC_RELAXED) % 2;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    (void)pthread_setaffinity_np(pthread_self(), sizeof one, &one); /* best effort */
    for (int i = 0; i < o->rounds; i++) {
        if (side == 0 && parc_sem_release(&o->s[0], 1) != 0)
            parc_faa(&o->timeouts, 1, PARC_RELAXED);
        if (parc_sem_acquire_timed(&o->s[side == 0], 1, PARC_TEST_PATIENCE_NS) != 0) {
            parc_faa(&o->timeouts, 1, PARC_RELAXED);
            return NULL;
        }
        if (side == 1 && parc_sem_release(&o->s[1], 1) != 0)
            parc_faa(&o->timeouts, 1, PARC_RELAXED);
    }
    return NULL;
}

START_TEST(pingpong_on_one_cpu_loses_no_wakeup)
{
    static struct one_cpu o;
    ck_assert_int_eq(parc_sem_init_flags(&o.s[0], 0, PARC_SEM_VALUE_MAX, PARC_PSHARED), 0);
    ck_assert_int_eq(parc_sem_init_flags(&o.s[1], 0, PARC_SEM_VALUE_MAX, PARC_PSHARED), 0);
    o.rounds = 20000 / PARC_SLOWDOWN;
    parc_atomic_init(&o.timeouts, 0);
    pthread_t t[2];
    parc_test_spawn(t, 2, one_cpu_side, &o, 0);
    parc_test_join(t, 2);
    ck_assert_int_eq(parc_load(&o.timeouts, PARC_RELAXED), 0);
    ck_assert_uint_eq(parc_sem_value(&o.s[0]), 0);
    ck_assert_uint_eq(parc_sem_value(&o.s[1]), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sem");
    TCase *basic = tcase_create("basic");
    tcase_add_test(basic, rejects_bad_arguments);
    tcase_add_test(basic, try_takes_blocks_of_permits);
    tcase_add_test(basic, bounded_release_overflows);
    tcase_add_test(basic, timed_acquire_times_out_after_deadline);
    tcase_add_test(basic, blocked_acquire_woken_by_release);
    tcase_add_test(basic, large_acquire_gathers_single_releases);
    tcase_add_test(basic, release_reaches_a_waiter_that_can_use_it);
    tcase_add_test(basic, idle_acquirer_burns_no_cpu);
    suite_add_tcase(s, basic);
    TCase *mt = tcase_create("threads");
    tcase_set_timeout(mt, 120 * PARC_SLOWDOWN);
    tcase_add_test(mt, never_admits_more_than_its_permits);
    tcase_add_test(mt, producers_consumers_lose_no_wakeup);
    tcase_add_test(mt, mixed_block_sizes_lose_no_wakeup);
    tcase_add_test(mt, pingpong_on_one_cpu_loses_no_wakeup);
    suite_add_tcase(s, mt);
    return parc_test_run(s);
}
