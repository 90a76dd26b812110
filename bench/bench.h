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
 * while a process is single-threaded, which would flatter the peers. *
 * Families (issue 13): a benchmark is a family when its points form the
 * matrix of the parameters that change the verdict: threads 1/2/4/8,
 * critical section empty / ~50 ns / ~500 ns (bench_work() below),
 * consumers that block and consumers that poll (bench_wait_poll(), the
 * one polling policy), streaming and ping-pong. Put the parameters in the
 * label ("2 threads, cs 50 ns") and in threads/arg; bench/report.py makes
 * one table per benchmark, rows = points, columns = cases, and its TARGETS
 * table maps the targets onto benchmark/point/case names.
 * Placement (pinned or not) is a run-level option, --pin: bench/matrix.sh
 * runs the whole suite both ways, several times, and merges the JSONs;
 * bench/report.py turns the merge into docs/bench/results.md and a chart.
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

/*
 * The one polling policy of parc-bench: every case whose thread polls
 * (a "poll" consumer that calls a try-operation until it succeeds, a
 * handoff body waiting for its partner) waits through this function, the
 * same for parc and every peer of a case, so that a ratio compares the
 * primitives and not their waiting. Pass a counter set to 0 at the start
 * of each wait (i.e. after each successful try):
 *
 *     uint32_t polls = 0;
 *     while (!try_pop(q, &item))
 *         bench_wait_poll(&polls);
 *
 * Policy, exactly: calls 1 to 2047 of one wait each execute one CPU
 * relax (PAUSE on x86, YIELD on arm64: parc_cpu_relax) and return; from
 * call 2048 on, each call is one sched_yield(). 2047 PAUSEs are 50-80 us
 * on the machines parc is measured on: hundreds of cache-line round
 * trips, so a handoff between two running threads never reaches the
 * yield, and about one futex wake-up, so a poller whose partner was
 * descheduled (or shares its core) gives the core up before it burns
 * much of the partner's time slice. The poller never sleeps: a case that
 * wants a consumer which may sleep uses the primitive's blocking call
 * (the "block" form), not this.
 */
void bench_wait_poll(uint32_t *polls);

/* The number of relaxes bench_wait_poll() does before it starts yielding,
 * for a report or a case's description. */
#define BENCH_POLL_SPINS 2048u

/*
 * Busy work of a fixed instruction count: `units` steps of a dependent
 * multiply-add chain, nothing touched in memory. For critical sections
 * and think time of a stated length ("critical section ~50 ns") that cost
 * the same in every case of a point. Convert a length to units ONCE, with
 * bench_work_units(), outside the timed loop:
 *
 *     uint32_t cs = bench_work_units(r->arg);      // arg = ns, say
 *     ...  lock(m); counter++; bench_work(cs); unlock(m); ...
 *
 * Units, not a clock: a preempted holder does not shorten its section,
 * and every implementation executes exactly the same work.
 */
static inline void bench_work(uint32_t units)
{
    uint64_t x = units;
    for (uint32_t i = 0; i < units; i++) {
        x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        __asm__ volatile("" : "+r"(x)); /* keep each step */
    }
}

/* Units of bench_work() lasting about `ns` nanoseconds on this CPU (0 for
 * ns <= 0; at least 1 otherwise). Calibrated once per process, on first
 * use: the fastest of several timed loops (the JSON records the unit as
 * work_unit_ns). Any thread; does not block after the first call
 * (which takes ~3 ms). */
uint32_t bench_work_units(long ns);

/* Nanoseconds per bench_work() unit, as bench_work_units() uses. */
double bench_work_unit_ns(void);

/*
 * One run of a case in another program: a peer written in Go, Erlang,
 * Java... measured by the framework like any case (calibrated, repeated,
 * interleaved with the other cases of its point and paired with parc's
 * rounds). Runs argv (argv[0] looked up on PATH; argv ends with NULL) with
 * the run in its environment:
 *     PARC_BENCH_OPS      operations to perform (total)
 *     PARC_BENCH_THREADS  the point's threads
 *     PARC_BENCH_ARG      the point's arg
 *     PARC_BENCH_PIN      1 under --pin (the program pins itself, or not)
 * The program times the operations itself (start-up excluded) and prints
 * on stdout one line: "<elapsed ns>" or "<elapsed ns> <items done>", and
 * exits 0. It prints "skipped" when it cannot run here (a missing
 * toolchain). Blocks the caller until the program exits.
 * Returns the elapsed ns (and sets r->items when the program printed
 * them); BENCH_SKIPPED when the program is not installed (exec failed:
 * exit status 127) or printed "skipped" (a missing peer is skipped, never
 * fatal); BENCH_FAILED on any other exit status or an unreadable line.
 *
 *     static int64_t go_case(bench_run_t *r)
 *     {
 *         static const char *const argv[] = { PEER_GO_BINARY, "stream", NULL };
 *         return bench_run_external(r, argv);
 *     }
 *
 * The program is started once per run: build it beforehand (a CMake
 * custom command, not `go run`), and keep its start-up out of its timing.
 * Its start-up still counts against the case's time budget (a few times
 * the planned runs): a start-up of more than a few ms costs repetitions.
 */
int64_t bench_run_external(bench_run_t *r, const char *const argv[]);

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
