/*
 * The exhaustive bounded explorer (explore.h) and parc-stress --explore.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore.h"
#include "parc/time.h"
#include "parc/weak.h"
#include "weak_modes.h"

#define MAX_BRANCHES 4096

typedef struct ex_choice {
    uint8_t chosen, options, kind;
} ex_choice_t;

typedef struct explorer {
    explore_bounds_t b;
    ex_choice_t *stack; /* the branch points of the current path */
    unsigned len;
    unsigned pos;       /* branch points passed in this execution */
    unsigned decisions; /* decisions of any kind in this execution */
    unsigned preemptions, stale, run;
    bool diverged;
} explorer_t;

/* The chooser: replays the recorded prefix, then takes option 0 and
 * records a new branch point. Called by the baton and the model, one
 * thread at a time. */
static unsigned ex_choose(void *ctx, unsigned kind, unsigned options)
{
    explorer_t *e = ctx;
    if (options > 255)
        options = 255;
    e->decisions++;
    if (kind == PARC_WEAK_CHOICE_SCHEDULE && e->run >= e->b.max_run) {
        e->run = 0; /* fairness: the spinning thread steps aside */
        return 1;
    }
    bool budget = kind == PARC_WEAK_CHOICE_READ ? e->stale < e->b.stale_reads
                : kind == PARC_WEAK_CHOICE_SCHEDULE ? e->preemptions < e->b.preemptions
                : true;
    if (e->b.depth && e->decisions > e->b.depth)
        budget = false;
    unsigned c = 0;
    if (budget && e->pos < MAX_BRANCHES) {
        if (e->pos < e->len) {
            ex_choice_t *ch = &e->stack[e->pos];
            if (ch->options != options || ch->kind != kind)
                e->diverged = true;
            c = ch->chosen % options;
        } else {
            e->stack[e->len++] = (ex_choice_t){ 0, (uint8_t)options, (uint8_t)kind };
        }
        e->pos++;
    }
    if (c > 0 && kind == PARC_WEAK_CHOICE_READ)
        e->stale++;
    if (c > 0 && kind == PARC_WEAK_CHOICE_SCHEDULE)
        e->preemptions++;
    if (kind == PARC_WEAK_CHOICE_SCHEDULE)
        e->run = c == 0 ? e->run + 1 : 0;
    else if (kind == PARC_WEAK_CHOICE_SWITCH)
        e->run = 0;
    return c;
}

/* Move to the next path: the deepest branch point with an untried option
 * takes it; the ones below it are forgotten. False when none is left. */
static bool ex_next(explorer_t *e)
{
    if (e->len > e->pos)
        e->len = e->pos; /* the execution ended earlier than recorded */
    while (e->len > 0) {
        ex_choice_t *ch = &e->stack[e->len - 1];
        if (ch->chosen + 1u < ch->options) {
            ch->chosen++;
            return true;
        }
        e->len--;
    }
    return false;
}

int explore_run(const explore_bounds_t *bounds,
                int (*one)(void *arg, const parc_baton_options_t *bo), void *arg,
                explore_result_t *res)
{
    memset(res, 0, sizeof *res);
    explorer_t e;
    memset(&e, 0, sizeof e);
    e.b = *bounds;
    if (e.b.max_run == 0)
        e.b.max_run = 64;
    if (e.b.max_executions == 0)
        e.b.max_executions = 1000000;
    e.stack = calloc(MAX_BRANCHES, sizeof *e.stack);
    if (e.stack == NULL)
        return ENOMEM;
    parc_baton_options_t bo = {
        .seed = 1,
        .depth = 1,
        .max_run = 1u << 30, /* the chooser decides */
        .hang_ns = 2 * PARC_NS_PER_S,
        .weak = true,
        .chooser = ex_choose,
        .chooser_ctx = &e,
    };
    for (;;) {
        e.pos = e.decisions = e.preemptions = e.stale = e.run = 0;
        int rc = one(arg, &bo);
        res->executions++;
        if (e.pos > res->longest)
            res->longest = e.pos;
        if (rc != 0) {
            res->failure = rc;
            break;
        }
        if (!ex_next(&e)) {
            res->complete = true;
            break;
        }
        if (res->executions >= e.b.max_executions)
            break;
    }
    res->diverged = e.diverged;
    free(e.stack);
    return 0;
}

int stress_mode_explore(const stress_options_t *opt, const char *arg)
{
    (void)arg;
    if (!parc_weak_compiled()) {
        printf("parc-stress: SKIP: --explore enumerates the weak-memory model's "
               "choices; configure with -DPARC_WEAK=ON (preset weak)\n"
               "\n0 passed, 0 failed, 1 skipped\n");
        return 0;
    }
    unsigned passed = 0, failed = 0, skipped = 0;
    printf("parc-stress --explore: every schedule and read choice within the bounds\n");
    if (!opt->mutants)
        stress_litmus_weak_explore(opt->filter, &passed, &failed, &skipped);
    stress_explore_protocols(opt->filter, opt->mutants, &passed, &failed, &skipped);
    printf("\n%u passed, %u failed", passed, failed);
    if (skipped)
        printf(", %u skipped", skipped);
    printf("\n");
    return failed ? 1 : 0;
}
