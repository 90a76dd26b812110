/*
 * bench/main.c — parc-bench: the framework behind bench/bench.h.
 *
 * For each benchmark selected (all, or those matching --filter):
 *   1. measure the cache-line floor (the "floor" benchmark's first case:
 *      two threads ping-ponging one atomic word), because the round trip
 *      on these virtual machines drifts between ~0.1 and ~0.4 us as the
 *      host moves the virtual cores;
 *   2. for each point: calibrate every case so one run lasts about the
 *      target time (the calibration runs and one extra run are the
 *      warm-up), then run the repetitions interleaved, A B C A B C ..., so
 *      that a drift lands on every case alike;
 *   3. print a table: median ops/s and ns/op, the min-max range of ns/op,
 *      ns/op as a multiple of the floor, and the ratio parc/peer (the
 *      median of the per-repetition ratios, paired within the same round).
 * --json FILE writes every sample as well, the per-round paired ratios,
 * the floor after each benchmark too, and the conditions of the run (date,
 * kernel, compiler, peers built in, load averages, the commit when
 * PARC_BENCH_COMMIT names it): one file per run, which bench/matrix.sh
 * collects and bench/report.py merges and reports.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "parc/atomic.h"
#include "parc/config.h"

extern char **environ; /* bench_run_external passes it on */

/* ---- the registry ---------------------------------------------------- */

/* Families (issue 13) multiply the points (threads x critical section x
 * waiting policy) and the peers: room for them. */
#define MAX_BENCHES 256
#define MAX_CASES 1024
#define MAX_POINTS 64
#define MAX_REPS 101
/* Names one option may collect (--filter, --impl; a matrix names every
 * family it measures). */
#define MAX_NAMES 64

typedef struct bench_def {
    const char *name;
    const char *description;
    const bench_point_t *points;
} bench_def_t;

typedef struct case_def {
    const char *bench;
    const char *impl;
    bench_case_fn fn;
    int seq; /* registration order */
} case_def_t;

static bench_def_t benches[MAX_BENCHES];
static int nbenches;
static case_def_t cases[MAX_CASES];
static int ncases;

void bench_register(const char *name, const char *description,
                    const bench_point_t *points)
{
    if (nbenches == MAX_BENCHES) {
        fprintf(stderr, "parc-bench: more than %d benchmarks\n", MAX_BENCHES);
        abort();
    }
    benches[nbenches++] = (bench_def_t){ name, description, points };
}

void bench_register_case(const char *bench, const char *impl, bench_case_fn fn)
{
    if (ncases == MAX_CASES) {
        fprintf(stderr, "parc-bench: more than %d cases\n", MAX_CASES);
        abort();
    }
    cases[ncases] = (case_def_t){ bench, impl, fn, ncases };
    ncases++;
}

/* "parc" first, then registration order. */
static int case_order(const void *a, const void *b)
{
    const case_def_t *x = a, *y = b;
    int xp = strcmp(x->impl, "parc") == 0, yp = strcmp(y->impl, "parc") == 0;
    if (xp != yp)
        return yp - xp;
    return x->seq - y->seq;
}

/* Benchmarks by name, "floor" first (it calibrates the reader's eye). */
static int bench_order(const void *a, const void *b)
{
    const bench_def_t *x = a, *y = b;
    int xf = strcmp(x->name, "floor") == 0, yf = strcmp(y->name, "floor") == 0;
    if (xf != yf)
        return yf - xf;
    return strcmp(x->name, y->name);
}

/* ---- options --------------------------------------------------------- */

/* Defaults: 5 reps of ~15 ms runs keep a run of every benchmark within a
 * minute or two on 2 cores (each case-point costs ~8 runs with the
 * calibration and warm-up). */
static struct {
    int reps;
    int64_t target_ns; /* length of one run */
    int quick;
    int pin;
    int list;
    const char *json;
    const char *filters[MAX_NAMES];
    int nfilters;
    const char *impls[MAX_NAMES];
    int nimpls;
} opt = { 5, 15 * 1000 * 1000, 0, 0, 0, NULL, { NULL }, 0, { NULL }, 0 };

static int allowed_cpus[1024];
static int nallowed;

/* A point whose threads outnumber the CPUs time-shares them: the kernel
 * hands out slices of a few ms, and a 15-ms run sees so few that its
 * figure depends on which threads happened to share them. Such points run
 * this many times longer. (MPMC 4P/4C over its 1P/1C, ten runs each:
 * 0.2x-2.5x at 15 ms; at 90 ms 0.9x-1.1x while the host was calm, still
 * 0.3x-1.3x while it moved the cores, which `versus` pairing then
 * cancels: 0.88x-1.14x.) */
#define OVERSUBSCRIBED_STRETCH 6

/* The length of one run at point p. */
static int64_t target_ns_at(const bench_point_t *p)
{
    return opt.target_ns * (p->threads > nallowed ? OVERSUBSCRIBED_STRETCH : 1);
}

/* target_ns_at() of the run under way, for run_cap_ns(): set by run_once,
 * through which every case runs. */
static int64_t point_target_ns;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: parc-bench [options]\n"
        "  --list          list benchmarks, their points and cases, and exit\n"
        "  --filter NAME   run the benchmarks whose name contains NAME\n"
        "                  (repeatable; comma-separated lists allowed)\n"
        "  --impl NAME     run only the cases whose name contains NAME\n"
        "                  (repeatable; \"parc\" is always kept for ratios)\n"
        "  --reps N        measured repetitions per case (default 5, max %d)\n"
        "  --time MS       target length of one run in ms (default 15)\n"
        "  --quick         smoke run: 3 reps of ~2 ms runs\n"
        "  --pin           pin worker i to the i-th allowed CPU\n"
        "  --json FILE     also write the results and every sample to FILE\n"
        "  --help          this text\n", MAX_REPS);
}

static int add_list(const char **dst, int *n, char *arg)
{
    for (char *save = NULL, *tok = strtok_r(arg, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_NAMES) {
            fprintf(stderr, "parc-bench: more than %d names given to --filter "
                            "or --impl\n", MAX_NAMES);
            return -1;
        }
        dst[(*n)++] = tok;
    }
    return 0;
}

static int parse_args(int argc, char **argv)
{
    int time_set = 0, reps_set = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--list") == 0) {
            opt.list = 1;
        } else if (strcmp(a, "--quick") == 0) {
            opt.quick = 1;
        } else if (strcmp(a, "--pin") == 0) {
            opt.pin = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (val != NULL && strcmp(a, "--filter") == 0) {
            if (add_list(opt.filters, &opt.nfilters, argv[++i]) != 0)
                return -1;
        } else if (val != NULL && strcmp(a, "--impl") == 0) {
            if (add_list(opt.impls, &opt.nimpls, argv[++i]) != 0)
                return -1;
        } else if (val != NULL && strcmp(a, "--json") == 0) {
            opt.json = argv[++i];
        } else if (val != NULL && strcmp(a, "--reps") == 0) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end != '\0' || n < 1 || n > MAX_REPS)
                return -1;
            opt.reps = (int)n;
            reps_set = 1;
        } else if (val != NULL && strcmp(a, "--time") == 0) {
            char *end;
            double ms = strtod(argv[++i], &end);
            if (*end != '\0' || !(ms > 0.0) || ms > 10000.0)
                return -1;
            opt.target_ns = (int64_t)(ms * 1e6);
            time_set = 1;
        } else {
            return -1;
        }
    }
    if (opt.quick) {
        if (!reps_set)
            opt.reps = 3;
        if (!time_set)
            opt.target_ns = 2 * 1000 * 1000;
    }
    return 0;
}

static int selected_bench(const char *name)
{
    if (opt.nfilters == 0)
        return 1;
    for (int i = 0; i < opt.nfilters; i++)
        if (strstr(name, opt.filters[i]) != NULL)
            return 1;
    return 0;
}

static int selected_case(const char *impl)
{
    if (opt.nimpls == 0 || strcmp(impl, "parc") == 0)
        return 1;
    for (int i = 0; i < opt.nimpls; i++)
        if (strstr(impl, opt.impls[i]) != NULL)
            return 1;
    return 0;
}

/* ---- threads --------------------------------------------------------- */

int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void bench_wait_poll(uint32_t *polls)
{
    /* 2048 PAUSEs is 50-80 us: hundreds of cache-line round trips, so a
     * handoff between running threads never gets here, and about one futex
     * wake-up, so a waiter whose partner was descheduled (or shares its
     * core: 2 cores, shared with every other build) gives the core up
     * before it burns much of the partner's time slice. */
    if (++*polls < 2048u)
        parc_cpu_relax();
    else
        sched_yield();
}

int bench_cpus(void)
{
    return nallowed > 0 ? nallowed : 1;
}

static volatile uint64_t consume_sink;
void bench_consume(uint64_t v)
{
    consume_sink = v;
}

/* ---- busy work (critical sections, think time) ------------------------ */

/* ns per bench_work() unit, the least of several timed loops (on a loaded
 * machine most loops are interrupted; the fastest one is the CPU's). */
static double work_unit_ns;
static pthread_once_t work_once = PTHREAD_ONCE_INIT;

static void work_calibrate(void)
{
    const uint32_t units = 200000; /* ~0.3 ms */
    double best = INFINITY;
    for (int i = 0; i < 9; i++) {
        int64_t t0 = bench_now_ns();
        bench_work(units);
        double ns = (double)(bench_now_ns() - t0) / units;
        if (ns > 0 && ns < best)
            best = ns;
    }
    work_unit_ns = isfinite(best) ? best : 1.0;
}

double bench_work_unit_ns(void)
{
    pthread_once(&work_once, work_calibrate);
    return work_unit_ns;
}

uint32_t bench_work_units(long ns)
{
    if (ns <= 0)
        return 0;
    double u = (double)ns / bench_work_unit_ns() + 0.5;
    return u < 1.0 ? 1u : u > 4e9 ? UINT32_MAX : (uint32_t)u;
}

/* ---- peers in other programs ------------------------------------------ */

int64_t bench_run_external(bench_run_t *r, const char *const argv[])
{
    if (r == NULL || argv == NULL || argv[0] == NULL)
        return BENCH_FAILED;
    /* The child's environment is built here, before fork: between fork and
     * exec a child of a multi-threaded process may only call
     * async-signal-safe functions (setenv may allocate). */
    char ops[48], threads[40], arg[48], pin[24];
    snprintf(ops, sizeof ops, "PARC_BENCH_OPS=%llu", (unsigned long long)r->ops);
    snprintf(threads, sizeof threads, "PARC_BENCH_THREADS=%d", r->threads);
    snprintf(arg, sizeof arg, "PARC_BENCH_ARG=%ld", r->arg);
    snprintf(pin, sizeof pin, "PARC_BENCH_PIN=%d", opt.pin ? 1 : 0);
    size_t nenv = 0;
    while (environ[nenv] != NULL)
        nenv++;
    char **envp = malloc((nenv + 5) * sizeof *envp);
    if (envp == NULL)
        return BENCH_FAILED;
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], "PARC_BENCH_", 11) != 0)
            envp[k++] = environ[i];
    envp[k++] = ops;
    envp[k++] = threads;
    envp[k++] = arg;
    envp[k++] = pin;
    envp[k] = NULL;
    int fd[2];
    if (pipe(fd) != 0) {
        free(envp);
        return BENCH_FAILED;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        free(envp);
        return BENCH_FAILED;
    }
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execvpe(argv[0], (char *const *)argv, envp);
        _exit(127);
    }
    free(envp);
    close(fd[1]);
    char buf[256];
    size_t len = 0;
    ssize_t got;
    while ((got = read(fd[0], buf + len, sizeof buf - 1 - len)) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        len += (size_t)got;
        if (len == sizeof buf - 1) { /* keep only the first line's room */
            char sink[256];
            while (read(fd[0], sink, sizeof sink) > 0)
                ;
            break;
        }
    }
    buf[len] = '\0';
    close(fd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return BENCH_FAILED;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return BENCH_SKIPPED; /* not installed: a missing peer is skipped */
    if (strncmp(buf, "skipped", 7) == 0)
        return BENCH_SKIPPED;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return BENCH_FAILED;
    char *end;
    long long ns = strtoll(buf, &end, 10);
    if (end == buf || ns <= 0)
        return BENCH_FAILED;
    long long items = strtoll(end, &end, 10);
    if (items > 0)
        r->items = (uint64_t)items;
    return (int64_t)ns;
}

/* The start barrier and each worker's end time. The harness's own
 * bookkeeping: parc_raw_* atomics, no chaos points. */
typedef struct par_shared {
    PARC_CACHE_ALIGNED parc_atomic(int) ready; /* workers at the barrier */
    PARC_CACHE_ALIGNED parc_atomic(int) go;    /* the barrier's release */
    bench_body_fn body;
    int64_t deadline_ns; /* written before go is released */
} par_shared_t;

typedef struct par_worker {
    PARC_CACHE_ALIGNED bench_worker_t w;
    par_shared_t *ps;
    pthread_t thread;
    int64_t end_ns; /* read by the main thread after pthread_join */
} par_worker_t;

int bench_pin_self(int index)
{
    if (nallowed == 0 || index < 0)
        return EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(allowed_cpus[index % nallowed], &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *par_main(void *arg)
{
    par_worker_t *pw = arg;
    par_shared_t *ps = pw->ps;
    if (opt.pin)
        (void)bench_pin_self(pw->w.id);
    /* release/acquire: the workers' set-up (pinning) is done before the
     * main thread reads the clock; pairs with the acquire load in
     * bench_parallel. */
    parc_raw_faa(&ps->ready, 1, PARC_RELEASE);
    uint32_t polls = 0;
    /* acquire: pairs with the release store of go; the case's state,
     * written before bench_parallel was called, is visible. */
    while (parc_raw_load(&ps->go, PARC_ACQUIRE) == 0)
        bench_wait_poll(&polls);
    pw->w.deadline_ns = ps->deadline_ns;
    ps->body(&pw->w);
    pw->end_ns = bench_now_ns();
    return NULL;
}

/* A run that lasts this long has overrun (bench_overrun): several times
 * the target, so only a convoy gets there. */
static int64_t run_cap_ns(void)
{
    return 5 * point_target_ns;
}

int64_t bench_parallel(bench_run_t *r, bench_body_fn body, void *shared)
{
    int n = r->threads;
    if (n < 1)
        return BENCH_FAILED;
    par_worker_t *pw = aligned_alloc(PARC_CACHELINE,
                                     sizeof *pw * (size_t)n);
    if (pw == NULL)
        return BENCH_FAILED;
    par_shared_t ps;
    memset(&ps, 0, sizeof ps);
    parc_atomic_init(&ps.ready, 0);
    parc_atomic_init(&ps.go, 0);
    ps.body = body;
    uint64_t base = r->ops / (uint64_t)n, extra = r->ops % (uint64_t)n;
    int started = 0;
    for (int i = 0; i < n; i++) {
        uint64_t share = base + ((uint64_t)i < extra ? 1 : 0);
        pw[i].w = (bench_worker_t){ i, n, r->ops, share, r->arg, shared,
                                    share, INT64_MAX };
        pw[i].ps = &ps;
        pw[i].end_ns = 0;
        if (pthread_create(&pw[i].thread, NULL, par_main, &pw[i]) != 0)
            break;
        started++;
    }
    int64_t start = 0;
    if (started == n) {
        /* acquire: pairs with each worker's release increment of ready. */
        while (parc_raw_load(&ps.ready, PARC_ACQUIRE) < n)
            sched_yield();
        start = bench_now_ns();
        ps.deadline_ns = start + run_cap_ns();
    }
    /* release: publishes deadline_ns (and the case's state); pairs with
     * the workers' acquire load of go. (On a failed start the workers are
     * released too, with a deadline already past, to be joined; the run is
     * reported as failed.) */
    parc_raw_store(&ps.go, 1, PARC_RELEASE);
    int64_t end = 0;
    uint64_t done = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(pw[i].thread, NULL);
        if (pw[i].end_ns > end)
            end = pw[i].end_ns;
        done += pw[i].w.done;
    }
    r->items = done;
    free(pw);
    if (started != n)
        return BENCH_FAILED;
    return end - start;
}

/* ---- the second thread, also a watchdog -------------------------------- */

/* glibc's pthread_mutex and stdio skip their atomics while the process has
 * one thread. One thread, kept sleeping for the whole run, makes every
 * measurement see a multi-threaded process. It also watches for a run that
 * never ends (a deadlocked case): once a second it looks at when the
 * current run started, and past WATCHDOG_NS it names the case and exits. */
#define WATCHDOG_NS (INT64_C(60) * 1000000000)

static parc_atomic(int64_t) run_started_ns; /* 0: no run in progress */
static const char *run_bench, *run_impl, *run_point; /* set before the above */

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;) {
        sleep(1);
        /* acquire: pairs with the release store in run_once; the names
         * written before it are readable. */
        int64_t t0 = parc_raw_load(&run_started_ns, PARC_ACQUIRE);
        if (t0 != 0 && bench_now_ns() - t0 > WATCHDOG_NS) {
            fprintf(stderr, "parc-bench: %s/%s at \"%s\" still running after %lld s:"
                            " a hang? giving up\n", run_bench, run_impl, run_point,
                    (long long)(WATCHDOG_NS / 1000000000));
            _exit(3);
        }
    }
    return NULL;
}

static int start_second_thread(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, sleeper, NULL) != 0)
        return -1;
    pthread_detach(t);
    return 0;
}

/* ---- measuring ------------------------------------------------------- */

typedef struct case_result {
    const case_def_t *c;
    const char *bench;
    uint64_t ops;                 /* calibrated ops per run */
    double ns_per_op[MAX_REPS];   /* one per repetition; < 0: not run */
    int nreps;                    /* repetitions done within the budget */
    int64_t spent_ns;             /* wall time used so far at this point */
    double median, min, max;      /* of the repetitions done */
    double ratio;                 /* parc/this in ops/s; 0 = none; for a
                                     point's `versus` run: parc here over
                                     parc there */
    double ratios[MAX_REPS];      /* the per-round paired ratios behind
                                     `ratio`; < 0: the round lacks one side */
    int failed;
    int skipped;                  /* the case returned BENCH_SKIPPED */
} case_result_t;

static int failures;

/* How long one case may take at one point: a few times its planned share
 * (calibration, warm-up, reps), so that a case that convoys (a spinlock
 * whose holder was preempted, 8 threads on 2 cores) costs a bounded time
 * and is reported with fewer repetitions instead of stalling the run. */
static int64_t case_budget_ns(const bench_point_t *p)
{
    return 5 * (opt.reps + 3) * target_ns_at(p);
}

/* One run: ns/op, or a negative value on failure; *done (when not NULL)
 * gets the operations the case reports having done (r->items). */
static double run_once(case_result_t *res, const bench_point_t *p, uint64_t ops,
                       uint64_t *done)
{
    bench_run_t r = { ops, p->threads, p->arg, ops };
    point_target_ns = target_ns_at(p);
    run_bench = res->bench;
    run_impl = res->c->impl;
    run_point = p->label;
    int64_t t0 = bench_now_ns();
    /* release: the names above are published to the watchdog's acquire. */
    parc_raw_store(&run_started_ns, t0, PARC_RELEASE);
    int64_t ns = res->c->fn(&r);
    parc_raw_store(&run_started_ns, 0, PARC_RELAXED);
    res->spent_ns += bench_now_ns() - t0;
    if (ns == BENCH_SKIPPED)
        res->skipped = 1;
    if (done != NULL)
        *done = r.items;
    if (ns < 0 || r.items == 0)
        return -1.0;
    return (double)ns / (double)r.items;
}

/* Grow ops from a handful until one run lasts about target_ns_at(p). These runs
 * are the warm-up: caches, branch predictors, lazily bound symbols and the
 * CPU frequency all settle. Returns 0 on failure. */
static uint64_t calibrate(case_result_t *res, const bench_point_t *p)
{
    uint64_t threads = (uint64_t)(p->threads > 0 ? p->threads : 1);
    uint64_t ops = threads * 4;
    for (int round = 0; round < 40; round++) {
        uint64_t done;
        double nsop = run_once(res, p, ops, &done);
        if (nsop < 0)
            return 0;
        /* A case may do more than asked (a minimum of its own) or less
         * (an overrun): size the next run on what was done. */
        if (done > ops)
            ops = done;
        double ns = nsop * (double)done;
        if (ns >= 0.5 * (double)target_ns_at(p) || ops >= (UINT64_C(1) << 40) ||
            res->spent_ns > case_budget_ns(p) / 3)
            break;
        double grow = ns > 0 ? (double)target_ns_at(p) / ns : 16.0;
        if (grow > 16.0)
            grow = 16.0;
        if (grow < 1.5)
            grow = 1.5;
        ops = (uint64_t)((double)ops * grow);
        ops = (ops + threads - 1) / threads * threads;
    }
    return ops;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of the non-negative values of v[0..n) (negative: not run). */
static double median_of(const double *v, int n)
{
    double tmp[MAX_REPS];
    int m = 0;
    for (int i = 0; i < n; i++)
        if (v[i] >= 0)
            tmp[m++] = v[i];
    if (m == 0)
        return -1.0;
    qsort(tmp, (size_t)m, sizeof(double), cmp_double);
    return m % 2 ? tmp[m / 2] : 0.5 * (tmp[m / 2 - 1] + tmp[m / 2]);
}

/* Calibrate r at p, plus one warm run at the final size. */
static void prepare_case(case_result_t *r, const bench_point_t *p)
{
    r->ops = calibrate(r, p);
    r->failed = r->ops == 0;
    if (!r->failed)
        r->failed = run_once(r, p, r->ops, NULL) < 0;
}

/* Repetition `rep` of r at p. Past its budget a case sits out, except that
 * every case gets at least one repetition. */
static void repeat_case(case_result_t *r, const bench_point_t *p, int rep)
{
    r->ns_per_op[rep] = -1.0;
    if (r->failed || (rep > 0 && r->spent_ns > case_budget_ns(p)))
        return;
    double v = run_once(r, p, r->ops, NULL);
    if (v < 0) {
        r->failed = 1;
        return;
    }
    r->ns_per_op[rep] = v;
    r->nreps++;
}

/* Median, min and max of r's repetitions; counts a failure. */
static void summarize_case(case_result_t *r, int reps)
{
    if (r->skipped)
        r->failed = 1; /* no figures, but not a failure */
    else if (r->failed)
        failures++;
    if (r->failed)
        return;
    r->median = median_of(r->ns_per_op, reps);
    r->min = INFINITY;
    r->max = 0;
    for (int rep = 0; rep < reps; rep++) {
        double v = r->ns_per_op[rep];
        if (v < 0)
            continue;
        r->min = v < r->min ? v : r->min;
        r->max = v > r->max ? v : r->max;
    }
}

/* parc's ops/s over other's (= other's ns/op over parc's), paired within a
 * round so that a drift between rounds cancels; the median, 0 when no
 * round has both. */
static double paired_ratio(const case_result_t *parc, const case_result_t *other,
                           int reps, double *r)
{
    for (int rep = 0; rep < reps; rep++) {
        double a = parc->ns_per_op[rep], b = other->ns_per_op[rep];
        r[rep] = a > 0 && b >= 0 ? b / a : -1.0;
    }
    double m = median_of(r, reps);
    return m < 0 ? 0 : m;
}

/* Measure the cases of point p, interleaved; fills res[0..n). When p has a
 * `versus` point vp and res[0] is parc, *vs gets parc at vp, run just
 * before parc at p in every round, its ratio parc-at-p over parc-at-vp. */
static void measure_point(const bench_point_t *p, case_result_t *res, int n,
                          int reps, const bench_point_t *vp, case_result_t *vs)
{
    int has_parc = n > 0 && strcmp(res[0].c->impl, "parc") == 0;
    int paired = has_parc && vp != NULL;
    if (paired)
        prepare_case(vs, vp);
    for (int k = 0; k < n; k++)
        prepare_case(&res[k], p);
    for (int rep = 0; rep < reps; rep++) {
        if (paired)
            repeat_case(vs, vp, rep);
        for (int k = 0; k < n; k++)
            repeat_case(&res[k], p, rep);
    }
    if (paired)
        summarize_case(vs, reps);
    for (int k = 0; k < n; k++)
        summarize_case(&res[k], reps);
    if (!has_parc || res[0].failed)
        return;
    for (int k = 1; k < n; k++)
        if (!res[k].failed)
            res[k].ratio = paired_ratio(&res[0], &res[k], reps, res[k].ratios);
    if (paired && !vs->failed)
        vs->ratio = paired_ratio(&res[0], vs, reps, vs->ratios);
}

/* The point of b that p names as its `versus`, or NULL (none, or a label
 * b does not have: a mistake in the benchmark, said on stderr and counted
 * as a failure so that the run exits non-zero). */
static const bench_point_t *versus_point(const bench_def_t *b,
                                         const bench_point_t *p)
{
    if (p->versus == NULL)
        return NULL;
    for (const bench_point_t *q = b->points; q->label != NULL; q++)
        if (q != p && strcmp(q->label, p->versus) == 0)
            return q;
    fprintf(stderr, "parc-bench: %s: point %s names an unknown point %s\n",
            b->name, p->label, p->versus);
    failures++;
    return NULL;
}

static const bench_def_t *find_bench(const char *name)
{
    for (int i = 0; i < nbenches; i++)
        if (strcmp(benches[i].name, name) == 0)
            return &benches[i];
    return NULL;
}

static int cases_of(const char *bench, case_result_t *res, int max)
{
    int n = 0;
    for (int i = 0; i < ncases && n < max; i++)
        if (strcmp(cases[i].bench, bench) == 0 && selected_case(cases[i].impl)) {
            memset(&res[n], 0, sizeof res[n]);
            res[n].bench = bench;
            res[n++].c = &cases[i];
        }
    return n;
}

#define FLOOR_REPS (opt.quick ? 3 : 5)

/* The floor now: ns per round trip of the floor benchmark's first case at
 * its first point, the best of its runs (a floor is a lower bound, and on
 * a loaded machine most runs wait for the scheduler); 0 when unavailable. */
static double measure_floor(void)
{
    const bench_def_t *fb = find_bench("floor");
    if (fb == NULL || fb->points[0].label == NULL)
        return 0.0;
    for (int i = 0; i < ncases; i++) {
        if (strcmp(cases[i].bench, "floor") != 0)
            continue;
        case_result_t r;
        memset(&r, 0, sizeof r);
        r.c = &cases[i];
        r.bench = "floor";
        measure_point(&fb->points[0], &r, 1, FLOOR_REPS, NULL, NULL);
        if (r.failed) {
            if (!r.skipped)
                failures--; /* reported by the floor benchmark itself */
            return 0.0;
        }
        return r.min;
    }
    return 0.0;
}

/* ---- output ---------------------------------------------------------- */

static const char *si(double v, char *buf, size_t len)
{
    const char *unit = "";
    if (v >= 1e9) { v /= 1e9; unit = "G"; }
    else if (v >= 1e6) { v /= 1e6; unit = "M"; }
    else if (v >= 1e3) { v /= 1e3; unit = "k"; }
    snprintf(buf, len, "%.3g%s", v, unit);
    return buf;
}

static void print_header(const bench_def_t *b, double floor_ns)
{
    printf("\n== %s: %s\n", b->name, b->description);
    if (floor_ns > 0)
        printf("   floor before it: %.1f ns per cache-line round trip (best of %d runs)%s\n",
               floor_ns, FLOOR_REPS,
               floor_ns > 10000 ? ": the two threads seldom ran at once (a loaded"
                                  " machine); xfloor means little" : "");
    printf("   %-26s %-18s %9s %10s  %-21s %7s %9s\n", "point", "impl", "ops/s",
           "ns/op", "[min - max] ns/op", "xfloor", "parc/peer");
}

static void print_row(const bench_point_t *p, const case_result_t *r,
                      double floor_ns, int first)
{
    char label[64], buf[32], range[48], xf[16], ratio[16];
    if (first)
        snprintf(label, sizeof label, "%s (T=%d)", p->label, p->threads);
    else
        label[0] = '\0';
    if (r->failed) {
        printf("   %-26s %-18s %s\n", label, r->c->impl,
               r->skipped ? "skipped" : "FAILED");
        return;
    }
    snprintf(range, sizeof range, "[%.4g - %.4g]%s", r->min, r->max,
             r->nreps < opt.reps ? "*" : "");
    if (floor_ns > 0)
        snprintf(xf, sizeof xf, "%.2f", r->median / floor_ns);
    else
        snprintf(xf, sizeof xf, "-");
    if (r->ratio > 0)
        snprintf(ratio, sizeof ratio, "%.2f", r->ratio);
    else
        snprintf(ratio, sizeof ratio, "-");
    printf("   %-26s %-18s %9s %10.4g  %-21s %7s %9s\n", label, r->c->impl,
           si(1e9 / r->median, buf, sizeof buf), r->median, range, xf, ratio);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned)(unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void json_case(FILE *f, const case_result_t *r, double floor_ns, int reps)
{
    fprintf(f, "        { \"impl\": ");
    json_str(f, r->c->impl);
    if (r->failed) {
        fprintf(f, ", \"%s\": true }", r->skipped ? "skipped" : "failed");
        return;
    }
    fprintf(f, ", \"failed\": false, \"ops_per_run\": %llu, "
               "\"median_ns_per_op\": %.6g, \"min_ns_per_op\": %.6g, "
               "\"max_ns_per_op\": %.6g, \"ops_per_s\": %.6g",
            (unsigned long long)r->ops, r->median, r->min, r->max,
            1e9 / r->median);
    if (floor_ns > 0)
        fprintf(f, ", \"x_floor\": %.6g", r->median / floor_ns);
    if (r->ratio > 0) {
        fprintf(f, ", \"parc_over_peer\": %.6g, \"paired_ratios\": [", r->ratio);
        for (int i = 0, first = 1; i < reps; i++)
            if (r->ratios[i] > 0) {
                fprintf(f, "%s%.6g", first ? "" : ", ", r->ratios[i]);
                first = 0;
            }
        fprintf(f, "]");
    }
    fprintf(f, ", \"reps\": %d, \"samples_ns_per_op\": [", r->nreps);
    for (int i = 0, first = 1; i < reps; i++)
        if (r->ns_per_op[i] >= 0) {
            fprintf(f, "%s%.6g", first ? "" : ", ", r->ns_per_op[i]);
            first = 0;
        }
    fprintf(f, "] }");
}

static void list_benches(void)
{
    for (int i = 0; i < nbenches; i++) {
        const bench_def_t *b = &benches[i];
        printf("%s: %s\n", b->name, b->description);
        for (const bench_point_t *p = b->points; p->label != NULL; p++)
            printf("    point  %s (T=%d, arg=%ld)%s%s\n", p->label, p->threads, p->arg,
                   p->versus != NULL ? ", judged against " : "",
                   p->versus != NULL ? p->versus : "");
        for (int k = 0; k < ncases; k++)
            if (strcmp(cases[k].bench, b->name) == 0)
                printf("    case   %s\n", cases[k].impl);
    }
}

/* The 1-minute load average, or -1 when unknown. */
static double load_average(void)
{
    double l[1];
    return getloadavg(l, 1) == 1 ? l[0] : -1.0;
}

/* The peers this binary was built with: CMake's list when it passed one
 * (it knows every peer it found), else the ones this file knows of. */
static const char *peers_found(void)
{
#ifdef PARC_BENCH_PEERS_FOUND
    return PARC_BENCH_PEERS_FOUND;
#else
    return "pthread"
#ifdef PARC_BENCH_HAVE_CK
           " ck"
#endif
#ifdef PARC_BENCH_HAVE_URCU
           " urcu"
#endif
#ifdef PARC_BENCH_HAVE_GLIB
           " glib"
#endif
#ifdef PARC_BENCH_HAVE_MOODYCAMEL
           " moodycamel"
#endif
        ;
#endif
}

/* The conditions of the run, once, at the top of the JSON: what a reader
 * needs to judge the figures (the floor comes with each benchmark). */
static void json_machine(FILE *f)
{
    char date[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) != NULL)
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    struct utsname u;
    if (uname(&u) != 0)
        memset(&u, 0, sizeof u);
    double l[3] = { -1, -1, -1 };
    (void)getloadavg(l, 3);
    fprintf(f, "  \"date\": ");
    json_str(f, date);
    fprintf(f, ", \"kernel\": ");
    char kernel[sizeof u.sysname + sizeof u.release + sizeof u.machine + 3];
    snprintf(kernel, sizeof kernel, "%s %s %s", u.sysname, u.release, u.machine);
    json_str(f, kernel);
    fprintf(f, ",\n  \"compiler\": ");
#ifdef __VERSION__
    json_str(f, "gcc-compatible " __VERSION__);
#else
    json_str(f, "unknown");
#endif
    const char *commit = getenv("PARC_BENCH_COMMIT");
    fprintf(f, ", \"commit\": ");
    json_str(f, commit != NULL ? commit : "");
    fprintf(f, ",\n  \"cpus_online\": %ld, \"load_averages\": [%.2f, %.2f, %.2f], "
               "\"work_unit_ns\": %.4g, \"quick\": %s,\n  \"peers\": ",
            sysconf(_SC_NPROCESSORS_ONLN), l[0], l[1], l[2], bench_work_unit_ns(),
            opt.quick ? "true" : "false");
    json_str(f, peers_found());
    fprintf(f, ", \"filters\": [");
    for (int i = 0; i < opt.nfilters; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_str(f, opt.filters[i]);
    }
    fprintf(f, "], \"impls\": [");
    for (int i = 0; i < opt.nimpls; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_str(f, opt.impls[i]);
    }
    fprintf(f, "],\n");
}

static void print_build(void)
{
    printf("parc-bench %s: %d CPUs allowed, %s, %d reps of ~%.3g ms per case"
           " (x%d where threads outnumber CPUs)\n",
           PARC_VERSION, nallowed, opt.pin ? "pinned" : "not pinned",
           opt.reps, (double)opt.target_ns / 1e6, OVERSUBSCRIBED_STRETCH);
    double load = load_average();
    if (load >= 0)
        printf("load average %.1f%s\n", load,
               load > 0.5 * nallowed ? ": other work shares these CPUs, figures will be noisy"
                                     : "");
    printf("peers: %s\n", peers_found());
    printf("busy-work unit (bench_work): %.3g ns\n", bench_work_unit_ns());
#if defined(PARC_CHAOS) || defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
    printf("WARNING: a chaos or sanitizer build; these figures mean nothing\n");
#endif
}

/* ---- main ------------------------------------------------------------ */

int main(int argc, char **argv)
{
    if (parse_args(argc, argv) != 0) {
        usage(stderr);
        return 2;
    }
    qsort(benches, (size_t)nbenches, sizeof benches[0], bench_order);
    qsort(cases, (size_t)ncases, sizeof cases[0], case_order);
    if (opt.list) {
        list_benches();
        return 0;
    }
    for (int i = 0; i < ncases; i++)
        if (find_bench(cases[i].bench) == NULL) {
            fprintf(stderr, "parc-bench: case %s names an unknown benchmark %s\n",
                    cases[i].impl, cases[i].bench);
            return 2;
        }

    int matching = 0;
    for (int i = 0; i < nbenches; i++)
        matching += selected_bench(benches[i].name);
    if (matching == 0) {
        fprintf(stderr, "parc-bench: no benchmark matches the filter (see --list)\n");
        return 2;
    }

    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int c = 0; c < CPU_SETSIZE && nallowed < 1024; c++)
            if (CPU_ISSET(c, &set))
                allowed_cpus[nallowed++] = c;
    if (start_second_thread() != 0) {
        fprintf(stderr, "parc-bench: cannot start a thread\n");
        return 1;
    }

    FILE *json = NULL;
    if (opt.json != NULL && (json = fopen(opt.json, "w")) == NULL) {
        fprintf(stderr, "parc-bench: %s: %s\n", opt.json, strerror(errno));
        return 2;
    }
    print_build();
    int64_t run_t0 = bench_now_ns();
    if (json != NULL) {
        fprintf(json, "{\n  \"version\": \"%s\", \"cpus\": %d, \"pinned\": %s, "
                      "\"reps\": %d, \"target_ns\": %lld, \"load_average\": %.2f,\n",
                PARC_VERSION, nallowed, opt.pin ? "true" : "false", opt.reps,
                (long long)opt.target_ns, load_average());
        json_machine(json);
        fprintf(json, "  \"benchmarks\": [");
    }

    int ran = 0;
    static case_result_t res[MAX_CASES];
    for (int i = 0; i < nbenches; i++) {
        const bench_def_t *b = &benches[i];
        if (!selected_bench(b->name))
            continue;
        int is_floor = strcmp(b->name, "floor") == 0;
        int64_t bench_t0 = bench_now_ns();
        double floor_ns = is_floor ? 0.0 : measure_floor();
        print_header(b, floor_ns);
        if (json != NULL) {
            fprintf(json, "%s\n    { \"name\": ", ran ? "," : "");
            json_str(json, b->name);
            fprintf(json, ", \"description\": ");
            json_str(json, b->description);
            if (floor_ns > 0)
                fprintf(json, ", \"floor_ns\": %.6g", floor_ns);
            fprintf(json, ", \"load_average\": %.2f, \"points\": [", load_average());
        }
        ran++;
        for (int pi = 0; pi < MAX_POINTS && b->points[pi].label != NULL; pi++) {
            const bench_point_t *p = &b->points[pi];
            int n = cases_of(b->name, res, MAX_CASES);
            const bench_point_t *vp = versus_point(b, p);
            case_result_t vs = { 0 };
            if (n > 0) {
                vs.bench = res[0].bench;
                vs.c = res[0].c;
            }
            measure_point(p, res, n, opt.reps, vp, &vs);
            /* The floor benchmark is its own yardstick. */
            double fl = is_floor && pi == 0 && n > 0 && !res[0].failed
                            ? res[0].median : floor_ns;
            for (int k = 0; k < n; k++)
                print_row(p, &res[k], fl, k == 0);
            if (vs.ratio > 0) {
                char buf[32];
                printf("   %-26s parc here over parc at %s (T=%d): %.2f (ops/s,"
                       " paired within rounds; parc there: %s ops/s)\n", "",
                       vp->label, vp->threads, vs.ratio,
                       si(1e9 / vs.median, buf, sizeof buf));
            }
            fflush(stdout);
            if (json != NULL) {
                fprintf(json, "%s\n      { \"label\": ", pi ? "," : "");
                json_str(json, p->label);
                fprintf(json, ", \"threads\": %d, \"arg\": %ld", p->threads, p->arg);
                if (vs.ratio > 0) {
                    fprintf(json, ", \"versus\": ");
                    json_str(json, vp->label);
                    fprintf(json, ", \"parc_over_versus\": %.6g, "
                                  "\"versus_ns_per_op\": %.6g", vs.ratio, vs.median);
                }
                fprintf(json, ", \"cases\": [\n");
                for (int k = 0; k < n; k++) {
                    json_case(json, &res[k], fl, opt.reps);
                    fprintf(json, "%s\n", k + 1 < n ? "," : "");
                }
                fprintf(json, "      ] }");
            }
        }
        double took = (double)(bench_now_ns() - bench_t0) / 1e9;
        /* The floor again after the benchmark: a regime change of the
         * host during it shows as two different floors. */
        double floor_after = is_floor ? 0.0 : measure_floor();
        if (floor_after > 0)
            printf("   (%.1f s; floor after it: %.1f ns)\n", took, floor_after);
        else
            printf("   (%.1f s)\n", took);
        if (json != NULL) {
            fprintf(json, " ], \"seconds\": %.3f", took);
            if (floor_after > 0)
                fprintf(json, ", \"floor_after_ns\": %.6g", floor_after);
            fprintf(json, " }");
        }
    }
    if (json != NULL) {
        fprintf(json, "\n  ], \"seconds\": %.3f\n}\n",
                (double)(bench_now_ns() - run_t0) / 1e9);
        fclose(json);
    }
    printf("\nops/s, ns/op: median of %d runs; [min - max] of ns/op; xfloor: ns/op\n"
           "over the floor measured just before; parc/peer: parc's ops/s over the\n"
           "peer's, the median of ratios paired within a round (above 1: parc is\n"
           "faster). *: fewer runs, the case spent its time budget (it convoys).\n",
           opt.reps);
    if (failures) {
        fprintf(stderr, "parc-bench: %d case(s) FAILED\n", failures);
        return 1;
    }
    return 0;
}
