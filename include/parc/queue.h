/*
 * parc/queue.h — blocking FIFO, LIFO or priority queue with task tracking
 * (layer 2): Python's queue.Queue, LifoQueue and PriorityQueue, Java's
 * ArrayBlockingQueue, LinkedBlockingQueue and PriorityBlockingQueue.
 *
 * Source: the semantics are those of CPython 3.13's Lib/queue.py (put/get
 * with block and timeout, qsize/empty/full, task_done/join, and
 * shutdown(immediate), CPython issue gh-96471) and of Java's BlockingQueue
 * (offer/poll with a timeout); the priority order is a binary heap
 * (Williams, "Algorithm 232: Heapsort", CACM 1964) made stable by an
 * insertion counter as tie-breaker, as Python's heapq documentation
 * recommends.
 *
 * Why locks, against DESIGN.md's rule that containers use layers 0-1
 * only: this queue is deliberately lock-based, as Python's and Java's are.
 * A priority heap and the LIFO/FIFO/bounded/task-count bookkeeping have no
 * practical lock-free form; short critical sections under a mutex are
 * simpler and, with spinning before parking on the conditions, fast. For
 * lock-free queues use parc/lfqueue.h (unbounded MPMC), parc/mpmc.h
 * (bounded) or parc/stack.h.
 *
 * Which mutex: parc's own (parc/mutex.h, Drepper's futex mutex with a
 * bounded adaptive spin): the critical sections are a few loads and
 * stores, so a thread that finds a lock held spins briefly instead of
 * sleeping in the kernel at once (pthread's), and the fast paths are
 * inline (no call into libc). An earlier TSan hang of the LIFO
 * queue.transfer stress with this mutex has not been seen with the
 * current mutex (the stress helpers' 60+ runs, and this queue's stress
 * cases in the default, tsan, asan and chaos builds).
 *
 * Locks: a FIFO queue has two, as in Michael and Scott's two-lock queue
 * (PODC 1996) and Java's LinkedBlockingQueue: producers serialise on the
 * put lock, consumers on the take lock, and a producer and a consumer never
 * wait for each other. Items sit in a chain of segments (arrays linked
 * in order): producers fill the last and link a new one when it is full,
 * consumers free each one as they leave it; the two sides share only the
 * two indices (tail written by producers, head by consumers) and a spare
 * segment, and a segment is never copied. LIFO and priority queues change
 * one end only, keep one array (grown and shrunk by copying) and use the
 * take lock for everything.
 *
 * Waiting: a blocked get, put or join first polls a lock-free snapshot of
 * the state for a bounded time (PARC_SPIN_POLLS pauses; after the first
 * microsecond it polls ever less often, since each poll pulls the cache
 * lines the other side is writing, and it yields the processor every
 * PARC_SPIN_YIELD_EVERY polls for a partner that shares its core), then
 * parks (parc/park.h) on a word of its own kind: getters, putters or
 * joiners. A waiter registers, with a re-check, under the lock that the
 * threads able to satisfy it hold anyway (getters under the put lock,
 * putters and joiners under the take lock), and those threads read the
 * waiter count under that lock: the lock orders the two, so no fence is
 * needed, and a put, get or task_done with nobody parked pays one load of
 * a line that its own side already owns, and no system call (a futex
 * wake-up costs ~45 us here; see await() in src/queue.c for why nothing
 * is lost). A put wakes one parked getter, a get one parked putter, unless
 * every parked one already has a wake-up on its way (so a producer that
 * runs on while the woken getter is scheduled makes no further system
 * calls); shutdown and the last task_done wake everyone.
 *
 * Shutdown (Python 3.13): after parc_queue_shutdown(q, false) puts fail
 * with EPIPE and gets drain what is left, then fail with EPIPE; with
 * immediate = true the items left are dropped at once, each counted as a
 * finished task (which may release join), and gets fail with EPIPE at
 * once. Either way every blocked put and get wakes. join returns once the
 * number of unfinished tasks reaches 0, exactly as in Python.
 *
 * Ordering guarantee: global FIFO (PARC_QUEUE_FIFO), global LIFO
 * (PARC_QUEUE_LIFO), or the comparator's order with FIFO among equal keys
 * (PARC_QUEUE_PRIORITY); linearizable (a put takes effect at its store of
 * the tail index, a get at its store of the head index, under their locks).
 * Memory: FIFO: segments of 64, 128, ... up to 1024 slots of 8 bytes,
 * one more each time the last fills, each freed as soon as consumers
 * leave it (one drained segment of 1024 is kept for reuse): about the
 * items held plus up to 16 KiB. LIFO and PRIORITY: one array, grown
 * (doubling, from 64 slots of 8 bytes, 16 for PRIORITY) to the most items
 * held at once and given back (halved) when it falls to an eighth full.
 * Either way bounded by maxsize when maxsize > 0, and nothing is
 * allocated before the first put.
 * Items: any pointer, NULL included; the queue never dereferences them.
 *
 * Synchronization table (liburcu style):
 *
 *                     put*  get*  qsize/empty/full  task_done  join*  shutdown  destroy
 *   put*               yes   yes        yes            yes      yes     yes       no
 *   get*               yes   yes        yes            yes      yes     yes       no
 *   qsize/empty/full   yes   yes        yes            yes      yes     yes       no
 *   task_done          yes   yes        yes            yes      yes     yes       no
 *   join*              yes   yes        yes            yes      yes     yes       no
 *   shutdown           yes   yes        yes            yes      yes     yes       no
 *   destroy            no    no         no             no       no      no        no
 *
 * x* means x, x_try and x_timed. All may be called from any thread.
 */
#ifndef PARC_QUEUE_H
#define PARC_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parc/api.h"
#include "parc/atomic.h"

#include "parc/mutex.h"
#include "parc/park.h"
#include "parc/status.h"
#include "parc/time.h"

PARC_BEGIN_DECLS

typedef enum parc_queue_order {
    PARC_QUEUE_FIFO = 0,     /* queue.Queue */
    PARC_QUEUE_LIFO = 1,     /* queue.LifoQueue */
    PARC_QUEUE_PRIORITY = 2  /* queue.PriorityQueue */
} parc_queue_order_t;

/* Priority comparator: negative when a must come out before b, 0 when
 * they are equal (then the earlier put comes out first), positive
 * otherwise. Called with the queue's lock held: it must not call into the
 * queue, and should be quick. */
typedef int parc_queue_cmp_t(const void *a, const void *b, void *arg);

struct parc_queue_entry;   /* private to src/queue.c */
struct parc_queue_segment; /* private to src/queue.c */

/* Threads parked until a condition of the queue changes: how many are
 * registered, how many wake-ups were sent to them and not yet absorbed,
 * and the word they park on. Waiters register, and the threads that make
 * the condition true look at the counts, under the same lock (see
 * "Waiting" above); private to src/queue.c. */
typedef struct parc_queue_waiters {
    uint32_t count;        /* registered (under the lock) */
    uint32_t signalled;    /* wake-ups on their way (under the lock) */
    parc_park_word_t seq;  /* bumped by every wake-up */
} parc_queue_waiters_t;

/* Fields are grouped by who writes them, one group per cache line (the
 * struct is cache-line aligned: allocate it with aligned_alloc, or as a
 * static or automatic object), so that a producer and a consumer running
 * on two cores share only the lines a hand-off must move: the slot's and
 * the tail's from producer to consumer. Each lock has a line of its own
 * (with what is only read or written under it): a producer's lock CAS
 * then hits its own line even while the consumer keeps reading the tail. */
typedef struct parc_queue {
    /* Read by everyone, written only by a resize, shutdown or init. */
    void *slots;           /* LIFO: stack of items; PRIORITY: heap of
                            * struct parc_queue_entry; under the take lock.
                            * FIFO: unused (segments, below) */
    size_t cap;            /* slots allocated (0 or a power of two) */
    size_t maxsize;        /* 0: unbounded */
    parc_queue_order_t order;
    parc_queue_cmp_t *cmp;
    void *cmp_arg;
    parc_atomic(int) shutdown; /* 0 open, 1 shut down; under both locks */
    /* Producers' line: the put lock (FIFO producers), a head value read
     * earlier (FIFO) and the getters parked on an empty queue (FIFO: they
     * register under the put lock, which every put holds). */
    PARC_CACHE_ALIGNED parc_mutex_t put_lock;
    size_t head_seen;
    parc_queue_waiters_t getters_fifo;
    struct parc_queue_segment *tail_seg; /* FIFO: the segment producers
                                          * fill (under the put lock) */
    /* Written by producers, read by consumers: the next index to fill
     * (FIFO; for LIFO and PRIORITY the number of items), the number of
     * items ever put, and (FIFO) a copy of the newest item with its index
     * (a seqlock: index PARC_QUEUE_BUSY_ while it is rewritten), so that
     * a consumer that waited for it finds it in the line it just read the
     * tail from instead of fetching the slot's line too. */
    PARC_CACHE_ALIGNED parc_atomic(size_t) tail;
    parc_atomic(uint64_t) puts;
    parc_atomic(size_t) last_index;
    parc_atomic(void *) last_item;
    /* Consumers' line: the take lock (consumers, task_done, shutdown;
     * everything for LIFO and PRIORITY), a tail value read earlier (FIFO),
     * the heap's insertion counter (PRIORITY), and the threads parked
     * under it: putters on a full queue, joiners, and getters of LIFO and
     * PRIORITY queues. */
    PARC_CACHE_ALIGNED parc_mutex_t lock;
    parc_atomic(size_t) tail_seen; /* written under the take lock; read
                                    * without it only as a hint */
    uint64_t seq;
    parc_queue_waiters_t putters, joiners, getters_locked;
    struct parc_queue_segment *head_seg; /* FIFO: the segment consumers
                                          * take from (take lock) */
    /* Written by consumers, read by producers now and then: the next index
     * to take (FIFO; 0 otherwise) and the number of tasks finished
     * (task_done calls plus items dropped by shutdown). */
    PARC_CACHE_ALIGNED parc_atomic(size_t) head;
    parc_atomic(uint64_t) done;
    /* FIFO: a drained segment kept for the next one producers need
     * (exchanged by both sides once per segment). */
    parc_atomic(struct parc_queue_segment *) spare;
} parc_queue_t;

/* An open, unbounded FIFO queue (same as parc_queue_init(q, 0, FIFO, NULL,
 * NULL)); allocates on first put. */
#define PARC_QUEUE_INIT                                                     \
    { NULL, 0, 0, PARC_QUEUE_FIFO, NULL, NULL, 0,                           \
      PARC_MUTEX_INIT, 0, PARC_QUEUE_WAITERS_INIT_, NULL,                   \
      0, 0, PARC_QUEUE_BUSY_, NULL,                                         \
      PARC_MUTEX_INIT, 0, 0, PARC_QUEUE_WAITERS_INIT_,                      \
      PARC_QUEUE_WAITERS_INIT_, PARC_QUEUE_WAITERS_INIT_, NULL,             \
      0, 0, NULL }

/** Initialise an empty, open queue holding at most `maxsize` items (0:
 * unbounded). `cmp` (with `cmp_arg`) orders a PARC_QUEUE_PRIORITY queue and
 * is ignored otherwise. Allocates nothing until the first put. Returns 0;
 * EINVAL when q is NULL, maxsize < 0, maxsize >= 2^62 (SIZE_MAX / 4 on a
 * 64-bit machine: the ring's index arithmetic needs the headroom), order
 * is unknown, or cmp is NULL for PARC_QUEUE_PRIORITY. Needs exclusive
 * access; never blocks. */
PARC_API int parc_queue_init(parc_queue_t *q, int64_t maxsize,
                             parc_queue_order_t order, parc_queue_cmp_t *cmp,
                             void *cmp_arg);

/** Initialise a FIFO queue (queue.Queue(maxsize)): the same as
 * parc_queue_init(q, maxsize, PARC_QUEUE_FIFO, NULL, NULL), with the same
 * return codes. Needs exclusive access; never blocks. */
PARC_API int parc_queue_init_fifo(parc_queue_t *q, int64_t maxsize);

/** Allocate a queue (cache-line aligned, as the struct requires) and
 * initialise it as parc_queue_init() does. Returns 0 with *out set;
 * EINVAL when out is NULL or for parc_queue_init's reasons (*out is then
 * NULL); ENOMEM. Any thread; never blocks. Free with parc_queue_free(). */
PARC_API int parc_queue_create(parc_queue_t **out, int64_t maxsize,
                               parc_queue_order_t order, parc_queue_cmp_t *cmp,
                               void *cmp_arg);

/** Destroy (parc_queue_destroy) and free a queue made by
 * parc_queue_create(); NULL is ignored. Items still inside are not freed.
 * No other call may run on q concurrently or afterwards. Never blocks. */
PARC_API void parc_queue_free(parc_queue_t *q);

/** Free the queue's storage. Items still inside are not freed. No other
 * call may run on q concurrently or afterwards. Returns 0 or EINVAL. Never
 * blocks. */
PARC_API int parc_queue_destroy(parc_queue_t *q);

/** Put `item`, blocking while the queue is full (bounded queues only).
 * Returns 0; EPIPE when the queue is shut down (also when shut down while
 * blocked; the item was not queued); EINVAL when q is NULL; ENOMEM when
 * storage could not grow. Any thread. */
PARC_API int parc_queue_put(parc_queue_t *q, void *item);
/** As parc_queue_put without blocking: EAGAIN when full. Returns 0, EPIPE,
 * EINVAL or ENOMEM as parc_queue_put. Any thread; never blocks. */
PARC_API int parc_queue_put_try(parc_queue_t *q, void *item);
/** As parc_queue_put, giving up after timeout_ns (relative): ETIMEDOUT;
 * EINVAL for a negative timeout. Returns 0, EPIPE, EINVAL or ENOMEM as
 * parc_queue_put otherwise. Any thread; blocks until there is room,
 * shutdown or the deadline (never returning ETIMEDOUT before it). */
PARC_API int parc_queue_put_timed(parc_queue_t *q, void *item,
                                  int64_t timeout_ns);

/** Take the next item (oldest, newest or first by priority) into *item,
 * blocking while the queue is empty. Returns 0; EPIPE when the queue is
 * shut down and empty; EINVAL when q or item is NULL. Any thread. */
PARC_API int parc_queue_get(parc_queue_t *q, void **item);
/** As parc_queue_get without blocking: EAGAIN when empty. Returns 0, EPIPE
 * or EINVAL as parc_queue_get otherwise. Any thread; never blocks. */
PARC_API int parc_queue_get_try(parc_queue_t *q, void **item);
/** As parc_queue_get, giving up after timeout_ns: ETIMEDOUT; EINVAL for a
 * negative timeout. Returns 0, EPIPE or EINVAL as parc_queue_get
 * otherwise. Any thread; blocks until an item, shutdown or the deadline
 * (never returning ETIMEDOUT before it). */
PARC_API int parc_queue_get_timed(parc_queue_t *q, void **item,
                                  int64_t timeout_ns);

/** Approximate number of items (exact when no call is in progress), as
 * Python's qsize(). 0 for NULL. Any thread; never blocks. */
PARC_API size_t parc_queue_qsize(parc_queue_t *q);
/** qsize() == 0. True for NULL. Any thread; never blocks. */
PARC_API bool parc_queue_empty(parc_queue_t *q);
/** maxsize > 0 && qsize() >= maxsize. False for NULL. Any thread; never
 * blocks. */
PARC_API bool parc_queue_full(parc_queue_t *q);

/** Mark one item obtained by get as processed. When every item ever put has
 * been marked, wakes every join. Returns 0; EINVAL when q is NULL or when
 * called more times than items were put (Python's ValueError). Any
 * thread; never blocks except on the queue's take lock. */
PARC_API int parc_queue_task_done(parc_queue_t *q);

/** Block until every item put has been marked by task_done (items dropped
 * by an immediate shutdown count as marked). Returns 0, or EINVAL when q
 * is NULL. Any thread. */
PARC_API int parc_queue_join(parc_queue_t *q);
/** As parc_queue_join without blocking: EAGAIN when tasks remain. Returns 0
 * when none remain, EINVAL when q is NULL. Any thread; never blocks. */
PARC_API int parc_queue_join_try(parc_queue_t *q);
/** As parc_queue_join, giving up after timeout_ns: ETIMEDOUT; EINVAL for a
 * negative timeout. Returns 0 or EINVAL as parc_queue_join otherwise. Any
 * thread; blocks until the tasks are done or the deadline (never returning
 * ETIMEDOUT before it). */
PARC_API int parc_queue_join_timed(parc_queue_t *q, int64_t timeout_ns);

/** Shut the queue down (see the top of this file). With immediate = false,
 * items stay until got; with true, they are dropped (not freed) and each
 * counted as a finished task. Idempotent; a later immediate shutdown still
 * drops. Wakes every blocked put, get and join. Any thread; never blocks
 * except on the queue's lock. Returns 0 or EINVAL when q is NULL. */
PARC_API int parc_queue_shutdown(parc_queue_t *q, bool immediate);

/** Immediate shutdown that hands each dropped item to drop(item, arg), in
 * queue order, after releasing the lock (so drop may free it). Returns 0;
 * EINVAL when q or drop is NULL. Any thread; never blocks (waits only for
 * the queue's lock; drop runs in the caller). */
PARC_API int parc_queue_shutdown_drop(parc_queue_t *q, void (*drop)(void *item,
                                      void *arg),
                                      void *arg);

/** True once the queue has been shut down. False for NULL. Any thread;
 * never blocks. */
PARC_API bool parc_queue_is_shutdown(parc_queue_t *q);

PARC_END_DECLS

#include "parc/impl/queue.h"

#endif /* PARC_QUEUE_H */
