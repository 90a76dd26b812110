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

#include "parc/atomic.h"
#include "parc/status.h"

/* One poll of a wait loop: relax the processor, and after PARC_SPIN_POLLS
 * polls yield it (an oversubscribed holder may need this core). */
static inline void parc_spin_poll_(unsigned *polls)
{
    if (++*polls >= PARC_SPIN_POLLS) {
        *polls = 0;
        parc_yield();
    } else {
        parc_cpu_relax();
    }
}

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

/* One round of that backoff; `delay` starts at PARC_SPIN_BACKOFF_MIN. */
static inline void parc_spin_backoff_(uint32_t *delay)
{
    for (uint32_t i = 0; i < *delay; i++)
        parc_cpu_relax();
    if (*delay < PARC_SPIN_BACKOFF_MAX)
        *delay <<= 1;
    else
        parc_yield();
}

/* ======================================================================
 * TAS: test-and-set.
 * ====================================================================== */

typedef struct parc_spin_tas {
    parc_atomic(uint32_t) held; /* 1 while locked */
} parc_spin_tas_t;

#define PARC_SPIN_TAS_INIT { 0u }

/* Initialise `l` unlocked (same as PARC_SPIN_TAS_INIT). Not while other
 * threads use it. Returns 0, or EINVAL for NULL. */
static inline int parc_spin_tas_init(parc_spin_tas_t *l)
{
    if (l == NULL)
        return EINVAL;
    parc_atomic_init(&l->held, 0u);
    return 0;
}

/* Take the lock: an exchange per attempt, with exponential backoff
 * between failed attempts (parc_spin_backoff_: without it every attempt
 * of every waiter steals the line from the holder; it yields the
 * processor once its cap is reached). Any thread; spins, never parks.
 * Returns 0, or EINVAL for NULL. */
static inline int parc_spin_tas_lock(parc_spin_tas_t *l)
{
    if (l == NULL)
        return EINVAL;
    uint32_t delay = PARC_SPIN_BACKOFF_MIN;
    /* acquire: the previous holder's critical section happens-before ours;
     * pairs with the release store in parc_spin_tas_unlock(). */
    while (parc_xchg(&l->held, 1u, PARC_ACQUIRE) != 0u)
        parc_spin_backoff_(&delay);
    return 0;
}

/* Take the lock if it is free. Any thread; never blocks. Returns 0 when
 * taken, EAGAIN when busy, EINVAL for NULL. */
static inline int parc_spin_tas_lock_try(parc_spin_tas_t *l)
{
    if (l == NULL)
        return EINVAL;
    /* acquire: as in parc_spin_tas_lock(). */
    return parc_xchg(&l->held, 1u, PARC_ACQUIRE) == 0u ? 0 : EAGAIN;
}

/* Release the lock. Only the holder; never blocks. Returns 0, EPERM when
 * the lock is not held, EINVAL for NULL. */
static inline int parc_spin_tas_unlock(parc_spin_tas_t *l)
{
    if (l == NULL)
        return EINVAL;
    if (parc_load(&l->held, PARC_RELAXED) == 0u)
        return EPERM;
    /* release: publishes the critical section; pairs with the acquire
     * exchange of the next holder. */
    parc_store(&l->held, 0u, PARC_RELEASE);
    return 0;
}

/* ======================================================================
 * TTAS: test-and-test-and-set with exponential backoff.
 * ====================================================================== */

typedef struct parc_spin_ttas {
    parc_atomic(uint32_t) held; /* 1 while locked */
} parc_spin_ttas_t;

#define PARC_SPIN_TTAS_INIT { 0u }

/* Initialise `l` unlocked (same as PARC_SPIN_TTAS_INIT). Returns 0, or
 * EINVAL for NULL. */
static inline int parc_spin_ttas_init(parc_spin_ttas_t *l)
{
    if (l == NULL)
        return EINVAL;
    parc_atomic_init(&l->held, 0u);
    return 0;
}

/* Take the lock: one exchange when it is free; otherwise back off
 * (parc_spin_backoff_: exponential, bounded, yielding at the cap) and look
 * again with a load, exchanging only when the lock looks free. Any thread;
 * spins, never parks. Returns 0, or EINVAL for NULL. */
static inline int parc_spin_ttas_lock(parc_spin_ttas_t *l)
{
    if (l == NULL)
        return EINVAL;
    /* acquire: the previous holder's critical section happens-before ours;
     * pairs with the release store in parc_spin_ttas_unlock(). */
    if (parc_xchg(&l->held, 1u, PARC_ACQUIRE) == 0u)
        return 0;
    uint32_t delay = PARC_SPIN_BACKOFF_MIN;
    for (;;) {
        /* Busy: stay off the line for a while (see parc_spin_backoff_)... */
        parc_spin_backoff_(&delay);
        /* ...then test with a load (a busy lock costs the holder no
         * exclusive transfer), and set only when it looks free. Relaxed
         * test: the acquire is the exchange, as above. */
        if (parc_load(&l->held, PARC_RELAXED) == 0u &&
            parc_xchg(&l->held, 1u, PARC_ACQUIRE) == 0u)
            return 0;
    }
}

/* Take the lock if it is free. Any thread; never blocks. Returns 0 when
 * taken, EAGAIN when busy, EINVAL for NULL. */
static inline int parc_spin_ttas_lock_try(parc_spin_ttas_t *l)
{
    if (l == NULL)
        return EINVAL;
    /* The test first: a busy lock costs no write. acquire on the exchange:
     * as in parc_spin_ttas_lock(). */
    if (parc_load(&l->held, PARC_RELAXED) != 0u)
        return EAGAIN;
    return parc_xchg(&l->held, 1u, PARC_ACQUIRE) == 0u ? 0 : EAGAIN;
}

/* Release the lock. Only the holder; never blocks. Returns 0, EPERM when
 * the lock is not held, EINVAL for NULL. */
static inline int parc_spin_ttas_unlock(parc_spin_ttas_t *l)
{
    if (l == NULL)
        return EINVAL;
    if (parc_load(&l->held, PARC_RELAXED) == 0u)
        return EPERM;
    /* release: publishes the critical section; pairs with the acquire
     * exchange of the next holder. */
    parc_store(&l->held, 0u, PARC_RELEASE);
    return 0;
}

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

/* Initialise `l` unlocked (same as PARC_SPIN_TICKET_INIT). Returns 0, or
 * EINVAL for NULL. */
static inline int parc_spin_ticket_init(parc_spin_ticket_t *l)
{
    if (l == NULL)
        return EINVAL;
    parc_atomic_init(&l->next, 0u);
    parc_atomic_init(&l->serving, 0u);
    return 0;
}

/* Take a ticket and wait for it to be served: threads get the lock in the
 * order they called this. Any thread; spins (yields now and then), never
 * parks. Returns 0, or EINVAL for NULL. At most 2^32 - 1 threads may wait
 * at once. */
static inline int parc_spin_ticket_lock(parc_spin_ticket_t *l)
{
    if (l == NULL)
        return EINVAL;
    /* Relaxed: taking a ticket publishes nothing; the acquire is the load
     * of `serving` below. */
    uint32_t mine = parc_faa(&l->next, 1u, PARC_RELAXED);
    unsigned polls = 0;
    for (;;) {
        /* acquire: the previous holder's critical section happens-before
         * ours; pairs with the release store in parc_spin_ticket_unlock(). */
        uint32_t serving = parc_load(&l->serving, PARC_ACQUIRE);
        if (serving == mine)
            return 0;
        /* Wait in proportion to the number of threads ahead of us; the
         * next in line polls at every pause, so that a hand-off between
         * two threads is not delayed by the backoff. */
        uint32_t k = (mine - serving - 1u) * PARC_SPIN_TICKET_BACKOFF;
        do
            parc_spin_poll_(&polls);
        while (k-- > 0);
    }
}

/* Take the lock if it is free (no thread holds or waits for it). Any
 * thread; never blocks. Returns 0 when taken, EAGAIN when busy, EINVAL for
 * NULL. */
static inline int parc_spin_ticket_lock_try(parc_spin_ticket_t *l)
{
    if (l == NULL)
        return EINVAL;
    /* acquire: as in parc_spin_ticket_lock(); pairs with the release store
     * of `serving` in unlock. */
    uint32_t serving = parc_load(&l->serving, PARC_ACQUIRE);
    uint32_t expected = serving;
    /* The lock is free iff next == serving; taking that ticket makes it
     * ours. Relaxed: `serving` was already acquired above. */
    return parc_cas(&l->next, &expected, serving + 1u, PARC_RELAXED, PARC_RELAXED)
               ? 0 : EAGAIN;
}

/* Release the lock to the next ticket. Only the holder; never blocks.
 * Returns 0, EPERM when the lock is not held, EINVAL for NULL. */
static inline int parc_spin_ticket_unlock(parc_spin_ticket_t *l)
{
    if (l == NULL)
        return EINVAL;
    /* Relaxed: only the holder writes `serving`. */
    uint32_t serving = parc_load(&l->serving, PARC_RELAXED);
    if (parc_load(&l->next, PARC_RELAXED) == serving)
        return EPERM; /* no ticket is being served */
    /* release: publishes the critical section; pairs with the acquire load
     * of `serving` by the next ticket's holder. */
    parc_store(&l->serving, serving + 1u, PARC_RELEASE);
    return 0;
}

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

/* Initialise `l` unlocked (same as PARC_SPIN_MCS_INIT). Returns 0, or
 * EINVAL for NULL. */
static inline int parc_spin_mcs_init(parc_spin_mcs_t *l)
{
    if (l == NULL)
        return EINVAL;
    parc_atomic_init(&l->tail, (parc_spin_mcs_node_t *)NULL);
    return 0;
}

/* Queue `node` and wait until the lock is handed to it; FIFO. `node` is
 * the caller's and must stay valid and untouched until the matching
 * parc_spin_mcs_unlock(l, node). Any thread; spins on its own node
 * (yields now and then), never parks. Returns 0, or EINVAL for NULL. */
static inline int parc_spin_mcs_lock(parc_spin_mcs_t *l, parc_spin_mcs_node_t *node)
{
    if (l == NULL || node == NULL)
        return EINVAL;
    parc_store(&node->next, (parc_spin_mcs_node_t *)NULL, PARC_RELAXED);
    parc_store(&node->locked, 1u, PARC_RELAXED);
    /* acq_rel: acquire, when the queue was empty, makes the last holder's
     * critical section visible (pairs with the release CAS in unlock);
     * release publishes the node's initialisation above to our successor,
     * which reads it through its own exchange on `tail`. */
    parc_spin_mcs_node_t *pred = parc_xchg(&l->tail, node, PARC_ACQ_REL);
    if (pred == NULL)
        return 0;
    /* release: publishes `node->locked = 1` to the predecessor, so that
     * its hand-off store of 0 comes after it; pairs with the acquire load
     * of `next` in unlock. */
    parc_store(&pred->next, node, PARC_RELEASE);
    unsigned polls = 0;
    /* acquire: the predecessor's critical section happens-before ours;
     * pairs with the release store of `locked = 0` in unlock. */
    while (parc_load(&node->locked, PARC_ACQUIRE) != 0u)
        parc_spin_poll_(&polls);
    return 0;
}

/* Take the lock with `node` if nobody holds or waits for it. Any thread;
 * never blocks. Returns 0 when taken (unlock later with the same node),
 * EAGAIN when busy, EINVAL for NULL. */
static inline int parc_spin_mcs_lock_try(parc_spin_mcs_t *l, parc_spin_mcs_node_t *node)
{
    if (l == NULL || node == NULL)
        return EINVAL;
    parc_store(&node->next, (parc_spin_mcs_node_t *)NULL, PARC_RELAXED);
    parc_store(&node->locked, 1u, PARC_RELAXED);
    parc_spin_mcs_node_t *expected = NULL;
    /* acq_rel: as the exchange in parc_spin_mcs_lock(). */
    return parc_cas(&l->tail, &expected, node, PARC_ACQ_REL, PARC_RELAXED)
               ? 0 : EAGAIN;
}

/* Release the lock taken with `node` to the next queued node, if any.
 * Only the holder, with its node; may spin briefly for a successor that
 * is half-way through queueing; never parks. Returns 0, EPERM when the
 * lock is not held (detected for a node whose `next` is NULL, as a node
 * left by a completed unlock or zeroed is; the queue's tail is not read
 * first: that would cost a cache-line transfer on every contended
 * unlock), EINVAL for NULL. */
static inline int parc_spin_mcs_unlock(parc_spin_mcs_t *l, parc_spin_mcs_node_t *node)
{
    if (l == NULL || node == NULL)
        return EINVAL;
    /* acquire: the successor's node initialisation is visible before we
     * store into it; pairs with the release store of `pred->next`. */
    parc_spin_mcs_node_t *next = parc_load(&node->next, PARC_ACQUIRE);
    if (next == NULL) {
        parc_spin_mcs_node_t *expected = node;
        /* release: publishes the critical section to the next thread whose
         * exchange finds the queue empty; pairs with its acq_rel exchange. */
        if (parc_cas(&l->tail, &expected, (parc_spin_mcs_node_t *)NULL,
                     PARC_RELEASE, PARC_RELAXED))
            return 0;
        if (expected == NULL)
            return EPERM; /* the queue is empty: nobody holds the lock */
        /* A successor swapped itself in but has not linked yet. */
        unsigned polls = 0;
        /* acquire: as above. */
        while ((next = parc_load(&node->next, PARC_ACQUIRE)) == NULL)
            parc_spin_poll_(&polls);
    }
    /* release: publishes the critical section to the successor; pairs with
     * its acquire load of `locked`. */
    parc_store(&next->locked, 0u, PARC_RELEASE);
    return 0;
}

#endif /* PARC_SPINLOCK_H */
