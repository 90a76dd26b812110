/*
 * parc/once.h — run an initialiser exactly once across threads (layer 2).
 *
 * pthread_once with an argument, or a lazily initialised static: the first
 * caller of parc_once_call() runs init(arg); callers that come while it
 * runs wait until it has returned; every later call returns after one
 * acquire load. The state word goes NEW -> RUNNING -> DONE; the thread
 * that moves it from NEW runs the initialiser, the others spin briefly and
 * then sleep on an eventcount (parc/eventcount.h, after Vyukov) that the
 * runner notifies once. The fast path is double-checked initialisation
 * (Schmidt and Harrison, "Double-Checked Locking", PLoP 1996) made correct
 * by C11 ordering: the completion flag is read with acquire and written
 * with release after the initialiser, as pthread_once implementations do.
 *
 * An initialiser that calls parc_once_call() on its own once object (directly
 * or through other onces) would wait for itself: that call returns EDEADLK
 * instead. The initialiser must return; if it never does, callers wait
 * forever (there is no cancellation).
 *
 * Memory order: every parc_once_call() that returns 0 synchronizes with the
 * end of the initialiser: what it wrote is visible to every caller.
 *
 * Threads: any thread, concurrently. A once object needs no destroy.
 */
#ifndef PARC_ONCE_H
#define PARC_ONCE_H

#include <stdbool.h>
#include <stdint.h>

#include "parc/atomic.h"
#include "parc/eventcount.h"
#include "parc/status.h"

enum { PARC_ONCE_NEW = 0, PARC_ONCE_RUNNING = 1, PARC_ONCE_DONE = 2 };

typedef struct parc_once {
    parc_atomic(uint32_t) state; /* PARC_ONCE_NEW/RUNNING/DONE */
    parc_ec_t ec;                /* where callers wait for the runner */
} parc_once_t;

/* Static initialiser: the initialiser has not run yet. */
#define PARC_ONCE_INIT { PARC_ONCE_NEW, PARC_EC_INIT }

/* Initialise `once` at run time (same as PARC_ONCE_INIT). Returns 0, or
 * EINVAL when once is NULL. Not while other threads use it. */
PARC_API int parc_once_init(parc_once_t *once);

/* Slow path of parc_once_call(); not for callers. */
PARC_API int parc_once_call_slow_(parc_once_t *once, void (*init)(void *arg), void *arg);

/* Run init(arg) if no call on `once` has run an initialiser yet; otherwise
 * wait until that run has finished. Blocks while another thread runs the
 * initialiser (spins briefly, then sleeps). Returns 0 once the initialiser
 * has run (by this or another caller); EDEADLK when called from within the
 * initialiser of the same `once`; EINVAL when once or init is NULL. */
static inline int parc_once_call(parc_once_t *once, void (*init)(void *arg), void *arg)
{
    /* acquire: pairs with the release store of DONE after the initialiser
     * ran, so its writes are visible; the whole fast path is this load. */
    if (once != NULL && init != NULL &&
        parc_load(&once->state, PARC_ACQUIRE) == PARC_ONCE_DONE)
        return 0;
    return parc_once_call_slow_(once, init, arg);
}

/* Whether the initialiser has finished (acquire: when true its writes are
 * visible). false when once is NULL. Never blocks. */
static inline bool parc_once_done(parc_once_t *once)
{
    /* acquire: pairs with the release store of DONE */
    return once != NULL && parc_load(&once->state, PARC_ACQUIRE) == PARC_ONCE_DONE;
}

#endif /* PARC_ONCE_H */
