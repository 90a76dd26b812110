/* Unit tests for parc/spinlock.h: the four spin locks through one table of
 * adapters — argument checks, lock/trylock/unlock, EPERM, FIFO order of the
 * ticket and MCS locks, and mutual exclusion under oversubscription. */
#include <stdint.h>
#include <string.h>

#include "parc/spinlock.h"
#include "testutil.h"

typedef union anylock {
    parc_spin_tas_t tas;
    parc_spin_ttas_t ttas;
    parc_spin_ticket_t ticket;
    parc_spin_mcs_t mcs;
} anylock_t;

typedef struct lockops {
    const char *name;
    int (*init)(anylock_t *);
    int (*lock)(anylock_t *, parc_spin_mcs_node_t *);
    int (*trylock)(anylock_t *, parc_spin_mcs_node_t *);
    int (*unlock)(anylock_t *, parc_spin_mcs_node_t *);
    bool fifo;
} lockops_t;

#define ADAPT(kind)                                                              \
    static int kind##_init(anylock_t *l) { return parc_spin_##kind##_init(l ? &l->kind : NULL); } \
    static int kind##_lock(anylock_t *l, parc_spin_mcs_node_t *n)                \
    { (void)n; return parc_spin_##kind##_lock(l ? &l->kind : NULL); }           \
    static int kind##_trylock(anylock_t *l, parc_spin_mcs_node_t *n)             \
    { (void)n; return parc_spin_##kind##_lock_try(l ? &l->kind : NULL); }        \
    static int kind##_unlock(anylock_t *l, parc_spin_mcs_node_t *n)              \
    { (void)n; return parc_spin_##kind##_unlock(l ? &l->kind : NULL); }
ADAPT(tas)
ADAPT(ttas)
ADAPT(ticket)
static int mcs_init(anylock_t *l) { return parc_spin_mcs_init(l ? &l->mcs : NULL); }
static int mcs_lock(anylock_t *l, parc_spin_mcs_node_t *n)
{ return parc_spin_mcs_lock(l ? &l->mcs : NULL, n); }
static int mcs_trylock(anylock_t *l, parc_spin_mcs_node_t *n)
{ return parc_spin_mcs_lock_try(l ? &l->mcs : NULL, n); }
static int mcs_unlock(anylock_t *l, parc_spin_mcs_node_t *n)
{ return parc_spin_mcs_unlock(l ? &l->mcs : NULL, n); }

static const lockops_t locks[] = {
    { "tas", tas_init, tas_lock, tas_trylock, tas_unlock, false },
    { "ttas", ttas_init, ttas_lock, ttas_trylock, ttas_unlock, false },
    { "ticket", ticket_init, ticket_lock, ticket_trylock, ticket_unlock, true },
    { "mcs", mcs_init, mcs_lock, mcs_trylock, mcs_unlock, true },
};
#define NLOCKS ((int)(sizeof locks / sizeof locks[0]))

START_TEST(null_arguments_are_einval)
{
    const lockops_t *o = &locks[_i];
    parc_spin_mcs_node_t node;
    ck_assert_int_eq(o->init(NULL), EINVAL);
    ck_assert_int_eq(o->lock(NULL, &node), EINVAL);
    ck_assert_int_eq(o->trylock(NULL, &node), EINVAL);
    ck_assert_int_eq(o->unlock(NULL, &node), EINVAL);
}
END_TEST

START_TEST(mcs_null_node_is_einval)
{
    parc_spin_mcs_t l = PARC_SPIN_MCS_INIT;
    ck_assert_int_eq(parc_spin_mcs_lock(&l, NULL), EINVAL);
    ck_assert_int_eq(parc_spin_mcs_lock_try(&l, NULL), EINVAL);
    ck_assert_int_eq(parc_spin_mcs_unlock(&l, NULL), EINVAL);
}
END_TEST

START_TEST(static_initializers_give_free_locks)
{
    parc_spin_tas_t a = PARC_SPIN_TAS_INIT;
    parc_spin_ttas_t b = PARC_SPIN_TTAS_INIT;
    parc_spin_ticket_t c = PARC_SPIN_TICKET_INIT;
    parc_spin_mcs_t d = PARC_SPIN_MCS_INIT;
    parc_spin_mcs_node_t n;
    ck_assert_int_eq(parc_spin_tas_lock_try(&a), 0);
    ck_assert_int_eq(parc_spin_tas_unlock(&a), 0);
    ck_assert_int_eq(parc_spin_ttas_lock_try(&b), 0);
    ck_assert_int_eq(parc_spin_ttas_unlock(&b), 0);
    ck_assert_int_eq(parc_spin_ticket_lock_try(&c), 0);
    ck_assert_int_eq(parc_spin_ticket_unlock(&c), 0);
    ck_assert_int_eq(parc_spin_mcs_lock_try(&d, &n), 0);
    ck_assert_int_eq(parc_spin_mcs_unlock(&d, &n), 0);
}
END_TEST

START_TEST(lock_trylock_unlock)
{
    const lockops_t *o = &locks[_i];
    anylock_t l;
    /* zeroed: an MCS unlock detects a free lock with a node whose `next`
     * is NULL (a fresh or released node) */
    parc_spin_mcs_node_t n1, n2;
    memset(&n1, 0, sizeof n1);
    memset(&n2, 0, sizeof n2);
    ck_assert_int_eq(o->init(&l), 0);
    ck_assert_int_eq(o->unlock(&l, &n1), EPERM); /* never locked */
    ck_assert_int_eq(o->lock(&l, &n1), 0);
    ck_assert_int_eq(o->trylock(&l, &n2), EAGAIN);
    ck_assert_int_eq(o->unlock(&l, &n1), 0);
    ck_assert_int_eq(o->unlock(&l, &n1), EPERM); /* already unlocked */
    ck_assert_int_eq(o->trylock(&l, &n2), 0);
    ck_assert_int_eq(o->trylock(&l, &n1), EAGAIN);
    ck_assert_int_eq(o->unlock(&l, &n2), 0);
    for (int k = 0; k < 1000; k++) { /* wrap nothing, leak nothing */
        ck_assert_int_eq(o->lock(&l, &n1), 0);
        ck_assert_int_eq(o->unlock(&l, &n1), 0);
    }
    ck_assert_int_eq(o->trylock(&l, &n1), 0);
    ck_assert_int_eq(o->unlock(&l, &n1), 0);
}
END_TEST

/* ---- FIFO order of the ticket and MCS locks ---------------------------- */

struct fifo_waiter {
    const lockops_t *o;
    anylock_t *l;
    parc_atomic(int) *order;   /* next arrival rank */
    int rank;                  /* rank at which this thread got the lock */
    parc_atomic(int) done;
};

static void *fifo_wait(void *arg)
{
    struct fifo_waiter *w = arg;
    parc_spin_mcs_node_t n;
    ck_assert_int_eq(w->o->lock(w->l, &n), 0);
    w->rank = parc_faa(w->order, 1, PARC_RELAXED);
    ck_assert_int_eq(w->o->unlock(w->l, &n), 0);
    /* release: publishes rank; pairs with the acquire load in the test */
    parc_store(&w->done, 1, PARC_RELEASE);
    return NULL;
}

/* True once `waiters` threads besides the holder are queued on `l`. */
static bool queued(const lockops_t *o, anylock_t *l, parc_spin_mcs_node_t *holder,
                   int waiters)
{
    if (o->lock == ticket_lock)
        return parc_load(&l->ticket.next, PARC_ACQUIRE) -
                   parc_load(&l->ticket.serving, PARC_ACQUIRE) == (uint32_t)(1 + waiters);
    /* MCS: count the linked nodes after the holder's. */
    int n = 0;
    parc_spin_mcs_node_t *p = holder;
    while ((p = parc_load(&p->next, PARC_ACQUIRE)) != NULL)
        n++;
    return n == waiters;
}

static void wait_queued(const lockops_t *o, anylock_t *l, parc_spin_mcs_node_t *h, int k)
{
    parc_deadline_t d;
    parc_deadline_in(&d, PARC_TEST_PATIENCE_NS);
    while (!queued(o, l, h, k)) {
        ck_assert_msg(!parc_deadline_passed(d), "waiter %d never queued", k);
        parc_sleep_ns(100 * PARC_NS_PER_US);
    }
}

START_TEST(fifo_locks_serve_in_arrival_order)
{
    const lockops_t *o = &locks[2 + _i]; /* ticket, mcs */
    ck_assert(o->fifo);
    anylock_t l;
    parc_spin_mcs_node_t holder;
    parc_atomic(int) order;
    parc_atomic_init(&order, 0);
    ck_assert_int_eq(o->init(&l), 0);
    ck_assert_int_eq(o->lock(&l, &holder), 0);
    enum { N = 3 };
    struct fifo_waiter w[N];
    pthread_t t[N];
    for (int k = 0; k < N; k++) {
        w[k] = (struct fifo_waiter){ .o = o, .l = &l, .order = &order };
        parc_atomic_init(&w[k].done, 0);
        ck_assert_int_eq(pthread_create(&t[k], NULL, fifo_wait, &w[k]), 0);
        wait_queued(o, &l, &holder, k + 1); /* k+1 waiters, in order */
    }
    ck_assert_int_eq(o->unlock(&l, &holder), 0);
    parc_test_join(t, N);
    for (int k = 0; k < N; k++)
        ck_assert_int_eq(w[k].rank, k);
}
END_TEST

/* ---- mutual exclusion ----------------------------------------------------- */

#define NTHREADS 8

struct shared {
    const lockops_t *o;
    anylock_t l;
    long iters;
    long counter;   /* plain: protected by l */
    volatile int inside; /* plain (volatile: kept in memory), by l */
    parc_atomic(int) violations;
    parc_atomic(int) errors;
    pthread_barrier_t start; /* all threads begin together */
};

static void *hammer(void *arg)
{
    struct shared *s = arg;
    parc_spin_mcs_node_t n;
    pthread_barrier_wait(&s->start);
    for (long i = 0; i < s->iters; i++) {
        int rc;
        if (i % 3 == 0) {
            while ((rc = s->o->trylock(&s->l, &n)) == EAGAIN)
                parc_yield();
        } else {
            rc = s->o->lock(&s->l, &n);
        }
        if (rc != 0) {
            parc_faa(&s->errors, 1, PARC_RELAXED);
            continue;
        }
        if (s->inside++ != 0)
            parc_faa(&s->violations, 1, PARC_RELAXED);
        s->counter++;
        s->inside--;
        if (s->o->unlock(&s->l, &n) != 0)
            parc_faa(&s->errors, 1, PARC_RELAXED);
    }
    return NULL;
}

START_TEST(mutual_exclusion_under_oversubscription)
{
    static struct shared s;
    s.o = &locks[_i];
    /* FIFO locks hand the lock to preempted waiters when threads outnumber
     * cores: fewer rounds keep the test short. */
    s.iters = (s.o->fifo ? 20000 : 100000) / PARC_SLOWDOWN;
    s.counter = 0;
    s.inside = 0;
    parc_atomic_init(&s.violations, 0);
    parc_atomic_init(&s.errors, 0);
    ck_assert_int_eq(s.o->init(&s.l), 0);
    ck_assert_int_eq(pthread_barrier_init(&s.start, NULL, NTHREADS), 0);
    pthread_t t[NTHREADS];
    for (int k = 0; k < NTHREADS; k++)
        ck_assert_int_eq(pthread_create(&t[k], NULL, hammer, &s), 0);
    parc_test_join(t, NTHREADS);
    pthread_barrier_destroy(&s.start);
    int errors = parc_load(&s.errors, PARC_RELAXED);
    int violations = parc_load(&s.violations, PARC_RELAXED);
    ck_assert_int_eq(errors, 0);
    ck_assert_int_eq(violations, 0);
    ck_assert_int_eq(s.counter, (long)NTHREADS * s.iters);
}
END_TEST

static Suite *spinlock_suite(void)
{
    Suite *s = suite_create("spinlock");
    TCase *tc = tcase_create("api");
    tcase_add_loop_test(tc, null_arguments_are_einval, 0, NLOCKS);
    tcase_add_test(tc, mcs_null_node_is_einval);
    tcase_add_test(tc, static_initializers_give_free_locks);
    tcase_add_loop_test(tc, lock_trylock_unlock, 0, NLOCKS);
    suite_add_tcase(s, tc);
    TCase *tf = tcase_create("fifo");
    tcase_add_loop_test(tf, fifo_locks_serve_in_arrival_order, 0, 2);
    suite_add_tcase(s, tf);
    TCase *tm = tcase_create("threads");
    tcase_add_loop_test(tm, mutual_exclusion_under_oversubscription, 0, NLOCKS);
    suite_add_tcase(s, tm);
    return s;
}

int main(void)
{
    return parc_test_run(spinlock_suite());
}
