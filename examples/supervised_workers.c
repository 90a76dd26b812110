/*
 * A supervised pool of workers (parc/act_sup.h): three workers under a
 * one_for_one supervisor, each registered by name when it starts. Jobs
 * are sent by name; one job is poison and crashes its worker, which the
 * supervisor restarts (the other workers go on). Jobs queued behind the
 * poison message reach the dead-letter hook instead of vanishing, and
 * are sent again.
 */
#include <stdio.h>
#include <string.h>

#include "parc/act_msg.h"
#include "parc/act_sup.h"

typedef struct { int id; int poison; } job_t;
PARC_ACT_MSG(job, job_t, PARC_MSG_USER)

enum { WORKERS = 3, JOBS = 30 };

static parc_atomic(int) done;
static parc_atomic(int) retried;
static parc_act_rt_t *rt;

static void worker(parc_act_t *self, void *state, parc_msg_t *m)
{
    const char *name = state;
    job_t *j;
    if (job_match(m, &j)) {
        if (j->poison) {
            printf("%s: job %d is poison, crashing\n", name, j->id);
            parc_act_exit(self, 1); /* abnormal: the supervisor restarts it */
        } else {
            parc_faa(&done, 1, PARC_RELAXED); /* a count */
        }
    }
    parc_msg_free(m);
}

static void worker_started(parc_act_t *child, void *state)
{
    printf("%s started\n", (const char *)state);
    parc_act_register(child, state);
}

/* A job that was queued behind the poison: send it to the next worker. */
static void dead_letter(parc_act_t *to, parc_msg_t *m, void *arg)
{
    (void)to;
    (void)arg;
    job_t *j;
    if (job_match(m, &j)) {
        parc_faa(&retried, 1, PARC_RELAXED); /* a count */
        char name[16];
        snprintf(name, sizeof name, "worker%d", (j->id + 1) % WORKERS);
        if (parc_act_send_name(rt, name, m) == 0)
            return;
    }
    parc_msg_free(m);
}

int main(void)
{
    if (parc_act_rt_create(2, &rt) != 0)
        return 1;
    parc_act_rt_on_dead_letter(rt, dead_letter, NULL);
    static char names[WORKERS][16];
    parc_act_sup_spec_t specs[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        snprintf(names[i], sizeof names[i], "worker%d", i);
        parc_act_sup_spec_t s = PARC_ACT_SUP_SPEC_INIT;
        s.fn = worker;
        s.state = names[i];
        s.on_start = worker_started;
        specs[i] = s;
    }
    parc_act_sup_options_t o = PARC_ACT_SUP_OPTIONS_INIT; /* one_for_one */
    parc_act_sup_t *sup;
    if (parc_act_sup_start(rt, &o, specs, WORKERS, &sup) != 0)
        return 1;

    int sent = 0;
    for (int id = 0; id < JOBS; id++) {
        job_t j = { id, id == 10 };
        char name[16];
        snprintf(name, sizeof name, "worker%d", id % WORKERS);
        parc_act_t *w;
        /* Between the crash and the restart the name is free: retry. */
        while (parc_act_whereis(rt, name, &w) != 0)
            ;
        if (job_send(w, j) == 0)
            sent += !j.poison;
        else
            id--; /* that instance had just stopped: again */
        parc_act_release(w);
    }
    parc_act_rt_quiesce(rt);
    printf("%d of %d jobs done, %d retried after the crash, %llu restart(s)\n",
           parc_load(&done, PARC_RELAXED), sent,
           parc_load(&retried, PARC_RELAXED),
           (unsigned long long)parc_act_sup_restarts(sup));
    int ok = parc_load(&done, PARC_RELAXED) == sent &&
             parc_act_sup_restarts(sup) == 1;
    parc_act_sup_free(sup);
    parc_act_rt_shutdown(rt, 0);
    return ok ? 0 : 1;
}
