/*
 * bench/bench_floor.c — the floor: the cost of a cache-line round trip.
 *
 * Two threads ping-pong one atomic word: thread 0 writes an odd number and
 * waits for the next even one, thread 1 waits for the odd one and writes the
 * next even one. Each operation is one round trip of the line between the
 * two cores (two transfers), the least any handoff between two threads can
 * cost. On the 2-core virtual machines parc is developed on it is about
 * 0.1 us, sometimes 0.4 us for minutes when the host moves the virtual
 * cores; parc-bench measures it again before every other benchmark and
 * reports each ns/op as a multiple of it.
 *
 * The figure is the cost when both threads are running: thread 0 times
 * every block of BLOCK round trips, and the run reports the block at the
 * 10th percentile, scaled to the run's length. A block in which the other
 * thread was descheduled (the two cores are shared with everything else
 * on the machine; under load that is most blocks) lasts a time slice and
 * says nothing about the cache line; the fast tenth of the blocks does.
 * When the host moves the virtual cores every block slows down, and so
 * does the floor, which is the point. If the threads never run at once
 * (or there are too few blocks), the run reports plain elapsed / ops.
 *
 * The two threads pin themselves to two different CPUs, --pin or not: the
 * floor is a cross-core round trip by definition, and on a loaded machine
 * the scheduler otherwise tends to stack both on one core, where every
 * round trip waits for a time slice (measured: ~200 us unpinned against
 * ~0.3 us pinned under the same load).
 *
 * Nothing of parc's is measured here: the word is the harness's own, so it
 * uses parc_raw_* (no chaos point).
 */
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"
#include "parc/atomic.h"

static const bench_point_t floor_points[] = {
    { "ping-pong", 2, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(floor, "cache-line round trip: two threads ping-pong one atomic word",
             floor_points)

#define BLOCK 32u /* round trips per timed block: ~3-13 us; the clock
                      read costs under 1 ns per round trip */
#define MIN_BLOCKS 10u
#define STOP UINT64_MAX /* thread 0 ends an overrun run with this value */

typedef struct pingpong {
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) word;
    PARC_CACHE_ALIGNED int64_t *block_ns; /* thread 0's timed blocks */
    uint64_t nblocks;                     /* how many it timed */
} pingpong_t;

static void pingpong_body(bench_worker_t *w)
{
    pingpong_t *pp = w->shared;
    (void)bench_pin_self(w->id); /* before block 1: not measured */
    /* Thread 0 answers even values with the next odd one, thread 1 odd
     * values with the next even one: the word alternates owners. */
    uint64_t mine = (uint64_t)w->id;
    int64_t block_start = bench_now_ns();
    for (uint64_t i = 0; i < w->ops; i++, mine += 2) {
        int boundary = w->id == 0 && i % BLOCK == 0 && i > 0;
        if (boundary) {
            int64_t now = bench_now_ns();
            pp->block_ns[pp->nblocks++] = now - block_start;
            block_start = now;
        }
        uint32_t polls = 0;
        uint64_t seen;
        /* acquire: pairs with the partner's release store of `mine`; a
         * handoff publishes what was written before it. */
        while ((seen = parc_raw_load(&pp->word, PARC_ACQUIRE)) != mine) {
            if (seen == STOP) { /* thread 1: thread 0 ended the run */
                w->done = 0;
                return;
            }
            bench_wait_poll(&polls);
        }
        if (boundary && block_start > w->deadline_ns) {
            /* Overrun (the threads seldom run at once): thread 0 holds the
             * word, so thread 1 is waiting and sees STOP next. */
            parc_raw_store(&pp->word, STOP, PARC_RELAXED);
            w->done = i; /* round trips completed */
            return;
        }
        /* release: hands the word (and all before it) to the partner. */
        parc_raw_store(&pp->word, mine + 1, PARC_RELEASE);
    }
    /* The run's operations are round trips: thread 0 counts them all. */
    w->done = w->id == 0 ? w->ops : 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t pingpong_case(bench_run_t *r)
{
    static pingpong_t pp; /* static: aligned, and no stack-line sharing */
    if (r->threads != 2)
        return BENCH_FAILED;
    /* At least enough blocks for the percentile, however slow the round
     * trips were during calibration (r->items follows r->ops). */
    if (r->ops < (MIN_BLOCKS + 2) * BLOCK)
        r->ops = (MIN_BLOCKS + 2) * BLOCK;
    pp.block_ns = malloc(sizeof(int64_t) * (r->ops / BLOCK + 1));
    if (pp.block_ns == NULL)
        return BENCH_FAILED;
    pp.nblocks = 0;
    parc_atomic_init(&pp.word, 0);
    int64_t ns = bench_parallel(r, pingpong_body, &pp);
    uint64_t last = parc_raw_load(&pp.word, PARC_RELAXED);
    if (ns >= 0 && (r->items == r->ops ? last != 2 * r->ops : last != STOP))
        ns = BENCH_FAILED;
    /* Timed blocks 1..nblocks-1 (block 0 also holds the start-up and the
     * pinning): the 10th percentile stands for the run. */
    if (ns >= 0 && pp.nblocks >= MIN_BLOCKS + 1) {
        qsort(pp.block_ns + 1, (size_t)(pp.nblocks - 1), sizeof(int64_t), cmp_i64);
        int64_t p10 = pp.block_ns[1 + (pp.nblocks - 1) / 10];
        ns = (int64_t)((double)p10 * (double)r->items / BLOCK);
    }
    free(pp.block_ns);
    return ns;
}
BENCH_CASE(floor, "atomic", pingpong_case)
