/*
 * bench/bench_mpsc.c — the mailbox: P producers send to one consumer
 * (parc/mpsc.h, Vyukov's intrusive MPSC queue).
 *
 * Points: 1P/1C (a thread per core) and 3P/1C (oversubscribed), each
 * under both waiting policies of bench/xfer.h (block, poll), each run
 * verified exactly-once and per-producer FIFO. Run with and without --pin.
 *
 * Cases, each as its users would use it:
 *   parc        parc_mpsc_push (one exchange; the push a consumer that may
 *               sleep needs); block: parc_mpsc_pop (spin, yield, then
 *               sleep on the eventcount after marking the queue empty;
 *               behind a streaming producer it paces itself); poll:
 *               parc_mpsc_pop_try. Messages embed the node.
 *   parc-nowake (poll only) parc_mpsc_push_nowake, the push for a
 *               consumer that never sleeps in pop, with pop_try.
 *   urcu-wfcq   liburcu's wfcqueue: cds_wfcq_enqueue (one exchange) and,
 *               with a single consumer (no mutex needed), block:
 *               __cds_wfcq_dequeue_blocking, which waits out an enqueue
 *               in flight itself (10 PAUSEs, then 10 ms sleeps) but not
 *               an empty queue (the generic wait then: it has no pop that
 *               sleeps until a push); poll: __cds_wfcq_dequeue_nonblocking
 *               (an enqueue in flight is a miss, as for parc's pop_try).
 *               Nodes embedded as for parc.
 *   moodycamel, glib, pthread (a ring as large as the run): see
 *               bench/xfer_peers.h.
 * The intrusive cases get one node per item, allocated before the run.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "xfer.h"
#include "parc/mpsc.h"

#ifdef PARC_BENCH_HAVE_URCU
#define _LGPL_SOURCE /* the inline fast paths, as a performance-minded user would */
#include <urcu/wfcqueue.h>
#endif

/* Intrusive queues need a node per item: "capacity" is the run's items. */
#define CAPACITY r->ops
#define BENCH_NAME mpsc

static const bench_point_t mpsc_points[] = {
    { "1P/1C block", 2, 1, NULL }, /* arg: producers (| XFER_POLL); one consumer */
    { "1P/1C poll", 2, 1 | XFER_POLL, NULL },
    { "3P/1C block", 4, 3, NULL },
    { "3P/1C poll", 4, 3 | XFER_POLL, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(mpsc, "mailbox (MPSC): P producers send to one consumer", mpsc_points)

/* A message: the queue's node and the item it carries (written by the
 * producer before the push, read by the consumer after the pop, as any
 * message's payload). One per item of the run, made before it. */
typedef struct pmsg {
    parc_mpsc_node_t node;
    void *item;
} pmsg_t;

typedef struct pm {
    parc_mpsc_t q;
    pmsg_t *msgs; /* message i carries item i */
} pm_t;

/* The intrusive cases' messages, made and touched before the run:
 * moodycamel's queue is made with the run's capacity and so allocates
 * and initialises all its blocks before the run too; messages left
 * untouched would make the intrusive producers take the page faults
 * inside the measured time. */
static void *msgs_make(size_t items, size_t size)
{
    void *msgs = malloc((items + 1) * size);
    if (msgs != NULL)
        memset(msgs, 0, (items + 1) * size);
    return msgs;
}

/* ---- parc ------------------------------------------------------------------ */

static pm_t *pm_make(size_t items)
{
    pm_t *m = aligned_alloc(PARC_CACHELINE, sizeof *m);
    if (m == NULL)
        return NULL;
    m->msgs = msgs_make(items, sizeof *m->msgs);
    if (m->msgs == NULL) {
        free(m);
        return NULL;
    }
    parc_mpsc_init(&m->q);
    return m;
}

static void pm_free(pm_t *m)
{
    parc_mpsc_destroy(&m->q);
    free(m->msgs);
    free(m);
}

static int pm_push(pm_t *m, void *item)
{
    pmsg_t *msg = &m->msgs[XFER_INDEX(item)];
    msg->item = item;
    return parc_mpsc_push(&m->q, &msg->node, NULL);
}

static int pm_push_nowake(pm_t *m, void *item)
{
    pmsg_t *msg = &m->msgs[XFER_INDEX(item)];
    msg->item = item;
    return parc_mpsc_push_nowake(&m->q, &msg->node, NULL);
}

static int pm_pop(pm_t *m, void **item)
{
    parc_mpsc_node_t *n;
    int rc = parc_mpsc_pop(&m->q, &n);
    if (rc == 0)
        *item = parc_mpsc_entry(n, pmsg_t, node)->item;
    return rc;
}

static int pm_pop_try(pm_t *m, void **item)
{
    parc_mpsc_node_t *n;
    int rc = parc_mpsc_pop_try(&m->q, &n);
    if (rc == 0)
        *item = parc_mpsc_entry(n, pmsg_t, node)->item;
    return rc;
}

XFER_CASE(parc, "parc", pm_t, pm_make, pm_free, xfer_no_bind, pm_push, pm_pop, pm_push,
          pm_pop_try, XFER_BLOCKS)
XFER_CASE(parc_nowake, "parc-nowake", pm_t, pm_make, pm_free, xfer_no_bind, pm_push_nowake,
          pm_pop_try, pm_push_nowake, pm_pop_try, XFER_NB | XFER_POLL_ONLY)

/* ---- liburcu ------------------------------------------------------------- */

#ifdef PARC_BENCH_HAVE_URCU
/* Head and tail on separate cache lines, as liburcu's header asks when
 * enqueue and dequeue run on different CPUs (parc's mailbox is laid out
 * the same way). */
/* The message as for parc: node and item. */
typedef struct wmsg {
    struct cds_wfcq_node node;
    void *item;
} wmsg_t;

typedef struct wq {
    /* Read by every push: a line of its own, as in parc's pm_t, not the
     * head's line, which the consumer writes at every dequeue. */
    wmsg_t *msgs;
    PARC_CACHE_ALIGNED struct cds_wfcq_head head;
    PARC_CACHE_ALIGNED struct cds_wfcq_tail tail;
} wq_t;

static wq_t *wq_make(size_t items)
{
    wq_t *w = aligned_alloc(PARC_CACHELINE, sizeof *w);
    if (w == NULL)
        return NULL;
    w->msgs = msgs_make(items, sizeof *w->msgs);
    if (w->msgs == NULL) {
        free(w);
        return NULL;
    }
    cds_wfcq_init(&w->head, &w->tail);
    return w;
}

static void wq_free(wq_t *w)
{
    cds_wfcq_destroy(&w->head, &w->tail);
    free(w->msgs);
    free(w);
}

static int wq_push(wq_t *w, void *item)
{
    wmsg_t *msg = &w->msgs[XFER_INDEX(item)];
    msg->item = item;
    cds_wfcq_node_init(&msg->node);
    cds_wfcq_enqueue(&w->head, &w->tail, &msg->node);
    return 0;
}

static int wq_pop(wq_t *w, void **item)
{
    struct cds_wfcq_node *n = __cds_wfcq_dequeue_blocking(&w->head, &w->tail);
    if (n == NULL)
        return EAGAIN;
    *item = caa_container_of(n, wmsg_t, node)->item;
    return 0;
}

/* The try form: CDS_WFCQ_WOULDBLOCK (an enqueue in flight) is a miss,
 * as parc's pop_try reports it; the blocking form above instead waits it
 * out itself (10 PAUSEs, then 10 ms sleeps in poll()), its own policy. */
static int wq_pop_try(wq_t *w, void **item)
{
    struct cds_wfcq_node *n = __cds_wfcq_dequeue_nonblocking(&w->head, &w->tail);
    if (n == NULL || n == CDS_WFCQ_WOULDBLOCK)
        return EAGAIN;
    *item = caa_container_of(n, wmsg_t, node)->item;
    return 0;
}

XFER_CASE(urcu, "urcu-wfcq", wq_t, wq_make, wq_free, xfer_no_bind, wq_push, wq_pop, wq_push,
          wq_pop_try, XFER_NB)
#endif

#include "xfer_peers.h" /* moodycamel, GLib and pthread cases */
