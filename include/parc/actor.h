/*
 * parc/actor.h — messages, and the seed's Actor: one thread per actor
 * (layer 4).
 *
 * The actor model (Hewitt, Bishop and Steiger 1973; Agha 1986): an actor
 * owns its state and a mailbox, and others reach it only by sending
 * messages. This header gives the message model shared by both modes of
 * parc's actors, and the thread-per-actor mode with exactly the seed's
 * life cycle:
 *
 *     init(a, run, arg)  start()  send(msg)...  close()  join()
 *
 * start() runs the user's run(a, arg) on a new thread; any thread may
 * send(); inside run() the actor takes its messages with recv() in the
 * three forms; close() puts the exit mark behind every message already
 * accepted, so recv() returns EPIPE (the signal for run() to return) only
 * after all of them; join() waits for run() to end (also with a timeout).
 * A send after close() returns EPIPE. The scheduled mode (millions of
 * actors on a pool) is parc/actor_sched.h.
 *
 * The mailbox is parc/mpsc.h (Vyukov's intrusive MPSC queue). The exit
 * "sentinel" of the seed is the mailbox's close mark: closing sets a
 * CLOSED tag in the head pointer with one read-modify-write, which sits in
 * the head's modification order exactly where a sentinel message would
 * sit in the queue: every push ordered before it is accepted and pops
 * before EPIPE, every push after it is refused with EPIPE. Unlike a real
 * sentinel message it cannot be outrun by a racing send that slips in
 * behind it and is then silently dropped.
 *
 * Messages are intrusive: the user's message struct embeds a parc_msg_t
 * (usually first), so a send allocates nothing. For plain values,
 * parc_msg_new() copies bytes into a malloc'd message that parc_msg_free()
 * gives back.
 *
 * Ownership: a message belongs to the sender until a send returns 0, then
 * to the receiving actor, which disposes of it with parc_msg_free() (that
 * calls the message's dispose function, when it has one; an intrusive
 * message with dispose == NULL is simply the receiver's to reuse). A send
 * that fails leaves the message with the sender.
 */
#ifndef PARC_ACTOR_H
#define PARC_ACTOR_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parc/atomic.h"
#include "parc/event.h"
#include "parc/future.h"
#include "parc/mpsc.h"
#include "parc/status.h"
#include "parc/time.h"

/* ---- messages ----------------------------------------------------------- */

/* Message types below this are the runtime's own (stop, down); user
 * types are any value >= PARC_MSG_USER. */
#define PARC_MSG_USER 16

/* Internal flags (parc_msg_t.flags_). */
#define PARC_MSG_COUNTED_ 1u /* counted against a bounded mailbox */
#define PARC_MSG_LOCAL_REPLY_ 2u /* reply_ is in the asker's storage */

typedef struct parc_msg parc_msg_t;

/* The header every message embeds (40 bytes). */
struct parc_msg {
    parc_mpsc_node_t node_;            /* the mailbox's link */
    int32_t type;                      /* the user's tag (>= PARC_MSG_USER) */
    uint32_t flags_;                   /* runtime's */
    void (*dispose)(parc_msg_t *m);    /* called by parc_msg_free; NULL: none */
    parc_future_t *reply_;             /* ask: the asker's future, or NULL */
};

/* The message embedding header `m` as `member` (container_of). */
#define parc_msg_entry(m, type, member) \
    ((type *)(void *)((char *)(m) - offsetof(type, member)))

/* Initialise a message header in caller storage with `type` and an
 * optional dispose function (called by parc_msg_free). Returns 0, EINVAL
 * for NULL m. Any thread; never blocks. */
PARC_API int parc_msg_init(parc_msg_t *m, int32_t type, void (*dispose)(parc_msg_t *));

/* A plain-value message: a malloc'd header followed by a copy of the
 * `size` bytes at `data` (data may be NULL when size is 0); its dispose
 * frees it. Returns 0, EINVAL (NULL out, NULL data with size > 0), ENOMEM.
 * Any thread; never blocks. */
PARC_API int parc_msg_new(int32_t type, const void *data, size_t size, parc_msg_t **out);

/* The payload of a parc_msg_new() message (aligned for any type). */
PARC_API void *parc_msg_data(parc_msg_t *m);

/* Dispose of a received message: answers an unanswered ask with EPIPE,
 * then calls m->dispose (if any). NULL: no-op. Any thread; never blocks. */
PARC_API void parc_msg_free(parc_msg_t *m);

/* Answer an ask (a message sent by parc_actor_ask or parc_sactor_ask)
 * with status 0 and value, or an error, and dispose of the request as
 * parc_msg_free does: the receiver must not touch m afterwards (the
 * asker may already be reusing it). Returns 0, EINVAL (NULL m), EALREADY
 * (not an ask, or answered before; m is untouched then). The actor's
 * thread (or behaviour); never blocks. */
PARC_API int parc_msg_reply(parc_msg_t *m, int status, void *value);

/* ---- the thread-per-actor mode ------------------------------------------ */

typedef struct parc_actor parc_actor_t;

/* The user's body: runs on the actor's thread; its return value is the
 * actor's exit status, reported by join. */
typedef int (*parc_actor_run_fn)(parc_actor_t *self, void *arg);

struct parc_actor {
    parc_mpsc_t mbox;              /* the mailbox (cache-line aligned) */
    parc_actor_run_fn run;
    void *arg;
    pthread_t thread;
    parc_atomic(uint32_t) phase;   /* PARC_ACTOR_NEW_ .. JOINED_ */
    int status;                    /* run()'s result, valid once done */
    parc_event_t done;             /* set when run() has returned */
    /* The CPUs the two sides of a request/reply last waited on (-1:
     * unknown), written only when they change: a waiter whose partner
     * shares its CPU yields at once instead of spinning (see actor.c). */
    PARC_CACHE_ALIGNED parc_atomic(int32_t) recv_cpu_; /* the actor's */
    parc_atomic(int32_t) ask_cpu_;                     /* the last asker's */
    parc_atomic(int64_t) unpair_ns_; /* last try to get off a shared CPU */
};

#define PARC_ACTOR_NEW_ 0u
#define PARC_ACTOR_STARTED_ 1u
#define PARC_ACTOR_JOINED_ 2u

/* Initialise actor `a` (caller storage) with its body run(a, arg). The
 * mailbox is open: messages may be sent before start. Returns 0, EINVAL
 * (NULL a or run). No concurrent use of a during init. */
PARC_API int parc_actor_init(parc_actor_t *a, parc_actor_run_fn run, void *arg);

/* Start the actor's thread, which calls run(a, arg). Once only. The
 * thread is parc's: when it finds itself waiting on the same CPU as the
 * thread it serves (a request/reply partner), it moves itself to another
 * CPU of its affinity mask (at most once per 5 ms; the mask is left as it
 * was), since two spinning partners on one CPU only delay each other.
 * Returns 0, EINVAL (NULL), EALREADY (started before), EAGAIN (no thread
 * could be created). Any thread; never blocks. */
PARC_API int parc_actor_start(parc_actor_t *a);

/* Send m (ownership passes to the actor on 0). Any thread; wait-free
 * (one exchange). Returns 0, EPIPE (closed, or run() has returned: m is
 * still the caller's), EINVAL (NULL). */
PARC_API int parc_actor_send(parc_actor_t *a, parc_msg_t *m);

/* Take the next message (inside run(), on the actor's thread only).
 * recv blocks (spins briefly, then sleeps); recv_try returns EAGAIN when
 * none is there; recv_timed returns ETIMEDOUT after timeout_ns (relative;
 * EINVAL when negative). All return 0 with *out set, or EPIPE once the
 * actor is closed and every message sent before the close has been
 * received, or EINVAL for NULL. */
PARC_API int parc_actor_recv(parc_actor_t *a, parc_msg_t **out);
PARC_API int parc_actor_recv_try(parc_actor_t *a, parc_msg_t **out);
PARC_API int parc_actor_recv_timed(parc_actor_t *a, parc_msg_t **out,
                          int64_t timeout_ns);

/*
 * Request/reply (the seed's actor answering on a reply queue): ask sends
 * m carrying `reply`, a future in the caller's storage that this call
 * initialises; inside run() the actor answers with parc_msg_reply(m, ...);
 * the asker waits with parc_actor_await (_try, _timed) and then destroys
 * the future (parc_future_destroy) once it is complete. A request the
 * actor never answers (it was still queued when run() ended and destroy
 * disposed of it, or run() freed it) completes with EPIPE.
 *
 * parc_actor_ask: any thread but the actor's; never blocks. Returns 0,
 * EINVAL (NULL), EPIPE (closed: m is the caller's again and reply was
 * destroyed: nothing to wait for).
 *
 * parc_actor_await: wait until reply is complete: returns 0 with *value
 * (when value is not NULL) set to the answer's value, or the answer's
 * error status; _try returns EAGAIN and _timed ETIMEDOUT (EINVAL when
 * negative) while it is not; EINVAL for NULL a or reply. Blocks: spins
 * while the actor runs on another CPU, yields at once when it shares the
 * asker's, then parks (parc_future_get).
 */
PARC_API int parc_actor_ask(parc_actor_t *a, parc_msg_t *m, parc_future_t *reply);
PARC_API int parc_actor_await(parc_actor_t *a, parc_future_t *reply, void **value);
PARC_API int parc_actor_await_try(parc_actor_t *a, parc_future_t *reply, void **value);
PARC_API int parc_actor_await_timed(parc_actor_t *a, parc_future_t *reply,
                           void **value, int64_t timeout_ns);

/* Close: put the exit mark behind every message accepted so far; later
 * sends return EPIPE; recv returns EPIPE once the earlier messages are
 * received. Idempotent. Any thread (run() may close its own actor); never
 * blocks. Returns 0 or EINVAL. */
PARC_API int parc_actor_close(parc_actor_t *a);

/* Wait until run() has returned and its thread has ended; *status (when
 * not NULL) receives run()'s return value. join_timed gives up with
 * ETIMEDOUT after timeout_ns (the actor keeps running; join again later).
 * Returns 0; EINVAL (NULL, negative timeout, never started); EDEADLK
 * from the actor's own thread; EALREADY when already joined. Blocks. */
PARC_API int parc_actor_join(parc_actor_t *a, int *status);
PARC_API int parc_actor_join_timed(parc_actor_t *a, int *status, int64_t timeout_ns);

/* Release the actor: it must be joined, or never started. Messages still
 * in the mailbox are disposed (parc_msg_free). Returns 0, EINVAL (NULL),
 * EBUSY (started and not joined). No concurrent use. */
PARC_API int parc_actor_destroy(parc_actor_t *a);

#endif /* PARC_ACTOR_H */
