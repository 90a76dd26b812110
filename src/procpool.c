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

#include "procpool_internal.h"

void parc_procpool_wake_(parc_procpool_t *p)
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
void parc_procpool_let_go_(struct task *t)
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
    free(t->frame);
    t->frame = NULL;
    if (status == ECANCELED)
        parc_future_cancel(&t->future);
    else
        parc_future_complete(&t->future, status, status == 0 ? t->result : NULL);
    parc_procpool_let_go_(t); /* the pool's share */
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
    s->out_fd = -1;
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

/* A worker exited (EXITED from the server): free the slot, fail its task.
 * In that order: a caller woken by the failure must no longer find the
 * dead worker among parc_procpool_pids (its pid may already be reused)
 * and must find it counted in parc_procpool_respawns. */
static void worker_exited(parc_procpool_t *p, struct slot *s, int wstatus)
{
    struct task *t = s->task;
    int status = s->killed ? ETIMEDOUT : ECHILD;
    s->task = NULL;
    clear_slot(p, s);
    pthread_mutex_lock(&p->lock);
    p->respawns++;
    pthread_mutex_unlock(&p->lock);
    if (t != NULL)
        finish(t, status, true, wstatus);
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
    struct task_frame h = {FRAME_TASK, 0, (uint64_t)(uintptr_t)t->fn,
                           t->arg_len + t->ext_len};
    size_t n = sizeof h + t->arg_len;
    memcpy(t->frame, &h, sizeof h);
    if (s->out_off == s->out_len) {
        /* nothing pending: the task's frame goes out as it is (a map's
         * chunk is megabytes; a copy here would be a third of its cost) */
        free(s->out);
        s->out = t->frame;
        s->out_len = n;
        s->out_off = 0;
    } else {
        /* keep what was not sent yet (an initializer's frame), then ours */
        char *buf = realloc(s->out, s->out_len - s->out_off + n);
        if (buf == NULL) {
            finish(t, ENOMEM, false, 0);
            return;
        }
        memmove(buf, buf + s->out_off, s->out_len - s->out_off);
        s->out_len -= s->out_off;
        s->out_off = 0;
        memcpy(buf + s->out_len, t->frame, n);
        free(t->frame);
        s->out = buf;
        s->out_len += n;
    }
    s->ext = t->ext; /* the slot's unsent bytes never hold another task's ext */
    s->ext_len = t->ext_len;
    s->out_fd = t->pass_fd;
    t->frame = NULL;
    s->task = t;
    s->state = BUSY;
    s->killed = false;
    s->deadline = PARC_FOREVER;
    if (p->opt.task_timeout_ns > 0)
        parc_deadline_in(&s->deadline, p->opt.task_timeout_ns);
}

/* Bytes of the slot's outgoing frame (and borrowed ext) not sent yet. */
static size_t unsent(const struct slot *s)
{
    return s->out_len + s->ext_len - s->out_off;
}

static void pump_out(struct slot *s)
{
    while (unsent(s) > 0) {
        /* the frame's own bytes and the borrowed ones in one sendmsg */
        struct iovec iov[2];
        int k = 0;
        if (s->out_off < s->out_len)
            iov[k++] = (struct iovec){s->out + s->out_off, s->out_len - s->out_off};
        size_t eoff = s->out_off > s->out_len ? s->out_off - s->out_len : 0;
        if (s->ext_len > eoff)
            iov[k++] = (struct iovec){(void *)(uintptr_t)(s->ext + eoff), s->ext_len - eoff};
        struct msghdr m;
        memset(&m, 0, sizeof m);
        m.msg_iov = iov;
        m.msg_iovlen = (size_t)k;
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } u;
        if (s->out_fd >= 0) { /* rides on the first bytes that go out */
            memset(&u, 0, sizeof u);
            m.msg_control = u.buf;
            m.msg_controllen = sizeof u.buf;
            struct cmsghdr *c = CMSG_FIRSTHDR(&m);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &s->out_fd, sizeof(int));
        }
        ssize_t r = sendmsg(s->sock, &m, MSG_NOSIGNAL);
        if (r > 0) {
            s->out_off += (size_t)r;
            s->out_fd = -1;
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
    s->ext = NULL;
    s->ext_len = 0;
    s->out_fd = -1;
}

/* Read what the worker sent; complete its task when the result is whole.
 * A successful reply at least as long as the task's dst has its first
 * dst_len bytes received straight into dst (a map chunk's results, into
 * the caller's array), the rest into a buffer of its own. */
static void pump_in(parc_procpool_t *p, struct slot *s)
{
    for (;;) {
        char *dst;
        size_t want;
        if (s->hdr_off < sizeof s->hdr) {
            dst = (char *)&s->hdr + s->hdr_off;
            want = sizeof s->hdr - s->hdr_off;
        } else if (s->in_off < s->in_dst) {
            dst = s->task->dst + s->in_off;
            want = s->in_dst - s->in_off;
        } else {
            dst = s->in + (s->in_off - s->in_dst);
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
            struct task *t = s->task;
            s->in_dst = s->hdr.status == 0 && t->dst_len > 0 && s->hdr.len >= t->dst_len
                            ? t->dst_len : 0;
            size_t rest = (size_t)s->hdr.len - s->in_dst;
            if (rest > 0 && (s->in = malloc(rest)) == NULL) {
                worker_gone(s);
                return;
            }
        } else {
            s->in_off += (size_t)r;
        }
        if (s->hdr_off == sizeof s->hdr && s->in_off == s->hdr.len) {
            struct task *t = s->task;
            t->result = s->in;
            t->result_len = (size_t)s->hdr.len - s->in_dst;
            t->placed = s->in_dst;
            s->in = NULL;
            s->in_off = s->hdr_off = s->in_dst = 0;
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
        if (m.pid <= 0 || fd < 0) {
            /* the fork failed, or its pidfd did not come (a worker we
             * could neither kill past a timeout nor watch die): retried
             * next turn; a worker left without its socket exits */
            clear_slot(p, s);
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

void *parc_procpool_dispatch_(void *arg)
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
            if (unsent(s) > 0 && s->sock >= 0)
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
                ev = (short)(POLLIN | (unsent(s) > 0 ? POLLOUT : 0));
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
