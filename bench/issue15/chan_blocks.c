/*
 * bench/issue15/chan_blocks.c — two channel hand-offs timed in blocks,
 * for a shared, loaded machine: the p10 and median of many short blocks
 * say what a hand-off costs when neither thread was preempted, next to
 * the cache-line floor measured the same way in the same run (and the
 * mean, which the preempted and parked blocks join). Not a
 * parc-bench case (no peers): it compares builds of parc (A/B).
 *
 *   floor     two threads pass one word back and forth (spinning): one
 *             cache-line round trip, per round trip of 32 in a block
 *   pingpong  a round trip over two rendezvous channels (parc_chan_send,
 *             parc_chan_recv), per round trip of 32 in a block
 *   1P1C      a bounded channel of capacity 1024, one sender and one
 *             receiver; per item of 2048 received in a block
 *
 * Build against a parc-bench build and run (pinned to CPUs 0 and 1 with
 * "pin"; the second argument is the number of rounds):
 *   cc -O2 -std=c11 -Iinclude -Ibuild/bench/include \
 *      bench/issue15/chan_blocks.c build/bench/libparc.a -lpthread \
 *      -o build/chan_blocks && build/chan_blocks pin 3
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parc/atomic.h"
#include "parc/chan.h"

enum { BLOCK = 32, BLOCKS = 3000, ITEMS_PER_ROUND_TRIP = 64 };

static PARC_CACHE_ALIGNED parc_atomic(uint64_t) word;
static parc_chan_t *ch[2];
static int mode, pin;
static uint64_t samples[BLOCKS];

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
    CPU_SET(cpu, &s);
    pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static void *peer(void *arg)
{
    (void)arg;
    pin_to(1);
    uint64_t n = (uint64_t)BLOCK * BLOCKS, v;
    if (mode == 0) {
        for (uint64_t i = 0; i < n; i++) {
            /* relaxed: the word is the whole message */
            while (parc_load(&word, PARC_RELAXED) != 2 * i + 1)
                parc_cpu_relax();
            parc_store(&word, 2 * i + 2, PARC_RELAXED);
        }
    } else if (mode == 1) {
        for (uint64_t i = 0; i < n; i++) {
            parc_chan_recv(ch[0], &v);
            parc_chan_send(ch[1], &v);
        }
    } else {
        for (uint64_t i = 0; i < n * ITEMS_PER_ROUND_TRIP; i++)
            parc_chan_send(ch[0], &i);
    }
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void run(const char *name, double per_block)
{
    pthread_t t;
    parc_store(&word, 0, PARC_RELAXED); /* before the thread starts */
    pthread_create(&t, NULL, peer, NULL);
    pin_to(0);
    for (uint64_t b = 0; b < BLOCKS; b++) {
        uint64_t t0 = now(), v;
        if (mode == 0) {
            for (uint64_t i = b * BLOCK; i < (b + 1) * BLOCK; i++) {
                /* relaxed: as in peer() */
                parc_store(&word, 2 * i + 1, PARC_RELAXED);
                while (parc_load(&word, PARC_RELAXED) != 2 * i + 2)
                    parc_cpu_relax();
            }
        } else if (mode == 1) {
            for (int i = 0; i < BLOCK; i++) {
                v = (uint64_t)i;
                parc_chan_send(ch[0], &v);
                parc_chan_recv(ch[1], &v);
            }
        } else {
            for (int i = 0; i < BLOCK * ITEMS_PER_ROUND_TRIP; i++)
                parc_chan_recv(ch[0], &v);
        }
        samples[b] = now() - t0;
    }
    pthread_join(t, NULL);
    uint64_t sum = 0;
    for (int b = 0; b < BLOCKS; b++)
        sum += samples[b];
    qsort(samples, BLOCKS, sizeof samples[0], cmp);
    printf("%-8s p10 %7.1f  p50 %7.1f  mean %7.1f ns\n", name,
           samples[BLOCKS / 10] / per_block, samples[BLOCKS / 2] / per_block,
           (double)sum / BLOCKS / per_block);
}

int main(int argc, char **argv)
{
    pin = argc > 1 && strcmp(argv[1], "pin") == 0;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    for (int r = 0; r < rounds; r++) {
        mode = 0;
        run("floor", BLOCK);
        mode = 1;
        parc_chan_create(&ch[0], sizeof(uint64_t), 0);
        parc_chan_create(&ch[1], sizeof(uint64_t), 0);
        run("pingpong", BLOCK);
        parc_chan_free(ch[0]);
        parc_chan_free(ch[1]);
        mode = 2;
        parc_chan_create(&ch[0], sizeof(uint64_t), 1024);
        run("1P1C", BLOCK * ITEMS_PER_ROUND_TRIP);
        parc_chan_free(ch[0]);
    }
    return 0;
}
