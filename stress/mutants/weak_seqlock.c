/*
 * Negative control only the weak-memory mode (--weak, parc/weak.h) can
 * catch: a seqlock reader without its acquire fence.
 *
 * The seqlock of Boehm, "Can Seqlocks Get Along With Programming Language
 * Memory Models?" (MSPC 2012), with atomic data. Writer: seq = s+1
 * (relaxed), release fence, data[0] = data[1] = k (relaxed), seq = s+2
 * (release). Reader: s1 = seq (acquire), even; d0, d1 (relaxed); acquire
 * fence; s2 = seq (relaxed); a snapshot with s1 == s2 must have
 * d0 == d1. The acquire fence makes a data load that saw a newer write
 * synchronize with that write's release fence, so s2 must see its odd
 * seq. Without it the C11 model lets s2 still read s1 and a torn snapshot
 * pass. x86 never reorders the loads and ThreadSanitizer sees no race (all
 * atomics): the default and tsan builds pass it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "parc/atomic.h"
#include "parc/stress.h"

typedef struct seq_run {
    parc_atomic(uint64_t) seq;
    parc_atomic(uint64_t) data[2];
} seq_run_t;

static void seq_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    seq_run_t *r = arg;
    if (index == 0) { /* the only writer */
        for (uint64_t k = 1; parc_stress_step(ctx, 0, "write"); k++) {
            uint64_t s = parc_load(&r->seq, PARC_RELAXED);
            parc_store(&r->seq, s + 1, PARC_RELAXED);
            /* release fence: a reader whose data load sees the stores
             * below (and fences with acquire) sees seq odd */
            parc_fence(PARC_RELEASE);
            parc_store(&r->data[0], k, PARC_RELAXED);
            parc_store(&r->data[1], k, PARC_RELAXED);
            /* release: publishes the data; pairs with the reader's s1 */
            parc_store(&r->seq, s + 2, PARC_RELEASE);
        }
        return;
    }
    while (parc_stress_step(ctx, index, "read")) {
        /* acquire: pairs with the writer's closing release store */
        uint64_t s1 = parc_load(&r->seq, PARC_ACQUIRE);
        if (s1 & 1)
            continue;
        uint64_t d0 = parc_load(&r->data[0], PARC_RELAXED);
        uint64_t d1 = parc_load(&r->data[1], PARC_RELAXED);
        /* THE BUG: no parc_fence(PARC_ACQUIRE) here */
        uint64_t s2 = parc_load(&r->seq, PARC_RELAXED);
        if (s1 == s2 && d0 != d1) {
            parc_stress_fail(ctx, "torn snapshot accepted: seq %" PRIu64
                                  ", data %" PRIu64 " and %" PRIu64, s1, d0, d1);
            return;
        }
    }
}

static int seq_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    seq_run_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return ENOMEM;
    parc_atomic_init(&r->seq, 0);
    parc_atomic_init(&r->data[0], 0);
    parc_atomic_init(&r->data[1], 0);
    int rc = parc_stress_run_threads(ctx, parc_stress_threads(ctx), seq_thread, r);
    free(r);
    return rc;
}

static const parc_stress_workload_t weak_seqlock = {
    .name = "weak.seqlock",
    .impl = "mutant.weak_seqlock",
    .description = "seqlock reader without its acquire fence (only --weak sees it)",
    .flags = PARC_STRESS_MUTANT,
    .min_threads = 2,
    .max_threads = 3,
    .run = seq_run,
};
PARC_STRESS_WORKLOAD(weak_seqlock)
