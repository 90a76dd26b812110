/*
 * The registry of implementations and custom workloads: filled by
 * constructors (PARC_STRESS_* macros) before main(), read-only afterwards.
 */
#include <errno.h>
#include <stdlib.h>

#include "stress_internal.h"

static stress_entry_t *entries;
static size_t entry_count, entry_capacity;

static bool impl_complete(parc_stress_kind_t kind, const void *impl)
{
    switch (kind) {
    case PARC_STRESS_KIND_QUEUE: {
        const parc_stress_queue_impl_t *q = impl;
        return q->name && q->create && q->destroy && q->push && q->pop &&
               (!(q->flags & PARC_STRESS_CLOSABLE) || q->close);
    }
    case PARC_STRESS_KIND_LOCK: {
        const parc_stress_lock_impl_t *l = impl;
        return l->name && l->create && l->destroy && l->lock && l->unlock &&
               !l->lock_shared == !l->unlock_shared;
    }
    case PARC_STRESS_KIND_PERMITS: {
        const parc_stress_permits_impl_t *p = impl;
        return p->name && p->create && p->destroy && p->acquire &&
               p->try_acquire && p->release;
    }
    case PARC_STRESS_KIND_SIGNAL: {
        const parc_stress_signal_impl_t *s = impl;
        return s->name && s->create && s->destroy && s->set && s->clear &&
               s->wait_timed;
    }
    case PARC_STRESS_KIND_WORKLOAD: {
        const parc_stress_workload_t *w = impl;
        return w->name && w->impl && w->run;
    }
    }
    return false;
}

int parc_stress_register(parc_stress_kind_t kind, const void *impl)
{
    if (impl == NULL || !impl_complete(kind, impl))
        return EINVAL;
    if (entry_count == entry_capacity) {
        size_t cap = entry_capacity ? 2 * entry_capacity : 32;
        stress_entry_t *grown = realloc(entries, cap * sizeof *grown);
        if (grown == NULL)
            return ENOMEM;
        entries = grown;
        entry_capacity = cap;
    }
    entries[entry_count++] = (stress_entry_t){ .kind = kind, .impl = impl };
    return 0;
}

size_t stress_registry(const stress_entry_t **out)
{
    *out = entries;
    return entry_count;
}

const char *stress_entry_name(const stress_entry_t *e)
{
    /* Every impl struct begins with `const char *name`, except workloads
     * whose implementation column is ->impl. */
    if (e->kind == PARC_STRESS_KIND_WORKLOAD)
        return ((const parc_stress_workload_t *)e->impl)->impl;
    return *(const char *const *)e->impl;
}

unsigned stress_entry_flags(const stress_entry_t *e)
{
    switch (e->kind) {
    case PARC_STRESS_KIND_QUEUE:
        return ((const parc_stress_queue_impl_t *)e->impl)->flags;
    case PARC_STRESS_KIND_LOCK:
        return ((const parc_stress_lock_impl_t *)e->impl)->flags;
    case PARC_STRESS_KIND_PERMITS:
        return ((const parc_stress_permits_impl_t *)e->impl)->flags;
    case PARC_STRESS_KIND_SIGNAL:
        return ((const parc_stress_signal_impl_t *)e->impl)->flags;
    case PARC_STRESS_KIND_WORKLOAD:
        return ((const parc_stress_workload_t *)e->impl)->flags;
    }
    return 0;
}
