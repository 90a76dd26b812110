/*
 * Stress adapter for parc's bounded MPMC ring (parc/mpmc.h).
 *
 *   queue parc.mpmc   Vyukov's bounded MPMC, FIFO by claimed position
 *                     (empty/full relaxed while a claim is unpublished),
 *                     bounded, closable;
 *                     consumers use pop_try and the blocking pop_timed.
 */
#include <errno.h>

#include "parc/mpmc.h"
#include "parc/stress.h"

static int mpmc_create(void **out, size_t capacity)
{
    parc_mpmc_t *q;
    int rc = parc_mpmc_create(&q, capacity < 2 ? 2 : capacity);
    if (rc == 0)
        *out = q;
    return rc;
}

static void mpmc_destroy(void *q)
{
    parc_mpmc_free(q);
}

static int mpmc_push(void *q, parc_stress_item_t *item)
{
    return parc_mpmc_push_try(q, item);
}

static int mpmc_pop(void *q, parc_stress_item_t **item)
{
    return parc_mpmc_pop_try(q, (void **)item);
}

static int mpmc_pop_timed(void *q, parc_stress_item_t **item, int64_t timeout_ns)
{
    return parc_mpmc_pop_timed(q, (void **)item, timeout_ns);
}

static int mpmc_close(void *q)
{
    return parc_mpmc_close(q);
}

static const parc_stress_queue_impl_t mpmc_impl = {
    .name = "parc.mpmc",
    .description = "bounded MPMC ring (Vyukov 2010, per-cell sequence numbers)",
    .flags = PARC_STRESS_BOUNDED | PARC_STRESS_CLOSABLE,
    .order = PARC_STRESS_ORDER_FIFO, /* by claim; lincheck knows its relaxed empty/full */
    .create = mpmc_create,
    .destroy = mpmc_destroy,
    .push = mpmc_push,
    .pop = mpmc_pop,
    .pop_timed = mpmc_pop_timed,
    .close = mpmc_close,
};
PARC_STRESS_QUEUE(mpmc_impl)
