/*
 * Negative control only the weak-memory mode (--weak, parc/weak.h) can
 * catch: message passing through two atomics whose flag load is relaxed.
 *
 * The writer stores data = i, then flag = i with release; readers load
 * the flag, then the data, and require data >= flag. The flag's load
 * should be acquire (to pair with the release); relaxed, the C11 model
 * lets a reader that saw flag i still read an older data. x86
 * keeps stores in order, and ThreadSanitizer sees no race (both are
 * atomics), so the default and tsan builds pass it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "parc/atomic.h"
#include "parc/stress.h"

typedef struct mpl_run {
    parc_atomic(uint64_t) data;
    parc_atomic(uint64_t) flag;
} mpl_run_t;

static void mpl_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    mpl_run_t *r = arg;
    if (index == 0) {
        for (uint64_t i = 1; parc_stress_step(ctx, 0, "publish"); i++) {
            parc_store(&r->data, i, PARC_RELAXED);
            /* release: publishes the data store; pairs with the reader's
             * flag load, which should be acquire */
            parc_store(&r->flag, i, PARC_RELEASE);
        }
        return;
    }
    while (parc_stress_step(ctx, index, "read")) {
        /* THE BUG: relaxed; acquire would pair with the release store */
        uint64_t f = parc_load(&r->flag, PARC_RELAXED);
        uint64_t d = parc_load(&r->data, PARC_RELAXED);
        if (d < f) {
            parc_stress_fail(ctx, "saw flag %" PRIu64 " but data %" PRIu64, f, d);
            return;
        }
    }
}

static int mpl_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    mpl_run_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return ENOMEM;
    parc_atomic_init(&r->data, 0);
    parc_atomic_init(&r->flag, 0);
    int rc = parc_stress_run_threads(ctx, parc_stress_threads(ctx), mpl_thread, r);
    free(r);
    return rc;
}

static const parc_stress_workload_t weak_mp_load = {
    .name = "weak.message_passing",
    .impl = "mutant.weak_mp_load",
    .description = "flag loaded relaxed instead of acquire (only --weak sees it)",
    .flags = PARC_STRESS_MUTANT,
    .min_threads = 2,
    .max_threads = 3,
    .run = mpl_run,
};
PARC_STRESS_WORKLOAD(weak_mp_load)
