/* parc/pool.h: blocking-aware workers (parc_pool_block_begin/end).
 *
 * Written from the documented behaviour of Java's ForkJoinPool
 * (ForkJoinPool.managedBlock: "if necessary, activates a spare thread to
 * ensure sufficient parallelism while the current thread is blocked";
 * at most maximumPoolSize - parallelism spares, 256 by default) and of
 * Go's runtime (a goroutine entering a system call hands its P to another
 * thread so that GOMAXPROCS threads keep running Go code). No code of
 * either was used.
 *
 * The pool counts its running threads: its workers and its compensators
 * that are not inside a begin/end pair (`running`, target: the worker
 * count). begin() takes the calling thread out of the count; when that
 * leaves fewer running threads than the target it brings one in at once:
 * a parked spare compensator, or a new one while fewer than the cap are
 * alive. end() puts the thread back in the count. A compensator looks
 * for work like a worker does but has no deque of its own: it takes from
 * the injection shards and steals from the workers' deques, and what its
 * tasks submit goes to the injection queue. When it finds the count above
 * the target (a blocked thread came back; taken spares still waking do
 * not count, see surplus()), it leaves the count (a CAS
 * under comp_lock: two compensators cannot both leave for one returning
 * thread, and no begin misses it, see park_spare) and parks as a spare
 * for SPARE_KEEP_NS, then exits. A compensator that finds no work while
 * the count is above the target retires at once; one that finds none
 * while the count is at or below the target stays (a thread is still
 * blocked and work may be submitted later; no submitter would wake it):
 * it polls with a backoff from 20 us to 10 ms, as Go's sysmon does.
 *
 * The hand-over. What a block costs the pool is the time the core the
 * blocked thread leaves stands idle before the compensator runs there.
 * A spare is a parked thread: the begin wakes it (futex). Left to
 * itself, the kernel may queue the woken spare behind the busy worker of
 * another core while the blocker's core idles: an idle core does not
 * pull a task that ran within the last sched_migration_cost (0.5 ms),
 * and a spare in a pool that blocks often parked only tens of
 * microseconds ago; it waits for the load balancer's next tick, and a
 * cross-core wake-up of an idle virtual CPU alone costs ~45 us on the
 * machines this was written on. With 20 us tasks of which half block,
 * that halved the throughput. So the begin moves the spare it takes
 * onto its own CPU (sched_setaffinity to that one CPU, when the spare's
 * mask allows it) before waking it: the blocker is about to sleep, so
 * the spare runs on the core it leaves as soon as it leaves it, woken
 * from a busy CPU to itself (no inter-processor interrupt). The spare
 * restores its mask (the one it was created with) when it resumes, so
 * the balancer may move it later. The cost: one system call on each
 * side, a few microseconds. The spares form a stack: the one taken
 * parked last (its stack and lines are the warmest).
 *
 * Rejected, after trying them here: (1) a spare that spins before it
 * parks, yielding (sched_yield) between looks, taken first by a begin
 * (Go keeps a spinning M): under EEVDF every yield pushes the yielder's
 * deadline back by a slice, so a spinner that has yielded for a while
 * runs only when nothing else on its CPU can, even once taken: its
 * hand-overs took 100-130 us at the median against ~10 us for a parked
 * spare moved onto the blocker's CPU (loaded machine). Spinning without
 * yielding takes a third of a core from the workers on 2 cores.
 * (2) Letting surplus compensators run on (retire only above the target
 * plus a slack), so that a block finds a runnable thread with no
 * hand-over: the extra threads queue behind busy workers on either CPU,
 * and a block's core idles until the balancer moves one (the 0.5 ms
 * rule again).
 *
 * Cost: begin/end on a thread already inside a pair is a thread-local
 * increment; the outermost end is one atomic add; the outermost begin is
 * one atomic add plus, as the count then is below the target, the
 * compensation itself: the lock below (held to pop the spare and count
 * it, no system call under it), then the move and a wake of the spare's
 * park word, or pthread_create. That is the price of keeping the pool's
 * parallelism across a blocking call, which costs a system call anyway.
 * `running` is one line written by every begin/end of the pool and
 * comp_lock is taken by every take and every retire: on 64 cores with
 * frequent short blocks both would be contended;
 * not measurable on the 2-core VM this was written on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "parc/park.h"
#include "parc/time.h"
#include "pool_internal.h"

/* How long a retired compensator stays parked as a spare before it
 * exits (Java keeps spares 60 s; a shorter time bounds idle threads). */
#define SPARE_KEEP_NS (100 * PARC_NS_PER_MS)
/* Idle polling of a needed compensator: from POLL_MIN_NS doubling to
 * POLL_MAX_NS (Go's sysmon: 20 us to 10 ms). */
#define POLL_MIN_NS (20 * PARC_NS_PER_US)
#define POLL_MAX_NS (10 * PARC_NS_PER_MS)

/* The values of pool_comp_t.woken. */
enum { SPARE_PARKED = 0, SPARE_TAKEN = 1, SPARE_STOP = 2 };

typedef struct pool_comp {
    pthread_t thread;
    parc_pool_t *pool;
    struct pool_comp *next;       /* all compensators (comp_lock) */
    struct pool_comp *next_spare; /* spares list (comp_lock) */
    /* A parked spare sleeps on this word: SPARE_PARKED, then SPARE_TAKEN
     * (a begin took it and counted it) or SPARE_STOP (the pool stops). */
    parc_park_word_t woken;
    bool listed;                  /* comp_lock: on the spares list */
    bool done;                    /* comp_lock: the thread is exiting */
    /* Pinned by its taker (see the hand-over): written by the taker
     * before its release store of SPARE_TAKEN (or by the creator before
     * pthread_create), read by the spare after it sees that. */
    bool moved;
#if defined(__linux__)
    pid_t tid;                    /* its kernel thread id */
    cpu_set_t allowed;            /* its affinity at creation */
#endif
} pool_comp_t;

/* The pool of the calling compensator (NULL on every other thread) and
 * the calling thread's begin/end nesting depth. */
static _Thread_local parc_pool_t *comp_pool;
static _Thread_local unsigned block_depth;

static parc_pool_t *calling_pool(void)
{
    pool_worker_t *w = parc_pool_self_();
    return w != NULL ? w->pool : comp_pool;
}

parc_pool_t *parc_pool_block_self_(void)
{
    return comp_pool;
}

void parc_pool_block_init_(parc_pool_t *p)
{
    parc_atomic_init(&p->running, p->nworkers);
    parc_atomic_init(&p->comp_pending, 0u);
    parc_atomic_init(&p->comp_cap, PARC_POOL_BLOCK_CAP_DEFAULT);
    pthread_mutex_init(&p->comp_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->comp_exit_cv, &ca);
    pthread_condattr_destroy(&ca);
    p->comps = NULL;
    p->spares = NULL;
    p->ncomp = 0;
    p->comp_stop = false;
}

void parc_pool_block_fini_(parc_pool_t *p)
{
    pthread_cond_destroy(&p->comp_exit_cv);
    pthread_mutex_destroy(&p->comp_lock);
}

/* Join and free the compensators that have exited (comp_lock held). */
static void reap_locked(parc_pool_t *p)
{
    pool_comp_t **pp = &p->comps;
    while (*pp != NULL) {
        pool_comp_t *c = *pp;
        if (c->done) {
            *pp = c->next;
            pthread_join(c->thread, NULL); /* it is past its last lock */
            free(c);
        } else {
            pp = &c->next;
        }
    }
}

static void comp_exit_locked(parc_pool_t *p, pool_comp_t *c)
{
    c->done = true;
    p->ncomp--;
    pthread_cond_broadcast(&p->comp_exit_cv);
}

typedef enum { SPARE_WOKEN, SPARE_EXITED, SPARE_NOT_SURPLUS } spare_t;

/* `running` less `pending`, read in that order: several takes between
 * the two loads can make pending exceed the running count read (0, not
 * a wrap-around that would read as a surplus). */
static uint32_t not_waking(uint32_t running, uint32_t pending)
{
    return running > pending ? running - pending : 0u;
}

/* Retire c if the pool has more running threads than its target: leave
 * the count and park as a spare until a begin() takes it (SPARE_WOKEN:
 * counted again), or SPARE_KEEP_NS pass or the pool stops (SPARE_EXITED:
 * c is done). Leaving the count and joining the spares happen under
 * comp_lock, which compensate() holds to look for a spare: a begin that
 * finds the pool short either finds c listed, or dropped the count before
 * c looked (and c stays). Apart, a begin could find c neither listed nor
 * counted, with the cap reached by c itself: a lost wake-up.
 *
 * The lock covers the list and the count only: the spare sleeps on its
 * own word (parc_park_wait), not on a condition variable of comp_lock, so
 * a taken spare wakes without queueing for the lock, and the taker moves
 * and wakes it after unlocking. With a condition variable, every
 * wake-up re-took comp_lock, and while a taker held it across the move's
 * system call the compensators that came back from their blocks (still
 * counted, so the pool saw no shortage) queued on it one futex hand-off
 * after another with no task running: 23-26% of the wall time of the
 * 20 us workload with nothing computing (docs/bench/issue17.md). */
static spare_t park_spare(parc_pool_t *p, pool_comp_t *c)
{
    int64_t until = parc_now_ns() + SPARE_KEEP_NS;
    pthread_mutex_lock(&p->comp_lock);
    if (p->comp_stop || pool_terminating(p)) {
        parc_fas(&p->running, 1u, PARC_RELAXED);
        comp_exit_locked(p, c);
        pthread_mutex_unlock(&p->comp_lock);
        return SPARE_EXITED;
    }
    /* seq_cst: see surplus() */
    uint32_t r = parc_load(&p->running, PARC_SEQ_CST);
    do {
        if (not_waking(r, parc_load(&p->comp_pending, PARC_SEQ_CST)) <= p->nworkers) {
            pthread_mutex_unlock(&p->comp_lock);
            return SPARE_NOT_SURPLUS;
        }
    } while (!parc_cas(&p->running, &r, r - 1u, PARC_SEQ_CST, PARC_SEQ_CST));
    /* relaxed: nobody can write it until c is listed, and the list is
     * published by comp_lock's unlock */
    parc_store(&c->woken, SPARE_PARKED, PARC_RELAXED);
    c->next_spare = p->spares;
    c->listed = true;
    p->spares = c;
    pthread_mutex_unlock(&p->comp_lock);
    uint32_t w;
    int e = 0;
    /* Acquire: pairs with the taker's release store of SPARE_TAKEN (its
     * `moved` is visible), or join's store of SPARE_STOP. */
    while ((w = parc_load(&c->woken, PARC_ACQUIRE)) == SPARE_PARKED && e != ETIMEDOUT)
        e = parc_park_wait(&c->woken, SPARE_PARKED, until);
    if (w == SPARE_PARKED) { /* timed out: exit, unless taken meanwhile */
        pthread_mutex_lock(&p->comp_lock);
        if (c->listed) {
            pool_comp_t **pp = &p->spares;
            while (*pp != c)
                pp = &(*pp)->next_spare;
            *pp = c->next_spare;
            c->listed = false;
            comp_exit_locked(p, c);
            pthread_mutex_unlock(&p->comp_lock);
            return SPARE_EXITED;
        }
        pthread_mutex_unlock(&p->comp_lock);
        /* Unlisted by a taker or by join, which store its word after
         * unlocking: wait for it. Acquire: as above. */
        while ((w = parc_load(&c->woken, PARC_ACQUIRE)) == SPARE_PARKED)
            (void)parc_park_wait(&c->woken, SPARE_PARKED, PARC_FOREVER);
    }
    if (w == SPARE_TAKEN)
        return SPARE_WOKEN;
    pthread_mutex_lock(&p->comp_lock); /* SPARE_STOP: not counted */
    comp_exit_locked(p, c);
    pthread_mutex_unlock(&p->comp_lock);
    return SPARE_EXITED;
}

/* A taken spare resumes: undo the take's move (see the hand-over). c's
 * `moved` was published by the take's release store (park_spare's
 * acquire load), or by pthread_create. */
static void comp_resume(pool_comp_t *c)
{
    bool moved = c->moved;
    c->moved = false;
#if defined(__linux__)
    if (moved)
        (void)sched_setaffinity(0, sizeof c->allowed, &c->allowed);
#else
    (void)moved;
#endif
}

/* Whether more threads run than the target, not counting the taken
 * spares still on their way (counted in `running` from the take, so that
 * the next begin does not take a second one for the same block): a
 * compensator that comes back from its block while a taken spare wakes
 * fills the gap at once and stays; the spare, when it resumes, finds the
 * surplus and parks again. Counting the spare as running instead made
 * the returning compensators park while the spare was still waking (a
 * wake-up on this VM: 20 us median, 140 us at p90), with no task running
 * on the blocker's core meanwhile.
 *
 * seq_cst on the two counts: a take increments comp_pending before
 * `running` and a resume decrements comp_pending; reading `running`
 * first, a reader that sees a take's increment of it also sees its
 * pending spare (or that spare resumed), so it never counts a waking
 * spare as running. The other error (a stale pending read, so that two
 * threads both stay) costs one task's worth of oversubscription and
 * is corrected at the next task boundary. */
static bool surplus(parc_pool_t *p)
{
    uint32_t r = parc_load(&p->running, PARC_SEQ_CST);
    return not_waking(r, parc_load(&p->comp_pending, PARC_SEQ_CST)) > p->nworkers;
}

static void *comp_main(void *arg)
{
    pool_comp_t *c = arg;
    parc_pool_t *p = c->pool;
    comp_pool = p;
#if defined(__linux__)
    c->tid = (pid_t)syscall(SYS_gettid); /* before it can be listed */
#endif
    comp_resume(c); /* created on its creator's CPU */
    int64_t poll = POLL_MIN_NS;
    for (;;) {
        /* We are counted in `running` here (by whoever started or woke
         * us). */
        if (surplus(p)) {
            spare_t sp = park_spare(p, c);
            if (sp == SPARE_EXITED)
                break; /* not counted any more */
            if (sp == SPARE_WOKEN) {
                /* seq_cst: see surplus() */
                parc_fas(&p->comp_pending, 1u, PARC_SEQ_CST);
                comp_resume(c);
                poll = POLL_MIN_NS;
                continue;
            }
        }
        bool drained = false;
        void *item = pool_terminating(p) ? NULL : parc_pool_find_work_(p, &drained);
        if (item != NULL) {
            parc_pool_run_item_(p, item);
            poll = POLL_MIN_NS;
            continue;
        }
        if (drained || pool_terminating(p)) {
            pthread_mutex_lock(&p->comp_lock); /* leave count and cap together */
            parc_fas(&p->running, 1u, PARC_RELAXED);
            comp_exit_locked(p, c);
            pthread_mutex_unlock(&p->comp_lock);
            break;
        }
        parc_sleep_ns(poll);
        poll = poll * 2 > POLL_MAX_NS ? POLL_MAX_NS : poll * 2;
    }
    comp_pool = NULL;
    return NULL;
}

/* Pin the spare c (taken, not yet woken) to `cpu` when its mask allows
 * it: see the hand-over. Only its taker touches c until the wake-up. */
static void move_to(pool_comp_t *c, int cpu)
{
#if defined(__linux__)
    if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &c->allowed))
        return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(c->tid, sizeof one, &one) == 0)
        c->moved = true;
#else
    (void)c;
    (void)cpu; /* no affinity calls: the kernel places the spare */
#endif
}

/* The CPU the calling thread runs on, -1 where that cannot be asked. */
static int this_cpu(void)
{
#if defined(__linux__)
    return sched_getcpu();
#else
    return -1;
#endif
}

/* Bring one more thread into the running count: a parked spare, or a
 * new compensator below the cap. The caller has just left the count. */
static void compensate(parc_pool_t *p)
{
    pthread_mutex_lock(&p->comp_lock);
    if (p->comp_stop || pool_terminating(p)
        || parc_load(&p->comp_cap, PARC_RELAXED) == 0) {
        pthread_mutex_unlock(&p->comp_lock);
        return;
    }
    int cpu = this_cpu();
    pool_comp_t *c = p->spares;
    if (c != NULL) {
        p->spares = c->next_spare;
        c->listed = false;
        /* seq_cst, pending first: see surplus() */
        parc_faa(&p->comp_pending, 1u, PARC_SEQ_CST);
        parc_faa(&p->running, 1u, PARC_SEQ_CST); /* on its behalf */
        pthread_mutex_unlock(&p->comp_lock);
        move_to(c, cpu); /* before the wake-up: it wakes here */
        /* Release: publishes `moved`; pairs with park_spare's acquire. */
        parc_store(&c->woken, SPARE_TAKEN, PARC_RELEASE);
        (void)parc_park_wake_one(&c->woken);
        return;
    }
    reap_locked(p);
    if (p->ncomp >= parc_load(&p->comp_cap, PARC_RELAXED)
        || (c = calloc(1, sizeof *c)) == NULL) {
        pthread_mutex_unlock(&p->comp_lock);
        return; /* at the cap (or no memory): the block goes uncompensated */
    }
    c->pool = p;
    pthread_attr_t ta;
    pthread_attr_init(&ta);
#if defined(__linux__)
    /* Start on our CPU (the hand-over), then take back our mask. */
    if (pthread_getaffinity_np(pthread_self(), sizeof c->allowed, &c->allowed) == 0
        && cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, &c->allowed)) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        c->moved = pthread_attr_setaffinity_np(&ta, sizeof one, &one) == 0;
    }
#endif
    parc_faa(&p->running, 1u, PARC_RELAXED); /* counted before it starts */
    int crc = pthread_create(&c->thread, &ta, comp_main, c);
    pthread_attr_destroy(&ta);
    if (crc != 0) {
        parc_fas(&p->running, 1u, PARC_RELAXED);
        free(c);
    } else {
        p->ncomp++;
        c->next = p->comps;
        p->comps = c;
    }
    pthread_mutex_unlock(&p->comp_lock);
}

/* The fiber runtime's hook (pool_internal.h): NULL until a fiber is
 * spawned. */
static parc_atomic(const parc_pool_block_hook_t *) block_hook;

void parc_pool_block_hook_install_(const parc_pool_block_hook_t *hook)
{
    const parc_pool_block_hook_t *none = NULL;
    /* Release: the hook's table is complete before a caller calls through
     * it; pairs with the acquire loads below. */
    (void)parc_cas(&block_hook, &none, hook, PARC_RELEASE, PARC_RELAXED);
}

/* A spawned fiber may park inside its blocking section and continue on
 * another thread, whose depth and running count the begin never touched:
 * its declaration goes to the fiber runtime, which keeps it on the fiber
 * (parc_fiber_block_begin: the fiber stays on the thread that counted the
 * begin until the outermost end, so begin and end still pair on one
 * thread below). */
int parc_pool_block_begin(void)
{
    /* Acquire: pairs with the release in parc_pool_block_hook_install_. */
    const parc_pool_block_hook_t *hook = parc_load(&block_hook, PARC_ACQUIRE);
    int rc;
    if (hook != NULL && (rc = hook->begin()) != PARC_POOL_BLOCK_DECLINE)
        return rc;
    return parc_pool_block_begin_thread_();
}

int parc_pool_block_end(void)
{
    /* Acquire: as in parc_pool_block_begin. */
    const parc_pool_block_hook_t *hook = parc_load(&block_hook, PARC_ACQUIRE);
    int rc;
    if (hook != NULL && (rc = hook->end()) != PARC_POOL_BLOCK_DECLINE)
        return rc;
    return parc_pool_block_end_thread_();
}

int parc_pool_block_begin_thread_(void)
{
    parc_pool_t *p = calling_pool();
    if (p == NULL)
        return EPERM;
    if (block_depth++ > 0)
        return 0;
    /* relaxed: a count, read only to decide whether to compensate. */
    uint32_t r = parc_fas(&p->running, 1u, PARC_RELAXED) - 1u;
    if (r < p->nworkers)
        compensate(p);
    return 0;
}

int parc_pool_block_end_thread_(void)
{
    parc_pool_t *p = calling_pool();
    if (p == NULL)
        return EPERM;
    if (block_depth == 0)
        return EINVAL;
    if (--block_depth == 0)
        parc_faa(&p->running, 1u, PARC_RELAXED); /* a compensator retires */
    return 0;
}

int parc_pool_set_block_cap(parc_pool_t *p, unsigned cap)
{
    if (p == NULL || cap > PARC_POOL_BLOCK_CAP_MAX)
        return EINVAL;
    parc_store(&p->comp_cap, cap, PARC_RELAXED); /* read under comp_lock */
    return 0;
}

unsigned parc_pool_compensators(parc_pool_t *p)
{
    if (p == NULL)
        return 0;
    pthread_mutex_lock(&p->comp_lock);
    unsigned n = p->ncomp;
    pthread_mutex_unlock(&p->comp_lock);
    return n;
}

/* After the workers are joined: stop the spares and join every
 * compensator (a compensator may start another one until it exits, so
 * loop until none is alive). */
void parc_pool_block_join_(parc_pool_t *p)
{
    pthread_mutex_lock(&p->comp_lock);
    p->comp_stop = true;
    pool_comp_t *sp = p->spares; /* unlisted here, told after the unlock */
    p->spares = NULL;
    for (pool_comp_t *c = sp; c != NULL; c = c->next_spare)
        c->listed = false;
    pthread_mutex_unlock(&p->comp_lock);
    while (sp != NULL) {
        pool_comp_t *c = sp;
        sp = c->next_spare; /* read before c may exit and be reaped */
        /* Release: nothing to publish but the order of the unlisting
         * (done above under the lock, which c takes to exit). */
        parc_store(&c->woken, SPARE_STOP, PARC_RELEASE);
        (void)parc_park_wake_one(&c->woken);
    }
    pthread_mutex_lock(&p->comp_lock);
    while (p->ncomp > 0)
        pthread_cond_wait(&p->comp_exit_cv, &p->comp_lock);
    reap_locked(p);
    pthread_mutex_unlock(&p->comp_lock);
}
