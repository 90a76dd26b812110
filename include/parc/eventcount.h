/*
 * parc/eventcount.h — block on any condition of a lock-free structure
 * without lost wake-ups (layer 1).
 *
 * After Dmitry Vyukov's eventcount (comp.programming.threads, 2008; also
 * Chris Thomasson's) and the two-word epoch/waiter design of Facebook's
 * folly::EventCount. A lock-free structure keeps its own fast path; the
 * eventcount only lets a thread sleep until "something may have changed".
 *
 * Protocol (waiter):                         (notifier):
 *
 *   for (;;) {                                 publish(item);  // e.g. a
 *       if (try_take(&x)) break;                               // release CAS
 *       key = parc_ec_prepare_wait(&ec);       parc_ec_notify_one(&ec);
 *       if (try_take(&x)) {
 *           parc_ec_cancel_wait(&ec);
 *           break;
 *       }
 *       parc_ec_wait(&ec, key, deadline);
 *   }
 *
 * Why nothing is lost: prepare_wait registers the waiter and then executes a
 * seq_cst fence before the re-check; notify executes a seq_cst fence after
 * the publish and before it reads the waiter count. Of the two fences one
 * comes first in the single total order of seq_cst fences: if the
 * notifier's does, the waiter's re-check sees the item; if the waiter's
 * does, the notifier sees the waiter and bumps the epoch, so the waiter's
 * park (which compares the epoch with its key in the kernel) returns. With
 * nobody waiting a notify costs that fence and one load.
 *
 * parc_ec_await() wraps the loop with a bounded spin first (a wake-up from
 * the kernel costs tens of microseconds; a hand-off between running threads
 * well under one).
 *
 * Threads: any number of waiters and notifiers, concurrently.
 */
#ifndef PARC_EVENTCOUNT_H
#define PARC_EVENTCOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "parc/atomic.h"
#include "parc/park.h"
#include "parc/status.h"
#include "parc/time.h"

typedef struct parc_ec {
    parc_park_word_t epoch;          /* bumped by every notify that saw a
                                      * waiter; the word waiters park on */
    parc_atomic(uint32_t) waiters;   /* threads between prepare and the end
                                      * of their wait */
} parc_ec_t;

typedef uint32_t parc_ec_key_t;

#define PARC_EC_INIT { 0, 0 }

/* Initialise `ec` (same as PARC_EC_INIT). Returns 0 or EINVAL for NULL. */
PARC_API int parc_ec_init(parc_ec_t *ec);

/* Register the calling thread as a waiter and return the key for
 * parc_ec_wait(). Follow with a re-check of the condition, then exactly one
 * of parc_ec_cancel_wait() or parc_ec_wait(). `ec` must not be NULL.
 * Any thread; never blocks. */
static inline parc_ec_key_t parc_ec_prepare_wait(parc_ec_t *ec)
{
    parc_faa(&ec->waiters, 1u, PARC_RELAXED);
    /* seq_cst fence: orders the registration above before the caller's
     * re-check of its condition; pairs with the fence in parc_ec_notify_*
     * (see the protocol at the top of this file). */
    parc_fence(PARC_SEQ_CST);
    /* acquire: if this reads a notifier's epoch bump, everything that
     * notifier published before its notify is visible to the re-check;
     * pairs with the release increment in the notify slow path. */
    return parc_load(&ec->epoch, PARC_ACQUIRE);
}

/* Withdraw a registration made by parc_ec_prepare_wait() (the re-check
 * found the condition true). `ec` must not be NULL. Never blocks. */
static inline void parc_ec_cancel_wait(parc_ec_t *ec)
{
    parc_fas(&ec->waiters, 1u, PARC_RELAXED);
}

/* Park until a notify after the matching prepare, or until `deadline`
 * (absolute, PARC_FOREVER for none); ends the registration either way.
 * Returns 0 (notified, possibly spuriously: re-check), ETIMEDOUT, or EINVAL
 * when ec is NULL. Blocks. */
PARC_API int parc_ec_wait(parc_ec_t *ec, parc_ec_key_t key, parc_deadline_t deadline);

/* True when some thread is between parc_ec_prepare_wait() and the end of
 * its wait. For notifiers that order their publish before this load
 * themselves (a seq_cst fence, or the light side of parc/asymfence.h)
 * and then call parc_ec_wake(); everyone else uses parc_ec_notify_*.
 * `ec` must not be NULL. Any thread; never blocks. */
static inline bool parc_ec_has_waiters(parc_ec_t *ec)
{
    return parc_load(&ec->waiters, PARC_RELAXED) != 0;
}

/* Bump the epoch and wake one waiter (all when `all`): the slow path of
 * the notifies. Any thread; never blocks. */
PARC_API void parc_ec_wake(parc_ec_t *ec, bool all);

/* Wake at least one thread waiting since before this call, if any.
 * Call after publishing the change. Any thread; never blocks. */
static inline void parc_ec_notify_one(parc_ec_t *ec)
{
    /* seq_cst fence: orders the caller's publish before the waiter-count
     * load; pairs with the fence in parc_ec_prepare_wait(). */
    parc_fence(PARC_SEQ_CST);
    if (parc_ec_has_waiters(ec))
        parc_ec_wake(ec, false);
}

/* Wake every thread waiting since before this call. Any thread; never
 * blocks. */
static inline void parc_ec_notify_all(parc_ec_t *ec)
{
    /* seq_cst fence: as in parc_ec_notify_one(). */
    parc_fence(PARC_SEQ_CST);
    if (parc_ec_has_waiters(ec))
        parc_ec_wake(ec, true);
}

/*
 * Wait until ready(arg) returns true or `deadline` passes: polls ready()
 * for a bounded spin (PARC_SPIN_POLLS), then parks through the protocol
 * above. ready() must read the condition with acquire loads; it may be
 * called any number of times. Returns 0 when ready() returned true,
 * ETIMEDOUT when the deadline passed first (after a last check), EINVAL
 * when ec or ready is NULL. Blocks.
 */
PARC_API int parc_ec_await(parc_ec_t *ec, bool (*ready)(void *arg), void *arg,
                  parc_deadline_t deadline);

#endif /* PARC_EVENTCOUNT_H */
