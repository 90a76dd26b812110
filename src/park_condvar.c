/*
 * Portable parking back-end: pthread mutex + condition buckets hashed by the
 * word's address (see parc/park.h).
 *
 * The bucket mutex makes "compare *word with expected, then sleep" atomic
 * with respect to a waker, because the waker takes the same mutex before it
 * signals: a waker that changed *word before calling wake either runs before
 * the waiter's comparison (which then sees the new value) or after the
 * waiter has started waiting (which then receives the broadcast). Several
 * words share a bucket, so a wake always broadcasts the bucket's condition;
 * waiters of other words wake spuriously and re-check.
 */
#include <pthread.h>
#include <stdint.h>

#include "park_backend.h"

#define BUCKETS 64

typedef struct bucket {
    PARC_CACHE_ALIGNED pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned waiters; /* guarded by lock; lets wake skip an empty bucket's
                       * broadcast cheaply */
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
        buckets[i].waiters = 0;
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

static int condvar_wait(parc_park_word_t *word, uint32_t expected,
                        parc_deadline_t deadline)
{
    bucket_t *b = bucket_of(word);
    int rc = 0;
    pthread_mutex_lock(&b->lock);
    /* Relaxed is enough: the bucket mutex orders this load after any store
     * a waker made before taking the same mutex. */
    if (parc_load(word, PARC_RELAXED) == expected) {
        b->waiters++;
        if (deadline == PARC_FOREVER) {
            pthread_cond_wait(&b->cond, &b->lock);
        } else {
            struct timespec ts = parc_deadline_timespec(deadline);
            /* Returns 0 on a (possibly spurious) wake-up or ETIMEDOUT;
             * EINTR is not a permitted result of pthread_cond_timedwait. */
            rc = pthread_cond_timedwait(&b->cond, &b->lock, &ts);
        }
        b->waiters--;
    }
    pthread_mutex_unlock(&b->lock);
    return rc == ETIMEDOUT ? ETIMEDOUT : 0;
}

static void condvar_wake(parc_park_word_t *word, int count)
{
    (void)count; /* the bucket is shared: always broadcast */
    bucket_t *b = bucket_of(word);
    pthread_mutex_lock(&b->lock);
    if (b->waiters > 0)
        pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

const parc_park_backend_t parc_park_condvar_backend = {
    .name = "condvar",
    .wait = condvar_wait,
    .wake = condvar_wake,
};
