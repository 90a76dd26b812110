/*
 * parc/fiber.h — stackful fibers: "manually scheduled threads" in C, run by
 * hand or M:N on a pool's workers (layer 3).
 *
 * A fiber is a function with a stack of its own. It runs on the thread
 * that resumes it until it yields, parks or returns; it may later resume
 * on another thread. parc switches contexts itself (src/fiber_switch_*.S:
 * the callee-saved registers of the x86-64 System V ABI, or of AAPCS64
 * with d8-d15, and the stack pointer; no system call, no signal mask),
 * with a ucontext fallback on other targets. AddressSanitizer and
 * ThreadSanitizer are told about every switch.
 *
 * Two ways to run fibers:
 *
 *   by hand   parc_fiber_create + parc_fiber_resume: the resumer runs the
 *             fiber until it calls parc_fiber_yield (asymmetric
 *             coroutines, Lua's coroutine.resume/yield; generators,
 *             parc/generator.h, are built this way).
 *   M:N       parc_fiber_spawn(pool, ...): the fiber runs as a task of a
 *             parc pool; a fiber that yields goes back to the pool's
 *             queues; a fiber that waits on any of parc's blocking
 *             primitives (mutex, rlock, rwlock, cond, sem, event, barrier,
 *             latch, once, queue, the eventcount containers' blocking
 *             forms, futures, actor mailboxes, parc_fiber_join) is parked
 *             and its worker runs other tasks; the wake-up that releases it
 *             resubmits it, to run on any worker (Go's goroutines, Java's
 *             virtual threads), except that a fiber woken by a fiber
 *             running on the same worker runs next on that worker, as
 *             soon as its waker blocks or yields (Go's runnext), and a
 *             fiber spinning before it parks hands its worker to such a
 *             fiber instead of pausing (src/fiber_sched.c). This needs no cooperation from those
 *             primitives: all of them wait through parc_park_wait
 *             (parc/park.h), and the fiber runtime installs a hook there
 *             that parks the current fiber instead of the thread; the
 *             spin phases before a park yield the fiber, not the thread.
 *             A fiber that parks keeps what it owns: owner-checked locks
 *             (errorcheck mutex, rlock, rwlock) record the fiber, not the
 *             worker (parc_thread_id() names the running fiber).
 *
 * Stacks come from a pool: 64 KiB by default (256 KiB in sanitizer
 * builds), committed lazily by the kernel page by page, with a PROT_NONE
 * guard page below so that an overflow faults at once. Linux allows about
 * 65,000 memory mappings per process (vm.max_map_count) and a guarded
 * stack takes two: beyond ~30,000 live fibers use PARC_FIBER_UNGUARDED
 * (stacks carved from shared slabs; a million fibers blocked on a
 * semaphore then cost the pages they touched, about one or two each).
 * ThreadSanitizer keeps a thread context per live fiber and allows about
 * 8,000 at once.
 *
 * Blocking system calls: a fiber that calls read(2) or sleep(3) blocks its
 * worker thread, and every fiber queued behind it on that worker waits.
 * Wrap such calls in parc_fiber_block_begin/end: the pool then brings in
 * a compensating thread for the blocked worker (parc_pool_block_begin),
 * which runs the other fibers and tasks meanwhile. Sleep with
 * parc_fiber_sleep, which parks the fiber on a timer.
 *
 * Thread-local storage: a spawned fiber may continue on another worker
 * after any blocking call or yield, and a fiber run by hand on whichever
 * thread resumes it. A thread-local variable read before and after such a
 * point may be two threads' variables (and a compiler may even reuse the
 * first thread's address within one function); keep per-fiber state in
 * fiber-local storage below. parc's own per-thread state is safe: its
 * lock owners name the fiber, and a spawned fiber runs with its worker's
 * future help hooks removed (it parks in future waits instead).
 *
 * Floating-point control (the rounding mode, exception masks: x86-64's
 * MXCSR and x87 control word, AArch64's FPCR) belongs to the thread, not
 * to the fiber: a switch does not save it (as in Go and marl; saving it
 * would double the cost of a switch on x86-64). A fiber that changes it
 * (fesetround) restores it before it yields, parks or returns.
 *
 * Threads: a fiber runs on one thread at a time; parc_fiber_resume and
 * parc_fiber_free may be called from any thread, the other calls that
 * act on "the current fiber" from inside a fiber. EBUSY reports a fiber
 * that is running when the call is made (resumed from inside itself or
 * by its own resumer's fiber, still running on another thread, or
 * claimed by another thread's resume or switch a moment earlier: of two
 * threads racing to resume one suspended fiber, one resumes it and the
 * other gets EBUSY). Freeing a fiber while another thread resumes it is
 * a use after free, as for any object: the caller orders free after
 * every other call on it.
 *
 * Example (M:N):
 *
 *     static void worker(void *arg)
 *     {
 *         parc_mutex_t *m = arg;
 *         parc_mutex_lock(m);        // parks the fiber, not the thread
 *         ...
 *         parc_mutex_unlock(m);
 *     }
 *     ...
 *     parc_fiber_t *f;
 *     parc_fiber_spawn(pool, worker, &m, NULL, &f);
 *     parc_fiber_join(f);            // from a thread or a fiber
 *     parc_fiber_free(f);
 */
#ifndef PARC_FIBER_H
#define PARC_FIBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parc/api.h"
#include "parc/pool.h"
#include "parc/status.h"

PARC_BEGIN_DECLS

typedef struct parc_fiber parc_fiber_t;

/* A fiber's body. When it returns, the fiber is finished. */
typedef void (*parc_fiber_fn)(void *arg);

enum {
    /* No guard page below the stack: stacks are carved from shared
     * mappings, so there is no mapping limit, but an overflow silently
     * corrupts whatever lies below. For very many small fibers. */
    PARC_FIBER_UNGUARDED = 1u << 0,
};

/* Options of a fiber; zero (PARC_FIBER_ATTR_INIT) gives the defaults. */
typedef struct parc_fiber_attr {
    size_t stack_size;   /* usable bytes; 0: default; rounded up to pages,
                            at least 16 KiB */
    unsigned flags;      /* PARC_FIBER_UNGUARDED */
} parc_fiber_attr_t;

#define PARC_FIBER_ATTR_INIT { 0, 0 }

/* Fiber-local storage slots (pthread keys for fibers). */
#define PARC_FIBER_KEYS_MAX 16
typedef unsigned parc_fiber_key_t;

/* ---- fibers run by hand ----------------------------------------------- */

/**
 * Create a suspended fiber that will run fn(arg) at its first resume, with
 * `attr` (NULL: defaults), into *out. Any thread; never blocks.
 * Returns 0; EINVAL when out or fn is NULL; ENOMEM (memory, or memory
 * mappings for a guarded stack).
 */
PARC_API int parc_fiber_create(parc_fiber_t **out, parc_fiber_fn fn, void *arg,
                               const parc_fiber_attr_t *attr);

/**
 * Run f on the calling thread (or fiber) until it yields or finishes.
 * Any thread, or a fiber (which then waits inside resume: nesting, as a
 * generator used inside a fiber). Returns 0 when f yielded; EPIPE when f
 * finished (now or earlier); EBUSY when f is running, parked or belongs
 * to a pool (spawned); EINVAL when f is NULL.
 */
PARC_API int parc_fiber_resume(parc_fiber_t *f);

/**
 * From inside a fiber: give the processor up. A fiber run by hand returns
 * to its resumer (whose parc_fiber_resume returns 0); a spawned fiber goes
 * to the back of its pool's queues and continues when a worker picks it up
 * again. Returns 0 once resumed; EPERM when not called from a fiber;
 * EBUSY (nothing done) in a spawned fiber inside a declared blocking
 * section (parc_fiber_block_begin).
 */
PARC_API int parc_fiber_yield(void);

/**
 * From inside a fiber run by hand: switch straight to `to` (another
 * suspended fiber run by hand), which takes over the current fiber's
 * resumer (symmetric transfer: when `to` yields, the resumer's
 * parc_fiber_resume returns). The current fiber stays suspended until
 * resumed or switched to. Returns 0 once the current fiber runs again;
 * EPERM when not in a fiber or in a spawned one; EINVAL when to is NULL
 * or the current fiber; EBUSY when to is running, finished or spawned.
 */
PARC_API int parc_fiber_switch(parc_fiber_t *to);

/** The fiber running on the calling thread, or NULL. Never blocks. */
PARC_API parc_fiber_t *parc_fiber_current(void);

/** Whether f has finished (its function returned). Never blocks. */
PARC_API bool parc_fiber_done(const parc_fiber_t *f);

/**
 * Release the handle f. A finished fiber, or one run by hand that is
 * suspended (abandoned: its stack is dropped without unwinding, as a
 * coroutine never resumed again), is freed at once; a spawned fiber that
 * has not finished is detached and frees itself when it finishes. Any
 * thread. Returns 0; EINVAL when f is NULL; EBUSY when f is running on
 * some thread right now and was not spawned (nothing is freed).
 */
PARC_API int parc_fiber_free(parc_fiber_t *f);

/* ---- M:N on a pool ------------------------------------------------------ */

/**
 * Create a fiber running fn(arg) with `attr` (NULL: defaults) and submit it
 * to `pool`, whose workers run it; parc's blocking calls made inside park
 * the fiber, not the worker. With out == NULL the fiber is detached (it
 * frees itself when it finishes); otherwise *out is a handle to join and
 * then free. Any thread. Returns 0; EINVAL when pool or fn is NULL;
 * ENOMEM; EPIPE when the pool is closed. Never blocks.
 *
 * The pool must stay open until its fibers have finished: a parked fiber
 * is resubmitted by its wake-up, and a pool that refuses it (closed from
 * outside) would lose it, so parc aborts the process then instead.
 */
PARC_API int parc_fiber_spawn(parc_pool_t *pool, parc_fiber_fn fn, void *arg,
                              const parc_fiber_attr_t *attr, parc_fiber_t **out);

/**
 * Wait until the spawned fiber f has finished. Blocks the calling thread,
 * or parks the calling fiber. Returns 0; EINVAL when f is NULL or was not
 * spawned; EDEADLK when f is the calling fiber.
 */
PARC_API int parc_fiber_join(parc_fiber_t *f);

/**
 * Sleep for at least timeout_ns. In a spawned fiber the fiber is parked on
 * a timer and its worker runs other work; elsewhere (a thread, a fiber run
 * by hand) the thread sleeps. Returns 0, or EINVAL when timeout_ns < 0.
 */
PARC_API int parc_fiber_sleep(int64_t timeout_ns);

/**
 * Declare that the calling fiber is about to make a blocking system call
 * (read, a foreign lock, sleep(3)) that will hold its worker thread
 * (begin), and that it returned (end). Pairs nest; the outermost begin of
 * a spawned fiber calls parc_pool_block_begin (its pool brings in a
 * compensating thread, up to the pool's cap, and a fiber this worker was
 * about to run goes to the pool), the outermost end parc_pool_block_end.
 * Until then the fiber stays on its thread: parc's blocking calls inside
 * block the thread (compensated) instead of parking the fiber, and
 * parc_fiber_yield returns EBUSY. Harmless outside a fiber and in a fiber
 * run by hand (only counted). An end without a begin is ignored. Never
 * blocks beyond starting a thread.
 */
PARC_API void parc_fiber_block_begin(void);
PARC_API void parc_fiber_block_end(void);

/** How many parc_fiber_block_begin the current fiber has not yet ended (0
 * outside a fiber). */
PARC_API unsigned parc_fiber_blocking(void);

/* ---- fiber-local storage ------------------------------------------------- */

/**
 * Create a fiber-local key whose value starts NULL in every fiber; when a
 * fiber finishes, destructor(value) runs (inside the fiber) for each
 * non-NULL value (destructor may be NULL). Keys live as long as the
 * process. Any thread. Returns 0; EINVAL when key is NULL; EAGAIN when all
 * PARC_FIBER_KEYS_MAX keys are taken.
 */
PARC_API int parc_fiber_key_create(parc_fiber_key_t *key, void (*destructor)(void *));

/**
 * Set the current fiber's value for key. Returns 0; EINVAL for a key not
 * created; EPERM when not called from a fiber. Never blocks.
 */
PARC_API int parc_fiber_local_set(parc_fiber_key_t key, void *value);

/** The current fiber's value for key; NULL outside a fiber, for a key
 * not created, or when never set. Never blocks. */
PARC_API void *parc_fiber_local_get(parc_fiber_key_t key);

PARC_END_DECLS

#endif /* PARC_FIBER_H */
