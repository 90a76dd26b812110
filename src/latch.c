/* parc/latch.h: counting down, and the sleeping side of wait. */
#include "parc/latch.h"

int parc_latch_init(parc_latch_t *l, uint32_t count)
{
    if (l == NULL)
        return EINVAL;
    parc_atomic_init(&l->count, count);
    return parc_eventcount_init(&l->ec);
}

int parc_latch_destroy(parc_latch_t *l)
{
    return l == NULL ? EINVAL : 0;
}

int parc_latch_count_down(parc_latch_t *l)
{
    if (l == NULL)
        return EINVAL;
    uint32_t c = parc_load(&l->count, PARC_RELAXED);
    while (c != 0) {
        /* release: publishes the caller's writes to whoever sees the count
         * reach zero; pairs with the acquire loads in wait (the decrements
         * form one release sequence ending in the zero). */
        if (parc_cas_weak(&l->count, &c, c - 1, PARC_RELEASE, PARC_RELAXED)) {
            if (c == 1)
                parc_eventcount_notify_all(&l->ec); /* its seq_cst fence orders the
                                             * zero before the waiter check */
            return 0;
        }
    }
    return 0;
}

struct waiter {
    parc_latch_t *l;
};

static bool open_(void *arg)
{
    struct waiter *w = arg;
    if (parc_latch_wait_try(w->l) == 0)
        return true;
    return false;
}

int parc_latch_wait(parc_latch_t *l)
{
    int rc = parc_latch_wait_try(l);
    struct waiter w = { l };
    return rc == EAGAIN ? parc_eventcount_await(&l->ec, open_, &w, PARC_FOREVER) : rc;
}

int parc_latch_wait_timed(parc_latch_t *l, int64_t timeout_ns)
{
    if (timeout_ns < 0)
        return EINVAL;
    int rc = parc_latch_wait_try(l);
    if (rc != EAGAIN)
        return rc;
    if (timeout_ns == 0)
        return ETIMEDOUT;
    parc_deadline_t deadline;
    parc_deadline_in(&deadline, timeout_ns);
    struct waiter w = { l };
    return parc_eventcount_await(&l->ec, open_, &w, deadline);
}
