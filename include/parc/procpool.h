/*
 * parc/procpool.h — a pool of worker processes: Python's multiprocessing.Pool
 * in C (layer 3).
 *
 * A task is a function of this program and an argument of bytes; it runs in
 * one of N worker processes and its result (bytes) comes back through a parc
 * future (parc/future.h). What processes buy over parc's thread pool is
 * isolation: a task that crashes (a signal, exit(), an OOM kill) takes down
 * only its worker. The pool then fails exactly the task that worker was
 * running -- its future says ECHILD and parc_procpool_wait_status() gives
 * the wait status (WIFSIGNALED/WTERMSIG, WIFEXITED/WEXITSTATUS) -- and
 * forks a replacement, so it keeps its size and never hangs (Python's Pool
 * hangs forever when a worker is OOM-killed, cpython#96062). A task that
 * outlives the pool's per-task timeout is killed (SIGKILL) the same way and
 * fails with ETIMEDOUT.
 *
 * Where workers come from: a fork server. parc_procpool_forkserver_start(),
 * called early in main() while the program is still single-threaded, forks
 * one small process that stays single-threaded and forks every worker on
 * request (the "forkserver" start method of Python's multiprocessing).
 * Forking a multi-threaded process is unsafe (the child inherits locks that
 * threads which do not exist in it held: malloc's, stdio's, the user's);
 * the fork server never has other threads, so its forks are always safe,
 * whatever threads the program has started since. Limits of the choice:
 *   - workers see the program's memory as it was when the server started,
 *     not as it is at submit time: tasks get their data through the
 *     argument bytes (or through shared memory, parc/shm.h, made before the
 *     server started), not through globals changed later;
 *   - file descriptors opened after the server started are not in the
 *     workers; those opened before are, in the server too (a pipe's write
 *     end the server holds keeps its reader from seeing EOF: start the
 *     server before opening such pipes, or mark them O_CLOEXEC and exec);
 *   - if no server was started, the first parc_procpool_create() starts one
 *     from wherever it is called: safe only if the caller is the only
 *     thread at that moment (documented, not detected);
 *   - the server is a copy of the program as it was when it started, and so
 *     is every worker it forks: a fork copies the page tables of all the
 *     private memory present (the caller's heap, its threads' stacks), and a
 *     dead worker's exit tears them down before its death can be seen (the
 *     kernel frees a process's memory before it reports the exit). A server
 *     started after the program grew to N MiB of resident private memory
 *     makes each worker's start, and each recovery from a crash, cost time
 *     in proportion to N (measured on a 2-core VM: a crash to a replacement
 *     ready in 0.2-0.3 ms from a small server, 86 ms after the caller had
 *     touched 512 MiB); started early, the program's later growth costs the
 *     pool nothing. PARC_PROCPOOL_FORKSERVER_AT_LOAD below starts it before
 *     main(), when the program is as small and as single-threaded as it will
 *     ever be. The library does not do that by itself: a constructor in
 *     libparc would fork a process in every program that loads it, pool or
 *     not; and a late server cannot shed the memory it inherited (its
 *     workers may read any of it: the heap, the allocator's own state).
 *
 * Functions across processes: a task names its function by pointer. The
 * pointer is valid in the worker because the worker is a fork of a fork of
 * this very process image: fork keeps the address space, and address-space
 * layout randomisation applies per exec, not per fork, so every function
 * of the executable and of every library loaded before the server started
 * sits at the same address in the worker. A function from a library
 * dlopen()ed after the server started is not there (the worker would
 * crash on the call: reported as ECHILD, not undefined behaviour of the
 * pool).
 *
 * Inside: each worker talks to the pool over its own Unix stream socket
 * (task frames out, result frames back); the server reports each worker's
 * pid with a pidfd, and its wait status when it exits, over a seqpacket
 * socket per pool. One dispatcher thread per pool owns all of it in a
 * poll(2) loop: it hands queued tasks to idle workers, reads results,
 * completes futures, kills workers past their deadline (pidfd_send_signal)
 * and forks replacements. The wait status arriving from the server is what
 * fails a task, so a crash is reported with its cause, never as a hang.
 * A process that dies (the pool's owner) takes its workers with it: the
 * server sees its socket close and kills them, and itself exits.
 *
 * Rejected: forking workers straight from the caller (unsafe once the
 * program has threads, which a program using a thread pool has);
 * posix_spawn of the same executable with a task entry point (needs
 * main() to cooperate, as Python's spawn re-imports __main__); SIGCHLD
 * handlers in the library (a process has one, and it is the user's).
 *
 * Threads: every function may be called from any thread of the process
 * that created the pool, unless its comment says otherwise; never from a
 * worker.
 *
 * Example (the seed's Pool(5).map(square, [1, 2, 3]) -> [1, 4, 9]):
 *
 *     static int square(const void *arg, size_t len, void **out, size_t *out_len)
 *     {
 *         long x = *(const long *)arg;
 *         long *r = malloc(sizeof *r);
 *         *r = x * x;
 *         *out = r; *out_len = sizeof *r;
 *         return 0;
 *     }
 *     int main(void)
 *     {
 *         parc_procpool_forkserver_start();       // before any thread
 *         parc_procpool_t *pool;
 *         parc_procpool_options_t o = PARC_PROCPOOL_OPTIONS_INIT;
 *         o.workers = 5;
 *         parc_procpool_create(&o, &pool);
 *         long in[3] = {1, 2, 3}, out[3];
 *         parc_procpool_map(pool, square, in, sizeof in[0], 3,
 *                           out, sizeof out[0], NULL);   // 1 4 9
 *         parc_procpool_close(pool);
 *         parc_procpool_join(pool);
 *         parc_procpool_free(pool);
 *     }
 */
#ifndef PARC_PROCPOOL_H
#define PARC_PROCPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "parc/api.h"
#include "parc/future.h"
#include "parc/status.h"

PARC_BEGIN_DECLS

/*
 * A task, run in a worker process: reads arg[0..arg_len), may set *result
 * to a malloc()ed block of *result_len bytes (the worker sends and frees
 * it; leave NULL for no result), and returns 0 or a positive error code
 * that its future carries. ECHILD, ETIMEDOUT and ECANCELED are better
 * avoided: the pool uses them for a dead worker, a timeout, a terminate.
 */
typedef int (*parc_proc_fn)(const void *arg, size_t arg_len, void **result,
                            size_t *result_len);

/* A worker's initializer: runs once in each worker before its first task.
 * A non-zero return makes that worker exit (status 127); the pool forks a
 * replacement, which runs it again (Python's behaviour). */
typedef int (*parc_proc_init_fn)(const void *arg, size_t arg_len);

typedef struct parc_procpool parc_procpool_t;

typedef struct parc_procpool_options {
    unsigned workers;              /* processes; 0: one per online CPU */
    parc_proc_init_fn initializer; /* NULL: none */
    const void *initarg;           /* copied at create */
    size_t initarg_len;
    unsigned max_tasks_per_child;  /* a worker retires after that many
                                    * tasks and is replaced; 0: never */
    int64_t task_timeout_ns;       /* a task running longer is killed and
                                    * fails with ETIMEDOUT; 0: no limit */
} parc_procpool_options_t;

#define PARC_PROCPOOL_OPTIONS_INIT {0, NULL, NULL, 0, 0, 0}

/*
 * Start the process-wide fork server now. Call it early in main(), before
 * the program starts any thread (see the header comment). Idempotent:
 * later calls return 0 at once. Returns 0, or an errno from
 * socketpair/fork. Blocks only for the fork.
 */
PARC_API int parc_procpool_forkserver_start(void);

/*
 * PARC_PROCPOOL_FORKSERVER_AT_LOAD: write it once, at file scope, in one
 * source file of the program (not of a library), and the fork server is
 * started while the program loads, before main() and before the C++
 * static constructors that may start threads (a constructor of priority
 * 101, the first an application may use): small and single-threaded, so
 * that workers start and crashes are recovered from at the same speed
 * however large the program grows (see the header comment). The same as
 * calling parc_procpool_forkserver_start() first thing in main(); an error
 * then is not reported (the first parc_procpool_create() tries again and
 * reports it). GCC and Clang.
 */
#define PARC_PROCPOOL_FORKSERVER_AT_LOAD                                        \
    __attribute__((constructor(101))) static void parc_procpool_at_load_(void) \
    {                                                                           \
        (void)parc_procpool_forkserver_start();                                 \
    }                                                                           \
    typedef int parc_procpool_at_load_semicolon_

/*
 * Create a pool (options may be NULL: defaults) and start its workers and
 * its dispatcher thread; workers keep starting in the background (a task
 * submitted at once waits for the first one). Returns 0; EINVAL (NULL
 * out, a negative timeout, initarg_len without initarg); ENOMEM; EAGAIN
 * when a thread or the fork server could not be started.
 */
PARC_API int parc_procpool_create(const parc_procpool_options_t *options,
                                  parc_procpool_t **out);

/*
 * Submit fn(arg) (apply_async): arg[0..arg_len) is copied at once. *out
 * receives a heap future owned by the caller, which releases it with
 * parc_procpool_release() (not parc_future_release: the result bytes are
 * freed there). parc_future_get gives the result's address as its value
 * (NULL for an empty result) and the task's status: 0, the task's own
 * code, ECHILD (its worker died), ETIMEDOUT (killed past the timeout),
 * ECANCELED (terminate), EPIPE (the fork server died). Returns 0; EINVAL
 * (NULL pool, fn or out; arg NULL with arg_len > 0); EPIPE after close;
 * ENOMEM. Never blocks.
 */
PARC_API int parc_procpool_submit(parc_procpool_t *pool, parc_proc_fn fn,
                                  const void *arg, size_t arg_len,
                                  parc_future_t **out);

/* Submit and wait (apply): stores a malloc()ed copy of the result in
 * *result (NULL when empty; the caller frees it) and its length in
 * *result_len (either may be NULL: not wanted). Returns the task's status,
 * or submit's error. Blocks until the task is done. */
PARC_API int parc_procpool_apply(parc_procpool_t *pool, parc_proc_fn fn,
                                 const void *arg, size_t arg_len,
                                 void **result, size_t *result_len);

/*
 * map: run fn on each of n arguments of arg_size bytes at args (args[i] at
 * args + i * arg_size), in parallel, and store result i at results + i *
 * result_size (exactly result_size bytes: a result of another length
 * fails that item with EMSGSIZE; results may be NULL when nothing is
 * wanted back). statuses, when not NULL, receives each item's status. A
 * failing item does not stop the others; an item whose worker dies fails
 * alone (ECHILD), even though items travel in chunks (see
 * parc_procpool_map_chunked). Returns 0 when every item
 * succeeded, otherwise the status of the first failing item (by index);
 * EINVAL, EPIPE, ENOMEM as submit (nothing submitted then). Blocks.
 */
PARC_API int parc_procpool_map(parc_procpool_t *pool, parc_proc_fn fn,
                               const void *args, size_t arg_size, size_t n,
                               void *results, size_t result_size,
                               int *statuses);

/*
 * map with an explicit chunk size: items travel `chunksize` to a task (one
 * round trip per chunk, as Python's Pool.map(chunksize=)); 0 picks
 * Python's default (about four chunks per worker), 1 sends one task per
 * item. parc_procpool_map is this with 0. A chunk whose worker dies (or
 * is killed past the timeout) is run again one task per item, so exactly
 * the items that crash fail (ECHILD) and the others succeed; items of that
 * chunk that had already run run twice (map's functions are meant to be
 * pure). The per-task timeout applies to a whole chunk, then to each item
 * on the rerun. Returns as parc_procpool_map.
 */
PARC_API int parc_procpool_map_chunked(parc_procpool_t *pool, parc_proc_fn fn,
                                       const void *args, size_t arg_size,
                                       size_t n, void *results,
                                       size_t result_size, int *statuses,
                                       size_t chunksize);

/* A map element's function, run in a worker: reads the element at in,
 * writes its result (exactly the map's result_size bytes) at out, returns
 * 0 or a positive error code (the item's status). The same shape as
 * parc_pool_map_fn (parc/pool.h). */
typedef int (*parc_proc_map_fn)(const void *in, void *out);

/*
 * map for fixed-size results, the form of parc_pool_map (the thread
 * pool's): result i = fn(args[i]) written straight into results + i *
 * result_size (results may be NULL: not wanted back). Items travel in
 * chunks of `chunksize` (0: Python's default, n / (4 x workers) rounded
 * up; 1: one task per item): each chunk's items go to a worker in one
 * frame and its results come back in one, with no allocation and no
 * header per item, which is what makes a map of small items cost a few
 * nanoseconds per item instead of parc_procpool_map's malloc()ed result
 * per item. How the bytes cross: a map of 256 KiB or more of items and
 * results goes through the pool's map arena, a memfd mapped in the
 * caller's process and in every worker (passed with the first chunk a
 * worker gets, SCM_RIGHTS): the caller copies each chunk's items in, the
 * worker reads them and writes the results in place, the caller copies
 * them out, one memcpy each way and no system call per byte. The arena
 * grows to the largest map seen (a power of two) and stays until the pool
 * is freed; a worker drops its mapping of an outgrown one at its next
 * arena chunk. One map at a time uses it: a concurrent map, a smaller
 * one, or one whose arena could not be made (no memfd) sends the items
 * through the worker's socket straight from the caller's array and
 * receives the results straight into it. Items and results that both lie
 * in one shared buffer (parc_procpool_buffer) are not copied at all: the
 * workers read and write them in place (any number of maps at once). A chunk whose worker dies (or is killed past the timeout) is
 * run again one item per task, so exactly the crashing items fail (ECHILD
 * or ETIMEDOUT) and the others succeed; items of that chunk that had
 * already run run twice (map's functions are meant to be pure). The
 * result bytes of a failing item are unspecified. statuses, when not NULL,
 * receives each item's status. Returns 0 when every item succeeded,
 * otherwise the status of the first failing item (by index); EINVAL (NULL
 * pool or fn, NULL args with n > 0 and arg_size > 0, sizes that overflow);
 * EPIPE after close; ENOMEM (nothing submitted then). EPROTO for a chunk
 * whose reply was malformed (a task function that corrupted the worker).
 * Blocks.
 */
PARC_API int parc_procpool_map_elems(parc_procpool_t *pool, parc_proc_map_fn fn,
                                     const void *args, size_t arg_size, size_t n,
                                     void *results, size_t result_size,
                                     int *statuses, size_t chunksize);

/*
 * A shared buffer of `bytes` bytes for parc_procpool_map_elems: memory the
 * caller and the pool's workers map alike (a memfd of its own, zeroed).
 * A map_elems whose results, and items (unless arg_size is 0), lie in one
 * such buffer copies nothing: each worker reads its chunk's items and
 * writes its results in place, and the caller finds them there (items and
 * results in the caller's own arrays cross through the map arena, one
 * memcpy each way, or the sockets: see parc_procpool_map_elems). Fill the
 * items once, map as often as wanted. Each worker maps a buffer at its
 * first chunk in it and keeps one such mapping (a buffer or the arena) at
 * a time, dropping it at its first chunk of another. *out receives the
 * address. Returns 0; EINVAL (NULL pool or out, bytes 0 or huge); ENOMEM;
 * EMFILE/ENFILE (no descriptor for the memfd). Any thread; never blocks
 * but for the system calls.
 */
PARC_API int parc_procpool_buffer(parc_procpool_t *pool, size_t bytes, void **out);

/* Release a buffer from parc_procpool_buffer (the pool frees those left at
 * parc_procpool_free). Not while a map uses it. Returns 0; EINVAL (NULL,
 * or not a buffer of this pool). Any thread; never blocks. */
PARC_API int parc_procpool_buffer_free(parc_procpool_t *pool, void *buf);

/* imap: an iterator over the futures of fn on each argument, in order. */
typedef struct parc_procpool_imap parc_procpool_imap_t;

/* Submit every item (as map) and return an iterator. Returns 0, EINVAL,
 * EPIPE, ENOMEM (nothing submitted then). Never blocks. */
PARC_API int parc_procpool_imap(parc_procpool_t *pool, parc_proc_fn fn,
                                const void *args, size_t arg_size, size_t n,
                                parc_procpool_imap_t **out);

/* Wait for the next item's future, in submission order, and hand it to
 * the caller (*f, complete; release it with parc_procpool_release).
 * Returns 0; EPIPE when every item was handed out; EINVAL. Blocks. */
PARC_API int parc_procpool_imap_next(parc_procpool_imap_t *it,
                                     parc_future_t **f);

/* Free an iterator; futures not yet handed out are released (their tasks
 * still run). NULL is ignored. Never blocks. */
PARC_API void parc_procpool_imap_free(parc_procpool_imap_t *it);

/* A complete task's result bytes: *data (NULL when empty or the task
 * failed) and *len. Valid until the future is released. Returns 0;
 * EAGAIN when not complete; EINVAL when f is not a procpool future. */
PARC_API int parc_procpool_result(parc_future_t *f, const void **data,
                                  size_t *len);

/* When the task's worker died running it (status ECHILD or ETIMEDOUT):
 * its wait status (waitpid's: WIFSIGNALED(*wstatus), WTERMSIG...) and 0.
 * ENOENT when the task did not end with its worker's death (or is not
 * complete); EINVAL when f is not a procpool future. Never blocks. */
PARC_API int parc_procpool_wait_status(parc_future_t *f, int *wstatus);

/* Release a procpool future and its result: call it exactly once per
 * future the pool handed out (submit, imap_next), and do not
 * parc_future_retain/release a procpool future yourself (the result's
 * owner count would not know). Any thread, before or after completion
 * (the task still runs). NULL is ignored. Never blocks. */
PARC_API void parc_procpool_release(parc_future_t *f);

/* Stop accepting tasks (submit says EPIPE); queued tasks still run.
 * Returns 0 or EINVAL. Never blocks. */
PARC_API int parc_procpool_close(parc_procpool_t *pool);

/* Cancel queued tasks and fail running ones with ECANCELED, kill the
 * workers; implies close. Returns 0 or EINVAL. Never blocks (join waits). */
PARC_API int parc_procpool_terminate(parc_procpool_t *pool);

/* Wait until the pool, closed or terminated, has finished every task and
 * its workers are gone. Returns 0; EINVAL (also when the pool is neither
 * closed nor terminated: it would wait forever). Blocks. */
PARC_API int parc_procpool_join(parc_procpool_t *pool);

/* Terminate and join if needed, then free the pool. NULL is ignored. */
PARC_API void parc_procpool_free(parc_procpool_t *pool);

/* Number of worker processes the pool keeps. */
PARC_API unsigned parc_procpool_size(const parc_procpool_t *pool);

/* Copy the pids of the live workers (at most n) into pids; returns how
 * many. For monitoring and for tests that kill workers. Never blocks for
 * long (a short lock). */
PARC_API size_t parc_procpool_pids(parc_procpool_t *pool, pid_t *pids,
                                   size_t n);

/* Workers replaced so far after a death, a timeout or a retirement. */
PARC_API uint64_t parc_procpool_respawns(parc_procpool_t *pool);

PARC_END_DECLS

#endif /* PARC_PROCPOOL_H */
