/*
 * Workloads over parc_stress_permits_impl_t (permits.bound) and
 * parc_stress_signal_impl_t (signal.wakeup).
 *
 * permits.bound: holders count themselves in with a relaxed increment
 * after acquiring and out before releasing; the count must never pass the
 * number of permits. Afterwards exactly that many permits can be taken.
 *
 * signal.wakeup: rounds. A setter clears the signal, opens a round, lets
 * the waiters reach their wait (sometimes), records "set in round r" and
 * sets the signal. Each waiter waits with a timeout: it must return 0, and
 * not before the set was recorded; a timeout after the set is a lost
 * wake-up.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "parc/time.h"
#include "parc/weak.h"
#include "stress_internal.h"
#include "lincheck_modes.h"

/* ---- permits.bound ----------------------------------------------------------- */

typedef struct permrun {
    parc_stress_ctx_t *ctx;
    const parc_stress_permits_impl_t *impl;
    void *sem;
    unsigned permits;
    PARC_CACHE_ALIGNED parc_atomic(unsigned) holders;
} permrun_t;

static void permits_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    permrun_t *r = arg;
    const parc_stress_permits_impl_t *impl = r->impl;
    bool go = true;
    while (go) {
        uint64_t dice = parc_stress_random(ctx, index);
        int rc;
        const char *op;
        if ((dice & 3) == 1) {
            op = "try_acquire";
            rc = impl->try_acquire(r->sem);
            if (rc == EAGAIN) {
                go = parc_stress_step(ctx, index, "try_acquire (none)");
                parc_cpu_relax();
                continue;
            }
        } else if ((dice & 3) == 2 && impl->acquire_timed) {
            op = "acquire_timed";
            parc_stress_note(ctx, index, op);
            rc = impl->acquire_timed(r->sem, ctx->patience_ns);
            if (rc == ETIMEDOUT) { /* starvation is the watchdog's business */
                go = parc_stress_step(ctx, index, "acquire_timed (timed out)");
                continue;
            }
        } else {
            op = "acquire";
            parc_stress_note(ctx, index, op);
            rc = impl->acquire(r->sem);
        }
        if (rc) {
            parc_stress_fail(ctx, "%s returned %d", op, rc);
            return;
        }
        /* relaxed: the semaphore's own ordering must keep this count
         * bounded; we lend it none. */
        unsigned h = parc_raw_faa(&r->holders, 1u, PARC_RELAXED) + 1;
        if (h > r->permits)
            parc_stress_fail(ctx, "over-admission: %u holders of %u permits", h,
                             r->permits);
        unsigned n = (unsigned)((dice >> 8) & 15);
        for (unsigned i = 0; i < n; i++)
            parc_cpu_relax();
        parc_raw_faa(&r->holders, (unsigned)-1, PARC_RELAXED);
        parc_stress_note(ctx, index, "release");
        rc = impl->release(r->sem);
        if (rc) {
            parc_stress_fail(ctx, "release returned %d", rc);
            return;
        }
        go = parc_stress_step(ctx, index, op);
        if ((dice & 0xf000) == 0)
            parc_yield(); /* a chaos point: under --baton the awaited thread gets to run */
    }
}

static int run_permits(parc_stress_ctx_t *ctx, const void *p)
{
    permrun_t *r = aligned_alloc(PARC_CACHELINE,
        (sizeof *r + PARC_CACHELINE - 1) / PARC_CACHELINE * PARC_CACHELINE);
    if (r == NULL)
        return ENOMEM;
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    r->impl = p;
    r->permits = ctx->threads / 2 ? ctx->threads / 2 : 1;
    int err = r->impl->create(&r->sem, r->permits);
    if (err) {
        parc_stress_fail(ctx, "create(%u) returned %d", r->permits, err);
        free(r);
        return err;
    }
    err = parc_stress_run_threads(ctx, ctx->threads, permits_thread, r);
    if (err == 0 && !parc_raw_load(&ctx->violations, PARC_RELAXED)) {
        unsigned got = 0;
        while (got <= r->permits && r->impl->try_acquire(r->sem) == 0)
            got++;
        if (got != r->permits)
            parc_stress_fail(ctx, "after the run %u%s permits could be taken, "
                                  "expected %u", got, got > r->permits ? "+" : "",
                             r->permits);
        while (got--)
            r->impl->release(r->sem);
    }
    r->impl->destroy(r->sem);
    free(r);
    return err;
}

const stress_builtin_t stress_permits_bound = {
    "permits.bound", PARC_STRESS_KIND_PERMITS,
    "acquire/try/timed then release: never more holders than permits, none lost",
    NULL, run_permits,
};

/* ---- signal.wakeup ---------------------------------------------------------- */

#define ROUND_STOP UINT64_MAX

typedef struct sigrun {
    parc_stress_ctx_t *ctx;
    const parc_stress_signal_impl_t *impl;
    void *sig;
    unsigned waiters;
    /* seq_cst throughout: the harness's round protocol, not the signal's
     * ordering, is what these words carry; waiters compare set_round with
     * the outcome of their wait. */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) round;
    parc_atomic(uint64_t) set_round;
    parc_atomic(int64_t) set_at;  /* parc_now_ns() just before set() */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) ready;
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) done;
} sigrun_t;

static void setter(sigrun_t *r)
{
    parc_stress_ctx_t *ctx = r->ctx;
    bool go = true;
    for (uint64_t round = 1; go; round++) {
        int rc = r->impl->clear(r->sig);
        if (rc) {
            parc_stress_fail(ctx, "clear returned %d", rc);
            break;
        }
        parc_raw_store(&r->round, round, PARC_SEQ_CST);
        uint64_t dice = parc_stress_random(ctx, 0);
        if (dice & 1) {
            /* Let the waiters reach their wait first: the wake-up path. */
            while (parc_raw_load(&r->ready, PARC_SEQ_CST) < round * r->waiters) {
                if (parc_stress_stopping(ctx) &&
                    parc_raw_load(&ctx->violations, PARC_RELAXED))
                    goto out;
                parc_stress_note(ctx, 0, "wait for waiters to arrive");
                parc_yield(); /* a chaos point: under --baton the awaited thread gets to run */
            }
            unsigned n = (unsigned)((dice >> 8) & 255);
            for (unsigned i = 0; i < n; i++)
                parc_cpu_relax();
        }
        parc_raw_store(&r->set_at, parc_now_ns(), PARC_SEQ_CST);
        parc_raw_store(&r->set_round, round, PARC_SEQ_CST);
        parc_stress_note(ctx, 0, "set");
        rc = r->impl->set(r->sig);
        if (rc) {
            parc_stress_fail(ctx, "set returned %d", rc);
            break;
        }
        go = parc_stress_step(ctx, 0, "set");
        while (parc_raw_load(&r->done, PARC_SEQ_CST) < round * r->waiters) {
            if (parc_raw_load(&ctx->violations, PARC_RELAXED))
                goto out;
            parc_stress_note(ctx, 0, "wait for waiters to return");
            parc_yield(); /* a chaos point: under --baton the awaited thread gets to run */
        }
        parc_weak_sync_all(); /* --weak: as in waiter() */
    }
out:
    parc_raw_store(&r->round, ROUND_STOP, PARC_SEQ_CST);
}

static void waiter(sigrun_t *r, unsigned index)
{
    parc_stress_ctx_t *ctx = r->ctx;
    for (uint64_t round = 1;; round++) {
        uint64_t now;
        while ((now = parc_raw_load(&r->round, PARC_SEQ_CST)) < round) {
            parc_stress_note(ctx, index, "wait for a round");
            parc_yield(); /* a chaos point: under --baton the awaited thread gets to run */
        }
        if (now == ROUND_STOP)
            return;
        /* --weak: the round handshake is raw (outside the model); tell the
         * model this thread has seen the setter's clear */
        parc_weak_sync_all();
        parc_raw_faa(&r->ready, 1u, PARC_SEQ_CST);
        for (;;) {
            int64_t t0 = parc_now_ns();
            parc_stress_note(ctx, index, "wait_timed");
            int rc = r->impl->wait_timed(r->sig, ctx->patience_ns);
            uint64_t set = parc_raw_load(&r->set_round, PARC_SEQ_CST);
            if (rc == 0) {
                if (set < round)
                    parc_stress_fail(ctx, "wait returned 0 in round %" PRIu64
                                          " before the signal was set", round);
                break;
            }
            if (rc != ETIMEDOUT) {
                parc_stress_fail(ctx, "wait_timed returned %d", rc);
                return;
            }
            /* Set long enough before the deadline that a working signal
             * had time to wake us: a lost wake-up. (A set that came just
             * at the deadline is a race: wait again.) */
            int64_t set_for = parc_now_ns() - parc_raw_load(&r->set_at, PARC_SEQ_CST);
            if (set >= round && set_for > ctx->patience_ns / 2) {
                parc_stress_fail(ctx, "lost wake-up: round %" PRIu64 "'s signal was "
                                      "set %.2f s ago, yet a waiter timed out after %.2f s",
                                 round, (double)set_for / 1e9,
                                 (double)(parc_now_ns() - t0) / 1e9);
                return;
            }
            /* The setter is slow to set, or set just now; wait again. */
            parc_stress_note(ctx, index, "wait_timed (timed out before set)");
        }
        parc_stress_step(ctx, index, "wait");
        parc_raw_faa(&r->done, 1u, PARC_SEQ_CST);
    }
}

static void signal_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    (void)ctx;
    if (index == 0)
        setter(arg);
    else
        waiter(arg, index);
}

static int run_signal(parc_stress_ctx_t *ctx, const void *p)
{
    if (ctx->threads < 2) {
        parc_stress_skip(ctx, "needs 2 threads (a setter and a waiter)");
        return 0;
    }
    sigrun_t *r = aligned_alloc(PARC_CACHELINE,
        (sizeof *r + PARC_CACHELINE - 1) / PARC_CACHELINE * PARC_CACHELINE);
    if (r == NULL)
        return ENOMEM;
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    r->impl = p;
    r->waiters = ctx->threads - 1;
    int err = r->impl->create(&r->sig);
    if (err) {
        parc_stress_fail(ctx, "create returned %d", err);
        free(r);
        return err;
    }
    err = parc_stress_run_threads(ctx, ctx->threads, signal_thread, r);
    r->impl->destroy(r->sig);
    free(r);
    return err;
}

const stress_builtin_t stress_signal_wakeup = {
    "signal.wakeup", PARC_STRESS_KIND_SIGNAL,
    "set wakes every waiter within its timeout; no return before set",
    NULL, run_signal,
};

/* ---- the table of built-in workloads ---------------------------------------- */

static const stress_builtin_t *const builtins[] = {
    &stress_queue_transfer, &stress_queue_churn, &stress_queue_close,
    &stress_lock_exclusion, &stress_lock_trylock, &stress_rwlock_exclusion,
    &stress_permits_bound, &stress_signal_wakeup,
    &stress_queue_lincheck, /* lincheck_mode.c */
};

size_t stress_builtins(const stress_builtin_t *const **list)
{
    *list = builtins;
    return sizeof builtins / sizeof builtins[0];
}
