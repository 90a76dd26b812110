/*
 * parc/inject.h — a sharded injection queue (layer 2): the queue through
 * which threads outside a scheduler hand it work, the scheduler building
 * block that parc's pool uses for its outside submissions.
 *
 * Design: the external submission queues of Doug Lea's ForkJoinPool
 * (java.util.concurrent) and the batched take of Go's scheduler from its
 * global run queue (src/runtime/proc.go, globrunqget). The queue is split
 * into shards; a pushing thread always uses the same shard (threads are
 * dealt out round robin), so pushes by different threads rarely meet. A
 * shard is a growable ring guarded by one 64-bit word that holds its item
 * count, a CLOSED bit and a LOCKED bit:
 *
 *   push   1. CAS LOCKED into the word (acquire); fail with EPIPE once
 *             CLOSED is set. A shard held by another thread is skipped
 *             for the next one; only when every shard is held does the
 *             pusher wait (parc_spin_poll, yielding now and then).
 *          2. Store the entry at the ring's tail (doubling a full ring).
 *          3. One fetch-and-add that counts the entry and clears LOCKED at
 *             once (seq_cst: it publishes the entry, and it is the
 *             read-modify-write that a scheduler's fence-free wake-up can
 *             rely on, see "Ordering" below).
 *   take   CAS LOCKED in, copy up to `max` of the oldest entries out,
 *          store the new count with LOCKED clear (release). A consumer
 *          never waits long for a shard: one held by another thread for
 *          more than a few polls is skipped (its holder takes a few
 *          stores; when preempted, the next take comes back).
 *   close  CAS CLOSED into every shard (waiting out a holder): every later
 *          push fails with EPIPE, and a shard seen CLOSED and empty stays
 *          empty. What was pushed before stays takeable.
 *
 * Why a lock per shard and not a lock-free queue (parc/lfqueue.h): a push
 * costs two read-modify-writes on a line that usually stays with the
 * pushing thread, where the lfqueue needs an epoch section, a fetch-and-add
 * and a CAS on lines that consumers keep pulling away; a consumer touches
 * a shard once per batch, not once per entry. The lock is held for a few
 * stores (a ring doubling at most), never across a system call but malloc.
 *
 * Ordering guarantee: per shard FIFO; entries pushed by one thread are
 * taken in the order it pushed them, unless a held shard made it push to
 * another one (then its entries may be taken out of order across the two
 * shards). No order between threads. Every entry pushed with 0 is taken
 * exactly once (by take or drain) unless the queue is destroyed first.
 *
 * Ordering (memory): what a thread wrote before a push happens before what
 * the consumer that takes the entry does after its take. A push is a
 * seq_cst read-modify-write of its shard's word and parc_inject_size()
 * loads those words: a consumer that executes a seq_cst fence and then
 * sees the size 0 guarantees that a push it missed comes after the fence
 * in the single total order, so that pusher's next seq_cst loads see what
 * the consumer stored before its fence (the store-buffering pattern a
 * scheduler's "park, then look once more" needs).
 *
 * Memory: a shard's ring starts at PARC_INJECT_RING_MIN entries, doubles
 * when full and shrinks back when a take empties a ring grown beyond
 * PARC_INJECT_RING_KEEP.
 *
 * Synchronization table: which calls may run concurrently on one queue.
 *
 *                 push   take   drain   close   size   destroy
 *   push           yes    yes    yes     yes     yes     no
 *   take           yes    yes    yes     yes     yes     no
 *   drain          yes    yes    yes     yes     yes     no
 *   close          yes    yes    yes     yes     yes     no
 *   size           yes    yes    yes     yes     yes     no
 *   destroy        no     no     no      no      no      no
 *
 * init and destroy need exclusive access. Nothing blocks in the kernel;
 * push and drain may spin (yielding) while shards are held by others.
 *
 * Example: a scheduler's outside submission and its worker's take.
 *
 *     parc_inject_t q;
 *     parc_inject_init(&q, 4);
 *     parc_inject_push(&q, (parc_inject_fn)my_task, arg);     // any thread
 *
 *     parc_inject_entry_t batch[16];                          // a worker
 *     size_t n;
 *     if (parc_inject_take(&q, my_index, batch, 16, PARC_INJECT_HALF, &n) == 0)
 *         for (size_t i = 0; i < n; i++)
 *             ((void (*)(void *))batch[i].fn)(batch[i].arg);
 *
 *     parc_inject_close(&q);          // later pushes get EPIPE
 *     while (parc_inject_drain(&q, batch, 16, &n) == 0 && n > 0)
 *         ...;                        // what was pushed before close
 *     parc_inject_destroy(&q);
 */
#ifndef PARC_INJECT_H
#define PARC_INJECT_H

#include <stddef.h>
#include <stdint.h>

#include "parc/api.h"
#include "parc/atomic.h"
#include "parc/status.h"

/** The most shards a queue may have. */
#define PARC_INJECT_MAX_SHARDS 64u
/** Entries a shard's ring starts with and shrinks back to. */
#define PARC_INJECT_RING_MIN 256u
/** A ring grown beyond this many entries shrinks when a take empties it. */
#define PARC_INJECT_RING_KEEP 16384u

/** take's flag: take at most half of the shard's entries (rounded up), so
 * that other consumers find the rest. */
#define PARC_INJECT_HALF 1u

/** Any function pointer, cast to this type by the pusher and back to its
 * own type by the consumer (C allows the round trip). */
typedef void (*parc_inject_fn)(void);

/** What the queue carries: two words it never reads. A scheduler puts a
 * task's function and argument here (no allocation per task), or NULL
 * and a pointer to its own task record. */
typedef struct parc_inject_entry {
    parc_inject_fn fn;
    void *arg;
} parc_inject_entry_t;

struct parc_inject_shard; /* private to src/inject.c */

/** A sharded injection queue. Caller storage; parc_inject_init makes the
 * shards (each on cache lines of its own). */
typedef struct parc_inject {
    struct parc_inject_shard *shards;
    unsigned nshards;
} parc_inject_t;

PARC_BEGIN_DECLS

/** Initialise q with `shards` shards (1 to PARC_INJECT_MAX_SHARDS; about
 * the number of consumers, or of pushing threads when fewer, is a good
 * choice). One thread, before any other call on q.
 * @return 0; EINVAL (q NULL, shards out of range); ENOMEM. */
PARC_API int parc_inject_init(parc_inject_t *q, unsigned shards);

/** Free q's memory. Entries still queued are dropped unread: drain first
 * when they own resources. No other call on q may run meanwhile.
 * @return 0; EINVAL (q NULL). */
PARC_API int parc_inject_destroy(parc_inject_t *q);

/** Queue the entry (fn, arg), from any thread, to the calling thread's
 * shard, or to the next one not held by another thread. Never blocks in
 * the kernel; spins (yielding) only while every shard is held.
 * @return 0; EPIPE (closed: the entry is not queued); ENOMEM (a full ring
 * could not grow); EINVAL (q NULL, or destroyed). */
PARC_API int parc_inject_push(parc_inject_t *q, parc_inject_fn fn, void *arg);

/** Take up to `max` of the oldest entries of one shard into out[0..),
 * oldest first: the first shard with entries, looking from shard
 * `start % shards` on. With PARC_INJECT_HALF in flags it takes at most
 * half of that shard's entries (rounded up). Any thread; never blocks:
 * a shard held by another thread is polled briefly, then skipped.
 * @return 0 with *taken >= 1; EAGAIN (nothing taken: empty, or the shards
 * with entries were held); EPIPE (closed, and every shard was seen empty);
 * EINVAL (q, out or taken NULL, max 0, unknown flags). */
PARC_API int parc_inject_take(parc_inject_t *q, unsigned start,
                              parc_inject_entry_t *out, size_t max,
                              unsigned flags, size_t *taken);

/** Take up to `max` entries like take, but wait out a shard's holder
 * instead of skipping it: *taken == 0 means every shard was seen empty
 * (after close, nothing can come any more). For shutting a scheduler
 * down: close, then drain until *taken is 0. Any thread; spins (yielding)
 * while a shard with entries is held.
 * @return 0; EINVAL (q, out or taken NULL, max 0). */
PARC_API int parc_inject_drain(parc_inject_t *q, parc_inject_entry_t *out,
                               size_t max, size_t *taken);

/** Refuse every later push (EPIPE); entries already queued stay takeable.
 * Any thread; idempotent; waits out a shard's holder (a few stores).
 * @return 0; EINVAL (q NULL). */
PARC_API int parc_inject_close(parc_inject_t *q);

/** Entries queued, a snapshot summed over the shards (each read once,
 * seq_cst: see "Ordering (memory)" above). 0 for q NULL. Any thread. */
PARC_API size_t parc_inject_size(const parc_inject_t *q);

PARC_END_DECLS

#endif /* PARC_INJECT_H */
