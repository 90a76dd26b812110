/*
 * bench/peer_moodycamel.h — moodycamel's queues (Cameron Desrochers,
 * header-only C++: libconcurrentqueue-dev) behind a C interface, so that a
 * C benchmark file can add them as cases:
 *
 *     #ifdef PARC_BENCH_HAVE_MOODYCAMEL
 *     #include "peer_moodycamel.h"
 *     ... bench_mc_create(), bench_mc_enqueue(), bench_mc_try_dequeue() ...
 *     #endif
 *
 * PARC_BENCH_HAVE_MOODYCAMEL is defined (and peer_moodycamel.cpp compiled)
 * only when CMake found both a C++ compiler and the header.
 *
 * Items are pointers (moodycamel::ConcurrentQueue<void *>). Every call is
 * an out-of-line call into C++ (a few ns); the parc side of a comparison
 * inlines its fast path, so keep that in mind for per-item figures below
 * ~20 ns. moodycamel's promises, for the reader of a ratio: MPMC, lock-free,
 * FIFO per producer only (no order across producers), memory is never given
 * back until the queue is destroyed; tokens make a producer's or consumer's
 * operations cheaper (a sub-queue of its own).
 *
 * Threads: as moodycamel's: any thread may enqueue and dequeue; a token is
 * used by one thread at a time; create/destroy while no one else uses it.
 */
#ifndef PARC_BENCH_PEER_MOODYCAMEL_H
#define PARC_BENCH_PEER_MOODYCAMEL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bench_mc_queue bench_mc_queue_t; /* ConcurrentQueue<void *> */
typedef struct bench_mc_ptok bench_mc_ptok_t;   /* its ProducerToken */
typedef struct bench_mc_ctok bench_mc_ctok_t;   /* its ConsumerToken */

/* A queue with room for about `capacity` items before it allocates (it
 * grows without bound). NULL when out of memory. */
bench_mc_queue_t *bench_mc_create(size_t capacity);
void bench_mc_destroy(bench_mc_queue_t *q);

/* Enqueue: 0, or ENOMEM. Never blocks. */
int bench_mc_enqueue(bench_mc_queue_t *q, void *item);
/* Dequeue one item into *item: 0, or EAGAIN when it looked empty. */
int bench_mc_try_dequeue(bench_mc_queue_t *q, void **item);

/* Tokens: NULL when out of memory. */
bench_mc_ptok_t *bench_mc_ptok_create(bench_mc_queue_t *q);
void bench_mc_ptok_destroy(bench_mc_ptok_t *t);
bench_mc_ctok_t *bench_mc_ctok_create(bench_mc_queue_t *q);
void bench_mc_ctok_destroy(bench_mc_ctok_t *t);
int bench_mc_enqueue_tok(bench_mc_queue_t *q, bench_mc_ptok_t *t, void *item);
int bench_mc_try_dequeue_tok(bench_mc_queue_t *q, bench_mc_ctok_t *t, void **item);

/* BlockingConcurrentQueue<void *>: the same plus a dequeue that sleeps on
 * a semaphore (spinning briefly first) until an item arrives. */
typedef struct bench_mcb_queue bench_mcb_queue_t;
bench_mcb_queue_t *bench_mcb_create(size_t capacity);
void bench_mcb_destroy(bench_mcb_queue_t *q);
int bench_mcb_enqueue(bench_mcb_queue_t *q, void *item);            /* 0/ENOMEM */
int bench_mcb_try_dequeue(bench_mcb_queue_t *q, void **item);       /* 0/EAGAIN */
/* Wait at most timeout_ns (negative: forever): 0, or ETIMEDOUT. Blocks. */
int bench_mcb_wait_dequeue(bench_mcb_queue_t *q, void **item, long long timeout_ns);

#ifdef PARC_BENCH_HAVE_RWQ
/* ReaderWriterQueue<void *> (libreaderwriterqueue-dev): moodycamel's
 * bounded-use SPSC queue; one producer thread, one consumer thread. */
typedef struct bench_rwq_queue bench_rwq_queue_t;
/* Room for `capacity` items (it never allocates after this: pushes use
 * try_enqueue). NULL when out of memory. */
bench_rwq_queue_t *bench_rwq_create(size_t capacity);
void bench_rwq_destroy(bench_rwq_queue_t *q);
int bench_rwq_push(bench_rwq_queue_t *q, void *item);   /* 0/EAGAIN (full) */
int bench_rwq_pop(bench_rwq_queue_t *q, void **item);   /* 0/EAGAIN (empty) */
#endif

#ifdef __cplusplus
}
#endif

#endif /* PARC_BENCH_PEER_MOODYCAMEL_H */
