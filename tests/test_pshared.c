/*
 * Unit tests for the process-shared (PARC_PSHARED) forms of the layer-1/2
 * primitives and the robust mutex, between processes that share a region
 * (parc/shm.h): park, mutex, robust mutex, condition, semaphore, event,
 * barrier.
 *
 * Each check would fail on a private futex (the other process is never
 * woken: the patience-bounded waits time out) or on a mutex that is not
 * robust (the lock after the holder's death times out instead of saying
 * EOWNERDEAD).
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parc/barrier.h"
#include "parc/cond.h"
#include "parc/event.h"
#include "parc/mpmc.h"
#include "parc/mutex.h"
#include "parc/park.h"
#include "parc/sem.h"
#include "parc/shm.h"
#include "testutil.h"

static parc_shm_t shm;

/* A zeroed block of the test's region. */
static void *shared(size_t size)
{
    uint64_t off;
    ck_assert_int_eq(parc_shm_alloc(&shm, size, &off), 0);
    void *p = parc_shm_ptr(&shm, off);
    memset(p, 0, size);
    return p;
}

static void setup(void)
{
    ck_assert_int_eq(parc_shm_create(&shm, NULL, 1 << 20), 0);
}

static void teardown(void)
{
    parc_shm_close(&shm);
}

static void wait_ok(pid_t pid)
{
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
}

START_TEST(park_wakes_another_process)
{
    parc_park_word_t *w = shared(sizeof *w);
    pid_t pid = fork();
    if (pid == 0) {
        parc_deadline_t d;
        parc_deadline_in(&d, PARC_TEST_PATIENCE_NS);
        while (parc_load(w, PARC_ACQUIRE) == 0)
            if (parc_park_wait_shared(w, 0, d) == ETIMEDOUT)
                _exit(1);
        _exit(0);
    }
    parc_sleep_ns(20 * PARC_NS_PER_MS); /* let it park (not required) */
    parc_store(w, 1u, PARC_RELEASE);
    ck_assert_int_eq(parc_park_wake_all_shared(w), 0);
    wait_ok(pid);
}
END_TEST

struct counted {
    parc_mutex_t m;
    long counter; /* protected by m */
    long shadow;  /* = counter after every consistent critical section */
};

START_TEST(shared_mutex_excludes_across_processes)
{
    struct counted *c = shared(sizeof *c);
    ck_assert_int_eq(parc_mutex_init(&c->m, PARC_MUTEX_NORMAL | PARC_PSHARED), 0);
    enum { PROCS = 4, ROUNDS = 20000 };
    parc_event_t *go = shared(sizeof *go); /* all start at once: contention */
    ck_assert_int_eq(parc_event_init_flags(go, PARC_PSHARED), 0);
    pid_t pids[PROCS];
    for (int p = 0; p < PROCS; p++) {
        if ((pids[p] = fork()) == 0) {
            if (parc_event_wait_timed(go, PARC_TEST_PATIENCE_NS) != 0)
                _exit(3);
            for (int i = 0; i < ROUNDS; i++) {
                if (parc_mutex_lock(&c->m) != 0)
                    _exit(1);
                long v = c->counter; /* a non-atomic read-modify-write */
                c->counter = v + 1;
                if (parc_mutex_unlock(&c->m) != 0)
                    _exit(2);
            }
            _exit(0);
        }
    }
    parc_sleep_ns(20 * PARC_NS_PER_MS);
    parc_event_set(go);
    for (int p = 0; p < PROCS; p++)
        wait_ok(pids[p]);
    ck_assert_int_eq(c->counter, PROCS * ROUNDS);
    /* owner checks */
    ck_assert_int_eq(parc_mutex_lock(&c->m), 0);
    ck_assert_int_eq(parc_mutex_lock(&c->m), EDEADLK);
    ck_assert_int_eq(parc_mutex_lock_try(&c->m), EDEADLK);
    pid_t pid = fork();
    if (pid == 0)
        _exit(parc_mutex_unlock(&c->m) == EPERM &&
              parc_mutex_lock_try(&c->m) == EAGAIN &&
              parc_mutex_lock_timed(&c->m, 10 * PARC_NS_PER_MS) == ETIMEDOUT ? 0 : 1);
    wait_ok(pid);
    ck_assert_int_eq(parc_mutex_unlock(&c->m), 0);
    ck_assert_int_eq(parc_mutex_unlock(&c->m), EPERM);
    ck_assert_int_eq(parc_mutex_consistent(&c->m), EINVAL); /* not robust */
    ck_assert_int_eq(parc_mutex_destroy(&c->m), 0);
}
END_TEST

/* Child: take the lock, half-update, die. */
static pid_t die_holding(struct counted *c, parc_event_t *holding, bool wait_to_be_killed)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (parc_mutex_lock(&c->m) != 0)
            _exit(1);
        c->counter++; /* shadow not yet updated: inconsistent */
        if (holding != NULL)
            parc_event_set(holding);
        if (wait_to_be_killed)
            for (;;)
                pause();
        _exit(0); /* exits holding the lock */
    }
    return pid;
}

static void repair(struct counted *c)
{
    c->shadow = c->counter;
}

START_TEST(robust_mutex_reports_dead_holder)
{
    struct counted *c = shared(sizeof *c);
    ck_assert_int_eq(parc_mutex_init(&c->m, PARC_MUTEX_NORMAL | PARC_PSHARED |
                                                PARC_MUTEX_ROBUST), 0);
    /* 1. the holder exits; its death is found at the next lock */
    wait_ok(die_holding(c, NULL, false));
    ck_assert_int_eq(parc_mutex_lock(&c->m), EOWNERDEAD);
    ck_assert_int_ne(c->counter, c->shadow);
    repair(c);
    ck_assert_int_eq(parc_mutex_consistent(&c->m), 0);
    ck_assert_int_eq(parc_mutex_consistent(&c->m), EINVAL); /* already */
    ck_assert_int_eq(parc_mutex_unlock(&c->m), 0);
    ck_assert_int_eq(parc_mutex_lock(&c->m), 0); /* healthy again */
    ck_assert_int_eq(parc_mutex_unlock(&c->m), 0);

    /* 2. a waiter parked while the holder is killed (and left a zombie:
     * not reaped until the end) gets it with EOWNERDEAD */
    parc_event_t *holding = shared(sizeof *holding);
    ck_assert_int_eq(parc_event_init_flags(holding, PARC_PSHARED), 0);
    pid_t holder = die_holding(c, holding, true);
    ck_assert_int_eq(parc_event_wait_timed(holding, PARC_TEST_PATIENCE_NS), 0);
    pid_t killer = fork();
    if (killer == 0) {
        parc_sleep_ns(100 * PARC_NS_PER_MS);
        _exit(kill(holder, SIGKILL) == 0 ? 0 : 1);
    }
    ck_assert_int_eq(parc_mutex_lock_timed(&c->m, PARC_TEST_PATIENCE_NS), EOWNERDEAD);
    wait_ok(killer);
    int st;
    ck_assert_int_eq(waitpid(holder, &st, 0), holder);
    ck_assert(WIFSIGNALED(st));
    repair(c);
    ck_assert_int_eq(parc_mutex_consistent(&c->m), 0);
    ck_assert_int_eq(parc_mutex_unlock(&c->m), 0);

    /* 3. unlocked without consistent: not recoverable, for everyone */
    wait_ok(die_holding(c, NULL, false));
    ck_assert_int_eq(parc_mutex_lock_try(&c->m), EOWNERDEAD);
    ck_assert_int_eq(parc_mutex_unlock(&c->m), 0);
    ck_assert_int_eq(parc_mutex_lock(&c->m), ENOTRECOVERABLE);
    ck_assert_int_eq(parc_mutex_lock_try(&c->m), ENOTRECOVERABLE);
}
END_TEST

START_TEST(shared_mutex_without_robust_stays_held)
{
    /* What the robust flag buys: without it the dead holder's lock stays
     * held (as with pthread's default), and a timed lock says so. */
    struct counted *c = shared(sizeof *c);
    ck_assert_int_eq(parc_mutex_init(&c->m, PARC_MUTEX_NORMAL | PARC_PSHARED), 0);
    wait_ok(die_holding(c, NULL, false));
    ck_assert_int_eq(parc_mutex_lock_timed(&c->m, 50 * PARC_NS_PER_MS), ETIMEDOUT);
}
END_TEST

struct box {
    parc_mutex_t m;
    parc_cond_t nonempty, nonfull;
    int items, taken;
};

START_TEST(shared_condition_hands_items_across)
{
    struct box *b = shared(sizeof *b);
    ck_assert_int_eq(parc_mutex_init(&b->m, PARC_PSHARED), 0);
    ck_assert_int_eq(parc_cond_init_flags(&b->nonempty, PARC_PSHARED), 0);
    ck_assert_int_eq(parc_cond_init_flags(&b->nonfull, PARC_PSHARED), 0);
    ck_assert_int_eq(parc_cond_init_flags(&b->nonfull, 7), EINVAL);
    enum { N = 2000 };
    pid_t pid = fork();
    if (pid == 0) { /* consumer */
        for (int i = 0; i < N; i++) {
            parc_mutex_lock(&b->m);
            while (b->items == 0)
                if (parc_cond_wait_timed(&b->nonempty, &b->m, PARC_TEST_PATIENCE_NS) == ETIMEDOUT)
                    _exit(1);
            b->items--;
            b->taken++;
            parc_cond_notify_one(&b->nonfull);
            parc_mutex_unlock(&b->m);
        }
        _exit(0);
    }
    for (int i = 0; i < N; i++) { /* producer, one slot */
        parc_mutex_lock(&b->m);
        while (b->items == 1)
            ck_assert_int_ne(parc_cond_wait_timed(&b->nonfull, &b->m, PARC_TEST_PATIENCE_NS),
                             ETIMEDOUT);
        b->items++;
        parc_cond_notify_one(&b->nonempty);
        parc_mutex_unlock(&b->m);
    }
    wait_ok(pid);
    ck_assert_int_eq(b->taken, N);
}
END_TEST

START_TEST(shared_semaphores_ping_pong)
{
    parc_sem_t *s = shared(2 * sizeof *s);
    ck_assert_int_eq(parc_sem_init_flags(&s[0], 0, PARC_SEM_VALUE_MAX, PARC_PSHARED), 0);
    ck_assert_int_eq(parc_sem_init_flags(&s[1], 0, PARC_SEM_VALUE_MAX, PARC_PSHARED), 0);
    ck_assert_int_eq(parc_sem_init_flags(&s[1], 0, 1, 3), EINVAL);
    enum { ROUNDS = 2000 };
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < ROUNDS; i++) {
            if (parc_sem_acquire_timed(&s[0], 1, PARC_TEST_PATIENCE_NS) != 0)
                _exit(1);
            parc_sem_release(&s[1], 1);
        }
        _exit(0);
    }
    for (int i = 0; i < ROUNDS; i++) {
        ck_assert_int_eq(parc_sem_release(&s[0], 1), 0);
        ck_assert_int_eq(parc_sem_acquire_timed(&s[1], 1, PARC_TEST_PATIENCE_NS), 0);
    }
    wait_ok(pid);
}
END_TEST

START_TEST(shared_event_and_barrier)
{
    parc_event_t *go = shared(sizeof *go);
    parc_barrier_t *bar = shared(sizeof *bar);
    long *rounds = shared(3 * sizeof *rounds);
    ck_assert_int_eq(parc_event_init_flags(go, PARC_PSHARED), 0);
    ck_assert_int_eq(parc_event_init_flags(go, 2), EINVAL);
    ck_assert_int_eq(parc_barrier_init_flags(bar, 3, PARC_PSHARED), 0);
    enum { ROUNDS = 200 };
    pid_t pids[2];
    for (int p = 0; p < 2; p++) {
        if ((pids[p] = fork()) == 0) {
            if (parc_event_wait_timed(go, PARC_TEST_PATIENCE_NS) != 0)
                _exit(1);
            for (int r = 0; r < ROUNDS; r++) {
                rounds[p + 1] = r;
                int rc = parc_barrier_wait_timed(bar, NULL, PARC_TEST_PATIENCE_NS);
                if (rc != 0)
                    _exit(2);
                /* after the barrier, everyone has reached round r */
                for (int q = 0; q < 3; q++)
                    if (rounds[q] < r)
                        _exit(3);
                if (parc_barrier_wait_timed(bar, NULL, PARC_TEST_PATIENCE_NS) != 0)
                    _exit(4);
            }
            _exit(0);
        }
    }
    parc_sleep_ns(20 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_event_set(go), 0);
    for (int r = 0; r < ROUNDS; r++) {
        rounds[0] = r;
        ck_assert_int_eq(parc_barrier_wait_timed(bar, NULL, PARC_TEST_PATIENCE_NS), 0);
        for (int q = 0; q < 3; q++)
            ck_assert_int_ge(rounds[q], r);
        ck_assert_int_eq(parc_barrier_wait_timed(bar, NULL, PARC_TEST_PATIENCE_NS), 0);
    }
    for (int p = 0; p < 2; p++)
        wait_ok(pids[p]);
}
END_TEST

START_TEST(shared_mpmc_between_forked_processes)
{
    /* The ring holds pointers: into the region, which the child inherits
     * at the same address. Small capacity: producers block on a full ring
     * and are woken across the process boundary. */
    enum { CAP = 4, N = 3000 };
    char *raw = shared(sizeof(parc_mpmc_t) + PARC_CACHELINE);
    parc_mpmc_t *q = (parc_mpmc_t *)(((uintptr_t)raw + PARC_CACHELINE - 1) &
                                     ~(uintptr_t)(PARC_CACHELINE - 1));
    parc_mpmc_cell_t *cells = shared(CAP * sizeof *cells);
    long *items = shared(N * sizeof *items);
    ck_assert_int_eq(parc_mpmc_init_flags(q, cells, CAP, 4), EINVAL);
    ck_assert_int_eq(parc_mpmc_init_flags(q, cells, CAP, PARC_PSHARED), 0);
    pid_t pid = fork();
    if (pid == 0) {
        for (long i = 0; i < N; i++) {
            items[i] = i * 7;
            if (parc_mpmc_push_timed(q, &items[i], PARC_TEST_PATIENCE_NS) != 0)
                _exit(1);
        }
        parc_mpmc_close(q);
        _exit(0);
    }
    void *it;
    long expect = 0;
    int rc;
    while ((rc = parc_mpmc_pop_timed(q, &it, PARC_TEST_PATIENCE_NS)) == 0) {
        ck_assert_ptr_eq(it, &items[expect]);
        ck_assert_int_eq(*(long *)it, expect * 7);
        expect++;
    }
    ck_assert_int_eq(rc, EPIPE);
    ck_assert_int_eq(expect, N);
    wait_ok(pid);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pshared");
    TCase *tc = tcase_create("processes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120 * PARC_SLOWDOWN);
    tcase_add_test(tc, park_wakes_another_process);
    tcase_add_test(tc, shared_mutex_excludes_across_processes);
    tcase_add_test(tc, robust_mutex_reports_dead_holder);
    tcase_add_test(tc, shared_mutex_without_robust_stays_held);
    tcase_add_test(tc, shared_condition_hands_items_across);
    tcase_add_test(tc, shared_semaphores_ping_pong);
    tcase_add_test(tc, shared_event_and_barrier);
    tcase_add_test(tc, shared_mpmc_between_forked_processes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
