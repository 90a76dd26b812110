/*
 * Stress workload for supervisors, names and dead letters (parc/act_sup.h,
 * parc/act.h): actor.restarts_racing_sends. A one_for_one supervisor keeps
 * WORKERS workers, each registered under a name at every start; sender
 * threads send to the workers by name, and some messages are poison (the
 * worker exits abnormally on it and is restarted). Restarts race the
 * sends: a message reaches a live worker (handled), is queued behind a
 * poison one (a dead letter, through the runtime's hook), or is refused
 * (no such name now, or EPIPE from an instance just stopped; the sender
 * still owns it). Checked: handled + dead + refused == sent, every
 * message once, none lost; and restarts == poison messages handled.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "parc/act_sup.h"
#include "parc/stress.h"

#define WORKERS 4
#define MAX_SENDERS 16

enum { T_WORK = PARC_MSG_USER, T_POISON };

typedef struct sup_run {
    parc_act_rt_t *rt;
    parc_act_sup_t *sup;
    char names[WORKERS][16];
    parc_atomic(uint64_t) handled, dead, poisoned;
    uint64_t sent[MAX_SENDERS], refused[MAX_SENDERS];
} sup_run_t;

static sup_run_t *the_run;

static void worker(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)state;
    /* relaxed: counts, read after quiescence. */
    parc_faa(&the_run->handled, 1u, PARC_RELAXED);
    if (m->type == T_POISON) {
        parc_faa(&the_run->poisoned, 1u, PARC_RELAXED);
        parc_act_exit(self, 1);
    }
    parc_msg_free(m);
}

static void worker_started(parc_act_t *child, void *state)
{
    /* EEXIST cannot happen: the previous instance's stop dropped the
     * name before the supervisor saw its down. */
    if (parc_act_register(child, (const char *)state) != 0)
        abort();
}

static void on_dead(parc_act_t *to, parc_msg_t *m, void *arg)
{
    (void)to;
    sup_run_t *r = arg;
    parc_faa(&r->dead, 1u, PARC_RELAXED); /* a count */
    parc_msg_free(m);
}

static void sender(parc_stress_ctx_t *ctx, unsigned index, void *arg)
{
    sup_run_t *r = arg;
    while (parc_stress_step(ctx, index, "send_name")) {
        uint64_t x = parc_stress_random(ctx, index);
        int type = x % 64 == 0 ? T_POISON : T_WORK;
        parc_msg_t *m;
        if (parc_msg_new(type, NULL, 0, &m) != 0)
            continue;
        r->sent[index]++;
        int rc = parc_act_send_name(r->rt, r->names[(x >> 8) % WORKERS], m);
        if (rc != 0) {
            if (rc != ESRCH && rc != EPIPE)
                parc_stress_fail(ctx, "send_name: unexpected %d", rc);
            r->refused[index]++;
            parc_msg_free(m);
        }
    }
}

static int restarts_run(parc_stress_ctx_t *ctx, void *arg)
{
    (void)arg;
    unsigned threads = parc_stress_threads(ctx);
    sup_run_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return ENOMEM;
    the_run = r;
    parc_atomic_init(&r->handled, 0u);
    parc_atomic_init(&r->dead, 0u);
    parc_atomic_init(&r->poisoned, 0u);
    int rc = parc_act_rt_create(2, &r->rt);
    if (rc != 0) {
        free(r);
        return rc;
    }
    parc_act_rt_on_dead_letter(r->rt, on_dead, r);
    parc_act_sup_spec_t specs[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        snprintf(r->names[i], sizeof r->names[i], "worker%d", i);
        parc_act_sup_spec_t s = PARC_ACT_SUP_SPEC_INIT;
        s.fn = worker;
        s.state = r->names[i];
        s.on_start = worker_started;
        specs[i] = s;
    }
    parc_act_sup_options_t o = PARC_ACT_SUP_OPTIONS_INIT;
    o.intensity = 1000000000u; /* never give up here */
    o.period_ns = 1;
    rc = parc_act_sup_start(r->rt, &o, specs, WORKERS, &r->sup);
    if (rc == 0)
        rc = parc_stress_run_threads(ctx, threads, sender, r);
    if (r->sup != NULL) {
        if (parc_act_rt_quiesce_timed(r->rt, parc_stress_patience_ns(ctx)) != 0)
            parc_stress_fail(ctx, "not quiescent after the patience period");
        uint64_t restarts = parc_act_sup_restarts(r->sup);
        parc_act_sup_free(r->sup);
        parc_act_rt_quiesce(r->rt);
        uint64_t sent = 0, refused = 0, ops = 0;
        for (unsigned i = 0; i < threads; i++) {
            sent += r->sent[i];
            refused += r->refused[i];
        }
        ops = sent;
        uint64_t handled = parc_load(&r->handled, PARC_RELAXED);
        uint64_t dead = parc_load(&r->dead, PARC_RELAXED);
        uint64_t poisoned = parc_load(&r->poisoned, PARC_RELAXED);
        if (handled + dead + refused != sent)
            parc_stress_fail(ctx, "sent %llu but handled %llu + dead %llu + "
                                  "refused %llu",
                             (unsigned long long)sent,
                             (unsigned long long)handled,
                             (unsigned long long)dead,
                             (unsigned long long)refused);
        if (restarts != poisoned)
            parc_stress_fail(ctx, "%llu restarts for %llu poison messages",
                             (unsigned long long)restarts,
                             (unsigned long long)poisoned);
        parc_stress_add_ops(ctx, ops);
    }
    parc_act_rt_shutdown(r->rt, 0);
    free(r);
    return rc;
}

static const parc_stress_workload_t restarts_workload = {
    .name = "actor.restarts_racing_sends",
    .impl = "parc.act_sup",
    .description = "senders by name x a supervised pool with poison messages: "
                   "handled + dead + refused = sent, a restart per poison",
    .max_threads = MAX_SENDERS,
    .run = restarts_run,
};
PARC_STRESS_WORKLOAD(restarts_workload)
