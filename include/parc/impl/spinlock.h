/*
 * parc/impl/spinlock.h — the inline fast paths behind parc/spinlock.h.
 * Included at the bottom of parc/spinlock.h; not an API: the contracts are
 * documented there.
 */
#ifndef PARC_IMPL_SPINLOCK_H
#define PARC_IMPL_SPINLOCK_H

#include "parc/spinlock.h"

PARC_BEGIN_DECLS

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

/* One round of the TAS/TTAS backoff (described above PARC_SPIN_BACKOFF_MIN
 * in parc/spinlock.h); `delay` starts at PARC_SPIN_BACKOFF_MIN. */
static inline void parc_spin_backoff_(uint32_t *delay)
{
    for (uint32_t i = 0; i < *delay; i++)
        parc_cpu_relax();
    if (*delay < PARC_SPIN_BACKOFF_MAX)
        *delay <<= 1;
    else
        parc_yield();
}

static inline int parc_spin_tas_init(parc_spin_tas_t *l)
{
    if (l == NULL)
        return EINVAL;
    parc_atomic_init(&l->held, 0u);
    return 0;
}

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

static inline int parc_spin_tas_lock_try(parc_spin_tas_t *l)
{
    if (l == NULL)
        return EINVAL;
    /* acquire: as in parc_spin_tas_lock(). */
    return parc_xchg(&l->held, 1u, PARC_ACQUIRE) == 0u ? 0 : EAGAIN;
}

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

static inline int parc_spin_ttas_init(parc_spin_ttas_t *l)
{
    if (l == NULL)
        return EINVAL;
    parc_atomic_init(&l->held, 0u);
    return 0;
}

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

static inline int parc_spin_ticket_init(parc_spin_ticket_t *l)
{
    if (l == NULL)
        return EINVAL;
    parc_atomic_init(&l->next, 0u);
    parc_atomic_init(&l->serving, 0u);
    return 0;
}

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

static inline int parc_spin_mcs_init(parc_spin_mcs_t *l)
{
    if (l == NULL)
        return EINVAL;
    parc_atomic_init(&l->tail, (parc_spin_mcs_node_t *)NULL);
    return 0;
}

static inline int parc_spin_mcs_lock(parc_spin_mcs_t *l,
                                     parc_spin_mcs_node_t *node)
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

static inline int parc_spin_mcs_lock_try(parc_spin_mcs_t *l,
                                         parc_spin_mcs_node_t *node)
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

static inline int parc_spin_mcs_unlock(parc_spin_mcs_t *l,
                                       parc_spin_mcs_node_t *node)
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

PARC_END_DECLS

#endif /* PARC_IMPL_SPINLOCK_H */
