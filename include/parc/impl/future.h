/*
 * parc/impl/future.h — the inline fast paths of parc/future.h: creating,
 * destroying and holding a caller-storage future (a fork of fork/join
 * makes, holds and destroys one per task, and a call into the library
 * costs as much as these stores). Included at the bottom of parc/future.h;
 * not an API of its own: read parc/future.h.
 */
#ifndef PARC_IMPL_FUTURE_H
#define PARC_IMPL_FUTURE_H

#ifndef PARC_FUTURE_H
#error "include parc/future.h, not parc/impl/future.h"
#endif

PARC_BEGIN_DECLS

/* parc_future_destroy() for a future that is not complete (out of line). */
PARC_API int parc_future_destroy_pending_(parc_future_t *f);

static inline int parc_future_init(parc_future_t *f, parc_task_fn fn, void *arg)
{
    if (f == NULL)
        return EINVAL;
    parc_atomic_init(&f->state, PARC_FUTURE_PENDING);
    parc_atomic_init(&f->refs, 1u);
    f->heap = 0;
    f->status = 0;
    f->value = NULL;
    f->fn.task = fn;
    f->arg = arg;
    f->source = NULL;
    parc_atomic_init(&f->chained, (parc_future_t *)NULL);
    f->chain_next = NULL;
    f->sched = NULL;
    return 0;
}

static inline int parc_future_destroy(parc_future_t *f)
{
    if (f == NULL || f->heap)
        return EINVAL;
    /* acquire: pairs with the completion's release CAS or exchange (the
     * outcome was written before). */
    uint32_t s = parc_load(&f->state, PARC_ACQUIRE);
    if ((s & PARC_FUTURE_PHASE) < PARC_FUTURE_DONE)
        return parc_future_destroy_pending_(f);
    /* acquire: pairs with the release store of a scheduler that let go
     * (its last reads of f happened before); one that ran f let go before
     * its completion, which the load above saw. */
    return parc_load(&f->refs, PARC_ACQUIRE) == PARC_FUTURE_HELD ? EBUSY : 0;
}

static inline int parc_future_hold(parc_future_t *f)
{
    if (f == NULL || f->fn.task == NULL || f->source != NULL)
        return EINVAL;
    /* relaxed: a check of the caller's own future; the run's claim
     * decides any race with a cancel. */
    if ((parc_load(&f->state, PARC_RELAXED) & PARC_FUTURE_PHASE) != PARC_FUTURE_PENDING)
        return EALREADY;
    if (f->heap)
        return 0;
    /* relaxed: only the enqueueing thread writes it here, and its enqueue
     * (a release) publishes it with f. */
    if (parc_load(&f->refs, PARC_RELAXED) == PARC_FUTURE_HELD)
        return EALREADY;
    parc_store(&f->refs, PARC_FUTURE_HELD, PARC_RELAXED);
    return 0;
}

static inline void parc_future_unhold(parc_future_t *f)
{
    /* release: the scheduler's reads of f happen before a destroy that
     * sees the hold gone (its acquire load) and reuses the storage. */
    if (f != NULL && !f->heap)
        parc_store(&f->refs, 1u, PARC_RELEASE);
}

PARC_END_DECLS

#endif /* PARC_IMPL_FUTURE_H */
