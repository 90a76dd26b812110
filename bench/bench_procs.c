/*
 * bench_procs.c — parc between processes (issue 16's benchmarks).
 *
 *   xproc_pingpong  a round trip between two processes through shared parc
 *                   primitives (PARC_PSHARED): two semaphores, a mutex and
 *                   a condition, two events; against the same primitive
 *                   between two threads of one process (what crossing a
 *                   process boundary costs) and two POSIX sem_t (pshared)
 *                   between processes.
 *   xproc_queue     messages from P producer processes to one consumer
 *                   process: parc_shmqueue_t against a POSIX message queue
 *                   (mq_send/mq_receive; 10 messages deep, the default
 *                   limit for unprivileged users), Boost.Interprocess's
 *                   message_queue (1024 deep, as parc's) and a pipe
 *                   (writes of at most PIPE_BUF bytes are atomic, so
 *                   several producers can share one).
 *   procpool_map    the seed's Pool(2).map(square, range(1_000_000)) in
 *                   worker processes with Python's default chunking:
 *                   parc_procpool_map_elems (results written in place),
 *                   the same with items and results in a shared buffer
 *                   of the pool (parc_procpool_buffer: nothing copied),
 *                   parc_procpool_map (a malloc()ed result per element),
 *                   parc's thread pool doing the same map, and Python's
 *                   multiprocessing (bench/pool_peers/python_map.py).
 *   procpool_tiny   100,000 tiny tasks, each its own task (apply_async):
 *                   parc's process pool, parc's thread pool, Python's.
 *   procpool_recovery  from a worker's death to its task failing and the
 *                   pool back at full size.
 *
 * The process pools' workers come from a fork server started at load
 * (PARC_PROCPOOL_FORKSERVER_AT_LOAD below). The ping-pong and queue
 * children are forked from parc-bench, which keeps a second thread: they
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
#include "peer_bipc.h"
#include "parc/cond.h"
#include "parc/event.h"
#include "parc/mutex.h"
#include "parc/pool.h"
#include "parc/procpool.h"
#include "parc/sem.h"
#include "parc/shmqueue.h"

/* A fresh shared anonymous mapping (inherited across fork). */
/* The fork server starts while parc-bench loads, before its threads and
 * before the benchmarks before these grow its heap (procpool.h). */
PARC_PROCPOOL_FORKSERVER_AT_LOAD;

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

/* The primitive a ping-pong point goes through (the point's arg). */
enum pp_kind { PP_SEM, PP_MUTEX_COND, PP_EVENT };

static const bench_point_t pingpong_points[] = {
    {"semaphores (two)", 2, PP_SEM, NULL},
    {"mutex + condition", 2, PP_MUTEX_COND, NULL},
    {"event (two)", 2, PP_EVENT, NULL},
    {NULL, 0, 0, NULL},
};
BENCH_DEFINE(xproc_pingpong,
             "a round trip between two processes through shared parc primitives "
             "(PARC_PSHARED); parc-threads: the same primitive between two threads "
             "(process-private); posix-sem: two sem_t (pshared) between processes, at "
             "every point",
             pingpong_points)

/* What the two sides share. */
typedef struct pingpong {
    parc_sem_t sem[2];
    parc_mutex_t mutex;
    parc_cond_t cond;
    uint64_t turn; /* mutex+cond: whose move (0 or 1), under the mutex */
    parc_event_t ev[2];
} pingpong_t;

static void pp_init(pingpong_t *pp, unsigned flags)
{
    parc_sem_init_flags(&pp->sem[0], 0, PARC_SEM_VALUE_MAX, flags);
    parc_sem_init_flags(&pp->sem[1], 0, PARC_SEM_VALUE_MAX, flags);
    parc_mutex_init(&pp->mutex, PARC_MUTEX_NORMAL | flags);
    parc_cond_init_flags(&pp->cond, flags);
    pp->turn = 0;
    parc_event_init_flags(&pp->ev[0], flags);
    parc_event_init_flags(&pp->ev[1], flags);
}

/* One side's `ops` moves; side 0 serves first. A round trip is one move
 * of each side. */
static void pp_side(pingpong_t *pp, long kind, int side, uint64_t ops)
{
    for (uint64_t i = 0; i < ops; i++) {
        switch (kind) {
        case PP_SEM:
            if (side == 0) {
                parc_sem_release(&pp->sem[0], 1);
                parc_sem_acquire(&pp->sem[1], 1);
            } else {
                parc_sem_acquire(&pp->sem[0], 1);
                parc_sem_release(&pp->sem[1], 1);
            }
            break;
        case PP_MUTEX_COND:
            parc_mutex_lock(&pp->mutex);
            while (pp->turn != (uint64_t)side)
                parc_cond_wait(&pp->cond, &pp->mutex);
            pp->turn = (uint64_t)!side;
            parc_cond_notify_one(&pp->cond);
            parc_mutex_unlock(&pp->mutex);
            break;
        default: /* PP_EVENT: set the other's, wait for ours, lower it */
            if (side == 0) {
                parc_event_set(&pp->ev[0]);
                parc_event_wait(&pp->ev[1]);
                parc_event_clear(&pp->ev[1]);
            } else {
                parc_event_wait(&pp->ev[0]);
                parc_event_clear(&pp->ev[0]);
                parc_event_set(&pp->ev[1]);
            }
            break;
        }
    }
}

static int64_t pingpong_parc(bench_run_t *r)
{
    pingpong_t *pp = shared_map(sizeof *pp);
    if (pp == NULL)
        return BENCH_FAILED;
    pp_init(pp, PARC_PSHARED);
    pid_t pid = fork();
    if (pid == 0) {
        pp_side(pp, r->arg, 1, r->ops);
        _exit(0);
    }
    int64_t t0 = bench_now_ns();
    pp_side(pp, r->arg, 0, r->ops);
    int64_t ns = bench_now_ns() - t0;
    ns = reap_all(&pid, 1, ns);
    munmap(pp, sizeof *pp);
    return ns;
}
BENCH_CASE(xproc_pingpong, "parc", pingpong_parc)

static void pingpong_thread(bench_worker_t *w)
{
    pp_side(w->shared, w->arg, w->id, w->ops);
    w->done = w->id == 0 ? w->ops : 0;
}

static int64_t pingpong_threads(bench_run_t *r)
{
    pingpong_t pp;
    pp_init(&pp, 0);
    return bench_parallel(r, pingpong_thread, &pp);
}
BENCH_CASE(xproc_pingpong, "parc-threads", pingpong_threads)

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

#ifdef PARC_BENCH_HAVE_BOOST_IPC
/* Boost.Interprocess message_queue (peer_bipc.h), of the shared queue's
 * capacity (1024 messages) */
static int bipc_send(void *t, const void *msg, size_t len)
{
    return peer_bipc_send(t, msg, len);
}

static int bipc_recv(void *t, void *buf, size_t len)
{
    size_t n = 0;
    return peer_bipc_recv(t, buf, len, &n) == 0 && n == len ? 0 : -1;
}

static int64_t queue_bipc(bench_run_t *r)
{
    char name[64];
    snprintf(name, sizeof name, "parc-bench-bipc-%ld", (long)getpid());
    void *q = peer_bipc_create(name, 1024, (size_t)r->arg);
    if (q == NULL)
        return BENCH_FAILED;
    transport_t tr = {bipc_send, bipc_recv, q};
    int64_t ns = run_transport(r, &tr);
    peer_bipc_destroy(q, name);
    return ns;
}
BENCH_CASE(xproc_queue, "boost-ipc-mq", queue_bipc)
#endif

/* ---- procpool_map ----------------------------------------------------- */

static const bench_point_t procpool_points[] = {
    {"Pool(2).map(square, range(1_000_000))", 2, 1000000, NULL},
    {NULL, 0, 0, NULL},
};
BENCH_DEFINE(procpool_map,
             "the seed's Pool(2).map(square, range(1_000_000)) in worker processes, "
             "Python's default chunking (n / (4 x workers) per task); ns per element",
             procpool_points)

/* Whole maps of r->arg elements, as many as cover r->ops (at least one). */
static uint64_t maps_for(const bench_run_t *r)
{
    uint64_t n = (uint64_t)r->arg;
    return (r->ops + n - 1) / n;
}

static long *iota_longs(uint64_t n)
{
    long *in = malloc(n * sizeof *in);
    if (in != NULL)
        for (uint64_t i = 0; i < n; i++)
            in[i] = (long)i;
    return in;
}

/* The map's input and output arrays, made and touched once and kept: every
 * case of the benchmark maps the same caller-owned arrays, and none pays
 * for the first touch of their pages inside its timed section. */
static int map_arrays(uint64_t n, long **in, long **out)
{
    static long *a, *b;
    static uint64_t len;
    if (len != n) {
        free(a);
        free(b);
        a = iota_longs(n);
        b = calloc(n, sizeof *b);
        len = a != NULL && b != NULL ? n : 0;
        if (len == 0)
            return ENOMEM;
        memset(b, 0xff, n * sizeof *b); /* touched */
    }
    *in = a;
    *out = b;
    return 0;
}

static parc_procpool_t *bench_procpool(unsigned workers)
{
    static parc_procpool_t *pools[3]; /* kept across runs: started once */
    if (workers >= 3)
        return NULL;
    if (pools[workers] == NULL) {
        parc_procpool_options_t o = PARC_PROCPOOL_OPTIONS_INIT;
        o.workers = workers;
        if (parc_procpool_create(&o, &pools[workers]) != 0)
            return NULL;
    }
    return pools[workers];
}

static int square_map(const void *in, void *out)
{
    *(long *)out = *(const long *)in * *(const long *)in;
    return 0;
}

/* map_elems: results written in place, the form of the thread pool's map */
static int64_t procpool_parc(bench_run_t *r)
{
    parc_procpool_t *pool = bench_procpool(2);
    uint64_t n = (uint64_t)r->arg, maps = maps_for(r);
    long *in, *out;
    if (pool == NULL || map_arrays(n, &in, &out) != 0)
        return BENCH_FAILED;
    int rc = 0;
    int64_t t0 = bench_now_ns();
    for (uint64_t m = 0; m < maps && rc == 0; m++)
        rc = parc_procpool_map_elems(pool, square_map, in, sizeof *in, n, out,
                                     sizeof *out, NULL, 0);
    int64_t ns = bench_now_ns() - t0;
    r->items = maps * n;
    int ok = rc == 0 && out[n - 1] == in[n - 1] * in[n - 1];
    return ok ? ns : BENCH_FAILED;
}
BENCH_CASE(procpool_map, "parc", procpool_parc)

/* map_elems with the items and the results in a shared buffer of the pool
 * (parc_procpool_buffer), filled once like the caller's arrays above: the
 * workers read and write it in place and nothing is copied. A pool of its
 * own (2 workers): a worker keeps one mapping, the arena or a buffer, and
 * cases sharing a pool would have every worker remap 16 MiB at each
 * switch between them. */
static int64_t procpool_parc_buffer(bench_run_t *r)
{
    static parc_procpool_t *pool;
    static long *buf;
    static uint64_t len;
    uint64_t n = (uint64_t)r->arg, maps = maps_for(r);
    if (pool == NULL) {
        parc_procpool_options_t o = PARC_PROCPOOL_OPTIONS_INIT;
        o.workers = 2;
        if (parc_procpool_create(&o, &pool) != 0) {
            pool = NULL;
            return BENCH_FAILED;
        }
    }
    if (len != n) {
        if (buf != NULL)
            parc_procpool_buffer_free(pool, buf);
        len = 0;
        if (parc_procpool_buffer(pool, 2 * n * sizeof *buf, (void **)&buf) != 0)
            return BENCH_FAILED;
        for (uint64_t i = 0; i < n; i++)
            buf[i] = (long)i;
        memset(buf + n, 0xff, n * sizeof *buf); /* touched */
        len = n;
    }
    long *in = buf, *out = buf + n;
    int rc = 0;
    int64_t t0 = bench_now_ns();
    for (uint64_t m = 0; m < maps && rc == 0; m++)
        rc = parc_procpool_map_elems(pool, square_map, in, sizeof *in, n, out,
                                     sizeof *out, NULL, 0);
    int64_t ns = bench_now_ns() - t0;
    r->items = maps * n;
    int ok = rc == 0 && out[n - 1] == in[n - 1] * in[n - 1];
    return ok ? ns : BENCH_FAILED;
}
BENCH_CASE(procpool_map, "parc-shared-buffer", procpool_parc_buffer)

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

/* parc_procpool_map: the bytes-returning task function (a malloc()ed
 * result per element), same chunking */
static int64_t procpool_parc_bytes(bench_run_t *r)
{
    parc_procpool_t *pool = bench_procpool(2);
    uint64_t n = (uint64_t)r->arg, maps = maps_for(r);
    long *in, *out;
    if (pool == NULL || map_arrays(n, &in, &out) != 0)
        return BENCH_FAILED;
    int rc = 0;
    int64_t t0 = bench_now_ns();
    for (uint64_t m = 0; m < maps && rc == 0; m++)
        rc = parc_procpool_map(pool, square_task, in, sizeof *in, n, out, sizeof *out, NULL);
    int64_t ns = bench_now_ns() - t0;
    r->items = maps * n;
    int ok = rc == 0 && out[n - 1] == in[n - 1] * in[n - 1];
    return ok ? ns : BENCH_FAILED;
}
BENCH_CASE(procpool_map, "parc-bytes-fn", procpool_parc_bytes)

static int square_elem(const void *in, void *out)
{
    *(long *)out = *(const long *)in * *(const long *)in;
    return 0;
}

static parc_pool_t *bench_thread_pool(void)
{
    static parc_pool_t *pool;
    if (pool == NULL && parc_pool_create(2, NULL, &pool) != 0)
        return NULL;
    return pool;
}

static int64_t procpool_threads(bench_run_t *r)
{
    parc_pool_t *pool = bench_thread_pool();
    uint64_t n = (uint64_t)r->arg, maps = maps_for(r);
    long *in, *out;
    if (pool == NULL || map_arrays(n, &in, &out) != 0)
        return BENCH_FAILED;
    int rc = 0;
    int64_t t0 = bench_now_ns();
    for (uint64_t m = 0; m < maps && rc == 0; m++)
        rc = parc_pool_map(pool, square_elem, in, out, n, sizeof *in, sizeof *out, 0);
    int64_t ns = bench_now_ns() - t0;
    r->items = maps * n;
    int ok = rc == 0 && out[n - 1] == in[n - 1] * in[n - 1];
    return ok ? ns : BENCH_FAILED;
}
BENCH_CASE(procpool_map, "parc-thread-pool", procpool_threads)

#if defined(PARC_BENCH_PYTHON_EXE) && defined(PARC_BENCH_PYTHON_POOL)
/* Python's multiprocessing.Pool in the same shape (bench_run_external):
 * bench/pool_peers/python_map.py. */
static int64_t python_pool_case(bench_run_t *r, const char *mode)
{
    const char *const argv[] = {PARC_BENCH_PYTHON_EXE, PARC_BENCH_PYTHON_POOL, mode, NULL};
    return bench_run_external(r, argv);
}
static int64_t procpool_python(bench_run_t *r) { return python_pool_case(r, "map"); }
BENCH_CASE(procpool_map, "python", procpool_python)
#endif

/* ---- procpool_tiny ------------------------------------------------------ */

static const bench_point_t tiny_points[] = {
    {"100,000 tiny tasks, 2 workers", 2, 100000, NULL},
    {NULL, 0, 0, NULL},
};
BENCH_DEFINE(procpool_tiny,
             "100,000 tiny tasks (x -> x + 1), each its own task (apply_async), all "
             "submitted, then every result got; ns per task",
             tiny_points)

static int tiny_task(const void *arg, size_t len, void **out, size_t *out_len)
{
    (void)len;
    long *r = malloc(sizeof *r);
    if (r == NULL)
        return ENOMEM;
    *r = *(const long *)arg + 1;
    *out = r;
    *out_len = sizeof *r;
    return 0;
}

static int64_t tiny_parc(bench_run_t *r)
{
    parc_procpool_t *pool = bench_procpool(2);
    uint64_t n = (uint64_t)r->arg, rounds = maps_for(r);
    parc_future_t **fs = malloc(n * sizeof *fs);
    if (pool == NULL || fs == NULL)
        return BENCH_FAILED;
    int ok = 1;
    int64_t t0 = bench_now_ns();
    for (uint64_t k = 0; k < rounds && ok; k++) {
        for (uint64_t i = 0; i < n; i++) {
            long x = (long)i;
            if (parc_procpool_submit(pool, tiny_task, &x, sizeof x, &fs[i]) != 0)
                return BENCH_FAILED;
        }
        for (uint64_t i = 0; i < n; i++) {
            const void *v;
            size_t len;
            ok &= parc_future_get(fs[i], NULL) == 0 &&
                  parc_procpool_result(fs[i], &v, &len) == 0 && len == sizeof(long) &&
                  *(const long *)v == (long)i + 1;
            parc_procpool_release(fs[i]);
        }
    }
    int64_t ns = bench_now_ns() - t0;
    r->items = rounds * n;
    free(fs);
    return ok ? ns : BENCH_FAILED;
}
BENCH_CASE(procpool_tiny, "parc", tiny_parc)

static int tiny_thread_task(void *arg, void **result)
{
    *result = (void *)((uintptr_t)arg + 1);
    return 0;
}

static int64_t tiny_threads(bench_run_t *r)
{
    parc_pool_t *pool = bench_thread_pool();
    uint64_t n = (uint64_t)r->arg, rounds = maps_for(r);
    parc_future_t **fs = malloc(n * sizeof *fs);
    if (pool == NULL || fs == NULL)
        return BENCH_FAILED;
    int ok = 1;
    int64_t t0 = bench_now_ns();
    for (uint64_t k = 0; k < rounds && ok; k++) {
        for (uint64_t i = 0; i < n; i++)
            if (parc_pool_submit(pool, tiny_thread_task, (void *)(uintptr_t)i, &fs[i]) != 0)
                return BENCH_FAILED;
        for (uint64_t i = 0; i < n; i++) {
            void *v = NULL;
            ok &= parc_future_get(fs[i], &v) == 0 && (uintptr_t)v == i + 1;
            parc_future_release(fs[i]);
        }
    }
    int64_t ns = bench_now_ns() - t0;
    r->items = rounds * n;
    free(fs);
    return ok ? ns : BENCH_FAILED;
}
BENCH_CASE(procpool_tiny, "parc-thread-pool", tiny_threads)

#if defined(PARC_BENCH_PYTHON_EXE) && defined(PARC_BENCH_PYTHON_POOL)
static int64_t tiny_python(bench_run_t *r) { return python_pool_case(r, "tiny"); }
BENCH_CASE(procpool_tiny, "python", tiny_python)
#endif

/* ---- procpool_recovery ------------------------------------------------- */

static const bench_point_t recovery_points[] = {
    {"SIGSEGV -> future failed and worker replaced", 1, 0, NULL},
    {"the same, the caller grown by 512 MiB", 1, 512, NULL},
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
    parc_procpool_t *pool = bench_procpool(1);
    if (pool == NULL)
        return BENCH_FAILED;
    /* The second point: the caller holds arg MiB of touched heap, as a
     * program that has run for a while does (parc-bench itself, after the
     * benchmarks before this one). Made once and kept while the point
     * runs (its runs are not spent touching it); the first point's next
     * run gives it back. */
    static char *ballast;
    size_t grown = (size_t)r->arg << 20;
    if (grown == 0) {
        free(ballast);
        ballast = NULL;
    } else if (ballast == NULL) {
        if ((ballast = malloc(grown)) == NULL)
            return BENCH_FAILED;
        memset(ballast, 1, grown);
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
