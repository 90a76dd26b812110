/* parc/queue.h: storage (ring or stable heap) under a mutex, waiting
 * through eventcounts. */
#include <stdlib.h>

#include "parc/queue.h"

struct parc_queue_entry {
    void *item;
    uint64_t seq; /* insertion order: ties in the heap go to the older */
};
typedef struct parc_queue_entry entry_t;

#define MIN_CAP 64u

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
    /* Give memory back at an eighth full: a queue that oscillates between
     * c/2 and c items after growing to c never resizes (hysteresis); if the
     * smaller array cannot be had, keep the larger one. */
    if (q->cap > MIN_CAP && count <= q->cap / 8)
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
    parc_queue_wait_t *waits[] = { &q->not_empty, &q->not_full, &q->all_done };
    for (int i = 0; i < 3; i++) {
        parc_atomic_init(&waits[i]->word, 0u);
        waits[i]->waiters = 0;
    }
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

/* ---- waiting (see "Waiting" in queue.h) ---------------------------------- */

/* Lock held: wake one (or every) thread registered on w, if any. Bumping
 * the word first makes a waiter that registered but has not parked yet
 * return from its park at once (the kernel compares the word). */
static void wake(parc_queue_wait_t *w, bool all)
{
    if (w->waiters == 0)
        return;
    /* release: orders the state change made under the lock before the
     * bump, for a waiter that reads the word without the lock (its park);
     * it retakes the lock before reading any state anyway. */
    parc_faa(&w->word, 1u, PARC_RELEASE);
    if (all)
        parc_park_wake_all(&w->word);
    else
        parc_park_wake_one(&w->word);
}

/* The waiting loop shared by put, get and join. attempt(q, arg) runs with
 * the lock held and returns EAGAIN while the caller must wait; ready(q)
 * polls the condition without the lock during the spin. Returns attempt's
 * result, or ETIMEDOUT when the deadline passed first. */
static int wait_for(parc_queue_t *q, parc_queue_wait_t *w,
                    int (*attempt)(parc_queue_t *, void *), void *arg,
                    bool (*ready)(parc_queue_t *), parc_deadline_t deadline)
{
    bool spun = false, registered = false;
    for (;;) {
        (void)parc_mutex_lock(&q->lock);
        if (registered) {
            w->waiters--;
            registered = false;
        }
        int rc = attempt(q, arg);
        if (rc != EAGAIN || parc_deadline_passed(deadline)) {
            (void)parc_mutex_unlock(&q->lock);
            return rc == EAGAIN ? ETIMEDOUT : rc;
        }
        if (!spun) {
            /* Spin first, outside the lock: a hand-off between running
             * threads costs a cache-line round trip, a wake-up from the
             * kernel tens of microseconds. */
            (void)parc_mutex_unlock(&q->lock);
            spun = true;
            for (unsigned i = 0; i < PARC_SPIN_POLLS && !ready(q); i++)
                parc_cpu_relax();
            continue;
        }
        w->waiters++;
        registered = true;
        /* Read under the lock: a waker that changes the state after we
         * unlock bumps the word past this key. */
        uint32_t key = parc_load(&w->word, PARC_RELAXED);
        (void)parc_mutex_unlock(&q->lock);
        (void)parc_park_wait(&w->word, key, deadline);
    }
}

/* ---- put ------------------------------------------------------------------ */

/* Polled without the lock: a snapshot, re-checked under it. */
static bool can_put(parc_queue_t *q)
{
    /* acquire: pairs with the release stores of shutdown / size. */
    return parc_load(&q->shutdown, PARC_ACQUIRE) || q->maxsize == 0 ||
           parc_load(&q->size, PARC_ACQUIRE) < q->maxsize;
}

/* Lock held: 0, EPIPE, ENOMEM, or EAGAIN when full. */
static int put_locked(parc_queue_t *q, void *item)
{
    if (parc_load(&q->shutdown, PARC_RELAXED)) /* written under the lock */
        return EPIPE;
    if (q->maxsize != 0 && count_of(q) >= q->maxsize)
        return EAGAIN;
    int rc = store_item(q, item);
    if (rc == 0) {
        /* Written only under the lock; read without it by join's spin. */
        parc_store(&q->unfinished, parc_load(&q->unfinished, PARC_RELAXED) + 1,
                   PARC_RELAXED);
        wake(&q->not_empty, false);
    }
    return rc;
}

static int put_attempt(parc_queue_t *q, void *arg)
{
    return put_locked(q, arg);
}

int parc_queue_put(parc_queue_t *q, void *item)
{
    if (q == NULL)
        return EINVAL;
    return wait_for(q, &q->not_full, put_attempt, item, can_put, PARC_FOREVER);
}

int parc_queue_put_try(parc_queue_t *q, void *item)
{
    if (q == NULL)
        return EINVAL;
    (void)parc_mutex_lock(&q->lock);
    int rc = put_locked(q, item);
    (void)parc_mutex_unlock(&q->lock);
    return rc;
}

int parc_queue_put_timed(parc_queue_t *q, void *item, int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (q == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    return wait_for(q, &q->not_full, put_attempt, item, can_put, deadline);
}

/* ---- get ------------------------------------------------------------------ */

static bool can_get(parc_queue_t *q)
{
    /* acquire: pairs with the release stores of size / shutdown. */
    return parc_load(&q->size, PARC_ACQUIRE) != 0 ||
           parc_load(&q->shutdown, PARC_ACQUIRE) != 0;
}

/* Lock held: 0, EPIPE (shut down and empty) or EAGAIN. */
static int get_attempt(parc_queue_t *q, void *arg)
{
    if (count_of(q) != 0) {
        *(void **)arg = take_item(q);
        if (q->maxsize != 0)
            wake(&q->not_full, false);
        return 0;
    }
    return parc_load(&q->shutdown, PARC_RELAXED) ? EPIPE : EAGAIN;
}

int parc_queue_get(parc_queue_t *q, void **item)
{
    if (q == NULL || item == NULL)
        return EINVAL;
    return wait_for(q, &q->not_empty, get_attempt, item, can_get, PARC_FOREVER);
}

int parc_queue_get_try(parc_queue_t *q, void **item)
{
    if (q == NULL || item == NULL)
        return EINVAL;
    (void)parc_mutex_lock(&q->lock);
    int rc = get_attempt(q, item);
    (void)parc_mutex_unlock(&q->lock);
    return rc;
}

int parc_queue_get_timed(parc_queue_t *q, void **item, int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (q == NULL || item == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    return wait_for(q, &q->not_empty, get_attempt, item, can_get, deadline);
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

/* Lock held: mark up to n tasks finished (never below 0, Python's clamp in
 * shutdown); wake every join when none is left. */
static void tasks_finish_locked(parc_queue_t *q, uint64_t n)
{
    uint64_t left = parc_load(&q->unfinished, PARC_RELAXED);
    left = left < n ? 0 : left - n;
    /* release: what the finishing threads did with their items happens
     * before a join that sees 0 without the lock (join_try, the spin);
     * pairs with the acquire load in tasks_all_done(). */
    parc_store(&q->unfinished, left, PARC_RELEASE);
    if (left == 0)
        wake(&q->all_done, true);
}

int parc_queue_task_done(parc_queue_t *q)
{
    if (q == NULL)
        return EINVAL;
    (void)parc_mutex_lock(&q->lock);
    int rc = EINVAL; /* more task_done calls than puts */
    if (parc_load(&q->unfinished, PARC_RELAXED) != 0) {
        tasks_finish_locked(q, 1);
        rc = 0;
    }
    (void)parc_mutex_unlock(&q->lock);
    return rc;
}

static bool tasks_all_done(parc_queue_t *q)
{
    /* acquire: pairs with the release store in tasks_finish_locked(). */
    return parc_load(&q->unfinished, PARC_ACQUIRE) == 0;
}

static int join_attempt(parc_queue_t *q, void *arg)
{
    (void)arg;
    return tasks_all_done(q) ? 0 : EAGAIN;
}

int parc_queue_join(parc_queue_t *q)
{
    if (q == NULL)
        return EINVAL;
    return wait_for(q, &q->all_done, join_attempt, NULL, tasks_all_done, PARC_FOREVER);
}

int parc_queue_join_try(parc_queue_t *q)
{
    if (q == NULL)
        return EINVAL;
    return tasks_all_done(q) ? 0 : EAGAIN;
}

int parc_queue_join_timed(parc_queue_t *q, int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (q == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    return wait_for(q, &q->all_done, join_attempt, NULL, tasks_all_done, deadline);
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
        tasks_finish_locked(q, count); /* dropped items count as done */
        wake(&q->all_done, true);
    }
    /* Every blocked get and put re-checks and sees the shutdown. */
    wake(&q->not_empty, true);
    wake(&q->not_full, true);
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
    }
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
