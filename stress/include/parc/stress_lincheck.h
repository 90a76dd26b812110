/*
 * parc/stress_lincheck.h — linearizability checking of short concurrent
 * histories against a sequential model (stress harness).
 *
 * Method: Herlihy and Wing's linearizability (TOPLAS 1990), checked by the
 * Wing–Gong search (Wing & Gong, "Testing and verifying concurrent objects",
 * JPDC 1993): repeatedly pick a minimal pending operation (one that no
 * unlinearized operation precedes), apply it to the sequential model, and
 * backtrack when the model cannot explain its result. Configurations already
 * shown to fail — (linearized prefix of each thread, model state) — are
 * memoized, as in Lowe ("Testing for linearizability", CCPE 2017) and Horn &
 * Kroening ("Faster linearizability checking via P-compositionality",
 * FORTE 2015), which turns the exponential search into a small one for the
 * short histories used here (2–4 threads × 3–8 operations). Lincheck (JetBrains)
 * and Porcupine run the same idea on larger histories.
 *
 * Recording without hiding reorderings: each thread publishes how many of
 * its operations have completed (a per-thread counter, release store after
 * the response) and, at each invocation, reads every other thread's counter
 * (acquire). Operation a of thread i precedes operation b of thread j when
 * b saw thread i's counter past a. This is a happens-before subset of real
 * time: two operations the recorder cannot order are treated as concurrent,
 * so the checker never rejects a linearizable execution (no false alarms),
 * and the recorder adds no seq_cst ticket that would order — and so hide —
 * the very reorderings under test.
 *
 * Models (parc_lc_kind_t): a FIFO queue, a LIFO stack, a counter, a set.
 * Structures that are not linearizable by design are checked against their
 * documented relaxed model through flags: PARC_LC_RELAXED_EMPTY ("pop may
 * return EAGAIN while a push is in flight", the MPSC mailbox of Vyukov and
 * the bounded MPMC ring) and PARC_LC_RELAXED_FULL (the mirror for push).
 *
 * Threads: the checking functions are pure and may run in any thread
 * concurrently on distinct histories. parc_lc_run() creates its own worker
 * threads and must not run concurrently with itself on the same target.
 */
#ifndef PARC_STRESS_LINCHECK_H
#define PARC_STRESS_LINCHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "parc/atomic.h"

#define PARC_LC_MAX_THREADS 4
#define PARC_LC_MAX_OPS_PER_THREAD 8
#define PARC_LC_MAX_OPS (PARC_LC_MAX_THREADS * PARC_LC_MAX_OPS_PER_THREAD)

/* ---- models -------------------------------------------------------------- */

typedef enum parc_lc_kind {
    PARC_LC_FIFO,    /* queue: PUSH appends, POP removes the oldest */
    PARC_LC_LIFO,    /* stack: PUSH pushes, POP removes the newest */
    PARC_LC_COUNTER, /* ADD(arg) returns the value before; GET returns it */
    PARC_LC_SET,     /* ADD/REMOVE/CONTAINS on small integers */
    /* rendezvous channel (parc/chan.h, capacity 0): a successful PUSH is
     * linearized immediately before the POP that returns its value, and
     * the two overlap in real time (neither returned before the other was
     * invoked); EAGAIN (a timed-out PUSH or POP) only while no value is
     * in hand-off. A one-slot buffer fails it: its PUSH returns alone. */
    PARC_LC_RENDEZVOUS
} parc_lc_kind_t;

/* POP may fail with EAGAIN even though the container holds items, provided
 * some PUSH is concurrent with that POP (a push "in flight"). */
#define PARC_LC_RELAXED_EMPTY 1u
/* PUSH may fail with EAGAIN below capacity, provided some POP is
 * concurrent with that PUSH. */
#define PARC_LC_RELAXED_FULL 2u

typedef struct parc_lc_model {
    parc_lc_kind_t kind;
    unsigned flags;    /* PARC_LC_RELAXED_* */
    unsigned capacity; /* FIFO/LIFO: PUSH fails with EAGAIN at this size;
                        * 0 = unbounded (PUSH never fails) */
} parc_lc_model_t;

/* "fifo", "lifo", "counter", "set". */
PARC_API const char *parc_lc_kind_name(parc_lc_kind_t kind);

/* ---- operations and histories -------------------------------------------- */

/*
 * Operations and the results each model accepts:
 *   PUSH(arg)    FIFO/LIFO: rc 0 (inserted) or EAGAIN (full).
 *   POP          FIFO/LIFO: rc 0 with result = the value, or EAGAIN (empty).
 *   ADD(arg)     COUNTER: rc 0, result = the value before adding arg.
 *                SET: rc 0 (inserted) or EEXIST (already there).
 *   GET          COUNTER: rc 0, result = the value.
 *   REMOVE(arg)  SET: rc 0 (removed) or ENOENT (absent).
 *   CONTAINS(arg) SET: rc 0, result 1 (present) or 0.
 * Any other return code is a result the model cannot explain.
 */
typedef enum parc_lc_opcode {
    PARC_LC_PUSH,
    PARC_LC_POP,
    PARC_LC_ADD,
    PARC_LC_GET,
    PARC_LC_REMOVE,
    PARC_LC_CONTAINS
} parc_lc_opcode_t;

/* "push", "pop", "add", "get", "remove", "contains". */
PARC_API const char *parc_lc_opcode_name(parc_lc_opcode_t op);

typedef struct parc_lc_op {
    parc_lc_opcode_t opcode;
    int rc;          /* return code of the operation */
    uint64_t arg;    /* argument (PUSH/ADD/REMOVE/CONTAINS) */
    uint64_t result; /* value returned (POP/ADD on counters/GET/CONTAINS) */
    /* seen[u]: how many operations thread u had completed when this one was
     * invoked. Operation k of thread u precedes this one iff seen[u] > k.
     * The entry for the operation's own thread is ignored (program order). */
    uint32_t seen[PARC_LC_MAX_THREADS];
} parc_lc_op_t;

/* A complete history: every operation has returned. */
typedef struct parc_lc_history {
    unsigned threads;                     /* 1..PARC_LC_MAX_THREADS */
    unsigned count[PARC_LC_MAX_THREADS];  /* operations of each thread */
    parc_lc_op_t ops[PARC_LC_MAX_THREADS][PARC_LC_MAX_OPS_PER_THREAD];
} parc_lc_history_t;

typedef struct parc_lc_stats {
    uint64_t steps;      /* model steps tried by the search */
    uint64_t cache_hits; /* configurations cut by the failure cache */
} parc_lc_stats_t;

/*
 * Decide whether `h` is linearizable with respect to `m`: whether some
 * total order of its operations, consistent with each thread's program
 * order and with the recorded precedence, makes the sequential model
 * return exactly the recorded results. Pure; any thread; never blocks.
 * `stats` may be NULL.
 *
 * Returns 0 when linearizable; EDOM when not (a violation); EINVAL when h
 * or m is NULL or the history is malformed (a thread count or operation
 * count out of range, a seen[] beyond the other thread's operation count or
 * decreasing along a thread); ENOMEM when the failure cache cannot be
 * allocated.
 */
PARC_API int parc_lc_check(const parc_lc_history_t *h, const parc_lc_model_t *m,
                  parc_lc_stats_t *stats);

/* Print the history, one line per operation grouped by thread: opcode,
 * argument, return code and result, and the precedence information (which
 * operations of the other threads had completed at its invocation). */
PARC_API void parc_lc_history_print(FILE *out, const parc_lc_history_t *h,
                           const parc_lc_model_t *m);

/* ---- recording ----------------------------------------------------------- */

/* The per-thread completed-operation counters, each on its own cache line
 * so that publishing one does not disturb the others' lines. */
typedef struct parc_lc_recorder {
    struct {
        PARC_CACHE_ALIGNED parc_atomic(uint32_t) done;
    } thread[PARC_LC_MAX_THREADS];
} parc_lc_recorder_t;

/* Reset every counter to 0 and the history to `threads` empty threads.
 * Call while no recording thread runs. */
PARC_API void parc_lc_recorder_reset(parc_lc_recorder_t *r, parc_lc_history_t *h,
                            unsigned threads);

/* Thread `t` invokes its next operation: append it to h with the other
 * threads' completed counts (acquire loads) and return it. Only thread t
 * may call this for index t; at most PARC_LC_MAX_OPS_PER_THREAD times
 * (returns NULL beyond). Never blocks. */
PARC_API parc_lc_op_t *parc_lc_invoke(parc_lc_recorder_t *r, parc_lc_history_t *h,
                             unsigned t, parc_lc_opcode_t opcode, uint64_t arg);

/* Thread `t`'s operation `op` (from parc_lc_invoke) returned rc/result:
 * store them and publish the completion (release). Never blocks. */
PARC_API void parc_lc_respond(parc_lc_recorder_t *r, parc_lc_history_t *h,
                     unsigned t, parc_lc_op_t *op, int rc, uint64_t result);

/* ---- running scenarios against an implementation -------------------------- */

/*
 * An implementation under test. `create` returns a fresh, empty object
 * (NULL on failure) and `destroy` frees it; `apply` performs one operation
 * with the non-blocking (try) form and returns its code, writing the
 * result (POP value, counter value, CONTAINS 0/1) to *result.
 */
typedef struct parc_lc_target {
    const char *name;
    parc_lc_model_t model;
    void *(*create)(void *ctx);
    void (*destroy)(void *ctx, void *obj);
    int (*apply)(void *obj, parc_lc_opcode_t opcode, uint64_t arg,
                 uint64_t *result);
    void *ctx;
    /* Containers with a restricted contract (SPSC, MPSC): how many threads
     * may PUSH / POP concurrently, 0 = any. Threads 0.. push, the last
     * threads pop; the run uses at most max_pushers + max_poppers threads
     * when both are set. */
    unsigned max_pushers;
    unsigned max_poppers;
} parc_lc_target_t;

typedef struct parc_lc_options {
    uint64_t seed;        /* scenario generator seed (0: 1) */
    unsigned threads;     /* 2..PARC_LC_MAX_THREADS (0: 3) */
    unsigned min_ops;     /* operations per thread, at least (0: 3) */
    unsigned max_ops;     /* ... at most (0: 5; <= PARC_LC_MAX_OPS_PER_THREAD) */
    uint64_t scenarios;   /* stop after this many (0: 20000) */
    int64_t duration_ns;  /* ... or after this long (0: no time limit) */
    FILE *report;         /* violation and summary output (NULL: stderr) */
    /* Run each scenario under the baton (parc/stress_baton.h, PARC_CHAOS
     * builds only): one thread at a time, a PCT schedule drawn from the
     * scenario's seed, so a violation replays exactly from the seed. */
    bool baton;
    unsigned baton_depth; /* PCT depth (0: 3) */
    /* Optional: called on the caller's thread after each scenario; the
     * run stops when it returns false (a harness's stop flag, progress). */
    bool (*keep_going)(void *arg);
    void *keep_going_arg;
} parc_lc_options_t;

typedef struct parc_lc_report {
    uint64_t scenarios;     /* histories recorded and checked */
    uint64_t violations;    /* 0 or 1: the run stops at the first */
    uint64_t overlapping;   /* histories with at least one concurrent pair */
    uint64_t violation_scenario; /* index of the failing scenario */
} parc_lc_report_t;

/*
 * Run short random scenarios against `target`: for each, create a fresh
 * object, let `threads` worker threads start together and each perform
 * its random operations (PUSH of distinct values or POP for containers;
 * ADD/GET for counters; ADD/REMOVE/CONTAINS over 3 values for sets),
 * record the history, and check it against target->model. The first
 * violation is printed with the seed and scenario index (scenario k of
 * seed s always draws the same operations) and stops the run. Blocks the
 * caller until done. `report` may be NULL.
 *
 * Returns 0 when every history was linearizable; EDOM on a violation;
 * EINVAL on a NULL target, a missing callback or options out of range;
 * ENOMEM/EAGAIN when the object or a thread cannot be created; EIO when
 * an operation returned a code outside its model (also printed); with
 * opt->baton, ENOTSUP in a build without PARC_CHAOS and EDEADLK when a
 * scenario hung under the baton (printed; its threads stay stuck, so the
 * caller should exit).
 */
PARC_API int parc_lc_run(const parc_lc_target_t *target, const parc_lc_options_t *opt,
                parc_lc_report_t *report);

/* ---- the harness's queue adapters ----------------------------------------- */

struct parc_stress_queue_impl;

/*
 * Run parc_lc_run() over a queue adapter of the stress harness
 * (parc/stress.h): PUSH carries a distinct item per value, POP's result is
 * the popped item's value. The model follows impl->order: ORDER_FIFO is
 * checked as a FIFO queue, ORDER_LIFO as a stack, with the relaxations
 * declared for impl->name through PARC_LC_RELAXED (built in: "parc.mpsc"
 * relaxed-empty, "parc.mpmc" relaxed-empty and -full; none otherwise);
 * max_producers/max_consumers restrict which threads push and pop. Other
 * orders promise no linearizable sequential behaviour: ENOTSUP (the caller
 * reports SKIP). Blocks until done.
 *
 * Returns what parc_lc_run() returns, or ENOTSUP, or EINVAL for NULL.
 */
PARC_API int parc_lc_run_queue(const struct parc_stress_queue_impl *impl,
                      const parc_lc_options_t *opt, parc_lc_report_t *report);

/* The relaxed-model flags declared for an implementation name (0 when
 * none). Any thread after main() started. */
PARC_API unsigned parc_lc_relaxed_flags(const char *impl_name);

/* Declare that implementation `impl_name` promises only the relaxed model
 * `flags` (PARC_LC_RELAXED_*). Call before the run (usually through the
 * macro below). Returns 0, EINVAL (NULL name or unknown flags), ENOMEM. */
PARC_API int parc_lc_declare_relaxed(const char *impl_name, unsigned flags);

/* In an adapter file, next to PARC_STRESS_QUEUE(var):
 *     PARC_LC_RELAXED(my_mailbox, "parc.mpsc", PARC_LC_RELAXED_EMPTY)
 * (`tag` is any identifier unique in the file). */
#define PARC_LC_RELAXED(tag, impl_name, flags)                                \
    __attribute__((constructor)) static void parc_lc_relaxed_##tag(void)      \
    {                                                                         \
        (void)parc_lc_declare_relaxed((impl_name), (flags));                  \
    }

#endif /* PARC_STRESS_LINCHECK_H */
