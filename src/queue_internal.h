/*
 * src/queue_internal.h — what the two halves of parc_queue share
 * (private): the locks, the storage views, and the waiting protocol that
 * src/queue_wait.c implements (its description is at the top of that
 * file). src/queue.c holds the storage and put/get/shutdown; queue_wait.c
 * the waiting protocol and the task_done/join counting that uses it.
 */
#ifndef PARC_SRC_QUEUE_INTERNAL_H
#define PARC_SRC_QUEUE_INTERNAL_H

#include <stdlib.h>

#include "parc/queue.h"

/* The locks (see "Which mutex" in queue.h). A lock or unlock of a valid,
 * initialised mutex by its owner cannot fail. */
static inline void lock(parc_mutex_t *m) { (void)parc_mutex_lock(m); }
static inline void unlock(parc_mutex_t *m) { (void)parc_mutex_unlock(m); }
static inline bool trylock(parc_mutex_t *m) { return parc_mutex_lock_try(m) == 0; }

struct parc_queue_entry {
    void *item;
    uint64_t seq; /* insertion order: ties in the heap go to the older */
};
typedef struct parc_queue_entry entry_t;

#define MIN_CAP 64u

static inline bool is_fifo(const parc_queue_t *q) { return q->order == PARC_QUEUE_FIFO; }

/* The storage: FIFO and LIFO keep bare item pointers (8 to a cache line,
 * so a consumer behind its producer fetches a line per 8 items); only the
 * priority heap needs the insertion counter beside each item. */
static inline bool is_heap(const parc_queue_t *q) { return q->order == PARC_QUEUE_PRIORITY; }
static inline void **ring(parc_queue_t *q) { return q->slots; }
static inline entry_t *heap(parc_queue_t *q) { return q->slots; }

/* The lock producers take: the put lock for FIFO, else the take lock. */
static inline parc_mutex_t *put_lock(parc_queue_t *q)
{
    return is_fifo(q) ? &q->put_lock : &q->lock;
}

/* Items in the queue: a snapshot when called without the locks. */
static inline size_t count_now(parc_queue_t *q)
{
    /* acquire (both): pair with the release stores of tail and head; the
     * head is loaded first so that the difference never underflows (head
     * never passes a tail read after it). */
    size_t h = parc_load(&q->head, PARC_ACQUIRE);
    size_t t = parc_load(&q->tail, PARC_ACQUIRE);
    return t - h;
}

/* ---- waiting (src/queue_wait.c) ------------------------------------------ */

typedef bool parc_queue_ready_fn(parc_queue_t *q);

/* Wait until ready(q) holds or the deadline passes: a bounded spin, then
 * park on w, registering under `guard` (the protocol in queue_wait.c).
 * Returns 0 or ETIMEDOUT. */
int parc_queue_await_(parc_queue_t *q, parc_queue_waiters_t *w, parc_mutex_t *guard,
                      parc_queue_ready_fn *ready, parc_deadline_t deadline);

/* Guard held (see await): claim a wake-up for one parked thread that no
 * wake-up sent earlier covers. True: call parc_queue_wake_(w, false) after unlocking. */
static inline bool claim_one(parc_queue_waiters_t *w)
{
    if (w->count <= w->signalled)
        return false;
    w->signalled++;
    return true;
}

/* Guard held: claim wake-ups for every parked thread. True: call
 * parc_queue_wake_(w, true) after unlocking. */
static inline bool claim_all(parc_queue_waiters_t *w)
{
    w->signalled = w->count;
    return w->count != 0;
}

void parc_queue_wake_(parc_queue_waiters_t *w, bool all);

/* Getters register under the lock producers take (see put_lock()). */
static inline parc_queue_waiters_t *getters(parc_queue_t *q)
{
    return is_fifo(q) ? &q->getters_fifo : &q->getters_locked;
}

/* Take lock held: count up to n more tasks finished (queue_wait.c). True
 * when none is left and joins are parked: wake them after unlocking. */
bool parc_queue_tasks_finish_locked_(parc_queue_t *q, uint64_t n);

#endif /* PARC_SRC_QUEUE_INTERNAL_H */
