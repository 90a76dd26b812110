/*
 * Stress adapters for parc's spin locks (parc/spinlock.h): lock.exclusion
 * and lock.trylock run each of them.
 *
 *   parc.spin_tas     test-and-set
 *   parc.spin_ttas    test-and-test-and-set with exponential backoff
 *   parc.spin_ticket  ticket lock (FIFO)
 *   parc.spin_mcs     MCS queue lock (FIFO); the per-thread context is the
 *                     thread's queue node
 */
#include <errno.h>
#include <stdlib.h>

#include "parc/spinlock.h"
#include "parc/stress.h"

/* One create/destroy pair per lock type: calloc gives an unlocked lock
 * (all four are unlocked when zeroed); the init call states it anyway. */
#define SPIN_ADAPTER(kind, desc)                                               \
    static int kind##_create(void **out)                                       \
    {                                                                          \
        parc_spin_##kind##_t *l = calloc(1, sizeof *l);                        \
        if (l == NULL)                                                         \
            return ENOMEM;                                                     \
        (void)parc_spin_##kind##_init(l);                                      \
        *out = l;                                                              \
        return 0;                                                              \
    }                                                                          \
    static void kind##_destroy(void *l) { free(l); }                           \
    static int kind##_lock(void *l, void *ctx)                                 \
    {                                                                          \
        (void)ctx;                                                             \
        return parc_spin_##kind##_lock(l);                                     \
    }                                                                          \
    static int kind##_trylock(void *l, void *ctx)                              \
    {                                                                          \
        (void)ctx;                                                             \
        return parc_spin_##kind##_lock_try(l);                                  \
    }                                                                          \
    static int kind##_unlock(void *l, void *ctx)                               \
    {                                                                          \
        (void)ctx;                                                             \
        return parc_spin_##kind##_unlock(l);                                   \
    }                                                                          \
    static const parc_stress_lock_impl_t kind##_impl = {                       \
        .name = "parc.spin_" #kind,                                            \
        .description = desc,                                                   \
        .create = kind##_create,                                               \
        .destroy = kind##_destroy,                                             \
        .lock = kind##_lock,                                                   \
        .trylock = kind##_trylock,                                             \
        .unlock = kind##_unlock,                                               \
    };                                                                         \
    PARC_STRESS_LOCK(kind##_impl)

SPIN_ADAPTER(tas, "test-and-set spin lock")
SPIN_ADAPTER(ttas, "test-and-test-and-set spin lock with exponential backoff")
SPIN_ADAPTER(ticket, "ticket spin lock (FIFO, proportional backoff)")

/* ---- MCS: the context is the thread's node ------------------------------- */

static int mcs_create(void **out)
{
    parc_spin_mcs_t *l = calloc(1, sizeof *l);
    if (l == NULL)
        return ENOMEM;
    (void)parc_spin_mcs_init(l);
    *out = l;
    return 0;
}

static void mcs_destroy(void *l)
{
    free(l);
}

static int mcs_lock(void *l, void *node)
{
    return parc_spin_mcs_lock(l, node);
}

static int mcs_trylock(void *l, void *node)
{
    return parc_spin_mcs_lock_try(l, node);
}

static int mcs_unlock(void *l, void *node)
{
    return parc_spin_mcs_unlock(l, node);
}

static const parc_stress_lock_impl_t mcs_impl = {
    .name = "parc.spin_mcs",
    .description = "MCS queue spin lock (FIFO, node per thread)",
    .context_size = sizeof(parc_spin_mcs_node_t),
    .create = mcs_create,
    .destroy = mcs_destroy,
    .lock = mcs_lock,
    .trylock = mcs_trylock,
    .unlock = mcs_unlock,
};
PARC_STRESS_LOCK(mcs_impl)
