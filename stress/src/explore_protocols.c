/*
 * parc-stress --explore: parc's core protocols as tiny cases, every
 * schedule and read choice within the bounds (explore.h).
 *
 *   mailbox     two producers push one message each (the payload an
 *               atomic, stored relaxed before the push); the consumer's
 *               blocking pop takes both: each once, payload intact.
 *   eventcount  a waiter waits for a flag through prepare / re-check /
 *               wait (no timeout: a lost wake-up hangs, and the baton
 *               reports the hang); the notifier sets flag and data, then
 *               notifies. The waiter must see the data.
 *   mutex       two threads lock, bump a relaxed atomic counter by a load
 *               and a store, unlock: the count is exact (the lock's
 *               acquire/release is all that orders the two bumps), through
 *               the contended hand-over (park and wake) too.
 *   deque       the owner pushes two tasks and pops; a thief steals once:
 *               every task taken exactly once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore.h"
#include "parc/atomic.h"
#include "parc/deque.h"
#include "parc/eventcount.h"
#include "parc/mpsc.h"
#include "parc/mutex.h"

/* ---- mailbox ----------------------------------------------------------- */

typedef struct mb_msg {
    parc_mpsc_node_t node; /* first: the node is the message */
    parc_atomic(int) payload;
} mb_msg_t;

typedef struct mb_case {
    parc_mpsc_t q;
    mb_msg_t msg[2];
    int got[2];
    bool bad;
} mb_case_t;

static void mb_thread(unsigned index, void *arg)
{
    mb_case_t *c = arg;
    if (index < 2) {
        parc_store(&c->msg[index].payload, 10 + (int)index, PARC_RELAXED);
        bool was_empty;
        if (parc_mpsc_push(&c->q, &c->msg[index].node, &was_empty) != 0)
            c->bad = true;
        return;
    }
    for (int k = 0; k < 2; k++) {
        parc_mpsc_node_t *n;
        if (parc_mpsc_pop(&c->q, &n) != 0) {
            c->bad = true;
            return;
        }
        mb_msg_t *m = (mb_msg_t *)n;
        int i = (int)(m - c->msg);
        if (i < 0 || i > 1 || parc_load(&m->payload, PARC_RELAXED) != 10 + i)
            c->bad = true;
        else
            c->got[i]++;
    }
}

static int mb_one(void *arg, const parc_baton_options_t *bo)
{
    mb_case_t *c = arg;
    memset(c, 0, sizeof *c);
    parc_mpsc_init(&c->q);
    for (int i = 0; i < 2; i++) {
        parc_atomic_init(&c->msg[i].node.next, 0);
        parc_atomic_init(&c->msg[i].payload, 0);
    }
    int rc = parc_baton_run(3, mb_thread, c, bo, NULL);
    parc_mpsc_destroy(&c->q);
    if (rc != 0)
        return rc;
    return c->bad || c->got[0] != 1 || c->got[1] != 1 ? EPROTO : 0;
}

/* ---- eventcount ---------------------------------------------------------- */

typedef struct ec_case {
    parc_eventcount_t ec;
    parc_atomic(int) flag;
    parc_atomic(int) data;
    int seen;
} ec_case_t;

static void ec_thread(unsigned index, void *arg)
{
    ec_case_t *c = arg;
    if (index == 1) {
        parc_store(&c->data, 42, PARC_RELAXED);
        /* release: publishes data; pairs with the waiter's acquire */
        parc_store(&c->flag, 1, PARC_RELEASE);
        parc_eventcount_notify_one(&c->ec);
        return;
    }
    /* acquire: pairs with the notifier's release store of flag */
    while (!parc_load(&c->flag, PARC_ACQUIRE)) {
        parc_eventcount_key_t key = parc_eventcount_prepare_wait(&c->ec);
        if (parc_load(&c->flag, PARC_ACQUIRE)) { /* as above */
            parc_eventcount_cancel_wait(&c->ec);
            break;
        }
        parc_eventcount_wait(&c->ec, key, PARC_FOREVER);
    }
    c->seen = parc_load(&c->data, PARC_RELAXED);
}

static int ec_one(void *arg, const parc_baton_options_t *bo)
{
    ec_case_t *c = arg;
    memset(c, 0, sizeof *c);
    parc_eventcount_init(&c->ec);
    parc_atomic_init(&c->flag, 0);
    parc_atomic_init(&c->data, 0);
    int rc = parc_baton_run(2, ec_thread, c, bo, NULL);
    if (rc != 0)
        return rc;
    return c->seen == 42 ? 0 : EPROTO;
}

/* Negative control: the waiter's prepare without its seq_cst fence
 * (stress/mutants/weak_eventcount.c's bug): some execution loses the
 * wake-up and hangs. */
static void ec_nofence_thread(unsigned index, void *arg)
{
    ec_case_t *c = arg;
    if (index == 1) {
        ec_thread(index, arg);
        return;
    }
    /* acquire: pairs with the notifier's release store of flag */
    while (!parc_load(&c->flag, PARC_ACQUIRE)) {
        parc_faa(&c->ec.waiters, 1u, PARC_RELAXED);
        /* THE BUG: no parc_fence(PARC_SEQ_CST) here */
        parc_eventcount_key_t key = parc_load(&c->ec.epoch, PARC_ACQUIRE); /* as in prepare */
        if (parc_load(&c->flag, PARC_ACQUIRE)) { /* as above */
            parc_eventcount_cancel_wait(&c->ec);
            break;
        }
        parc_eventcount_wait(&c->ec, key, PARC_FOREVER);
    }
    c->seen = parc_load(&c->data, PARC_RELAXED);
}

static int ec_nofence_one(void *arg, const parc_baton_options_t *bo)
{
    ec_case_t *c = arg;
    memset(c, 0, sizeof *c);
    parc_eventcount_init(&c->ec);
    parc_atomic_init(&c->flag, 0);
    parc_atomic_init(&c->data, 0);
    int rc = parc_baton_run(2, ec_nofence_thread, c, bo, NULL);
    if (rc != 0)
        return rc;
    return c->seen == 42 ? 0 : EPROTO;
}

/* ---- mutex ------------------------------------------------------------------ */

typedef struct mx_case {
    parc_mutex_t m;
    parc_atomic(int) count;
    bool bad;
} mx_case_t;

static void mx_thread(unsigned index, void *arg)
{
    (void)index;
    mx_case_t *c = arg;
    if (parc_mutex_lock(&c->m) != 0) {
        c->bad = true;
        return;
    }
    /* relaxed: the mutex orders the two bumps (that is what is tested) */
    int v = parc_load(&c->count, PARC_RELAXED);
    parc_store(&c->count, v + 1, PARC_RELAXED);
    if (parc_mutex_unlock(&c->m) != 0)
        c->bad = true;
}

static int mx_one(void *arg, const parc_baton_options_t *bo)
{
    mx_case_t *c = arg;
    memset(c, 0, sizeof *c);
    parc_mutex_init(&c->m, PARC_MUTEX_NORMAL);
    parc_atomic_init(&c->count, 0);
    int rc = parc_baton_run(2, mx_thread, c, bo, NULL);
    parc_mutex_destroy(&c->m);
    if (rc != 0)
        return rc;
    return !c->bad && parc_raw_load(&c->count, PARC_RELAXED) == 2 ? 0 : EPROTO;
}

/* ---- deque -------------------------------------------------------------------- */

typedef struct dq_case {
    parc_deque_t d;
    parc_atomic(int) payload[2];
    int taken[2];
    bool bad;
} dq_case_t;

static void dq_take(dq_case_t *c, void *v)
{
    int i = (int)((uintptr_t)v - 1);
    if (i < 0 || i > 1 || parc_load(&c->payload[i], PARC_RELAXED) != 20 + i)
        c->bad = true;
    else
        c->taken[i]++;
}

static void dq_thread(unsigned index, void *arg)
{
    dq_case_t *c = arg;
    void *v;
    if (index == 0) {
        for (int i = 0; i < 2; i++) {
            parc_store(&c->payload[i], 20 + i, PARC_RELAXED);
            if (parc_deque_push(&c->d, (void *)(uintptr_t)(i + 1)) != 0)
                c->bad = true;
        }
        while (parc_deque_pop(&c->d, &v) == 0)
            dq_take(c, v);
        return;
    }
    if (parc_deque_steal(&c->d, &v) == 0)
        dq_take(c, v);
}

static int dq_one(void *arg, const parc_baton_options_t *bo)
{
    dq_case_t *c = arg;
    memset(c, 0, sizeof *c);
    if (parc_deque_init(&c->d, 2) != 0)
        return ENOMEM;
    parc_atomic_init(&c->payload[0], 0);
    parc_atomic_init(&c->payload[1], 0);
    int rc = parc_baton_run(2, dq_thread, c, bo, NULL);
    parc_deque_destroy(&c->d);
    if (rc != 0)
        return rc;
    return !c->bad && c->taken[0] == 1 && c->taken[1] == 1 ? 0 : EPROTO;
}

/* ---- the table ------------------------------------------------------------------ */

typedef struct protocol {
    const char *name;
    const char *what;
    int (*one)(void *arg, const parc_baton_options_t *bo);
    size_t size;
    explore_bounds_t bounds;
    bool mutant; /* a negative control: must fail (run with --mutants) */
} protocol_t;

/* Bounds: enough preemptions and stale reads for the known bugs of each
 * protocol's kind (a lost wake-up needs one preemption and one stale read,
 * a mutual-exclusion break one of each), decisions branching only over the
 * protocol's own steps (the spin-then-park loops would otherwise multiply
 * executions without new orderings), and a cap that keeps CI short. */
static const protocol_t protocols[] = {
    { "mailbox.push_pop", "2 producers push one message each, the consumer pops both",
      mb_one, sizeof(mb_case_t), { 2, 2, 60, 16, 100000 }, false },
    { "eventcount.prepare_notify", "a waiter's prepare/re-check/wait against a notify",
      ec_one, sizeof(ec_case_t), { 2, 2, 60, 16, 20000 }, false },
    { "mutex.handover", "2 threads lock, bump a relaxed counter, unlock",
      mx_one, sizeof(mx_case_t), { 2, 2, 60, 16, 20000 }, false },
    { "deque.pop_steal", "the owner pushes 2 and pops, a thief steals once",
      dq_one, sizeof(dq_case_t), { 2, 2, 60, 16, 20000 }, false },
    /* last: a caught hang leaves its threads stuck, nothing can run after */
    { "mutant.eventcount_without_fence", "prepare without its seq_cst fence: must hang",
      ec_nofence_one, sizeof(ec_case_t), { 2, 2, 60, 16, 20000 }, true },
};

void stress_explore_protocols(const char *filter, bool mutants, unsigned *passed,
                              unsigned *failed, unsigned *skipped)
{
    (void)skipped;
    for (size_t i = 0; i < sizeof protocols / sizeof protocols[0]; i++) {
        const protocol_t *p = &protocols[i];
        char key[128];
        snprintf(key, sizeof key, "protocol/%s", p->name);
        if ((filter != NULL && strstr(key, filter) == NULL) || p->mutant != mutants)
            continue;
        void *c = calloc(1, p->size);
        if (c == NULL) {
            (*failed)++;
            continue;
        }
        explore_result_t res;
        int rc = explore_run(&p->bounds, p->one, c, &res);
        free(c);
        printf("explore %s (%s): %" PRIu64 " executions, up to %u branch points; bounds: "
               "%u preemptions, %u stale reads, first %u decisions%s\n",
               key, p->what, res.executions, res.longest, p->bounds.preemptions,
               p->bounds.stale_reads, p->bounds.depth,
               res.complete ? ", all explored" : "");
        if (p->mutant) {
            bool caught = rc == 0 && res.failure != 0;
            printf("  %s: negative control %s in execution %" PRIu64 " (%s)\n",
                   caught ? "PASS" : "FAIL", caught ? "caught" : "NOT caught",
                   res.executions, caught ? strerror(res.failure) : "no failing execution");
            if (caught)
                (*passed)++;
            else
                (*failed)++;
            if (res.failure == EDEADLK)
                return; /* its threads stay stuck: nothing else can run */
        } else if (rc != 0 || res.failure != 0) {
            printf("  FAIL: %s in execution %" PRIu64 "\n",
                   res.failure == EPROTO ? "the check failed" : strerror(rc ? rc : res.failure),
                   res.executions);
            (*failed)++;
        } else if (res.diverged) {
            printf("  FAIL: a replay diverged from its recorded prefix (nondeterminism)\n");
            (*failed)++;
        } else if (!res.complete) {
            printf("  FAIL: stopped at the cap of %" PRIu64 " executions before the "
                   "bounded space was covered\n", p->bounds.max_executions);
            (*failed)++;
        } else {
            printf("  PASS\n");
            (*passed)++;
        }
        fflush(stdout);
    }
}
