/*
 * parc/stress_lincheck.h: the scenario runner. Persistent worker threads
 * wait on a start flag, run their few operations against a fresh object
 * and report back; the caller's thread generates scenarios and checks the
 * recorded histories. The harness's own synchronization uses parc_raw_*
 * (no chaos point): only the object under test should be perturbed.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "parc/chaos.h"
#include "parc/stress_baton.h"
#include "parc/stress_lincheck.h"
#include "parc/stress_litmus.h" /* parc_litmus_pin() */
#include "parc/time.h"

#define LC_QUIT UINT64_MAX

typedef struct lc_plan_op {
    parc_lc_opcode_t opcode;
    uint64_t arg;
} lc_plan_op_t;

typedef struct lc_runner {
    const parc_lc_target_t *target;
    unsigned threads;
    bool baton;
    void *obj;
    lc_plan_op_t plan[PARC_LC_MAX_THREADS][PARC_LC_MAX_OPS_PER_THREAD];
    unsigned planned[PARC_LC_MAX_THREADS];
    parc_lc_recorder_t rec;
    parc_lc_history_t hist;
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) round;  /* scenario number, LC_QUIT */
    PARC_CACHE_ALIGNED parc_atomic(unsigned) finished; /* workers done this round */
    PARC_CACHE_ALIGNED parc_atomic(unsigned) arrived;  /* workers at the start line */
} lc_runner_t;

typedef struct lc_worker {
    lc_runner_t *run;
    unsigned index;
} lc_worker_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Wait until *word != old: spin a little (the other workers are about to
 * start too and we want the operations to overlap), then yield (2 cores,
 * more threads than that). */
static uint64_t wait_change(parc_atomic(uint64_t) *word, uint64_t old)
{
    for (unsigned polls = 0;; polls++) {
        /* acquire: pairs with the coordinator's release of the new round:
         * the plan, the fresh object and the reset recorder are visible. */
        uint64_t now = parc_raw_load(word, PARC_ACQUIRE);
        if (now != old)
            return now;
        if (polls < PARC_SPIN_POLLS)
            parc_cpu_relax();
        else
            sched_yield();
    }
}

static void *worker_main(void *arg)
{
    lc_worker_t *w = arg;
    lc_runner_t *run = w->run;
    unsigned t = w->index;
    parc_chaos_thread_begin(100u + t);
    /* distinct CPUs, so that the workers' operations can overlap at all
     * (best effort; under the baton it does not matter) */
    (void)parc_litmus_pin(t);
    uint64_t seen = 0;
    for (;;) {
        seen = wait_change(&run->round, seen);
        if (seen == LC_QUIT)
            return NULL;
        /* under the baton: wait for the scheduler's first choice */
        if (run->baton) {
            parc_baton_enter(t);
        } else {
            /* A start line: all workers leave it together, so that their
             * few operations overlap (a worker that starts a time slice
             * late would otherwise find the others done). acq_rel: a plain
             * counter, nothing else to publish; ordered like the round. */
            parc_raw_faa(&run->arrived, 1u, PARC_ACQ_REL);
            for (unsigned polls = 0;
                 parc_raw_load(&run->arrived, PARC_ACQUIRE) < run->threads; polls++) {
                if (polls < 16 * PARC_SPIN_POLLS)
                    parc_cpu_relax();
                else
                    sched_yield();
            }
        }
        uint64_t jitter = seen * UINT64_C(0x9E3779B97F4A7C15) + t;
        for (unsigned i = 0; i < run->planned[t]; i++) {
            const lc_plan_op_t *p = &run->plan[t][i];
            /* a few dozen PAUSEs at random between operations: shifts the
             * threads against each other so that different operations
             * overlap from one scenario to the next */
            if (!run->baton)
                for (unsigned k = (unsigned)(splitmix64(&jitter) % 48u); k > 0; k--)
                    parc_cpu_relax();
            parc_lc_op_t *op = parc_lc_invoke(&run->rec, &run->hist, t, p->opcode, p->arg);
            uint64_t result = 0;
            int rc = run->target->apply(run->obj, p->opcode, p->arg, &result);
            parc_lc_respond(&run->rec, &run->hist, t, op, rc, result);
        }
        if (run->baton)
            parc_baton_exit();
        /* release: publishes this thread's part of the history to the
         * coordinator's acquire load of `finished`. */
        parc_raw_faa(&run->finished, 1u, PARC_RELEASE);
    }
}

static void make_plan(lc_runner_t *run, const parc_lc_options_t *o,
                      uint64_t seed, uint64_t scenario)
{
    uint64_t x = seed ^ (scenario * UINT64_C(0xD1B54A32D192ED03));
    uint64_t next_value = 1;
    parc_lc_kind_t kind = run->target->model.kind;
    const parc_lc_target_t *tg = run->target;
    for (unsigned t = 0; t < run->threads; t++) {
        unsigned span = o->max_ops - o->min_ops + 1;
        run->planned[t] = o->min_ops + (unsigned)(splitmix64(&x) % span);
        /* roles of restricted containers: the first threads push, the
         * last ones pop */
        bool may_push = tg->max_pushers == 0 || t < tg->max_pushers;
        bool may_pop = tg->max_poppers == 0 || tg->max_poppers >= run->threads ||
                       t >= run->threads - tg->max_poppers;
        for (unsigned i = 0; i < run->planned[t]; i++) {
            uint64_t r = splitmix64(&x);
            lc_plan_op_t *p = &run->plan[t][i];
            switch (kind) {
            case PARC_LC_FIFO:
            case PARC_LC_LIFO:
            case PARC_LC_RENDEZVOUS:
                if (may_push && (!may_pop || (r & 1))) {
                    p->opcode = PARC_LC_PUSH;
                    p->arg = next_value++;
                } else {
                    p->opcode = PARC_LC_POP;
                    p->arg = 0;
                }
                break;
            case PARC_LC_COUNTER:
                p->opcode = (r % 3) ? PARC_LC_ADD : PARC_LC_GET;
                p->arg = p->opcode == PARC_LC_ADD ? 1 + (r >> 8) % 3 : 0;
                break;
            case PARC_LC_SET:
                p->opcode = (r % 3) == 0 ? PARC_LC_ADD
                          : (r % 3) == 1 ? PARC_LC_REMOVE : PARC_LC_CONTAINS;
                p->arg = 1 + (r >> 8) % 3;
                break;
            }
        }
    }
}

/* A return code the operation's contract allows (anything else is an
 * adapter or implementation error, not a linearizability question). */
static bool rc_allowed(parc_lc_kind_t kind, const parc_lc_op_t *op)
{
    if (op->rc == 0)
        return true;
    switch (op->opcode) {
    case PARC_LC_PUSH:
    case PARC_LC_POP:
        return op->rc == EAGAIN;
    case PARC_LC_ADD:
        return kind == PARC_LC_SET && op->rc == EEXIST;
    case PARC_LC_REMOVE:
        return op->rc == ENOENT;
    default:
        return false;
    }
}

static bool has_overlap(const parc_lc_history_t *h)
{
    for (unsigned t = 0; t < h->threads; t++)
        for (unsigned i = 0; i < h->count[t]; i++)
            for (unsigned u = t + 1; u < h->threads; u++)
                for (unsigned j = 0; j < h->count[u]; j++)
                    if (h->ops[u][j].seen[t] <= i && h->ops[t][i].seen[u] <= j)
                        return true;
    return false;
}

static void describe(FILE *out, const parc_lc_target_t *tg, const parc_lc_options_t *o,
                     uint64_t scenario)
{
    fprintf(out, "  target %s, seed %" PRIu64 " (0x%" PRIx64 "), scenario %" PRIu64
                 ", %u threads x %u..%u operations%s\n",
            tg->name ? tg->name : "?", o->seed, o->seed, scenario, o->threads,
            o->min_ops, o->max_ops, o->baton ? ", under the baton" : "");
}

int parc_lc_run(const parc_lc_target_t *target, const parc_lc_options_t *opt,
                parc_lc_report_t *report)
{
    if (target == NULL || target->create == NULL || target->destroy == NULL ||
        target->apply == NULL || (unsigned)target->model.kind > PARC_LC_RENDEZVOUS)
        return EINVAL;
    parc_lc_options_t o = { 0 };
    if (opt != NULL)
        o = *opt;
    if (o.seed == 0)
        o.seed = 1;
    if (o.threads == 0)
        o.threads = 3;
    if (o.min_ops == 0)
        o.min_ops = 3;
    if (o.max_ops == 0)
        o.max_ops = o.min_ops > 5 ? o.min_ops : 5;
    if (o.scenarios == 0)
        o.scenarios = 20000;
    if (o.report == NULL)
        o.report = stderr;
    if (target->max_pushers != 0 && target->max_poppers != 0 &&
        o.threads > target->max_pushers + target->max_poppers)
        o.threads = target->max_pushers + target->max_poppers;
    if (o.baton && !parc_baton_available())
        return ENOTSUP;
    if (o.threads < 2 || o.threads > PARC_LC_MAX_THREADS || o.min_ops > o.max_ops ||
        o.max_ops > PARC_LC_MAX_OPS_PER_THREAD || o.duration_ns < 0)
        return EINVAL;

    parc_lc_report_t rep = { 0 };
    lc_runner_t *run = calloc(1, sizeof *run);
    if (run == NULL)
        return ENOMEM;
    run->target = target;
    run->threads = o.threads;
    run->baton = o.baton;
    parc_atomic_init(&run->round, 0);
    parc_atomic_init(&run->finished, 0);
    parc_atomic_init(&run->arrived, 0);

    pthread_t tids[PARC_LC_MAX_THREADS];
    lc_worker_t workers[PARC_LC_MAX_THREADS];
    unsigned started = 0;
    int rc = 0;
    for (; started < o.threads; started++) {
        workers[started].run = run;
        workers[started].index = started;
        if (pthread_create(&tids[started], NULL, worker_main, &workers[started]) != 0) {
            rc = EAGAIN;
            break;
        }
    }

    parc_deadline_t deadline = PARC_FOREVER;
    if (o.duration_ns > 0)
        parc_deadline_in(&deadline, o.duration_ns);
    for (uint64_t k = 0; rc == 0 && k < o.scenarios; k++) {
        if (k > 0 && (parc_deadline_passed(deadline) ||
                      (o.keep_going != NULL && !o.keep_going(o.keep_going_arg))))
            break;
        make_plan(run, &o, o.seed, k);
        parc_lc_recorder_reset(&run->rec, &run->hist, o.threads);
        run->obj = target->create(target->ctx);
        if (run->obj == NULL) {
            rc = ENOMEM;
            break;
        }
        parc_raw_store(&run->finished, 0u, PARC_RELAXED);
        parc_raw_store(&run->arrived, 0u, PARC_RELAXED);
        parc_baton_result_t schedule;
        memset(&schedule, 0, sizeof schedule);
        if (o.baton) {
            unsigned total = 0;
            for (unsigned t = 0; t < o.threads; t++)
                total += run->planned[t];
            uint64_t x = o.seed ^ (k * UINT64_C(0x9E6C63D0676A9A99));
            parc_baton_options_t bo = { .seed = splitmix64(&x) | 1u,
                                        .depth = o.baton_depth,
                                        .expected_steps = 6u * total };
            rc = parc_baton_begin(o.threads, &bo);
            if (rc != 0)
                break;
        }
        /* release: publishes the plan, object and reset recorder to the
         * workers' acquire loads in wait_change(). */
        parc_raw_store(&run->round, k + 1, PARC_RELEASE);
        /* acquire: pairs with each worker's release increment: their
         * history records are complete and visible. */
        while (parc_raw_load(&run->finished, PARC_ACQUIRE) < o.threads) {
            if (o.baton && parc_baton_stuck()) {
                parc_baton_end(&schedule);
                fprintf(o.report, "HANG: scenario stuck under the baton\n");
                describe(o.report, target, &o, k);
                parc_baton_print(o.report, &schedule);
                /* the workers are stuck for good: leave them */
                if (report != NULL) {
                    rep.violations++;
                    rep.violation_scenario = k;
                    *report = rep;
                }
                return EDEADLK;
            }
            sched_yield();
        }
        if (o.baton && parc_baton_end(&schedule) != 0) {
            rc = EDEADLK;
            break;
        }
        target->destroy(target->ctx, run->obj);
        run->obj = NULL;
        rep.scenarios++;

        const parc_lc_history_t *h = &run->hist;
        for (unsigned t = 0; t < h->threads && rc == 0; t++) {
            for (unsigned i = 0; i < h->count[t]; i++) {
                if (!rc_allowed(target->model.kind, &h->ops[t][i])) {
                    fprintf(o.report, "lincheck: operation T%u.%u returned %d, outside "
                                      "its contract\n", t, i, h->ops[t][i].rc);
                    describe(o.report, target, &o, k);
                    parc_lc_history_print(o.report, h, &target->model);
                    rc = EIO;
                    break;
                }
            }
        }
        if (rc != 0)
            break;
        if (has_overlap(h))
            rep.overlapping++;
        int verdict = parc_lc_check(h, &target->model, NULL);
        if (verdict == EDOM) {
            rep.violations++;
            rep.violation_scenario = k;
            fprintf(o.report, "LINEARIZABILITY VIOLATION: no order of these operations "
                              "explains the results under the %s model\n",
                    parc_lc_kind_name(target->model.kind));
            describe(o.report, target, &o, k);
            parc_lc_history_print(o.report, h, &target->model);
            if (o.baton)
                parc_baton_print(o.report, &schedule);
            rc = EDOM;
        } else if (verdict != 0) {
            rc = verdict;
        }
    }

    /* release: the quit flag (nothing else to publish) */
    parc_raw_store(&run->round, LC_QUIT, PARC_RELEASE);
    for (unsigned t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    free(run);
    if (report != NULL)
        *report = rep;
    return rc;
}
