/* Scheduled actors on a pool (parc/actor_sched.h). The scheduling
 * protocol is argued in the header and at proc_turn() below. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "parc/actor_sched.h"
#include "parc/cond.h"
#include "parc/mutex.h"
#include "parc/park.h"
#include "parc/sem.h"
#include "parc/spinlock.h"
#include "timer.h"

#if defined(__SANITIZE_ADDRESS__)
#define ACTOR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ACTOR_ASAN 1
#endif
#endif
#ifdef ACTOR_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/lsan_interface.h>
#endif

/* A pinned actor's thread and the semaphore its turns are posted to. */
typedef struct pin {
    pthread_t thread;
    parc_sem_t sem;
    struct pin *next;     /* in rt->pins, under rt->lock */
} pin_t;

/* What only pinned or bounded actors need, kept out of the actor so that
 * the common actor fits three cache lines (malloc'd at spawn, freed with
 * the actor). */
typedef struct actor_ext {
    pin_t *pin;                       /* NULL unless pinned */
    uint32_t capacity;                /* 0: unbounded */
    parc_atomic(uint32_t) count;      /* counted messages queued */
    parc_atomic(uint32_t) space_waiters;
    parc_park_word_t space;           /* bumped when room appears */
} actor_ext_t;

/* flags bits */
#define F_STOP_SENT 1u /* the stop message went out (one stopper) */
#define F_STOPPED 2u   /* stopped: exit_status is final */
#define F_EXIT 4u      /* the running turn ends the actor (turn-private) */

struct parc_sactor {
    parc_mpsc_t mbox;                 /* two cache-aligned lines */
    /* Third line: everything else. No runtime pointer: the actor lives in
     * one of its runtime's slabs, whose header names it (rt_of). */
    parc_behaviour_fn fn;
    void *state;
    actor_ext_t *ext;                 /* NULL unless pinned or bounded */
    parc_atomic(uintptr_t) monitors;  /* parc_down_t list, or MON_CLOSED */
    parc_mpsc_node_t stop_node;       /* the one stop message's link */
    parc_atomic(uint32_t) refs;
    parc_atomic(uint32_t) flags;      /* F_* */
    int exit_status;                  /* written by the turn, final once
                                       * F_STOPPED is set */
    int stop_status;                  /* written by the one stopper before
                                       * it pushes stop_node */
};

/* Three lines: idle memory per actor is this plus a slab's header shared
 * by SLAB_SLOTS actors. */
_Static_assert(sizeof(struct parc_sactor) == 3 * PARC_CACHELINE,
               "parc_sactor_t: the mailbox's two lines and one of state");

/*
 * Actor memory: slabs of SLAB_BYTES, aligned to their size, each a
 * one-line header and SLAB_SLOTS actor slots, cache-aligned and nothing
 * left over (2^18 - 64 is a multiple of 192). An actor finds its runtime
 * through its slab's header, so it needs no pointer of its own. Slabs are
 * mapped from the system (the alignment would cost malloc a second slab's
 * worth of address space) and unmapped when the runtime is freed; freed
 * slots are reused, never given back earlier. Free slots are pushed by
 * any thread on a Treiber stack that the allocator (under slot_lock)
 * takes whole with one exchange, so the stack never pops a single node
 * and has no ABA problem. Under AddressSanitizer a free slot is poisoned
 * (a use after the last release is reported) and each slab is a root
 * region for LeakSanitizer (what live actors point to is reachable).
 */
#define SLAB_BYTES ((size_t)1 << 18)
#define SLAB_SLOTS ((SLAB_BYTES - PARC_CACHELINE) / sizeof(struct parc_sactor))
_Static_assert((SLAB_BYTES - PARC_CACHELINE) % sizeof(struct parc_sactor) == 0,
               "a slab is its header and whole slots");

typedef struct slab {
    parc_actors_t *rt;
    struct slab *next;  /* the runtime's slabs, under slot_lock */
} slab_t;

typedef struct slot {
    struct slot *next;  /* a free slot's link (its first word) */
} slot_t;

#define MON_CLOSED ((uintptr_t)1)

struct parc_actors {
    parc_pool_t *pool;
    /* Turns scheduled or running plus pending timers; parked on by
     * quiesce. Written by every scheduling send: its own line. */
    PARC_CACHE_ALIGNED parc_park_word_t busy;
    parc_atomic(uint32_t) qwaiters;
    /* Actors stopped (by the turns that stop them); live is spawned -
     * stopped (spawned counts under slot_lock, with no RMW). */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) stopped;
    parc_timers_t *timers;      /* send_after's */
    /* Pinned actors' threads, under lock. */
    PARC_CACHE_ALIGNED parc_mutex_t lock;
    pin_t *pins;
    /* Freed actor slots: any thread pushes, the allocator takes all. */
    PARC_CACHE_ALIGNED parc_atomic(uintptr_t) freed;
    /* The allocating side, under slot_lock (spawners only): a few loads
     * and stores, never a system call (slabs are mapped outside it), so a
     * test-and-set lock, whose release is a plain store. */
    PARC_CACHE_ALIGNED parc_spin_tas_t slot_lock;
    slot_t *spare;              /* free slots taken from freed */
    char *carve, *carve_end;    /* the newest slab's slots not yet used */
    slab_t *slabs;
    uint64_t carved;            /* slots ever handed out from slabs */
    parc_atomic(uint64_t) spawned; /* written under slot_lock only */
};

/* ---- actor slots ---------------------------------------------------------- */

static inline parc_actors_t *rt_of(const parc_sactor_t *a)
{
    return ((const slab_t *)((uintptr_t)a & ~(uintptr_t)(SLAB_BYTES - 1)))->rt;
}

#ifdef ACTOR_ASAN
#define SLOT_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define SLOT_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define SLOT_POISON(p, n) ((void)(p), (void)(n))
#define SLOT_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* A free slot's link, read or written by the slot's one owner (a free
 * slot is poisoned but for these moments). */
static slot_t *slot_next(slot_t *s)
{
    SLOT_UNPOISON(s, sizeof *s);
    slot_t *n = s->next;
    SLOT_POISON(s, sizeof *s);
    return n;
}

static void slot_set_next(slot_t *s, slot_t *n)
{
    SLOT_UNPOISON(s, sizeof *s);
    s->next = n;
    SLOT_POISON(s, sizeof *s);
}

static slab_t *slab_map(parc_actors_t *rt)
{
    /* Map twice the size and cut the aligned slab out of it. */
    size_t len = 2 * SLAB_BYTES;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    char *p = m;
    char *s = (char *)(((uintptr_t)p + SLAB_BYTES - 1) &
                       ~(uintptr_t)(SLAB_BYTES - 1));
    if (s > p)
        munmap(p, (size_t)(s - p));
    if (s + SLAB_BYTES < p + len)
        munmap(s + SLAB_BYTES, (size_t)(p + len - (s + SLAB_BYTES)));
#ifdef MADV_NOHUGEPAGE
    /* Neighbouring slabs merge into one mapping, which a kernel with
     * transparent huge pages "always" would back 2 MiB at a time: keep an
     * idle actor's cost its 192 bytes, not a huge page's share. */
    madvise(s, SLAB_BYTES, MADV_NOHUGEPAGE);
#endif
#ifdef ACTOR_ASAN
    SLOT_UNPOISON(s, SLAB_BYTES); /* whatever an earlier mapping left */
    __lsan_register_root_region(s, SLAB_BYTES);
#endif
    slab_t *slab = (slab_t *)(void *)s;
    slab->rt = rt;
    return slab;
}

static void slab_unmap(slab_t *slab)
{
#ifdef ACTOR_ASAN
    __lsan_unregister_root_region(slab, SLAB_BYTES);
    SLOT_UNPOISON(slab, SLAB_BYTES);
#endif
    munmap(slab, SLAB_BYTES);
}

/* Take the freed stack whole and put it in front of spare. Under
 * slot_lock. */
static void take_freed(parc_actors_t *rt)
{
    /* acquire: the freeing threads' last uses of the slots and their
     * links happen before; pairs with slot_free's release CAS. */
    slot_t *got = (slot_t *)parc_xchg(&rt->freed, (uintptr_t)0, PARC_ACQUIRE);
    if (got == NULL)
        return;
    if (rt->spare != NULL) {
        slot_t *last = got;
        for (slot_t *n; (n = slot_next(last)) != NULL;)
            last = n;
        slot_set_next(last, rt->spare);
    }
    rt->spare = got;
}

/* A slot for a new actor, or NULL (no memory). Any thread. */
static parc_sactor_t *slot_alloc(parc_actors_t *rt)
{
    slab_t *unused = NULL;
    parc_spin_tas_lock(&rt->slot_lock);
    if (rt->spare == NULL)
        take_freed(rt);
    slot_t *s = rt->spare;
    if (s != NULL) {
        slot_t *next = slot_next(s);
        rt->spare = next;
        SLOT_UNPOISON(s, sizeof(parc_sactor_t));
#ifndef ACTOR_ASAN
        if (next != NULL) {
            /* The next spawn writes all three lines of that slot, last
             * written by the thread that freed it: start fetching them. */
            for (size_t off = 0; off < sizeof(parc_sactor_t); off += PARC_CACHELINE)
                __builtin_prefetch((char *)next + off, 1);
        }
#endif
    } else {
        if (rt->carve == rt->carve_end) {
            parc_spin_tas_unlock(&rt->slot_lock);
            slab_t *slab = slab_map(rt);
            if (slab == NULL)
                return NULL;
            parc_spin_tas_lock(&rt->slot_lock);
            if (rt->carve == rt->carve_end) {
                slab->next = rt->slabs;
                rt->slabs = slab;
                rt->carve = (char *)slab + PARC_CACHELINE;
                rt->carve_end = (char *)slab + SLAB_BYTES;
            } else {
                unused = slab; /* another spawner mapped one meanwhile */
            }
        }
        s = (slot_t *)(void *)rt->carve;
        rt->carve += sizeof(parc_sactor_t);
        rt->carved++;
    }
    /* relaxed, and no RMW: only slot_lock's holder writes it. */
    parc_store(&rt->spawned, parc_load(&rt->spawned, PARC_RELAXED) + 1,
               PARC_RELAXED);
    parc_spin_tas_unlock(&rt->slot_lock);
    if (unused != NULL)
        slab_unmap(unused);
    return (parc_sactor_t *)(void *)s;
}

/* Give an actor's slot back (the last reference is gone). Any thread;
 * lock-free. */
static void slot_free(parc_actors_t *rt, parc_sactor_t *a)
{
    slot_t *s = (slot_t *)(void *)a;
#ifdef ACTOR_ASAN
    memset(a, 0, sizeof *a); /* stale pointers would hide leaks from LSan */
#endif
    SLOT_POISON(a, sizeof *a);
    uintptr_t head = parc_load(&rt->freed, PARC_RELAXED);
    do {
        slot_set_next(s, (slot_t *)head);
        /* release: our uses of the slot (and the link) happen before the
         * allocator's acquire exchange in take_freed. */
    } while (!parc_cas_weak(&rt->freed, &head, (uintptr_t)s, PARC_RELEASE,
                            PARC_RELAXED));
}

/* Slots handed out and not given back (parc_actors_free). Under
 * slot_lock. */
static uint64_t slots_in_use(parc_actors_t *rt)
{
    take_freed(rt);
    uint64_t spare = 0;
    for (slot_t *s = rt->spare; s != NULL; s = slot_next(s))
        spare++;
    return rt->carved - spare;
}

/* ---- quiescence count ---------------------------------------------------- */

static void busy_inc(parc_actors_t *rt)
{
    /* relaxed: the increment happens before the work it counts is handed
     * on (the decrement of whoever created that work comes later in the
     * same thread, a seq_cst RMW on the same word, so the total never
     * touches zero in between). */
    parc_faa(&rt->busy, 1u, PARC_RELAXED);
}

static void busy_dec(parc_actors_t *rt)
{
    /* seq_cst: releases the finished turn's effects to quiesce's acquire
     * load, and orders this decrement before the load of qwaiters against
     * quiesce's increment of qwaiters before its load of busy (Dekker: one
     * of the two sees the other). */
    if (parc_fas(&rt->busy, 1u, PARC_SEQ_CST) == 1u &&
        parc_load(&rt->qwaiters, PARC_SEQ_CST) != 0)
        parc_park_wake_all(&rt->busy);
}

static int quiesce_wait(parc_actors_t *rt, parc_deadline_t deadline, bool try)
{
    if (rt == NULL)
        return EINVAL;
    for (unsigned i = 0; i < PARC_SPIN_POLLS; i++) {
        /* acquire: pairs with busy_dec's release; the actors' work is
         * visible once zero is seen. */
        if (parc_load(&rt->busy, PARC_ACQUIRE) == 0)
            return 0;
        if (try)
            return EAGAIN;
        parc_spin_poll(i);
    }
    for (;;) {
        /* seq_cst: the other half of busy_dec's Dekker pair. */
        parc_faa(&rt->qwaiters, 1u, PARC_SEQ_CST);
        uint32_t b = parc_load(&rt->busy, PARC_SEQ_CST);
        int rc = 0;
        if (b != 0)
            rc = parc_park_wait(&rt->busy, b, deadline);
        parc_fas(&rt->qwaiters, 1u, PARC_RELAXED);
        if (b == 0)
            return 0;
        if (rc == ETIMEDOUT || parc_deadline_passed(deadline)) {
            /* acquire: as above. */
            return parc_load(&rt->busy, PARC_ACQUIRE) == 0 ? 0 : ETIMEDOUT;
        }
    }
}

int parc_actors_quiesce(parc_actors_t *rt)
{
    return quiesce_wait(rt, PARC_FOREVER, false);
}

int parc_actors_quiesce_try(parc_actors_t *rt)
{
    return quiesce_wait(rt, PARC_FOREVER, true);
}

int parc_actors_quiesce_timed(parc_actors_t *rt, int64_t timeout_ns)
{
    parc_deadline_t d;
    if (rt == NULL || parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    return quiesce_wait(rt, d, false);
}

uint64_t parc_actors_live(parc_actors_t *rt)
{
    if (rt == NULL)
        return 0;
    /* acquire: pairs with finish's release increment, so each stopped
     * actor's spawn (counted before it could run) is in the count read
     * next: never fewer spawned than stopped. */
    uint64_t stopped = parc_load(&rt->stopped, PARC_ACQUIRE);
    return parc_load(&rt->spawned, PARC_RELAXED) - stopped;
}

/* ---- references ------------------------------------------------------------ */

void parc_sactor_retain(parc_sactor_t *a)
{
    if (a != NULL)
        parc_faa(&a->refs, 1u, PARC_RELAXED); /* the caller holds one */
}

void parc_sactor_release(parc_sactor_t *a)
{
    if (a == NULL)
        return;
    /* acq_rel: every holder's uses happen before the free (release by
     * them, acquire by the last). */
    if (parc_fas(&a->refs, 1u, PARC_ACQ_REL) != 1u)
        return;
    parc_mpsc_destroy(&a->mbox);
    free(a->ext); /* its pin, if any, is the runtime's (joined at free) */
    slot_free(rt_of(a), a);
}

parc_actors_t *parc_sactor_runtime(parc_sactor_t *a)
{
    return a == NULL ? NULL : rt_of(a);
}

/* ---- turns ------------------------------------------------------------------ */

static void schedule(parc_sactor_t *a);
static void finish(parc_sactor_t *a);
static int push(parc_sactor_t *a, parc_msg_t *m);

static parc_msg_t *msg_of(parc_mpsc_node_t *n)
{
    return parc_mpsc_entry(n, parc_msg_t, node_);
}

/* A counted message left the mailbox: make room, wake blocked senders. */
static void uncount(parc_sactor_t *a, parc_msg_t *m)
{
    if ((m->flags_ & PARC_MSG_COUNTED_) == 0)
        return;
    m->flags_ &= ~PARC_MSG_COUNTED_;
    actor_ext_t *x = a->ext; /* counted: the actor is bounded */
    /* seq_cst: Dekker with a blocked sender (it raises space_waiters, then
     * reads count; we lower count, then read space_waiters). */
    parc_fas(&x->count, 1u, PARC_SEQ_CST);
    if (parc_load(&x->space_waiters, PARC_SEQ_CST) != 0) {
        parc_faa(&x->space, 1u, PARC_RELAXED); /* the wake's futex word */
        parc_park_wake_all(&x->space);
    }
}

/*
 * One turn: at most PARC_ACTOR_BATCH messages. Returns true when the
 * actor stopped (the caller must not touch it again).
 *
 * Why exactly one turn is ever scheduled: the turn runs because some push
 * took the mailbox's empty mark, and the mark is set again only by this
 * turn's parc_mpsc_mark_empty(), whose CAS succeeds only when nothing is
 * linked and no push is between its exchange and its link. A push that
 * precedes that CAS makes it fail (we pop on); a push after it takes the
 * mark and schedules the next turn, which therefore starts after this one
 * gave up the mark, i.e. after its last access to the actor's state. When
 * the batch is exhausted we keep the token (the mark stays clear) and
 * schedule ourselves again, so nobody else can.
 */
static bool proc_turn(parc_sactor_t *a)
{
    unsigned done = 0;
    while (done < PARC_ACTOR_BATCH) {
        parc_mpsc_node_t *n;
        int rc = parc_mpsc_pop_try(&a->mbox, &n);
        if (rc == EAGAIN) {
            if (parc_mpsc_mark_empty(&a->mbox)) {
                busy_dec(rt_of(a)); /* idle: the next push reschedules us */
                return false;
            }
            done++; /* a push in flight: let the batch bound the wait */
            parc_cpu_relax();
            continue;
        }
        if (rc != 0) { /* EPIPE: only after finish(), which ends turns */
            busy_dec(rt_of(a));
            return false;
        }
        done++;
        if (n == &a->stop_node) {
            /* relaxed: the stopper's push published stop_status (our
             * pop's acquire); the flag is turn-private. */
            a->exit_status = a->stop_status;
            parc_for(&a->flags, F_EXIT, PARC_RELAXED);
        } else {
            parc_msg_t *m = msg_of(n);
            uncount(a, m);
            a->fn(a, a->state, m);
        }
        /* relaxed: F_EXIT is set by this turn only (above, or by the
         * behaviour through parc_sactor_exit). */
        if (parc_load(&a->flags, PARC_RELAXED) & F_EXIT) {
            finish(a);
            return true;
        }
    }
    schedule(a); /* still holding the token: resubmit (busy stays counted) */
    return false;
}

static int turn_task(void *arg, void **result)
{
    (void)result;
    proc_turn(arg);
    return 0;
}

/* Called by whoever took the empty mark (or a turn that kept it). */
static void schedule(parc_sactor_t *a)
{
    if (a->ext != NULL && a->ext->pin != NULL) {
        parc_sem_release(&a->ext->pin->sem, 1);
        return;
    }
    if (parc_pool_submit(rt_of(a)->pool, turn_task, a, NULL) != 0)
        proc_turn(a); /* no memory: run the turn here (we hold the token) */
}

static void *pin_main(void *arg)
{
    parc_sactor_t *a = arg;
    pin_t *pin = a->ext->pin;
    while (parc_sem_acquire(&pin->sem, 1) == 0)
        if (proc_turn(a))
            break;
    return NULL;
}

/* Stop: close the mailbox, dispose what is left, tell the monitors. */
static void finish(parc_sactor_t *a)
{
    parc_actors_t *rt = rt_of(a);
    parc_mpsc_close(&a->mbox);
    /* seq_cst: release publishes exit_status to parc_sactor_stopped; and
     * Dekker with a blocked sender (claim raises space_waiters, then reads
     * the flags; we set F_STOPPED, then read space_waiters below). */
    parc_for(&a->flags, F_STOPPED, PARC_SEQ_CST);
    parc_mpsc_node_t *n;
    while (parc_mpsc_pop(&a->mbox, &n) == 0) { /* closed: never sleeps */
        if (n == &a->stop_node)
            continue;
        parc_msg_t *m = msg_of(n);
        uncount(a, m);
        parc_msg_free(m);
    }
    /* Blocked senders: they will find the actor stopped. Only when some
     * may be parked (a futex wake per stop would cost a spawn ~40%). */
    actor_ext_t *x = a->ext;
    if (x != NULL && x->capacity != 0 &&
        parc_load(&x->space_waiters, PARC_SEQ_CST) != 0) {
        parc_faa(&x->space, 1u, PARC_RELAXED);
        parc_park_wake_all(&x->space);
    }
    /* acq_rel: acquire the monitors pushed so far (their release CAS);
     * release our stop to those that later find the list closed. */
    uintptr_t list = parc_xchg(&a->monitors, MON_CLOSED, PARC_ACQ_REL);
    for (parc_down_t *d = (parc_down_t *)list; d != NULL;) {
        parc_down_t *next = d->next_;
        d->status = a->exit_status;
        parc_sactor_t *w = d->watcher_;
        d->watcher_ = NULL;
        if (push(w, &d->msg) != 0) /* uncounted: never blocks */
            parc_msg_free(&d->msg);
        parc_sactor_release(w);
        d = next;
    }
    /* The runtime's reference goes before the actor stops counting as
     * live, so that parc_actors_free, once it sees no actor live, sees
     * every slot the runtime held given back. */
    parc_sactor_release(a);
    /* release: the release above (and its slot's return) happens before
     * the acquire loads of stopped (parc_actors_free, parc_actors_live). */
    parc_faa(&rt->stopped, 1u, PARC_RELEASE);
    busy_dec(rt);              /* this turn is over */
}

/* ---- spawning -------------------------------------------------------------- */

int parc_spawn(parc_actors_t *rt, parc_behaviour_fn fn, void *state,
               const parc_spawn_options_t *opts, parc_sactor_t **out)
{
    if (rt == NULL || fn == NULL || out == NULL)
        return EINVAL;
    bool pinned = opts != NULL && opts->pinned;
    uint32_t capacity = opts != NULL ? opts->capacity : 0;
    actor_ext_t *x = NULL;
    if (pinned || capacity != 0) {
        x = malloc(sizeof *x);
        if (x == NULL)
            return ENOMEM;
        x->pin = NULL;
        x->capacity = capacity;
        parc_atomic_init(&x->count, 0u);
        parc_atomic_init(&x->space_waiters, 0u);
        parc_atomic_init(&x->space, 0u);
    }
    parc_sactor_t *a = slot_alloc(rt);
    if (a == NULL) {
        free(x);
        return ENOMEM;
    }
    parc_mpsc_init(&a->mbox);
    a->fn = fn;
    a->state = state;
    a->ext = x;
    parc_atomic_init(&a->monitors, (uintptr_t)0);
    memset(&a->stop_node, 0, sizeof a->stop_node);
    parc_atomic_init(&a->refs, 2u); /* the caller's and the runtime's */
    parc_atomic_init(&a->flags, 0u);
    a->exit_status = 0;
    a->stop_status = 0;
    if (pinned) {
        pin_t *pin = malloc(sizeof *pin);
        if (pin == NULL) {
            free(x);
            slot_free(rt, a);
            parc_faa(&rt->stopped, 1u, PARC_RELEASE); /* as finish does */
            return ENOMEM;
        }
        parc_sem_init(&pin->sem, 0);
        x->pin = pin;
        if (pthread_create(&pin->thread, NULL, pin_main, a) != 0) {
            parc_sem_destroy(&pin->sem);
            free(pin);
            free(x);
            slot_free(rt, a);
            parc_faa(&rt->stopped, 1u, PARC_RELEASE); /* as finish does */
            return EAGAIN;
        }
        parc_mutex_lock(&rt->lock);
        pin->next = rt->pins;
        rt->pins = pin;
        parc_mutex_unlock(&rt->lock);
    }
    *out = a;
    return 0;
}

/* ---- sending ----------------------------------------------------------------- */

/* Push m; schedule the actor when this push made the mailbox non-empty.
 *
 * Without the mailbox's wake-up (parc_mpsc_push_nowake: no seq_cst fence,
 * no read of the consumer's line): nobody ever sleeps in parc_mpsc_pop()
 * on a scheduled actor's mailbox. Turns poll it with pop_try and end by
 * marking it empty, and the push that takes the mark schedules the next
 * turn (the pool's submit, or for a pinned actor its semaphore, which is
 * what its thread sleeps on); finish() pops only after closing it, when
 * pop never sleeps (the end node is linked: it returns EPIPE). */
static int push(parc_sactor_t *a, parc_msg_t *m)
{
    bool was_empty;
    int rc = parc_mpsc_push_nowake(&a->mbox, &m->node_, &was_empty);
    if (rc == 0 && was_empty) {
        busy_inc(rt_of(a));
        schedule(a);
    }
    return rc;
}

/* Claim a slot of a bounded mailbox. */
static int claim(parc_sactor_t *a, bool wait, parc_deadline_t deadline)
{
    actor_ext_t *x = a->ext;
    for (unsigned spins = 0;; spins++) {
        uint32_t c = parc_load(&x->count, PARC_RELAXED);
        while (c < x->capacity) {
            /* relaxed: the count only bounds memory; the message itself
             * is published by the mailbox's push. */
            if (parc_cas_weak(&x->count, &c, c + 1, PARC_RELAXED,
                              PARC_RELAXED))
                return 0;
        }
        if ((parc_load(&a->flags, PARC_RELAXED) & F_STOPPED) != 0)
            return EPIPE;
        if (!wait)
            return EAGAIN;
        if (spins < PARC_SPIN_POLLS) {
            parc_spin_poll(spins); /* yields now and then: the actor
                                    * draining the mailbox may need our core */
            continue;
        }
        uint32_t seq = parc_load(&x->space, PARC_RELAXED);
        /* seq_cst: Dekker with uncount (see there). */
        parc_faa(&x->space_waiters, 1u, PARC_SEQ_CST);
        int rc = 0;
        if (parc_load(&x->count, PARC_SEQ_CST) >= x->capacity &&
            (parc_load(&a->flags, PARC_SEQ_CST) & F_STOPPED) == 0)
            rc = parc_park_wait(&x->space, seq, deadline);
        parc_fas(&x->space_waiters, 1u, PARC_RELAXED);
        if (rc == ETIMEDOUT || parc_deadline_passed(deadline)) {
            c = parc_load(&x->count, PARC_RELAXED);
            if (c < x->capacity &&
                parc_cas(&x->count, &c, c + 1, PARC_RELAXED, PARC_RELAXED))
                return 0;
            return ETIMEDOUT;
        }
    }
}

static int send_common(parc_sactor_t *a, parc_msg_t *m, bool wait,
                       parc_deadline_t deadline)
{
    if (a->ext != NULL && a->ext->capacity != 0) {
        int rc = claim(a, wait, deadline);
        if (rc != 0)
            return rc;
        m->flags_ |= PARC_MSG_COUNTED_;
    }
    int rc = push(a, m);
    if (rc != 0 && (m->flags_ & PARC_MSG_COUNTED_)) {
        m->flags_ &= ~PARC_MSG_COUNTED_;
        parc_fas(&a->ext->count, 1u, PARC_RELAXED);
    }
    return rc;
}

int parc_sactor_send(parc_sactor_t *a, parc_msg_t *m)
{
    if (a == NULL || m == NULL)
        return EINVAL;
    return send_common(a, m, true, PARC_FOREVER);
}

int parc_sactor_send_try(parc_sactor_t *a, parc_msg_t *m)
{
    if (a == NULL || m == NULL)
        return EINVAL;
    return send_common(a, m, false, PARC_FOREVER);
}

int parc_sactor_send_timed(parc_sactor_t *a, parc_msg_t *m, int64_t timeout_ns)
{
    parc_deadline_t d;
    if (a == NULL || m == NULL || parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    return send_common(a, m, true, d);
}

int parc_sactor_ask(parc_sactor_t *a, parc_msg_t *m, parc_future_t **reply)
{
    if (a == NULL || m == NULL || reply == NULL)
        return EINVAL;
    parc_future_t *f;
    if (parc_future_create(NULL, NULL, &f) != 0)
        return ENOMEM;
    parc_future_retain(f); /* one for the message, one for the asker */
    m->reply_ = f;
    m->flags_ &= ~PARC_MSG_LOCAL_REPLY_; /* a heap reply: released */
    int rc = parc_sactor_send(a, m);
    if (rc != 0) {
        m->reply_ = NULL;
        parc_future_release(f);
        parc_future_release(f);
        return rc;
    }
    *reply = f;
    return 0;
}

/* ---- stopping and monitors ------------------------------------------------ */

void parc_sactor_exit(parc_sactor_t *self, int status)
{
    if (self == NULL)
        return;
    self->exit_status = status;
    /* relaxed: read by this same turn (proc_turn). */
    parc_for(&self->flags, F_EXIT, PARC_RELAXED);
}

int parc_sactor_stop(parc_sactor_t *a, int status)
{
    if (a == NULL)
        return EINVAL;
    /* relaxed: elects the one sender of the embedded stop node. */
    if (parc_for(&a->flags, F_STOP_SENT, PARC_RELAXED) & F_STOP_SENT)
        return (parc_load(&a->flags, PARC_RELAXED) & F_STOPPED) ? EPIPE : 0;
    a->stop_status = status; /* published by the push (its release) */
    bool was_empty;
    /* nowake: see push() */
    int rc = parc_mpsc_push_nowake(&a->mbox, &a->stop_node, &was_empty);
    if (rc == 0 && was_empty) {
        busy_inc(rt_of(a));
        schedule(a);
    }
    return rc;
}

bool parc_sactor_stopped(parc_sactor_t *a, int *status)
{
    /* acquire: pairs with finish's release store; exit_status is set. */
    if (a == NULL || (parc_load(&a->flags, PARC_ACQUIRE) & F_STOPPED) == 0)
        return false;
    if (status != NULL)
        *status = a->exit_status;
    return true;
}

static void down_dispose(parc_msg_t *m)
{
    parc_down_t *d = parc_msg_entry(m, parc_down_t, msg);
    parc_sactor_release(d->who);
    parc_sactor_release(d->watcher_);
    free(d);
}

int parc_sactor_monitor(parc_sactor_t *watcher, parc_sactor_t *target)
{
    if (watcher == NULL || target == NULL)
        return EINVAL;
    parc_down_t *d = malloc(sizeof *d);
    if (d == NULL)
        return ENOMEM;
    parc_msg_init(&d->msg, PARC_MSG_DOWN, down_dispose);
    parc_sactor_retain(target);
    parc_sactor_retain(watcher);
    d->who = target;
    d->watcher_ = watcher;
    d->status = 0;
    uintptr_t head = parc_load(&target->monitors, PARC_ACQUIRE);
    for (;;) {
        if (head == MON_CLOSED) {
            /* acquire (the load/CAS failure above): finish's xchg
             * released exit_status. Already stopped: down at once. */
            d->status = target->exit_status;
            d->watcher_ = NULL;
            if (push(watcher, &d->msg) != 0) /* uncounted */
                parc_msg_free(&d->msg);
            parc_sactor_release(watcher);
            return 0;
        }
        d->next_ = (parc_down_t *)head;
        /* release: publishes d to finish's acquire exchange; acquire on
         * failure: we may read MON_CLOSED and then exit_status. */
        if (parc_cas_weak(&target->monitors, &head, (uintptr_t)d,
                          PARC_RELEASE, PARC_ACQUIRE))
            return 0;
    }
}

/* ---- timers ---------------------------------------------------------------- */

/* A delayed message: what the timer service's fire needs, one malloc per
 * send_after (timers are rare next to sends). */
typedef struct delayed {
    parc_sactor_t *to;
    parc_msg_t *msg;
} delayed_t;

/* Deliver a timer's message (on the timer thread), not counted against a
 * bounded mailbox. */
static void delayed_fire(void *arg)
{
    delayed_t *d = arg;
    parc_sactor_t *to = d->to;
    parc_actors_t *rt = rt_of(to);
    if (push(to, d->msg) != 0)
        parc_msg_free(d->msg);
    free(d);
    /* The reference goes before the count, so that once quiesce sees the
     * runtime idle no timer still holds an actor (parc_actors_free would
     * find its slot in use). rt stays valid: its free joins this thread. */
    parc_sactor_release(to);
    busy_dec(rt);
}

int parc_actors_send_after(parc_actors_t *rt, int64_t delay_ns,
                           parc_sactor_t *a, parc_msg_t *m, uint64_t *id)
{
    parc_deadline_t when;
    if (rt == NULL || a == NULL || m == NULL ||
        parc_deadline_in(&when, delay_ns) != 0)
        return EINVAL;
    delayed_t *d = malloc(sizeof *d);
    if (d == NULL)
        return ENOMEM;
    d->to = a;
    d->msg = m;
    parc_sactor_retain(a);
    busy_inc(rt); /* a pending timer keeps the runtime from quiescing */
    int rc = parc_timers_add(rt->timers, when, delayed_fire, d, id);
    if (rc != 0) {
        busy_dec(rt);
        parc_sactor_release(a);
        free(d);
    }
    return rc;
}

int parc_actors_timer_cancel(parc_actors_t *rt, uint64_t id, parc_msg_t **m)
{
    if (rt == NULL)
        return EINVAL;
    void *arg;
    if (parc_timers_cancel(rt->timers, id, &arg) != 0)
        return EALREADY; /* fired, firing, cancelled, or never given out */
    delayed_t *d = arg;
    if (m != NULL)
        *m = d->msg;
    else
        parc_msg_free(d->msg);
    parc_sactor_release(d->to);
    free(d);
    busy_dec(rt);
    return 0;
}

/* ---- the runtime ------------------------------------------------------------ */

int parc_actors_create(unsigned workers, parc_actors_t **out)
{
    if (out == NULL)
        return EINVAL;
    if (workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        workers = n > 0 ? (unsigned)n : 1u;
    }
    parc_actors_t *rt = aligned_alloc(PARC_CACHELINE,
                                      (sizeof *rt + PARC_CACHELINE - 1) &
                                          ~(size_t)(PARC_CACHELINE - 1));
    if (rt == NULL)
        return ENOMEM;
    memset(rt, 0, sizeof *rt);
    parc_atomic_init(&rt->busy, 0u);
    parc_atomic_init(&rt->qwaiters, 0u);
    parc_atomic_init(&rt->stopped, 0u);
    parc_atomic_init(&rt->spawned, 0u);
    parc_mutex_init(&rt->lock, PARC_MUTEX_NORMAL);
    parc_atomic_init(&rt->freed, (uintptr_t)0);
    parc_spin_tas_init(&rt->slot_lock);
    parc_pool_options_t po = PARC_POOL_OPTIONS_INIT;
    po.name_prefix = "parc-actor";
    int rc = parc_pool_create(workers, &po, &rt->pool);
    if (rc != 0) {
        free(rt);
        return rc;
    }
    rc = parc_timers_create(&rt->timers);
    if (rc != 0) {
        parc_pool_free(rt->pool);
        free(rt);
        return rc;
    }
    *out = rt;
    return 0;
}

int parc_actors_free(parc_actors_t *rt)
{
    if (rt == NULL)
        return EINVAL;
    if (parc_pool_current_worker(rt->pool) >= 0)
        return EDEADLK;
    /* acquire: pairs with finish's release increment; the stopped
     * actors' slots the runtime held are back on the freed stack. */
    uint64_t stopped = parc_load(&rt->stopped, PARC_ACQUIRE);
    /* A pending timer holds a reference to its actor, so a timer that
     * fires meanwhile is still seen below as a slot in use until its
     * delivery has released the actor. */
    bool busy = parc_timers_pending(rt->timers) != 0;
    if (!busy) {
        /* Every actor stopped, and every reference gone too: the slabs go
         * with the runtime. */
        parc_spin_tas_lock(&rt->slot_lock);
        busy = parc_load(&rt->spawned, PARC_RELAXED) != stopped ||
               slots_in_use(rt) != 0;
        parc_spin_tas_unlock(&rt->slot_lock);
    }
    if (busy)
        return EBUSY;
    parc_timers_free(rt->timers); /* joins a delivery still running */
    parc_pool_free(rt->pool); /* every turn has run to its end */
    for (pin_t *p = rt->pins; p != NULL;) {
        pin_t *next = p->next;
        pthread_join(p->thread, NULL);
        parc_sem_destroy(&p->sem);
        free(p);
        p = next;
    }
    for (slab_t *s = rt->slabs; s != NULL;) {
        slab_t *next = s->next;
        slab_unmap(s);
        s = next;
    }
    parc_mutex_destroy(&rt->lock);
    free(rt);
    return 0;
}
