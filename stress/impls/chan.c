/*
 * Stress adapters and linearizability models for parc's channels
 * (parc/chan.h).
 *
 *   queue    parc.chan.bounded     bounded channel (the capacity asked),
 *                                  closable, with timed send and receive
 *   queue    parc.chan.unbounded   unbounded channel (segments), closable
 *   queue    parc.chan.rendezvous  capacity 0: push and pop are a send and
 *                                  a receive that wait 50 us for a partner
 *                                  (EAGAIN when none came); per-producer
 *                                  FIFO (the FIFO-queue lincheck does not
 *                                  fit a hand-off: chan.lincheck does)
 *   workload chan.lincheck         short random histories checked against
 *                                  three models: a FIFO of capacity 2 over
 *                                  a bounded channel (try forms: full and
 *                                  empty must be exact), a FIFO of
 *                                  capacity 4 over a channel of 24-byte
 *                                  values (32-byte slots, two to a line),
 *                                  and the rendezvous model
 *                                  (parc/stress_lincheck.h) over a
 *                                  rendezvous channel with timed forms
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "parc/chan.h"
#include "parc/stress.h"
#include "parc/stress_lincheck.h"

/* ---- queue adapters ---------------------------------------------------------- */

static int make(void **out, size_t capacity)
{
    parc_chan_t *c;
    int rc = parc_chan_create(&c, sizeof(parc_stress_item_t *), capacity);
    if (rc == 0)
        *out = c;
    return rc;
}

static int bounded_create(void **out, size_t cap) { return make(out, cap); }
static int unbounded_create(void **out, size_t cap)
{
    (void)cap;
    return make(out, PARC_CHAN_UNBOUNDED);
}
static int rendezvous_create(void **out, size_t cap)
{
    (void)cap;
    return make(out, 0);
}

static void c_destroy(void *c)
{
    (void)parc_chan_free(c);
}

static int c_push(void *c, parc_stress_item_t *it)
{
    return parc_chan_send_try(c, &it);
}

static int c_pop(void *c, parc_stress_item_t **it)
{
    return parc_chan_recv_try(c, it);
}

static int c_push_timed(void *c, parc_stress_item_t *it, int64_t timeout_ns)
{
    return parc_chan_send_timed(c, &it, timeout_ns);
}

static int c_pop_timed(void *c, parc_stress_item_t **it, int64_t timeout_ns)
{
    return parc_chan_recv_timed(c, it, timeout_ns);
}

static int c_close(void *c)
{
    int rc = parc_chan_close(c);
    return rc == EPIPE ? 0 : rc;
}

/* A rendezvous "push" or "pop" waits briefly for its partner. */
#define HANDOFF_NS (50 * PARC_NS_PER_US)

static int r_push(void *c, parc_stress_item_t *it)
{
    int rc = parc_chan_send_timed(c, &it, HANDOFF_NS);
    return rc == ETIMEDOUT ? EAGAIN : rc;
}

static int r_pop(void *c, parc_stress_item_t **it)
{
    int rc = parc_chan_recv_timed(c, it, HANDOFF_NS);
    return rc == ETIMEDOUT ? EAGAIN : rc;
}

static const parc_stress_queue_impl_t chan_bounded = {
    .name = "parc.chan.bounded",
    .description = "channel, bounded ring under one lock, direct hand-off to parked receivers",
    .flags = PARC_STRESS_BOUNDED | PARC_STRESS_CLOSABLE,
    .order = PARC_STRESS_ORDER_FIFO,
    .create = bounded_create, .destroy = c_destroy,
    .push = c_push, .pop = c_pop, .pop_timed = c_pop_timed,
    .push_timed = c_push_timed, .close = c_close,
};
PARC_STRESS_QUEUE(chan_bounded)

static const parc_stress_queue_impl_t chan_unbounded = {
    .name = "parc.chan.unbounded",
    .description = "channel, unbounded (reused segments)",
    .flags = PARC_STRESS_CLOSABLE,
    .order = PARC_STRESS_ORDER_FIFO,
    .create = unbounded_create, .destroy = c_destroy,
    .push = c_push, .pop = c_pop, .pop_timed = c_pop_timed,
    .close = c_close,
};
PARC_STRESS_QUEUE(chan_unbounded)

static const parc_stress_queue_impl_t chan_rendezvous = {
    .name = "parc.chan.rendezvous",
    .description = "channel, rendezvous (capacity 0): 50 us hand-off attempts",
    .flags = PARC_STRESS_BOUNDED | PARC_STRESS_CLOSABLE | PARC_STRESS_NO_BATON,
    .order = PARC_STRESS_ORDER_PRODUCER_FIFO,
    .create = rendezvous_create, .destroy = c_destroy,
    .push = r_push, .pop = r_pop, .pop_timed = c_pop_timed,
    .push_timed = c_push_timed, .close = c_close,
};
PARC_STRESS_QUEUE(chan_rendezvous)

/* ---- chan.lincheck ---------------------------------------------------------- */

/* The three targets: a channel of capacity 2 (8-byte values), a
 * rendezvous channel, and one of capacity 4 with 24-byte values. */
enum { LC_FIFO2, LC_RENDEZVOUS, LC_FIFO4_WIDE, LC_KINDS };
#define LC_WIDE 24u

typedef struct lc_chan {
    parc_chan_t c;
    bool rendezvous;
    bool wide;
} lc_chan_t;

static void *lc_create(void *ctx)
{
    lc_chan_t *w = malloc(sizeof *w);
    if (w == NULL)
        return NULL;
    int kind = (int)(intptr_t)ctx;
    w->rendezvous = kind == LC_RENDEZVOUS;
    w->wide = kind == LC_FIFO4_WIDE;
    if (parc_chan_init(&w->c, w->wide ? LC_WIDE : sizeof(uint64_t),
                       w->rendezvous ? 0 : (w->wide ? 4 : 2)) != 0) {
        free(w);
        return NULL;
    }
    return w;
}

static void lc_destroy(void *ctx, void *obj)
{
    (void)ctx;
    lc_chan_t *w = obj;
    (void)parc_chan_destroy(&w->c);
    free(w);
}

static int lc_apply(void *obj, parc_lc_opcode_t opcode, uint64_t arg,
                    uint64_t *result)
{
    lc_chan_t *w = obj;
    int rc;
    if (w->wide) {
        /* the value in the first 8 bytes, its complement in the last 8 */
        uint64_t v[LC_WIDE / 8] = { arg, arg ^ 0x5555u, ~arg };
        if (opcode == PARC_LC_PUSH)
            return parc_chan_send_try(&w->c, v);
        if (opcode != PARC_LC_POP)
            return EINVAL;
        rc = parc_chan_recv_try(&w->c, v);
        if (rc == 0 && (v[1] != (v[0] ^ 0x5555u) || v[2] != ~v[0]))
            return EIO; /* a torn value */
        *result = v[0];
        return rc;
    }
    if (opcode == PARC_LC_PUSH)
        rc = w->rendezvous ? parc_chan_send_timed(&w->c, &arg, HANDOFF_NS)
                           : parc_chan_send_try(&w->c, &arg);
    else if (opcode == PARC_LC_POP)
        rc = w->rendezvous ? parc_chan_recv_timed(&w->c, result, HANDOFF_NS)
                           : parc_chan_recv_try(&w->c, result);
    else
        return EINVAL;
    return rc == ETIMEDOUT ? EAGAIN : rc;
}

static bool lc_keep_going(void *arg)
{
    parc_stress_ctx_t *ctx = arg;
    return !parc_stress_stopping(ctx);
}

static int lc_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    static const char *names[LC_KINDS] = { "parc.chan(2) as fifo(2)",
                                           "parc.chan(0) as rendezvous",
                                           "parc.chan(4) of 24 bytes as fifo(4)" };
    /* The models in turn, until the run's budget is spent. */
    for (uint64_t round = 0; !parc_stress_stopping(ctx); round++) {
        int k = (int)(round % LC_KINDS);
        parc_lc_target_t t = { 0 };
        t.name = names[k];
        t.model.kind = k == LC_RENDEZVOUS ? PARC_LC_RENDEZVOUS : PARC_LC_FIFO;
        t.model.capacity = k == LC_RENDEZVOUS ? 0 : (k == LC_FIFO4_WIDE ? 4 : 2);
        t.create = lc_create;
        t.destroy = lc_destroy;
        t.apply = lc_apply;
        t.ctx = (void *)(intptr_t)k;
        unsigned threads = parc_stress_threads(ctx);
        parc_lc_options_t o = { 0 };
        o.seed = parc_stress_seed(ctx) + round;
        o.threads = threads > 3 ? 3 : (threads < 2 ? 2 : threads);
        o.scenarios = 20;
        o.report = stdout;
        o.keep_going = lc_keep_going;
        o.keep_going_arg = ctx;
        parc_lc_report_t rep = { 0 };
        fflush(stdout);
        int rc = parc_lc_run(&t, &o, &rep);
        parc_stress_add_ops(ctx, rep.scenarios);
        if (rc == EDOM)
            parc_stress_fail(ctx, "%s: not linearizable, seed %" PRIu64 " scenario %" PRIu64
                                  " (history above)", names[k], o.seed,
                             rep.violation_scenario);
        else if (rc == EIO)
            parc_stress_fail(ctx, "%s: a code outside the contract (history above)",
                             names[k]);
        else if (rc != 0)
            return rc;
    }
    return 0;
}

static const parc_stress_workload_t chan_lincheck = {
    .name = "chan.lincheck",
    .impl = "parc.chan",
    .description = "histories of bounded (2; 4 of 24 bytes) and rendezvous channels vs FIFO and rendezvous models",
    .flags = PARC_STRESS_NO_BATON,
    .min_threads = 2,
    .run = lc_run,
};
PARC_STRESS_WORKLOAD(chan_lincheck)
