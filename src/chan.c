/*
 * parc/chan.h, the core: a channel's life cycle, the unbounded buffer,
 * send and receive on the locked kinds (rendezvous and unbounded),
 * select's entry points, the blocking path of every kind, the try and
 * timed forms, and close. The
 * protocols and their invariants are at the top of include/parc/chan.h
 * and src/chan_internal.h. The rest of the channel, one mechanism a file:
 *   src/chan_ring.c   the bounded lock-free ring, with parc_chan_send and
 *                     parc_chan_recv (their fast path is the ring);
 *   src/chan_waitq.c  the queues of blocked callers: queue, claim and
 *                     complete their records;
 *   src/chan_fd.c     readiness, and the eventfds that show it;
 *   src/chan_wait.c   waiting: the learned spin budget, then parking;
 *   src/chan_slot.c   a rendezvous channel's receiver's slot (a blocked
 *                     plain receiver's hand-off without the lock).
 *
 * Rendezvous and unbounded channels (under the channel's lock):
 * Send:
 *   1. Closed: EPIPE.
 *   2. A live receiver is queued: claim its select state (CAS), copy the
 *      value into its buffer, store DONE, wake it. Records whose claim
 *      fails belong to callers that completed elsewhere or gave up: unlink
 *      them and go on.
 *   3. Unbounded: append the value.
 *   4. Otherwise EAGAIN for the try form; the blocking forms queue a record
 *      pointing at the value, unlock, and wait for their state word.
 * Receive:
 *   1. A value is buffered (unbounded): copy the oldest out.
 *   2. A live sender is queued (rendezvous): copy straight from it.
 *   3. Closed: EPIPE.  4. Otherwise EAGAIN, or queue and wait.
 * Close: mark closed (the ring: the mark bit in `tail`), then claim and
 * complete every queued record: CLOSED for the locked kinds (a receiver
 * waits only while nothing is buffered), NOTIFIED for a ring's (it tries
 * again and finds the mark: EPIPE, or the values left to drain).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan_internal.h"

/* The waiting paths stay out of line, so that the fast paths of send and
 * receive set up no frame for them. */
#if defined(__GNUC__)
#define PARC_NOINLINE_ __attribute__((noinline))
#else
#define PARC_NOINLINE_
#endif

/* An unbounded channel's segment: a fixed number of slots, linked. */
struct parc_chan_seg {
    struct parc_chan_seg *next;
    char *slots;
};

/* Slots per segment: about 4 KiB of values, at least 8. */
static size_t seg_slots(const parc_chan_t *c)
{
    size_t n = 4096u / c->elem_size;
    return n < 8u ? 8u : n;
}

static bool bad_args(const parc_chan_t *c, size_t elem_size, size_t capacity)
{
    return c == NULL || elem_size == 0 || elem_size > PARC_CHAN_ELEM_MAX ||
           (capacity != PARC_CHAN_UNBOUNDED && capacity > PARC_CHAN_CAP_MAX);
}

int parc_chan_check_(parc_chan_t *c)
{
    return c == NULL || bad_args(c, c->elem_size, c->capacity) ? EINVAL : 0;
}

int parc_chan_init(parc_chan_t *c, size_t elem_size, size_t capacity)
{
    if (bad_args(c, elem_size, capacity))
        return EINVAL;
    parc_chan_t init = PARC_CHAN_INIT(elem_size, capacity);
    *c = init;
    return parc_mutex_init(&c->lock, PARC_MUTEX_NORMAL);
}

int parc_chan_destroy(parc_chan_t *c)
{
    if (c == NULL)
        return EINVAL;
    /* A slot's receiver that was given a value (or a close) copies it
     * out and empties the slot after its sender returned: wait out those
     * few instructions, so that a sender may destroy the channel once
     * its send returned (acquire: pairs with the receiver's release
     * store of EMPTY, its last access to c). */
    for (unsigned i = 0;; i++) {
        uint32_t k = parc_load(&c->rv, PARC_ACQUIRE) & ~RV_PARKED;
        if (k == RV_EMPTY || k == RV_WAIT)
            break;
        parc_spin_poll(i);
    }
    parc_mutex_lock(&c->lock);
    /* relaxed: a receiver in the slot installed it under the lock. */
    bool busy = c->sendq.head != NULL || c->recvq.head != NULL ||
                (parc_load(&c->rv, PARC_RELAXED) & ~RV_PARKED) == RV_WAIT;
    parc_mutex_unlock(&c->lock);
    if (busy)
        return EBUSY;
    /* relaxed: no other thread uses c any more (the contract). */
    free(parc_load(&c->ring, PARC_RELAXED));
    parc_store(&c->ring, NULL, PARC_RELAXED);
    struct parc_chan_seg *s = c->head_seg;
    while (s != NULL) {
        struct parc_chan_seg *next = s->next;
        free(s);
        s = next;
    }
    free(c->spare_seg);
    c->head_seg = c->tail_seg = c->spare_seg = NULL;
    /* relaxed: as above. */
    int fd = parc_load(&c->fd, PARC_RELAXED);
    int send_fd = parc_load(&c->send_fd, PARC_RELAXED);
    if (fd >= 0)
        close(fd);
    if (send_fd >= 0)
        close(send_fd);
    parc_store(&c->fd, -1, PARC_RELAXED);
    parc_store(&c->send_fd, -1, PARC_RELAXED);
    return parc_mutex_destroy(&c->lock);
}

int parc_chan_create(parc_chan_t **out, size_t elem_size, size_t capacity)
{
    if (out == NULL)
        return EINVAL;
    parc_chan_t *c = aligned_alloc(PARC_CACHELINE,
                                   (sizeof *c + PARC_CACHELINE - 1) /
                                   PARC_CACHELINE * PARC_CACHELINE);
    if (c == NULL)
        return ENOMEM;
    int rc = parc_chan_init(c, elem_size, capacity);
    if (rc != 0) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int parc_chan_free(parc_chan_t *c)
{
    if (c == NULL)
        return 0;
    int rc = parc_chan_destroy(c);
    if (rc == 0)
        free(c);
    return rc;
}

/* ---- the unbounded buffer (lock held) ------------------------------------- */

static void count_set(parc_chan_t *c, size_t n)
{
    /* relaxed: readers outside the lock take it as a snapshot only. */
    parc_store(&c->count, n, PARC_RELAXED);
}

static struct parc_chan_seg *seg_new(parc_chan_t *c)
{
    struct parc_chan_seg *s = c->spare_seg;
    if (s != NULL) {
        c->spare_seg = NULL;
    } else {
        s = malloc(sizeof *s + seg_slots(c) * c->elem_size);
        if (s == NULL)
            return NULL;
        s->slots = (char *)(s + 1);
    }
    s->next = NULL;
    return s;
}

/* Append a copy of `value` (unbounded). */
static int buf_push(parc_chan_t *c, const void *value)
{
    size_t n = parc_chan_count_(c);
    if (c->tail_seg == NULL || c->utail == seg_slots(c)) {
        struct parc_chan_seg *s = seg_new(c);
        if (s == NULL)
            return ENOMEM;
        if (c->tail_seg == NULL) {
            c->head_seg = s;
            c->uhead = 0;
        } else {
            c->tail_seg->next = s;
        }
        c->tail_seg = s;
        c->utail = 0;
    }
    memcpy(c->tail_seg->slots + c->utail++ * c->elem_size, value, c->elem_size);
    count_set(c, n + 1);
    return 0;
}

/* Move the oldest value to `out`; the caller checked parc_chan_count_() > 0. */
static void buf_pop(parc_chan_t *c, void *out)
{
    size_t n = parc_chan_count_(c);
    struct parc_chan_seg *s = c->head_seg;
    memcpy(out, s->slots + c->uhead++ * c->elem_size, c->elem_size);
    if (n == 1) {
        /* Empty: the tail is in this segment too (a segment is appended
         * only when a value goes into it); start over at its beginning. */
        c->uhead = 0;
        c->utail = 0;
    } else if (c->uhead == seg_slots(c)) {
        c->head_seg = s->next;
        c->uhead = 0;
        if (c->spare_seg == NULL)
            c->spare_seg = s; /* reused by the next segment append */
        else
            free(s);
    }
    count_set(c, n - 1);
}

/* ---- send and receive on the locked kinds (lock held) ---------------------- */

static int send_locked(parc_chan_t *c, const void *value, parc_sel_t *self)
{
    /* relaxed: the flag is written under the lock we hold. */
    if (parc_load(&c->closed, PARC_RELAXED))
        return EPIPE;
    if (parc_chan_rv_give_(c, value, true)) {
        parc_chan_fd_update_(c);
        return 0;
    }
    if (parc_chan_claim_complete_(c, false, self, PARC_SEL_DONE, value, NULL)) {
        parc_chan_fd_update_(c);
        return 0;
    }
    if (!parc_chan_unbounded_(c)) {
        parc_chan_fd_update_(c); /* stale receiver records may have gone */
        return EAGAIN;
    }
    int rc = buf_push(c, value);
    if (rc == 0)
        parc_chan_fd_update_(c);
    return rc;
}

static int recv_locked(parc_chan_t *c, void *out, parc_sel_t *self)
{
    if (parc_chan_count_(c) > 0) {
        buf_pop(c, out);
        parc_chan_fd_update_(c);
        return 0;
    }
    if (parc_chan_claim_complete_(c, true, self, PARC_SEL_DONE, NULL, out)) {
        parc_chan_fd_update_(c);
        return 0;
    }
    parc_chan_fd_update_(c); /* stale sender records may have gone */
    /* relaxed: written under the lock we hold. */
    return parc_load(&c->closed, PARC_RELAXED) ? EPIPE : EAGAIN;
}

/* ---- select's entry points ----------------------------------------------- */

int parc_chan_poll_(parc_chan_t *c, bool send, void *buf, parc_sel_t *self)
{
    if (parc_chan_is_ring_(c))
        return parc_chan_ring_try_(c, send, buf, true);
    parc_mutex_lock(&c->lock);
    int rc = send ? send_locked(c, buf, self) : recv_locked(c, buf, self);
    parc_mutex_unlock(&c->lock);
    return rc;
}

bool parc_chan_register_(parc_chan_t *c, bool send, parc_chan_waiter_t *w)
{
    w->linked = false;
    parc_mutex_lock(&c->lock);
    bool ready = false;
    if (parc_chan_is_ring_(c))
        parc_chan_enqueue_(c, send, w);
    else if (!(ready = send ? parc_chan_send_ready_locked_(c, w->sel)
                            : parc_chan_recv_ready_locked_(c, w->sel)))
        parc_chan_enqueue_(c, send, w);
    parc_mutex_unlock(&c->lock);
    if (parc_chan_is_ring_(c)) {
        /* seq_cst: the waiter's half of ring_wake()'s Dekker pair
         * (chan_ring.c): the count stored under the lock before the ring
         * is read again. */
        parc_fence(PARC_SEQ_CST);
        ready = parc_chan_ring_ready_(c, send);
    }
    return ready;
}

void parc_chan_unregister_(parc_chan_t *c, bool send, parc_chan_waiter_t *w)
{
    parc_mutex_lock(&c->lock);
    parc_chan_dequeue_(c, send, w);
    parc_mutex_unlock(&c->lock);
}

/* A ring caller gives its record back: unlinked, and a notification it
 * received but will not act on (it completed by itself meanwhile, or
 * timed out) passed on to the next queued caller, so that the value or
 * room it stood for wakes somebody. */
static void ring_withdraw(parc_chan_t *c, bool send, parc_chan_waiter_t *w)
{
    if (parc_sel_abort(w->sel)) {
        parc_chan_unregister_(c, send, w);
        return;
    }
    /* Claimed: the claimer unlinked the record; wait until it is done
     * with our state word before it goes out of scope. */
    uint32_t final = parc_sel_wait_(w->sel, PARC_FOREVER);
    if (PARC_SEL_KIND(final) == PARC_SEL_NOTIFIED) {
        parc_mutex_lock(&c->lock);
        parc_chan_waiter_t *next = parc_chan_claim_first_(c, send, NULL);
        if (next != NULL)
            parc_chan_finish_(next, PARC_SEL_NOTIFIED);
        parc_mutex_unlock(&c->lock);
    }
}

/* The ring spinner's longest pause between looks: 2^6 pauses. */
#define RING_BACKOFF_MAX_SHIFT 6u

/* The blocking forms on a ring: try; spin re-trying; then queue a record,
 * fence, try again, and park until told to try again (or the deadline). */
static PARC_NOINLINE_ int ring_op(parc_chan_t *c, bool send, void *buf,
                                  bool block, parc_deadline_t deadline)
{
    /* A blocking caller's first look is inexact (see chan_ring.c's
     * ring_send()): the spin below decides nothing, and the exact tries
     * follow it. */
    int rc = parc_chan_ring_try_(c, send, buf, !block);
    if (rc != EAGAIN || !block)
        return rc;
    /* Spin with exponential backoff between looks at the slot: a
     * receiver that looked at an empty slot at every pause would pull the
     * line back from the sender after each value, where a pause of a few
     * dozen lets the sender fill the line's slots first (and the mirror
     * for a sender at a full ring). The budget is the channel's (see
     * "Spinning" above). */
    unsigned budget = spin_budget(c), pauses = 0;
    wait_clock_t clk = { -1, 0 };
    bool spent = false, parked = false, crowded = false;
    CHAN_PROBE(slow, 1);
    CHAN_PROBE(budget_sum, budget);
    for (unsigned i = 0; !spent; i++) {
        unsigned n = i < RING_BACKOFF_MAX_SHIFT ? 1u << i
                                                : 1u << RING_BACKOFF_MAX_SHIFT;
        for (unsigned k = 0; k < n && !spent; k++) {
            crowded |= chan_pause_crowded(pauses);
            spent = wait_clock_spent(&clk, ++pauses, budget);
        }
        if (parc_chan_ring_peek_(c, send) &&
            (rc = parc_chan_ring_try_(c, send, buf, true)) != EAGAIN) {
            CHAN_PROBE(spin_ok, 1);
            CHAN_PROBE(spin_pauses, pauses);
            parc_chan_spin_learn_(c, wait_clock_ns(&clk), false, crowded);
            return rc;
        }
    }
    CHAN_PROBE(spin_out, 1);
    for (;;) {
        if (parc_deadline_passed(deadline))
            return ETIMEDOUT;
        parc_sel_t sel = { PARC_SEL_WAITING, -1 };
        parc_chan_waiter_t w = { NULL, NULL, &sel, buf, 0, false, false };
        parc_mutex_lock(&c->lock);
        parc_chan_enqueue_(c, send, &w);
        parc_mutex_unlock(&c->lock);
        /* seq_cst: the waiter's half of chan_ring.c's ring_wake() Dekker
         * pair. */
        parc_fence(PARC_SEQ_CST);
        rc = parc_chan_ring_try_(c, send, buf, true);
        if (rc != EAGAIN) {
            ring_withdraw(c, send, &w);
            parc_chan_spin_learn_(c, wait_clock_ns(&clk), parked, crowded);
            return rc;
        }
        /* No second spin: the one above polled the ring itself. */
        uint32_t final = parc_chan_sel_wait_(&sel, deadline, 0, &parked);
        if (final == PARC_SEL_ABORTED) {
            parc_chan_unregister_(c, send, &w);
            return ETIMEDOUT;
        }
        /* NOTIFIED: the record is unlinked; try again. */
        if ((rc = parc_chan_ring_try_(c, send, buf, true)) != EAGAIN) {
            parc_chan_spin_learn_(c, wait_clock_ns(&clk), parked, crowded);
            return rc;
        }
    }
}

PARC_NOINLINE_ int parc_chan_op_(parc_chan_t *c, bool send, void *buf,
                                 bool block, parc_deadline_t deadline)
{
    int rc = parc_chan_check_(c);
    if (rc != 0 || buf == NULL)
        return EINVAL;
    if (parc_chan_is_ring_(c))
        return ring_op(c, send, buf, block, deadline);
    if (send && parc_chan_rv_give_(c, buf, false))
        return 0;
    parc_mutex_lock(&c->lock);
    rc = send ? send_locked(c, buf, NULL) : recv_locked(c, buf, NULL);
    if (rc != EAGAIN || !block) {
        parc_mutex_unlock(&c->lock);
        return rc;
    }
    if (!send && rv_can_install(c)) {
        /* release: see rv_can_install(); pairs with the acquire of the
         * sender's claim CAS (parc_chan_rv_give_). */
        parc_store(&c->rv, RV_WAIT, PARC_RELEASE);
        parc_mutex_unlock(&c->lock);
        return parc_chan_rv_wait_(c, buf, deadline);
    }
    /* The state word, the record and (when it fits) the value on one
     * cache line: the thread that completes the operation then pulls one
     * line of ours, not three. */
    struct {
        parc_sel_t sel;
        parc_chan_waiter_t w;
        unsigned char value[PARC_CHAN_INLINE_VALUE];
    } PARC_CACHE_ALIGNED rec;
    bool inl = c->elem_size <= PARC_CHAN_INLINE_VALUE;
    rec.sel.wake_fd = -1;
    parc_atomic_init(&rec.sel.state, PARC_SEL_WAITING);
    parc_chan_waiter_t w = { NULL, NULL, &rec.sel, inl ? rec.value : buf, 0,
                             false, inl };
    rec.w = w;
    if (inl && send)
        memcpy(rec.value, buf, c->elem_size);
    parc_chan_enqueue_(c, send, &rec.w);
    parc_mutex_unlock(&c->lock);
    CHAN_PROBE(slow, 1);

    uint32_t final = parc_chan_sel_wait_learn_(&rec.sel, deadline, c);
    if (final == PARC_SEL_ABORTED) {
        parc_chan_unregister_(c, send, &rec.w);
        return ETIMEDOUT;
    }
    if (PARC_SEL_KIND(final) != PARC_SEL_DONE)
        return EPIPE;
    if (inl && !send) /* the final state's acquire made the value visible */
        memcpy(buf, rec.value, c->elem_size);
    return 0;
}

int parc_chan_send_try(parc_chan_t *c, const void *value)
{
    return parc_chan_op_(c, true, (void *)value, false, PARC_FOREVER);
}

int parc_chan_send_timed(parc_chan_t *c, const void *value, int64_t timeout_ns)
{
    parc_deadline_t d;
    if (parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    int rc = parc_chan_op_(c, true, (void *)value, timeout_ns > 0, d);
    return rc == EAGAIN ? ETIMEDOUT : rc;
}

int parc_chan_recv_try(parc_chan_t *c, void *out)
{
    return parc_chan_op_(c, false, out, false, PARC_FOREVER);
}

int parc_chan_recv_timed(parc_chan_t *c, void *out, int64_t timeout_ns)
{
    parc_deadline_t d;
    if (parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    int rc = parc_chan_op_(c, false, out, timeout_ns > 0, d);
    return rc == EAGAIN ? ETIMEDOUT : rc;
}

/* ---- close ------------------------------------------------------------- */

static void close_queue(parc_chan_t *c, bool send)
{
    uint32_t kind = parc_chan_is_ring_(c) ? PARC_SEL_NOTIFIED : PARC_SEL_CLOSED;
    while (parc_chan_claim_complete_(c, send, NULL, kind, NULL, NULL))
        ;
}

int parc_chan_close(parc_chan_t *c)
{
    if (parc_chan_check_(c) != 0)
        return EINVAL;
    parc_mutex_lock(&c->lock);
    /* relaxed: written under the lock we hold. */
    if (parc_load(&c->closed, PARC_RELAXED)) {
        parc_mutex_unlock(&c->lock);
        return EPIPE;
    }
    /* relaxed: the mark bit orders sends against the close by itself (a
     * send's claim CAS either precedes it or sees it); it publishes
     * nothing else. Unused by the locked kinds. */
    (void)parc_for(&c->tail, c->mark, PARC_RELAXED);
    /* release: pairs with the acquire load in parc_chan_is_closed(). */
    parc_store(&c->closed, 1u, PARC_RELEASE);
    parc_chan_rv_close_(c);
    close_queue(c, false);
    close_queue(c, true);
    parc_chan_fd_update_(c);
    parc_mutex_unlock(&c->lock);
    return 0;
}
