/*
 * stress/impls/fiber.c — a custom workload for parc's fibers run M:N on a
 * pool (parc/fiber.h), blocking on parc's primitives.
 *
 *   fiber.mn  100,000 fibers (10,000 under chaos, 25,000 under ASan:
 *             the harness's slowdown; 4,000 under TSan, which keeps a
 *             thread context per live fiber and allows 8,128) on a pool of 2..4
 *             workers. All of them first park on one of 64 events, which
 *             the harness thread sets one by one once every fiber is
 *             spawned (a timed wait: a fiber that times out was not woken,
 *             a lost wake-up);
 *             then each plays one role, a quarter each:
 *               mutex     lock, bump a NON-atomic counter with an "inside"
 *                         flag, sometimes yield while holding it (so
 *                         others park on it), unlock: mutual exclusion,
 *                         and the counter equals the acquisitions;
 *               sem       take one of 3 permits, count holders (never more
 *                         than 3), sometimes yield, give it back; at the
 *                         end exactly 3 permits can be taken back; one in
 *                         16 declares a blocking call with
 *                         parc_pool_block_begin/end while holding it (the
 *                         fiber stays on its thread, a yield inside is
 *                         refused, the end ends it);
 *               producer  put items {producer, seq} into a bounded queue
 *                         of 64 (producers park when it is full); every
 *                         second producer sends them into a parc_chan_t
 *                         instead, a rendezvous or a ring of 16 (send
 *                         parks until a receiver takes the value, or
 *                         while the ring is full);
 *               consumer  get as many items from the same kind as the
 *                         producer of its number (consumers park when
 *                         empty): every item is taken exactly once.
 *             A fiber that resumes on another worker than it parked on
 *             counts a migration; with 2+ workers some must happen (a
 *             run without one reports SKIP: nothing migrated).
 *             Stacks: 16 KiB unguarded in the default build (64 KiB in
 *             sanitizer builds): 100,000 guarded stacks would pass Linux's
 *             limit of 65,530 memory mappings.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parc/chan.h"
#include "parc/event.h"
#include "parc/fiber.h"
#include "parc/mutex.h"
#include "parc/pool.h"
#include "parc/queue.h"
#include "parc/sem.h"
#include "parc/stress.h"

#ifndef PARC_SLOWDOWN
#define PARC_SLOWDOWN 1
#endif

#define PERMITS 3
#define ITEMS_PER_PRODUCER 4
#define LOCKS_PER_FIBER 4

typedef struct mn_run {
    parc_stress_ctx_t *ctx;
    parc_pool_t *pool;
#define START_EVENTS 64
    parc_event_t go[START_EVENTS];
    parc_mutex_t mutex;
    long counter;                  /* NON-atomic: the mutex orders it */
    int inside;                    /* NON-atomic: 1 while held */
    parc_sem_t sem;
    parc_atomic(int) holders;
    parc_queue_t queue;
    parc_chan_t rendezvous, ring;
    parc_atomic(uint8_t) *taken;   /* per item: times consumed */
    size_t producers;
    parc_atomic(uint64_t) migrations;
    parc_atomic(uint64_t) finished;
    int64_t patience;
} mn_run_t;

typedef struct mn_fiber {
    mn_run_t *r;
    size_t index;
} mn_fiber_t;

static int worker_now(mn_run_t *r)
{
    return parc_pool_current_worker(r->pool);
}

/* Wait on the start event; count a migration if the fiber comes back on
 * another worker. */
static void wait_for_go(mn_run_t *r, size_t index)
{
    int before = worker_now(r);
    int rc = parc_event_wait_timed(&r->go[index % START_EVENTS], r->patience);
    if (rc != 0)
        parc_stress_fail(r->ctx, "a fiber parked on the start event was not woken "
                                 "within %lld ms (rc %d): lost wake-up",
                         (long long)(r->patience / PARC_NS_PER_MS), rc);
    if (worker_now(r) != before)
        parc_faa(&r->migrations, 1u, PARC_RELAXED);
}

static void play_mutex(mn_run_t *r, size_t index)
{
    for (int i = 0; i < LOCKS_PER_FIBER; i++) {
        if (parc_mutex_lock(&r->mutex) != 0) {
            parc_stress_fail(r->ctx, "mutex lock failed");
            return;
        }
        if (r->inside++ != 0)
            parc_stress_fail(r->ctx, "two fibers inside the mutex at once");
        r->counter++;
        if ((index + (size_t)i) % 5 == 0)
            parc_fiber_yield(); /* holding it: the others park */
        r->inside--;
        if (parc_mutex_unlock(&r->mutex) != 0)
            parc_stress_fail(r->ctx, "mutex unlock failed (owner lost across a migration?)");
    }
    parc_stress_add_ops(r->ctx, LOCKS_PER_FIBER);
}

static void play_sem(mn_run_t *r, size_t index)
{
    if (parc_sem_acquire(&r->sem, 1) != 0) {
        parc_stress_fail(r->ctx, "sem acquire failed");
        return;
    }
    /* relaxed: a count of holders; the semaphore orders nothing here */
    int h = parc_faa(&r->holders, 1, PARC_RELAXED) + 1;
    if (h > PERMITS)
        parc_stress_fail(r->ctx, "%d fibers hold a semaphore of %d permits", h, PERMITS);
    if (index % 64 == 1) {
        /* A declared blocking call through the pool's own API, holding
         * the permit: the fiber must stay on its thread until the end
         * (a yield inside is refused) and the pair must balance. */
        pthread_t thread = pthread_self();
        if (parc_pool_block_begin() != 0)
            parc_stress_fail(r->ctx, "parc_pool_block_begin in a fiber failed");
        if (parc_fiber_yield() != EBUSY)
            parc_stress_fail(r->ctx, "a fiber yielded inside a declared blocking section");
        parc_sleep_ns(20 * PARC_NS_PER_US); /* the system call */
        if (!pthread_equal(thread, pthread_self()))
            parc_stress_fail(r->ctx, "a fiber left its thread inside a declared "
                                     "blocking section");
        if (parc_pool_block_end() != 0 || parc_fiber_blocking() != 0)
            parc_stress_fail(r->ctx, "parc_pool_block_end in a fiber did not end its section");
    } else if (index % 3 == 0) {
        parc_fiber_yield();
    }
    parc_faa(&r->holders, -1, PARC_RELAXED);
    parc_sem_release(&r->sem, 1);
    parc_stress_add_ops(r->ctx, 1);
}

/* Where producer (and consumer) number p hand items over: the queue for
 * even p, a channel for odd p. */
static parc_chan_t *chan_of(mn_run_t *r, size_t p)
{
    return p % 2 == 0 ? NULL : p % 4 == 1 ? &r->rendezvous : &r->ring;
}

static void play_producer(mn_run_t *r, size_t producer)
{
    parc_chan_t *c = chan_of(r, producer);
    for (uintptr_t seq = 0; seq < ITEMS_PER_PRODUCER; seq++) {
        uintptr_t item = producer * ITEMS_PER_PRODUCER + seq + 1; /* never NULL */
        if (c != NULL ? parc_chan_send(c, &item) != 0
                      : parc_queue_put(&r->queue, (void *)item) != 0) {
            parc_stress_fail(r->ctx, "%s failed", c != NULL ? "chan send" : "queue put");
            return;
        }
    }
    parc_stress_add_ops(r->ctx, ITEMS_PER_PRODUCER);
}

static void play_consumer(mn_run_t *r, size_t consumer)
{
    parc_chan_t *c = chan_of(r, consumer);
    for (int i = 0; i < ITEMS_PER_PRODUCER; i++) {
        void *v;
        uintptr_t got = 0;
        if (c != NULL ? parc_chan_recv(c, &got) != 0 : parc_queue_get(&r->queue, &v) != 0) {
            parc_stress_fail(r->ctx, "%s failed", c != NULL ? "chan recv" : "queue get");
            return;
        }
        uintptr_t item = (c != NULL ? got : (uintptr_t)v) - 1;
        if (item >= r->producers * ITEMS_PER_PRODUCER) {
            parc_stress_fail(r->ctx, "queue returned an item never put: %lu",
                             (unsigned long)item);
            continue;
        }
        parc_faa(&r->taken[item], 1u, PARC_RELAXED);
    }
    parc_stress_add_ops(r->ctx, ITEMS_PER_PRODUCER);
}

static void mn_fiber_main(void *arg)
{
    mn_fiber_t *f = arg;
    mn_run_t *r = f->r;
    wait_for_go(r, f->index);
    switch (f->index % 4) {
    case 0: play_mutex(r, f->index); break;
    case 1: play_sem(r, f->index); break;
    case 2: play_producer(r, f->index / 4); break;
    default: play_consumer(r, f->index / 4); break;
    }
    parc_faa(&r->finished, 1u, PARC_RELAXED);
}

/* The harness thread: spawn every fiber, set the event, join them all. */
static void mn_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    mn_run_t *r = arg;
    size_t n = r->producers * 4;
    mn_fiber_t *args = calloc(n, sizeof *args);
    parc_fiber_t **fibers = calloc(n, sizeof *fibers);
    if (args == NULL || fibers == NULL) {
        parc_stress_fail(ctx, "out of memory");
        free(args);
        free(fibers);
        return;
    }
    parc_fiber_attr_t attr = PARC_FIBER_ATTR_INIT;
    attr.stack_size = PARC_SLOWDOWN > 1 ? 64u << 10 : 16u << 10;
    attr.flags = PARC_FIBER_UNGUARDED;
    size_t spawned = 0;
    for (; spawned < n; spawned++) {
        args[spawned] = (mn_fiber_t){ r, spawned };
        int rc = parc_fiber_spawn(r->pool, mn_fiber_main, &args[spawned], &attr,
                                  &fibers[spawned]);
        if (rc != 0) {
            parc_stress_fail(ctx, "spawning fiber %zu failed: %d", spawned, rc);
            break;
        }
        if ((spawned & 1023u) == 0)
            parc_stress_progress(ctx, index, "spawn");
    }
    if (spawned < n) {
        /* The fibers spawned so far must still finish: their partners
         * never come, so close the queue and fill the mutex/sem roles. */
        parc_queue_shutdown(&r->queue, false);
        parc_chan_close(&r->rendezvous);
        parc_chan_close(&r->ring);
    }
    for (unsigned e = 0; e < START_EVENTS; e++) {
        parc_event_set(&r->go[e]);
        parc_stress_progress(ctx, index, "start event set");
    }
    /* Report progress while fibers finish (for the watchdog), then join. */
    uint64_t seen = 0, now;
    while ((now = parc_load(&r->finished, PARC_RELAXED)) < spawned &&
           !parc_stress_stopping(ctx)) {
        if (now != seen)
            parc_stress_progress(ctx, index, "fibers finishing");
        else
            parc_stress_note(ctx, index, "waiting for fibers");
        seen = now;
        parc_sleep_ns(10 * PARC_NS_PER_MS);
    }
    for (size_t i = 0; i < spawned; i++) {
        parc_fiber_join(fibers[i]);
        parc_fiber_free(fibers[i]);
    }
    free(args);
    free(fibers);
}

static int mn_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    mn_run_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return ENOMEM;
    r->ctx = ctx;
#ifdef PARC_TSAN
    r->producers = 4000u / 4;
#else
    r->producers = 100000u / PARC_SLOWDOWN / 4;
#endif
    r->patience = parc_stress_patience_ns(ctx) * 30;
    r->taken = calloc(r->producers * ITEMS_PER_PRODUCER, sizeof *r->taken);
    unsigned workers = parc_stress_threads(ctx);
    workers = workers < 2 ? 2 : workers > 4 ? 4 : workers;
    int rc = r->taken == NULL ? ENOMEM : parc_pool_create(workers, NULL, &r->pool);
    if (rc != 0) {
        free(r->taken);
        free(r);
        return rc;
    }
    for (unsigned e = 0; e < START_EVENTS; e++)
        parc_event_init(&r->go[e]);
    parc_mutex_init(&r->mutex, PARC_MUTEX_ERRORCHECK); /* owner: the fiber */
    parc_sem_init(&r->sem, PERMITS);
    parc_queue_init(&r->queue, 64, PARC_QUEUE_FIFO, NULL, NULL);
    if (rc == 0)
        rc = parc_chan_init(&r->rendezvous, sizeof(uintptr_t), 0);
    if (rc == 0 && (rc = parc_chan_init(&r->ring, sizeof(uintptr_t), 16)) != 0)
        parc_chan_destroy(&r->rendezvous);
    if (rc != 0) {
        parc_pool_free(r->pool);
        parc_queue_destroy(&r->queue);
        parc_sem_destroy(&r->sem);
        parc_mutex_destroy(&r->mutex);
        for (unsigned e = 0; e < START_EVENTS; e++)
            parc_event_destroy(&r->go[e]);
        free(r->taken);
        free(r);
        return rc;
    }

    rc = parc_stress_run_threads(ctx, 1, mn_thread, r);
    parc_pool_join(r->pool);

    size_t fibers = r->producers * 4;
    if (rc == 0 && parc_load(&r->finished, PARC_RELAXED) == fibers) {
        long locks = (long)((fibers + 3) / 4) * LOCKS_PER_FIBER;
        if (r->counter != locks)
            parc_stress_fail(ctx, "mutex counter %ld, expected %ld: lost updates",
                             r->counter, locks);
        size_t lost = 0, twice = 0;
        for (size_t i = 0; i < r->producers * ITEMS_PER_PRODUCER; i++) {
            uint8_t t = parc_load(&r->taken[i], PARC_RELAXED);
            lost += t == 0;
            twice += t > 1;
        }
        if (lost || twice)
            parc_stress_fail(ctx, "queue and channels: %zu items lost, %zu taken twice", lost, twice);
        int back = 0;
        while (parc_sem_acquire_try(&r->sem, 1) == 0)
            back++;
        if (back != PERMITS)
            parc_stress_fail(ctx, "semaphore gave back %d permits, not %d", back, PERMITS);
        if (parc_load(&r->migrations, PARC_RELAXED) == 0)
            parc_stress_skip(ctx, "no fiber migrated between workers");
    } else if (rc == 0) {
        parc_stress_fail(ctx, "%llu of %zu fibers finished",
                         (unsigned long long)parc_load(&r->finished, PARC_RELAXED), fibers);
    }
    parc_pool_free(r->pool);
    parc_queue_destroy(&r->queue);
    parc_chan_destroy(&r->rendezvous);
    parc_chan_destroy(&r->ring);
    parc_sem_destroy(&r->sem);
    parc_mutex_destroy(&r->mutex);
    for (unsigned e = 0; e < START_EVENTS; e++)
        parc_event_destroy(&r->go[e]);
    free(r->taken);
    free(r);
    return rc;
}

static const parc_stress_workload_t mn_workload = {
    .name = "fiber.mn",
    .impl = "parc.fiber",
    .description = "100k fibers on a pool park on an event, mutex, sem, queue, chan; "
                   "mutual exclusion, exactly once, no lost wake-up",
    .flags = PARC_STRESS_NO_BATON,
    .run = mn_run,
};
PARC_STRESS_WORKLOAD(mn_workload)
