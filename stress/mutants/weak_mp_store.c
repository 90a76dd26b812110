/*
 * Negative control only the weak-memory mode (--weak, parc/weak.h) can
 * catch: message passing through two atomics whose flag store is relaxed.
 *
 * The writer stores data = i, then flag = i; readers load the flag with
 * acquire, then the data, and require data >= flag. The flag's store
 * should be release (it publishes the data store before it); relaxed, the
 * C11 model lets a reader that saw flag i still read an older data. x86
 * keeps stores in order, and ThreadSanitizer sees no race (both are
 * atomics), so the default and tsan builds pass it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "parc/atomic.h"
#include "parc/stress.h"

typedef struct mp_run {
    parc_atomic(uint64_t) data;
    parc_atomic(uint64_t) flag;
} mp_run_t;

static void mp_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    mp_run_t *r = arg;
    if (index == 0) {
        for (uint64_t i = 1; parc_stress_step(ctx, 0, "publish"); i++) {
            parc_store(&r->data, i, PARC_RELAXED);
            /* THE BUG: relaxed; release would publish the data store */
            parc_store(&r->flag, i, PARC_RELAXED);
        }
        return;
    }
    while (parc_stress_step(ctx, index, "read")) {
        /* acquire: meant to pair with a release store of the flag */
        uint64_t f = parc_load(&r->flag, PARC_ACQUIRE);
        uint64_t d = parc_load(&r->data, PARC_RELAXED);
        if (d < f) {
            parc_stress_fail(ctx, "saw flag %" PRIu64 " but data %" PRIu64, f, d);
            return;
        }
    }
}

static int mp_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    mp_run_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return ENOMEM;
    parc_atomic_init(&r->data, 0);
    parc_atomic_init(&r->flag, 0);
    int rc = parc_stress_run_threads(ctx, parc_stress_threads(ctx), mp_thread, r);
    free(r);
    return rc;
}

static const parc_stress_workload_t weak_mp_store = {
    .name = "weak.message_passing",
    .impl = "mutant.weak_mp_store",
    .description = "flag stored relaxed instead of release (only --weak sees it)",
    .flags = PARC_STRESS_MUTANT,
    .min_threads = 2,
    .max_threads = 3,
    .run = mp_run,
};
PARC_STRESS_WORKLOAD(weak_mp_store)
