/*
 * Portable parking back-end: pthread mutex + condition buckets hashed by the
 * word's address, with a list of parked waiters per bucket (see
 * parc/park.h).
 *
 * The bucket mutex makes "compare *word with expected, then sleep" atomic
 * with respect to a waker, because the waker takes the same mutex before it
 * wakes: a waker that changed *word before calling wake either runs before
 * the waiter's comparison (which then sees the new value) or after the
 * waiter has joined the bucket's list (which the waker then finds).
 *
 * Wake-ups are exact, as futex's are: each parked thread has a node on its
 * own stack in its bucket's list (FIFO), and wake(word, n) unlinks and marks
 * the first n nodes parked on `word`. A woken thread returns; an unmarked
 * one that the shared condition woke (a wake for another word of the
 * bucket, or a spurious return of pthread_cond_wait) goes back to sleep
 * until it is marked or its deadline passes. So wake_one wakes one thread,
 * and a protocol that loses a wake-up hangs here as it would on a futex:
 * the stress harness's lost-wake-up controls are caught with either
 * back-end.
 *
 * Rejected: broadcasting and letting every waiter of the bucket return
 * (the earlier design). Correct callers re-check, so it worked, but it
 * turned every wake_one into wake_all and hid lost wake-ups from tests.
 * One condition per waiter (signalled directly) would wake only the
 * chosen thread, at the cost of a pthread_cond_init per park; the shared
 * condition wakes the other waiters of the bucket for nothing, which 64
 * buckets keep rare.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "park_backend.h"

#define BUCKETS 64

/* A parked thread: on its own stack, linked while it waits. */
typedef struct waiter {
    struct waiter *next;
    const parc_park_word_t *word;
    bool woken; /* set (and unlinked) by a waker; guarded by the bucket lock */
} waiter_t;

typedef struct bucket {
    PARC_CACHE_ALIGNED pthread_mutex_t lock;
    pthread_cond_t cond;
    waiter_t *head, *tail; /* parked threads, oldest first; guarded by lock */
} bucket_t;

static bucket_t buckets[BUCKETS];
static pthread_once_t buckets_once = PTHREAD_ONCE_INIT;

static void buckets_init(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    /* Deadlines are CLOCK_MONOTONIC: the condition must time out on it. */
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    for (int i = 0; i < BUCKETS; i++) {
        pthread_mutex_init(&buckets[i].lock, NULL);
        pthread_cond_init(&buckets[i].cond, &attr);
        buckets[i].head = buckets[i].tail = NULL;
    }
    pthread_condattr_destroy(&attr);
}

static bucket_t *bucket_of(const parc_park_word_t *word)
{
    pthread_once(&buckets_once, buckets_init);
    uintptr_t a = (uintptr_t)word;
    a ^= a >> 17;
    a *= UINT64_C(0x9E3779B97F4A7C15) & UINTPTR_MAX; /* Fibonacci hashing */
    return &buckets[(a >> 7) % BUCKETS];
}

/* Unlink `w` from b's list (it is there: not woken). Lock held. */
static void unlink_waiter(bucket_t *b, waiter_t *w)
{
    waiter_t *prev = NULL;
    for (waiter_t *p = b->head; p != NULL; prev = p, p = p->next) {
        if (p != w)
            continue;
        if (prev == NULL)
            b->head = p->next;
        else
            prev->next = p->next;
        if (b->tail == p)
            b->tail = prev;
        return;
    }
}

static int condvar_wait(parc_park_word_t *word, uint32_t expected,
                        parc_deadline_t deadline)
{
    bucket_t *b = bucket_of(word);
    int rc = 0;
    pthread_mutex_lock(&b->lock);
    /* Relaxed is enough: the bucket mutex orders this load after any store
     * a waker made before taking the same mutex. */
    if (parc_load(word, PARC_RELAXED) == expected) {
        waiter_t self = { NULL, word, false };
        if (b->tail == NULL)
            b->head = &self;
        else
            b->tail->next = &self;
        b->tail = &self;
        struct timespec ts = { 0, 0 };
        if (deadline != PARC_FOREVER)
            ts = parc_deadline_timespec(deadline);
        while (!self.woken && rc == 0) {
            if (deadline == PARC_FOREVER)
                pthread_cond_wait(&b->cond, &b->lock);
            else
                /* 0 on a wake-up (maybe not ours: loop) or ETIMEDOUT;
                 * EINTR is not a permitted result. */
                rc = pthread_cond_timedwait(&b->cond, &b->lock, &ts);
        }
        if (self.woken)
            rc = 0; /* woken at the deadline: a wake-up, not a timeout */
        else
            unlink_waiter(b, &self);
    }
    pthread_mutex_unlock(&b->lock);
    return rc == ETIMEDOUT ? ETIMEDOUT : 0;
}

static void condvar_wake(parc_park_word_t *word, int count)
{
    bucket_t *b = bucket_of(word);
    int woken = 0;
    pthread_mutex_lock(&b->lock);
    waiter_t *prev = NULL, *w = b->head;
    while (w != NULL && woken < count) {
        waiter_t *next = w->next;
        if (w->word == word) {
            if (prev == NULL)
                b->head = next;
            else
                prev->next = next;
            if (b->tail == w)
                b->tail = prev;
            w->woken = true;
            woken++;
        } else {
            prev = w;
        }
        w = next;
    }
    /* The bucket's condition is shared: broadcast so that the marked
     * threads are among those woken; the unmarked ones sleep again. */
    if (woken > 0)
        pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

const parc_park_backend_t parc_park_condvar_backend = {
    .name = "condvar",
    .wait = condvar_wait,
    .wake = condvar_wake,
};
