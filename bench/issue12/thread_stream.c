/* actor_thread's workload: one sender streams caller-owned messages to a
 * thread-per-actor actor that counts them until close. One op: one
 * message. Arguments: messages per rep, reps. */
#define _GNU_SOURCE
#include "common.h"
#include "parc/actor.h"

static parc_msg_t *msgs;

static int count_run(parc_actor_t *self, void *arg)
{
    (void)arg;
    int n = 0;
    parc_msg_t *m;
    while (parc_actor_recv(self, &m) == 0)
        n++;
    return n;
}

static int rep(long ops)
{
    parc_actor_t a;
    memset(msgs, 0, (size_t)ops * sizeof *msgs);
    if (parc_actor_init(&a, count_run, NULL) != 0 || parc_actor_start(&a) != 0)
        return 1;
    for (long i = 0; i < ops; i++)
        parc_actor_send(&a, &msgs[i]);
    parc_actor_close(&a);
    int got = 0;
    parc_actor_join(&a, &got);
    parc_actor_destroy(&a);
    return got == ops ? 0 : 1;
}

int main(int argc, char **argv)
{
    long ops = argc > 1 ? atol(argv[1]) : 1000000;
    msgs = calloc((size_t)ops, sizeof *msgs);
    return msgs == NULL ? 1 : run_reps(ops, argc > 2 ? atoi(argv[2]) : 5, rep);
}
