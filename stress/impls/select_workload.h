/*
 * stress/impls/select_workload.h — the select.exactly_once workload
 * (select.c), shared with its negative control (mutants/greedy_select.c).
 */
#ifndef PARC_STRESS_SELECT_WORKLOAD_H
#define PARC_STRESS_SELECT_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "parc/select.h"
#include "parc/stress.h"

/* A select in the timed form, as parc_select_timed(). */
typedef int (*stress_select_fn)(parc_select_case_t *cases, size_t n,
                                unsigned flags, size_t *index,
                                int64_t timeout_ns);

/* The select under test, passed to run() through the workload's arg. */
typedef struct stress_select_impl {
    stress_select_fn select_timed;
} stress_select_impl_t;

/* The workload's run(): `arg` is a stress_select_impl_t *, or NULL for
 * parc_select_timed. */
int stress_select_run(parc_stress_ctx_t *ctx, void *arg);

#endif /* PARC_STRESS_SELECT_WORKLOAD_H */
