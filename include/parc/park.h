/*
 * parc/park.h — park a thread on a 32-bit word until woken or a deadline
 * (layer 1).
 *
 * The primitive under every blocking path in parc, after futex(2) (Drepper,
 * "Futexes Are Tricky", 2011). A thread parks on an atomic 32-bit word only
 * while the word still holds the value it expects: the check and the sleep
 * are atomic with respect to parc_park_wake_*(), so a waker that changes the
 * word and then wakes can never be missed. Everything above (mutex,
 * eventcount, queues) builds its own protocol on that guarantee.
 *
 * Back-ends, chosen at configure time (cmake -DPARC_PARK=futex|condvar):
 *   futex    Linux futex, private, FUTEX_WAIT_BITSET with an absolute
 *            CLOCK_MONOTONIC deadline; the default on Linux.
 *   condvar  a table of pthread mutex+condition buckets hashed by address;
 *            portable, and built on Linux too so that it stays tested.
 *
 * parc_park_wait() hides EINTR (a signal is not a wake-up) but may still
 * return 0 spuriously, as any futex wait may: callers re-check their
 * condition in a loop.
 */
#ifndef PARC_PARK_H
#define PARC_PARK_H

#include <stdint.h>

#include "parc/api.h"
#include "parc/atomic.h"
#include "parc/status.h"
#include "parc/time.h"

PARC_BEGIN_DECLS

typedef parc_atomic(uint32_t) parc_park_word_t;

/**
 * Park the calling thread while *word == expected, until woken by
 * parc_park_wake_one/all(word) or until `deadline` (absolute
 * CLOCK_MONOTONIC ns, or PARC_FOREVER). Blocks. Any thread.
 *
 * Returns 0 when woken, when *word already differed from `expected`, or
 * spuriously (re-check); ETIMEDOUT when the deadline passed, never before
 * it; EINVAL when word is NULL.
 */
PARC_API int parc_park_wait(parc_park_word_t *word, uint32_t expected,
                            parc_deadline_t deadline);

/** Wake at most one thread parked on `word` (both back-ends wake exactly
 * one when one is parked; callers re-check their condition anyway). Call
 * after changing *word. Returns 0, or EINVAL when word is NULL. Any
 * thread; never blocks. */
PARC_API int parc_park_wake_one(parc_park_word_t *word);

/** Wake every thread parked on `word`. Returns 0, or EINVAL when word is
 * NULL. Any thread; never blocks. */
PARC_API int parc_park_wake_all(parc_park_word_t *word);

/** Returns the name of the back-end in use: "futex" or "condvar" (a static
 * string). Any thread; never blocks. */
PARC_API const char *parc_park_backend(void);

/*
 * Process-shared parking: the same three calls for a word in memory that
 * several processes map (parc/shm.h), with a shared futex (no
 * FUTEX_PRIVATE_FLAG: the kernel keys the wait on the page, not on this
 * process's address). A word parked on with the shared calls must be woken
 * with the shared calls. They use the futex whichever back-end the build
 * parks private words with (the condvar back-end's buckets live in one
 * process); where there is no futex they return ENOTSUP.
 */

/** As parc_park_wait(), for a word in memory shared between processes.
 * Returns 0 (woken, or *word != expected; possibly spuriously), ETIMEDOUT,
 * EINVAL when word is NULL, ENOTSUP without a futex. Any thread of any
 * process mapping the word; blocks. */
PARC_API int parc_park_wait_shared(parc_park_word_t *word, uint32_t expected,
                                   parc_deadline_t deadline);

/** Wake at most one thread of any process parked on the shared `word`.
 * Returns 0, EINVAL when word is NULL, ENOTSUP without a futex. Any
 * thread; never blocks. */
PARC_API int parc_park_wake_one_shared(parc_park_word_t *word);

/** Wake every thread of any process parked on the shared `word`. Returns
 * 0, EINVAL when word is NULL, ENOTSUP without a futex. Any thread; never
 * blocks. */
PARC_API int parc_park_wake_all_shared(parc_park_word_t *word);

PARC_END_DECLS

/* Flag of the _init_flags functions and mutex kinds: the object lives in
 * memory shared between processes (parc/shm.h) and parks with the shared
 * calls above (pthread's PTHREAD_PROCESS_SHARED). */
#define PARC_PSHARED 0x100u

#endif /* PARC_PARK_H */
