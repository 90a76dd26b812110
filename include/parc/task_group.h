/*
 * parc/task_group.h — structured fork/join on a pool: a task group
 * (oneTBB's task_group, Rayon's scope, Cilk's spawn/sync with an explicit
 * handle). run() spawns a task into the group without a future; wait()
 * helps run the group's tasks until all are done and returns the first
 * error; cancel() skips what has not started and raises a flag running
 * tasks poll with parc_task_cancelled().
 *
 *     typedef struct walk { const node_t *node; ... } walk_t;
 *     static int walk(void *arg)
 *     {
 *         const walk_t *w = arg;
 *         parc_task_group_t g = PARC_TASK_GROUP_INIT; // this pool, this task
 *         visit(w->node);
 *         for (size_t i = 0; i < w->node->nchildren; i++)  // argument copied
 *             PARC_TASK_GROUP_SPAWN(&g, walk, walk_t, w->node->child[i]);
 *         return parc_task_group_finish(&g);  // wait, then destroy
 *     }
 *     ...  // from any thread, the pool's or not:
 *     parc_task_group_init(&g, pool);
 *     parc_task_group_spawn(&g, walk, &root, sizeof root);
 *     rc = parc_task_group_finish(&g);
 *
 * (examples/taskgroup_nqueens.c; docs/bench/issue17.md counts its lines
 * against the serial twins and oneTBB's version.)
 *
 * Names: the group's calls are parc_task_group_*. Three calls declared
 * here are named for what they are about instead: parc_task_cancelled()
 * asks about the calling task, parc_pool_current() returns the calling
 * task's pool, and parc_pool_parallel_reduce() is an operation of the
 * pool (beside parc_pool_parallel_for in pool.h) that lives here
 * because it is built on task groups.
 *
 * Semantics:
 *   - A task's int return is its status; the first non-zero status is the
 *     group's error, and it cancels the group (as an exception cancels a
 *     oneTBB group): tasks not started yet are skipped.
 *   - Nesting: a group initialised inside a task of group P is P's child;
 *     cancelling P cancels the child's tasks too (not-started ones are
 *     skipped, running ones see parc_task_cancelled()). A group
 *     initialised inside a task must be waited on and destroyed before the
 *     task returns (structured concurrency: the child never outlives its
 *     parent's task). Asking whether a group is cancelled walks up its
 *     parents only after some group somewhere was cancelled since it last
 *     looked (a process-wide cancel generation): O(1) while none is.
 *   - Isolation: a thread in wait() runs only tasks of that group or of
 *     its descendant groups, never unrelated pool work, which could block
 *     it (oneTBB's this_task_arena::isolate, Taskflow#522). How: a run
 *     made on the group's home worker (the one that bound it) is only an
 *     item of that worker's deque; any other run is also put on the
 *     group's own stack, and whoever claims such a shared record first
 *     (one CAS) runs it. A waiting worker takes the newest item of its own
 *     deque when it is a task of the group's lineage, else the group's
 *     stack; failing both, it steals from a worker that published (while
 *     running a task with its deque empty below it) that it works inside
 *     the group's lineage, which keeps both threads busy in an unbalanced
 *     tree as stealing back does (leapfrogging); before parking it digs
 *     its own deque for a record buried under unrelated items. It never
 *     takes the injection queue, nor other workers' deques, while it
 *     waits. A waiter on a thread other than the home worker cannot reach
 *     the home worker's records: structured code, which waits where it
 *     ran, never needs it to.
 *   - An outside thread's wait leaves the group's tasks to the pool while
 *     a worker is idle (searching or parked), and helps (runs records of
 *     the group's stack) when every worker is busy: the calling thread
 *     works too, without ever being one thread more than the pool while
 *     the pool has room (oneTBB's arena.execute; Rayon's install).
 *   - When the group has work running elsewhere and nothing left to take,
 *     the waiter spins briefly, then parks; a run() into the group wakes
 *     it to help, the last task to finish wakes it to return.
 *   - Blocking: a task that blocks (I/O, a lock, a future of another
 *     pool) should wrap the call in parc_pool_block_begin/end (parc/pool.h)
 *     so the pool runs a compensating thread meanwhile; no parc primitive
 *     does it for its caller. A waiting worker parks only when every task
 *     of the group it could reach is claimed and running elsewhere.
 *   - Storage: task records come from the runtime's recycling allocator
 *     (src/recycle.h), PARC_TASK_GROUP_ARG_MAX bytes of argument inline.
 *     Shared records the pool ran stay on the group's stack until the
 *     next wait() or destroy() frees them: a group that runs many tasks
 *     from outside and is never waited on grows.
 *
 * Synchronization:
 *
 *   operation                    threads
 *   run                          any (a task of the group, a worker, an
 *                                outside thread) while the group lives
 *   wait                         any, several at once (one helps, the
 *                                others may park)
 *   cancel, cancelled            any
 *   parc_task_cancelled          any (false outside group tasks)
 *   init / destroy               one thread; destroy after wait, with no
 *                                run or wait running
 *   PARC_TASK_GROUP_INIT         the first run/spawn/wait/finish/cancel
 *                                from the declaring thread
 *   finish                       as wait then destroy
 */
#ifndef PARC_TASK_GROUP_H
#define PARC_TASK_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parc/api.h"
#include "parc/atomic.h"
#include "parc/park.h"
#include "parc/pool.h"

PARC_BEGIN_DECLS

/** A task of a group: returns 0 or an error (the group's first error). */
typedef int (*parc_task_group_fn)(void *arg);

/** Bytes parc_task_group_spawn copies into a task's own record. */
#define PARC_TASK_GROUP_ARG_MAX 64

/** A task group in caller storage. Fields are private. */
typedef struct parc_task_group {
    parc_pool_t *pool; /* NULL: PARC_TASK_GROUP_INIT, bound at first use */
    struct parc_task_group *parent; /* the group of the task that made it */
    void *home; /* the worker that bound it: its runs skip the stack */
    /* Tasks run but not finished, with a high bit set while a
     * waiter parks: every run and finish writes it, its own line. */
    PARC_CACHE_ALIGNED parc_park_word_t pending;
    parc_atomic(void *) stack; /* records not yet freed (Treiber, pop-all) */
    PARC_CACHE_ALIGNED parc_atomic(int) cancelled;
    parc_atomic(int) error;
    parc_atomic(uint64_t) skipped; /* tasks cancelled before they started */
    /* The cancellation generation this group last looked at its
     * ancestors in, times 2, plus 1 when one was cancelled: spares the
     * walk up the parents while no group anywhere is cancelled. */
    parc_atomic(uint64_t) seen;
} parc_task_group_t;

/**
 * Static initialiser: `parc_task_group_t g = PARC_TASK_GROUP_INIT;` is a
 * group of the calling thread's pool (parc_pool_current()) whose parent is
 * the calling task's group, bound as parc_task_group_init(&g,
 * parc_pool_current()) would bind it, at its first run, spawn, wait,
 * finish or cancel; that first call must come from the thread that
 * declared it. Outside every pool the first run or spawn returns EINVAL.
 */
#define PARC_TASK_GROUP_INIT { 0 }

/**
 * Initialise g on pool p. Its parent is the group of the task the caller
 * is running (none outside group tasks). Any thread. Returns 0, or EINVAL
 * for NULL g or p.
 */
PARC_API int parc_task_group_init(parc_task_group_t *g, parc_pool_t *p);

/**
 * Destroy g: frees the task records left on its stack. Returns 0; EBUSY
 * when tasks are still pending (wait first; g stays usable); EINVAL for
 * NULL g. Never blocks.
 */
PARC_API int parc_task_group_destroy(parc_task_group_t *g);

/**
 * Spawn fn(arg) into g: on the calling worker's deque (a task of g's pool)
 * or the pool's injection queue (any other thread). No future; the
 * record comes from the recycler. A cancelled group still accepts the
 * task and skips it. Never blocks. Returns 0; EINVAL (NULL g or fn);
 * ENOMEM; EPIPE when the pool is closed to outside submissions or
 * terminated (nothing was spawned).
 */
PARC_API int parc_task_group_run(parc_task_group_t *g, parc_task_group_fn fn,
                                 void *arg);

/**
 * As parc_task_group_run, but the task receives a copy of the `size`
 * bytes at arg, made into the task's own record (at most
 * PARC_TASK_GROUP_ARG_MAX bytes, aligned for any type): the caller's
 * argument may go out of scope at once, so a loop spawning a variable
 * number of children needs no storage of its own for their arguments.
 * The copy lives until fn returns. Returns as run; also EINVAL when size
 * exceeds PARC_TASK_GROUP_ARG_MAX or arg is NULL with size > 0.
 */
PARC_API int parc_task_group_spawn(parc_task_group_t *g, parc_task_group_fn fn,
                                   const void *arg, size_t size);

/**
 * Spawn fn on a copy of the compound literal `(type){ __VA_ARGS__ }`:
 * `PARC_TASK_GROUP_SPAWN(&g, walk, walk_arg_t, node->child[i], total);`.
 * Evaluates to parc_task_group_spawn's return.
 */
#define PARC_TASK_GROUP_SPAWN(g, fn, type, ...) \
    parc_task_group_spawn((g), (fn), &(type){ __VA_ARGS__ }, sizeof(type))

/**
 * Help run g's tasks (and only those of g and its descendants, see
 * Isolation) until every task run into g so far has finished or been
 * skipped, then return the group's first error: 0 when all succeeded;
 * the first non-zero status a task returned; ECANCELED when no task
 * failed but the group was cancelled (by cancel() or an ancestor's) or
 * tasks were skipped (the pool terminated).
 * Blocks. Any thread, the pool's or not. A group may be waited on again
 * after more runs; the error stays until destroy.
 */
PARC_API int parc_task_group_wait(parc_task_group_t *g);

/**
 * Wait for g (parc_task_group_wait), then destroy it: the end of a
 * group's scope in one call (Cilk's sync, a oneTBB task_group going out
 * of scope after its wait). Returns what wait returned (EINVAL for NULL
 * g). Blocks. Any thread, as wait; no run may race with it.
 */
PARC_API int parc_task_group_finish(parc_task_group_t *g);

/**
 * Cancel g: tasks of g and its descendants that have not started are
 * skipped (counted by parc_task_group_skipped), running ones see
 * parc_task_cancelled() true. Idempotent; never blocks. Any thread.
 * Returns 0, or EINVAL for NULL g.
 */
PARC_API int parc_task_group_cancel(parc_task_group_t *g);

/** True when g or one of its ancestors was cancelled. Any thread. */
PARC_API bool parc_task_group_cancelled(const parc_task_group_t *g);

/**
 * How many tasks of g were skipped (cancelled before they started) so
 * far: with the tasks that ran, every task run into g is counted once.
 * Any thread; exact once wait returned.
 */
PARC_API uint64_t parc_task_group_skipped(const parc_task_group_t *g);

/**
 * True when the calling thread is running a task of a group that is
 * cancelled (or whose ancestor is): a long task polls it and returns
 * early. False outside group tasks. Any thread; never blocks.
 */
PARC_API bool parc_task_cancelled(void);

/**
 * The pool the calling thread works for: the pool of the worker or
 * compensating thread (parc_pool_block_begin) it is, or of the group task
 * it runs (an outside thread helping in wait), or
 * NULL outside every pool. Any thread; never blocks.
 */
PARC_API parc_pool_t *parc_pool_current(void);

/* ---- parallel_reduce: the loop of parallel_for, with values ------------------ */

/** Accumulate fn over [lo, hi) into *acc (which starts as a copy of the
 * identity, or holds earlier pieces' values; acc is NULL when value_size
 * is 0). Returns 0 or an error. */
typedef int (*parc_pool_reduce_body_fn)(void *arg, int64_t lo, int64_t hi,
                                        void *acc);

/** left = left op right, for two adjacent pieces (left's indices first). */
typedef void (*parc_pool_reduce_join_fn)(void *arg, void *left,
                                         const void *right);

/**
 * oneTBB's parallel_reduce / Rayon's fold+reduce over [begin, end), on
 * the loop of parc_pool_parallel_for with grain 0: the calling thread
 * works, one of at most parc_pool_workers(p) threads; each thread takes
 * pieces of its own share (a quarter of what is left, at least `grain`
 * indices) and steals half of another's when its own is empty, so a
 * balanced loop pays for a few pieces per thread and an unbalanced one is
 * cut finer where threads had to steal. Values are `value_size` bytes (0:
 * no values, a parallel for; then identity, join and result may be
 * NULL): a thread accumulates adjacent pieces into one value (body's acc
 * starts as a copy of the identity), and *result receives the join of
 * all values in index order, so op needs to be associative only. Returns
 * 0; the first failing piece's error in index order (pieces to its right
 * may be skipped; *result is then unspecified); ECANCELED when the
 * calling task's group is cancelled and pieces were skipped; ENOMEM (a
 * value could not be allocated); EINVAL (NULL p or body, begin > end,
 * grain < 0, value_size > 0 with NULL identity, join or result); EPIPE
 * when the pool is closed or terminated and the caller is outside it.
 * Blocks until done; any thread.
 */
PARC_API int parc_pool_parallel_reduce(parc_pool_t *p, int64_t begin,
                                       int64_t end, int64_t grain,
                                       size_t value_size, const void *identity,
                                       parc_pool_reduce_body_fn body,
                                       parc_pool_reduce_join_fn join,
                                       void *arg, void *result);

PARC_END_DECLS

#endif /* PARC_TASK_GROUP_H */
