/* parc/park.h: argument checks, chaos hooks, the fiber hook
 * (src/park_hook.h), then the configured back-end. */
#include <limits.h>

#include "park_backend.h"
#include "park_hook.h"

/* NULL until a runtime installs a hook: then one acquire load per park
 * and per wake, and the hook's own cost only where it applies. */
static parc_atomic(const parc_park_hook_t *) park_hook;

void parc_park_hook_install(const parc_park_hook_t *hook)
{
    const parc_park_hook_t *none = NULL;
    /* Release: the hook's table is complete before a parker or waker
     * calls through it; pairs with the acquire loads below. */
    (void)parc_cas(&park_hook, &none, hook, PARC_RELEASE, PARC_RELAXED);
}

#if PARC_PARK_FUTEX && defined(__linux__)
#define BACKEND parc_park_futex_backend
#else
#define BACKEND parc_park_condvar_backend
#endif

/* Process-shared parking needs a kernel object that every process reaches
 * through the shared word itself: the futex. The condvar back-end's
 * buckets live in one process's memory, so a build configured with it
 * still parks process-shared words on the futex where there is one (Linux),
 * and reports ENOTSUP elsewhere. */
#ifdef __linux__
#define SHARED_BACKEND parc_park_futex_backend
#else
#define SHARED_BACKEND parc_park_condvar_backend
#endif

int parc_park_wait(parc_park_word_t *word, uint32_t expected,
                   parc_deadline_t deadline)
{
    if (word == NULL)
        return EINVAL;
    /* Acquire: pairs with the release in parc_park_hook_install. */
    const parc_park_hook_t *hook = parc_load(&park_hook, PARC_ACQUIRE);
    if (hook != NULL) {
        int rc = hook->wait(word, expected, deadline);
        if (rc != PARC_PARK_HOOK_DECLINE)
            return rc;
    }
#ifdef PARC_CHAOS
    /* Tell a serializing scheduler that this thread may sleep, so it can
     * hand the processor to another one. */
    parc_chaos_block();
    int rc = BACKEND.wait(word, expected, deadline);
    parc_chaos_unblock();
    return rc;
#else
    return BACKEND.wait(word, expected, deadline);
#endif
}

int parc_park_wake_one(parc_park_word_t *word)
{
    if (word == NULL)
        return EINVAL;
    PARC_CHAOS_POINT();
    /* Acquire: pairs with the release in parc_park_hook_install. */
    const parc_park_hook_t *hook = parc_load(&park_hook, PARC_ACQUIRE);
    if (hook != NULL && hook->wake(word, 1) > 0)
        return 0; /* a fiber was the one woken */
    BACKEND.wake(word, 1);
    return 0;
}

int parc_park_wake_all(parc_park_word_t *word)
{
    if (word == NULL)
        return EINVAL;
    PARC_CHAOS_POINT();
    /* Acquire: pairs with the release in parc_park_hook_install. */
    const parc_park_hook_t *hook = parc_load(&park_hook, PARC_ACQUIRE);
    if (hook != NULL)
        (void)hook->wake(word, INT_MAX);
    BACKEND.wake(word, INT_MAX);
    return 0;
}

int parc_park_wait_shared(parc_park_word_t *word, uint32_t expected,
                          parc_deadline_t deadline)
{
    if (word == NULL)
        return EINVAL;
    if (SHARED_BACKEND.wait_shared == NULL)
        return ENOTSUP;
#ifdef PARC_CHAOS
    parc_chaos_block();
    int rc = SHARED_BACKEND.wait_shared(word, expected, deadline);
    parc_chaos_unblock();
    return rc;
#else
    return SHARED_BACKEND.wait_shared(word, expected, deadline);
#endif
}

static int wake_shared(parc_park_word_t *word, int count)
{
    if (word == NULL)
        return EINVAL;
    if (SHARED_BACKEND.wake_shared == NULL)
        return ENOTSUP;
    PARC_CHAOS_POINT();
    SHARED_BACKEND.wake_shared(word, count);
    return 0;
}

int parc_park_wake_one_shared(parc_park_word_t *word)
{
    return wake_shared(word, 1);
}

int parc_park_wake_all_shared(parc_park_word_t *word)
{
    return wake_shared(word, INT_MAX);
}

const char *parc_park_backend(void)
{
    return BACKEND.name;
}
