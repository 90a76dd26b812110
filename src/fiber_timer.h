/*
 * src/fiber_timer.h — one-shot timers for parked fibers (private).
 *
 * A binary min-heap of deadlines under one mutex, served by one thread
 * that the fiber runtime starts at the first timer and keeps for the life
 * of the process (it sleeps on a condition variable on CLOCK_MONOTONIC
 * until the earliest deadline). A timer is caller storage (it lives in the
 * parked fiber's wait record), so cancel must not return while its fire
 * function still runs: cancel waits for a fire in progress.
 *
 * Each timer remembers its place in the heap, so cancel is O(log n): every
 * timed wait a fiber ends early cancels its timer, and 100,000 fibers in
 * timed waits are a normal load (the fiber.mn stress workload).
 *
 * Rejected: the pool's workers polling the heap between tasks (needs an
 * edit of src/pool.c, and an idle pool's workers sleep, so the deadline
 * would wait for the next task); a timerfd per fiber (a descriptor each);
 * the library's timer service (src/timer.h on branch house-actors), whose
 * cancel finds the timer by a linear scan, quadratic with that many
 * waiters. Should it keep each timer's heap index, fibers can move to it
 * and this thread can go.
 */
#ifndef PARC_SRC_FIBER_TIMER_H
#define PARC_SRC_FIBER_TIMER_H

#include <stddef.h>
#include <stdint.h>

#include "parc/atomic.h"
#include "parc/time.h"

typedef struct parc_fiber_timer {
    parc_deadline_t deadline;
    void (*fire)(void *arg);
    void *arg;
    size_t index;                   /* its place in the heap */
    parc_atomic(uint32_t) state;    /* IDLE, QUEUED, FIRING, DONE */
} parc_fiber_timer_t;

/* Arm t to call fire(arg) on the timer thread once `deadline` passes.
 * Returns 0, or an errno value when the timer thread cannot start. */
int parc_fiber_timer_add(parc_fiber_timer_t *t, parc_deadline_t deadline,
                         void (*fire)(void *), void *arg);

/* Disarm t: when this returns, fire has either not run and never will, or
 * has returned. Spins (yielding the processor) while a fire runs. */
void parc_fiber_timer_cancel(parc_fiber_timer_t *t);

#endif /* PARC_SRC_FIBER_TIMER_H */
