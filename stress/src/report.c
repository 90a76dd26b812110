/*
 * Reporting: the live progress line (terminals only), the summary table,
 * re-run hints, the JSON report and the closing "N passed, N failed" line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "parc/chaos.h"
#include "stress_internal.h"

const char *stress_status_name(stress_status_t s)
{
    switch (s) {
    case STRESS_PASS:
        return "PASS";
    case STRESS_FAIL:
        return "FAIL";
    case STRESS_HANG:
        return "HANG";
    case STRESS_SKIP:
        return "SKIP";
    }
    return "?";
}

const char *stress_build_name(void)
{
#if defined(PARC_TSAN)
    return "tsan";
#elif defined(__SANITIZE_ADDRESS__)
    return "asan";
#elif defined(PARC_WEAK)
    return "weak";
#else
    return parc_chaos_compiled() ? "chaos" : "default";
#endif
}

void stress_rerun_command(const stress_options_t *opt, const stress_case_t *c,
                          char *buf, size_t size)
{
    char budget[64];
    if (opt->ops && opt->seconds > 0)
        snprintf(budget, sizeof budget, "--ops %" PRIu64 " --seconds %g", opt->ops,
                 opt->seconds);
    else if (opt->ops)
        snprintf(budget, sizeof budget, "--ops %" PRIu64, opt->ops);
    else
        snprintf(budget, sizeof budget, "--seconds %g", opt->seconds);
    snprintf(buf, size,
             "%s %s 0x%016" PRIx64 " --filter '%s/*' --impl '%s'%s --threads %u %s",
             opt->argv0, opt->weak ? "--weak --replay" : opt->baton ? "--replay" : "--seed",
             opt->seed, c->workload, c->impl,
             (c->flags & PARC_STRESS_MUTANT) ? " --mutants" : "", opt->threads,
             budget);
}

/* ---- progress line ---------------------------------------------------------- */

void stress_progress_line(const parc_stress_ctx_t *ctx, unsigned index,
                          unsigned total)
{
    if (!ctx->opt->tty || ctx->opt->quiet)
        return;
    uint64_t progress = 0;
    for (unsigned i = 0; i <= STRESS_MAX_THREADS; i++)
        progress += parc_raw_load(&((parc_stress_ctx_t *)ctx)->slots[i].progress,
                                  PARC_RELAXED);
    fprintf(stderr, "\r\033[K[%u/%u] %s/%s  %.1f s  progress %" PRIu64, index + 1,
            total, ctx->c->workload, ctx->c->impl,
            (double)stress_elapsed_ns(ctx) / 1e9, progress);
    fflush(stderr);
}

void stress_progress_clear(const stress_options_t *opt)
{
    if (!opt->tty || opt->quiet)
        return;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
}

/* ---- summary ---------------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static double ops_per_s(const stress_result_t *r)
{
    return r->seconds > 0 ? (double)r->ops / r->seconds : 0.0;
}

static void write_json(const stress_report_t *rep, unsigned passed,
                       unsigned failed, unsigned skipped)
{
    const stress_options_t *opt = rep->opt;
    FILE *f = fopen(opt->json, "w");
    if (f == NULL) {
        perror(opt->json);
        return;
    }
    fprintf(f, "{\n  \"tool\": \"parc-stress\",\n  \"build\": \"%s\",\n",
            stress_build_name());
    fprintf(f, "  \"seed\": \"0x%016" PRIx64 "\",\n  \"threads\": %u,\n", opt->seed,
            opt->threads);
    fprintf(f, "  \"ops\": %" PRIu64 ",\n  \"seconds\": %g,\n  \"runs\": [", opt->ops,
            opt->seconds);
    for (size_t i = 0; i < rep->count; i++) {
        const stress_result_t *r = &rep->results[i];
        char rerun[512];
        stress_rerun_command(opt, r->c, rerun, sizeof rerun);
        fprintf(f, "%s\n    {\"workload\": ", i ? "," : "");
        json_string(f, r->c->workload);
        fprintf(f, ", \"implementation\": ");
        json_string(f, r->c->impl);
        fprintf(f, ", \"mutant\": %s, \"threads\": %u, \"operations\": %" PRIu64
                   ", \"seconds\": %.3f, \"ops_per_second\": %.0f, \"violations\": %" PRIu64
                   ", \"status\": \"%s\", \"seed\": \"0x%016" PRIx64 "\", \"message\": ",
                (r->c->flags & PARC_STRESS_MUTANT) ? "true" : "false", r->threads,
                r->ops, r->seconds, ops_per_s(r), r->violations,
                stress_status_name(r->status), r->seed);
        json_string(f, r->message);
        fprintf(f, ", \"rerun\": ");
        json_string(f, rerun);
        fprintf(f, "}");
    }
    fprintf(f, "\n  ],\n  \"passed\": %u,\n  \"failed\": %u,\n  \"skipped\": %u\n}\n",
            passed, failed, skipped);
    fclose(f);
}

int stress_report_finish(const stress_report_t *rep)
{
    const stress_options_t *opt = rep->opt;
    unsigned passed = 0, failed = 0, skipped = 0;
    int wl = (int)strlen("workload"), im = (int)strlen("implementation");
    for (size_t i = 0; i < rep->count; i++) {
        const stress_result_t *r = &rep->results[i];
        int a = (int)strlen(r->c->workload), b = (int)strlen(r->c->impl);
        wl = a > wl ? a : wl;
        im = b > im ? b : im;
        if (r->status == STRESS_PASS)
            passed++;
        else if (r->status == STRESS_SKIP)
            skipped++;
        else
            failed++;
    }
    if (!opt->quiet || failed) {
        printf("\n%-*s  %-*s  %7s  %12s  %12s  %10s  %s\n", wl, "workload", im,
               "implementation", "threads", "operations", "ops/s", "violations",
               "status");
        for (size_t i = 0; i < rep->count; i++) {
            const stress_result_t *r = &rep->results[i];
            if (opt->quiet && (r->status == STRESS_PASS || r->status == STRESS_SKIP))
                continue;
            printf("%-*s  %-*s  %7u  %12" PRIu64 "  %12.0f  %10" PRIu64 "  %s%s%s\n",
                   wl, r->c->workload, im, r->c->impl, r->threads, r->ops,
                   ops_per_s(r), r->violations, stress_status_name(r->status),
                   r->status == STRESS_PASS ? "" : "  ",
                   r->status == STRESS_PASS ? "" : r->message);
        }
    }
    bool hint = false;
    for (size_t i = 0; i < rep->count; i++) {
        const stress_result_t *r = &rep->results[i];
        if (r->status != STRESS_FAIL && r->status != STRESS_HANG)
            continue;
        if (!hint)
            printf("\nTo re-run a failure with the same seed:\n");
        hint = true;
        char rerun[512];
        stress_rerun_command(opt, r->c, rerun, sizeof rerun);
        printf("  %s\n", rerun);
    }
    if (opt->json)
        write_json(rep, passed, failed, skipped);
    printf("\n%u passed, %u failed", passed, failed);
    if (skipped)
        printf(", %u skipped", skipped);
    printf("\n");
    fflush(stdout);
    return failed ? 1 : 0;
}

static stress_report_t *current;

void stress_report_set_current(stress_report_t *rep)
{
    current = rep;
}

_Noreturn void stress_report_abort(void)
{
    if (current)
        (void)stress_report_finish(current);
    fflush(stdout);
    fflush(stderr);
    _exit(1);
}
