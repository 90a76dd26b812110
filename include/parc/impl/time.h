/*
 * parc/impl/time.h — the inline fast paths behind parc/time.h.
 * Included at the bottom of parc/time.h; not an API: the contracts are
 * documented there.
 */
#ifndef PARC_IMPL_TIME_H
#define PARC_IMPL_TIME_H

#include "parc/time.h"

PARC_BEGIN_DECLS

static inline int64_t parc_add_sat(int64_t a, int64_t b)
{
    return (b > PARC_FOREVER - a) ? PARC_FOREVER : a + b;
}

static inline int parc_deadline_in(parc_deadline_t *deadline,
                                   int64_t timeout_ns)
{
    if (deadline == NULL || timeout_ns < 0)
        return EINVAL;
    *deadline = timeout_ns == PARC_FOREVER ? PARC_FOREVER
                                           : parc_add_sat(parc_now_ns(), timeout_ns);
    return 0;
}

static inline int64_t parc_deadline_remaining(parc_deadline_t deadline)
{
    if (deadline == PARC_FOREVER)
        return PARC_FOREVER;
    int64_t left = deadline - parc_now_ns();
    return left > 0 ? left : 0;
}

static inline bool parc_deadline_passed(parc_deadline_t deadline)
{
    return deadline != PARC_FOREVER && parc_now_ns() >= deadline;
}

static inline struct timespec parc_deadline_timespec(parc_deadline_t deadline)
{
    if (deadline < 0)
        deadline = 0;
    struct timespec ts;
    ts.tv_sec = (time_t)(deadline / PARC_NS_PER_S);
    ts.tv_nsec = (long)(deadline % PARC_NS_PER_S);
    return ts;
}

PARC_END_DECLS

#endif /* PARC_IMPL_TIME_H */
