/*
 * parc/impl/mpsc.h — the inline fast paths behind parc/mpsc.h.
 * Included at the bottom of parc/mpsc.h; not an API: the contracts are
 * documented there.
 */
#ifndef PARC_IMPL_MPSC_H
#define PARC_IMPL_MPSC_H

#include "parc/mpsc.h"

PARC_BEGIN_DECLS

/* Tag bit in the head pointer (nodes are at least 4-byte aligned). */
#define PARC_MPSC_EMPTY_ ((uintptr_t)1) /* the consumer marked it empty */
#define PARC_MPSC_TAGS_ ((uintptr_t)3)
/* node->next of a push refused by close: its verdict, then its
 * successor's acknowledgement (neither is a node address). */
#define PARC_MPSC_REFUSED_ ((uintptr_t)1)
#define PARC_MPSC_ACK_ ((uintptr_t)2)

/* Slow paths (src/mpsc.c). */
PARC_API int parc_mpsc_push_slow_(parc_mpsc_t *q, parc_mpsc_node_t *n,
                                  uintptr_t prev,
                         bool *was_empty, bool wake);

PARC_API int parc_mpsc_pop_try_(parc_mpsc_t *q, parc_mpsc_node_t **out);

PARC_API int parc_mpsc_pop_wait_(parc_mpsc_t *q, parc_mpsc_node_t **out,
                        parc_deadline_t deadline);

/* Accepted: link behind the predecessor, and take the empty mark (waking
 * a consumer that sleeps in pop when `wake`). */
static inline void parc_mpsc_link_(parc_mpsc_t *q, parc_mpsc_node_t *n,
                                   uintptr_t prev, bool *was_empty, bool wake)
{
    parc_mpsc_node_t *p = (parc_mpsc_node_t *)(prev & ~PARC_MPSC_TAGS_);
    /* release: publishes the message (written before push) to the
     * consumer; pairs with the acquire loads of next in pop. */
    parc_store(&p->next, (uintptr_t)n, PARC_RELEASE);
    if (prev & PARC_MPSC_EMPTY_) {
        if (was_empty != NULL)
            *was_empty = true;
        /* We took the consumer's empty mark: it may be asleep. */
        if (wake)
            parc_eventcount_notify_one(&q->ec);
    }
}

/* Both pushes: `wake` is a constant at every call, so each inlines to
 * its own fast path. */
static inline int parc_mpsc_push_(parc_mpsc_t *q, parc_mpsc_node_t *n,
                                  bool *was_empty, bool wake)
{
    if (was_empty != NULL)
        *was_empty = false;
    if (q == NULL || n == NULL)
        return EINVAL;
    parc_store(&n->next, 0, PARC_RELAXED);
    /* acq_rel: release publishes n->next = 0 (and the message) to the
     * producer that links behind n next; acquire pairs with the release
     * exchange of close (we then see its flag), with the previous
     * producer's exchange and with the consumer's stub CAS (its reset of
     * the stub's link). */
    uintptr_t prev = parc_xchg(&q->head, (uintptr_t)n, PARC_ACQ_REL);
    if (parc_load(&q->closed, PARC_RELAXED) == 0) {
        parc_mpsc_link_(q, n, prev, was_empty, wake);
        return 0;
    }
    return parc_mpsc_push_slow_(q, n, prev, was_empty, wake);
}

static inline int parc_mpsc_push(parc_mpsc_t *q, parc_mpsc_node_t *n,
                                 bool *was_empty)
{
    return parc_mpsc_push_(q, n, was_empty, true);
}

static inline int parc_mpsc_push_nowake(parc_mpsc_t *q, parc_mpsc_node_t *n,
                                        bool *was_empty)
{
    return parc_mpsc_push_(q, n, was_empty, false);
}

/* The common case inline: the next node is linked behind a real one;
 * take the tail. False when caught up (or at the stub or the end). */
static inline bool parc_mpsc_take_linked_(parc_mpsc_t *q,
                                          parc_mpsc_node_t **out)
{
    parc_mpsc_node_t *tail = q->tail;
    if (tail == &q->stub)
        return false;
    /* acquire: the message is visible; pairs with the release link store
     * in parc_mpsc_link_(). */
    uintptr_t next = parc_load(&tail->next, PARC_ACQUIRE);
    if (next == 0)
        return false;
    q->tail = (parc_mpsc_node_t *)next;
    *out = tail;
    return true;
}

static inline int parc_mpsc_pop_try(parc_mpsc_t *q, parc_mpsc_node_t **out)
{
    if (out != NULL)
        *out = NULL;
    if (q == NULL || out == NULL)
        return EINVAL;
    if (parc_mpsc_take_linked_(q, out))
        return 0;
    /* A drained queue: the tail is the stub and nothing is linked behind
     * it. That is EAGAIN whether the queue is empty or a push is in
     * flight (between its exchange and its link), so a polling consumer's
     * miss reads that one word and nothing else: not the head (reading it
     * would take the producers' line shared on every miss, and the next
     * exchange would have to take it back), and writes nothing. The next
     * push links right there. relaxed: nothing is read through it here;
     * the slow path loads it again with acquire. */
    if (q->tail == &q->stub && parc_load(&q->stub.next, PARC_RELAXED) == 0)
        return EAGAIN;
    int rc = parc_mpsc_pop_try_(q, out);
    return rc == EINPROGRESS ? EAGAIN : rc;
}

static inline int parc_mpsc_pop(parc_mpsc_t *q, parc_mpsc_node_t **out)
{
    if (out != NULL)
        *out = NULL;
    if (q == NULL || out == NULL)
        return EINVAL;
    if (parc_mpsc_take_linked_(q, out))
        return 0;
    /* Caught up (or the stub, or the end): the waiting path decides, so
     * that a consumer that keeps catching up with a streaming producer
     * can let it get ahead before it touches the head (see there). */
    return parc_mpsc_pop_wait_(q, out, PARC_FOREVER);
}

static inline int parc_mpsc_pop_timed(parc_mpsc_t *q, parc_mpsc_node_t **out,
                                      int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (out != NULL)
        *out = NULL;
    if (q == NULL || out == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    return parc_mpsc_pop_wait_(q, out, deadline);
}

static inline bool parc_mpsc_is_closed(parc_mpsc_t *q)
{
    return q != NULL && parc_load(&q->closed, PARC_RELAXED) != 0;
}

PARC_END_DECLS

#endif /* PARC_IMPL_MPSC_H */
