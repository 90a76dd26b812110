/*
 * The engine: one case at a time. A case gets a context (budget, seed,
 * per-thread progress slots), a watchdog thread, and its workload's run
 * function on the main thread; worker threads start together behind a
 * barrier. The watchdog ends a time budget (it raises `stop`) and turns a
 * run in which no thread moved for the watchdog period into a HANG, which
 * prints every thread's last operation and exits: a hung thread cannot be
 * taken back, and CI must not wait for it.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parc/chaos.h"
#include "parc/stress_baton.h"
#include "parc/time.h"
#include "stress_internal.h"

static uint64_t splitmix64(uint64_t x)
{
    x += UINT64_C(0x9E3779B97F4A7C15);
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

uint64_t stress_case_seed(uint64_t seed, const stress_case_t *c)
{
    /* FNV-1a over "workload/impl": a case's seed depends on the global
     * seed and its own name only, so --filter replays it alone. */
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (const char *s = c->workload; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
    h = (h ^ '/') * UINT64_C(0x100000001b3);
    for (const char *s = c->impl; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
    uint64_t r = splitmix64(seed ^ h);
    return r ? r : 1;
}

int64_t stress_elapsed_ns(const parc_stress_ctx_t *ctx)
{
    return parc_now_ns() - ctx->start_ns;
}

/* ---- the API custom workloads use ------------------------------------------- */

unsigned parc_stress_threads(const parc_stress_ctx_t *ctx)
{
    return ctx->threads;
}

uint64_t parc_stress_seed(const parc_stress_ctx_t *ctx)
{
    return ctx->seed;
}

uint64_t parc_stress_ops_per_thread(const parc_stress_ctx_t *ctx)
{
    return ctx->ops_per_thread;
}

int64_t parc_stress_patience_ns(const parc_stress_ctx_t *ctx)
{
    return ctx->patience_ns;
}

bool parc_stress_stopping(const parc_stress_ctx_t *ctx)
{
    /* relaxed: a hint to wind down; nothing is published through it. */
    return parc_raw_load(&((parc_stress_ctx_t *)ctx)->stop, PARC_RELAXED);
}

static stress_slot_t *slot_of(parc_stress_ctx_t *ctx, unsigned index)
{
    return &ctx->slots[index < STRESS_MAX_THREADS ? index : STRESS_MAIN_SLOT];
}

void parc_stress_progress(parc_stress_ctx_t *ctx, unsigned index, const char *op)
{
    stress_slot_t *s = slot_of(ctx, index);
    /* relaxed: the watchdog only needs to see the counter move at all. */
    parc_raw_store(&s->progress, parc_raw_load(&s->progress, PARC_RELAXED) + 1,
                   PARC_RELAXED);
    if (op)
        parc_raw_store(&s->last_op, op, PARC_RELAXED);
}

void parc_stress_note(parc_stress_ctx_t *ctx, unsigned index, const char *op)
{
    /* relaxed: read by the watchdog only for its HANG report. */
    parc_raw_store(&slot_of(ctx, index)->last_op, op, PARC_RELAXED);
}

bool parc_stress_step(parc_stress_ctx_t *ctx, unsigned index, const char *op)
{
    stress_slot_t *s = slot_of(ctx, index);
    s->ops++;
    /* relaxed: see parc_stress_progress. */
    parc_raw_store(&s->progress, s->ops, PARC_RELAXED);
    parc_raw_store(&s->last_op, op, PARC_RELAXED);
    return s->ops < ctx->ops_per_thread && !parc_stress_stopping(ctx);
}

uint64_t parc_stress_random(parc_stress_ctx_t *ctx, unsigned index)
{
    stress_slot_t *s = slot_of(ctx, index);
    /* xorshift64* */
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

void parc_stress_add_ops(parc_stress_ctx_t *ctx, uint64_t n)
{
    parc_raw_faa(&ctx->extra_ops, n, PARC_RELAXED);
}

void parc_stress_fail(parc_stress_ctx_t *ctx, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    uint64_t n = parc_raw_faa(&ctx->violations, 1, PARC_RELAXED);
    /* relaxed: every thread's violation is counted by the RMW above and
     * read after pthread_join, which orders it. */
    parc_raw_store(&ctx->stop, true, PARC_RELAXED);
    if (n < 3) {
        pthread_mutex_lock(&ctx->message_lock);
        if (n == 0)
            snprintf(ctx->message, sizeof ctx->message, "%s", msg);
        stress_progress_clear(ctx->opt);
        printf("  violation: %s/%s: %s\n", ctx->c->workload, ctx->c->impl, msg);
        fflush(stdout);
        pthread_mutex_unlock(&ctx->message_lock);
    }
}

void parc_stress_skip(parc_stress_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&ctx->message_lock);
    ctx->skipped = true;
    if (parc_raw_load(&ctx->violations, PARC_RELAXED) == 0)
        vsnprintf(ctx->message, sizeof ctx->message, fmt, ap);
    pthread_mutex_unlock(&ctx->message_lock);
    va_end(ap);
}

/* ---- worker threads behind a start barrier -------------------------------- */

typedef struct worker {
    parc_stress_ctx_t *ctx;
    unsigned index;
    parc_stress_thread_fn fn;
    void *arg;
    pthread_t thread;
} worker_t;

static void *worker_main(void *p)
{
    worker_t *w = p;
    parc_stress_ctx_t *ctx = w->ctx;
    parc_chaos_thread_begin(w->index);
    /* acq_rel on arrival, acquire on go: the main thread's set-up (the
     * object under test, the workload's state) happens before any worker
     * touches it; pairs with the release store of `go`. */
    parc_raw_faa(&ctx->arrived, 1u, PARC_ACQ_REL);
    while (!parc_raw_load(&ctx->go, PARC_ACQUIRE))
        sched_yield();
    /* --baton: wait for the scheduler's first choice; from here on one
     * worker runs at a time and the seed decides which. */
    if (ctx->opt->baton)
        parc_baton_enter(w->index);
    w->fn(ctx, w->index, w->arg);
    if (ctx->opt->baton)
        parc_baton_exit();
    parc_raw_store(&slot_of(ctx, w->index)->last_op, "(finished)", PARC_RELAXED);
    return NULL;
}

/* The most threads one parc_stress_run_threads() call of the case used
 * (main thread writes, the watchdog may read for a HANG row). */
static parc_atomic(unsigned) used_threads_max;
static unsigned baton_runs; /* run_threads calls in this case (main thread) */

int parc_stress_run_threads(parc_stress_ctx_t *ctx, unsigned threads,
                            parc_stress_thread_fn fn, void *arg)
{
    if (ctx == NULL || fn == NULL || threads == 0 || threads > STRESS_MAX_THREADS)
        return EINVAL;
    worker_t *w = calloc(threads, sizeof *w);
    if (w == NULL)
        return ENOMEM;
    parc_raw_store(&ctx->arrived, 0u, PARC_RELAXED);
    parc_raw_store(&ctx->go, false, PARC_RELAXED);
    for (unsigned i = 0; i < threads; i++) {
        stress_slot_t *s = &ctx->slots[i];
        parc_raw_store(&s->active, true, PARC_RELAXED);
        s->rng = splitmix64(ctx->seed + i) | 1u;
        parc_raw_store(&s->last_op, "(starting)", PARC_RELAXED);
    }
    if (threads > parc_raw_load(&used_threads_max, PARC_RELAXED))
        parc_raw_store(&used_threads_max, threads, PARC_RELAXED);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256u * 1024u);
    int err = 0;
    unsigned started = 0;
    for (; started < threads; started++) {
        w[started] = (worker_t){ ctx, started, fn, arg, 0 };
        err = pthread_create(&w[started].thread, &attr, worker_main, &w[started]);
        if (err)
            break;
    }
    pthread_attr_destroy(&attr);
    if (err) {
        parc_raw_store(&ctx->stop, true, PARC_RELAXED);
        parc_stress_fail(ctx, "pthread_create failed for thread %u: %s", started,
                         strerror(err));
    } else {
        while (parc_raw_load(&ctx->arrived, PARC_ACQUIRE) < threads) {
            parc_stress_progress(ctx, STRESS_MAIN_SLOT, "start barrier");
            sched_yield();
        }
        if (ctx->opt->baton) {
            /* One PCT schedule per run_threads call, drawn from the case's
             * seed: the same command replays it. Every worker exists, so
             * every one will enter. */
            parc_baton_options_t bo = {
                .seed = ctx->seed + baton_runs++,
                .expected_steps = 8u * ctx->ops_per_thread * threads,
                .hang_ns = (int64_t)(ctx->opt->watchdog_seconds * 1e9) * PARC_SLOWDOWN,
                .weak = ctx->opt->weak,
            };
            err = parc_baton_begin(threads, &bo);
            if (err) {
                parc_raw_store(&ctx->stop, true, PARC_RELAXED);
                parc_stress_fail(ctx, "the baton could not start: %s", strerror(err));
            }
        }
    }
    /* release: publishes the set-up to the workers (acquire above). */
    parc_raw_store(&ctx->go, true, PARC_RELEASE);
    parc_raw_store(&ctx->slots[STRESS_MAIN_SLOT].last_op, "joining workers",
                   PARC_RELAXED);
    for (unsigned i = 0; i < started; i++)
        pthread_join(w[i].thread, NULL);
    if (ctx->opt->baton && !err) {
        parc_baton_result_t br;
        parc_baton_end(&br);
        if (!ctx->opt->quiet)
            printf("  %s/%s under the baton: %" PRIu64 " steps, %" PRIu64
                   " switches, %" PRIu64 " parks, schedule %016" PRIx64 "\n",
                   ctx->c->workload, ctx->c->impl, br.steps, br.switches, br.parks,
                   br.schedule_hash);
        if (ctx->opt->weak && !ctx->opt->quiet)
            printf("  weak memory: %" PRIu64 " loads, %" PRIu64 " read an older store\n",
                   br.weak_loads, br.weak_stale);
    }
    parc_raw_store(&ctx->slots[STRESS_MAIN_SLOT].last_op, "checking", PARC_RELAXED);
    free(w);
    return err;
}

/* ---- the watchdog ----------------------------------------------------------- */

typedef struct watchdog {
    parc_stress_ctx_t *ctx;
    stress_result_t *r;
    unsigned index, total;
    parc_atomic(bool) done;
    pthread_t thread;
} watchdog_t;

static uint64_t progress_sum(parc_stress_ctx_t *ctx)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i <= STRESS_MAX_THREADS; i++)
        sum += parc_raw_load(&ctx->slots[i].progress, PARC_RELAXED);
    return sum;
}

static _Noreturn void report_hang(watchdog_t *wd, double idle_s)
{
    parc_stress_ctx_t *ctx = wd->ctx;
    stress_progress_clear(ctx->opt);
    printf("HANG: %s/%s: no thread made progress for %.1f s (seed 0x%016" PRIx64 ")\n",
           ctx->c->workload, ctx->c->impl, idle_s, ctx->seed);
    for (unsigned i = 0; i <= STRESS_MAX_THREADS; i++) {
        stress_slot_t *s = &ctx->slots[i];
        if (!parc_raw_load(&s->active, PARC_RELAXED) && i != STRESS_MAIN_SLOT)
            continue;
        const char *op = parc_raw_load(&s->last_op, PARC_RELAXED);
        if (i == STRESS_MAIN_SLOT)
            printf("  main thread: last operation: %s\n", op ? op : "(none)");
        else
            printf("  thread %3u: last operation: %-24s progress %" PRIu64 "\n", i,
                   op ? op : "(none)", parc_raw_load(&s->progress, PARC_RELAXED));
    }
    uint64_t ops = parc_raw_load(&ctx->extra_ops, PARC_RELAXED);
    for (unsigned i = 0; i <= STRESS_MAX_THREADS; i++)
        ops += parc_raw_load(&ctx->slots[i].progress, PARC_RELAXED);
    wd->r->ops = ops;
    wd->r->status = STRESS_HANG;
    unsigned used = parc_raw_load(&used_threads_max, PARC_RELAXED);
    wd->r->threads = used ? used : ctx->threads;
    wd->r->seconds = (double)stress_elapsed_ns(ctx) / 1e9;
    snprintf(wd->r->message, sizeof wd->r->message,
             "no progress for %.1f s", idle_s);
    stress_report_abort();
}

static void *watchdog_main(void *p)
{
    watchdog_t *wd = p;
    parc_stress_ctx_t *ctx = wd->ctx;
    const int64_t tick = 20 * PARC_NS_PER_MS;
    int64_t hang_ns = (int64_t)(ctx->opt->watchdog_seconds * 1e9) * PARC_SLOWDOWN;
    uint64_t last = progress_sum(ctx);
    int64_t last_change = parc_now_ns(), last_line = 0;
    /* acquire: pairs with the release store of `done` at the end of the
     * case (nothing depends on it but the exit). */
    while (!parc_raw_load(&wd->done, PARC_ACQUIRE)) {
        parc_sleep_ns(tick);
        int64_t now = parc_now_ns();
        if (now >= ctx->deadline_ns)
            parc_raw_store(&ctx->stop, true, PARC_RELAXED);
        uint64_t sum = progress_sum(ctx);
        if (sum != last) {
            last = sum;
            last_change = now;
        } else if (now - last_change > hang_ns) {
            report_hang(wd, (double)(now - last_change) / 1e9);
        }
        if (now - last_line >= 200 * PARC_NS_PER_MS) {
            stress_progress_line(ctx, wd->index, wd->total);
            last_line = now;
        }
    }
    return NULL;
}

/* ---- one case ------------------------------------------------------------- */

/* Cases that cannot run under --baton although their descriptors (in files
 * of other owners) do not say PARC_STRESS_NO_BATON: "workload/impl" globs
 * and why. The baton serializes only the harness's workers; anything else
 * either hangs (a worker waits for a thread the baton never lets run, or
 * sleeps in a timed wait the baton cannot see) or does not replay. */
static const struct {
    const char *pattern;
    const char *reason;
} no_baton[] = {
    { "pool.*/*", "the pool runs tasks on threads of its own, which the baton "
                  "does not schedule" },
    { "task_group.*/*", "a task group's tasks run on the pool's threads, which "
                        "the baton does not schedule" },
    { "fiber.*/*", "fibers run on the pool's threads, which the baton does "
                   "not schedule" },
    { "actor.*/*", "the actor scheduler runs actors on threads of its own, which "
                   "the baton does not schedule" },
    { "*/parc.queue.*", "its pops block with timeouts and park; the baton cannot "
                        "replay their expiry, and its runs hung (not investigated)" },
};

/* NULL when the case may run under --baton, else why not. */
static const char *baton_refusal(const stress_case_t *c)
{
    if (c->flags & PARC_STRESS_NO_BATON)
        return "it starts threads of its own or waits with timeouts, which the "
               "baton cannot schedule or replay (PARC_STRESS_NO_BATON)";
    char key[160];
    snprintf(key, sizeof key, "%s/%s", c->workload, c->impl);
    for (size_t i = 0; i < sizeof no_baton / sizeof no_baton[0]; i++)
        if (fnmatch(no_baton[i].pattern, key, 0) == 0)
            return no_baton[i].reason;
    return NULL;
}

static bool built_with_tsan(void)
{
#ifdef PARC_TSAN
    return true;
#else
    return false;
#endif
}

void stress_run_case(const stress_options_t *opt, const stress_case_t *c,
                     uint64_t seed, unsigned index, unsigned total,
                     stress_result_t *r)
{
    memset(r, 0, sizeof *r);
    r->c = c;
    r->seed = stress_case_seed(seed, c);
    r->threads = opt->threads;

    unsigned threads = opt->threads;
    if ((c->flags & PARC_STRESS_NEEDS_TSAN) && !built_with_tsan()) {
        r->status = STRESS_SKIP;
        snprintf(r->message, sizeof r->message,
                 "only ThreadSanitizer sees this (run it in the tsan build)");
        return;
    }
    const char *refusal = opt->baton ? baton_refusal(c) : NULL;
    if (refusal) {
        r->status = STRESS_SKIP;
        snprintf(r->message, sizeof r->message, "not under --baton: %s", refusal);
        return;
    }
    if (c->custom) {
        unsigned lo = c->custom->min_threads ? c->custom->min_threads : 1;
        if (threads < lo) {
            r->status = STRESS_SKIP;
            snprintf(r->message, sizeof r->message,
                     "needs at least %u threads, %u allowed", lo, threads);
            return;
        }
        if (c->custom->max_threads && threads > c->custom->max_threads)
            threads = c->custom->max_threads;
    }

    parc_stress_ctx_t *ctx = aligned_alloc(PARC_CACHELINE,
        (sizeof *ctx + PARC_CACHELINE - 1) / PARC_CACHELINE * PARC_CACHELINE);
    if (ctx == NULL) {
        r->status = STRESS_FAIL;
        snprintf(r->message, sizeof r->message, "out of memory");
        return;
    }
    memset(ctx, 0, sizeof *ctx);
    pthread_mutex_init(&ctx->message_lock, NULL);
    ctx->opt = opt;
    ctx->c = c;
    ctx->threads = threads;
    ctx->seed = r->seed;
    ctx->patience_ns = PARC_NS_PER_S * PARC_SLOWDOWN;
    if (opt->ops) {
        ctx->ops_per_thread = opt->ops / threads;
        if (ctx->ops_per_thread == 0)
            ctx->ops_per_thread = 1;
    } else {
        ctx->ops_per_thread = STRESS_TIME_OPS_CAP;
    }
    ctx->slots[STRESS_MAIN_SLOT].rng = splitmix64(ctx->seed) | 1u;
    parc_raw_store(&ctx->slots[STRESS_MAIN_SLOT].last_op, "set-up", PARC_RELAXED);
    parc_raw_store(&used_threads_max, 0u, PARC_RELAXED);
    baton_runs = 0;

    parc_chaos_set_seed(ctx->seed);
    parc_chaos_thread_begin(STRESS_MAX_THREADS); /* the main thread's index */

    ctx->start_ns = parc_now_ns();
    ctx->deadline_ns = opt->seconds > 0
        ? ctx->start_ns + (int64_t)(opt->seconds * 1e9) : PARC_FOREVER;

    watchdog_t wd = { .ctx = ctx, .r = r, .index = index, .total = total };
    int err = pthread_create(&wd.thread, NULL, watchdog_main, &wd);
    if (err) {
        r->status = STRESS_FAIL;
        snprintf(r->message, sizeof r->message, "cannot start the watchdog: %s",
                 strerror(err));
        free(ctx);
        return;
    }

    int rc = c->custom ? c->custom->run(ctx, c->custom->arg)
                       : c->builtin->run(ctx, c->impl_ptr);

    /* release: pairs with the watchdog's acquire load of `done`. */
    parc_raw_store(&wd.done, true, PARC_RELEASE);
    pthread_join(wd.thread, NULL);
    stress_progress_clear(opt);

    r->seconds = (double)stress_elapsed_ns(ctx) / 1e9;
    uint64_t ops = parc_raw_load(&ctx->extra_ops, PARC_RELAXED);
    for (unsigned i = 0; i <= STRESS_MAX_THREADS; i++)
        ops += ctx->slots[i].ops;
    r->ops = ops;
    unsigned used = parc_raw_load(&used_threads_max, PARC_RELAXED);
    r->threads = used ? used : threads;
    r->violations = parc_raw_load(&ctx->violations, PARC_RELAXED);
    snprintf(r->message, sizeof r->message, "%s", ctx->message);
    if (rc != 0 && r->violations == 0) {
        r->violations = 1;
        snprintf(r->message, sizeof r->message, "the run could not be set up: %s",
                 strerror(rc));
    }
    if (r->violations) {
        r->status = STRESS_FAIL;
    } else if (ctx->skipped) {
        r->status = STRESS_SKIP;
    } else if (r->ops == 0) {
        /* Nothing was counted, so nothing was shown to work. */
        r->status = STRESS_SKIP;
        snprintf(r->message, sizeof r->message,
                 "no operation was counted (nothing exercised)");
    } else {
        r->status = STRESS_PASS;
    }
    pthread_mutex_destroy(&ctx->message_lock);
    free(ctx);
}
