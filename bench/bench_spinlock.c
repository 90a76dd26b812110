/*
 * bench/bench_spinlock.c — parc's spin locks against Concurrency Kit's.
 *
 * One benchmark per pairing, so that each ratio parc/peer compares like
 * with like: lock, bump a shared counter, unlock, at 1 thread (the bare
 * cost) and 2 threads (one per core: every hand-off crosses cores).
 *
 *   spin_tas     parc_spin_tas (exchange + exponential backoff) vs
 *                ck_spinlock_fas_lock_eb (the same idea) and, for
 *                reference, ck_spinlock_fas_lock
 *   spin_ttas    parc_spin_ttas (test, then exchange, exponential backoff
 *                between tests) vs ck_spinlock_fas_lock_eb (exchange with
 *                exponential backoff: ck's backoff lock, the counterpart)
 *                and, for reference, ck_spinlock_fas_lock (exchange, then
 *                test until free, no backoff)
 *   spin_ticket  parc_spin_ticket vs ck_spinlock_ticket
 *   spin_mcs     parc_spin_mcs   vs ck_spinlock_mcs
 *
 * More threads than cores is not measured: spin locks are the wrong tool
 * there (a preempted holder or next-in-line stalls everyone); bench_mutex
 * shows it for ck's.
 *
 * Each case checks the counter afterwards (a lock that lets two threads in
 * loses increments and the case is reported FAILED). A run that convoys
 * (a FIFO lock's next thread descheduled on a loaded machine) stops early
 * (bench_overrun) and counts what it did.
 */
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"
#include "parc/atomic.h"
#include "parc/spinlock.h"

/* ck's atomics are inline assembly, which ThreadSanitizer does not see
 * (every critical section would show as a race): a TSan build leaves
 * them out. */
#if defined(PARC_BENCH_HAVE_CK) && !defined(__SANITIZE_THREAD__)
#define HAVE_CK 1
#include <ck_spinlock.h>
#endif

static const bench_point_t spin_points[] = {
    { "uncontended", 1, 0, NULL },
    { "counter", 2, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(spin_tas, "test-and-set: lock, increment a shared counter, unlock", spin_points)
BENCH_DEFINE(spin_ttas, "test-and-test-and-set with backoff: lock, increment, unlock",
             spin_points)
BENCH_DEFINE(spin_ticket, "ticket lock: lock, increment a shared counter, unlock",
             spin_points)
BENCH_DEFINE(spin_mcs, "MCS queue lock: lock, increment a shared counter, unlock",
             spin_points)

/* A per-thread queue node for the MCS locks (one lock held at a time),
 * on a cache line of its own (both libraries' nodes): the other thread
 * writes into it at every hand-off, and must not take the line of this
 * thread's other thread-local variables with it. */
static _Thread_local PARC_CACHE_ALIGNED parc_spin_mcs_node_t parc_node;

/*
 * SPIN_CASE(bench, tag, impl, type, init, lock, unlock) defines and
 * registers case `impl` of benchmark `bench`. init/lock/unlock are called
 * directly (inline fast paths stay inline) with a `type *`.
 */
#define SPIN_CASE(bench, tag, impl, type, init, lock, unlock)               \
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
            lock(&s->lock);                                                 \
            s->counter++;                                                   \
            unlock(&s->lock);                                               \
        }                                                                   \
    }                                                                       \
    static int64_t tag##_case(bench_run_t *r)                               \
    {                                                                       \
        static tag##_state_t s;                                             \
        init(&s.lock);                                                      \
        s.counter = 0;                                                      \
        int64_t ns = bench_parallel(r, tag##_body, &s);                     \
        return s.counter == r->items ? ns : BENCH_FAILED;                   \
    }                                                                       \
    BENCH_CASE(bench, impl, tag##_case)

/* ---- parc ------------------------------------------------------------------ */

static inline void p_mcs_lock(parc_spin_mcs_t *l) { parc_spin_mcs_lock(l, &parc_node); }
static inline void p_mcs_unlock(parc_spin_mcs_t *l) { parc_spin_mcs_unlock(l, &parc_node); }

SPIN_CASE(spin_tas, p_tas, "parc", parc_spin_tas_t, parc_spin_tas_init,
          parc_spin_tas_lock, parc_spin_tas_unlock)
SPIN_CASE(spin_ttas, p_ttas, "parc", parc_spin_ttas_t, parc_spin_ttas_init,
          parc_spin_ttas_lock, parc_spin_ttas_unlock)
SPIN_CASE(spin_ticket, p_ticket, "parc", parc_spin_ticket_t, parc_spin_ticket_init,
          parc_spin_ticket_lock, parc_spin_ticket_unlock)
SPIN_CASE(spin_mcs, p_mcs, "parc", parc_spin_mcs_t, parc_spin_mcs_init,
          p_mcs_lock, p_mcs_unlock)

/* ---- Concurrency Kit ---------------------------------------------------------- */

#ifdef HAVE_CK
static _Thread_local PARC_CACHE_ALIGNED ck_spinlock_mcs_context_t ck_node;
static inline void c_mcs_lock(ck_spinlock_mcs_t *l) { ck_spinlock_mcs_lock(l, &ck_node); }
static inline void c_mcs_unlock(ck_spinlock_mcs_t *l) { ck_spinlock_mcs_unlock(l, &ck_node); }

SPIN_CASE(spin_tas, c_fas_eb, "ck-fas-eb", ck_spinlock_fas_t, ck_spinlock_fas_init,
          ck_spinlock_fas_lock_eb, ck_spinlock_fas_unlock)
SPIN_CASE(spin_tas, c_fas_ref, "ck-fas", ck_spinlock_fas_t, ck_spinlock_fas_init,
          ck_spinlock_fas_lock, ck_spinlock_fas_unlock)
SPIN_CASE(spin_ttas, c_fas_eb_ttas, "ck-fas-eb", ck_spinlock_fas_t, ck_spinlock_fas_init,
          ck_spinlock_fas_lock_eb, ck_spinlock_fas_unlock)
SPIN_CASE(spin_ttas, c_fas_ttas_ref, "ck-fas", ck_spinlock_fas_t, ck_spinlock_fas_init,
          ck_spinlock_fas_lock, ck_spinlock_fas_unlock)
SPIN_CASE(spin_ticket, c_ticket, "ck-ticket", ck_spinlock_ticket_t,
          ck_spinlock_ticket_init, ck_spinlock_ticket_lock, ck_spinlock_ticket_unlock)
SPIN_CASE(spin_mcs, c_mcs, "ck-mcs", ck_spinlock_mcs_t, ck_spinlock_mcs_init,
          c_mcs_lock, c_mcs_unlock)
#endif /* HAVE_CK */
