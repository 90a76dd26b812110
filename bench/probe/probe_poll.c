/*
 * bench/probe/probe_poll.c — a diagnostic, not part of parc-bench: one
 * producer streams N items to one polling consumer through parc's mailbox
 * (parc_mpsc_push + parc_mpsc_pop_try) and through liburcu's wfcqueue
 * (enqueue + __cds_wfcq_dequeue_nonblocking), with bench_wait_poll's
 * policy after a miss (a PAUSE for misses 1-2047 of an item, then
 * sched_yield), alternated in paired rounds, each after a one-word
 * ping-pong floor. Per item it reports: ns, misses, misses at the stub
 * (queue drained; for wfcqueue: NULL) vs at a last node with a push in
 * flight (WOULDBLOCK),
 * catch-ups (a pop that took the last linked node) and yields.
 *
 * Build (from the worktree, after bench/run.sh --build-only):
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Ibuild/bench/include \
 *      bench/probe/probe_poll.c build/bench/libparc.a -lurcu-common -lurcu -lpthread \
 *      -o /tmp/probe_poll
 *   /tmp/probe_poll [rounds] [items] [pin 0|1] [consumer busy steps per item]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parc/mpsc.h"
#define _LGPL_SOURCE
#include <urcu/wfcqueue.h>

typedef struct msg {
    parc_mpsc_node_t node;
    struct cds_wfcq_node wnode;
    uint64_t item;
} msg_t;

static struct {
    PARC_CACHE_ALIGNED parc_mpsc_t q;
    PARC_CACHE_ALIGNED struct cds_wfcq_head wh;
    PARC_CACHE_ALIGNED struct cds_wfcq_tail wt;
    PARC_CACHE_ALIGNED parc_atomic(int) go;
} S;
static msg_t *msgs;
static size_t N;
static int impl, pin;
static unsigned work; /* busy steps per popped item (argv[4]) */

static void busy(unsigned units)
{
    uint64_t x = units;
    for (unsigned i = 0; i < units; i++) {
        x = x * UINT64_C(6364136223846793005) + 1;
        __asm__ volatile("" : "+r"(x));
    }
}

typedef struct { uint64_t miss, miss_stub, catchup, yields, sum; } stats_t;
static stats_t st;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pin_to(int cpu)
{
    if (!pin)
        return;
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static void wait_poll(uint32_t *polls)
{
    if (++*polls < 2048u)
        parc_cpu_relax();
    else {
        st.yields++;
        sched_yield();
    }
}

static void *producer(void *arg)
{
    (void)arg;
    pin_to(0);
    while (!parc_load(&S.go, PARC_ACQUIRE))
        ;
    for (size_t i = 0; i < N; i++) {
        msgs[i].item = i + 1;
        if (impl == 0)
            parc_mpsc_push(&S.q, &msgs[i].node, NULL);
        else if (impl == 2)
            parc_mpsc_push_nowake(&S.q, &msgs[i].node, NULL);

        else {
            cds_wfcq_node_init(&msgs[i].wnode);
            cds_wfcq_enqueue(&S.wh, &S.wt, &msgs[i].wnode);
        }
    }
    return NULL;
}

static void consume(void)
{
    for (size_t i = 0; i < N; i++) {
        uint32_t polls = 0;
        busy(work);
        for (;;) {
            if (impl != 1) {
                parc_mpsc_node_t *n;
                int at_stub = S.q.tail == &S.q.stub;
                if (parc_mpsc_pop_try(&S.q, &n) == 0) {
                    st.sum += parc_mpsc_entry(n, msg_t, node)->item;
                    st.catchup += S.q.tail == &S.q.stub;
                    break;
                }
                st.miss++;
                st.miss_stub += at_stub;
            } else {
                struct cds_wfcq_node *n =
                    __cds_wfcq_dequeue_nonblocking(&S.wh, &S.wt);
                if (n != NULL && n != CDS_WFCQ_WOULDBLOCK) {
                    st.sum += caa_container_of(n, msg_t, wnode)->item;
                    st.catchup += cds_wfcq_empty(&S.wh, &S.wt);
                    break;
                }
                st.miss++;
                st.miss_stub += n == NULL;
            }
            wait_poll(&polls);
        }
    }
}

static parc_atomic(uint64_t) pp;
static void *pong(void *arg)
{
    (void)arg;
    pin_to(0);
    for (uint64_t v = 1; v < 2000; v += 2) {
        while (parc_load(&pp, PARC_ACQUIRE) != v)
            ;
        parc_store(&pp, v + 1, PARC_RELEASE);
    }
    return NULL;
}

static double floor_ns(void)
{
    pthread_t t;
    parc_store(&pp, 0, PARC_RELAXED);
    pthread_create(&t, NULL, pong, NULL);
    uint64_t t0 = now_ns();
    for (uint64_t v = 0; v < 2000; v += 2) {
        parc_store(&pp, v + 1, PARC_RELEASE);
        while (parc_load(&pp, PARC_ACQUIRE) != v + 2)
            ;
    }
    uint64_t t1 = now_ns();
    pthread_join(t, NULL);
    return (double)(t1 - t0) / 1000.0;
}

static double run(int which)
{
    impl = which;
    memset(&st, 0, sizeof st);
    parc_mpsc_init(&S.q);
    cds_wfcq_init(&S.wh, &S.wt);
    memset(msgs, 0, N * sizeof *msgs);
    parc_store(&S.go, 0, PARC_RELAXED);
    pthread_t t;
    pthread_create(&t, NULL, producer, NULL);
    uint64_t t0 = now_ns();
    parc_store(&S.go, 1, PARC_RELEASE);
    consume();
    uint64_t t1 = now_ns();
    pthread_join(t, NULL);
    if (st.sum != (uint64_t)N * (N + 1) / 2)
        fprintf(stderr, "bad sum\n");
    return (double)(t1 - t0) / (double)N;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 6;
    N = argc > 2 ? (size_t)atol(argv[2]) : 1000000;
    pin = argc > 3 ? atoi(argv[3]) : 1;
    work = argc > 4 ? (unsigned)atoi(argv[4]) : 0;
    msgs = aligned_alloc(64, (N * sizeof *msgs + 63) / 64 * 64);
    pin_to(1);
    static const char *names[] = { "parc", "wfcq", "parc-nowake" };
    for (int r = 0; r < rounds; r++) {
        double f = floor_ns();
        static const int order[] = { 0, 1, 2 };
        for (int k = 0; k < 3; k++) {
            int which = order[(r & 1) ? 2 - k : k];
            double ns = run(which);
            printf("round %d floor %5.0f  %-11s %6.2f ns/item  miss %.4f "
                   "(stub %.4f) catchup %.4f yields %.5f\n",
                   r, f, names[which], ns, (double)st.miss / N,
                   (double)st.miss_stub / N, (double)st.catchup / N,
                   (double)st.yields / N);
        }
    }
    return 0;
}
