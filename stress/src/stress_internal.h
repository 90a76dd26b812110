/*
 * stress_internal.h — what the harness's own files share (not installed).
 *
 * The engine (engine.c) runs one "case" — a workload over one
 * implementation — at a time: it starts a watchdog, calls the workload's
 * run function on the main thread, which starts worker threads through
 * parc_stress_run_threads(), and turns what the run recorded into a
 * result row (report.c prints rows, the table and the JSON file).
 *
 * The harness's own bookkeeping uses parc_raw_* atomics: a chaos point
 * there would perturb the measure (see parc/atomic.h).
 */
#ifndef PARC_STRESS_INTERNAL_H
#define PARC_STRESS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "parc/atomic.h"
#include "parc/stress.h"

#ifndef PARC_SLOWDOWN
#define PARC_SLOWDOWN 1
#endif

#define STRESS_MAX_THREADS 256u
/* Items a producer may push in a time-bounded run (bounds its bitmap). */
#define STRESS_TIME_OPS_CAP (UINT64_C(1) << 25)

/* ---- the registry --------------------------------------------------------- */

/* One registered implementation or custom workload. */
typedef struct stress_entry {
    parc_stress_kind_t kind;
    const void *impl;
} stress_entry_t;

/* All registered entries, in registration order. */
size_t stress_registry(const stress_entry_t **entries);
/* The implementation column of an entry and its PARC_STRESS_* flags. */
const char *stress_entry_name(const stress_entry_t *e);
unsigned stress_entry_flags(const stress_entry_t *e);

/* ---- built-in workloads over the interfaces -------------------------------- */

typedef struct stress_builtin {
    const char *name;          /* "queue.transfer" */
    parc_stress_kind_t kind;   /* which implementations it runs over */
    const char *description;
    /* Does it apply to this implementation at all (e.g. trylock exists)?
     * Cases that do not apply are not listed. */
    bool (*applies)(const void *impl);
    int (*run)(parc_stress_ctx_t *ctx, const void *impl);
} stress_builtin_t;

size_t stress_builtins(const stress_builtin_t *const **list);

extern const stress_builtin_t stress_queue_transfer, stress_queue_churn,
    stress_queue_close, stress_lock_exclusion, stress_lock_trylock,
    stress_rwlock_exclusion, stress_permits_bound, stress_signal_wakeup;

/* ---- options -------------------------------------------------------------- */

typedef struct stress_options {
    bool list, mutants, quiet, tty, fail_fast;
    const char *filter;        /* glob or substring over "workload/impl" */
    const char *impl;          /* exact implementation name */
    const char *json;          /* report file */
    unsigned threads;          /* per run; default 2 x cores, <= 256 */
    uint64_t ops;              /* total per run; 0 = time only */
    double seconds;            /* per run; 0 = ops only */
    double watchdog_seconds;   /* no progress this long = HANG (scaled) */
    uint64_t seed;
    bool baton;                /* --baton/--replay: runs serialized under the
                                * PCT scheduler (parc/stress_baton.h) */
    bool weak;                 /* --weak: the baton plus the C11 weak-memory
                                * model (parc/weak.h; PARC_WEAK builds) */
    const char *argv0;
} stress_options_t;

/* ---- a case and its result ---------------------------------------------- */

typedef enum stress_status {
    STRESS_PASS,
    STRESS_FAIL,
    STRESS_HANG,
    STRESS_SKIP,
} stress_status_t;

typedef struct stress_case {
    char workload[64];
    char impl[64];
    unsigned flags;
    const stress_builtin_t *builtin;        /* or NULL for a custom workload */
    const parc_stress_workload_t *custom;
    const void *impl_ptr;                   /* for a builtin */
} stress_case_t;

typedef struct stress_result {
    const stress_case_t *c;
    unsigned threads;
    uint64_t ops;
    double seconds;
    uint64_t violations;
    stress_status_t status;
    uint64_t seed;
    char message[256];                      /* first violation or skip reason */
} stress_result_t;

/* ---- the run context -------------------------------------------------- */

typedef struct stress_slot {
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) progress;  /* watchdog reads */
    parc_atomic(const char *) last_op;
    uint64_t ops;                                       /* owner only */
    uint64_t rng;
    parc_atomic(bool) active;                           /* watchdog reads */
} stress_slot_t;

struct parc_stress_ctx {
    const stress_options_t *opt;
    const stress_case_t *c;
    unsigned threads;               /* allowed for this run */
    uint64_t seed;
    uint64_t ops_per_thread;
    int64_t patience_ns;
    int64_t start_ns, deadline_ns;  /* deadline: PARC_FOREVER when ops only */

    PARC_CACHE_ALIGNED parc_atomic(bool) stop;
    parc_atomic(uint64_t) violations;
    parc_atomic(uint64_t) extra_ops;
    bool skipped;
    char message[256];
    pthread_mutex_t message_lock;

    /* start barrier of parc_stress_run_threads() */
    PARC_CACHE_ALIGNED parc_atomic(unsigned) arrived;
    parc_atomic(bool) go;

    stress_slot_t slots[STRESS_MAX_THREADS + 1]; /* the last: main thread */
};

/* Index of the main thread's slot, for progress during set-up/draining. */
#define STRESS_MAIN_SLOT STRESS_MAX_THREADS

/* The run's elapsed time in ns. */
int64_t stress_elapsed_ns(const parc_stress_ctx_t *ctx);

/* Run one case; fills *r. Main thread. */
void stress_run_case(const stress_options_t *opt, const stress_case_t *c,
                     uint64_t seed, unsigned index, unsigned total,
                     stress_result_t *r);

/* The per-case seed: the same for a case whatever else runs. */
uint64_t stress_case_seed(uint64_t seed, const stress_case_t *c);

/* ---- reporting (report.c) -------------------------------------------------- */

typedef struct stress_report {
    const stress_options_t *opt;
    stress_result_t *results;
    size_t count;
} stress_report_t;

const char *stress_status_name(stress_status_t s);
const char *stress_build_name(void);
/* The command that re-runs case c with the same seed and budget. */
void stress_rerun_command(const stress_options_t *opt, const stress_case_t *c,
                          char *buf, size_t size);
/* Print the summary table, re-run hints, write the JSON file and print the
 * closing line. Returns the exit status (0 when nothing failed). */
int stress_report_finish(const stress_report_t *rep);
/* The report being built, for the watchdog's HANG exit. */
void stress_report_set_current(stress_report_t *rep);
/* HANG: print and write everything recorded so far, then _exit(1). */
_Noreturn void stress_report_abort(void);

/* Terminal progress line (no-op unless a tty and not quiet). */
void stress_progress_line(const parc_stress_ctx_t *ctx, unsigned index,
                          unsigned total);
void stress_progress_clear(const stress_options_t *opt);

#endif /* PARC_STRESS_INTERNAL_H */
