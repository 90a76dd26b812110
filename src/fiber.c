/* parc/fiber.h: the core — creating, resuming, yielding, finishing and
 * freeing fibers, fiber-local storage. M:N scheduling is in
 * src/fiber_sched.c. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "fiber_internal.h"
#include "pool_internal.h"

/* ---- the current fiber ------------------------------------------------------ */

#if defined(__GNUC__)
/* initial-exec: a %fs-relative access, no __tls_get_addr call in the
 * shared library (this is on every switch). */
#define FIBER_TLS __attribute__((tls_model("initial-exec")))
#else
#define FIBER_TLS
#endif

/* The fiber running on this thread (0: none) is the thread-local that
 * parc's owner-checked locks read as the caller's identity (src/mutex.c
 * defines it, at layer 2, as a plain integer). One variable for both
 * uses, so that a switch writes one thread-local, not two. */
extern _Thread_local uintptr_t parc_thread_id_fiber_ FIBER_TLS;
#define current ((parc_fiber_t *)parc_thread_id_fiber_)

/* Thread-locals and switches. A fiber may continue on another thread
 * after it switches away, and a compiler that read a thread-local before
 * a switch may reuse the address it computed after it. So, in this file:
 *   - the resumer's side (parc_fiber_run_) reads and writes `current`
 *     inline on both sides of its switch: a base context regains control
 *     only on the thread that left it (the fiber it runs switches back
 *     from that thread, since a running fiber cannot move; a fiber that
 *     parks or yields to a pool switches to its worker's base, on the
 *     worker's thread);
 *   - a fiber's side reads `current` inline only before its switch, and
 *     after a switch only through parc_fiber_self_, which is opaque to
 *     the optimizer (not inlined, an asm with a memory clobber). */
__attribute__((noinline)) parc_fiber_t *parc_fiber_self_(void)
{
    __asm__ volatile("" ::: "memory");
    return current;
}

static inline void set_self(parc_fiber_t *f)
{
    parc_thread_id_fiber_ = (uintptr_t)f;
}

parc_fiber_t *parc_fiber_current(void)
{
    return parc_fiber_self_();
}

/* ---- switching ------------------------------------------------------------- */

static void mark_suspended(parc_fiber_t *f, void *arg)
{
    (void)arg;
    /* Publishes the fiber's stack and record to the thread that resumes it
     * next; pairs with the acquire load in parc_fiber_resume. */
    parc_store(&f->state, PARC_FIBER_SUSPENDED, PARC_RELEASE);
}

/* The hook of every switch from a fiber back to its resumer, run on the
 * resumer's stack: the resumer's current fiber again, then the action the
 * fiber left (it may be resumed elsewhere or freed as soon as that runs).
 * The common action, a yield by hand, is called directly. The result is
 * what the resume returns: EPIPE when the fiber's function returned. */
static void *to_resumer(void *arg)
{
    parc_fiber_t *f = arg;
    set_self(f->outer);
    /* A value the fiber hands over (a generator's yield), while the
     * fiber is still ours. */
    void (*deliver)(void *) = f->deliver;
    if (deliver != NULL) {
        f->deliver = NULL;
        deliver(f->deliver_arg);
    }
    /* Read before the action: it may free a finished fiber. */
    intptr_t rc = f->returned ? f->exit_rc : 0;
    parc_fiber_after_fn after = f->after;
    if (after == mark_suspended)
        mark_suspended(f, NULL);
    else
        after(f, f->after_arg);
    return (void *)rc;
}

/* The hook of parc_fiber_switch: the fiber switched from is off its
 * stack. */
static void *switched_from(void *arg)
{
    mark_suspended(arg, NULL);
    return NULL;
}

/* Make the suspended fiber f, run by hand, RUNNING for the caller, who
 * is about to resume it; false when it is not suspended (running, or
 * finished). A compare-and-swap, so that two threads racing to resume
 * (or switch to) one suspended fiber get one resume and one EBUSY
 * instead of two threads running on one stack. Rejected: an acquire
 * load and a plain store, which saves the locked instruction (a resume
 * and yield round trip 5.5 ns instead of 7.3 here, against fcontext's
 * 11) but turns that misuse into silent memory corruption; the switch
 * is well under fcontext's cost either way.
 * Acquire: what the fiber did on its last thread is visible here; pairs
 * with the release in mark_suspended. */
static inline bool claim(parc_fiber_t *f)
{
    uint32_t s = PARC_FIBER_SUSPENDED;
    return parc_cas(&f->state, &s, PARC_FIBER_RUNNING, PARC_ACQUIRE, PARC_ACQUIRE);
}

/* Enter f from its resumer; the switch returns to_resumer's result. The
 * caller made f RUNNING. Inline, so that resume ends in a tail jump into
 * the switch. */
static inline int enter(parc_fiber_t *f)
{
    f->outer = current; /* inline: before the switch only */
    parc_ctx_make_base(&f->resumer);
    set_self(f);
    return parc_ctx_switch_int(&f->resumer, &f->ctx, NULL, NULL);
}

bool parc_fiber_run_(parc_fiber_t *f)
{
    return enter(f) != 0;
}

int parc_fiber_resume_with_(parc_fiber_t *f, parc_ctx_hook_fn hook, void *arg)
{
    if (!claim(f))
        return parc_load(&f->state, PARC_RELAXED) == PARC_FIBER_DONE ? EPIPE : EBUSY;
    f->outer = current; /* inline: before the switch only */
    parc_ctx_make_base(&f->resumer);
    set_self(f);
    return parc_ctx_switch_int(&f->resumer, &f->ctx, hook, arg);
}

int parc_fiber_handoff_(parc_fiber_t *self, parc_fiber_t *next, parc_ctx_hook_fn hook,
                        void *arg)
{
    /* `next` returns to our resumer, on behalf of our resumer's fiber. */
    parc_ctx_take_over(&next->resumer, &self->resumer);
    next->outer = self->outer;
    set_self(next);
    return parc_ctx_switch_int(&self->ctx, &next->ctx, hook, arg);
}

int parc_fiber_yield_with_(parc_fiber_t *self, void (*deliver)(void *), void *arg)
{
    self->deliver = deliver;
    self->deliver_arg = arg;
    self->after = mark_suspended;
    return parc_ctx_switch_int(&self->ctx, &self->resumer, to_resumer, self);
}

void parc_fiber_suspend_(parc_fiber_t *self, parc_fiber_after_fn after, void *arg)
{
    self->after = after;
    self->after_arg = arg;
    (void)parc_ctx_switch(&self->ctx, &self->resumer, false, to_resumer, self);
}

static void finish(parc_fiber_t *f, void *arg)
{
    (void)arg;
    parc_ctx_destroy(&f->ctx);
    /* Publishes everything the fiber did to a joiner; pairs with the
     * acquire load in parc_fiber_join. */
    parc_store(&f->state, PARC_FIBER_DONE, PARC_RELEASE);
    /* Same, for join's park word; 2 means a joiner is parked. */
    if (parc_xchg(&f->finished, 1u, PARC_RELEASE) == 2u)
        parc_park_wake_all(&f->finished);
    parc_fiber_unref_(f);
}

/* Fiber-local destructors (keys below). */
static void (*key_destructors[PARC_FIBER_KEYS_MAX])(void *);
static parc_atomic(uint32_t) keys_used;

static void run_local_destructors(parc_fiber_t *f)
{
    uint32_t n = parc_load(&keys_used, PARC_ACQUIRE); /* the destructors
        stored before the count; pairs with the release in key_create */
    /* Repeat while destructors set values again, at most 4 rounds
     * (pthread's PTHREAD_DESTRUCTOR_ITERATIONS). */
    for (int round = 0; round < 4; round++) {
        bool again = false;
        for (uint32_t k = 0; k < n; k++) {
            void *v = f->locals[k];
            if (v != NULL && key_destructors[k] != NULL) {
                f->locals[k] = NULL;
                key_destructors[k](v);
                again = true;
            }
        }
        if (!again)
            break;
    }
}

/* First code on a new fiber's stack. */
static void fiber_main(void *from)
{
    parc_fiber_t *self = parc_fiber_self_();
    (void)parc_ctx_started(&self->ctx, from);
    self->fn(self->arg);
    self = parc_fiber_self_();
    run_local_destructors(self);
    self->returned = true;
    self->after = finish;
    parc_ctx_switch(&self->ctx, &self->resumer, true, to_resumer, self);
    __builtin_unreachable();
}

/* ---- creating and freeing -------------------------------------------------- */

int parc_fiber_new_(parc_fiber_t **out, parc_fiber_fn fn, void *arg,
                    const parc_fiber_attr_t *attr)
{
    if (out == NULL || fn == NULL)
        return EINVAL;
    size_t size = parc_fiber_stack_size(attr != NULL ? attr->stack_size : 0);
    if (size == 0)
        return ENOMEM;
    bool guarded = attr == NULL || !(attr->flags & PARC_FIBER_UNGUARDED);
    parc_fiber_stack_t stack;
    int rc = parc_fiber_stack_get(size, guarded, &stack);
    if (rc != 0)
        return rc;
    /* The record at the top, 64-byte aligned; the stack proper below. */
    uintptr_t top = (uintptr_t)stack.bottom + stack.size;
    parc_fiber_t *f = (parc_fiber_t *)((top - sizeof(parc_fiber_t)) & ~(uintptr_t)63);
    memset(f, 0, sizeof *f);
    f->exit_rc = EPIPE;
    f->fn = fn;
    f->arg = arg;
    f->stack = stack;
    parc_atomic_init(&f->state, PARC_FIBER_SUSPENDED);
    parc_atomic_init(&f->refs, 2u);
    parc_atomic_init(&f->finished, 0u);
    rc = parc_ctx_make(&f->ctx, stack.bottom, (size_t)((uintptr_t)f - (uintptr_t)stack.bottom),
                       fiber_main);
    if (rc != 0) {
        parc_fiber_stack_put(&stack);
        return rc;
    }
    *out = f;
    return 0;
}

int parc_fiber_create(parc_fiber_t **out, parc_fiber_fn fn, void *arg,
                      const parc_fiber_attr_t *attr)
{
    return parc_fiber_new_(out, fn, arg, attr);
}

void parc_fiber_unref_(parc_fiber_t *f)
{
    /* acq_rel: the last owner sees every other owner's writes before it
     * frees (the usual reference-count pairing). */
    if (parc_faa(&f->refs, (uint32_t)-1, PARC_ACQ_REL) != 1)
        return;
    parc_fiber_stack_t stack = f->stack; /* the record dies with it */
    parc_fiber_stack_put(&stack);
}

int parc_fiber_free(parc_fiber_t *f)
{
    if (f == NULL)
        return EINVAL;
    if (f->pool == NULL) {
        uint32_t s = PARC_FIBER_SUSPENDED;
        /* Acquire: the fiber's last run happened before we drop its stack;
         * pairs with the release in mark_suspended. */
        if (parc_cas(&f->state, &s, PARC_FIBER_DONE, PARC_ACQUIRE, PARC_ACQUIRE)) {
            /* Abandoned while suspended: it never finishes, so its
             * "alive" reference goes too. */
            parc_ctx_destroy(&f->ctx);
            parc_fiber_unref_(f);
        } else if (s != PARC_FIBER_DONE) {
            return EBUSY;
        }
    }
    parc_fiber_unref_(f);
    return 0;
}

bool parc_fiber_done(const parc_fiber_t *f)
{
    return f != NULL &&
           parc_load(&((parc_fiber_t *)f)->state, PARC_ACQUIRE) == PARC_FIBER_DONE;
    /* acquire: pairs with the release in finish(). */
}

/* ---- resume, yield, switch -------------------------------------------------- */

int parc_fiber_resume(parc_fiber_t *f)
{
    if (f == NULL)
        return EINVAL;
    if (f->pool != NULL)
        return EBUSY;
    if (!claim(f))
        return parc_load(&f->state, PARC_RELAXED) == PARC_FIBER_DONE ? EPIPE : EBUSY;
    return enter(f); /* 0, or EPIPE when f finished */
}

int parc_fiber_yield(void)
{
    parc_fiber_t *self = current; /* inline: read before the switch only */
    if (self == NULL)
        return EPERM;
    if (self->pool != NULL) {
        if (self->blocking > 0)
            return EBUSY; /* holds its worker until parc_fiber_block_end */
        /* Spawned: off the stack first, then back into the pool's queues. */
        self->after = parc_fiber_ready_;
        self->after_arg = NULL;
        /* Whoever resumes us passes 0 (no hook, or handed_off). */
        return parc_ctx_switch_int(&self->ctx, &self->resumer, to_resumer, self);
    }
    /* By hand (the hot path of a generator or a coroutine): the resumer's
     * fiber is this thread's current one again from here (nothing on
     * this side reads it before the switch), so the hook on the
     * resumer's side only marks us suspended once we are off our stack
     * (switched_from: a store), instead of to_resumer's general work.
     * Whoever resumes us passes 0 (no hook, or switched_from). */
    set_self(self->outer);
    return parc_ctx_switch_int(&self->ctx, &self->resumer, switched_from, self);
}

int parc_fiber_switch(parc_fiber_t *to)
{
    parc_fiber_t *self = current; /* inline: read before the switch only */
    if (self == NULL || self->pool != NULL)
        return EPERM;
    if (to == NULL || to == self)
        return EINVAL;
    if (to->pool != NULL)
        return EBUSY;
    if (!claim(to))
        return EBUSY;
    /* `to` returns to our resumer, on behalf of our resumer's fiber. */
    parc_ctx_take_over(&to->resumer, &self->resumer);
    to->outer = self->outer;
    set_self(to);
    /* Whoever resumes us passes 0 (no hook, or switched_from). */
    return parc_ctx_switch_int(&self->ctx, &to->ctx, switched_from, self);
}

/* ---- blocking declarations ------------------------------------------------- */

void parc_fiber_block_begin(void)
{
    parc_fiber_t *self = parc_fiber_self_();
    if (self == NULL || self->blocking++ > 0 || self->pool == NULL)
        return;
    /* The worker is about to be held: the fiber waiting in its runnext
     * slot goes to the pool, and the pool brings in a compensating thread
     * (parc_pool_block_begin's thread part; EPERM: not on a pool
     * thread, nothing to pair). Until the outermost end the fiber stays on this thread (see
     * hook_wait, hook_spin, parc_fiber_yield), so the end pairs with the
     * begin on the same thread, as parc_pool_block_end requires. */
    parc_fiber_sched_flush_();
    self->compensated = parc_pool_block_begin_thread_() == 0;
}

void parc_fiber_block_end(void)
{
    parc_fiber_t *self = parc_fiber_self_();
    if (self == NULL || self->blocking == 0 || --self->blocking > 0)
        return;
    if (self->compensated) {
        self->compensated = false;
        (void)parc_pool_block_end_thread_();
    }
}

unsigned parc_fiber_blocking(void)
{
    parc_fiber_t *self = parc_fiber_self_();
    return self != NULL ? self->blocking : 0;
}

/* ---- fiber-local storage --------------------------------------------------- */

int parc_fiber_key_create(parc_fiber_key_t *key, void (*destructor)(void *))
{
    if (key == NULL)
        return EINVAL;
    static parc_atomic(uint32_t) next;
    uint32_t k = parc_faa(&next, 1u, PARC_RELAXED);
    if (k >= PARC_FIBER_KEYS_MAX)
        return EAGAIN;
    key_destructors[k] = destructor;
    /* Publish the destructor before a fiber can see the key in use; pairs
     * with the acquire in run_local_destructors. Keys made concurrently
     * publish in any order, so the count only grows to cover them all. */
    uint32_t used = parc_load(&keys_used, PARC_RELAXED);
    while (used < k + 1 &&
           !parc_cas_weak(&keys_used, &used, k + 1, PARC_RELEASE, PARC_RELAXED))
        ;
    *key = k;
    return 0;
}

int parc_fiber_local_set(parc_fiber_key_t key, void *value)
{
    if (key >= parc_load(&keys_used, PARC_RELAXED))
        return EINVAL;
    parc_fiber_t *self = parc_fiber_self_();
    if (self == NULL)
        return EPERM;
    self->locals[key] = value;
    return 0;
}

void *parc_fiber_local_get(parc_fiber_key_t key)
{
    parc_fiber_t *self = parc_fiber_self_();
    if (self == NULL || key >= PARC_FIBER_KEYS_MAX)
        return NULL;
    return self->locals[key];
}
