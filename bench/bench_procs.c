/*
 * bench_procs.c — parc between processes (issue 16's benchmarks).
 *
 *   xproc_pingpong  a round trip between two processes through a pair of
 *                   semaphores in shared memory: parc_sem_t (PARC_PSHARED)
 *                   against POSIX sem_t (pshared), and parc's semaphores
 *                   between two threads of one process (what crossing a
 *                   process boundary costs).
 *   xproc_queue     messages from P producer processes to one consumer
 *                   process: parc_shmqueue_t against a POSIX message queue
 *                   (mq_send/mq_receive) and a pipe (writes of at most
 *                   PIPE_BUF bytes are atomic, so several producers can
 *                   share one).
 *   procpool_map    the seed's Pool(2).map(square, ...) in worker processes
 *                   (one task per element: no chunking yet), against parc's
 *                   thread pool doing the same map. Python's multiprocessing
 *                   figure comes from bench/pool_peers/python_map.py.
 *
 * Children are forked from parc-bench, which keeps a second thread: they
 * call only system calls and parc's lock-free/futex code before _exit,
 * nothing that takes a lock the other thread could have held at the fork.
 */
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "parc/event.h"
#include "parc/pool.h"
#include "parc/procpool.h"
#include "parc/sem.h"
#include "parc/shmqueue.h"

/* A fresh shared anonymous mapping (inherited across fork). */
static void *shared_map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static int64_t reap_all(const pid_t *pids, int n, int64_t ns)
{
    int ok = 1;
    for (int i = 0; i < n; i++) {
        int st = 0;
        if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            ok = 0;
    }
    return ok ? ns : BENCH_FAILED;
}

/* ---- xproc_pingpong --------------------------------------------------- */

static const bench_point_t pingpong_points[] = {
    {"2 processes (threads for parc-threads)", 2, 0, NULL},
    {NULL, 0, 0, NULL},
};
BENCH_DEFINE(xproc_pingpong, "round trip through two shared semaphores", pingpong_points)

static int64_t pingpong_parc(bench_run_t *r)
{
    parc_sem_t *s = shared_map(2 * sizeof *s);
    if (s == NULL)
        return BENCH_FAILED;
    parc_sem_init_flags(&s[0], 0, PARC_SEM_VALUE_MAX, PARC_PSHARED);
    parc_sem_init_flags(&s[1], 0, PARC_SEM_VALUE_MAX, PARC_PSHARED);
    pid_t pid = fork();
    if (pid == 0) {
        for (uint64_t i = 0; i < r->ops; i++) {
            parc_sem_acquire(&s[0], 1);
            parc_sem_release(&s[1], 1);
        }
        _exit(0);
    }
    int64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < r->ops; i++) {
        parc_sem_release(&s[0], 1);
        parc_sem_acquire(&s[1], 1);
    }
    int64_t ns = bench_now_ns() - t0;
    ns = reap_all(&pid, 1, ns);
    munmap(s, 2 * sizeof *s);
    return ns;
}
BENCH_CASE(xproc_pingpong, "parc", pingpong_parc)

static int64_t pingpong_posix(bench_run_t *r)
{
    sem_t *s = shared_map(2 * sizeof *s);
    if (s == NULL || sem_init(&s[0], 1, 0) != 0 || sem_init(&s[1], 1, 0) != 0)
        return BENCH_FAILED;
    pid_t pid = fork();
    if (pid == 0) {
        for (uint64_t i = 0; i < r->ops; i++) {
            while (sem_wait(&s[0]) != 0)
                ;
            sem_post(&s[1]);
        }
        _exit(0);
    }
    int64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < r->ops; i++) {
        sem_post(&s[0]);
        while (sem_wait(&s[1]) != 0)
            ;
    }
    int64_t ns = bench_now_ns() - t0;
    ns = reap_all(&pid, 1, ns);
    munmap(s, 2 * sizeof *s);
    return ns;
}
BENCH_CASE(xproc_pingpong, "posix-sem", pingpong_posix)

static void pingpong_thread(bench_worker_t *w)
{
    parc_sem_t *s = w->shared;
    for (uint64_t i = 0; i < w->ops; i++) {
        if (w->id == 0) {
            parc_sem_release(&s[0], 1);
            parc_sem_acquire(&s[1], 1);
        } else {
            parc_sem_acquire(&s[0], 1);
            parc_sem_release(&s[1], 1);
        }
    }
    w->done = w->id == 0 ? w->ops : 0;
}

static int64_t pingpong_threads(bench_run_t *r)
{
    parc_sem_t s[2];
    parc_sem_init(&s[0], 0);
    parc_sem_init(&s[1], 0);
    return bench_parallel(r, pingpong_thread, s);
}
BENCH_CASE(xproc_pingpong, "parc-threads", pingpong_threads)

/* ---- xproc_queue ------------------------------------------------------ */

static const bench_point_t queue_points[] = {
    {"1P/1C 64 B", 2, 64, NULL},
    {"3P/1C 64 B", 4, 64, NULL},
    {"1P/1C 4 KiB", 2, 4096, NULL},
    {NULL, 0, 0, NULL},
};
BENCH_DEFINE(xproc_queue, "messages from producer processes to a consumer process",
             queue_points)

/* What each transport does; producers get their share of r->ops. */
typedef struct transport {
    int (*send)(void *t, const void *msg, size_t len);
    int (*recv)(void *t, void *buf, size_t len);
    void *t;
} transport_t;

static int64_t run_transport(bench_run_t *r, transport_t *tr)
{
    int producers = r->threads - 1;
    size_t len = (size_t)r->arg;
    parc_event_t *go = shared_map(sizeof *go);
    if (go == NULL)
        return BENCH_FAILED;
    parc_event_init_flags(go, PARC_PSHARED);
    pid_t pids[8];
    for (int p = 0; p < producers; p++) {
        uint64_t share = r->ops / (uint64_t)producers + ((uint64_t)p < r->ops % (uint64_t)producers);
        if ((pids[p] = fork()) == 0) {
            char msg[4096];
            memset(msg, p, sizeof msg);
            parc_event_wait(go);
            for (uint64_t i = 0; i < share; i++)
                if (tr->send(tr->t, msg, len) != 0)
                    _exit(1);
            _exit(0);
        }
    }
    char buf[8192];
    int64_t t0 = bench_now_ns();
    parc_event_set(go);
    int ok = 1;
    for (uint64_t i = 0; i < r->ops && ok; i++)
        ok = tr->recv(tr->t, buf, len) == 0;
    int64_t ns = bench_now_ns() - t0;
    if (!ok) {
        for (int p = 0; p < producers; p++)
            kill(pids[p], SIGKILL);
    }
    ns = reap_all(pids, producers, ns);
    munmap(go, sizeof *go);
    return ok ? ns : BENCH_FAILED;
}

static int shmq_send(void *t, const void *msg, size_t len)
{
    return parc_shmqueue_send(t, msg, len);
}

static int shmq_recv(void *t, void *buf, size_t len)
{
    size_t n;
    int rc = parc_shmqueue_recv(t, buf, len, &n);
    return rc == 0 && n == len ? 0 : -1;
}

static int64_t queue_parc(bench_run_t *r)
{
    size_t bytes = parc_shmqueue_footprint(1024, (size_t)r->arg);
    parc_shmqueue_t *q = shared_map(bytes);
    if (q == NULL || parc_shmqueue_init(q, 1024, (size_t)r->arg) != 0)
        return BENCH_FAILED;
    transport_t tr = {shmq_send, shmq_recv, q};
    int64_t ns = run_transport(r, &tr);
    munmap(q, bytes);
    return ns;
}
BENCH_CASE(xproc_queue, "parc", queue_parc)

static int mq_send_(void *t, const void *msg, size_t len)
{
    return mq_send(*(mqd_t *)t, msg, len, 0);
}

static int mq_recv_(void *t, void *buf, size_t len)
{
    (void)len;
    return mq_receive(*(mqd_t *)t, buf, 8192, NULL) >= 0 ? 0 : -1;
}

static int64_t queue_mq(bench_run_t *r)
{
    char name[64];
    snprintf(name, sizeof name, "/parc-bench-%ld", (long)getpid());
    struct mq_attr a;
    memset(&a, 0, sizeof a);
    a.mq_maxmsg = 10; /* the default limit for unprivileged users */
    a.mq_msgsize = r->arg;
    mqd_t mq = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &a);
    if (mq == (mqd_t)-1)
        return BENCH_SKIPPED;
    mq_unlink(name);
    transport_t tr = {mq_send_, mq_recv_, &mq};
    int64_t ns = run_transport(r, &tr);
    mq_close(mq);
    return ns;
}
BENCH_CASE(xproc_queue, "posix-mq", queue_mq)

static int pipe_send(void *t, const void *msg, size_t len)
{
    return write(((int *)t)[1], msg, len) == (ssize_t)len ? 0 : -1;
}

static int pipe_recv(void *t, void *buf, size_t len)
{
    /* writes of <= PIPE_BUF bytes are atomic: whole messages arrive */
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(((int *)t)[0], (char *)buf + got, len - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static int64_t queue_pipe(bench_run_t *r)
{
    int fds[2];
    if (pipe(fds) != 0)
        return BENCH_FAILED;
    transport_t tr = {pipe_send, pipe_recv, fds};
    int64_t ns = run_transport(r, &tr);
    close(fds[0]);
    close(fds[1]);
    return ns;
}
BENCH_CASE(xproc_queue, "pipe", queue_pipe)

/* ---- procpool_map ----------------------------------------------------- */

static const bench_point_t procpool_points[] = {
    {"Pool(2).map(square)", 2, 0, NULL},
    {NULL, 0, 0, NULL},
};
BENCH_DEFINE(procpool_map,
             "the seed's Pool(2).map(square) in processes, one task per element; "
             "Python: bench/pool_peers/python_map.py",
             procpool_points)

static int square_task(const void *arg, size_t len, void **out, size_t *out_len)
{
    (void)len;
    long *r = malloc(sizeof *r);
    if (r == NULL)
        return ENOMEM;
    *r = *(const long *)arg * *(const long *)arg;
    *out = r;
    *out_len = sizeof *r;
    return 0;
}

static int64_t procpool_parc(bench_run_t *r)
{
    static parc_procpool_t *pool; /* kept across runs: started once */
    if (pool == NULL) {
        parc_procpool_options_t o = PARC_PROCPOOL_OPTIONS_INIT;
        o.workers = 2;
        if (parc_procpool_create(&o, &pool) != 0)
            return BENCH_FAILED;
    }
    long *in = malloc(r->ops * sizeof *in), *out = malloc(r->ops * sizeof *out);
    if (in == NULL || out == NULL)
        return BENCH_FAILED;
    for (uint64_t i = 0; i < r->ops; i++)
        in[i] = (long)i;
    int64_t t0 = bench_now_ns();
    int rc = parc_procpool_map(pool, square_task, in, sizeof *in, r->ops, out,
                               sizeof *out, NULL);
    int64_t ns = bench_now_ns() - t0;
    int ok = rc == 0 && out[r->ops - 1] == in[r->ops - 1] * in[r->ops - 1];
    free(in);
    free(out);
    return ok ? ns : BENCH_FAILED;
}
BENCH_CASE(procpool_map, "parc", procpool_parc)

static int square_elem(const void *in, void *out)
{
    *(long *)out = *(const long *)in * *(const long *)in;
    return 0;
}

static int64_t procpool_threads(bench_run_t *r)
{
    static parc_pool_t *pool;
    if (pool == NULL && parc_pool_create(2, NULL, &pool) != 0)
        return BENCH_FAILED;
    long *in = malloc(r->ops * sizeof *in), *out = malloc(r->ops * sizeof *out);
    if (in == NULL || out == NULL)
        return BENCH_FAILED;
    for (uint64_t i = 0; i < r->ops; i++)
        in[i] = (long)i;
    int64_t t0 = bench_now_ns();
    int rc = parc_pool_map(pool, square_elem, in, out, r->ops, sizeof *in, sizeof *out, 0);
    int64_t ns = bench_now_ns() - t0;
    free(in);
    free(out);
    return rc == 0 ? ns : BENCH_FAILED;
}
BENCH_CASE(procpool_map, "parc-thread-pool", procpool_threads)

/* ---- procpool_recovery ------------------------------------------------- */

static const bench_point_t recovery_points[] = {
    {"SIGSEGV -> future failed and worker replaced", 1, 0, NULL},
    {NULL, 0, 0, NULL},
};
BENCH_DEFINE(procpool_recovery,
             "from a task's segfault to its future failing (ECHILD) and the pool "
             "back at full size",
             recovery_points)

static int crash_task(const void *arg, size_t len, void **out, size_t *out_len)
{
    (void)arg, (void)len, (void)out, (void)out_len;
    raise(SIGKILL); /* as a segfault would, without a sanitizer's report */
    return 0;
}

static int64_t recovery_parc(bench_run_t *r)
{
    static parc_procpool_t *pool;
    if (pool == NULL) {
        parc_procpool_options_t o = PARC_PROCPOOL_OPTIONS_INIT;
        o.workers = 1;
        if (parc_procpool_create(&o, &pool) != 0)
            return BENCH_FAILED;
    }
    int64_t total = 0;
    for (uint64_t i = 0; i < r->ops; i++) {
        pid_t pid;
        while (parc_procpool_pids(pool, &pid, 1) < 1) /* ready to start */
            parc_sleep_ns(10000);
        parc_future_t *f;
        int64_t t0 = bench_now_ns();
        if (parc_procpool_submit(pool, crash_task, NULL, 0, &f) != 0)
            return BENCH_FAILED;
        int rc = parc_future_get(f, NULL);
        parc_procpool_release(f);
        while (parc_procpool_pids(pool, &pid, 1) < 1)
            sched_yield();
        total += bench_now_ns() - t0;
        if (rc != ECHILD)
            return BENCH_FAILED;
    }
    return total;
}
BENCH_CASE(procpool_recovery, "parc", recovery_parc)
