/*
 * parc/impl/mpmc.h — the inline fast paths behind parc/mpmc.h.
 * Included at the bottom of parc/mpmc.h; not an API: the contracts are
 * documented there.
 */
#ifndef PARC_IMPL_MPMC_H
#define PARC_IMPL_MPMC_H

#include "parc/mpmc.h"

PARC_BEGIN_DECLS

static inline bool parc_mpmc_is_closed(parc_mpmc_t *q)
{
    return q != NULL && (parc_load(&q->enq, PARC_RELAXED) & PARC_MPMC_CLOSED) != 0;
}

static inline size_t parc_mpmc_capacity(const parc_mpmc_t *q)
{
    return q == NULL ? 0 : q->mask + 1;
}

static inline size_t parc_mpmc_size(parc_mpmc_t *q)
{
    if (q == NULL)
        return 0;
    size_t d = parc_load(&q->deq, PARC_RELAXED);
    size_t e = parc_load(&q->enq, PARC_RELAXED) & ~PARC_MPMC_CLOSED;
    return e - d > q->mask + 1 ? 0 : e - d;
}

/* Slow paths (src/mpmc.c). */
PARC_API int parc_mpmc_push_wait_(parc_mpmc_t *q, void *item,
                                  parc_deadline_t deadline);

PARC_API int parc_mpmc_pop_wait_(parc_mpmc_t *q, void **item,
                                 parc_deadline_t deadline);

/* After a publish or a release: wake the waiters of `ec` if one has
 * armed it since the last wake-up (see "Wake-ups" above). */
static inline void parc_mpmc_notify_(parc_mpmc_t *q, parc_eventcount_t *ec,
                                     parc_atomic(uint32_t) *armed)
{
    /* store-load: the publish or release before the flag check; pairs with
     * the heavy fence of a thread about to sleep (parc_mpmc_*_wait_). */
    parc_asymfence_light(q->asym);
    if (parc_load(armed, PARC_RELAXED) != 0) {
        /* relaxed: parc_eventcount_wake's release increment of the epoch orders
         * the clear before it for a waiter that reads the new epoch. */
        parc_store(armed, 0u, PARC_RELAXED);
        parc_eventcount_wake(ec, true);
    }
}

static inline int parc_mpmc_push_try(parc_mpmc_t *q, void *item)
{
    if (q == NULL)
        return EINVAL;
    size_t pos = parc_load(&q->enq, PARC_RELAXED);
    parc_mpmc_cell_t *cell;
    for (;;) {
        if (pos & PARC_MPMC_CLOSED)
            return EPIPE;
        cell = &q->cells[pos & q->mask];
        /* acquire: the consumer that released this cell has finished
         * reading it; pairs with the release store of seq in pop. */
        size_t seq = parc_load(&cell->seq, PARC_ACQUIRE);
        intptr_t dif = (intptr_t)(seq - pos);
        if (dif == 0) {
            /* relaxed: the claim orders nothing; the cell's seq carries
             * the item. On failure pos is reloaded (maybe with CLOSED). */
            if (parc_cas_weak(&q->enq, &pos, pos + 1, PARC_RELAXED, PARC_RELAXED))
                break;
        } else if (dif < 0) {
            return EAGAIN;
        } else {
            pos = parc_load(&q->enq, PARC_RELAXED);
        }
    }
    cell->item = item; /* ours since the claim */
    /* release: publishes the item; pairs with the acquire load of seq in
     * pop. */
    parc_store(&cell->seq, pos + 1, PARC_RELEASE);
    parc_mpmc_notify_(q, &q->items, &q->items_armed);
    return 0;
}

static inline int parc_mpmc_push(parc_mpmc_t *q, void *item)
{
    int rc = parc_mpmc_push_try(q, item);
    return rc == EAGAIN ? parc_mpmc_push_wait_(q, item, PARC_FOREVER) : rc;
}

static inline int parc_mpmc_push_timed(parc_mpmc_t *q, void *item,
                                       int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (q == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    int rc = parc_mpmc_push_try(q, item);
    return rc == EAGAIN ? parc_mpmc_push_wait_(q, item, deadline) : rc;
}

static inline int parc_mpmc_pop_try(parc_mpmc_t *q, void **item)
{
    if (q == NULL || item == NULL)
        return EINVAL;
    size_t pos = parc_load(&q->deq, PARC_RELAXED);
    parc_mpmc_cell_t *cell;
    for (;;) {
        cell = &q->cells[pos & q->mask];
        /* acquire: the item written before the producer's publish is
         * visible; pairs with the release store of seq in push. */
        size_t seq = parc_load(&cell->seq, PARC_ACQUIRE);
        intptr_t dif = (intptr_t)(seq - (pos + 1));
        if (dif == 0) {
            /* relaxed: as in push, the cell's seq carries the ordering */
            if (parc_cas_weak(&q->deq, &pos, pos + 1, PARC_RELAXED, PARC_RELAXED))
                break;
        } else if (dif < 0) {
            /* Empty or unpublished. Closed and drained when the claims are
             * frozen at our position: every accepted item was popped. */
            size_t e = parc_load(&q->enq, PARC_RELAXED);
            return e == (pos | PARC_MPMC_CLOSED) ? EPIPE : EAGAIN;
        } else {
            pos = parc_load(&q->deq, PARC_RELAXED);
        }
    }
    *item = cell->item;
    /* release: our read of the item happens before the next lap's producer
     * overwrites it; pairs with the acquire load of seq in push. */
    parc_store(&cell->seq, pos + q->mask + 1, PARC_RELEASE);
    parc_mpmc_notify_(q, &q->space, &q->space_armed);
    return 0;
}

static inline int parc_mpmc_pop(parc_mpmc_t *q, void **item)
{
    int rc = parc_mpmc_pop_try(q, item);
    return rc == EAGAIN ? parc_mpmc_pop_wait_(q, item, PARC_FOREVER) : rc;
}

static inline int parc_mpmc_pop_timed(parc_mpmc_t *q, void **item,
                                      int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (q == NULL || item == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    int rc = parc_mpmc_pop_try(q, item);
    return rc == EAGAIN ? parc_mpmc_pop_wait_(q, item, deadline) : rc;
}

PARC_END_DECLS

#endif /* PARC_IMPL_MPMC_H */
