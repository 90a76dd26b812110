/*
 * parc/mutex.h — a futex mutex with bounded adaptive spinning (layer 2).
 *
 * After Ulrich Drepper, "Futexes Are Tricky" (2011), mutex #3: one 32-bit
 * word, locked with one compare-exchange, unlocked with one read-modify-
 * write, and a system call only when a thread may be parked. Drepper's
 * third state ("locked, maybe waiters") is refined here into an exact count
 * of parked waiters plus a "waking" bit, as in the Linux kernel's and Go's
 * mutexes, so that
 *
 *   - an unlock calls futex_wake only when someone is really parked, and
 *     only when no woken waiter is still on its way to the lock (one wake
 *     in flight at a time: no thundering herd, no wasted wake-ups while the
 *     lock changes hands between running threads);
 *   - a waiter that spins or wakes may take the lock from under a queue of
 *     parked ones ("barging"): throughput over strict FIFO, as pthread's
 *     mutexes do.
 *
 * The word:
 *
 *   bit 0      LOCKED   held
 *   bit 1      WAKING   a parked waiter was woken and has not yet taken the
 *                       lock or parked again; unlock need not wake another
 *   bits 2-31  waiters  threads registered to park (count * 4)
 *
 * Waiting: a thread that finds the lock held first spins on a plain load
 * for a bounded time (PARC_MUTEX_SPIN parc_cpu_relax() pauses, about
 * 25 us here), reading the word at exponentially growing intervals (up to
 * PARC_MUTEX_SPIN_GAP pauses): a short critical section on a running
 * owner ends within it, and a hand-off between running threads costs a
 * cache-line transfer instead of a ~45 us futex wake-up; the growing gaps
 * leave the line with the owner, who can then take and release the lock
 * many times without a transfer (throughput over fairness, as with
 * Anderson's backoff). A thread spins only while no waiter is parked:
 * parked waiters mean the lock is held for longer than a spin (more
 * threads than cores, a preempted owner), and a spinner would then burn
 * the time slice that a running thread needs, so it parks at once. A
 * woken waiter does spin before parking again: while it does, WAKING
 * stays set and unlocks issue no further wake-up (each wake-up costs the
 * unlocking thread a system call). A fiber spawned on a pool
 * (parc/fiber.h) spins by looks instead of pauses: at each look the fiber
 * runtime runs a fiber ready on its worker (the owner, when the owner is
 * a fiber that yielded or parked holding the lock) or pauses once.
 *
 * Parking: waiters park on a separate word, `wake_seq`, that only a
 * wake-up changes (bump, then wake), never on the lock word itself: the
 * lock word changes at every lock and unlock, and a futex wait on it would
 * keep failing its value check while the lock changes hands quickly.
 *
 * Kinds, chosen at initialisation:
 *   PARC_MUTEX_NORMAL      no owner tracking: the fast path is the bare
 *                          CAS / CAS. Unlocking a mutex that is not locked
 *                          is detected (EPERM); unlocking one that another
 *                          thread holds is not (use ERRORCHECK).
 *   PARC_MUTEX_ERRORCHECK  records the owner: unlock by a non-owner gives
 *                          EPERM, relock by the owner EDEADLK.
 *
 * Memory ordering: lock is an acquire RMW on the word, unlock a release RMW
 * on it; everything written inside a critical section is visible to the
 * next thread that takes the lock (the RMWs in between, waiter
 * registrations and the waking bit, continue the release sequence).
 *
 * Threads: any thread may lock; only the owner may unlock. Not recursive
 * (see parc/rlock.h). Not robust (a thread that exits holding the lock
 * leaves it held) unless made so:
 *
 * Process-shared and robust, flags added to the kind at init:
 *   PARC_PSHARED       the mutex lives in memory shared between processes
 *                      (parc/shm.h) and parks on a shared futex. Owner
 *                      tracked (the holder's thread id is in the word):
 *                      relock by the holder EDEADLK, unlock by another
 *                      EPERM. Always through the library's slow path.
 *   PARC_MUTEX_ROBUST  when the holder dies (its process killed, or the
 *                      thread exited), the next locker gets the lock with
 *                      EOWNERDEAD: the state it protects may be half
 *                      updated. It repairs it and calls
 *                      parc_mutex_consistent(); unlocking without that
 *                      makes the mutex NOTRECOVERABLE (every lock then
 *                      says ENOTRECOVERABLE). POSIX robust-mutex
 *                      semantics; how the death is detected (the holder's
 *                      tid, checked through a pidfd when a waiter finds
 *                      the lock held) and its limits: src/mutex_shared.c.
 * Such a mutex's fields are not the layout described above: see there.
 */
#ifndef PARC_MUTEX_H
#define PARC_MUTEX_H

#include <stdint.h>

#include "parc/api.h"
#include "parc/atomic.h"
#include "parc/park.h"
#include "parc/status.h"
#include "parc/time.h"

PARC_BEGIN_DECLS

/* The kinds (see above). */
#define PARC_MUTEX_NORMAL 0u
#define PARC_MUTEX_ERRORCHECK 1u

/* Kind flag: robust (see above); with or without PARC_PSHARED
 * (parc/park.h). */
#define PARC_MUTEX_ROBUST 0x200u

/* Bits of the word. */
#define PARC_MUTEX_LOCKED 1u
#define PARC_MUTEX_WAKING 2u
#define PARC_MUTEX_WAITER 4u /* one registered waiter */

/* How many parc_cpu_relax() pauses a thread spends spinning on a held
 * lock before it parks (PARC_SPIN_POLLS: about 25 us here, half a futex
 * wake-up), and the longest gap between two reads of the lock word while
 * it does (about 6 us). */
#define PARC_MUTEX_SPIN PARC_SPIN_POLLS
#define PARC_MUTEX_SPIN_GAP 256u

typedef struct parc_mutex {
    parc_atomic(uint32_t) word;     /* LOCKED | WAKING | waiters (above) */
    parc_park_word_t wake_seq;      /* waiters park here; bumped by each
                                     * wake-up */
    uint32_t kind;                  /* set by init, read-only after */
    parc_atomic(uintptr_t) owner;   /* ERRORCHECK: parc_thread_id() of the
                                     * holder, 0 when free; written only by
                                     * the holder */
} parc_mutex_t;

/* Static initialiser for a PARC_MUTEX_NORMAL mutex. */
#define PARC_MUTEX_INIT { 0u, 0u, PARC_MUTEX_NORMAL, 0u }

/**
 * A non-zero number identifying the calling thread, unique for the life of
 * the process: an id is never reused after its thread exits (a counter
 * drawn on the thread's first call; 2^64 ids, or 2^32 on a 32-bit
 * machine). Used for owner checks by parc's locks, so a thread that exits
 * holding an ERRORCHECK mutex or an rlock leaves it held by nobody alive:
 * a later thread gets EPERM from unlock and waits in lock (EAGAIN from
 * lock_try), never EDEADLK. Any thread; never blocks.
 */
PARC_API uintptr_t parc_thread_id(void);

/** Initialise `m` as a mutex of `kind` (PARC_MUTEX_NORMAL or
 * PARC_MUTEX_ERRORCHECK), unlocked. Not while other threads use `m`.
 * Returns 0, or EINVAL when m is NULL or kind is unknown. Never blocks. */
PARC_API int parc_mutex_init(parc_mutex_t *m, unsigned kind);

/** The holder of a robust mutex that it took with EOWNERDEAD marks the
 * state it protects consistent again; the next unlock then leaves the mutex
 * usable. Only the holder may call it. Returns 0; EINVAL when m is NULL,
 * not robust, not held by the caller, or not inconsistent. Never blocks. */
PARC_API int parc_mutex_consistent(parc_mutex_t *m);

/** Check that `m` is free and unused. Returns 0, EAGAIN when it is locked
 * or has waiters, EINVAL when m is NULL. After 0, `m` may be re-
 * initialised or its storage reused. Not while other threads use it; never
 * blocks. */
PARC_API int parc_mutex_destroy(parc_mutex_t *m);

/**
 * Lock `m`, blocking until it is available: spins briefly, then parks.
 * Any thread. Returns 0 when the calling thread holds the lock; EDEADLK
 * when an ERRORCHECK mutex is already held by the caller; EINVAL when m is
 * NULL.
 */
static inline int parc_mutex_lock(parc_mutex_t *m);

/**
 * Lock `m` if that needs no waiting. Any thread; never blocks. Returns 0
 * when the caller now holds the lock; EAGAIN when another thread holds it;
 * EDEADLK when an ERRORCHECK mutex is held by the caller; EINVAL when m is
 * NULL.
 */
static inline int parc_mutex_lock_try(parc_mutex_t *m);

/**
 * Lock `m`, waiting at most `timeout_ns` nanoseconds (relative; 0 means
 * one attempt; PARC_FOREVER none). Any thread; blocks. Returns 0 when the
 * caller holds the lock; ETIMEDOUT when the timeout passed first (never
 * before it); EDEADLK when an ERRORCHECK mutex is held by the caller;
 * EINVAL when m is NULL or timeout_ns is negative.
 */
static inline int parc_mutex_lock_timed(parc_mutex_t *m, int64_t timeout_ns);

/** As parc_mutex_lock_timed() with an absolute CLOCK_MONOTONIC deadline
 * (parc/time.h; PARC_FOREVER for none), for callers that wait on several
 * things under one deadline (condition variables). Same return codes, with
 * EINVAL only for a NULL m. Any thread; blocks until it holds the lock or
 * the deadline passes. */
static inline int parc_mutex_lock_until(parc_mutex_t *m,
                                        parc_deadline_t deadline);

/**
 * Unlock `m`, waking one parked waiter if there is one and none is already
 * on its way. Only the owner may call it; never blocks. Returns 0; EPERM
 * when `m` is not locked, or (ERRORCHECK) is not held by the caller;
 * EINVAL when m is NULL.
 */
static inline int parc_mutex_unlock(parc_mutex_t *m);

/** True when `m` is currently held by some thread (a snapshot, for
 * assertions and diagnostics). False for NULL. Any thread; never blocks. */
static inline bool parc_mutex_is_locked(parc_mutex_t *m);

PARC_END_DECLS

#include "parc/impl/mutex.h"

#endif /* PARC_MUTEX_H */
