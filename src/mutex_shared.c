/*
 * The process-shared and robust kinds of parc/mutex.h (PARC_PSHARED,
 * PARC_MUTEX_ROBUST). The private kinds are in mutex.c; its slow paths
 * send these kinds here, and their inline fast paths never take them
 * (kind != NORMAL).
 *
 * Design: Drepper's mutex #2 ("Futexes Are Tricky", 2011) with the owner
 * in the word, parked on with the shared futex:
 *
 *   bit 0      LOCKED
 *   bit 1      WAITERS   some thread may be parked on the word
 *   bits 2-31  the holder's kernel thread id (gettid), 0 when free
 *
 * Lock: CAS free -> (tid | LOCKED); a thread that has parked once takes the
 * lock with WAITERS set, since others may still be parked (Drepper's
 * "conservatively assume contention" that prevents a lost wake-up). Unlock:
 * exchange with 0, then wake one if WAITERS was set.
 *
 * Robustness ("an equivalent you can prove" of the kernel's robust-futex
 * list, which glibc already owns for each thread: set_robust_list holds one
 * list per thread, and a second user would replace glibc's): the holder's
 * tid is in the word, so a waiter can ask whether the holder still lives.
 * It asks before it first parks and after every park slice (20 ms) that
 * ends without a wake-up (liveness.c: a pidfd of the tid; a zombie counts
 * as dead). Then
 * one CAS from exactly the word it read (the dead holder's) to its own
 * takes the lock: two waiters racing for it cannot both win, and a word
 * that changed meanwhile (the holder was alive after all and unlocked) is
 * not taken. The winner gets EOWNERDEAD and the mutex is INCONSISTENT
 * until parc_mutex_consistent(); unlocked while inconsistent it becomes
 * NOTRECOVERABLE and every lock says ENOTRECOVERABLE (POSIX semantics).
 * The consistency state lives in `wake_seq`, which these kinds never park
 * on. Limits: all processes in one pid namespace; a holder whose tid is
 * reused by a new thread before anyone checks looks alive until that
 * thread exits (it needs pid_max thread creations in between: 4 million
 * by default on 64-bit Linux).
 *
 * Rejected: registering our mutexes in glibc's robust list (get_robust_list
 * finds its head, but the entry layout and futex_offset are glibc's
 * private choice); a pid + start-time owner record beside the word (two
 * words cannot be set atomically with the lock, so a holder dying between
 * them is undetectable).
 */
#define _GNU_SOURCE
#include <errno.h>

#include "liveness.h"
#include "mutex_shared.h"

#define SH_LOCKED 1u
#define SH_WAITERS 2u
#define SH_TID_SHIFT 2

enum { CONSISTENT = 0, INCONSISTENT = 1, NOTRECOVERABLE = 2 };

/* How long a robust waiter parks before it checks on the holder again. */
#define CHECK_SLICE_NS (20 * PARC_NS_PER_MS)

static uint32_t state_of(parc_mutex_t *m)
{
    /* acquire: pairs with the release exchange of the unlock that follows
     * a store of the state (the holder writes it inside the lock). */
    return parc_load(&m->wake_seq, PARC_ACQUIRE);
}

/* ---- lock and unlock ------------------------------------------------- */

int parc_mutex_shared_lock_(parc_mutex_t *m, parc_deadline_t deadline, bool try_only)
{
    const uint32_t me = parc_self_tid_() << SH_TID_SHIFT | SH_LOCKED;
    const bool robust = (m->kind & PARC_MUTEX_ROBUST) != 0;
    bool waited = false, check = true;
    unsigned spins = 0;
    for (;;) {
        if (robust && state_of(m) == NOTRECOVERABLE)
            return ENOTRECOVERABLE;
        uint32_t v = parc_load(&m->word, PARC_RELAXED);
        if (!(v & SH_LOCKED)) {
            uint32_t want = me | (waited ? SH_WAITERS : (v & SH_WAITERS));
            /* acquire: the previous holder's critical section happens
             * before ours; pairs with the release exchange in unlock. */
            if (parc_cas(&m->word, &v, want, PARC_ACQUIRE, PARC_RELAXED))
                return 0;
            continue;
        }
        if ((v >> SH_TID_SHIFT) == (me >> SH_TID_SHIFT))
            return EDEADLK;
        if (robust && check && parc_tid_dead_(v >> SH_TID_SHIFT)) {
            /* acquire: whatever the dead holder wrote is as visible as it
             * will ever be (it published nothing: that is the point of
             * EOWNERDEAD). Only the CAS from the dead holder's exact word
             * wins; if it fails, the word moved: look again. */
            if (parc_cas(&m->word, &v, me | SH_WAITERS, PARC_ACQUIRE, PARC_RELAXED)) {
                /* relaxed: inside the lock; the unlock publishes it. */
                parc_store(&m->wake_seq, (uint32_t)INCONSISTENT, PARC_RELAXED);
                return EOWNERDEAD;
            }
            continue;
        }
        check = false;
        if (try_only)
            return EAGAIN;
        if (parc_deadline_passed(deadline))
            return ETIMEDOUT;
        if (!waited && spins < PARC_SPIN_POLLS) { /* a short holder ends soon */
            parc_spin_poll(spins++);
            continue;
        }
        /* relaxed: registering publishes nothing; the unlock's exchange
         * reads it and wakes. */
        if (!(v & SH_WAITERS) &&
            !parc_cas(&m->word, &v, v | SH_WAITERS, PARC_RELAXED, PARC_RELAXED))
            continue;
        parc_deadline_t slice = deadline;
        if (robust && (deadline == PARC_FOREVER || deadline - parc_now_ns() > CHECK_SLICE_NS))
            parc_deadline_in(&slice, CHECK_SLICE_NS);
        int rc = parc_park_wait_shared(&m->word, v | SH_WAITERS, slice);
        if (rc != 0 && rc != ETIMEDOUT)
            return rc; /* ENOTSUP: no shared parking in this build */
        waited = true;
        check = rc == ETIMEDOUT; /* held for a whole slice: still alive? */
    }
}

bool parc_mutex_shared_held_(parc_mutex_t *m)
{
    uint32_t v = parc_load(&m->word, PARC_RELAXED);
    return (v & SH_LOCKED) && (v >> SH_TID_SHIFT) == parc_self_tid_();
}

int parc_mutex_shared_unlock_(parc_mutex_t *m)
{
    uint32_t v = parc_load(&m->word, PARC_RELAXED);
    if (!(v & SH_LOCKED) || (v >> SH_TID_SHIFT) != parc_self_tid_())
        return EPERM;
    bool lost = false;
    if ((m->kind & PARC_MUTEX_ROBUST) &&
        parc_load(&m->wake_seq, PARC_RELAXED) == INCONSISTENT) {
        /* unlocked without parc_mutex_consistent: POSIX says the state
         * can never be trusted again */
        parc_store(&m->wake_seq, (uint32_t)NOTRECOVERABLE, PARC_RELAXED);
        lost = true;
    }
    /* release: publishes the critical section (and the state above) to
     * the next holder; pairs with the acquire CAS of lock. */
    uint32_t old = parc_xchg(&m->word, 0u, PARC_RELEASE);
    if (lost)
        (void)parc_park_wake_all_shared(&m->word); /* all: ENOTRECOVERABLE */
    else if (old & SH_WAITERS)
        (void)parc_park_wake_one_shared(&m->word);
    return 0;
}

int parc_mutex_consistent(parc_mutex_t *m)
{
    if (m == NULL || !(m->kind & PARC_MUTEX_ROBUST))
        return EINVAL;
    uint32_t v = parc_load(&m->word, PARC_RELAXED);
    if (!(v & SH_LOCKED) || (v >> SH_TID_SHIFT) != parc_self_tid_() ||
        parc_load(&m->wake_seq, PARC_RELAXED) != INCONSISTENT)
        return EINVAL;
    parc_store(&m->wake_seq, (uint32_t)CONSISTENT, PARC_RELAXED); /* inside */
    return 0;
}
