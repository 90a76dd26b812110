/*
 * parc/event.h — a settable flag that threads can wait for (layer 2).
 *
 * Python's threading.Event (and Win32's manual-reset event): set() raises
 * the flag and wakes every waiter, clear() lowers it, wait() returns once
 * the flag is up. One atomic word holds the flag (bit 0) and a count of
 * clears (bits 1..31); waiters spin briefly, then sleep on an eventcount
 * (parc/eventcount.h, after Vyukov), so set() with nobody asleep costs one
 * RMW, a fence and a load.
 *
 * Python's guarantee, kept: a waiter that was waiting when set() ran
 * returns success even if clear() runs before it gets the processor. A
 * waiter remembers the word it saw with the flag down and succeeds as soon
 * as the word differs: raising the flag changes it, and so does every
 * clear after a set (it bumps the count). The count wraps after 2^31
 * set/clear cycles; a waiter that sleeps through exactly that many would
 * miss them (not a practical concern).
 *
 * Memory order: a wait that returns 0 synchronizes with the set() that
 * released it: what the setter wrote before set() is visible after wait().
 *
 * Threads: any number of setters, clearers and waiters, concurrently;
 * _init/_destroy only while no other thread uses the event.
 */
#ifndef PARC_EVENT_H
#define PARC_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "parc/atomic.h"
#include "parc/eventcount.h"
#include "parc/status.h"
#include "parc/time.h"

typedef struct parc_event {
    parc_atomic(uint32_t) state; /* bit 0: set; bits 1..31: clears */
    parc_ec_t ec;                /* where waiters sleep */
} parc_event_t;

/* Static initialiser: an event whose flag is down. */
#define PARC_EVENT_INIT { 0, PARC_EC_INIT }

#define PARC_EVENT_SET_BIT UINT32_C(1)

/* Initialise `e` with its flag down. Returns 0, or EINVAL when e is NULL. */
PARC_API int parc_event_init(parc_event_t *e);

/* Release resources (none today). No thread may be using the event.
 * Returns 0, or EINVAL when e is NULL. */
PARC_API int parc_event_destroy(parc_event_t *e);

/* Raise the flag and wake every waiter. Setting a set event does nothing.
 * Never blocks. Returns 0, or EINVAL when e is NULL. */
PARC_API int parc_event_set(parc_event_t *e);

/* Lower the flag; later waits block until the next set(). Clearing a clear
 * event does nothing. Never blocks. Returns 0, or EINVAL when e is NULL. */
PARC_API int parc_event_clear(parc_event_t *e);

/* Whether the flag is up at the moment of the call (acquire: when true,
 * what the setter wrote before set() is visible). false when e is NULL.
 * Never blocks. */
static inline bool parc_event_is_set(parc_event_t *e)
{
    /* acquire: pairs with the release RMW in parc_event_set() */
    return e != NULL && (parc_load(&e->state, PARC_ACQUIRE) & PARC_EVENT_SET_BIT);
}

/* Return 0 if the flag is up now, else EAGAIN. Never blocks. EINVAL when e
 * is NULL. */
static inline int parc_event_wait_try(parc_event_t *e)
{
    if (e == NULL)
        return EINVAL;
    return parc_event_is_set(e) ? 0 : EAGAIN;
}

/* Wait until the flag is up, or was raised while we waited (see above).
 * Blocks (spins briefly, then sleeps). Returns 0, or EINVAL when e is
 * NULL. */
PARC_API int parc_event_wait(parc_event_t *e);

/* As parc_event_wait(), for at most `timeout_ns` nanoseconds (relative;
 * 0 = check once; PARC_FOREVER = no limit). Blocks. Returns 0; ETIMEDOUT
 * when the deadline passed with no set() seen (never before it); EINVAL
 * when e is NULL or timeout_ns < 0. */
PARC_API int parc_event_wait_timed(parc_event_t *e, int64_t timeout_ns);

#endif /* PARC_EVENT_H */
