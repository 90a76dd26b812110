/*
 * bench/bench_mutex.c — mutual exclusion: lock, bump a shared counter,
 * unlock.
 *
 * Points: uncontended (one thread: the bare cost of lock + unlock in a
 * multi-threaded process) and a shared counter with a short critical
 * section at 2 threads (one per core: handoffs between running threads,
 * where spinning wins) and 8 threads (oversubscribed: the holder may be
 * preempted, where parking wins and pure spinlocks convoy).
 *
 * Peers: glibc's pthread_mutex (default and PTHREAD_MUTEX_ADAPTIVE_NP,
 * which spins a little before the futex), GLib's GMutex (its own futex
 * mutex, no spinning) when GLib is found, and, when Concurrency Kit is
 * found, its test-and-set, ticket and MCS spinlocks (which never park;
 * the FIFO ones are skipped with more threads than CPUs, see below).
 *
 * Each case checks the counter afterwards: a lock that lets two threads in
 * loses increments and the case is reported FAILED. A run that convoys
 * stops early (bench_overrun) and counts what it did.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"
#include "parc/atomic.h"

#if defined(PARC_BENCH_HAVE_CK) && !defined(__SANITIZE_THREAD__)
#include <ck_spinlock.h>
#endif
/* Peers whose atomics live in code TSan does not instrument (ck's inline
 * assembly, libglib's futex mutex) would show every critical section as
 * a race: a ThreadSanitizer build leaves them out. */
#if defined(PARC_BENCH_HAVE_GLIB) && !defined(__SANITIZE_THREAD__)
#include <glib.h>
#endif

static const bench_point_t mutex_points[] = {
    { "uncontended", 1, 0, NULL },
    { "counter", 2, 0, NULL },
    { "counter", 8, 0, "counter" }, /* judged against 2 threads */
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(mutex, "lock, increment a shared counter, unlock", mutex_points)

/*
 * MUTEX_CASE(tag, impl, type, init, lock, unlock, destroy) defines and
 * registers case `impl` for a lock of `type`. init/lock/unlock/destroy
 * take a `type *` and return 0 on success (wrap void functions). They are
 * called directly, not through pointers, so inline fast paths stay inline.
 * MUTEX_CASE_FN defines the case function tag##_case without registering.
 */
#define MUTEX_CASE(tag, impl, type, init, lock, unlock, destroy)            \
    MUTEX_CASE_FN(tag, type, init, lock, unlock, destroy)                   \
    BENCH_CASE(mutex, impl, tag##_case)

/* A FIFO spin lock (ticket, MCS) hands the lock to one particular thread;
 * with more threads than CPUs that thread is usually preempted and every
 * handoff waits for the scheduler (tens of ms per operation on a loaded
 * machine, minutes per run): that measures the scheduler, not the lock,
 * so those points are skipped. ck-fas shows what spinning costs there. */
#define FIFO_SPIN_CASE(tag, impl, type, init, lock, unlock, destroy)        \
    MUTEX_CASE_FN(tag, type, init, lock, unlock, destroy)                   \
    static int64_t tag##_fifo_case(bench_run_t *r)                          \
    {                                                                       \
        return r->threads > bench_cpus() ? BENCH_SKIPPED : tag##_case(r);   \
    }                                                                       \
    BENCH_CASE(mutex, impl, tag##_fifo_case)

#define MUTEX_CASE_FN(tag, type, init, lock, unlock, destroy)               \
    typedef struct tag##_state {                                            \
        PARC_CACHE_ALIGNED type lock;                                       \
        PARC_CACHE_ALIGNED uint64_t counter; /* guarded by lock */          \
    } tag##_state_t;                                                        \
    static void tag##_body(bench_worker_t *w)                               \
    {                                                                       \
        tag##_state_t *s = w->shared;                                       \
        for (uint64_t i = 0; i < w->share; i++) {                           \
            if (bench_overrun(w, i)) { /* a convoy: stop, count it */      \
                w->done = i;                                                \
                break;                                                      \
            }                                                               \
            if (lock(&s->lock) != 0)                                        \
                abort();                                                    \
            s->counter++;                                                   \
            if (unlock(&s->lock) != 0)                                      \
                abort();                                                    \
        }                                                                   \
    }                                                                       \
    static int64_t tag##_case(bench_run_t *r)                               \
    {                                                                       \
        static tag##_state_t s;                                             \
        if (init(&s.lock) != 0)                                             \
            return BENCH_FAILED;                                            \
        s.counter = 0;                                                      \
        int64_t ns = bench_parallel(r, tag##_body, &s);                     \
        if (destroy(&s.lock) != 0 || s.counter != r->items)                 \
            return BENCH_FAILED;                                            \
        return ns;                                                          \
    }

/* ---- parc ---------------------------------------------------------------- */

#include "parc/mutex.h"
static int parc_init(parc_mutex_t *m)
{
    return parc_mutex_init(m, PARC_MUTEX_NORMAL);
}
MUTEX_CASE(parc, "parc", parc_mutex_t, parc_init, parc_mutex_lock,
           parc_mutex_unlock, parc_mutex_destroy)

/* ---- glibc pthreads ------------------------------------------------------ */

static int pthread_default_init(pthread_mutex_t *m)
{
    return pthread_mutex_init(m, NULL);
}

static int pthread_adaptive_init(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    int rc = pthread_mutexattr_init(&a);
    if (rc == 0)
        rc = pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
    if (rc == 0)
        rc = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return rc;
}

MUTEX_CASE(pthread_default, "pthread", pthread_mutex_t, pthread_default_init,
           pthread_mutex_lock, pthread_mutex_unlock, pthread_mutex_destroy)
MUTEX_CASE(pthread_adaptive, "pthread-adaptive", pthread_mutex_t,
           pthread_adaptive_init, pthread_mutex_lock, pthread_mutex_unlock,
           pthread_mutex_destroy)

/* ---- GLib (not under TSan, see above) ------------------------------------ */

#if defined(PARC_BENCH_HAVE_GLIB) && !defined(__SANITIZE_THREAD__)
static int glib_init(GMutex *m)
{
    g_mutex_init(m);
    return 0;
}
static int glib_lock(GMutex *m)
{
    g_mutex_lock(m);
    return 0;
}
static int glib_unlock(GMutex *m)
{
    g_mutex_unlock(m);
    return 0;
}
static int glib_destroy(GMutex *m)
{
    g_mutex_clear(m);
    return 0;
}
MUTEX_CASE(glib, "glib", GMutex, glib_init, glib_lock, glib_unlock, glib_destroy)
#endif

/* ---- Concurrency Kit spinlocks (never park; not under TSan) --------------- */

#if defined(PARC_BENCH_HAVE_CK) && !defined(__SANITIZE_THREAD__)
static int ck_fas_init(ck_spinlock_fas_t *l)
{
    ck_spinlock_fas_init(l);
    return 0;
}
static int ck_fas_lock(ck_spinlock_fas_t *l)
{
    ck_spinlock_fas_lock(l);
    return 0;
}
static int ck_fas_unlock(ck_spinlock_fas_t *l)
{
    ck_spinlock_fas_unlock(l);
    return 0;
}
static int ck_fas_destroy(ck_spinlock_fas_t *l)
{
    return ck_spinlock_fas_locked(l) ? -1 : 0;
}
MUTEX_CASE(ck_fas, "ck-fas", ck_spinlock_fas_t, ck_fas_init, ck_fas_lock,
           ck_fas_unlock, ck_fas_destroy)

static int ck_ticket_init(ck_spinlock_ticket_t *l)
{
    ck_spinlock_ticket_init(l);
    return 0;
}
static int ck_ticket_lock(ck_spinlock_ticket_t *l)
{
    ck_spinlock_ticket_lock(l);
    return 0;
}
static int ck_ticket_unlock(ck_spinlock_ticket_t *l)
{
    ck_spinlock_ticket_unlock(l);
    return 0;
}
static int ck_ticket_destroy(ck_spinlock_ticket_t *l)
{
    return ck_spinlock_ticket_locked(l) ? -1 : 0;
}
FIFO_SPIN_CASE(ck_ticket, "ck-ticket", ck_spinlock_ticket_t, ck_ticket_init,
           ck_ticket_lock, ck_ticket_unlock, ck_ticket_destroy)

/* MCS: each thread queues its own node; one per thread suffices since a
 * thread holds at most one MCS lock at a time here. */
static _Thread_local ck_spinlock_mcs_context_t mcs_node;
static int ck_mcs_init(ck_spinlock_mcs_t *l)
{
    ck_spinlock_mcs_init(l);
    return 0;
}
static int ck_mcs_lock(ck_spinlock_mcs_t *l)
{
    ck_spinlock_mcs_lock(l, &mcs_node);
    return 0;
}
static int ck_mcs_unlock(ck_spinlock_mcs_t *l)
{
    ck_spinlock_mcs_unlock(l, &mcs_node);
    return 0;
}
static int ck_mcs_destroy(ck_spinlock_mcs_t *l)
{
    return ck_spinlock_mcs_locked(l) ? -1 : 0;
}
FIFO_SPIN_CASE(ck_mcs, "ck-mcs", ck_spinlock_mcs_t, ck_mcs_init, ck_mcs_lock,
           ck_mcs_unlock, ck_mcs_destroy)
#endif /* PARC_BENCH_HAVE_CK && !__SANITIZE_THREAD__ */
