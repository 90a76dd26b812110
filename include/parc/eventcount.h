/*
 * parc/eventcount.h — block on any condition of a lock-free structure
 * without lost wake-ups (layer 1).
 *
 * After Dmitry Vyukov's eventcount (comp.programming.threads, 2008; also
 * Chris Thomasson's) and the two-word epoch/waiter design of Facebook's
 * folly::EventCount. A lock-free structure keeps its own fast path; the
 * eventcount only lets a thread sleep until "something may have changed".
 *
 * Protocol, waiter:
 *
 *   for (;;) {
 *       if (try_take(&x)) break;
 *       key = parc_eventcount_prepare_wait(&ec);
 *       if (try_take(&x)) {
 *           parc_eventcount_cancel_wait(&ec);
 *           break;
 *       }
 *       parc_eventcount_wait(&ec, key, deadline);
 *   }
 *
 * notifier:
 *
 *   publish(item);                       // e.g. a release CAS
 *   parc_eventcount_notify_one(&ec);
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
 * parc_eventcount_await() wraps the loop with a bounded spin first (a
 * wake-up from the kernel costs tens of microseconds; a hand-off between
 * running threads well under one).
 *
 * Naming: the functions carry the header's name (parc_eventcount_*), so a
 * reader who meets one in a container's source finds it by file name.
 *
 * Threads: any number of waiters and notifiers, concurrently.
 */
#ifndef PARC_EVENTCOUNT_H
#define PARC_EVENTCOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "parc/api.h"
#include "parc/atomic.h"
#include "parc/park.h"
#include "parc/status.h"
#include "parc/time.h"

PARC_BEGIN_DECLS

typedef struct parc_eventcount {
    parc_park_word_t epoch;          /* bumped by every notify that saw a
                                      * waiter; the word waiters park on */
    parc_atomic(uint32_t) waiters;   /* threads between prepare and the end
                                      * of their wait */
} parc_eventcount_t;

typedef uint32_t parc_eventcount_key_t;

#define PARC_EVENTCOUNT_INIT { 0, 0 }

/** Initialise `ec` (same as PARC_EVENTCOUNT_INIT). Returns 0, or EINVAL
 * when ec is NULL. Not while other threads use `ec`; never blocks. */
PARC_API int parc_eventcount_init(parc_eventcount_t *ec);

/** Initialise `ec` with flags: 0 (as parc_eventcount_init) or PARC_PSHARED (it
 * lives in memory shared between processes: waits and wakes use the
 * shared futex). The flag is bit 0 of the epoch, which every wake bumps
 * by 2, so it costs no field and no fast-path check. A waiter that dies
 * leaves its registration behind: notifies then always take the wake
 * path (a system call), which is slower, never wrong. Returns 0, EINVAL
 * for NULL or an unknown flag. */
PARC_API int parc_eventcount_init_flags(parc_eventcount_t *ec, unsigned flags);

/** Register the calling thread as a waiter and return the key for
 * parc_eventcount_wait(). Follow with a re-check of the condition, then
 * exactly one of parc_eventcount_cancel_wait() or parc_eventcount_wait().
 * `ec` must not be NULL. Any thread; never blocks. */
static inline parc_eventcount_key_t
parc_eventcount_prepare_wait(parc_eventcount_t *ec);

/** Withdraw a registration made by parc_eventcount_prepare_wait() (the
 * re-check found the condition true). `ec` must not be NULL. Only the
 * thread that registered; never blocks. */
static inline void parc_eventcount_cancel_wait(parc_eventcount_t *ec);

/** Park until a notify after the matching prepare, or until `deadline`
 * (absolute, PARC_FOREVER for none); ends the registration either way.
 * Only the thread that registered with parc_eventcount_prepare_wait().
 * Returns 0 (notified, possibly spuriously: re-check), ETIMEDOUT, or
 * EINVAL when ec is NULL. Blocks. */
PARC_API int parc_eventcount_wait(parc_eventcount_t *ec,
                                  parc_eventcount_key_t key,
                                  parc_deadline_t deadline);

/** True when some thread is between parc_eventcount_prepare_wait() and the
 * end of its wait. For notifiers that order their publish before this
 * load themselves (a seq_cst fence, or the light side of
 * parc/asymfence.h) and then call parc_eventcount_wake(); everyone else
 * uses parc_eventcount_notify_one/all. `ec` must not be NULL. Any thread;
 * never blocks. */
static inline bool parc_eventcount_has_waiters(parc_eventcount_t *ec);

/** Bump the epoch and wake one waiter (all when `all`): the slow path of
 * the notifies. Any thread; never blocks. */
PARC_API void parc_eventcount_wake(parc_eventcount_t *ec, bool all);

/** Wake at least one thread waiting since before this call, if any.
 * Call after publishing the change. Any thread; never blocks. */
static inline void parc_eventcount_notify_one(parc_eventcount_t *ec);

/** Wake every thread waiting since before this call. Any thread; never
 * blocks. */
static inline void parc_eventcount_notify_all(parc_eventcount_t *ec);

/**
 * Wait until ready(arg) returns true or `deadline` passes: polls ready()
 * for a bounded spin (PARC_SPIN_POLLS), then parks through the protocol
 * above. ready() must read the condition with acquire loads; it may be
 * called any number of times. Any thread. Returns 0 when ready() returned
 * true, ETIMEDOUT when the deadline passed first (after a last check),
 * EINVAL when ec or ready is NULL. Blocks.
 */
PARC_API int parc_eventcount_await(parc_eventcount_t *ec,
                                   bool (*ready)(void *arg), void *arg,
                                   parc_deadline_t deadline);

PARC_END_DECLS

#include "parc/impl/eventcount.h"

#endif /* PARC_EVENTCOUNT_H */
