/*
 * bench/probe/chan_probe.c — where a channel's blocked callers spend a
 * message: how many calls took the slow path, how many of those ended
 * within the spin (and after how many pauses), how many parked, how many
 * futex wake-ups the other side made, per message. Counters come from
 * the channel's sources built with -DPARC_CHAN_PROBE (per thread, so the
 * counting adds no shared line); not a benchmark, a diagnostic.
 *
 *   bench/probe/build.sh && build/chan_probe [pin] [rounds]
 *
 * Cases: pingpong (a round trip over two rendezvous channels; per round
 * trip), 1P1C, 3P1C and 2P2C on a bounded channel of capacity 1024 (per
 * item received).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chan_internal.h"

enum { PINGPONG_N = 200000, ITEMS = 4000000 };

static parc_chan_t *ch[2];
static int pin, producers, consumers;
static pthread_mutex_t sum_lock = PTHREAD_MUTEX_INITIALIZER;
static parc_chan_probe_t sum;

static uint64_t now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void pin_to(int cpu)
{
    if (!pin)
        return;
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu % 2, &s);
    pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static void add_mine(void)
{
    pthread_mutex_lock(&sum_lock);
    uint64_t *d = (uint64_t *)&sum, *s = (uint64_t *)&parc_chan_probe_;
    for (size_t i = 0; i < sizeof sum / sizeof(uint64_t); i++)
        d[i] += s[i];
    memset(&parc_chan_probe_, 0, sizeof parc_chan_probe_);
    pthread_mutex_unlock(&sum_lock);
}

static void *ping(void *arg)
{
    intptr_t id = (intptr_t)arg;
    pin_to((int)id);
    uint64_t v = 0;
    for (int i = 0; i < PINGPONG_N; i++) {
        if (id == 0) {
            parc_chan_send(ch[0], &v);
            parc_chan_recv(ch[1], &v);
        } else {
            parc_chan_recv(ch[0], &v);
            parc_chan_send(ch[1], &v);
        }
    }
    add_mine();
    return NULL;
}

static void *prod(void *arg)
{
    intptr_t id = (intptr_t)arg;
    pin_to((int)id);
    uint64_t n = ITEMS / producers;
    for (uint64_t i = 0; i < n; i++)
        parc_chan_send(ch[0], &i);
    add_mine();
    return NULL;
}

static void *cons(void *arg)
{
    intptr_t id = (intptr_t)arg;
    pin_to((int)id);
    uint64_t n = ITEMS / producers * producers / consumers, v;
    for (uint64_t i = 0; i < n; i++)
        parc_chan_recv(ch[0], &v);
    add_mine();
    return NULL;
}

static void report(const char *name, uint64_t ns, double msgs)
{
    double k = 1.0 / msgs;
    printf("%-9s %8.1f ns/msg | slow %.3f spin_ok %.3f (avg %.0f pauses) "
           "spin_out %.3f parks %.4f wakes %.4f yields %.3f avg budget %.0f\n",
           name, ns * k, sum.slow * k, sum.spin_ok * k,
           sum.spin_ok ? (double)sum.spin_pauses / sum.spin_ok : 0.0,
           sum.spin_out * k, sum.parks * k, sum.wakes * k, sum.yields * k,
           sum.slow ? (double)sum.budget_sum / sum.slow : 0.0);
    memset(&sum, 0, sizeof sum);
}

static void buffered(int p, int c)
{
    pthread_t t[8];
    char name[16];
    producers = p;
    consumers = c;
    parc_chan_create(&ch[0], sizeof(uint64_t), 1024);
    uint64_t t0 = now();
    for (int i = 0; i < p; i++)
        pthread_create(&t[i], NULL, prod, (void *)(intptr_t)i);
    for (int i = 0; i < c; i++)
        pthread_create(&t[p + i], NULL, cons, (void *)(intptr_t)(p + i));
    for (int i = 0; i < p + c; i++)
        pthread_join(t[i], NULL);
    uint64_t ns = now() - t0;
    parc_chan_free(ch[0]);
    snprintf(name, sizeof name, "%dP%dC", p, c);
    report(name, ns, (double)(ITEMS / p * p));
}

int main(int argc, char **argv)
{
    pin = argc > 1 && strcmp(argv[1], "pin") == 0;
    int rounds = argc > 2 ? atoi(argv[2]) : 1;
    const char *only = argc > 3 ? argv[3] : "";
    for (int r = 0; r < rounds; r++) {
        if (!*only || strstr(only, "pp")) {
            pthread_t t[2];
            parc_chan_create(&ch[0], sizeof(uint64_t), 0);
            parc_chan_create(&ch[1], sizeof(uint64_t), 0);
            uint64_t t0 = now();
            for (intptr_t i = 0; i < 2; i++)
                pthread_create(&t[i], NULL, ping, (void *)i);
            for (int i = 0; i < 2; i++)
                pthread_join(t[i], NULL);
            uint64_t ns = now() - t0;
            parc_chan_free(ch[0]);
            parc_chan_free(ch[1]);
            report("pingpong", ns, PINGPONG_N);
        }
        if (!*only || strstr(only, "1P1C"))
            buffered(1, 1);
        if (!*only || strstr(only, "3P1C"))
            buffered(3, 1);
        if (!*only || strstr(only, "2P2C"))
            buffered(2, 2);
    }
    return 0;
}
