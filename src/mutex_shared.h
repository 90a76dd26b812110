/*
 * src/mutex_shared.h — the process-shared and robust mutex kinds
 * (mutex_shared.c), called from mutex.c's slow paths.
 */
#ifndef PARC_SRC_MUTEX_SHARED_H
#define PARC_SRC_MUTEX_SHARED_H

#include <stdbool.h>

#include "parc/mutex.h"

/* The kinds that take this path. */
#define PARC_MUTEX_SHARED_KINDS (PARC_PSHARED | PARC_MUTEX_ROBUST)

/* Lock (try_only: one attempt, EAGAIN when held). Returns 0, EOWNERDEAD,
 * ENOTRECOVERABLE, EDEADLK, EAGAIN, ETIMEDOUT. */
int parc_mutex_shared_lock_(parc_mutex_t *m, parc_deadline_t deadline, bool try_only);

/* Unlock by the holder: 0 or EPERM. */
int parc_mutex_shared_unlock_(parc_mutex_t *m);

/* Whether the caller may hold the shared-kind mutex m (locked by this
 * thread): what parc_mutex_shared_unlock_ checks before it unlocks. */
bool parc_mutex_shared_held_(parc_mutex_t *m);

/* Whether the calling thread (or fiber) may hold m, as far as m's kind
 * can tell: locked (NORMAL), locked by the caller (ERRORCHECK and the
 * shared kinds). False exactly when parc_mutex_unlock(m) would say
 * EPERM. For src/cond.c, which must not register a waiter that does not
 * hold the mutex. */
bool parc_mutex_held_(parc_mutex_t *m);

#endif
