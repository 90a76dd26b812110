/* Private to src/pool*.c: the pool and worker records, and what the
 * life cycle (pool_life.c) and the data-parallel calls (pool_map.c) need
 * from the scheduler (pool.c). */
#ifndef PARC_POOL_INTERNAL_H
#define PARC_POOL_INTERNAL_H

#include <pthread.h>

#include "parc/deque.h"
#include "parc/eventcount.h"
#include "parc/inject.h"
#include "parc/pool.h"

#define POOL_MAX_WORKERS 1024u

typedef struct pool_worker {
    parc_deque_t deque;      /* cache-aligned inside */
    /* Parking: the worker sleeps on its own eventcount until a waker
     * claims it (sets `claimed` and takes it off the sleepers list). */
    PARC_CACHE_ALIGNED parc_eventcount_t ec;
    parc_atomic(int) claimed;
    bool asleep;                       /* on the sleepers list (sleep_lock) */
    struct pool_worker *next_sleeper;  /* sleep_lock */
    parc_pool_t *pool;
    unsigned index;
    uint32_t tick;
    uint64_t rng;            /* xorshift64 state for victim order */
    void *stash;             /* a task item to run next (deque push failed) */
    pthread_t thread;
    bool started;
    /* Task groups (task_group.c): the group of the outermost task this
     * worker runs with its deque empty below it, and that group's
     * nearest ancestors; NULL when none. A waiter on one of them may
     * steal from this deque (all of it is that task's lineage). Written
     * by the owner at each such task, read by waiting thieves. */
    PARC_CACHE_ALIGNED parc_atomic(void *) tg_lineage[4];
} pool_worker_t;

/* Submissions from threads outside the pool go to a sharded injection
 * queue (parc/inject.h) of INJECT_SHARDS shards, as ForkJoinPool's
 * external submission queues (Doug Lea, java.util.concurrent). A worker
 * takes up to INJECT_BATCH entries at a time (at most half of a shard
 * when other workers could take the rest), runs the first and puts
 * the rest on its own deque, where it finds them without touching the
 * shard again and idle workers may steal them (Go's scheduler takes
 * batches from its global run queue likewise). An entry is a
 * fire-and-forget task inline (fn, arg): the submitter allocates nothing;
 * or, with fn NULL, a task item (a future) in arg. */
#define INJECT_SHARDS 4u
#define INJECT_BATCH 32u

struct parc_pool {
    parc_inject_t inject; /* outside submissions */
    /* Workers looking for work (not parked, not running): a submission
     * wakes a sleeper only when this is 0. Written by every worker that
     * runs out of work: its own line. */
    PARC_CACHE_ALIGNED parc_atomic(uint32_t) searching;
    /* Parked workers: a list under a lock (taken only to park and to
     * wake, both of which cost a futex call anyway) and its length,
     * which notifiers read without the lock. */
    PARC_CACHE_ALIGNED parc_atomic(uint32_t) nsleepers;
    pthread_mutex_t sleep_lock;
    pool_worker_t *sleepers;
    /* Read by every task and every steal, written once: a line of their
     * own, away from the sleepers' churn. */
    PARC_CACHE_ALIGNED parc_atomic(int) terminating;
    parc_atomic(int) closed; /* set by close: outside work is refused */
    unsigned nworkers;
    pool_worker_t *workers;
    void (*initializer)(void *arg, unsigned worker);
    void *initializer_arg;
    char prefix[16];
    /* Life cycle: cold. */
    PARC_CACHE_ALIGNED pthread_mutex_t join_lock;
    bool joined;
    /* Blocking compensation (pool_block.c): the running (unblocked)
     * workers and compensators, written by every outermost begin/end; the
     * compensators' records, spares and count under comp_lock. */
    PARC_CACHE_ALIGNED parc_atomic(uint32_t) running;
    /* Of those, spares taken and woken that have not resumed yet. */
    parc_atomic(uint32_t) comp_pending;
    parc_atomic(unsigned) comp_cap;
    pthread_mutex_t comp_lock;
    pthread_cond_t comp_exit_cv;
    struct pool_comp *comps, *spares;
    unsigned ncomp;
    bool comp_stop;
};

/* The pool's flag set by terminate. */
static inline bool pool_terminating(parc_pool_t *p)
{
    /* acquire: pairs with the release store in terminate; nothing is read
     * through it but the flag, acquire keeps later drains after it. */
    return parc_load(&p->terminating, PARC_ACQUIRE) != 0;
}

/* False once the pool is closed (or terminated): outside work is refused.
 * For callers that run work themselves without a submission that would
 * say EPIPE (pool_map.c's loop). */
static inline bool pool_open(parc_pool_t *p)
{
    /* relaxed: a flag only, read once per call; a call racing with close
     * may go either way, as a racing submission may. */
    return parc_load(&p->closed, PARC_RELAXED) == 0 && !pool_terminating(p);
}

/* ---- from pool.c, for the life cycle (pool_life.c) ---- */

/* The calling thread's worker record, NULL outside every pool. */
pool_worker_t *parc_pool_self_(void);

/* The same, inline, for the per-task paths (task_group.c): the variable
 * behind parc_pool_self_. initial-exec: a %fs-relative load, no
 * __tls_get_addr call in the shared library (as fiber.c's). Read it once
 * per call where a fiber could switch threads in between (see fiber.c):
 * a compiler may reuse a thread-local's address after a call. */
#if defined(__GNUC__)
#define POOL_TLS __attribute__((tls_model("initial-exec")))
#else
#define POOL_TLS
#endif
extern _Thread_local pool_worker_t *parc_pool_cur_ POOL_TLS;

static inline pool_worker_t *pool_self(void)
{
    return parc_pool_cur_;
}

/* A worker thread's body (pthread_create's start routine). */
void *parc_pool_worker_main_(void *worker);

/* Wake every worker parked now (each at most once). */
void parc_pool_wake_all_(parc_pool_t *p);

/* Drop a task item unrun (cancelling its future), or an injection entry. */
void parc_pool_cancel_item_(void *item);
void parc_pool_cancel_entry_(const parc_inject_entry_t *e);

/* ---- for blocking compensation (pool_block.c) ---- */

/* One look for work from a thread with no deque (an injection entry or a
 * steal), as find_work; NULL when none (*drained: closed and empty). */
void *parc_pool_find_work_(parc_pool_t *p, bool *drained);
/* Run (or, terminating, cancel) a task item taken from a queue. */
void parc_pool_run_item_(parc_pool_t *p, void *item);

/* Set up / tear down p's compensation state (create / destroy). */
void parc_pool_block_init_(parc_pool_t *p);
void parc_pool_block_fini_(parc_pool_t *p);
/* After the workers are joined: stop and join every compensator. */
void parc_pool_block_join_(parc_pool_t *p);
/* The pool of the calling compensator thread, NULL elsewhere. */
parc_pool_t *parc_pool_block_self_(void);

/* ---- for the fiber runtime (src/fiber*.c) ---- */

/* Whether work other than the caller's own waits in p: a task on the
 * calling worker's deque (or stash), in an injection shard or on another
 * worker's deque. A snapshot (relaxed sizes), for a scheduler deciding
 * whether to give its thread back to the pool; any thread. */
bool parc_pool_has_queued_(parc_pool_t *p);

/* parc_pool_block_begin/end for the calling THREAD, whatever runs on it
 * (the fiber runtime's own declarations call these; the public calls
 * first offer the call to the hook below). */
int parc_pool_block_begin_thread_(void);
int parc_pool_block_end_thread_(void);

/* What the public parc_pool_block_begin/end do when called from a fiber
 * spawned on a pool (installed once by the fiber runtime): the
 * declaration belongs to the fiber, which may otherwise continue on
 * another thread than the one that counted the begin. Each returns
 * PARC_POOL_BLOCK_DECLINE when the caller is not such a fiber. */
#define PARC_POOL_BLOCK_DECLINE (-1)
typedef struct parc_pool_block_hook {
    int (*begin)(void);
    int (*end)(void);
} parc_pool_block_hook_t;
void parc_pool_block_hook_install_(const parc_pool_block_hook_t *hook);

/* ---- for the data-parallel calls (pool_map.c) ---- */


/* Hand a future (heap or caller storage) to the pool: on the calling
 * worker's deque when the caller is one of p's workers, else on the
 * injection queue. A caller-storage future must stay alive until it is
 * complete; the pool never touches it after completing it. Returns 0,
 * EPIPE (closed for outside callers, or terminated) or ENOMEM. */
int parc_pool_push_(parc_pool_t *p, parc_future_t *f);

/* When the calling thread is a worker of p, run one other task and return
 * true; false when it ran nothing (or is not p's worker). */
bool parc_pool_help_(parc_pool_t *p);

/* ---- for task groups (task_group.c) ---- */

/* A task-group record as a pool item: its pointer with this bit set
 * (records are malloc blocks; the light-task tag is bit 0). */
#define POOL_GROUP_TAG ((uintptr_t)2)

/* Run a task-group item (pool.c calls it for items tagged
 * POOL_GROUP_TAG), or drop it unrun (terminate). */
void parc_task_group_run_item_(void *item);
void parc_task_group_cancel_item_(void *item);

/* Run the calling thread's next code as a task of g (parc_task_cancelled,
 * parc_pool_current and groups initialised meanwhile see g) until leave,
 * which restores the group enter returned. For a caller that works on
 * its own loop beside g's tasks (pool_map.c). */
struct parc_task_group *parc_task_group_enter_(struct parc_task_group *g);
void parc_task_group_leave_(struct parc_task_group *outer);

/* Hand any task item to the pool, as parc_pool_push_. */
int parc_pool_push_item_(parc_pool_t *p, void *item);

#endif
