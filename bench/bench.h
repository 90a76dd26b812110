/*
 * bench/bench.h — the parc-bench framework: how a benchmark plugs in.
 *
 * parc-bench measures parc's primitives against peer libraries (glibc
 * pthreads always; Concurrency Kit, liburcu, GLib and moodycamel when
 * found at configure time) in one run and prints the ratio parc/peer.
 *
 * A *benchmark* (one per file, bench/bench_<name>.c) names a workload and
 * the *points* it is measured at (a label, a thread count and a free
 * integer argument: "counter, 8 threads", "capacity 1024"...). A *case* is
 * one implementation of the workload: "parc", "pthread", "ck-ticket"...
 * A case is a function that performs r->ops operations with r->threads
 * threads and returns the elapsed nanoseconds. The framework does the rest:
 * it calibrates r->ops so one run lasts a few milliseconds (that is also
 * the warm-up; six times longer where the threads outnumber the CPUs, so
 * that a run spans many scheduler slices), repeats the runs interleaving
 * the cases (A B A B ...) so that a drift of the machine hits every side
 * of a ratio alike, measures
 * the cache-line floor before each benchmark, and prints the median, the
 * min-max range, ns/op as a multiple of the floor and the ratio parc/peer.
 *
 * Adding a benchmark (a new file bench/bench_queue.c; nothing to register
 * in CMake: every bench/ .c file is globbed):
 *
 *     static const bench_point_t queue_points[] = {
 *         { "1 producer 1 consumer", 2, 1024 },   // label, threads, arg
 *         { NULL, 0, 0 }
 *     };
 *     BENCH_DEFINE(queue, "items handed from producer to consumer",
 *                  queue_points)
 *
 *     static void parc_body(bench_worker_t *w) { ... w->share ops ... }
 *     static int64_t parc_case(bench_run_t *r)
 *     {
 *         my_state_t s; init(&s, r->arg);
 *         int64_t ns = bench_parallel(r, parc_body, &s);  // threads behind a barrier
 *         destroy(&s);
 *         return ns;          // or BENCH_FAILED when a check went wrong
 *     }
 *     BENCH_CASE(queue, "parc", parc_case)
 *
 * A case may be registered from any file (BENCH_CASE names its benchmark
 * by its identifier); the case named "parc" is listed first and is the
 * numerator of every ratio; the other cases keep their registration order.
 * ns/op is the elapsed time over r->items (normally r->ops).
 *
 * Peers: wrap a peer's cases in #ifdef PARC_BENCH_HAVE_CK / _URCU / _GLIB /
 * _MOODYCAMEL (defined by CMake for the peers it found; pthreads are
 * always there). moodycamel is C++: call it from C through
 * peer_moodycamel.h. bench/ .cpp files are compiled only when CMake found
 * a C++ compiler and moodycamel (bench.h is C++-clean, so they may
 * register cases themselves).
 *
 * A case that does not apply at a point returns BENCH_SKIPPED; a body that
 * may convoy (more threads than CPUs) polls bench_overrun() to stop early.
 *
 * The time measured is the caller's business: bench_parallel() times from
 * the barrier's release to the last worker's end, which is what most cases
 * want. A case may also time a section itself with bench_now_ns().
 *
 * Every process of parc-bench has started (and keeps) a second thread
 * before it measures anything: glibc's mutex and stdio skip their atomics
 * while a process is single-threaded, which would flatter the peers.
 */
#ifndef PARC_BENCH_H
#define PARC_BENCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One point a benchmark is measured at. Arrays end with label == NULL. */
typedef struct bench_point {
    const char *label; /* shown in the table: "counter", "capacity 64" */
    int threads;       /* how many workers bench_parallel() starts */
    long arg;          /* free for the benchmark: capacity, spin length... */
    /* Optional: the label of another point of this benchmark that parc's
     * figure here is judged against ("4P/4C keeps half of 1P/1C"). Each
     * round then also runs parc at that point, just before parc here, and
     * the table adds parc-here over parc-there in ops/s, the median of
     * those paired ratios: two points measured seconds apart would drift
     * apart with the machine (the host moves the virtual cores). */
    const char *versus;
} bench_point_t;

/* What a case is asked to do in one run. */
typedef struct bench_run {
    uint64_t ops;   /* operations to perform in this run (total) */
    int threads;    /* from the point */
    long arg;       /* from the point */
    uint64_t items; /* out: operations actually done, by which the elapsed
                       time is divided. Starts as ops; bench_parallel() sets
                       it to the sum of the workers' `done`. A case that
                       counts otherwise sets it after bench_parallel(). */
} bench_run_t;

/* What one worker thread of bench_parallel() sees. */
typedef struct bench_worker {
    int id;         /* 0 .. threads-1 */
    int threads;
    uint64_t ops;   /* the run's total operations */
    uint64_t share; /* this worker's share of ops: ops / threads, the
                       remainder spread over the first workers */
    long arg;
    void *shared;   /* the pointer given to bench_parallel() */
    uint64_t done;  /* out: operations this worker did; starts as share.
                       A body that stops early (bench_overrun) sets it. */
    int64_t deadline_ns; /* when the run has overrun (see bench_overrun) */
} bench_worker_t;

/* A case returns the elapsed nanoseconds, or this when the run went wrong
 * (a lost item, a broken count...); parc-bench then exits non-zero. */
#define BENCH_FAILED INT64_C(-1)

/* A case returns this when it does not apply at this point (e.g. a FIFO
 * spin lock with more threads than CPUs, which only measures the
 * scheduler); the table says "skipped". Decide before running anything. */
#define BENCH_SKIPPED INT64_C(-2)

typedef int64_t (*bench_case_fn)(bench_run_t *r);
typedef void (*bench_body_fn)(bench_worker_t *w);

/*
 * Start r->threads workers running body(w), each released together from a
 * barrier (and pinned to a CPU with --pin: worker i on the i-th allowed
 * CPU, modulo their number); wait for all of them. Returns the nanoseconds
 * from the barrier's release to the end of the last worker, or BENCH_FAILED
 * when a thread could not be created. Blocks the caller.
 */
int64_t bench_parallel(bench_run_t *r, bench_body_fn body, void *shared);

/* Now on CLOCK_MONOTONIC in nanoseconds (inline-cheap; a vDSO call). */
int64_t bench_now_ns(void);

/*
 * For bodies that may convoy (locks with more threads than cores: a
 * preempted holder or next-in-line stalls everyone, and a run calibrated
 * on a lucky moment can then take minutes). Call it at the top of each
 * iteration i; every 64 iterations it reads the clock and returns true
 * once the run has lasted several times its target. The body then sets
 * w->done = i and returns; the run's ns/op counts only what was done.
 *
 *     for (uint64_t i = 0; i < w->share; i++) {
 *         if (bench_overrun(w, i)) { w->done = i; break; }
 *         ...
 *     }
 *
 * Bodies whose threads depend on each other's counts (producer/consumer)
 * cannot stop one side alone; they skip it (a watchdog ends a run that
 * hangs for a minute, naming the case).
 */
static inline int bench_overrun(const bench_worker_t *w, uint64_t i)
{
    return (i & 63u) == 0 && i > 0 && bench_now_ns() > w->deadline_ns;
}

/* Spin-wait helper for handoff bodies: relax the CPU, and after many polls
 * yield it, so a waiter whose partner was descheduled does not burn the
 * partner's core (2 cores shared by everyone). Pass a counter that starts
 * at 0 for each wait. */
void bench_wait_poll(uint32_t *polls);

/* How many CPUs this process may run on (its affinity mask). */
int bench_cpus(void);

/* Pin the calling thread to the index-th allowed CPU (modulo their
 * number), as --pin does for every worker. For a body that must span
 * distinct cores whatever the options say. Returns 0 or an errno value. */
int bench_pin_self(int index);

/* Keep the compiler from optimising a value away. */
void bench_consume(uint64_t v);

/* ---- registration (constructors; no central list) ---------------------- */

void bench_register(const char *name, const char *description,
                    const bench_point_t *points);
void bench_register_case(const char *bench, const char *impl, bench_case_fn fn);

#define BENCH_CAT_(a, b) a##b
#define BENCH_CAT(a, b) BENCH_CAT_(a, b)

/* Declare the benchmark `name` (an identifier, also its command-line name). */
#define BENCH_DEFINE(name, description, points)                            \
    __attribute__((constructor)) static void BENCH_CAT(bench_def_, name)(void) \
    {                                                                      \
        bench_register(#name, (description), (points));                    \
    }

/* Register case `impl` (a string) of benchmark `name`; may appear in any
 * file, before or after the BENCH_DEFINE. */
#define BENCH_CASE(name, impl, fn)                                         \
    __attribute__((constructor)) static void BENCH_CAT(                    \
        BENCH_CAT(bench_case_, name), __LINE__)(void)                      \
    {                                                                      \
        bench_register_case(#name, (impl), (fn));                          \
    }

#ifdef __cplusplus
}
#endif

#endif /* PARC_BENCH_H */
