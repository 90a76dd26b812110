/*
 * bench/peer_tbb_queue.h — oneTBB's concurrent_queue and
 * concurrent_bounded_queue of pointers (libtbb-dev), and Maxim
 * Egorushkin's atomic_queue (libatomic-queue-dev, header-only),
 * behind C interfaces for bench/bench_queue.c and bench/bench_lfqueue.c.
 * Compiled with the other bench C++ files (only when CMake found a C++
 * compiler); the oneTBB part only when PARC_BENCH_HAVE_TBB, the
 * atomic_queue part only when its header is found (__has_include):
 * PARC_BENCH_HAVE_ATOMIC_QUEUE below says so to the C side.
 *
 * The peers' promises, for the reader of a ratio:
 *   tbb::concurrent_queue          unbounded MPMC, FIFO, lock-free-ish
 *                                  (micro-queues with spinning), no
 *                                  blocking pop; try_pop only.
 *   tbb::concurrent_bounded_queue  the same with blocking push (while
 *                                  full) and pop (while empty): spins
 *                                  briefly, then sleeps. Unbounded here
 *                                  (its default capacity).
 *   atomic_queue::AtomicQueueB     bounded MPMC ring of atomic elements
 *                                  (a power-of-two capacity chosen at run
 *                                  time), FIFO, try_push/try_pop; NULL is
 *                                  its empty marker (items are non-NULL).
 * Items are void * everywhere.
 */
#ifndef PARC_BENCH_PEER_TBB_QUEUE_H
#define PARC_BENCH_PEER_TBB_QUEUE_H

#include <stddef.h>

#if defined(PARC_BENCH_HAVE_MOODYCAMEL) && defined(__has_include)
#if __has_include(<atomic_queue/atomic_queue.h>)
#define PARC_BENCH_HAVE_ATOMIC_QUEUE 1
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

#ifdef PARC_BENCH_HAVE_TBB
typedef struct bench_tbbq bench_tbbq_t;   /* tbb::concurrent_queue<void *> */
typedef struct bench_tbbbq bench_tbbbq_t; /* tbb::concurrent_bounded_queue<void *> */

bench_tbbq_t *bench_tbbq_create(void);               /* NULL: no memory */
void bench_tbbq_destroy(bench_tbbq_t *q);
int bench_tbbq_push(bench_tbbq_t *q, void *item);    /* 0 or ENOMEM */
int bench_tbbq_try_pop(bench_tbbq_t *q, void **item); /* 0 or EAGAIN */

bench_tbbbq_t *bench_tbbbq_create(void);             /* unbounded */
void bench_tbbbq_destroy(bench_tbbbq_t *q);
int bench_tbbbq_push(bench_tbbbq_t *q, void *item);  /* 0 or ENOMEM */
void *bench_tbbbq_pop(bench_tbbbq_t *q);             /* blocks while empty */
int bench_tbbbq_try_pop(bench_tbbbq_t *q, void **item); /* 0 or EAGAIN */
#endif

#ifdef PARC_BENCH_HAVE_ATOMIC_QUEUE
typedef struct bench_aq bench_aq_t; /* atomic_queue::AtomicQueueB<void *> */
bench_aq_t *bench_aq_create(unsigned capacity);      /* NULL: no memory */
void bench_aq_destroy(bench_aq_t *q);
int bench_aq_try_push(bench_aq_t *q, void *item);    /* 0 or EAGAIN (full) */
int bench_aq_try_pop(bench_aq_t *q, void **item);    /* 0 or EAGAIN (empty) */
#endif

#ifdef __cplusplus
}
#endif

#endif /* PARC_BENCH_PEER_TBB_QUEUE_H */
