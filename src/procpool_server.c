/*
 * The process pool's fork server and its workers (see parc/procpool.h and
 * procpool_internal.h for the protocol).
 *
 * The server is one single-threaded process forked from the program early.
 * Its loop polls three kinds of descriptors: the server socket (new pools
 * connect), each pool's conn (SPAWN requests), and a pidfd per worker (it
 * becomes readable when the worker exits). It is the workers' parent, so it
 * alone can reap them: it does, and sends each wait status to the worker's
 * pool. Invariants: every worker it forked is either in `kids` or reaped
 * and reported; a pool whose conn closes has all its workers killed and
 * reaped (unreported: nobody listens); the server exits, killing every
 * worker, when the program's end of the server socket closes (the program
 * exited or died).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parc/procpool.h"
#include "procpool_internal.h"

/* ---- control messages -------------------------------------------------- */

int parc_procpool_ctl_send_(int sock, const struct ctl_msg *m, int fd, int flags)
{
    struct iovec iov = {(void *)m, sizeof *m};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fd >= 0) {
        memset(&u, 0, sizeof u);
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof u.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    for (;;) {
        ssize_t r = sendmsg(sock, &msg, MSG_NOSIGNAL | flags);
        if (r == (ssize_t)sizeof *m)
            return 0;
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? errno : EPROTO;
    }
}

int parc_procpool_ctl_recv_(int sock, struct ctl_msg *m, int *fd)
{
    struct iovec iov = {m, sizeof *m};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    *fd = -1;
    ssize_t r;
    do
        r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return EPIPE;
    if (r < 0)
        return errno == ECONNRESET ? EPIPE : errno;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            memcpy(fd, CMSG_DATA(c), sizeof *fd);
    return r == (ssize_t)sizeof *m ? 0 : EPROTO;
}

/* ---- the worker -------------------------------------------------------- */

/* The latest descriptor that came with a frame (the map arena's memfd:
 * parc_procpool_worker_arena_), or -1. */
static int fd_in = -1;

/* Read n bytes; a descriptor riding on them (SCM_RIGHTS) replaces fd_in.
 * recvmsg throughout: a plain read() would drop (close) it. */
static int read_full(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        struct iovec iov = {p, n};
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } u;
        struct msghdr msg;
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof u.buf;
        ssize_t r = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                if (fd_in >= 0)
                    close(fd_in);
                memcpy(&fd_in, CMSG_DATA(c), sizeof fd_in);
            }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* The arena as this worker maps it. */
static char *arena;
static size_t arena_size;
static uint64_t arena_gen;

char *parc_procpool_worker_arena_(uint64_t gen, size_t size)
{
    if (gen == arena_gen && arena != NULL && size <= arena_size)
        return arena;
    if (fd_in < 0)
        return NULL;
    if (arena != NULL)
        munmap(arena, arena_size);
    arena = NULL;
    /* MAP_POPULATE: the parent's pages are in the memfd already; map them
     * all now rather than fault them in one by one while computing */
    void *a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_in, 0);
    close(fd_in);
    fd_in = -1;
    if (a == MAP_FAILED)
        return NULL;
    arena = a;
    arena_size = size;
    arena_gen = gen;
    return arena;
}

static int write_full(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* The worker's reply buffer (parc_procpool_worker_reply_): kept across
 * tasks, as the argument buffer below is. A map chunk's frames are
 * megabytes; a fresh malloc() for each is a fresh mmap (or a heap glibc
 * trims on free), every page of it faulted in and zeroed again: that was
 * a third of a chunk's cost in the worker. */
static char *reply_buf;
static size_t reply_cap;

void *parc_procpool_worker_reply_(void *keep, size_t n)
{
    if (n <= reply_cap && (keep == NULL || keep == reply_buf))
        return reply_buf;
    if (keep != NULL && keep != reply_buf)
        return NULL;
    char *b = realloc(reply_buf, n);
    if (b == NULL)
        return NULL;
    reply_buf = b;
    reply_cap = n;
    return b;
}

/* A kept buffer that was very large for the last frame is given back to
 * the system when the next one is much smaller. */
static bool oversized(size_t cap, size_t want)
{
    return cap > ((size_t)64 << 20) && want < cap / 8;
}

/* A worker's whole life: frames in, results out, until its socket closes
 * (the pool retired it or is gone). Never returns. */
static void worker_main(int sock, pid_t server)
{
    /* Die with the server; and if it is already gone, now. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != server)
        _exit(1);
    char *arg = NULL;
    size_t arg_cap = 0;
    for (;;) {
        struct task_frame h;
        if (read_full(sock, &h, sizeof h) != 0)
            _exit(0);
        if (h.len > arg_cap || oversized(arg_cap, (size_t)h.len)) {
            free(arg);
            arg_cap = 0;
            if ((arg = malloc((size_t)h.len)) == NULL)
                _exit(126);
            arg_cap = (size_t)h.len;
        }
        if (h.len > 0 && read_full(sock, arg, (size_t)h.len) != 0)
            _exit(0);
        if (h.kind == FRAME_INIT) {
            parc_proc_init_fn init = (parc_proc_init_fn)(uintptr_t)h.fn;
            if (init(h.len > 0 ? arg : NULL, (size_t)h.len) != 0)
                _exit(127);
            continue;
        }
        if (oversized(reply_cap, 0)) {
            free(reply_buf);
            reply_buf = NULL;
            reply_cap = 0;
        }
        parc_proc_fn fn = (parc_proc_fn)(uintptr_t)h.fn;
        void *res = NULL;
        size_t res_len = 0;
        int rc = fn(h.len > 0 ? arg : NULL, (size_t)h.len, &res, &res_len);
        struct result_frame r;
        memset(&r, 0, sizeof r);
        r.status = rc;
        r.len = res != NULL ? res_len : 0;
        if (write_full(sock, &r, sizeof r) != 0 ||
            (r.len > 0 && write_full(sock, res, (size_t)r.len) != 0))
            _exit(0);
        if (res != reply_buf)
            free(res);
    }
}

/* ---- the server -------------------------------------------------------- */

struct kid {
    pid_t pid;
    int pidfd;
    int conn; /* the conn's descriptor */
    uint32_t id;
};

struct server {
    int sock;
    int *conns;
    size_t nconns, capconns;
    struct kid *kids;
    size_t nkids, capkids;
};

static int grow(void **p, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, c * elem);
    if (q == NULL)
        return ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

static int pidfd_open_(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void kill_and_reap(struct server *s, size_t i)
{
    syscall(SYS_pidfd_send_signal, s->kids[i].pidfd, SIGKILL, NULL, 0);
    while (waitpid(s->kids[i].pid, NULL, 0) < 0 && errno == EINTR)
        ;
    close(s->kids[i].pidfd);
    s->kids[i] = s->kids[--s->nkids];
}

static void spawn(struct server *s, int conn, uint32_t id, int wsock)
{
    struct ctl_msg m = {CTL_SPAWNED, id, 0, 0};
    if (grow((void **)&s->kids, &s->capkids, s->nkids, sizeof *s->kids) != 0) {
        m.pid = -ENOMEM;
        close(wsock);
        parc_procpool_ctl_send_(conn, &m, -1, MSG_DONTWAIT);
        return;
    }
    pid_t server = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* The worker keeps only its own socket of the server's. */
        close(s->sock);
        for (size_t i = 0; i < s->nconns; i++)
            close(s->conns[i]);
        for (size_t i = 0; i < s->nkids; i++)
            close(s->kids[i].pidfd);
        worker_main(wsock, server);
    }
    int err = errno;
    close(wsock);
    int pidfd = pid > 0 ? pidfd_open_(pid) : -1;
    if (pid > 0 && pidfd < 0) {
        err = errno;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        pid = -1;
    }
    if (pid < 0) {
        m.pid = -err;
        parc_procpool_ctl_send_(conn, &m, -1, MSG_DONTWAIT);
        return;
    }
    s->kids[s->nkids++] = (struct kid){pid, pidfd, conn, id};
    m.pid = pid;
    parc_procpool_ctl_send_(conn, &m, pidfd, MSG_DONTWAIT);
}

static void reap(struct server *s, size_t i)
{
    int st = 0;
    while (waitpid(s->kids[i].pid, &st, 0) < 0 && errno == EINTR)
        ;
    struct ctl_msg m = {CTL_EXITED, s->kids[i].id, s->kids[i].pid, st};
    parc_procpool_ctl_send_(s->kids[i].conn, &m, -1, MSG_DONTWAIT);
    close(s->kids[i].pidfd);
    s->kids[i] = s->kids[--s->nkids];
}

static void drop_conn(struct server *s, size_t c)
{
    int fd = s->conns[c];
    for (size_t i = 0; i < s->nkids;)
        if (s->kids[i].conn == fd)
            kill_and_reap(s, i);
        else
            i++;
    close(fd);
    s->conns[c] = s->conns[--s->nconns];
}

static void serve_conn(struct server *s, size_t c)
{
    struct ctl_msg m;
    int fd;
    int rc = parc_procpool_ctl_recv_(s->conns[c], &m, &fd);
    if (rc != 0) {
        if (fd >= 0)
            close(fd);
        drop_conn(s, c);
        return;
    }
    if (m.kind == CTL_SPAWN && fd >= 0)
        spawn(s, s->conns[c], m.id, fd);
    else if (fd >= 0)
        close(fd);
}

static void serve_new_pool(struct server *s)
{
    struct ctl_msg m;
    int fd;
    int rc = parc_procpool_ctl_recv_(s->sock, &m, &fd);
    if (rc != 0) { /* the program is gone: so are its workers */
        while (s->nkids > 0)
            kill_and_reap(s, 0);
        _exit(0);
    }
    if (fd < 0)
        return;
    if (m.kind != CTL_CONNECT ||
        grow((void **)&s->conns, &s->capconns, s->nconns, sizeof *s->conns) != 0) {
        close(fd);
        return;
    }
    s->conns[s->nconns++] = fd;
}

static void server_main(int sock)
{
    struct server s = {sock, NULL, 0, 0, NULL, 0, 0};
    struct pollfd *pfd = NULL;
    size_t cap = 0;
    prctl(PR_SET_NAME, "parc-forksrv");
    for (;;) {
        size_t n = 1 + s.nconns + s.nkids;
        if (n > cap) {
            struct pollfd *q = realloc(pfd, n * 2 * sizeof *pfd);
            if (q == NULL) {
                sleep(1);
                continue;
            }
            pfd = q;
            cap = n * 2;
        }
        pfd[0] = (struct pollfd){sock, POLLIN, 0};
        for (size_t i = 0; i < s.nconns; i++)
            pfd[1 + i] = (struct pollfd){s.conns[i], POLLIN, 0};
        for (size_t i = 0; i < s.nkids; i++)
            pfd[1 + s.nconns + i] = (struct pollfd){s.kids[i].pidfd, POLLIN, 0};
        size_t nconns = s.nconns, nkids = s.nkids;
        if (poll(pfd, n, -1) < 0)
            continue;
        /* Exits first (a kid's conn may go next), from the back so the
         * swap-removal keeps the unvisited indices valid. */
        for (size_t i = nkids; i-- > 0;)
            if (pfd[1 + nconns + i].revents)
                reap(&s, i);
        for (size_t i = nconns; i-- > 0;)
            if (pfd[1 + i].revents)
                serve_conn(&s, i);
        if (pfd[0].revents)
            serve_new_pool(&s);
    }
}

/* ---- starting it ------------------------------------------------------- */

static pthread_mutex_t server_lock = PTHREAD_MUTEX_INITIALIZER;
static int server_sock = -1;
static pid_t server_owner; /* the process that started it (not a fork of it) */

static int start_locked(void)
{
    if (server_sock >= 0 && server_owner == getpid())
        return 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return e;
    }
    if (pid == 0) {
        close(sv[0]);
        /* A SIGCHLD handler or SIG_IGN inherited from the program would
         * reap our workers behind waitpid's back. */
        signal(SIGCHLD, SIG_DFL);
        server_main(sv[1]);
        _exit(0);
    }
    close(sv[1]);
    server_sock = sv[0];
    server_owner = getpid();
    return 0;
}

int parc_procpool_forkserver_start(void)
{
    pthread_mutex_lock(&server_lock);
    int rc = start_locked();
    pthread_mutex_unlock(&server_lock);
    return rc;
}

int parc_procpool_server_socket_(int *err)
{
    pthread_mutex_lock(&server_lock);
    *err = start_locked();
    int s = *err == 0 ? server_sock : -1;
    pthread_mutex_unlock(&server_lock);
    return s;
}
