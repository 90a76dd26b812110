/*
 * bench/bench_spsc.c — bounded SPSC rings: one producer hands items to one
 * consumer through a ring of 1024 slots (parc/spsc.h).
 *
 * Points: 1P/1C under both waiting policies of bench/xfer.h (block,
 * poll), each run verified exactly-once and FIFO. Run with and without
 * --pin.
 *
 * Cases, each as its users would use it:
 *   parc           block: parc_spsc_push/pop (a bounded spin that yields
 *                  now and then, then the eventcount); poll:
 *                  parc_spsc_push_try/pop_try.
 *   parc-bulk      (poll only) parc_spsc_push_bulk/pop_bulk, 32 items at
 *                  a time.
 *   ck-ring        ck_ring_enqueue_spsc/dequeue_spsc (no blocking forms:
 *                  polled at block points too).
 *   moodycamel-rwq moodycamel's SPSC ReaderWriterQueue<void *> (from
 *                  libreaderwriterqueue-dev, when installed), 1024 slots,
 *                  try_enqueue; block: BlockingReaderWriterQueue's
 *                  wait_dequeue; poll: try_dequeue.
 *   moodycamel, glib, pthread (a 1024-slot ring), atomic_queue (its SPSC
 *                  form, 1024 slots): see bench/xfer_peers.h.
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
#define XFER_BOUNDED      /* atomic_queue's rows (xfer_peers.h) */
#define XFER_BOUNDED_SPSC /* in its SPSC form */

static const bench_point_t spsc_points[] = {
    { "1P/1C block", 2, 1, NULL }, /* arg: producers (| XFER_POLL) */
    { "1P/1C poll", 2, 1 | XFER_POLL, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(spsc, "bounded SPSC ring (1024 slots): one producer hands items to one consumer",
             spsc_points)

/* ---- parc ------------------------------------------------------------------ */

static parc_spsc_t *parc_make(size_t capacity)
{
    parc_spsc_t *q;
    return parc_spsc_create(&q, capacity) == 0 ? q : NULL;
}

XFER_CASE(parc, "parc", parc_spsc_t, parc_make, parc_spsc_free, xfer_no_bind, parc_spsc_push,
          parc_spsc_pop, parc_spsc_push_try, parc_spsc_pop_try, XFER_BLOCKS)

/* Bulk: the producer pushes its items 32 at a time (what fits), the
 * consumer pops up to 32 at a time. */
#define BULK 32

static void bulk_body(bench_worker_t *w)
{
    xfer_t *x = w->shared;
    parc_spsc_t *q = x->queue;
    void *batch[BULK];
    xfer_tally_t t;
    memset(&t, 0, sizeof t);
    if (w->id == 0) {
        for (uint64_t i = 0; i < w->ops;) {
            size_t n = w->ops - i < BULK ? (size_t)(w->ops - i) : BULK;
            for (size_t k = 0; k < n; k++)
                batch[k] = XFER_ITEM(0, i + k);
            for (size_t done = 0; done < n;) {
                uint32_t polls = 0;
                size_t m;
                while ((m = parc_spsc_push_bulk(q, batch + done, n - done)) == 0)
                    xfer_wait(&polls);
                done += m;
            }
            for (size_t k = 0; k < n; k++)
                xfer_pushed(&t, batch[k]);
            i += n;
        }
        xfer_add_pushed(x, &t);
        return;
    }
    for (uint64_t got = 0; got < w->ops;) {
        uint32_t polls = 0;
        size_t m;
        while ((m = parc_spsc_pop_bulk(q, batch, BULK)) == 0)
            xfer_wait(&polls);
        for (size_t k = 0; k < m; k++)
            xfer_popped(&t, batch[k], 1);
        got += m;
    }
    parc_raw_faa(&x->popped, t.count, PARC_RELAXED);
    xfer_add_popped(x, &t);
}

static int64_t bulk_case(bench_run_t *r)
{
    if (!XFER_POLLS(r->arg))
        return BENCH_SKIPPED;
    parc_spsc_t *q = parc_make(CAPACITY);
    if (q == NULL)
        return BENCH_FAILED;
    int64_t ns = xfer_run(r, q, XFER_BLOCKS, bulk_body);
    parc_spsc_free(q);
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

XFER_CASE(ck, "ck-ring", ckr_t, ckr_make, ckr_free, xfer_no_bind, ckr_push, ckr_pop, ckr_push,
          ckr_pop, XFER_NB)
#endif

/* ---- moodycamel's ReaderWriterQueue ------------------------------------ */

#ifdef PARC_BENCH_HAVE_RWQ
#include "peer_xfer.h"
XFER_CASE(rwq, "moodycamel-rwq", xp_brwq_t, xp_brwq_create, xp_brwq_destroy, xfer_no_bind,
          xp_brwq_push_try, xp_brwq_pop_wait, xp_brwq_push_try, xp_brwq_pop_try, XFER_BLOCKS)
#endif

#include "xfer_peers.h" /* moodycamel, GLib, pthread and atomic_queue cases */
