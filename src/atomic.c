/* parc/atomic.h: the out-of-line pieces. */
#include <sched.h>

#include "parc/atomic.h"

#include "park_hook.h"

/* The word every fence touches in a ThreadSanitizer build (see atomic.h).
 * Defined in every build so that objects built with and without TSan link. */
parc_atomic(unsigned) parc_tsan_fence_word;

/* Installed by the fiber runtime (src/park_hook.h): yields the running
 * fiber and returns true, or returns false when the caller is a plain
 * thread. A spinning fiber then lets the fiber it waits for (often queued
 * on the same worker) run, instead of holding its worker through the spin. */
static parc_atomic(parc_yield_hook_fn) yield_hook;

void parc_yield_hook_install(parc_yield_hook_fn hook)
{
    parc_yield_hook_fn none = NULL;
    /* Release/acquire: nothing to publish beyond the pointer itself, but
     * it pairs with the acquire in parc_yield for symmetry with park.c. */
    (void)parc_cas(&yield_hook, &none, hook, PARC_RELEASE, PARC_RELAXED);
}

void parc_yield(void)
{
    PARC_CHAOS_POINT();
    /* Acquire: pairs with the release in parc_yield_hook_install. */
    parc_yield_hook_fn hook = parc_load(&yield_hook, PARC_ACQUIRE);
    if (hook != NULL && hook())
        return;
    sched_yield();
}

/* The spin hook (parc/impl/atomic.h, src/park_hook.h): the flag makes
 * parc_spin_poll call parc_spin_poll_hook_ at all; relaxed, since the
 * hook pointer itself is published by the release below. */
parc_atomic(unsigned) parc_spin_hooked_;
static parc_atomic(parc_spin_hook_fn) spin_hook;

void parc_spin_hook_install(parc_spin_hook_fn hook)
{
    parc_spin_hook_fn none = NULL;
    /* Release: pairs with the acquire in parc_spin_poll_hook_. */
    if (parc_cas(&spin_hook, &none, hook, PARC_RELEASE, PARC_RELAXED))
        parc_store(&parc_spin_hooked_, 1u, PARC_RELAXED);
}

bool parc_spin_poll_hook_(unsigned i)
{
    /* Acquire: pairs with the release in parc_spin_hook_install. */
    parc_spin_hook_fn hook = parc_load(&spin_hook, PARC_ACQUIRE);
    return hook != NULL && hook(i);
}
