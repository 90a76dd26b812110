/* parc/mpsc.h: set-up, close, the consumer side, and the push path that
 * decides pushes racing with close. */
#include "parc/mpsc.h"

#include <stdlib.h>
#include <string.h>

#define NODE(v) ((parc_mpsc_node_t *)((v) & ~PARC_MPSC_TAGS_))

int parc_mpsc_init(parc_mpsc_t *q)
{
    if (q == NULL)
        return EINVAL;
    memset(q, 0, sizeof *q);
    parc_atomic_init(&q->stub.next, 0);
    parc_atomic_init(&q->end.next, 0);
    q->tail = &q->stub;
    parc_atomic_init(&q->head, (uintptr_t)&q->stub | PARC_MPSC_EMPTY_);
    parc_atomic_init(&q->closed, 0u);
    parc_eventcount_init(&q->ec);
    return 0;
}

int parc_mpsc_destroy(parc_mpsc_t *q)
{
    if (q == NULL)
        return EINVAL;
    q->tail = NULL;
    return 0;
}

int parc_mpsc_create(parc_mpsc_t **out)
{
    if (out == NULL)
        return EINVAL;
    /* Two whole lines (asserted in mpsc.h), as aligned_alloc requires. */
    parc_mpsc_t *q = aligned_alloc(PARC_CACHELINE, sizeof *q);
    *out = q;
    if (q == NULL)
        return ENOMEM;
    return parc_mpsc_init(q);
}

void parc_mpsc_free(parc_mpsc_t *q)
{
    if (q == NULL)
        return;
    (void)parc_mpsc_destroy(q);
    free(q);
}

int parc_mpsc_close(parc_mpsc_t *q)
{
    if (q == NULL)
        return EINVAL;
    if (parc_xchg(&q->closed, 1u, PARC_RELAXED) != 0)
        return 0; /* only the first close appends the end */
    /* acq_rel: release publishes the flag above to every producer whose
     * exchange follows this one (all later changes of the head are RMWs,
     * so they continue its release sequence); acquire: the node we link
     * behind is initialised (its producer's release exchange), and a
     * consumer's empty mark we take carries its waiter registration, seen
     * by the notify below. */
    uintptr_t prev = parc_xchg(&q->head, (uintptr_t)&q->end, PARC_ACQ_REL);
    /* release: pairs with the consumer's acquire loads of next (and with
     * the acquire check of an undecided predecessor in push_slow_). */
    parc_store(&NODE(prev)->next, (uintptr_t)&q->end, PARC_RELEASE);
    parc_eventcount_notify_all(&q->ec);
    return 0;
}

int parc_mpsc_push_slow_(parc_mpsc_t *q, parc_mpsc_node_t *n, uintptr_t prev,
                         bool *was_empty, bool wake)
{
    parc_mpsc_node_t *p = NODE(prev);
    if (p != &q->end) {
        /* We saw the flag but our predecessor is not the end: we share its
         * side of the close. If it was accepted, so are we, and whoever
         * comes after us (an accepted push or close itself) links behind
         * us; if it was refused it says so in its own link, where nobody
         * else writes then. It cannot pop before we link it, nor be
         * handed back before we ack. */
        parc_backoff_t backoff = PARC_BACKOFF_INIT;
        for (;;) {
            /* acquire: pairs with the release link store of our successor
             * (parc_mpsc_link_) or of close. */
            if (parc_load(&n->next, PARC_ACQUIRE) != 0) {
                parc_mpsc_link_(q, n, prev, was_empty, wake);
                return 0;
            }
            /* acquire: pairs with the release store of the predecessor's
             * verdict below. */
            if (parc_load(&p->next, PARC_ACQUIRE) == PARC_MPSC_REFUSED_)
                break;
            parc_backoff_spin(&backoff);
        }
        /* release: our read of the predecessor's verdict is done before it
         * reuses its node; pairs with its acquire wait for the ack. */
        parc_store(&p->next, PARC_MPSC_ACK_, PARC_RELEASE);
    }
    /* Refused. Tell a successor (nobody links behind a refused node, so
     * our link word is free for the verdict), then put the end back. */
    /* release: pairs with the acquire verdict load of our successor. */
    parc_store(&n->next, PARC_MPSC_REFUSED_, PARC_RELEASE);
    uintptr_t expected = (uintptr_t)n;
    /* acq_rel: an RMW in the head's release sequence like every other. */
    if (!parc_cas(&q->head, &expected, (uintptr_t)&q->end, PARC_ACQ_REL,
                  PARC_RELAXED)) {
        /* A successor took our node as predecessor: wait until it has read
         * our verdict before handing the node back. It acks right after
         * its exchange; if it was preempted there, yield to it. */
        parc_backoff_t backoff = PARC_BACKOFF_INIT;
        /* acquire: pairs with the successor's release store of the ack. */
        while (parc_load(&n->next, PARC_ACQUIRE) != PARC_MPSC_ACK_)
            parc_backoff_spin(&backoff);
    }
    return EPIPE;
}

/* 0 (popped), EAGAIN (empty), EINPROGRESS (a push between its exchange
 * and its link, or close between its exchange and its link), EPIPE
 * (closed and drained: the tail reached the end; final). */
int parc_mpsc_pop_try_(parc_mpsc_t *q, parc_mpsc_node_t **out)
{
    parc_mpsc_node_t *tail = q->tail;
    if (tail == &q->end)
        return EPIPE;
    /* acquire: the message is visible; pairs with the release link store in
     * parc_mpsc_link_() (or close's). */
    uintptr_t next = parc_load(&tail->next, PARC_ACQUIRE);
    if (tail == &q->stub) {
        if (next == 0) {
            uintptr_t h = parc_load(&q->head, PARC_RELAXED);
            return NODE(h) != &q->stub ? EINPROGRESS : EAGAIN;
        }
        q->tail = tail = (parc_mpsc_node_t *)next; /* step over the stub */
        if (tail == &q->end)
            return EPIPE;
        /* acquire: as above */
        next = parc_load(&tail->next, PARC_ACQUIRE);
    }
    if (next != 0) {
        q->tail = (parc_mpsc_node_t *)next;
        *out = tail;
        return 0;
    }
    /* tail is the last linked node (see parc_mpsc_take_last_). */
    return parc_mpsc_take_last_(q, tail, out);
}

bool parc_mpsc_mark_empty(parc_mpsc_t *q)
{
    if (q == NULL || q->tail != &q->stub ||
        parc_load(&q->stub.next, PARC_RELAXED) != 0)
        return false;
    uintptr_t h = parc_load(&q->head, PARC_RELAXED);
    for (;;) {
        if (NODE(h) != &q->stub)
            return false; /* a push (or close) is in flight */
        if (h & PARC_MPSC_EMPTY_)
            return true;
        /* release: what we wrote before (a waiter registration) is visible
         * to the producer that takes the mark; pairs with the acquire of its
         * exchange. Fails only if the head changed (a push or close). */
        if (parc_cas(&q->head, &h, h | PARC_MPSC_EMPTY_, PARC_RELEASE,
                     PARC_RELAXED))
            return true;
    }
}

/* The blocking pop's wait: spin, yield, then sleep. */
static int pop_wait(parc_mpsc_t *q, parc_mpsc_node_t **out,
                    parc_deadline_t deadline)
{
    int rc;
    /* Spin first: a producer on the other core delivers within a cache-line
     * round trip; a wake-up from the kernel costs ~45 us. */
    for (unsigned i = 0; i < PARC_SPIN_POLLS; i++) {
        /* Empty or in flight: the next push (or the one in flight, or
         * close) links behind our tail, so between full checks watch only
         * that link (the stub's sits on the producers' line, which that
         * push writes anyway; a real node's on its own); the full check
         * reads the head as well. */
        if (i % PARC_SPIN_YIELD_EVERY == 0 ||
            parc_load(&q->tail->next, PARC_RELAXED) != 0) {
            rc = parc_mpsc_pop_try_(q, out);
            if (rc == 0 || rc == EPIPE)
                return rc;
        }
        parc_spin_poll(i);
    }
    parc_backoff_t backoff = PARC_BACKOFF_INIT;
    for (;;) {
        rc = parc_mpsc_pop_try_(q, out);
        if (rc == 0 || rc == EPIPE)
            return rc;
        if (parc_deadline_passed(deadline))
            return ETIMEDOUT;
        if (rc == EINPROGRESS) {
            /* The producer will link without waking us: yield to it. */
            parc_backoff_spin(&backoff);
            continue;
        }
        parc_eventcount_key_t key = parc_eventcount_prepare_wait(&q->ec);
        /* Registered (prepare's seq_cst fence orders it before what
         * follows): mark the queue empty so that the next push wakes us. */
        if (!parc_mpsc_mark_empty(q)) {
            parc_eventcount_cancel_wait(&q->ec);
            continue;
        }
        /* Re-check after the mark: close takes the mark and notifies all. */
        rc = parc_mpsc_pop_try_(q, out);
        if (rc != EAGAIN) {
            parc_eventcount_cancel_wait(&q->ec);
            if (rc == 0 || rc == EPIPE)
                return rc;
            continue;
        }
        (void)parc_eventcount_wait(&q->ec, key, deadline); /* loop re-checks all */
    }
}

/* PACE_MAX: see the pace below. */
#define PACE_MAX 16u

/*
 * pop_try at the last linked node `tail` while a push is in flight behind
 * it (exchanged, not yet linked): 0 with the node once the link lands
 * within the pace, else EAGAIN.
 *
 * A consumer that keeps up with a stream reaches the last node while the
 * next push is in flight, and if it returns at once its caller polls
 * again a few ns later, right behind the producer: every item then moves
 * the producer's lines to the consumer and back (the head's line for the
 * check that the push is in flight, the node's line for its link), the
 * producer slows down by the same transfers, and the consumer keeps
 * catching up; with the two threads on two cores that mode is stable,
 * several round trips per item. Pausing here, touching nothing, lets the
 * producer run ahead by a batch, which the consumer then reads behind it
 * a line at a time.
 *
 * The pause is the consumer's pace (q->pace, shared with the blocking
 * pop: both measure how far the producers stream ahead), and it grows
 * only on evidence: a pause after which the link had landed (a stream).
 * A pause that found the push still in flight (its producer was
 * preempted) halves it, so a consumer polling a stalled push pays at
 * most a pause or so per miss on top of its own wait; a real catch-up
 * (the stub CAS) halves it too (pop_try), so a hand-off never pauses.
 * The first in-flight miss only arms the pace (1 pause next time).
 * Bounded by PACE_MAX pauses (~0.45 us here): pop_try never blocks.
 */
int parc_mpsc_wait_link_(parc_mpsc_t *q, parc_mpsc_node_t *tail,
                         parc_mpsc_node_t **out)
{
    uint32_t pace = q->pace;
    *out = NULL;
    if (pace == 0) {
        q->pace = 1;
        return EAGAIN;
    }
    for (uint32_t k = 0; k < pace; k++)
        parc_cpu_relax();
    /* acquire: the message is visible; pairs with the release link store
     * in parc_mpsc_push_() / parc_mpsc_link_(). */
    uintptr_t next = parc_load(&tail->next, PARC_ACQUIRE);
    if (next == 0) {
        q->pace = pace / 2;
        return EAGAIN;
    }
    q->pace = pace * 2 + 1 < PACE_MAX ? pace * 2 + 1 : PACE_MAX;
    q->tail = (parc_mpsc_node_t *)next;
    *out = tail;
    return 0;
}

/*
 * The pace: pauses (parc_cpu_relax, ~25-30 ns each here) that the
 * blocking pop waits, when it has caught up with the producers, before it
 * looks again.
 *
 * A consumer on another core that keeps up with a streaming producer
 * reads every link right after it is written, so each read takes the
 * line the producer is about to write (the next node is usually on the
 * same line) and, when it finds the last node, the head's line too (the
 * stub CAS, which the producer's next exchange must take back): both
 * sides pay a transfer per item. Pausing a few hundred ns when it catches
 * up lets the producer get ahead by a batch, which the consumer then
 * reads behind it, a line at a time, with no CAS on the head.
 *
 * A blocking hand-off (request/reply, ping-pong) must not pay that pause,
 * so the pace grows only on evidence of streaming: the wait ended with
 * more than one message queued (after popping one, the tail is a real
 * node, not the stub). A hand-off never has a second message queued, so
 * its pace stays 0 and its wait is what it was; after a stream the pace
 * halves at every wait that finds a single message. Bounded by PACE_MAX
 * (16 pauses, ~0.45 us here).
 */

int parc_mpsc_pop_wait_(parc_mpsc_t *q, parc_mpsc_node_t **out,
                        parc_deadline_t deadline)
{
    uint32_t pace = q->pace;
    for (uint32_t k = 0; k < pace; k++)
        parc_cpu_relax();
    int rc = pop_wait(q, out, deadline);
    if (rc == 0)
        q->pace = q->tail != &q->stub
                      ? (pace * 2 + 1 < PACE_MAX ? pace * 2 + 1 : PACE_MAX)
                      : pace / 2;
    return rc;
}
