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
 * the target (a blocked thread came back), it leaves the count (a CAS
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
 * A futex wake-up of a parked spare costs ~45 us on the virtual machines
 * this was written on, and the kernel may queue the woken thread behind
 * a busy worker on the other core while the blocker's core idles (an
 * idle core does not pull a task that ran within the last 0.5 ms,
 * sched_migration_cost): with 20 us tasks of which half block, that
 * halved the throughput. So:
 *   1. One retiring spare at a time spins (sched_yield between looks,
 *      SPARE_SPIN_NS) in the `spinner` slot before it parks, and a begin
 *      takes the spinner first: no futex wake-up, it is runnable.
 *   2. The begin moves the spare it takes onto its own CPU
 *      (sched_setaffinity to that one CPU, unless the spare last looked
 *      from there): the blocker is about to sleep, so the spare runs on
 *      the core it leaves as soon as it leaves it, with no cross-core
 *      wake-up and no wait for the load balancer. The spare restores its
 *      affinity (the mask it started with) when it resumes, so the
 *      balancer may move it later. Its cost: one system call on each
 *      side, a few microseconds, against tens.
 * Rejected: letting surplus compensators run on (retire only above the
 * target plus a slack) so that a block finds a runnable thread with no
 * hand-over at all: the extra threads queue behind busy workers and the
 * core a block frees idles until the balancer moves one (the same
 * 0.5 ms rule); measured worse than the hand-over. Waking a parked spare
 * to spin whenever the spinner is taken (Go wakes a spinning M when one
 * finds work): a spinner that has yielded for long sits behind every
 * other runnable thread (EEVDF pushes a yielder's deadline back a slice
 * each time), and took longer to run than a spare moved onto the core.
 * The spinner costs an idle pool at most one yielding thread for
 * SPARE_SPIN_NS after its last block.
 *
 * Cost: begin/end on a thread already inside a pair is a thread-local
 * increment; the outermost end is one atomic add; the outermost begin is
 * one atomic add plus, as the count then is below the target, the
 * compensation itself: the lock below and a condvar signal (a spare) or
 * pthread_create. That is the price of keeping the pool's parallelism
 * across a blocking call, which costs a system call anyway. `running` is
 * one line written by every begin/end of the pool: on 64 cores with
 * frequent short blocks it would be contended; not measurable on the
 * 2-core VM this was written on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "parc/time.h"
#include "pool_internal.h"

/* How long a retired compensator stays parked as a spare before it
 * exits (Java keeps spares 60 s; a shorter time bounds idle threads). */
#define SPARE_KEEP_NS (100 * PARC_NS_PER_MS)
/* How long the one spinning spare spins before it parks. */
#define SPARE_SPIN_NS (500 * PARC_NS_PER_US)
/* Idle polling of a needed compensator: from POLL_MIN_NS doubling to
 * POLL_MAX_NS (Go's sysmon: 20 us to 10 ms). */
#define POLL_MIN_NS (20 * PARC_NS_PER_US)
#define POLL_MAX_NS (10 * PARC_NS_PER_MS)

typedef struct pool_comp {
    pthread_t thread;
    parc_pool_t *pool;
    struct pool_comp *next;       /* all compensators (comp_lock) */
    struct pool_comp *next_spare; /* spares list (comp_lock) */
    pthread_cond_t cv;            /* a spare waits here */
    /* A begin() took this spare: set under comp_lock, read under it or,
     * by the spinning spare, without it. */
    parc_atomic(int) woken;
    /* The CPU the spinning spare last looked from (a hint for
     * compensate: no move needed when it is the caller's). */
    parc_atomic(int) cpu;
    bool done;                    /* comp_lock: the thread is exiting */
    bool moved;                   /* comp_lock: pinned by a take; restore */
    pid_t tid;                    /* its kernel thread id */
    cpu_set_t allowed;            /* its affinity at creation */
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
    parc_atomic_init(&p->comp_cap, PARC_POOL_BLOCK_CAP_DEFAULT);
    pthread_mutex_init(&p->comp_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->comp_exit_cv, &ca);
    pthread_condattr_destroy(&ca);
    p->comps = NULL;
    p->spares = NULL;
    p->spinner = NULL;
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
            pthread_cond_destroy(&c->cv);
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

/* Retire c if the pool has more running threads than its target: leave
 * the count and park as a spare until a begin() takes it (SPARE_WOKEN:
 * counted again), or SPARE_KEEP_NS pass or the pool stops (SPARE_EXITED:
 * c is done). Leaving the count and joining the spares happen under
 * comp_lock, which compensate() holds to look for a spare: a begin that
 * finds the pool short either finds c listed, or dropped the count before
 * c looked (and c stays). Apart, a begin could find c neither listed nor
 * counted, with the cap reached by c itself: a lost wake-up. */
static spare_t park_spare(parc_pool_t *p, pool_comp_t *c)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    int64_t ns = until.tv_nsec + SPARE_KEEP_NS;
    until.tv_sec += (time_t)(ns / PARC_NS_PER_S);
    until.tv_nsec = (long)(ns % PARC_NS_PER_S);
    pthread_mutex_lock(&p->comp_lock);
    if (p->comp_stop || pool_terminating(p)) {
        parc_fas(&p->running, 1u, PARC_RELAXED);
        comp_exit_locked(p, c);
        pthread_mutex_unlock(&p->comp_lock);
        return SPARE_EXITED;
    }
    /* relaxed: a count, see parc_pool_block_begin */
    uint32_t r = parc_load(&p->running, PARC_RELAXED);
    do {
        if (r <= p->nworkers) {
            pthread_mutex_unlock(&p->comp_lock);
            return SPARE_NOT_SURPLUS;
        }
    } while (!parc_cas(&p->running, &r, r - 1u, PARC_RELAXED, PARC_RELAXED));
    parc_store(&c->woken, 0, PARC_RELAXED); /* under comp_lock */
    if (p->spinner == NULL) {
        /* Spin in the slot, unlisted: a begin takes us from the slot. */
        p->spinner = c;
        pthread_mutex_unlock(&p->comp_lock);
        int64_t end = parc_now_ns() + SPARE_SPIN_NS;
        /* acquire: pairs with compensate's release store; nothing else
         * is read, but the take happens before our next look for work */
        while (parc_load(&c->woken, PARC_ACQUIRE) == 0 && parc_now_ns() < end) {
            parc_store(&c->cpu, sched_getcpu(), PARC_RELAXED); /* a hint */
            sched_yield();
        }
        pthread_mutex_lock(&p->comp_lock);
        if (parc_load(&c->woken, PARC_RELAXED) != 0) { /* locked */
            pthread_mutex_unlock(&p->comp_lock);
            return SPARE_WOKEN; /* the take cleared the slot */
        }
        p->spinner = NULL; /* still ours: only a take clears it */
    }
    c->next_spare = p->spares;
    p->spares = c;
    int e = 0;
    while (parc_load(&c->woken, PARC_RELAXED) == 0 && !p->comp_stop /* locked */
           && e != ETIMEDOUT)
        e = pthread_cond_timedwait(&c->cv, &p->comp_lock, &until);
    if (parc_load(&c->woken, PARC_RELAXED) != 0) { /* locked */
        pthread_mutex_unlock(&p->comp_lock);
        return SPARE_WOKEN;
    }
    pool_comp_t **pp = &p->spares; /* still listed: nobody took it */
    while (*pp != c)
        pp = &(*pp)->next_spare;
    *pp = c->next_spare;
    comp_exit_locked(p, c);
    pthread_mutex_unlock(&p->comp_lock);
    return SPARE_EXITED;
}

/* A taken spare resumes: undo the take's move (see the hand-over). */
static void comp_resume(parc_pool_t *p, pool_comp_t *c)
{
    pthread_mutex_lock(&p->comp_lock); /* `moved` is the taker's */
    bool moved = c->moved;
    c->moved = false;
    pthread_mutex_unlock(&p->comp_lock);
    if (moved)
        (void)sched_setaffinity(0, sizeof c->allowed, &c->allowed);
}

static void *comp_main(void *arg)
{
    pool_comp_t *c = arg;
    parc_pool_t *p = c->pool;
    comp_pool = p;
    c->tid = (pid_t)syscall(SYS_gettid); /* before it can be listed */
    comp_resume(p, c); /* created on its creator's CPU */
    int64_t poll = POLL_MIN_NS;
    for (;;) {
        /* We are counted in `running` here (by whoever started or woke
         * us). relaxed: the count carries no data, only a decision. */
        if (parc_load(&p->running, PARC_RELAXED) > p->nworkers) {
            spare_t sp = park_spare(p, c);
            if (sp == SPARE_EXITED)
                break; /* not counted any more */
            if (sp == SPARE_WOKEN) {
                comp_resume(p, c);
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
        /* relaxed: as above */
        if (parc_load(&p->running, PARC_RELAXED) > p->nworkers) {
            /* No work, and not needed: retire now rather than poll (a
             * retired spare may spin, ready for the next begin). */
            spare_t sp = park_spare(p, c);
            if (sp == SPARE_EXITED)
                break;
            if (sp == SPARE_WOKEN)
                comp_resume(p, c);
            poll = POLL_MIN_NS;
            continue;
        }
        parc_sleep_ns(poll);
        poll = poll * 2 > POLL_MAX_NS ? POLL_MAX_NS : poll * 2;
    }
    comp_pool = NULL;
    return NULL;
}

/* Pin the spare c (taken, not yet resumed) to `cpu` when its mask allows
 * it: see the hand-over. comp_lock held. */
static void move_to(pool_comp_t *c, int cpu)
{
    if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &c->allowed))
        return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(c->tid, sizeof one, &one) == 0)
        c->moved = true;
}

/* Bring one more thread into the running count: the spinning spare, a
 * parked one, or a new compensator below the cap. The caller has just
 * left the count. */
static void compensate(parc_pool_t *p)
{
    pthread_mutex_lock(&p->comp_lock);
    if (p->comp_stop || pool_terminating(p)
        || parc_load(&p->comp_cap, PARC_RELAXED) == 0) {
        pthread_mutex_unlock(&p->comp_lock);
        return;
    }
    int cpu = sched_getcpu();
    pool_comp_t *c = p->spinner;
    if (c != NULL) {
        p->spinner = NULL; /* it sees `woken` spinning, or under the lock */
        /* relaxed: a hint; on our CPU already, it runs when we sleep */
        if (parc_load(&c->cpu, PARC_RELAXED) != cpu)
            move_to(c, cpu);
        /* release: pairs with the spinning spare's acquire load */
        parc_store(&c->woken, 1, PARC_RELEASE);
        parc_faa(&p->running, 1u, PARC_RELAXED); /* on its behalf */
        pthread_mutex_unlock(&p->comp_lock);
        return;
    }
    c = p->spares;
    if (c != NULL) {
        p->spares = c->next_spare;
        move_to(c, cpu); /* before the wake-up: it wakes here */
        parc_store(&c->woken, 1, PARC_RELAXED); /* read under comp_lock */
        parc_faa(&p->running, 1u, PARC_RELAXED); /* on its behalf */
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&p->comp_lock);
        return;
    }
    reap_locked(p);
    if (p->ncomp >= parc_load(&p->comp_cap, PARC_RELAXED)
        || (c = calloc(1, sizeof *c)) == NULL) {
        pthread_mutex_unlock(&p->comp_lock);
        return; /* at the cap (or no memory): the block goes uncompensated */
    }
    c->pool = p;
    parc_atomic_init(&c->cpu, -1);
    pthread_attr_t ta;
    pthread_attr_init(&ta);
    /* Start on our CPU (the hand-over), then take back our mask. */
    if (pthread_getaffinity_np(pthread_self(), sizeof c->allowed, &c->allowed) == 0
        && cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, &c->allowed)) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        c->moved = pthread_attr_setaffinity_np(&ta, sizeof one, &one) == 0;
    }
    pthread_condattr_t ca; /* park_spare's deadline is CLOCK_MONOTONIC */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    parc_faa(&p->running, 1u, PARC_RELAXED); /* counted before it starts */
    int crc = pthread_create(&c->thread, &ta, comp_main, c);
    pthread_attr_destroy(&ta);
    if (crc != 0) {
        parc_fas(&p->running, 1u, PARC_RELAXED);
        pthread_cond_destroy(&c->cv);
        free(c);
    } else {
        p->ncomp++;
        c->next = p->comps;
        p->comps = c;
    }
    pthread_mutex_unlock(&p->comp_lock);
}

int parc_pool_block_begin(void)
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

int parc_pool_block_end(void)
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
    for (pool_comp_t *c = p->spares; c != NULL; c = c->next_spare)
        pthread_cond_signal(&c->cv);
    while (p->ncomp > 0)
        pthread_cond_wait(&p->comp_exit_cv, &p->comp_lock);
    reap_locked(p);
    pthread_mutex_unlock(&p->comp_lock);
}
