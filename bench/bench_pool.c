/*
 * bench/bench_pool.c — the work-stealing pool (parc/pool.h) against
 * serial code, hand-written threads and GLib's GThreadPool.
 *
 * Benchmarks (2 workers: the machine's cores):
 *   pool_submit     empty tasks submitted from one outside thread until all
 *                   have run (each bumps a per-worker counter; the
 *                   submitter polls the sum), on a warm pool. Also parc
 *                   from a cold pool joined inside the clock. Peer: GLib's
 *                   GThreadPool, warm, counting alike. Java's
 *                   ForkJoinPool(2) execute(): bench/pool_peers/run_java.sh.
 *   pool_forkjoin   a binary tree of tasks down to leaves of one element
 *                   (fork the left half, compute the right, join): one
 *                   op per leaf, that is one fork (a submitted task with
 *                   its future) per op, less one. "parc": the child's
 *                   future on the parent's stack (parc_future_init +
 *                   parc_pool_submit_future, no allocation);
 *                   "parc-heap-futures": parc_pool_submit's heap future
 *                   per fork. Peers: the same on a 1-worker pool (the
 *                   ratio is the speed-up of 2 workers), serial
 *                   recursion. Java's figure for the same tree is
 *                   bench/pool_peers' "forks/s", the same unit; its "task objects/s" counts two per split (the right
 *                   half is a RecursiveTask too, computed in place, never
 *                   forked), twice the forks.
 *   pool_fib        fork/join fib(30) with a sequential cutoff (serial
 *                   recursion below n = 18), 2 workers, against the serial
 *                   recursive fib: the speed-up the target means.
 *   pool_fib_tasks  naive fib(30) with a task at every call: 2 workers
 *                   against 1 worker (the speed-up) and serial (the cost
 *                   of a fork and join against a call).
 *   pool_map_cpu    map of a compute-bound function (~200 ns/element) over
 *                   a million elements: parc's map against a serial loop.
 *   pool_map_mem    square over 10,000,000 ints: "parc" is the typed map
 *                   of PARC_POOL_MAP_DEFINE (the element function inlined
 *                   into each chunk's loop); "parc-map-fnptr" is
 *                   parc_pool_map (a call through a pointer per element);
 *                   parallel_for (a call per range); against a hand-written
 *                   two-thread loop and a serial loop.
 *   pool_pymap      the seed's Pool(2).map(square, range(1_000_000)): parc's
 *                   typed map ("parc") and parc_pool_map ("parc-map-fnptr");
 *                   Python's figure comes from bench/pool_peers/python_map.py.
 *
 * One "op" is one task (submit, forkjoin, fib) or one element (maps).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"
#include "parc/pool.h"

#ifdef PARC_BENCH_HAVE_GLIB
#include <glib.h>
#endif

/* One pool per worker count, created on first use and kept (a pool's
 * start-up is not what these benchmarks measure). */
static parc_pool_t *shared_pool(int workers)
{
    static parc_pool_t *pools[8];
    if (workers < 1 || workers > 8)
        return NULL;
    if (pools[workers - 1] == NULL
        && parc_pool_create((unsigned)workers, NULL, &pools[workers - 1]) != 0)
        return NULL;
    return pools[workers - 1];
}

/* ---- pool_submit ---------------------------------------------------------- */

static const bench_point_t submit_points[] = {
    { "empty tasks, 2 workers", 2, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(pool_submit, "empty tasks from one outside thread until all have run", submit_points)

/* "Until all have run": each task bumps its worker's own counter (padded,
 * as Java's LongAdder stripes), and the submitter polls their sum. The
 * pools are warm and kept, as the Java peer's is. */
typedef struct submit_counter {
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) done;
} submit_counter_t;

static submit_counter_t submit_done[8];

static int counting_task(void *arg, void **result)
{
    (void)result;
    int w = parc_pool_current_worker(arg); /* arg: the pool */
    /* relaxed: only counted; the poller needs no data from the task */
    parc_faa(&submit_done[w].done, 1u, PARC_RELAXED);
    return 0;
}

static uint64_t submit_sum(int workers)
{
    uint64_t sum = 0;
    for (int i = 0; i < workers; i++)
        sum += parc_load(&submit_done[i].done, PARC_RELAXED);
    return sum;
}

static int64_t submit_parc(bench_run_t *r)
{
    parc_pool_t *p = shared_pool(r->threads);
    if (p == NULL)
        return BENCH_FAILED;
    uint64_t base = submit_sum(r->threads), want = base + r->ops;
    int64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < r->ops; i++)
        if (parc_pool_submit(p, counting_task, p, NULL) != 0)
            return BENCH_FAILED;
    /* Poll by sleeping: a spinning submitter would take a core from the
     * two workers (the Java peer polls alike). */
    while (submit_sum(r->threads) < want)
        parc_sleep_ns(20 * PARC_NS_PER_US);
    return bench_now_ns() - t0;
}
BENCH_CASE(pool_submit, "parc", submit_parc)

static int empty_task(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return 0;
}

/* The same from a cold pool: created before the clock, joined inside it
 * (thread exits and first-use set-up included). */
static int64_t submit_parc_cold(bench_run_t *r)
{
    parc_pool_t *p;
    if (parc_pool_create((unsigned)r->threads, NULL, &p) != 0)
        return BENCH_FAILED;
    int64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < r->ops; i++)
        if (parc_pool_submit(p, empty_task, NULL, NULL) != 0)
            return BENCH_FAILED;
    parc_pool_join(p); /* every accepted task has run */
    int64_t ns = bench_now_ns() - t0;
    parc_pool_free(p);
    return ns;
}
BENCH_CASE(pool_submit, "parc-cold-pool+join", submit_parc_cold)

/* Not under ThreadSanitizer: GLib is not instrumented, and its own
 * allocator hand-offs then read as races. */
#if defined(PARC_BENCH_HAVE_GLIB) && !defined(__SANITIZE_THREAD__)
static parc_atomic(uint64_t) glib_done;

static void glib_count(gpointer data, gpointer user)
{
    (void)data;
    (void)user;
    parc_faa(&glib_done, 1u, PARC_RELAXED); /* relaxed: only counted */
}

static int64_t submit_glib(bench_run_t *r)
{
    static GThreadPool *gp; /* warm and kept, as parc's */
    if (gp == NULL)
        gp = g_thread_pool_new(glib_count, NULL, r->threads, TRUE, NULL);
    if (gp == NULL)
        return BENCH_FAILED;
    uint64_t want = parc_load(&glib_done, PARC_RELAXED) + r->ops;
    int64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < r->ops; i++)
        g_thread_pool_push(gp, GINT_TO_POINTER(1), NULL); /* NULL is refused */
    while (parc_load(&glib_done, PARC_RELAXED) < want)
        parc_sleep_ns(20 * PARC_NS_PER_US); /* as parc's case */
    return bench_now_ns() - t0;
}
BENCH_CASE(pool_submit, "glib-gthreadpool", submit_glib)
#endif

/* ---- pool_forkjoin --------------------------------------------------------- */

static const bench_point_t forkjoin_points[] = {
    { "tree to leaves of 1, 2 workers", 2, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(pool_forkjoin, "recursive fork/join, one task per leaf", forkjoin_points)

typedef struct range_job {
    parc_pool_t *pool;
    uint64_t lo, hi;
} range_job_t;

/* The left half's future lives on the parent's stack (parc_future_init +
 * parc_pool_submit_future): the C idiom, no allocation per fork. */
static int range_task(void *arg, void **result)
{
    range_job_t *j = arg;
    uint64_t n = j->hi - j->lo;
    if (n <= 1) {
        *result = (void *)(uintptr_t)n;
        return 0;
    }
    uint64_t mid = j->lo + n / 2;
    range_job_t left = { j->pool, j->lo, mid }, right = { j->pool, mid, j->hi };
    parc_future_t f;
    parc_future_init(&f, range_task, &left);
    if (parc_pool_submit_future(j->pool, &f) != 0)
        return EIO;
    void *vr = NULL, *vl = NULL;
    range_task(&right, &vr);
    int rc = parc_future_get(&f, &vl);
    parc_future_destroy(&f);
    *result = (void *)((uintptr_t)vl + (uintptr_t)vr);
    return rc;
}

/* The same with a heap future per fork (parc_pool_submit's). */
static int range_task_heap(void *arg, void **result)
{
    range_job_t *j = arg;
    uint64_t n = j->hi - j->lo;
    if (n <= 1) {
        *result = (void *)(uintptr_t)n;
        return 0;
    }
    uint64_t mid = j->lo + n / 2;
    range_job_t left = { j->pool, j->lo, mid }, right = { j->pool, mid, j->hi };
    parc_future_t *f;
    if (parc_pool_submit(j->pool, range_task_heap, &left, &f) != 0)
        return EIO;
    void *vr = NULL, *vl = NULL;
    range_task_heap(&right, &vr);
    int rc = parc_future_get(f, &vl);
    parc_future_release(f);
    *result = (void *)((uintptr_t)vl + (uintptr_t)vr);
    return rc;
}

static int64_t forkjoin_run(bench_run_t *r, int workers, parc_task_fn task)
{
    parc_pool_t *p = shared_pool(workers);
    if (p == NULL)
        return BENCH_FAILED;
    range_job_t root = { p, 0, r->ops };
    int64_t t0 = bench_now_ns();
    parc_future_t *f;
    void *v = NULL;
    if (parc_pool_submit(p, task, &root, &f) != 0 || parc_future_get(f, &v) != 0)
        return BENCH_FAILED;
    int64_t ns = bench_now_ns() - t0;
    parc_future_release(f);
    return (uint64_t)(uintptr_t)v == r->ops ? ns : BENCH_FAILED;
}

static int64_t forkjoin_parc(bench_run_t *r)
{
    return forkjoin_run(r, r->threads, range_task);
}
BENCH_CASE(pool_forkjoin, "parc", forkjoin_parc)

/* The same on a 1-worker pool: parc/this is the speed-up of 2 workers. */
static int64_t forkjoin_parc1(bench_run_t *r)
{
    return forkjoin_run(r, 1, range_task);
}
BENCH_CASE(pool_forkjoin, "parc-1-worker", forkjoin_parc1)

static int64_t forkjoin_parc_heap(bench_run_t *r)
{
    return forkjoin_run(r, r->threads, range_task_heap);
}
BENCH_CASE(pool_forkjoin, "parc-heap-futures", forkjoin_parc_heap)

static uint64_t range_serial(uint64_t lo, uint64_t hi)
{
    uint64_t n = hi - lo;
    if (n <= 1)
        return n;
    uint64_t mid = lo + n / 2;
    return range_serial(lo, mid) + range_serial(mid, hi);
}

static int64_t forkjoin_serial(bench_run_t *r)
{
    int64_t t0 = bench_now_ns();
    uint64_t v = range_serial(0, r->ops);
    bench_consume(v);
    int64_t ns = bench_now_ns() - t0;
    return v == r->ops ? ns : BENCH_FAILED;
}
BENCH_CASE(pool_forkjoin, "serial-recursion", forkjoin_serial)

/* ---- pool_fib and pool_fib_tasks ------------------------------------------- */

/* pool_fib: the standard fork/join fib, with a sequential cutoff (below
 * FIB_CUTOFF the recursion is the serial one, as every fork/join text
 * writes it: a task costs tens of ns, a call under one), against the
 * serial recursion: parc/serial is the speed-up of 2 workers on fib(30).
 * pool_fib_tasks: a task at every call down to the leaves (the scheduler's
 * own cost per fork and join), 2 workers against 1; Java's recursive
 * ForkJoinPool figure for the same is bench/pool_peers' "fib". */
static const bench_point_t fib_points[] = {
    { "fib(30), cutoff 18, 2 workers", 2, 30, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(pool_fib, "fork/join fib with a sequential cutoff vs serial fib (speed-up)", fib_points)

static const bench_point_t fib_tasks_points[] = {
    { "fib(30), a task per call, 2 workers", 2, 30, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(pool_fib_tasks, "naive fork/join fib, a task at every call: 2 workers vs 1", fib_tasks_points)

#define FIB_CUTOFF 18

static parc_pool_t *fib_pool;

/* Not inlined into fib_task, so both fib rows run the same serial code
 * below the cutoff as the serial row. */
static __attribute__((noinline)) intptr_t fib_serial(intptr_t n)
{
    return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}

/* arg: n, with the cutoff in the bits above 8 (0: a task at every call). */
static int fib_task(void *arg, void **result)
{
    intptr_t n = (intptr_t)arg & 0xff, cutoff = (intptr_t)arg >> 8;
    if (n < 2 || n < cutoff) {
        *result = (void *)fib_serial(n);
        return 0;
    }
    parc_future_t f; /* caller storage, as pool_forkjoin's */
    parc_future_init(&f, fib_task, (void *)((cutoff << 8) | (n - 1)));
    if (parc_pool_submit_future(fib_pool, &f) != 0)
        return EIO;
    void *a = NULL, *b = NULL;
    fib_task((void *)((cutoff << 8) | (n - 2)), &b);
    int rc = parc_future_get(&f, &a);
    parc_future_destroy(&f);
    *result = (void *)((intptr_t)a + (intptr_t)b);
    return rc;
}

/* fib(n) makes fib(n+1) - 1 calls with n >= 2 ... counted as ops. */
static uint64_t fib_calls(long n)
{
    uint64_t a = 1, b = 1; /* calls(0), calls(1) */
    for (long i = 2; i <= n; i++) {
        uint64_t c = a + b + 1;
        a = b;
        b = c;
    }
    return n < 1 ? 1 : b;
}

/* The answer, computed once per process outside any timing. */
static intptr_t fib_expected(long n)
{
    static long known_n = -1;
    static intptr_t known;
    if (known_n != n) {
        known = fib_serial(n);
        known_n = n;
    }
    return known;
}

static int64_t fib_run(bench_run_t *r, int workers, intptr_t cutoff)
{
    fib_pool = shared_pool(workers);
    if (fib_pool == NULL || r->arg > 0xff)
        return BENCH_FAILED;
    intptr_t want = fib_expected(r->arg);
    int64_t t0 = bench_now_ns();
    parc_future_t *f;
    void *v = NULL;
    if (parc_pool_submit(fib_pool, fib_task, (void *)((cutoff << 8) | (intptr_t)r->arg), &f) != 0
        || parc_future_get(f, &v) != 0)
        return BENCH_FAILED;
    int64_t ns = bench_now_ns() - t0;
    parc_future_release(f);
    r->items = fib_calls(r->arg); /* one fib per run, whatever ops says */
    return (intptr_t)v == want ? ns : BENCH_FAILED;
}

static int64_t fib_cutoff_parc(bench_run_t *r)
{
    return fib_run(r, r->threads, FIB_CUTOFF);
}
BENCH_CASE(pool_fib, "parc", fib_cutoff_parc)

static int64_t fib_cutoff_parc1(bench_run_t *r)
{
    return fib_run(r, 1, FIB_CUTOFF);
}
BENCH_CASE(pool_fib, "parc-1-worker", fib_cutoff_parc1)

static int64_t fib_serial_case(bench_run_t *r)
{
    intptr_t want = fib_expected(r->arg);
    int64_t t0 = bench_now_ns();
    intptr_t v = fib_serial(r->arg);
    bench_consume((uint64_t)v);
    int64_t ns = bench_now_ns() - t0;
    r->items = fib_calls(r->arg);
    return v == want ? ns : BENCH_FAILED;
}
BENCH_CASE(pool_fib, "serial", fib_serial_case)

static int64_t fib_tasks_parc(bench_run_t *r)
{
    return fib_run(r, r->threads, 0);
}
BENCH_CASE(pool_fib_tasks, "parc", fib_tasks_parc)

/* The same on a 1-worker pool: parc/this is the speed-up of 2 workers. */
static int64_t fib_tasks_parc1(bench_run_t *r)
{
    return fib_run(r, 1, 0);
}
BENCH_CASE(pool_fib_tasks, "parc-1-worker", fib_tasks_parc1)

static int64_t fib_tasks_serial(bench_run_t *r)
{
    return fib_serial_case(r);
}
BENCH_CASE(pool_fib_tasks, "serial", fib_tasks_serial)

/* ---- pool_map_cpu --------------------------------------------------------------- */

static const bench_point_t map_cpu_points[] = {
    { "1M elements, ~200 ns each, 2 workers", 2, 1000000, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(pool_map_cpu, "map of a compute-bound function", map_cpu_points)

/* ~200 ns of dependent integer arithmetic (an xorshift chain). */
static uint64_t burn(uint64_t x)
{
    for (int i = 0; i < 120; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

static int burn_elem(const void *in, void *out)
{
    *(uint64_t *)out = burn(*(const uint64_t *)in);
    return 0;
}

static uint64_t *cpu_in, *cpu_out;

static bool cpu_arrays(size_t n)
{
    static size_t have;
    if (have < n) {
        free(cpu_in);
        free(cpu_out);
        cpu_in = malloc(n * sizeof *cpu_in);
        cpu_out = malloc(n * sizeof *cpu_out);
        if (cpu_in == NULL || cpu_out == NULL)
            return false;
        for (size_t i = 0; i < n; i++)
            cpu_in[i] = i + 1;
        have = n;
    }
    return true;
}

static int64_t map_cpu_parc(bench_run_t *r)
{
    parc_pool_t *p = shared_pool(r->threads);
    size_t n = (size_t)r->arg;
    if (p == NULL || !cpu_arrays(n))
        return BENCH_FAILED;
    int64_t t0 = bench_now_ns();
    int rc = parc_pool_map(p, burn_elem, cpu_in, cpu_out, n, sizeof *cpu_in, sizeof *cpu_out, 0);
    int64_t ns = bench_now_ns() - t0;
    r->items = n;
    return rc == 0 && cpu_out[n - 1] == burn(n) ? ns : BENCH_FAILED;
}
BENCH_CASE(pool_map_cpu, "parc", map_cpu_parc)

static int64_t map_cpu_serial(bench_run_t *r)
{
    size_t n = (size_t)r->arg;
    if (!cpu_arrays(n))
        return BENCH_FAILED;
    /* Through a pointer, as map calls it: called directly, the compiler
     * inlines burn() and vectorises it across elements, which is another
     * computation (about twice as fast) than the one map parallelises. */
    int (*volatile elem)(const void *, void *) = burn_elem;
    int64_t t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++)
        elem(&cpu_in[i], &cpu_out[i]);
    int64_t ns = bench_now_ns() - t0;
    r->items = n;
    return cpu_out[n - 1] == burn(n) ? ns : BENCH_FAILED;
}
BENCH_CASE(pool_map_cpu, "serial", map_cpu_serial)

/* ---- pool_map_mem ----------------------------------------------------------------- */

static const bench_point_t map_mem_points[] = {
    { "square over 10M ints, 2 workers", 2, 10000000, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(pool_map_mem, "memory-bound map: square over ints", map_mem_points)

static int *mem_in, *mem_out;

static bool mem_arrays(size_t n)
{
    static size_t have;
    if (have < n) {
        free(mem_in);
        free(mem_out);
        mem_in = malloc(n * sizeof *mem_in);
        mem_out = malloc(n * sizeof *mem_out);
        if (mem_in == NULL || mem_out == NULL)
            return false;
        for (size_t i = 0; i < n; i++) {
            mem_in[i] = (int)(i & 0x7fff);
            mem_out[i] = 0;
        }
        have = n;
    }
    return true;
}

static inline int square_elem(const void *in, void *out)
{
    int x = *(const int *)in;
    *(int *)out = x * x;
    return 0;
}

/* square_map(pool, in, out, n, chunksize): map with square_elem inlined. */
PARC_POOL_MAP_DEFINE(square_map, square_elem, int, int);

static int square_range(void *arg, int64_t lo, int64_t hi)
{
    (void)arg;
    for (int64_t i = lo; i < hi; i++)
        mem_out[i] = mem_in[i] * mem_in[i];
    return 0;
}

static bool mem_check(size_t n)
{
    size_t i = n - 1;
    return mem_out[i] == mem_in[i] * mem_in[i] && mem_out[n / 2] == mem_in[n / 2] * mem_in[n / 2];
}

/* Square r->arg ints on the shared pool in one of three forms, timed and
 * checked (pool_map_mem and pool_pymap run the same work). */
typedef enum { SQUARE_TYPED_MAP, SQUARE_MAP_FNPTR, SQUARE_PARALLEL_FOR } square_form_t;

static int64_t timed_square(bench_run_t *r, square_form_t form)
{
    parc_pool_t *p = shared_pool(r->threads);
    size_t n = (size_t)r->arg;
    if (p == NULL || !mem_arrays(n))
        return BENCH_FAILED;
    int64_t t0 = bench_now_ns();
    int rc = form == SQUARE_TYPED_MAP ? square_map(p, mem_in, mem_out, n, 0)
             : form == SQUARE_MAP_FNPTR
                 ? parc_pool_map(p, square_elem, mem_in, mem_out, n, sizeof(int), sizeof(int), 0)
                 : parc_pool_parallel_for(p, 0, (int64_t)n, 0, square_range, NULL);
    int64_t ns = bench_now_ns() - t0;
    r->items = n;
    return rc == 0 && mem_check(n) ? ns : BENCH_FAILED;
}

/* The form the target is judged on: parc's typed map
 * (PARC_POOL_MAP_DEFINE), whose chunks call square_elem inlined. */
static int64_t map_mem_parc(bench_run_t *r)
{
    return timed_square(r, SQUARE_TYPED_MAP);
}
BENCH_CASE(pool_map_mem, "parc", map_mem_parc)

/* parc_pool_map: the same element function called through a pointer,
 * element by element (what a memory-bound loop cannot afford). */
static int64_t map_mem_parc_fnptr(bench_run_t *r)
{
    return timed_square(r, SQUARE_MAP_FNPTR);
}
BENCH_CASE(pool_map_mem, "parc-map-fnptr", map_mem_parc_fnptr)

static int64_t map_mem_parc_for(bench_run_t *r)
{
    return timed_square(r, SQUARE_PARALLEL_FOR);
}
BENCH_CASE(pool_map_mem, "parc-parallel_for", map_mem_parc_for)

static void two_thread_body(bench_worker_t *w)
{
    size_t n = (size_t)w->arg, half = n / (size_t)w->threads;
    size_t lo = (size_t)w->id * half, hi = w->id + 1 == w->threads ? n : lo + half;
    square_range(NULL, (int64_t)lo, (int64_t)hi);
}

static int64_t map_mem_threads(bench_run_t *r)
{
    size_t n = (size_t)r->arg;
    if (!mem_arrays(n))
        return BENCH_FAILED;
    int64_t ns = bench_parallel(r, two_thread_body, NULL); /* threads made per run */
    r->items = n;
    return mem_check(n) ? ns : BENCH_FAILED;
}
BENCH_CASE(pool_map_mem, "hand-written-2-threads", map_mem_threads)

static int64_t map_mem_serial(bench_run_t *r)
{
    size_t n = (size_t)r->arg;
    if (!mem_arrays(n))
        return BENCH_FAILED;
    int64_t t0 = bench_now_ns();
    square_range(NULL, 0, (int64_t)n);
    int64_t ns = bench_now_ns() - t0;
    r->items = n;
    return mem_check(n) ? ns : BENCH_FAILED;
}
BENCH_CASE(pool_map_mem, "serial", map_mem_serial)

/* ---- pool_pymap ------------------------------------------------------------------- */

static const bench_point_t pymap_points[] = {
    { "square over range(1_000_000), 2 workers", 2, 1000000, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(pool_pymap,
             "the seed's Pool(2).map(square, range(1_000_000)); Python: bench/pool_peers/python_map.py",
             pymap_points)

/* parc's typed map (PARC_POOL_MAP_DEFINE, square_elem inlined), as
 * pool_map_mem's "parc" row. */
static int64_t pymap_parc(bench_run_t *r)
{
    return timed_square(r, SQUARE_TYPED_MAP);
}
BENCH_CASE(pool_pymap, "parc", pymap_parc)

/* parc_pool_map: square_elem through a pointer for every element. */
static int64_t pymap_parc_fnptr(bench_run_t *r)
{
    return timed_square(r, SQUARE_MAP_FNPTR);
}
BENCH_CASE(pool_pymap, "parc-map-fnptr", pymap_parc_fnptr)

/* ---- pool_loop: the map / parallel_for family ------------------------------------
 *
 * Square over n ints, out[i] = in[i] * in[i], at n = 100K (the overhead
 * of starting and ending a loop shows), 1M and 10M (memory-bound), on
 * T = 1, 2 and 4 threads. "T threads" is the same for every case: parc's
 * pool of T workers, where the calling thread takes one of the T places
 * (a loop runs on at most T threads); oneTBB's task_arena(T), its caller
 * one of the T; OpenMP's team of T; T pthreads each given n / T; the
 * serial loop runs on the caller alone whatever T says.
 *   parc                the typed map (PARC_POOL_MAP_DEFINE: the element
 *                       function inlined into each piece's loop)
 *   parc-map-fnptr      parc_pool_map: a call through a pointer per element
 *   parc-parallel_for   parc_pool_parallel_for, grain 0 (a call per piece)
 *   tbb-auto            tbb::parallel_for, auto_partitioner (its default),
 *                       the body inlined
 *   tbb-static          the same with static_partitioner
 *   tbb-auto-fnptr      auto_partitioner, the body calling square_elem
 *                       through a pointer per element: the same work as
 *                       parc-map-fnptr
 *   openmp-static       #pragma omp parallel for schedule(static)
 *   pthread-split       T threads, each its n / T (started before the clock)
 *   serial              one loop on the caller
 * A run makes calls of n elements until it has lasted about its target
 * (enough calls at 100K for a stable figure); each call is timed alone and
 * then checked element by element, and `out` is reset to -1 before the
 * next, untimed, so a call that skipped elements fails the run. The
 * reset and the check leave the same cache state before every case.
 * One op is one element. libgomp's idle threads spin for a while after a
 * region (its default wait policy), taking CPU from whatever case runs
 * next on a machine this small; oneTBB's workers spin briefly too, as
 * parc's do.
 */

static const bench_point_t loop_points[] = {
    { "square 100K ints, 1 thread", 1, 100000, NULL },
    { "square 100K ints, 2 threads", 2, 100000, NULL },
    { "square 100K ints, 4 threads", 4, 100000, NULL },
    { "square 1M ints, 1 thread", 1, 1000000, NULL },
    { "square 1M ints, 2 threads", 2, 1000000, NULL },
    { "square 1M ints, 4 threads", 4, 1000000, NULL },
    { "square 10M ints, 1 thread", 1, 10000000, NULL },
    { "square 10M ints, 2 threads", 2, 10000000, NULL },
    { "square 10M ints, 4 threads", 4, 10000000, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(pool_loop, "map / parallel_for of square over ints: parc vs oneTBB, OpenMP, pthreads", loop_points)

/* Every element right, then every element reset to -1 (a square never
 * is) for the next call. */
static bool loop_check_reset(size_t n)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        ok &= mem_out[i] == mem_in[i] * mem_in[i];
        mem_out[i] = -1;
    }
    return ok;
}

typedef enum {
    LOOP_TYPED, LOOP_FNPTR, LOOP_FOR, LOOP_TBB_AUTO, LOOP_TBB_STATIC,
    LOOP_TBB_FNPTR, LOOP_OMP, LOOP_SERIAL
} loop_form_t;

#ifdef PARC_BENCH_HAVE_TBB
#include "peer_tbb.h"
#endif

#ifdef PARC_BENCH_HAVE_OPENMP
static void loop_omp(size_t n, int threads)
{
    const int *in = mem_in;
    int *out = mem_out;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (long i = 0; i < (long)n; i++)
        out[i] = in[i] * in[i];
}
#endif

/* One call of n elements in `form`: 0 or an error. */
static int loop_call(loop_form_t form, parc_pool_t *p, size_t n, int threads)
{
    (void)threads; /* only the peers' forms use it, and they may be absent */
    switch (form) {
    case LOOP_TYPED:
        return square_map(p, mem_in, mem_out, n, 0);
    case LOOP_FNPTR:
        return parc_pool_map(p, square_elem, mem_in, mem_out, n, sizeof(int), sizeof(int), 0);
    case LOOP_FOR:
        return parc_pool_parallel_for(p, 0, (int64_t)n, 0, square_range, NULL);
#ifdef PARC_BENCH_HAVE_TBB
    case LOOP_TBB_AUTO:
        return bench_tbb_square(mem_in, mem_out, n, threads, BENCH_TBB_AUTO, NULL);
    case LOOP_TBB_STATIC:
        return bench_tbb_square(mem_in, mem_out, n, threads, BENCH_TBB_STATIC, NULL);
    case LOOP_TBB_FNPTR:
        return bench_tbb_square(mem_in, mem_out, n, threads, BENCH_TBB_AUTO_FNPTR, square_elem);
#endif
#ifdef PARC_BENCH_HAVE_OPENMP
    case LOOP_OMP:
        loop_omp(n, threads);
        return 0;
#endif
    case LOOP_SERIAL:
        return square_range(NULL, 0, (int64_t)n);
    default:
        return -1;
    }
}

static int64_t loop_run(bench_run_t *r, loop_form_t form)
{
    size_t n = (size_t)r->arg;
    parc_pool_t *p = shared_pool(r->threads);
    if (p == NULL || !mem_arrays(n))
        return BENCH_FAILED;
    uint64_t calls = r->ops / n;
    if (calls == 0)
        calls = 1;
    (void)loop_check_reset(n); /* -1 everywhere before the first call */
    int64_t ns = 0;
    for (uint64_t c = 0; c < calls; c++) {
        int64_t t0 = bench_now_ns();
        int rc = loop_call(form, p, n, r->threads);
        ns += bench_now_ns() - t0;
        if (rc != 0 || !loop_check_reset(n))
            return BENCH_FAILED;
    }
    r->items = calls * n;
    return ns;
}

static int64_t loop_typed(bench_run_t *r) { return loop_run(r, LOOP_TYPED); }
BENCH_CASE(pool_loop, "parc", loop_typed)
static int64_t loop_fnptr(bench_run_t *r) { return loop_run(r, LOOP_FNPTR); }
BENCH_CASE(pool_loop, "parc-map-fnptr", loop_fnptr)
static int64_t loop_for(bench_run_t *r) { return loop_run(r, LOOP_FOR); }
BENCH_CASE(pool_loop, "parc-parallel_for", loop_for)
#ifdef PARC_BENCH_HAVE_TBB
static int64_t loop_tbb_auto(bench_run_t *r) { return loop_run(r, LOOP_TBB_AUTO); }
BENCH_CASE(pool_loop, "tbb-auto", loop_tbb_auto)
static int64_t loop_tbb_static(bench_run_t *r) { return loop_run(r, LOOP_TBB_STATIC); }
BENCH_CASE(pool_loop, "tbb-static", loop_tbb_static)
static int64_t loop_tbb_fnptr(bench_run_t *r) { return loop_run(r, LOOP_TBB_FNPTR); }
BENCH_CASE(pool_loop, "tbb-auto-fnptr", loop_tbb_fnptr)
#endif
#ifdef PARC_BENCH_HAVE_OPENMP
static int64_t loop_openmp(bench_run_t *r) { return loop_run(r, LOOP_OMP); }
BENCH_CASE(pool_loop, "openmp-static", loop_openmp)
#endif

static void loop_split_body(bench_worker_t *w)
{
    size_t n = (size_t)w->arg;
    size_t lo = n * (size_t)w->id / (size_t)w->threads;
    size_t hi = n * (size_t)(w->id + 1) / (size_t)w->threads;
    square_range(NULL, (int64_t)lo, (int64_t)hi);
}

/* T pthreads released from a barrier, each squaring its n / T; one call
 * per bench_parallel (threads are made before the clock starts). */
static int64_t loop_pthread(bench_run_t *r)
{
    size_t n = (size_t)r->arg;
    if (!mem_arrays(n))
        return BENCH_FAILED;
    uint64_t calls = r->ops / n;
    if (calls == 0)
        calls = 1;
    (void)loop_check_reset(n);
    int64_t ns = 0;
    for (uint64_t c = 0; c < calls; c++) {
        bench_run_t one = *r;
        int64_t t = bench_parallel(&one, loop_split_body, NULL);
        if (t < 0 || !loop_check_reset(n))
            return BENCH_FAILED;
        ns += t;
    }
    r->items = calls * n;
    return ns;
}
BENCH_CASE(pool_loop, "pthread-split", loop_pthread)

static int64_t loop_serial(bench_run_t *r) { return loop_run(r, LOOP_SERIAL); }
BENCH_CASE(pool_loop, "serial", loop_serial)
