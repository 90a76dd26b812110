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

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

#endif
