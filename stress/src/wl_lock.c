/*
 * Workloads over parc_stress_lock_impl_t: lock.exclusion (lock, with
 * some trylock), lock.trylock (trylock only) and rwlock.exclusion
 * (readers and writers).
 *
 * Inside the critical section a thread claims an "inside" flag and the
 * owner word (both with relaxed exchanges: they detect overlap without
 * creating the happens-before the lock itself must provide), bumps a
 * NON-atomic counter with a read, a pause and a write (so overlapping
 * sections lose updates), and checks the owner word again on the way out.
 * At the end the counter must equal the number of acquisitions. Under
 * ThreadSanitizer an unlock that does not order the section reports a
 * race on that counter.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "stress_internal.h"

typedef enum lock_mode { MODE_MIXED, MODE_TRYLOCK, MODE_RW } lock_mode_t;

typedef struct lockrun {
    parc_stress_ctx_t *ctx;
    const parc_stress_lock_impl_t *impl;
    void *lock;
    lock_mode_t mode;
    void *contexts[STRESS_MAX_THREADS];
    uint64_t acquired[STRESS_MAX_THREADS];       /* each thread's own */
    PARC_CACHE_ALIGNED parc_atomic(unsigned) owner;  /* index + 1, 0 = free */
    parc_atomic(unsigned) inside;
    parc_atomic(unsigned) readers;
    PARC_CACHE_ALIGNED uint64_t counter;         /* guarded by the lock only */
} lockrun_t;

static void pause_a_little(parc_stress_ctx_t *ctx, unsigned index)
{
    unsigned n = (unsigned)(parc_stress_random(ctx, index) & 63);
    for (unsigned i = 0; i < n; i++)
        parc_cpu_relax();
}

static void critical_section(lockrun_t *r, unsigned index)
{
    parc_stress_ctx_t *ctx = r->ctx;
    unsigned me = index + 1;
    /* relaxed throughout: these words detect overlap; any ordering here
     * would lend the lock under test a happens-before it may lack. */
    unsigned was = parc_raw_xchg(&r->inside, me, PARC_RELAXED);
    if (was != 0)
        parc_stress_fail(ctx, "mutual exclusion: thread %u entered while thread %u "
                              "was inside", index, was - 1);
    unsigned prev = parc_raw_xchg(&r->owner, me, PARC_RELAXED);
    if (prev != 0)
        parc_stress_fail(ctx, "owner word: thread %u found thread %u as owner",
                         index, prev - 1);
    if (r->mode == MODE_RW) {
        unsigned readers = parc_raw_load(&r->readers, PARC_RELAXED);
        if (readers)
            parc_stress_fail(ctx, "writer %u inside with %u readers", index, readers);
    }
    uint64_t c = r->counter;
    pause_a_little(ctx, index);
    r->counter = c + 1;
    unsigned now = parc_raw_load(&r->owner, PARC_RELAXED);
    if (now != me)
        parc_stress_fail(ctx, "owner word changed to %u inside thread %u's section",
                         now, index);
    parc_raw_store(&r->owner, 0u, PARC_RELAXED);
    parc_raw_store(&r->inside, 0u, PARC_RELAXED);
    r->acquired[index]++;
}

static void shared_section(lockrun_t *r, unsigned index)
{
    parc_stress_ctx_t *ctx = r->ctx;
    parc_raw_faa(&r->readers, 1u, PARC_RELAXED);
    unsigned w = parc_raw_load(&r->inside, PARC_RELAXED);
    if (w != 0)
        parc_stress_fail(ctx, "reader %u inside with writer %u", index, w - 1);
    uint64_t seen = r->counter;  /* a plain read: races with a writer */
    pause_a_little(ctx, index);
    if (r->counter != seen)
        parc_stress_fail(ctx, "reader %u saw the guarded counter change", index);
    parc_raw_faa(&r->readers, (unsigned)-1, PARC_RELAXED);
}

static bool busy(int rc)
{
    return rc == EBUSY || rc == EAGAIN;
}

static void lock_thread(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    lockrun_t *r = arg;
    const parc_stress_lock_impl_t *impl = r->impl;
    void *lc = r->contexts[index];
    bool go = true;
    while (go) {
        uint64_t dice = parc_stress_random(ctx, index);
        int rc;
        if (r->mode == MODE_RW && (dice & 3) != 0) {
            parc_stress_note(ctx, index, "lock_shared");
            rc = impl->lock_shared(r->lock, lc);
            if (rc) {
                parc_stress_fail(ctx, "lock_shared returned %d", rc);
                return;
            }
            shared_section(r, index);
            parc_stress_note(ctx, index, "unlock_shared");
            rc = impl->unlock_shared(r->lock, lc);
            if (rc) {
                parc_stress_fail(ctx, "unlock_shared returned %d", rc);
                return;
            }
            go = parc_stress_step(ctx, index, "read section");
            continue;
        }
        bool try = r->mode == MODE_TRYLOCK ||
                   (impl->trylock && r->mode == MODE_MIXED && (dice & 12) == 0);
        if (try) {
            rc = impl->trylock(r->lock, lc);
            if (busy(rc)) {
                go = parc_stress_step(ctx, index, "trylock (busy)");
                parc_cpu_relax();
                continue;
            }
            if (rc) {
                parc_stress_fail(ctx, "trylock returned %d (expected 0, EBUSY, EAGAIN)", rc);
                return;
            }
        } else {
            parc_stress_note(ctx, index, "lock");
            rc = impl->lock(r->lock, lc);
            if (rc) {
                parc_stress_fail(ctx, "lock returned %d", rc);
                return;
            }
        }
        critical_section(r, index);
        parc_stress_note(ctx, index, "unlock");
        rc = impl->unlock(r->lock, lc);
        if (rc) {
            parc_stress_fail(ctx, "unlock returned %d", rc);
            return;
        }
        go = parc_stress_step(ctx, index, try ? "trylock section" : "lock section");
        if ((dice & 0xf0) == 0)
            parc_yield(); /* (a chaos point, for --baton)  sometimes hand the core over while it is free */
    }
}

static int run_lock(parc_stress_ctx_t *ctx, const parc_stress_lock_impl_t *impl,
                    lock_mode_t mode)
{
    unsigned t = ctx->threads;
    lockrun_t *r = aligned_alloc(PARC_CACHELINE,
        (sizeof *r + PARC_CACHELINE - 1) / PARC_CACHELINE * PARC_CACHELINE);
    if (r == NULL)
        return ENOMEM;
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    r->impl = impl;
    r->mode = mode;
    int err = 0;
    if (impl->context_size) {
        size_t size = (impl->context_size + PARC_CACHELINE - 1) / PARC_CACHELINE *
                      PARC_CACHELINE;
        for (unsigned i = 0; i < t && !err; i++) {
            r->contexts[i] = aligned_alloc(PARC_CACHELINE, size);
            if (r->contexts[i] == NULL)
                err = ENOMEM;
            else
                memset(r->contexts[i], 0, size);
        }
    }
    if (!err) {
        err = impl->create(&r->lock);
        if (err)
            parc_stress_fail(ctx, "create returned %d", err);
    }
    if (!err) {
        err = parc_stress_run_threads(ctx, t, lock_thread, r);
        if (err == 0) {
            uint64_t total = 0;
            for (unsigned i = 0; i < t; i++)
                total += r->acquired[i];
            if (r->counter != total)
                parc_stress_fail(ctx, "lost updates: the guarded counter is %" PRIu64
                                      " after %" PRIu64 " critical sections",
                                 r->counter, total);
            if (mode == MODE_TRYLOCK && total == 0)
                parc_stress_skip(ctx, "no trylock ever succeeded");
            /* The lock must be free again. */
            if (impl->trylock) {
                int rc = impl->trylock(r->lock, r->contexts[0]);
                if (rc)
                    parc_stress_fail(ctx, "trylock on the free lock returned %d", rc);
                else
                    impl->unlock(r->lock, r->contexts[0]);
            }
        }
        impl->destroy(r->lock);
    }
    for (unsigned i = 0; i < t; i++)
        free(r->contexts[i]);
    free(r);
    return err;
}

static int run_exclusion(parc_stress_ctx_t *ctx, const void *impl)
{
    return run_lock(ctx, impl, MODE_MIXED);
}

static int run_trylock(parc_stress_ctx_t *ctx, const void *impl)
{
    return run_lock(ctx, impl, MODE_TRYLOCK);
}

static int run_rw(parc_stress_ctx_t *ctx, const void *impl)
{
    return run_lock(ctx, impl, MODE_RW);
}

static bool has_trylock(const void *p)
{
    return ((const parc_stress_lock_impl_t *)p)->trylock != NULL;
}

static bool has_shared(const void *p)
{
    return ((const parc_stress_lock_impl_t *)p)->lock_shared != NULL;
}

const stress_builtin_t stress_lock_exclusion = {
    "lock.exclusion", PARC_STRESS_KIND_LOCK,
    "lock (and some trylock): owner word, inside flag, non-atomic counter",
    NULL, run_exclusion,
};

const stress_builtin_t stress_lock_trylock = {
    "lock.trylock", PARC_STRESS_KIND_LOCK,
    "trylock only, all threads: mutual exclusion of racing trylocks",
    has_trylock, run_trylock,
};

const stress_builtin_t stress_rwlock_exclusion = {
    "rwlock.exclusion", PARC_STRESS_KIND_LOCK,
    "readers overlap each other, never a writer",
    has_shared, run_rw,
};
