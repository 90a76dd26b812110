/*
 * bench/probe/probe_poll.c — a diagnostic, not part of parc-bench: one producer
 * streams N items to one polling consumer, and the consumer's wait after a
 * miss is a parameter (K PAUSEs, then the next try; K = 1 is what
 * bench_wait_poll() does for its first 2047 misses). Prints ns/item, misses
 * per item and how often the consumer took the last queued item (it had
 * caught up with the producer). Used to test "the polling consumer keeps
 * catching up and both sides then fight over the same lines".
 *
 *   cc -O2 -pthread -Iinclude bench/probe/probe_poll.c build/bench/libparc.a \
 *      $(pkg-config --cflags --libs liburcu-common) -o /tmp/probe
 *   /tmp/probe A B ITEMS K PLACE ROUNDS  (A, B: mpsc|wfcq|lfq; PLACE: u unpinned, p 0/1, s 0/0)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parc/lfqueue.h"
#include "parc/mpsc.h"
#define _LGPL_SOURCE
#include <urcu/wfcqueue.h>

typedef struct msg {
    parc_mpsc_node_t node;
    void *item;
} msg_t;
typedef struct wmsg {
    struct cds_wfcq_node node;
    void *item;
} wmsg_t;

static const char *impl;
static size_t items;
static unsigned K;
static char place;
static parc_mpsc_t mq __attribute__((aligned(64)));
static struct {
    struct cds_wfcq_head head;
    char pad[64];
    struct cds_wfcq_tail tail;
} wq __attribute__((aligned(64)));
static parc_lfqueue_t lq;
static msg_t *msgs;
static wmsg_t *wmsgs;
static unsigned long misses, last_taken, stub_misses;
static int go;

static void pin(int cpu)
{
    if (place == 'u')
        return;
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(place == 's' ? 0 : cpu, &s);
    pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static void *producer(void *arg)
{
    (void)arg;
    pin(0);
    while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
        ;
    for (size_t i = 0; i < items; i++) {
        void *it = (void *)(uintptr_t)(i + 1);
        if (impl[0] == 'm') {
            msgs[i].item = it;
            parc_mpsc_push(&mq, &msgs[i].node, NULL);
        } else if (impl[0] == 'w') {
            wmsgs[i].item = it;
            cds_wfcq_node_init(&wmsgs[i].node);
            cds_wfcq_enqueue(&wq.head, &wq.tail, &wmsgs[i].node);
        } else {
            parc_lfqueue_push(&lq, it);
        }
    }
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    pin(1);
    __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    unsigned long miss = 0, last = 0, stub_miss = 0;
    for (size_t i = 0; i < items; i++) {
        void *it = NULL;
        unsigned polls = 0;
        for (;;) {
            if (impl[0] == 'm') {
                parc_mpsc_node_t *n;
                if (parc_mpsc_pop_try(&mq, &n) == 0) {
                    it = parc_mpsc_entry(n, msg_t, node)->item;
                    last += mq.tail == &mq.stub;
                    break;
                }
            } else if (impl[0] == 'w') {
                struct cds_wfcq_node *n = __cds_wfcq_dequeue_nonblocking(&wq.head, &wq.tail);
                if (n != NULL && n != CDS_WFCQ_WOULDBLOCK) {
                    it = caa_container_of(n, wmsg_t, node)->item;
                    last += wq.head.node.next == NULL;
                    break;
                }
            } else {
                if (parc_lfqueue_pop_try(&lq, &it) == 0)
                    break;
            }
            miss++;
            if (impl[0] == 'm' && mq.tail == &mq.stub)
                stub_miss++;
            if (++polls >= 2048)
                sched_yield();
            else
                for (unsigned k = 0; k < K; k++)
                    __builtin_ia32_pause();
        }
        if ((uintptr_t)it != i + 1) {
            fprintf(stderr, "order broken at %zu\n", i);
            exit(1);
        }
    }
    misses = miss;
    stub_misses = stub_miss;
    last_taken = last;
    return NULL;
}

static int pp_word;

static void *pong(void *arg)
{
    (void)arg;
    pin(1);
    for (int i = 0; i < 20000; i++) {
        while (__atomic_load_n(&pp_word, __ATOMIC_ACQUIRE) != 2 * i + 1)
            if (place == 's')
                sched_yield(); /* one core: the partner must run */
        __atomic_store_n(&pp_word, 2 * i + 2, __ATOMIC_RELEASE);
    }
    return NULL;
}

/* The cache-line floor: ns per round trip of one word between the two
 * threads (placed as the run's threads are). */
static double floor_ns(void)
{
    pthread_t t;
    struct timespec t0, t1;
    pp_word = 0;
    pthread_create(&t, NULL, pong, NULL);
    pin(0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 20000; i++) {
        __atomic_store_n(&pp_word, 2 * i + 1, __ATOMIC_RELEASE);
        while (__atomic_load_n(&pp_word, __ATOMIC_ACQUIRE) != 2 * i + 2)
            if (place == 's')
                sched_yield();
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(t, NULL);
    return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 20000;
}

static double run_once(const char *which)
{
    impl = which;
    memset(msgs, 0, items * sizeof *msgs);
    memset(wmsgs, 0, items * sizeof *wmsgs);
    parc_mpsc_init(&mq);
    cds_wfcq_init(&wq.head, &wq.tail);
    if (impl[0] == 'l')
        parc_lfqueue_init(&lq);
    go = 0;
    pthread_t p, c;
    struct timespec t0, t1;
    pthread_create(&c, NULL, consumer, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_create(&p, NULL, producer, NULL);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (impl[0] == 'l')
        parc_lfqueue_destroy(&lq);
    return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / items;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* probe A B ITEMS K PLACE ROUNDS: A and B alternated; medians and the
 * median of paired ratios (B's ns over A's: above 1, A is faster). */
int main(int argc, char **argv)
{
    if (argc < 7)
        return 2;
    items = strtoull(argv[3], NULL, 0);
    K = (unsigned)atoi(argv[4]);
    place = argv[5][0];
    int rounds = atoi(argv[6]);
    msgs = calloc(items, sizeof *msgs);
    wmsgs = calloc(items, sizeof *wmsgs);
    double a[64], b[64], r[64], ma[64], mb[64], ca[64], cb[64];
    for (int i = 0; i < rounds && i < 64; i++) {
        double fl = floor_ns();
        a[i] = run_once(argv[1]);
        ma[i] = (double)misses / items;
        double sa = (double)stub_misses / items;
        ca[i] = (double)last_taken / items;
        b[i] = run_once(argv[2]);
        mb[i] = (double)misses / items;
        cb[i] = (double)last_taken / items;
        r[i] = b[i] / a[i];
        if (getenv("PROBE_VERBOSE"))
            printf("  floor %6.1f  %s %6.2f (miss %.3f at-stub %.3f up %.3f)  %s %6.2f (miss %.3f up %.3f)\n", fl,
                   argv[1], a[i], ma[i], sa, ca[i], argv[2], b[i], mb[i], cb[i]);
    }
    qsort(a, rounds, sizeof a[0], cmp);
    qsort(b, rounds, sizeof b[0], cmp);
    qsort(r, rounds, sizeof r[0], cmp);
    qsort(ma, rounds, sizeof a[0], cmp);
    qsort(mb, rounds, sizeof a[0], cmp);
    qsort(ca, rounds, sizeof a[0], cmp);
    qsort(cb, rounds, sizeof a[0], cmp);
    int m = rounds / 2;
    printf("K=%-4u %c  %s %6.2f ns/item (miss %.3f caught-up %.3f)  %s %6.2f ns/item (miss %.3f "
           "caught-up %.3f)  %s/%s speed %.2f [%.2f-%.2f]\n",
           K, place, argv[1], a[m], ma[m], ca[m], argv[2], b[m], mb[m], cb[m], argv[1], argv[2],
           r[m], r[0], r[rounds - 1]);
    return 0;
}
