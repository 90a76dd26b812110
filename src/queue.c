/* parc/queue.h: a two-lock ring (FIFO) or a one-lock stack / stable heap
 * (LIFO, PRIORITY); waiters register under those locks and park. */
#include "queue_internal.h"

/* ---- the heap (PRIORITY; take lock held) ---------------------------------- */

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

/* ---- storage --------------------------------------------------------------- */

/*
 * FIFO storage: a chain of segments, as a linked list of arrays (the
 * layout of Yang and Mellor-Crummey's and of Morrison and Afek's queues,
 * here under the two locks). Producers (put lock) fill the tail segment
 * and link a new one when it is full; consumers (take lock) free each
 * segment as they leave it. Why not one ring that doubles and halves: a
 * stream whose backlog swings with the scheduler (a producer that runs
 * alone for a time slice) made the ring grow and shrink every swing,
 * copying about every item once and mapping and unmapping large blocks
 * (page faults, TLB shootdowns) under both locks; segments are never
 * copied, and memory still goes back as the queue drains.
 *
 * Segments double from MIN_CAP slots to SEG_MAX_SLOTS (8 KiB), so a small
 * queue stays small. One drained segment of the largest size is kept as
 * `spare` for the next producer that needs one (a steady stream then
 * allocates nothing); any other drained segment is freed at once.
 *
 * Who may touch a segment: producers only the tail segment (tail_seg,
 * under the put lock) and the one they link after it; consumers only
 * segments holding items below the tail they read with acquire (head_seg,
 * under the take lock). A consumer leaves (and frees) a segment when it
 * needs item `base + cap`, which a producer stored after it had moved
 * tail_seg on: no producer touches the segment again.
 */
#define SEG_MAX_SLOTS 1024u

struct parc_queue_segment {
    struct parc_queue_segment *next; /* written before the tail store that
                                      * publishes an item in the next */
    size_t base;                     /* index of slots[0] */
    size_t cap;                      /* slots: a power of two */
    void *slots[];
};
typedef struct parc_queue_segment seg_t;

/* Put lock held: a segment of `cap` slots starting at index `base`: the
 * spare if it fits, else a new one. NULL when out of memory. */
static seg_t *seg_get(parc_queue_t *q, size_t base, size_t cap)
{
    seg_t *s = NULL;
    if (cap == SEG_MAX_SLOTS && parc_load(&q->spare, PARC_RELAXED) != NULL)
        /* acquire: the consumer that left it there is done with it; pairs
         * with the release exchange in seg_leave(). */
        s = parc_xchg(&q->spare, NULL, PARC_ACQUIRE);
    if (s == NULL)
        s = malloc(sizeof *s + cap * sizeof s->slots[0]);
    if (s != NULL) {
        s->next = NULL;
        s->base = base;
        s->cap = cap;
    }
    return s;
}

/* Take lock held: the consumers are done with s: keep it as the spare (if
 * of the largest size) or free it. */
static void seg_leave(parc_queue_t *q, seg_t *s)
{
    if (s->cap == SEG_MAX_SLOTS)
        /* release: our reads of s happen before its reuse by the producer
         * that takes it (seg_get's acquire). The one it replaces (rare: a
         * producer took none since) is ours to free. */
        s = parc_xchg(&q->spare, s, PARC_ACQ_REL);
    free(s);
}

/* Free a chain of segments (exclusive access, or detached). */
static void seg_free_chain(seg_t *s)
{
    while (s != NULL) {
        seg_t *next = s->next;
        free(s);
        s = next;
    }
}

/* Put lock held, FIFO: store item at index t (the tail). 0 or ENOMEM. */
static int seg_store(parc_queue_t *q, size_t t, void *item)
{
    seg_t *s = q->tail_seg;
    if (s == NULL || t - s->base == s->cap) {
        size_t cap = s == NULL ? MIN_CAP : s->cap * 2;
        seg_t *n = seg_get(q, t, cap > SEG_MAX_SLOTS ? SEG_MAX_SLOTS : cap);
        if (n == NULL)
            return ENOMEM;
        if (s == NULL)
            /* the first segment (or the first after an immediate
             * shutdown emptied the chain): consumers read head_seg only
             * for items below a tail they read with acquire, published
             * after this store by store_item's release store of tail. */
            q->head_seg = n;
        else
            s->next = n; /* published likewise */
        q->tail_seg = n;
        s = n;
    }
    s->slots[t - s->base] = item;
    return 0;
}

/* Take lock held, FIFO, item h present: its slot, moving head_seg on (and
 * giving the segment left behind back) when h is past its end. */
static void **seg_slot(parc_queue_t *q, size_t h)
{
    seg_t *s = q->head_seg;
    if (h - s->base == s->cap) {
        seg_t *next = s->next; /* linked before item h's tail store */
        q->head_seg = next;
        seg_leave(q, s);
        s = next;
    }
    return &s->slots[h - s->base];
}

/* LIFO and PRIORITY (take lock held): move the items [0, tail) into a new
 * array of `cap` slots (>= the count). Returns false on ENOMEM. */
static bool resize(parc_queue_t *q, size_t cap)
{
    void *n = malloc(cap * (is_heap(q) ? sizeof(entry_t) : sizeof(void *)));
    if (n == NULL)
        return false;
    size_t h = parc_load(&q->head, PARC_RELAXED); /* both locks: stable */
    size_t t = parc_load(&q->tail, PARC_RELAXED);
    for (size_t i = h; i != t; i++) {
        if (is_heap(q))
            ((entry_t *)n)[i] = heap(q)[i];
        else
            ((void **)n)[i] = ring(q)[i];
    }
    free(q->slots);
    q->slots = n;
    q->cap = cap;
    return true;
}

/* Put lock held: insert (room by maxsize was checked). 0 or ENOMEM. */
static int store_item(parc_queue_t *q, void *item)
{
    size_t t = parc_load(&q->tail, PARC_RELAXED); /* only we write it */
    if (is_fifo(q)) {
        int rc = seg_store(q, t, item);
        if (rc != 0)
            return rc;
    } else {
        if (t >= q->cap && !resize(q, q->cap ? q->cap * 2 : MIN_CAP))
            return ENOMEM;
        if (is_heap(q)) {
            heap(q)[t] = (entry_t){ item, q->seq++ };
            heap_up(heap(q), t, (heap_order_t){ q->cmp, q->cmp_arg });
        } else {
            ring(q)[t] = item;
        }
    }
    if (is_fifo(q)) {
        /* The newest item's copy, rewritten as a seqlock (Boehm, "Can
         * seqlocks get along with programming language memory models?",
         * MSPC 2012): mark it busy; release fence: a reader whose load of
         * last_item sees the new item and then executes its acquire fence
         * reads BUSY or later from last_index, so it drops the copy. */
        parc_store(&q->last_index, PARC_QUEUE_BUSY_, PARC_RELAXED);
        parc_fence(PARC_RELEASE);
        parc_store(&q->last_item, item, PARC_RELAXED);
        /* release: publishes the copy (and the item's contents) to a
         * consumer that reads this index with acquire (take_fifo). */
        parc_store(&q->last_index, t, PARC_RELEASE);
    }
    /* Counted before the item is visible: a task_done for it always finds
     * puts > done. Only producers write it (under the put lock). release:
     * pairs with the acquire loads of puts in the task functions. */
    parc_store(&q->puts, parc_load(&q->puts, PARC_RELAXED) + 1, PARC_RELEASE);
    /* release: publishes the slot (and the item's contents) and the count
     * above to a consumer that reads this tail with acquire. */
    parc_store(&q->tail, t + 1, PARC_RELEASE);
    return 0;
}

/* Take lock held, FIFO, item h present: read it, from the copy of the
 * newest item next to the tail when that is item h (the seqlock reader
 * for the writer in store_item), else from its slot. */
static void *take_fifo(parc_queue_t *q, size_t h)
{
    void **slot = seg_slot(q, h); /* moves head_seg on, even if unread */
    /* acquire: pairs with the release store of the index in store_item:
     * the copy (and what the item points to) written before it is
     * visible. */
    if (parc_load(&q->last_index, PARC_ACQUIRE) == h) {
        void *item = parc_load(&q->last_item, PARC_RELAXED);
        /* acquire fence: pairs with the producer's release fence; if the
         * load above saw a newer item, the re-read below sees BUSY or a
         * newer index. */
        parc_fence(PARC_ACQUIRE);
        if (parc_load(&q->last_index, PARC_RELAXED) == h)
            return item;
    }
    return *slot;
}

/* Take lock held, queue not empty: remove the next item. */
static void *take_item(parc_queue_t *q)
{
    size_t h = parc_load(&q->head, PARC_RELAXED);
    void *item;
    if (is_fifo(q)) {
        item = take_fifo(q, h);
        /* release: we are done with the slot; a producer that reads this
         * head with acquire may reuse it (store_item). */
        parc_store(&q->head, h + 1, PARC_RELEASE);
    } else {
        /* LIFO/PRIORITY: the tail is ours (take lock); FIFO never reads
         * it here, as it is the producers' line. */
        size_t n = parc_load(&q->tail, PARC_RELAXED) - 1;
        if (q->order == PARC_QUEUE_LIFO) {
            item = ring(q)[n];
        } else {
            item = heap(q)[0].item;
            heap(q)[0] = heap(q)[n];
            heap_down(heap(q), 0, n, (heap_order_t){ q->cmp, q->cmp_arg });
        }
        /* release: for lock-free readers of the count (waiters, qsize). */
        parc_store(&q->tail, n, PARC_RELEASE);
    }
    /* LIFO/PRIORITY give memory back at an eighth full: a queue that
     * oscillates between c/2 and c items after growing to c never resizes
     * (hysteresis). FIFO segments go back as they drain (seg_slot). */
    if (!is_fifo(q) && q->cap > MIN_CAP && count_now(q) <= q->cap / 8)
        (void)resize(q, q->cap / 2);
    return item;
}

/* ---- life cycle ---------------------------------------------------------- */

int parc_queue_init(parc_queue_t *q, int64_t maxsize, parc_queue_order_t order,
                    parc_queue_cmp_t *cmp, void *cmp_arg)
{
    if (q == NULL || maxsize < 0 || (uint64_t)maxsize > SIZE_MAX / 4)
        return EINVAL;
    if (order != PARC_QUEUE_FIFO && order != PARC_QUEUE_LIFO &&
        order != PARC_QUEUE_PRIORITY)
        return EINVAL;
    if (order == PARC_QUEUE_PRIORITY && cmp == NULL)
        return EINVAL;
    (void)parc_mutex_init(&q->lock, PARC_MUTEX_NORMAL); /* cannot fail */
    (void)parc_mutex_init(&q->put_lock, PARC_MUTEX_NORMAL);
    q->slots = NULL;
    q->cap = 0;
    q->seq = 0;
    q->maxsize = (size_t)maxsize;
    q->order = order;
    q->cmp = cmp;
    q->cmp_arg = cmp_arg;
    parc_atomic_init(&q->tail, 0);
    parc_atomic_init(&q->puts, 0);
    parc_atomic_init(&q->last_index, PARC_QUEUE_BUSY_);
    parc_atomic_init(&q->last_item, NULL);
    parc_atomic_init(&q->head, 0);
    parc_atomic_init(&q->done, 0);
    q->head_seen = 0;
    parc_atomic_init(&q->tail_seen, 0);
    parc_atomic_init(&q->shutdown, 0);
    q->head_seg = NULL;
    q->tail_seg = NULL;
    parc_atomic_init(&q->spare, NULL);
    parc_queue_waiters_t *ws[] = { &q->getters_fifo, &q->getters_locked,
                                   &q->putters, &q->joiners };
    for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++) {
        ws[i]->count = 0;
        ws[i]->signalled = 0;
        parc_atomic_init(&ws[i]->seq, 0u);
    }
    return 0;
}

int parc_queue_destroy(parc_queue_t *q)
{
    if (q == NULL)
        return EINVAL;
    free(q->slots); /* exclusive access */
    q->slots = NULL;
    q->cap = 0;
    seg_free_chain(q->head_seg);
    q->head_seg = NULL;
    q->tail_seg = NULL;
    free(parc_load(&q->spare, PARC_RELAXED));
    parc_store(&q->spare, NULL, PARC_RELAXED);
    parc_store(&q->head, 0, PARC_RELAXED);
    parc_store(&q->tail, 0, PARC_RELAXED);
    return 0;
}

int parc_queue_init_fifo(parc_queue_t *q, int64_t maxsize)
{
    return parc_queue_init(q, maxsize, PARC_QUEUE_FIFO, NULL, NULL);
}

int parc_queue_create(parc_queue_t **out, int64_t maxsize,
                      parc_queue_order_t order, parc_queue_cmp_t *cmp,
                      void *cmp_arg)
{
    if (out == NULL)
        return EINVAL;
    *out = NULL;
    /* The struct is PARC_CACHE_ALIGNED, so its size is a multiple of the
     * line, as aligned_alloc requires. */
    parc_queue_t *q = aligned_alloc(PARC_CACHELINE, sizeof *q);
    if (q == NULL)
        return ENOMEM;
    int rc = parc_queue_init(q, maxsize, order, cmp, cmp_arg);
    if (rc != 0) {
        free(q);
        return rc;
    }
    *out = q;
    return 0;
}

void parc_queue_free(parc_queue_t *q)
{
    if (q == NULL)
        return;
    (void)parc_queue_destroy(q);
    free(q);
}

/* ---- put ------------------------------------------------------------------ */

/* Polled without the locks (a snapshot, re-checked under them). */
static bool can_put(parc_queue_t *q)
{
    /* acquire: pairs with the release store of shutdown. */
    return parc_load(&q->shutdown, PARC_ACQUIRE) || q->maxsize == 0 ||
           count_now(q) < q->maxsize;
}

/* Put lock held, bounded queue: at maxsize? */
static bool is_full(parc_queue_t *q)
{
    if (!is_fifo(q))
        return count_now(q) >= q->maxsize;
    size_t t = parc_load(&q->tail, PARC_RELAXED); /* only we write it */
    if (t - q->head_seen < q->maxsize)
        return false;
    /* acquire: as in store_item(). */
    q->head_seen = parc_load(&q->head, PARC_ACQUIRE);
    return t - q->head_seen >= q->maxsize;
}

/* One attempt: 0, EPIPE, ENOMEM, or EAGAIN when full. */
static int put_once(parc_queue_t *q, void *item)
{
    parc_mutex_t *pl = put_lock(q);
    lock(pl);
    int rc;
    /* Written under both locks: stable under either. */
    if (parc_load(&q->shutdown, PARC_RELAXED))
        rc = EPIPE;
    else if (q->maxsize != 0 && is_full(q))
        rc = EAGAIN;
    else
        rc = store_item(q, item);
    bool wake_getter = rc == 0 && claim_one(getters(q));
    unlock(pl);
    if (wake_getter)
        parc_queue_wake_(getters(q), false);
    return rc;
}

static int put_until(parc_queue_t *q, void *item, parc_deadline_t deadline)
{
    for (;;) {
        int rc = put_once(q, item);
        if (rc != EAGAIN)
            return rc;
        if (parc_queue_await_(q, &q->putters, &q->lock, can_put, deadline) == ETIMEDOUT) {
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

static bool can_get(parc_queue_t *q)
{
    /* acquire: pairs with the release store of shutdown. */
    return count_now(q) != 0 || parc_load(&q->shutdown, PARC_ACQUIRE) != 0;
}

/* Take lock held: is there an item? */
static bool has_item(parc_queue_t *q)
{
    if (!is_fifo(q))
        return parc_load(&q->tail, PARC_RELAXED) != 0; /* under our lock */
    size_t h = parc_load(&q->head, PARC_RELAXED); /* only we write it */
    if (parc_load(&q->tail_seen, PARC_RELAXED) != h) /* ours, under lock */
        return true;
    /* acquire: pairs with the producer's release store of tail: the slots
     * below it are filled. */
    size_t t = parc_load(&q->tail, PARC_ACQUIRE);
    parc_store(&q->tail_seen, t, PARC_RELAXED);
    return t != h;
}

/* One attempt: 0, EPIPE (shut down and empty) or EAGAIN. */
static int get_once(parc_queue_t *q, void **item)
{
    /* Empty and open, seen without the lock: EAGAIN without two locked
     * RMWs (a consumer that keeps up with its producer finds the queue
     * empty often). Linearizable: head == tail held when the tail was
     * read (head never passes it), and shutdown, read after, was 0 then
     * too (it is never cleared). acquire: as in can_get. A FIFO consumer
     * first asks the tail it saw last (a hint, read without the lock):
     * while that is beyond head there are items, and the producers' tail
     * line is left alone. */
    bool seen_all = !is_fifo(q) || parc_load(&q->tail_seen, PARC_RELAXED) ==
                                       parc_load(&q->head, PARC_RELAXED);
    if (seen_all && count_now(q) == 0 && !parc_load(&q->shutdown, PARC_ACQUIRE))
        return EAGAIN;
    lock(&q->lock);
    int rc = 0;
    if (has_item(q))
        *item = take_item(q);
    else if (parc_load(&q->shutdown, PARC_RELAXED)) /* written under both */
        rc = EPIPE;
    else
        rc = EAGAIN;
    bool wake_putter = rc == 0 && claim_one(&q->putters);
    unlock(&q->lock);
    if (wake_putter)
        parc_queue_wake_(&q->putters, false);
    return rc;
}

static int get_until(parc_queue_t *q, void **item, parc_deadline_t deadline)
{
    for (;;) {
        int rc = get_once(q, item);
        if (rc != EAGAIN)
            return rc;
        if (parc_queue_await_(q, getters(q), put_lock(q), can_get, deadline) == ETIMEDOUT) {
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
    return q == NULL ? 0 : count_now(q);
}

bool parc_queue_empty(parc_queue_t *q)
{
    return parc_queue_qsize(q) == 0;
}

bool parc_queue_full(parc_queue_t *q)
{
    return q != NULL && q->maxsize != 0 && parc_queue_qsize(q) >= q->maxsize;
}

/* ---- shutdown ------------------------------------------------------------- */

static int shut(parc_queue_t *q, bool immediate, void (*drop)(void *, void *), void *arg)
{
    void *slots = NULL;
    seg_t *chain = NULL;
    size_t head = 0, count = 0;
    if (is_fifo(q))
        lock(&q->put_lock); /* order: put lock, take lock */
    lock(&q->lock);
    /* release: for waiters polling without the locks; pairs with the
     * acquire loads in can_get/can_put. Under both locks, so every later
     * put fails and every get after the drain sees it. */
    parc_store(&q->shutdown, 1, PARC_RELEASE);
    if (immediate) {
        /* Detach the items; hand them to drop after unlocking. */
        slots = q->slots;
        chain = q->head_seg;
        head = parc_load(&q->head, PARC_RELAXED);
        count = count_now(q);
        q->slots = NULL;
        q->cap = 0;
        q->head_seg = NULL;
        q->tail_seg = NULL;
        /* release: for lock-free readers of the count. */
        parc_store(&q->head, 0, PARC_RELEASE);
        parc_store(&q->tail, 0, PARC_RELEASE);
        /* the copy of the newest item goes too (both locks held) */
        parc_store(&q->last_index, PARC_QUEUE_BUSY_, PARC_RELAXED);
        q->head_seen = 0;
        parc_store(&q->tail_seen, 0, PARC_RELAXED);
        (void)parc_queue_tasks_finish_locked_(q, count); /* dropped items count as
                                              * done; joins woken below */
    }
    /* Every parked thread re-checks: each registered under one of the
     * locks held here, so it is parked (and claimed now) or will see the
     * shutdown. Joins re-park unless their tasks are all done. */
    bool wake_joiners = claim_all(&q->joiners);
    bool wake_getters = claim_all(getters(q));
    bool wake_putters = claim_all(&q->putters);
    unlock(&q->lock);
    if (is_fifo(q))
        unlock(&q->put_lock);
    if (drop != NULL) {
        heap_order_t ho = { q->cmp, q->cmp_arg };
        seg_t *s = chain;
        for (size_t i = 0; i < count; i++) {
            void *item;
            size_t left = count - 1 - i;
            if (q->order == PARC_QUEUE_PRIORITY) {
                /* a heap's array order is not sorted: pop it */
                entry_t *e = slots;
                item = e[0].item;
                e[0] = e[left];
                heap_down(e, 0, left, ho);
            } else if (q->order == PARC_QUEUE_LIFO) {
                item = ((void **)slots)[left];
            } else {
                while (head + i - s->base >= s->cap)
                    s = s->next;
                item = s->slots[head + i - s->base];
            }
            drop(item, arg);
        }
    }
    free(slots);
    seg_free_chain(chain);
    if (wake_joiners)
        parc_queue_wake_(&q->joiners, true);
    if (wake_getters)
        parc_queue_wake_(getters(q), true);
    if (wake_putters)
        parc_queue_wake_(&q->putters, true);
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

