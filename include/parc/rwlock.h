/*
 * parc/rwlock.h — a writer-preferring readers-writer lock (layer 2).
 *
 * Java's ReentrantReadWriteLock without re-entry, pthread_rwlock_t with
 * writer preference: many readers, or one writer; a writer that is waiting
 * stops new readers from entering, so a steady stream of readers cannot
 * starve it.
 *
 * The design follows Go's sync.RWMutex (Russ Cox and Dmitry Vyukov, Go 1.0
 * to 1.18 runtime), built here on futex parking: writers are serialised by
 * an inner parc_mutex_t; the writer that holds it announces itself with one
 * bit in the lock word, then waits for the readers inside to drain. A
 * reader enters with a single fetch-and-add on the word, the one atomic
 * read-modify-write of its fast path (Go does the same), and leaves with a
 * fetch-and-sub. A reader that finds the writer bit set undoes its
 * increment (acting as a departing reader, so the writer is not held up)
 * and waits for the bit to clear.
 *
 * The word:
 *
 *   bit 31      WRITER   a writer holds the lock or is draining readers;
 *                        new readers wait
 *   bit 30      PARKED   some reader may be parked on reader_seq
 *   bits 0-29   readers  readers inside, plus readers about to undo a
 *                        failed entry; bit 29 guards the count (at most
 *                        2^29 readers hold the lock at once: EOVERFLOW)
 *
 * Parking: readers park on `reader_seq`, which a leaving writer bumps (and
 * wakes all) when PARKED was set; a draining writer parks on `writer_seq`,
 * which the last reader out bumps (and wakes). Separate words keep the
 * kernel's value check away from the busy lock word. Every wait spins
 * briefly (PARC_MUTEX_SPIN polls) before parking.
 *
 * Preference and fairness: readers wait while a writer is waiting or
 * writing; writers queue on the inner mutex (barging, not FIFO). Between
 * two writers, readers that arrived meanwhile get in. A continuous stream
 * of writers can starve readers; a stream of readers cannot starve a
 * writer.
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
 * corrupts the count. Not recursive.
 *
 * Threads: any thread may take either side; a read lock is released by
 * the thread that took it, the write lock by the writer.
 */
#ifndef PARC_RWLOCK_H
#define PARC_RWLOCK_H

#include <stdint.h>

#include "parc/atomic.h"
#include "parc/mutex.h"
#include "parc/park.h"
#include "parc/status.h"
#include "parc/time.h"

#define PARC_RWLOCK_WRITER 0x80000000u
#define PARC_RWLOCK_PARKED 0x40000000u
#define PARC_RWLOCK_READERS 0x3fffffffu /* mask of the reader count */
#define PARC_RWLOCK_GUARD 0x20000000u   /* count overflow guard */

typedef struct parc_rwlock {
    parc_atomic(uint32_t) word;      /* WRITER | PARKED | readers */
    parc_park_word_t reader_seq;     /* readers park here; bumped when a
                                      * writer leaves with PARKED set */
    parc_park_word_t writer_seq;     /* a draining writer parks here;
                                      * bumped by the last reader out */
    parc_atomic(uintptr_t) writer;   /* parc_thread_id() of the writer, or 0;
                                      * written only under `wmutex` */
    parc_mutex_t wmutex;             /* serialises writers */
} parc_rwlock_t;

#define PARC_RWLOCK_INIT { 0u, 0u, 0u, 0u, PARC_MUTEX_INIT }

/* Initialise `l` unlocked (same as PARC_RWLOCK_INIT). Not while other
 * threads use it. Returns 0, or EINVAL for NULL. */
int parc_rwlock_init(parc_rwlock_t *l);

/* Check that `l` is free: no reader, no writer, no waiting writer.
 * Returns 0, EAGAIN when busy, EINVAL for NULL. */
int parc_rwlock_destroy(parc_rwlock_t *l);

/* Slow paths, in src/rwlock.c. */
int parc_rwlock_rdlock_slow_(parc_rwlock_t *l, uint32_t seen, parc_deadline_t deadline);
int parc_rwlock_wrlock_until_(parc_rwlock_t *l, parc_deadline_t deadline, bool try_only);
void parc_rwlock_wake_writer_(parc_rwlock_t *l);

/* Leave as a reader: one fetch-and-sub; wake a draining writer when this
 * was the last reader. The caller has checked its right to. */
static inline void parc_rwlock_leave_(parc_rwlock_t *l)
{
    /* release: our reads of the protected data happen-before the writer's
     * writes; pairs with the writer's acquire that sees the count reach 0
     * (the fetch-or in wrlock, or the load in its drain loop). */
    uint32_t prev = parc_fas(&l->word, 1u, PARC_RELEASE);
    if ((prev & PARC_RWLOCK_WRITER) && (prev & PARC_RWLOCK_READERS) == 1u)
        parc_rwlock_wake_writer_(l);
}

/*
 * Take a read lock: blocks while a writer holds or waits for the lock
 * (spins briefly, then parks). Any thread. Returns 0; EDEADLK when the
 * caller holds the write lock; EOVERFLOW when 2^29 readers hold it
 * already; EINVAL for NULL.
 */
static inline int parc_rwlock_rdlock(parc_rwlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    /* acquire: the last writer's critical section happens-before ours;
     * pairs with the release fetch-and in parc_rwlock_wrunlock() (reader
     * increments in between continue its release sequence). */
    uint32_t prev = parc_faa(&l->word, 1u, PARC_ACQUIRE);
    if (!(prev & (PARC_RWLOCK_WRITER | PARC_RWLOCK_GUARD)))
        return 0;
    return parc_rwlock_rdlock_slow_(l, prev, PARC_FOREVER);
}

/*
 * Take a read lock if no writer holds or waits for the lock. Any thread;
 * never blocks. Returns 0; EAGAIN when a writer holds or waits; EDEADLK
 * when that writer is the caller; EOVERFLOW; EINVAL for NULL.
 */
int parc_rwlock_tryrdlock(parc_rwlock_t *l);

/*
 * Take a read lock, waiting at most `timeout_ns` (relative; 0: no wait;
 * PARC_FOREVER: none). Any thread; blocks. Returns 0; ETIMEDOUT when the
 * timeout passed first (never before it); EDEADLK; EOVERFLOW; EINVAL for
 * NULL or a negative timeout.
 */
static inline int parc_rwlock_timedrdlock(parc_rwlock_t *l, int64_t timeout_ns)
{
    if (l == NULL || timeout_ns < 0)
        return EINVAL;
    /* acquire: as in parc_rwlock_rdlock(). */
    uint32_t prev = parc_faa(&l->word, 1u, PARC_ACQUIRE);
    if (!(prev & (PARC_RWLOCK_WRITER | PARC_RWLOCK_GUARD)))
        return 0;
    parc_deadline_t deadline;
    (void)parc_deadline_in(&deadline, timeout_ns);
    return parc_rwlock_rdlock_slow_(l, prev, deadline);
}

/*
 * Release a read lock taken by the caller. Never blocks. Returns 0; EPERM
 * when no reader holds the lock; EINVAL for NULL.
 */
static inline int parc_rwlock_rdunlock(parc_rwlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    /* A holder's own increment keeps the count above 0 until it leaves. */
    if ((parc_load(&l->word, PARC_RELAXED) & PARC_RWLOCK_READERS) == 0u)
        return EPERM;
    parc_rwlock_leave_(l);
    return 0;
}

/*
 * Take the write lock: waits for other writers, then stops new readers and
 * waits for those inside to leave (spins briefly, then parks). Any thread.
 * Returns 0; EDEADLK when the caller already holds it; EINVAL for NULL.
 */
static inline int parc_rwlock_wrlock(parc_rwlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    return parc_rwlock_wrlock_until_(l, PARC_FOREVER, false);
}

/* Take the write lock if nobody holds the lock in either mode. Any
 * thread; never blocks. Returns 0; EAGAIN when busy; EDEADLK when the
 * caller holds it; EINVAL for NULL. */
static inline int parc_rwlock_trywrlock(parc_rwlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    return parc_rwlock_wrlock_until_(l, PARC_FOREVER, true);
}

/* Take the write lock, waiting at most `timeout_ns` (relative; 0: no
 * wait; PARC_FOREVER: none). Any thread; blocks. On a timeout the readers
 * held back meanwhile are let in again. Returns 0; ETIMEDOUT (never before
 * the timeout); EDEADLK; EINVAL for NULL or a negative timeout. */
static inline int parc_rwlock_timedwrlock(parc_rwlock_t *l, int64_t timeout_ns)
{
    if (l == NULL || timeout_ns < 0)
        return EINVAL;
    parc_deadline_t deadline;
    (void)parc_deadline_in(&deadline, timeout_ns);
    return parc_rwlock_wrlock_until_(l, deadline, false);
}

/* Release the write lock: lets waiting readers in and the next writer
 * try. Only the writer; never blocks. Returns 0; EPERM when the caller
 * does not hold the write lock; EINVAL for NULL. */
int parc_rwlock_wrunlock(parc_rwlock_t *l);

#endif /* PARC_RWLOCK_H */
