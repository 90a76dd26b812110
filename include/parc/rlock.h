/*
 * parc/rlock.h — a reentrant (recursive) lock (layer 2).
 *
 * Python's threading.RLock and Java's ReentrantLock: the owning thread may
 * lock again and must unlock as many times as it locked. Built as an owner
 * id and a hold count over a parc_mutex_t (parc/mutex.h), the construction
 * of pthread's PTHREAD_MUTEX_RECURSIVE and of the RLock in CPython's
 * Modules/_threadmodule.c: the owner's re-entry costs no atomic
 * read-modify-write, only a load of the owner field; the first lock and the
 * last unlock are the mutex's (spin briefly, then park).
 *
 * Memory ordering: `owner` is written only by the thread that holds the
 * inner mutex (set after taking it, cleared before releasing it), so a
 * relaxed load is enough for a thread to recognise itself: it reads its
 * own id only if it stored it and has not cleared it since. `count` is
 * plain: only the owner touches it. The inner mutex orders everything else.
 *
 * Threads: any thread may lock; only the owner may unlock.
 */
#ifndef PARC_RLOCK_H
#define PARC_RLOCK_H

#include <stdint.h>

#include "parc/atomic.h"
#include "parc/mutex.h"
#include "parc/status.h"
#include "parc/time.h"

typedef struct parc_rlock {
    parc_mutex_t mutex;             /* held while owner != 0 */
    parc_atomic(uintptr_t) owner;   /* parc_thread_id() of the holder or 0 */
    uint32_t count;                 /* holds by the owner; owner-only */
} parc_rlock_t;

#define PARC_RLOCK_INIT { PARC_MUTEX_INIT, 0u, 0u }

/* Initialise `l` unlocked (same as PARC_RLOCK_INIT). Not while other
 * threads use it. Returns 0, or EINVAL for NULL. */
PARC_API int parc_rlock_init(parc_rlock_t *l);

/* Check that `l` is free. Returns 0, EAGAIN when it is held or has
 * waiters, EINVAL for NULL. */
PARC_API int parc_rlock_destroy(parc_rlock_t *l);

/* Slow path, in src/rlock.c. */
PARC_API int parc_rlock_acquire_(parc_rlock_t *l, uintptr_t self, parc_deadline_t deadline,
                        bool try_only);

/*
 * Lock `l`: returns at once (count + 1) when the caller already owns it,
 * otherwise blocks until it is free (spins briefly, then parks). Any
 * thread. Returns 0; EOVERFLOW when the owner already holds it 2^32 - 1
 * times; EINVAL for NULL.
 */
static inline int parc_rlock_lock(parc_rlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    return parc_rlock_acquire_(l, parc_thread_id(), PARC_FOREVER, false);
}

/* Lock `l` if the caller owns it or it is free. Any thread; never blocks.
 * Returns 0; EAGAIN when another thread owns it; EOVERFLOW; EINVAL. */
static inline int parc_rlock_lock_try(parc_rlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    return parc_rlock_acquire_(l, parc_thread_id(), PARC_FOREVER, true);
}

/* Lock `l`, waiting at most `timeout_ns` (relative; 0: one attempt;
 * PARC_FOREVER: none). Any thread; blocks. Returns 0; ETIMEDOUT when the
 * timeout passed first (never before it); EOVERFLOW; EINVAL for NULL or a
 * negative timeout. */
static inline int parc_rlock_lock_timed(parc_rlock_t *l, int64_t timeout_ns)
{
    if (l == NULL || timeout_ns < 0)
        return EINVAL;
    parc_deadline_t deadline;
    (void)parc_deadline_in(&deadline, timeout_ns);
    return parc_rlock_acquire_(l, parc_thread_id(), deadline, false);
}

/*
 * Undo one lock by the owner; the last one releases `l` (waking a waiter
 * if one is parked). Only the owner; never blocks. Returns 0; EPERM when
 * the caller does not own `l` (including when nobody does); EINVAL for
 * NULL.
 */
PARC_API int parc_rlock_unlock(parc_rlock_t *l);

/* True when the calling thread owns `l` (false for NULL). Never blocks. */
static inline bool parc_rlock_is_owned(parc_rlock_t *l)
{
    /* relaxed: see the header comment. */
    return l != NULL && parc_load(&l->owner, PARC_RELAXED) == parc_thread_id();
}

/* How many times the calling thread holds `l`: 0 when it does not own it
 * (or l is NULL). Never blocks. */
static inline uint32_t parc_rlock_count(parc_rlock_t *l)
{
    return parc_rlock_is_owned(l) ? l->count : 0u;
}

#endif /* PARC_RLOCK_H */
