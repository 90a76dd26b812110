/*
 * parc/stress_lincheck.h: linearizability runs over the stress harness's
 * queue adapters, and the registry of declared relaxed models.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parc/stress.h"
#include "parc/stress_lincheck.h"

/* ---- declared relaxations (filled by constructors before main) ----------- */

typedef struct lc_relaxed {
    const char *name;
    unsigned flags;
} lc_relaxed_t;

static lc_relaxed_t *relaxed;
static size_t relaxed_count;

int parc_lc_declare_relaxed(const char *impl_name, unsigned flags)
{
    if (impl_name == NULL ||
        (flags & ~(PARC_LC_RELAXED_EMPTY | PARC_LC_RELAXED_FULL)) != 0)
        return EINVAL;
    lc_relaxed_t *grown = realloc(relaxed, (relaxed_count + 1) * sizeof *grown);
    if (grown == NULL)
        return ENOMEM;
    relaxed = grown;
    relaxed[relaxed_count++] = (lc_relaxed_t){ impl_name, flags };
    return 0;
}

/* parc's own containers whose documented model is relaxed, so that their
 * adapters need not declare it: Vyukov's intrusive MPSC mailbox reports
 * empty while a push is between its exchange and its link store; Vyukov's
 * bounded MPMC ring reports empty (full) while a push (pop) that claimed an
 * earlier slot has not yet published it. */
static const lc_relaxed_t parc_known[] = {
    { "parc.mpsc", PARC_LC_RELAXED_EMPTY },
    { "parc.mpmc", PARC_LC_RELAXED_EMPTY | PARC_LC_RELAXED_FULL },
};

unsigned parc_lc_relaxed_flags(const char *impl_name)
{
    unsigned flags = 0;
    if (impl_name == NULL)
        return 0;
    for (size_t i = 0; i < sizeof parc_known / sizeof parc_known[0]; i++)
        if (strcmp(parc_known[i].name, impl_name) == 0)
            flags |= parc_known[i].flags;
    for (size_t i = 0; i < relaxed_count; i++)
        if (strcmp(relaxed[i].name, impl_name) == 0)
            flags |= relaxed[i].flags;
    return flags;
}

/* ---- the adapter ----------------------------------------------------------- */

/* Enough items for every PUSH of a scenario (values are 1..n). */
typedef struct lc_queue {
    const parc_stress_queue_impl_t *impl;
    void *q;
    parc_stress_item_t items[PARC_LC_MAX_OPS];
} lc_queue_t;

/* Far more than a scenario pushes: the container never fills up, so a
 * PUSH that fails is a failure the model must explain (relaxed-full). */
#define LC_QUEUE_CAPACITY 64

static void *lcq_create(void *ctx)
{
    const parc_stress_queue_impl_t *impl = ctx;
    lc_queue_t *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->impl = impl;
    if (impl->create(&w->q, LC_QUEUE_CAPACITY) != 0) {
        free(w);
        return NULL;
    }
    return w;
}

static void lcq_destroy(void *ctx, void *obj)
{
    (void)ctx;
    lc_queue_t *w = obj;
    parc_stress_item_t *it;
    /* drain: destroy() wants an empty container */
    for (int i = 0; i < 2 * PARC_LC_MAX_OPS && w->impl->pop(w->q, &it) == 0; i++)
        ;
    w->impl->destroy(w->q);
    free(w);
}

static int lcq_apply(void *obj, parc_lc_opcode_t opcode, uint64_t arg,
                     uint64_t *result)
{
    lc_queue_t *w = obj;
    if (opcode == PARC_LC_PUSH) {
        if (arg == 0 || arg > PARC_LC_MAX_OPS)
            return EINVAL;
        parc_stress_item_t *it = &w->items[arg - 1];
        it->producer = 0;
        it->seq = arg;
        it->check = parc_stress_item_checksum(0, arg);
        return w->impl->push(w->q, it);
    }
    if (opcode != PARC_LC_POP)
        return EINVAL;
    parc_stress_item_t *it = NULL;
    int rc = w->impl->pop(w->q, &it);
    if (rc == 0) {
        /* an item that is not ours, or damaged, becomes a value nobody
         * pushed: the checker reports it */
        bool ours = it >= w->items && it < w->items + PARC_LC_MAX_OPS;
        *result = ours && it->check == parc_stress_item_checksum(0, it->seq)
                      ? it->seq : UINT64_MAX;
    }
    return rc;
}

int parc_lc_run_queue(const struct parc_stress_queue_impl *impl,
                      const parc_lc_options_t *opt, parc_lc_report_t *report)
{
    if (impl == NULL)
        return EINVAL;
    parc_lc_target_t t = { 0 };
    t.name = impl->name;
    switch (impl->order) {
    case PARC_STRESS_ORDER_FIFO:
        t.model.kind = PARC_LC_FIFO;
        break;
    case PARC_STRESS_ORDER_LIFO:
        t.model.kind = PARC_LC_LIFO;
        break;
    default:
        return ENOTSUP;
    }
    t.model.flags = parc_lc_relaxed_flags(impl->name);
    t.model.capacity = 0;
    t.create = lcq_create;
    t.destroy = lcq_destroy;
    t.apply = lcq_apply;
    /* the adapter's create/destroy take no context: pass the impl itself */
    t.ctx = (void *)(uintptr_t)impl;
    t.max_pushers = impl->max_producers;
    t.max_poppers = impl->max_consumers;
    return parc_lc_run(&t, opt, report);
}
