/* parc/eventcount.h: the parking side of the eventcount protocol. */
#include "parc/eventcount.h"
#include "spin_wait.h"

int parc_eventcount_init(parc_eventcount_t *ec)
{
    if (ec == NULL)
        return EINVAL;
    parc_atomic_init(&ec->epoch, 0u);
    parc_atomic_init(&ec->waiters, 0u);
    return 0;
}

/* Bit 0 of the epoch: PARC_PSHARED was given at init (wakes add 2). */
#define EC_SHARED_BIT 1u

int parc_eventcount_init_flags(parc_eventcount_t *ec, unsigned flags)
{
    if (ec == NULL || (flags & ~PARC_PSHARED) != 0)
        return EINVAL;
    parc_atomic_init(&ec->epoch, (flags & PARC_PSHARED) ? EC_SHARED_BIT : 0u);
    parc_atomic_init(&ec->waiters, 0u);
    return 0;
}

int parc_eventcount_wait(parc_eventcount_t *ec, parc_eventcount_key_t key,
                         parc_deadline_t deadline)
{
    if (ec == NULL)
        return EINVAL;
    /* The kernel (or the condvar bucket) compares the epoch with the key
     * and sleeps atomically with respect to parc_eventcount_wake's
     * bump-then-wake. */
    int rc = (key & EC_SHARED_BIT)
                 ? parc_park_wait_shared(&ec->epoch, key, deadline)
                 : parc_park_wait(&ec->epoch, key, deadline);
    parc_fas(&ec->waiters, 1u, PARC_RELAXED);
    /* acquire: a wake means a notifier bumped the epoch after publishing;
     * reading the epoch with acquire makes that publish visible to the
     * caller's re-check. Pairs with the release increment in
     * parc_eventcount_wake(). */
    (void)parc_load(&ec->epoch, PARC_ACQUIRE);
    return rc == ETIMEDOUT ? ETIMEDOUT : 0;
}

void parc_eventcount_wake(parc_eventcount_t *ec, bool all)
{
    /* release: publishes what the notifier wrote before notifying to a
     * waiter that reads the new epoch (prepare_wait, or after its park);
     * pairs with the acquire loads of the epoch there. */
    uint32_t was = parc_faa(&ec->epoch, 2u, PARC_RELEASE); /* keeps bit 0 */
    if (was & EC_SHARED_BIT) {
        if (all)
            parc_park_wake_all_shared(&ec->epoch);
        else
            parc_park_wake_one_shared(&ec->epoch);
    } else if (all) {
        parc_park_wake_all(&ec->epoch);
    } else {
        parc_park_wake_one(&ec->epoch);
    }
}

int parc_eventcount_await(parc_eventcount_t *ec, bool (*ready)(void *arg),
                          void *arg, parc_deadline_t deadline)
{
    if (ec == NULL || ready == NULL)
        return EINVAL;
    /* Spin first: a hand-off between running threads costs a cache-line
     * round trip, a wake-up from the kernel tens of microseconds. Yield
     * now and then while spinning, so that a partner sharing our core
     * (threads outnumber cores) runs at once instead of after the whole
     * spin, which would cost a ping-pong on one CPU a whole spin budget per
     * round trip; and park at once after a wait that such a yield ended,
     * so the pair does not stay on one core (src/spin_wait.h). */
    /* relaxed: the shared bit never changes after init. */
    bool shared = (parc_load(&ec->epoch, PARC_RELAXED) & EC_SHARED_BIT) != 0;
    if (parc_spin_wait_(ready, arg, shared))
        return 0;
    for (;;) {
        parc_eventcount_key_t key = parc_eventcount_prepare_wait(ec);
        if (ready(arg)) {
            parc_eventcount_cancel_wait(ec);
            return 0;
        }
        if (parc_deadline_passed(deadline)) {
            parc_eventcount_cancel_wait(ec);
            return ETIMEDOUT;
        }
        if (parc_eventcount_wait(ec, key, deadline) == ETIMEDOUT)
            return ready(arg) ? 0 : ETIMEDOUT;
    }
}
