/* parc/event.h: set, clear and the sleeping side of wait. */
#include "parc/event.h"

int parc_event_init(parc_event_t *e)
{
    if (e == NULL)
        return EINVAL;
    parc_atomic_init(&e->state, 0u);
    return parc_eventcount_init(&e->ec);
}

int parc_event_init_flags(parc_event_t *e, unsigned flags)
{
    if ((flags & ~PARC_PSHARED) != 0)
        return EINVAL;
    int rc = parc_event_init(e);
    return rc != 0 ? rc : parc_eventcount_init_flags(&e->ec, flags);
}

int parc_event_destroy(parc_event_t *e)
{
    return e == NULL ? EINVAL : 0;
}

int parc_event_set(parc_event_t *e)
{
    if (e == NULL)
        return EINVAL;
    /* release: publishes what the caller wrote before set() to a waiter
     * that sees the flag (or a later clear's count, which continues this
     * RMW's release sequence); pairs with the acquire loads in
     * parc_event_is_set() and changed(). */
    uint32_t old = parc_for(&e->state, PARC_EVENT_SET_BIT, PARC_RELEASE);
    if (!(old & PARC_EVENT_SET_BIT))
        parc_eventcount_notify_all(&e->ec); /* its seq_cst fence orders the RMW
                                     * above before its waiter check */
    return 0;
}

int parc_event_clear(parc_event_t *e)
{
    if (e == NULL)
        return EINVAL;
    uint32_t v = parc_load(&e->state, PARC_RELAXED);
    while (v & PARC_EVENT_SET_BIT)
        /* relaxed: a clear publishes nothing of its own; being an RMW it
         * continues the release sequence of the set() it undoes, so a
         * waiter that reads the new count still synchronizes with that
         * set(). Lowering the flag and bumping the count of clears: */
        if (parc_cas_weak(&e->state, &v, (v & ~PARC_EVENT_SET_BIT) + 2u,
                          PARC_RELAXED, PARC_RELAXED))
            break;
    return 0;
}

struct seen {
    parc_event_t *e;
    uint32_t state; /* the word as the waiter found it, flag down */
};

/* Readiness for the eventcount: the word moved on from what the waiter saw
 * (a set, possibly followed by clears). */
static bool changed(void *arg)
{
    struct seen *w = arg;
    /* acquire: pairs with the release RMW in parc_event_set() */
    if (parc_load(&w->e->state, PARC_ACQUIRE) != w->state)
        return true;
    return false;
}

static int wait_until(parc_event_t *e, parc_deadline_t deadline)
{
    /* acquire: pairs with the release RMW in parc_event_set() */
    struct seen w = { e, parc_load(&e->state, PARC_ACQUIRE) };
    if (w.state & PARC_EVENT_SET_BIT)
        return 0;
    return parc_eventcount_await(&e->ec, changed, &w, deadline);
}

int parc_event_wait(parc_event_t *e)
{
    if (e == NULL)
        return EINVAL;
    return wait_until(e, PARC_FOREVER);
}

int parc_event_wait_timed(parc_event_t *e, int64_t timeout_ns)
{
    if (e == NULL || timeout_ns < 0)
        return EINVAL;
    if (timeout_ns == 0)
        return parc_event_is_set(e) ? 0 : ETIMEDOUT;
    parc_deadline_t deadline;
    parc_deadline_in(&deadline, timeout_ns);
    return wait_until(e, deadline);
}
