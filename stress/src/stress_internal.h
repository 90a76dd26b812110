/*
 * stress_internal.h — what the harness's own files share (not installed).
 */
#ifndef PARC_STRESS_INTERNAL_H
#define PARC_STRESS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parc/stress.h"

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

#endif /* PARC_STRESS_INTERNAL_H */
