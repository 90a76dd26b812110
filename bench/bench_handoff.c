/*
 * bench/bench_handoff.c — blocking hand-off between two threads: a
 * ping-pong of round trips through a blocking primitive.
 *
 * Three benchmarks, one per parc primitive, each against the same peers:
 *
 *   sem_handoff     two parc_sem_t: post mine, wait for the partner's
 *   event_handoff   two parc_event_t: set mine, wait for the partner's,
 *                   clear it
 *   cond_handoff    parc_mutex_t + parc_cond_t: a turn variable, wait
 *                   while it is not mine, pass it, notify
 *
 * Peers: POSIX sem_t (glibc: a futex; the waiter sleeps at once, so every
 * hand-off pays a cross-core futex wake-up, ~45 us on these virtual
 * machines) and pthread mutex + condition variable with a turn variable.
 * parc's waiters spin briefly (PARC_SPIN_POLLS) before they sleep, so a
 * partner that answers at once is caught in a cache-line round trip or
 * two: the target is <= 0.05x sem_t's round trip, and the report shows it
 * as a multiple of the floor (one cache-line round trip).
 *
 * One operation is one round trip (thread 0 -> thread 1 -> thread 0).
 * Every case checks that both threads made the same number of round trips
 * (a lost hand-off hangs; the framework's watchdog names the case).
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"
#include "parc/atomic.h"
#include "parc/cond.h"
#include "parc/event.h"
#include "parc/mutex.h"
#include "parc/sem.h"

static const bench_point_t handoff_points[] = {
    { "ping-pong", 2, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(sem_handoff, "round trip through two semaphores (post, wait)",
             handoff_points)
BENCH_DEFINE(event_handoff, "round trip through two events (set, wait, clear)",
             handoff_points)
BENCH_DEFINE(cond_handoff, "round trip through a mutex + condition variable turn",
             handoff_points)

/* Run `body` on two threads for r->ops round trips; one op = one round
 * trip (bench_parallel counts both threads' iterations). */
static int64_t round_trips(bench_run_t *r, bench_body_fn body, void *shared)
{
    if (r->threads != 2)
        return BENCH_SKIPPED;
    int64_t ns = bench_parallel(r, body, shared);
    r->items = r->ops;
    return ns;
}

/* ---- parc_sem_t ---------------------------------------------------------- */

typedef struct sem_pair {
    PARC_CACHE_ALIGNED parc_sem_t s[2]; /* s[i]: a permit for thread i */
} sem_pair_t;

static void parc_sem_body(bench_worker_t *w)
{
    sem_pair_t *p = w->shared;
    int me = w->id, other = 1 - w->id;
    for (uint64_t i = 0; i < w->ops; i++) {
        if (me == 0 && parc_sem_release(&p->s[other], 1) != 0)
            abort();
        if (parc_sem_acquire(&p->s[me], 1) != 0)
            abort();
        if (me == 1 && parc_sem_release(&p->s[other], 1) != 0)
            abort();
    }
}

static int64_t parc_sem_case(bench_run_t *r)
{
    static sem_pair_t p;
    parc_sem_init(&p.s[0], 0);
    parc_sem_init(&p.s[1], 0);
    int64_t ns = round_trips(r, parc_sem_body, &p);
    if (parc_sem_value(&p.s[0]) != 0 || parc_sem_value(&p.s[1]) != 0)
        return BENCH_FAILED;
    return ns;
}
BENCH_CASE(sem_handoff, "parc", parc_sem_case)

/* ---- parc_event_t -------------------------------------------------------- */

typedef struct event_pair {
    PARC_CACHE_ALIGNED parc_event_t e[2]; /* e[i]: thread i's turn */
} event_pair_t;

static void parc_event_body(bench_worker_t *w)
{
    event_pair_t *p = w->shared;
    int me = w->id, other = 1 - w->id;
    for (uint64_t i = 0; i < w->ops; i++) {
        if (me == 0)
            parc_event_set(&p->e[other]);
        if (parc_event_wait(&p->e[me]) != 0)
            abort();
        /* cleared before the partner can set it again: it sets it only
         * after our next set of its own event */
        parc_event_clear(&p->e[me]);
        if (me == 1)
            parc_event_set(&p->e[other]);
    }
}

static int64_t parc_event_case(bench_run_t *r)
{
    static event_pair_t p;
    parc_event_init(&p.e[0]);
    parc_event_init(&p.e[1]);
    int64_t ns = round_trips(r, parc_event_body, &p);
    if (parc_event_is_set(&p.e[0]) || parc_event_is_set(&p.e[1]))
        return BENCH_FAILED;
    return ns;
}
BENCH_CASE(event_handoff, "parc", parc_event_case)

/* ---- parc_mutex_t + parc_cond_t ---------------------------------------- */

typedef struct parc_turn {
    PARC_CACHE_ALIGNED parc_mutex_t m;
    parc_cond_t c;
    int turn;          /* guarded by m: whose move it is */
    uint64_t moves;    /* guarded by m */
} parc_turn_t;

static void parc_cond_body(bench_worker_t *w)
{
    parc_turn_t *t = w->shared;
    for (uint64_t i = 0; i < w->ops; i++) {
        parc_mutex_lock(&t->m);
        while (t->turn != w->id)
            parc_cond_wait(&t->c, &t->m);
        t->turn = 1 - w->id;
        t->moves++;
        parc_cond_notify_one(&t->c);
        parc_mutex_unlock(&t->m);
    }
}

static int64_t parc_cond_case(bench_run_t *r)
{
    static parc_turn_t t;
    parc_mutex_init(&t.m, PARC_MUTEX_NORMAL);
    parc_cond_init(&t.c);
    t.turn = 0;
    t.moves = 0;
    int64_t ns = round_trips(r, parc_cond_body, &t);
    if (t.moves != 2 * r->ops || parc_cond_destroy(&t.c) != 0)
        return BENCH_FAILED;
    return ns;
}
BENCH_CASE(cond_handoff, "parc", parc_cond_case)

/* ---- peer: POSIX sem_t --------------------------------------------------- */

typedef struct posix_pair {
    PARC_CACHE_ALIGNED sem_t s[2];
} posix_pair_t;

static void posix_sem_body(bench_worker_t *w)
{
    posix_pair_t *p = w->shared;
    int me = w->id, other = 1 - w->id;
    for (uint64_t i = 0; i < w->ops; i++) {
        if (me == 0 && sem_post(&p->s[other]) != 0)
            abort();
        while (sem_wait(&p->s[me]) != 0)
            ; /* EINTR */
        if (me == 1 && sem_post(&p->s[other]) != 0)
            abort();
    }
}

static int64_t posix_sem_case(bench_run_t *r)
{
    static posix_pair_t p;
    if (sem_init(&p.s[0], 0, 0) != 0 || sem_init(&p.s[1], 0, 0) != 0)
        return BENCH_FAILED;
    int64_t ns = round_trips(r, posix_sem_body, &p);
    int v0, v1;
    sem_getvalue(&p.s[0], &v0);
    sem_getvalue(&p.s[1], &v1);
    sem_destroy(&p.s[0]);
    sem_destroy(&p.s[1]);
    return v0 == 0 && v1 == 0 ? ns : BENCH_FAILED;
}
BENCH_CASE(sem_handoff, "sem_t", posix_sem_case)
BENCH_CASE(event_handoff, "sem_t", posix_sem_case)
BENCH_CASE(cond_handoff, "sem_t", posix_sem_case)

/* ---- peer: pthread mutex + condition variable --------------------------- */

typedef struct pthread_turn {
    PARC_CACHE_ALIGNED pthread_mutex_t m;
    pthread_cond_t c;
    int turn;
    uint64_t moves;
} pthread_turn_t;

static void pthread_cond_body(bench_worker_t *w)
{
    pthread_turn_t *t = w->shared;
    for (uint64_t i = 0; i < w->ops; i++) {
        pthread_mutex_lock(&t->m);
        while (t->turn != w->id)
            pthread_cond_wait(&t->c, &t->m);
        t->turn = 1 - w->id;
        t->moves++;
        pthread_cond_signal(&t->c);
        pthread_mutex_unlock(&t->m);
    }
}

static int64_t pthread_cond_case(bench_run_t *r)
{
    static pthread_turn_t t;
    if (pthread_mutex_init(&t.m, NULL) != 0 || pthread_cond_init(&t.c, NULL) != 0)
        return BENCH_FAILED;
    t.turn = 0;
    t.moves = 0;
    int64_t ns = round_trips(r, pthread_cond_body, &t);
    pthread_cond_destroy(&t.c);
    pthread_mutex_destroy(&t.m);
    return t.moves == 2 * r->ops ? ns : BENCH_FAILED;
}
BENCH_CASE(sem_handoff, "pthread-cond", pthread_cond_case)
BENCH_CASE(event_handoff, "pthread-cond", pthread_cond_case)
BENCH_CASE(cond_handoff, "pthread-cond", pthread_cond_case)
