/*
 * Stress workload for parc's Chase–Lev deque (parc/deque.h).
 *
 *   deque.steal / parc.deque   thread 0 owns the deque: it pushes tasks in
 *       random bursts (the deque starts with 2 slots, so it grows under
 *       the thieves' feet) and pops some back, often down to empty, where
 *       its pop races the thieves for the last task. Every other thread
 *       steals. Every task must be taken exactly once, by the owner or by
 *       one thief.
 *
 * Bookkeeping: task ids are a sequence; id i owns slot i % WINDOW of a
 * table of generations. Taking id i moves its slot from generation
 * i / WINDOW to the next with a CAS: a second take of the same id (or a
 * take of an id never pushed) fails the CAS and is reported. The owner
 * pushes id i only once the previous id of its slot was taken, so the
 * table stays small however long the run. At the end every slot must be
 * at the generation the number of pushed ids implies: nothing lost.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "parc/atomic.h"
#include "parc/deque.h"
#include "parc/stress.h"

#define WINDOW (1u << 16)

typedef struct steal_run {
    parc_stress_ctx_t *ctx;
    parc_deque_t deque;
    parc_atomic(uint32_t) gen[WINDOW];
    parc_atomic(int) done; /* the owner has stopped and drained */
    uint64_t pushed;       /* owner only; read after the join */
} steal_run_t;

#define TASK(id) ((void *)(uintptr_t)((id) + 1))
#define TASK_ID(v) ((uint64_t)(uintptr_t)(v) - 1)

static void take(steal_run_t *r, void *v, const char *who)
{
    uint64_t id = TASK_ID(v);
    uint32_t expected = (uint32_t)(id / WINDOW);
    /* acq_rel: the owner's check of this slot before reusing it (acquire
     * there) sees the take; nothing else is published. */
    if (!parc_cas(&r->gen[id % WINDOW], &expected, (uint32_t)(id / WINDOW + 1),
                  PARC_ACQ_REL, PARC_RELAXED))
        parc_stress_fail(r->ctx, "%s took task %" PRIu64 " %s", who, id,
                         expected > id / WINDOW ? "a second time" : "before it was pushed");
}

static void steal_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    steal_run_t *r = arg;
    void *v;
    if (index == 0) {
        uint64_t next = 0;
        while (parc_stress_step(ctx, 0, "owner push/pop")) {
            uint64_t rnd = parc_stress_random(ctx, 0);
            unsigned burst = 1 + (unsigned)(rnd % 300);
            for (unsigned i = 0; i < burst; i++) {
                /* acquire: pairs with the CAS in take(): the previous task
                 * of this slot is done with. */
                if (parc_load(&r->gen[next % WINDOW], PARC_ACQUIRE) != next / WINDOW)
                    break; /* a straggler still holds it: pop instead */
                int rc = parc_deque_push(&r->deque, TASK(next));
                if (rc != 0) {
                    parc_stress_fail(ctx, "push returned %d", rc);
                    break;
                }
                next++;
            }
            unsigned pops = (unsigned)((rnd >> 20) % (burst + burst / 2 + 1));
            for (unsigned i = 0; i < pops; i++) {
                if (parc_deque_pop(&r->deque, &v) != 0)
                    break;
                take(r, v, "owner");
            }
        }
        while (parc_deque_pop(&r->deque, &v) == 0)
            take(r, v, "owner");
        r->pushed = next;
        /* release: the drain above happens before thieves stop. */
        parc_store(&r->done, 1, PARC_RELEASE);
        return;
    }
    uint64_t attempts = 0;
    for (;;) {
        /* acquire: pairs with the owner's release store of done. */
        int done = parc_load(&r->done, PARC_ACQUIRE);
        int rc = parc_deque_steal(&r->deque, &v);
        if (rc == 0)
            take(r, v, "thief");
        else if (rc != EAGAIN)
            parc_stress_fail(ctx, "steal returned %d", rc);
        else if (done)
            break;
        if ((++attempts & 255) == 0)
            parc_stress_progress(ctx, index, "steal");
    }
    parc_stress_add_ops(ctx, attempts);
}

static int steal_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    steal_run_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return ENOMEM;
    r->ctx = ctx;
    int rc = parc_deque_init(&r->deque, 2);
    if (rc != 0) {
        free(r);
        return rc;
    }
    rc = parc_stress_run_threads(ctx, parc_stress_threads(ctx), steal_thread, r);
    if (rc == 0) {
        void *v;
        if (parc_deque_steal(&r->deque, &v) == 0)
            parc_stress_fail(ctx, "task %" PRIu64 " left in the deque", TASK_ID(v));
        for (uint64_t s = 0; s < WINDOW; s++) {
            /* ids s, s + WINDOW, ... below pushed were each taken once */
            uint64_t want = r->pushed > s ? (r->pushed - s + WINDOW - 1) / WINDOW : 0;
            uint32_t got = parc_load(&r->gen[s], PARC_RELAXED);
            if (got != want) {
                parc_stress_fail(ctx, "slot %" PRIu64 ": %u takes, expected %" PRIu64
                                 " (a task lost)", s, got, want);
                break;
            }
        }
    }
    parc_deque_destroy(&r->deque);
    free(r);
    return rc;
}

static const parc_stress_workload_t steal_workload = {
    .name = "deque.steal",
    .impl = "parc.deque",
    .description = "one owner pushes/pops with growth, thieves steal: each task taken once",
    .min_threads = 2,
    .run = steal_run,
};
PARC_STRESS_WORKLOAD(steal_workload)
