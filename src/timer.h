/*
 * timer.h — the library's private timer service: one thread that calls
 * functions at deadlines. Not installed; runtimes inside libparc use it
 * (the scheduled actors' send_after, channel and select timeouts), so that
 * no runtime grows a timer thread of its own and none needs a thread per
 * timer.
 *
 * A parc_timers_t is a binary min-heap of pending timers, ordered by
 * deadline, under a mutex, and one thread that sleeps on a condition
 * variable until the earliest deadline (or until an earlier timer is
 * added), pops every timer that is due and calls its fire(arg).
 *
 *   - fire runs on the timer thread, never under the timer lock: it may
 *     add and cancel timers of the same service, and take locks that are
 *     held around parc_timers_add elsewhere. It must not block for long
 *     (the timers behind it wait) and must not call parc_timers_free.
 *   - Timers due at the same moment fire in the order they were added
 *     (ties are broken by id, which grows with each add).
 *   - A timer fires at most once, on or after its deadline, and then it is
 *     gone: cancel returns EALREADY from the moment it leaves the heap,
 *     before fire is called. So cancel and fire never both happen to one
 *     timer, and the caller that got 0 from cancel owns arg again.
 *   - The deadline is absolute, on CLOCK_MONOTONIC (parc/time.h); one in
 *     the past fires at once.
 *
 * Cost: add and the thread's pop are O(log n) under the lock; cancel looks
 * the id up by a linear scan, O(n). Rejected alternatives: a hashed timer
 * wheel (Varghese and Lauck 1987) makes add and cancel O(1) but ticks,
 * rounding every deadline to the tick and waking the thread on every tick
 * even when nothing is due; an id-to-index table keeps cancel O(log n) but
 * costs a table to maintain on every heap move. Timers in libparc are few
 * (timeouts and delayed messages, not per-operation events); a service
 * with many cancellations would switch to the table.
 *
 * Threads: every call may be made from any thread, fire included, except
 * parc_timers_free: never from fire, and only once no other thread will
 * call the service again. (A fire still running when free begins may call
 * it: its adds get EPIPE; free waits for it to return.)
 *
 * Example: a timeout that the waiter cancels when it wins the race.
 *
 *     uint64_t id;
 *     parc_timers_add(timers, deadline, expire, waiter, &id);
 *     ... wait ...
 *     if (parc_timers_cancel(timers, id, NULL) == EALREADY)
 *         ... expire(waiter) ran or is running: the waiter timed out ...
 */
#ifndef PARC_SRC_TIMER_H
#define PARC_SRC_TIMER_H

#include <stddef.h>
#include <stdint.h>

#include "parc/time.h"

typedef struct parc_timers parc_timers_t;

/** Create a timer service and start its thread. Returns 0 with *out set,
 * ENOMEM, or EAGAIN (no thread could be created). Never blocks. */
int parc_timers_create(parc_timers_t **out);

/** Call fire(arg) on the timer thread at `when` (absolute, CLOCK_MONOTONIC;
 * PARC_FOREVER never fires, but can be cancelled). *id (when id is not
 * NULL) gets the timer's id for parc_timers_cancel: never 0, never reused
 * by this service. Returns 0, EINVAL (NULL t or fire), ENOMEM, EPIPE
 * (parc_timers_free has begun; fire will never be called). Any thread,
 * fire included; never blocks (takes the timer lock briefly). */
int parc_timers_add(parc_timers_t *t, parc_deadline_t when,
                    void (*fire)(void *arg), void *arg, uint64_t *id);

/** Cancel timer `id`. Returns 0 when it was still pending: fire will never
 * be called for it, and *arg (when arg is not NULL) gets its argument
 * back; EALREADY when it fired, is firing, or was cancelled before;
 * EINVAL for NULL t or an id this service never gave out. Any thread,
 * fire included; never blocks (takes the timer lock briefly). */
int parc_timers_cancel(parc_timers_t *t, uint64_t id, void **arg);

/** Timers added and neither fired (fire called or about to be) nor
 * cancelled. A snapshot: timers may be added or fire meanwhile. Any
 * thread; never blocks. */
size_t parc_timers_pending(parc_timers_t *t);

/** Stop the service: later adds return EPIPE; the timers still pending are
 * dropped without calling their fire (their args stay the callers'); a
 * fire already running completes; the thread is joined and the memory
 * freed. NULL: no-op. Blocks (joins the thread). Never from fire, and
 * only when no other thread will call the service again. */
void parc_timers_free(parc_timers_t *t);

#endif /* PARC_SRC_TIMER_H */
