/*
 * parc/stress_baton.h — the serialized ("baton") scheduler: one thread
 * runs at a time, and a PCT scheduler picks which one at every chaos point,
 * so that a seed replays a schedule exactly.
 *
 * PCT, probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi
 * and Nagarakatte, "A Randomized Scheduler with Probabilistic Guarantees of
 * Finding Bugs", ASPLOS 2010): give the n threads distinct random
 * priorities d..d+n-1, pick d-1 random "change points" among the first k
 * steps, and always run the highest-priority runnable thread; when the
 * running thread reaches the j-th change point its priority drops to d-j.
 * A bug of depth d (one needing d ordering constraints) is then found with
 * probability at least 1/(n k^(d-1)) per run.
 *
 * The steps are parc's chaos points (parc/chaos.h): every atomic operation
 * and park of the library in a PARC_CHAOS build. The baton is handed over
 * through the chaos hooks (parc_chaos_set_hooks):
 *   point    the running thread asks the scheduler who runs next and, if
 *            not itself, passes the baton and waits for it to come back;
 *   block    a thread about to park in the kernel gives the baton away
 *            (the scheduler picks the next runnable thread);
 *   unblock  back from the kernel, it waits for the baton again.
 * Spin loops are a known weakness of strict priorities (a spinning thread
 * of high priority never lets the holder run): a thread chosen max_run
 * times in a row drops below every other thread, deterministically; and
 * a runnable thread passed over for max_run x threads steps (those above it
 * keep coming back from timed parks, which expire by themselves) rises
 * above every other thread.
 *
 * Determinism: without kernel parks, the sequence of choices — and hence
 * the whole execution of code that only communicates through parc's
 * atomics — is a function of the seed, the thread count and the code:
 * replay is exact and the schedule hash says so. A park lets the kernel
 * decide when the thread comes back; the scheduler therefore "settles"
 * parked threads (waits until each is asleep in the kernel or back) before
 * its decisions and admits returning threads only at settle points, which
 * makes schedules with parks replay too — except after what the kernel
 * allows but the baton cannot see: a timed wait that expires, or a
 * spurious or delayed futex wake-up (rare; the schedule hash shows it).
 * Full determinism would need the park hooks to name the word parked on,
 * so that the baton could emulate the park instead of sleeping in it.
 * When every thread is parked, time passes until a timed wait expires; if
 * none comes back within hang_ns the run is a HANG.
 *
 * Threads: one baton run at a time in a process (the chaos hooks are
 * global). Threads that did not enter the run pass chaos points freely.
 * In a build without PARC_CHAOS there are no chaos points to schedule at:
 * every entry point returns ENOTSUP.
 */
#ifndef PARC_STRESS_BATON_H
#define PARC_STRESS_BATON_H

#include "parc/api.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "parc/weak.h"

#define PARC_BATON_MAX_THREADS 64
#define PARC_BATON_TRACE 64 /* recent choices kept for the report */

typedef struct parc_baton_options {
    uint64_t seed;           /* PCT seed (0: 1) */
    unsigned depth;          /* PCT depth d >= 1: d-1 change points (0: 3) */
    uint64_t expected_steps; /* k: change points fall in [1, k] (0: 2000) */
    unsigned max_run;        /* starvation guard (0: 200 steps in a row) */
    int64_t hang_ns;         /* all threads parked this long: HANG (0: 10 s) */
    /* PARC_WEAK builds: run the participants under the C11 weak-memory
     * model (parc/weak.h), its read choices seeded from `seed`; a thread
     * back from a park acquires every participant's clock. EINVAL from
     * begin in other builds. */
    bool weak;
    /* Optional: takes every decision instead of PCT (the exhaustive
     * explorer, parc-stress --explore): which runnable participant runs
     * next (kind PARC_WEAK_CHOICE_SCHEDULE: option 0 is the running thread
     * going on, the others preempt it; PARC_WEAK_CHOICE_SWITCH: the running
     * thread blocked or exited; other options in index order) and, with
     * `weak`, which store each load reads (PARC_WEAK_CHOICE_READ). Called
     * only when there are two options or more. */
    parc_weak_chooser_fn chooser;
    void *chooser_ctx;
} parc_baton_options_t;

typedef struct parc_baton_result {
    uint64_t steps;          /* scheduling decisions */
    uint64_t switches;       /* ... that changed the running thread */
    uint64_t parks;          /* block hooks (threads parked in the kernel) */
    uint64_t schedule_hash;  /* hash of every (event, chosen thread) */
    bool hang;               /* parc_baton_run: the run hung (see there) */
    unsigned trace_len;      /* the last trace_len choices, oldest first */
    uint8_t trace[PARC_BATON_TRACE];
    uint64_t weak_loads;     /* weak: modelled loads ... */
    uint64_t weak_stale;     /* ... that read an older store than the latest */
} parc_baton_result_t;

/* True when the library has chaos points to schedule at (PARC_CHAOS). */
PARC_API bool parc_baton_available(void);

/* ---- building blocks for a harness that starts its own threads ----------- */

/*
 * Prepare a baton run for exactly `threads` participants and install the
 * chaos hooks. Call from a thread that does not participate, before the
 * participants start. Returns 0; ENOTSUP without PARC_CHAOS; EINVAL when
 * threads is 0 or above PARC_BATON_MAX_THREADS or opt is out of range;
 * EBUSY when a run is already active.
 */
PARC_API int parc_baton_begin(unsigned threads, const parc_baton_options_t *opt);

/* The calling thread becomes participant `index` (0..threads-1) and waits
 * until the scheduler gives it the baton; the first choice is made once
 * all participants have entered, so the start is deterministic. Blocks.
 * Returns 0, EINVAL (bad or reused index, no active run). */
PARC_API int parc_baton_enter(unsigned index);

/* The calling participant is done: it passes the baton on for good.
 * Never blocks. */
PARC_API void parc_baton_exit(void);

/* Remove the hooks and report. Call after every participant exited (or,
 * after a HANG, to read the report: the hooks then stay installed and the
 * stuck threads stay stuck). Returns 0, or EDEADLK when the run hung. */
PARC_API int parc_baton_end(parc_baton_result_t *res);

/* Has the run been stuck with every live participant parked, or with the
 * baton holder making no step, for longer than hang_ns? Any thread;
 * a harness watchdog may poll it. */
PARC_API bool parc_baton_stuck(void);

/* ---- all in one ------------------------------------------------------------ */

typedef void (*parc_baton_fn)(unsigned index, void *arg);

/*
 * Run fn(index, arg) on `threads` new threads under the baton and wait for
 * them. Blocks. `opt` may be NULL; `res` may be NULL.
 *
 * Returns 0; ENOTSUP without PARC_CHAOS; EINVAL on bad arguments; EBUSY
 * when another baton run is active; EAGAIN when a thread cannot be
 * created; EDEADLK when the run hung (res->hang; the report is printed to
 * stderr with the schedule; the stuck threads are detached and stay
 * stuck, so the caller should report and exit).
 */
PARC_API int parc_baton_run(unsigned threads, parc_baton_fn fn, void *arg,
                   const parc_baton_options_t *opt, parc_baton_result_t *res);

/* Print a result: steps, switches, parks, hash, the recent choices. */
PARC_API void parc_baton_print(FILE *out, const parc_baton_result_t *res);

#endif /* PARC_STRESS_BATON_H */
