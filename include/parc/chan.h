/*
 * parc/chan.h — channels: Go's channels and crossbeam-channel in C
 * (layer 2).
 *
 * A channel carries fixed-size values, copied in by a send and out by a
 * receive; the element size is set at init (Go's chan T). Three kinds, by
 * capacity:
 *
 *   capacity >= 1             bounded: a ring of `capacity` slots; a send
 *                             blocks while it is full.
 *   PARC_CHAN_UNBOUNDED       a linked list of segments; a send never
 *                             blocks. Emptied segments are kept (one spare)
 *                             and reused, so a steady stream allocates
 *                             nothing after the first segments.
 *   0                         rendezvous (Java's SynchronousQueue, Go's
 *                             unbuffered channel): a send completes only
 *                             when a receiver has taken its value.
 *
 * Sources. Bounded channels are Dmitry Vyukov's bounded MPMC queue
 * (1024cores.net, "Bounded MPMC queue", 2010) with the "stamps" of
 * crossbeam-channel's array flavour (index + lap in one word, so a
 * capacity that is not a power of two needs no division, and a mark bit
 * in the tail for close), carrying values copied in place. Rendezvous and
 * unbounded channels follow Go's runtime/chan.go (Russ Cox, Dmitry Vyukov;
 * Vyukov's "Go channels on steroids" design note): one lock per channel,
 * a queue of blocked senders and one of blocked receivers, each entry a
 * record ("sudog") that points at the blocked caller's value, and direct
 * hand-off: a sender that finds a blocked receiver copies its value
 * straight into the receiver's buffer. A blocked caller's record points at
 * a one-word "select state" (src/chan_internal.h) that the thread
 * completing (or waking) it claims with one compare-and-swap, as in
 * crossbeam-channel's Context and Go's selectDone: that CAS is what lets
 * one select (parc/select.h) wait on many channels and still complete
 * exactly one operation. A blocked caller spins briefly, then parks on
 * that word (parc/park.h, so a fiber parks the fiber, not its worker).
 *
 * Bounded: a send claims the slot at the tail stamp with one CAS when the
 * slot's sequence says it is free for this lap, copies the value in and
 * publishes the sequence; a receive mirrors it at the head. Neither takes
 * the lock. After it completes, an operation fences (seq_cst) and reads
 * the other side's count of blocked callers; only when it is non-zero
 * does it take the lock and tell one of them to try again (its state
 * becomes NOTIFIED). A caller that found the ring full (empty) spins
 * re-checking it, then queues a record under the lock, fences, tries once
 * more and parks. The two fences are a Dekker pair: the waker sees the
 * record or the parker sees the value (the room). A caller told to try
 * again that no longer needs to (it completed by itself, or timed out)
 * passes the notification on, so no value or room is left with every
 * candidate asleep. Capacity is at most PARC_CHAN_CAP_MAX.
 *
 * A blocking send or receive at a full (empty) slot looks no further
 * (neither the other side's stamp nor a fence) before it spins on the
 * slot: only the verdicts it returns or parks on are exact.
 *
 * Rendezvous hand-off: a blocked caller's state word, record and value
 * (up to 16 bytes) share one cache line; the thread completing it copies
 * the value into (out of) the record and sets the final state in one CAS,
 * so the line moves to it once and back once, and the channel's lock
 * shares its line with the two queues. A blocked plain receive (not a
 * select; a value up to 16 bytes; no eventfd asked for) that finds no
 * receiver queued before it waits instead in a slot of the channel's own
 * line, which a sender claims with one CAS without taking the lock: one
 * line's round trip per hand-off (src/chan_slot.c, "The receiver's slot").
 * Blocked callers spin for a budget in time that the channel learns from
 * how long its waits took (src/chan_wait.c, "Spinning").
 *
 * Invariants:
 *   1. Locked kinds (under the lock): at least one of the send queue and
 *      the receive queue is empty of live records, except for the records
 *      of one select waiting to both send and receive on the same channel;
 *      a receiver in the rendezvous slot counts as a queued receiver, the
 *      oldest (it installs only when no live sender and no receiver is
 *      queued).
 *      Unbounded: senders never wait. Rendezvous: nothing is buffered.
 *   2. Bounded: a value is accepted when its sender's claim CAS on the
 *      tail succeeds, and comes out at the matching head stamp: values
 *      come out in the order their stamps were claimed (FIFO), hence each
 *      producer's in the order it sent them. A try form waits for a slot
 *      another thread claimed but has not yet filled or emptied (a memcpy,
 *      unless that thread was preempted), so "full" and "empty" are exact.
 *   3. A value is accepted exactly once: when it is copied into the ring
 *      or buffer, or into a receiver's buffer.
 *   4. Bounded: `waiting[k]` counts the records in queue k (the locked
 *      kinds keep no count: only the ring's wake-up check reads it); a
 *      record leaves its queue only under the lock, before its state is
 *      claimed.
 *
 * Close (Python 3.13 Queue.shutdown, Go's close without the panics): later
 * sends fail with EPIPE; blocked senders wake with EPIPE (their values were
 * never accepted); receivers drain every accepted value, then get EPIPE;
 * blocked receivers wake with EPIPE. Closing twice says EPIPE. On a
 * bounded channel close sets the tail's mark bit: a send's claim either
 * precedes it (accepted: the value will be received) or fails on it.
 *
 * Event loops: parc_chan_fd() hands out an eventfd(2) that is readable
 * exactly while a receive would not block: something to receive, a blocked
 * sender to take from (rendezvous), or the channel closed (like a socket's
 * EOF). Put it in epoll/poll/io_uring, then parc_chan_recv_try() until
 * EAGAIN; parc_chan_send_fd() is its mirror for producers. The fd is
 * level-triggered by construction: the channel writes to it when it
 * becomes receivable and drains it when it stops being so, under its lock
 * (a system call per such transition, only once an fd was asked for; a
 * bounded channel's operation then takes the lock after completing, so
 * the level follows the ring by the time the call returns).
 * examples/chan_epoll.c shows the loop.
 *
 * Rejected designs:
 *   - A lock per operation on bounded channels too (Go): one protocol for
 *     all kinds, but every send and receive then contends on one word
 *     (0.6-1.1x Go's throughput, against the ring's lock-free claims).
 *   - An asymmetric fence (parc/asymfence.h, as parc/mpmc.h) for the
 *     ring's wake-up check: the fast path would pay no fence, but every
 *     caller that parks pays a membarrier (an IPI to every core running
 *     the process), and channel callers park often (1P1C on two cores
 *     fell to 0.02x Go's throughput).
 *   - A rendezvous channel's waiting receiver published in one lock-free
 *     word of the channel (no lock): the sender still pulls the channel's
 *     line and the receiver's, as with the lock beside the queues, and a
 *     second protocol beside the queues (for selects and for more than
 *     one waiter) would have to keep invariant 1 between the two.
 *   - Consecutive slots on consecutive cache lines (Rigtorp's and
 *     Egorushkin's index permutation), so that a receiver close behind a
 *     sender reads another line than the one the sender fills: with the
 *     receiver behind by more than a line (the usual case) every value
 *     then costs a line transfer instead of one per line of values;
 *     1P1C took 14 ns per item against 8-11 in slot order (pinned), and
 *     prefetching the next slot's line for writing did not change it.
 *   - A lock-free ring for rendezvous channels (a "dual" queue): a select
 *     over several channels must complete exactly one operation, and a
 *     direct hand-off through a claimed record does that in one CAS.
 *   - One lock for all channels a select touches, taken in address order
 *     (Go's sellock): a claim CAS on the select's own word makes the
 *     channels independent; a select takes one channel lock at a time.
 *   - Spinning selects (crossbeam #821): a select that shares its CPU with
 *     the thread it waits for must sleep, so every waiter parks after a
 *     bounded spin (which yields now and then).
 *
 * Not measurable on the 2-core machine this was written on: the ring's
 * head and tail are one word each, so 64 producers contend on one CAS
 * (as in crossbeam and Vyukov's queue); the waiting counts, read at every
 * operation, are written only when a caller queues or leaves.
 *
 * Synchronization table (liburcu style):
 *
 *                  send*  recv*  len/cap  close  fd   destroy
 *   send*           yes    yes     yes     yes   yes    no
 *   recv*           yes    yes     yes     yes   yes    no
 *   len/cap         yes    yes     yes     yes   yes    no
 *   close           yes    yes     yes     yes   yes    no
 *   fd              yes    yes     yes     yes   yes    no
 *   destroy         no     no      no      no    no     no
 *
 * x* means x, x_try and x_timed (and a select's case). All from any thread.
 *
 * Example (a worker draining a bounded channel of ints):
 *
 *     parc_chan_t c = PARC_CHAN_INIT(sizeof(int), 64);
 *     // producer:                 // consumer:
 *     int v = 42;                  int x;
 *     parc_chan_send(&c, &v);      while (parc_chan_recv(&c, &x) == 0)
 *     parc_chan_close(&c);             use(x);      // EPIPE: closed, drained
 *     ...
 *     parc_chan_destroy(&c);
 */
#ifndef PARC_CHAN_H
#define PARC_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parc/api.h"
#include "parc/atomic.h"
#include "parc/mutex.h"
#include "parc/status.h"
#include "parc/time.h"

PARC_BEGIN_DECLS

/* The capacity of an unbounded channel. */
#define PARC_CHAN_UNBOUNDED SIZE_MAX

/* The largest element a channel carries, in bytes (a value is copied on
 * the caller's stack in a few places; pass a pointer for bigger things). */
#define PARC_CHAN_ELEM_MAX 4096u

struct parc_chan_waiter; /* a blocked caller's record: src/chan_internal.h */
struct parc_chan_seg;    /* an unbounded channel's segment: src/chan.c */

/* A queue of blocked callers' records (doubly linked, under the lock). */
typedef struct parc_chan_waitq {
    struct parc_chan_waiter *head, *tail;
} parc_chan_waitq_t;

typedef struct parc_chan {
    /* Bounded kind (the lock-free ring): */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) tail; /* next send's stamp,
                                  * with the mark bit once closed */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) head; /* next receive's stamp */
    /* Rendezvous kind: the receiver's slot, on head's line (a rendezvous
     * channel has no stamps; see "The receiver's slot" in src/chan_slot.c). */
    parc_atomic(uint32_t) rv;    /* the slot's state (0: empty) */
    uint64_t rv_value[2];        /* the value handed over, <= 16 bytes */
    /* Read-mostly: */
    PARC_CACHE_ALIGNED parc_atomic(char *) ring; /* bounded: capacity slots
                                  * (sequence word + value), allocated at
                                  * the first use */
    size_t elem_size;            /* set at init, read-only after */
    size_t capacity;             /* 0, >= 1, or PARC_CHAN_UNBOUNDED */
    uint64_t mark;               /* bounded: the smallest power of two above
                                  * capacity: tail's closed bit; a stamp's
                                  * lap counts in units of 2 * mark */
    parc_atomic(uint32_t) waiting[2]; /* records queued: [0] receivers,
                                  * [1] senders (written under the lock) */
    parc_atomic(uint32_t) closed; /* 1 once closed (written under the
                                  * lock; read lock-free) */
    parc_atomic(int) fd;         /* receive-side eventfd, or -1 */
    parc_atomic(int) send_fd;    /* send-side eventfd, or -1 */
    /* Everything below is guarded by the lock (its own cache line: the
     * ring's fast paths read the line above at every operation, and a
     * caller that parks locks and unlocks). The queues share the lock's
     * line: a rendezvous hand-off touches that one line of the channel. */
    PARC_CACHE_ALIGNED parc_mutex_t lock;
    parc_atomic(uint32_t) spin;  /* a blocked caller's spin budget in
                                  * ns, learnt (0: the default); not
                                  * guarded: read and written relaxed */
    parc_chan_waitq_t sendq;     /* blocked senders */
    parc_chan_waitq_t recvq;     /* blocked receivers */
    bool fd_readable;            /* fd's state as last set */
    bool send_fd_readable;       /* send_fd's state as last set */
    parc_atomic(size_t) count;   /* unbounded: values buffered (read
                                  * lock-free by parc_chan_len()) */
    size_t uhead;                /* unbounded: oldest value's index in
                                  * head_seg */
    size_t utail;                /* unbounded: next free index in tail_seg */
    struct parc_chan_seg *head_seg, *tail_seg, *spare_seg; /* unbounded */
} parc_chan_t;

/* The smallest power of two above `cap` (a constant expression). */
#define PARC_CHAN_SMEAR_(x, k) ((uint64_t)(x) | ((uint64_t)(x) >> (k)))
#define PARC_CHAN_MARK_(cap)                                                 \
    (PARC_CHAN_SMEAR_(PARC_CHAN_SMEAR_(PARC_CHAN_SMEAR_(PARC_CHAN_SMEAR_(    \
         PARC_CHAN_SMEAR_(PARC_CHAN_SMEAR_((cap), 1), 2), 4), 8), 16), 32) + 1u)

/* The largest bound of a bounded channel (a larger one is EINVAL). */
#define PARC_CHAN_CAP_MAX ((size_t)1 << 30)

/*
 * Static initialiser for any kind: elements of `elem_size` bytes,
 * `capacity` as in parc_chan_init(). Memory is allocated at the first
 * send (a bounded ring) or as values arrive (unbounded segments). An
 * invalid argument shows up as EINVAL from the first operation.
 */
#define PARC_CHAN_INIT(elem_size, capacity)                                 \
    { 0, 0, 0, { 0, 0 }, NULL, (elem_size), (capacity),                      \
      PARC_CHAN_MARK_(capacity),                                            \
      { 0, 0 }, 0, -1, -1,                                                  \
      PARC_MUTEX_INIT, 0, { NULL, NULL }, { NULL, NULL }, false, false, 0, 0, \
      0, NULL, NULL, NULL }

/*
 * Initialise `c` for elements of `elem_size` bytes (1..PARC_CHAN_ELEM_MAX)
 * and `capacity` (0 rendezvous, PARC_CHAN_UNBOUNDED, or a bound >= 1).
 * Allocates nothing (see PARC_CHAN_INIT). Returns 0, or EINVAL for a NULL
 * c, a bad size or a bound above PARC_CHAN_CAP_MAX. Not concurrently with any use of c.
 */
PARC_API int parc_chan_init(parc_chan_t *c, size_t elem_size, size_t capacity);

/*
 * Free the channel's memory and close its eventfd. No thread may be using
 * it (a blocked caller makes this return EBUSY and change nothing).
 * Values still buffered are dropped. Returns 0, EBUSY, or EINVAL for NULL.
 */
PARC_API int parc_chan_destroy(parc_chan_t *c);

/* parc_chan_init() on the heap: *out receives the channel. Returns 0,
 * EINVAL (as init, or out NULL) or ENOMEM. */
PARC_API int parc_chan_create(parc_chan_t **out, size_t elem_size, size_t capacity);

/* parc_chan_destroy() and free a channel from parc_chan_create(). Returns
 * what destroy returns (the channel is freed only on 0); NULL is a no-op
 * returning 0. */
PARC_API int parc_chan_free(parc_chan_t *c);

/*
 * Send the `elem_size` bytes at `value`: wait while a bounded channel is
 * full, and on a rendezvous channel until a receiver has taken them.
 * Blocks (spins briefly, then parks). Any thread. Returns 0 once the value
 * is accepted; EPIPE when the channel is or gets closed first (the value
 * was not accepted); ENOMEM when the first send could not allocate the
 * ring or a segment; EINVAL for NULL arguments or a bad static init.
 */
PARC_API int parc_chan_send(parc_chan_t *c, const void *value);

/* As parc_chan_send() if it can complete now (room in the ring, or a
 * receiver blocked on a rendezvous channel); otherwise EAGAIN. Never
 * blocks. */
PARC_API int parc_chan_send_try(parc_chan_t *c, const void *value);

/* As parc_chan_send(), waiting at most `timeout_ns` (relative; 0 is the
 * try form but says ETIMEDOUT). ETIMEDOUT when it passed, never before;
 * EINVAL also for a negative timeout. */
PARC_API int parc_chan_send_timed(parc_chan_t *c, const void *value,
                                  int64_t timeout_ns);

/*
 * Receive the oldest accepted value into the `elem_size` bytes at `out`,
 * waiting while there is none. Blocks (spins briefly, then parks). Any
 * thread. Returns 0; EPIPE once the channel is closed and drained; EINVAL
 * for NULL arguments or a bad static init.
 */
PARC_API int parc_chan_recv(parc_chan_t *c, void *out);

/* As parc_chan_recv() if a value is there now; otherwise EAGAIN (EPIPE
 * when closed and drained). Never blocks. */
PARC_API int parc_chan_recv_try(parc_chan_t *c, void *out);

/* As parc_chan_recv(), waiting at most `timeout_ns` (relative): ETIMEDOUT
 * when it passed, never before; EINVAL also for a negative timeout. */
PARC_API int parc_chan_recv_timed(parc_chan_t *c, void *out, int64_t timeout_ns);

/*
 * Close the channel: sends fail with EPIPE from now on, every blocked
 * caller wakes (senders with EPIPE, receivers with EPIPE once nothing is
 * left), buffered values stay receivable. Any thread; never blocks beyond
 * the channel's lock. Returns 0; EPIPE when it was already closed; EINVAL
 * for NULL.
 */
PARC_API int parc_chan_close(parc_chan_t *c);

/*
 * An eventfd readable exactly while a receive would not block (see the top
 * of this file), created at the first call and owned by the channel (do
 * not close it; parc_chan_destroy does). Read its counter never: the
 * channel keeps it at 0 or 1 itself. Any thread. Returns 0 with *fd set;
 * EINVAL for NULL arguments; an errno from eventfd(2) (EMFILE, ENOMEM...);
 * ENOSYS where eventfd does not exist.
 */
PARC_API int parc_chan_fd(parc_chan_t *c, int *fd);

/*
 * The send side's eventfd: readable exactly while a send would not block
 * (room in the ring, a receiver waiting on a rendezvous channel, or the
 * channel closed: a send then says EPIPE at once), for event loops that
 * produce into a channel. Otherwise as parc_chan_fd().
 */
PARC_API int parc_chan_send_fd(parc_chan_t *c, int *fd);

/* Values buffered at the moment of the call (stale at once; 0 for a
 * rendezvous channel, whose values are never buffered). Any thread; never
 * blocks; 0 for NULL. */
static inline size_t parc_chan_len(parc_chan_t *c);

/* The capacity given at init (0, a bound, or PARC_CHAN_UNBOUNDED); 0 for
 * NULL. */
static inline size_t parc_chan_cap(const parc_chan_t *c);

/* Whether parc_chan_close() has run (values may still be buffered). */
static inline bool parc_chan_is_closed(parc_chan_t *c);

PARC_END_DECLS

#include "parc/impl/chan.h"

#endif /* PARC_CHAN_H */
