/*
 * Negative control only the weak-memory mode (--weak, parc/weak.h) can
 * catch: a Treiber stack (R. K. Treiber, IBM RJ 5118, 1986) whose pop
 * loads the head, and through it the node's next and contents, relaxed,
 * while the nodes' contents are atomics.
 *
 * Push stores the node's value and check word and its next (relaxed),
 * then publishes it with a release CAS of the head. Pop should load the
 * head with acquire, pairing with that CAS; relaxed, the C11 model lets it
 * read the node's next and contents from before the push: the initial
 * zeros (a node whose check word does not match its value) or a stale
 * next (nodes lost from the stack). Every node is used once (no ABA).
 * x86 keeps the push's stores in order and ThreadSanitizer sees no race
 * (all atomics): the default and tsan builds pass it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "parc/atomic.h"
#include "parc/stress.h"

#define NODES_PER_THREAD 65536u

typedef struct tnode {
    parc_atomic(struct tnode *) next;
    parc_atomic(uint64_t) value;
    parc_atomic(uint64_t) check;
} tnode_t;

typedef struct tr_run {
    PARC_CACHE_ALIGNED parc_atomic(tnode_t *) head;
    parc_atomic(uint64_t) popped;
    tnode_t *nodes;
    unsigned threads;
} tr_run_t;

static uint64_t check_of(uint64_t v)
{
    v ^= v >> 31;
    v *= UINT64_C(0x7fb5d329728ea185);
    return (v ^ (v >> 27)) | 1u; /* never 0, the initial check */
}

static void push(tr_run_t *r, tnode_t *n, uint64_t v)
{
    parc_store(&n->value, v, PARC_RELAXED);
    parc_store(&n->check, check_of(v), PARC_RELAXED);
    tnode_t *top = parc_load(&r->head, PARC_RELAXED);
    do
        parc_store(&n->next, top, PARC_RELAXED);
    /* release: publishes the node's next and contents; pairs with the
     * head load in pop, which should be acquire */
    while (!parc_cas(&r->head, &top, n, PARC_RELEASE, PARC_RELAXED));
}

static tnode_t *pop(tr_run_t *r)
{
    /* THE BUG: relaxed; acquire would pair with push's release CAS */
    tnode_t *top = parc_load(&r->head, PARC_RELAXED);
    while (top != NULL &&
           !parc_cas(&r->head, &top, parc_load(&top->next, PARC_RELAXED), PARC_RELAXED,
                     PARC_RELAXED))
        ;
    return top;
}

static void tr_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    tr_run_t *r = arg;
    tnode_t *mine = r->nodes + (size_t)index * NODES_PER_THREAD;
    unsigned used = 0;
    while (parc_stress_step(ctx, index, "push/pop")) {
        if (used < NODES_PER_THREAD && (parc_stress_random(ctx, index) & 1)) {
            push(r, &mine[used], ((uint64_t)index << 32) | (used + 1));
            used++;
            continue;
        }
        tnode_t *n = pop(r);
        if (n == NULL) {
            if (used == NODES_PER_THREAD)
                return; /* nothing left to do */
            continue;
        }
        uint64_t v = parc_load(&n->value, PARC_RELAXED);
        uint64_t c = parc_load(&n->check, PARC_RELAXED);
        if (c != check_of(v)) {
            parc_stress_fail(ctx, "popped node %" PRIu64 " before its contents: "
                                  "value %" PRIu64 ", check %" PRIx64,
                             (uint64_t)(n - r->nodes), v, c);
            return;
        }
        parc_faa(&r->popped, 1u, PARC_RELAXED);
    }
}

static int tr_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    unsigned threads = parc_stress_threads(ctx);
    /* aligned: the head has a cache line of its own */
    tr_run_t *r = aligned_alloc(PARC_CACHELINE, sizeof *r);
    tnode_t *nodes = calloc((size_t)threads * NODES_PER_THREAD, sizeof *nodes);
    if (r == NULL || nodes == NULL) {
        free(r);
        free(nodes);
        return ENOMEM;
    }
    memset(r, 0, sizeof *r);
    r->nodes = nodes;
    r->threads = threads;
    parc_atomic_init(&r->head, NULL);
    parc_atomic_init(&r->popped, 0);
    for (size_t i = 0; i < (size_t)threads * NODES_PER_THREAD; i++) {
        parc_atomic_init(&nodes[i].next, NULL);
        parc_atomic_init(&nodes[i].value, 0);
        parc_atomic_init(&nodes[i].check, 0);
    }
    int rc = parc_stress_run_threads(ctx, threads, tr_thread, r);
    if (rc == 0) {
        /* every pushed node was popped or is still on the stack */
        uint64_t pushed = 0, left = 0;
        for (size_t i = 0; i < (size_t)threads * NODES_PER_THREAD; i++)
            if (parc_raw_load(&nodes[i].check, PARC_RELAXED) != 0)
                pushed++;
        for (tnode_t *n = parc_raw_load(&r->head, PARC_ACQUIRE); n != NULL;
             n = parc_raw_load(&n->next, PARC_RELAXED))
            left++;
        uint64_t popped = parc_raw_load(&r->popped, PARC_RELAXED);
        if (popped + left != pushed)
            parc_stress_fail(ctx, "%" PRIu64 " nodes pushed, %" PRIu64 " popped and %"
                                  PRIu64 " left: nodes lost through a stale next",
                             pushed, popped, left);
    }
    free(nodes);
    free(r);
    return rc;
}

static const parc_stress_workload_t weak_treiber = {
    .name = "weak.treiber",
    .impl = "mutant.weak_treiber",
    .description = "Treiber pop loading head/next relaxed over atomic node contents "
                   "(only --weak sees it)",
    .flags = PARC_STRESS_MUTANT,
    .min_threads = 2,
    .max_threads = 3,
    .run = tr_run,
};
PARC_STRESS_WORKLOAD(weak_treiber)
