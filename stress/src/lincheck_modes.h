/*
 * lincheck_modes.h — the harness modes and built-in workload provided by
 * the linearizability checker, the litmus runner and the baton scheduler
 * (lincheck_mode.c, litmus_mode.c). Not installed.
 *
 *   queue.lincheck   a built-in workload over every queue adapter whose
 *                    order is FIFO or LIFO: short random histories checked
 *                    against the sequential model (parc/stress_lincheck.h).
 *   --lincheck       run only the queue.lincheck cases.
 *                    With --baton / --replay SEED (options of parc-stress),
 *                    each scenario runs under the PCT scheduler
 *                    (parc/stress_baton.h).
 *   --litmus         run the litmus catalogue and the registered litmus
 *                    tests (parc/stress_litmus.h).
 */
#ifndef PARC_STRESS_LINCHECK_MODES_H
#define PARC_STRESS_LINCHECK_MODES_H

#include "stress_internal.h"

extern const stress_builtin_t stress_queue_lincheck;

int stress_mode_lincheck(const stress_options_t *opt, const char *arg);
int stress_mode_litmus(const stress_options_t *opt, const char *arg);

#endif
