/*
 * bench/bench_mpsc.c — the mailbox: P producers send to one consumer
 * (parc/mpsc.h, Vyukov's intrusive MPSC queue).
 *
 * Points: 1 producer (a thread per core) and 3 producers (oversubscribed).
 *
 * Cases, each as its users would use it:
 *   parc        parc_mpsc_push (one exchange) and the blocking
 *               parc_mpsc_pop (spin, yield, then sleep on the eventcount
 *               after marking the queue empty; behind a streaming
 *               producer it pauses when it catches up, so that it drains
 *               batches); messages embed the node.
 *   parc-try    parc_mpsc_pop_try with the harness's poll-then-yield wait.
 *   urcu-wfcq   liburcu's wfcqueue: cds_wfcq_enqueue (one exchange) and,
 *               with a single consumer, __cds_wfcq_dequeue_blocking (no
 *               mutex needed; "blocking" only waits out an in-flight
 *               enqueue) with the poll-then-yield wait when empty; nodes
 *               embedded as for parc.
 *   moodycamel  ConcurrentQueue<void *> with producer tokens and a consumer
 *               token (per-producer FIFO, unbounded, never gives memory
 *               back).
 *   glib        GAsyncQueue push / pop (mutex + condition).
 *   pthread     a ring as large as the run under one mutex with two
 *               conditions.
 * The intrusive cases get one node per item, allocated before the run.
 * Every case checks that the sum of the items popped is the sum pushed.
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
    { "1 producer", 2, 1, NULL }, /* arg: producers; one consumer */
    { "3 producers", 4, 3, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(mpsc, "mailbox (MPSC): P producers send to one consumer", mpsc_points)

#define ITEM(i) ((void *)(uintptr_t)((i) + 1))
#define INDEX(item) ((uint64_t)(uintptr_t)(item) - 1)

/* The intrusive cases' messages, one per item, made and touched before
 * the run: moodycamel's queue is made with the run's capacity and so
 * allocates and initialises all its blocks before the run too; messages
 * left untouched would make the intrusive producers take the page faults
 * inside the measured time. */
static void *nodes_make(size_t items, size_t node_size)
{
    void *nodes = malloc((items + 1) * node_size);
    if (nodes != NULL)
        memset(nodes, 0, (items + 1) * node_size);
    return nodes;
}

/* ---- parc ------------------------------------------------------------------ */

typedef struct pm {
    parc_mpsc_t q;
    parc_mpsc_node_t *nodes; /* node i carries item i */
} pm_t;

static pm_t *pm_make(size_t items)
{
    pm_t *m = aligned_alloc(PARC_CACHELINE, sizeof *m);
    if (m == NULL)
        return NULL;
    m->nodes = nodes_make(items, sizeof *m->nodes);
    if (m->nodes == NULL) {
        free(m);
        return NULL;
    }
    parc_mpsc_init(&m->q);
    return m;
}

static void pm_free(pm_t *m)
{
    parc_mpsc_destroy(&m->q);
    free(m->nodes);
    free(m);
}

static int pm_push(pm_t *m, void *item)
{
    return parc_mpsc_push(&m->q, &m->nodes[INDEX(item)], NULL);
}

static int pm_pop(pm_t *m, void **item)
{
    parc_mpsc_node_t *n;
    int rc = parc_mpsc_pop(&m->q, &n);
    if (rc == 0)
        *item = ITEM(n - m->nodes);
    return rc;
}

static int pm_pop_try(pm_t *m, void **item)
{
    parc_mpsc_node_t *n;
    int rc = parc_mpsc_pop_try(&m->q, &n);
    if (rc == 0)
        *item = ITEM(n - m->nodes);
    return rc;
}

XFER_CASE(parc_blocking, "parc", pm_t, pm_make, pm_free, pm_push, pm_pop, 0)
XFER_CASE(parc_try, "parc-try", pm_t, pm_make, pm_free, pm_push, pm_pop_try, 1)

/* ---- liburcu ------------------------------------------------------------- */

#ifdef PARC_BENCH_HAVE_URCU
/* Head and tail on separate cache lines, as liburcu's header asks when
 * enqueue and dequeue run on different CPUs (parc's mailbox is laid out
 * the same way). */
typedef struct wq {
    struct cds_wfcq_head head;
    struct cds_wfcq_node *nodes;
    PARC_CACHE_ALIGNED struct cds_wfcq_tail tail;
} wq_t;

static wq_t *wq_make(size_t items)
{
    wq_t *w = aligned_alloc(PARC_CACHELINE, sizeof *w);
    if (w == NULL)
        return NULL;
    w->nodes = nodes_make(items, sizeof *w->nodes);
    if (w->nodes == NULL) {
        free(w);
        return NULL;
    }
    cds_wfcq_init(&w->head, &w->tail);
    return w;
}

static void wq_free(wq_t *w)
{
    cds_wfcq_destroy(&w->head, &w->tail);
    free(w->nodes);
    free(w);
}

static int wq_push(wq_t *w, void *item)
{
    struct cds_wfcq_node *n = &w->nodes[INDEX(item)];
    cds_wfcq_node_init(n);
    cds_wfcq_enqueue(&w->head, &w->tail, n);
    return 0;
}

static int wq_pop(wq_t *w, void **item)
{
    struct cds_wfcq_node *n = __cds_wfcq_dequeue_blocking(&w->head, &w->tail);
    if (n == NULL)
        return EAGAIN;
    *item = ITEM(n - w->nodes);
    return 0;
}

XFER_CASE(urcu, "urcu-wfcq", wq_t, wq_make, wq_free, wq_push, wq_pop, 1)
#endif

#include "xfer_peers.h" /* moodycamel, GLib and pthread cases */
