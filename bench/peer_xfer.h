/*
 * bench/peer_xfer.h — C interfaces to the C++ peers of the transfer
 * harness (bench/xfer.h) that peer_moodycamel.h does not cover: the
 * blocking forms of moodycamel's queues with tokens (so that the block
 * points compare each queue's own blocking pop), and atomic_queue (Maxim
 * Egorushkin's bounded rings, libatomic-queue-dev, header-only C++).
 *
 * Compiled (bench/peer_xfer.cpp) only with the C++ peers, like
 * peer_moodycamel.cpp; each part behind its PARC_BENCH_HAVE_ macro.
 * Every call is an out-of-line call into C++ (a few ns), as for
 * peer_moodycamel.h.
 */
#ifndef PARC_BENCH_PEER_XFER_H
#define PARC_BENCH_PEER_XFER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef PARC_BENCH_HAVE_MOODYCAMEL
/* BlockingConcurrentQueue<void *> with a producer and a consumer token per
 * worker (up to XFER_PEER_TOKENS workers), made with the queue. */
#define XFER_PEER_TOKENS 16
typedef struct xp_mcb xp_mcb_t;
xp_mcb_t *xp_mcb_create(size_t capacity); /* NULL: out of memory */
void xp_mcb_destroy(xp_mcb_t *q);
int xp_mcb_push(xp_mcb_t *q, int worker, void *item);        /* 0/ENOMEM */
int xp_mcb_pop_try(xp_mcb_t *q, int worker, void **item);    /* 0/EAGAIN */
int xp_mcb_pop_wait(xp_mcb_t *q, int worker, void **item);   /* 0; blocks */
#endif

#ifdef PARC_BENCH_HAVE_RWQ
/* BlockingReaderWriterQueue<void *>: one producer, one consumer. Room for
 * `capacity` items; push_try never allocates (EAGAIN when full). */
typedef struct xp_brwq xp_brwq_t;
xp_brwq_t *xp_brwq_create(size_t capacity);
void xp_brwq_destroy(xp_brwq_t *q);
int xp_brwq_push_try(xp_brwq_t *q, void *item);          /* 0/EAGAIN */
int xp_brwq_pop_try(xp_brwq_t *q, void **item);          /* 0/EAGAIN */
int xp_brwq_pop_wait(xp_brwq_t *q, void **item);         /* 0; blocks */
#endif

#ifdef PARC_BENCH_HAVE_ATOMIC_QUEUE
/* AtomicQueueB<void *> (runtime capacity, rounded up to a power of two;
 * NULL is its empty marker, so items must not be NULL). spsc selects its
 * single-producer single-consumer form. Only the try forms: its push()/
 * pop() spin without ever yielding the processor. */
typedef struct xp_aq xp_aq_t;
xp_aq_t *xp_aq_create(size_t capacity, int spsc);
void xp_aq_destroy(xp_aq_t *q);
int xp_aq_push_try(xp_aq_t *q, void *item);              /* 0/EAGAIN */
int xp_aq_pop_try(xp_aq_t *q, void **item);              /* 0/EAGAIN */
#endif

#ifdef __cplusplus
}
#endif

#endif /* PARC_BENCH_PEER_XFER_H */
