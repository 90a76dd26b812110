/*
 * src/chan_internal.h — what parc/chan.h's channels and parc/select.h's
 * select share: the record a blocked caller leaves on a channel, and the
 * one word ("select state") through which exactly one operation of a
 * blocked caller is completed. Private to libparc.
 *
 * The select state word (one per blocked send, receive or select):
 *
 *     WAITING --claim (CAS, by the thread completing case i)--> CLAIMED(i)
 *        |                                                        |
 *        |                              copy the value, then store
 *        |                                                        v
 *        |                                         DONE(i) or CLOSED(i)
 *        \--abort (CAS, by the blocked caller itself)--> ABORTED
 *
 * Exactly one CAS leaves WAITING, so exactly one operation of the caller
 * completes: either another thread completed case i for it (DONE: the
 * value moved; CLOSED: the channel was closed under it), or the caller
 * took itself back (a deadline, or a select that completes a case
 * itself). The claimer unlinks the record under the lock of case i's
 * channel and copies the value before the final store, so a caller that
 * sees DONE(i) owns a finished operation; it returns only then, so its
 * buffer outlives the copy. A hand-off with nothing left to copy after
 * the claim goes WAITING -> DONE(i) (NOTIFIED(i), CLOSED(i)) in one CAS:
 * the value went beforehand into the record's own buffer (own_buf: only
 * its caller reads it, and only after DONE), or was read out of a
 * blocked sender's record into the claimer's temporary; a failed CAS
 * leaves nothing behind (src/chan_waitq.c, parc_chan_claim_complete_).
 * So a spinning caller sees one change of its word. NOTIFIED(i) moves no
 * value: a bounded channel's waker says "case i may be possible now, try
 * it" (the claim still picks exactly one caller per wake-up; its final
 * store may follow the unlock, since the caller waits for a final state
 * either way).
 *
 * Waking: a caller parks on its state word (wake_fd < 0) or, in a select
 * that also waits for file descriptors, in ppoll() on the fds and on an
 * eventfd (wake_fd). Before it parks on the word it sets the PARKED bit
 * in it (a CAS from the value it will park with): a claim keeps the bit,
 * and the finisher's exchange to the final state returns it, so a hand-off
 * to a caller that is still spinning makes no system call. A finisher
 * reads wake_fd first, then
 *   futex:   exchanges in the final state, and only when the old value had
 *            PARKED wakes the word's address (it may already belong to
 *            somebody else: a spurious wake-up there);
 *   eventfd: writes the eventfd, then stores the final state (the caller
 *            waits for the final state after ppoll returns, so the fd is
 *            still its own when written).
 */
#ifndef PARC_CHAN_INTERNAL_H
#define PARC_CHAN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "parc/chan.h"
#include "parc/park.h"

#define PARC_SEL_WAITING 0u
#define PARC_SEL_ABORTED 1u
#define PARC_SEL_CLAIMED 0u /* kinds, the low two bits of a case's word */
#define PARC_SEL_DONE 1u
#define PARC_SEL_CLOSED 2u
#define PARC_SEL_NOTIFIED 3u /* a bounded channel's "try case i again" */
#define PARC_SEL_PARKED 0x80000000u /* the caller sleeps on the word */
#define PARC_SEL_WORD(i, kind) ((((uint32_t)(i) + 1u) << 2) | (kind))
#define PARC_SEL_CASE(w) ((((w) & ~PARC_SEL_PARKED) >> 2) - 1u)
#define PARC_SEL_KIND(w) ((w) & 3u)

/* The states of a rendezvous channel's receiver slot (parc_chan_t's rv;
 * src/chan_slot.c). */
#define RV_EMPTY 0u
#define RV_WAIT 1u
#define RV_CLAIMED 2u
#define RV_DONE 3u
#define RV_CLOSED 4u
#define RV_PARKED PARC_SEL_PARKED

typedef struct parc_sel {
    parc_park_word_t state; /* the word above */
    int wake_fd;            /* -1: futex; else the eventfd to write */
} parc_sel_t;

/* A blocked caller's record on one channel ("sudog"). Linked and unlinked
 * only under the channel's lock. */
typedef struct parc_chan_waiter {
    struct parc_chan_waiter *next, *prev;
    parc_sel_t *sel;
    void *buf;       /* send: the value to take; receive: where to put one */
    uint32_t index;  /* the case this record stands for */
    bool linked;     /* still in the channel's queue */
    bool own_buf;    /* receive: buf is the record's own (nobody else reads
                      * it before the caller sees DONE), so a sender may
                      * copy into it before it claims the record */
} parc_chan_waiter_t;

/* True for the states a caller may return from (never with PARKED). */
static inline bool parc_sel_final(uint32_t s)
{
    return s == PARC_SEL_ABORTED ||
           (s >= 4u && s < PARC_SEL_PARKED && PARC_SEL_KIND(s) != PARC_SEL_CLAIMED);
}

/* True while nobody has claimed the word (PARKED or not). */
static inline bool parc_sel_waiting(uint32_t s)
{
    return (s & ~PARC_SEL_PARKED) == PARC_SEL_WAITING;
}

/* Take the caller back: WAITING -> ABORTED. False when another thread
 * claimed it first (then wait for the final state). */
static inline bool parc_sel_abort(parc_sel_t *s)
{
    /* relaxed: an abort publishes nothing; the caller's records are
     * withdrawn under each channel's lock afterwards. */
    uint32_t w = parc_load(&s->state, PARC_RELAXED);
    while (parc_sel_waiting(w))
        if (parc_cas(&s->state, &w, PARC_SEL_ABORTED, PARC_RELAXED, PARC_RELAXED))
            return true;
    return false;
}

/* Set PARKED in a waiting or claimed word before parking on it; returns
 * the value to park with, or a final state (then do not park). Only the
 * caller itself calls this. */
static inline uint32_t parc_sel_mark_parked(parc_sel_t *s)
{
    /* acquire: a final state read here publishes the moved value (pairs
     * with the finisher's release exchange). */
    uint32_t w = parc_load(&s->state, PARC_ACQUIRE);
    while (!parc_sel_final(w) && !(w & PARC_SEL_PARKED))
        /* acquire on both outcomes, as the load above (the bit itself
         * publishes nothing: it only asks the finisher for a wake-up). */
        if (parc_cas(&s->state, &w, w | PARC_SEL_PARKED, PARC_ACQUIRE, PARC_ACQUIRE))
            return w | PARC_SEL_PARKED;
    return w;
}

/* Diagnostic counters, compiled in only with -DPARC_CHAN_PROBE
 * (bench/probe/chan_probe.c): per thread, so that counting adds no shared
 * line to the paths it counts. */
#ifdef PARC_CHAN_PROBE
typedef struct parc_chan_probe {
    uint64_t slow;        /* blocking calls that did not complete at once */
    uint64_t spin_ok;     /* waits that ended within the spin */
    uint64_t spin_pauses; /* pauses spent in those */
    uint64_t spin_out;    /* spins that ran out (the caller went on to park) */
    uint64_t parks;       /* parc_park_wait calls */
    uint64_t wakes;       /* parc_park_wake_one calls (a parked partner) */
    uint64_t yields;      /* sched_yield calls in a spin */
    uint64_t budget_sum;  /* the budget at each spin's start, summed */
} parc_chan_probe_t;
extern _Thread_local parc_chan_probe_t parc_chan_probe_;
#define CHAN_PROBE(field, n) (parc_chan_probe_.field += (n))
#else
#define CHAN_PROBE(field, n) ((void)0)
#endif

/* Channel-side operations, for select.c. `self` is the calling select's
 * state (its own records are skipped), NULL for a plain send or receive.
 *
 * parc_chan_check_: 0, or EINVAL (NULL, or a bad static initialiser).
 * parc_chan_poll_: complete the operation now if it can: 0, EPIPE, EAGAIN
 *   (would block), ENOMEM.
 * parc_chan_register_: queue `w` (w->sel, w->buf, w->index set; the
 *   caller's records on other channels may be queued already) and say
 *   whether the operation looks possible now; then the caller takes its
 *   select back (parc_sel_abort) before it polls. A rendezvous or
 *   unbounded channel does not queue a record when it says true. Either
 *   way parc_chan_unregister_ withdraws the record (a no-op when it is
 *   not queued).
 * On a bounded channel a queued record is only told to try again: its
 * state becomes NOTIFIED(index) (the claimer moves no value), and the
 * caller must then poll that case before any other (it was chosen for
 * the value or the room that woke it). */
int parc_chan_check_(parc_chan_t *c);

/* parc_chan_check_'s test for a non-NULL channel, inline (a select checks
 * every case at every call). */
static inline bool parc_chan_valid_(const parc_chan_t *c)
{
    return c->elem_size - 1u < PARC_CHAN_ELEM_MAX &&
           (c->capacity == PARC_CHAN_UNBOUNDED || c->capacity <= PARC_CHAN_CAP_MAX);
}
int parc_chan_poll_(parc_chan_t *c, bool send, void *buf, parc_sel_t *self);
bool parc_chan_register_(parc_chan_t *c, bool send, parc_chan_waiter_t *w);
void parc_chan_unregister_(parc_chan_t *c, bool send, parc_chan_waiter_t *w);

/* Spin briefly, then park, until `s` is final or, while it is still
 * WAITING, `deadline` passes (then abort). Returns the final state. */
uint32_t parc_sel_wait_(parc_sel_t *s, parc_deadline_t deadline);

/* ---- shared by the channel's own files --------------------------------
 *
 * src/chan.c (life cycle, the locked kinds, select's entry points, the
 * blocking paths, close), src/chan_wait.c (waiting: the learnt spin,
 * parking), src/chan_slot.c (a rendezvous receiver's slot),
 * src/chan_ring.c (the bounded ring), src/chan_waitq.c (the queues of
 * blocked callers) and src/chan_fd.c (readiness, the eventfds). "Lock
 * held" below means the channel's lock. */

/* Values up to this size travel in a blocked caller's record, and are
 * moved by a hand-off that claims and completes the record in one CAS. */
#define PARC_CHAN_INLINE_VALUE 16u

/* Whether c is unbounded (a segment list under the lock). */
static inline bool parc_chan_unbounded_(const parc_chan_t *c)
{
    return c->capacity == PARC_CHAN_UNBOUNDED;
}

/* Whether c is bounded (the lock-free ring of src/chan_ring.c). */
static inline bool parc_chan_is_ring_(const parc_chan_t *c)
{
    return c->capacity != 0 && c->capacity != PARC_CHAN_UNBOUNDED;
}

/* The number of values an unbounded channel buffers (lock held). */
static inline size_t parc_chan_count_(parc_chan_t *c)
{
    /* relaxed: written only under the lock, which we hold. */
    return parc_load(&c->count, PARC_RELAXED);
}

/* The count of blocked senders (`send`) or receivers queued on a ring. */
static inline parc_atomic(uint32_t) *parc_chan_waiting_of_(parc_chan_t *c, bool send)
{
    return &c->waiting[send ? 1 : 0];
}

/* chan_waitq.c (lock held, but for parc_chan_finish_): */
/* Append w to the send (receive) queue; counts it on a ring, updates the fds. */
void parc_chan_enqueue_(parc_chan_t *c, bool send, parc_chan_waiter_t *w);
/* Unlink w if it is still queued, and update the fds. */
void parc_chan_dequeue_(parc_chan_t *c, bool send, parc_chan_waiter_t *w);
/* Whether q holds a record of a caller other than `self` (perhaps stale). */
bool parc_chan_has_other_than_(const parc_chan_waitq_t *q, const parc_sel_t *self);
/* Unlink and claim (WAITING -> CLAIMED) the first live record not self's. */
parc_chan_waiter_t *parc_chan_claim_first_(parc_chan_t *c, bool send, parc_sel_t *self);
/* Complete a claimed record with `kind` and wake its caller (lock not needed). */
void parc_chan_finish_(parc_chan_waiter_t *w, uint32_t kind);
/* A hand-off: complete the first live record not self's, moving in/out. */
bool parc_chan_claim_complete_(parc_chan_t *c, bool send, parc_sel_t *self,
                               uint32_t kind, const void *in, void *out);

/* chan_fd.c: */
/* Whether a receive (send) by other than `self` would not block (lock held). */
bool parc_chan_recv_ready_locked_(parc_chan_t *c, const parc_sel_t *self);
bool parc_chan_send_ready_locked_(parc_chan_t *c, const parc_sel_t *self);
/* Keep the eventfds readable exactly while a receive (send) would not
 * block (lock held). Inline up to the check for eventfds, which most
 * channels never create: a rendezvous hand-off calls it three times. */
void parc_chan_fd_update_slow_(parc_chan_t *c);
static inline void parc_chan_fd_update_(parc_chan_t *c)
{
    /* relaxed: written under the lock we hold (fd_get in chan_fd.c). */
    if (parc_load(&c->fd, PARC_RELAXED) >= 0 || parc_load(&c->send_fd, PARC_RELAXED) >= 0)
        parc_chan_fd_update_slow_(c);
}

/* chan_ring.c: */
/* Try a ring operation, waking the other side on success; `exact` as in
 * chan_ring.c's ring_send(). */
int parc_chan_ring_try_(parc_chan_t *c, bool send, void *buf, bool exact);
/* Read-only hint: does the slot at the next stamp look ready (for spinning)? */
bool parc_chan_ring_peek_(parc_chan_t *c, bool send);
/* Hint after a seq_cst fence: does the operation look possible (for select)? */
bool parc_chan_ring_ready_(parc_chan_t *c, bool send);

/* chan_wait.c: waiting. The learnt spin's constants, its clock and its
 * pause are inline here: every spin of the blocking paths (chan.c's
 * ring_op and parc_chan_op_, chan_slot.c's parc_chan_rv_wait_) runs them
 * at every pause. Why these values, and the learning rule: chan_wait.c,
 * "Spinning". */
#define CHAN_SPIN_MIN_NS 2000u
#define CHAN_SPIN_MAX_NS 100000u
#define CHAN_SPIN_INIT_NS 25000u
#define CHAN_SPIN_PURE 64u
#define CHAN_CLOCK_AFTER 16u
#define CHAN_PAUSE_NS 25u

static inline unsigned spin_budget(parc_chan_t *c)
{
    /* relaxed: a heuristic; no data is published through it. */
    unsigned b = parc_load(&c->spin, PARC_RELAXED);
    return b == 0 ? CHAN_SPIN_INIT_NS : b;
}

/* The clock of one wait: started at its CHAN_CLOCK_AFTER-th pause. */
typedef struct {
    int64_t t0;      /* the clock then; -1 before */
    unsigned pauses; /* chaos build: pauses since then */
} wait_clock_t;

static inline void wait_clock_start(wait_clock_t *w)
{
#ifdef PARC_CHAOS
    w->t0 = 0;
    w->pauses = 0;
#else
    w->t0 = parc_now_ns();
#endif
}

/* Nanoseconds since wait_clock_start (0 if it was not started). */
static inline int64_t wait_clock_ns(const wait_clock_t *w)
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

/* The spin of a blocked wait on `word`, for c's learnt budget: load the
 * word until `done` holds for it or the budget is spent, and return the
 * last value read. `clk` times the wait (started at
 * CHAN_CLOCK_AFTER pauses); `*crowded` is raised when a pause's yield
 * ran another thread. acquire: pairs with the release by which whoever
 * makes the word final publishes what the waiter then reads (the
 * callers name it). Inline with a constant `done`, so each caller's loop
 * tests its own states directly. */
static inline uint32_t chan_spin_learnt(parc_chan_t *c, parc_park_word_t *word,
                                        bool (*done)(uint32_t), wait_clock_t *clk,
                                        bool *crowded)
{
    unsigned budget = spin_budget(c);
    CHAN_PROBE(budget_sum, budget);
    for (unsigned i = 0;; i++) {
        uint32_t v = parc_load(word, PARC_ACQUIRE);
        if (done(v)) {
            CHAN_PROBE(spin_ok, 1);
            CHAN_PROBE(spin_pauses, i);
            return v;
        }
        if (wait_clock_spent(clk, i, budget)) {
            CHAN_PROBE(spin_out, 1);
            return v;
        }
        *crowded |= chan_pause_crowded(i);
    }
}

/* Tell c's budget how a wait went (chan_wait.c, "Spinning"). */
void parc_chan_spin_learn_(parc_chan_t *c, int64_t ns, bool parked, bool crowded);
/* Spin up to `spins` pauses, then park, until `s` is final or, while it
 * is still WAITING, the deadline passes (then abort); `parked`, when not
 * NULL, is set when the wait parked. */
uint32_t parc_chan_sel_wait_(parc_sel_t *s, parc_deadline_t deadline,
                             unsigned spins, bool *parked);
/* A blocked send or receive on a locked kind: spin for c's learnt budget,
 * then park, until `s` is final (or the deadline); then learn. */
uint32_t parc_chan_sel_wait_learn_(parc_sel_t *s, parc_deadline_t deadline,
                                   parc_chan_t *c);

/* chan_slot.c: the receiver's slot of a rendezvous channel (its protocol
 * is at the top of chan_slot.c). */
/* Give `value` to the slot's waiting receiver, if there is one; `locked`:
 * the caller holds the lock. */
bool parc_chan_rv_give_(parc_chan_t *c, const void *value, bool locked);
/* Close (lock held): the slot's waiting receiver, if any, gets CLOSED. */
void parc_chan_rv_close_(parc_chan_t *c);
/* The slot's receiver waits for a value, a close or the deadline. */
int parc_chan_rv_wait_(parc_chan_t *c, void *out, parc_deadline_t deadline);

/* Whether a blocked receive may wait in the slot (lock held). */
static inline bool rv_can_install(parc_chan_t *c)
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

/* chan.c: */
/* Send or receive on any kind, blocking until `deadline` when `block`. */
int parc_chan_op_(parc_chan_t *c, bool send, void *buf, bool block,
                  parc_deadline_t deadline);

#endif /* PARC_CHAN_INTERNAL_H */
