/*
 * What a user of the harness writes to stress-test their own container:
 * an adapter over their queue (here a small mutex-protected ring, standing
 * in for "my_queue"), one registration line and a main() that hands over
 * to parc_stress_main(). Built and run by ctest (stress.user) as a check
 * that libparc_stress works outside parc-stress, as stress.h documents.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "parc/stress.h"

/* ---- the user's own queue -------------------------------------------------- */

typedef struct my_queue {
    pthread_mutex_t lock;
    size_t head, tail, mask;
    bool closed;
    void *slot[];
} my_queue_t;

static my_queue_t *my_queue_new(size_t capacity)
{
    my_queue_t *q = calloc(1, sizeof *q + capacity * sizeof q->slot[0]);
    if (q) {
        pthread_mutex_init(&q->lock, NULL);
        q->mask = capacity - 1;
    }
    return q;
}

static int my_queue_push(my_queue_t *q, void *x)
{
    int rc = 0;
    pthread_mutex_lock(&q->lock);
    if (q->closed)
        rc = EPIPE;
    else if (q->tail - q->head > q->mask)
        rc = EAGAIN;
    else
        q->slot[q->tail++ & q->mask] = x;
    pthread_mutex_unlock(&q->lock);
    return rc;
}

static int my_queue_pop(my_queue_t *q, void **x)
{
    int rc = 0;
    pthread_mutex_lock(&q->lock);
    if (q->head != q->tail)
        *x = q->slot[q->head++ & q->mask];
    else
        rc = q->closed ? EPIPE : EAGAIN;
    pthread_mutex_unlock(&q->lock);
    return rc;
}

/* ---- the adapter ----------------------------------------------------------- */

static int q_create(void **q, size_t capacity)
{
    *q = my_queue_new(capacity);
    return *q ? 0 : ENOMEM;
}

static void q_destroy(void *q)
{
    pthread_mutex_destroy(&((my_queue_t *)q)->lock);
    free(q);
}

static int q_push(void *q, parc_stress_item_t *it)
{
    return my_queue_push(q, it);
}

static int q_pop(void *q, parc_stress_item_t **it)
{
    void *x;
    int rc = my_queue_pop(q, &x);
    if (rc == 0)
        *it = x;
    return rc;
}

static int q_close(void *p)
{
    my_queue_t *q = p;
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_mutex_unlock(&q->lock);
    return 0;
}

static const parc_stress_queue_impl_t my_queue_impl = {
    .name = "my.queue",
    .description = "a user's mutex-protected ring",
    .flags = PARC_STRESS_BOUNDED | PARC_STRESS_CLOSABLE,
    .order = PARC_STRESS_ORDER_FIFO,
    .create = q_create,
    .destroy = q_destroy,
    .push = q_push,
    .pop = q_pop,
    .close = q_close,
};
PARC_STRESS_QUEUE(my_queue_impl)

int main(int argc, char **argv)
{
    return parc_stress_main(argc, argv);
}
