/*
 * parc/barrier.h — cyclic barrier of N parties (layer 2).
 *
 * Python's threading.Barrier and Java's CyclicBarrier: N parties call
 * wait(); each blocks until the N-th arrives, then all return and the
 * barrier is ready for the next generation. Each caller learns its arrival
 * index (0 .. N-1, as Python's wait() returns it); exactly one party per
 * generation gets N-1, the last to arrive (pthread's
 * PTHREAD_BARRIER_SERIAL_THREAD). Parties beyond N that arrive while a
 * generation is filling simply belong to the next one.
 *
 * Breaking, as in Python: abort() breaks the barrier; every party waiting
 * and every later wait() returns EPIPE (BrokenBarrierError) until reset().
 * reset() makes every party waiting now return EPIPE and returns the
 * barrier to a fresh generation as soon as they have left; a wait() that
 * arrives meanwhile waits for that (not EPIPE). A _timed wait whose
 * deadline passes breaks the barrier (Python's behaviour): the party that
 * timed out gets ETIMEDOUT, the others EPIPE. The _try form does not
 * arrive unless it completes the generation, so it never breaks anything.
 *
 * Design: one 64-bit word holds (generation:32, parties waiting:30,
 * mode:2) and changes only by compare-and-swap, so an arrival, a
 * completion, an abort and a timeout are each one atomic step. Waiters spin
 * briefly, then sleep on an eventcount (parc/eventcount.h, after Vyukov)
 * notified on every completion, break and reset. A waiter of generation g
 * stays counted until it leaves, so a broken generation cannot be replaced
 * (and g reused) before its waiters have seen it was broken: seeing the
 * generation number move on always means "completed".
 *
 * Memory order: when wait() returns 0, everything every party of that
 * generation wrote before its wait() is visible (arrivals are release CASes
 * forming one release sequence; the last party's acq_rel CAS acquires them
 * and releases them to the waiters' acquire loads of the new generation).
 *
 * Threads: any thread may wait, abort or reset, concurrently; _init and
 * _destroy only while no other thread uses the barrier.
 */
#ifndef PARC_BARRIER_H
#define PARC_BARRIER_H

#include <stdbool.h>
#include <stdint.h>

#include "parc/atomic.h"
#include "parc/eventcount.h"
#include "parc/status.h"
#include "parc/time.h"

/* The most parties a barrier can have (30 bits of its state word). */
#define PARC_BARRIER_MAX_PARTIES ((1u << 30) - 1u)

typedef struct parc_barrier {
    parc_atomic(uint64_t) state; /* generation:32 | waiting:30 | mode:2 */
    uint32_t parties;
    parc_ec_t ec;                /* where waiters sleep */
} parc_barrier_t;

/* Static initialiser for `parties` parties (1 .. PARC_BARRIER_MAX_PARTIES;
 * parc_barrier_init() checks that, the macro cannot). */
#define PARC_BARRIER_INIT(parties) { 0, (parties), PARC_EC_INIT }

/* Initialise a barrier for `parties` parties. Returns 0, or EINVAL when b
 * is NULL or parties is 0 or > PARC_BARRIER_MAX_PARTIES. */
PARC_API int parc_barrier_init(parc_barrier_t *b, unsigned parties);

/* Release resources (none today). No thread may be using the barrier.
 * Returns 0, or EINVAL when b is NULL. */
PARC_API int parc_barrier_destroy(parc_barrier_t *b);

/* Arrive and wait until all parties of this generation have arrived.
 * Blocks (spins briefly, then sleeps). On 0, *index (when index is not
 * NULL) holds the arrival index; parties-1 means the caller arrived last.
 * Returns 0; EPIPE when the barrier is or becomes broken (abort, reset, a
 * timeout of another party) before the generation completes; EINVAL when b
 * is NULL. */
PARC_API int parc_barrier_wait(parc_barrier_t *b, unsigned *index);

/* Complete the generation if the caller is its last party; otherwise do
 * nothing. Never blocks. Returns 0 (and *index = parties-1) when it
 * completed the generation; EAGAIN when more parties are missing or a reset
 * is in progress; EPIPE when broken; EINVAL when b is NULL. */
PARC_API int parc_barrier_wait_try(parc_barrier_t *b, unsigned *index);

/* As parc_barrier_wait(), for at most `timeout_ns` nanoseconds (relative;
 * PARC_FOREVER = no limit). When the deadline passes first (never before
 * it), the caller leaves, the barrier breaks (others get EPIPE) and the
 * caller gets ETIMEDOUT; also ETIMEDOUT when the deadline passes while the
 * caller waits for a reset to finish (nothing breaks then). Returns 0,
 * ETIMEDOUT, EPIPE, or EINVAL when b is NULL or timeout_ns < 0. */
PARC_API int parc_barrier_wait_timed(parc_barrier_t *b, unsigned *index, int64_t timeout_ns);

/* Break the barrier: every waiting party and every later wait() returns
 * EPIPE until parc_barrier_reset(). Never blocks. Returns 0, or EINVAL when
 * b is NULL. */
PARC_API int parc_barrier_abort(parc_barrier_t *b);

/* Return the barrier to a fresh generation. Parties waiting now return
 * EPIPE; the fresh generation starts once they have left (immediately when
 * none wait). Never blocks. Returns 0, or EINVAL when b is NULL. */
PARC_API int parc_barrier_reset(parc_barrier_t *b);

/* Whether the barrier is broken (by abort or a timeout; not during a
 * reset). false when b is NULL. Never blocks. */
PARC_API bool parc_barrier_broken(parc_barrier_t *b);

/* The number of parties required (0 when b is NULL). Never blocks. */
PARC_API unsigned parc_barrier_parties(parc_barrier_t *b);

/* The number of parties waiting in the current generation at the moment
 * of the call (0 when broken or resetting, or b is NULL). Never blocks. */
PARC_API unsigned parc_barrier_waiting(parc_barrier_t *b);

#endif /* PARC_BARRIER_H */
