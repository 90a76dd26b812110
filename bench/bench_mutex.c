/*
 * bench/bench_mutex.c — mutual exclusion: lock, bump a shared counter, do
 * a calibrated stretch of work (bench_work() of bench/bench.h), unlock.
 *
 * A family, not a point: 1, 2, 4 and 8 threads (on 2 cores: alone, one
 * per core, 2:1 and 4:1 oversubscribed) times a critical section that is
 * empty, ~50 ns or ~500 ns. One thread with an empty section is the
 * uncontended row: the bare cost of lock + unlock in a multi-threaded
 * process. Two threads hand the lock between running threads (spinning
 * wins); with more threads than cores the holder may be preempted
 * (parking wins, pure spinlocks convoy). Pinning is the run's --pin
 * option: run the family both ways.
 *
 * Peers: glibc's pthread_mutex (default, and PTHREAD_MUTEX_ADAPTIVE_NP,
 * which spins a little before the futex); Abseil's absl::Mutex and
 * oneTBB's spin_mutex and queuing_mutex (C++, through peer_absl.h and
 * peer_tbb_mutex.h) when found; GLib's GMutex (its own futex mutex, no
 * spinning) when found; Concurrency Kit's test-and-set, ticket and MCS
 * spinlocks (never park) when found. FIFO spin locks (ck ticket and MCS,
 * tbb queuing) are skipped with more threads than CPUs, see below.
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

/* arg: the critical section's work in ns (0: just the counter). */
static const bench_point_t mutex_points[] = {
    { "uncontended", 1, 0, NULL },
    { "empty cs", 2, 0, NULL },
    { "empty cs", 4, 0, NULL },
    { "empty cs", 8, 0, NULL },
    { "cs 50 ns", 1, 50, NULL },
    { "cs 50 ns", 2, 50, NULL },
    { "cs 50 ns", 4, 50, NULL },
    { "cs 50 ns", 8, 50, NULL },
    { "cs 500 ns", 1, 500, NULL },
    { "cs 500 ns", 2, 500, NULL },
    { "cs 500 ns", 4, 500, NULL },
    { "cs 500 ns", 8, 500, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(mutex, "lock, increment a shared counter, work arg ns, unlock",
             mutex_points)

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
        uint32_t iters; /* bench_work() units per critical section */       \
    } tag##_state_t;                                                        \
    static void tag##_body(bench_worker_t *w)                               \
    {                                                                       \
        tag##_state_t *s = w->shared;                                       \
        for (uint64_t i = 0; i < w->share; i++) {                           \
            if (bench_overrun(w, i)) { /* a convoy: stop, count it */       \
                w->done = i;                                                \
                break;                                                      \
            }                                                               \
            if (lock(&s->lock) != 0)                                        \
                abort();                                                    \
            s->counter++;                                                   \
            if (s->iters != 0)                                              \
                bench_work(s->iters);                                       \
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
        s.iters = bench_work_units(r->arg);                                 \
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

/* ---- Abseil (C++, peer_absl.h; not under TSan: libabsl is not
 * instrumented) ------------------------------------------------------------ */

#if defined(PARC_BENCH_HAVE_ABSL) && !defined(__SANITIZE_THREAD__)
#include "peer_absl.h"
MUTEX_CASE(absl, "absl", bench_cxx_lock_t, bench_absl_init, bench_absl_lock,
           bench_absl_unlock, bench_absl_destroy)
#endif

/* ---- oneTBB (C++, peer_tbb_mutex.h; spin, never park) --------------------- */

#if defined(PARC_BENCH_HAVE_TBB) && !defined(__SANITIZE_THREAD__)
#include "peer_tbb_mutex.h"
MUTEX_CASE(tbb_spin, "tbb-spin", bench_cxx_lock_t, bench_tbb_spin_init,
           bench_tbb_spin_lock, bench_tbb_spin_unlock, bench_tbb_spin_destroy)
FIFO_SPIN_CASE(tbb_queuing, "tbb-queuing", bench_cxx_lock_t,
               bench_tbb_queuing_init, bench_tbb_queuing_lock,
               bench_tbb_queuing_unlock, bench_tbb_queuing_destroy)
#endif

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
