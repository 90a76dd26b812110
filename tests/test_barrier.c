/*
 * Unit tests for parc/barrier.h.
 *
 * Besides every operation and error path: 8 threads pass many generations;
 * in each, every party must see every other party's write for that
 * generation (nobody leaves early, nobody is left behind), the arrival
 * indices must be exactly 0..7, and exactly one party must be told it
 * arrived last. Abort, reset and a timeout must release every waiter with
 * EPIPE (the one that timed out: ETIMEDOUT).
 */
#include <stdint.h>

#include "parc/barrier.h"
#include "testutil.h"

START_TEST(rejects_bad_arguments)
{
    parc_barrier_t b;
    unsigned index;
    ck_assert_int_eq(parc_barrier_init(NULL, 2), EINVAL);
    ck_assert_int_eq(parc_barrier_init(&b, 0), EINVAL);
    ck_assert_int_eq(parc_barrier_init(&b, PARC_BARRIER_MAX_PARTIES + 1), EINVAL);
    ck_assert_int_eq(parc_barrier_init(&b, 2), 0);
    ck_assert_int_eq(parc_barrier_wait(NULL, &index), EINVAL);
    ck_assert_int_eq(parc_barrier_wait_try(NULL, &index), EINVAL);
    ck_assert_int_eq(parc_barrier_wait_timed(NULL, &index, 0), EINVAL);
    ck_assert_int_eq(parc_barrier_wait_timed(&b, &index, -1), EINVAL);
    ck_assert_uint_eq(parc_barrier_waiting(&b), 0); /* nothing arrived */
    ck_assert_int_eq(parc_barrier_abort(NULL), EINVAL);
    ck_assert_int_eq(parc_barrier_reset(NULL), EINVAL);
    ck_assert_int_eq(parc_barrier_destroy(NULL), EINVAL);
    ck_assert(!parc_barrier_broken(NULL));
    ck_assert_uint_eq(parc_barrier_parties(NULL), 0);
    ck_assert_uint_eq(parc_barrier_waiting(NULL), 0);
    ck_assert_uint_eq(parc_barrier_parties(&b), 2);
    ck_assert_int_eq(parc_barrier_destroy(&b), 0);
}
END_TEST

START_TEST(one_party_never_waits)
{
    parc_barrier_t b = PARC_BARRIER_INIT(1);
    unsigned index = 99;
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(parc_barrier_wait(&b, &index), 0);
        ck_assert_uint_eq(index, 0);
    }
    ck_assert_int_eq(parc_barrier_wait_try(&b, &index), 0);
    ck_assert_int_eq(parc_barrier_wait_timed(&b, NULL, 0), 0);
}
END_TEST

struct party {
    parc_barrier_t *b;
    int64_t timeout_ns; /* PARC_FOREVER: plain wait */
    unsigned index;
    int rc;
};

static void *party(void *arg)
{
    struct party *p = arg;
    p->index = 99;
    p->rc = p->timeout_ns == PARC_FOREVER
                ? parc_barrier_wait(p->b, &p->index)
                : parc_barrier_wait_timed(p->b, &p->index, p->timeout_ns);
    return NULL;
}

/* Start n parties and wait until all have arrived. */
static void start_parties(pthread_t *t, struct party *p, int n, parc_barrier_t *b)
{
    for (int i = 0; i < n; i++) {
        p[i] = (struct party){ b, PARC_FOREVER, 0, -1 };
        ck_assert_int_eq(pthread_create(&t[i], NULL, party, &p[i]), 0);
    }
    int64_t until = parc_now_ns() + PARC_TEST_PATIENCE_NS;
    while (parc_barrier_waiting(b) != (unsigned)n) {
        ck_assert_int_lt(parc_now_ns(), until);
        parc_sleep_ns(PARC_NS_PER_MS);
    }
}

START_TEST(try_completes_only_as_last_party)
{
    parc_barrier_t b = PARC_BARRIER_INIT(2);
    unsigned index = 99;
    ck_assert_int_eq(parc_barrier_wait_try(&b, &index), EAGAIN);
    ck_assert_uint_eq(parc_barrier_waiting(&b), 0); /* did not arrive */
    pthread_t t;
    struct party p;
    start_parties(&t, &p, 1, &b);
    ck_assert_int_eq(parc_barrier_wait_try(&b, &index), 0);
    ck_assert_uint_eq(index, 1); /* last */
    parc_test_join(&t, 1);
    ck_assert_int_eq(p.rc, 0);
    ck_assert_uint_eq(p.index, 0);
    ck_assert_uint_eq(parc_barrier_waiting(&b), 0);
}
END_TEST

START_TEST(timeout_breaks_the_barrier)
{
    parc_barrier_t b = PARC_BARRIER_INIT(3);
    pthread_t t;
    struct party p;
    start_parties(&t, &p, 1, &b);
    int64_t t0 = parc_now_ns();
    ck_assert_int_eq(parc_barrier_wait_timed(&b, NULL, 20 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns() - t0, 20 * PARC_NS_PER_MS);
    parc_test_join(&t, 1);
    ck_assert_int_eq(p.rc, EPIPE); /* the other waiter is told */
    ck_assert(parc_barrier_broken(&b));
    ck_assert_int_eq(parc_barrier_wait(&b, NULL), EPIPE);
    ck_assert_int_eq(parc_barrier_wait_try(&b, NULL), EPIPE);
    ck_assert_int_eq(parc_barrier_wait_timed(&b, NULL, 0), EPIPE);
    ck_assert_int_eq(parc_barrier_reset(&b), 0);
    ck_assert(!parc_barrier_broken(&b));
    ck_assert_int_eq(parc_barrier_wait_try(&b, NULL), EAGAIN);
    /* zero timeout as a non-last party: arrives, times out, breaks (Python) */
    ck_assert_int_eq(parc_barrier_wait_timed(&b, NULL, 0), ETIMEDOUT);
    ck_assert(parc_barrier_broken(&b));
}
END_TEST

START_TEST(abort_releases_waiters_with_epipe)
{
    parc_barrier_t b;
    parc_barrier_init(&b, 3);
    pthread_t t[3];
    struct party p[3];
    start_parties(t, p, 2, &b);
    ck_assert_int_eq(parc_barrier_abort(&b), 0);
    parc_test_join(t, 2);
    ck_assert_int_eq(p[0].rc, EPIPE);
    ck_assert_int_eq(p[1].rc, EPIPE);
    ck_assert(parc_barrier_broken(&b));
    ck_assert_int_eq(parc_barrier_abort(&b), 0); /* again: no change */
    ck_assert_int_eq(parc_barrier_wait(&b, NULL), EPIPE);
    /* reset makes it usable again: a whole generation passes */
    ck_assert_int_eq(parc_barrier_reset(&b), 0);
    ck_assert(!parc_barrier_broken(&b));
    start_parties(t, p, 2, &b);
    unsigned index;
    ck_assert_int_eq(parc_barrier_wait(&b, &index), 0);
    ck_assert_uint_eq(index, 2);
    parc_test_join(t, 2);
    ck_assert_int_eq(p[0].rc, 0);
    ck_assert_int_eq(p[1].rc, 0);
    ck_assert_uint_eq(p[0].index + p[1].index, 1); /* 0 and 1 */
}
END_TEST

START_TEST(reset_releases_waiters_and_starts_fresh)
{
    parc_barrier_t b = PARC_BARRIER_INIT(3);
    pthread_t t[3];
    struct party p[3];
    start_parties(t, p, 2, &b);
    ck_assert_int_eq(parc_barrier_reset(&b), 0);
    parc_test_join(t, 2);
    ck_assert_int_eq(p[0].rc, EPIPE);
    ck_assert_int_eq(p[1].rc, EPIPE);
    ck_assert(!parc_barrier_broken(&b)); /* reset, not broken */
    ck_assert_uint_eq(parc_barrier_waiting(&b), 0);
    start_parties(t, p, 2, &b);
    unsigned index;
    ck_assert_int_eq(parc_barrier_wait_timed(&b, &index, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_uint_eq(index, 2);
    parc_test_join(t, 2);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(p[i].rc, 0);
    ck_assert_uint_eq(p[0].index + p[1].index, 1);
}
END_TEST

/* ---- generations -------------------------------------------------------- */

#define PARTIES 8
#define MAX_GENERATIONS 2000

struct gens {
    parc_barrier_t b;
    int generations;
    int seen[PARTIES];                        /* plain: per-party round */
    parc_atomic(unsigned) indices[MAX_GENERATIONS]; /* bit per index */
    parc_atomic(int) lasts[MAX_GENERATIONS];
    parc_atomic(int) errors;
    parc_atomic(int) next;
};

static void *generation_party(void *arg)
{
    struct gens *g = arg;
    int me = parc_faa(&g->next, 1, PARC_RELAXED);
    for (int gen = 0; gen < g->generations; gen++) {
        g->seen[me] = gen;
        unsigned index = 99;
        int rc = (gen % 2) ? parc_barrier_wait(&g->b, &index)
                           : parc_barrier_wait_timed(&g->b, &index, PARC_TEST_PATIENCE_NS);
        if (rc != 0 || index >= PARTIES) {
            parc_faa(&g->errors, 1, PARC_RELAXED);
            parc_barrier_abort(&g->b); /* release the others */
            return NULL;
        }
        for (int i = 0; i < PARTIES; i++)
            if (g->seen[i] != gen) /* someone left early or lagged */
                parc_faa(&g->errors, 1, PARC_RELAXED);
        if (parc_for(&g->indices[gen], 1u << index, PARC_RELAXED) & (1u << index))
            parc_faa(&g->errors, 1, PARC_RELAXED); /* index given twice */
        if (index == PARTIES - 1)
            parc_faa(&g->lasts[gen], 1, PARC_RELAXED);
        /* second rendezvous: nobody writes seen[] for gen+1 until all
         * have checked gen */
        if (parc_barrier_wait(&g->b, NULL) != 0) {
            parc_faa(&g->errors, 1, PARC_RELAXED);
            return NULL;
        }
    }
    return NULL;
}

START_TEST(every_party_sees_every_generation)
{
    static struct gens g;
    ck_assert_int_eq(parc_barrier_init(&g.b, PARTIES), 0);
    g.generations = MAX_GENERATIONS / PARC_SLOWDOWN;
    for (int i = 0; i < g.generations; i++) {
        parc_atomic_init(&g.indices[i], 0u);
        parc_atomic_init(&g.lasts[i], 0);
    }
    parc_atomic_init(&g.errors, 0);
    parc_atomic_init(&g.next, 0);
    pthread_t t[PARTIES];
    parc_test_spawn(t, PARTIES, generation_party, &g, 0);
    parc_test_join(t, PARTIES);
    ck_assert_int_eq(parc_load(&g.errors, PARC_RELAXED), 0);
    for (int i = 0; i < g.generations; i++) {
        ck_assert_uint_eq(parc_load(&g.indices[i], PARC_RELAXED), (1u << PARTIES) - 1);
        ck_assert_int_eq(parc_load(&g.lasts[i], PARC_RELAXED), 1);
    }
    ck_assert(!parc_barrier_broken(&g.b));
}
END_TEST

/* More threads than parties: the extra ones make up later generations.
 * A thread may pass several generations while another lags, so arrivals
 * are budgeted globally (a multiple of the parties): every generation
 * fills. */
struct crowd {
    parc_barrier_t b;
    int arrivals;
    parc_atomic(int) tickets;
    parc_atomic(int) lasts;
    parc_atomic(int) errors;
};

static void *crowd_member(void *arg)
{
    struct crowd *c = arg;
    while (parc_faa(&c->tickets, 1, PARC_RELAXED) < c->arrivals) {
        unsigned index;
        if (parc_barrier_wait_timed(&c->b, &index, PARC_TEST_PATIENCE_NS) != 0) {
            parc_faa(&c->errors, 1, PARC_RELAXED);
            parc_barrier_abort(&c->b);
            return NULL;
        }
        if (index == parc_barrier_parties(&c->b) - 1)
            parc_faa(&c->lasts, 1, PARC_RELAXED);
    }
    return NULL;
}

START_TEST(more_threads_than_parties)
{
    static struct crowd c;
    ck_assert_int_eq(parc_barrier_init(&c.b, 3), 0);
    c.arrivals = 3 * (9000 / PARC_SLOWDOWN);
    parc_atomic_init(&c.tickets, 0);
    parc_atomic_init(&c.lasts, 0);
    parc_atomic_init(&c.errors, 0);
    pthread_t t[9];
    parc_test_spawn(t, 9, crowd_member, &c, 0);
    parc_test_join(t, 9);
    ck_assert_int_eq(parc_load(&c.errors, PARC_RELAXED), 0);
    ck_assert_int_eq(parc_load(&c.lasts, PARC_RELAXED), c.arrivals / 3);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("barrier");
    TCase *basic = tcase_create("basic");
    tcase_add_test(basic, rejects_bad_arguments);
    tcase_add_test(basic, one_party_never_waits);
    tcase_add_test(basic, try_completes_only_as_last_party);
    tcase_add_test(basic, timeout_breaks_the_barrier);
    tcase_add_test(basic, abort_releases_waiters_with_epipe);
    tcase_add_test(basic, reset_releases_waiters_and_starts_fresh);
    suite_add_tcase(s, basic);
    TCase *mt = tcase_create("threads");
    tcase_set_timeout(mt, 120 * PARC_SLOWDOWN);
    tcase_add_test(mt, every_party_sees_every_generation);
    tcase_add_test(mt, more_threads_than_parties);
    suite_add_tcase(s, mt);
    return parc_test_run(s);
}
