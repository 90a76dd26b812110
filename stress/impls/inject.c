/*
 * Stress adapter for parc's sharded injection queue (parc/inject.h).
 *
 *   queue parc.inject   MPMC bag (no cross-shard order: a producer whose
 *                       shard is held moves on to the next one), closable.
 *                       Consumers alternate between single takes and batch
 *                       takes (up to BATCH entries, half of the time with
 *                       PARC_INJECT_HALF), so batches and concurrent takes
 *                       of one shard run under every build.
 *
 * The harness pops one item at a time, so a batch's rest waits on a small
 * spill list (under a mutex) that every pop looks at first. A pop that
 * finds the queue closed and empty says EPIPE only when no batch is in a
 * consumer's hands and the spill list is empty, so an EPIPE still means
 * "closed and drained".
 */
#include <errno.h>
#include <stdlib.h>

#include "parc/inject.h"
#include "parc/mutex.h"
#include "parc/stress.h"

#define SHARDS 4u
#define BATCH 8u

typedef struct inject_adapter {
    parc_inject_t q;
    parc_mutex_t spill_lock;
    parc_stress_item_t *spill; /* linked through link[0], under spill_lock */
    /* Batch takes in progress: entries may be in a consumer's hands. */
    parc_atomic(unsigned) in_hand;
} inject_adapter_t;

static _Thread_local unsigned turn; /* picks the take's form */

static int inj_create(void **out, size_t capacity)
{
    (void)capacity; /* unbounded */
    inject_adapter_t *a = calloc(1, sizeof *a);
    if (a == NULL)
        return ENOMEM;
    int rc = parc_inject_init(&a->q, SHARDS);
    if (rc != 0) {
        free(a);
        return rc;
    }
    parc_mutex_init(&a->spill_lock, PARC_MUTEX_NORMAL);
    parc_atomic_init(&a->in_hand, 0u);
    *out = a;
    return 0;
}

static void inj_destroy(void *q)
{
    inject_adapter_t *a = q;
    parc_inject_destroy(&a->q);
    parc_mutex_destroy(&a->spill_lock);
    free(a);
}

static int inj_push(void *q, parc_stress_item_t *item)
{
    inject_adapter_t *a = q;
    return parc_inject_push(&a->q, NULL, item);
}

static parc_stress_item_t *spill_pop(inject_adapter_t *a)
{
    parc_mutex_lock(&a->spill_lock);
    parc_stress_item_t *it = a->spill;
    if (it != NULL)
        a->spill = it->link[0];
    parc_mutex_unlock(&a->spill_lock);
    return it;
}

static int inj_pop(void *q, parc_stress_item_t **item)
{
    inject_adapter_t *a = q;
    parc_stress_item_t *it = spill_pop(a);
    if (it != NULL) {
        *item = it;
        return 0;
    }
    unsigned t = turn++;
    parc_inject_entry_t e[BATCH];
    size_t n = 0;
    int rc;
    if (t % 2 == 0) {
        rc = parc_inject_take(&a->q, t, e, 1, 0, &n);
    } else {
        /* seq_cst: a pop that finds the queue closed and empty and then
         * reads in_hand sees this increment, or our take came after its
         * take and finds nothing either. */
        parc_faa(&a->in_hand, 1u, PARC_SEQ_CST);
        rc = parc_inject_take(&a->q, t, e, BATCH, t % 4 == 1 ? PARC_INJECT_HALF : 0,
                              &n);
        if (rc == 0 && n > 1) {
            parc_mutex_lock(&a->spill_lock);
            for (size_t i = 1; i < n; i++) {
                parc_stress_item_t *s = e[i].arg;
                s->link[0] = a->spill;
                a->spill = s;
            }
            parc_mutex_unlock(&a->spill_lock);
        }
        /* seq_cst: the spill list is filled before in_hand drops. */
        parc_fas(&a->in_hand, 1u, PARC_SEQ_CST);
    }
    if (rc == 0) {
        *item = e[0].arg;
        return 0;
    }
    if (rc == EPIPE) {
        /* seq_cst: pairs with the batch taker's increment above. */
        if (parc_load(&a->in_hand, PARC_SEQ_CST) != 0)
            return EAGAIN;
        it = spill_pop(a);
        if (it != NULL) {
            *item = it;
            return 0;
        }
    }
    return rc;
}

static int inj_close(void *q)
{
    inject_adapter_t *a = q;
    return parc_inject_close(&a->q);
}

static const parc_stress_queue_impl_t inject_impl = {
    .name = "parc.inject",
    .description = "sharded injection queue (a lock word per shard, batch takes)",
    .flags = PARC_STRESS_CLOSABLE,
    .order = PARC_STRESS_ORDER_NONE,
    .create = inj_create,
    .destroy = inj_destroy,
    .push = inj_push,
    .pop = inj_pop,
    .close = inj_close,
};
PARC_STRESS_QUEUE(inject_impl)
