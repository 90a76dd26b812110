/* parc/future.h: the future state machine, waiting and chaining. */
#include <pthread.h>
#include <stdlib.h>

#include "parc/eventcount.h"
#include "parc/future.h"
#include "recycle.h"
#include "select_hooks.h"

#include "future_hooks.h"

/* Marks a chained list that the completion has taken: a then() that finds
 * it runs its continuation at once. Never dereferenced. */
static parc_future_t chain_closed;
#define CHAIN_CLOSED (&chain_closed)

/* Wakes parc_future_wait_any() callers: a completion that sees the
 * WAITERS bit notifies it (a waiter on a set cannot park on every word). */
static parc_eventcount_t any_ec = PARC_EVENTCOUNT_INIT;

/* How long a thread with a help hook parks before it asks the hook again:
 * work submitted meanwhile waits at most this long for a blocked worker. */
#define HELP_SLICE_NS (1 * PARC_NS_PER_MS)

static _Thread_local parc_future_help_fn help_fn;
static _Thread_local void *help_ctx;

void parc_future_set_help_hook(parc_future_help_fn help, void *ctx)
{
    help_fn = help;
    help_ctx = help != NULL ? ctx : NULL;
}

static _Thread_local parc_future_join_fn join_fn;
static _Thread_local void *join_ctx;

void parc_future_set_join_hook(parc_future_join_fn join, void *ctx)
{
    join_fn = join;
    join_ctx = join != NULL ? ctx : NULL;
}

void parc_future_hooks_take(parc_future_hooks_t *saved)
{
    *saved = (parc_future_hooks_t){ help_fn, help_ctx, join_fn, join_ctx };
    help_fn = NULL;
    help_ctx = NULL;
    join_fn = NULL;
    join_ctx = NULL;
}

void parc_future_hooks_put(const parc_future_hooks_t *saved)
{
    help_fn = saved->help;
    help_ctx = saved->help_ctx;
    join_fn = saved->join;
    join_ctx = saved->join_ctx;
}

/* ---- recycling heap futures ------------------------------------------- *
 *
 * A pool makes a future per task, often on one thread, and frees it on
 * another (the submitter allocates, a worker drops the last reference):
 * blocks made by parc_future_create/then come from a recycler
 * (src/recycle.h), which keeps freed blocks in per-thread caches and a
 * shared stack instead of handing them back to malloc.
 *
 * A future is written by the thread that runs it while its creator waits
 * on it, and must not share a line with the creator's next future (false
 * sharing in fork/join). A block is therefore a cache line longer than the
 * future, so the next block's first byte (past malloc's header too) lies
 * more than a line after our last one. (aligned_alloc would do too, but
 * glibc's memalign path costs several times a malloc.)
 */
#define HEAP_MALLOC 1u /* parc_future_init_heap: the caller's malloc block */
#define HEAP_CACHED 2u /* a block of the futures recycler */

#define FUTURE_BLOCK (sizeof(parc_future_t) + PARC_CACHELINE)
_Static_assert(sizeof(parc_future_t) <= 2 * PARC_CACHELINE,
               "a future block is sized for at most two cache lines");

/* A thread keeps up to 256 blocks; chains of 64 go to the shared stack,
 * which keeps about 4096. */
static parc_recycler_t futures = PARC_RECYCLE_HEAP_INIT(FUTURE_BLOCK, 256, 64,
                                                        4096);
static _Thread_local parc_recycle_cache_t futures_cache;

static parc_future_t *future_alloc(void)
{
    return parc_recycle_alloc(&futures, &futures_cache);
}

static void future_free(parc_future_t *f)
{
    if (f->heap == HEAP_CACHED)
        parc_recycle_free(&futures, &futures_cache, f);
    else
        free(f);
}

static void future_setup(parc_future_t *f, parc_task_fn fn, void *arg,
                         uint32_t heap, uint32_t refs)
{
    (void)parc_future_init(f, fn, arg); /* f is not NULL here */
    parc_atomic_init(&f->refs, refs);
    f->heap = heap;
}

int parc_future_init_heap(parc_future_t *f, parc_task_fn fn, void *arg)
{
    if (f == NULL)
        return EINVAL;
    future_setup(f, fn, arg, HEAP_MALLOC, 1);
    return 0;
}

int parc_future_create(parc_task_fn fn, void *arg, parc_future_t **out)
{
    if (out == NULL)
        return EINVAL;
    parc_future_t *f = future_alloc();
    if (f == NULL)
        return ENOMEM;
    future_setup(f, fn, arg, HEAP_CACHED, 1);
    *out = f;
    return 0;
}

void parc_future_retain(parc_future_t *f)
{
    if (f != NULL && f->heap)
        parc_faa(&f->refs, 1u, PARC_RELAXED); /* a holder already has one */
}

/* Claim a pending future for running or settling: CAS phase PENDING ->
 * RUNNING, keeping the WAITERS bit and adding `mark` (CANCELLING for a
 * cancel, so that a losing run can tell). Exactly one claim (run,
 * complete, cancel) succeeds per future. */
static bool claim_as(parc_future_t *f, uint32_t mark)
{
    uint32_t s = parc_load(&f->state, PARC_RELAXED);
    while ((s & PARC_FUTURE_PHASE) == PARC_FUTURE_PENDING) {
        /* acquire: the claimer reads fn and arg, written before the future
         * was published (queue push, then() link); the publication itself
         * orders them, this also covers hand-offs through plain memory. */
        if (parc_cas_weak(&f->state, &s,
                          (s & ~PARC_FUTURE_PHASE) | PARC_FUTURE_RUNNING | mark,
                          PARC_ACQUIRE, PARC_RELAXED))
            return true;
    }
    return false;
}

static bool claim(parc_future_t *f)
{
    return claim_as(f, 0);
}

/* After a failed claim: ECANCELED when a cancel won, else EALREADY. */
static int lost_claim(parc_future_t *f)
{
    /* acquire: pairs with settle's release exchange */
    uint32_t s = parc_load(&f->state, PARC_ACQUIRE);
    return (s & PARC_FUTURE_PHASE) == PARC_FUTURE_CANCELLED
                   || (s & PARC_FUTURE_CANCELLING)
               ? ECANCELED : EALREADY;
}

/* The hold of a scheduler's queue on a caller-storage future (see
 * parc_future_hold): `refs`, which caller storage does not count with, is
 * PARC_FUTURE_HELD from the enqueue until the scheduler lets go. A
 * scheduler that claimed f lets go before it settles f (relaxed: the
 * settle's release carries it to whoever sees f complete); one that lost
 * the claim (a user cancelled or completed f first) lets go after its
 * last read of f, with a release store. Plain stores: the fork/join path
 * pays no atomic read-modify-write for the hold. */
static inline void let_go_claimed(parc_future_t *f)
{
    if (!f->heap) /* relaxed: published by the settle that follows */
        parc_store(&f->refs, 1u, PARC_RELAXED);
}

static int lost_claim_let_go(parc_future_t *f)
{
    bool heap = f->heap != 0;
    int rc = lost_claim(f);
    if (!heap)
        parc_future_unhold(f); /* the last touch */
    return rc;
}

static inline bool phase_complete(uint32_t s)
{
    return (s & PARC_FUTURE_PHASE) >= PARC_FUTURE_DONE;
}

static void fire(parc_future_t *c, int status, void *value);

static void settle_chained(parc_future_t *f, uint32_t phase, int status,
                           void *value);

/* Wake the threads parked on a future that just completed: called with
 * the address only, the future itself may be gone. Out of line: rare. */
static void wake_waiters(parc_park_word_t *state)
{
    parc_park_wake_all(state);
    parc_eventcount_notify_all(&any_ec);
}

/* Complete a claimed (RUNNING) future and run its continuations. After
 * the state exchange the future may be freed by a waiter: only its state
 * word's address is used from then on. The common case (no continuation)
 * is inline: every task's completion passes here. */
static inline void settle(parc_future_t *f, uint32_t phase, int status,
                          void *value)
{
    f->status = status;
    f->value = value;
    /* No continuation announced (CHAINED clear): complete with one CAS on
     * the state and leave the chained list alone; a then() that sets
     * CHAINED meanwhile makes the CAS fail, and one that sets it after
     * finds the future complete and runs its continuation itself. */
    uint32_t s = parc_load(&f->state, PARC_RELAXED);
    while (!(s & PARC_FUTURE_CHAINED)) {
        /* release: publishes status/value to every thread that sees the
         * complete phase (acquire loads in is_done/wait/get, then()'s
         * acquire fetch-or). */
        if (parc_cas_weak(&f->state, &s, phase, PARC_RELEASE, PARC_RELAXED)) {
            if (s & PARC_FUTURE_WAITERS)
                wake_waiters(&f->state); /* address only: f may be gone */
            return;
        }
    }
    settle_chained(f, phase, status, value);
}

/* settle() when continuations hang off f. */
static void settle_chained(parc_future_t *f, uint32_t phase, int status,
                           void *value)
{
    /* acq_rel: release publishes status/value to a then() that finds the
     * list closed (its acquire load); acquire makes the continuations
     * linked by then() (release CAS) readable here. */
    parc_future_t *list = parc_xchg(&f->chained, CHAIN_CLOSED, PARC_ACQ_REL);
    /* release: publishes status/value to every thread that sees the
     * complete phase (acquire loads in is_done/wait/get). */
    uint32_t old = parc_xchg(&f->state, phase, PARC_RELEASE);
    if (old & PARC_FUTURE_WAITERS)
        wake_waiters(&f->state); /* address only: f may be gone */
    /* Continuations in the order they were chained (the list is LIFO). */
    parc_future_t *rev = NULL;
    while (list != NULL) {
        parc_future_t *next = list->chain_next;
        list->chain_next = rev;
        rev = list;
        list = next;
    }
    while (rev != NULL) {
        parc_future_t *next = rev->chain_next;
        fire(rev, status, value);
        rev = next;
    }
}

/* Run continuation c of a future that completed with (status, value),
 * then drop the reference the source's list held. */
static void fire(parc_future_t *c, int status, void *value)
{
    if (claim(c)) {
        if (status == 0) {
            void *v = NULL;
            int s = c->fn.then(c->arg, value, &v);
            settle(c, PARC_FUTURE_DONE, s, s == 0 ? v : NULL);
        } else {
            settle(c, status == ECANCELED ? PARC_FUTURE_CANCELLED
                                          : PARC_FUTURE_DONE,
                   status, NULL);
        }
    }
    parc_future_release(c);
}

void parc_future_release(parc_future_t *f)
{
    if (f == NULL || !f->heap)
        return;
    /* acq_rel: the last releaser frees; release orders each holder's use
     * of the future before the decrement, acquire makes all of them
     * visible to the thread that frees. */
    if (parc_fas(&f->refs, 1u, PARC_ACQ_REL) != 1u)
        return;
    if (claim(f)) /* never ran and nobody else holds it: cancel */
        settle(f, PARC_FUTURE_CANCELLED, ECANCELED, NULL);
    future_free(f);
}

/* The inline parc_future_destroy (future.h) found f not complete. */
int parc_future_destroy_pending_(parc_future_t *f)
{
    /* acquire: pairs with settle (the future may have completed since) */
    uint32_t s = parc_load(&f->state, PARC_ACQUIRE);
    if ((s & PARC_FUTURE_PHASE) == PARC_FUTURE_RUNNING)
        return EBUSY;
    /* relaxed: the holder's own enqueue set it; a pending future a queue
     * holds will be looked at again: not ours to destroy yet. */
    if (parc_load(&f->refs, PARC_RELAXED) == PARC_FUTURE_HELD)
        return EBUSY;
    if ((s & PARC_FUTURE_PHASE) >= PARC_FUTURE_DONE)
        return parc_future_destroy(f); /* completed since: the inline check */
    if (claim(f)) /* continuations must not wait forever: cancel */
        settle(f, PARC_FUTURE_CANCELLED, ECANCELED, NULL);
    return 0;
}

/* parc_future_run for a task future (fn.task set, no source). */
static inline int run_task_future(parc_future_t *f)
{
    if (!claim(f))
        return lost_claim_let_go(f);
    let_go_claimed(f);
    void *v = NULL;
    int s = f->fn.task(f->arg, &v);
    if (s == ECANCELED) /* a task may give up as cancelled */
        settle(f, PARC_FUTURE_CANCELLED, ECANCELED, NULL);
    else
        settle(f, PARC_FUTURE_DONE, s, s == 0 ? v : NULL);
    return 0;
}

int parc_future_run(parc_future_t *f)
{
    if (f == NULL || f->fn.task == NULL || f->source != NULL)
        return EINVAL;
    return run_task_future(f);
}

int parc_future_complete(parc_future_t *f, int status, void *value)
{
    if (f == NULL || status == ECANCELED || status < 0)
        return EINVAL;
    if (!claim(f))
        return lost_claim(f);
    settle(f, PARC_FUTURE_DONE, status, value);
    return 0;
}

bool parc_future_cancel(parc_future_t *f)
{
    if (f == NULL || !claim_as(f, PARC_FUTURE_CANCELLING))
        return false;
    settle(f, PARC_FUTURE_CANCELLED, ECANCELED, NULL);
    return true;
}

bool parc_future_drop(parc_future_t *f)
{
    if (f == NULL)
        return false;
    if (!claim_as(f, PARC_FUTURE_CANCELLING)) {
        (void)lost_claim_let_go(f); /* claimed by someone else first */
        return false;
    }
    let_go_claimed(f);
    settle(f, PARC_FUTURE_CANCELLED, ECANCELED, NULL);
    return true;
}

/* is_done for a non-NULL future, inlined into the waits. */
static inline bool done(const parc_future_t *f)
{
    /* acquire: pairs with settle's release CAS or exchange; the outcome
     * is visible once this reads a complete phase. */
    return phase_complete(parc_load((parc_park_word_t *)&f->state, PARC_ACQUIRE));
}

bool parc_future_is_done(const parc_future_t *f)
{
    return f != NULL && done(f);
}

bool parc_future_is_cancelled(const parc_future_t *f)
{
    if (f == NULL)
        return false;
    /* acquire: as in parc_future_is_done() */
    uint32_t s = parc_load((parc_park_word_t *)&f->state, PARC_ACQUIRE);
    return (s & PARC_FUTURE_PHASE) == PARC_FUTURE_CANCELLED
           || (s & PARC_FUTURE_CANCELLING) != 0;
}

/* Set the WAITERS bit; true when the future is already complete. On false
 * *seen is the state including the bit, the value to park on. */
static bool register_waiter(parc_future_t *f, uint32_t *seen)
{
    /* acquire: when the old value is complete, its outcome is visible
     * (pairs with settle's release exchange). */
    uint32_t old = parc_for(&f->state, PARC_FUTURE_WAITERS, PARC_ACQUIRE);
    *seen = old | PARC_FUTURE_WAITERS;
    return phase_complete(old);
}

/* Park on f until it completes or `until` passes (one slice). */
static void park_on(parc_future_t *f, parc_deadline_t until)
{
    uint32_t seen;
    if (!register_waiter(f, &seen))
        parc_park_wait(&f->state, seen, until);
}

/* Let the help hook run tasks until f completes; false when it had
 * nothing to run. */
static bool help_while_pending(parc_future_t *f)
{
    bool helped = false;
    while (!done(f) && help_fn(help_ctx))
        helped = true;
    return helped;
}

/*
 * The join hook took f back from its queue (see parc_future_join_fn): run
 * it here. Only task futures are ever queued, so fn.task is set. The
 * claim still decides against a racing cancel or complete, which may have
 * claimed f meanwhile (then f does not run). A heap future's queue
 * reference is dropped; the waiter holds one too, so it is never the last.
 */
static void run_joined(parc_future_t *f)
{
    bool heap = f->heap != 0;
    (void)run_task_future(f);
    if (heap)
        parc_future_release(f);
}

/* Fork/join: f is usually the newest item of this worker's own deque;
 * the join hook pops it and we run it directly. True when f is complete
 * after that (not when a cancel or complete claimed it first and is
 * still settling, nor when the hook did not take it). */
static inline bool try_join(parc_future_t *f)
{
    if (join_fn == NULL || !join_fn(join_ctx, f))
        return false;
    run_joined(f);
    return done(f);
}

/* The wait once f was found incomplete and the join hook had its try:
 * help, spin, park. */
static int wait_helping(parc_future_t *f, parc_deadline_t deadline);

static int wait_until(parc_future_t *f, parc_deadline_t deadline)
{
    if (done(f))
        return 0;
    if (deadline != PARC_FOREVER && parc_deadline_passed(deadline))
        return ETIMEDOUT; /* a poll (timeout 0) does not spin */
    if (try_join(f))
        return 0;
    return wait_helping(f, deadline);
}

static int wait_helping(parc_future_t *f, parc_deadline_t deadline)
{
    /* A worker first runs what it can: the awaited task may be stolen,
     * and what the thief left or pushed meanwhile is near. */
    if (help_fn != NULL && help_while_pending(f) && done(f))
        return 0;
    for (unsigned i = 0; i < PARC_SPIN_POLLS; i++) {
        if (done(f))
            return 0;
        if (help_fn != NULL && (i & 63u) == 0 && help_while_pending(f)) {
            i = 0; /* work came by: spin afresh after it, and do not */
            continue; /* pause: f is likely done (its own child ran) */
        }
        parc_spin_poll(i); /* yields now and then: the completer may need
                            * our core */
    }
    for (;;) {
        if (done(f))
            return 0;
        if (help_fn != NULL && help_while_pending(f))
            continue;
        if (parc_deadline_passed(deadline))
            return ETIMEDOUT;
        parc_deadline_t until = deadline;
        if (help_fn != NULL) {
            parc_deadline_t slice = parc_add_sat(parc_now_ns(), HELP_SLICE_NS);
            if (slice < until)
                until = slice;
        }
        park_on(f, until);
    }
}

int parc_future_wait(parc_future_t *f)
{
    if (f == NULL)
        return EINVAL;
    return wait_until(f, PARC_FOREVER);
}

int parc_future_wait_try(parc_future_t *f)
{
    if (f == NULL)
        return EINVAL;
    return parc_future_is_done(f) ? 0 : EAGAIN;
}

int parc_future_wait_timed(parc_future_t *f, int64_t timeout_ns)
{
    parc_deadline_t d;
    if (f == NULL || parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    return wait_until(f, d);
}

/* The outcome of a complete future (its completion already acquired). */
static int outcome(parc_future_t *f, void **value)
{
    uint32_t s = parc_load(&f->state, PARC_RELAXED); /* acquired by caller */
    int st = (s & PARC_FUTURE_PHASE) == PARC_FUTURE_CANCELLED ? ECANCELED
                                                               : f->status;
    if (value != NULL)
        *value = st == 0 ? f->value : NULL;
    return st;
}

int parc_future_get(parc_future_t *f, void **value)
{
    if (f == NULL)
        return EINVAL;
    /* The join of fork/join, inline: wait_until's first steps (done, the
     * join hook) without its frame; the rest of the wait when they did
     * not complete f. */
    if (!done(f) && !try_join(f)) {
        int rc = wait_helping(f, PARC_FOREVER);
        if (rc != 0)
            return rc;
    }
    return outcome(f, value);
}

int parc_future_get_try(parc_future_t *f, void **value)
{
    int rc = parc_future_wait_try(f);
    return rc != 0 ? rc : outcome(f, value);
}

int parc_future_get_timed(parc_future_t *f, void **value, int64_t timeout_ns)
{
    int rc = parc_future_wait_timed(f, timeout_ns);
    return rc != 0 ? rc : outcome(f, value);
}

int parc_future_then(parc_future_t *f, parc_future_then_fn fn, void *arg,
                     parc_future_t **out)
{
    if (f == NULL || fn == NULL || out == NULL)
        return EINVAL;
    parc_future_t *c = future_alloc();
    if (c == NULL)
        return ENOMEM;
    future_setup(c, NULL, arg, HEAP_CACHED, 2); /* the caller's and f's list's */
    c->fn.then = fn;
    c->source = f;
    *out = c;
    /* Announce a continuation before linking it, so that settle takes the
     * list (see there). acquire: when f is already complete its outcome
     * is visible (pairs with settle's release CAS or exchange). */
    uint32_t st0 = parc_for(&f->state, PARC_FUTURE_CHAINED, PARC_ACQUIRE);
    /* acquire: when the list is closed, f's outcome is visible (pairs
     * with settle's acq_rel exchange). */
    parc_future_t *head = phase_complete(st0) ? CHAIN_CLOSED
                                              : parc_load(&f->chained, PARC_ACQUIRE);
    for (;;) {
        if (head == CHAIN_CLOSED) {
            uint32_t s = parc_load(&f->state, PARC_RELAXED);
            int st = (s & PARC_FUTURE_PHASE) == PARC_FUTURE_CANCELLED
                         ? ECANCELED : f->status;
            fire(c, st, f->value);
            return 0;
        }
        c->chain_next = head;
        /* release: publishes c's fields to the completion, which takes
         * the list with an acquire exchange. */
        if (parc_cas_weak(&f->chained, &head, c, PARC_RELEASE, PARC_ACQUIRE))
            return 0;
    }
}

/* ---- sets ------------------------------------------------------------ */

static int check_set(parc_future_t *const *fs, size_t n)
{
    if (fs == NULL && n != 0)
        return EINVAL;
    for (size_t i = 0; i < n; i++)
        if (fs[i] == NULL)
            return EINVAL;
    return 0;
}

static int wait_all_until(parc_future_t *const *fs, size_t n,
                          parc_deadline_t deadline)
{
    int rc = check_set(fs, n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = wait_until(fs[i], deadline);
    return rc;
}

int parc_future_wait_all(parc_future_t *const *fs, size_t n)
{
    return wait_all_until(fs, n, PARC_FOREVER);
}

int parc_future_wait_all_timed(parc_future_t *const *fs, size_t n,
                               int64_t timeout_ns)
{
    parc_deadline_t d;
    if (parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    return wait_all_until(fs, n, d);
}

static bool scan_any(parc_future_t *const *fs, size_t n, size_t *index)
{
    for (size_t i = 0; i < n; i++) {
        if (parc_future_is_done(fs[i])) {
            *index = i;
            return true;
        }
    }
    return false;
}

static int wait_any_until(parc_future_t *const *fs, size_t n, size_t *index,
                          parc_deadline_t deadline)
{
    if (n == 0 || index == NULL || check_set(fs, n) != 0)
        return EINVAL;
    if (scan_any(fs, n, index))
        return 0;
    if (deadline != PARC_FOREVER && parc_deadline_passed(deadline))
        return ETIMEDOUT; /* a poll does not spin */
    for (unsigned i = 0; i < PARC_SPIN_POLLS / 8; i++) {
        if (scan_any(fs, n, index))
            return 0;
        if (help_fn != NULL)
            (void)help_fn(help_ctx);
        parc_spin_poll(i);
    }
    for (;;) {
        if (help_fn != NULL) {
            while (!scan_any(fs, n, index) && help_fn(help_ctx)) {
            }
        }
        /* Ask every completion to notify any_ec, then the eventcount
         * protocol: register, re-check, sleep. */
        for (size_t i = 0; i < n; i++) {
            uint32_t seen;
            if (register_waiter(fs[i], &seen)) {
                *index = i;
                return 0;
            }
        }
        parc_eventcount_key_t key = parc_eventcount_prepare_wait(&any_ec);
        if (scan_any(fs, n, index)) {
            parc_eventcount_cancel_wait(&any_ec);
            return 0;
        }
        if (parc_deadline_passed(deadline)) {
            parc_eventcount_cancel_wait(&any_ec);
            return ETIMEDOUT;
        }
        parc_deadline_t until = deadline;
        if (help_fn != NULL) {
            parc_deadline_t slice = parc_add_sat(parc_now_ns(), HELP_SLICE_NS);
            if (slice < until)
                until = slice;
        }
        parc_eventcount_wait(&any_ec, key, until);
    }
}

int parc_future_wait_any(parc_future_t *const *fs, size_t n, size_t *index)
{
    return wait_any_until(fs, n, index, PARC_FOREVER);
}

int parc_future_wait_any_try(parc_future_t *const *fs, size_t n,
                             size_t *index)
{
    if (n == 0 || index == NULL || check_set(fs, n) != 0)
        return EINVAL;
    return scan_any(fs, n, index) ? 0 : EAGAIN;
}

int parc_future_wait_any_timed(parc_future_t *const *fs, size_t n,
                               size_t *index, int64_t timeout_ns)
{
    parc_deadline_t d;
    if (parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    return wait_any_until(fs, n, index, d);
}

/* For parc/select.h (src/select_hooks.h): ask f's completion to wake the
 * threads parked on its state word, as a waiter does; *seen is the word
 * to park on. True when f is already complete. */
bool parc_future_watch_(parc_future_t *f, uint32_t *seen)
{
    return register_waiter(f, seen);
}
