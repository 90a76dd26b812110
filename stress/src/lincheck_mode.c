/*
 * The queue.lincheck workload and the --lincheck, --baton and --replay
 * modes of parc-stress (see lincheck_modes.h).
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lincheck_modes.h"
#include "parc/stress_baton.h"
#include "parc/stress_lincheck.h"
#include "parc/stress_litmus.h" /* parc_litmus_cpus() */

/* ---- the workload -------------------------------------------------------- */

static bool lc_applies(const void *impl)
{
    const parc_stress_queue_impl_t *q = impl;
    return q->order == PARC_STRESS_ORDER_FIFO || q->order == PARC_STRESS_ORDER_LIFO;
}

static bool lc_keep_going(void *arg)
{
    parc_stress_ctx_t *ctx = arg;
    parc_stress_progress(ctx, STRESS_MAIN_SLOT, "lincheck scenario");
    return !parc_stress_stopping(ctx);
}

/* The "2-3 threads": histories stay small enough to print, and
 * the search stays instant. No more than the CPUs, though: a worker that
 * waits for a core arrives after the others are done, and histories whose
 * operations never overlap test nothing concurrent. */
static unsigned lc_threads(unsigned allowed)
{
    unsigned cpus = parc_litmus_cpus();
    unsigned n = allowed > 3 ? 3 : allowed;
    if (n > cpus)
        n = cpus;
    return n < 2 ? 2 : n;
}

static int lc_run(parc_stress_ctx_t *ctx, const void *impl)
{
    const parc_stress_queue_impl_t *q = impl;
    const stress_options_t *opt = ctx->opt;
    bool under_baton = opt->baton;
    parc_lc_options_t o = {
        .seed = parc_stress_seed(ctx),
        .threads = lc_threads(parc_stress_threads(ctx)),
        .scenarios = opt->ops ? opt->ops : UINT64_MAX / 2,
        .report = stdout,
        .baton = under_baton,
        .keep_going = lc_keep_going,
        .keep_going_arg = ctx,
    };
    parc_lc_report_t rep = { 0 };
    fflush(stdout);
    int rc = parc_lc_run_queue(q, &o, &rep);
    parc_stress_add_ops(ctx, rep.scenarios);
    if (!opt->quiet && rc == 0)
        printf("  %s/%s: %" PRIu64 " histories checked, %" PRIu64
               " with overlapping operations\n", stress_queue_lincheck.name, q->name,
               rep.scenarios, rep.overlapping);
    switch (rc) {
    case 0:
        /* Histories in which no two operations overlapped test only the
         * sequential behaviour: evidence of nothing concurrent. */
        if (rep.scenarios == 0)
            parc_stress_skip(ctx, "no scenario ran");
        else if (rep.overlapping == 0)
            parc_stress_skip(ctx, "no two operations overlapped in %" PRIu64
                                  " histories (the threads never ran at once)",
                             rep.scenarios);
        return 0;
    case EDOM:
        printf("  replay: %s %s 0x%016" PRIx64 " --impl '%s'%s --threads %u --ops %" PRIu64
               "\n", opt->argv0, under_baton ? "--lincheck --replay" : "--lincheck --seed",
               opt->seed, q->name, (q->flags & PARC_STRESS_MUTANT) ? " --mutants" : "",
               o.threads, rep.violation_scenario + 1);
        if (!under_baton)
            printf("  (outside the baton the interleaving itself is not replayed; "
                   "the same scenarios are)\n");
        fflush(stdout);
        parc_stress_fail(ctx, "not linearizable as a %s: scenario %" PRIu64
                              " (history above)",
                         q->order == PARC_STRESS_ORDER_LIFO ? "stack" : "FIFO queue",
                         rep.violation_scenario);
        return 0;
    case EDEADLK:
        /* Threads are stuck under the baton for good: report and leave,
         * as the engine's watchdog does for a HANG. */
        fflush(stdout);
        stress_report_abort();
    case ENOTSUP:
        parc_stress_skip(ctx, under_baton ? "the baton needs a PARC_CHAOS build"
                                          : "no linearizable order promised");
        return 0;
    case EIO:
        parc_stress_fail(ctx, "an operation returned a code outside its contract "
                              "(history above)");
        return 0;
    default:
        return rc;
    }
}

const stress_builtin_t stress_queue_lincheck = {
    .name = "queue.lincheck",
    .kind = PARC_STRESS_KIND_QUEUE,
    .description = "short random histories (2-3 threads x 3-5 ops) checked for "
                   "linearizability against a FIFO/LIFO model (Wing-Gong search)",
    .applies = lc_applies,
    .run = lc_run,
};

/* ---- the modes -------------------------------------------------------------- */

static bool selected(const stress_options_t *opt, const stress_case_t *c)
{
    if ((c->flags & PARC_STRESS_MUTANT) && !opt->mutants)
        return false;
    char key[160];
    snprintf(key, sizeof key, "%s/%s", c->workload, c->impl);
    if (opt->filter != NULL &&
        (strpbrk(opt->filter, "*?[") ? fnmatch(opt->filter, key, 0) != 0
                                      : strstr(key, opt->filter) == NULL))
        return false;
    if (opt->impl != NULL &&
        (strpbrk(opt->impl, "*?[") ? fnmatch(opt->impl, c->impl, 0) != 0
                                    : strcmp(opt->impl, c->impl) != 0))
        return false;
    return true;
}

static int run_lincheck_cases(const stress_options_t *opt, const char *title)
{
    const stress_entry_t *entries;
    size_t n = stress_registry(&entries);
    stress_case_t *cases = calloc(n + 1, sizeof *cases);
    stress_result_t *results = calloc(n + 1, sizeof *results);
    if (cases == NULL || results == NULL) {
        free(cases);
        free(results);
        return 1;
    }
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (entries[i].kind != PARC_STRESS_KIND_QUEUE || !lc_applies(entries[i].impl))
            continue;
        stress_case_t *c = &cases[count];
        snprintf(c->workload, sizeof c->workload, "%s", stress_queue_lincheck.name);
        snprintf(c->impl, sizeof c->impl, "%s", stress_entry_name(&entries[i]));
        c->flags = stress_entry_flags(&entries[i]);
        c->builtin = &stress_queue_lincheck;
        c->impl_ptr = entries[i].impl;
        if (selected(opt, c))
            count++;
    }
    if (opt->list) {
        for (size_t i = 0; i < count; i++)
            printf("%s/%s\n", cases[i].workload, cases[i].impl);
        free(cases);
        free(results);
        return 0;
    }
    printf("parc-stress %s: seed 0x%016" PRIx64 " (%s build, %u threads, %zu runs)\n",
           title, opt->seed, stress_build_name(), lc_threads(opt->threads), count);
    fflush(stdout);
    stress_report_t rep = { .opt = opt, .results = results, .count = 0 };
    stress_report_set_current(&rep);
    for (size_t i = 0; i < count; i++) {
        results[i].c = &cases[i];
        results[i].status = STRESS_HANG;
        rep.count = i + 1;
        stress_run_case(opt, &cases[i], opt->seed, (unsigned)i, (unsigned)count,
                        &results[i]);
        results[i].threads = lc_threads(opt->threads);
    }
    int status = stress_report_finish(&rep);
    stress_report_set_current(NULL);
    free(cases);
    free(results);
    return status;
}

int stress_mode_lincheck(const stress_options_t *opt, const char *arg)
{
    (void)arg;
    return run_lincheck_cases(opt, opt->baton ? "--lincheck --baton" : "--lincheck");
}
