/*
 * src/procpool_internal.h — what the process pool's dispatcher
 * (procpool.c) and its fork server and workers (procpool_server.c) say to
 * each other.
 *
 * Sockets:
 *   server socket  SOCK_SEQPACKET, one per process (the fork server's
 *                  first): CONNECT messages, each carrying a new pool's
 *                  connection socket (SCM_RIGHTS).
 *   pool conn      SOCK_SEQPACKET, one per pool: SPAWN (pool -> server,
 *                  carrying the worker's socket end), SPAWNED (carrying
 *                  the worker's pidfd), EXITED (its wait status). The
 *                  server kills a pool's workers when its conn closes.
 *   worker socket  SOCK_STREAM, one per worker: frames both ways, a
 *                  header and then `len` bytes.
 */
#ifndef PARC_SRC_PROCPOOL_INTERNAL_H
#define PARC_SRC_PROCPOOL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "parc/procpool.h"
#include "parc/time.h"

enum ctl_kind { CTL_CONNECT = 1, CTL_SPAWN, CTL_SPAWNED, CTL_EXITED };

struct ctl_msg {
    uint32_t kind;    /* enum ctl_kind */
    uint32_t id;      /* the pool's serial number of the worker */
    int32_t pid;      /* SPAWNED: pid, or -errno when the fork failed */
    int32_t wstatus;  /* EXITED: waitpid's status */
};

enum frame_kind { FRAME_INIT = 1, FRAME_TASK };

/* pool -> worker */
struct task_frame {
    uint32_t kind;   /* enum frame_kind */
    uint32_t unused;
    uint64_t fn;     /* the function's address (same image: see procpool.h) */
    uint64_t len;    /* argument bytes that follow */
};

/* worker -> pool */
struct result_frame {
    int32_t status;  /* the task's return value */
    uint32_t unused;
    uint64_t len;    /* result bytes that follow */
};

/* Send a control message with an optional file descriptor (fd < 0: none);
 * flags: 0, or MSG_DONTWAIT (the server, which must never block on a pool
 * that stopped reading). Returns 0 or an errno. */
int parc_procpool_ctl_send_(int sock, const struct ctl_msg *m, int fd, int flags);

/* Receive one; *fd gets the descriptor it carried, or -1. Returns 0, EPIPE
 * at end of stream, or an errno. */
int parc_procpool_ctl_recv_(int sock, struct ctl_msg *m, int *fd);

/* The process-wide server socket (the pool's end), starting the server if
 * needed; -1 with *err set when it could not be started. */
int parc_procpool_server_socket_(int *err);

/* ---- the pool's state (procpool.c runs it, procpool_api.c fronts it) -- */

#define TASK_MAGIC 0x70707431u /* "ppt1" */

struct task {
    parc_future_t future; /* first: parc_future_init_heap frees the block */
    uint32_t magic;
    bool died;            /* its worker died running it: wstatus valid */
    int wstatus;
    parc_proc_fn fn;
    char *frame;          /* owned until sent: room for the task_frame
                           * header, then the arg_len argument bytes, so
                           * the dispatcher sends it as is, uncopied */
    size_t arg_len;
    /* Borrowed from the submitter, who keeps them alive until the task is
     * finished (a map waits for every chunk it submitted): ext_len more
     * argument bytes sent after the frame's own, straight from the
     * caller's array, and dst, where the first dst_len bytes of a
     * successful reply are received, straight into the caller's results.
     * The dispatcher touches them only while the task is unfinished: a
     * reply is whole only after the worker read the whole frame, and a
     * dead worker's slot (its unsent bytes) is cleared before, or in the
     * same dispatcher turn as, its task is failed. */
    const char *ext;
    size_t ext_len;
    char *dst;
    size_t dst_len;
    size_t placed;        /* bytes of the reply that went to dst */
    int pass_fd;          /* borrowed; sent with the frame (SCM_RIGHTS):
                           * the map arena's memfd, or -1 */
    void *result;         /* freed by the last of its two owners */
    size_t result_len;
    parc_atomic(uint32_t) owners; /* the caller and the pool: 2, then 1, 0 */
    struct task *next;    /* queue link */
};

enum slot_state { EMPTY, STARTING, IDLE, BUSY, GONE };

struct slot {
    enum slot_state state;
    uint32_t id;
    pid_t pid;
    int pidfd;
    int sock;
    struct task *task;
    parc_deadline_t deadline;
    bool killed;          /* we sent SIGKILL for the deadline */
    unsigned tasks_done;
    /* outgoing frame, then its task's borrowed bytes (ext), and how much
     * of the two went out */
    char *out;
    size_t out_len, out_off;
    const char *ext;
    size_t ext_len;
    int out_fd;           /* sent with the next bytes that go out, or -1 */
    /* incoming result: header, then bytes */
    struct result_frame hdr;
    size_t hdr_off;
    char *in;
    size_t in_off;
    size_t in_dst;        /* the first in_dst bytes go to the task's dst */
};

struct parc_procpool {
    parc_procpool_options_t opt;
    void *initarg;
    unsigned nslots;
    struct slot *slots;
    uint32_t next_id;
    int conn;             /* to the fork server */
    int wake;             /* eventfd */
    pthread_t thread;
    bool joined;

    pthread_mutex_t lock; /* guards what follows */
    struct task *head, *tail;
    bool closed, terminating, server_lost;
    pid_t *pids;          /* snapshot for parc_procpool_pids */
    uint64_t respawns;

    /* The map arena (procpool_map.c): a memfd mapped here and, from its
     * first chunk on, in each worker, so that map_elems' items and results
     * cross by memcpy instead of through the sockets. One map at a time
     * holds it (a concurrent map takes the socket path). */
    pthread_mutex_t arena_lock;
    int arena_fd;         /* -1: none yet */
    char *arena;
    size_t arena_cap;
    uint64_t arena_gen;   /* 1, 2...: a new memfd each time it grows */

    /* Shared buffers (parc_procpool_buffer): each a memfd of its own,
     * mapped here and, from the first chunk that uses it, in the workers
     * (the arena's worker-side mapping, under a generation number of its
     * own: BUFFER_GEN_BIT | serial). */
    pthread_mutex_t buf_lock; /* guards the list and the serial */
    struct pool_buffer *buffers;
    uint64_t buf_serial;
};

/* A shared buffer of a pool. */
struct pool_buffer {
    char *base;
    size_t size;
    int fd;
    uint64_t gen;
    struct pool_buffer *next;
};

/* Buffer generations have this bit; the arena's never reach it. */
#define BUFFER_GEN_BIT ((uint64_t)1 << 63)

/* Release every shared buffer (parc_procpool_free). */
void parc_procpool_buffers_free_(parc_procpool_t *p);

/* procpool_buffer.c: the shared buffer holding [a, a + len) whole, copied
 * into *out (its fd stays open while the caller's map runs: freeing a
 * buffer a map uses is the caller's error, parc/procpool.h). false: none. */
bool parc_procpool_buffer_of_(parc_procpool_t *p, const void *a, size_t len,
                              struct pool_buffer *out);

/* [a, a + len) lies within b (addresses compared as integers: they may
 * belong to unrelated objects). */
static inline bool parc_procpool_within_(const struct pool_buffer *b, const void *a,
                                         size_t len)
{
    uintptr_t x = (uintptr_t)a, lo = (uintptr_t)b->base;
    return x >= lo && x - lo <= b->size && len <= b->size - (x - lo);
}

/* A task's frame buffer: sizeof(struct task_frame) bytes of header room,
 * then arg_len bytes for the argument (at + sizeof(struct task_frame)).
 * NULL when out of memory. */
char *parc_procpool_frame_alloc_(size_t arg_len);

/* parc_procpool_submit, handing over a frame from
 * parc_procpool_frame_alloc_ whose argument is written (no copy): the pool
 * owns it from the call on, also when it fails. Same returns. */
int parc_procpool_submit_frame_(parc_procpool_t *p, parc_proc_fn fn, char *frame,
                                size_t arg_len, parc_future_t **out);

/* The same with borrowed bytes (see struct task's ext and dst): the task's
 * argument is the frame's arg_len bytes then ext[0..ext_len); a
 * successful reply of at least dst_len bytes has its first dst_len bytes
 * received into dst, and parc_procpool_result then gives only the rest
 * (parc_procpool_placed_ says how many went to dst: 0 or dst_len). The
 * caller must wait for the future before ext and dst go away. */
int parc_procpool_submit_ext_(parc_procpool_t *p, parc_proc_fn fn, char *frame,
                              size_t arg_len, const void *ext, size_t ext_len,
                              void *dst, size_t dst_len, parc_future_t **out);

/* How many bytes of a complete task's reply went to its dst. */
size_t parc_procpool_placed_(parc_future_t *f);

/* The same as parc_procpool_submit_frame_, sending fd (borrowed: kept
 * open until the task is finished) with the frame. */
int parc_procpool_submit_fd_(parc_procpool_t *p, parc_proc_fn fn, char *frame,
                             size_t arg_len, int fd, parc_future_t **out);

/* In a worker only: the map arena of generation gen and `size` bytes,
 * mapped from the memfd that came with the frame (or kept from an earlier
 * one of the same generation). NULL when it cannot be had. */
char *parc_procpool_worker_arena_(uint64_t gen, size_t size);

/* procpool_buffer.c: the map arena of at least `bytes` (the caller holds
 * arena_lock); a larger one is a new memfd, a new generation. Returns 0
 * or an errno. */
int parc_procpool_arena_reserve_(parc_procpool_t *p, size_t bytes);

/* Release the pool's map arena (parc_procpool_free). */
void parc_procpool_arena_free_(parc_procpool_t *p);

/* In a worker only (a library task such as a map chunk runner): a reply
 * buffer of at least n bytes that the worker keeps across tasks and does
 * not free after sending it; set *result to it. keep: NULL for a fresh
 * request (contents undefined), or the buffer returned before, to grow it
 * keeping its contents. NULL when out of memory. */
void *parc_procpool_worker_reply_(void *keep, size_t n);

/* The dispatcher thread's body (procpool.c). */
void *parc_procpool_dispatch_(void *pool);

/* Wake the dispatcher (a write to its eventfd). */
void parc_procpool_wake_(parc_procpool_t *p);

/* One of a task's two owners (the caller, the pool) lets go of it; the
 * last frees its result; each drops its future reference. */
void parc_procpool_let_go_(struct task *t);

#endif
