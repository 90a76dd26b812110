/*
 * parc/act.h — lightweight actors scheduled on a pool, in the
 * manner of Erlang processes and Pony actors (layer 4).
 *
 * Names: parc_act_* for an actor (parc_act_t), parc_act_rt_* for the
 * runtime that runs them (parc_act_rt_t); the messages are parc/msg.h's
 * parc_msg_t, and parc/actor.h's parc_actor_* is the other mode, a thread
 * per actor. The prefix is the file's name and is short because a
 * behaviour calls it on nearly every line (Pony's "be", Erlang's "!"); the
 * runtime is a sub-prefix of it because it exists only for its actors.
 *
 * A runtime (parc_act_rt_t) owns a work-stealing pool (parc/pool.h) and
 * one timer thread. parc_act_spawn(rt, behaviour, state) makes an actor: a
 * mailbox (parc/mpsc.h) and a behaviour called once per message. An
 * actor costs no thread while idle; it runs when a message arrives, on
 * whichever worker takes its turn.
 *
 * Scheduling (Pony's runtime, libponyrt/actor/actor.c and messageq.c):
 * the mailbox starts marked empty (the empty bit in its head pointer). The
 * one sender whose push takes the mark — the push that made the mailbox
 * non-empty — schedules the actor (submits one turn to the pool). A turn
 * processes PARC_ACT_BATCH messages at a time, so a busy actor cannot
 * starve the others: with messages left it submits itself again, unless
 * its worker has nothing else to run (its own deque and the pool's
 * injection queue empty), when it goes on with another batch. When it
 * finds the mailbox empty it tries parc_mpsc_mark_empty(): that CAS
 * succeeds only when nothing is linked and no push is in flight, and then
 * the turn ends; the next push takes the mark and schedules a new turn. If
 * the CAS fails a push raced in, and the turn goes on popping. So the mark
 * is a token: at any moment either the mark is set and no turn is
 * scheduled, or exactly one turn is scheduled or running. An actor
 * therefore never runs on two threads at once, and a message is never
 * stranded in an unscheduled mailbox. (The pool's task hand-off orders
 * one turn's writes before the next turn's reads: the mark is set by a
 * CAS that the scheduling push's exchange reads from, then the submission
 * publishes to the worker.) Sending is one exchange (wait-free), plus a
 * pool submission when the push took the mark.
 *
 * Ask: parc_act_ask() sends a request carrying a reply future
 * (parc/future.h); the behaviour answers with parc_msg_reply(); the asker
 * waits with parc_future_get / _try / _timed. A request disposed without
 * an answer (its actor stopped) completes with EPIPE.
 *
 * Stopping: a behaviour calls parc_act_exit(self, status), or anyone
 * calls parc_act_stop(a, status), which sends a stop message processed
 * in order (like the seed's sentinel). On stopping, the mailbox is closed
 * (later sends: EPIPE), messages still queued are disposed
 * (parc_msg_free: asks get EPIPE), and every monitor gets its "down".
 *
 * Monitors (Erlang's erlang:monitor/2): parc_act_monitor(watcher,
 * target) delivers to the watcher one message of type PARC_ACT_DOWN
 * (a parc_act_down_t) with the target's exit status when the target stops,
 * also when the target has already stopped. The monitor list is a Treiber
 * stack that the stopping actor closes with one exchange (the future's
 * "closed list"), so a monitor placed concurrently with the stop is
 * notified exactly once either way.
 *
 * Back-pressure: an actor spawned with a capacity counts queued user
 * messages; send waits while it is full (spins, then parks), send_try
 * returns EAGAIN and send_timed ETIMEDOUT. Runtime messages (stop, down,
 * timers) are not counted.
 *
 * Timers: parc_act_rt_send_after() on the runtime's one timer thread
 * (libparc's private timer service, src/timer.h: a binary heap under a
 * mutex; never a thread per timer); parc_act_rt_timer_cancel() takes a
 * pending one back.
 *
 * Quiescence: the runtime counts scheduled turns and pending timers. A
 * behaviour that sends counts the turn it schedules before its own turn
 * ends and is uncounted (and the timer thread counts a delivery before it
 * uncounts the timer), so the count never passes through zero while work
 * is in flight; parc_act_rt_quiesce() waits for zero: every actor stopped
 * or idle with an empty mailbox, no timer pending.
 *
 * Memory: an idle actor is three cache lines (192 bytes: the mailbox's
 * producer and consumer lines, and one of state) in a slab of its
 * runtime, and no thread. Slabs (256 KiB, mapped from the system) are
 * carved into actor slots; a released actor's slot is reused by the next
 * spawn and the slabs are unmapped with the runtime. Pinned and bounded
 * actors add a small malloc'd block for their thread and counters.
 *
 * Pinned actors: spawned with .pinned = true, an actor gets its own
 * thread (for behaviours that block: I/O); the same API and protocol,
 * with "schedule" meaning "post to the actor's thread".
 *
 * Self and sender: inside a behaviour, parc_act_self() is the actor and
 * parc_act_sender() the actor that sent the message being handled (NULL
 * when it came from outside an actor, a timer or the runtime): a reply
 * needs no sender carried by hand.
 *
 * Waiting for a stop: parc_act_wait / _timed, and parc_act_stop_wait.
 * parc_act_rt_shutdown stops every actor, waits for all of it and frees
 * the runtime (parc_act_rt_free stays the non-blocking form: EBUSY).
 *
 * Links (Erlang's link/1): parc_act_link(a, b); an abnormal exit of one
 * stops the other, unless it traps exits (parc_act_trap_exits), and then
 * it receives a PARC_ACT_EXIT message. Supervisors are parc/act_sup.h.
 *
 * Names: parc_act_register / whereis / unregister / send_name; a name
 * goes when its actor stops. Dead letters: a message that can no longer
 * reach its stopped actor goes to the runtime's hook and counter
 * (parc_act_rt_on_dead_letter), never silently freed.
 *
 * Lifetime: parc_act_spawn hands the caller one reference; the runtime
 * holds another until the actor stops. parc_act_release drops one; the last
 * frees the actor. parc_act_rt_free requires every actor stopped and
 * released (its memory goes with the runtime).
 */
#ifndef PARC_ACT_H
#define PARC_ACT_H

#include <stdbool.h>
#include <stdint.h>

#include "parc/api.h"
#include "parc/future.h"
#include "parc/msg.h"

PARC_BEGIN_DECLS

/** Messages an actor processes before it yields its worker to other
 * waiting work (with none waiting there, its turn goes on). */
#define PARC_ACT_BATCH 64u

/** The type of a monitor's "down" message (parc_act_down_t); below
 * PARC_MSG_USER, with the runtime's other types. */
#define PARC_ACT_DOWN 2

/** The type of the message a linked partner's exit brings to an actor
 * that traps exits (a parc_act_down_t: who and status); see
 * parc_act_link. Types 3 and 5-15 are the runtime's too. */
#define PARC_ACT_EXIT 4

typedef struct parc_act_rt parc_act_rt_t;
typedef struct parc_act parc_act_t;

/** A behaviour: handles one message (which it then owns: parc_msg_free or
 * reuse it). Runs on one thread at a time per actor. */
typedef void (*parc_act_fn)(parc_act_t *self, void *state, parc_msg_t *m);

/** The "down" message a monitor delivers. Free it with parc_msg_free. */
typedef struct parc_act_down {
    parc_msg_t msg;               /* type PARC_ACT_DOWN */
    parc_act_t *who;              /* the stopped actor (a reference,
                                   * dropped by parc_msg_free) */
    int status;                   /* its exit status */
    parc_act_t *watcher_;         /* runtime's */
    struct parc_act_down *next_;  /* runtime's */
} parc_act_down_t;

/** How to spawn an actor (parc_act_spawn); start from
 * PARC_ACT_OPTIONS_INIT so that fields added later get their defaults. */
typedef struct parc_act_options {
    uint32_t capacity; /* 0: unbounded mailbox; else send blocks when full */
    bool pinned;       /* its own thread (behaviour may block) */
} parc_act_options_t;

#define PARC_ACT_OPTIONS_INIT { 0u, false }

/* ---- the runtime ------------------------------------------------------- */

/** Create a runtime with its own pool of `workers` threads (0: one per
 * online CPU) and its timer thread. Returns 0, EINVAL (NULL out), ENOMEM,
 * EAGAIN (no thread). Any thread; never blocks. */
PARC_API int parc_act_rt_create(unsigned workers, parc_act_rt_t **out);

/** Stop the pool and timer thread and free the runtime. Every actor must
 * have stopped (pinned ones included) and every reference to one been
 * released (parc_act_release; down messages hold one each until freed,
 * a registered name one until its actor stops), and every timer fired or
 * been cancelled; returns EBUSY otherwise (nothing freed; the blocking
 * form that stops and waits for everything is parc_act_rt_shutdown).
 * Returns 0, EINVAL (NULL), EDEADLK (called from one of rt's pool
 * workers; a pinned actor's thread must not call it either).
 * Blocks. */
PARC_API int parc_act_rt_free(parc_act_rt_t *rt);

/** Stop every actor (with `status`, each after the messages already sent
 * to it), refuse new spawns (EPIPE), wait until every actor has stopped
 * and the runtime is quiescent (timers pending are waited for), then free
 * the runtime as parc_act_rt_free does. Unlike parc_act_rt_free it never
 * answers EBUSY: references still held to its actors die with it (do not
 * use them afterwards). Returns 0, EINVAL (NULL), EDEADLK (called from
 * one of rt's workers or from inside a behaviour; rt is untouched).
 * Blocks; any other thread. */
PARC_API int parc_act_rt_shutdown(parc_act_rt_t *rt, int status);

/** Wait until the runtime is quiescent: no turn scheduled or running and
 * no timer pending (every actor stopped, or idle with an empty mailbox).
 * Only meaningful while no outside thread is sending. _try: EAGAIN when
 * not quiescent now; _timed: ETIMEDOUT. Returns 0 or EINVAL. Blocks
 * (spins, then parks); must not be called from inside an actor. */
PARC_API int parc_act_rt_quiesce(parc_act_rt_t *rt);
PARC_API int parc_act_rt_quiesce_try(parc_act_rt_t *rt);
PARC_API int parc_act_rt_quiesce_timed(parc_act_rt_t *rt,
                                      int64_t timeout_ns);

/** Number of actors spawned and not yet stopped (0 for NULL). Any thread;
 * never blocks. */
PARC_API uint64_t parc_act_rt_live(parc_act_rt_t *rt);

/* ---- actors ------------------------------------------------------------ */

/** Spawn an actor running behaviour(self, state, msg) for each message.
 * opts may be NULL (unbounded, not pinned). *out receives a reference.
 * Returns 0, EINVAL (NULL rt/fn/out), ENOMEM, EAGAIN (pinned: no thread),
 * EPIPE (runtime being freed). Any thread, actors included; never blocks
 * but for the calling thread's share of the runtime's actor table (a
 * short lock, one of 64 shards chosen by thread). */
PARC_API int parc_act_spawn(parc_act_rt_t *rt, parc_act_fn fn, void *state,
                            const parc_act_options_t *opts, parc_act_t **out);

/** References. retain/release: any thread; release of the last frees the
 * actor (NULL: no-op). */
PARC_API void parc_act_retain(parc_act_t *a);
PARC_API void parc_act_release(parc_act_t *a);

/** Send m to a (ownership passes on 0). Unbounded: wait-free, never blocks.
 * Bounded and full: send blocks until there is room, send_try returns
 * EAGAIN, send_timed ETIMEDOUT after timeout_ns (EINVAL when negative).
 * Returns 0, EPIPE (the actor has stopped: m is still the caller's),
 * EINVAL (NULL). Any thread; a behaviour should use send_try on bounded
 * actors (blocking a worker can deadlock a cycle). */
PARC_API int parc_act_send(parc_act_t *a, parc_msg_t *m);
PARC_API int parc_act_send_try(parc_act_t *a, parc_msg_t *m);
PARC_API int parc_act_send_timed(parc_act_t *a, parc_msg_t *m,
                                 int64_t timeout_ns);

/** Ask: send m carrying a new reply future, stored in *reply (one
 * reference, the caller's: parc_future_release it). The asker waits with
 * parc_future_get / _get_try / _get_timed. Returns as parc_act_send
 * (blocking form), or ENOMEM. Any thread except inside an actor that
 * would then wait for its own reply. */
PARC_API int parc_act_ask(parc_act_t *a, parc_msg_t *m,
                          parc_future_t **reply);

/* Inside a behaviour, answer an ask with parc_msg_reply (parc/msg.h). */

/** Inside a behaviour, on self only: stop after the current message with
 * `status`. */
PARC_API void parc_act_exit(parc_act_t *self, int status);

/** Stop a with `status` after the messages sent before this call (a stop
 * message in order). Only the first stop counts. Returns 0, EINVAL (NULL),
 * EPIPE (already stopped). Any thread; never blocks. */
PARC_API int parc_act_stop(parc_act_t *a, int status);

/** Wait until a's stop (by anyone) is complete; then *status (when not
 * NULL) gets its exit status. When it returns 0 the actor's mailbox is
 * closed and drained (what was left went to the dead letters), its name
 * is dropped, its monitors have been sent their "down", and the runtime
 * counts it stopped: once every actor is stopped so and released,
 * parc_act_rt_free succeeds. The caller's reference still needs
 * parc_act_release. _timed: ETIMEDOUT after timeout_ns (EINVAL when
 * negative). parc_act_stopped, which never blocks, says true from the
 * moment the stop begins, before those steps. Returns 0,
 * EINVAL (NULL), EDEADLK (a is the calling behaviour's own actor, or the
 * caller is one of the runtime's pool workers, whose blocking could keep
 * a's last turn from running). Blocks (spins, then parks); outside
 * threads and pinned actors. */
PARC_API int parc_act_wait(parc_act_t *a, int *status);
PARC_API int parc_act_wait_timed(parc_act_t *a, int *status,
                                 int64_t timeout_ns);

/** parc_act_stop(a, status) then parc_act_wait(a, exit_status): stop and
 * wait for the stop (also when a was stopped already; *exit_status then
 * gets the first stop's status). Returns as parc_act_wait. Blocks. */
PARC_API int parc_act_stop_wait(parc_act_t *a, int status, int *exit_status);

/** The actor whose behaviour is running on the calling thread, or NULL
 * outside a behaviour. Borrowed: valid while the behaviour runs. Any
 * thread; never blocks. */
PARC_API parc_act_t *parc_act_self(void);

/** Inside a behaviour: the actor that sent the message being handled,
 * when it was sent by parc_act_send/_try/_timed/ask from inside a
 * behaviour; NULL when it came from outside an actor, from a timer, or
 * from the runtime (a monitor's down), and outside a behaviour. Borrowed
 * (the message carried a reference, dropped when the behaviour returns):
 * parc_act_retain it to keep it longer. Sending from a behaviour costs
 * that reference (one atomic increment). Never blocks. */
PARC_API parc_act_t *parc_act_sender(void);

/** True once a's stop has begun (its last turn is over or it was
 * stopped from outside; its exit status is final); then *status (when not
 * NULL) gets its exit status. The rest of the stop (draining, monitors,
 * the runtime's count) may still be under way: parc_act_wait waits for
 * it. Any thread; never blocks. */
PARC_API bool parc_act_stopped(parc_act_t *a, int *status);

/** Monitor: when target stops (or if it already has), watcher receives a
 * parc_act_down_t (type PARC_ACT_DOWN) with target's exit status. Returns 0,
 * EINVAL (NULL), ENOMEM. A watcher that has stopped by then never gets
 * it. Any thread; never blocks. */
PARC_API int parc_act_monitor(parc_act_t *watcher, parc_act_t *target);

/** Link a and b (Erlang's link/1): when either stops, the other gets a
 * notice, in order with its other messages. An actor that traps exits
 * (parc_act_trap_exits) receives it as a parc_act_down_t of type
 * PARC_ACT_EXIT (free it with parc_msg_free); one that does not is
 * stopped with the same status when the status is abnormal (not 0) and
 * ignores a normal one. A link to an actor already stopped notifies at
 * once. Links cannot be undone. Returns 0, EINVAL (NULL, a == b), ENOMEM
 * (possibly after the first half: then only b's stop reaches a). Any
 * thread; never blocks. */
PARC_API int parc_act_link(parc_act_t *a, parc_act_t *b);

/** Inside a behaviour, on self only: trap exits (true) or not (false,
 * the default); see parc_act_link. Takes effect for the notices popped
 * after this call. Never blocks. */
PARC_API void parc_act_trap_exits(parc_act_t *self, bool trap);

/** The runtime an actor belongs to (NULL for NULL). Any thread; never
 * blocks. */
PARC_API parc_act_rt_t *parc_act_runtime(parc_act_t *a);

/* ---- names and dead letters ------------------------------------------ */

/** Register a under `name` (copied) in its runtime (Erlang's
 * register/2): one name per actor, one actor per name; the registry
 * holds a reference, and drops the name when a stops. Returns 0, EINVAL
 * (NULL, empty name), EEXIST (name taken), EBUSY (a has a name), EPIPE
 * (a has stopped), ENOMEM. Any thread; never blocks (a short lock and a
 * membarrier that keeps the readers fence-free: microseconds; a named
 * actor's stop pays the same to drop its name). */
PARC_API int parc_act_register(parc_act_t *a, const char *name);

/** Drop a name. Returns 0, EINVAL (NULL), ESRCH (no such name). Any
 * thread; never blocks (a short lock and a membarrier, as register). */
PARC_API int parc_act_unregister(parc_act_rt_t *rt, const char *name);

/** The actor registered under name, in *out with a reference of its own
 * (parc_act_release it); *out = NULL otherwise. Returns 0, EINVAL (NULL),
 * ESRCH (no such name). Any thread; never blocks (a read section: no
 * atomic read-modify-write, it waits only while a register or unregister
 * is changing the table). */
PARC_API int parc_act_whereis(parc_act_rt_t *rt, const char *name,
                              parc_act_t **out);

/** Send m to the actor registered under name (whereis + parc_act_send,
 * without the reference when the mailbox is unbounded; a name pointer
 * sent to before is looked up from a per-thread hint while the registry
 * is unchanged). A name registered again to another actor is followed.
 * Returns as parc_act_send, or ESRCH (no such name; m stays the
 * caller's). Any thread; blocks as parc_act_send. */
PARC_API int parc_act_send_name(parc_act_rt_t *rt, const char *name,
                                parc_msg_t *m);

/** Dead letters: a user message (type >= PARC_MSG_USER) that can no
 * longer reach its actor — queued when it stopped, or a timer's that
 * fired after — is counted and given to fn(to, m, arg), which owns it
 * (parc_msg_free it; an ask gets EPIPE then); with no hook (fn NULL, the
 * default) it is disposed. A send to a stopped actor is not one: it
 * returns EPIPE and the message stays the sender's. fn runs on the
 * stopping actor's worker or the timer thread, possibly on both at once,
 * and must not block. Set it
 * before any actor could stop. Returns 0 or EINVAL (NULL rt). */
PARC_API int parc_act_rt_on_dead_letter(
    parc_act_rt_t *rt, void (*fn)(parc_act_t *to, parc_msg_t *m, void *arg),
    void *arg);

/** Dead letters so far (0 for NULL). Any thread; never blocks. */
PARC_API uint64_t parc_act_rt_dead_letters(parc_act_rt_t *rt);

/* ---- timers ------------------------------------------------------------ */

/** Send m to a after delay_ns (relative), from the timer thread (not
 * counted against a bounded mailbox). *id (when not NULL) names the timer
 * for cancel. If a has stopped by then, m is disposed (parc_msg_free).
 * Returns 0, EINVAL (NULL rt/a/m, negative delay), ENOMEM, EPIPE (runtime
 * being freed). Any thread; never blocks. */
PARC_API int parc_act_rt_send_after(parc_act_rt_t *rt, int64_t delay_ns,
                                   parc_act_t *a, parc_msg_t *m,
                                   uint64_t *id);

/** Cancel a pending timer: returns 0 and gives its message back in *m
 * (when m is not NULL; otherwise it is disposed), EALREADY when it fired
 * or was cancelled, EINVAL for NULL rt. Any thread; never blocks. */
PARC_API int parc_act_rt_timer_cancel(parc_act_rt_t *rt, uint64_t id,
                                     parc_msg_t **m);

PARC_END_DECLS

#endif /* PARC_ACT_H */
