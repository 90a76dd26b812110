/*
 * Stress adapters for parc's blocking queue (parc/queue.h).
 *
 *   queue parc.queue.fifo       bounded FIFO (maxsize = the capacity asked)
 *   queue parc.queue.lifo       bounded LIFO
 *   queue parc.queue.priority   bounded priority queue ordered by the
 *                               item's sequence number (a bag to the
 *                               workload: only exactly-once is checked)
 *   queue parc.queue.unbounded  FIFO with maxsize 0
 * All closable through shutdown(immediate = false); consumers also use the
 * blocking get_timed.
 */
#include <errno.h>
#include <stdlib.h>

#include "parc/queue.h"
#include "parc/stress.h"

static int by_seq(const void *a, const void *b, void *arg)
{
    (void)arg;
    const parc_stress_item_t *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int make(void **out, int64_t maxsize, parc_queue_order_t order)
{
    parc_queue_t *q = aligned_alloc(_Alignof(parc_queue_t), sizeof *q); /* cache-line aligned */
    if (q == NULL)
        return ENOMEM;
    int rc = parc_queue_init(q, maxsize, order,
                             order == PARC_QUEUE_PRIORITY ? by_seq : NULL, NULL);
    if (rc != 0) {
        free(q);
        return rc;
    }
    *out = q;
    return 0;
}

static int fifo_create(void **out, size_t cap) { return make(out, (int64_t)cap, PARC_QUEUE_FIFO); }
static int lifo_create(void **out, size_t cap) { return make(out, (int64_t)cap, PARC_QUEUE_LIFO); }
static int prio_create(void **out, size_t cap) { return make(out, (int64_t)cap, PARC_QUEUE_PRIORITY); }
static int unbounded_create(void **out, size_t cap)
{
    (void)cap;
    return make(out, 0, PARC_QUEUE_FIFO);
}

static void q_destroy(void *q)
{
    parc_queue_destroy(q);
    free(q);
}

static int q_push(void *q, parc_stress_item_t *item)
{
    return parc_queue_put_try(q, item);
}

static int q_pop(void *q, parc_stress_item_t **item)
{
    return parc_queue_get_try(q, (void **)item);
}

static int q_pop_timed(void *q, parc_stress_item_t **item, int64_t timeout_ns)
{
    return parc_queue_get_timed(q, (void **)item, timeout_ns);
}

static int q_close(void *q)
{
    return parc_queue_shutdown(q, false);
}

#define QUEUE_IMPL(var, nm, desc, fl, ord, mk)                               \
    static const parc_stress_queue_impl_t var = {                          \
        .name = nm, .description = desc, .flags = (fl), .order = (ord),     \
        .create = mk, .destroy = q_destroy, .push = q_push, .pop = q_pop,   \
        .pop_timed = q_pop_timed, .close = q_close,                         \
    };                                                                      \
    PARC_STRESS_QUEUE(var)

QUEUE_IMPL(queue_fifo, "parc.queue.fifo", "blocking queue, bounded FIFO (two locks, waiters parked under them)",
           PARC_STRESS_BOUNDED | PARC_STRESS_CLOSABLE, PARC_STRESS_ORDER_FIFO, fifo_create)
QUEUE_IMPL(queue_lifo, "parc.queue.lifo", "blocking queue, bounded LIFO",
           PARC_STRESS_BOUNDED | PARC_STRESS_CLOSABLE | PARC_STRESS_RECYCLE,
           PARC_STRESS_ORDER_LIFO, lifo_create)
QUEUE_IMPL(queue_prio, "parc.queue.priority", "blocking queue, bounded, stable priority heap",
           PARC_STRESS_BOUNDED | PARC_STRESS_CLOSABLE, PARC_STRESS_ORDER_NONE, prio_create)
QUEUE_IMPL(queue_unbounded, "parc.queue.unbounded", "blocking queue, unbounded FIFO",
           PARC_STRESS_CLOSABLE, PARC_STRESS_ORDER_FIFO, unbounded_create)
