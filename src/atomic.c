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
