/*
 * src/fiber_internal.h — the fiber record and what the fiber files share
 * (private): src/fiber.c (the core: create, resume, yield, finish),
 * src/fiber_sched.c (M:N on a pool, the park hook), src/fiber_timer.c,
 * src/generator.c.
 *
 * Life of a fiber (state):
 *   SUSPENDED  created, or yielded by hand: parc_fiber_resume may run it
 *   QUEUED     spawned: a pool task that will run it is submitted
 *   RUNNING    on some thread's stack right now
 *   PARKED     spawned, waiting in the park hook for a wake-up or timer
 *   DONE       its function returned
 * A fiber leaves RUNNING only after it is off its stack: the side that
 * regains control runs the fiber's `after` action (mark it suspended,
 * resubmit it, unlock the wait bucket it parked in, finish it), as the
 * switch's hook (src/fiber_context.h), so no other thread can enter a
 * stack that is still in use (Go's gopark with its unlock function works
 * the same way).
 *
 * The record lives at the top of the fiber's own stack: one allocation per
 * fiber, and the page it is on is the page the fiber's first frames touch.
 */
#ifndef PARC_SRC_FIBER_INTERNAL_H
#define PARC_SRC_FIBER_INTERNAL_H

#include "parc/atomic.h"
#include "parc/fiber.h"
#include "parc/park.h"

#include "fiber_context.h"
#include "fiber_stack.h"

enum {
    PARC_FIBER_SUSPENDED,
    PARC_FIBER_QUEUED,
    PARC_FIBER_RUNNING,
    PARC_FIBER_PARKED,
    PARC_FIBER_DONE,
};

typedef void (*parc_fiber_after_fn)(parc_fiber_t *f, void *arg);

struct parc_fiber {
    parc_ctx_t ctx;                  /* its own machine context */
    parc_ctx_t resumer;              /* its resumer's, while it runs */
    parc_fiber_t *outer;             /* the resumer's current fiber (or NULL) */
    parc_fiber_fn fn;
    void *arg;
    parc_fiber_stack_t stack;        /* the record lies at its top */
    parc_pool_t *pool;               /* spawned on; NULL: run by hand */
    struct parc_fiber_runq *runq;    /* the pool's ready queue (spawned) */
    parc_fiber_t *next_ready;        /* link in it */
    parc_fiber_after_fn after;       /* run by whoever regains control */
    void *after_arg;
    parc_atomic(uint32_t) state;
    /* One reference for the handle (unless detached), one while alive. */
    parc_atomic(uint32_t) refs;
    parc_park_word_t finished;       /* 0, then 1: parc_fiber_join waits */
    bool returned;                   /* its function returned (owner only) */
    int exit_rc;                     /* what resume returns then (EPIPE) */
    void (*deliver)(void *);         /* run on the resumer's side at a yield */
    void *deliver_arg;
    unsigned blocking;               /* parc_fiber_block_begin depth */
    bool compensated;                /* the outermost begin reached the pool's */
    void *locals[PARC_FIBER_KEYS_MAX];
};

/* The fiber running on this thread (NULL: none). Not inlined, so that no
 * caller keeps a thread-local address across a switch (a fiber may
 * continue on another thread). */
parc_fiber_t *parc_fiber_self_(void);

/* Allocate a fiber (state SUSPENDED, refs 2, pool NULL). */
int parc_fiber_new_(parc_fiber_t **out, parc_fiber_fn fn, void *arg,
                    const parc_fiber_attr_t *attr);

/* For generators (src/generator.c): resume the fiber f run by hand, whose
 * pending yield (parc_fiber_yield_with_) returns hook(arg) (hook NULL:
 * 0); returns 0 when it yields, its exit_rc when it finishes, EPIPE when
 * it had finished, EBUSY when it runs. Ends in a tail jump into the
 * switch, so nothing returns across the stack swap. */
int parc_fiber_resume_with_(parc_fiber_t *f, parc_ctx_hook_fn hook, void *arg);

/* From inside fiber self run by hand: yield; deliver(arg) runs on the
 * resumer's side first (before the fiber counts as suspended). Returns
 * what the resume that continues it passes. */
int parc_fiber_yield_with_(parc_fiber_t *self, void (*deliver)(void *), void *arg);

/* From inside fiber self: switch straight to `next` (off its stack, made
 * RUNNING by the caller), which takes over self's resumer; hook(arg) runs
 * on next's side first. Returns what the switch that continues self
 * passes. */
int parc_fiber_handoff_(parc_fiber_t *self, parc_fiber_t *next, parc_ctx_hook_fn hook,
                        void *arg);

/* Run f on the calling thread until control comes back (the `after`
 * action of the fiber that gave it back has run). Returns whether that
 * fiber had returned from its function. The caller made f RUNNING. */
bool parc_fiber_run_(parc_fiber_t *f);

/* From inside fiber `self`: give control back to its resumer, which runs
 * after(self, arg) once off this stack. Returns when self runs again. */
void parc_fiber_suspend_(parc_fiber_t *self, parc_fiber_after_fn after, void *arg);

/* Drop one reference; the last frees the fiber (its stack). */
void parc_fiber_unref_(parc_fiber_t *f);

/* Make a spawned fiber that is off its stack ready: append it to its
 * pool's run queue and submit a task for it (aborts if the pool refuses).
 * The signature of an after action, so that yield can pass it. */
void parc_fiber_ready_(parc_fiber_t *f, void *unused);

/* The calling thread is about to block outside parc (a declared blocking
 * call): hand the fiber waiting in its runnext slot to the pool. */
void parc_fiber_sched_flush_(void);

#endif /* PARC_SRC_FIBER_INTERNAL_H */
