/*
 * parc/future.h — the result of a task that runs somewhere else (layer 3).
 *
 * A future holds a task (a function and its argument) until something runs
 * it, and afterwards the task's outcome: a status (0, the task's own error
 * code, or ECANCELED) and a pointer-sized value. It is what
 * parc_pool_submit() hands back, and also works alone as a promise that
 * user code completes (fn == NULL), or as the unit of work of a scheduler
 * you write yourself (parc_future_run()).
 *
 * The state machine follows java.util.concurrent.FutureTask (Doug Lea) and
 * Python's concurrent.futures.Future: one 32-bit state word,
 *
 *     PENDING --run (CAS)--> RUNNING --complete (xchg)--> DONE
 *        \--cancel (CAS)--> CANCELLED
 *
 * so a cancel and a start race on a single compare-and-swap: exactly one of
 * them wins, a cancelled task never runs, and parc_future_cancel() says
 * whether it won. Waiters set a WAITERS bit in the same word and park on it
 * (parc/park.h); a completion that saw the bit wakes them, one that did not
 * costs a single CAS. Chained futures (then) hang off a Treiber stack
 * that the completion closes with an exchange (the "closed list" of
 * Go's and Pony's one-shot notifications); then() first sets a CHAINED bit
 * in the state word, so completions of futures nobody chained to skip the
 * list.
 *
 * Waiting on a pool worker: a scheduler may install a per-thread "help"
 * hook (parc_future_set_help_hook); every wait in this header then runs
 * other tasks through the hook instead of sleeping, which is how fork/join
 * in the pool cannot deadlock with any number of workers (the "helping" or
 * leapfrogging join of Cilk and Java's ForkJoinPool).
 *
 * Lifetime: a future from parc_future_create() lives on the heap with a
 * reference count (parc_future_retain / parc_future_release); one from
 * parc_future_init() lives in caller storage and must be complete (or never
 * handed to another thread) before parc_future_destroy(). A completing
 * thread touches the future after the completion only through the address
 * of its state word (a futex wake), never its memory, so a waiter may
 * destroy a caller-storage future as soon as a wait returns -- except one
 * cancelled while a scheduler's queue still held it (parc_future_hold):
 * the scheduler looks at it once more when it reaches it, so destroy says
 * EBUSY until then (PARC_FUTURE_HELD below).
 *
 * Threads: every function may be called from any thread unless its comment
 * says otherwise.
 */
#ifndef PARC_FUTURE_H
#define PARC_FUTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parc/atomic.h"
#include "parc/park.h"
#include "parc/status.h"
#include "parc/time.h"

/* A task: computes *result from arg, returns 0 or a positive error code
 * that its future carries (ECANCELED is reserved for cancellation). */
typedef int (*parc_task_fn)(void *arg, void **result);

/* A continuation (then): computes *result from the value of the future it
 * follows; returns 0 or an error code. Called only when that future
 * succeeded; a failure or a cancellation passes down the chain unchanged. */
typedef int (*parc_then_fn)(void *arg, void *value, void **result);

/* Phases of the state word (the low two bits). */
#define PARC_FUTURE_PENDING 0u
#define PARC_FUTURE_RUNNING 1u
#define PARC_FUTURE_DONE 2u
#define PARC_FUTURE_CANCELLED 3u
#define PARC_FUTURE_PHASE 3u
/* Some thread is (or is about to be) parked on the state word. */
#define PARC_FUTURE_WAITERS 4u
/* A cancel has claimed the future and is settling it (with RUNNING). */
#define PARC_FUTURE_CANCELLING 8u
/* A continuation was (or is being) chained with then(): the completion
 * must take the chained list. Without it a completion is a single CAS. */
#define PARC_FUTURE_CHAINED 16u
/* `refs` of a caller-storage future (which has no reference count) while
 * a scheduler's queue holds its address (parc_future_hold); 1 otherwise. */
#define PARC_FUTURE_HELD 2u

typedef struct parc_future parc_future_t;

struct parc_future {
    parc_park_word_t state;        /* phase | WAITERS */
    parc_atomic(uint32_t) refs;    /* heap: references; caller storage:
                                    * 1, or PARC_FUTURE_HELD */
    uint32_t heap;                 /* 1 when made by parc_future_create */
    int status;                    /* outcome, valid once complete */
    void *value;                   /* result, valid once complete */
    union {
        parc_task_fn task;
        parc_then_fn then;
    } fn;                          /* what runs: a task or a continuation */
    void *arg;
    parc_future_t *source;         /* then: the future this one follows */
    parc_atomic(parc_future_t *) chained; /* continuations waiting on us */
    parc_future_t *chain_next;     /* link in the source's chained list */
    void *sched;                   /* free for the scheduler running it */
};

/* ---- creation ------------------------------------------------------- */

/* Initialise a future in caller storage holding task fn(arg); fn == NULL
 * makes a promise that parc_future_complete() settles. Returns 0, or
 * EINVAL when f is NULL. Never blocks. Inline: a fork of fork/join makes
 * one per task, and a call into the library cost as much as the stores. */
static inline int parc_future_init(parc_future_t *f, parc_task_fn fn, void *arg)
{
    if (f == NULL)
        return EINVAL;
    parc_atomic_init(&f->state, PARC_FUTURE_PENDING);
    parc_atomic_init(&f->refs, 1u);
    f->heap = 0;
    f->status = 0;
    f->value = NULL;
    f->fn.task = fn;
    f->arg = arg;
    f->source = NULL;
    parc_atomic_init(&f->chained, (parc_future_t *)NULL);
    f->chain_next = NULL;
    f->sched = NULL;
    return 0;
}

/* parc_future_destroy() for a future that is not complete (out of line). */
PARC_API int parc_future_destroy_pending_(parc_future_t *f);

/* Destroy a caller-storage future. It must be complete, or never shared.
 * Returns 0 (the storage may be reused); EINVAL when f is NULL or a heap
 * future; EBUSY when it is running, or when a scheduler's queue still
 * holds it (submitted with parc_pool_submit_future and not yet run: cancel
 * it, then destroy again once the pool has reached it -- at the latest
 * when the pool is joined or terminated; until destroy returns 0 the
 * storage must stay). Never blocks. Inline for the usual case, a complete
 * future nobody holds (nothing to do). */
static inline int parc_future_destroy(parc_future_t *f)
{
    if (f == NULL || f->heap)
        return EINVAL;
    /* acquire: pairs with the completion's release CAS or exchange (the
     * outcome was written before). */
    uint32_t s = parc_load(&f->state, PARC_ACQUIRE);
    if ((s & PARC_FUTURE_PHASE) < PARC_FUTURE_DONE)
        return parc_future_destroy_pending_(f);
    /* acquire: pairs with the release store of a scheduler that let go
     * (its last reads of f happened before); one that ran f let go before
     * its completion, which the load above saw. */
    return parc_load(&f->refs, PARC_ACQUIRE) == PARC_FUTURE_HELD ? EBUSY : 0;
}

/* Allocate a heap future holding fn(arg) (fn == NULL: a promise) with one
 * reference, owned by the caller. Returns 0, EINVAL when out is NULL,
 * ENOMEM. Never blocks. */
PARC_API int parc_future_create(parc_task_fn fn, void *arg, parc_future_t **out);

/* Initialise a heap future at the start of a block the caller got from
 * malloc (a scheduler embedding the future in a larger task record): one
 * reference, the caller's; the last release calls free(f), which frees the
 * whole block. Returns 0 or EINVAL when f is NULL. Never blocks. */
PARC_API int parc_future_init_heap(parc_future_t *f, parc_task_fn fn, void *arg);

/* Take one more reference to a heap future (no-op for caller storage). */
PARC_API void parc_future_retain(parc_future_t *f);

/* Drop a reference; the last one frees a heap future. A heap future
 * released while still pending is cancelled first (its continuations get
 * ECANCELED). No-op for NULL and caller-storage futures. Never blocks. */
PARC_API void parc_future_release(parc_future_t *f);

/* ---- running and completing ------------------------------------------ */

/*
 * Run the task if nobody started or cancelled it yet (CAS PENDING ->
 * RUNNING), then complete the future with its outcome and run the
 * continuations chained to it, on the calling thread. For schedulers.
 * Returns 0 when this call ran the task; ECANCELED when it had been
 * cancelled; EALREADY when it already ran or is running elsewhere; EINVAL
 * for NULL or a promise (fn == NULL). Blocks only as long as the task does.
 */
PARC_API int parc_future_run(parc_future_t *f);

/*
 * For schedulers that queue futures by address: mark f as held by a
 * queue before publishing it there (a caller-storage future then cannot
 * be destroyed until the scheduler lets go, even if a user cancels it
 * meanwhile). The scheduler lets go by running it (parc_future_run), by
 * discarding it (parc_future_drop), or, if the enqueue failed and f was
 * never published, with parc_future_unhold. Returns 0; EINVAL for NULL, a
 * promise or a continuation; EALREADY when f is not pending or already
 * held. Never blocks. The thread that enqueues f calls it (it is a plain
 * store: two threads enqueueing one future at once is a caller's race). A
 * heap future needs no hold (its queue keeps a reference): no-op, 0.
 * Inline: a fork of fork/join holds one future per task.
 */
static inline int parc_future_hold(parc_future_t *f)
{
    if (f == NULL || f->fn.task == NULL || f->source != NULL)
        return EINVAL;
    /* relaxed: a check of the caller's own future; the run's claim
     * decides any race with a cancel. */
    if ((parc_load(&f->state, PARC_RELAXED) & PARC_FUTURE_PHASE) != PARC_FUTURE_PENDING)
        return EALREADY;
    if (f->heap)
        return 0;
    /* relaxed: only the enqueueing thread writes it here, and its enqueue
     * (a release) publishes it with f. */
    if (parc_load(&f->refs, PARC_RELAXED) == PARC_FUTURE_HELD)
        return EALREADY;
    parc_store(&f->refs, PARC_FUTURE_HELD, PARC_RELAXED);
    return 0;
}

/* Let go of a held future without running or cancelling it (its enqueue
 * failed, or the scheduler found it already claimed): after this call the
 * scheduler must not touch f. No-op when f is not held. Never blocks. */
static inline void parc_future_unhold(parc_future_t *f)
{
    /* release: the scheduler's reads of f happen before a destroy that
     * sees the hold gone (its acquire load) and reuses the storage. */
    if (f != NULL && !f->heap)
        parc_store(&f->refs, 1u, PARC_RELEASE);
}

/* A scheduler discards a future its queue held, unrun (terminate): cancel
 * it if still pending, and let go of it in the same step. True when this
 * call cancelled it. Never blocks (continuations run inline). */
PARC_API bool parc_future_drop(parc_future_t *f);

/* Settle a promise (or any pending future, which then never runs its
 * task) with status and value; runs its continuations. Returns 0;
 * EALREADY when it was already running or complete; ECANCELED when it was
 * cancelled; EINVAL for NULL or status == ECANCELED (use cancel). Never
 * blocks (continuations run inline). */
PARC_API int parc_future_complete(parc_future_t *f, int status, void *value);

/* Cancel the future if its task has not started: true when this call won
 * the race (the task will never run; waiters see ECANCELED), false when
 * the task already started, finished, was cancelled before, or f is NULL.
 * Never blocks (continuations run inline with ECANCELED). */
PARC_API bool parc_future_cancel(parc_future_t *f);

/* ---- observing ---------------------------------------------------------- */

/* True once the future is complete (done or cancelled). Acquire: when true,
 * the outcome is visible. False for NULL. Never blocks. */
PARC_API bool parc_future_is_done(const parc_future_t *f);

/* True when the future was cancelled. False for NULL. Never blocks. */
PARC_API bool parc_future_is_cancelled(const parc_future_t *f);

/* Wait until the future is complete: returns 0 (whatever its outcome),
 * EINVAL for NULL. _try: EAGAIN when not complete. _timed: ETIMEDOUT when
 * the relative timeout (ns) passes first, EINVAL when negative. Blocks
 * (spins briefly, then parks; on a pool worker it runs other tasks). */
PARC_API int parc_future_wait(parc_future_t *f);
PARC_API int parc_future_wait_try(parc_future_t *f);
PARC_API int parc_future_wait_timed(parc_future_t *f, int64_t timeout_ns);

/*
 * Wait, then return the outcome: 0 with *value set (value may be NULL),
 * the task's error code, or ECANCELED. EINVAL for NULL f. _try returns
 * EAGAIN and _timed ETIMEDOUT when the future is not complete; a task whose
 * own error is EAGAIN or ETIMEDOUT is told apart by parc_future_is_done().
 * Blocks like parc_future_wait().
 */
PARC_API int parc_future_get(parc_future_t *f, void **value);
PARC_API int parc_future_get_try(parc_future_t *f, void **value);
PARC_API int parc_future_get_timed(parc_future_t *f, void **value, int64_t timeout_ns);

/*
 * Chain: a new heap future (one reference, the caller's) that completes
 * with fn(arg, value of f) once f succeeds, or with f's error/ECANCELED
 * without calling fn. fn runs on the thread that completes f, or on the
 * caller at once when f is already complete. Cancelling the chained future
 * before f completes keeps fn from running. Returns 0, EINVAL for NULL f,
 * fn or out, ENOMEM. Never blocks except to run fn inline.
 */
PARC_API int parc_future_then(parc_future_t *f, parc_then_fn fn, void *arg,
                     parc_future_t **out);

/* ---- sets (Python's concurrent.futures.wait / as_completed) ----------- */

/* Wait until every future of fs[0..n) is complete. Returns 0; EINVAL when
 * fs or an element is NULL; _timed: ETIMEDOUT. n == 0 returns 0 at once.
 * Blocks. */
PARC_API int parc_future_wait_all(parc_future_t *const *fs, size_t n);
PARC_API int parc_future_wait_all_timed(parc_future_t *const *fs, size_t n,
                               int64_t timeout_ns);

/*
 * Wait until at least one future of fs[0..n) is complete and store the
 * index of the first complete one found in *index. Returns 0; EINVAL when
 * fs, index or an element is NULL, or n == 0; _try: EAGAIN when none is
 * complete; _timed: ETIMEDOUT. as_completed: call repeatedly, removing
 * the returned future from the set each time. Blocks.
 */
PARC_API int parc_future_wait_any(parc_future_t *const *fs, size_t n, size_t *index);
PARC_API int parc_future_wait_any_try(parc_future_t *const *fs, size_t n,
                             size_t *index);
PARC_API int parc_future_wait_any_timed(parc_future_t *const *fs, size_t n,
                               size_t *index, int64_t timeout_ns);

/* ---- for schedulers --------------------------------------------------- */

/*
 * The help hook of the calling thread: while any wait in this header finds
 * its futures incomplete, it calls help(ctx), which should run one other
 * task and return true, or return false when there is nothing to run (the
 * waiter then spins and parks for short slices, calling help again between
 * them, so work that arrives later is still picked up). NULL removes the
 * hook. Affects only the calling thread. Never blocks.
 */
typedef bool (*parc_future_help_fn)(void *ctx);
PARC_API void parc_future_set_help_hook(parc_future_help_fn help, void *ctx);

/*
 * The join hook of the calling thread: a wait on one future f
 * (parc_future_wait, _timed, get, get_timed) that finds f incomplete
 * first calls join(ctx, f), before the help hook. It returns true when it
 * took f back, unstarted, out of the scheduler's queue (a worker whose
 * newest own deque item is f: the fork/join case); the wait then runs f
 * on the calling thread as parc_future_run() would, and, for a heap
 * future, drops the reference the queue held. false: f was not taken and
 * the wait goes on as before. The point is speed: a join that runs its
 * own child is direct, no generic help round trip. NULL removes the hook.
 * Affects only the calling thread. Never blocks.
 */
typedef bool (*parc_future_join_fn)(void *ctx, parc_future_t *f);
PARC_API void parc_future_set_join_hook(parc_future_join_fn join, void *ctx);

#endif /* PARC_FUTURE_H */
