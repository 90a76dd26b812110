/* actor_spawn's workload: spawn a scheduled actor, send it one message,
 * it stops itself; until all have. One op: one actor. Built with -DBASE
 * against a34a5a1, whose scheduled actors had the older names.
 * Arguments: actors per rep, reps. */
#define _GNU_SOURCE
#include "common.h"
#ifdef BASE
#include "parc/actor_sched.h"
typedef parc_actors_t rt_t;
typedef parc_sactor_t act_t;
#define rt_create parc_actors_create
#define act_spawn parc_spawn
#define act_exit parc_sactor_exit
#define act_send parc_sactor_send
#define act_release parc_sactor_release
#define rt_quiesce parc_actors_quiesce
#else
#include "parc/act.h"
typedef parc_act_rt_t rt_t;
typedef parc_act_t act_t;
#define rt_create parc_act_rt_create
#define act_spawn parc_act_spawn
#define act_exit parc_act_exit
#define act_send parc_act_send
#define act_release parc_act_release
#define rt_quiesce parc_act_rt_quiesce
#endif

static rt_t *rt;
static parc_msg_t *msgs;

static void on_message(act_t *self, void *state, parc_msg_t *m)
{
    (void)state;
    (void)m;
    act_exit(self, 0);
}

static int rep(long ops)
{
    for (long i = 0; i < ops; i++) {
        act_t *a;
        if (act_spawn(rt, on_message, NULL, NULL, &a) != 0)
            return 1;
        parc_msg_init(&msgs[i], PARC_MSG_USER, NULL);
        if (act_send(a, &msgs[i]) != 0)
            return 1;
        act_release(a);
    }
    return rt_quiesce(rt);
}

int main(int argc, char **argv)
{
    long ops = argc > 1 ? atol(argv[1]) : 100000;
    msgs = calloc((size_t)ops, sizeof *msgs);
    if (msgs == NULL || rt_create(2, &rt) != 0)
        return 1;
    return run_reps(ops, argc > 2 ? atoi(argv[2]) : 5, rep);
}
