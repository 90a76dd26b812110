/*
 * parc/chan.h: the buffer, the queues of blocked callers and the three
 * forms of send and receive. The protocol and its invariants are at the
 * top of include/parc/chan.h and src/chan_internal.h.
 *
 * Send (under the channel's lock):
 *   1. Closed: EPIPE.
 *   2. A live receiver is queued (the ring is then empty, invariant 2):
 *      claim its select state (CAS), copy the value into its buffer,
 *      store DONE, wake it. Records whose claim fails belong to callers
 *      that completed elsewhere or gave up: unlink them and go on.
 *   3. Room in the buffer: copy the value in.
 *   4. Otherwise EAGAIN for the try form; the blocking forms queue a record
 *      pointing at the value, unlock, and wait for their state word.
 * Receive (under the lock):
 *   1. A value is buffered: copy the oldest out; then, if a live sender is
 *      queued (the ring was full), move its value into the freed slot at
 *      the tail (FIFO kept) and complete it.
 *   2. A live sender is queued (rendezvous): copy straight from it.
 *   3. Closed: EPIPE.  4. Otherwise EAGAIN, or queue and wait.
 * Close: mark closed, then claim and complete every queued record with
 * CLOSED: receivers wake with EPIPE (nothing is buffered while they wait),
 * senders with EPIPE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include "chan_internal.h"

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

static bool unbounded(const parc_chan_t *c)
{
    return c->capacity == PARC_CHAN_UNBOUNDED;
}

int parc_chan_check_(parc_chan_t *c)
{
    if (c == NULL || c->elem_size == 0 || c->elem_size > PARC_CHAN_ELEM_MAX)
        return EINVAL;
    return 0;
}

int parc_chan_init(parc_chan_t *c, size_t elem_size, size_t capacity)
{
    if (c == NULL || elem_size == 0 || elem_size > PARC_CHAN_ELEM_MAX)
        return EINVAL;
    parc_chan_t init = PARC_CHAN_INIT(elem_size, capacity);
    *c = init;
    return parc_mutex_init(&c->lock, PARC_MUTEX_NORMAL);
}

int parc_chan_destroy(parc_chan_t *c)
{
    if (c == NULL)
        return EINVAL;
    parc_mutex_lock(&c->lock);
    bool busy = c->sendq.head != NULL || c->recvq.head != NULL;
    parc_mutex_unlock(&c->lock);
    if (busy)
        return EBUSY;
    free(c->ring);
    c->ring = NULL;
    struct parc_chan_seg *s = c->head_seg;
    while (s != NULL) {
        struct parc_chan_seg *next = s->next;
        free(s);
        s = next;
    }
    free(c->spare_seg);
    c->head_seg = c->tail_seg = c->spare_seg = NULL;
    if (c->fd >= 0)
        close(c->fd);
    if (c->send_fd >= 0)
        close(c->send_fd);
    c->fd = c->send_fd = -1;
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

/* ---- the buffer (lock held) --------------------------------------------- */

static size_t count_of(parc_chan_t *c)
{
    /* relaxed: written only under the lock, which we hold. */
    return parc_load(&c->count, PARC_RELAXED);
}

static void count_set(parc_chan_t *c, size_t n)
{
    /* relaxed: readers outside the lock take it as a snapshot only. */
    parc_store(&c->count, n, PARC_RELAXED);
}

static bool has_room(parc_chan_t *c)
{
    return unbounded(c) || count_of(c) < c->capacity;
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

/* Append a copy of `value`; the caller checked has_room(). */
static int buf_push(parc_chan_t *c, const void *value)
{
    size_t n = count_of(c);
    char *slot;
    if (!unbounded(c)) {
        if (c->ring == NULL) {
            c->ring = malloc(c->capacity * c->elem_size);
            if (c->ring == NULL)
                return ENOMEM;
        }
        size_t i = c->head + n;
        if (i >= c->capacity)
            i -= c->capacity;
        slot = c->ring + i * c->elem_size;
    } else {
        if (c->tail_seg == NULL || c->tail == seg_slots(c)) {
            struct parc_chan_seg *s = seg_new(c);
            if (s == NULL)
                return ENOMEM;
            if (c->tail_seg == NULL) {
                c->head_seg = s;
                c->head = 0;
            } else {
                c->tail_seg->next = s;
            }
            c->tail_seg = s;
            c->tail = 0;
        }
        slot = c->tail_seg->slots + c->tail++ * c->elem_size;
    }
    memcpy(slot, value, c->elem_size);
    count_set(c, n + 1);
    return 0;
}

/* Move the oldest value to `out`; the caller checked count_of() > 0. */
static void buf_pop(parc_chan_t *c, void *out)
{
    size_t n = count_of(c);
    if (!unbounded(c)) {
        memcpy(out, c->ring + c->head * c->elem_size, c->elem_size);
        if (++c->head == c->capacity)
            c->head = 0;
    } else {
        struct parc_chan_seg *s = c->head_seg;
        memcpy(out, s->slots + c->head++ * c->elem_size, c->elem_size);
        if (n == 1) {
            /* Empty: the tail is in this segment too (a segment is
             * appended only when a value goes into it); start over at
             * its beginning. */
            c->head = 0;
            c->tail = 0;
        } else if (c->head == seg_slots(c)) {
            c->head_seg = s->next;
            c->head = 0;
            if (c->spare_seg == NULL)
                c->spare_seg = s; /* reused by the next segment append */
            else
                free(s);
        }
    }
    count_set(c, n - 1);
}

/* ---- the queues of blocked callers (lock held) ---------------------------- */

static void fd_update(parc_chan_t *c);

void parc_chan_enqueue_(parc_chan_t *c, bool send, parc_chan_waiter_t *w)
{
    parc_chan_waitq_t *q = send ? &c->sendq : &c->recvq;
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail != NULL)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    w->linked = true;
    fd_update(c); /* a queued sender makes a rendezvous receivable, a
                   * queued receiver makes it sendable */
}

static void unlink_waiter(parc_chan_waitq_t *q, parc_chan_waiter_t *w)
{
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->next = w->prev = NULL;
    w->linked = false;
}

void parc_chan_dequeue_(parc_chan_t *c, bool send, parc_chan_waiter_t *w)
{
    if (!w->linked)
        return;
    unlink_waiter(send ? &c->sendq : &c->recvq, w);
    fd_update(c);
}

/* Whether `q` holds a record of a caller other than `self` (perhaps one
 * that is stale: then the operation finds EAGAIN after all). */
static bool has_other_than(const parc_chan_waitq_t *q, const parc_sel_t *self)
{
    for (const parc_chan_waiter_t *w = q->head; w != NULL; w = w->next)
        if (w->sel != self)
            return true;
    return false;
}

bool parc_chan_ready_locked_(parc_chan_t *c, bool send, parc_sel_t *self)
{
    /* relaxed: the flag is written under the lock we hold. */
    if (parc_load(&c->closed, PARC_RELAXED))
        return true;
    if (send)
        return has_other_than(&c->recvq, self) ||
               (c->capacity > 0 && has_room(c));
    return count_of(c) > 0 || has_other_than(&c->sendq, self);
}

/* Claim the first live record of `q` that is not `self`'s: unlink it and
 * CAS its state to CLAIMED. Records whose claim fails are stale (their
 * caller completed another case or gave up) and are unlinked on the way. */
static parc_chan_waiter_t *claim_first(parc_chan_waitq_t *q, parc_sel_t *self)
{
    parc_chan_waiter_t *w = q->head;
    while (w != NULL) {
        parc_chan_waiter_t *next = w->next;
        if (w->sel != self) {
            unlink_waiter(q, w);
            /* relaxed: the record and the buffer it points at were
             * published by the channel's lock, which we hold; the claim
             * itself publishes nothing (the final exchange does). */
            uint32_t v = parc_load(&w->sel->state, PARC_RELAXED);
            while (parc_sel_waiting(v))
                if (parc_cas(&w->sel->state, &v,
                             PARC_SEL_WORD(w->index, PARC_SEL_CLAIMED) |
                                 (v & PARC_SEL_PARKED),
                             PARC_RELAXED, PARC_RELAXED))
                    return w;
        }
        w = next;
    }
    return NULL;
}

/* Whether `q` holds a record of another caller (perhaps a stale one). */
static bool has_other(const parc_chan_waitq_t *q)
{
    return q->head != NULL;
}

/* Complete a claimed record with DONE or CLOSED (see chan_internal.h for
 * why the two wake-up kinds are ordered differently). */
static void finish(parc_chan_waiter_t *w, uint32_t kind)
{
    parc_sel_t *s = w->sel;
    uint32_t final = PARC_SEL_WORD(w->index, kind);
    int fd = s->wake_fd;
    if (fd >= 0) {
#ifdef __linux__
        eventfd_write(fd, 1);
#endif
        /* release: publishes the value copied into (or out of) the
         * caller's buffer; pairs with the acquire loads in
         * parc_sel_wait_() and select.c's wait. */
        parc_store(&s->state, final, PARC_RELEASE);
    } else {
        /* release: as above. */
        uint32_t old = parc_xchg(&s->state, final, PARC_RELEASE);
        if (old & PARC_SEL_PARKED)
            parc_park_wake_one(&s->state); /* address only */
    }
}

/* Set an eventfd's level: written when it becomes readable, drained
 * (non-blocking) when it stops being so. */
static void fd_level(int fd, bool *current, bool readable)
{
#ifdef __linux__
    if (fd < 0 || readable == *current)
        return;
    eventfd_t drained;
    if (readable)
        eventfd_write(fd, 1);
    else
        (void)eventfd_read(fd, &drained);
    *current = readable;
#else
    (void)fd;
    (void)current;
    (void)readable;
#endif
}

/* Keep the eventfds readable exactly while a receive (send) would not
 * block. Costs two compares while no fd was asked for. */
static void fd_update(parc_chan_t *c)
{
    if (c->fd < 0 && c->send_fd < 0)
        return;
    /* relaxed: written under the lock we hold. */
    bool closed = parc_load(&c->closed, PARC_RELAXED) != 0;
    fd_level(c->fd, &c->fd_readable,
             closed || count_of(c) > 0 || has_other(&c->sendq));
    fd_level(c->send_fd, &c->send_fd_readable,
             closed || has_other(&c->recvq) || (c->capacity > 0 && has_room(c)));
}

/* ---- send and receive (lock held) --------------------------------------- */

int parc_chan_send_locked_(parc_chan_t *c, const void *value, parc_sel_t *self)
{
    /* relaxed: the flag is written under the lock we hold. */
    if (parc_load(&c->closed, PARC_RELAXED))
        return EPIPE;
    parc_chan_waiter_t *r = claim_first(&c->recvq, self);
    if (r != NULL) {
        memcpy(r->buf, value, c->elem_size);
        finish(r, PARC_SEL_DONE);
        fd_update(c);
        return 0;
    }
    if (c->capacity == 0 || !has_room(c)) {
        fd_update(c); /* stale receiver records may have gone */
        return EAGAIN;
    }
    int rc = buf_push(c, value);
    if (rc == 0)
        fd_update(c);
    return rc;
}

int parc_chan_recv_locked_(parc_chan_t *c, void *out, parc_sel_t *self)
{
    if (count_of(c) > 0) {
        buf_pop(c, out);
        parc_chan_waiter_t *s = claim_first(&c->sendq, self);
        if (s != NULL) {
            /* The ring was full, so this push has the slot just freed
             * (no allocation: bounded rings exist already). */
            (void)buf_push(c, s->buf);
            finish(s, PARC_SEL_DONE);
        }
        fd_update(c);
        return 0;
    }
    parc_chan_waiter_t *s = claim_first(&c->sendq, self);
    if (s != NULL) {
        memcpy(out, s->buf, c->elem_size);
        finish(s, PARC_SEL_DONE);
        fd_update(c);
        return 0;
    }
    fd_update(c); /* stale sender records may have gone */
    /* relaxed: written under the lock we hold. */
    return parc_load(&c->closed, PARC_RELAXED) ? EPIPE : EAGAIN;
}

/* ---- waiting ------------------------------------------------------------- */

uint32_t parc_sel_wait_(parc_sel_t *s, parc_deadline_t deadline)
{
    for (unsigned i = 0; i < PARC_SPIN_POLLS; i++) {
        /* acquire: pairs with the release store in finish(): the value
         * moved for us is visible once we see the final state. */
        uint32_t v = parc_load(&s->state, PARC_ACQUIRE);
        if (!parc_sel_waiting(v))
            break;
        parc_spin_poll(i);
    }
    for (;;) {
        /* acquire: as above. */
        uint32_t v = parc_load(&s->state, PARC_ACQUIRE);
        if (parc_sel_final(v))
            return v;
        bool waiting = parc_sel_waiting(v);
        if (waiting && parc_deadline_passed(deadline)) {
            if (parc_sel_abort(s))
                return PARC_SEL_ABORTED;
            continue; /* claimed meanwhile: wait for the final state */
        }
        v = parc_sel_mark_parked(s);
        if (parc_sel_final(v))
            return v;
        /* A claimed state becomes final within the claimer's critical
         * section: no deadline for that last stretch. */
        parc_park_wait(&s->state, v,
                       parc_sel_waiting(v) ? deadline : PARC_FOREVER);
    }
}

static int chan_op(parc_chan_t *c, bool send, void *buf, bool block,
                   parc_deadline_t deadline)
{
    int rc = parc_chan_check_(c);
    if (rc != 0 || buf == NULL)
        return EINVAL;
    parc_mutex_lock(&c->lock);
    rc = send ? parc_chan_send_locked_(c, buf, NULL)
              : parc_chan_recv_locked_(c, buf, NULL);
    if (rc != EAGAIN || !block) {
        parc_mutex_unlock(&c->lock);
        return rc;
    }
    parc_sel_t sel = { PARC_SEL_WAITING, -1 };
    parc_chan_waiter_t w = { NULL, NULL, &sel, buf, 0, false };
    parc_chan_enqueue_(c, send, &w);
    parc_mutex_unlock(&c->lock);

    uint32_t final = parc_sel_wait_(&sel, deadline);
    if (final == PARC_SEL_ABORTED) {
        parc_mutex_lock(&c->lock);
        parc_chan_dequeue_(c, send, &w);
        parc_mutex_unlock(&c->lock);
        return ETIMEDOUT;
    }
    return PARC_SEL_KIND(final) == PARC_SEL_DONE ? 0 : EPIPE;
}

int parc_chan_send(parc_chan_t *c, const void *value)
{
    return chan_op(c, true, (void *)value, true, PARC_FOREVER);
}

int parc_chan_send_try(parc_chan_t *c, const void *value)
{
    return chan_op(c, true, (void *)value, false, PARC_FOREVER);
}

int parc_chan_send_timed(parc_chan_t *c, const void *value, int64_t timeout_ns)
{
    parc_deadline_t d;
    if (parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    int rc = chan_op(c, true, (void *)value, timeout_ns > 0, d);
    return rc == EAGAIN ? ETIMEDOUT : rc;
}

int parc_chan_recv(parc_chan_t *c, void *out)
{
    return chan_op(c, false, out, true, PARC_FOREVER);
}

int parc_chan_recv_try(parc_chan_t *c, void *out)
{
    return chan_op(c, false, out, false, PARC_FOREVER);
}

int parc_chan_recv_timed(parc_chan_t *c, void *out, int64_t timeout_ns)
{
    parc_deadline_t d;
    if (parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    int rc = chan_op(c, false, out, timeout_ns > 0, d);
    return rc == EAGAIN ? ETIMEDOUT : rc;
}

/* ---- close and the eventfd ------------------------------------------------ */

static void close_queue(parc_chan_waitq_t *q)
{
    parc_chan_waiter_t *w;
    while ((w = claim_first(q, NULL)) != NULL)
        finish(w, PARC_SEL_CLOSED);
}

int parc_chan_close(parc_chan_t *c)
{
    if (parc_chan_check_(c) != 0)
        return EINVAL;
    parc_mutex_lock(&c->lock);
    if (parc_load(&c->closed, PARC_RELAXED)) {
        parc_mutex_unlock(&c->lock);
        return EPIPE;
    }
    /* release: pairs with the acquire load in parc_chan_is_closed(). */
    parc_store(&c->closed, 1u, PARC_RELEASE);
    close_queue(&c->recvq);
    close_queue(&c->sendq);
    fd_update(c);
    parc_mutex_unlock(&c->lock);
    return 0;
}

/* Create (once) the eventfd at *slot and set its level. */
static int fd_get(parc_chan_t *c, int *slot, bool *readable, int *fd)
{
    if (parc_chan_check_(c) != 0 || fd == NULL)
        return EINVAL;
#ifdef __linux__
    int rc = 0;
    parc_mutex_lock(&c->lock);
    if (*slot < 0) {
        *slot = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (*slot < 0)
            rc = errno;
        *readable = false;
        fd_update(c);
    }
    *fd = *slot;
    parc_mutex_unlock(&c->lock);
    return rc;
#else
    (void)slot;
    (void)readable;
    return ENOSYS;
#endif
}

int parc_chan_fd(parc_chan_t *c, int *fd)
{
    return c == NULL ? EINVAL : fd_get(c, &c->fd, &c->fd_readable, fd);
}

int parc_chan_send_fd(parc_chan_t *c, int *fd)
{
    return c == NULL ? EINVAL : fd_get(c, &c->send_fd, &c->send_fd_readable, fd);
}
