/*
 * parc/stress_litmus.h — litmus tests for your own code, jcstress style.
 *
 * A litmus test is 2–4 short thread bodies ("actors") over a shared state
 * struct, and an outcome function that reads the state once every actor
 * has run on it. The harness runs the actors in lockstep over an array of
 * fresh states: each round, all actors are released together from one
 * barrier and each walks the same array of `stride` states in the same
 * order, so the actors meet on each state at about the same moment while
 * the barrier is paid once per stride, not once per sample (Shipilëv's
 * jcstress, OpenJDK, does the same). Millions of samples later it prints
 * the histogram of outcomes, each graded:
 *
 *   acceptable   allowed and expected;
 *   interesting  allowed, but worth seeing (a relaxed-memory effect);
 *   forbidden    must never happen: seeing it once makes the test FAIL.
 *
 * Verdicts: FAIL when a forbidden outcome was seen; SKIP when more actors
 * than available CPUs were asked for (the actors then never truly ran in
 * parallel, so "nothing forbidden seen" proves little) — never PASS in that
 * case; PASS otherwise. "No forbidden outcome in N samples" is evidence,
 * not proof: the report always gives N.
 *
 * The actors are your code: use parc's atomics with the orders you want
 * to test. In a PARC_CHAOS build every parc_load/parc_store also passes a
 * chaos point that may yield or sleep, which spreads the actors apart and
 * hides the effects a litmus test looks for; actors that measure the
 * hardware may use parc_raw_load/parc_raw_store (same orders, no chaos
 * point), as examples/litmus_sb.c does.
 *
 * Threads: parc_litmus_run() creates its own threads and blocks the
 * caller; run one at a time per test description. The actors of one state
 * run concurrently with each other; init and outcome never run
 * concurrently with an actor on the same state.
 */
#ifndef PARC_STRESS_LITMUS_H
#define PARC_STRESS_LITMUS_H

#include "parc/api.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PARC_LITMUS_MAX_THREADS 4
#define PARC_LITMUS_MAX_OUTCOMES 32

typedef enum parc_litmus_grade {
    PARC_LITMUS_ACCEPTABLE,
    PARC_LITMUS_INTERESTING,
    PARC_LITMUS_FORBIDDEN
} parc_litmus_grade_t;

typedef struct parc_litmus {
    const char *name;
    unsigned threads;   /* actors: 2..PARC_LITMUS_MAX_THREADS */
    size_t state_size;  /* bytes of one state (sizeof your struct) */
    /* Optional: make a fresh state (atomics: parc_atomic_init). NULL:
     * the state is zero-filled. Runs on a harness thread between rounds. */
    void (*init)(void *state);
    /* actor[i] runs on thread i, once per state. */
    void (*actor[PARC_LITMUS_MAX_THREADS])(void *state);
    /* After every actor ran on `state`: an outcome key (e.g. r0 * 2 + r1).
     * At most PARC_LITMUS_MAX_OUTCOMES distinct keys per run. */
    uint64_t (*outcome)(const void *state);
    /* Grade an outcome key (called once per distinct key). */
    parc_litmus_grade_t (*grade)(uint64_t outcome);
    /* Optional: a label for the histogram ("r0=0 r1=0"). NULL: the key. */
    void (*describe)(uint64_t outcome, char *buf, size_t size);
} parc_litmus_t;

typedef struct parc_litmus_options {
    uint64_t samples;    /* stop after this many states (0: 2,000,000) */
    int64_t duration_ns; /* ... or after this long (0: no time limit) */
    unsigned stride;     /* states per round (0: 4096) */
} parc_litmus_options_t;

typedef enum parc_litmus_verdict {
    PARC_LITMUS_PASS,
    PARC_LITMUS_FAIL,
    PARC_LITMUS_SKIP
} parc_litmus_verdict_t;

typedef struct parc_litmus_outcome {
    uint64_t key;
    uint64_t count;
    parc_litmus_grade_t grade;
} parc_litmus_outcome_t;

typedef struct parc_litmus_result {
    parc_litmus_verdict_t verdict;
    uint64_t samples;     /* states run by every actor and tallied */
    uint64_t forbidden;   /* samples with a forbidden outcome */
    uint64_t interesting; /* samples with an interesting outcome */
    unsigned cpus;        /* CPUs this process may run on */
    int64_t elapsed_ns;
    unsigned outcomes;    /* distinct outcomes, in order of first sight */
    parc_litmus_outcome_t outcome[PARC_LITMUS_MAX_OUTCOMES];
} parc_litmus_result_t;

/*
 * Run the litmus test: `threads` actor threads, rounds of `stride` fresh
 * states, until `samples` states or `duration_ns` (whichever first; at
 * least one round). Blocks the caller. `opt` may be NULL (defaults).
 *
 * Returns 0 when the run completed (the verdict is in *res); EINVAL when
 * test or res is NULL, threads is out of range, state_size is 0 or a
 * callback (an actor, outcome, grade) is missing; ENOMEM when the states
 * cannot be allocated; EAGAIN when a thread cannot be created; EOVERFLOW
 * when more than PARC_LITMUS_MAX_OUTCOMES distinct outcomes appeared
 * (the outcome function is too fine-grained).
 */
PARC_API int parc_litmus_run(const parc_litmus_t *test, const parc_litmus_options_t *opt,
                    parc_litmus_result_t *res);

/* Print the histogram and the verdict (with its reason) of a completed
 * run. Any thread. */
PARC_API void parc_litmus_print(FILE *out, const parc_litmus_t *test,
                       const parc_litmus_result_t *res);

/* "PASS", "FAIL", "SKIP". */
PARC_API const char *parc_litmus_verdict_name(parc_litmus_verdict_t v);

/* CPUs the calling process may run on (sched_getaffinity), at least 1. */
PARC_API unsigned parc_litmus_cpus(void);

/* Pin the calling thread to the (index mod n)-th of the n CPUs the process
 * may run on, so that threads 0..n-1 run on distinct CPUs and overlap in
 * time whenever they run (left alone, a loaded scheduler may stack them
 * on one CPU). The litmus actors and the linearizability workers use it.
 * Returns 0 or the error of pthread_setaffinity_np. Never blocks. */
PARC_API int parc_litmus_pin(unsigned index);

/* ---- registration: parc-stress --litmus runs every registered test ------- */

/* Register `test` (which must live for the whole program) with the
 * parc-stress --litmus mode. Usually through PARC_LITMUS below, before
 * main(). Returns 0; EINVAL when test is NULL or incomplete (see
 * parc_litmus_run); ENOMEM. */
PARC_API int parc_litmus_register(const parc_litmus_t *test);

/* The registered tests, in registration order. */
PARC_API size_t parc_litmus_registered(const parc_litmus_t *const **tests);

/* In a file compiled into your parc-stress executable:
 *     static const parc_litmus_t my_test = { ... };
 *     PARC_LITMUS(my_test)
 */
#define PARC_LITMUS(var)                                                    \
    __attribute__((constructor)) static void parc_litmus_register_##var(void) \
    {                                                                       \
        (void)parc_litmus_register(&(var));                                 \
    }

#endif /* PARC_STRESS_LITMUS_H */
