/*
 * parc/chan.h, the core: a channel's life cycle, the unbounded buffer,
 * send and receive on the locked kinds (rendezvous and unbounded),
 * select's entry points, waiting (the learned spin budget, parking, the
 * blocking path of every kind), the try and timed forms, and close. The
 * protocols and their invariants are at the top of include/parc/chan.h
 * and src/chan_internal.h. The rest of the channel, one mechanism a file:
 *   src/chan_ring.c   the bounded lock-free ring, with parc_chan_send and
 *                     parc_chan_recv (their fast path is the ring);
 *   src/chan_waitq.c  the queues of blocked callers: queue, claim and
 *                     complete their records;
 *   src/chan_fd.c     readiness, and the eventfds that show it.
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
static bool rv_give(parc_chan_t *c, const void *value, bool locked)
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
             * acquire load in rv_wait(). */
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

/* Whether a blocked receive may wait in the slot (lock held). */
static bool rv_can_install(parc_chan_t *c)
{
    /* relaxed for the fds: written under the lock we hold. acquire for
     * the slot: pairs with the release store of EMPTY by its last
     * receiver, whose copy out then precedes our WAIT (and so the next
     * sender's copy in). */
    return c->capacity == 0 && c->elem_size <= PARC_CHAN_INLINE_VALUE &&
           c->recvq.head == NULL && parc_load(&c->fd, PARC_RELAXED) < 0 &&
           parc_load(&c->send_fd, PARC_RELAXED) < 0 &&
           parc_load(&c->rv, PARC_ACQUIRE) == RV_EMPTY;
}

/* Close (lock held): the slot's waiting receiver, if any, gets CLOSED. */
static void rv_close(parc_chan_t *c)
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

/* ---- send and receive on the locked kinds (lock held) ---------------------- */

static int send_locked(parc_chan_t *c, const void *value, parc_sel_t *self)
{
    /* relaxed: the flag is written under the lock we hold. */
    if (parc_load(&c->closed, PARC_RELAXED))
        return EPIPE;
    if (rv_give(c, value, true)) {
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

/* ---- waiting ------------------------------------------------------------- */

/*
 * Spinning. A blocked caller spins before it parks, for a budget that the
 * channel learns (adaptive spinning, as in Solaris' adaptive mutexes and
 * glibc's PTHREAD_MUTEX_ADAPTIVE_NP), measured in time: a pause costs
 * 25 ns on this machine in one host regime and 50-80 ns in the other, and
 * what a spin is weighed against (a futex wake-up, ~45 us from one core
 * to another here) is a time too.
 *
 * The budget learns from the whole wait, spin and park, not from whether
 * it parked: a wait of T ns (from its first pause to its end) asks for a
 * budget of 2T + CHAN_SPIN_MIN_NS, up to CHAN_SPIN_MAX_NS, and only a wait
 * that parked and lasted CHAN_SPIN_MAX_NS or more halves it. A partner on
 * another core answers within a few cache-line round trips, and the
 * budget stays where spinning wins. Where the partner is away (descheduled
 * for a time slice, or idle between bursts) the waits are long, and the
 * budget falls to CHAN_SPIN_MIN_NS: park almost at once, so the waker's
 * futex wake lets the scheduler run us when there is something to do.
 *
 * Rejected: halving at every wait that parked (the rule the channel had).
 * Probe counts (bench/probe/chan_probe.c, pinned rendezvous ping-pong at
 * load 4): 95% of waits ended within 3 pauses, 5% met a partner
 * preempted for a moment and parked; each park halved the budget, so
 * the next short preemption parked too, and a parked waiter's partner,
 * waiting for the reply through the ~45 us wake-up, ran out and parked
 * in turn (a convoy). Those parks (0.05 per round trip, ~45 us each) were
 * the whole cost: 2.7 us per round trip where spinning takes ~1. A wait
 * that parked but ended within CHAN_SPIN_MAX_NS says a longer spin would
 * have covered it, so it raises the budget, and both sides spin through
 * the next such gap, the wake-up latency included. The price: a caller
 * whose partner answers every 50-100 us spins through the gap (a core
 * busy for what a park would have cost in latency).
 *
 * The first CHAN_SPIN_PURE pauses never yield (a sched_yield is a system
 * call, and on a loaded machine hands the core to another process for a
 * time slice); after them every CHAN_SPIN_PURE-th pause yields, for a
 * partner that shares our core. The clock is read only once a wait has
 * lasted CHAN_CLOCK_AFTER pauses (most waits of a busy channel end
 * before: they learn nothing and cost no clock read), then every
 * CHAN_CLOCK_AFTER pauses. The chaos build counts pauses as
 * CHAN_PAUSE_NS each instead of reading the clock, so that a seed
 * replays one schedule.
 */
#define CHAN_SPIN_MIN_NS 2000u
#define CHAN_SPIN_MAX_NS 100000u
#define CHAN_SPIN_INIT_NS 25000u
#define CHAN_SPIN_PURE 64u
#define CHAN_CLOCK_AFTER 16u
#define CHAN_PAUSE_NS 25u

static unsigned spin_budget(parc_chan_t *c)
{
    /* relaxed: a heuristic; no data is published through it. */
    unsigned b = parc_load(&c->spin, PARC_RELAXED);
    return b == 0 ? CHAN_SPIN_INIT_NS : b;
}

/* A wait on c lasted `ns` (0: ended before the clock was read), parked
 * or not, and found its core crowded (a yield of its spin ran another
 * thread) or not. */
static void spin_learn(parc_chan_t *c, int64_t ns, bool parked, bool crowded)
{
    unsigned b = spin_budget(c), nb;
    if (parked && (crowded || ns >= (int64_t)CHAN_SPIN_MAX_NS)) {
        nb = b / 2 < CHAN_SPIN_MIN_NS ? CHAN_SPIN_MIN_NS : b / 2;
    } else {
        int64_t want = 2 * ns + (int64_t)CHAN_SPIN_MIN_NS;
        if (want <= (int64_t)b)
            return; /* no store: the word stays shared in every spinner's cache */
        nb = want > (int64_t)CHAN_SPIN_MAX_NS ? CHAN_SPIN_MAX_NS : (unsigned)want;
    }
    if (nb != b)
        /* relaxed: as above; a lost update between two learners is fine. */
        parc_store(&c->spin, nb, PARC_RELAXED);
}

/* The clock of one wait: started at its CHAN_CLOCK_AFTER-th pause. */
typedef struct {
    int64_t t0;      /* the clock then; -1 before */
    unsigned pauses; /* chaos build: pauses since then */
} wait_clock_t;

static void wait_clock_start(wait_clock_t *w)
{
#ifdef PARC_CHAOS
    w->t0 = 0;
    w->pauses = 0;
#else
    w->t0 = parc_now_ns();
#endif
}

/* Nanoseconds since wait_clock_start (0 if it was not started). */
static int64_t wait_clock_ns(const wait_clock_t *w)
{
    if (w->t0 < 0)
        return 0;
#ifdef PARC_CHAOS
    return (int64_t)w->pauses * CHAN_PAUSE_NS;
#else
    return parc_now_ns() - w->t0;
#endif
}

/* A wait's pause number `i` passed: start the clock at CHAN_CLOCK_AFTER,
 * and say whether the budget is spent (checked every CHAN_CLOCK_AFTER). */
static inline bool wait_clock_spent(wait_clock_t *w, unsigned i, unsigned budget)
{
#ifdef PARC_CHAOS
    if (w->t0 >= 0)
        w->pauses++;
#endif
    if (i < CHAN_CLOCK_AFTER || i % CHAN_CLOCK_AFTER != 0)
        return false;
    if (i == CHAN_CLOCK_AFTER) {
        wait_clock_start(w);
        return false;
    }
    return wait_clock_ns(w) >= (int64_t)budget;
}

/* Pause once in a spin of which `i` pauses have passed. A spinning fiber
 * asks the fiber runtime first (the spin hook, src/park_hook.h): the
 * partner it waits for is usually ready on its own worker, where every
 * pause only delays it, so the hook runs that fiber instead. relaxed: a
 * flag set once when the hook is installed, as parc_spin_poll reads it. */
static inline void chan_pause(unsigned i)
{
    if (parc_load(&parc_spin_hooked_, PARC_RELAXED) && parc_spin_poll_hook_(i))
        return;
    if (i >= CHAN_SPIN_PURE && i % CHAN_SPIN_PURE == 0) {
        CHAN_PROBE(yields, 1);
        parc_yield();
    } else
        parc_cpu_relax();
}

/* A yield that took longer than this ran another thread on our core (one
 * that finds nobody runnable is a system call, well under a microsecond
 * here): see spin_wait.c. */
#define CHAN_YIELD_SWITCHED_NS 1500

/* chan_pause() for a spin that learns: true when its yield ran another
 * thread, i.e. our spin takes time from a thread that shares our core
 * (more runnable threads than cores). The chaos build does not read the
 * clock (a seed replays one schedule) and says false. */
static inline bool chan_pause_crowded(unsigned i)
{
    /* A fiber's spin runs its worker's other fibers instead (chan_pause);
     * that is not a crowded core. relaxed: as in chan_pause. */
    if (parc_load(&parc_spin_hooked_, PARC_RELAXED) && parc_spin_poll_hook_(i))
        return false;
    if (i < CHAN_SPIN_PURE || i % CHAN_SPIN_PURE != 0) {
        parc_cpu_relax();
        return false;
    }
    CHAN_PROBE(yields, 1);
#ifdef PARC_CHAOS
    parc_yield();
    return false;
#else
    int64_t t0 = parc_now_ns();
    parc_yield();
    return parc_now_ns() - t0 > CHAN_YIELD_SWITCHED_NS;
#endif
}

static uint32_t sel_wait(parc_sel_t *s, parc_deadline_t deadline,
                         unsigned spins, bool *parked);

uint32_t parc_sel_wait_(parc_sel_t *s, parc_deadline_t deadline)
{
    return sel_wait(s, deadline, PARC_SPIN_POLLS, NULL);
}

/* Spin up to `spins` pauses, then park, until `s` is final or, while it
 * is still WAITING, the deadline passes (then abort). `parked`, when not
 * NULL, is set when the wait parked. */
static uint32_t sel_wait(parc_sel_t *s, parc_deadline_t deadline,
                         unsigned spins, bool *parked)
{
    for (unsigned i = 0; i < spins; i++) {
        /* acquire: pairs with the release store in parc_chan_finish_():
         * the value moved for us is visible once we see the final state. */
        uint32_t v = parc_load(&s->state, PARC_ACQUIRE);
        if (!parc_sel_waiting(v))
            break;
        chan_pause(i);
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
        CHAN_PROBE(parks, 1);
        if (parked != NULL)
            *parked = true;
        parc_park_wait(&s->state, v,
                       parc_sel_waiting(v) ? deadline : PARC_FOREVER);
    }
}

/* A blocked send or receive on a locked kind: spin for c's learnt
 * budget, then park, until `s` is final (or the deadline, as in
 * sel_wait); then tell the budget how long the wait was. */
static uint32_t sel_wait_learn(parc_sel_t *s, parc_deadline_t deadline,
                               parc_chan_t *c)
{
    unsigned budget = spin_budget(c);
    wait_clock_t clk = { -1, 0 };
    bool parked = false, crowded = false;
    CHAN_PROBE(budget_sum, budget);
    for (unsigned i = 0;; i++) {
        /* acquire: as in sel_wait(). */
        uint32_t v = parc_load(&s->state, PARC_ACQUIRE);
        if (!parc_sel_waiting(v)) {
            CHAN_PROBE(spin_ok, 1);
            CHAN_PROBE(spin_pauses, i);
            break;
        }
        if (wait_clock_spent(&clk, i, budget)) {
            CHAN_PROBE(spin_out, 1);
            break;
        }
        crowded |= chan_pause_crowded(i);
    }
    uint32_t final = sel_wait(s, deadline, 0, &parked);
    if (final != PARC_SEL_ABORTED)
        spin_learn(c, wait_clock_ns(&clk), parked, crowded);
    return final;
}

/* The slot's receiver waits (spin for c's learnt budget, then park) for
 * a value, a close or the deadline: 0 (the value is in `out`), EPIPE or
 * ETIMEDOUT. */
static int rv_wait(parc_chan_t *c, void *out, parc_deadline_t deadline)
{
    unsigned budget = spin_budget(c);
    wait_clock_t clk = { -1, 0 };
    bool parked = false, crowded = false;
    uint32_t v;
    CHAN_PROBE(slow, 1);
    CHAN_PROBE(budget_sum, budget);
    for (unsigned i = 0;; i++) {
        /* acquire: pairs with the sender's release exchange (rv_give):
         * the value is complete once we see DONE. */
        v = parc_load(&c->rv, PARC_ACQUIRE);
        if (v == RV_DONE || v == RV_CLOSED) {
            CHAN_PROBE(spin_ok, 1);
            CHAN_PROBE(spin_pauses, i);
            break;
        }
        if (wait_clock_spent(&clk, i, budget)) {
            CHAN_PROBE(spin_out, 1);
            break;
        }
        crowded |= chan_pause_crowded(i);
    }
    while (v != RV_DONE && v != RV_CLOSED) {
        uint32_t k = v & ~RV_PARKED;
        if (k == RV_CLAIMED) {
            /* The sender is within its copy: look again for a few
             * pauses before parking (as in sel_wait()). */
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
    spin_learn(c, wait_clock_ns(&clk), parked, crowded);
    if (v == RV_DONE)
        memcpy(out, c->rv_value, c->elem_size);
    /* release: our copy out is done before the next receiver installs
     * (it reads EMPTY with acquire under the lock) and so before the
     * next sender overwrites the value. */
    parc_store(&c->rv, RV_EMPTY, PARC_RELEASE);
    return v == RV_DONE ? 0 : EPIPE;
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
            spin_learn(c, wait_clock_ns(&clk), false, crowded);
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
            spin_learn(c, wait_clock_ns(&clk), parked, crowded);
            return rc;
        }
        /* No second spin: the one above polled the ring itself. */
        uint32_t final = sel_wait(&sel, deadline, 0, &parked);
        if (final == PARC_SEL_ABORTED) {
            parc_chan_unregister_(c, send, &w);
            return ETIMEDOUT;
        }
        /* NOTIFIED: the record is unlinked; try again. */
        if ((rc = parc_chan_ring_try_(c, send, buf, true)) != EAGAIN) {
            spin_learn(c, wait_clock_ns(&clk), parked, crowded);
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
    if (send && rv_give(c, buf, false))
        return 0;
    parc_mutex_lock(&c->lock);
    rc = send ? send_locked(c, buf, NULL) : recv_locked(c, buf, NULL);
    if (rc != EAGAIN || !block) {
        parc_mutex_unlock(&c->lock);
        return rc;
    }
    if (!send && rv_can_install(c)) {
        /* release: see rv_can_install(); pairs with the acquire of the
         * sender's claim CAS (rv_give). */
        parc_store(&c->rv, RV_WAIT, PARC_RELEASE);
        parc_mutex_unlock(&c->lock);
        return rv_wait(c, buf, deadline);
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

    uint32_t final = sel_wait_learn(&rec.sel, deadline, c);
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
    rv_close(c);
    close_queue(c, false);
    close_queue(c, true);
    parc_chan_fd_update_(c);
    parc_mutex_unlock(&c->lock);
    return 0;
}
