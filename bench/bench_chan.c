/*
 * bench/bench_chan.c — channels and select (parc/chan.h, parc/select.h)
 * against the queues their users would otherwise reach for, each through
 * its blocking calls. Go's channels are the "go" case of chan_buffered,
 * chan_pingpong and chan_select4 (bench/chan_peers/chan_bench.go, run by
 * the framework with GOMAXPROCS=2; bench/chan_peers/run_go.sh runs it
 * alone). Note on chan_pingpong: Go's scheduler runs a goroutine it wakes
 * on the waker's own P (runnext), so its two goroutines mostly hand off
 * on one thread, without a cache-line transfer between cores; its round
 * trip can come out below the cache-line floor parc-bench prints, which no
 * pair of threads on two cores can reach.
 *
 *   chan_buffered  capacity 1024, P producers and C consumers (1P1C, 3P1C,
 *                  2P2C): items handed over per second. Peers: oneTBB's
 *                  concurrent_bounded_queue (capacity 1024, blocking push
 *                  and pop) and moodycamel's BlockingConcurrentQueue
 *                  (unbounded: its producers never wait; a lower bound on
 *                  what a bounded queue could do).
 *   chan_pingpong  a round trip between two threads over two rendezvous
 *                  channels (Go's unbuffered channels). Peer: the same
 *                  over two oneTBB bounded queues of capacity 1 (its
 *                  closest to a rendezvous).
 *   chan_select4   four senders, each on a channel of its own (capacity
 *                  1024), one receiver selecting over the four.
 *   chan_select_fd a round trip between two threads where each waits in a
 *                  select over a rendezvous channel and a file descriptor
 *                  that never becomes ready (so the select parks in ppoll
 *                  with its eventfd). Peer: the plain event-loop hand-off,
 *                  epoll_wait on an eventfd each way.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench.h"
#include "parc/chan.h"
#include "parc/select.h"

#ifdef PARC_BENCH_HAVE_MOODYCAMEL
#include "peer_moodycamel.h"
#endif
#ifdef PARC_BENCH_HAVE_TBB
#include "peer_tbb.h"
#endif

#define CAPACITY 1024

/* arg: the number of producers; the other threads consume. */
static const bench_point_t buffered_points[] = {
    { "1P1C", 2, 1, NULL },
    { "3P1C", 4, 3, NULL },
    { "2P2C", 4, 2, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(chan_buffered, "buffered channel (1024): items from P producers to C consumers",
             buffered_points)

static const bench_point_t pingpong_points[] = {
    { "round trip", 2, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(chan_pingpong, "rendezvous channels: a round trip between two threads",
             pingpong_points)

static const bench_point_t select4_points[] = {
    { "4 senders, 1 selecting receiver", 5, 4, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(chan_select4, "select over 4 channels fed by 4 senders", select4_points)

static const bench_point_t select_fd_points[] = {
    { "round trip", 2, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(chan_select_fd, "a select with an fd case vs epoll_wait on an eventfd: round trip",
             select_fd_points)

/* This worker's share of `total` items when `n` workers split them. */
static uint64_t split(uint64_t total, int n, int k)
{
    return total / (uint64_t)n + ((uint64_t)k < total % (uint64_t)n ? 1 : 0);
}

/* ---- buffered: one blocking queue interface per implementation ----------- */

typedef struct qops {
    void *(*create)(void);
    void (*destroy)(void *q);
    void (*put)(void *q, uint64_t v);
    uint64_t (*get)(void *q);
} qops_t;

typedef struct qrun {
    const qops_t *ops;
    void *q;
    int producers;
} qrun_t;

static void buffered_body(bench_worker_t *w)
{
    qrun_t *x = w->shared;
    int p = x->producers, c = w->threads - p;
    uint64_t sum = 0;
    if (w->id < p) {
        uint64_t n = split(w->ops, p, w->id);
        for (uint64_t i = 0; i < n; i++)
            x->ops->put(x->q, i + 1);
    } else {
        uint64_t n = split(w->ops, c, w->id - p);
        for (uint64_t i = 0; i < n; i++)
            sum += x->ops->get(x->q);
    }
    bench_consume(sum);
}

static int64_t buffered_run(bench_run_t *r, const qops_t *ops)
{
    qrun_t x = { ops, ops->create(), (int)r->arg };
    if (x.q == NULL)
        return BENCH_FAILED;
    int64_t ns = bench_parallel(r, buffered_body, &x);
    r->items = r->ops;
    ops->destroy(x.q);
    return ns;
}

static void *chan_create(void)
{
    parc_chan_t *c;
    return parc_chan_create(&c, sizeof(uint64_t), CAPACITY) == 0 ? c : NULL;
}
static void chan_destroy(void *q) { parc_chan_free(q); }
static void chan_put(void *q, uint64_t v) { parc_chan_send(q, &v); }
static uint64_t chan_get(void *q)
{
    uint64_t v = 0;
    parc_chan_recv(q, &v);
    return v;
}
static const qops_t chan_ops = { chan_create, chan_destroy, chan_put, chan_get };

static int64_t parc_buffered(bench_run_t *r) { return buffered_run(r, &chan_ops); }
BENCH_CASE(chan_buffered, "parc", parc_buffered)

#ifdef PARC_BENCH_HAVE_TBB
static void *tbb_create(void) { return bench_tbb_create(CAPACITY); }
static void tbb_destroy(void *q) { bench_tbb_destroy(q); }
static void tbb_put(void *q, uint64_t v) { bench_tbb_push(q, v); }
static uint64_t tbb_get(void *q) { return bench_tbb_pop(q); }
static const qops_t tbb_ops = { tbb_create, tbb_destroy, tbb_put, tbb_get };
static int64_t tbb_buffered(bench_run_t *r) { return buffered_run(r, &tbb_ops); }
BENCH_CASE(chan_buffered, "tbb-bounded", tbb_buffered)
#endif

#ifdef PARC_BENCH_HAVE_MOODYCAMEL
static void *mcb_create(void) { return bench_mcb_create(CAPACITY); }
static void mcb_destroy(void *q) { bench_mcb_destroy(q); }
static void mcb_put(void *q, uint64_t v) { bench_mcb_enqueue(q, (void *)(uintptr_t)v); }
static uint64_t mcb_get(void *q)
{
    void *v = NULL;
    bench_mcb_wait_dequeue(q, &v, -1);
    return (uintptr_t)v;
}
static const qops_t mcb_ops = { mcb_create, mcb_destroy, mcb_put, mcb_get };
static int64_t mcb_buffered(bench_run_t *r) { return buffered_run(r, &mcb_ops); }
BENCH_CASE(chan_buffered, "moodycamel-blocking", mcb_buffered)
#endif

/* ---- ping-pong --------------------------------------------------------------- */

typedef struct pp {
    const qops_t *ops;
    void *q[2];
} pp_t;

static void pingpong_body(bench_worker_t *w)
{
    pp_t *p = w->shared;
    void *there = p->q[w->id], *back = p->q[1 - w->id];
    uint64_t sum = 0;
    for (uint64_t i = 0; i < w->ops; i++) {
        if (w->id == 0) {
            p->ops->put(there, i + 1);
            sum += p->ops->get(back);
        } else {
            p->ops->put(there, p->ops->get(back));
        }
    }
    bench_consume(sum);
}

static int64_t pingpong_run(bench_run_t *r, const qops_t *ops)
{
    pp_t p = { ops, { ops->create(), ops->create() } };
    if (p.q[0] == NULL || p.q[1] == NULL)
        return BENCH_FAILED;
    int64_t ns = bench_parallel(r, pingpong_body, &p);
    r->items = r->ops;
    ops->destroy(p.q[0]);
    ops->destroy(p.q[1]);
    return ns;
}

static void *rendezvous_create(void)
{
    parc_chan_t *c;
    return parc_chan_create(&c, sizeof(uint64_t), 0) == 0 ? c : NULL;
}
static const qops_t rendezvous_ops = { rendezvous_create, chan_destroy, chan_put, chan_get };
static int64_t parc_pingpong(bench_run_t *r) { return pingpong_run(r, &rendezvous_ops); }
BENCH_CASE(chan_pingpong, "parc", parc_pingpong)

#ifdef PARC_BENCH_HAVE_TBB
static void *tbb1_create(void) { return bench_tbb_create(1); }
static const qops_t tbb1_ops = { tbb1_create, tbb_destroy, tbb_put, tbb_get };
static int64_t tbb_pingpong(bench_run_t *r) { return pingpong_run(r, &tbb1_ops); }
BENCH_CASE(chan_pingpong, "tbb-bounded(1)", tbb_pingpong)
#endif

/* ---- select over 4 channels ---------------------------------------------------- */

typedef struct s4 {
    parc_chan_t *ch[4];
} s4_t;

static void select4_body(bench_worker_t *w)
{
    s4_t *s = w->shared;
    int senders = w->threads - 1;
    if (w->id > 0) {
        uint64_t n = split(w->ops, senders, w->id - 1);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t v = i + 1;
            parc_chan_send(s->ch[w->id - 1], &v);
        }
        return;
    }
    uint64_t v[4], sum = 0;
    parc_select_case_t cs[4];
    for (int k = 0; k < 4; k++)
        cs[k] = parc_select_recv(s->ch[k], &v[k]);
    for (uint64_t i = 0; i < w->ops; i++) {
        size_t idx;
        parc_select(cs, 4, 0, &idx);
        sum += v[idx];
    }
    bench_consume(sum);
}

static int64_t parc_select4(bench_run_t *r)
{
    s4_t s;
    for (int k = 0; k < 4; k++)
        if (parc_chan_create(&s.ch[k], sizeof(uint64_t), CAPACITY) != 0)
            return BENCH_FAILED;
    int64_t ns = bench_parallel(r, select4_body, &s);
    r->items = r->ops;
    for (int k = 0; k < 4; k++)
        parc_chan_free(s.ch[k]);
    return ns;
}
BENCH_CASE(chan_select4, "parc", parc_select4)

/* ---- a select with an fd vs epoll + eventfd ------------------------------------- */

typedef struct sfd {
    parc_chan_t *ch[2];
    int idle_fd; /* a pipe's read end nobody writes: never ready */
    int efd[2], ep[2];
} sfd_t;

static uint64_t select_get(sfd_t *s, int k)
{
    uint64_t v = 0;
    parc_select_case_t cs[2];
    cs[0] = parc_select_recv(s->ch[k], &v);
    cs[1] = parc_select_readable(s->idle_fd);
    size_t idx;
    parc_select(cs, 2, 0, &idx);
    return v;
}

static void select_fd_body(bench_worker_t *w)
{
    sfd_t *s = w->shared;
    int there = w->id, back = 1 - w->id;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < w->ops; i++) {
        uint64_t v = i + 1;
        if (w->id == 0) {
            parc_chan_send(s->ch[there], &v);
            sum += select_get(s, back);
        } else {
            v = select_get(s, back);
            parc_chan_send(s->ch[there], &v);
        }
    }
    bench_consume(sum);
}

static int64_t parc_select_fd(bench_run_t *r)
{
    sfd_t s;
    int p[2];
    if (pipe(p) != 0)
        return BENCH_FAILED;
    s.idle_fd = p[0];
    for (int k = 0; k < 2; k++)
        if (parc_chan_create(&s.ch[k], sizeof(uint64_t), 1) != 0)
            return BENCH_FAILED;
    int64_t ns = bench_parallel(r, select_fd_body, &s);
    r->items = r->ops;
    for (int k = 0; k < 2; k++)
        parc_chan_free(s.ch[k]);
    close(p[0]);
    close(p[1]);
    return ns;
}
BENCH_CASE(chan_select_fd, "parc", parc_select_fd)

static uint64_t epoll_get(sfd_t *s, int k)
{
    struct epoll_event ev;
    eventfd_t v = 0;
    while (eventfd_read(s->efd[k], &v) != 0) /* non-blocking: EAGAIN */
        (void)epoll_wait(s->ep[k], &ev, 1, -1);
    return v;
}

static void epoll_body(bench_worker_t *w)
{
    sfd_t *s = w->shared;
    int there = w->id, back = 1 - w->id;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < w->ops; i++) {
        if (w->id == 0) {
            eventfd_write(s->efd[there], i + 1);
            sum += epoll_get(s, back);
        } else {
            eventfd_write(s->efd[there], epoll_get(s, back));
        }
    }
    bench_consume(sum);
}

static int64_t epoll_eventfd(bench_run_t *r)
{
    sfd_t s;
    for (int k = 0; k < 2; k++) {
        s.efd[k] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        s.ep[k] = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = s.efd[k] };
        if (s.efd[k] < 0 || s.ep[k] < 0 ||
            epoll_ctl(s.ep[k], EPOLL_CTL_ADD, s.efd[k], &ev) != 0)
            return BENCH_FAILED;
    }
    int64_t ns = bench_parallel(r, epoll_body, &s);
    r->items = r->ops;
    for (int k = 0; k < 2; k++) {
        close(s.efd[k]);
        close(s.ep[k]);
    }
    return ns;
}
BENCH_CASE(chan_select_fd, "epoll+eventfd", epoll_eventfd)

#ifdef PARC_BENCH_GO_CHAN
/* Go's channels in the same shape, run by the framework
 * (bench_run_external): bench/chan_peers/chan_bench.go. */
static int64_t go_chan_case(bench_run_t *r, const char *name)
{
    const char *const argv[] = { PARC_BENCH_GO_CHAN, name, NULL };
    return bench_run_external(r, argv);
}
static int64_t go_buffered(bench_run_t *r) { return go_chan_case(r, "chan_buffered"); }
static int64_t go_pingpong(bench_run_t *r) { return go_chan_case(r, "chan_pingpong"); }
static int64_t go_select4(bench_run_t *r) { return go_chan_case(r, "chan_select4"); }
BENCH_CASE(chan_buffered, "go", go_buffered)
BENCH_CASE(chan_pingpong, "go", go_pingpong)
BENCH_CASE(chan_select4, "go", go_select4)
#endif
