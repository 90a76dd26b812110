/*
 * The spin before a park, shared by the eventcount's await (so semaphores,
 * events and every container that waits through it) and the condition
 * variable. Internal: not an API.
 *
 * A waiter polls its condition for PARC_SPIN_POLLS polls, yielding the
 * processor every PARC_SPIN_YIELD_EVERY-th (see parc_spin_poll), then
 * parks. The yields are for a partner that shares our core: it runs at
 * once instead of after the whole spin. But a yield keeps both threads
 * runnable on that one core, so the scheduler never has a wake-up to
 * place and, with the other core idle, does not move either (measured:
 * two processes ping-ponging through two shared semaphores stayed on one
 * CPU for 100,000 round trips, one sched_yield and one context switch per
 * hop, no futex call, no migration; ~3 us per hop where two spinning
 * cores take ~0.1 us). So a waiter that finds its condition came true
 * while it was descheduled in a yield that took about what a spinning
 * partner's turn takes (longer than a system call that returns at once,
 * far shorter than another program's time slice: spin_wait.c) takes it
 * that its partner runs on its core, alone with it, and parks at once
 * in its next wait: its partner's wake-up
 * then lets the scheduler put it on an idle core if there is one
 * (select_idle_sibling), after which both spin on their own cores. On a
 * machine with no idle core the park costs the partner one futex wake
 * instead of a yield, once per such finding: a bounded price.
 *
 * Only waits on process-shared objects (PARC_PSHARED) take that rule;
 * the others spin as before (parc_spin_poll, yielding now and then). The
 * convoy was observed between processes, which a fork starts on one CPU;
 * threads of one process were not seen in it, and parking at once costs
 * every in-process wait that a yield happened to end (a pool's joins,
 * fork/join with two workers and a waiting caller: fib(30) ran at half
 * speed with the rule applied to every wait).
 *
 * Rejected: an adaptive spin budget (the channel's): the budget is not
 * what runs out here (no wait parks at all); recording the releaser's CPU
 * in each object for the waiter to compare (sched_getcpu): a store and a
 * call on every release, for a hint a timed yield gives for free.
 */
#ifndef PARC_SPIN_WAIT_H
#define PARC_SPIN_WAIT_H

#include <stdbool.h>

#include "parc/atomic.h"

/* Spin until ready(arg) returns true (then true) or the spin is spent or
 * skipped (false: the caller goes on to park). ready() reads with acquire
 * loads what it needs. `shared`: the object is process-shared, and the
 * park-at-once rule above applies. Any thread; never parks. */
bool parc_spin_wait_(bool (*ready)(void *arg), void *arg, bool shared);

#endif /* PARC_SPIN_WAIT_H */
