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

PARC_API int parc_mpsc_wait_link_(parc_mpsc_t *q, parc_mpsc_node_t *tail,
                                  parc_mpsc_node_t **out);

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
        if ((prev & PARC_MPSC_EMPTY_) == 0) {
            /* The common case: open, and the consumer's mark not taken.
             * prev is then a plain node address (the head's only tag is
             * the empty mark). release: as in parc_mpsc_link_(). */
            parc_store(&((parc_mpsc_node_t *)prev)->next, (uintptr_t)n,
                       PARC_RELEASE);
            return 0;
        }
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

/* `tail` (not the stub, not the end) is the last linked node. If it is
 * also the head, put the stub behind it so that it can be handed back:
 * 0 with *out = tail. Else a push is in flight behind it: EINPROGRESS.
 * A CAS, not Vyukov's exchange: it fails if a push or close got in. The
 * expected value carries no tag: a head that is a real node never has one
 * (the empty mark is set only on the stub; pushes, close and a refused
 * push's CAS all install untagged nodes). The stub is out of the list
 * here (the tail passed it, so the push that linked behind it is done):
 * its link may be reset before the CAS.
 *
 * The head is loaded first, and the CAS runs only when the load finds
 * the node still last. A push in flight (exchanged, not yet linked) is
 * then seen with a shared read: the CAS would take the producers' line
 * from the producer between its exchange and its link, so its load of
 * the closed flag (on that line) would miss and its link, which this
 * consumer waits for, would come a line transfer later; with the load,
 * the producer keeps its copy and links at once. That is the usual case
 * of a consumer that keeps up with a stream: it reaches the last node
 * while the next push is in flight. The load costs nothing when the
 * consumer came from the stub (its load of the stub's link brought the
 * head's line in) and one extra transfer at the end of a backlog. */
static inline int parc_mpsc_take_last_(parc_mpsc_t *q, parc_mpsc_node_t *tail,
                                       parc_mpsc_node_t **out)
{
    uintptr_t h = (uintptr_t)tail;
    /* relaxed: only a test whether a push is in flight; the CAS below
     * (or the next pop's acquire load of the link) decides. */
    if (parc_load(&q->head, PARC_RELAXED) != h)
        return EINPROGRESS;
    parc_store(&q->stub.next, 0, PARC_RELAXED);
    /* release: publishes stub.next = 0 to the producer that links to the
     * stub next; pairs with the acquire of its exchange. */
    if (!parc_cas(&q->head, &h, (uintptr_t)&q->stub, PARC_RELEASE,
                  PARC_RELAXED))
        return EINPROGRESS;
    q->tail = &q->stub;
    *out = tail;
    return 0;
}

static inline int parc_mpsc_pop_try(parc_mpsc_t *q, parc_mpsc_node_t **out)
{
    if (q == NULL || out == NULL) {
        if (out != NULL)
            *out = NULL;
        return EINVAL;
    }
    parc_mpsc_node_t *tail = q->tail;
    uintptr_t next;
    if (tail == &q->stub) {
        /* A drained queue: nothing linked behind the stub is EAGAIN
         * whether the queue is empty or a push is in flight (between its
         * exchange and its link), so a polling consumer's miss reads that
         * one word and nothing else: not the head, and writes nothing.
         * acquire: the message (and close's end) is visible; pairs with
         * the release link store in parc_mpsc_push_() / _link_() or
         * close's. */
        next = parc_load(&q->stub.next, PARC_ACQUIRE);
        if (next == 0) {
            *out = NULL;
            return EAGAIN;
        }
        /* Step over the stub (if that reaches the end, the slow path
         * below says EPIPE: the end's link stays 0). */
        q->tail = tail = (parc_mpsc_node_t *)next;
    }
    /* acquire: as above. */
    next = parc_load(&tail->next, PARC_ACQUIRE);
    if (next != 0) {
        q->tail = (parc_mpsc_node_t *)next;
        *out = tail;
        return 0;
    }
    if (tail == &q->end) {
        *out = NULL;
        return EPIPE; /* closed and drained: final */
    }
    /* The last linked node, or a push in flight behind it. */
    if (parc_mpsc_take_last_(q, tail, out) == 0) {
        q->pace >>= 1; /* caught up for real: a hand-off, not a stream */
        return 0;
    }
    return parc_mpsc_wait_link_(q, tail, out);
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
