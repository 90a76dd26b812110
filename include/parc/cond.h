/*
 * parc/cond.h — condition variable over parc_mutex_t (layer 2).
 *
 * Python's threading.Condition and Java's Condition, for a parc_mutex_t
 * (parc/mutex.h): wait() unlocks the mutex, sleeps until a notify, and
 * locks it again; notify_one() wakes at least one waiter, notify_all()
 * every waiter; wait_for(predicate) loops until the predicate holds, as
 * Python's Condition.wait_for does.
 *
 * Design: the sequence-number futex condition variable (Drepper, "Futexes
 * Are Tricky", 2011, section on condition variables; the scheme of Rust's
 * std futex Condvar and of pre-2.25 glibc without the requeue). A waiter
 * reads the sequence word while it still holds the mutex, unlocks, and
 * sleeps only while the word still has that value; a notify bumps the word
 * before waking. No requeue: woken threads contend for the mutex
 * themselves (parc's mutex spins briefly before parking, so a thundering
 * herd after notify_all costs little on few cores).
 *
 * Why no wake-up is lost: the notifier changes the condition under the
 * mutex, as it must. A waiter registered (and read the sequence) under the
 * mutex before that critical section, so the notify sees it registered
 * and bumps the sequence: the waiter's park, which compares the sequence
 * with what it read atomically with sleeping, returns. A waiter that came
 * after the critical section sees the changed condition and never waits.
 *
 * Cost: a notify with no waiter registered is one relaxed load. A notify
 * with waiters bumps the word and makes the wake system call only when a
 * waiter is really asleep (waiters spin briefly first: a cross-core futex
 * wake-up costs ~45 us here, a spinning waiter answers in well under one).
 *
 * Spurious wake-ups: possible (a notify_one releases every waiter that is
 * still spinning, and the futex may return spuriously); as everywhere,
 * wait in a loop on your predicate, or use parc_cond_wait_for().
 *
 * notify_one and late-comers: a thread that starts waiting just after a
 * notify_one may absorb that notify's wake-up system call instead of an
 * earlier waiter (the futex wakes whoever is asleep). That thread saw the
 * changed condition under the mutex before it waited, so when all waiters
 * of the variable wait for the same condition nothing is lost: the
 * condition was consumed. When waiters wait for different conditions on
 * one variable, use notify_all (as POSIX advises).
 *
 * There is no _try form of wait: a wait that may not block cannot observe
 * a notify that has not happened yet; parc_cond_wait_timed(c, m, 0) is the
 * nearest thing (unlocks, relocks, ETIMEDOUT).
 *
 * Threads: any number of waiters and notifiers. A waiter must hold the
 * mutex; waiters of one condition variable at the same time must use the
 * same mutex. Notifiers should hold the mutex while they change the
 * condition (they may notify after unlocking).
 */
#ifndef PARC_COND_H
#define PARC_COND_H

#include <stdbool.h>
#include <stdint.h>

#include "parc/atomic.h"
#include "parc/mutex.h"
#include "parc/park.h"
#include "parc/status.h"
#include "parc/time.h"

typedef struct parc_cond {
    parc_park_word_t seq;          /* bumped by every notify that finds
                                    * waiters; the word waiters park on */
    parc_atomic(uint32_t) waiters; /* threads inside a wait */
    parc_atomic(uint32_t) sleepers;/* of those, threads about to park or
                                    * parked: only they need a system call */
} parc_cond_t;

/* Static initialiser. */
#define PARC_COND_INIT { 0u, 0u, 0u }

/* Initialise `c`. Returns 0, or EINVAL when c is NULL. Not while other
 * threads use it. */
PARC_API int parc_cond_init(parc_cond_t *c);

/* Check that nobody waits on `c`. Returns 0; EAGAIN when threads are
 * waiting; EINVAL when c is NULL. After 0 the storage may be reused. */
PARC_API int parc_cond_destroy(parc_cond_t *c);

/* Unlock `m`, wait for a notify on `c`, lock `m` again. The caller must
 * hold `m`. Blocks (spins briefly, then sleeps). May return spuriously.
 * Returns 0 (with `m` held again); EPERM when `m` was not locked (or, for
 * an ERRORCHECK mutex, not held by the caller), without waiting; EINVAL
 * when c or m is NULL. */
PARC_API int parc_cond_wait(parc_cond_t *c, parc_mutex_t *m);

/* As parc_cond_wait(), for at most `timeout_ns` nanoseconds (relative;
 * PARC_FOREVER = no limit). Returns 0 (notified, or spuriously); ETIMEDOUT
 * when the deadline passed first (never before it); `m` is held again in
 * both cases. EPERM and EINVAL as parc_cond_wait(), and EINVAL when
 * timeout_ns < 0. */
PARC_API int parc_cond_wait_timed(parc_cond_t *c, parc_mutex_t *m, int64_t timeout_ns);

/* As parc_cond_wait_timed() with an absolute CLOCK_MONOTONIC deadline
 * (parc/time.h; PARC_FOREVER for none), for callers that wait several
 * times under one deadline. EINVAL only for a NULL c or m. */
PARC_API int parc_cond_wait_until(parc_cond_t *c, parc_mutex_t *m, parc_deadline_t deadline);

/* Wait until pred(arg) is true (Python's Condition.wait_for): checks it
 * first, then after every wake-up, always with `m` held. The caller must
 * hold `m`. Blocks. Returns 0 once pred returned true; EPERM/EINVAL as
 * parc_cond_wait(), and EINVAL when pred is NULL. */
PARC_API int parc_cond_wait_for(parc_cond_t *c, parc_mutex_t *m,
                       bool (*pred)(void *arg), void *arg);

/* As parc_cond_wait_for(), for at most `timeout_ns` nanoseconds. When the
 * deadline passes, pred is checked once more and its value decides, like
 * Python's wait_for returning the predicate's last value: 0 when true,
 * ETIMEDOUT when false (never before the deadline). `m` is held on every
 * return but EPERM/EINVAL. EINVAL also for timeout_ns < 0. */
PARC_API int parc_cond_wait_for_timed(parc_cond_t *c, parc_mutex_t *m,
                             bool (*pred)(void *arg), void *arg,
                             int64_t timeout_ns);

/* Slow path of the notifies; not for callers. */
PARC_API void parc_cond_notify_slow_(parc_cond_t *c, bool all);

/* Wake at least one thread waiting on `c`, if any. Any thread; should hold
 * the mutex while changing the condition (see above). Never blocks.
 * Returns 0, or EINVAL when c is NULL. */
static inline int parc_cond_notify_one(parc_cond_t *c)
{
    if (c == NULL)
        return EINVAL;
    /* relaxed: waiters register under the mutex before the notifier's
     * critical section (mutex acquire/release order it); a waiter that
     * registers later saw the changed condition and needs no notify. */
    if (parc_load(&c->waiters, PARC_RELAXED) != 0)
        parc_cond_notify_slow_(c, false);
    return 0;
}

/* Wake every thread waiting on `c`. As parc_cond_notify_one() otherwise. */
static inline int parc_cond_notify_all(parc_cond_t *c)
{
    if (c == NULL)
        return EINVAL;
    /* relaxed: as in parc_cond_notify_one() */
    if (parc_load(&c->waiters, PARC_RELAXED) != 0)
        parc_cond_notify_slow_(c, true);
    return 0;
}

#endif /* PARC_COND_H */
