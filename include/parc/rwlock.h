/*
 * parc/rwlock.h — a writer-preferring readers-writer lock (layer 2).
 *
 * Java's ReentrantReadWriteLock without re-entry, pthread_rwlock_t with
 * writer preference: many readers, or one writer; a writer that is waiting
 * stops new readers from entering, so a steady stream of readers cannot
 * starve it.
 *
 * The reader side follows the Go standard library's sync.RWMutex:
 * a reader enters with a single fetch-and-add on the lock word, the one
 * atomic read-modify-write of its fast path, and leaves with a
 * fetch-and-sub; a reader that finds the writer bit set undoes its
 * increment (acting as a departing reader, so a draining writer is not
 * held up) and waits for the bit to clear. The writer side is the futex
 * mutex of parc/mutex.h folded into the same word: a writer takes the
 * WRITER bit with one compare-and-swap (which also stops new readers),
 * then waits for the readers inside to drain; its unlock is one
 * fetch-and-sub, plus wake-ups only when someone parked.
 *
 * The word:
 *
 *   bit 31      WRITER  a writer holds the lock or is draining readers;
 *                       new readers and writers wait
 *   bit 30      PARKED  readers may be parked on `reader_seq`
 *   bit 29      WWAIT   writers may be parked on `writer_gate`
 *   bit 28      WPARK   the draining writer may be parked on `writer_seq`
 *   bit 27      BIAS    always set, except for a moment after a wrong
 *                       rdunlock: the borrow of an unlock below zero lands
 *                       here, so the misuse is detected (EPERM) and undone
 *                       without touching the other bits
 *   bits 0-26   readers readers inside, plus readers about to undo a
 *                       failed entry; bit 26 guards the count (at most
 *                       2^26 readers hold the lock at once: EOVERFLOW)
 *
 * Parking: each kind of waiter parks on its own word (readers on
 * reader_seq, writers waiting for a writer on writer_gate, a writer
 * waiting for readers on writer_seq), bumped before each wake-up, so the
 * kernel's value check never races with the busy lock word. A waiter
 * announces itself with its bit only right before parking.
 *
 * Spinning: one waiter at a time. A wait spins briefly (PARC_MUTEX_SPIN
 * polls) before it parks only if it takes the lock's spin token
 * (`spinner`); the others park at once. One spinner is enough to take
 * over the moment the lock frees, and the others keep off the CPUs: with
 * more threads than cores a second spinner burns the core that a reader
 * inside, or the writer, needs to finish (the thread it waits for is often
 * on its own core, preempted), and each spinning read takes the lock's
 * line from the threads at work. This is the restriction of the Linux
 * kernel's mutex (only the head of its spinner queue spins on the lock)
 * and, in spirit, Dice's Malthusian locks (EuroSys 2017): threads beyond
 * those needed to keep the lock busy are parked, not circulating. With a
 * core per thread and one waiter, nothing changes.
 *
 * Preference and fairness: readers wait while a writer holds the lock or
 * drains readers; writers compete for the WRITER bit as threads compete
 * for a mutex (barging, not FIFO). When a writer leaves, readers that
 * arrived meanwhile get in along with the next writer's attempt. A
 * continuous stream of writers can starve readers; a stream of readers
 * cannot starve a writer.
 *
 * Scaling (not measurable on the 2-core development machine): every read
 * lock and unlock is an RMW on the one lock word, so on many cores readers
 * serialise on its cache line even when no writer comes. A distributed
 * reader indicator (BRAVO, Dice and Kogan, USENIX ATC 2019: readers
 * publish themselves in a table slot while the lock is biased towards
 * them, a writer revokes the bias and scans the table) removes that for
 * loads with rare writers, at the price of a scan per revocation; with
 * 10% writes the bias would stay revoked, so it is not done here.
 *
 * Memory ordering: entering (read or write) is acquire, leaving is
 * release; a writer's critical section happens-before every later reader
 * and writer, and every reader's happens-before the next writer.
 *
 * Misuse that is detected: rdunlock when no reader holds the lock and
 * wrunlock by a thread that is not the writer (EPERM); wrlock or rdlock by
 * the thread that holds the write lock (EDEADLK). Not detected (no
 * per-reader records): upgrading a read lock to a write lock deadlocks,
 * and rdunlock by a thread that holds no read lock while others do
 * releases one of theirs. Not recursive.
 *
 * Threads: any thread may take either side; a read lock is released by
 * the thread that took it, the write lock by the writer.
 */
#ifndef PARC_RWLOCK_H
#define PARC_RWLOCK_H

#include <stdint.h>

#include "parc/api.h"
#include "parc/atomic.h"
#include "parc/mutex.h"
#include "parc/park.h"
#include "parc/status.h"
#include "parc/time.h"

PARC_BEGIN_DECLS

#define PARC_RWLOCK_WRITER 0x80000000u
#define PARC_RWLOCK_PARKED 0x40000000u
#define PARC_RWLOCK_WWAIT 0x20000000u
#define PARC_RWLOCK_WPARK 0x10000000u
#define PARC_RWLOCK_BIAS 0x08000000u
#define PARC_RWLOCK_READERS 0x07ffffffu /* mask of the reader count */
#define PARC_RWLOCK_GUARD 0x04000000u   /* count overflow guard */

typedef struct parc_rwlock {
    parc_atomic(uint32_t) word;      /* the bits above */
    parc_park_word_t reader_seq;     /* readers park here */
    parc_park_word_t writer_gate;    /* writers waiting for a writer */
    parc_park_word_t writer_seq;     /* the writer waiting for readers */
    parc_atomic(uint32_t) spinner;   /* 1 while a waiter spins (the spin
                                      * token, above), else 0 */
    parc_atomic(uintptr_t) writer;   /* parc_thread_id() of the writer, or
                                      * 0; written only by the thread that
                                      * holds WRITER */
} parc_rwlock_t;

#define PARC_RWLOCK_INIT { PARC_RWLOCK_BIAS, 0u, 0u, 0u, 0u, 0u }

/** Initialise `l` unlocked (same as PARC_RWLOCK_INIT). Not while other
 * threads use it. Returns 0, or EINVAL for NULL. Never blocks. */
PARC_API int parc_rwlock_init(parc_rwlock_t *l);

/** Check that `l` is free: no reader, no writer. Returns 0, EAGAIN when
 * busy, EINVAL for NULL. Not while other threads use it; never blocks. */
PARC_API int parc_rwlock_destroy(parc_rwlock_t *l);

/**
 * Take a read lock: blocks while a writer holds the lock or waits for the
 * readers inside to leave (spins briefly, then parks). Any thread.
 * Returns 0; EDEADLK when the caller holds the write lock; EOVERFLOW when
 * 2^26 readers hold it already; EINVAL for NULL.
 */
static inline int parc_rwlock_rdlock(parc_rwlock_t *l);

/**
 * Take a read lock if no writer holds the lock or drains it. Any thread;
 * never blocks. Returns 0; EAGAIN when a writer holds or drains; EDEADLK
 * when that writer is the caller; EOVERFLOW; EINVAL for NULL.
 */
PARC_API int parc_rwlock_rdlock_try(parc_rwlock_t *l);

/**
 * Take a read lock, waiting at most `timeout_ns` (relative; 0: no wait;
 * PARC_FOREVER: none). Any thread; blocks. Returns 0; ETIMEDOUT when the
 * timeout passed first (never before it); EDEADLK; EOVERFLOW; EINVAL for
 * NULL or a negative timeout.
 */
static inline int parc_rwlock_rdlock_timed(parc_rwlock_t *l,
                                           int64_t timeout_ns);

/**
 * Release a read lock taken by the caller. Never blocks. Returns 0; EPERM
 * when no reader holds the lock; EINVAL for NULL. Only a thread that holds
 * a read lock.
 */
static inline int parc_rwlock_rdunlock(parc_rwlock_t *l);

/**
 * Take the write lock: waits for other writers, then stops new readers and
 * waits for those inside to leave (spins briefly, then parks). Any thread.
 * Returns 0; EDEADLK when the caller already holds it; EINVAL for NULL.
 */
static inline int parc_rwlock_wrlock(parc_rwlock_t *l);

/** Take the write lock if nobody holds the lock in either mode. Any
 * thread; never blocks. Returns 0; EAGAIN when busy; EDEADLK when the
 * caller holds it; EINVAL for NULL. */
static inline int parc_rwlock_wrlock_try(parc_rwlock_t *l);

/** Take the write lock, waiting at most `timeout_ns` (relative; 0: no
 * wait; PARC_FOREVER: none). Any thread; blocks. On a timeout the readers
 * held back meanwhile are let in again. Returns 0; ETIMEDOUT (never before
 * the timeout); EDEADLK; EINVAL for NULL or a negative timeout. */
static inline int parc_rwlock_wrlock_timed(parc_rwlock_t *l,
                                           int64_t timeout_ns);

/** Release the write lock: lets waiting readers in and the next writer
 * try. Only the writer; never blocks. Returns 0; EPERM when the caller
 * does not hold the write lock; EINVAL for NULL. */
PARC_API int parc_rwlock_wrunlock(parc_rwlock_t *l);

PARC_END_DECLS

#include "parc/impl/rwlock.h"

#endif /* PARC_RWLOCK_H */
