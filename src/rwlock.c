/* parc/rwlock.h: waiting readers, draining writers, parking and waking.
 *
 * No lost wake-up, readers: a reader reads reader_seq (acquire), then
 * sets PARKED with a CAS that requires WRITER (or sees both set), then
 * parks on reader_seq with the value it read. The leaving writer clears
 * WRITER|PARKED with one fetch-and, and only then, if PARKED was set,
 * bumps reader_seq (release) and wakes all. If the reader's CAS precedes
 * the fetch-and, the writer sees PARKED and bumps after it; the reader's
 * earlier read cannot have seen that bump (it would then happen-after the
 * fetch-and, and so would the CAS), so the kernel's compare fails or the
 * wake finds the reader asleep. If the CAS comes after, it saw WRITER of a
 * later writer, whose own leaving is the case just argued.
 *
 * No lost wake-up, writer: the writer reads writer_seq (acquire), then
 * the word; it parks only if readers remain. The last reader decrements
 * the word, then bumps writer_seq (release) and wakes. If the writer's
 * read of writer_seq saw the bump, the decrement happens-before its read
 * of the word, which then shows no readers.
 */
#include "parc/rwlock.h"

int parc_rwlock_init(parc_rwlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    parc_atomic_init(&l->word, 0u);
    parc_atomic_init(&l->reader_seq, 0u);
    parc_atomic_init(&l->writer_seq, 0u);
    parc_atomic_init(&l->writer, (uintptr_t)0);
    return parc_mutex_init(&l->wmutex, PARC_MUTEX_NORMAL);
}

int parc_rwlock_destroy(parc_rwlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    uint32_t v = parc_load(&l->word, PARC_RELAXED);
    if (v & (PARC_RWLOCK_WRITER | PARC_RWLOCK_READERS))
        return EAGAIN;
    return parc_mutex_destroy(&l->wmutex);
}

void parc_rwlock_wake_writer_(parc_rwlock_t *l)
{
    /* release: orders our decrement of the word before the bump, for the
     * writer that reads the bump with acquire (see the top of the file). */
    parc_faa(&l->writer_seq, 1u, PARC_RELEASE);
    (void)parc_park_wake_one(&l->writer_seq);
}

/* Wait until no writer holds or waits for the lock (a snapshot). Returns
 * 0, or ETIMEDOUT once the deadline has passed. */
static int await_no_writer(parc_rwlock_t *l, parc_deadline_t deadline)
{
    unsigned spins = parc_deadline_passed(deadline) ? 0u : PARC_MUTEX_SPIN;
    for (;;) {
        uint32_t v = parc_load(&l->word, PARC_RELAXED);
        if (!(v & PARC_RWLOCK_WRITER))
            return 0;
        if (spins > 0) {
            spins--;
            parc_cpu_relax();
            continue;
        }
        if (parc_deadline_passed(deadline))
            return ETIMEDOUT;
        /* acquire: see the top of the file; pairs with the release bump
         * in parc_rwlock_wrunlock() / the timed-out writer's retreat. */
        uint32_t seq = parc_load(&l->reader_seq, PARC_ACQUIRE);
        v = parc_load(&l->word, PARC_RELAXED);
        if (!(v & PARC_RWLOCK_WRITER))
            return 0;
        /* Relaxed: PARKED only asks the writer to wake us; what it
         * publishes we acquire when we enter. */
        if (!(v & PARC_RWLOCK_PARKED) &&
            !parc_cas(&l->word, &v, v | PARC_RWLOCK_PARKED, PARC_RELAXED, PARC_RELAXED))
            continue;
        (void)parc_park_wait(&l->reader_seq, seq, deadline); /* re-checked */
        spins = PARC_MUTEX_SPIN;
    }
}

int parc_rwlock_rdlock_slow_(parc_rwlock_t *l, uint32_t seen, parc_deadline_t deadline)
{
    for (;;) {
        /* Our increment is in the count: take it back, as a leaving reader
         * would (waking the writer if we were the last one it waits for). */
        parc_rwlock_leave_(l);
        if (seen & PARC_RWLOCK_GUARD)
            return EOVERFLOW;
        /* Relaxed: only the writer writes `writer`; we read our own id
         * only if we are that writer. */
        if (parc_load(&l->writer, PARC_RELAXED) == parc_thread_id())
            return EDEADLK;
        int rc = await_no_writer(l, deadline);
        if (rc != 0)
            return rc;
        /* acquire: as in parc_rwlock_rdlock(). */
        seen = parc_faa(&l->word, 1u, PARC_ACQUIRE);
        if (!(seen & (PARC_RWLOCK_WRITER | PARC_RWLOCK_GUARD)))
            return 0;
    }
}

int parc_rwlock_tryrdlock(parc_rwlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    /* A CAS, not a fetch-and-add: a failed try leaves no trace. */
    uint32_t v = parc_load(&l->word, PARC_RELAXED);
    while (!(v & PARC_RWLOCK_WRITER)) {
        if ((v & PARC_RWLOCK_READERS) >= PARC_RWLOCK_GUARD)
            return EOVERFLOW;
        /* acquire: as in parc_rwlock_rdlock(). */
        if (parc_cas_weak(&l->word, &v, v + 1u, PARC_ACQUIRE, PARC_RELAXED))
            return 0;
    }
    if (parc_load(&l->writer, PARC_RELAXED) == parc_thread_id())
        return EDEADLK;
    return EAGAIN;
}

/* Let readers in again: clear WRITER (and PARKED), waking parked readers.
 * The caller holds `wmutex` and has cleared `writer`. */
static void release_readers(parc_rwlock_t *l)
{
    /* release: publishes the writer's critical section to every reader
     * that enters after this; pairs with their acquire fetch-and-add. */
    uint32_t prev = parc_fand(&l->word, ~(PARC_RWLOCK_WRITER | PARC_RWLOCK_PARKED),
                              PARC_RELEASE);
    if (prev & PARC_RWLOCK_PARKED) {
        /* release: pairs with the acquire load of reader_seq in
         * await_no_writer() (see the top of the file). */
        parc_faa(&l->reader_seq, 1u, PARC_RELEASE);
        (void)parc_park_wake_all(&l->reader_seq);
    }
}

int parc_rwlock_wrlock_until_(parc_rwlock_t *l, parc_deadline_t deadline, bool try_only)
{
    uintptr_t self = parc_thread_id();
    /* Relaxed: as in parc_rwlock_rdlock_slow_(). */
    if (parc_load(&l->writer, PARC_RELAXED) == self)
        return EDEADLK;
    int rc = try_only ? parc_mutex_trylock(&l->wmutex)
                      : parc_mutex_lock_until(&l->wmutex, deadline);
    if (rc != 0)
        return rc; /* EAGAIN or ETIMEDOUT */
    if (try_only) {
        uint32_t v = parc_load(&l->word, PARC_RELAXED);
        for (;;) {
            if (v & PARC_RWLOCK_READERS) {
                (void)parc_mutex_unlock(&l->wmutex);
                return EAGAIN;
            }
            /* acquire: the last readers' and writer's critical sections
             * happen-before ours; pairs with their release RMWs. */
            if (parc_cas_weak(&l->word, &v, v | PARC_RWLOCK_WRITER,
                              PARC_ACQUIRE, PARC_RELAXED))
                break;
        }
        parc_store(&l->writer, self, PARC_RELAXED);
        return 0;
    }
    /* acquire: as above; if readers remain, the acquire that counts is the
     * load that later sees the count at 0. */
    uint32_t prev = parc_for(&l->word, PARC_RWLOCK_WRITER, PARC_ACQUIRE);
    parc_store(&l->writer, self, PARC_RELAXED);
    if ((prev & PARC_RWLOCK_READERS) == 0u)
        return 0;
    /* Drain: new readers are held back; wait for those inside. */
    unsigned spins = parc_deadline_passed(deadline) ? 0u : PARC_MUTEX_SPIN;
    for (;;) {
        /* acquire: see the top of the file; pairs with the release bump in
         * parc_rwlock_wake_writer_(). */
        uint32_t seq = parc_load(&l->writer_seq, PARC_ACQUIRE);
        /* acquire: the leaving readers' critical sections happen-before
         * ours; pairs with their release fetch-and-sub. */
        if ((parc_load(&l->word, PARC_ACQUIRE) & PARC_RWLOCK_READERS) == 0u)
            return 0;
        if (spins > 0) {
            spins--;
            parc_cpu_relax();
            continue;
        }
        if (parc_deadline_passed(deadline)) {
            /* Give up: let the held-back readers in, then the next writer. */
            parc_store(&l->writer, (uintptr_t)0, PARC_RELAXED);
            release_readers(l);
            (void)parc_mutex_unlock(&l->wmutex);
            return ETIMEDOUT;
        }
        (void)parc_park_wait(&l->writer_seq, seq, deadline); /* re-checked */
        spins = PARC_MUTEX_SPIN;
    }
}

int parc_rwlock_wrunlock(parc_rwlock_t *l)
{
    if (l == NULL)
        return EINVAL;
    /* Relaxed: as in parc_rwlock_rdlock_slow_(); a thread that is not the
     * writer never reads its own id here. A draining writer (still in
     * wrlock) is not holding the lock, but it cannot call this meanwhile. */
    if (parc_load(&l->writer, PARC_RELAXED) != parc_thread_id())
        return EPERM;
    parc_store(&l->writer, (uintptr_t)0, PARC_RELAXED);
    release_readers(l);
    return parc_mutex_unlock(&l->wmutex);
}
