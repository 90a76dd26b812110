/*
 * Negative control: a bounded ring whose producers claim a slot with a
 * load and a store of the tail instead of one atomic read-modify-write.
 * Two producers that read the same tail write the same slot: one item is
 * overwritten (lost) and the ring's order breaks. queue.transfer must FAIL.
 */
#include <errno.h>
#include <stdlib.h>

#include "parc/atomic.h"
#include "parc/stress.h"

typedef struct lossy {
    size_t mask;
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) head;
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) tail;
    PARC_CACHE_ALIGNED parc_atomic(parc_stress_item_t *) slot[];
} lossy_t;

static int lossy_create(void **out, size_t capacity)
{
    lossy_t *q = aligned_alloc(PARC_CACHELINE,
        (sizeof *q + capacity * sizeof q->slot[0] + PARC_CACHELINE - 1) /
        PARC_CACHELINE * PARC_CACHELINE);
    if (q == NULL)
        return ENOMEM;
    q->mask = capacity - 1;
    parc_atomic_init(&q->head, 0u);
    parc_atomic_init(&q->tail, 0u);
    for (size_t i = 0; i < capacity; i++)
        parc_atomic_init(&q->slot[i], NULL);
    *out = q;
    return 0;
}

static void lossy_destroy(void *q)
{
    free(q);
}

static int lossy_push(void *p, parc_stress_item_t *item)
{
    lossy_t *q = p;
    uint64_t t = parc_load(&q->tail, PARC_RELAXED);
    /* acquire: pairs with the consumers' release CAS of head (the slot
     * they left is free). */
    if (t - parc_load(&q->head, PARC_ACQUIRE) > q->mask)
        return EAGAIN;
    /* THE BUG: a load and a store, not a fetch-and-add: two producers
     * can both claim slot t. */
    parc_store(&q->tail, t + 1, PARC_RELAXED);
    /* release: publishes the item; pairs with the acquire load in pop. */
    parc_store(&q->slot[t & q->mask], item, PARC_RELEASE);
    return 0;
}

static int lossy_pop(void *p, parc_stress_item_t **item)
{
    lossy_t *q = p;
    for (;;) {
        uint64_t h = parc_load(&q->head, PARC_ACQUIRE); /* pairs with the CAS below */
        /* acquire: pairs with the release store of the slot in push. */
        parc_stress_item_t *it = parc_load(&q->slot[h & q->mask], PARC_ACQUIRE);
        if (it == NULL)
            return EAGAIN;
        /* acq_rel: claims slot h; releases our read of it to producers
         * (their acquire load of head). */
        if (parc_cas(&q->head, &h, h + 1, PARC_ACQ_REL, PARC_RELAXED)) {
            parc_stress_item_t *expected = it;
            parc_cas(&q->slot[h & q->mask], &expected, NULL, PARC_RELAXED, PARC_RELAXED);
            *item = it;
            return 0;
        }
    }
}

static const parc_stress_queue_impl_t lossy_queue = {
    .name = "mutant.lossy_queue",
    .description = "bounded ring, tail claimed by load+store (loses items)",
    .flags = PARC_STRESS_MUTANT | PARC_STRESS_BOUNDED,
    .order = PARC_STRESS_ORDER_PRODUCER_FIFO,
    .create = lossy_create,
    .destroy = lossy_destroy,
    .push = lossy_push,
    .pop = lossy_pop,
};
PARC_STRESS_QUEUE(lossy_queue)
