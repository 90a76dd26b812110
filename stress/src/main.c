/*
 * parc_stress_main: the parc-stress command line.
 *
 * Options live in one table (`options` below); each entry parses its value
 * into stress_options_t. Other modes of the harness (linearizability,
 * litmus, baton replay) plug in through the `modes` table: an option that
 * selects the mode, and a function that runs it with the parsed options
 * instead of the default suite. To add one, add a row to each table.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "parc/stress_baton.h"
#include "parc/time.h"
#include "parc/weak.h"
#include "weak_modes.h"
#include "stress_internal.h"
#include "lincheck_modes.h" /* stress-lin's modes: lincheck, baton, litmus */

/* ---- modes other than the default suite ------------------------------------ */

typedef int (*stress_mode_fn)(const stress_options_t *opt, const char *arg);

typedef struct stress_mode {
    const char *option;   /* "--lincheck" */
    bool has_arg;         /* the option takes a value, passed to run() */
    const char *help;
    stress_mode_fn run;
} stress_mode_t;

static const stress_mode_t modes[] = {
    /* { "--example", false, "run the example mode", example_main }, */
    /* stress-lin's modes (lincheck_mode.c, litmus_mode.c) */
    { "--lincheck", false, "check queues' linearizability only (queue.lincheck cases)",
      stress_mode_lincheck },
    { "--litmus", false, "run the litmus catalogue and registered litmus tests",
      stress_mode_litmus },
    /* the weak-memory model's exhaustive mode (explore.c) */
    { "--explore", false, "enumerate every schedule and read choice of tiny cases "
                          "(litmus, core protocols) within bounds (PARC_WEAK builds)",
      stress_mode_explore },
    { NULL, false, NULL, NULL },
};

/* ---- option parsing --------------------------------------------------------- */

typedef int (*option_fn)(stress_options_t *opt, const char *value);

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-')
        return EINVAL;
    *out = v;
    return 0;
}

static int opt_list(stress_options_t *o, const char *v) { (void)v; o->list = true; return 0; }
static int opt_mutants(stress_options_t *o, const char *v) { (void)v; o->mutants = true; return 0; }
static int opt_quiet(stress_options_t *o, const char *v) { (void)v; o->quiet = true; return 0; }
static int opt_fail_fast(stress_options_t *o, const char *v) { (void)v; o->fail_fast = true; return 0; }
static int opt_filter(stress_options_t *o, const char *v) { o->filter = v; return 0; }
static int opt_impl(stress_options_t *o, const char *v) { o->impl = v; return 0; }
static int opt_json(stress_options_t *o, const char *v) { o->json = v; return 0; }
static int opt_seed(stress_options_t *o, const char *v) { return parse_u64(v, &o->seed); }
static int opt_baton(stress_options_t *o, const char *v) { (void)v; o->baton = true; return 0; }
static int opt_weak(stress_options_t *o, const char *v)
{
    (void)v;
    o->weak = o->baton = true;
    return 0;
}
static int opt_replay(stress_options_t *o, const char *v)
{
    o->baton = true;
    return parse_u64(v, &o->seed);
}

static int opt_threads(stress_options_t *o, const char *v)
{
    uint64_t n;
    if (parse_u64(v, &n) || n < 1 || n > STRESS_MAX_THREADS)
        return EINVAL;
    o->threads = (unsigned)n;
    return 0;
}

static bool seconds_given;

static int opt_ops(stress_options_t *o, const char *v)
{
    if (parse_u64(v, &o->ops) || o->ops == 0)
        return EINVAL;
    return 0;
}

static int parse_seconds(const char *v, double *out)
{
    char *end;
    double s = strtod(v, &end);
    if (end == v || *end || !(s > 0) || s > 1e6)
        return EINVAL;
    *out = s;
    return 0;
}

static int opt_seconds(stress_options_t *o, const char *v)
{
    seconds_given = true;
    return parse_seconds(v, &o->seconds);
}
static int opt_watchdog(stress_options_t *o, const char *v) { return parse_seconds(v, &o->watchdog_seconds); }

typedef struct option_def {
    const char *name;
    const char *value;     /* NULL: a flag */
    const char *help;
    option_fn parse;
} option_def_t;

static const option_def_t options[] = {
    { "--list", NULL, "list the cases (workload/implementation) and exit", opt_list },
    { "--filter", "PATTERN", "run cases whose \"workload/impl\" matches (glob, else substring)", opt_filter },
    { "--impl", "NAME", "run only this implementation (exact name or glob)", opt_impl },
    { "--mutants", NULL, "include the negative controls (expected to FAIL)", opt_mutants },
    { "--threads", "N", "threads per run (default 2 x cores, at most 256)", opt_threads },
    { "--ops", "N", "operation budget per run (all threads together)", opt_ops },
    { "--seconds", "S", "time budget per run (default 0.5; with --ops: whichever first)", opt_seconds },
    { "--seed", "S", "the seed (decimal or 0x hex; default: from the clock)", opt_seed },
    { "--json", "FILE", "write a JSON report", opt_json },
    { "--baton", NULL, "serialize each run under the PCT scheduler (PARC_CHAOS builds): "
                       "the seed replays the schedule", opt_baton },
    { "--replay", "SEED", "--baton --seed SEED: re-run a failing schedule", opt_replay },
    { "--weak", NULL, "--baton under the C11 weak-memory model (PARC_WEAK builds): loads "
                      "may read older stores; --weak --replay SEED replays", opt_weak },
    { "--quiet", NULL, "print only failures and the closing line", opt_quiet },
    { "--fail-fast", NULL, "stop after the first failing run", opt_fail_fast },
    { "--watchdog", "S", "HANG after S s without progress (default 10, x10 tsan/chaos)", opt_watchdog },
};

static void usage(FILE *f, const char *argv0)
{
    fprintf(f, "usage: %s [options]\n\n", argv0);
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        char left[40];
        snprintf(left, sizeof left, "%s%s%s", options[i].name,
                 options[i].value ? " " : "", options[i].value ? options[i].value : "");
        fprintf(f, "  %-20s %s\n", left, options[i].help);
    }
    for (const stress_mode_t *m = modes; m->option; m++)
        fprintf(f, "  %-20s %s\n", m->option, m->help);
    fprintf(f, "  %-20s %s\n", "--help", "this text");
    fprintf(f, "\nThe closing line is \"N passed, N failed[, N skipped]\"; the exit\n"
               "status is 0 only when nothing failed (1: a failure or hang, 2: usage).\n");
}

static uint64_t clock_seed(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    x ^= (uint64_t)getpid() << 32;
    x = (x ^ (x >> 31)) * UINT64_C(0x7fb5d329728ea185);
    x ^= x >> 27;
    return x ? x : 1;
}

/* ---- the cases ------------------------------------------------------------- */

static bool matches(const char *pattern, const char *text)
{
    if (pattern == NULL)
        return true;
    if (strpbrk(pattern, "*?["))
        return fnmatch(pattern, text, 0) == 0;
    return strstr(text, pattern) != NULL;
}

static bool exact_or_glob(const char *pattern, const char *text)
{
    if (pattern == NULL)
        return true;
    if (strpbrk(pattern, "*?["))
        return fnmatch(pattern, text, 0) == 0;
    return strcmp(pattern, text) == 0;
}

static bool selected(const stress_options_t *opt, const stress_case_t *c)
{
    if ((c->flags & PARC_STRESS_MUTANT) && !opt->mutants)
        return false;
    char key[160];
    snprintf(key, sizeof key, "%s/%s", c->workload, c->impl);
    return matches(opt->filter, key) && exact_or_glob(opt->impl, c->impl);
}

/* Every case in a stable order: built-in workloads in table order over the
 * implementations in registration order, then the custom workloads. */
static size_t collect_cases(const stress_options_t *opt, stress_case_t **out)
{
    const stress_entry_t *entries;
    size_t n = stress_registry(&entries);
    const stress_builtin_t *const *builtins;
    size_t nb = stress_builtins(&builtins);
    stress_case_t *cases = calloc(n * (nb + 1) + 1, sizeof *cases);
    if (cases == NULL)
        return 0;
    size_t count = 0;
    for (size_t b = 0; b < nb; b++) {
        for (size_t i = 0; i < n; i++) {
            if (entries[i].kind != builtins[b]->kind)
                continue;
            if (builtins[b]->applies && !builtins[b]->applies(entries[i].impl))
                continue;
            stress_case_t *c = &cases[count];
            snprintf(c->workload, sizeof c->workload, "%s", builtins[b]->name);
            snprintf(c->impl, sizeof c->impl, "%s", stress_entry_name(&entries[i]));
            c->flags = stress_entry_flags(&entries[i]);
            c->builtin = builtins[b];
            c->impl_ptr = entries[i].impl;
            if (selected(opt, c))
                count++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (entries[i].kind != PARC_STRESS_KIND_WORKLOAD)
            continue;
        const parc_stress_workload_t *w = entries[i].impl;
        stress_case_t *c = &cases[count];
        snprintf(c->workload, sizeof c->workload, "%s", w->name);
        snprintf(c->impl, sizeof c->impl, "%s", w->impl);
        c->flags = w->flags;
        c->custom = w;
        if (selected(opt, c))
            count++;
    }
    *out = cases;
    return count;
}

static const char *case_description(const stress_case_t *c)
{
    if (c->custom)
        return c->custom->description ? c->custom->description : "";
    return c->builtin->description;
}

/* ---- main ------------------------------------------------------------------- */

int parc_stress_main(int argc, char **argv)
{
    stress_options_t opt = {
        .seconds = 0.5,
        .watchdog_seconds = 10.0,
        .argv0 = argc > 0 ? argv[0] : "parc-stress",
    };
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    opt.threads = cores > 0 ? (unsigned)(2 * cores) : 4u;
    if (opt.threads > STRESS_MAX_THREADS)
        opt.threads = STRESS_MAX_THREADS;
    opt.seed = clock_seed();
    const stress_mode_t *mode = NULL;
    const char *mode_arg = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout, opt.argv0);
            return 0;
        }
        const option_def_t *o = NULL;
        for (size_t k = 0; k < sizeof options / sizeof options[0]; k++)
            if (strcmp(a, options[k].name) == 0)
                o = &options[k];
        const stress_mode_t *m = NULL;
        for (const stress_mode_t *k = modes; k->option; k++)
            if (strcmp(a, k->option) == 0)
                m = k;
        if (o == NULL && m == NULL) {
            fprintf(stderr, "%s: unknown option '%s'\n", opt.argv0, a);
            usage(stderr, opt.argv0);
            return 2;
        }
        bool needs_value = o ? o->value != NULL : m->has_arg;
        const char *value = NULL;
        if (needs_value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: %s needs a value\n", opt.argv0, a);
                return 2;
            }
            value = argv[++i];
        }
        if (m) {
            mode = m;
            mode_arg = value;
        } else if (o->parse(&opt, value) != 0) {
            fprintf(stderr, "%s: bad value '%s' for %s\n", opt.argv0, value, a);
            return 2;
        }
    }
    /* --ops alone is an operation budget; with --seconds, whichever
     * comes first. */
    if (opt.ops && !seconds_given)
        opt.seconds = 0;
    opt.tty = isatty(STDERR_FILENO) && isatty(STDOUT_FILENO);
    if (opt.weak && !parc_weak_compiled()) {
        printf("parc-stress: SKIP: --weak needs the weak-memory model at the atomic "
               "seam; configure with -DPARC_WEAK=ON (preset weak)\n"
               "\n0 passed, 0 failed, 1 skipped\n");
        return 0;
    }
    if (opt.baton) {
        if (!parc_baton_available()) {
            printf("parc-stress: SKIP: --baton/--replay schedule parc's chaos points, "
                   "and this build has none; configure with -DPARC_CHAOS=ON\n"
                   "\n0 passed, 0 failed, 1 skipped\n");
            return 0;
        }
        /* A replay must do the same work: an operation budget decides
         * (time would make the amount of work, and so the schedule, depend
         * on the machine). The time budget stays only as a backstop for
         * workloads that ignore the operation budget; those do not replay. */
        if (opt.ops == 0)
            opt.ops = 20000;
        opt.seconds = 30;
    }

    if (mode)
        return mode->run(&opt, mode_arg);

    stress_case_t *cases = NULL;
    size_t count = collect_cases(&opt, &cases);

    if (opt.list) {
        for (size_t i = 0; i < count; i++) {
            char key[160];
            snprintf(key, sizeof key, "%s/%s", cases[i].workload, cases[i].impl);
            printf("%-44s %s%s%s\n", key,
                   (cases[i].flags & PARC_STRESS_MUTANT) ? "[mutant] " : "",
                   (cases[i].flags & PARC_STRESS_NEEDS_TSAN) ? "[tsan] " : "",
                   case_description(&cases[i]));
        }
        free(cases);
        return 0;
    }

    char budget[96];
    if (opt.ops && opt.seconds > 0)
        snprintf(budget, sizeof budget, "%" PRIu64 " ops or %g s per run", opt.ops,
                 opt.seconds);
    else if (opt.ops)
        snprintf(budget, sizeof budget, "%" PRIu64 " ops per run", opt.ops);
    else
        snprintf(budget, sizeof budget, "%g s per run", opt.seconds);
    printf("parc-stress: seed 0x%016" PRIx64 " (%s build, %u threads, %s, %zu runs)\n",
           opt.seed, stress_build_name(), opt.threads, budget, count);
    fflush(stdout);

    if (count == 0 && (opt.filter || opt.impl)) {
        fprintf(stderr, "%s: no case matches the filter (see --list%s)\n", opt.argv0,
                opt.mutants ? "" : "; mutants need --mutants");
        free(cases);
        return 2;
    }

    stress_result_t *results = calloc(count + 1, sizeof *results);
    if (results == NULL) {
        free(cases);
        return 1;
    }
    stress_report_t rep = { .opt = &opt, .results = results, .count = 0 };
    stress_report_set_current(&rep);
    for (size_t i = 0; i < count; i++) {
        results[i].c = &cases[i];
        results[i].status = STRESS_HANG; /* until it returns */
        rep.count = i + 1;               /* a HANG reports this row too */
        stress_run_case(&opt, &cases[i], opt.seed, (unsigned)i, (unsigned)count,
                        &results[i]);
        if (!opt.quiet && results[i].status == STRESS_FAIL)
            printf("FAIL: %s/%s: %s\n", cases[i].workload, cases[i].impl,
                   results[i].message);
        fflush(stdout);
        if (opt.fail_fast && results[i].status == STRESS_FAIL)
            break;
    }
    int status = stress_report_finish(&rep);
    stress_report_set_current(NULL);
    free(results);
    free(cases);
    return status;
}
