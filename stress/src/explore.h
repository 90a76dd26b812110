/*
 * explore.h — the exhaustive bounded explorer behind parc-stress --explore
 * (not installed).
 *
 * For tiny cases (2-4 threads, a handful of operations) it enumerates
 * every schedule of the baton and every store each load may read under the
 * weak-memory model (parc/weak.h), depth first: an execution is the
 * sequence of its choices; after each one the deepest choice that has an
 * untried option moves to it and everything after is re-run from scratch
 * (DFS with replay, as CDSChecker and CHESS do; a choice is never undone
 * inside a run, the whole run is repeated).
 *
 * Bounds keep spin loops and kernel parks finite: an execution preempts a
 * running thread at most `preemptions` times (switches at blocks and exits
 * are free) and reads an older store at most `stale_reads` times; only
 * the first `depth` decisions of an execution branch (0: all); a thread
 * that went on `max_run` times in a row is switched out (not a branch).
 * Within those bounds the enumeration is complete, and the count of
 * executions says how much was covered.
 */
#ifndef PARC_STRESS_EXPLORE_H
#define PARC_STRESS_EXPLORE_H

#include <stdbool.h>
#include <stdint.h>

#include "parc/stress_baton.h"

typedef struct explore_bounds {
    unsigned preemptions;
    unsigned stale_reads;
    unsigned depth;          /* 0: no limit */
    unsigned max_run;        /* 0: 64 */
    uint64_t max_executions; /* stop (incomplete) after this many; 0: 1e6 */
} explore_bounds_t;

typedef struct explore_result {
    uint64_t executions;
    unsigned longest;  /* most branch points in one execution */
    bool complete;     /* every execution within the bounds was run */
    bool diverged;     /* a replay did not retrace its prefix (nondeterminism) */
    int failure;       /* the first non-zero return of one(), else 0 */
} explore_result_t;

/* Run one(arg, bo) once per execution; `bo` (weak, chooser, hang bound)
 * is to be passed to parc_baton_run(). one() returns 0, or non-zero for a
 * failed check (exploration stops there: the failing execution is the
 * last one). Main thread. Returns 0 or an errno value. */
int explore_run(const explore_bounds_t *bounds,
                int (*one)(void *arg, const parc_baton_options_t *bo), void *arg,
                explore_result_t *res);

/* The litmus catalogue, exhaustively (litmus_weak.c); adds to the counts. */
void stress_litmus_weak_explore(const char *filter, unsigned *passed, unsigned *failed,
                                unsigned *skipped);

/* parc's core protocols, exhaustively (explore_protocols.c); with
 * `mutants`, the negative controls instead, which must fail. */
void stress_explore_protocols(const char *filter, bool mutants, unsigned *passed,
                              unsigned *failed, unsigned *skipped);

#endif /* PARC_STRESS_EXPLORE_H */
