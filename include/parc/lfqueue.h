/*
 * parc/lfqueue.h — unbounded lock-free MPMC queue of pointers (layer 2),
 * parc's queue.SimpleQueue / java.util.concurrent.ConcurrentLinkedQueue.
 *
 * Algorithm: a linked list of fixed arrays ("segments") indexed by
 * fetch-and-add, after Morrison and Afek's LCRQ ("Fast Concurrent Queues
 * for x86 Processors", PPoPP 2013) in the simplified form of Ramalhete and
 * Correia's FAAArrayQueue (2016). A producer claims a slot with one FAA on
 * the tail segment's enqueue index and fills it with a CAS; a consumer
 * claims one with an FAA on the head segment's dequeue index and takes the
 * item. A consumer that finds its slot still empty waits a few hundred
 * nanoseconds for the producer that claimed it, then poisons the slot so a
 * preempted producer cannot block it; that producer retries further on.
 * When a segment is full the next producer appends a fresh one.
 *
 * Why not Michael and Scott's list (PODC 1996): it needs one node (an
 * allocation) per item and two CAS loops on the contended head and tail;
 * here a contended operation is one FAA that never retries, and one
 * allocation serves PARC_LFQUEUE_SEGMENT_SLOTS items.
 *
 * Reclamation: a consumer that moves the head past a drained segment
 * retires it; it is freed once no thread's hazard pointer names it
 * (Michael, "Hazard Pointers", IEEE TPDS 2004). Each thread has two hazard
 * pointers (one for the tail side, one for the head side) that stay on the
 * segment it last used: an operation that finds the tail (head) still on
 * that segment pays no store and no fence, so the fence that publishing a
 * hazard pointer needs is paid once per segment, not per item (an epoch
 * scheme such as ck_epoch pays one per operation). A thread's record is
 * registered lazily on its first operation (reused from exited threads
 * when one is free) and released when the thread exits, freeing what it
 * retired or handing what others still name to the next thread that
 * scans. Threads need do nothing; nothing leaks when they exit. A
 * thread's first call allocates its record (one cache line or two, once
 * per thread ever alive at the same time), so any call but destroy may
 * return ENOMEM.
 *
 * Not measured on the 2-core development VM: a scan reads every thread's
 * two pointers once per drained segment (PARC_LFQUEUE_SEGMENT_SLOTS
 * items); with hundreds of threads that is still a few ns per item.
 *
 * Ordering guarantee: global FIFO (linearizable).
 * Memory: grows by one segment (~8 KiB) per PARC_LFQUEUE_SEGMENT_SLOTS
 * items queued and gives segments back as the queue drains: a drained
 * segment is freed at once unless a thread's hazard pointer still names it
 * (each thread keeps at most two so named until its next operation on any
 * queue, its parc_lfqueue_quiesce or its exit), else at the next segment
 * drained. An empty queue holds one segment.
 * Items: any non-NULL pointer (NULL marks an empty slot). The queue never
 * dereferences or frees items.
 *
 * Synchronization table (liburcu style): which calls may run concurrently
 * on one queue.
 *
 *                 push   pop*   close   destroy
 *   push           yes    yes    yes      no
 *   pop*           yes    yes    yes      no
 *   close          yes    yes    yes      no
 *   destroy        no     no     no       no
 *
 * pop* is pop, pop_try and pop_timed. init and destroy need exclusive
 * access. No call needs a lock or mutual exclusion among producers or
 * consumers; push and pop_try are lock-free, pop blocks only while empty.
 */
#ifndef PARC_LFQUEUE_H
#define PARC_LFQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "parc/api.h"
#include "parc/atomic.h"
#include "parc/eventcount.h"
#include "parc/status.h"
#include "parc/time.h"

PARC_BEGIN_DECLS

/* Slots per segment: 1024 pointers, 8 KiB. Large enough that allocation and
 * retirement are rare, small enough that an idle queue is cheap. */
#define PARC_LFQUEUE_SEGMENT_SLOTS 1024

struct parc_lfqueue_segment; /* private to src/lfqueue.c */

typedef struct parc_lfqueue {
    /* Consumers write the head, producers the tail: separate lines so
     * that they do not false-share. */
    PARC_CACHE_ALIGNED parc_atomic(struct parc_lfqueue_segment *) head;
    PARC_CACHE_ALIGNED parc_atomic(struct parc_lfqueue_segment *) tail;
    /* Read-mostly: set once by close. */
    PARC_CACHE_ALIGNED parc_atomic(int) closed;
    parc_eventcount_t nonempty; /* consumers park here when the queue is empty */
} parc_lfqueue_t;

/** Initialise an empty, open queue (allocates its first segment). Returns
 * 0, EINVAL when q is NULL, ENOMEM. Needs exclusive access. Never blocks. */
PARC_API int parc_lfqueue_init(parc_lfqueue_t *q);

/** Free the queue's segments. Items still queued are not freed (the queue
 * does not own them): drain first if they need freeing. Segments that
 * other threads retired earlier are freed by those threads' next operation
 * or exit. No other call may run on q concurrently or afterwards. Returns
 * 0 or EINVAL when q is NULL. Never blocks. */
PARC_API int parc_lfqueue_destroy(parc_lfqueue_t *q);

/** Append `item`. Any thread; lock-free, never blocks; allocates only when
 * it opens a new segment (once per PARC_LFQUEUE_SEGMENT_SLOTS items).
 * Wakes one consumer blocked in pop, if any.
 * Ordering: the item is published by seq_cst read-modify-writes, so a
 * consumer that runs a seq_cst fence after this push in the single order
 * S and then pops finds the item (or finds it taken); a caller may build
 * its own fence-free wake-up on that, as the pool does.
 * Returns 0; EPIPE when the queue is closed (the item was not queued and
 * stays the caller's); EINVAL when q or item is NULL; ENOMEM when a new
 * segment could not be allocated. */
PARC_API int parc_lfqueue_push(parc_lfqueue_t *q, void *item);

/** Take the oldest item into *item without blocking. Any thread; lock-free.
 * Returns 0; EAGAIN when empty; EPIPE when closed and drained; EINVAL when
 * q or item is NULL; ENOMEM (first call of a thread only, see above). */
PARC_API int parc_lfqueue_pop_try(parc_lfqueue_t *q, void **item);

/** Take the oldest item, blocking while the queue is empty (spins briefly,
 * then parks on an eventcount). Any thread. Returns 0; EPIPE once the
 * queue is closed and drained; EINVAL when q or item is NULL; ENOMEM. */
PARC_API int parc_lfqueue_pop(parc_lfqueue_t *q, void **item);

/** As parc_lfqueue_pop, giving up after timeout_ns (relative; 0 polls
 * once). Returns 0, EPIPE, ETIMEDOUT, EINVAL (NULL, negative timeout) or
 * ENOMEM. Any thread; blocks (spins briefly, then parks) until an item,
 * close or the deadline. */
PARC_API int parc_lfqueue_pop_timed(parc_lfqueue_t *q, void **item,
                                    int64_t timeout_ns);

/** Close the queue: later pushes fail with EPIPE; pops drain what was
 * pushed before and then fail with EPIPE; every blocked pop wakes. Pushes
 * racing with close either complete before it (their item is delivered) or
 * fail with EPIPE; none is lost. Idempotent. Any thread; never blocks.
 * Returns 0, EINVAL when q is NULL, or ENOMEM. */
PARC_API int parc_lfqueue_close(parc_lfqueue_t *q);

/** True once parc_lfqueue_close has been called (the queue may still hold
 * items). Any thread. Never blocks. */
PARC_API bool parc_lfqueue_is_closed(parc_lfqueue_t *q);

/** Drop the calling thread's hazard pointers and free every retired
 * segment (its own and those of exited threads) that no other thread's
 * hazard pointer names; those stay until that thread's next operation or
 * exit, and are freed by a later scan. Optional: a thread's exit does the
 * same. Useful before a thread idles for a long time (its pointers would
 * keep up to two drained segments), and in leak checks. Any thread,
 * outside queue calls; never blocks. */
PARC_API void parc_lfqueue_quiesce(void);

PARC_END_DECLS

#endif /* PARC_LFQUEUE_H */
