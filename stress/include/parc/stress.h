/*
 * parc/stress.h — the stress harness: adapter interfaces, registration and
 * the run context for custom workloads.
 *
 * The harness proves concurrent code under load. Its workloads are generic
 * over four small interfaces — a queue (any container), a lock, a permit
 * counter (semaphore) and a signal (event) — so one workload validates
 * parc's primitive, a peer library's, or your own. Anything that does not
 * fit those shapes (a barrier, a once, a work-stealing deque) registers a
 * custom workload: a run() function that uses the harness's threads, budget,
 * seed, watchdog and violation reports.
 *
 * What each workload checks (a broken primitive cannot fake these):
 *   queue   every item delivered exactly once ({producer, sequence,
 *           checksum} in each item, a bitmap per producer); at the end
 *           accepted = taken + drained; per-producer FIFO when promised;
 *           nothing lost across close (pushes after close get EPIPE, every
 *           accepted item still comes out); items are recycled between
 *           threads so that ABA bugs show.
 *   lock    mutual exclusion: an owner word, an "inside" flag and a
 *           NON-atomic counter bumped inside the critical section (its
 *           final value must equal the number of acquisitions; ThreadSanitizer
 *           reports it as a race when the lock does not order it).
 *   permits never more holders than permits; at the end exactly the
 *           initial number of permits can be taken back.
 *   signal  no lost wake-up: every waiter returns within its timeout after
 *           the signal was set, and never before it was set.
 *   all     liveness: a watchdog fails the run as HANG when no thread makes
 *           progress for 10 s (x10 under TSan/chaos), printing every
 *           thread's last operation and the seed, then exits non-zero.
 *
 * ---- Stress-testing your own code ------------------------------------------
 *
 * Write an adapter, register it with a constructor macro, link against
 * libparc_stress, and call parc_stress_main() from main():
 *
 *     #include <errno.h>
 *     #include <stdlib.h>
 *     #include "parc/stress.h"
 *     #include "my_queue.h"
 *
 *     static int q_create(void **q, size_t capacity)
 *     {
 *         *q = my_queue_new(capacity);            // capacity: a power of 2
 *         return *q ? 0 : ENOMEM;
 *     }
 *     static void q_destroy(void *q) { my_queue_free(q); }
 *     static int q_push(void *q, parc_stress_item_t *it)
 *     {
 *         return my_queue_try_push(q, it) ? 0 : EAGAIN;   // EAGAIN: full
 *     }
 *     static int q_pop(void *q, parc_stress_item_t **it)
 *     {
 *         void *x;
 *         if (!my_queue_try_pop(q, &x))
 *             return EAGAIN;                              // EAGAIN: empty
 *         *it = x;
 *         return 0;
 *     }
 *
 *     static const parc_stress_queue_impl_t my_queue_impl = {
 *         .name = "my.queue",
 *         .description = "my bounded MPMC ring",
 *         .flags = PARC_STRESS_BOUNDED,
 *         .order = PARC_STRESS_ORDER_PRODUCER_FIFO,
 *         .create = q_create, .destroy = q_destroy,
 *         .push = q_push, .pop = q_pop,
 *     };
 *     PARC_STRESS_QUEUE(my_queue_impl)
 *
 *     int main(int argc, char **argv) { return parc_stress_main(argc, argv); }
 *
 * Build:  cc -std=c11 my_stress.c my_queue.c -lparc_stress -lparc -lpthread
 * Run:    ./my_stress --impl my.queue --threads 8 --seconds 10
 *         ./my_stress --list                  # every workload x impl
 *         ./my_stress --seed 1234 --filter queue.transfer/my.queue  # replay
 *
 * Weak memory: if my_queue.c does its atomics through parc/atomic.h
 * (parc_load, parc_store, parc_cas, parc_fence, ... with named orders) and
 * both are built in parc's `weak` preset (-DPARC_WEAK=ON), then
 *
 *         ./my_stress --weak --impl my.queue --ops 20000
 *
 * runs the workloads one thread at a time with every load free to read
 * any store the C11 memory model allows (parc/weak.h): a relaxed store
 * that should have been a release, or a missing fence, fails here although
 * x86 and ThreadSanitizer pass it; the printed --weak --replay SEED
 * re-runs the same schedule and reads. stress/tests/user_ring.c is a
 * tested example (a Lamport ring, and its relaxed-publish twin caught).
 *
 * A lock adapter is the same shape (parc_stress_lock_impl_t and
 * PARC_STRESS_LOCK). Compile the adapter files into the executable itself,
 * not into a static archive: the linker drops archive members nothing
 * refers to, and with them their constructors. stress/tests/user_queue.c
 * is a complete, tested example.
 *
 * Reading the result: PASS means the checks held for the operations run
 * ("no failure seen" is evidence, not proof: raise --seconds/--threads, try
 * other seeds, use a chaos build); FAIL prints the first violations and the
 * command that replays the case with its seed; HANG means no thread moved
 * for the watchdog period (each thread's last operation is printed, the
 * process exits); SKIP means the case could not be exercised here.
 *
 * Replaying an interleaving: in a PARC_CHAOS build, --baton --seed S runs
 * each case's worker threads one at a time under a PCT scheduler
 * (parc/stress_baton.h), so that S fixes the interleaving (the schedule
 * hash printed per run shows it); a failure's re-run hint is then
 * --replay S. Cases that start threads of their own or wait with timeouts
 * (PARC_STRESS_NO_BATON) report SKIP under --baton.
 *
 * Conventions: every adapter function returns 0 or a positive errno value.
 * Adapter functions are called concurrently from the worker threads as the
 * flags allow; create/destroy are called from one thread outside the run.
 */
#ifndef PARC_STRESS_H
#define PARC_STRESS_H

#include "parc/api.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- flags shared by every kind of implementation ------------------------ */

enum {
    /* A deliberately broken implementation (a negative control): expected
     * to FAIL. Excluded from the default suite; run with --mutants. */
    PARC_STRESS_MUTANT = 1u << 0,
    /* The bug (for a mutant) or the check (for a real impl) is only visible
     * to ThreadSanitizer: the run reports SKIP in a build without it. */
    PARC_STRESS_NEEDS_TSAN = 1u << 1,
    /* Queue: push may return EAGAIN when full (a bounded container). */
    PARC_STRESS_BOUNDED = 1u << 2,
    /* Queue: close() is provided; after it push gives EPIPE and pop drains
     * what was accepted, then gives EPIPE. */
    PARC_STRESS_CLOSABLE = 1u << 3,
    /* Queue: the workload must recycle items between threads (every thread
     * pushes and pops). Set it on stacks/free lists to provoke ABA. The
     * churn workload runs for every queue whose max_producers and
     * max_consumers allow it anyway; this flag only documents intent. */
    PARC_STRESS_RECYCLE = 1u << 4,
    /* The case cannot run under --baton (parc/stress_baton.h serializes the
     * harness's worker threads only): it starts threads of its own (a pool,
     * an actor scheduler) or waits with timeouts whose expiry the baton
     * cannot replay. Under --baton it reports SKIP instead of running. */
    PARC_STRESS_NO_BATON = 1u << 5,
};

/* ---- queue: any container of items ---------------------------------------- */

/* What order a container promises between a push and a pop. */
typedef enum parc_stress_order {
    PARC_STRESS_ORDER_NONE = 0,      /* a bag: only exactly-once is checked */
    PARC_STRESS_ORDER_PRODUCER_FIFO, /* each producer's items come out in the
                                      * order it pushed them (to any one
                                      * consumer) */
    PARC_STRESS_ORDER_FIFO,          /* linearizable FIFO (checked as
                                      * per-producer FIFO here; the
                                      * linearizability checker does more) */
    PARC_STRESS_ORDER_LIFO,          /* a stack: no order is checked here */
} parc_stress_order_t;

/*
 * The item a container carries, passed by pointer. The first member is a
 * spare link area the container may use as its intrusive node (the MPSC
 * mailbox does): the harness never touches link[] while the item is inside
 * the container. An item belongs to the container between a successful
 * push and the pop that returns it; the harness reuses items after that.
 */
typedef struct parc_stress_item {
    void *link[2];       /* the container's, while the item is inside it */
    uint32_t producer;   /* index of the thread that pushed it */
    uint32_t reserved;
    uint64_t seq;        /* the producer's sequence number, from 0 */
    uint64_t check;      /* parc_stress_item_checksum(producer, seq) */
} parc_stress_item_t;

/* The checksum the harness stores in every item it pushes. */
static inline uint64_t parc_stress_item_checksum(uint32_t producer, uint64_t seq)
{
    uint64_t x = ((uint64_t)producer << 40) ^ seq ^ UINT64_C(0x5bd1e9955bd1e995);
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    return x;
}

typedef struct parc_stress_queue_impl {
    const char *name;         /* unique, e.g. "parc.spsc"; used by --impl */
    const char *description;  /* one line */
    unsigned flags;           /* PARC_STRESS_* */
    parc_stress_order_t order;
    unsigned max_producers;   /* threads that may push concurrently; 0 = any */
    unsigned max_consumers;   /* threads that may pop concurrently; 0 = any */

    /* Make a container able to hold at least `capacity` items (a power of
     * two, >= 2; unbounded containers may ignore it). 0, ENOMEM, EINVAL. */
    int (*create)(void **queue, size_t capacity);
    /* Free it; called once, when it is empty or closed and drained. */
    void (*destroy)(void *queue);
    /* Never blocks: 0 (accepted), EAGAIN (full), EPIPE (closed). */
    int (*push)(void *queue, parc_stress_item_t *item);
    /* Never blocks: 0 (*item set), EAGAIN (empty), EPIPE (closed and
     * drained). */
    int (*pop)(void *queue, parc_stress_item_t **item);
    /* Optional: blocks up to timeout_ns: 0, ETIMEDOUT, EPIPE (closed and
     * drained). When present consumers sometimes use it instead of pop. */
    int (*pop_timed)(void *queue, parc_stress_item_t **item, int64_t timeout_ns);
    /* Optional (with PARC_STRESS_CLOSABLE): close; may be called once by
     * any thread while others push and pop. 0. */
    int (*close)(void *queue);
    /* Optional: blocks up to timeout_ns while full: 0, ETIMEDOUT, EPIPE
     * (closed). When present producers sometimes use it instead of push. */
    int (*push_timed)(void *queue, parc_stress_item_t *item, int64_t timeout_ns);
} parc_stress_queue_impl_t;

/* ---- lock: mutual exclusion (and optional shared mode) ------------------ */

typedef struct parc_stress_lock_impl {
    const char *name;
    const char *description;
    unsigned flags;
    /* Bytes of per-thread context passed to lock/unlock (an MCS node);
     * 0 when none. The harness gives each thread its own, 64-byte aligned,
     * zeroed once, and always the same one to the same thread. */
    size_t context_size;

    int (*create)(void **lock);
    void (*destroy)(void *lock);
    /* Blocks until held: 0. */
    int (*lock)(void *lock, void *context);
    /* Optional: never blocks: 0 (held) or EBUSY/EAGAIN (not held). */
    int (*trylock)(void *lock, void *context);
    /* Release a lock held by the calling thread: 0. */
    int (*unlock)(void *lock, void *context);
    /* Optional (read-write locks): shared mode; readers may overlap one
     * another but never a writer. */
    int (*lock_shared)(void *lock, void *context);
    int (*unlock_shared)(void *lock, void *context);
} parc_stress_lock_impl_t;

/* ---- permits: a counting semaphore --------------------------------------- */

typedef struct parc_stress_permits_impl {
    const char *name;
    const char *description;
    unsigned flags;

    /* A semaphore holding `permits` permits (>= 1). 0, ENOMEM. */
    int (*create)(void **sem, unsigned permits);
    void (*destroy)(void *sem);
    /* Blocks until one permit is taken: 0. */
    int (*acquire)(void *sem);
    /* Never blocks: 0 or EAGAIN (none available). */
    int (*try_acquire)(void *sem);
    /* Optional: 0 or ETIMEDOUT. */
    int (*acquire_timed)(void *sem, int64_t timeout_ns);
    /* Give one permit back: 0. */
    int (*release)(void *sem);
} parc_stress_permits_impl_t;

/* ---- signal: a level-triggered event (threading.Event) ------------------- */

typedef struct parc_stress_signal_impl {
    const char *name;
    const char *description;
    unsigned flags;

    int (*create)(void **signal);  /* starts clear */
    void (*destroy)(void *signal);
    /* Set it and wake every waiter: 0. */
    int (*set)(void *signal);
    /* Clear it: 0. Only called while no thread waits. */
    int (*clear)(void *signal);
    /* Block until set or timeout_ns: 0 (set) or ETIMEDOUT. */
    int (*wait_timed)(void *signal, int64_t timeout_ns);
} parc_stress_signal_impl_t;

/* ---- custom workloads ----------------------------------------------------- */

/* The run context the harness gives a custom workload (opaque). */
typedef struct parc_stress_ctx parc_stress_ctx_t;

typedef struct parc_stress_workload {
    const char *name;         /* e.g. "barrier.generations"; --filter */
    const char *impl;         /* the implementation column, e.g. "parc.barrier" */
    const char *description;
    unsigned flags;           /* PARC_STRESS_MUTANT, _NEEDS_TSAN, _NO_BATON */
    unsigned min_threads;     /* SKIP when fewer are allowed; 0 = 1 */
    unsigned max_threads;     /* use at most this many; 0 = any */
    /* Run once, on the harness's main thread. Usually calls
     * parc_stress_run_threads() and checks the outcome, reporting
     * violations with parc_stress_fail(). Returns 0, or an errno value when
     * the run could not be set up (reported as FAIL). */
    int (*run)(parc_stress_ctx_t *ctx, void *arg);
    void *arg;
} parc_stress_workload_t;

/* Worker threads the harness runs: `index` from 0 to threads-1. */
typedef void (*parc_stress_thread_fn)(parc_stress_ctx_t *ctx, unsigned index,
                                      void *arg);

/* Start `threads` (1 .. parc_stress_threads(ctx)) workers running fn, all
 * released together from a start barrier, each with chaos seeded from the
 * run's seed and its index; wait for all of them. Main thread only.
 * Returns 0, EINVAL (bad count), or an errno from pthread_create. */
PARC_API int parc_stress_run_threads(parc_stress_ctx_t *ctx, unsigned threads,
                            parc_stress_thread_fn fn, void *arg);

/* The number of threads this run may use (already clamped to the
 * workload's min/max). */
PARC_API unsigned parc_stress_threads(const parc_stress_ctx_t *ctx);

/* The run's seed (also given to chaos). */
PARC_API uint64_t parc_stress_seed(const parc_stress_ctx_t *ctx);

/* The operation budget per thread for this run (never 0; very large when
 * the run is bounded by time only). */
PARC_API uint64_t parc_stress_ops_per_thread(const parc_stress_ctx_t *ctx);

/* True once the run should wind down: its time is up, a violation was
 * reported, or the watchdog fired. Any thread. Workloads whose threads
 * must agree on when to stop (a barrier) should let one thread decide and
 * publish its decision. */
PARC_API bool parc_stress_stopping(const parc_stress_ctx_t *ctx);

/* Count one operation of thread `index` and record `op` (a string literal)
 * as its last operation for the watchdog. Returns true while the thread
 * should go on: neither its op budget is spent nor parc_stress_stopping(). */
PARC_API bool parc_stress_step(parc_stress_ctx_t *ctx, unsigned index, const char *op);

/* Record progress without counting an operation (something did move,
 * e.g. a phase of a long operation completed): the watchdog sees thread
 * `index` alive. Do not call it from idle polling (an empty pop, a busy
 * trylock, waiting for another thread), or a livelock looks alive: use
 * parc_stress_note() there. */
PARC_API void parc_stress_progress(parc_stress_ctx_t *ctx, unsigned index, const char *op);

/* Record `op` (a string literal) as thread `index`'s current operation,
 * shown if the watchdog declares a HANG, without counting progress. */
PARC_API void parc_stress_note(parc_stress_ctx_t *ctx, unsigned index, const char *op);

/* A bound for "this must happen eventually" (1 s, x10 under TSan/chaos,
 * x4 under ASan), for timeouts inside workloads. Never a speed claim. */
PARC_API int64_t parc_stress_patience_ns(const parc_stress_ctx_t *ctx);

/* A per-thread random number (xorshift seeded from the run's seed and
 * index), for workload decisions. Thread `index` only. */
PARC_API uint64_t parc_stress_random(parc_stress_ctx_t *ctx, unsigned index);

/* Report a violation (printf format): the run FAILs and starts stopping.
 * Any thread; the first few messages are printed, all are counted. */
PARC_API void parc_stress_fail(parc_stress_ctx_t *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Mark the run as not exercised (SKIP), with a reason. Main thread. */
PARC_API void parc_stress_skip(parc_stress_ctx_t *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Add `n` to the run's operation count shown in the report (for workloads
 * that do not use parc_stress_step). Any thread. A run that counts no
 * operation at all is reported as SKIP, never PASS: it showed nothing. */
PARC_API void parc_stress_add_ops(parc_stress_ctx_t *ctx, uint64_t n);

/* ---- registration --------------------------------------------------------- */

typedef enum parc_stress_kind {
    PARC_STRESS_KIND_QUEUE,
    PARC_STRESS_KIND_LOCK,
    PARC_STRESS_KIND_PERMITS,
    PARC_STRESS_KIND_SIGNAL,
    PARC_STRESS_KIND_WORKLOAD,
} parc_stress_kind_t;

/* Register an implementation (or a custom workload) of kind `kind`; `impl`
 * points to a parc_stress_*_impl_t / parc_stress_workload_t that lives for
 * the whole program. Usually called through the macros below, before
 * main(). Returns 0, EINVAL (NULL or missing functions), ENOMEM. */
PARC_API int parc_stress_register(parc_stress_kind_t kind, const void *impl);

#define PARC_STRESS_REGISTER_(kind, var)                                      \
    __attribute__((constructor)) static void parc_stress_register_##var(void) \
    {                                                                         \
        (void)parc_stress_register((kind), &(var));                           \
    }

/* Register the variable `var` (a file-scope object of the matching type). */
#define PARC_STRESS_QUEUE(var) PARC_STRESS_REGISTER_(PARC_STRESS_KIND_QUEUE, var)
#define PARC_STRESS_LOCK(var) PARC_STRESS_REGISTER_(PARC_STRESS_KIND_LOCK, var)
#define PARC_STRESS_PERMITS(var) PARC_STRESS_REGISTER_(PARC_STRESS_KIND_PERMITS, var)
#define PARC_STRESS_SIGNAL(var) PARC_STRESS_REGISTER_(PARC_STRESS_KIND_SIGNAL, var)
#define PARC_STRESS_WORKLOAD(var) PARC_STRESS_REGISTER_(PARC_STRESS_KIND_WORKLOAD, var)

/* ---- the command ---------------------------------------------------------- */

/*
 * The parc-stress command line, for your own main():
 *   [--list] [--filter PATTERN] [--impl NAME] [--mutants] [--threads N]
 *   [--ops N | --seconds S] [--seed S] [--json FILE] [--quiet]
 *   [--fail-fast] [--watchdog S]   (--help lists every option and mode)
 * A case is one workload over one implementation, named
 * "workload/implementation"; --filter matches that name (a glob, or else a
 * substring), --impl the implementation (exact, or a glob). Each case runs
 * for the budget (default 0.5 s) with 2 x cores threads; its seed derives
 * from the printed seed and its name, so the printed re-run command
 * replays it alone. Prints the seed first, a live progress line on a
 * terminal, a summary table (workload, implementation, threads,
 * operations, ops/s, violations, PASS/FAIL/HANG/SKIP), a re-run command for
 * each failure, and the closing line "N passed, N failed[, N skipped]".
 * Returns 0 when nothing failed, 1 when something failed or hung, 2 on a
 * usage error. Thread-safe: no; call it once, from main().
 */
PARC_API int parc_stress_main(int argc, char **argv);

#endif /* PARC_STRESS_H */
