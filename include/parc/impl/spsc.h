/*
 * parc/impl/spsc.h — the inline fast paths behind parc/spsc.h.
 * Included at the bottom of parc/spsc.h; not an API: the contracts are
 * documented there.
 */
#ifndef PARC_IMPL_SPSC_H
#define PARC_IMPL_SPSC_H

#include "parc/spsc.h"

PARC_BEGIN_DECLS

/* The stand-in stored for a NULL item (see "NULL items" in parc/spsc.h). */
PARC_API extern char parc_spsc_null_;
#define PARC_SPSC_NULL_ ((void *)&parc_spsc_null_)

static inline bool parc_spsc_is_closed(parc_spsc_t *q)
{
    return q != NULL && parc_load(&q->closed, PARC_RELAXED) != 0;
}

static inline size_t parc_spsc_capacity(const parc_spsc_t *q)
{
    return q == NULL ? 0 : q->mask + 1;
}

static inline size_t parc_spsc_size(parc_spsc_t *q)
{
    if (q == NULL)
        return 0;
    size_t h = parc_load(&q->head, PARC_RELAXED);
    size_t t = parc_load(&q->tail, PARC_RELAXED);
    return t - h > q->mask + 1 ? 0 : t - h;
}

/* Slow paths (src/spsc.c). parc_spsc_closed_empty_: the ring looked empty
 * and closed; EPIPE if no push is in progress, else EAGAIN. */
PARC_API int parc_spsc_closed_empty_(parc_spsc_t *q, size_t head);

PARC_API int parc_spsc_push_wait_(parc_spsc_t *q, void *item,
                                  parc_deadline_t deadline);

PARC_API int parc_spsc_pop_wait_(parc_spsc_t *q, void **item,
                                 parc_deadline_t deadline);

static inline parc_atomic(void *) *parc_spsc_slot_(parc_spsc_t *q, size_t pos)
{
    return &q->slots[pos & q->mask];
}

/* True when the slot of position `pos` is empty. For the producer only,
 * for a position below its own plus the capacity: an empty slot there
 * means the consumer took the item of pos - capacity, hence every earlier
 * one, so the slots of positions up to pos are all free. */
static inline bool parc_spsc_free_at_(parc_spsc_t *q, size_t pos)
{
    /* acquire: the consumer's reads of every slot it emptied up to this
     * one happen before we overwrite them; pairs with the release stores
     * of NULL in pop. */
    return parc_load(parc_spsc_slot_(q, pos), PARC_ACQUIRE) == NULL;
}

/* The producer's slow check, when free_end says nothing about tail t:
 * true (free_end advanced past t) when the slot of t is free. Probes the
 * slot `lookahead` ahead first, so that the next pushes need no probe. */
static inline bool parc_spsc_room_(parc_spsc_t *q, size_t t)
{
    if (q->lookahead != 0 && parc_spsc_free_at_(q, t + q->lookahead)) {
        q->free_end = t + q->lookahead;
        return true;
    }
    if (!parc_spsc_free_at_(q, t))
        return false;
    q->free_end = t + 1;
    return true;
}

/* After a publish or a release: wake the waiter of `ec` if it armed the
 * flag since the last wake-up. */
static inline void parc_spsc_notify_(parc_spsc_t *q, parc_eventcount_t *ec,
                                     parc_atomic(uint32_t) *armed)
{
    /* store-load: the publish or release before the flag check; pairs with
     * the heavy fence of a thread about to sleep (parc_spsc_*_wait_). */
    parc_asymfence_light(q->asym);
    if (parc_load(armed, PARC_RELAXED) != 0) {
        /* relaxed: parc_eventcount_wake's release increment of the epoch orders
         * the clear before it for a waiter that reads the new epoch (and
         * then re-arms after it). */
        parc_store(armed, 0u, PARC_RELAXED);
        parc_eventcount_wake(ec, true);
    }
}

/* Mark a push in progress and check the closed flag: true when the push
 * may go on, false (mark withdrawn) when the ring is closed. */
static inline bool parc_spsc_begin_push_(parc_spsc_t *q)
{
    parc_store(&q->pushing, 1u, PARC_RELAXED); /* ordered by the fence below */
    /* store-load: the mark before the closed check; pairs with the heavy
     * fence in parc_spsc_closed_empty_(). */
    parc_asymfence_light(q->asym);
    if (parc_load(&q->closed, PARC_RELAXED) != 0) {
        /* release: a consumer that reads 0 here may conclude; nothing was
         * published (pairs with its acquire load of the mark). */
        parc_store(&q->pushing, 0u, PARC_RELEASE);
        return false;
    }
    return true;
}

/* Publish `item` (NULL stands in as parc_spsc_null_) into the slot of
 * position t, which is ours until this store. */
static inline void parc_spsc_put_(parc_spsc_t *q, size_t t, void *item)
{
    /* release: the item's contents, written before the push, are visible
     * to the consumer that takes it; pairs with the acquire load of the
     * slot in pop. */
    parc_store(parc_spsc_slot_(q, t), item != NULL ? item : PARC_SPSC_NULL_,
               PARC_RELEASE);
}

/* After the items below t_new are published: end the mark and wake a
 * waiting consumer. */
static inline void parc_spsc_end_push_(parc_spsc_t *q, size_t t_new)
{
    parc_store(&q->tail, t_new, PARC_RELAXED); /* for size() only */
    /* release: the publish before the end of the mark; pairs with the
     * acquire load of the mark in parc_spsc_closed_empty_(). */
    parc_store(&q->pushing, 0u, PARC_RELEASE);
    parc_spsc_notify_(q, &q->items, &q->items_armed);
}

static inline int parc_spsc_push_try(parc_spsc_t *q, void *item)
{
    if (q == NULL)
        return EINVAL;
    size_t t = parc_load(&q->tail, PARC_RELAXED); /* our own index */
    if (t == q->free_end && !parc_spsc_room_(q, t))
        return parc_load(&q->closed, PARC_RELAXED) != 0 ? EPIPE : EAGAIN;
    if (!parc_spsc_begin_push_(q))
        return EPIPE;
    parc_spsc_put_(q, t, item);
    parc_spsc_end_push_(q, t + 1);
    return 0;
}

static inline int parc_spsc_push(parc_spsc_t *q, void *item)
{
    int rc = parc_spsc_push_try(q, item);
    return rc == EAGAIN ? parc_spsc_push_wait_(q, item, PARC_FOREVER) : rc;
}

static inline int parc_spsc_push_timed(parc_spsc_t *q, void *item,
                                       int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (q == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    int rc = parc_spsc_push_try(q, item);
    return rc == EAGAIN ? parc_spsc_push_wait_(q, item, deadline) : rc;
}

/* The producer's room for up to `want` (1..capacity) items from tail t:
 * how many consecutive slots from t are free (free_end updated). The
 * producer keeps t <= free_end. */
static inline size_t parc_spsc_room_for_(parc_spsc_t *q, size_t t, size_t want)
{
    if (q->free_end - t >= want)
        return want;
    /* The last slot wanted is empty: all before it are (see free_at_). */
    if (parc_spsc_free_at_(q, t + want - 1)) {
        q->free_end = t + want;
        return want;
    }
    /* Else count the free slots after those known free: the consumer
     * empties in order, so they are a prefix. */
    size_t end = q->free_end;
    while (end - t < want && parc_spsc_free_at_(q, end))
        end++;
    q->free_end = end;
    return end - t;
}

static inline size_t parc_spsc_push_bulk(parc_spsc_t *q, void *const *items,
                                         size_t n)
{
    if (q == NULL || items == NULL || n == 0)
        return 0;
    size_t t = parc_load(&q->tail, PARC_RELAXED);
    size_t m = parc_spsc_room_for_(q, t, n <= q->mask ? n : q->mask + 1);
    if (m == 0 || !parc_spsc_begin_push_(q))
        return 0;
    for (size_t i = 0; i < m; i++)
        parc_spsc_put_(q, t + i, items[i]);
    parc_spsc_end_push_(q, t + m);
    return m;
}

/* The item in the slot of position h, or NULL when it is empty. Consumer
 * only. */
static inline void *parc_spsc_peek_(parc_spsc_t *q, size_t h)
{
    /* acquire: the item's contents, written before its push, are visible;
     * pairs with the release store into the slot in push. */
    return parc_load(parc_spsc_slot_(q, h), PARC_ACQUIRE);
}

/* Empty the slot of position h after reading it. */
static inline void parc_spsc_take_(parc_spsc_t *q, size_t h)
{
    /* release: our read of the slot happens before the producer reuses it;
     * pairs with the acquire probes in parc_spsc_free_at_(). */
    parc_store(parc_spsc_slot_(q, h), NULL, PARC_RELEASE);
}

/* After emptying the slots below h_new: wake a waiting producer. */
static inline void parc_spsc_end_pop_(parc_spsc_t *q, size_t h_new)
{
    parc_store(&q->head, h_new, PARC_RELAXED); /* our index; size() reads it */
    parc_spsc_notify_(q, &q->space, &q->space_armed);
}

static inline int parc_spsc_pop_try(parc_spsc_t *q, void **item)
{
    if (q == NULL || item == NULL)
        return EINVAL;
    size_t h = parc_load(&q->head, PARC_RELAXED); /* our own index */
    void *v = parc_spsc_peek_(q, h);
    if (v == NULL)
        return parc_load(&q->closed, PARC_RELAXED) != 0
                   ? parc_spsc_closed_empty_(q, h) : EAGAIN;
    *item = v != PARC_SPSC_NULL_ ? v : NULL;
    parc_spsc_take_(q, h);
    parc_spsc_end_pop_(q, h + 1);
    return 0;
}

static inline int parc_spsc_pop(parc_spsc_t *q, void **item)
{
    int rc = parc_spsc_pop_try(q, item);
    return rc == EAGAIN ? parc_spsc_pop_wait_(q, item, PARC_FOREVER) : rc;
}

static inline int parc_spsc_pop_timed(parc_spsc_t *q, void **item,
                                      int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (q == NULL || item == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    int rc = parc_spsc_pop_try(q, item);
    return rc == EAGAIN ? parc_spsc_pop_wait_(q, item, deadline) : rc;
}

static inline size_t parc_spsc_pop_bulk(parc_spsc_t *q, void **items, size_t n)
{
    if (q == NULL || items == NULL || n == 0)
        return 0;
    size_t h = parc_load(&q->head, PARC_RELAXED);
    size_t m = 0;
    for (; m < n; m++) {
        void *v = parc_spsc_peek_(q, h + m);
        if (v == NULL)
            break;
        items[m] = v != PARC_SPSC_NULL_ ? v : NULL;
        parc_spsc_take_(q, h + m);
    }
    if (m != 0)
        parc_spsc_end_pop_(q, h + m);
    return m;
}

PARC_END_DECLS

#endif /* PARC_IMPL_SPSC_H */
