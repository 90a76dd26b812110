/*
 * The process pool's dispatcher (see parc/procpool.h).
 *
 * One thread per pool owns every worker slot; callers touch only the task
 * queue, under `lock`, and wake the dispatcher through an eventfd. Each
 * loop turn it polls the eventfd, the pool's conn to the fork server, and
 * every worker socket, then: takes the server's news (SPAWNED: a worker is
 * ready; EXITED: a worker died, which fails the task it held), moves bytes
 * on the worker sockets (non-blocking, so a stopped worker can delay only
 * its own task), kills workers past their task's deadline, hands queued
 * tasks to idle workers and starts replacements for the slots that
 * emptied.
 *
 * A slot's life:
 *
 *     EMPTY --SPAWN sent--> STARTING --SPAWNED--> IDLE <--result-- BUSY
 *                                                   \--task sent-->/
 *     any but EMPTY --EXITED--> EMPTY (the task it held fails)
 *     BUSY --socket EOF--> GONE --EXITED--> EMPTY
 *
 * Invariants: a task is in exactly one place -- the queue, one BUSY/GONE
 * slot, or completed; the task a slot holds is completed exactly once
 * (by its result, or by its worker's EXITED); EXITED is what decides a
 * dead worker's task, because only it carries the cause.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "parc/procpool.h"
#include "parc/time.h"
#include "procpool_internal.h"

#define TASK_MAGIC 0x70707431u /* "ppt1" */

struct task {
    parc_future_t future; /* first: parc_future_init_heap frees the block */
    uint32_t magic;
    bool died;            /* its worker died running it: wstatus valid */
    int wstatus;
    parc_proc_fn fn;
    void *arg;            /* owned until sent */
    size_t arg_len;
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
    /* outgoing frame and how much of it went out */
    char *out;
    size_t out_len, out_off;
    /* incoming result: header, then bytes */
    struct result_frame hdr;
    size_t hdr_off;
    char *in;
    size_t in_off;
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
};

static void wake(parc_procpool_t *p)
{
    uint64_t one = 1;
    ssize_t r = write(p->wake, &one, sizeof one);
    (void)r; /* a full counter already means "wake up" */
}

/* ---- completing tasks ------------------------------------------------- */

/* One owner (the caller or the pool) lets go of the task; the last one
 * frees the result, then each drops its future reference (whose last one
 * frees the block). The future's own count cannot do it: its last release
 * calls free() on the block alone. */
static void let_go(struct task *t)
{
    /* acq_rel: each owner's use of the result happens before its
     * decrement; the last one acquires all of them before freeing. */
    if (parc_fas(&t->owners, 1u, PARC_ACQ_REL) == 1u) {
        free(t->result);
        t->result = NULL;
    }
    parc_future_release(&t->future);
}

static void finish(struct task *t, int status, bool died, int wstatus)
{
    t->died = died;
    t->wstatus = wstatus;
    free(t->arg);
    t->arg = NULL;
    if (status == ECANCELED)
        parc_future_cancel(&t->future);
    else
        parc_future_complete(&t->future, status, status == 0 ? t->result : NULL);
    let_go(t); /* the pool's share */
}

/* ---- slots ------------------------------------------------------------ */

static void publish_pid(parc_procpool_t *p, struct slot *s, pid_t pid)
{
    pthread_mutex_lock(&p->lock);
    p->pids[s - p->slots] = pid;
    pthread_mutex_unlock(&p->lock);
}

static void clear_slot(parc_procpool_t *p, struct slot *s)
{
    if (s->sock >= 0)
        close(s->sock);
    if (s->pidfd >= 0)
        close(s->pidfd);
    free(s->out);
    free(s->in);
    publish_pid(p, s, 0);
    memset(s, 0, sizeof *s);
    s->state = EMPTY;
    s->sock = -1;
    s->pidfd = -1;
}

static void start_worker(parc_procpool_t *p, struct slot *s)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return; /* retried on a later turn */
    struct ctl_msg m = {CTL_SPAWN, ++p->next_id, 0, 0};
    if (parc_procpool_ctl_send_(p->conn, &m, sv[1], 0) != 0) {
        close(sv[0]);
        close(sv[1]);
        return;
    }
    close(sv[1]);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    s->state = STARTING;
    s->id = m.id;
    s->sock = sv[0];
    if (p->opt.initializer != NULL) {
        /* The initializer's frame goes first; the worker runs it before
         * reading its first task. */
        struct task_frame h = {FRAME_INIT, 0, (uint64_t)(uintptr_t)p->opt.initializer,
                               p->opt.initarg_len};
        s->out = malloc(sizeof h + p->opt.initarg_len);
        if (s->out != NULL) {
            memcpy(s->out, &h, sizeof h);
            if (p->opt.initarg_len > 0)
                memcpy(s->out + sizeof h, p->initarg, p->opt.initarg_len);
            s->out_len = sizeof h + p->opt.initarg_len;
        }
    }
}

static struct slot *slot_by_id(parc_procpool_t *p, uint32_t id)
{
    for (unsigned i = 0; i < p->nslots; i++)
        if (p->slots[i].state != EMPTY && p->slots[i].id == id)
            return &p->slots[i];
    return NULL;
}

/* A worker exited (EXITED from the server): fail its task, free the slot. */
static void worker_exited(parc_procpool_t *p, struct slot *s, int wstatus)
{
    if (s->task != NULL)
        finish(s->task, s->killed ? ETIMEDOUT : ECHILD, true, wstatus);
    s->task = NULL;
    clear_slot(p, s);
    pthread_mutex_lock(&p->lock);
    p->respawns++;
    pthread_mutex_unlock(&p->lock);
}

/* The worker's socket closed or broke: stop polling it; EXITED decides. */
static void worker_gone(struct slot *s)
{
    close(s->sock);
    s->sock = -1;
    s->state = GONE;
}

static void retire(parc_procpool_t *p, struct slot *s)
{
    /* Closing its socket makes it exit normally; its EXITED finds no slot
     * with its id and is ignored. The pidfd dies with the slot. */
    clear_slot(p, s);
    pthread_mutex_lock(&p->lock);
    p->respawns++;
    pthread_mutex_unlock(&p->lock);
}

static void assign(parc_procpool_t *p, struct slot *s, struct task *t)
{
    struct task_frame h = {FRAME_TASK, 0, (uint64_t)(uintptr_t)t->fn, t->arg_len};
    size_t n = sizeof h + t->arg_len;
    char *buf = realloc(s->out, s->out_len - s->out_off + n);
    if (buf == NULL) {
        finish(t, ENOMEM, false, 0);
        return;
    }
    /* keep what was not sent yet (an initializer's frame), then ours */
    memmove(buf, buf + s->out_off, s->out_len - s->out_off);
    s->out_len -= s->out_off;
    s->out_off = 0;
    memcpy(buf + s->out_len, &h, sizeof h);
    if (t->arg_len > 0)
        memcpy(buf + s->out_len + sizeof h, t->arg, t->arg_len);
    s->out = buf;
    s->out_len += n;
    free(t->arg);
    t->arg = NULL;
    s->task = t;
    s->state = BUSY;
    s->killed = false;
    s->deadline = PARC_FOREVER;
    if (p->opt.task_timeout_ns > 0)
        parc_deadline_in(&s->deadline, p->opt.task_timeout_ns);
}

static void pump_out(struct slot *s)
{
    while (s->out_off < s->out_len) {
        ssize_t r = send(s->sock, s->out + s->out_off, s->out_len - s->out_off,
                         MSG_NOSIGNAL);
        if (r > 0) {
            s->out_off += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        worker_gone(s);
        return;
    }
    free(s->out);
    s->out = NULL;
    s->out_len = s->out_off = 0;
}

/* Read what the worker sent; complete its task when the result is whole. */
static void pump_in(parc_procpool_t *p, struct slot *s)
{
    for (;;) {
        char *dst;
        size_t want;
        if (s->hdr_off < sizeof s->hdr) {
            dst = (char *)&s->hdr + s->hdr_off;
            want = sizeof s->hdr - s->hdr_off;
        } else {
            dst = s->in + s->in_off;
            want = (size_t)s->hdr.len - s->in_off;
        }
        ssize_t r = want > 0 ? recv(s->sock, dst, want, 0) : 0;
        if (want > 0 && r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return;
            worker_gone(s);
            return;
        }
        if (s->hdr_off < sizeof s->hdr) {
            s->hdr_off += (size_t)r;
            if (s->hdr_off < sizeof s->hdr)
                continue;
            if (s->task == NULL) { /* a frame nobody asked for */
                worker_gone(s);
                return;
            }
            if (s->hdr.len > 0 && (s->in = malloc((size_t)s->hdr.len)) == NULL) {
                worker_gone(s);
                return;
            }
        } else {
            s->in_off += (size_t)r;
        }
        if (s->hdr_off == sizeof s->hdr && s->in_off == s->hdr.len) {
            struct task *t = s->task;
            t->result = s->in;
            t->result_len = (size_t)s->hdr.len;
            s->in = NULL;
            s->in_off = s->hdr_off = 0;
            s->task = NULL;
            s->state = IDLE;
            finish(t, s->hdr.status, false, 0);
            if (p->opt.max_tasks_per_child > 0 &&
                ++s->tasks_done >= p->opt.max_tasks_per_child) {
                retire(p, s);
                return;
            }
        }
    }
}

/* ---- the dispatcher --------------------------------------------------- */

static void server_news(parc_procpool_t *p)
{
    struct ctl_msg m;
    int fd;
    int rc = parc_procpool_ctl_recv_(p->conn, &m, &fd);
    if (rc == EAGAIN || rc == EWOULDBLOCK)
        return;
    if (rc != 0) {
        pthread_mutex_lock(&p->lock);
        p->server_lost = true;
        pthread_mutex_unlock(&p->lock);
        return;
    }
    struct slot *s = slot_by_id(p, m.id);
    if (m.kind == CTL_SPAWNED && s != NULL && s->state == STARTING) {
        if (m.pid <= 0) {
            clear_slot(p, s); /* the fork failed: retried next turn */
        } else {
            s->pid = m.pid;
            s->pidfd = fd;
            fd = -1;
            s->state = IDLE;
            publish_pid(p, s, m.pid);
        }
    } else if (m.kind == CTL_EXITED && s != NULL) {
        worker_exited(p, s, m.wstatus);
    }
    if (fd >= 0)
        close(fd);
}

static struct task *take_task(parc_procpool_t *p)
{
    struct task *t = p->head;
    if (t != NULL) {
        p->head = t->next;
        if (p->head == NULL)
            p->tail = NULL;
    }
    return t;
}

/* terminate, or the server is gone: fail everything, queued and running. */
static void fail_all(parc_procpool_t *p, int status)
{
    pthread_mutex_lock(&p->lock);
    struct task *q = p->head;
    p->head = p->tail = NULL;
    pthread_mutex_unlock(&p->lock);
    while (q != NULL) {
        struct task *t = q;
        q = q->next;
        finish(t, status, false, 0);
    }
    for (unsigned i = 0; i < p->nslots; i++) {
        struct slot *s = &p->slots[i];
        if (s->task != NULL)
            finish(s->task, status, false, 0);
        s->task = NULL;
        if (s->pidfd >= 0)
            syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
        if (s->state != EMPTY)
            clear_slot(p, s);
    }
}

static void *dispatcher(void *arg)
{
    parc_procpool_t *p = arg;
    struct pollfd *pfd = calloc(2 + p->nslots, sizeof *pfd);
    if (pfd == NULL) {
        fail_all(p, ENOMEM);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&p->lock);
        bool terminating = p->terminating, lost = p->server_lost;
        bool closed = p->closed, queued = p->head != NULL;
        pthread_mutex_unlock(&p->lock);
        if (terminating || lost) {
            fail_all(p, terminating ? ECANCELED : EPIPE);
            if (lost) { /* nothing more will run: keep failing submissions */
                pthread_mutex_lock(&p->lock);
                p->closed = true;
                pthread_mutex_unlock(&p->lock);
            }
            break;
        }
        bool busy = false;
        for (unsigned i = 0; i < p->nslots; i++)
            busy |= p->slots[i].state == BUSY || p->slots[i].state == GONE;
        if (closed && !queued && !busy)
            break;
        /* Hand out work, and refill empty slots unless we are winding down. */
        for (unsigned i = 0; i < p->nslots; i++) {
            struct slot *s = &p->slots[i];
            if (s->state == EMPTY && !closed)
                start_worker(p, s);
            if (s->state == EMPTY && closed && queued)
                start_worker(p, s); /* queued work still needs hands */
            if (s->state == IDLE) {
                pthread_mutex_lock(&p->lock);
                struct task *t = take_task(p);
                pthread_mutex_unlock(&p->lock);
                if (t != NULL)
                    assign(p, s, t);
            }
            if (s->out_len > s->out_off && s->sock >= 0)
                pump_out(s);
        }
        /* Poll; time out at the nearest task deadline. */
        parc_deadline_t soonest = PARC_FOREVER;
        pfd[0] = (struct pollfd){p->wake, POLLIN, 0};
        pfd[1] = (struct pollfd){p->conn, POLLIN, 0};
        for (unsigned i = 0; i < p->nslots; i++) {
            struct slot *s = &p->slots[i];
            short ev = 0;
            if (s->sock >= 0 && s->state != EMPTY)
                ev = (short)(POLLIN | (s->out_len > s->out_off ? POLLOUT : 0));
            pfd[2 + i] = (struct pollfd){ev ? s->sock : -1, ev, 0};
            if (s->state == BUSY && !s->killed && s->deadline < soonest)
                soonest = s->deadline;
        }
        int timeout = -1;
        if (soonest != PARC_FOREVER) {
            int64_t left = soonest - parc_now_ns();
            timeout = left <= 0 ? 0 : (int)(left / PARC_NS_PER_MS + 1);
        }
        if (poll(pfd, 2 + p->nslots, timeout) < 0 && errno != EINTR)
            continue;
        if (pfd[0].revents) {
            uint64_t v;
            ssize_t r = read(p->wake, &v, sizeof v);
            (void)r;
        }
        for (unsigned i = 0; i < p->nslots; i++) {
            struct slot *s = &p->slots[i];
            if (pfd[2 + i].revents & POLLOUT)
                pump_out(s);
            if ((pfd[2 + i].revents & (POLLIN | POLLHUP | POLLERR)) && s->sock >= 0)
                pump_in(p, s);
        }
        if (pfd[1].revents)
            server_news(p);
        parc_deadline_t now = parc_now_ns();
        for (unsigned i = 0; i < p->nslots; i++) {
            struct slot *s = &p->slots[i];
            if (s->state == BUSY && !s->killed && s->deadline <= now &&
                s->pidfd >= 0) {
                syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
                s->killed = true; /* its EXITED fails the task: ETIMEDOUT */
            }
        }
    }
    /* Wound down: closing the worker sockets lets idle workers exit;
     * closing the conn makes the server kill and reap any left. */
    for (unsigned i = 0; i < p->nslots; i++)
        if (p->slots[i].state != EMPTY)
            clear_slot(p, &p->slots[i]);
    free(pfd);
    return NULL;
}

/* ---- the API ---------------------------------------------------------- */

int parc_procpool_create(const parc_procpool_options_t *options,
                         parc_procpool_t **out)
{
    parc_procpool_options_t o = PARC_PROCPOOL_OPTIONS_INIT;
    if (options != NULL)
        o = *options;
    if (out == NULL || o.task_timeout_ns < 0 ||
        (o.initarg_len > 0 && o.initarg == NULL))
        return EINVAL;
    if (o.workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o.workers = n > 0 ? (unsigned)n : 1u;
    }
    int err;
    int server = parc_procpool_server_socket_(&err);
    if (server < 0)
        return err == ENOMEM ? ENOMEM : EAGAIN;
    parc_procpool_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return ENOMEM;
    p->opt = o;
    p->nslots = o.workers;
    p->slots = calloc(o.workers, sizeof *p->slots);
    p->pids = calloc(o.workers, sizeof *p->pids);
    p->initarg = o.initarg_len > 0 ? malloc(o.initarg_len) : NULL;
    p->conn = p->wake = -1;
    int rc = ENOMEM;
    if (p->slots == NULL || p->pids == NULL || (o.initarg_len > 0 && p->initarg == NULL))
        goto fail;
    if (o.initarg_len > 0)
        memcpy(p->initarg, o.initarg, o.initarg_len);
    for (unsigned i = 0; i < p->nslots; i++) {
        p->slots[i].state = EMPTY;
        p->slots[i].sock = p->slots[i].pidfd = -1;
    }
    pthread_mutex_init(&p->lock, NULL);
    int sv[2];
    rc = EAGAIN;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        goto fail_lock;
    struct ctl_msg m = {CTL_CONNECT, 0, 0, 0};
    if (parc_procpool_ctl_send_(server, &m, sv[1], 0) != 0) {
        close(sv[0]);
        close(sv[1]);
        goto fail_lock;
    }
    close(sv[1]);
    p->conn = sv[0];
    p->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (p->wake < 0)
        goto fail_lock;
    if (pthread_create(&p->thread, NULL, dispatcher, p) != 0)
        goto fail_lock;
    *out = p;
    return 0;
fail_lock:
    pthread_mutex_destroy(&p->lock);
    if (p->conn >= 0)
        close(p->conn);
    if (p->wake >= 0)
        close(p->wake);
fail:
    free(p->initarg);
    free(p->pids);
    free(p->slots);
    free(p);
    return rc;
}

static struct task *as_task(parc_future_t *f)
{
    struct task *t = (struct task *)f;
    return f != NULL && t->magic == TASK_MAGIC ? t : NULL;
}

static int make_task(parc_proc_fn fn, const void *arg, size_t arg_len,
                     struct task **out)
{
    struct task *t = malloc(sizeof *t);
    if (t == NULL)
        return ENOMEM;
    parc_future_init_heap(&t->future, NULL, NULL);
    t->magic = TASK_MAGIC;
    t->died = false;
    t->wstatus = 0;
    t->fn = fn;
    t->arg = NULL;
    t->arg_len = arg_len;
    t->result = NULL;
    t->result_len = 0;
    parc_atomic_init(&t->owners, 2u);
    t->next = NULL;
    if (arg_len > 0) {
        if ((t->arg = malloc(arg_len)) == NULL) {
            free(t);
            return ENOMEM;
        }
        memcpy(t->arg, arg, arg_len);
    }
    *out = t;
    return 0;
}

int parc_procpool_submit(parc_procpool_t *p, parc_proc_fn fn, const void *arg,
                         size_t arg_len, parc_future_t **out)
{
    if (p == NULL || fn == NULL || out == NULL || (arg == NULL && arg_len > 0))
        return EINVAL;
    struct task *t;
    int rc = make_task(fn, arg, arg_len, &t);
    if (rc != 0)
        return rc;
    parc_future_retain(&t->future); /* the pool's reference */
    pthread_mutex_lock(&p->lock);
    if (p->closed) {
        pthread_mutex_unlock(&p->lock);
        free(t->arg);
        t->arg = NULL;
        let_go(t);
        let_go(t);
        return EPIPE;
    }
    if (p->tail != NULL)
        p->tail->next = t;
    else
        p->head = t;
    p->tail = t;
    pthread_mutex_unlock(&p->lock);
    wake(p);
    *out = &t->future;
    return 0;
}

int parc_procpool_apply(parc_procpool_t *p, parc_proc_fn fn, const void *arg,
                        size_t arg_len, void **result, size_t *result_len)
{
    parc_future_t *f;
    int rc = parc_procpool_submit(p, fn, arg, arg_len, &f);
    if (rc != 0)
        return rc;
    rc = parc_future_get(f, NULL);
    struct task *t = as_task(f);
    if (result != NULL) {
        *result = rc == 0 ? t->result : NULL;
        if (rc == 0)
            t->result = NULL; /* handed to the caller */
    }
    if (result_len != NULL)
        *result_len = rc == 0 ? t->result_len : 0;
    parc_procpool_release(f);
    return rc;
}

int parc_procpool_result(parc_future_t *f, const void **data, size_t *len)
{
    struct task *t = as_task(f);
    if (t == NULL || data == NULL || len == NULL)
        return EINVAL;
    if (!parc_future_is_done(f)) /* acquire: the result is visible after */
        return EAGAIN;
    bool ok = parc_future_get_try(f, NULL) == 0;
    *data = ok ? t->result : NULL;
    *len = ok ? t->result_len : 0;
    return 0;
}

int parc_procpool_wait_status(parc_future_t *f, int *wstatus)
{
    struct task *t = as_task(f);
    if (t == NULL || wstatus == NULL)
        return EINVAL;
    if (!parc_future_is_done(f) || !t->died)
        return ENOENT;
    *wstatus = t->wstatus;
    return 0;
}

void parc_procpool_release(parc_future_t *f)
{
    struct task *t = as_task(f);
    if (t != NULL)
        let_go(t);
}

int parc_procpool_close(parc_procpool_t *p)
{
    if (p == NULL)
        return EINVAL;
    pthread_mutex_lock(&p->lock);
    p->closed = true;
    pthread_mutex_unlock(&p->lock);
    wake(p);
    return 0;
}

int parc_procpool_terminate(parc_procpool_t *p)
{
    if (p == NULL)
        return EINVAL;
    pthread_mutex_lock(&p->lock);
    p->closed = true;
    p->terminating = true;
    pthread_mutex_unlock(&p->lock);
    wake(p);
    return 0;
}

int parc_procpool_join(parc_procpool_t *p)
{
    if (p == NULL)
        return EINVAL;
    pthread_mutex_lock(&p->lock);
    bool closed = p->closed;
    pthread_mutex_unlock(&p->lock);
    if (!closed)
        return EINVAL;
    if (!p->joined) {
        pthread_join(p->thread, NULL);
        p->joined = true;
    }
    return 0;
}

void parc_procpool_free(parc_procpool_t *p)
{
    if (p == NULL)
        return;
    if (!p->joined) {
        parc_procpool_terminate(p);
        parc_procpool_join(p);
    }
    close(p->conn);
    close(p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p->initarg);
    free(p->pids);
    free(p->slots);
    free(p);
}

unsigned parc_procpool_size(const parc_procpool_t *p)
{
    return p == NULL ? 0 : p->nslots;
}

size_t parc_procpool_pids(parc_procpool_t *p, pid_t *pids, size_t n)
{
    if (p == NULL || pids == NULL)
        return 0;
    size_t k = 0;
    pthread_mutex_lock(&p->lock);
    for (unsigned i = 0; i < p->nslots && k < n; i++)
        if (p->pids[i] > 0)
            pids[k++] = p->pids[i];
    pthread_mutex_unlock(&p->lock);
    return k;
}

uint64_t parc_procpool_respawns(parc_procpool_t *p)
{
    if (p == NULL)
        return 0;
    pthread_mutex_lock(&p->lock);
    uint64_t r = p->respawns;
    pthread_mutex_unlock(&p->lock);
    return r;
}
