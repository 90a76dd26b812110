/*
 * stress/impls/pool.c — custom workloads for parc_pool_t and futures.
 *
 *   pool.exactly_once  harness threads submit from outside while tasks
 *                      spawn children inside, and some submitters cancel
 *                      their own futures at random: every task runs exactly
 *                      once, unless its cancel won, and then never (a
 *                      million tasks a round; scaled down under
 *                      sanitizers/chaos).
 *   pool.forkjoin      recursive fork/join (naive fib; heap and caller-
 *                      storage futures alternate by level) from several outside
 *                      threads at once on 1..3 workers: right sums, no
 *                      deadlock (the watchdog would report HANG).
 *   pool.map           map/imap over random sizes and chunk sizes from
 *                      several threads: every output in its place.
 *   pool.terminate     terminate while work is queued: each future either
 *                      ran (and says 0) or was cancelled (and never ran).
 *   pool.idle          an idle pool burns no CPU (process CPU time over
 *                      half a second, generous bound).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parc/pool.h"
#include "parc/stress.h"

#ifndef PARC_SLOWDOWN
#define PARC_SLOWDOWN 1
#endif

/* ---- pool.exactly_once --------------------------------------------------- */

typedef struct once_round {
    parc_pool_t *pool;
    parc_stress_ctx_t *ctx;
    parc_atomic(uint8_t) *runs;   /* per task: times it ran */
    uint8_t *cancelled;           /* per task: its cancel won (owner thread) */
    size_t per_thread;            /* outside tasks per harness thread */
    unsigned threads;
} once_round_t;

/* A task's argument packs the round and its slot: slot in the low bits. */
typedef struct once_arg {
    once_round_t *r;
    size_t slot;
} once_arg_t;

static int once_child(void *arg, void **result)
{
    (void)result;
    once_arg_t *a = arg;
    parc_faa(&a->r->runs[a->slot], 1, PARC_RELAXED);
    free(a);
    return 0;
}

/* Even slots are outside tasks; an outside task's odd neighbour is a child
 * it spawns from inside the pool (onto its worker's deque). */
static int once_parent(void *arg, void **result)
{
    (void)result;
    once_arg_t *a = arg;
    parc_faa(&a->r->runs[a->slot], 1, PARC_RELAXED);
    once_arg_t *c = malloc(sizeof *c);
    if (c == NULL)
        return ENOMEM;
    *c = (once_arg_t){ a->r, a->slot + 1 };
    int rc = parc_pool_submit(a->r->pool, once_child, c, NULL);
    if (rc != 0) {
        parc_stress_fail(a->r->ctx, "submit from a worker failed: %d", rc);
        free(c);
    }
    free(a);
    return 0;
}

static void once_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    once_round_t *r = arg;
    size_t base = (size_t)index * r->per_thread * 2;
    for (size_t i = 0; i < r->per_thread; i++) {
        size_t slot = base + 2 * i;
        once_arg_t *a = malloc(sizeof *a);
        if (a == NULL) {
            parc_stress_fail(ctx, "out of memory");
            return;
        }
        *a = (once_arg_t){ r, slot };
        bool try_cancel = (parc_stress_random(ctx, index) & 15u) == 0;
        parc_future_t *f = NULL;
        int rc = parc_pool_submit(r->pool, once_parent, a, try_cancel ? &f : NULL);
        if (rc != 0) {
            parc_stress_fail(ctx, "submit failed: %d", rc);
            free(a);
            return;
        }
        if (try_cancel) {
            if (parc_future_cancel(f)) {
                r->cancelled[slot] = 1;
                free(a); /* never runs: its argument is ours again */
                if (parc_future_get(f, NULL) != ECANCELED)
                    parc_stress_fail(ctx, "cancelled future does not say ECANCELED");
            }
            parc_future_release(f);
        }
        if ((i & 4095u) == 0)
            parc_stress_progress(ctx, index, "submit");
    }
}

static int once_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    unsigned threads = parc_stress_threads(ctx);
    size_t total = 1000000u / PARC_SLOWDOWN; /* outside + children */
    size_t per_thread = total / 2 / threads + 1;
    size_t slots = per_thread * 2 * threads;
    once_round_t r = { .ctx = ctx, .per_thread = per_thread, .threads = threads };
    r.runs = calloc(slots, sizeof *r.runs);
    r.cancelled = calloc(slots, 1);
    if (r.runs == NULL || r.cancelled == NULL) {
        free(r.runs);
        free(r.cancelled);
        return ENOMEM;
    }
    unsigned rounds = 0;
    do {
        memset((void *)r.runs, 0, slots * sizeof *r.runs);
        memset(r.cancelled, 0, slots);
        int rc = parc_pool_create(1 + rounds % 3, NULL, &r.pool);
        if (rc != 0)
            return rc;
        rc = parc_stress_run_threads(ctx, threads, once_thread, &r);
        parc_pool_join(r.pool); /* all accepted work has run */
        parc_pool_free(r.pool);
        if (rc != 0)
            return rc;
        size_t bad = 0;
        for (size_t s = 0; s < slots; s += 2) {
            unsigned want = r.cancelled[s] ? 0 : 1;
            unsigned got = parc_load(&r.runs[s], PARC_RELAXED);
            unsigned child = parc_load(&r.runs[s + 1], PARC_RELAXED);
            if (got != want || child != want) {
                if (bad++ < 5)
                    parc_stress_fail(ctx, "task %zu ran %u times, its child %u times, "
                                          "expected %u (cancel %s)", s, got, child,
                                     want, r.cancelled[s] ? "won" : "lost or none");
            }
        }
        parc_stress_add_ops(ctx, slots);
        rounds++;
    } while (!parc_stress_stopping(ctx));
    free(r.runs);
    free(r.cancelled);
    return 0;
}

static const parc_stress_workload_t once_workload = {
    .name = "pool.exactly_once",
    .impl = "parc.pool",
    .description = "outside submits + inside spawns + racing cancels: each task runs once, or never when its cancel won",
    .max_threads = 4,
    .run = once_run,
};
PARC_STRESS_WORKLOAD(once_workload)

/* ---- pool.forkjoin -------------------------------------------------------- */

static parc_pool_t *fj_pool;

static int fib_task(void *arg, void **result)
{
    intptr_t n = (intptr_t)arg;
    if (n < 2) {
        *result = (void *)n;
        return 0;
    }
    void *vb = NULL, *va = NULL;
    int rc;
    if (n & 1) {
        /* Odd n: the child's future in caller storage (the C idiom and
         * the join's direct path for it); even n: a heap future. */
        parc_future_t a;
        parc_future_init(&a, fib_task, (void *)(n - 1));
        rc = parc_pool_submit_future(fj_pool, &a);
        if (rc != 0)
            return rc;
        fib_task((void *)(n - 2), &vb);
        rc = parc_future_get(&a, &va);
        if (parc_future_destroy(&a) != 0)
            rc = EIO;
    } else {
        parc_future_t *a;
        rc = parc_pool_submit(fj_pool, fib_task, (void *)(n - 1), &a);
        if (rc != 0)
            return rc;
        fib_task((void *)(n - 2), &vb);
        rc = parc_future_get(a, &va);
        parc_future_release(a);
    }
    *result = (void *)((intptr_t)va + (intptr_t)vb);
    return rc;
}

static intptr_t fib_serial(intptr_t n)
{
    return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}

static void fj_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    (void)arg;
    while (parc_stress_step(ctx, index, "fib")) {
        intptr_t n = 10 + (intptr_t)(parc_stress_random(ctx, index) % (PARC_SLOWDOWN > 1 ? 6 : 10));
        parc_future_t *f;
        int rc = parc_pool_submit(fj_pool, fib_task, (void *)n, &f);
        if (rc != 0) {
            parc_stress_fail(ctx, "submit failed: %d", rc);
            return;
        }
        void *v;
        rc = parc_future_get(f, &v);
        parc_future_release(f);
        if (rc != 0 || (intptr_t)v != fib_serial(n)) {
            parc_stress_fail(ctx, "fib(%ld) = %ld (rc %d), expected %ld", (long)n,
                             (long)(intptr_t)v, rc, (long)fib_serial(n));
            return;
        }
    }
}

static int fj_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    unsigned workers = 1 + (unsigned)(parc_stress_seed(ctx) % 3);
    int rc = parc_pool_create(workers, NULL, &fj_pool);
    if (rc != 0)
        return rc;
    rc = parc_stress_run_threads(ctx, parc_stress_threads(ctx), fj_thread, NULL);
    parc_pool_free(fj_pool);
    return rc;
}

static const parc_stress_workload_t fj_workload = {
    .name = "pool.forkjoin",
    .impl = "parc.pool",
    .description = "naive fib by recursive submit + get (heap and caller-storage futures) from several outside threads on 1-3 workers: right sums, no deadlock",
    .max_threads = 4,
    .run = fj_run,
};
PARC_STRESS_WORKLOAD(fj_workload)

/* ---- pool.map ---------------------------------------------------------------- */

static parc_pool_t *map_pool;

static int triple(const void *in, void *out)
{
    *(int64_t *)out = 3 * (int64_t)*(const int32_t *)in + 1;
    return 0;
}

static void map_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    (void)arg;
    enum { MAXN = 5000 };
    int32_t *in = malloc(MAXN * sizeof *in);
    int64_t *out = malloc(MAXN * sizeof *out);
    if (in == NULL || out == NULL) {
        parc_stress_fail(ctx, "out of memory");
        free(in);
        free(out);
        return;
    }
    while (parc_stress_step(ctx, index, "map")) {
        uint64_t rnd = parc_stress_random(ctx, index);
        size_t n = (size_t)(rnd % MAXN);
        size_t chunk = (size_t)((rnd >> 20) % 70); /* 0: automatic */
        for (size_t i = 0; i < n; i++) {
            in[i] = (int32_t)(rnd >> 7) + (int32_t)i;
            out[i] = -1;
        }
        int rc;
        if ((rnd >> 40) & 1) {
            rc = parc_pool_map(map_pool, triple, in, out, n, sizeof *in, sizeof *out, chunk);
        } else {
            parc_pool_imap_t *it;
            rc = ((rnd >> 41) & 1)
                     ? parc_pool_imap_unordered(map_pool, triple, in, n, sizeof *in, sizeof *out, chunk, &it)
                     : parc_pool_imap(map_pool, triple, in, n, sizeof *in, sizeof *out, chunk, &it);
            if (rc == 0) {
                int64_t v;
                size_t idx, got = 0;
                while ((rc = parc_pool_imap_next(it, &v, &idx)) == 0) {
                    if (idx >= n || out[idx] != -1) {
                        parc_stress_fail(ctx, "imap yielded index %zu twice or out of range", idx);
                        break;
                    }
                    out[idx] = v;
                    got++;
                }
                parc_pool_imap_free(it);
                if (rc == EPIPE && got == n)
                    rc = 0;
                else if (rc == EPIPE)
                    rc = EPROTO;
            }
        }
        if (rc != 0) {
            parc_stress_fail(ctx, "map/imap of %zu elements (chunk %zu) returned %d", n, chunk, rc);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (out[i] != 3 * (int64_t)in[i] + 1) {
                parc_stress_fail(ctx, "map of %zu (chunk %zu): out[%zu] = %lld, expected %lld",
                                 n, chunk, i, (long long)out[i], 3 * (long long)in[i] + 1);
                break;
            }
        }
    }
    free(in);
    free(out);
}

static int map_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    int rc = parc_pool_create(2, NULL, &map_pool);
    if (rc != 0)
        return rc;
    rc = parc_stress_run_threads(ctx, parc_stress_threads(ctx), map_thread, NULL);
    parc_pool_free(map_pool);
    return rc;
}

static const parc_stress_workload_t map_workload = {
    .name = "pool.map",
    .impl = "parc.pool",
    .description = "map/imap/imap_unordered over random sizes and chunk sizes from several threads: every result in its place, once",
    .max_threads = 4,
    .run = map_run,
};
PARC_STRESS_WORKLOAD(map_workload)

/* ---- pool.terminate -------------------------------------------------------------- */

static int mark_ran(void *arg, void **result)
{
    (void)result;
    parc_faa((parc_atomic(uint8_t) *)arg, 1, PARC_RELAXED);
    return 0;
}

static int term_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    enum { N = 2000 };
    parc_future_t **fs = calloc(N, sizeof *fs);
    parc_atomic(uint8_t) *ran = calloc(N, sizeof *ran);
    if (fs == NULL || ran == NULL) {
        free(fs);
        free((void *)ran);
        return ENOMEM;
    }
    uint64_t rng = parc_stress_seed(ctx) | 1u; /* the main thread's own */
    do {
        parc_pool_t *p;
        int rc = parc_pool_create(2, NULL, &p);
        if (rc != 0)
            return rc;
        memset((void *)ran, 0, N * sizeof *ran);
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        size_t cut = (size_t)(rng % N);
        size_t n = 0;
        for (; n < N; n++) {
            if (n == cut)
                parc_pool_terminate(p);
            rc = parc_pool_submit(p, mark_ran, (void *)&ran[n], &fs[n]);
            if (rc != 0)
                break;
        }
        if (n < N && (rc != EPIPE || n != cut))
            parc_stress_fail(ctx, "submit %zu after terminate at %zu returned %d", n, cut, rc);
        parc_pool_join(p);
        for (size_t i = 0; i < n; i++) {
            int st = parc_future_get(fs[i], NULL);
            unsigned r = parc_load(&ran[i], PARC_RELAXED);
            if (!((st == 0 && r == 1) || (st == ECANCELED && r == 0)))
                parc_stress_fail(ctx, "task %zu: status %d, ran %u times", i, st, r);
            parc_future_release(fs[i]);
        }
        parc_pool_free(p);
        parc_stress_add_ops(ctx, n);
        parc_stress_progress(ctx, 0, "terminate round");
    } while (!parc_stress_stopping(ctx));
    free(fs);
    free((void *)ran);
    return 0;
}

static const parc_stress_workload_t term_workload = {
    .name = "pool.terminate",
    .impl = "parc.pool",
    .description = "terminate with work queued: each future ran (status 0) or was cancelled (ECANCELED, never ran); later submits get EPIPE",
    .run = term_run,
};
PARC_STRESS_WORKLOAD(term_workload)

/* ---- pool.idle ------------------------------------------------------------------ */

static int64_t process_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int idle_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    parc_pool_t *p;
    int rc = parc_pool_create(2, NULL, &p);
    if (rc != 0)
        return rc;
    parc_atomic(uint8_t) ran[64];
    for (int i = 0; i < 64; i++) {
        parc_atomic_init(&ran[i], 0);
        parc_pool_submit(p, mark_ran, (void *)&ran[i], NULL);
    }
    parc_sleep_ns(50 * PARC_NS_PER_MS); /* past the spin */
    int64_t cpu0 = process_cpu_ns(), t0 = parc_now_ns();
    parc_sleep_ns(500 * PARC_NS_PER_MS);
    int64_t cpu = process_cpu_ns() - cpu0, wall = parc_now_ns() - t0;
    /* 5% of one core (20% under sanitizers, whose runtimes have threads
     * of their own); a spinning worker would take ~100%. */
    int64_t bound = wall / (PARC_SLOWDOWN > 1 ? 5 : 20);
    if (cpu > bound)
        parc_stress_fail(ctx, "idle pool used %.1f%% of a core (bound %.1f%%)",
                         100.0 * (double)cpu / (double)wall,
                         100.0 * (double)bound / (double)wall);
    parc_pool_free(p);
    for (int i = 0; i < 64; i++)
        if (parc_load(&ran[i], PARC_RELAXED) != 1)
            parc_stress_fail(ctx, "task %d ran %u times", i, parc_load(&ran[i], PARC_RELAXED));
    parc_stress_add_ops(ctx, 1);
    return 0;
}

static const parc_stress_workload_t idle_workload = {
    .name = "pool.idle",
    .impl = "parc.pool",
    .description = "an idle pool burns no CPU after its short spin (process CPU time, generous bound)",
    .run = idle_run,
};
PARC_STRESS_WORKLOAD(idle_workload)
