/*
 * bench/bench_actor.c — actors (parc/actor.h, parc/act.h).
 *
 * Benchmarks (scheduled actors on a 2-worker runtime, kept warm):
 *   actor_spawn     spawn an actor, send it one message, it stops itself;
 *                   until all are processed (quiescence). One op = one
 *                   actor. Peer: Erlang spawns at ~1.7 us per process
 *                   here (bench/actor_peers/actor_peer.erl when erl is
 *                   installed; the target is <= 0.2x that).
 *   actor_ring      a token passed around a ring of 1,000 actors; one op
 *                   = one hop.
 *   actor_pingpong  two actors bounce a message; one op = one round trip
 *                   (Erlang: ~470 ns here). The floor column relates it
 *                   to a cache-line round trip.
 *   actor_counting  Savina "Counting": one sender (the bench thread, not
 *                   an actor) streams small parc_msg_new messages (a
 *                   uint64) to one actor, which sums and frees them; one
 *                   op = one message, checked (count and sum). Peers:
 *                   Go (a goroutine receiving from a buffered channel of
 *                   1024) and Erlang (a process), bench/actor_peers.
 *   actor_fj_throughput  Savina "Fork-Join throughput": one sender sends
 *                   one parc_msg_new message to each of 60 actors in
 *                   turn, repeated; each actor counts; one op = one
 *                   message, checked per actor. Same peers, 60
 *                   goroutines with a buffered channel each / 60
 *                   processes. A second point sends caller-owned
 *                   messages (an array made before the clock, each
 *                   slot filled by the sender in the loop) and is paired
 *                   with the first (its "versus" column): the ratio is
 *                   what parc_msg_new/parc_msg_free cost this workload,
 *                   the rest is sends, turns and scheduling. It is a
 *                   diagnostic point with no peer of its own: Go's
 *                   channel copies the value and allocates nothing, so
 *                   its figure is the peer of both points.
 *   actor_thread    thread-per-actor: one sender, one actor counting
 *                   intrusive messages until close; one op = one message.
 *                   Peer: the seed's Python actor (a thread reading a
 *                   queue.Queue), bench/actor_peers/python_actor.py.
 *   actor_thread_rr thread-per-actor request/reply round trip:
 *                   parc_actor_ask with a caller-storage reply future,
 *                   parc_msg_reply inside run(), parc_actor_await.
 *
 * Idle memory per actor is printed once (stderr) by actor_spawn's first
 * run: what the process really spends per idle spawned actor, measured on
 * a fresh runtime over 100,000 actors as the growth of its resident set
 * (/proc/self/statm: the actors' slabs, their headers, and anything else
 * spawning touched), with the heap's growth (mallinfo2: in use plus
 * mmapped) beside it.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "parc/actor.h"
#include "parc/act.h"

static parc_act_rt_t *runtime(void)
{
    static parc_act_rt_t *rt;
    if (rt == NULL && parc_act_rt_create(2, &rt) != 0)
        return NULL;
    return rt;
}

/* ---- actor_spawn ---------------------------------------------------------- */

static const bench_point_t spawn_points[] = {
    { "spawn + 1 message each, 2 workers", 1, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(actor_spawn, "spawn actors, send each one message, until all processed", spawn_points)

static void exit_on_message(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)state;
    (void)m;
    parc_act_exit(self, 0);
}

static void idle_behaviour(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    (void)state;
    (void)m;
}

/* Resident bytes of this process (Linux), or -1. */
static double resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = -1;
    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : (double)resident * (double)sysconf(_SC_PAGESIZE);
}

static double heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (double)mi.uordblks + (double)mi.hblkhd;
}

static void print_idle_memory(void)
{
    enum { N = 100000 };
    static parc_act_t *a[N];
    parc_act_rt_t *rt;
    if (parc_act_rt_create(2, &rt) != 0)
        return;
    memset(a, 0xff, sizeof a); /* its pages are not the actors' */
    double rss0 = resident_bytes(), heap0 = heap_bytes();
    int spawned = 0;
    while (spawned < N &&
           parc_act_spawn(rt, idle_behaviour, NULL, NULL, &a[spawned]) == 0)
        spawned++;
    double rss1 = resident_bytes(), heap1 = heap_bytes();
    if (spawned == N)
        fprintf(stderr, "actor: idle memory per scheduled actor: %.1f bytes "
                        "(resident set growth over %d actors; heap growth "
                        "%.1f bytes each)\n",
                (rss1 - rss0) / N, N, (heap1 - heap0) / N);
    for (int i = 0; i < spawned; i++) {
        parc_act_stop(a[i], 0);
        parc_act_release(a[i]);
    }
    parc_act_rt_quiesce(rt);
    parc_act_rt_free(rt);
}

static int64_t spawn_parc(bench_run_t *r)
{
    static int printed;
    parc_act_rt_t *rt = runtime();
    if (rt == NULL)
        return BENCH_FAILED;
    if (!printed++)
        print_idle_memory();
    parc_msg_t *msgs = calloc(r->ops, sizeof *msgs);
    if (msgs == NULL)
        return BENCH_FAILED;
    int64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < r->ops; i++) {
        parc_act_t *a;
        if (parc_act_spawn(rt, exit_on_message, NULL, NULL, &a) != 0)
            return BENCH_FAILED;
        parc_msg_init(&msgs[i], PARC_MSG_USER, NULL);
        if (parc_act_send(a, &msgs[i]) != 0)
            return BENCH_FAILED;
        parc_act_release(a);
    }
    parc_act_rt_quiesce(rt);
    int64_t ns = bench_now_ns() - t0;
    free(msgs);
    return ns;
}
BENCH_CASE(actor_spawn, "parc", spawn_parc)

/* ---- actor_ring ------------------------------------------------------------ */

static const bench_point_t ring_points[] = {
    { "ring of 1000 actors, 2 workers", 1, 1000, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(actor_ring, "a token passed around a ring of actors (one op = one hop)", ring_points)

typedef struct token {
    parc_msg_t hdr;
    uint64_t left;
} token_t;

static void ring_hop(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    token_t *t = parc_msg_entry(m, token_t, hdr);
    if (t->left-- > 0)
        parc_act_send(*(parc_act_t **)state, m);
}

static int64_t ring_parc(bench_run_t *r)
{
    parc_act_rt_t *rt = runtime();
    long n = r->arg;
    parc_act_t **a = calloc((size_t)n, sizeof *a);
    parc_act_t **next = calloc((size_t)n, sizeof *next);
    if (rt == NULL || a == NULL || next == NULL)
        return BENCH_FAILED;
    for (long i = 0; i < n; i++)
        if (parc_act_spawn(rt, ring_hop, &next[i], NULL, &a[i]) != 0)
            return BENCH_FAILED;
    for (long i = 0; i < n; i++)
        next[i] = a[(i + 1) % n];
    token_t t;
    parc_msg_init(&t.hdr, PARC_MSG_USER, NULL);
    t.left = r->ops - 1;
    int64_t t0 = bench_now_ns();
    parc_act_send(a[0], &t.hdr);
    parc_act_rt_quiesce(rt);
    int64_t ns = bench_now_ns() - t0;
    for (long i = 0; i < n; i++) {
        parc_act_stop(a[i], 0);
        parc_act_release(a[i]);
    }
    parc_act_rt_quiesce(rt);
    free(a);
    free(next);
    return ns;
}
BENCH_CASE(actor_ring, "parc", ring_parc)

/* ---- actor_pingpong ----------------------------------------------------------- */

static const bench_point_t pp_points[] = {
    { "two actors, 2 workers", 1, 2, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(actor_pingpong, "two actors bounce a message (one op = one round trip)", pp_points)

static int64_t pingpong_parc(bench_run_t *r)
{
    bench_run_t ring = *r;
    ring.ops = 2 * r->ops; /* a ring of two: two hops per round trip */
    return ring_parc(&ring);
}
BENCH_CASE(actor_pingpong, "parc", pingpong_parc)

/* ---- actor_counting, actor_fj_throughput ------------------------------------- */

static const bench_point_t counting_points[] = {
    { "1 sender -> 1 actor, parc_msg_new", 1, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(actor_counting, "Savina Counting: one sender streams messages to one actor", counting_points)

/* An actor's tally; its own line (each actor's turns write it). */
typedef struct tally {
    PARC_CACHE_ALIGNED uint64_t n, sum;
} tally_t;

static void count_behaviour(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    tally_t *t = state;
    t->n++;
    t->sum += *(const uint64_t *)parc_msg_data(m);
    parc_msg_free(m);
}

/* A caller-owned message (the owned points): header and value on one
 * line, as parc_msg_new's 64-byte block holds them. */
typedef struct owned_msg {
    PARC_CACHE_ALIGNED parc_msg_t hdr;
    uint64_t v;
} owned_msg_t;

static void owned_dispose(parc_msg_t *m)
{
    (void)m; /* the benchmark owns the array */
}

static void owned_behaviour(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    tally_t *t = state;
    t->n++;
    t->sum += parc_msg_entry(m, owned_msg_t, hdr)->v;
    parc_msg_free(m); /* owned_dispose: the same call as the other kind */
}

/* The owned points' arg: actors | FJ_OWNED. */
#define FJ_OWNED (1L << 20)

/* Stream r->ops messages round-robin to `actors` counting actors; checks
 * that each got its share exactly once. Messages are parc_msg_new's, or
 * with `owned` slots of an array made and touched before the clock
 * starts, filled (parc_msg_init and the value) in the timed loop: the
 * same sends, turns and behaviour without the allocator. */
static int64_t stream_to_actors(bench_run_t *r, long actors, bool owned)
{
    parc_act_rt_t *rt = runtime();
    parc_act_t **a = calloc((size_t)actors, sizeof *a);
    tally_t *t = aligned_alloc(PARC_CACHELINE, (size_t)actors * sizeof *t);
    owned_msg_t *om = NULL;
    if (owned) {
        om = aligned_alloc(PARC_CACHELINE, (size_t)r->ops * sizeof *om);
        if (om != NULL)
            memset(om, 0, (size_t)r->ops * sizeof *om); /* no page faults
                                                         * on the clock */
    }
    if (rt == NULL || a == NULL || t == NULL || (owned && om == NULL))
        return BENCH_FAILED;
    memset(t, 0, (size_t)actors * sizeof *t);
    for (long i = 0; i < actors; i++)
        if (parc_act_spawn(rt, owned ? owned_behaviour : count_behaviour,
                           &t[i], NULL, &a[i]) != 0)
            return BENCH_FAILED;
    int64_t t0 = bench_now_ns();
    long k = 0;
    for (uint64_t i = 0; i < r->ops; i++) {
        parc_msg_t *m;
        uint64_t v = i + 1;
        if (owned) {
            m = &om[i].hdr;
            parc_msg_init(m, PARC_MSG_USER, owned_dispose);
            om[i].v = v;
        } else if (parc_msg_new(PARC_MSG_USER, &v, sizeof v, &m) != 0) {
            return BENCH_FAILED;
        }
        if (parc_act_send(a[k], m) != 0)
            return BENCH_FAILED;
        if (++k == actors)
            k = 0;
    }
    parc_act_rt_quiesce(rt);
    int64_t ns = bench_now_ns() - t0;
    uint64_t n = 0, sum = 0;
    for (long i = 0; i < actors; i++) {
        uint64_t share = r->ops / (uint64_t)actors +
                         ((uint64_t)i < r->ops % (uint64_t)actors);
        if (t[i].n != share)
            ns = BENCH_FAILED;
        n += t[i].n;
        sum += t[i].sum;
        parc_act_stop(a[i], 0);
        parc_act_release(a[i]);
    }
    parc_act_rt_quiesce(rt);
    free(a);
    free(t);
    free(om); /* every message was handled: quiescent */
    if (n != r->ops || sum != r->ops * (r->ops + 1) / 2)
        return BENCH_FAILED;
    return ns;
}

static int64_t counting_parc(bench_run_t *r)
{
    return stream_to_actors(r, 1, false);
}
BENCH_CASE(actor_counting, "parc", counting_parc)

#ifdef PARC_BENCH_GO_ACTOR
/* Go's goroutine + buffered channel in the same shape, run by the
 * framework (bench_run_external): bench/actor_peers/actor_bench.go. */
static int64_t go_actor_case(bench_run_t *r, const char *name)
{
    const char *const argv[] = { PARC_BENCH_GO_ACTOR, name, NULL };
    return bench_run_external(r, argv);
}
static int64_t counting_go(bench_run_t *r)
{
    return go_actor_case(r, "actor_counting");
}
BENCH_CASE(actor_counting, "go", counting_go)
#endif

static const bench_point_t fj_points[] = {
    { "1 sender -> 60 actors round-robin, parc_msg_new", 1, 60, NULL },
    { "1 sender -> 60 actors round-robin, caller-owned messages", 1,
      60 | FJ_OWNED, "1 sender -> 60 actors round-robin, parc_msg_new" },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(actor_fj_throughput, "Savina Fork-Join throughput: one message to each of 60 actors, repeated", fj_points)

static int64_t fj_parc(bench_run_t *r)
{
    return stream_to_actors(r, r->arg & ~FJ_OWNED, (r->arg & FJ_OWNED) != 0);
}
BENCH_CASE(actor_fj_throughput, "parc", fj_parc)

#ifdef PARC_BENCH_GO_ACTOR
/* Go: 60 goroutines, each on its own buffered channel (both points: Go's
 * channel copies the value, there is no message to allocate). */
static int64_t fj_go(bench_run_t *r)
{
    return go_actor_case(r, "actor_fj_throughput");
}
BENCH_CASE(actor_fj_throughput, "go", fj_go)
#endif

/* ---- actor_thread ------------------------------------------------------------- */

static const bench_point_t thread_points[] = {
    { "1 sender -> thread actor", 2, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(actor_thread, "thread-per-actor: messages from one sender until close", thread_points)

static int count_run(parc_actor_t *self, void *arg)
{
    (void)arg;
    int n = 0;
    parc_msg_t *m;
    while (parc_actor_recv(self, &m) == 0)
        n++;
    return n;
}

static int64_t thread_parc(bench_run_t *r)
{
    parc_msg_t *msgs = calloc(r->ops, sizeof *msgs);
    parc_actor_t a;
    if (msgs == NULL || parc_actor_init(&a, count_run, NULL) != 0
        || parc_actor_start(&a) != 0)
        return BENCH_FAILED;
    int64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < r->ops; i++)
        parc_actor_send(&a, &msgs[i]);
    parc_actor_close(&a);
    int got = 0;
    parc_actor_join(&a, &got);
    int64_t ns = bench_now_ns() - t0;
    parc_actor_destroy(&a);
    free(msgs);
    return (uint64_t)got == r->ops ? ns : BENCH_FAILED;
}
BENCH_CASE(actor_thread, "parc", thread_parc)

/* ---- actor_thread_rr ---------------------------------------------------------- */

static const bench_point_t rr_points[] = {
    { "request/reply with a thread actor", 2, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(actor_thread_rr, "thread-per-actor request/reply round trip", rr_points)

static int echo_run(parc_actor_t *self, void *arg)
{
    (void)arg;
    parc_msg_t *m;
    while (parc_actor_recv(self, &m) == 0)
        parc_msg_reply(m, 0, m);
    return 0;
}

static int64_t rr_parc(bench_run_t *r)
{
    parc_actor_t a;
    if (parc_actor_init(&a, echo_run, NULL) != 0 || parc_actor_start(&a) != 0)
        return BENCH_FAILED;
    parc_msg_t q;
    parc_future_t reply;
    int64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < r->ops; i++) {
        void *v = NULL;
        parc_msg_init(&q, PARC_MSG_USER, NULL);
        if (parc_actor_ask(&a, &q, &reply) != 0 ||
            parc_actor_await(&a, &reply, &v) != 0 || v != &q)
            return BENCH_FAILED;
        parc_future_destroy(&reply);
    }
    int64_t ns = bench_now_ns() - t0;
    parc_actor_close(&a);
    parc_actor_join(&a, NULL);
    parc_actor_destroy(&a);
    return ns;
}
BENCH_CASE(actor_thread_rr, "parc", rr_parc)

#ifdef PARC_BENCH_GO_ACTOR
/* Go: request/reply over two unbuffered channels. */
static int64_t rr_go(bench_run_t *r)
{
    return go_actor_case(r, "actor_thread_rr");
}
BENCH_CASE(actor_thread_rr, "go", rr_go)
#endif
