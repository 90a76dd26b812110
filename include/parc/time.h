/*
 * parc/time.h — deadlines (layer 0).
 *
 * Every _timed call in parc takes a relative timeout in nanoseconds and
 * turns it once into an absolute CLOCK_MONOTONIC deadline, so that spurious
 * wake-ups and retries never stretch the total wait. A deadline is an
 * int64_t count of nanoseconds on CLOCK_MONOTONIC; PARC_FOREVER means "no
 * deadline". Arithmetic saturates at PARC_FOREVER instead of overflowing.
 *
 * Threads: all functions may be called from any thread and never block.
 */
#ifndef PARC_TIME_H
#define PARC_TIME_H

#include "parc/api.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef int64_t parc_deadline_t;

/* No deadline / an infinite relative timeout. */
#define PARC_FOREVER INT64_MAX

#define PARC_NS_PER_US INT64_C(1000)
#define PARC_NS_PER_MS INT64_C(1000000)
#define PARC_NS_PER_S INT64_C(1000000000)

/* Now on CLOCK_MONOTONIC, in nanoseconds. Out of line so that this header
 * needs no POSIX feature macros under -std=c11. */
PARC_API int64_t parc_now_ns(void);

/* a + b for non-negative a and b, saturating at PARC_FOREVER. */
static inline int64_t parc_add_sat(int64_t a, int64_t b)
{
    return (b > PARC_FOREVER - a) ? PARC_FOREVER : a + b;
}

/*
 * The deadline `timeout_ns` from now, written to *deadline. A timeout of
 * PARC_FOREVER (or one so large that now + timeout overflows) gives
 * PARC_FOREVER; 0 gives a deadline that has already passed (the _try
 * semantics). Returns 0, or EINVAL when deadline is NULL or timeout_ns < 0.
 */
static inline int parc_deadline_in(parc_deadline_t *deadline, int64_t timeout_ns)
{
    if (deadline == NULL || timeout_ns < 0)
        return EINVAL;
    *deadline = timeout_ns == PARC_FOREVER ? PARC_FOREVER
                                           : parc_add_sat(parc_now_ns(), timeout_ns);
    return 0;
}

/* Nanoseconds left before `deadline`: 0 once it has passed, PARC_FOREVER
 * for PARC_FOREVER. */
static inline int64_t parc_deadline_remaining(parc_deadline_t deadline)
{
    if (deadline == PARC_FOREVER)
        return PARC_FOREVER;
    int64_t left = deadline - parc_now_ns();
    return left > 0 ? left : 0;
}

/* True once CLOCK_MONOTONIC has reached `deadline` (never for FOREVER). */
static inline bool parc_deadline_passed(parc_deadline_t deadline)
{
    return deadline != PARC_FOREVER && parc_now_ns() >= deadline;
}

/* The deadline as a struct timespec for clock_nanosleep / futex /
 * pthread_cond_timedwait (CLOCK_MONOTONIC). Only for finite deadlines;
 * negative deadlines clamp to zero. */
static inline struct timespec parc_deadline_timespec(parc_deadline_t deadline)
{
    if (deadline < 0)
        deadline = 0;
    struct timespec ts = { .tv_sec = (time_t)(deadline / PARC_NS_PER_S),
                           .tv_nsec = (long)(deadline % PARC_NS_PER_S) };
    return ts;
}

/* Sleep until `deadline` (PARC_FOREVER is refused: EINVAL). Restarts after
 * signals. Returns 0. Blocks the calling thread. */
PARC_API int parc_sleep_until(parc_deadline_t deadline);

/* Sleep for `ns` nanoseconds (EINVAL when negative or PARC_FOREVER). */
PARC_API int parc_sleep_ns(int64_t ns);

#endif /* PARC_TIME_H */
