/* parc/mutex.h: the slow paths — spinning, parking, waking, owner checks.
 *
 * No lost wake-up. A waiter reads wake_seq (acquire), then registers
 * and/or clears WAKING with a CAS on the word that requires LOCKED, then
 * parks on wake_seq with the value it read. An unlock clears LOCKED, and if
 * waiters are registered and WAKING is clear it sets WAKING, bumps
 * wake_seq (release) and wakes one. If the waiter's CAS precedes the
 * unlock's RMW, the unlock sees the waiter; its bump comes after the CAS,
 * so the waiter's earlier read of wake_seq cannot have seen it (the bump
 * would then happen-before the CAS): the kernel's compare fails, or the
 * wake finds the waiter asleep. If the unlock's RMW came first, the CAS
 * fails (LOCKED is gone, or the word changed) and the waiter re-checks.
 *
 * The WAKING bit (one wake-up in flight):
 *   - unlock wakes only when waiters are registered, the lock is free and
 *     WAKING is clear, setting WAKING first, then bumping wake_seq;
 *   - a waiter that returns from a park (woken, or its compare failed)
 *     clears WAKING when it takes the lock, parks again (only ever while
 *     the lock is held) or times out (likewise);
 *   - so when WAKING is set, the waiters registered before it was set
 *     (there is at least one) read wake_seq before the bump: each is
 *     woken, or finds wake_seq changed, or is still spinning after an
 *     earlier park; at least one of them returns and re-evaluates, and
 *     re-evaluating ends with WAKING cleared while the lock is held (so
 *     the holder's unlock wakes the next) or with the lock taken (so its
 *     own unlock does). A waiter registering for the first time leaves
 *     WAKING as it is: the one on its way covers it.
 *   Clearing WAKING when some other thread was the one woken only allows
 *   an extra wake-up later: harmless.
 */
#include "parc/mutex.h"
#include "mutex_shared.h"

#if defined(__GNUC__)
/* initial-exec: a direct %fs-relative address, no __tls_get_addr call. */
#define PARC_TLS_MODEL __attribute__((tls_model("initial-exec")))
#else
#define PARC_TLS_MODEL
#endif

/* Thread ids come from a counter, not from the address of a thread-local
 * object: glibc reuses an exited thread's stack, and with it the address
 * of its TLS, for the next thread it creates, so an address would make a
 * new thread look like the owner of a lock that an exited thread still
 * holds (its unlock would succeed, its lock report EDEADLK). Each id is
 * drawn once, on the thread's first call, and never handed out again. */
static parc_atomic(uintptr_t) next_thread_id = 1;
static _Thread_local uintptr_t thread_id PARC_TLS_MODEL;

/* Set by the fiber runtime (src/fiber.c) while a fiber runs on this
 * thread: the fiber owns what it locks, since it may unlock on another
 * worker after parking. 0: a plain thread. */
_Thread_local uintptr_t parc_thread_id_fiber_ PARC_TLS_MODEL;

uintptr_t parc_thread_id(void)
{
    uintptr_t fiber = parc_thread_id_fiber_;
    if (fiber != 0)
        return fiber;
    uintptr_t id = thread_id;
    if (id == 0) {
        /* Relaxed: the counter only has to hand out distinct values. */
        id = parc_faa(&next_thread_id, (uintptr_t)1, PARC_RELAXED);
        thread_id = id;
    }
    return id;
}

int parc_mutex_init(parc_mutex_t *m, unsigned kind)
{
    unsigned base = kind & ~(unsigned)PARC_MUTEX_SHARED_KINDS;
    if (m == NULL || (base != PARC_MUTEX_NORMAL && base != PARC_MUTEX_ERRORCHECK))
        return EINVAL;
    parc_atomic_init(&m->word, 0u);
    parc_atomic_init(&m->wake_seq, 0u);
    m->kind = kind;
    parc_atomic_init(&m->owner, (uintptr_t)0);
    return 0;
}

int parc_mutex_destroy(parc_mutex_t *m)
{
    if (m == NULL)
        return EINVAL;
    return parc_load(&m->word, PARC_RELAXED) == 0u ? 0 : EAGAIN;
}

/* Take the lock for the caller (no owner bookkeeping): spin, register,
 * park, repeat. Returns 0 or ETIMEDOUT. */
static int acquire(parc_mutex_t *m, parc_deadline_t deadline)
{
    const uint32_t LOCKED = PARC_MUTEX_LOCKED, WAKING = PARC_MUTEX_WAKING,
                   WAITER = PARC_MUTEX_WAITER;
    /* A timed attempt whose deadline has passed (timeout 0) makes one
     * attempt per free observation and does not spin. */
    unsigned spins = parc_deadline_passed(deadline) ? 0u : PARC_MUTEX_SPIN;
    unsigned gap = 1; /* pauses between two reads while spinning */
    bool registered = false, woken = false;
    uint32_t v = parc_load(&m->word, PARC_RELAXED);
    for (;;) {
        if (!(v & LOCKED)) {
            /* A registered waiter leaves the count and clears WAKING (it is,
             * or stands in for, the waiter that was woken). */
            uint32_t nv = registered ? ((v - WAITER) & ~WAKING) | LOCKED
                                     : v | LOCKED;
            /* acquire: the previous holder's critical section happens-
             * before ours; pairs with the release RMW in unlock (the RMWs
             * since then continue its release sequence). */
            if (parc_cas_weak(&m->word, &v, nv, PARC_ACQUIRE, PARC_RELAXED))
                return 0;
            continue; /* v holds the new value */
        }
        if (spins > 0 && (v < WAITER || woken)) {
            /* Spin on a plain load, not on RMWs: as a new arrival only
             * while nobody is parked, as a woken waiter anyway (see the
             * header). A fiber asks the fiber runtime at each look (the
             * spin hook, src/park_hook.h): the holder may be a fiber
             * ready on its own worker, which pauses would only delay,
             * so the hook runs it (or another ready fiber), or pauses
             * once. relaxed: a flag set once at install. */
            if (parc_load(&parc_spin_hooked_, PARC_RELAXED) &&
                parc_spin_poll_hook_(PARC_MUTEX_SPIN - spins)) {
                spins--;
                v = parc_load(&m->word, PARC_RELAXED);
                continue;
            }
            unsigned n = gap < spins ? gap : spins;
            spins -= n;
            while (n-- > 0)
                parc_cpu_relax();
            if (gap < PARC_MUTEX_SPIN_GAP)
                gap <<= 1;
            v = parc_load(&m->word, PARC_RELAXED);
            continue;
        }
        if (parc_deadline_passed(deadline)) {
            if (!registered)
                return ETIMEDOUT;
            /* Leave, clearing WAKING: the lock is held, so its holder's
             * unlock sees the remaining waiters and wakes one. */
            if (parc_cas_weak(&m->word, &v, (v - WAITER) & ~WAKING,
                              PARC_RELAXED, PARC_RELAXED))
                return ETIMEDOUT;
            continue;
        }
        /* acquire: see the top of the file; pairs with the release bump in
         * the unlock slow path. */
        uint32_t seq = parc_load(&m->wake_seq, PARC_ACQUIRE);
        v = parc_load(&m->word, PARC_RELAXED);
        if (!(v & LOCKED))
            continue;
        /* Register (the first time) or clear WAKING (a waiter that has
         * parked before: it is, or stands in for, the one woken), while
         * the lock is held. A new waiter leaves WAKING alone: the woken
         * one is still on its way, and a second wake-up would only cost
         * the unlocking thread a system call. Relaxed: nothing is
         * published by it; the lock is still taken by the acquire CAS
         * above. */
        uint32_t nv = registered ? v & ~WAKING : v + WAITER;
        if (nv != v && !parc_cas(&m->word, &v, nv, PARC_RELAXED, PARC_RELAXED))
            continue;
        registered = true;
        (void)parc_park_wait(&m->wake_seq, seq, deadline); /* re-checked */
        woken = true;
        spins = PARC_MUTEX_SPIN;
        gap = 1;
        v = parc_load(&m->word, PARC_RELAXED);
    }
}

int parc_mutex_lock_slow_(parc_mutex_t *m, parc_deadline_t deadline)
{
    if (m->kind & PARC_MUTEX_SHARED_KINDS)
        return parc_mutex_shared_lock_(m, deadline, false);
    if (m->kind != PARC_MUTEX_ERRORCHECK)
        return acquire(m, deadline);
    uintptr_t self = parc_thread_id();
    /* Relaxed: only the holder writes `owner`, so it equals our id only
     * if we wrote it and have not cleared it since (our own writes are
     * seen in program order). */
    if (parc_load(&m->owner, PARC_RELAXED) == self)
        return EDEADLK;
    int rc = acquire(m, deadline);
    if (rc == 0)
        parc_store(&m->owner, self, PARC_RELAXED); /* inside the lock */
    return rc;
}

int parc_mutex_lock_try_slow_(parc_mutex_t *m)
{
    if (m->kind & PARC_MUTEX_SHARED_KINDS)
        return parc_mutex_shared_lock_(m, PARC_FOREVER, true);
    uintptr_t self = 0;
    if (m->kind == PARC_MUTEX_ERRORCHECK) {
        self = parc_thread_id();
        if (parc_load(&m->owner, PARC_RELAXED) == self) /* as in lock */
            return EDEADLK;
    }
    uint32_t v = parc_load(&m->word, PARC_RELAXED);
    while (!(v & PARC_MUTEX_LOCKED)) {
        /* acquire: as in acquire(); a trylock may barge past parked
         * waiters, as pthread's does. */
        if (parc_cas_weak(&m->word, &v, v | PARC_MUTEX_LOCKED,
                          PARC_ACQUIRE, PARC_RELAXED)) {
            if (self != 0)
                parc_store(&m->owner, self, PARC_RELAXED);
            return 0;
        }
    }
    return EAGAIN;
}

bool parc_mutex_held_(parc_mutex_t *m)
{
    if (m->kind & PARC_MUTEX_SHARED_KINDS)
        return parc_mutex_shared_held_(m);
    if (m->kind == PARC_MUTEX_ERRORCHECK)
        /* Relaxed: as in parc_mutex_lock_slow_ (only the holder writes
         * it, so it is our id only if we wrote it). */
        return parc_load(&m->owner, PARC_RELAXED) == parc_thread_id();
    return (parc_load(&m->word, PARC_RELAXED) & PARC_MUTEX_LOCKED) != 0;
}

int parc_mutex_unlock_slow_(parc_mutex_t *m, uint32_t seen)
{
    if (m->kind & PARC_MUTEX_SHARED_KINDS)
        return parc_mutex_shared_unlock_(m);
    if (m->kind == PARC_MUTEX_ERRORCHECK) {
        if (parc_load(&m->owner, PARC_RELAXED) != parc_thread_id())
            return EPERM; /* not held, or held by another thread */
        parc_store(&m->owner, (uintptr_t)0, PARC_RELAXED); /* still inside */
    } else if (!(seen & PARC_MUTEX_LOCKED)) {
        return EPERM; /* not locked at all */
    }
    /* release: publishes the critical section to the next holder; pairs
     * with the acquire CAS that takes the lock. We own LOCKED, so a
     * subtraction clears exactly that bit whatever else changed. */
    uint32_t v = parc_fas(&m->word, PARC_MUTEX_LOCKED, PARC_RELEASE) - PARC_MUTEX_LOCKED;
    /* Wake one parked waiter if some are registered, none is already on
     * its way (WAKING) and nobody has barged in (LOCKED: the new holder's
     * unlock will do it). Relaxed CAS: the wake-up publishes nothing; the
     * woken thread takes the lock with an acquire CAS. */
    while (v >= PARC_MUTEX_WAITER && !(v & (PARC_MUTEX_WAKING | PARC_MUTEX_LOCKED))) {
        if (parc_cas_weak(&m->word, &v, v | PARC_MUTEX_WAKING,
                          PARC_RELAXED, PARC_RELAXED)) {
            /* release: orders the CAS above before the bump, for a waiter
             * that reads the bump with acquire (see the top of the file). */
            parc_faa(&m->wake_seq, 1u, PARC_RELEASE);
            (void)parc_park_wake_one(&m->wake_seq);
            break;
        }
    }
    return 0;
}
