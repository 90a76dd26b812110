/*
 * parc/mpsc.h — the mailbox: an intrusive multi-producer/single-consumer
 * queue (layer 2).
 *
 * Dmitry Vyukov's "Intrusive MPSC node-based queue" (1024cores.net, 2010):
 * producers append with one exchange on the head pointer and then link
 * the previous node to theirs; the single consumer walks the links from
 * its private tail, and a stub node owned by the queue keeps it from ever
 * having to unlink the last node. The node is embedded in the caller's
 * message (parc_mpsc_entry() gets the message back, as the Linux kernel's
 * container_of does), so pushing allocates nothing. With the empty bit of
 * Pony's runtime (libponyrt/actor/messageq.c): the consumer may mark the
 * queue empty in the head pointer with a compare-exchange, and the one
 * producer whose exchange takes the mark learns that it made the queue
 * non-empty (an actor scheduler reschedules the actor then; a sleeping
 * consumer is woken then, and only then).
 *
 * Ordering:  per-producer FIFO; pushes from different producers pop in
 *            the order of their exchanges.
 * Memory:    unbounded and intrusive: the queue never allocates and
 *            holds as many messages as are pushed (no back-pressure; an
 *            actor layer that wants bounded mailboxes counts on top); the
 *            caller owns each message before push and again after it pops
 *            or after push refused it.
 *
 * Wake-ups. A blocking pop that finds nothing registers with the
 * eventcount and then sets the empty mark with a CAS; a push learns from
 * its own exchange whether it took the mark, and only then notifies. Both
 * sides touch the same word with read-modify-writes, so no Dekker fence
 * is needed: a push into a non-empty mailbox pays no fence and no extra
 * shared load for the wake-up (and parc_mpsc_push_nowake(), for a
 * consumer that never sleeps in pop, skips the notify altogether). The
 * open fast path is: the exchange, one load of the closed flag after it
 * (see below), and two stores (the node's link, then the link to it), as
 * in Vyukov's queue: the node is one word. There is no load of the flag
 * before the exchange: under contention that load fetched the producers'
 * line shared and the exchange then had to fetch it again to own it (3
 * producers on 2 cores: 47-49 M pushes/s with it, 69-72 M without); a
 * push after close pays instead, through the refusal path below.
 *
 * Layout: two cache lines (128 bytes; an actor embeds one per actor, so
 * the size is per-actor idle memory). The producers' line holds the head,
 * the closed flag and the stub: every push exchanges the head and reads
 * the flag right after, from the line its exchange has just brought in,
 * so the flag costs no transfer of its own (it is written once, by
 * close); a push into a drained queue links behind the stub, on that same
 * line, so it writes one shared line, not two. The consumer's line holds
 * the tail (written by every pop), the blocking pop's pace, the end node
 * and the eventcount: a producer touches it only when it took the empty
 * mark (to notify).
 *
 * The consumer's misses. A pop_try that finds the queue drained (the tail
 * is the stub, nothing linked behind it) reads that one link and returns
 * EAGAIN: it writes nothing and does not read the head, whether the queue
 * is empty or a push is in flight. A pop that takes the last linked node
 * puts the stub back with a CAS on the head (it must: the node is the
 * caller's once popped), and loads the head first: only when the node is
 * still the head does it CAS. A consumer that keeps up with a stream
 * mostly finds the next push in flight there (exchanged, not linked),
 * and a CAS then would take the producers' line from that producer in
 * the middle of its push (which reads the closed flag from that line
 * before it links), delaying the very link the consumer waits for; a
 * load leaves the producer its copy (see parc_mpsc_take_last_). The
 * consumer's "asleep" information is the empty mark in the head
 * itself (Pony's design): a push learns it from the value its exchange
 * returns, which it reads anyway, so a push into a non-empty mailbox, or
 * into one whose consumer polls, never looks at the consumer's line.
 *
 * Many cores (measured here on 2 only): every push exchanges the one
 * head word, so with many producers pushing at once that line bounds the
 * mailbox's intake, as it does for every single-list MPSC queue (liburcu's
 * wfcqueue too); the consumer adds nothing to it while it drains a
 * backlog (it reads nodes only) and, when drained, polls the stub's link,
 * which producers write only when they refill it. Per-producer lanes
 * (moodycamel's sub-queues) would lift that bound at the price of the
 * order between producers and of a mailbox size that grows with them.
 *
 * The in-flight window. Between a producer's exchange and its link the
 * queue is cut: the consumer sees the end of the linked part but the head
 * is elsewhere. pop_try reports that as EAGAIN (not empty-and-closed: the
 * item was accepted and will come out), after a bounded pause for the
 * link when the consumer has been streaming (the pace, src/mpsc.c: a
 * consumer that polls again at once stays right behind the producer and
 * moves its lines at every item); the blocking forms wait for it
 * with a bounded backoff that yields the processor (the producer may need
 * our core), never sleeping on a wake-up that nobody will send, and never
 * spinning for long.
 *
 * Close and concurrent push. After close, push returns EPIPE, items
 * pushed before still pop, then pop returns EPIPE, and that EPIPE is
 * final. A push racing with close is either accepted (and pops before
 * EPIPE) or refused, never lost, and the open fast path stays one
 * exchange:
 *   - close sets a flag, then appends the queue's own `end` node with an
 *     exchange, as a push would, and links it. Every accepted node lies
 *     before `end`; the consumer pops up to it and from then on returns
 *     EPIPE (it never reads the head again, so later pushes cannot
 *     disturb it: the EPIPE is final).
 *   - every later change of the head is a read-modify-write, so a
 *     producer whose exchange comes after close's reads from its release
 *     sequence and sees the flag. Hence a producer that reads the flag
 *     clear after its exchange came before the close: accepted (the fast
 *     path).
 *   - a producer whose exchange returns `end` is the first after the
 *     close: refused.
 *   - a producer that sees the flag set and got some other predecessor is
 *     on the same side of the close as that predecessor (no exchange of
 *     close lies between them). It waits until either its own node gets
 *     linked (only an accepted successor or close links behind an
 *     accepted node: accepted) or the predecessor's link holds REFUSED
 *     (which a refused producer writes into its own node, where nobody
 *     else would link: refused).
 *   - a refused producer never links; it writes REFUSED into its node and
 *     puts `end` back as the head with a CAS (H: its node -> end). If that
 *     fails, a successor has taken its node as predecessor and will read
 *     its verdict: it waits for the successor's acknowledgement (ACK,
 *     written into its node's link) before returning, so its node is
 *     never touched after it is handed back.
 * So the open fast path writes nothing but the link words, and a node is
 * one word, as in Vyukov's queue: a verdict is written only by a push
 * that races with the close.
 *
 * Synchronization table (liburcu style; "C" = the one consumer thread):
 *
 *                  push   pop*(C) mark_empty(C)  close  init/destroy
 *   push           yes    yes     yes            yes    no
 *   pop*  (C)      yes    -       -              yes    no
 *   mark_empty (C) yes    -       -              yes    no
 *   close          yes    yes     yes            yes    no
 *
 * "-": consumer operations run on one thread at a time (the consumer may
 * change only with a happens-before edge between the old and the new).
 */
#ifndef PARC_MPSC_H
#define PARC_MPSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parc/api.h"
#include "parc/atomic.h"
#include "parc/eventcount.h"
#include "parc/status.h"
#include "parc/time.h"

PARC_BEGIN_DECLS

/* The link embedded in a message. Its contents belong to the queue from
 * push until the message pops (or push returns EPIPE). */
typedef struct parc_mpsc_node {
    parc_atomic(uintptr_t) next; /* successor, 0, or (a push refused by
                                  * close) PARC_MPSC_REFUSED_ / _ACK_ */
} parc_mpsc_node_t;

/* The message that embeds `ptr` (a parc_mpsc_node_t *) as `member`. */
#define parc_mpsc_entry(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))


typedef struct parc_mpsc {
    /* Producers' line: every push exchanges the head, then reads the flag
     * from the line it now holds (the flag is written once, by close).
     * The stub is here too: a push into a drained queue links behind the
     * stub, and that store then lands on the line its exchange has just
     * taken, instead of fetching a second line from the consumer. */
    PARC_CACHE_ALIGNED parc_atomic(uintptr_t) head; /* last node | tags */
    parc_atomic(uint32_t) closed;
    parc_mpsc_node_t stub;
    /* Consumer's line: kept off the producers' line so that pops (which
     * write the tail every time) do not steal it from pushes. The
     * eventcount is here because the consumer writes it when it sleeps or
     * wakes; a producer touches it only after taking the empty mark (its
     * notify). */
    PARC_CACHE_ALIGNED parc_mpsc_node_t *tail;      /* next to pop (private) */
    uint32_t pace; /* the consumer's pause when it catches up with a
                    * stream: the blocking pop's, and pop_try's at a push
                    * in flight (private; src/mpsc.c) */
    parc_mpsc_node_t end; /* appended by close; never popped */
    parc_eventcount_t ec;
} parc_mpsc_t;

/* Two cache lines: the size is part of every actor's idle memory. */
PARC_STATIC_ASSERT(sizeof(parc_mpsc_t) == 2 * PARC_CACHELINE,
                   "parc_mpsc_t: the producers' line and the consumer's line");

/** Initialise `q`: empty, open, and marked empty (the first push reports
 * was_empty). Returns 0 or EINVAL when q is NULL. No other thread may use q
 * during init; never blocks.
 *
 * There is no static initialiser (no PARC_MPSC_INIT): an empty mailbox's
 * head and tail point at its own stub node, and the head carries the
 * empty tag in its low bit; an address with a bit or-ed in is not a
 * constant expression in C, so it cannot be written in an initialiser. */
PARC_API int parc_mpsc_init(parc_mpsc_t *q);

/** Allocate a mailbox (cache-line aligned, as the struct requires) and
 * initialise it as parc_mpsc_init() does. Returns 0 with *out set, EINVAL
 * when out is NULL, ENOMEM. Any thread; never blocks. Free with
 * parc_mpsc_free(). */
PARC_API int parc_mpsc_create(parc_mpsc_t **out);

/** Destroy (parc_mpsc_destroy) and free a mailbox made by
 * parc_mpsc_create(); NULL is ignored. Messages still queued stay the
 * caller's. No other call may run on q concurrently or afterwards. Never
 * blocks. */
PARC_API void parc_mpsc_free(parc_mpsc_t *q);

/** Marks q unusable; frees nothing (messages still queued stay the
 * caller's). Returns 0 or EINVAL. No concurrent use. Never blocks. */
PARC_API int parc_mpsc_destroy(parc_mpsc_t *q);

/**
 * Append node `n` (embedded in the caller's message). Any thread;
 * wait-free while open (one exchange); never blocks (a push racing with
 * close may spin briefly, yielding, for a neighbour's verdict). When was_empty is
 * not NULL it is set to true iff this push took the consumer's empty mark
 * (the queue was marked empty by parc_mpsc_mark_empty(), a blocking pop
 * that went to sleep, or init, and this is the first push since): the
 * caller is the one that made the queue non-empty (an actor scheduler
 * schedules the actor then); otherwise false.
 * Returns 0 (accepted: the message is the queue's until it pops), EPIPE
 * (closed: the message is still the caller's), or EINVAL (NULL).
 */
static inline int parc_mpsc_push(parc_mpsc_t *q, parc_mpsc_node_t *n,
                                 bool *was_empty);

/**
 * parc_mpsc_push() without the wake-up: the same append, the same
 * was_empty and return codes, but a push that takes the empty mark does
 * not notify the eventcount (which costs a seq_cst fence and a load of
 * the consumer's line). Only for a queue whose consumer never blocks in
 * parc_mpsc_pop() / parc_mpsc_pop_timed() (it polls with
 * parc_mpsc_pop_try() and is woken or scheduled by whoever took the
 * empty mark: an actor scheduler's turn). A consumer asleep in pop
 * would not be woken by this push (only by a later parc_mpsc_push() that
 * takes the mark again, or by close). Any thread; wait-free while open,
 * as parc_mpsc_push().
 */
static inline int parc_mpsc_push_nowake(parc_mpsc_t *q, parc_mpsc_node_t *n,
                                        bool *was_empty);

/** Pop the oldest message's node into *out (every pop form sets *out to
 * NULL when it returns anything but 0). Consumer only; never blocks: at
 * a last node whose successor's push is in flight, a consumer that has
 * been streaming pauses a bounded while (under half a microsecond) for
 * the link, so that the producers get ahead of it (see the pace in
 * src/mpsc.c); a hand-off never pauses.
 * Returns 0, EAGAIN (empty, or a push is between its exchange and its
 * link), EPIPE (closed and drained; final) or EINVAL (NULL). */
static inline int parc_mpsc_pop_try(parc_mpsc_t *q, parc_mpsc_node_t **out);

/** Pop, waiting while empty (spins briefly, then sleeps; waits out an
 * in-flight push by yielding). When its waits keep finding more than one
 * message queued (a streaming producer), it pauses a bounded while
 * (under half a microsecond) each time it catches up, so that the
 * producer gets ahead and it reads a batch behind it; a hand-off never
 * pays that pause (see the pace in src/mpsc.c). Consumer only; blocks.
 * Returns 0, EPIPE or EINVAL. */
static inline int parc_mpsc_pop(parc_mpsc_t *q, parc_mpsc_node_t **out);

/** Pop, waiting at most timeout_ns (relative). Consumer only; blocks.
 * Returns 0, ETIMEDOUT, EPIPE or EINVAL (NULL, timeout_ns < 0). */
static inline int parc_mpsc_pop_timed(parc_mpsc_t *q, parc_mpsc_node_t **out,
                                      int64_t timeout_ns);

/** Mark the queue empty if it is (nothing linked, nothing in flight), so
 * that the next push reports was_empty. Returns true when the queue is now
 * marked (or already was), false when an item is there or in flight, or
 * the queue is closed (pop again: it returns the item or EPIPE), or q is
 * NULL. Consumer only; never blocks. */
PARC_API bool parc_mpsc_mark_empty(parc_mpsc_t *q);

/** Close: later pushes return EPIPE; accepted messages still pop; then pop
 * returns EPIPE. Appends the queue's end node (taking the empty mark if it
 * was set, so no push reports was_empty after it) and wakes a sleeping
 * consumer. Idempotent. Any thread; never blocks. Returns 0 or EINVAL. */
PARC_API int parc_mpsc_close(parc_mpsc_t *q);

/** True once closed (false for NULL). Any thread. Never blocks. */
static inline bool parc_mpsc_is_closed(parc_mpsc_t *q);

PARC_END_DECLS

#include "parc/impl/mpsc.h"

#endif /* PARC_MPSC_H */
