/*
 * Stress adapter for parc's bounded SPSC ring (parc/spsc.h).
 *
 *   queue parc.spsc   1 producer / 1 consumer, FIFO, bounded, closable;
 *                     the consumer uses pop_try and the blocking
 *                     pop_timed, so the eventcount path, the asymmetric
 *                     barrier and close's racing-push rule are exercised;
 *                     every other push and pop goes through the bulk
 *                     forms (batches of one), which have their own
 *                     room and slot-scanning paths.
 */
#include <errno.h>

#include "parc/spsc.h"
#include "parc/stress.h"

static int spsc_create(void **out, size_t capacity)
{
    parc_spsc_t *q;
    int rc = parc_spsc_create(&q, capacity);
    if (rc == 0)
        *out = q;
    return rc;
}

static void spsc_destroy(void *q)
{
    parc_spsc_free(q);
}

/* Alternates between the single and the bulk forms, per thread. */
static _Thread_local unsigned spsc_calls;

static int spsc_push(void *q, parc_stress_item_t *item)
{
    if (spsc_calls++ % 2 == 0) {
        void *one = item;
        if (parc_spsc_push_bulk(q, &one, 1) == 1)
            return 0;
        /* full or closed: the single form tells which */
    }
    return parc_spsc_push_try(q, item);
}

static int spsc_pop(void *q, parc_stress_item_t **item)
{
    if (spsc_calls++ % 2 == 0) {
        void *one = NULL;
        if (parc_spsc_pop_bulk(q, &one, 1) == 1) {
            *item = one;
            return 0;
        }
        /* empty or closed and drained: the single form tells which */
    }
    return parc_spsc_pop_try(q, (void **)item);
}

static int spsc_pop_timed(void *q, parc_stress_item_t **item, int64_t timeout_ns)
{
    return parc_spsc_pop_timed(q, (void **)item, timeout_ns);
}

static int spsc_close(void *q)
{
    return parc_spsc_close(q);
}

static const parc_stress_queue_impl_t spsc_impl = {
    .name = "parc.spsc",
    .description = "bounded SPSC ring (FastForward slots, producer look-ahead, membarrier wake-ups)",
    .flags = PARC_STRESS_BOUNDED | PARC_STRESS_CLOSABLE,
    .order = PARC_STRESS_ORDER_FIFO,
    .max_producers = 1,
    .max_consumers = 1,
    .create = spsc_create,
    .destroy = spsc_destroy,
    .push = spsc_push,
    .pop = spsc_pop,
    .pop_timed = spsc_pop_timed,
    .close = spsc_close,
};
PARC_STRESS_QUEUE(spsc_impl)
