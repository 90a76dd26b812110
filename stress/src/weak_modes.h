/*
 * weak_modes.h — parc-stress modes of the weak-memory model (parc/weak.h),
 * shared by the harness's own files (not installed).
 */
#ifndef PARC_STRESS_WEAK_MODES_H
#define PARC_STRESS_WEAK_MODES_H

#include "stress_internal.h"

/* --weak --litmus: the C11 litmus catalogue under the model, outcome sets
 * checked against C11 (litmus_weak.c). Returns the exit status. */
int stress_mode_litmus_weak(const stress_options_t *opt);

/* --explore: the exhaustive bounded mode (explore.c). */
int stress_mode_explore(const stress_options_t *opt, const char *arg);

#endif /* PARC_STRESS_WEAK_MODES_H */
