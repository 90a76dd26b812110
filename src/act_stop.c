/* Scheduled actors (parc/act.h): waiting for a stop, and shutting a
 * whole runtime down. The live table is what makes the second possible:
 * a runtime otherwise knows its actors only as slots in slabs, and a
 * freed slot cannot be told from a live one without reading freed memory.
 *
 * The table is sharded by spawning thread (ACT_SHARDS shards, each with
 * its own lock and line), and an entry is not removed by the stop that
 * ends its actor: the entry holds the runtime's reference, finish() marks
 * the actor retired (F_RETIRED, its last touch of the actor), and the
 * entry goes, with that reference, at the next sweep of its shard: when
 * a spawn finds the shard full, when enough of its actors have retired
 * (finish starts the sweep), at shutdown and at parc_act_rt_free. So a
 * spawn takes only its own thread's shard lock, uncontended unless a
 * sweep runs, and a stop takes no lock and writes one counter of the
 * spawner's shard; no line is written by every spawn or every stop.
 * Retired actors wait for a sweep with their slots: at most about as
 * many as the shard holds (sweep_at), so memory stays within twice the
 * live actors'.
 *
 * Rejected: one table under the runtime's mutex (every spawn and every
 * stop on one lock: the spawner and the stopping workers hand its line
 * back and forth, and a parked waiter costs a futex wake-up); a lock-free
 * list threaded through the actors (the actor has room for one word, and
 * unlinking from a singly linked list needs the predecessor); walking the
 * slabs (freed slots are poisoned under ASan and reused at any time);
 * removal by the stopping turn with the entry's index (the remover needs
 * the shard's lock against a concurrent grow or sweep: the lock we
 * avoid). Not measured on this 2-core VM: spawning from many threads at
 * once (each should keep to its shard). */
#include <errno.h>
#include <stdlib.h>

#include "act_internal.h"

/* ---- the live table ----------------------------------------------------- */

int act_live_init(parc_act_rt_t *rt)
{
    rt->shards = aligned_alloc(PARC_CACHELINE,
                               ACT_SHARDS * sizeof *rt->shards);
    if (rt->shards == NULL)
        return ENOMEM;
    for (unsigned i = 0; i < ACT_SHARDS; i++) {
        act_shard_t *sh = &rt->shards[i];
        parc_mutex_init(&sh->lock, PARC_MUTEX_NORMAL);
        sh->live = NULL;
        sh->n = sh->cap = 0;
        sh->closing = false;
        parc_atomic_init(&sh->retired, 0u);
        parc_atomic_init(&sh->sweep_at, 64u);
        parc_atomic_init(&sh->spawned, (uint64_t)0);
        parc_recycle_slab_cache_init(&sh->cache);
    }
    return 0;
}

void act_live_free(parc_act_rt_t *rt)
{
    if (rt->shards == NULL)
        return;
    for (unsigned i = 0; i < ACT_SHARDS; i++) {
        parc_mutex_destroy(&rt->shards[i].lock);
        free(rt->shards[i].live);
    }
    free(rt->shards);
}

/* The calling thread's shard: threads are numbered on first use. */
static unsigned my_shard(void)
{
    static parc_atomic(uint32_t) next_thread;
    static _Thread_local uint32_t me; /* 0: not numbered yet */
    if (me == 0) /* relaxed: a ticket, publishes nothing */
        me = parc_faa(&next_thread, 1u, PARC_RELAXED) + 1u;
    return me & (ACT_SHARDS - 1u);
}

/* Drop sh's retired entries among at most `examine` entries from index
 * *from on; under sh->lock. Returns their actors in *out (at most max;
 * the caller releases them outside the lock) and how many, and where to
 * go on in *from. (Between calls the shard may change: a stale *from only
 * makes the sweep miss entries, which the next one finds.) */
static unsigned sweep_some(act_shard_t *sh, uint32_t *from, parc_act_t **out,
                           unsigned max, unsigned examine)
{
    unsigned got = 0;
    uint32_t i = *from;
    /* Each entry's flags are on its actor's line, last written by the
     * worker that ran its last turn: start every load of this hold at
     * once instead of paying the misses one after another. */
    uint32_t end = sh->n - i < examine ? sh->n : i + examine;
    for (uint32_t j = i; j < end; j++)
        __builtin_prefetch(&sh->live[j]->flags);
    for (; i < sh->n && got < max && examine > 0; examine--) {
        parc_act_t *a = sh->live[i];
        /* acquire: pairs with act_live_retire's release; finish's last
         * uses of a happen before the release of its reference. */
        if (parc_load(&a->flags, PARC_ACQUIRE) & F_RETIRED) {
            sh->live[i] = sh->live[--sh->n];
            out[got++] = a;
        } else {
            i++;
        }
    }
    *from = i;
    return got;
}

/* Sweep sh whole: drop retired entries, releasing their runtime
 * references outside the lock (a release may free the slot and take
 * rt->lock for an ext). Returns the entries left.
 *
 * The lock is held for a few entries at a time (SWEEP_HOLD looks), not
 * for the whole scan: the sweep runs on a worker (finish starts it) while
 * the shard's spawner keeps taking the same lock for every spawn, and a
 * hold that scanned the whole shard (a cache miss per entry) made the
 * spawner wait for it, for a whole time slice when the sweeping worker
 * was preempted meanwhile (threads outnumbering cores). A short hold
 * costs a lock round per SWEEP_HOLD entries, about one per sixteen
 * retirements. */
static uint32_t sweep_shard(act_shard_t *sh)
{
    enum { BATCH = 64, SWEEP_HOLD = 16 };
    parc_act_t *batch[BATCH];
    uint32_t left, from = 0, stop = UINT32_MAX;
    bool done;
    do {
        parc_mutex_lock(&sh->lock);
        /* The entries there when the sweep began: it does not chase the
         * spawns made meanwhile (appended past them; the next sweep looks
         * at those), so it ends however fast the spawner goes. A removal
         * moves the last entry into the hole, which keeps every entry it
         * has not looked at below the bound. */
        if (stop > sh->n)
            stop = sh->n;
        unsigned got = sweep_some(sh, &from, batch, BATCH, SWEEP_HOLD);
        left = sh->n;
        if (stop > left)
            stop = left;
        done = from >= stop;
        if (done) {
            /* relaxed: a trigger; the next sweep starts when about as
             * many have retired as remain. */
            parc_store(&sh->retired, 0u, PARC_RELAXED);
            parc_store(&sh->sweep_at, left > 64u ? left : 64u, PARC_RELAXED);
        }
        parc_mutex_unlock(&sh->lock);
        for (unsigned i = 0; i < got; i++)
            parc_act_release(batch[i]);
    } while (!done);
    return left;
}

int act_live_spawn(parc_act_rt_t *rt,
                   void (*init)(parc_act_t *, const act_init_t *),
                   const act_init_t *arg, parc_act_t **out)
{
    unsigned ix = my_shard();
    act_shard_t *sh = &rt->shards[ix];
    parc_mutex_lock(&sh->lock);
    if (sh->closing) {
        parc_mutex_unlock(&sh->lock);
        return EPIPE;
    }
    if (sh->n == sh->cap) {
        /* Full: make room from retired entries before growing. */
        parc_mutex_unlock(&sh->lock);
        sweep_shard(sh);
        parc_mutex_lock(&sh->lock);
        if (sh->closing) {
            parc_mutex_unlock(&sh->lock);
            return EPIPE;
        }
    }
    if (sh->n == sh->cap || sh->n > sh->cap / 4 * 3) {
        /* Grow while more than three quarters stay live, so that sweeps
         * (each O(n)) come only every O(n) spawns. */
        uint32_t cap = sh->cap != 0 ? 2 * sh->cap : 64u;
        parc_act_t **t = realloc(sh->live, cap * sizeof *t);
        if (t == NULL && sh->n == sh->cap) {
            parc_mutex_unlock(&sh->lock);
            return ENOMEM;
        }
        if (t != NULL) {
            sh->live = t;
            sh->cap = cap;
        }
    }
    parc_act_t *a = parc_recycle_slab_alloc_cached(&rt->slots, &sh->cache);
    if (a == NULL) {
        parc_mutex_unlock(&sh->lock);
        return ENOMEM;
    }
    init(a, arg);
    a->live_shard = ix;
    sh->live[sh->n++] = a;
    /* relaxed, and no RMW: written under the lock only; a count. */
    parc_store(&sh->spawned, parc_load(&sh->spawned, PARC_RELAXED) + 1,
               PARC_RELAXED);
    parc_mutex_unlock(&sh->lock);
    *out = a;
    return 0;
}

void act_live_unspawn(parc_act_rt_t *rt, parc_act_t *a)
{
    act_shard_t *sh = &rt->shards[a->live_shard];
    parc_mutex_lock(&sh->lock);
    for (uint32_t i = sh->n; i-- > 0;) {
        if (sh->live[i] == a) {
            sh->live[i] = sh->live[--sh->n];
            break;
        }
    }
    parc_mutex_unlock(&sh->lock);
    act_slot_free(rt, a);
    parc_faa(&rt->stopped, 1u, PARC_RELEASE); /* as finish does */
}

void act_slot_free(parc_act_rt_t *rt, parc_act_t *a)
{
    parc_recycle_slab_free_cached(&rt->slots,
                                  &rt->shards[a->live_shard].cache, a);
}

uint64_t act_live_spawned(parc_act_rt_t *rt)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < ACT_SHARDS; i++) /* relaxed: counts */
        n += parc_load(&rt->shards[i].spawned, PARC_RELAXED);
    return n;
}

void act_live_flush(parc_act_rt_t *rt)
{
    for (unsigned i = 0; i < ACT_SHARDS; i++) {
        act_shard_t *sh = &rt->shards[i];
        parc_mutex_lock(&sh->lock);
        parc_recycle_slab_cache_flush(&rt->slots, &sh->cache);
        parc_mutex_unlock(&sh->lock);
    }
}

void act_live_retire(parc_act_rt_t *rt, parc_act_t *a)
{
    act_shard_t *sh = &rt->shards[a->live_shard];
    /* seq_cst: release for the sweep (finish's uses of a happen before a
     * sweep's release of its reference, the sweep's acquire load) and for
     * a waiter that returns on it (wait_stopped: the exit status, the
     * drained mailbox, the told monitors); seq_cst for the Dekker pair
     * with a parking waiter (it raises stop_waiters, then reads the
     * flags; finish sets F_RETIRED here, then act_stop_wake reads
     * stop_waiters). After this, a may be freed by a sweep unless
     * someone (a waiter) holds a reference: not touched again. */
    parc_for(&a->flags, F_RETIRED, PARC_SEQ_CST);
    /* relaxed: a trigger only (the sweep reads the flags themselves). */
    uint32_t r = parc_faa(&sh->retired, 1u, PARC_RELAXED) + 1u;
    if (r >= parc_load(&sh->sweep_at, PARC_RELAXED))
        sweep_shard(sh); /* resets the count: one stop in about sweep_at
                          * sweeps (a few, when they race) */
}

uint64_t act_live_sweep_all(parc_act_rt_t *rt)
{
    uint64_t left = 0;
    for (unsigned i = 0; i < ACT_SHARDS; i++)
        left += sweep_shard(&rt->shards[i]);
    return left;
}

void act_ext_add(parc_act_rt_t *rt, actor_ext_t *x)
{
    parc_mutex_lock(&rt->lock);
    x->prev = NULL;
    x->next = rt->exts;
    if (x->next != NULL)
        x->next->prev = x;
    rt->exts = x;
    parc_mutex_unlock(&rt->lock);
}

void act_ext_remove(parc_act_rt_t *rt, actor_ext_t *x)
{
    parc_mutex_lock(&rt->lock);
    if (x->prev != NULL)
        x->prev->next = x->next;
    else
        rt->exts = x->next;
    if (x->next != NULL)
        x->next->prev = x->prev;
    parc_mutex_unlock(&rt->lock);
}

/* ---- waiting for a stop -------------------------------------------------- */

void act_stop_wake(parc_act_rt_t *rt)
{
    /* seq_cst: Dekker with wait_stopped (it raises stop_waiters, then
     * reads the flags; finish set F_STOPPED, then reads stop_waiters). */
    if (parc_load(&rt->stop_waiters, PARC_SEQ_CST) != 0) {
        parc_faa(&rt->stop_seq, 1u, PARC_RELAXED); /* the futex word */
        parc_park_wake_all(&rt->stop_seq);
    }
}

/* Whether a's stop is complete: F_RETIRED, the last thing finish does
 * to a, after the mailbox is drained, the monitors told and the name
 * dropped (F_STOPPED comes first, when the stop begins). The waiter
 * holds a reference, so a outlives the sweep that the retirement
 * allows. */
#define stopped_now(a, mo) ((parc_load(&(a)->flags, mo) & F_RETIRED) != 0)

static int wait_stopped(parc_act_t *a, int *status, parc_deadline_t deadline)
{
    if (a == NULL)
        return EINVAL;
    parc_act_rt_t *rt = act_rt_of(a);
    if (a == parc_act_self() || parc_pool_current_worker(rt->pool) >= 0)
        return EDEADLK;
    int rc = 0;
    for (unsigned spins = 0;; spins++) {
        /* acquire: pairs with act_live_retire's seq_cst set of F_RETIRED;
         * the exit status is final once it is seen. */
        if (stopped_now(a, PARC_ACQUIRE))
            break;
        if (spins < PARC_SPIN_POLLS) {
            parc_spin_poll(spins);
            continue;
        }
        uint32_t seq = parc_load(&rt->stop_seq, PARC_RELAXED);
        /* seq_cst: Dekker with act_stop_wake (see there). */
        parc_faa(&rt->stop_waiters, 1u, PARC_SEQ_CST);
        int prc = 0;
        if (!stopped_now(a, PARC_SEQ_CST))
            prc = parc_park_wait(&rt->stop_seq, seq, deadline);
        parc_fas(&rt->stop_waiters, 1u, PARC_RELAXED);
        if (prc == ETIMEDOUT || parc_deadline_passed(deadline)) {
            /* acquire: as above. */
            if (!stopped_now(a, PARC_ACQUIRE))
                rc = ETIMEDOUT;
            break;
        }
    }
    if (rc == 0 && status != NULL)
        *status = a->exit_status;
    return rc;
}

int parc_act_wait(parc_act_t *a, int *status)
{
    return wait_stopped(a, status, PARC_FOREVER);
}

int parc_act_wait_timed(parc_act_t *a, int *status, int64_t timeout_ns)
{
    parc_deadline_t d;
    if (a == NULL || parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    return wait_stopped(a, status, d);
}

int parc_act_stop_wait(parc_act_t *a, int status, int *exit_status)
{
    if (a == NULL)
        return EINVAL;
    int rc = parc_act_stop(a, status);
    if (rc != 0 && rc != EPIPE)
        return rc;
    return wait_stopped(a, exit_status, PARC_FOREVER);
}

/* ---- shutting the runtime down ------------------------------------------ */

/* Stop every actor in the table, a batch at a time (stopping under a
 * shard's lock could deadlock: a stop may run the actor's last turn
 * inline, whose finish may sweep). Entries hold the runtime's reference,
 * so one read under the lock may be retained. Sweeps shift a shard, so a
 * pass may skip some; the caller repeats until the table is empty. */
static void stop_pass(parc_act_rt_t *rt, int status)
{
    enum { BATCH = 64 };
    parc_act_t *batch[BATCH];
    for (unsigned s = 0; s < ACT_SHARDS; s++) {
        act_shard_t *sh = &rt->shards[s];
        for (uint32_t from = 0;; from += BATCH) {
            unsigned n = 0;
            parc_mutex_lock(&sh->lock);
            for (uint32_t i = from; i < sh->n && n < BATCH; i++) {
                parc_act_t *a = sh->live[i];
                /* relaxed: a hint; stopping a stopped actor is EPIPE */
                if (parc_load(&a->flags, PARC_RELAXED) & F_STOPPED)
                    continue;
                batch[n] = a;
                parc_act_retain(batch[n++]);
            }
            uint32_t total = sh->n;
            parc_mutex_unlock(&sh->lock);
            for (unsigned i = 0; i < n; i++) {
                parc_act_stop(batch[i], status); /* EPIPE: already stopping */
                parc_act_release(batch[i]);
            }
            if (from + BATCH >= total)
                break;
        }
    }
}

int parc_act_rt_shutdown(parc_act_rt_t *rt, int status)
{
    if (rt == NULL)
        return EINVAL;
    if (parc_pool_current_worker(rt->pool) >= 0 || parc_act_self() != NULL)
        return EDEADLK;
    for (unsigned s = 0; s < ACT_SHARDS; s++) {
        parc_mutex_lock(&rt->shards[s].lock);
        rt->shards[s].closing = true; /* spawns from here on: EPIPE */
        parc_mutex_unlock(&rt->shards[s].lock);
    }
    for (;;) {
        stop_pass(rt, status);
        parc_act_rt_quiesce(rt); /* every stop processed, timers fired */
        if (act_live_sweep_all(rt) == 0)
            break;
    }
    act_rt_teardown(rt);
    return 0;
}
