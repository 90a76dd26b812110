/*
 * bench/bench_mpmc.c — bounded MPMC rings: P producers hand items to C
 * consumers through a ring of 1024 slots (parc/mpmc.h, Vyukov's queue).
 *
 * Points: 1P/1C (one thread per core), 2P/2C, and two oversubscribed ones,
 * 3P/1C and 4P/4C, where a thread is often preempted between claiming a
 * cell and publishing it. A queue that makes everyone spin on such a cell
 * convoys there (ck_ring's MPMC is the known case); parc's blocking forms
 * sleep on an eventcount instead, and should keep at 3P/1C and 4P/4C at
 * least half of their own 1P/1C figure: those points print that ratio,
 * with parc at 1P/1C run again in each of their rounds (bench.h, versus).
 *
 * Cases, each as its users would use it:
 *   parc        parc_mpmc_push/pop: the blocking forms (bounded spin, then
 *               the eventcount).
 *   parc-try    parc_mpmc_push_try/pop_try with the harness's poll-then-
 *               yield wait (bench_wait_poll), like the spinning peers.
 *   ck-ring     ck_ring_enqueue_mpmc/dequeue_mpmc (bounded, non-blocking)
 *               with the same poll-then-yield wait.
 *   moodycamel  ConcurrentQueue<void *> with producer and consumer tokens
 *               (unbounded: it never says "full"; per-producer FIFO only).
 *   glib        GAsyncQueue push / pop (unbounded; mutex + condition).
 *   pthread     a 1024-slot ring under one mutex with two conditions.
 * Every case checks that the sum of the items popped is the sum pushed.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"
#include "xfer.h"
#include "parc/mpmc.h"


#define CAPACITY 1024
#define BENCH_NAME mpmc

static const bench_point_t mpmc_points[] = {
    { "1P/1C", 2, 1, NULL }, /* arg: producers; the other threads consume */
    { "2P/2C", 4, 2, NULL },
    { "3P/1C", 4, 3, "1P/1C" }, /* judged against 1P/1C, paired */
    { "4P/4C", 8, 4, "1P/1C" },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(mpmc, "bounded MPMC ring (1024 slots): P producers hand items to C consumers",
             mpmc_points)

#define ITEM(i) ((void *)(uintptr_t)((i) + 1))

/* ---- parc ------------------------------------------------------------------ */

static parc_mpmc_t *parc_make(size_t capacity)
{
    parc_mpmc_t *q;
    return parc_mpmc_create(&q, capacity) == 0 ? q : NULL;
}

XFER_CASE(parc_blocking, "parc", parc_mpmc_t, parc_make, parc_mpmc_free,
          parc_mpmc_push, parc_mpmc_pop, 0)
XFER_CASE(parc_try, "parc-try", parc_mpmc_t, parc_make, parc_mpmc_free,
          parc_mpmc_push_try, parc_mpmc_pop_try, 1)

/* ---- Concurrency Kit --------------------------------------------------- */

#ifdef PARC_BENCH_HAVE_CK
static int ckr_push(ckr_t *q, void *item)
{
    return ck_ring_enqueue_mpmc(&q->ring, q->buf, item) ? 0 : EAGAIN;
}

static int ckr_pop(ckr_t *q, void **item)
{
    return ck_ring_dequeue_mpmc(&q->ring, q->buf, item) ? 0 : EAGAIN;
}

XFER_CASE(ck, "ck-ring", ckr_t, ckr_make, ckr_free, ckr_push, ckr_pop,
          XFER_SPINS_INSIDE)
#endif

#include "xfer_peers.h" /* moodycamel, GLib and pthread cases */
