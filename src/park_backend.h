/*
 * src/park_backend.h — the two parking back-ends behind parc/park.h.
 *
 * Both are always compiled where they can be (futex only on Linux), so the
 * unit tests exercise each one whichever the library was configured with;
 * parc/park.h's functions forward to the configured one.
 */
#ifndef PARC_SRC_PARK_BACKEND_H
#define PARC_SRC_PARK_BACKEND_H

#include "parc/park.h"

typedef struct parc_park_backend {
    const char *name;
    int (*wait)(parc_park_word_t *word, uint32_t expected, parc_deadline_t deadline);
    void (*wake)(parc_park_word_t *word, int count); /* count: 1 or INT32_MAX */
    /* process-shared forms; NULL when the back-end has none (condvar) */
    int (*wait_shared)(parc_park_word_t *word, uint32_t expected, parc_deadline_t deadline);
    void (*wake_shared)(parc_park_word_t *word, int count);
} parc_park_backend_t;

#ifdef __linux__
extern const parc_park_backend_t parc_park_futex_backend;
#endif
extern const parc_park_backend_t parc_park_condvar_backend;

#endif
