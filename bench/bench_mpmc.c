/*
 * bench/bench_mpmc.c — bounded MPMC rings: P producers hand items to C
 * consumers through a ring of 1024 slots (parc/mpmc.h, Vyukov's queue).
 *
 * Points: 1P/1C (one thread per core), 2P/2C, and two oversubscribed ones,
 * 3P/1C and 4P/4C, where a thread is often preempted between claiming a
 * cell and publishing it; each but 4P/4C under both waiting policies of
 * bench/xfer.h (block, poll), every run verified exactly-once and
 * per-producer FIFO as each consumer sees it. A queue that makes everyone
 * spin on such a cell convoys there (ck_ring's MPMC is the known case);
 * parc's blocking forms sleep on an eventcount instead, and should keep
 * at 3P/1C and 4P/4C at least half of their own 1P/1C figure: those block
 * points print that ratio, with parc at 1P/1C block run again in each of
 * their rounds (bench.h, versus). Run with and without --pin.
 *
 * Cases, each as its users would use it:
 *   parc        block: parc_mpmc_push/pop (bounded spin, then the
 *               eventcount); poll: parc_mpmc_push_try/pop_try.
 *   ck-ring     ck_ring_enqueue_mpmc/dequeue_mpmc (bounded, no blocking
 *               forms: polled at block points too).
 *   moodycamel, glib, pthread (a 1024-slot ring), atomic_queue (1024
 *               slots): see bench/xfer_peers.h.
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
#define XFER_BOUNDED /* atomic_queue's rows (xfer_peers.h) */

static const bench_point_t mpmc_points[] = {
    { "1P/1C block", 2, 1, NULL }, /* arg: producers (| XFER_POLL); the others consume */
    { "1P/1C poll", 2, 1 | XFER_POLL, NULL },
    { "2P/2C block", 4, 2, NULL },
    { "2P/2C poll", 4, 2 | XFER_POLL, NULL },
    { "3P/1C block", 4, 3, "1P/1C block" }, /* judged against 1P/1C, paired */
    { "3P/1C poll", 4, 3 | XFER_POLL, NULL },
    { "4P/4C block", 8, 4, "1P/1C block" },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(mpmc, "bounded MPMC ring (1024 slots): P producers hand items to C consumers",
             mpmc_points)

/* ---- parc ------------------------------------------------------------------ */

static parc_mpmc_t *parc_make(size_t capacity)
{
    parc_mpmc_t *q;
    return parc_mpmc_create(&q, capacity) == 0 ? q : NULL;
}

XFER_CASE(parc, "parc", parc_mpmc_t, parc_make, parc_mpmc_free, xfer_no_bind, parc_mpmc_push,
          parc_mpmc_pop, parc_mpmc_push_try, parc_mpmc_pop_try, XFER_BLOCKS)

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

XFER_CASE(ck, "ck-ring", ckr_t, ckr_make, ckr_free, xfer_no_bind, ckr_push, ckr_pop, ckr_push,
          ckr_pop, XFER_SPINS_INSIDE)
#endif

#include "xfer_peers.h" /* moodycamel, GLib, pthread and atomic_queue cases */
