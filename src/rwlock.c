/* parc/rwlock.h: waiting readers, competing and draining writers, parking
 * and waking.
 *
 * No lost wake-up. Every waiter follows the same protocol on its own park
 * word S (reader_seq, writer_gate or writer_seq) and its own bit B
 * (PARKED, WWAIT or WPARK): read S (acquire), then set B with a CAS that
 * also checks that the condition it waits for still fails, then park on S
 * with the value read. Whoever ends that condition and finds B set clears
 * or keeps B, and only then bumps S (release) and wakes. If the waiter's
 * CAS came first, the waker sees B and bumps S after it; the waiter's read
 * of S cannot have seen that bump (the bump would then happen-before the
 * CAS, which comes before the waker's RMW), so the kernel's compare fails
 * or the wake finds the waiter asleep. If the waker's RMW came first, the
 * waiter's CAS sees the condition already ended, fails, and re-checks.
 *
 * Clearing a bit that a waiter of the *next* episode just set is safe for
 * PARKED and WWAIT, because the bump and wake that follow reach that
 * waiter too (it re-checks and sets its bit again). WPARK is cleared only
 * by the draining writer itself, since its waker (the last reader) has no
 * such bump of its own to follow.
 *
 * Spinning (spin_step). A wait spins PARC_MUTEX_SPIN pauses before it
 * parks, only while it holds the spin token (spin_claim; see the header:
 * one spinner per lock, the other waiters park at once), and reads the
 * lock word at exponentially growing intervals (up to PARC_MUTEX_SPIN_GAP
 * pauses), as the mutex does: each read by a waiter takes the line from
 * the threads still working on the word (the writer draining and then
 * leaving, readers entering and leaving on the other core), whose next RMW
 * then misses; reading rarely lets them finish sooner. The spin pauses; it
 * does not yield the processor: on a machine shared with other programs a
 * sched_yield hands the core to one of them for a whole time slice, far
 * longer than the wait, and where our own threads outnumber the cores the
 * token already keeps all but one waiter off them.
 *
 * Writers waiting for a writer are woken one at a time: the woken one
 * sets WWAIT again when it takes the lock or parks again, so the next
 * unlock wakes the next (one spare wake-up at the end of a queue).
 */
#include "parc/rwlock.h"

#define WRITER PARC_RWLOCK_WRITER
#define PARKED PARC_RWLOCK_PARKED
#define WWAIT PARC_RWLOCK_WWAIT
#define WPARK PARC_RWLOCK_WPARK
#define BIAS PARC_RWLOCK_BIAS
#define READERS PARC_RWLOCK_READERS
#define GUARD PARC_RWLOCK_GUARD

int parc_rwlock_init(parc_rwlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    parc_atomic_init(&l->word, BIAS);
    parc_atomic_init(&l->reader_seq, 0u);
    parc_atomic_init(&l->writer_gate, 0u);
    parc_atomic_init(&l->writer_seq, 0u);
    parc_atomic_init(&l->spinner, 0u);
    parc_atomic_init(&l->writer, (uintptr_t)0);
    return 0;
}

int parc_rwlock_destroy(parc_rwlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    uint32_t v = parc_load(&l->word, PARC_RELAXED);
    return (v & (WRITER | BIAS | READERS)) == BIAS ? 0 : EAGAIN;
}

/* One step of a bounded spin (see spin_step at the top): `*gap` pauses, or
 * what is left of the budget `*spins` (counted down from PARC_MUTEX_SPIN);
 * then the next gap is twice as long, up to PARC_MUTEX_SPIN_GAP. The
 * caller re-reads the word after each step. */
static void spin_step(unsigned *spins, unsigned *gap)
{
    unsigned n = *gap < *spins ? *gap : *spins;
    *spins -= n;
    while (n-- > 0)
        parc_cpu_relax();
    if (*gap < PARC_MUTEX_SPIN_GAP)
        *gap <<= 1;
}

/* Take the spin token if no other waiter holds it (see the header). The
 * spin budget to start a wait with: PARC_MUTEX_SPIN with the token (then
 * *token is true), 0 without. Relaxed: the token orders nothing, it only
 * decides who spins; a stale read costs at most one spin or one park.
 * Read first, so that waiters bound to park do not take the line
 * exclusive. */
static unsigned spin_claim(parc_rwlock_t *l, bool *token)
{
    uint32_t free_ = 0u;
    *token = parc_load(&l->spinner, PARC_RELAXED) == 0u &&
             parc_cas(&l->spinner, &free_, 1u, PARC_RELAXED, PARC_RELAXED);
    return *token ? PARC_MUTEX_SPIN : 0u;
}

/* Give the spin token back, if held: when the spin ends (the wait is
 * over, or it is about to park or give up). Relaxed, as in spin_claim. */
static void spin_release(parc_rwlock_t *l, bool *token)
{
    if (*token) {
        parc_store(&l->spinner, 0u, PARC_RELAXED);
        *token = false;
    }
}

/* Bump a park word and wake its sleepers (one or all). */
static void bump_and_wake(parc_park_word_t *seq, bool all)
{
    /* release: orders the waker's change of the lock word before the
     * bump, for a waiter that reads the bump with acquire (see the top of
     * the file). */
    parc_faa(seq, 1u, PARC_RELEASE);
    if (all)
        (void)parc_park_wake_all(seq);
    else
        (void)parc_park_wake_one(seq);
}

/* ---- readers ----------------------------------------------------------------- */

/* Leave as a reader, or undo a failed entry: wake the draining writer when
 * this made the count 0 and it parked. */
static void reader_leave(parc_rwlock_t *l)
{
    /* release: as in parc_rwlock_rdunlock(). */
    uint32_t prev = parc_fas(&l->word, 1u, PARC_RELEASE);
    if ((prev & (WPARK | READERS)) == (WPARK | 1u))
        bump_and_wake(&l->writer_seq, false);
}

int parc_rwlock_rdunlock_slow_(parc_rwlock_t *l, uint32_t seen)
{
    if ((seen & READERS) == 0u) {
        /* No reader held the lock: our decrement borrowed from BIAS (see
         * the header). Put it back; the sum of all the increments and
         * decrements is right again once everyone has undone theirs. */
        parc_faa(&l->word, 1u, PARC_RELAXED);
        return EPERM;
    }
    bump_and_wake(&l->writer_seq, false); /* we were the last; it parked */
    return 0;
}

/* Wait until no writer holds the lock (a snapshot). 0, or ETIMEDOUT once
 * the deadline has passed. */
static int await_no_writer(parc_rwlock_t *l, parc_deadline_t deadline)
{
    bool token = false;
    unsigned spins = parc_deadline_passed(deadline) ? 0u : spin_claim(l, &token);
    unsigned gap = 1;
    for (;;) {
        uint32_t v = parc_load(&l->word, PARC_RELAXED);
        if (!(v & WRITER)) {
            spin_release(l, &token);
            return 0;
        }
        if (spins > 0) {
            spin_step(&spins, &gap);
            continue;
        }
        spin_release(l, &token);
        if (parc_deadline_passed(deadline))
            return ETIMEDOUT;
        /* acquire: see the top of the file; pairs with the release bump
         * in writer_release(). */
        uint32_t seq = parc_load(&l->reader_seq, PARC_ACQUIRE);
        v = parc_load(&l->word, PARC_RELAXED);
        if (!(v & WRITER))
            return 0;
        /* Relaxed: PARKED only asks the writer to wake us; what it
         * publishes we acquire when we enter. */
        if (!(v & PARKED) &&
            !parc_cas(&l->word, &v, v | PARKED, PARC_RELAXED, PARC_RELAXED))
            continue;
        (void)parc_park_wait(&l->reader_seq, seq, deadline); /* re-checked */
        spins = spin_claim(l, &token);
        gap = 1;
    }
}

int parc_rwlock_rdlock_slow_(parc_rwlock_t *l, uint32_t seen, parc_deadline_t deadline)
{
    for (;;) {
        /* Our increment is in the count: take it back, as a leaving reader
         * would (waking the draining writer if we were the last). */
        reader_leave(l);
        if (!(seen & BIAS)) {
            /* A wrong rdunlock elsewhere is being undone: retry. */
            parc_cpu_relax();
        } else if (seen & GUARD) {
            return EOVERFLOW;
        } else {
            /* Relaxed: only the writer writes `writer`; we read our own id
             * only if we are that writer. */
            if (parc_load(&l->writer, PARC_RELAXED) == parc_thread_id())
                return EDEADLK;
            int rc = await_no_writer(l, deadline);
            if (rc != 0)
                return rc;
        }
        /* acquire: as in parc_rwlock_rdlock(). */
        seen = parc_faa(&l->word, 1u, PARC_ACQUIRE);
        if (parc_rwlock_reader_may_enter_(seen))
            return 0;
    }
}

int parc_rwlock_rdlock_try(parc_rwlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    /* A CAS, not a fetch-and-add: a failed try leaves no trace. */
    uint32_t v = parc_load(&l->word, PARC_RELAXED);
    while ((v & (WRITER | BIAS)) == BIAS) {
        if (v & GUARD)
            return EOVERFLOW;
        /* acquire: as in parc_rwlock_rdlock(). */
        if (parc_cas_weak(&l->word, &v, v + 1u, PARC_ACQUIRE, PARC_RELAXED))
            return 0;
    }
    if ((v & WRITER) && parc_load(&l->writer, PARC_RELAXED) == parc_thread_id())
        return EDEADLK;
    return EAGAIN;
}

/* ---- writers ----------------------------------------------------------------- */

/* Give up WRITER (the caller holds it and has cleared `writer`): one
 * fetch-and-sub, then the wake-ups its waiters asked for. */
static void writer_release(parc_rwlock_t *l)
{
    /* release: publishes the writer's critical section to every reader and
     * writer that enters after this; pairs with their acquire RMWs. */
    uint32_t prev = parc_fas(&l->word, WRITER, PARC_RELEASE);
    if (!(prev & (PARKED | WWAIT)))
        return;
    /* Relaxed: an RMW continues the release sequence; the bumps publish
     * the rest (see the top of the file). */
    uint32_t v = parc_fand(&l->word, ~(PARKED | WWAIT), PARC_RELAXED);
    if (v & PARKED)
        bump_and_wake(&l->reader_seq, true);
    if (v & WWAIT)
        bump_and_wake(&l->writer_gate, false);
}

/* Wait for the readers inside to leave (the caller holds WRITER). 0, or
 * ETIMEDOUT after letting readers and writers in again. */
static int drain_readers(parc_rwlock_t *l, parc_deadline_t deadline)
{
    bool token = false, parked = false;
    unsigned spins = parc_deadline_passed(deadline) ? 0u : spin_claim(l, &token);
    unsigned gap = 1;
    for (;;) {
        /* acquire: see the top of the file; pairs with the release bump by
         * the last reader out. */
        uint32_t seq = parc_load(&l->writer_seq, PARC_ACQUIRE);
        /* acquire: the leaving readers' critical sections happen-before
         * ours; pairs with their release fetch-and-sub. */
        uint32_t v = parc_load(&l->word, PARC_ACQUIRE);
        if ((v & READERS) == 0u) {
            spin_release(l, &token);
            if (parked)
                parc_fand(&l->word, ~WPARK, PARC_RELAXED);
            return 0;
        }
        if (spins > 0) {
            spin_step(&spins, &gap);
            continue;
        }
        spin_release(l, &token);
        if (parc_deadline_passed(deadline)) {
            /* Give up: stop asking readers for a wake-up, let the held-back
             * readers and the waiting writers in. */
            if (parked)
                parc_fand(&l->word, ~WPARK, PARC_RELAXED);
            parc_store(&l->writer, (uintptr_t)0, PARC_RELAXED);
            writer_release(l);
            return ETIMEDOUT;
        }
        /* Relaxed: as for PARKED in await_no_writer(). The CAS fails if a
         * reader left since the load: re-check. */
        if (!(v & WPARK) &&
            !parc_cas(&l->word, &v, v | WPARK, PARC_RELAXED, PARC_RELAXED))
            continue;
        parked = true;
        (void)parc_park_wait(&l->writer_seq, seq, deadline); /* re-checked */
        spins = spin_claim(l, &token);
        gap = 1;
    }
}

int parc_rwlock_wrlock_slow_(parc_rwlock_t *l, parc_deadline_t deadline, bool try_only)
{
    uintptr_t self = parc_thread_id();
    /* Relaxed: only the thread holding WRITER writes `writer`; we read our
     * own id only if we hold it. */
    if (parc_load(&l->writer, PARC_RELAXED) == self)
        return EDEADLK;
    bool token = false, parked = false;
    unsigned spins = (try_only || parc_deadline_passed(deadline)) ? 0u : spin_claim(l, &token);
    unsigned gap = 1;
    uint32_t v = parc_load(&l->word, PARC_RELAXED);
    for (;;) {
        if (!(v & WRITER)) {
            if (try_only && (v & READERS))
                return EAGAIN;
            /* A writer that parked sets WWAIT again: others may still be
             * parked behind it (see the top of the file). */
            uint32_t nv = v | WRITER | (parked ? WWAIT : 0u);
            /* acquire: the last writer's critical section (and the readers'
             * that left already) happen-before ours; pairs with their
             * release RMWs on the word. */
            if (parc_cas_weak(&l->word, &v, nv, PARC_ACQUIRE, PARC_RELAXED)) {
                spin_release(l, &token);
                break;
            }
            continue;
        }
        if (try_only)
            return EAGAIN;
        if (spins > 0) {
            spin_step(&spins, &gap);
            v = parc_load(&l->word, PARC_RELAXED);
            continue;
        }
        spin_release(l, &token);
        if (parc_deadline_passed(deadline)) {
            /* Leave; a writer that parked hands its place in the wake-up
             * chain on by leaving WWAIT set (WRITER is held: its holder's
             * unlock wakes the next). */
            if (parked && !(v & WWAIT) &&
                !parc_cas_weak(&l->word, &v, v | WWAIT, PARC_RELAXED, PARC_RELAXED))
                continue;
            return ETIMEDOUT;
        }
        /* acquire: see the top of the file; pairs with the release bump in
         * writer_release(). */
        uint32_t seq = parc_load(&l->writer_gate, PARC_ACQUIRE);
        v = parc_load(&l->word, PARC_RELAXED);
        if (!(v & WRITER))
            continue;
        /* Relaxed: as for PARKED in await_no_writer(). */
        if (!(v & WWAIT) &&
            !parc_cas(&l->word, &v, v | WWAIT, PARC_RELAXED, PARC_RELAXED))
            continue;
        parked = true;
        (void)parc_park_wait(&l->writer_gate, seq, deadline); /* re-checked */
        spins = spin_claim(l, &token);
        gap = 1;
        v = parc_load(&l->word, PARC_RELAXED);
    }
    /* WRITER is ours: new readers wait from now on. */
    parc_store(&l->writer, self, PARC_RELAXED);
    if ((v & READERS) == 0u)
        return 0; /* v: the value our CAS replaced */
    return drain_readers(l, deadline);
}

int parc_rwlock_wrunlock(parc_rwlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    /* Relaxed: as in parc_rwlock_wrlock_slow_(). */
    if (parc_load(&l->writer, PARC_RELAXED) != parc_thread_id())
        return EPERM;
    parc_store(&l->writer, (uintptr_t)0, PARC_RELAXED);
    writer_release(l);
    return 0;
}
