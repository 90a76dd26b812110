/* parc/sem.h: releasing, and the sleeping side of acquiring. */
#include "parc/sem.h"

int parc_sem_init(parc_sem_t *s, uint32_t permits)
{
    return parc_sem_init_bounded(s, permits, PARC_SEM_VALUE_MAX);
}

int parc_sem_init_bounded(parc_sem_t *s, uint32_t permits, uint32_t bound)
{
    if (s == NULL || bound == 0 || bound > PARC_SEM_VALUE_MAX || permits > bound)
        return EINVAL;
    parc_atomic_init(&s->permits, permits);
    s->bound = bound;
    parc_atomic_init(&s->big_waiters, 0u);
    return parc_eventcount_init(&s->ec);
}

int parc_sem_init_flags(parc_sem_t *s, uint32_t permits, uint32_t bound,
                        unsigned flags)
{
    if ((flags & ~PARC_PSHARED) != 0)
        return EINVAL;
    int rc = parc_sem_init_bounded(s, permits, bound);
    return rc != 0 ? rc : parc_eventcount_init_flags(&s->ec, flags);
}

int parc_sem_destroy(parc_sem_t *s)
{
    return s == NULL ? EINVAL : 0;
}

struct take {
    parc_sem_t *s;
    uint32_t n;
};

/* The eventcount's readiness test: take the permits if they are there. */
static bool take_ready(void *arg)
{
    struct take *t = arg;
    if (parc_sem_acquire_try(t->s, t->n) == 0)
        return true;
    return false;
}

int parc_sem_acquire_wait_(parc_sem_t *s, uint32_t n, parc_deadline_t deadline)
{
    struct take t = { s, n };
    if (n == 1)
        return parc_eventcount_await(&s->ec, take_ready, &t, deadline);
    /* A waiter for several permits may be unable to use a release that a
     * waiter for one could: announce it, so that releases wake everybody.
     * The increment precedes the seq_cst fence in parc_eventcount_prepare_wait(),
     * so a releaser that sees this waiter registered sees it here too. */
    parc_faa(&s->big_waiters, 1u, PARC_RELAXED);
    int rc = parc_eventcount_await(&s->ec, take_ready, &t, deadline);
    parc_fas(&s->big_waiters, 1u, PARC_RELAXED);
    return rc;
}

int parc_sem_acquire_timed(parc_sem_t *s, uint32_t n, int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (timeout_ns < 0)
        return EINVAL;
    int rc = parc_sem_acquire_try(s, n);
    if (rc != EAGAIN || timeout_ns == 0)
        return rc == EAGAIN ? ETIMEDOUT : rc;
    parc_deadline_in(&deadline, timeout_ns);
    return parc_sem_acquire_wait_(s, n, deadline);
}

int parc_sem_release(parc_sem_t *s, uint32_t n)
{
    if (s == NULL || n == 0 || n > s->bound)
        return EINVAL;
    uint32_t v = parc_load(&s->permits, PARC_RELAXED);
    do {
        if (n > s->bound - v)
            return EOVERFLOW;
        /* release: publishes the caller's writes to the acquirer that takes
         * these permits; pairs with the acquire CAS in
         * parc_sem_acquire_try(). */
    } while (!parc_cas_weak(&s->permits, &v, v + n, PARC_RELEASE, PARC_RELAXED));
    /* seq_cst fence: orders the count update above before the waiter-count
     * loads below; pairs with the fence in parc_eventcount_prepare_wait(), so either
     * a waiter's re-check sees the permits or we see the waiter. */
    parc_fence(PARC_SEQ_CST);
    if (parc_eventcount_has_waiters(&s->ec)) {
        /* One waiter can use one permit. Several permits, or a waiter that
         * wants several, may need several wake-ups or a particular waiter:
         * wake them all and let them race (correct; rare). */
        bool all = n > 1 || parc_load(&s->big_waiters, PARC_RELAXED) != 0;
        parc_eventcount_wake(&s->ec, all);
    }
    return 0;
}
