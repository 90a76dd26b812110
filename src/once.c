/* parc/once.h: running the initialiser, and waiting for it. */
#include <stddef.h>

#include "parc/once.h"

/* The onces whose initialisers run on this thread, innermost first: a
 * chain of frames on the runners' stacks, so a nested call on one of them
 * is reported (EDEADLK) instead of waiting for itself. */
struct running {
    parc_once_t *once;
    struct running *outer;
};
static _Thread_local struct running *running_here;

int parc_once_init(parc_once_t *once)
{
    if (once == NULL)
        return EINVAL;
    parc_atomic_init(&once->state, (uint32_t)PARC_ONCE_NEW);
    return parc_eventcount_init(&once->ec);
}

struct waiter {
    parc_once_t *once;
};

static bool done(void *arg)
{
    struct waiter *w = arg;
    if (parc_once_done(w->once))
        return true;
    return false;
}

int parc_once_call_slow_(parc_once_t *once, void (*init)(void *arg), void *arg)
{
    if (once == NULL || init == NULL)
        return EINVAL;
    uint32_t s = PARC_ONCE_NEW;
    /* acquire on failure: reading DONE must make the initialiser's writes
     * visible (pairs with the release store of DONE below). On success the
     * order is only there because C11 forbids a failure order stronger
     * than the success one; winning publishes nothing. */
    if (parc_cas(&once->state, &s, (uint32_t)PARC_ONCE_RUNNING, PARC_ACQUIRE,
                 PARC_ACQUIRE)) {
        struct running frame = { once, running_here };
        running_here = &frame;
        init(arg);
        running_here = frame.outer;
        /* release: publishes everything the initialiser wrote; pairs with
         * the acquire loads of DONE in parc_once_call()/parc_once_done(). */
        parc_store(&once->state, (uint32_t)PARC_ONCE_DONE, PARC_RELEASE);
        parc_eventcount_notify_all(&once->ec); /* its seq_cst fence orders DONE
                                        * before the waiter check */
        return 0;
    }
    if (s == PARC_ONCE_DONE)
        return 0; /* the failed CAS read DONE with acquire */
    for (struct running *r = running_here; r != NULL; r = r->outer)
        if (r->once == once)
            return EDEADLK;
    struct waiter w = { once };
    return parc_eventcount_await(&once->ec, done, &w, PARC_FOREVER);
}
