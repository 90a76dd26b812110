/* The private timer service (timer.h): a binary min-heap under a mutex and
 * one thread that sleeps on a condition variable until the earliest
 * deadline. */
#include "timer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "parc/cond.h"
#include "parc/mutex.h"

typedef struct timer {
    parc_deadline_t when;
    uint64_t id; /* grows with each add: breaks ties in add order */
    void (*fire)(void *arg);
    void *arg;
} timer_t_;

/* All fields under lock, but the thread's handle. */
struct parc_timers {
    parc_mutex_t lock;
    parc_cond_t wake;   /* the thread sleeps here: a new earliest timer,
                         * or stopping */
    timer_t_ *heap;     /* heap[0] is the earliest */
    size_t n, cap;
    uint64_t last_id;   /* ids given out are 1 .. last_id */
    bool stopping;
    pthread_t thread;
};

/* ---- the heap (under lock) --------------------------------------------- */

static bool before(const timer_t_ *a, const timer_t_ *b)
{
    return a->when < b->when || (a->when == b->when && a->id < b->id);
}

static void heap_swap(parc_timers_t *t, size_t i, size_t j)
{
    timer_t_ x = t->heap[i];
    t->heap[i] = t->heap[j];
    t->heap[j] = x;
}

static void heap_up(parc_timers_t *t, size_t i)
{
    while (i > 0 && before(&t->heap[i], &t->heap[(i - 1) / 2])) {
        heap_swap(t, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(parc_timers_t *t, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, min = i;
        if (l < t->n && before(&t->heap[l], &t->heap[min]))
            min = l;
        if (r < t->n && before(&t->heap[r], &t->heap[min]))
            min = r;
        if (min == i)
            return;
        heap_swap(t, i, min);
        i = min;
    }
}

static timer_t_ heap_remove(parc_timers_t *t, size_t i)
{
    timer_t_ x = t->heap[i];
    t->heap[i] = t->heap[--t->n];
    if (i < t->n) {
        heap_down(t, i);
        heap_up(t, i);
    }
    return x;
}

/* ---- the thread -------------------------------------------------------- */

static void *timers_main(void *arg)
{
    parc_timers_t *t = arg;
    parc_mutex_lock(&t->lock);
    while (!t->stopping) {
        if (t->n == 0 || t->heap[0].when == PARC_FOREVER) {
            parc_cond_wait(&t->wake, &t->lock);
            continue;
        }
        if (t->heap[0].when > parc_now_ns()) {
            parc_cond_wait_until(&t->wake, &t->lock, t->heap[0].when);
            continue;
        }
        /* Out of the heap first: from here on cancel says EALREADY. */
        timer_t_ x = heap_remove(t, 0);
        parc_mutex_unlock(&t->lock);
        x.fire(x.arg);
        parc_mutex_lock(&t->lock);
    }
    parc_mutex_unlock(&t->lock);
    return NULL;
}

/* ---- the interface ----------------------------------------------------- */

int parc_timers_create(parc_timers_t **out)
{
    if (out == NULL)
        return EINVAL;
    parc_timers_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        return ENOMEM;
    parc_mutex_init(&t->lock, PARC_MUTEX_NORMAL);
    parc_cond_init(&t->wake);
    if (pthread_create(&t->thread, NULL, timers_main, t) != 0) {
        parc_cond_destroy(&t->wake);
        parc_mutex_destroy(&t->lock);
        free(t);
        return EAGAIN;
    }
    *out = t;
    return 0;
}

int parc_timers_add(parc_timers_t *t, parc_deadline_t when,
                    void (*fire)(void *arg), void *arg, uint64_t *id)
{
    if (t == NULL || fire == NULL)
        return EINVAL;
    parc_mutex_lock(&t->lock);
    if (t->stopping) {
        parc_mutex_unlock(&t->lock);
        return EPIPE;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap != 0 ? 2 * t->cap : 16;
        timer_t_ *h = realloc(t->heap, cap * sizeof *h);
        if (h == NULL) {
            parc_mutex_unlock(&t->lock);
            return ENOMEM;
        }
        t->heap = h;
        t->cap = cap;
    }
    uint64_t tid = ++t->last_id;
    timer_t_ *x = &t->heap[t->n];
    x->when = when;
    x->id = tid;
    x->fire = fire;
    x->arg = arg;
    heap_up(t, t->n++);
    /* Only a new earliest timer changes how long the thread sleeps. */
    bool earliest = t->heap[0].id == tid;
    /* The id is stored before the lock is released: once it is, the timer
     * may fire, and a fire function that re-arms itself (a ticker) stores
     * its next id through the same pointer; stored after the unlock, the
     * two stores race and the older id could land last. */
    if (id != NULL)
        *id = tid;
    parc_mutex_unlock(&t->lock);
    if (earliest)
        parc_cond_notify_one(&t->wake);
    return 0;
}

int parc_timers_cancel(parc_timers_t *t, uint64_t id, void **arg)
{
    if (t == NULL)
        return EINVAL;
    parc_mutex_lock(&t->lock);
    if (id == 0 || id > t->last_id) {
        parc_mutex_unlock(&t->lock);
        return EINVAL;
    }
    for (size_t i = 0; i < t->n; i++) {
        if (t->heap[i].id != id)
            continue;
        /* Removing a timer never makes the thread sleep too short: at
         * worst it wakes for the one removed and finds a later one. */
        timer_t_ x = heap_remove(t, i);
        parc_mutex_unlock(&t->lock);
        if (arg != NULL)
            *arg = x.arg;
        return 0;
    }
    parc_mutex_unlock(&t->lock);
    return EALREADY;
}

size_t parc_timers_pending(parc_timers_t *t)
{
    if (t == NULL)
        return 0;
    parc_mutex_lock(&t->lock);
    size_t n = t->n;
    parc_mutex_unlock(&t->lock);
    return n;
}

void parc_timers_free(parc_timers_t *t)
{
    if (t == NULL)
        return;
    parc_mutex_lock(&t->lock);
    t->stopping = true;
    t->n = 0; /* pending timers are dropped: their fire is never called */
    parc_mutex_unlock(&t->lock);
    parc_cond_notify_all(&t->wake);
    pthread_join(t->thread, NULL);
    free(t->heap);
    parc_cond_destroy(&t->wake);
    parc_mutex_destroy(&t->lock);
    free(t);
}
