/*
 * Stress adapters for parc's eventcount (parc/eventcount.h).
 *
 *   signal parc.ec_flag     a level-triggered flag whose waiters block
 *                           through the eventcount protocol
 *                           (parc_eventcount_await); signal.wakeup checks that no
 *                           wake-up is lost.
 *   eventcount.ring         a token passed round a ring of threads: each
 *                           waits with parc_eventcount_await() until the token is
 *                           its own, passes it on and notifies all. A waiter
 *                           that times out while the token was already its
 *                           own was not woken: a lost wake-up.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "parc/eventcount.h"
#include "parc/stress.h"
#include "parc/time.h"

/* ---- parc.ec_flag ------------------------------------------------------------- */

typedef struct ec_flag {
    parc_atomic(uint32_t) set;
    parc_eventcount_t ec;
} ec_flag_t;

static int flag_create(void **out)
{
    ec_flag_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return ENOMEM;
    parc_atomic_init(&f->set, 0u);
    parc_eventcount_init(&f->ec);
    *out = f;
    return 0;
}

static void flag_destroy(void *p)
{
    free(p);
}

static int flag_set(void *p)
{
    ec_flag_t *f = p;
    /* release: what the setter did before set() is visible to a waiter
     * that sees the flag; pairs with the acquire load in flag_ready. */
    parc_store(&f->set, 1u, PARC_RELEASE);
    parc_eventcount_notify_all(&f->ec);
    return 0;
}

static int flag_clear(void *p)
{
    ec_flag_t *f = p;
    /* relaxed: clear publishes nothing; waiters are absent (contract). */
    parc_store(&f->set, 0u, PARC_RELAXED);
    return 0;
}

static bool flag_ready(void *p)
{
    ec_flag_t *f = p;
    /* acquire: pairs with the release store in flag_set. */
    return parc_load(&f->set, PARC_ACQUIRE) != 0;
}

static int flag_wait_timed(void *p, int64_t timeout_ns)
{
    ec_flag_t *f = p;
    parc_deadline_t deadline;
    int rc = parc_deadline_in(&deadline, timeout_ns);
    if (rc)
        return rc;
    return parc_eventcount_await(&f->ec, flag_ready, f, deadline);
}

static const parc_stress_signal_impl_t ec_flag_impl = {
    .name = "parc.ec_flag",
    .description = "a flag whose waiters block through parc_eventcount_await",
    .create = flag_create,
    .destroy = flag_destroy,
    .set = flag_set,
    .clear = flag_clear,
    .wait_timed = flag_wait_timed,
};
PARC_STRESS_SIGNAL(ec_flag_impl)

/* ---- eventcount.ring ------------------------------------------------------------ */

typedef struct ring {
    parc_stress_ctx_t *ctx;
    unsigned threads;
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) token;  /* turn = token % threads */
    parc_atomic(uint32_t) stop;
    parc_atomic(int64_t) passed_at;   /* when the token last moved */
    parc_eventcount_t ec;
} ring_t;

typedef struct ring_wait {
    ring_t *ring;
    unsigned index;
} ring_wait_t;

static bool my_turn(void *p)
{
    ring_wait_t *w = p;
    /* acquire: pairs with the release store that passed the token. */
    return parc_load(&w->ring->token, PARC_ACQUIRE) % w->ring->threads == w->index ||
           parc_load(&w->ring->stop, PARC_ACQUIRE);
}

static void ring_stop(ring_t *r)
{
    /* release: pairs with the acquire in my_turn; wakes everybody out. */
    parc_store(&r->stop, 1u, PARC_RELEASE);
    parc_eventcount_notify_all(&r->ec);
}

static void ring_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    ring_t *r = arg;
    ring_wait_t w = { r, index };
    for (;;) {
        parc_deadline_t deadline = parc_now_ns() + parc_stress_patience_ns(ctx);
        int rc = parc_eventcount_await(&r->ec, my_turn, &w, deadline);
        if (parc_load(&r->stop, PARC_ACQUIRE))
            return;
        if (rc == ETIMEDOUT) {
            /* Our turn for longer than half the patience, and no wake-up:
             * a notify was lost. (A turn that came just at the deadline is
             * a race, not a loss.) */
            int64_t since = parc_now_ns() - parc_raw_load(&r->passed_at, PARC_RELAXED);
            if (my_turn(&w) && since > parc_stress_patience_ns(ctx) / 2) {
                parc_stress_fail(ctx, "lost wake-up: thread %u's turn came %.2f s "
                                      "ago but parc_eventcount_await timed out",
                                 index, (double)since / 1e9);
                ring_stop(r);
                return;
            }
            parc_stress_note(ctx, index, "await (timed out)");
            continue;
        }
        if (rc) {
            parc_stress_fail(ctx, "parc_eventcount_await returned %d", rc);
            ring_stop(r);
            return;
        }
        if (!parc_stress_step(ctx, index, "pass the token")) {
            ring_stop(r);
            return;
        }
        parc_raw_store(&r->passed_at, parc_now_ns(), PARC_RELAXED);
        /* release: what this thread did is visible to the next holder;
         * pairs with the acquire load in my_turn. */
        parc_store(&r->token, parc_load(&r->token, PARC_RELAXED) + 1, PARC_RELEASE);
        parc_eventcount_notify_all(&r->ec);
    }
}

static int ring_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    ring_t *r = aligned_alloc(PARC_CACHELINE,
        (sizeof(ring_t) + PARC_CACHELINE - 1) / PARC_CACHELINE * PARC_CACHELINE);
    if (r == NULL)
        return ENOMEM;
    r->ctx = ctx;
    r->threads = parc_stress_threads(ctx);
    parc_atomic_init(&r->token, 0u);
    parc_atomic_init(&r->stop, 0u);
    parc_atomic_init(&r->passed_at, parc_now_ns());
    parc_eventcount_init(&r->ec);
    int err = parc_stress_run_threads(ctx, r->threads, ring_thread, r);
    free(r);
    return err;
}

static const parc_stress_workload_t ring_workload = {
    .name = "eventcount.ring",
    .impl = "parc.eventcount",
    .description = "a token passed round a ring; every hand-off wakes the next holder",
    .min_threads = 2,
    .run = ring_run,
};
PARC_STRESS_WORKLOAD(ring_workload)
