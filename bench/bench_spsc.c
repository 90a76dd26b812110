/*
 * bench/bench_spsc.c — bounded SPSC rings: one producer hands items to one
 * consumer through a ring of 1024 slots (parc/spsc.h).
 *
 * Cases, each as its users would use it:
 *   parc           parc_spsc_push/pop: the blocking forms (a bounded spin
 *                  that yields now and then, then the eventcount); the
 *                  fast path is the same as the _try forms'.
 *   parc-try       parc_spsc_push_try/pop_try with the harness's poll-then-
 *                  yield wait (bench_wait_poll), like the spinning peers.
 *   parc-bulk      parc_spsc_push_bulk/pop_bulk, 32 items at a time.
 *   ck-ring        ck_ring_enqueue_spsc/dequeue_spsc (non-blocking).
 *   moodycamel-rwq moodycamel's SPSC ReaderWriterQueue<void *> (from
 *                  libreaderwriterqueue-dev, when installed), 1024 slots,
 *                  try_enqueue/try_dequeue with the harness's wait.
 *   moodycamel     ConcurrentQueue<void *> with a producer and a consumer
 *                  token (an unbounded MPMC queue).
 *   glib           GAsyncQueue push / pop (unbounded; mutex + condition).
 *   pthread        a 1024-slot ring under one mutex with two conditions.
 * Every case checks that the sum of the items popped is the sum pushed.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"
#include "xfer.h"
#include "parc/spsc.h"


#define CAPACITY 1024
#define BENCH_NAME spsc

static const bench_point_t spsc_points[] = {
    { "1P/1C", 2, 1, NULL }, /* arg: producers */
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(spsc, "bounded SPSC ring (1024 slots): one producer hands items to one consumer",
             spsc_points)

#define ITEM(i) ((void *)(uintptr_t)((i) + 1))

/* ---- parc ------------------------------------------------------------------ */

static parc_spsc_t *parc_make(size_t capacity)
{
    parc_spsc_t *q;
    return parc_spsc_create(&q, capacity) == 0 ? q : NULL;
}

XFER_CASE(parc_blocking, "parc", parc_spsc_t, parc_make, parc_spsc_free,
          parc_spsc_push, parc_spsc_pop, 0)
XFER_CASE(parc_try, "parc-try", parc_spsc_t, parc_make, parc_spsc_free,
          parc_spsc_push_try, parc_spsc_pop_try, 1)

/* Bulk: the producer pushes its items 32 at a time (what fits), the
 * consumer pops up to 32 at a time. */
#define BULK 32

static void bulk_body(bench_worker_t *w)
{
    xfer_t *x = w->shared;
    parc_spsc_t *q = x->queue;
    void *batch[BULK];
    uint64_t sum = 0;
    if (w->id == 0) {
        for (uint64_t i = 0; i < w->ops;) {
            size_t n = w->ops - i < BULK ? (size_t)(w->ops - i) : BULK;
            for (size_t k = 0; k < n; k++)
                batch[k] = ITEM(i + k);
            for (size_t done = 0; done < n;) {
                uint32_t polls = 0;
                size_t m;
                while ((m = parc_spsc_push_bulk(q, batch + done, n - done)) == 0)
                    bench_wait_poll(&polls);
                done += m;
            }
            for (size_t k = 0; k < n; k++)
                sum += (uint64_t)(uintptr_t)batch[k];
            i += n;
        }
        parc_raw_faa(&x->pushed_sum, sum, PARC_RELAXED);
        parc_raw_faa(&x->pushed, w->ops, PARC_RELAXED);
        return;
    }
    for (uint64_t got = 0; got < w->ops;) {
        uint32_t polls = 0;
        size_t m;
        while ((m = parc_spsc_pop_bulk(q, batch, BULK)) == 0)
            bench_wait_poll(&polls);
        for (size_t k = 0; k < m; k++)
            sum += (uint64_t)(uintptr_t)batch[k];
        got += m;
    }
    parc_raw_faa(&x->popped_sum, sum, PARC_RELAXED);
}

static int64_t bulk_case(bench_run_t *r)
{
    xfer_t x = { 0 };
    if ((x.queue = parc_make(CAPACITY)) == NULL)
        return BENCH_FAILED;
    int64_t ns = bench_parallel(r, bulk_body, &x);
    parc_spsc_free(x.queue);
    r->items = r->ops;
    if (parc_raw_load(&x.popped_sum, PARC_RELAXED) !=
        parc_raw_load(&x.pushed_sum, PARC_RELAXED))
        return BENCH_FAILED;
    return ns;
}
BENCH_CASE(spsc, "parc-bulk", bulk_case)

/* ---- Concurrency Kit --------------------------------------------------- */

#ifdef PARC_BENCH_HAVE_CK
static int ckr_push(ckr_t *q, void *item)
{
    return ck_ring_enqueue_spsc(&q->ring, q->buf, item) ? 0 : EAGAIN;
}

static int ckr_pop(ckr_t *q, void **item)
{
    return ck_ring_dequeue_spsc(&q->ring, q->buf, item) ? 0 : EAGAIN;
}

XFER_CASE(ck, "ck-ring", ckr_t, ckr_make, ckr_free, ckr_push, ckr_pop, 1)
#endif

/* ---- moodycamel's ReaderWriterQueue ------------------------------------ */

#ifdef PARC_BENCH_HAVE_RWQ
#include "peer_moodycamel.h"
XFER_CASE(rwq, "moodycamel-rwq", bench_rwq_queue_t, bench_rwq_create,
          bench_rwq_destroy, bench_rwq_push, bench_rwq_pop, 1)
#endif

#include "xfer_peers.h" /* moodycamel, GLib and pthread cases */
