/*
 * Stress workload for parc/select.h.
 *
 *   select.exactly_once   every thread loops over selects on a random
 *                         subset (2-8 cases) of 8 channels of every kind
 *                         (rendezvous, bounded 1 and 4, unbounded), sending
 *                         on some and receiving on others, plus a semaphore
 *                         case that other selects release into and an event
 *                         that is never set; one thread closes the channels
 *                         one by one while the others run. Checks:
 *                         - every value a select sent (result 0) is received
 *                           exactly once, by the case it was sent on, and no
 *                           value whose send failed is ever received;
 *                         - a select that returns changed only its chosen
 *                           case's buffer (the others keep a sentinel): no
 *                           select completes two operations;
 *                         - permits: released = taken by selects + left;
 *                         - after the run every channel drains to EPIPE.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "parc/select.h"
#include "parc/stress.h"
#include "select_workload.h"

enum { NCHAN = 8, MAX_THREADS = 64, SEQ_MAX = 1u << 14 };

#define SENTINEL UINT64_MAX

/* A value: thread (8 bits) | case channel (8 bits) | sequence (32 bits). */
static uint64_t pack(unsigned thread, unsigned chan, uint32_t seq)
{
    return ((uint64_t)thread << 40) | ((uint64_t)chan << 32) | seq;
}

typedef struct sel_run {
    parc_stress_ctx_t *ctx;
    parc_chan_t ch[NCHAN];
    parc_sem_t sem;
    parc_event_t never;
    parc_atomic(uint64_t) released, taken;
    /* per (thread, seq): the channel its send went to + 1 (0: not sent) */
    uint8_t sent[MAX_THREADS][SEQ_MAX];
    /* per (thread, seq): how many times it was received, and where */
    parc_atomic(uint8_t) received[MAX_THREADS][SEQ_MAX];
    parc_atomic(uint8_t) received_on[MAX_THREADS][SEQ_MAX];
    unsigned threads;
    stress_select_fn select_timed; /* parc_select_timed, or a mutant's */
} sel_run_t;

static size_t kind_capacity(unsigned c)
{
    switch (c % 4) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 4;
    default: return PARC_CHAN_UNBOUNDED;
    }
}

static void record_received(sel_run_t *r, uint64_t v, unsigned on)
{
    unsigned t = (unsigned)(v >> 40), c = (unsigned)((v >> 32) & 0xff);
    uint32_t seq = (uint32_t)v;
    if (v == SENTINEL || t >= r->threads || seq >= SEQ_MAX || c != on) {
        parc_stress_fail(r->ctx, "received a value nobody sent on chan %u: %#" PRIx64,
                         on, v);
        return;
    }
    if (parc_faa(&r->received[t][seq], 1, PARC_RELAXED) != 0)
        parc_stress_fail(r->ctx, "value %#" PRIx64 " received twice", v);
    parc_store(&r->received_on[t][seq], (uint8_t)(on + 1), PARC_RELAXED);
}

static void worker(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    sel_run_t *r = arg;
    uint32_t seq = 0;
    bool closed[NCHAN] = { false };
    unsigned closer_step = 0;
    for (;;) {
        if (!parc_stress_step(ctx, index, "select"))
            break;
        uint64_t rnd = parc_stress_random(ctx, index);
        /* thread 0 closes one channel every ~256 of its selects, from the
         * second half of its budget on (values keep flowing meanwhile) */
        if (index == 0 && (rnd & 255) == 0 && ++closer_step > 2 && closer_step - 3 < NCHAN)
            (void)parc_chan_close(&r->ch[closer_step - 3]);
        if (seq >= SEQ_MAX)
            break;
        parc_select_case_t cs[10];
        uint64_t out[10], in[10];
        unsigned chan_of[10];
        size_t n = 0;
        unsigned want = 2 + (unsigned)(rnd >> 8) % 7; /* 2..8 channel cases */
        bool sending = (rnd >> 16) & 1;
        for (unsigned k = 0; k < want; k++) {
            unsigned c = (unsigned)((rnd >> (20 + 3 * k)) % NCHAN);
            in[n] = SENTINEL;
            out[n] = pack(index, c, seq);
            chan_of[n] = c;
            /* a channel this thread saw closed is switched off (Go's nil
             * channel), so EPIPE does not win every select */
            parc_chan_t *ch = closed[c] ? NULL : &r->ch[c];
            cs[n] = sending ? parc_select_send(ch, &out[n]) : parc_select_recv(ch, &in[n]);
            n++;
        }
        size_t sem_case = SIZE_MAX;
        if (!sending && (rnd >> 60) & 1) {
            sem_case = n;
            chan_of[n] = NCHAN;
            in[n] = SENTINEL;
            cs[n++] = parc_select_sem(&r->sem);
        }
        if ((rnd >> 61) & 1) {
            chan_of[n] = NCHAN;
            in[n] = SENTINEL;
            cs[n++] = parc_select_event(&r->never);
        }
        size_t i = SIZE_MAX;
        int rc = r->select_timed(cs, n, (rnd >> 62) & 1 ? PARC_SELECT_ORDERED : 0,
                                 &i, 2 * PARC_NS_PER_MS);
        if (rc == ETIMEDOUT) {
            for (size_t k = 0; k < n; k++)
                if (in[k] != SENTINEL)
                    parc_stress_fail(ctx, "a select that timed out received on case %zu", k);
            parc_stress_note(ctx, index, "select (timed out)");
            continue;
        }
        if (rc != 0 && rc != EPIPE) {
            parc_stress_fail(ctx, "select returned %d", rc);
            break;
        }
        for (size_t k = 0; k < n; k++)
            if (k != i && in[k] != SENTINEL)
                parc_stress_fail(ctx, "select returned case %zu but case %zu received too",
                                 i, k);
        if (rc == EPIPE) {
            closed[chan_of[i]] = true;
            continue;
        }
        if (i == sem_case) {
            parc_faa(&r->taken, 1, PARC_RELAXED);
            continue;
        }
        if (sending) {
            r->sent[index][seq] = (uint8_t)(chan_of[i] + 1);
            seq++;
            if ((rnd & 7) == 0) { /* feed the semaphore cases */
                parc_faa(&r->released, 1, PARC_RELAXED);
                (void)parc_sem_release(&r->sem, 1);
            }
        } else {
            record_received(r, in[i], chan_of[i]);
        }
    }
}

int stress_select_run(parc_stress_ctx_t *ctx, void *arg)
{
    sel_run_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return ENOMEM;
    r->ctx = ctx;
    r->select_timed = arg != NULL ? ((stress_select_impl_t *)arg)->select_timed
                                  : parc_select_timed;
    r->threads = parc_stress_threads(ctx);
    if (r->threads > MAX_THREADS)
        r->threads = MAX_THREADS;
    for (unsigned c = 0; c < NCHAN; c++)
        parc_chan_init(&r->ch[c], sizeof(uint64_t), kind_capacity(c));
    parc_sem_init(&r->sem, 0);
    parc_event_init(&r->never);
    int rc = parc_stress_run_threads(ctx, r->threads, worker, r);
    if (rc == 0) {
        /* Drain: close what is open, take what is buffered. */
        for (unsigned c = 0; c < NCHAN; c++) {
            (void)parc_chan_close(&r->ch[c]);
            uint64_t v;
            int e;
            while ((e = parc_chan_recv_try(&r->ch[c], &v)) == 0)
                record_received(r, v, c);
            if (e != EPIPE)
                parc_stress_fail(ctx, "chan %u drained with %d, not EPIPE", c, e);
        }
        for (unsigned t = 0; t < r->threads; t++)
            for (uint32_t s = 0; s < SEQ_MAX; s++) {
                unsigned got = parc_load(&r->received[t][s], PARC_RELAXED);
                unsigned on = parc_load(&r->received_on[t][s], PARC_RELAXED);
                if (r->sent[t][s] != 0 && (got != 1 || on != r->sent[t][s]))
                    parc_stress_fail(ctx, "value (%u, %u) sent on chan %u was received "
                                          "%u times (on %u)", t, s, r->sent[t][s] - 1u,
                                     got, on);
                if (r->sent[t][s] == 0 && got != 0)
                    parc_stress_fail(ctx, "value (%u, %u) was received but its send "
                                          "did not complete", t, s);
            }
        uint64_t left = parc_sem_value(&r->sem);
        uint64_t released = parc_load(&r->released, PARC_RELAXED);
        uint64_t taken = parc_load(&r->taken, PARC_RELAXED);
        if (released != taken + left)
            parc_stress_fail(ctx, "permits: %" PRIu64 " released, %" PRIu64
                                  " taken, %" PRIu64 " left", released, taken, left);
    }
    for (unsigned c = 0; c < NCHAN; c++)
        (void)parc_chan_destroy(&r->ch[c]);
    free(r);
    return rc;
}

static const parc_stress_workload_t select_exactly_once = {
    .name = "select.exactly_once",
    .impl = "parc.select",
    .description = "selects over 2-8 of 8 channels (all kinds), a semaphore and an event, "
                   "close racing: each value once, one case per select",
    .flags = PARC_STRESS_NO_BATON,
    .min_threads = 2,
    .run = stress_select_run,
};
PARC_STRESS_WORKLOAD(select_exactly_once)
