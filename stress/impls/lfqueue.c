/*
 * Stress adapter for parc's unbounded lock-free queue (parc/lfqueue.h).
 *
 *   queue parc.lfqueue   MPMC, linearizable FIFO, closable; consumers use
 *                        both pop_try and the blocking pop_timed, so the
 *                        eventcount path and close's wake-up are exercised.
 */
#include <errno.h>
#include <stdlib.h>

#include "parc/lfqueue.h"
#include "parc/stress.h"

static int lfq_create(void **out, size_t capacity)
{
    (void)capacity; /* unbounded */
    parc_lfqueue_t *q = malloc(sizeof *q);
    if (q == NULL)
        return ENOMEM;
    int rc = parc_lfqueue_init(q);
    if (rc != 0) {
        free(q);
        return rc;
    }
    *out = q;
    return 0;
}

static void lfq_destroy(void *q)
{
    parc_lfqueue_destroy(q);
    free(q);
}

static int lfq_push(void *q, parc_stress_item_t *item)
{
    return parc_lfqueue_push(q, item);
}

static int lfq_pop(void *q, parc_stress_item_t **item)
{
    return parc_lfqueue_pop_try(q, (void **)item);
}

static int lfq_pop_timed(void *q, parc_stress_item_t **item, int64_t timeout_ns)
{
    return parc_lfqueue_pop_timed(q, (void **)item, timeout_ns);
}

static int lfq_close(void *q)
{
    return parc_lfqueue_close(q);
}

static const parc_stress_queue_impl_t lfqueue_impl = {
    .name = "parc.lfqueue",
    .description = "unbounded lock-free MPMC queue (FAA segments, hazard pointers)",
    .flags = PARC_STRESS_CLOSABLE,
    .order = PARC_STRESS_ORDER_FIFO,
    .create = lfq_create,
    .destroy = lfq_destroy,
    .push = lfq_push,
    .pop = lfq_pop,
    .pop_timed = lfq_pop_timed,
    .close = lfq_close,
};
PARC_STRESS_QUEUE(lfqueue_impl)
