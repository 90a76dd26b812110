/*
 * Stress adapters for parc's semaphore (parc/sem.h).
 *
 *   permits parc.sem          unbounded semaphore, one permit at a time
 *   permits parc.sem_bounded  bounded at the initial permits: a release
 *                             past the bound would be EOVERFLOW, which the
 *                             workload reports as a failure (0 expected)
 *   sem.blocks                custom: threads take blocks of 1..3 permits
 *                             in the three forms; the permits held at once
 *                             (an atomic holder count) must never pass the
 *                             semaphore's, and every permit comes back. A
 *                             timed acquire of n that times out while n
 *                             permits sat free (no release) for half the
 *                             patience was not woken: a lost wake-up.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "parc/sem.h"
#include "parc/stress.h"
#include "parc/time.h"

/* ---- the permits adapters ------------------------------------------------ */

static int sem_create(void **out, unsigned permits)
{
    parc_sem_t *s = malloc(sizeof *s);
    if (s == NULL)
        return ENOMEM;
    int rc = parc_sem_init(s, permits);
    if (rc != 0) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static int bounded_create(void **out, unsigned permits)
{
    parc_sem_t *s = malloc(sizeof *s);
    if (s == NULL)
        return ENOMEM;
    int rc = parc_sem_init_bounded(s, permits, permits);
    if (rc != 0) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static void sem_destroy(void *s)
{
    parc_sem_destroy(s);
    free(s);
}

static int sem_acquire(void *s) { return parc_sem_acquire(s, 1); }
static int sem_try(void *s) { return parc_sem_acquire_try(s, 1); }
static int sem_timed(void *s, int64_t timeout_ns) { return parc_sem_acquire_timed(s, 1, timeout_ns); }
static int sem_release(void *s) { return parc_sem_release(s, 1); }

static const parc_stress_permits_impl_t sem_impl = {
    .name = "parc.sem",
    .description = "parc_sem_t, unbounded, one permit at a time",
    .create = sem_create,
    .destroy = sem_destroy,
    .acquire = sem_acquire,
    .try_acquire = sem_try,
    .acquire_timed = sem_timed,
    .release = sem_release,
};
PARC_STRESS_PERMITS(sem_impl)

static const parc_stress_permits_impl_t bounded_impl = {
    .name = "parc.sem_bounded",
    .description = "parc_sem_t bounded at its permits (a stray release: EOVERFLOW)",
    .create = bounded_create,
    .destroy = sem_destroy,
    .acquire = sem_acquire,
    .try_acquire = sem_try,
    .acquire_timed = sem_timed,
    .release = sem_release,
};
PARC_STRESS_PERMITS(bounded_impl)

/* ---- sem.blocks ------------------------------------------------------------- */

#define BLOCK_PERMITS 4u

typedef struct blocks {
    parc_sem_t sem;
    PARC_CACHE_ALIGNED parc_atomic(unsigned) held;   /* permits held now */
    PARC_CACHE_ALIGNED parc_atomic(int64_t) last_release; /* when the count
                                                        * last rose */
} blocks_t;

static void blocks_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    blocks_t *b = arg;
    int64_t patience = parc_stress_patience_ns(ctx);
    for (;;) {
        uint64_t dice = parc_stress_random(ctx, index);
        uint32_t n = (uint32_t)(dice % 3) + 1;
        int rc;
        switch ((dice >> 8) % 3) {
        case 0:
            rc = parc_sem_acquire(&b->sem, n);
            break;
        case 1:
            rc = parc_sem_acquire_try(&b->sem, n);
            break;
        default:
            rc = parc_sem_acquire_timed(&b->sem, n, patience);
            break;
        }
        if (rc == EAGAIN) {
            if (!parc_stress_step(ctx, index, "acquire_try (too few)"))
                return;
            continue;
        }
        if (rc == ETIMEDOUT) {
            /* Only a release raises the count: if none came for half the
             * patience and n permits are free now, they sat free all that
             * time while we slept. */
            int64_t since = parc_raw_load(&b->last_release, PARC_RELAXED);
            if (parc_sem_value(&b->sem) >= n &&
                parc_now_ns() - since > patience / 2) {
                parc_stress_fail(ctx, "lost wake-up: %u permits free since %.2f s "
                                      "but an acquire of %u timed out",
                                 parc_sem_value(&b->sem),
                                 (double)(parc_now_ns() - since) / 1e9, n);
                return;
            }
            if (!parc_stress_step(ctx, index, "acquire_timed (timed out)"))
                return;
            continue;
        }
        if (rc != 0) {
            parc_stress_fail(ctx, "acquire of %u permits returned %d", n, rc);
            return;
        }
        unsigned now = parc_raw_faa(&b->held, n, PARC_RELAXED) + n;
        if (now > BLOCK_PERMITS) {
            parc_stress_fail(ctx, "%u permits held at once; the semaphore has %u",
                             now, BLOCK_PERMITS);
            return;
        }
        if ((dice >> 16) % 8 == 0)
            sched_yield(); /* hold it across a reschedule sometimes */
        parc_raw_faa(&b->held, 0u - n, PARC_RELAXED);
        parc_raw_store(&b->last_release, parc_now_ns(), PARC_RELAXED);
        rc = parc_sem_release(&b->sem, n);
        if (rc != 0) {
            parc_stress_fail(ctx, "release of %u permits returned %d", n, rc);
            return;
        }
        if (!parc_stress_step(ctx, index, "acquire/release block"))
            return;
    }
}

static int blocks_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    blocks_t *b = aligned_alloc(PARC_CACHELINE,
        (sizeof(blocks_t) + PARC_CACHELINE - 1) / PARC_CACHELINE * PARC_CACHELINE);
    if (b == NULL)
        return ENOMEM;
    parc_sem_init_bounded(&b->sem, BLOCK_PERMITS, BLOCK_PERMITS);
    parc_atomic_init(&b->held, 0u);
    parc_atomic_init(&b->last_release, parc_now_ns());
    int err = parc_stress_run_threads(ctx, parc_stress_threads(ctx), blocks_thread, b);
    if (err == 0) {
        if (parc_sem_value(&b->sem) != BLOCK_PERMITS)
            parc_stress_fail(ctx, "%u permits left at the end, expected %u",
                             parc_sem_value(&b->sem), BLOCK_PERMITS);
        else if (parc_sem_acquire_try(&b->sem, BLOCK_PERMITS) != 0)
            parc_stress_fail(ctx, "could not take all %u permits back", BLOCK_PERMITS);
    }
    free(b);
    return err;
}

static const parc_stress_workload_t blocks_workload = {
    .name = "sem.blocks",
    .impl = "parc.sem",
    .description = "blocks of 1..3 of 4 permits, three forms: bound kept, none lost",
    .min_threads = 2,
    .run = blocks_run,
};
PARC_STRESS_WORKLOAD(blocks_workload)
