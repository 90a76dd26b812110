/*
 * Supervisor restart latency and sending by registered name
 * (parc/act_sup.h, parc/act.h; issue 17's targets: a restart under 5 us
 * median, a send by name within 1.2x of a send by reference).
 *
 * act_sup_restart: a poison message is sent to a supervised worker; one
 * op is its crash, the supervisor's down, the new instance's spawn and
 * on_start: the time from the handler's exit call to on_start's entry,
 * both read on the runtime's threads. The measuring thread waits for each
 * restart (it spins on the generation that on_start bumps) before it
 * sends the next poison, but its send, and the wake-up of an idle worker
 * that the send may need, are not part of the restart and not timed.
 * act_send_name: a token hopping around a ring of actors, each hop a send
 * by reference or by name.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "parc/act_sup.h"

static parc_act_rt_t *sup_runtime(void)
{
    static parc_act_rt_t *rt;
    if (rt == NULL && parc_act_rt_create(2, &rt) != 0)
        return NULL;
    return rt;
}

/* ---- act_sup_restart --------------------------------------------------- */

static const bench_point_t restart_points[] = {
    { "one_for_one, 1 worker, 2 workers", 1, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(act_sup_restart,
             "supervised worker crashes on a poison message and is restarted "
             "(one op = crash to new instance started)",
             restart_points)

static parc_atomic(uint64_t) generation;
static int64_t crashed_at; /* written by the crashing handler, read by on_start */
static int64_t restart_ns; /* the sum of crash-to-on_start times */

static void crash_on_message(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)state;
    parc_msg_free(m);
    /* Ordered before on_start's read by the exit's path to the supervisor
     * (the down message's mailbox push and pop). */
    crashed_at = bench_now_ns();
    parc_act_exit(self, 1);
}

static void started(parc_act_t *child, void *state)
{
    (void)child;
    (void)state;
    if (crashed_at != 0) {
        restart_ns += bench_now_ns() - crashed_at;
        crashed_at = 0;
    }
    /* release: publishes restart_ns, and the new instance is entered in
     * the table right after; the measuring thread's acquire loads of
     * generation pair with it. */
    parc_faa(&generation, 1u, PARC_RELEASE);
}

static int64_t restart_parc(bench_run_t *r)
{
    parc_act_rt_t *rt = sup_runtime();
    if (rt == NULL)
        return BENCH_FAILED;
    parc_act_sup_spec_t spec = PARC_ACT_SUP_SPEC_INIT;
    spec.fn = crash_on_message;
    spec.on_start = started;
    parc_act_sup_options_t o = PARC_ACT_SUP_OPTIONS_INIT;
    o.intensity = 1000000000u;
    o.period_ns = 1;
    parc_act_sup_t *s;
    parc_atomic_init(&generation, 0u);
    crashed_at = 0;
    restart_ns = 0;
    if (parc_act_sup_start(rt, &o, &spec, 1, &s) != 0)
        return BENCH_FAILED;
    parc_msg_t poison;
    for (uint64_t i = 0; i < r->ops; i++) {
        parc_act_t *c;
        /* acquire: pairs with started's release; the instance is there. */
        uint64_t g = parc_load(&generation, PARC_ACQUIRE);
        while (parc_act_sup_child(s, 0, &c) != 0)
            parc_cpu_relax(); /* on_start ran; entering it follows */
        parc_msg_init(&poison, PARC_MSG_USER, NULL);
        if (parc_act_send(c, &poison) != 0) {
            parc_act_release(c);
            return BENCH_FAILED;
        }
        parc_act_release(c);
        while (parc_load(&generation, PARC_ACQUIRE) == g) /* as above */
            parc_cpu_relax();
    }
    int64_t ns = restart_ns; /* ordered by the last acquire of generation */
    parc_act_sup_free(s);
    parc_act_rt_quiesce(rt);
    return ns;
}
BENCH_CASE(act_sup_restart, "parc", restart_parc)

/* ---- act_send_name ------------------------------------------------------ */

static const bench_point_t name_points[] = {
    { "ring of 2 actors, 2 workers", 1, 2, NULL },
    { "ring of 100 actors, 2 workers", 1, 100, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(act_send_name,
             "a token around a ring of actors, each hop a send by reference "
             "or by registered name (one op = one hop)",
             name_points)

typedef struct hop_state {
    parc_act_t *next;
    char next_name[24];
    parc_act_rt_t *rt;
    int by_name;
} hop_state_t;

typedef struct htoken {
    parc_msg_t hdr;
    uint64_t left;
} htoken_t;

static void hop(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    hop_state_t *h = state;
    htoken_t *t = parc_msg_entry(m, htoken_t, hdr);
    if (t->left-- == 0)
        return;
    if (h->by_name)
        parc_act_send_name(h->rt, h->next_name, m);
    else
        parc_act_send(h->next, m);
}

static int64_t ring_case(bench_run_t *r, int by_name)
{
    parc_act_rt_t *rt = sup_runtime();
    long n = r->arg;
    parc_act_t **a = calloc((size_t)n, sizeof *a);
    hop_state_t *h = calloc((size_t)n, sizeof *h);
    if (rt == NULL || a == NULL || h == NULL)
        return BENCH_FAILED;
    char name[24];
    for (long i = 0; i < n; i++) {
        if (parc_act_spawn(rt, hop, &h[i], NULL, &a[i]) != 0)
            return BENCH_FAILED;
        snprintf(name, sizeof name, "hop%ld", i);
        if (parc_act_register(a[i], name) != 0)
            return BENCH_FAILED;
    }
    for (long i = 0; i < n; i++) {
        h[i].next = a[(i + 1) % n];
        snprintf(h[i].next_name, sizeof h[i].next_name, "hop%ld", (i + 1) % n);
        h[i].rt = rt;
        h[i].by_name = by_name;
    }
    htoken_t t;
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
    free(h);
    return ns;
}

static int64_t send_ref(bench_run_t *r)
{
    return ring_case(r, 0);
}

static int64_t send_name(bench_run_t *r)
{
    return ring_case(r, 1);
}
BENCH_CASE(act_send_name, "parc by reference", send_ref)
BENCH_CASE(act_send_name, "parc by name", send_name)
