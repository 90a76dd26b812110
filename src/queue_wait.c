/* The waiting protocol of parc/queue.h's queue and the task_done/join
 * counting that waits with it. */
#include "queue_internal.h"

/*
 * Wait until ready(q) holds or the deadline passes. First a bounded spin:
 * ready() (a lock-free snapshot) is polled after every pause for the
 * first FAST_POLLS polls (about a microsecond: a hand-off between running
 * threads lands there), then ever less often (after 2, 4 ... 64 pauses),
 * PARC_SPIN_POLLS pauses in all. A poll pulls the lines the other side
 * writes into our cache; polling a slow partner less often leaves them in
 * its cache and costs it fewer misses. As parc_eventcount_await does, every
 * PARC_SPIN_YIELD_EVERY polls yield the processor instead, so that a
 * partner sharing our core (more threads than cores) runs at once.
 *
 * Then park on w, registering under `guard`, the lock under which every
 * thread that can make ready() true does so and then looks at w:
 *
 *   waiter:  lock(guard); while not ready: count++; key = seq;
 *            unlock(guard); park(seq, key); lock(guard); count--,
 *            signalled-- (if > 0); unlock(guard) when ready or late
 *   waker:   lock(guard); make ready true; claim = count > signalled;
 *            if claim: signalled++; unlock(guard); if claim: seq++, wake
 *
 * Nothing is lost: if the waiter's critical section comes first, the
 * waker's sees its registration (count exceeds the wake-ups already sent
 * to the others, or one of those is still on its way to a waiter that
 * will re-check), and bumps seq after it took the lock after the waiter
 * read its key, so the park's compare in the kernel fails or the wake
 * finds it asleep; if the waker's comes first, the waiter sees ready().
 * The lock orders both, so a put with nobody parked pays one load of a
 * line the producer owns: no fence, no system call. `signalled` (wake-ups
 * sent and not yet absorbed by a returning waiter) keeps a producer that
 * runs on while the woken getter is being scheduled (~45 us) from paying
 * a system call at every put for the same sleeper.
 */
#define FAST_POLLS 64u



int parc_queue_await_(parc_queue_t *q, parc_queue_waiters_t *w, parc_mutex_t *guard,
                      parc_queue_ready_fn *ready, parc_deadline_t deadline)
{
    unsigned gap = 1, polls = 0;
    for (unsigned spent = 0; spent < PARC_SPIN_POLLS; spent += gap) {
        ++polls;
        if (parc_load(&parc_spin_hooked_, PARC_RELAXED) && parc_spin_poll_hook_(polls - 1)) {
            /* a fiber: the hook ran a ready fiber (maybe our partner) or
             * relaxed (parc/impl/atomic.h) */
        } else if (polls % PARC_SPIN_YIELD_EVERY == 0) {
            parc_yield();
        } else {
            for (unsigned i = 0; i < gap; i++)
                parc_cpu_relax();
        }
        if (ready(q))
            return 0;
        if (polls >= FAST_POLLS && gap < 64)
            gap <<= 1;
    }
    lock(guard);
    for (;;) {
        bool ok = ready(q), late = !ok && parc_deadline_passed(deadline);
        if (ok || late) {
            unlock(guard);
            return ok ? 0 : ETIMEDOUT;
        }
        w->count++;
        /* Relaxed: any bump that a wake-up decided after our registration
         * comes after its waker took the guard lock after us, so after
         * this read (see above). */
        uint32_t key = parc_load(&w->seq, PARC_RELAXED);
        unlock(guard);
        (void)parc_park_wait(&w->seq, key, deadline); /* re-checked below */
        lock(guard);
        w->count--;
        if (w->signalled > 0)
            w->signalled--; /* ours, or one meant for a waiter that will
                             * re-check anyway: either way one fewer is on
                             * its way */
    }
}

/* After releasing the guard: wake one (or every) thread parked on w.
 * Relaxed bump: a woken thread re-checks its condition under the guard
 * lock, which publishes what it needs; the bump only makes a park that
 * has not yet started return. */
void parc_queue_wake_(parc_queue_waiters_t *w, bool all)
{
    parc_faa(&w->seq, 1u, PARC_RELAXED);
    if (all)
        (void)parc_park_wake_all(&w->seq);
    else
        (void)parc_park_wake_one(&w->seq);
}

/* ---- tasks ------------------------------------------------------------------ */

/* Take lock held: count up to n more tasks finished, never more than were
 * put (Python clamps in shutdown). True when none is left and joins are
 * parked: the caller wakes them all after unlocking. */
bool parc_queue_tasks_finish_locked_(parc_queue_t *q, uint64_t n)
{
    /* acquire: pairs with the release store of puts in store_item(). */
    uint64_t puts = parc_load(&q->puts, PARC_ACQUIRE);
    uint64_t done = parc_load(&q->done, PARC_RELAXED); /* ours, under lock */
    done = puts - done < n ? puts : done + n;
    /* release: what the finishing threads did with their items happens
     * before a join that sees done == puts; pairs with the acquire load in
     * tasks_all_done(). */
    parc_store(&q->done, done, PARC_RELEASE);
    return done == puts && claim_all(&q->joiners);
}

int parc_queue_task_done(parc_queue_t *q)
{
    if (q == NULL)
        return EINVAL;
    lock(&q->lock);
    int rc = EINVAL; /* more task_done calls than puts: Python's ValueError */
    bool wake_joiners = false;
    /* acquire: as in parc_queue_tasks_finish_locked_(). */
    if (parc_load(&q->done, PARC_RELAXED) < parc_load(&q->puts, PARC_ACQUIRE)) {
        wake_joiners = parc_queue_tasks_finish_locked_(q, 1);
        rc = 0;
    }
    unlock(&q->lock);
    if (wake_joiners)
        parc_queue_wake_(&q->joiners, true);
    return rc;
}

static bool tasks_all_done(parc_queue_t *q)
{
    /* acquire (done first): pairs with the release store in
     * parc_queue_tasks_finish_locked_(); done never exceeds the puts read after it. */
    uint64_t done = parc_load(&q->done, PARC_ACQUIRE);
    return done == parc_load(&q->puts, PARC_ACQUIRE);
}

int parc_queue_join(parc_queue_t *q)
{
    if (q == NULL)
        return EINVAL;
    return parc_queue_await_(q, &q->joiners, &q->lock, tasks_all_done, PARC_FOREVER);
}

int parc_queue_join_try(parc_queue_t *q)
{
    if (q == NULL)
        return EINVAL;
    return tasks_all_done(q) ? 0 : EAGAIN;
}

int parc_queue_join_timed(parc_queue_t *q, int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (q == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    if (timeout_ns == 0)
        return tasks_all_done(q) ? 0 : ETIMEDOUT;
    return parc_queue_await_(q, &q->joiners, &q->lock, tasks_all_done, deadline);
}
