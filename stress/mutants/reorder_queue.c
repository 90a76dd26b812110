/*
 * Negative control: a "sharded" queue that promises per-producer FIFO but
 * spreads pushes over two locked lanes by a shared counter, while
 * consumers take from whichever lane they look at first. One producer's
 * consecutive items land in different lanes and come out swapped.
 * queue.transfer must FAIL (order).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "parc/atomic.h"
#include "parc/stress.h"

typedef struct lane {
    pthread_mutex_t lock;
    size_t head, tail, mask;
    parc_stress_item_t **slot;
} lane_t;

typedef struct sharded {
    lane_t lane[2];
    parc_atomic(unsigned) next_push, next_pop;
} sharded_t;

static void sharded_destroy(void *p)
{
    sharded_t *q = p;
    for (int i = 0; i < 2; i++) {
        pthread_mutex_destroy(&q->lane[i].lock);
        free(q->lane[i].slot);
    }
    free(q);
}

static int sharded_create(void **out, size_t capacity)
{
    sharded_t *q = calloc(1, sizeof *q);
    if (q == NULL)
        return ENOMEM;
    for (int i = 0; i < 2; i++) {
        pthread_mutex_init(&q->lane[i].lock, NULL);
        q->lane[i].mask = capacity - 1;
        q->lane[i].slot = calloc(capacity, sizeof *q->lane[i].slot);
        if (q->lane[i].slot == NULL) {
            sharded_destroy(q);
            return ENOMEM;
        }
    }
    *out = q;
    return 0;
}

static int sharded_push(void *p, parc_stress_item_t *item)
{
    sharded_t *q = p;
    /* relaxed: only picks a lane; the lane's mutex orders the data. */
    lane_t *l = &q->lane[parc_faa(&q->next_push, 1u, PARC_RELAXED) & 1];
    int rc = 0;
    pthread_mutex_lock(&l->lock);
    if (l->tail - l->head > l->mask)
        rc = EAGAIN;
    else
        l->slot[l->tail++ & l->mask] = item;
    pthread_mutex_unlock(&l->lock);
    return rc;
}

static int sharded_pop(void *p, parc_stress_item_t **item)
{
    sharded_t *q = p;
    unsigned first = parc_faa(&q->next_pop, 1u, PARC_RELAXED); /* as in push */
    for (unsigned k = 0; k < 2; k++) {
        lane_t *l = &q->lane[(first + k) & 1];
        pthread_mutex_lock(&l->lock);
        bool got = l->head != l->tail;
        if (got)
            *item = l->slot[l->head++ & l->mask];
        pthread_mutex_unlock(&l->lock);
        if (got)
            return 0;
    }
    return EAGAIN;
}

static const parc_stress_queue_impl_t reorder_queue = {
    .name = "mutant.reorder_queue",
    .description = "two locked lanes picked by a counter (reorders a producer's items)",
    .flags = PARC_STRESS_MUTANT | PARC_STRESS_BOUNDED,
    .order = PARC_STRESS_ORDER_PRODUCER_FIFO,
    .create = sharded_create,
    .destroy = sharded_destroy,
    .push = sharded_push,
    .pop = sharded_pop,
};
PARC_STRESS_QUEUE(reorder_queue)
