/*
 * The process pool's API (see parc/procpool.h): creating and freeing a
 * pool, submitting tasks, reading their outcome. Callers touch only the
 * task queue, under the pool's lock, and wake the dispatcher (procpool.c),
 * which owns everything else.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "procpool_internal.h"

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
        p->slots[i].sock = p->slots[i].pidfd = p->slots[i].out_fd = -1;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->arena_lock, NULL);
    pthread_mutex_init(&p->buf_lock, NULL);
    p->arena_fd = -1;
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
    if (pthread_create(&p->thread, NULL, parc_procpool_dispatch_, p) != 0)
        goto fail_lock;
    *out = p;
    return 0;
fail_lock:
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->arena_lock);
    pthread_mutex_destroy(&p->buf_lock);
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

static int submit_task(parc_procpool_t *p, parc_proc_fn fn, char *frame,
                       size_t arg_len, const void *ext, size_t ext_len, void *dst,
                       size_t dst_len, int fd, parc_future_t **out);

char *parc_procpool_frame_alloc_(size_t arg_len)
{
    if (arg_len > SIZE_MAX - sizeof(struct task_frame))
        return NULL;
    return malloc(sizeof(struct task_frame) + arg_len);
}

int parc_procpool_submit_frame_(parc_procpool_t *p, parc_proc_fn fn, char *frame,
                                size_t arg_len, parc_future_t **out)
{
    return submit_task(p, fn, frame, arg_len, NULL, 0, NULL, 0, -1, out);
}

int parc_procpool_submit_fd_(parc_procpool_t *p, parc_proc_fn fn, char *frame,
                             size_t arg_len, int fd, parc_future_t **out)
{
    return submit_task(p, fn, frame, arg_len, NULL, 0, NULL, 0, fd, out);
}

size_t parc_procpool_placed_(parc_future_t *f)
{
    struct task *t = (struct task *)f;
    return t->placed;
}

int parc_procpool_submit_ext_(parc_procpool_t *p, parc_proc_fn fn, char *frame,
                              size_t arg_len, const void *ext, size_t ext_len,
                              void *dst, size_t dst_len, parc_future_t **out)
{
    return submit_task(p, fn, frame, arg_len, ext, ext_len, dst, dst_len, -1, out);
}

static int submit_task(parc_procpool_t *p, parc_proc_fn fn, char *frame,
                       size_t arg_len, const void *ext, size_t ext_len, void *dst,
                       size_t dst_len, int fd, parc_future_t **out)
{
    if (p == NULL || fn == NULL || out == NULL || frame == NULL) {
        free(frame);
        return EINVAL;
    }
    struct task *t = malloc(sizeof *t);
    if (t == NULL) {
        free(frame);
        return ENOMEM;
    }
    parc_future_init_heap(&t->future, NULL, NULL);
    t->magic = TASK_MAGIC;
    t->died = false;
    t->wstatus = 0;
    t->fn = fn;
    t->frame = frame;
    t->arg_len = arg_len;
    t->ext = ext;
    t->ext_len = ext != NULL ? ext_len : 0;
    t->dst = dst;
    t->dst_len = dst != NULL ? dst_len : 0;
    t->placed = 0;
    t->pass_fd = fd;
    t->result = NULL;
    t->result_len = 0;
    parc_atomic_init(&t->owners, 2u);
    t->next = NULL;
    parc_future_retain(&t->future); /* the pool's reference */
    pthread_mutex_lock(&p->lock);
    if (p->closed) {
        pthread_mutex_unlock(&p->lock);
        free(t->frame);
        t->frame = NULL;
        parc_procpool_let_go_(t);
        parc_procpool_let_go_(t);
        return EPIPE;
    }
    if (p->tail != NULL)
        p->tail->next = t;
    else
        p->head = t;
    p->tail = t;
    pthread_mutex_unlock(&p->lock);
    parc_procpool_wake_(p);
    *out = &t->future;
    return 0;
}

int parc_procpool_submit(parc_procpool_t *p, parc_proc_fn fn, const void *arg,
                         size_t arg_len, parc_future_t **out)
{
    if (p == NULL || fn == NULL || out == NULL || (arg == NULL && arg_len > 0))
        return EINVAL;
    char *frame = parc_procpool_frame_alloc_(arg_len);
    if (frame == NULL)
        return ENOMEM;
    if (arg_len > 0)
        memcpy(frame + sizeof(struct task_frame), arg, arg_len);
    return parc_procpool_submit_frame_(p, fn, frame, arg_len, out);
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
        parc_procpool_let_go_(t);
}

int parc_procpool_close(parc_procpool_t *p)
{
    if (p == NULL)
        return EINVAL;
    pthread_mutex_lock(&p->lock);
    p->closed = true;
    pthread_mutex_unlock(&p->lock);
    parc_procpool_wake_(p);
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
    parc_procpool_wake_(p);
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
    parc_procpool_arena_free_(p);
    parc_procpool_buffers_free_(p);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->arena_lock);
    pthread_mutex_destroy(&p->buf_lock);
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
