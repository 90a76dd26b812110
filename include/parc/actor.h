/*
 * parc/actor.h — the seed's Actor: one thread per actor (layer 4).
 *
 * Names in the actor layer: parc_actor_* here (a thread each, the seed's
 * life cycle), parc_act_* in parc/act.h (scheduled actors, millions on a
 * pool, with their runtime parc_act_rt_*), parc_msg_* in parc/msg.h (the
 * messages both send). Each header's prefix is its file's name. The two
 * modes get two prefixes because they are two different objects with
 * different lives (caller storage and start/join here, a reference-counted
 * slab slot there), and a shared prefix would make every reader ask which
 * one a call belongs to; "act" is short because a behaviour calls it on
 * nearly every line.
 *
 * The actor model (Hewitt, Bishop and Steiger 1973; Agha 1986): an actor
 * owns its state and a mailbox, and others reach it only by sending
 * messages (parc/msg.h). This header gives the thread-per-actor mode with
 * exactly the seed's life cycle:
 *
 *     init(a, run, arg)  start()  send(msg)...  close()  join()  destroy()
 *
 * start() runs the user's run(a, arg) on a new thread; any thread may
 * send(); inside run() the actor takes its messages with recv() in the
 * three forms; close() puts the exit mark behind every message already
 * accepted, so recv() returns EPIPE (the signal for run() to return) only
 * after all of them; join() waits for run() to end (also with a timeout).
 * A send after close() returns EPIPE. parc_actor_create/_free do the same
 * on the heap (the actor is cache-line aligned, which a plain malloc does
 * not give).
 *
 * The mailbox is parc/mpsc.h (Vyukov's intrusive MPSC queue). The exit
 * "sentinel" of the seed is the mailbox's close mark: closing sets a
 * CLOSED tag in the head pointer with one read-modify-write, which sits in
 * the head's modification order exactly where a sentinel message would
 * sit in the queue: every push ordered before it is accepted and pops
 * before EPIPE, every push after it is refused with EPIPE. Unlike a real
 * sentinel message it cannot be outrun by a racing send that slips in
 * behind it and is then silently dropped.
 */
#ifndef PARC_ACTOR_H
#define PARC_ACTOR_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parc/api.h"
#include "parc/atomic.h"
#include "parc/event.h"
#include "parc/future.h"
#include "parc/mpsc.h"
#include "parc/msg.h"
#include "parc/status.h"
#include "parc/time.h"

PARC_BEGIN_DECLS

typedef struct parc_actor parc_actor_t;

/** The user's body: runs on the actor's thread; its return value is the
 * actor's exit status, reported by join. */
typedef int (*parc_actor_run_fn)(parc_actor_t *self, void *arg);

struct parc_actor {
    parc_mpsc_t mbox;              /* the mailbox (cache-line aligned) */
    parc_actor_run_fn run;
    void *arg;
    pthread_t thread;
    parc_atomic(uint32_t) phase;   /* new, started, joined (actor.c) */
    int status;                    /* run()'s result, valid once done */
    parc_event_t done;             /* set when run() has returned */
    /* The CPUs the two sides of a request/reply last waited on (-1:
     * unknown), written only when they change: a waiter whose partner
     * shares its CPU yields at once instead of spinning (see actor.c). */
    PARC_CACHE_ALIGNED parc_atomic(int32_t) recv_cpu_; /* the actor's */
    parc_atomic(int32_t) ask_cpu_;                     /* the last asker's */
    parc_atomic(int64_t) unpair_ns_; /* last try to get off a shared CPU */
};

/** Initialise actor `a` (caller storage) with its body run(a, arg). The
 * mailbox is open: messages may be sent before start. Returns 0, EINVAL
 * (NULL a or run). No concurrent use of a during init. */
PARC_API int parc_actor_init(parc_actor_t *a, parc_actor_run_fn run,
                             void *arg);

/** Start the actor's thread, which calls run(a, arg). Once only. The
 * thread is parc's: when it finds itself waiting on the same CPU as the
 * thread it serves (a request/reply partner), it moves itself to another
 * CPU of its affinity mask (at most once per 5 ms; the mask is left as it
 * was), since two spinning partners on one CPU only delay each other.
 * Returns 0, EINVAL (NULL), EALREADY (started before), EAGAIN (no thread
 * could be created). Any thread; never blocks. */
PARC_API int parc_actor_start(parc_actor_t *a);

/** Send m (ownership passes to the actor on 0). Any thread; wait-free
 * (one exchange). Returns 0, EPIPE (closed, or run() has returned: m is
 * still the caller's), EINVAL (NULL). */
PARC_API int parc_actor_send(parc_actor_t *a, parc_msg_t *m);

/** Take the next message (inside run(), on the actor's thread only).
 * recv blocks (spins briefly, then sleeps); recv_try returns EAGAIN when
 * none is there; recv_timed returns ETIMEDOUT after timeout_ns (relative;
 * EINVAL when negative). All return 0 with *out set, or EPIPE once the
 * actor is closed and every message sent before the close has been
 * received, or EINVAL for NULL. */
PARC_API int parc_actor_recv(parc_actor_t *a, parc_msg_t **out);
PARC_API int parc_actor_recv_try(parc_actor_t *a, parc_msg_t **out);
PARC_API int parc_actor_recv_timed(parc_actor_t *a, parc_msg_t **out,
                                   int64_t timeout_ns);

/**
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
PARC_API int parc_actor_ask(parc_actor_t *a, parc_msg_t *m,
                            parc_future_t *reply);
PARC_API int parc_actor_await(parc_actor_t *a, parc_future_t *reply,
                              void **value);
PARC_API int parc_actor_await_try(parc_actor_t *a, parc_future_t *reply,
                                  void **value);
PARC_API int parc_actor_await_timed(parc_actor_t *a, parc_future_t *reply,
                                    void **value, int64_t timeout_ns);

/** Close: put the exit mark behind every message accepted so far; later
 * sends return EPIPE; recv returns EPIPE once the earlier messages are
 * received. Idempotent. Any thread (run() may close its own actor); never
 * blocks. Returns 0 or EINVAL. */
PARC_API int parc_actor_close(parc_actor_t *a);

/** Wait until run() has returned and its thread has ended; *status (when
 * not NULL) receives run()'s return value. join_timed gives up with
 * ETIMEDOUT after timeout_ns (the actor keeps running; join again later).
 * Returns 0; EINVAL (NULL, negative timeout, never started); EDEADLK
 * from the actor's own thread; EALREADY when already joined. Blocks. */
PARC_API int parc_actor_join(parc_actor_t *a, int *status);
PARC_API int parc_actor_join_timed(parc_actor_t *a, int *status,
                                   int64_t timeout_ns);

/** Release the actor: it must be joined, or never started. Messages still
 * in the mailbox are disposed (parc_msg_free). Returns 0, EINVAL (NULL),
 * EBUSY (started and not joined). No concurrent use. */
PARC_API int parc_actor_destroy(parc_actor_t *a);

/** Heap convenience: allocate an actor (cache-line aligned, as its mailbox
 * requires) and initialise it as parc_actor_init does. Returns 0 with *out
 * set, EINVAL (NULL out or run), ENOMEM. Any thread; never blocks. */
PARC_API int parc_actor_create(parc_actor_run_fn run, void *arg,
                               parc_actor_t **out);

/** Destroy an actor made by parc_actor_create (as parc_actor_destroy) and
 * free its memory. Returns 0, EINVAL (NULL), EBUSY (started and not
 * joined: nothing is freed). No concurrent use. */
PARC_API int parc_actor_free(parc_actor_t *a);

PARC_END_DECLS

#endif /* PARC_ACTOR_H */
