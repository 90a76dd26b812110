/* parc/cond.h: waiting (spin, then park on the sequence word) and the
 * notify slow path. */
#include "parc/cond.h"
#include "mutex_shared.h"
#include "spin_wait.h"

int parc_cond_init(parc_cond_t *c)
{
    if (c == NULL)
        return EINVAL;
    parc_atomic_init(&c->seq, 0u);
    parc_atomic_init(&c->waiters, 0u);
    parc_atomic_init(&c->sleepers, 0u);
    return 0;
}

/* Bit 0 of the sequence: PARC_PSHARED was given at init (notifies add 2). */
#define COND_SHARED_BIT 1u

int parc_cond_init_flags(parc_cond_t *c, unsigned flags)
{
    if (c == NULL || (flags & ~PARC_PSHARED) != 0)
        return EINVAL;
    parc_cond_init(c);
    parc_atomic_init(&c->seq, (flags & PARC_PSHARED) ? COND_SHARED_BIT : 0u);
    return 0;
}

int parc_cond_destroy(parc_cond_t *c)
{
    if (c == NULL)
        return EINVAL;
    return parc_load(&c->waiters, PARC_RELAXED) != 0 ? EAGAIN : 0;
}

struct seq_seen {
    parc_cond_t *c;
    uint32_t seen;
};

/* The spin's condition: a notify bumped the sequence. relaxed: the
 * sequence carries no data (the mutex does). */
static bool seq_moved(void *arg)
{
    struct seq_seen *s = arg;
    return parc_load(&s->c->seq, PARC_RELAXED) != s->seen;
}

int parc_cond_wait_until(parc_cond_t *c, parc_mutex_t *m, parc_deadline_t deadline)
{
    if (c == NULL || m == NULL)
        return EINVAL;
    /* Not held by the caller (EPERM, as the unlock would say): we never
     * wait, and never touch the count below without the mutex. */
    if (m->kind == PARC_MUTEX_NORMAL ? !parc_mutex_is_locked(m) : !parc_mutex_held_(m))
        return EPERM;
    /* Register and read the sequence while holding the mutex, so that a
     * notifier whose critical section comes later sees us (its lock
     * acquires our unlock) and bumps the sequence past what we read.
     * relaxed: the mutex orders both; nothing is published through them.
     * The count of waiters is written only here and after the relock
     * below, both under the mutex, and concurrent waiters of one
     * condition hold one mutex (parc/cond.h): the mutex orders every
     * write, so a load and a store do, not a read-modify-write (two
     * locked instructions fewer per wait). Notifiers only read it. */
    parc_store(&c->waiters, parc_load(&c->waiters, PARC_RELAXED) + 1u, PARC_RELAXED);
    uint32_t seen = parc_load(&c->seq, PARC_RELAXED);
    int rc = parc_mutex_unlock(m);
    if (rc != 0)
        /* Unlocked by someone else since the check: a broken caller. The
         * count stays one too high, which only sends notifies down their
         * slow path (a count too low could lose a wake-up). */
        return rc;
    bool timed_out = false;
    /* Spin first: a notify from a running thread arrives in a cache-line
     * round trip, a wake-up from the kernel costs tens of microseconds.
     * Yield now and then while spinning: when the notifier shares our core
     * (more threads than cores) spinning only delays it, and a yield hands
     * it the core at once; with the partner on the other core a yield
     * returns at once. After a wait that such a yield ended, the next one
     * parks at once, so the pair does not stay on one core
     * (src/spin_wait.h). */
    struct seq_seen ss = {c, seen};
    if (!parc_spin_wait_(seq_moved, &ss, (seen & COND_SHARED_BIT) != 0)) {
        /* seq_cst RMW, then the seq_cst re-check of the sequence below:
         * Dekker's pattern with parc_cond_notify_slow_'s seq_cst bump and
         * seq_cst load of `sleepers` (store buffering with all four
         * seq_cst: in their single total order either our re-check comes
         * after its bump and sees it, or its load comes after our
         * registration and sees us, and it makes the wake call). */
        parc_faa(&c->sleepers, 1u, PARC_SEQ_CST);
        while (parc_load(&c->seq, PARC_SEQ_CST) == seen) {
            /* The park compares the word with `seen` atomically with
             * going to sleep: a bump before it makes it return at once. */
            int prc = (seen & COND_SHARED_BIT)
                          ? parc_park_wait_shared(&c->seq, seen, deadline)
                          : parc_park_wait(&c->seq, seen, deadline);
            if (prc == ETIMEDOUT) {
                timed_out = parc_load(&c->seq, PARC_RELAXED) == seen;
                break;
            }
        }
        parc_fas(&c->sleepers, 1u, PARC_RELAXED);
    }
    rc = parc_mutex_lock(m);
    /* Leave the count under the mutex again (see the registration);
     * EOWNERDEAD: a robust mutex's lock succeeded. Any other error: not
     * held, so the count stays one too high (harmless, see above). */
    if (rc == 0 || rc == EOWNERDEAD)
        parc_store(&c->waiters, parc_load(&c->waiters, PARC_RELAXED) - 1u, PARC_RELAXED);
    if (rc != 0)
        return rc;
    return timed_out ? ETIMEDOUT : 0;
}

int parc_cond_wait(parc_cond_t *c, parc_mutex_t *m)
{
    return parc_cond_wait_until(c, m, PARC_FOREVER);
}

int parc_cond_wait_timed(parc_cond_t *c, parc_mutex_t *m, int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (c == NULL || m == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    return parc_cond_wait_until(c, m, deadline);
}

int parc_cond_wait_for_timed(parc_cond_t *c, parc_mutex_t *m,
                             bool (*pred)(void *arg), void *arg,
                             int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (c == NULL || m == NULL || pred == NULL ||
        parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    while (!pred(arg)) {
        int rc = parc_cond_wait_until(c, m, deadline);
        if (rc == ETIMEDOUT)
            return pred(arg) ? 0 : ETIMEDOUT; /* the predicate's last word */
        if (rc != 0)
            return rc;
    }
    return 0;
}

int parc_cond_wait_for(parc_cond_t *c, parc_mutex_t *m,
                       bool (*pred)(void *arg), void *arg)
{
    return parc_cond_wait_for_timed(c, m, pred, arg, PARC_FOREVER);
}

void parc_cond_notify_slow_(parc_cond_t *c, bool all)
{
    /* The bump publishes nothing (the condition is published by the
     * mutex); it makes waiters' spins and parks see a change. seq_cst
     * (the bump and the load of `sleepers`): Dekker's pattern with the
     * sleeper's seq_cst registration and re-check in
     * parc_cond_wait_until() (see there). Two seq_cst operations rather
     * than relaxed ones around a seq_cst fence: on x86-64 the RMW is
     * the fence already (a fence after it cost a second locked
     * instruction at every notify that found a waiter). */
    uint32_t was = parc_faa(&c->seq, 2u, PARC_SEQ_CST); /* keeps bit 0 */
    if (parc_load(&c->sleepers, PARC_SEQ_CST) == 0)
        return; /* every waiter is spinning and will see the bump */
    if (was & COND_SHARED_BIT) {
        if (all)
            parc_park_wake_all_shared(&c->seq);
        else
            parc_park_wake_one_shared(&c->seq);
    } else if (all) {
        parc_park_wake_all(&c->seq);
    } else {
        parc_park_wake_one(&c->seq);
    }
}
