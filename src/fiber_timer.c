/* src/fiber_timer.h: the heap and its thread. */
#include "fiber_timer.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

enum { IDLE, QUEUED, FIRING, DONE };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed;
static parc_fiber_timer_t **heap;
static size_t count, capacity;
static int started;              /* 0, 1 running, or an errno value */

static bool earlier(size_t a, size_t b)
{
    return heap[a]->deadline < heap[b]->deadline;
}

static void place(size_t i, parc_fiber_timer_t *t)
{
    heap[i] = t;
    t->index = i;
}

static void sift_up(size_t i)
{
    while (i > 0 && earlier(i, (i - 1) / 2)) {
        size_t parent = (i - 1) / 2;
        parc_fiber_timer_t *t = heap[i];
        place(i, heap[parent]);
        place(parent, t);
        i = parent;
    }
}

static void sift_down(size_t i)
{
    for (;;) {
        size_t least = i, l = 2 * i + 1, r = l + 1;
        if (l < count && earlier(l, least))
            least = l;
        if (r < count && earlier(r, least))
            least = r;
        if (least == i)
            return;
        parc_fiber_timer_t *t = heap[i];
        place(i, heap[least]);
        place(least, t);
        i = least;
    }
}

static void remove_at(size_t i)
{
    count--;
    if (i == count)
        return;
    place(i, heap[count]);
    sift_down(i);
    sift_up(i);
}

static void *timer_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        if (count == 0) {
            pthread_cond_wait(&changed, &lock);
            continue;
        }
        parc_fiber_timer_t *t = heap[0];
        parc_deadline_t now = parc_now_ns();
        if (t->deadline > now) {
            struct timespec ts = { (time_t)(t->deadline / PARC_NS_PER_S),
                                   (long)(t->deadline % PARC_NS_PER_S) };
            pthread_cond_timedwait(&changed, &lock, &ts);
            continue;
        }
        remove_at(0);
        parc_store(&t->state, FIRING, PARC_RELAXED); /* under the lock */
        pthread_mutex_unlock(&lock);
        t->fire(t->arg);
        /* Release: the fire function's writes are done before cancel
         * returns and the timer's storage is reused; pairs with the acquire
         * load in parc_fiber_timer_cancel. */
        parc_store(&t->state, DONE, PARC_RELEASE);
        pthread_mutex_lock(&lock);
    }
    return NULL;
}

static pthread_once_t start_once = PTHREAD_ONCE_INIT;

static void start(void)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&changed, &a);
    pthread_condattr_destroy(&a);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    int rc = pthread_create(&th, &attr, timer_thread, NULL);
    pthread_attr_destroy(&attr);
    started = rc == 0 ? 1 : rc;
}

int parc_fiber_timer_add(parc_fiber_timer_t *t, parc_deadline_t deadline,
                         void (*fire)(void *), void *arg)
{
    pthread_once(&start_once, start);
    if (started != 1)
        return started;
    t->deadline = deadline;
    t->fire = fire;
    t->arg = arg;
    parc_atomic_init(&t->state, QUEUED);
    pthread_mutex_lock(&lock);
    if (count == capacity) {
        size_t n = capacity ? 2 * capacity : 64;
        parc_fiber_timer_t **h = realloc(heap, n * sizeof *h);
        if (h == NULL) {
            pthread_mutex_unlock(&lock);
            return ENOMEM;
        }
        heap = h;
        capacity = n;
    }
    place(count++, t);
    sift_up(t->index);
    if (t->index == 0) /* a new earliest deadline: the thread sleeps less */
        pthread_cond_signal(&changed);
    pthread_mutex_unlock(&lock);
    return 0;
}

void parc_fiber_timer_cancel(parc_fiber_timer_t *t)
{
    pthread_mutex_lock(&lock);
    if (parc_load(&t->state, PARC_RELAXED) == QUEUED) {
        remove_at(t->index);
        parc_store(&t->state, DONE, PARC_RELAXED);
    }
    pthread_mutex_unlock(&lock);
    /* Acquire: pairs with the release after fire() on the timer thread. */
    while (parc_load(&t->state, PARC_ACQUIRE) != DONE)
        sched_yield();
}
