/*
 * Private to the scheduled actors (src/act*.c): the actor and runtime
 * structures and what the files share.
 *
 *   act.c       an actor's life: spawn, send, turns, stop, monitors,
 *               self and sender
 *   act_rt.c    the runtime: create/free, quiescence, timers
 *   act_stop.c  the live table, waiting for a stop, shutdown
 *   act_link.c  links and trapping exits
 *   act_name.c  the name registry and dead letters
 *   act_sup.c   supervisors (parc/act_sup.h)
 *   act_msg.c   typed messages' send (parc/act_msg.h)
 *
 * Actor memory is the one recycling allocator's (recycle.h), as a slab
 * recycler; see "actor memory" below.
 */
#ifndef PARC_SRC_ACT_INTERNAL_H
#define PARC_SRC_ACT_INTERNAL_H

#include <pthread.h>

#include "parc/act.h"
#include "parc/mutex.h"
#include "parc/park.h"
#include "parc/pool.h"
#include "parc/rwlock.h"
#include "parc/sem.h"
#include "parc/spinlock.h"
#include "recycle.h"
#include "timer.h"

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
    /* In rt->exts, under rt->lock: parc_act_rt_shutdown frees those of
     * actors still referenced when the runtime goes. */
    struct actor_ext *next, *prev;
} actor_ext_t;

/* flags bits */
#define F_STOP_SENT 1u /* the stop message went out (one stopper) */
#define F_STOPPED 2u   /* stopped: exit_status is final */
#define F_EXIT 4u      /* the running turn ends the actor (turn-private) */
#define F_TRAP 8u      /* traps exits: a linked partner's exit comes as a
                        * PARC_ACT_EXIT message (act_link.c) */

#define F_NAMED 16u    /* registered under a name (act_name.c) */
#define F_RETIRED 32u  /* finish is done with the actor: its live-table
                        * entry (the runtime's reference) may go
                        * (act_stop.c) */

/* The type of a link's notice: a parc_act_down_t that the receiving turn
 * turns into a PARC_ACT_EXIT message or an exit (act_link_deliver). */
#define ACT_LINK_DOWN 3

struct parc_act {
    parc_mpsc_t mbox;                 /* two cache-aligned lines */
    /* Third line: everything else. No runtime pointer: the actor lives in
     * one of its runtime's slabs, whose header names it (rt_of). */
    parc_act_fn fn;
    void *state;
    actor_ext_t *ext;                 /* NULL unless pinned or bounded */
    parc_atomic(uintptr_t) monitors;  /* parc_act_down_t list, or MON_CLOSED */
    parc_mpsc_node_t stop_node;       /* the one stop message's link */
    parc_atomic(uint32_t) refs;
    parc_atomic(uint32_t) flags;      /* F_* */
    int exit_status;                  /* written by the turn, final once
                                       * F_STOPPED is set */
    int stop_status;                  /* written by the one stopper before
                                       * it pushes stop_node */
    uint32_t live_shard;              /* the live-table shard its entry
                                       * is in (act_stop.c) */
};

/* Three lines: idle memory per actor is this plus its share of a slab's
 * header (below). */
_Static_assert(sizeof(struct parc_act) == 3 * PARC_CACHELINE,
               "parc_act_t: the mailbox's two lines and one of state");

/* parc_act_t.monitors once the actor has stopped: the list is closed. */
#define MON_CLOSED ((uintptr_t)1)

struct parc_act_rt {
    parc_pool_t *pool;
    /* Turns scheduled or running plus pending timers; parked on by
     * quiesce. Written by every scheduling send: its own line. */
    PARC_CACHE_ALIGNED parc_park_word_t busy;
    parc_atomic(uint32_t) qwaiters;
    /* Actors stopped (by the turns that stop them); live is spawned
     * (act_live_spawned: the shards' counts) - stopped. */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) stopped;
    parc_timers_t *timers;      /* send_after's */
    /* Pinned actors' threads, under lock. */
    PARC_CACHE_ALIGNED parc_mutex_t lock;
    pin_t *pins;
    actor_ext_t *exts;          /* every ext of an unreleased actor */
    /* The live table (act_stop.c): ACT_SHARDS shards, each its own line. */
    struct act_shard *shards;
    /* Bumped (and woken) by each stop while someone waits in
     * parc_act_wait (stop_waiters); its own line: written by stopping
     * turns only when waited on. */
    PARC_CACHE_ALIGNED parc_park_word_t stop_seq;
    parc_atomic(uint32_t) stop_waiters;
    /* The name registry (act_name.c), made at the first register:
     * an act_names_t *, published by CAS. */
    parc_atomic(uintptr_t) names;
    /* Dead letters (act_name.c): counted; the hook is set before use. */
    parc_atomic(uint64_t) dead;
    void (*dead_fn)(parc_act_t *to, parc_msg_t *m, void *arg);
    void *dead_arg;
    /* Actor memory: where every actor of this runtime lives (below). */
    parc_recycler_t slots;
    /* One per pool worker: its deferred sender releases (act.c). */
    struct act_pending *pending;
    unsigned npending;
};

/* A pool worker's deferred sender releases (act.c, behave): the
 * references of the last sender (of this runtime) whose messages the
 * worker handled, n of them, dropped together when a message from
 * another sender comes, or when the runtime is freed. Only that worker
 * touches it while actors live; its own line. */
typedef struct act_pending {
    PARC_CACHE_ALIGNED parc_act_t *who;
    uint32_t n;
} act_pending_t;

/* Drop every worker's deferred releases (the runtime is quiescent with
 * every actor stopped, or its pool is gone). */
void act_pending_flush(parc_act_rt_t *rt);

/* ---- actor memory ------------------------------------------------------ */

/*
 * Actors live in slabs of ACT_SLAB_BYTES from the runtime's slab recycler
 * (recycle.h): slabs aligned to their size, each a one-line header and
 * whole 192-byte actor slots (2^18 - 64 is a multiple of 192, nothing left
 * over). The header's first word is the runtime, so an actor finds its
 * runtime by masking its address and needs no pointer of its own: that is
 * what keeps an actor to three lines. Slabs are mapped from the system
 * (the alignment would cost malloc a second slab's worth of address space)
 * and unmapped when the runtime is freed; a released actor's slot goes
 * to the slab cache of the live-table shard that spawned it
 * (act_stop.c) and is reused by that shard's next spawn. A heap
 * recycler (malloc) was rejected for this: it gives no owner by address,
 * and its thread caches could outlive the runtime.
 */
#define ACT_SLAB_BYTES ((size_t)1 << 18)
_Static_assert((ACT_SLAB_BYTES - PARC_CACHELINE) % sizeof(struct parc_act) == 0,
               "a slab is its header and whole actor slots");

static inline parc_act_rt_t *act_rt_of(const parc_act_t *a)
{
    return (parc_act_rt_t *)parc_recycle_slab_owner(a, ACT_SLAB_BYTES);
}

/* ---- shared by act.c and act_rt.c -------------------------------------- */

/* Push m to a's mailbox, uncounted (never blocks), and schedule a when
 * this push made the mailbox non-empty. Returns 0 or EPIPE (stopped). */
int act_push(parc_act_t *a, parc_msg_t *m);
/* parc_act_send without its argument checks (a and m not NULL). */
int act_send_(parc_act_t *a, parc_msg_t *m);

/* The quiescence count, rt->busy: turns scheduled or running plus timers
 * pending. Whoever hands work on counts it before uncounting its own, so
 * the count never passes through zero while work is in flight; quiesce
 * (act_rt.c) waits for zero. */
static inline void act_busy_inc(parc_act_rt_t *rt)
{
    /* relaxed: the increment happens before the work it counts is handed
     * on (the decrement of whoever created that work comes later in the
     * same thread, a seq_cst RMW on the same word, so the total never
     * touches zero in between). */
    parc_faa(&rt->busy, 1u, PARC_RELAXED);
}

static inline void act_busy_dec(parc_act_rt_t *rt)
{
    /* seq_cst: releases the finished turn's effects to quiesce's acquire
     * load, and orders this decrement before the load of qwaiters against
     * quiesce's increment of qwaiters before its load of busy (Dekker: one
     * of the two sees the other). */
    if (parc_fas(&rt->busy, 1u, PARC_SEQ_CST) == 1u &&
        parc_load(&rt->qwaiters, PARC_SEQ_CST) != 0)
        parc_park_wake_all(&rt->busy);
}

/* ---- act_link.c ---------------------------------------------------------- */

/* Place a monitor of the given type (PARC_ACT_DOWN or ACT_LINK_DOWN). */
int act_watch(parc_act_t *watcher, parc_act_t *target, int32_t type);

/* In a's turn, a link notice m arrived: returns true when the behaviour
 * is to get it (now a PARC_ACT_EXIT message), false when it was consumed
 * (disposed, and a made to exit when the partner's exit was abnormal). */
bool act_link_deliver(parc_act_t *a, parc_msg_t *m);

/* ---- act_name.c ---------------------------------------------------------- */

typedef struct act_names act_names_t;

/* a is stopping (F_STOPPED set) and F_NAMED: drop its name. */
void act_name_drop(parc_act_rt_t *rt, parc_act_t *a);

/* Free the registry with the runtime (names of actors still referenced
 * included). */
void act_names_free(parc_act_rt_t *rt);

/* m can no longer reach `to` (which has stopped): count it and hand it
 * to the runtime's hook, or dispose of it. The runtime's own messages
 * (type < PARC_MSG_USER) are disposed uncounted. */
void act_dead_letter(parc_act_t *to, parc_msg_t *m);

/* ---- act_stop.c: the live table and waiting for stops --------------- */

/* The live table's shards: a power of two, at least the cores of a large
 * machine, so that spawning threads rarely share one. */
#define ACT_SHARDS 64u

/* One shard: the actors spawned by the threads that map to it and not yet
 * retired, each entry holding the runtime's reference. Everything but
 * `retired`, `sweep_at` and the cache's free stack is under the shard's
 * lock.
 *
 * Lines: the spawner's (the lock, the table, the count of spawns) is
 * written by every spawn; the stops' (`retired`, and the cache's free
 * stack, its own line inside the cache) is written by every stop, on the
 * worker that ran the actor's last turn. Kept apart, a stop does not take
 * the line the next spawn locks: the spawner and the workers each keep
 * theirs, and what crosses is one line per sweep, not two per actor. */
typedef struct act_shard {
    PARC_CACHE_ALIGNED parc_mutex_t lock;
    parc_act_t **live;
    uint32_t n, cap;
    bool closing;                  /* shutdown: spawns refused */
    /* Actors spawned here ever (written under the lock, read by
     * parc_act_rt_live without it). */
    parc_atomic(uint64_t) spawned;
    /* Entries retired since the last sweep (finish counts; relaxed: a
     * trigger, not a publication). Read by finish to start a sweep. */
    PARC_CACHE_ALIGNED parc_atomic(uint32_t) retired;
    parc_atomic(uint32_t) sweep_at; /* retired count that starts one */
    /* Slots: spawns here allocate from it (under the lock); an actor's
     * last release frees its slot into its spawning shard's cache. */
    parc_recycle_slab_cache_t cache;
} act_shard_t;

/* What a spawn fills a slot with. */
typedef struct act_init {
    parc_act_fn fn;
    void *state;
    actor_ext_t *ext;
} act_init_t;

/* act.c: fill a fresh slot. */
void act_init(parc_act_t *a, const act_init_t *init);

/* Make / free rt->shards (runtime create / teardown). */
int act_live_init(parc_act_rt_t *rt);
void act_live_free(parc_act_rt_t *rt);

/* A spawn's slot and entry: under the calling thread's shard lock, take
 * a slot from the shard's cache, fill it (init(a, arg)), enter it and
 * count it spawned. Returns 0 with *out, ENOMEM, or EPIPE (the runtime
 * is shutting down). */
int act_live_spawn(parc_act_rt_t *rt,
                   void (*init)(parc_act_t *, const act_init_t *),
                   const act_init_t *arg, parc_act_t **out);

/* Undo a spawn that failed later (nobody else knows the actor): take its
 * entry out, count it stopped, free its slot. */
void act_live_unspawn(parc_act_rt_t *rt, parc_act_t *a);

/* Give a released actor's slot back (to its spawning shard's cache). */
void act_slot_free(parc_act_rt_t *rt, parc_act_t *a);

/* Actors ever spawned (the shards' counts; relaxed loads). */
uint64_t act_live_spawned(parc_act_rt_t *rt);

/* Give every shard's cached slots back to rt->slots (before counting
 * slots in use). */
void act_live_flush(parc_act_rt_t *rt);

/* finish's last touch of a: mark it retired (its entry's runtime
 * reference may now go) and, every so often, sweep its shard. */
void act_live_retire(parc_act_rt_t *rt, parc_act_t *a);

/* Drop every retired entry of every shard (their runtime references);
 * returns how many entries remain (actors not yet retired). */
uint64_t act_live_sweep_all(parc_act_rt_t *rt);

/* Enter / remove an actor's ext in rt->exts (spawn / last release). */
void act_ext_add(parc_act_rt_t *rt, actor_ext_t *x);
void act_ext_remove(parc_act_rt_t *rt, actor_ext_t *x);

/* Wake parc_act_wait's waiters: a stop is final (F_STOPPED set with
 * seq_cst before this call) and its monitors told. */
void act_stop_wake(parc_act_rt_t *rt);

/* act_rt.c: free everything of a runtime whose actors have all stopped
 * and which is quiescent (the slabs go, whoever still holds a
 * reference). */
void act_rt_teardown(parc_act_rt_t *rt);

#endif /* PARC_SRC_ACT_INTERNAL_H */
