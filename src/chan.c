/*
 * parc/chan.h: the bounded ring, the locked kinds (rendezvous and
 * unbounded), the queues of blocked callers and the three forms of send
 * and receive. The protocols and their invariants are at the top of
 * include/parc/chan.h and src/chan_internal.h.
 *
 * Bounded channels: a lock-free ring (see "Bounded" in parc/chan.h).
 *   send: claim the slot at `tail` (its sequence says it is free for this
 *         lap) with one CAS, copy the value in, publish the sequence;
 *   recv: the mirror at `head`;
 *   then, after a seq_cst fence, read the other side's `waiting` count and
 *   only when it is non-zero take the lock and tell one queued caller to
 *   try again (ring_wake). A caller that found the ring full (empty) spins
 *   re-trying, then queues a record under the lock, fences, tries once
 *   more, and parks on its record's state word. The two fences make a
 *   Dekker pair: either the waker sees the count, or the waiter's retry
 *   sees the value (or the room).
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
#ifdef __linux__
#include <sys/eventfd.h>
#endif

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

static bool unbounded(const parc_chan_t *c)
{
    return c->capacity == PARC_CHAN_UNBOUNDED;
}

static bool is_ring(const parc_chan_t *c)
{
    return c->capacity != 0 && c->capacity != PARC_CHAN_UNBOUNDED;
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
    parc_mutex_lock(&c->lock);
    bool busy = c->sendq.head != NULL || c->recvq.head != NULL;
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
    size_t n = count_of(c);
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

/* Move the oldest value to `out`; the caller checked count_of() > 0. */
static void buf_pop(parc_chan_t *c, void *out)
{
    size_t n = count_of(c);
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

/* ---- the queues of blocked callers (lock held) ---------------------------- */

static void fd_update(parc_chan_t *c);

static parc_atomic(uint32_t) *waiting_of(parc_chan_t *c, bool send)
{
    return &c->waiting[send ? 1 : 0];
}

static void waiting_add(parc_chan_t *c, bool send, int d)
{
    /* Only a ring reads the counts (ring_wake). The locked kinds skip
     * them: they live on the read-mostly line that every operation reads,
     * and a rendezvous hand-off queues and unlinks a record each time. */
    if (!is_ring(c))
        return;
    parc_atomic(uint32_t) *n = waiting_of(c, send);
    /* relaxed: written under the lock we hold; a ring's waker reads it
     * after its seq_cst fence, and the queued caller fences (seq_cst)
     * after unlocking, before it re-checks the ring (ring_wake). */
    parc_store(n, parc_load(n, PARC_RELAXED) + (uint32_t)d, PARC_RELAXED);
}

static void enqueue(parc_chan_t *c, bool send, parc_chan_waiter_t *w)
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
    waiting_add(c, send, 1);
    fd_update(c); /* a queued sender makes a rendezvous receivable, a
                   * queued receiver makes it sendable */
}

static void unlink_waiter(parc_chan_t *c, bool send, parc_chan_waiter_t *w)
{
    parc_chan_waitq_t *q = send ? &c->sendq : &c->recvq;
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
    waiting_add(c, send, -1);
}

static void dequeue(parc_chan_t *c, bool send, parc_chan_waiter_t *w)
{
    if (!w->linked)
        return;
    unlink_waiter(c, send, w);
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

/* Claim the first live record of the send (receive) queue that is not
 * `self`'s: unlink it and CAS its state to CLAIMED. Records whose claim
 * fails are stale (their caller completed another case or gave up) and
 * are unlinked on the way. */
static parc_chan_waiter_t *claim_first(parc_chan_t *c, bool send, parc_sel_t *self)
{
    parc_chan_waiter_t *w = (send ? &c->sendq : &c->recvq)->head;
    while (w != NULL) {
        parc_chan_waiter_t *next = w->next;
        if (w->sel != self) {
            unlink_waiter(c, send, w);
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

/* Complete a claimed record with DONE, CLOSED or NOTIFIED (see
 * chan_internal.h for why the two wake-up kinds are ordered
 * differently). */
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

/* Values up to this size travel in a blocked caller's record, and are
 * moved by a hand-off that claims and completes the record in one CAS. */
#define CHAN_INLINE_VALUE 16u

#if defined(__GNUC__)
/* Ask for w's line exclusive before reading it: the claimer writes it
 * (unlink, the value, the state), and a read first would fetch it shared
 * from the spinning caller's cache and then upgrade it (two transfers). */
#define CHAN_PREFETCHW_(p) __builtin_prefetch((p), 1, 3)
#else
#define CHAN_PREFETCHW_(p) ((void)(p))
#endif

/* Complete w's caller with `kind` in one CAS from WAITING (PARKED or
 * not): true when it was still waiting (then it is woken if it parked),
 * false when it was stale. Whatever the hand-off moves has moved already:
 * into memory only w's caller reads after DONE, or out of w's value into
 * the claimer's temporary. */
static bool complete_cas(parc_chan_waiter_t *w, uint32_t kind)
{
    parc_sel_t *s = w->sel;
    uint32_t final = PARC_SEL_WORD(w->index, kind);
    uint32_t v = PARC_SEL_WAITING; /* a blind CAS first: see mutex.h */
    do {
        /* release: publishes the value copied into the caller's record,
         * and orders our copy out of a sender's value before it reuses
         * its buffer; pairs with the acquire loads of the state in
         * sel_wait() and select.c. */
        if (parc_cas(&s->state, &v, final, PARC_RELEASE, PARC_RELAXED)) {
            if (v & PARC_SEL_PARKED)
                parc_park_wake_one(&s->state); /* address only */
            return true;
        }
    } while (parc_sel_waiting(v));
    return false;
}

/* A hand-off on a locked kind (lock held): take the first live record
 * of the send (receive) queue that is not `self`'s and complete it with
 * `kind`, moving the value `in` into a blocked receiver or a blocked
 * sender's value out to `out` (both NULL: a close moves nothing). Stale
 * records are unlinked on the way. Returns whether a record was
 * completed.
 *
 * The common case is one CAS on the caller's state word, WAITING ->
 * final, after the value moved: into a receiver's own buffer (the record
 * carries it; nobody reads it unless the CAS succeeds), or out of a
 * sender's value into a temporary that reaches `out` only after the CAS
 * succeeds. So the caller, spinning on that word, sees one change, and
 * the line moves to us once and back once. The rest (a select's receive
 * into the user's buffer, values above CHAN_INLINE_VALUE, callers woken
 * through an eventfd, which must be written before the final state) take
 * the claim, copy, finish protocol of chan_internal.h. */
static bool claim_complete(parc_chan_t *c, bool send, parc_sel_t *self,
                           uint32_t kind, const void *in, void *out)
{
    parc_chan_waiter_t *w = (send ? &c->sendq : &c->recvq)->head;
    while (w != NULL) {
        CHAN_PREFETCHW_(w);
        parc_chan_waiter_t *next = w->next;
        if (w->sel == self) {
            w = next;
            continue;
        }
        unlink_waiter(c, send, w);
        bool one_cas = w->sel->wake_fd < 0 && (in == NULL || w->own_buf) &&
                       (out == NULL || c->elem_size <= CHAN_INLINE_VALUE);
        if (one_cas) {
            unsigned char tmp[CHAN_INLINE_VALUE];
            if (in != NULL)
                memcpy(w->buf, in, c->elem_size);
            else if (out != NULL)
                memcpy(tmp, w->buf, c->elem_size);
            if (complete_cas(w, kind)) {
                if (out != NULL)
                    memcpy(out, tmp, c->elem_size);
                return true;
            }
        } else {
            /* relaxed: as in claim_first(). */
            uint32_t v = parc_load(&w->sel->state, PARC_RELAXED);
            while (parc_sel_waiting(v))
                if (parc_cas(&w->sel->state, &v,
                             PARC_SEL_WORD(w->index, PARC_SEL_CLAIMED) |
                                 (v & PARC_SEL_PARKED),
                             PARC_RELAXED, PARC_RELAXED)) {
                    if (in != NULL)
                        memcpy(w->buf, in, c->elem_size);
                    else if (out != NULL)
                        memcpy(out, w->buf, c->elem_size);
                    finish(w, kind);
                    return true;
                }
        }
        w = next;
    }
    return false;
}

/* ---- the bounded ring ------------------------------------------------------ */
/*
 * Slot k lives at ring + k * stride: a 64-bit sequence word, then the
 * value. A stamp is lap * 2 * mark + index (crossbeam's encoding of
 * Vyukov's positions, so that a capacity that is not a power of two
 * needs no division). Slot k's sequence is
 *   stamp s      free for the sender whose tail stamp is s;
 *   stamp s + 1  holds the value sent at s, for the receiver at head s;
 * a receiver hands the slot to the next lap with s + one lap.
 */

typedef parc_atomic(uint64_t) seq_t;

/* Copy one value: the common sizes inline (a constant-size memcpy), the
 * rest through memcpy. */
static inline void value_copy(void *dst, const void *src, size_t n)
{
    switch (n) {
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    case 16: memcpy(dst, src, 16); break;
    default: memcpy(dst, src, n); break;
    }
}


static size_t ring_stride(const parc_chan_t *c)
{
    return (sizeof(uint64_t) + c->elem_size + 7u) & ~(size_t)7u;
}

static seq_t *ring_slot(const parc_chan_t *c, char *ring, uint64_t stamp)
{
    return (seq_t *)(void *)(ring + (size_t)(stamp & (c->mark - 1)) * ring_stride(c));
}

/* The stamp after `s`: the next index, or index 0 of the next lap. */
static uint64_t ring_next(const parc_chan_t *c, uint64_t s)
{
    uint64_t lap = c->mark << 1;
    return (s & (c->mark - 1)) + 1 < c->capacity ? s + 1
                                                 : (s & ~(lap - 1)) + lap;
}

static char *ring_alloc(parc_chan_t *c)
{
    size_t bytes = c->capacity * ring_stride(c);
    bytes = (bytes + PARC_CACHELINE - 1) / PARC_CACHELINE * PARC_CACHELINE;
    char *r = aligned_alloc(PARC_CACHELINE, bytes);
    if (r == NULL)
        /* acquire: as in ring_get(); another thread's ring, if any. */
        return parc_load(&c->ring, PARC_ACQUIRE);
    for (size_t k = 0; k < c->capacity; k++)
        parc_atomic_init(ring_slot(c, r, (uint64_t)k), (uint64_t)k);
    char *none = NULL;
    /* release: publishes the initial sequence words; pairs with the
     * acquire load in ring_get(). acquire on failure: the winner's. */
    if (parc_cas(&c->ring, &none, r, PARC_RELEASE, PARC_ACQUIRE))
        return r;
    free(r);
    return none;
}

static char *ring_get(parc_chan_t *c)
{
    /* acquire: pairs with the release CAS in ring_alloc(). */
    char *r = parc_load(&c->ring, PARC_ACQUIRE);
    return r != NULL ? r : ring_alloc(c);
}

/* Send without blocking: 0, EPIPE, EAGAIN (full), ENOMEM (the first use
 * could not allocate). A slot whose receiver has taken its stamp but not
 * yet copied the value out is waited for (spinning, yielding now and
 * then): the receiver is within a memcpy unless it was preempted, and
 * EAGAIN then would be a "full" verdict for a ring with room (crossbeam
 * waits the same way; a lock-based channel waits for a preempted lock
 * holder likewise).
 *
 * `exact` false: EAGAIN as soon as the slot at the tail is not free, with
 * neither the fence nor the load of head that tell "full" from "being
 * emptied" and closed from open. The blocking send's first attempt: it
 * spins on the slot next anyway (ring_op), and the receivers' head line
 * stays in their caches instead of being pulled at every send that
 * finds the ring full. Every verdict that returns or parks is exact. */
static int ring_send(parc_chan_t *c, const void *value, bool exact)
{
    char *ring = ring_get(c);
    if (ring == NULL)
        return ENOMEM;
    uint64_t lap = c->mark << 1;
    unsigned polls = 0;
    /* relaxed: a guess, checked against the slot's sequence and by the
     * CAS; tail publishes nothing (the slot's sequence does). */
    uint64_t t = parc_load(&c->tail, PARC_RELAXED);
    for (;;) {
        if (t & c->mark)
            return EPIPE;
        seq_t *seq = ring_slot(c, ring, t);
        /* acquire: pairs with the release store of the receiver that
         * emptied the slot last lap, so its copy out is complete before
         * the memcpy below overwrites the value. */
        uint64_t s = parc_load(seq, PARC_ACQUIRE);
        if (s == t) {
            /* relaxed: claiming the stamp orders nothing else. */
            if (parc_cas(&c->tail, &t, ring_next(c, t), PARC_RELAXED,
                         PARC_RELAXED)) {
                value_copy(seq + 1, value, c->elem_size);
                /* release: publishes the value; pairs with the acquire
                 * load in ring_recv(). */
                parc_store(seq, t + 1, PARC_RELEASE);
                return 0;
            }
            continue; /* t is the current tail now */
        }
        if (s + lap == t + 1) {
            if (!exact)
                return EAGAIN;
            /* The slot holds last lap's value: full, unless its receiver
             * already took the stamp and is copying out. seq_cst: orders
             * the slot's load before head's (as crossbeam's array flavour
             * does), so a full verdict saw a head no older than the
             * slot. */
            parc_fence(PARC_SEQ_CST);
            /* relaxed: only compared. */
            uint64_t h = parc_load(&c->head, PARC_RELAXED);
            if (h + lap == t)
                return EAGAIN;
            parc_spin_poll(polls++);
        } else {
            parc_cpu_relax(); /* another sender took t meanwhile */
        }
        /* relaxed: as above. */
        t = parc_load(&c->tail, PARC_RELAXED);
    }
}

/* Receive without blocking: 0, EPIPE (closed and drained), EAGAIN
 * (empty). A slot whose sender has taken its stamp but not yet published
 * the value is waited for, as in ring_send(). `exact` as in ring_send():
 * false says EAGAIN at an empty slot without reading the senders' tail. */
static int ring_recv(parc_chan_t *c, void *out, bool exact)
{
    /* acquire: pairs with the release CAS in ring_alloc(). */
    char *ring = parc_load(&c->ring, PARC_ACQUIRE);
    if (ring == NULL) {
        /* relaxed: compared only. */
        uint64_t t = parc_load(&c->tail, PARC_RELAXED);
        if ((t & ~c->mark) == 0) /* nothing was ever sent */
            return t & c->mark ? EPIPE : EAGAIN;
        /* A send claimed a stamp, so its ring exists: ring_get's CAS
         * reads the latest pointer (and publishes the slots to us). */
        if ((ring = ring_get(c)) == NULL)
            return EAGAIN; /* not reached: ring_alloc finds the ring */
    }
    uint64_t lap = c->mark << 1;
    unsigned polls = 0;
    /* relaxed: a guess, checked as in ring_send(). */
    uint64_t h = parc_load(&c->head, PARC_RELAXED);
    for (;;) {
        seq_t *seq = ring_slot(c, ring, h);
        /* acquire: pairs with the sender's release store: its value is
         * complete before we copy it out. */
        uint64_t s = parc_load(seq, PARC_ACQUIRE);
        if (s == h + 1) {
            /* relaxed: as in ring_send(). */
            if (parc_cas(&c->head, &h, ring_next(c, h), PARC_RELAXED,
                         PARC_RELAXED)) {
                value_copy(out, seq + 1, c->elem_size);
                /* release: our copy out is done before the next lap's
                 * sender overwrites it; pairs with the acquire load in
                 * ring_send(). */
                parc_store(seq, h + lap, PARC_RELEASE);
                return 0;
            }
            continue;
        }
        if (s == h) {
            if (!exact)
                return EAGAIN;
            /* Empty for this lap, unless a sender took stamp h and is
             * copying in. seq_cst: as in ring_send(). */
            parc_fence(PARC_SEQ_CST);
            /* relaxed: compared; the mark bit needs no order (a receiver
             * that sees it and tail == h has received every value sent
             * before the close: their stamps are below h). */
            uint64_t t = parc_load(&c->tail, PARC_RELAXED);
            if ((t & ~c->mark) == h)
                return t & c->mark ? EPIPE : EAGAIN;
            parc_spin_poll(polls++);
        } else {
            parc_cpu_relax(); /* another receiver took h meanwhile */
        }
        /* relaxed: as above. */
        h = parc_load(&c->head, PARC_RELAXED);
    }
}

/* Tell one queued caller of the other side (`send`: a blocked sender)
 * that the ring changed, and keep the eventfds level. Called after every
 * successful ring operation. */
static void ring_wake(parc_chan_t *c, bool send)
{
    /* seq_cst: a Dekker pair with the fence a caller about to park runs
     * after queueing its record (ring_op, parc_chan_register_): our slot
     * store before our read of `waiting`, theirs the other way round; one
     * of us sees the other's store. Not the asymmetric fence
     * (parc/asymfence.h) that parc/mpmc.h uses: here a blocked caller
     * parks after every spin that found nothing, often once per few
     * items in 1P1C on two cores, and a membarrier (an IPI to the other
     * core) per park made 1P1C forty times slower. */
    parc_fence(PARC_SEQ_CST);
    /* relaxed: the fence above orders it. */
    bool waiter = parc_load(waiting_of(c, send), PARC_RELAXED) != 0;
    /* relaxed: an fd is created under the lock, which fences after
     * storing it (fd_get) before it reads the ring: the same pair. */
    bool fds = parc_load(&c->fd, PARC_RELAXED) >= 0 ||
               parc_load(&c->send_fd, PARC_RELAXED) >= 0;
    if (!waiter && !fds)
        return;
    parc_mutex_lock(&c->lock);
    parc_chan_waiter_t *w = claim_first(c, send, NULL);
    fd_update(c);
    parc_mutex_unlock(&c->lock);
    /* A claimed record's caller waits for the final state (its record
     * and state word stay), so the wake-up, perhaps a system call, can
     * run outside the lock. */
    if (w != NULL)
        finish(w, PARC_SEL_NOTIFIED);
}

static int ring_try_as(parc_chan_t *c, bool send, void *buf, bool exact)
{
    int rc = send ? ring_send(c, buf, exact) : ring_recv(c, buf, exact);
    if (rc == 0)
        ring_wake(c, !send);
    return rc;
}

static int ring_try(parc_chan_t *c, bool send, void *buf)
{
    return ring_try_as(c, send, buf, true);
}

/* Whether a ring operation looks possible, from the slot at the stamp it
 * would take: read-only, for the spin phase of a blocked caller (which
 * would otherwise fence at every poll). */
static bool ring_peek(parc_chan_t *c, bool send)
{
    /* relaxed: hints; ring_try() decides. The closed flag rather than
     * tail's mark bit: a spinning receiver would otherwise pull the
     * senders' tail line at every poll. */
    if (parc_load(&c->closed, PARC_RELAXED))
        return true;
    /* acquire: pairs with the release CAS in ring_alloc(). */
    char *ring = parc_load(&c->ring, PARC_ACQUIRE);
    if (ring == NULL)
        return send;
    if (send) {
        uint64_t t = parc_load(&c->tail, PARC_RELAXED);
        return parc_load(ring_slot(c, ring, t), PARC_RELAXED) == t;
    }
    uint64_t h = parc_load(&c->head, PARC_RELAXED);
    return parc_load(ring_slot(c, ring, h), PARC_RELAXED) == h + 1;
}

/* Whether a ring operation looks possible (a select re-checks after
 * queueing its record; the operation itself may still find EAGAIN). */
static bool ring_ready(parc_chan_t *c, bool send)
{
    /* relaxed: a hint, after the caller's seq_cst fence. */
    uint64_t t = parc_load(&c->tail, PARC_RELAXED);
    if (t & c->mark)
        return true;
    return send ? parc_chan_len(c) < c->capacity
                : t != parc_load(&c->head, PARC_RELAXED);
}

/* ---- readiness and eventfds (lock held) ------------------------------------ */

static bool recv_ready_locked(parc_chan_t *c, const parc_sel_t *self)
{
    /* relaxed: the flag is written under the lock we hold. */
    if (parc_load(&c->closed, PARC_RELAXED))
        return true;
    if (is_ring(c))
        return parc_chan_len(c) > 0;
    return count_of(c) > 0 || has_other_than(&c->sendq, self);
}

static bool send_ready_locked(parc_chan_t *c, const parc_sel_t *self)
{
    /* relaxed: the flag is written under the lock we hold. */
    if (parc_load(&c->closed, PARC_RELAXED))
        return true;
    if (is_ring(c))
        return parc_chan_len(c) < c->capacity;
    return unbounded(c) || has_other_than(&c->recvq, self);
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
 * block. Costs two loads while no fd was asked for. A ring operation
 * runs this after it completed (ring_wake), so the level follows the
 * ring once the operation returns. */
static void fd_update(parc_chan_t *c)
{
    /* relaxed: written under the lock we hold. */
    int fd = parc_load(&c->fd, PARC_RELAXED);
    int send_fd = parc_load(&c->send_fd, PARC_RELAXED);
    if (fd < 0 && send_fd < 0)
        return;
    fd_level(fd, &c->fd_readable, recv_ready_locked(c, NULL));
    fd_level(send_fd, &c->send_fd_readable, send_ready_locked(c, NULL));
}

/* ---- send and receive on the locked kinds (lock held) ---------------------- */

static int send_locked(parc_chan_t *c, const void *value, parc_sel_t *self)
{
    /* relaxed: the flag is written under the lock we hold. */
    if (parc_load(&c->closed, PARC_RELAXED))
        return EPIPE;
    if (claim_complete(c, false, self, PARC_SEL_DONE, value, NULL)) {
        fd_update(c);
        return 0;
    }
    if (!unbounded(c)) {
        fd_update(c); /* stale receiver records may have gone */
        return EAGAIN;
    }
    int rc = buf_push(c, value);
    if (rc == 0)
        fd_update(c);
    return rc;
}

static int recv_locked(parc_chan_t *c, void *out, parc_sel_t *self)
{
    if (count_of(c) > 0) {
        buf_pop(c, out);
        fd_update(c);
        return 0;
    }
    if (claim_complete(c, true, self, PARC_SEL_DONE, NULL, out)) {
        fd_update(c);
        return 0;
    }
    fd_update(c); /* stale sender records may have gone */
    /* relaxed: written under the lock we hold. */
    return parc_load(&c->closed, PARC_RELAXED) ? EPIPE : EAGAIN;
}

/* ---- select's entry points ----------------------------------------------- */

int parc_chan_poll_(parc_chan_t *c, bool send, void *buf, parc_sel_t *self)
{
    if (is_ring(c))
        return ring_try(c, send, buf);
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
    if (is_ring(c))
        enqueue(c, send, w);
    else if (!(ready = send ? send_ready_locked(c, w->sel)
                            : recv_ready_locked(c, w->sel)))
        enqueue(c, send, w);
    parc_mutex_unlock(&c->lock);
    if (is_ring(c)) {
        /* seq_cst: the waiter's half of ring_wake()'s Dekker pair: the
         * count stored under the lock before the ring is read again. */
        parc_fence(PARC_SEQ_CST);
        ready = ring_ready(c, send);
    }
    return ready;
}

void parc_chan_unregister_(parc_chan_t *c, bool send, parc_chan_waiter_t *w)
{
    parc_mutex_lock(&c->lock);
    dequeue(c, send, w);
    parc_mutex_unlock(&c->lock);
}

/* ---- waiting ------------------------------------------------------------- */

/*
 * Spinning. A blocked caller spins before it parks, for a budget that the
 * channel learns (adaptive spinning, as in Solaris' adaptive mutexes and
 * glibc's PTHREAD_MUTEX_ADAPTIVE_NP): a wait that ended within the spin
 * raises the budget to twice what it took, a wait that had to park halves
 * it. Where the partner runs on another core it answers within a few
 * cache-line round trips (about 0.1 us each here), far below a futex
 * wake-up (about 45 us from one core to another here), and the budget
 * stays where spinning wins. Where it does not run (more threads than
 * cores, or other processes on them) spinning only burns the time it
 * needs, and the budget falls to CHAN_SPIN_MIN: park almost at once, so
 * the waker's futex wake lets the scheduler run us when there is
 * something to do. The first CHAN_SPIN_PURE pauses never yield (a
 * sched_yield is a system call, and on a loaded machine hands the core to
 * another process for a time slice); after them every CHAN_SPIN_PURE-th
 * pause yields, for a partner that shares our core. Budgets are in
 * pauses (parc_cpu_relax).
 */
#define CHAN_SPIN_MIN 32u
#define CHAN_SPIN_MAX (4u * PARC_SPIN_POLLS)
#define CHAN_SPIN_PURE 64u

static unsigned spin_budget(parc_chan_t *c)
{
    if (c == NULL)
        return PARC_SPIN_POLLS;
    /* relaxed: a heuristic; no data is published through it. */
    unsigned b = parc_load(&c->spin, PARC_RELAXED);
    return b == 0 ? PARC_SPIN_POLLS : b;
}

/* A wait on c ended after `pauses` of spinning, or parked (UINT_MAX). */
static void spin_learn(parc_chan_t *c, unsigned pauses)
{
    if (c == NULL)
        return;
    unsigned b = spin_budget(c), nb;
    if (pauses == UINT_MAX)
        nb = b / 2 < CHAN_SPIN_MIN ? CHAN_SPIN_MIN : b / 2;
    else if (2 * pauses + CHAN_SPIN_MIN > b)
        nb = 2 * pauses + CHAN_SPIN_MIN > CHAN_SPIN_MAX ? CHAN_SPIN_MAX
                                                        : 2 * pauses + CHAN_SPIN_MIN;
    else
        return; /* no store: the word stays shared in every spinner's cache */
    if (nb != b)
        /* relaxed: as above; a lost update between two learners is fine. */
        parc_store(&c->spin, nb, PARC_RELAXED);
}

/* Pause once in a spin of which `i` pauses have passed. */
static inline void chan_pause(unsigned i)
{
    if (i >= CHAN_SPIN_PURE && i % CHAN_SPIN_PURE == 0)
        parc_yield();
    else
        parc_cpu_relax();
}

static uint32_t sel_wait(parc_sel_t *s, parc_deadline_t deadline,
                         parc_chan_t *learn, unsigned spins);

uint32_t parc_sel_wait_(parc_sel_t *s, parc_deadline_t deadline)
{
    return sel_wait(s, deadline, NULL, PARC_SPIN_POLLS);
}

/* Spin up to `spins` pauses, then park, until `s` is final or, while it
 * is still WAITING, the deadline passes (then abort). When `learn` is
 * set, tell its budget how the wait went. */
static uint32_t sel_wait(parc_sel_t *s, parc_deadline_t deadline,
                         parc_chan_t *learn, unsigned spins)
{
    for (unsigned i = 0; i < spins; i++) {
        /* acquire: pairs with the release store in finish(): the value
         * moved for us is visible once we see the final state. */
        uint32_t v = parc_load(&s->state, PARC_ACQUIRE);
        if (!parc_sel_waiting(v)) {
            spin_learn(learn, i);
            break;
        }
        chan_pause(i);
        if (i + 1 == spins)
            spin_learn(learn, UINT_MAX);
    }
    for (;;) {
        /* acquire: as above. */
        uint32_t v = parc_load(&s->state, PARC_ACQUIRE);
        if (parc_sel_final(v))
            return v;
        bool waiting = parc_sel_waiting(v);
        if (!waiting) {
            /* Claimed: the claimer is within a copy under its channel's
             * lock. Look again for a few pauses before parking, which
             * would write the word it is about to write (PARKED) and
             * make its final store a futex wake-up. */
            for (unsigned k = 0; k < CHAN_SPIN_PURE && !parc_sel_final(v); k++) {
                parc_cpu_relax();
                /* acquire: as above. */
                v = parc_load(&s->state, PARC_ACQUIRE);
            }
            if (parc_sel_final(v))
                return v;
        }
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
        parc_chan_waiter_t *next = claim_first(c, send, NULL);
        if (next != NULL)
            finish(next, PARC_SEL_NOTIFIED);
        parc_mutex_unlock(&c->lock);
    }
}

/* The ring spinner's longest pause between looks: 2^6 pauses. */
#define RING_BACKOFF_MAX_SHIFT 6u

/* The blocking forms on a ring: try; spin re-trying; then queue a record,
 * fence, try again, and park until told to try again (or the deadline). */
static PARC_NOINLINE_ int ring_op(parc_chan_t *c, bool send, void *buf, bool block,
                   parc_deadline_t deadline)
{
    /* A blocking caller's first look is inexact (see ring_send()): the
     * spin below decides nothing, and the exact tries follow it. */
    int rc = ring_try_as(c, send, buf, !block);
    if (rc != EAGAIN || !block)
        return rc;
    /* Spin with exponential backoff between looks at the slot: a
     * receiver that looked at an empty slot at every pause would pull the
     * line back from the sender after each value, where a pause of a few
     * dozen lets the sender fill the line's slots first (and the mirror
     * for a sender at a full ring). The budget is the channel's (see
     * "Spinning" above). */
    unsigned budget = spin_budget(c), pauses = 0;
    for (unsigned i = 0; pauses < budget; i++) {
        unsigned n = i < RING_BACKOFF_MAX_SHIFT ? 1u << i
                                                : 1u << RING_BACKOFF_MAX_SHIFT;
        for (unsigned k = 0; k < n; k++)
            chan_pause(pauses++);
        if (ring_peek(c, send) && (rc = ring_try(c, send, buf)) != EAGAIN) {
            spin_learn(c, pauses);
            return rc;
        }
    }
    spin_learn(c, UINT_MAX);
    for (;;) {
        if (parc_deadline_passed(deadline))
            return ETIMEDOUT;
        parc_sel_t sel = { PARC_SEL_WAITING, -1 };
        parc_chan_waiter_t w = { NULL, NULL, &sel, buf, 0, false, false };
        parc_mutex_lock(&c->lock);
        enqueue(c, send, &w);
        parc_mutex_unlock(&c->lock);
        /* seq_cst: the waiter's half of ring_wake()'s Dekker pair. */
        parc_fence(PARC_SEQ_CST);
        rc = ring_try(c, send, buf);
        if (rc != EAGAIN) {
            ring_withdraw(c, send, &w);
            return rc;
        }
        /* No second spin: the one above polled the ring itself. */
        uint32_t final = sel_wait(&sel, deadline, NULL, 0);
        if (final == PARC_SEL_ABORTED) {
            parc_chan_unregister_(c, send, &w);
            return ETIMEDOUT;
        }
        /* NOTIFIED: the record is unlinked; try again. */
        if ((rc = ring_try(c, send, buf)) != EAGAIN)
            return rc;
    }
}

static PARC_NOINLINE_ int chan_op(parc_chan_t *c, bool send, void *buf, bool block,
                   parc_deadline_t deadline)
{
    int rc = parc_chan_check_(c);
    if (rc != 0 || buf == NULL)
        return EINVAL;
    if (is_ring(c))
        return ring_op(c, send, buf, block, deadline);
    parc_mutex_lock(&c->lock);
    rc = send ? send_locked(c, buf, NULL) : recv_locked(c, buf, NULL);
    if (rc != EAGAIN || !block) {
        parc_mutex_unlock(&c->lock);
        return rc;
    }
    /* The state word, the record and (when it fits) the value on one
     * cache line: the thread that completes the operation then pulls one
     * line of ours, not three. */
    struct {
        parc_sel_t sel;
        parc_chan_waiter_t w;
        unsigned char value[CHAN_INLINE_VALUE];
    } PARC_CACHE_ALIGNED rec;
    bool inl = c->elem_size <= CHAN_INLINE_VALUE;
    rec.sel.wake_fd = -1;
    parc_atomic_init(&rec.sel.state, PARC_SEL_WAITING);
    parc_chan_waiter_t w = { NULL, NULL, &rec.sel, inl ? rec.value : buf, 0,
                             false, inl };
    rec.w = w;
    if (inl && send)
        memcpy(rec.value, buf, c->elem_size);
    enqueue(c, send, &rec.w);
    parc_mutex_unlock(&c->lock);

    uint32_t final = sel_wait(&rec.sel, deadline, c, spin_budget(c));
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

/* The fast path of a bounded channel's send and receive, before any
 * frame for waiting is set up: a valid ring channel, an operation that
 * completes at once. Anything else (EAGAIN included) goes to chan_op. */
static inline bool ring_fast(parc_chan_t *c, const void *buf)
{
    return c != NULL && buf != NULL && c->capacity - 1u < PARC_CHAN_CAP_MAX &&
           c->elem_size - 1u < PARC_CHAN_ELEM_MAX;
}

int parc_chan_send(parc_chan_t *c, const void *value)
{
    if (ring_fast(c, value)) {
        int rc = ring_send(c, value, false);
        if (rc == 0)
            ring_wake(c, false);
        if (rc != EAGAIN)
            return rc;
    }
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
    if (ring_fast(c, out)) {
        int rc = ring_recv(c, out, false);
        if (rc == 0)
            ring_wake(c, true);
        if (rc != EAGAIN)
            return rc;
    }
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

static void close_queue(parc_chan_t *c, bool send)
{
    uint32_t kind = is_ring(c) ? PARC_SEL_NOTIFIED : PARC_SEL_CLOSED;
    while (claim_complete(c, send, NULL, kind, NULL, NULL))
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
    close_queue(c, false);
    close_queue(c, true);
    fd_update(c);
    parc_mutex_unlock(&c->lock);
    return 0;
}

/* Create (once) the eventfd at *slot and set its level. */
static int fd_get(parc_chan_t *c, parc_atomic(int) *slot, bool *readable, int *fd)
{
    if (parc_chan_check_(c) != 0 || fd == NULL)
        return EINVAL;
#ifdef __linux__
    int rc = 0;
    parc_mutex_lock(&c->lock);
    /* relaxed: written under the lock we hold. */
    int cur = parc_load(slot, PARC_RELAXED);
    if (cur < 0) {
        cur = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (cur < 0) {
            rc = errno;
        } else {
            *readable = false;
            /* relaxed, then seq_cst: ring_wake()'s Dekker pair again (a
             * ring operation that missed the fd is seen by the read of
             * the ring in fd_update below). */
            parc_store(slot, cur, PARC_RELAXED);
            parc_fence(PARC_SEQ_CST);
            fd_update(c);
        }
    }
    *fd = cur;
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
