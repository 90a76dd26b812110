/*
 * A user's own lock-free queue under the weak-memory mode: a Lamport
 * single-producer single-consumer ring written against parc/atomic.h, its
 * adapter and parc_stress_main(). Built twice: as is (it must pass
 * `--weak`), and with -DUSER_RING_BUG, where the producer publishes its
 * tail relaxed instead of release — a bug x86 never shows, which `--weak`
 * must catch (a consumer reads a slot before the producer's store to it:
 * an item seen twice, or a stale one).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parc/atomic.h"
#include "parc/stress.h"

#ifdef USER_RING_BUG
#define PUBLISH PARC_RELAXED /* THE BUG: should be release */
#else
#define PUBLISH PARC_RELEASE /* publishes the slot; pairs with pop's acquire */
#endif

typedef struct ring {
    PARC_CACHE_ALIGNED parc_atomic(size_t) head; /* consumer's */
    PARC_CACHE_ALIGNED parc_atomic(size_t) tail; /* producer's */
    size_t mask;
    parc_atomic(parc_stress_item_t *) slot[];
} ring_t;

static int ring_create(void **out, size_t capacity)
{
    /* aligned: head and tail have cache lines of their own */
    size_t size = sizeof(ring_t) + capacity * sizeof(parc_stress_item_t *);
    ring_t *r = aligned_alloc(PARC_CACHELINE, (size + PARC_CACHELINE - 1) /
                                                  PARC_CACHELINE * PARC_CACHELINE);
    if (r == NULL)
        return ENOMEM;
    memset(r, 0, sizeof *r);
    parc_atomic_init(&r->head, 0);
    parc_atomic_init(&r->tail, 0);
    r->mask = capacity - 1;
    for (size_t i = 0; i < capacity; i++)
        parc_atomic_init(&r->slot[i], NULL);
    *out = r;
    return 0;
}

static void ring_destroy(void *r)
{
    free(r);
}

static int ring_push(void *p, parc_stress_item_t *item)
{
    ring_t *r = p;
    size_t t = parc_load(&r->tail, PARC_RELAXED); /* own index */
    /* acquire: the consumer is done with the slot it freed; pairs with
     * its release store of head */
    if (t - parc_load(&r->head, PARC_ACQUIRE) > r->mask)
        return EAGAIN;
    parc_store(&r->slot[t & r->mask], item, PARC_RELAXED);
    parc_store(&r->tail, t + 1, PUBLISH);
    return 0;
}

static int ring_pop(void *p, parc_stress_item_t **item)
{
    ring_t *r = p;
    size_t h = parc_load(&r->head, PARC_RELAXED); /* own index */
    /* acquire: pairs with the producer's release store of tail */
    if (h == parc_load(&r->tail, PARC_ACQUIRE))
        return EAGAIN;
    *item = parc_load(&r->slot[h & r->mask], PARC_RELAXED);
    /* release: the slot may be reused; pairs with push's acquire */
    parc_store(&r->head, h + 1, PARC_RELEASE);
    return 0;
}

static const parc_stress_queue_impl_t user_ring = {
    .name = "my.ring",
    .description = "a user's Lamport SPSC ring over parc/atomic.h",
    .flags = PARC_STRESS_BOUNDED,
    .order = PARC_STRESS_ORDER_FIFO,
    .max_producers = 1,
    .max_consumers = 1,
    .create = ring_create,
    .destroy = ring_destroy,
    .push = ring_push,
    .pop = ring_pop,
};
PARC_STRESS_QUEUE(user_ring)

int main(int argc, char **argv)
{
    return parc_stress_main(argc, argv);
}
