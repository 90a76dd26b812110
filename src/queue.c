/* parc/queue.h: storage (ring or stable heap) under a mutex, waiting
 * through eventcounts. */
#include <stdlib.h>

#include "parc/queue.h"

struct parc_queue_entry {
    void *item;
    uint64_t seq; /* insertion order: ties in the heap go to the older */
};
typedef struct parc_queue_entry entry_t;

#define MIN_CAP 16u

/* ---- storage (lock held) ------------------------------------------------ */

static inline size_t count_of(parc_queue_t *q)
{
    return parc_load(&q->size, PARC_RELAXED); /* only written under the lock */
}

static inline void count_set(parc_queue_t *q, size_t n)
{
    /* release: orders the storage update before the new size for waiters
     * polling it without the lock; they take the lock before reading any
     * item, so this is only a hint (pairs with the acquire loads in the
     * ready predicates). */
    parc_store(&q->size, n, PARC_RELEASE);
}

/* Move the items into a new array of `cap` slots (cap >= count); the ring
 * is unwrapped so that head becomes 0. Returns false on ENOMEM. */
static bool resize(parc_queue_t *q, size_t cap)
{
    entry_t *n = malloc(cap * sizeof *n);
    if (n == NULL)
        return false;
    size_t count = count_of(q);
    if (q->order == PARC_QUEUE_PRIORITY) {
        for (size_t i = 0; i < count; i++)
            n[i] = q->slots[i];
    } else {
        for (size_t i = 0; i < count; i++)
            n[i] = q->slots[(q->head + i) & (q->cap - 1)];
    }
    free(q->slots);
    q->slots = n;
    q->cap = cap;
    q->head = 0;
    return true;
}

/* The heap's order: the comparator, ties to the older entry. */
typedef struct heap_order {
    parc_queue_cmp_t *cmp;
    void *arg;
} heap_order_t;

static inline bool before(heap_order_t o, const entry_t *a, const entry_t *b)
{
    int c = o.cmp(a->item, b->item, o.arg);
    return c < 0 || (c == 0 && a->seq < b->seq);
}

static void heap_up(entry_t *h, size_t i, heap_order_t o)
{
    entry_t e = h[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(o, &e, &h[parent]))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = e;
}

/* Sift h[i] down in a heap of n entries. */
static void heap_down(entry_t *h, size_t i, size_t n, heap_order_t o)
{
    entry_t e = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(o, &h[c + 1], &h[c]))
            c++;
        if (!before(o, &h[c], &e))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = e;
}

static inline heap_order_t order_of(parc_queue_t *q)
{
    return (heap_order_t){ q->cmp, q->cmp_arg };
}

/* Insert (there is room by maxsize). Returns 0 or ENOMEM. */
static int store_item(parc_queue_t *q, void *item)
{
    size_t count = count_of(q);
    if (count == q->cap && !resize(q, q->cap ? q->cap * 2 : MIN_CAP))
        return ENOMEM;
    entry_t e = { item, q->seq++ };
    if (q->order == PARC_QUEUE_PRIORITY) {
        q->slots[count] = e;
        heap_up(q->slots, count, order_of(q));
    } else {
        q->slots[(q->head + count) & (q->cap - 1)] = e;
    }
    count_set(q, count + 1);
    return 0;
}

/* Remove the next item (count > 0). */
static void *take_item(parc_queue_t *q)
{
    size_t count = count_of(q) - 1;
    void *item;
    switch (q->order) {
    case PARC_QUEUE_FIFO:
        item = q->slots[q->head].item;
        q->head = (q->head + 1) & (q->cap - 1);
        break;
    case PARC_QUEUE_LIFO:
        item = q->slots[(q->head + count) & (q->cap - 1)].item;
        break;
    default:
        item = q->slots[0].item;
        q->slots[0] = q->slots[count];
        heap_down(q->slots, 0, count, order_of(q));
        break;
    }
    count_set(q, count);
    /* Give memory back at a quarter full (hysteresis against thrashing);
     * if the smaller array cannot be had, keep the larger one. */
    if (q->cap > MIN_CAP && count <= q->cap / 4)
        (void)resize(q, q->cap / 2);
    return item;
}

/* ---- life cycle ---------------------------------------------------------- */

int parc_queue_init(parc_queue_t *q, int64_t maxsize, parc_queue_order_t order,
                    parc_queue_cmp_t *cmp, void *cmp_arg)
{
    if (q == NULL || maxsize < 0 || (uint64_t)maxsize > SIZE_MAX / 2)
        return EINVAL;
    if (order != PARC_QUEUE_FIFO && order != PARC_QUEUE_LIFO &&
        order != PARC_QUEUE_PRIORITY)
        return EINVAL;
    if (order == PARC_QUEUE_PRIORITY && cmp == NULL)
        return EINVAL;
    int rc = parc_mutex_init(&q->lock, PARC_MUTEX_NORMAL);
    if (rc != 0)
        return rc;
    q->slots = NULL;
    q->cap = 0;
    q->head = 0;
    q->seq = 0;
    q->maxsize = (size_t)maxsize;
    q->order = order;
    q->cmp = cmp;
    q->cmp_arg = cmp_arg;
    parc_atomic_init(&q->size, 0);
    parc_atomic_init(&q->shutdown, 0);
    parc_atomic_init(&q->unfinished, 0);
    parc_ec_init(&q->not_empty);
    parc_ec_init(&q->not_full);
    parc_ec_init(&q->all_done);
    return 0;
}

int parc_queue_destroy(parc_queue_t *q)
{
    if (q == NULL)
        return EINVAL;
    free(q->slots);
    q->slots = NULL;
    q->cap = 0;
    parc_store(&q->size, 0, PARC_RELAXED); /* exclusive access */
    return parc_mutex_destroy(&q->lock);
}

/* ---- put ------------------------------------------------------------------ */

/* The "not full" condition, polled without the lock. */
static bool can_put(void *arg)
{
    parc_queue_t *q = arg;
    /* acquire: pairs with the release stores of shutdown / size. */
    return parc_load(&q->shutdown, PARC_ACQUIRE) || q->maxsize == 0 ||
           parc_load(&q->size, PARC_ACQUIRE) < q->maxsize;
}

/* One attempt under the lock: 0, EPIPE, ENOMEM, or EAGAIN when full. */
static int put_once(parc_queue_t *q, void *item)
{
    (void)parc_mutex_lock(&q->lock);
    int rc;
    if (parc_load(&q->shutdown, PARC_RELAXED)) /* written under the lock */
        rc = EPIPE;
    else if (q->maxsize != 0 && count_of(q) >= q->maxsize)
        rc = EAGAIN;
    else
        rc = store_item(q, item);
    if (rc == 0) /* counted before the unlock: a join cannot miss it */
        parc_faa(&q->unfinished, 1, PARC_RELAXED);
    (void)parc_mutex_unlock(&q->lock);
    if (rc == 0)
        parc_ec_notify_one(&q->not_empty);
    return rc;
}

static int put_until(parc_queue_t *q, void *item, parc_deadline_t deadline)
{
    for (;;) {
        int rc = put_once(q, item);
        if (rc != EAGAIN)
            return rc;
        if (parc_ec_await(&q->not_full, can_put, q, deadline) == ETIMEDOUT) {
            rc = put_once(q, item); /* a last attempt at the deadline */
            return rc == EAGAIN ? ETIMEDOUT : rc;
        }
    }
}

int parc_queue_put(parc_queue_t *q, void *item)
{
    if (q == NULL)
        return EINVAL;
    return put_until(q, item, PARC_FOREVER);
}

int parc_queue_put_try(parc_queue_t *q, void *item)
{
    if (q == NULL)
        return EINVAL;
    return put_once(q, item);
}

int parc_queue_put_timed(parc_queue_t *q, void *item, int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (q == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    if (timeout_ns == 0) {
        int rc = put_once(q, item);
        return rc == EAGAIN ? ETIMEDOUT : rc;
    }
    return put_until(q, item, deadline);
}

/* ---- get ------------------------------------------------------------------ */

static bool can_get(void *arg)
{
    parc_queue_t *q = arg;
    /* acquire: pairs with the release stores of size / shutdown. */
    return parc_load(&q->size, PARC_ACQUIRE) != 0 ||
           parc_load(&q->shutdown, PARC_ACQUIRE) != 0;
}

/* One attempt under the lock: 0, EPIPE (shut down and empty) or EAGAIN. */
static int get_once(parc_queue_t *q, void **item)
{
    (void)parc_mutex_lock(&q->lock);
    int rc = 0;
    if (count_of(q) != 0)
        *item = take_item(q);
    else if (parc_load(&q->shutdown, PARC_RELAXED)) /* written under the lock */
        rc = EPIPE;
    else
        rc = EAGAIN;
    (void)parc_mutex_unlock(&q->lock);
    if (rc == 0 && q->maxsize != 0)
        parc_ec_notify_one(&q->not_full);
    return rc;
}

static int get_until(parc_queue_t *q, void **item, parc_deadline_t deadline)
{
    for (;;) {
        int rc = get_once(q, item);
        if (rc != EAGAIN)
            return rc;
        if (parc_ec_await(&q->not_empty, can_get, q, deadline) == ETIMEDOUT) {
            rc = get_once(q, item);
            return rc == EAGAIN ? ETIMEDOUT : rc;
        }
    }
}

int parc_queue_get(parc_queue_t *q, void **item)
{
    if (q == NULL || item == NULL)
        return EINVAL;
    return get_until(q, item, PARC_FOREVER);
}

int parc_queue_get_try(parc_queue_t *q, void **item)
{
    if (q == NULL || item == NULL)
        return EINVAL;
    return get_once(q, item);
}

int parc_queue_get_timed(parc_queue_t *q, void **item, int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (q == NULL || item == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    if (timeout_ns == 0) {
        int rc = get_once(q, item);
        return rc == EAGAIN ? ETIMEDOUT : rc;
    }
    return get_until(q, item, deadline);
}

/* ---- sizes ------------------------------------------------------------------ */

size_t parc_queue_qsize(parc_queue_t *q)
{
    /* a snapshot; nothing is read through it */
    return q == NULL ? 0 : parc_load(&q->size, PARC_RELAXED);
}

bool parc_queue_empty(parc_queue_t *q)
{
    return parc_queue_qsize(q) == 0;
}

bool parc_queue_full(parc_queue_t *q)
{
    return q != NULL && q->maxsize != 0 && parc_queue_qsize(q) >= q->maxsize;
}

/* ---- tasks ------------------------------------------------------------------ */

/* Subtract up to n finished tasks (never below 0); wake joins at 0.
 * Returns false if fewer than n were unfinished (nothing is subtracted
 * then unless `clamp`). */
static bool tasks_finish(parc_queue_t *q, uint64_t n, bool clamp)
{
    uint64_t old = parc_load(&q->unfinished, PARC_RELAXED);
    uint64_t next;
    do {
        if (old < n && !clamp)
            return false;
        next = old < n ? 0 : old - n;
        /* release: everything the finishing thread did with its items
         * happens before a join that sees the count reach 0; pairs with
         * the acquire load in all_done(). */
    } while (!parc_cas_weak(&q->unfinished, &old, next, PARC_RELEASE, PARC_RELAXED));
    if (next == 0 && old != 0)
        parc_ec_notify_all(&q->all_done);
    return true;
}

int parc_queue_task_done(parc_queue_t *q)
{
    if (q == NULL)
        return EINVAL;
    return tasks_finish(q, 1, false) ? 0 : EINVAL;
}

static bool all_done(void *arg)
{
    parc_queue_t *q = arg;
    /* acquire: pairs with the release CAS in tasks_finish(). */
    return parc_load(&q->unfinished, PARC_ACQUIRE) == 0;
}

int parc_queue_join(parc_queue_t *q)
{
    if (q == NULL)
        return EINVAL;
    return parc_ec_await(&q->all_done, all_done, q, PARC_FOREVER);
}

int parc_queue_join_try(parc_queue_t *q)
{
    if (q == NULL)
        return EINVAL;
    return all_done(q) ? 0 : EAGAIN;
}

int parc_queue_join_timed(parc_queue_t *q, int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (q == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    if (timeout_ns == 0)
        return all_done(q) ? 0 : ETIMEDOUT;
    return parc_ec_await(&q->all_done, all_done, q, deadline);
}

/* ---- shutdown ------------------------------------------------------------- */

static int shut(parc_queue_t *q, bool immediate, void (*drop)(void *, void *), void *arg)
{
    entry_t *slots = NULL;
    size_t cap = 0, head = 0, count = 0;
    parc_queue_order_t order = q->order;
    heap_order_t ho = order_of(q);
    (void)parc_mutex_lock(&q->lock);
    /* release: for waiters polling without the lock (the lock orders it
     * for everyone else); pairs with the acquire loads in can_get/can_put. */
    parc_store(&q->shutdown, 1, PARC_RELEASE);
    if (immediate) {
        /* Detach the items; drop them after unlocking. */
        slots = q->slots;
        cap = q->cap;
        head = q->head;
        count = count_of(q);
        q->slots = NULL;
        q->cap = 0;
        q->head = 0;
        count_set(q, 0);
    }
    (void)parc_mutex_unlock(&q->lock);
    if (immediate) {
        if (drop != NULL) {
            /* Queue order: a heap's array order is not sorted, so pop it. */
            for (size_t i = 0; i < count; i++) {
                void *item;
                if (order == PARC_QUEUE_PRIORITY) {
                    size_t left = count - 1 - i;
                    item = slots[0].item;
                    slots[0] = slots[left];
                    heap_down(slots, 0, left, ho);
                } else if (order == PARC_QUEUE_LIFO) {
                    item = slots[(head + count - 1 - i) & (cap - 1)].item;
                } else {
                    item = slots[(head + i) & (cap - 1)].item;
                }
                drop(item, arg);
            }
        }
        free(slots);
        tasks_finish(q, count, true); /* dropped items count as done */
        parc_ec_notify_all(&q->all_done);
    }
    parc_ec_notify_all(&q->not_empty);
    parc_ec_notify_all(&q->not_full);
    return 0;
}

int parc_queue_shutdown(parc_queue_t *q, bool immediate)
{
    if (q == NULL)
        return EINVAL;
    return shut(q, immediate, NULL, NULL);
}

int parc_queue_shutdown_drop(parc_queue_t *q, void (*drop)(void *item, void *arg), void *arg)
{
    if (q == NULL || drop == NULL)
        return EINVAL;
    return shut(q, true, drop, arg);
}

bool parc_queue_is_shutdown(parc_queue_t *q)
{
    return q != NULL && parc_load(&q->shutdown, PARC_RELAXED) != 0;
}
