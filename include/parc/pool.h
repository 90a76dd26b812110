/*
 * parc/pool.h — a work-stealing thread pool: multiprocessing.Pool,
 * concurrent.futures.ThreadPoolExecutor and ForkJoinPool in C (layer 3).
 *
 * Scheduler: each worker owns a Chase–Lev deque (parc/deque.h; Chase and
 * Lev, SPAA 2005) where the tasks it spawns go; submissions from threads
 * outside the pool go to a sharded injection queue (parc/inject.h, after
 * ForkJoinPool's external submission queues, Doug Lea): a submitter
 * claims its shard with one CAS and publishes with one fetch-and-add, and
 * a fire-and-forget task is stored inline, with no allocation. A worker
 * runs its own deque LIFO (depth-first, cache-warm: Cilk's work-first
 * principle, Blumofe and Leiserson 1999), and when it is empty takes a
 * batch from the injection queue (up to half a shard, at most 32, onto its
 * own deque where idle workers can steal them, as Go's scheduler takes
 * from its global run queue), then steals FIFO from the
 * other workers in a random order (randomized work stealing, ibid.).
 * Every 61st task it looks at the injection queue first, so outside
 * submissions are never starved by recursive local work (Go does the
 * same). Outside submissions are not started in a global FIFO order.
 *
 * Sleeping (after Tokio's and Go's schedulers): a worker that finds no
 * work counts itself as *searching* and keeps looking for a short spin
 * (about PARC_SPIN_POLLS pauses; at most half the workers spin at once,
 * the others look once); then it leaves the searching count, joins
 * a list of sleepers and, after a last look, parks on its own eventcount
 * (parc/eventcount.h). A submission wakes a sleeper only when no worker is
 * searching (a searcher will find the work); the waker takes the sleeper
 * off the list and counts it as searching on its behalf, so that further
 * submissions made while it is still waking up do not wake another one
 * (each submission wakes at most one, and none while one is on its way).
 * A searcher that finds work while it was the last one wakes one more, so
 * a burst ramps the pool up one worker at a time and a single task never
 * wakes a herd. An idle pool burns no CPU.
 *
 * Fork/join: a task may submit subtasks (they go on its worker's deque)
 * and wait for their futures. A waiting worker does not block: through
 * the future help hook (parc/future.h) it runs other tasks, its own deque
 * first, then stolen ones, until the future completes ("helping" or
 * leapfrogging, as ForkJoinPool's join). Recursive divide and conquer
 * therefore cannot deadlock with any number of workers, one included.
 *
 * Life cycle (Python's Pool and concurrent.futures, Java's shutdown and
 * shutdownNow):
 *   close      no new outside work (EPIPE); accepted work still runs, and
 *              tasks already running may still spawn subtasks.
 *   join       waits until all accepted work has run and the workers have
 *              exited (implies close). Harmless when repeated.
 *   terminate  workers stop after their current task; work not started is
 *              cancelled (its futures report ECANCELED).
 *   shutdown   (wait, cancel_pending): close or terminate, then join if
 *              wait.
 *   free       joins (as shutdown(true, false)) if needed, then frees.
 *
 * Threads: every function may be called from any thread, including the
 * pool's own workers, except join/shutdown(wait)/free, which a worker of
 * the same pool must not call (EDEADLK).
 */
#ifndef PARC_POOL_H
#define PARC_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parc/api.h"
#include "parc/future.h"
#include "parc/status.h"

PARC_BEGIN_DECLS

typedef struct parc_pool parc_pool_t;

/** Options of parc_pool_create; zero (PARC_POOL_OPTIONS_INIT) gives the
 * defaults. */
typedef struct parc_pool_options {
    /* Thread name prefix: worker i is named "<prefix><i>" (truncated to
     * 15 characters, the Linux limit). NULL: "parc-w". */
    const char *name_prefix;
    /* Called once on each worker thread before it runs any task (Python's
     * initializer/initargs); `worker` is the worker's index. */
    void (*initializer)(void *arg, unsigned worker);
    void *initializer_arg;
    /* CPU affinity: worker i runs on CPU cpus[i % ncpus]. NULL or 0: no
     * pinning. A CPU the process may not use makes create fail (EINVAL). */
    const int *cpus;
    size_t ncpus;
    /* Initial capacity of each worker's deque (0: the deque's default). */
    size_t deque_capacity;
} parc_pool_options_t;

#define PARC_POOL_OPTIONS_INIT { NULL, NULL, NULL, NULL, 0, 0 }

/* ---- creation and life cycle --------------------------------------- */

/**
 * Create a pool of `workers` threads (0: one per online CPU) with `opts`
 * (NULL: defaults) into *out. Returns 0; EINVAL when out is NULL, workers
 * exceeds 1024 or a CPU in opts is not usable; ENOMEM; EAGAIN when a
 * thread could not be created (nothing is left running). Blocks only while
 * the workers start.
 */
PARC_API int parc_pool_create(unsigned workers, const parc_pool_options_t *opts,
                              parc_pool_t **out);

/** Number of worker threads. 0 for NULL. Never blocks. */
PARC_API unsigned parc_pool_workers(const parc_pool_t *p);

/** Index of the calling thread among p's workers, or -1 when it is not one
 * of them (or p is NULL). Never blocks. */
PARC_API int parc_pool_current_worker(const parc_pool_t *p);

/** Stop accepting outside work: later submissions from outside fail with
 * EPIPE; accepted work still runs. Idempotent. Returns 0 or EINVAL for
 * NULL. Never blocks. */
PARC_API int parc_pool_close(parc_pool_t *p);

/** Close, then wait until all accepted work has run and every worker has
 * exited. Repeated or concurrent calls are harmless. Returns 0; EINVAL for
 * NULL; EDEADLK when called from one of p's workers or compensators
 * (parc_pool_block_begin). Blocks. */
PARC_API int parc_pool_join(parc_pool_t *p);

/** Stop: no new work; each worker stops after its current task; work not
 * started is cancelled (its futures report ECANCELED, its callbacks never
 * run). Does not wait (join does). Idempotent. Returns 0 or EINVAL for
 * NULL. Never blocks. */
PARC_API int parc_pool_terminate(parc_pool_t *p);

/** concurrent.futures' shutdown: terminate when cancel_pending, else
 * close; then join when wait. Returns what join returns (or 0). */
PARC_API int parc_pool_shutdown(parc_pool_t *p, bool wait, bool cancel_pending);

/** Join (as shutdown(true, false)) unless already joined, then free the
 * pool. Futures handed out stay valid (release them as usual). Returns 0;
 * EINVAL for NULL; EDEADLK from one of p's own workers or compensators
 * (nothing freed).
 * Blocks while joining. */
PARC_API int parc_pool_free(parc_pool_t *p);

/* ---- single tasks ------------------------------------------------------ */

/**
 * Submit fn(arg). On 0, *out (when out is not NULL) receives a heap
 * future holding the outcome, one reference owned by the caller
 * (parc_future_release it); out == NULL submits fire-and-forget (no
 * future is made: from outside the pool the task is queued with no
 * allocation at all; its outcome is dropped, and terminate drops it
 * unrun). From a worker the task goes on that worker's deque (fork/join),
 * from any other thread on the injection queue. Returns 0; EINVAL when p
 * or fn is NULL; EPIPE when the pool is closed (from outside) or
 * terminated; ENOMEM. Never blocks (an outside submission spins only in
 * the rare moment when every injection shard is held by another thread,
 * each for a few stores).
 */
PARC_API int parc_pool_submit(parc_pool_t *p, parc_task_fn fn, void *arg,
                              parc_future_t **out);

/**
 * Submit a future the caller made: one in caller storage from
 * parc_future_init (no allocation at all: the fork/join idiom, a child's
 * future on the parent's stack), or a heap one, of which the pool then
 * takes a reference of its own. The pool runs its task as parc_pool_submit
 * would; wait for it with the parc_future_* calls. A caller-storage future
 * must stay alive until parc_future_destroy returns 0 for it: at once once
 * it ran (a worker never touches it after completing it); if it was
 * cancelled before it ran, the pool's queue still holds its address until
 * a worker reaches it (or the pool terminates), and destroy says EBUSY
 * until then (parc_future_hold). One refused (any error) is left pending
 * and not held. Returns 0; EINVAL when p or f is NULL, or f is a promise
 * (no task) or a then() continuation; EALREADY when f is not pending (it
 * ran, runs or was cancelled) or already held by a queue; EPIPE and ENOMEM
 * as parc_pool_submit. Never blocks, as parc_pool_submit.
 */
PARC_API int parc_pool_submit_future(parc_pool_t *p, parc_future_t *f);

/**
 * Python's apply_async: submit fn(arg); when it finishes, on the worker
 * that ran it and before its future completes, call callback(ctx, value)
 * on success or error_callback(ctx, status) on failure (either may be
 * NULL). A cancelled task calls neither. Callbacks may submit work but
 * must not wait for their own future. *out as in parc_pool_submit (may be
 * NULL). Returns as parc_pool_submit.
 */
PARC_API int parc_pool_apply_async(parc_pool_t *p, parc_task_fn fn, void *arg,
                                   void (*callback)(void *ctx, void *value),
                                   void (*error_callback)(void *ctx, int status),
                                   void *ctx, parc_future_t **out);

/* ---- data parallelism ------------------------------------------------------ */

/** map: *out = f(*in) for one element; returns 0 or an error code. */
typedef int (*parc_pool_map_fn)(const void *in, void *out);
/** starmap: *out = f(ctx, *args), args being a struct of arguments. */
typedef int (*parc_pool_starmap_fn)(void *ctx, const void *args, void *out);

/**
 * Python's Pool.map: out[i] = fn(in[i]) for i in [0, n), elements of
 * in_size and out_size bytes, in input order. out may be NULL when
 * out_size is 0. The calling thread works too: the loop runs on at most
 * parc_pool_workers(p) threads, the caller being one of them (as a
 * oneTBB arena counts the thread that starts an algorithm), so fn may run
 * on the calling thread, which did not run the pool's initializer, and on
 * a 1-worker pool an outside caller runs the whole loop itself. Each
 * thread takes pieces from its own share and, when that is empty, steals
 * the back half of another's. chunksize 0: a piece is a quarter of what
 * is left of its share or stolen half (about 4 x workers first pieces,
 * finer ones towards the end and where the load is uneven, as oneTBB's
 * auto_partitioner); otherwise every piece is one chunk of `chunksize`
 * elements. Blocks until every
 * element has run. A chunk stops at its first failing element; chunks
 * right of a failed one may be skipped. Returns 0; the error of the first
 * failing chunk in input order; EINVAL for a NULL p or fn, a NULL in or
 * out with n > 0 (out only when out_size > 0), in_size == 0; EPIPE when
 * the pool is closed or terminated and the caller is outside it (a task of
 * p is never refused); ECANCELED when the calling task's group was
 * cancelled and elements were skipped. Any thread.
 */
PARC_API int parc_pool_map(parc_pool_t *p, parc_pool_map_fn fn, const void *in,
                           void *out, size_t n, size_t in_size, size_t out_size,
                           size_t chunksize);

/** Python's Pool.starmap: out[i] = fn(ctx, args[i]); as parc_pool_map. */
PARC_API int parc_pool_starmap(parc_pool_t *p, parc_pool_starmap_fn fn,
                               void *ctx, const void *args, void *out, size_t n,
                               size_t args_size, size_t out_size,
                               size_t chunksize);

/**
 * parallel_for: calls fn(arg, lo, hi) over [begin, end) cut into ranges,
 * in parallel, as parc_pool_map runs its chunks (the calling thread one of
 * at most parc_pool_workers(p) threads): grain > 0 cuts ranges of `grain`
 * indices; grain 0 is automatic (about 4 x workers ranges, finer ones
 * where threads had to steal). Blocks until all ranges ran. Returns 0,
 * the first failing range's error (in index order), EINVAL (NULL p or fn,
 * begin > end, negative grain), EPIPE or ECANCELED as parc_pool_map.
 */
PARC_API int parc_pool_parallel_for(parc_pool_t *p, int64_t begin, int64_t end,
                                    int64_t grain,
                                    int (*fn)(void *arg, int64_t lo, int64_t hi),
                                    void *arg);

/**
 * A typed map whose element function the compiler inlines. parc_pool_map
 * calls fn through a pointer for every element and steps by byte sizes:
 * right for work of tens of nanoseconds per element and more, but on a
 * memory-bound loop (squaring ints: well under a nanosecond an element)
 * the call is most of the cost. This macro, used at file scope, defines
 *
 *     static inline int NAME(parc_pool_t *p, const IN_T *in, OUT_T *out,
 *                            size_t n, size_t chunksize);
 *
 * with parc_pool_map's meaning (out[i] = ELEM_FN(&in[i], &out[i]) in
 * input order, chunks of `chunksize` elements or automatic with 0, a chunk
 * stops at its first failing element, the first failing chunk's error in
 * input order, the calling thread working too) on top of
 * parc_pool_parallel_for: each chunk is one loop
 * over typed arrays calling ELEM_FN directly, so a static (inline)
 * ELEM_FN is inlined and the loop vectorised as a hand-written one. ELEM_FN
 * has the parc_pool_map_fn signature, int (const void *in, void *out), so the
 * same function also serves parc_pool_map. Returns as parc_pool_map
 * (EINVAL for NULL p, for NULL in or out with n > 0, n > INT64_MAX). Use:
 *
 *     static inline int square(const void *in, void *out)
 *     { int x = *(const int *)in; *(int *)out = x * x; return 0; }
 *     PARC_POOL_MAP_DEFINE(square_map, square, int, int);
 *     ...  rc = square_map(pool, in, out, n, 0);
 */
/* PARC_POOL_MAP_DEFINE's definition is in parc/impl/pool.h. */

/* ---- iterators: imap and imap_unordered ------------------------------------ */

typedef struct parc_pool_imap parc_pool_imap_t;

/**
 * Python's Pool.imap: start out[i] = fn(in[i]) in chunks (as map) and
 * return at once an iterator whose next() yields results in input order,
 * each as soon as its chunk is done. `in` must stay valid until the
 * iterator is freed. Returns 0; EINVAL and EPIPE as parc_pool_map; ENOMEM.
 * Never blocks.
 */
PARC_API int parc_pool_imap(parc_pool_t *p, parc_pool_map_fn fn, const void *in,
                            size_t n, size_t in_size, size_t out_size,
                            size_t chunksize, parc_pool_imap_t **it);

/** Pool.imap_unordered: as parc_pool_imap, yielding chunks in the order
 * they complete (elements of a chunk in input order). */
PARC_API int parc_pool_imap_unordered(parc_pool_t *p, parc_pool_map_fn fn,
                                      const void *in, size_t n, size_t in_size,
                                      size_t out_size, size_t chunksize,
                                      parc_pool_imap_t **it);

/**
 * Next result: copies out_size bytes to *out (when out is not NULL) and
 * the element's input index to *index (when not NULL). Returns 0; EPIPE
 * when every element has been yielded; the chunk's error code once for a
 * failed chunk (*index: its first element; its elements are skipped);
 * ECANCELED for a cancelled chunk (likewise); EINVAL for NULL it. _try:
 * EAGAIN when the next result is not ready; _timed: ETIMEDOUT. Blocks
 * (on a worker: runs other tasks meanwhile). One consumer at a time.
 */
PARC_API int parc_pool_imap_next(parc_pool_imap_t *it, void *out,
                                 size_t *index);
PARC_API int parc_pool_imap_next_try(parc_pool_imap_t *it, void *out,
                                     size_t *index);
PARC_API int parc_pool_imap_next_timed(parc_pool_imap_t *it, void *out,
                                       size_t *index, int64_t timeout_ns);

/** Wait for the iterator's outstanding chunks, then free it. NULL: no-op.
 * Blocks. */
PARC_API void parc_pool_imap_free(parc_pool_imap_t *it);

/* ---- blocking calls inside tasks ----------------------------------- */

/** Default cap on a pool's live compensating threads (as ForkJoinPool's
 * default of 256 spares beyond its parallelism). */
#define PARC_POOL_BLOCK_CAP_DEFAULT 256u
/** Largest cap parc_pool_set_block_cap accepts. */
#define PARC_POOL_BLOCK_CAP_MAX 4096u

/**
 * Declare that the calling task is about to block (a system call, a lock,
 * a wait on another pool or a condition): the calling thread stops
 * counting as one of its pool's running threads, and when fewer than
 * parc_pool_workers() remain running, the pool brings in a compensating
 * thread at once: a parked spare, or a new thread while fewer than the
 * pool's cap (parc_pool_set_block_cap; PARC_POOL_BLOCK_CAP_DEFAULT) are
 * alive. At the cap the block goes uncompensated (still 0). A compensator
 * runs queued tasks (taken from the injection queue or stolen from the
 * workers); when it finds more running threads than the worker count it
 * retires: it parks as a spare for 100 ms, then exits. Its tasks see
 * parc_pool_current_worker() == -1 and their submissions take the outside
 * path (after close they fail EPIPE, as from outside). Compensators may
 * themselves call begin/end. Pairs nest (only the outermost pair counts).
 *
 * Call from a task on a pool thread (worker or compensator), paired with
 * parc_pool_block_end() on the same thread. Does not block beyond a
 * thread start (pthread_create) when compensation needs a new thread.
 * Cost: a nested begin or end is a thread-local increment; the outermost
 * end one atomic add; the outermost begin one atomic add, plus, when that
 * leaves the pool short, an internal lock and a spare's wake-up (futex)
 * or a thread start. A begin soon after an end usually finds the last
 * compensator still counted and does only the add. No parc primitive calls it
 * for you yet: a future get, channel receive, mutex or latch wait on a
 * worker blocks that worker uncompensated (future gets on a worker help
 * with other tasks instead).
 *
 * From a fiber spawned on a pool (parc/fiber.h) the section belongs to
 * the fiber, not to the thread it runs on: the call is
 * parc_fiber_block_begin() (the fiber stays on its current thread until
 * its outermost end, so the pair still counts on one thread) and returns
 * 0.
 *
 * Returns 0; EPERM when the calling thread is not a pool thread (nothing
 * done: the call is a harmless no-op off the pool).
 */
PARC_API int parc_pool_block_begin(void);

/**
 * End the blocking section begun by parc_pool_block_begin() on this
 * thread: the thread counts as running again (the outermost end), and a
 * surplus compensator retires when it next looks for work. Never blocks.
 * From a spawned fiber: parc_fiber_block_end() (see begin).
 * Returns 0; EPERM off a pool thread (no-op); EINVAL when no begin is
 * open on this thread (in a spawned fiber: in this fiber).
 */
PARC_API int parc_pool_block_end(void);

/**
 * Set p's cap on live compensating threads (0 disables compensation;
 * compensators alive beyond a lowered cap retire as usual). Any thread.
 * Never blocks. Returns 0; EINVAL for NULL p or cap above
 * PARC_POOL_BLOCK_CAP_MAX.
 */
PARC_API int parc_pool_set_block_cap(parc_pool_t *p, unsigned cap);

/**
 * Number of p's compensating threads alive now (running, blocked or
 * parked as spares); a snapshot for tests and monitoring. Any thread;
 * takes a short internal lock. Returns 0 for NULL p.
 */
PARC_API unsigned parc_pool_compensators(parc_pool_t *p);

PARC_END_DECLS

#include "parc/impl/pool.h"

#endif /* PARC_POOL_H */
