/*
 * parc/chan_timer.h — timers as channels: Go's time.After/NewTimer and
 * time.Tick/NewTicker (layer 2).
 *
 * A parc_timer_t owns a channel of capacity 1 whose values are int64_t
 * CLOCK_MONOTONIC times (parc/time.h): the moment each firing happened.
 * Receive from parc_timer_chan(t) like from any channel, in a select case
 * too. An `after` timer sends once; a `tick` timer sends every period and,
 * like Go's ticker, drops a tick while the previous one is still unread
 * (a slow receiver sees fewer ticks, never a backlog).
 *
 * All timers of the process share one timer thread (libparc's private
 * timer service, src/timer.h: a deadline heap under a lock, one thread
 * sleeping until the earliest deadline), started at the first timer and
 * living until the process exits. The channel is sent to with the try
 * form, so a timer never blocks that thread.
 *
 * Names: the object is a timer, so its calls are parc_timer_*; the file
 * is chan_timer.h because the timer is delivered as a channel (the
 * library's internal timer service is src/timer.h).
 *
 * Threads: start, stop and destroy from any thread, not concurrently on
 * the same timer; receive from its channel anywhere.
 *
 * Example (give up on a reply after 50 ms):
 *
 *     parc_timer_t t;
 *     parc_timer_after(&t, 50 * PARC_NS_PER_MS);
 *     parc_select_case_t cs[2] = { parc_select_recv(&replies, &r),
 *                                  parc_select_recv(parc_timer_chan(&t), &when) };
 *     parc_select(cs, 2, 0, &i);
 *     parc_timer_destroy(&t);
 */
#ifndef PARC_CHAN_TIMER_H
#define PARC_CHAN_TIMER_H

#include <stdint.h>

#include "parc/api.h"
#include "parc/atomic.h"
#include "parc/chan.h"
#include "parc/mutex.h"
#include "parc/time.h"

PARC_BEGIN_DECLS

typedef struct parc_timer {
    parc_chan_t chan;              /* capacity 1, int64_t firing times */
    parc_mutex_t lock;             /* orders a stop against a firing */
    int64_t period;                /* 0 for a one-shot timer */
    parc_deadline_t next;          /* the deadline of the pending firing */
    uint64_t id;                   /* the timer service's id for it */
    bool stopped;
    parc_atomic(uint32_t) pending; /* firings added and not yet over;
                                    * destroy waits for 0 */
} parc_timer_t;

/*
 * Initialise `t` and start it: its channel receives the firing time once,
 * `delay_ns` from now (0 or a deadline in the past: at once). Returns 0;
 * EINVAL for a NULL t or a negative delay; ENOMEM or EAGAIN when the
 * timer service could not be started or grow. Any thread; never blocks.
 */
PARC_API int parc_timer_after(parc_timer_t *t, int64_t delay_ns);

/* As parc_timer_after() with an absolute CLOCK_MONOTONIC deadline. */
PARC_API int parc_timer_at(parc_timer_t *t, parc_deadline_t deadline);

/*
 * Initialise `t` and start it ticking: its channel receives the firing
 * time every `period_ns` (> 0), the first one period from now. Ticks the
 * receiver has not taken are dropped. Same return codes as
 * parc_timer_after() (EINVAL for period_ns <= 0).
 */
PARC_API int parc_timer_tick(parc_timer_t *t, int64_t period_ns);

/*
 * Stop the timer: no firing after this returns. Returns 0 when a firing
 * was still due (for a one-shot timer: it never fired), EALREADY when the
 * one-shot timer fired or the timer was stopped before, EINVAL for NULL.
 * A value already in the channel stays there. Never blocks beyond the
 * timer's lock.
 */
PARC_API int parc_timer_stop(parc_timer_t *t);

/*
 * Stop the timer, wait until a firing that is running has finished, and
 * destroy its channel. Returns 0 or EINVAL for NULL; EBUSY (and nothing
 * changes but the stop) while a thread is blocked on its channel.
 */
PARC_API int parc_timer_destroy(parc_timer_t *t);

/* The timer's channel, to receive from (t must not be NULL). Any thread;
 * never blocks. */
static inline parc_chan_t *parc_timer_chan(parc_timer_t *t);

PARC_END_DECLS

#include "parc/impl/chan_timer.h"

#endif /* PARC_CHAN_TIMER_H */
