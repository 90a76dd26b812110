/*
 * src/park_hook.h — the seam through which a runtime above layer 1 takes
 * over parc_park_wait and parc_park_wake_* (private).
 *
 * Every blocking call in parc ends in parc_park_wait, so a runtime that
 * can suspend the caller some other way than by sleeping the thread (the
 * fiber scheduler, src/fiber_sched.c) installs a hook here, as the chaos
 * build hooks its scheduling points in. parc/park.h's contract holds for
 * both paths: a waker that changes the word and then wakes reaches the
 * waiter whether it is a thread (futex) or a fiber (the hook).
 */
#ifndef PARC_SRC_PARK_HOOK_H
#define PARC_SRC_PARK_HOOK_H

#include <stdbool.h>

#include "parc/park.h"

/* hook->wait returns this when the caller is not one it parks (a plain
 * thread): park.c then sleeps the thread as usual. */
#define PARC_PARK_HOOK_DECLINE (-1)

typedef struct parc_park_hook {
    /* As parc_park_wait, for the calling fiber; or PARC_PARK_HOOK_DECLINE. */
    int (*wait)(parc_park_word_t *word, uint32_t expected, parc_deadline_t deadline);
    /* Wake up to `count` fibers parked on word; returns how many it woke. */
    int (*wake)(parc_park_word_t *word, int count);
} parc_park_hook_t;

/* Install `hook` (once; later calls with another hook are ignored). The
 * hook must live for the rest of the process. */
void parc_park_hook_install(const parc_park_hook_t *hook);

/* The same for parc_yield() (src/atomic.c), which the spin phases of
 * every blocking path call now and then: the hook yields the calling
 * fiber and returns true, or returns false for a plain thread (which then
 * calls sched_yield). */
typedef bool (*parc_yield_hook_fn)(void);
void parc_yield_hook_install(parc_yield_hook_fn hook);

/* The same for every poll of parc_spin_poll(i) (parc/impl/atomic.h): the
 * hook handles poll number i for the calling fiber (runs another fiber,
 * or relaxes) and returns true, or returns false for a plain thread
 * (which then polls as usual). Once installed, every poll in the process
 * costs a call to it. */
typedef bool (*parc_spin_hook_fn)(unsigned i);
void parc_spin_hook_install(parc_spin_hook_fn hook);

#endif /* PARC_SRC_PARK_HOOK_H */
