/*
 * parc/chan.h's rendezvous channels: the receiver's slot, where a blocked
 * plain receiver waits for a sender to hand it a value without the
 * channel's lock. Its protocol is below; the channel's protocols and
 * their invariants are at the top of include/parc/chan.h and
 * src/chan_internal.h. The queued path it sits beside (send_locked,
 * recv_locked, parc_chan_op_) is src/chan.c's; the eventfds src/chan_fd.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "chan_internal.h"

/* ---- the receiver's slot (rendezvous) ------------------------------------- */
/*
 * A rendezvous channel's blocked plain receiver (not a select, value up
 * to PARC_CHAN_INLINE_VALUE bytes, no eventfd asked for) waits in a slot
 * of the channel's own, on a line no other field of a rendezvous channel
 * uses (the ring's `head`), instead of a record in the receive queue: a
 * sender claims it with one CAS without taking the lock, copies the value
 * in and publishes it. A hand-off then moves that one line to the sender
 * and back: a cache-line round trip, where a queued record costs the
 * lock's line, then the record's line (which the lock's line pointed at)
 * and the record's line back, each a one-way transfer that waits for the
 * one before it. Go hands off between goroutines in user space on one
 * thread; two threads on two cores cannot do with less than this line's
 * round trip.
 *
 *     EMPTY --receiver, under the lock--> WAIT --sender: CAS--> CLAIMED
 *       ^                                  |                      |
 *       |      (receiver: deadline, CAS)   |      copy in, exchange
 *       +----------------------------------+                      v
 *       +--receiver, once it copied the value out------------- DONE
 *       +--receiver------------------------------------------- CLOSED
 *                                (close, under the lock: WAIT -> CLOSED)
 *
 * plus the PARKED bit, set by the receiver before it parks on rv, kept by
 * the claim and returned by the final exchange (then the sender wakes
 * it), as in chan_internal.h's select state.
 *
 * Why it is sound beside the queues:
 * - A receiver installs only under the lock, and only when no sender is
 *   queued (recv_locked found none), no receiver is queued (so the slot's
 *   receiver is always the oldest: senders serve it first) and the slot
 *   is EMPTY. A sender that found no WAIT without the lock looks again
 *   under it (send_locked) before it queues itself: a receiver installs
 *   either before that (and is served) or after the sender is queued
 *   (and takes it instead of installing): nobody waits for a partner that
 *   waits too. A select's send case sees the slot through
 *   parc_chan_send_ready_locked_ and completes it through send_locked.
 * - Exactly one CAS leaves WAIT: a sender's claim, the receiver's
 *   abort, or close's.
 * - The eventfds: a receiver does not install while one exists; one
 *   created while a receiver waits (fd_get, under the lock) counts the
 *   slot as sendable. A sender that completes the slot without the lock
 *   then reads the fds after its claim (both seq_cst: with fd_get's
 *   fence after storing the fd, a Dekker pair: fd_get sees CLAIMED, or
 *   the sender sees the fd) and brings their levels up to date under
 *   the lock before it publishes DONE; so does a receiver whose deadline
 *   took it back.
 * Only values up to PARC_CHAN_INLINE_VALUE bytes: the slot holds the
 * value; larger ones, selects and timed-out slots go through the queues.
 */

static bool rv_fds(parc_chan_t *c);
static void rv_fd_sync(parc_chan_t *c);

/* Give `value` to the slot's waiting receiver, if there is one. True
 * when it was given. `locked`: the caller holds the lock (and brings the
 * eventfds up to date itself). Nothing of c is touched after DONE but
 * the word's address (the wake-up): the receiver may return, and its
 * thread destroy the channel, at once. */
bool parc_chan_rv_give_(parc_chan_t *c, const void *value, bool locked)
{
    /* relaxed: a look; the CAS below decides. */
    uint32_t v = parc_load(&c->rv, PARC_RELAXED);
    while ((v & ~RV_PARKED) == RV_WAIT) {
        /* seq_cst: acquire pairs with the receiver's release store of
         * WAIT (which follows the previous receiver's copy out, through
         * the EMPTY it read under the lock): the slot's value is ours to
         * overwrite. seq_cst for the Dekker pair with fd_get (above). */
        if (parc_cas(&c->rv, &v, RV_CLAIMED | (v & RV_PARKED), PARC_SEQ_CST,
                     PARC_RELAXED)) {
            /* Claimed, not yet DONE: the fds read "not sendable" now. */
            if (!locked && rv_fds(c))
                rv_fd_sync(c);
            memcpy(c->rv_value, value, c->elem_size);
            /* release: publishes the value; pairs with the receiver's
             * acquire load in parc_chan_rv_wait_(). */
            uint32_t old = parc_xchg(&c->rv, RV_DONE, PARC_RELEASE);
            if (old & RV_PARKED) {
                CHAN_PROBE(wakes, 1);
                parc_park_wake_one(&c->rv);
            }
            return true;
        }
    }
    return false;
}

/* Whether an eventfd was asked for; seq_cst after a slot CAS (the
 * Dekker pair with fd_get, above). */
static bool rv_fds(parc_chan_t *c)
{
    return parc_load(&c->fd, PARC_SEQ_CST) >= 0 ||
           parc_load(&c->send_fd, PARC_SEQ_CST) >= 0;
}

/* Bring the eventfds' levels up to date after a slot change made
 * without the lock. */
static void rv_fd_sync(parc_chan_t *c)
{
    parc_mutex_lock(&c->lock);
    parc_chan_fd_update_(c);
    parc_mutex_unlock(&c->lock);
}

/* Close (lock held): the slot's waiting receiver, if any, gets CLOSED. */
void parc_chan_rv_close_(parc_chan_t *c)
{
    /* relaxed: a look; the CAS decides. */
    uint32_t v = parc_load(&c->rv, PARC_RELAXED);
    while ((v & ~RV_PARKED) == RV_WAIT)
        /* release: nothing to publish but the order of the close (the
         * receiver re-reads nothing but the state); acquire unneeded. */
        if (parc_cas(&c->rv, &v, RV_CLOSED, PARC_RELEASE, PARC_RELAXED)) {
            if (v & RV_PARKED)
                parc_park_wake_one(&c->rv);
            return;
        }
}

/* The slot's end states: a value handed over, or the channel closed. */
static bool rv_final(uint32_t v)
{
    return v == RV_DONE || v == RV_CLOSED;
}

/* The slot's receiver waits (spin for c's learnt budget, then park) for
 * a value, a close or the deadline: 0 (the value is in `out`), EPIPE or
 * ETIMEDOUT. */
int parc_chan_rv_wait_(parc_chan_t *c, void *out, parc_deadline_t deadline)
{
    wait_clock_t clk = { -1, 0 };
    bool parked = false, crowded = false;
    CHAN_PROBE(slow, 1);
    /* The spin's acquire loads pair with the sender's release exchange
     * (parc_chan_rv_give_): the value is complete once we see DONE. */
    uint32_t v = chan_spin_learnt(c, &c->rv, rv_final, &clk, &crowded);
    while (v != RV_DONE && v != RV_CLOSED) {
        uint32_t k = v & ~RV_PARKED;
        if (k == RV_CLAIMED) {
            /* The sender is within its copy: look again for a few
             * pauses before parking (as in parc_chan_sel_wait_()). */
            for (unsigned n = 0; n < CHAN_SPIN_PURE && (v & ~RV_PARKED) == RV_CLAIMED; n++) {
                parc_cpu_relax();
                /* acquire: as above. */
                v = parc_load(&c->rv, PARC_ACQUIRE);
            }
            continue;
        }
        if (k == RV_WAIT && parc_deadline_passed(deadline)) {
            /* seq_cst: the Dekker pair with fd_get, as a claim's. */
            if (parc_cas(&c->rv, &v, RV_EMPTY, PARC_SEQ_CST, PARC_ACQUIRE)) {
                if (rv_fds(c))
                    rv_fd_sync(c);
                return ETIMEDOUT;
            }
            continue; /* claimed or closed meanwhile */
        }
        if (!(v & RV_PARKED)) {
            /* acquire on both outcomes: a final state read publishes
             * the value, as above; the bit itself publishes nothing. */
            if (!parc_cas(&c->rv, &v, v | RV_PARKED, PARC_ACQUIRE, PARC_ACQUIRE))
                continue;
            v |= RV_PARKED;
        }
        parked = true;
        CHAN_PROBE(parks, 1);
        /* A claimed slot becomes final within the sender's copy: no
         * deadline for that last stretch. */
        parc_park_wait(&c->rv, v, k == RV_WAIT ? deadline : PARC_FOREVER);
        /* acquire: as above. */
        v = parc_load(&c->rv, PARC_ACQUIRE);
    }
    parc_chan_spin_learn_(c, wait_clock_ns(&clk), parked, crowded);
    if (v == RV_DONE)
        memcpy(out, c->rv_value, c->elem_size);
    /* release: our copy out is done before the next receiver installs
     * (it reads EMPTY with acquire under the lock) and so before the
     * next sender overwrites the value. */
    parc_store(&c->rv, RV_EMPTY, PARC_RELEASE);
    return v == RV_DONE ? 0 : EPIPE;
}
