/*
 * parc/chan.h's bounded channels: the lock-free ring, and the blocking
 * parc_chan_send and parc_chan_recv, whose fast path is the ring.
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
 *
 * The ring's operations and the entry points whose fast path they are
 * share this translation unit: the library is built without LTO, so this
 * keeps ring_send/ring_recv and ring_wake visible to the compiler at
 * parc_chan_send/recv (free to inline or specialise them) and keeps the
 * hot path in one object. What waits (ring_op: the spin, the queued
 * record, parking) is in src/chan.c with the waiting of the other kinds;
 * the queues are src/chan_waitq.c's, the eventfds src/chan_fd.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chan_internal.h"

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
    bool waiter = parc_load(parc_chan_waiting_of_(c, send), PARC_RELAXED) != 0;
    /* relaxed: an fd is created under the lock, which fences after
     * storing it (fd_get) before it reads the ring: the same pair. */
    bool fds = parc_load(&c->fd, PARC_RELAXED) >= 0 ||
               parc_load(&c->send_fd, PARC_RELAXED) >= 0;
    if (!waiter && !fds)
        return;
    parc_mutex_lock(&c->lock);
    parc_chan_waiter_t *w = parc_chan_claim_first_(c, send, NULL);
    parc_chan_fd_update_(c);
    parc_mutex_unlock(&c->lock);
    /* A claimed record's caller waits for the final state (its record
     * and state word stay), so the wake-up, perhaps a system call, can
     * run outside the lock. */
    if (w != NULL)
        parc_chan_finish_(w, PARC_SEL_NOTIFIED);
}

int parc_chan_ring_try_(parc_chan_t *c, bool send, void *buf, bool exact)
{
    int rc = send ? ring_send(c, buf, exact) : ring_recv(c, buf, exact);
    if (rc == 0)
        ring_wake(c, !send);
    return rc;
}

/* Whether a ring operation looks possible, from the slot at the stamp it
 * would take: read-only, for the spin phase of a blocked caller (which
 * would otherwise fence at every poll). */
bool parc_chan_ring_peek_(parc_chan_t *c, bool send)
{
    /* relaxed: hints; parc_chan_ring_try_() decides. The closed flag
     * rather than tail's mark bit: a spinning receiver would otherwise
     * pull the senders' tail line at every poll. */
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
bool parc_chan_ring_ready_(parc_chan_t *c, bool send)
{
    /* relaxed: a hint, after the caller's seq_cst fence. */
    uint64_t t = parc_load(&c->tail, PARC_RELAXED);
    if (t & c->mark)
        return true;
    return send ? parc_chan_len(c) < c->capacity
                : t != parc_load(&c->head, PARC_RELAXED);
}

/* ---- the blocking send and receive of every kind -------------------------- */

/* The fast path of a bounded channel's send and receive, before any
 * frame for waiting is set up: a valid ring channel, an operation that
 * completes at once. Anything else (EAGAIN included) goes to parc_chan_op_. */
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
    return parc_chan_op_(c, true, (void *)value, true, PARC_FOREVER);
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
    return parc_chan_op_(c, false, out, true, PARC_FOREVER);
}
