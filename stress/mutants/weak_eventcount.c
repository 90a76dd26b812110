/*
 * Negative control only the weak-memory mode (--weak, parc/weak.h) can
 * catch: an eventcount wait (parc/eventcount.h) whose prepare lacks the
 * seq_cst fence between registering as a waiter and re-checking the
 * condition.
 *
 * The notifier (thread 0), each round: value = round (release), then
 * parc_eventcount_notify_all (seq_cst fence, waiter count, wake), then waits for
 * every waiter to acknowledge. Waiters wait for value >= round through
 * prepare / re-check / parc_eventcount_wait. Without the waiter's fence the C11
 * model lets the waiter's re-check miss the new value while the
 * notifier's count load misses the registration: the waiter sleeps
 * through its wake-up (Dekker's store-load case). On x86 the
 * registration is a locked RMW, a full barrier, so the default build
 * never loses one, and ThreadSanitizer sees no race.
 *
 * A waiter that times out after the round's value was stored more than
 * half its timeout earlier reports a lost wake-up.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "parc/atomic.h"
#include "parc/eventcount.h"
#include "parc/stress.h"
#include "parc/time.h"
#include "parc/weak.h"

typedef struct ecm_run {
    parc_eventcount_t ec;
    parc_atomic(uint64_t) value;
    parc_atomic(uint64_t) acks;
    parc_atomic(int64_t) stored_at; /* raw: the harness's own clock */
    int64_t timeout_ns;
} ecm_run_t;

#define STOP UINT64_MAX

/* parc_eventcount_prepare_wait() without its fence. */
static parc_eventcount_key_t prepare_without_fence(parc_eventcount_t *ec)
{
    parc_faa(&ec->waiters, 1u, PARC_RELAXED);
    /* THE BUG: no parc_fence(PARC_SEQ_CST) here */
    /* acquire: as in parc_eventcount_prepare_wait() */
    return parc_load(&ec->epoch, PARC_ACQUIRE);
}

static void wait_for(parc_stress_ctx_t *ctx, ecm_run_t *r, unsigned index, uint64_t round)
{
    for (;;) {
        /* acquire: pairs with the notifier's release store of value */
        if (parc_load(&r->value, PARC_ACQUIRE) >= round)
            return;
        parc_eventcount_key_t key = prepare_without_fence(&r->ec);
        if (parc_load(&r->value, PARC_ACQUIRE) >= round) { /* as above */
            parc_eventcount_cancel_wait(&r->ec);
            return;
        }
        parc_deadline_t deadline = PARC_FOREVER;
        parc_deadline_in(&deadline, r->timeout_ns);
        parc_stress_note(ctx, index, "ec wait");
        if (parc_eventcount_wait(&r->ec, key, deadline) != ETIMEDOUT)
            continue;
        int64_t since = parc_now_ns() - parc_raw_load(&r->stored_at, PARC_SEQ_CST);
        if (parc_raw_load(&r->value, PARC_SEQ_CST) >= round && since > r->timeout_ns / 2) {
            parc_stress_fail(ctx, "lost wake-up: round %" PRIu64 " was notified %.2f s "
                                  "ago, yet the waiter timed out", round,
                             (double)since / 1e9);
            /* let the notifier go on and finish */
            parc_faa(&r->acks, 1u, PARC_RELEASE);
            return;
        }
    }
}

static void ecm_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    ecm_run_t *r = arg;
    unsigned waiters = parc_stress_threads(ctx) - 1;
    if (index == 0) {
        uint64_t round = 1;
        for (; parc_stress_step(ctx, 0, "notify"); round++) {
            parc_raw_store(&r->stored_at, parc_now_ns(), PARC_SEQ_CST);
            /* release: pairs with the waiters' acquire loads of value */
            parc_store(&r->value, round, PARC_RELEASE);
            parc_eventcount_notify_all(&r->ec);
            /* acquire: pairs with the waiters' release acknowledgements */
            while (parc_load(&r->acks, PARC_ACQUIRE) < round * waiters) {
                if (parc_stress_stopping(ctx))
                    break;
                parc_stress_note(ctx, 0, "wait for acks");
                parc_yield();
            }
        }
        parc_raw_store(&r->stored_at, parc_now_ns(), PARC_SEQ_CST);
        parc_store(&r->value, STOP, PARC_RELEASE); /* as above */
        parc_eventcount_notify_all(&r->ec);
        return;
    }
    for (uint64_t round = 1;; round++) {
        wait_for(ctx, r, index, round);
        /* acquire: as in wait_for() */
        if (parc_load(&r->value, PARC_ACQUIRE) == STOP || parc_stress_stopping(ctx))
            return;
        parc_stress_step(ctx, index, "woken");
        /* release: the acknowledgement; pairs with the notifier's acquire */
        parc_faa(&r->acks, 1u, PARC_RELEASE);
    }
}

static int ecm_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    ecm_run_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return ENOMEM;
    parc_eventcount_init(&r->ec);
    parc_atomic_init(&r->value, 0);
    parc_atomic_init(&r->acks, 0);
    parc_atomic_init(&r->stored_at, 0);
    /* --weak runs under the baton, where nothing else takes time: a short
     * timeout catches the lost wake-up sooner. Elsewhere the harness's
     * patience (a loaded machine must not look like a lost wake-up). */
    r->timeout_ns = parc_weak_compiled() ? 200 * PARC_NS_PER_MS
                                         : parc_stress_patience_ns(ctx);
    int rc = parc_stress_run_threads(ctx, parc_stress_threads(ctx), ecm_thread, r);
    free(r);
    return rc;
}

static const parc_stress_workload_t weak_eventcount = {
    .name = "weak.eventcount",
    .impl = "mutant.weak_eventcount",
    .description = "eventcount prepare without its seq_cst fence (only --weak sees it)",
    .flags = PARC_STRESS_MUTANT,
    .min_threads = 2,
    .max_threads = 3,
    .run = ecm_run,
};
PARC_STRESS_WORKLOAD(weak_eventcount)
