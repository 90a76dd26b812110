/*
 * parc/spinlock.h — four spin locks: TAS, TTAS with backoff, ticket, MCS
 * (layer 2).
 *
 * Sources:
 *   TAS     the test-and-set lock: one exchange per attempt, with
 *           exponential backoff between attempts (T. E. Anderson, below).
 *   TTAS    test-and-test-and-set (L. Rudolph and Z. Segall, "Dynamic
 *           decentralized cache schemes for MIMD parallel processors",
 *           ISCA 1984): test with a plain load, and exchange only when
 *           the lock looks free; with exponential backoff between tests
 *           (T. E. Anderson, "The performance of spin lock alternatives
 *           for shared-memory multiprocessors", IEEE TPDS 1(1), 1990).
 *   ticket  J. M. Mellor-Crummey and M. L. Scott, "Algorithms for scalable
 *           synchronization on shared-memory multiprocessors", ACM TOCS
 *           9(1), 1991, section 2.2: FIFO by ticket, with backoff
 *           proportional to the number of threads ahead.
 *   MCS     the same paper, section 2.4: a queue of nodes, each waiter
 *           spinning on its own node (one cache line per waiter), FIFO.
 *           The node lives in the caller's storage (usually its stack) and
 *           must stay valid from lock to the matching unlock; pass the same
 *           node to both.
 *
 * When to use which: all four burn a core while they wait and none parks;
 * use them for critical sections of a few dozen nanoseconds between threads
 * that are running. On an oversubscribed machine (more runnable threads
 * than cores) a preempted holder, or for the FIFO locks a preempted next
 * waiter, stalls everyone: every wait loop here yields the processor
 * (sched_yield) after PARC_SPIN_POLLS polls, or for TAS and TTAS once
 * their backoff reaches its cap, so that it cannot spin out a whole time
 * slice, but parc_mutex_t (which parks) is the right default.
 *
 * Return codes: each operation returns 0, or EINVAL for a NULL argument;
 * trylock EAGAIN when the lock is busy; unlock EPERM when the lock is not
 * held at all (unlock by a thread that does not hold a held lock is not
 * detected: spin locks track no owner).
 *
 * Memory ordering: lock and a successful trylock are acquire operations,
 * unlock a release; every write of a critical section is visible to the
 * next holder.
 *
 * Threads: any thread may lock; only the holder may unlock. Not recursive.
 * No function here allocates or parks.
 */
#ifndef PARC_SPINLOCK_H
#define PARC_SPINLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "parc/api.h"
#include "parc/atomic.h"
#include "parc/status.h"

PARC_BEGIN_DECLS

/*
 * Backoff after a lost race, for the TAS and TTAS locks (Anderson 1990):
 * wait `delay` pauses (parc_cpu_relax, ~25 ns each on the development
 * machine), then double `delay` up to PARC_SPIN_BACKOFF_MAX; at the cap
 * each round also yields the processor, so that on an oversubscribed
 * machine a preempted holder gets a core instead of waiters spinning out
 * their time slices.
 *
 * Why it starts at 32 pauses (~0.8 us) and not at 1: every look at the
 * lock word by a waiter (a load for TTAS, an exchange for TAS) takes the
 * line away from the holder, whose next lock or unlock then misses (a
 * cache-line round trip, ~60 ns here, several times a short critical
 * section). Waiters that look rarely let a running holder keep the line;
 * the doubling makes a waiter that keeps finding the lock busy look ever
 * more rarely, and the cap (~25 us) bounds how late it notices a free
 * lock. A thread's delay starts afresh at each lock call. The price: a
 * thread that loses a race waits at least ~0.8 us, however short the
 * critical section, and a running holder may take the lock many times in
 * a row; where the latency of each hand-off or fairness matters, the
 * ticket and MCS locks (FIFO; a waiter sees the hand-off within a pause)
 * are the ones to use.
 */
#define PARC_SPIN_BACKOFF_MIN 32u
#define PARC_SPIN_BACKOFF_MAX 1024u

/* ======================================================================
 * TAS: test-and-set.
 * ====================================================================== */

typedef struct parc_spin_tas {
    parc_atomic(uint32_t) held; /* 1 while locked */
} parc_spin_tas_t;

#define PARC_SPIN_TAS_INIT { 0u }

/** Initialise `l` unlocked (same as PARC_SPIN_TAS_INIT). Not while other
 * threads use it. Returns 0, or EINVAL for NULL. */
static inline int parc_spin_tas_init(parc_spin_tas_t *l);

/** Take the lock: an exchange per attempt, with exponential backoff
 * between failed attempts (see PARC_SPIN_BACKOFF_MIN: without it every
 * attempt of every waiter steals the line from the holder; it yields the
 * processor once its cap is reached). Any thread; spins, never parks.
 * Returns 0, or EINVAL for NULL. */
static inline int parc_spin_tas_lock(parc_spin_tas_t *l);

/** Take the lock if it is free. Any thread; never blocks. Returns 0 when
 * taken, EAGAIN when busy, EINVAL for NULL. */
static inline int parc_spin_tas_lock_try(parc_spin_tas_t *l);

/** Release the lock. Only the holder; never blocks. Returns 0, EPERM when
 * the lock is not held, EINVAL for NULL. */
static inline int parc_spin_tas_unlock(parc_spin_tas_t *l);

/* ======================================================================
 * TTAS: test-and-test-and-set with exponential backoff.
 * ====================================================================== */

typedef struct parc_spin_ttas {
    parc_atomic(uint32_t) held; /* 1 while locked */
} parc_spin_ttas_t;

#define PARC_SPIN_TTAS_INIT { 0u }

/** Initialise `l` unlocked (same as PARC_SPIN_TTAS_INIT). Returns 0, or
 * EINVAL for NULL. Not while other threads use it; never blocks. */
static inline int parc_spin_ttas_init(parc_spin_ttas_t *l);

/** Take the lock: one exchange when it is free; otherwise back off (see
 * PARC_SPIN_BACKOFF_MIN: exponential, bounded, yielding at the cap) and
 * look again with a load, exchanging only when the lock looks free. Any
 * thread; spins, never parks. Returns 0, or EINVAL for NULL. */
static inline int parc_spin_ttas_lock(parc_spin_ttas_t *l);

/** Take the lock if it is free. Any thread; never blocks. Returns 0 when
 * taken, EAGAIN when busy, EINVAL for NULL. */
static inline int parc_spin_ttas_lock_try(parc_spin_ttas_t *l);

/** Release the lock. Only the holder; never blocks. Returns 0, EPERM when
 * the lock is not held, EINVAL for NULL. */
static inline int parc_spin_ttas_unlock(parc_spin_ttas_t *l);

/* ======================================================================
 * Ticket lock (FIFO).
 * ====================================================================== */

typedef struct parc_spin_ticket {
    parc_atomic(uint32_t) next;    /* the next ticket to hand out */
    parc_atomic(uint32_t) serving; /* the ticket that holds the lock */
} parc_spin_ticket_t;

#define PARC_SPIN_TICKET_INIT { 0u, 0u }

/* Polls per thread ahead (beyond the holder) between two reads of
 * `serving` (proportional backoff, Mellor-Crummey & Scott 1991). */
#define PARC_SPIN_TICKET_BACKOFF 8u

/** Initialise `l` unlocked (same as PARC_SPIN_TICKET_INIT). Returns 0, or
 * EINVAL for NULL. Not while other threads use it; never blocks. */
static inline int parc_spin_ticket_init(parc_spin_ticket_t *l);

/** Take a ticket and wait for it to be served: threads get the lock in the
 * order they called this. Any thread; spins (yields now and then), never
 * parks. Returns 0, or EINVAL for NULL. At most 2^32 - 1 threads may wait
 * at once. */
static inline int parc_spin_ticket_lock(parc_spin_ticket_t *l);

/** Take the lock if it is free (no thread holds or waits for it). Any
 * thread; never blocks. Returns 0 when taken, EAGAIN when busy, EINVAL for
 * NULL. */
static inline int parc_spin_ticket_lock_try(parc_spin_ticket_t *l);

/** Release the lock to the next ticket. Only the holder; never blocks.
 * Returns 0, EPERM when the lock is not held, EINVAL for NULL. */
static inline int parc_spin_ticket_unlock(parc_spin_ticket_t *l);

/* ======================================================================
 * MCS queue lock (FIFO, local spinning).
 * ====================================================================== */

typedef struct parc_spin_mcs_node {
    parc_atomic(struct parc_spin_mcs_node *) next; /* successor, set by it */
    parc_atomic(uint32_t) locked;                  /* 1 while we must wait */
} parc_spin_mcs_node_t;

typedef struct parc_spin_mcs {
    parc_atomic(parc_spin_mcs_node_t *) tail; /* last node queued, or NULL */
} parc_spin_mcs_t;

#define PARC_SPIN_MCS_INIT { NULL }

/** Initialise `l` unlocked (same as PARC_SPIN_MCS_INIT). Returns 0, or
 * EINVAL for NULL. Not while other threads use it; never blocks. */
static inline int parc_spin_mcs_init(parc_spin_mcs_t *l);

/** Queue `node` and wait until the lock is handed to it; FIFO. `node` is
 * the caller's and must stay valid and untouched until the matching
 * parc_spin_mcs_unlock(l, node). Any thread; spins on its own node
 * (yields now and then), never parks. Returns 0, or EINVAL for NULL. */
static inline int parc_spin_mcs_lock(parc_spin_mcs_t *l,
                                     parc_spin_mcs_node_t *node);

/** Take the lock with `node` if nobody holds or waits for it. Any thread;
 * never blocks. Returns 0 when taken (unlock later with the same node),
 * EAGAIN when busy, EINVAL for NULL. */
static inline int parc_spin_mcs_lock_try(parc_spin_mcs_t *l,
                                         parc_spin_mcs_node_t *node);

/** Release the lock taken with `node` to the next queued node, if any.
 * Only the holder, with its node; may spin briefly for a successor that
 * is half-way through queueing; never parks. Returns 0, EPERM when the
 * lock is not held (detected for a node whose `next` is NULL, as a node
 * left by a completed unlock or zeroed is; the queue's tail is not read
 * first: that would cost a cache-line transfer on every contended
 * unlock), EINVAL for NULL. */
static inline int parc_spin_mcs_unlock(parc_spin_mcs_t *l,
                                       parc_spin_mcs_node_t *node);

PARC_END_DECLS

#include "parc/impl/spinlock.h"

#endif /* PARC_SPINLOCK_H */
