/*
 * Stress adapter for parc's mailbox (parc/mpsc.h).
 *
 *   queue parc.mpsc   intrusive MPSC (Vyukov), FIFO by exchange order,
 *                     unbounded, closable; the item's spare link area is
 *                     the node, so a push allocates nothing; the consumer
 *                     uses pop_try and the blocking pop_timed (which marks
 *                     the queue empty and sleeps), so the empty-bit wake-up
 *                     and the close-vs-push verdicts are exercised.
 *   queue parc.mpsc.nowake
 *                     the same with parc_mpsc_push_nowake (the scheduled
 *                     actors' push, no eventcount wake-up); its consumer
 *                     never sleeps in pop (pop_try only), as the variant
 *                     requires.
 */
#include <errno.h>
#include <stdlib.h>

#include "parc/mpsc.h"
#include "parc/stress.h"
#include "parc/stress_lincheck.h"

_Static_assert(sizeof(parc_mpsc_node_t) <= sizeof(((parc_stress_item_t *)0)->link),
               "the mailbox node must fit in the item's link area");

static int mpsc_create(void **out, size_t capacity)
{
    (void)capacity; /* unbounded */
    parc_mpsc_t *q = aligned_alloc(PARC_CACHELINE, sizeof *q);
    if (q == NULL)
        return ENOMEM;
    parc_mpsc_init(q);
    *out = q;
    return 0;
}

static void mpsc_destroy(void *q)
{
    parc_mpsc_destroy(q);
    free(q);
}

static parc_mpsc_node_t *node_of(parc_stress_item_t *item)
{
    return (parc_mpsc_node_t *)(void *)item->link;
}

static parc_stress_item_t *item_of(parc_mpsc_node_t *node)
{
    return (parc_stress_item_t *)(void *)((char *)node -
                                          offsetof(parc_stress_item_t, link));
}

static int mpsc_push(void *q, parc_stress_item_t *item)
{
    return parc_mpsc_push(q, node_of(item), NULL);
}

static int mpsc_push_nowake(void *q, parc_stress_item_t *item)
{
    return parc_mpsc_push_nowake(q, node_of(item), NULL);
}

static int mpsc_pop(void *q, parc_stress_item_t **item)
{
    parc_mpsc_node_t *n;
    int rc = parc_mpsc_pop_try(q, &n);
    if (rc == 0)
        *item = item_of(n);
    return rc;
}

static int mpsc_pop_timed(void *q, parc_stress_item_t **item, int64_t timeout_ns)
{
    parc_mpsc_node_t *n;
    int rc = parc_mpsc_pop_timed(q, &n, timeout_ns);
    if (rc == 0)
        *item = item_of(n);
    return rc;
}

static int mpsc_close(void *q)
{
    return parc_mpsc_close(q);
}

static const parc_stress_queue_impl_t mpsc_impl = {
    .name = "parc.mpsc",
    .description = "intrusive MPSC mailbox (Vyukov, xchg push, Pony's empty bit)",
    .flags = PARC_STRESS_CLOSABLE,
    .order = PARC_STRESS_ORDER_FIFO, /* by exchange order; lincheck knows its relaxed empty */
    .max_consumers = 1,
    .create = mpsc_create,
    .destroy = mpsc_destroy,
    .push = mpsc_push,
    .pop = mpsc_pop,
    .pop_timed = mpsc_pop_timed,
    .close = mpsc_close,
};
PARC_STRESS_QUEUE(mpsc_impl)

static const parc_stress_queue_impl_t mpsc_nowake_impl = {
    .name = "parc.mpsc.nowake",
    .description = "the mailbox with push_nowake and a polling consumer (scheduled actors)",
    .flags = PARC_STRESS_CLOSABLE,
    .order = PARC_STRESS_ORDER_FIFO,
    .max_consumers = 1,
    .create = mpsc_create,
    .destroy = mpsc_destroy,
    .push = mpsc_push_nowake,
    .pop = mpsc_pop, /* no pop_timed: nothing would wake it */
    .close = mpsc_close,
};
PARC_STRESS_QUEUE(mpsc_nowake_impl)
/* Its pop_try reports empty while a push is between its exchange and its
 * link, as parc.mpsc's does (declared for that name by the checker). */
PARC_LC_RELAXED(mpsc_nowake, "parc.mpsc.nowake", PARC_LC_RELAXED_EMPTY)
