/* src/fiber_context.h: making and switching machine contexts, with the
 * sanitizers told about every switch. */
#include "fiber_context.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#ifdef PARC_FIBER_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef PARC_FIBER_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* ---- the sanitizers' half of a switch ------------------------------------ */

static inline void before_switch(parc_ctx_t *from, parc_ctx_t *to, bool exiting)
{
#ifdef PARC_FIBER_ASAN
    /* NULL: from never comes back, so its fake stack can go. */
    __sanitizer_start_switch_fiber(exiting ? NULL : &from->asan_fake_stack,
                                   to->stack_bottom, to->stack_size);
#else
    (void)from;
    (void)exiting;
#endif
#ifdef PARC_FIBER_TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0); /* 0: the switch synchronizes */
#else
    (void)to;
#endif
}

static inline void after_switch(parc_ctx_t *self, parc_ctx_t *came_from)
{
#ifdef PARC_FIBER_ASAN
    const void *bottom;
    size_t size;
    __sanitizer_finish_switch_fiber(self->asan_fake_stack, &bottom, &size);
    /* A base context's stack is learnt here, the first time we leave it:
     * the next switch back to it names it. */
    if (came_from->is_base) {
        came_from->stack_bottom = bottom;
        came_from->stack_size = size;
    }
#else
    (void)self;
    (void)came_from;
#endif
}

static void sanitizer_make(parc_ctx_t *ctx, void *bottom, size_t size, bool base)
{
    ctx->stack_bottom = bottom;
    ctx->stack_size = size;
    ctx->asan_fake_stack = NULL;
    ctx->is_base = base;
#ifdef PARC_FIBER_TSAN
    ctx->tsan_fiber = base ? __tsan_get_current_fiber() : __tsan_create_fiber(0);
#else
    ctx->tsan_fiber = NULL;
#endif
}

#if !PARC_FIBER_CTX_INLINE
void parc_ctx_make_base(parc_ctx_t *ctx)
{
    sanitizer_make(ctx, NULL, 0, true);
}
#endif

void parc_ctx_destroy(parc_ctx_t *ctx)
{
#ifdef PARC_FIBER_TSAN
    if (!ctx->is_base && ctx->tsan_fiber != NULL)
        __tsan_destroy_fiber(ctx->tsan_fiber);
#endif
    ctx->tsan_fiber = NULL;
}

#if !PARC_FIBER_CTX_INLINE
/* The arriving side's half of an out-of-line switch: the sanitizers, then
 * the hook the other side left. */
static void *arrived(parc_ctx_t *self, parc_ctx_t *came_from)
{
    after_switch(self, came_from);
    parc_ctx_hook_fn hook = came_from->hook;
    void *arg = came_from->hook_arg;
    return hook != NULL ? hook(arg) : arg;
}

void *parc_ctx_started(parc_ctx_t *self, void *from)
{
    return arrived(self, from);
}
#endif

#ifndef PARC_FIBER_UCONTEXT
/* ---- assembly back-end ----------------------------------------------------- */

#if !PARC_FIBER_CTX_INLINE
void *parc_ctx_switch_(void **save_sp, void *to_sp, void *arg, parc_ctx_hook_fn hook);
#endif
void parc_ctx_start_(void);

int parc_ctx_make(parc_ctx_t *ctx, void *bottom, size_t size,
                  parc_ctx_entry_fn entry)
{
    uintptr_t top = ((uintptr_t)bottom + size) & ~(uintptr_t)15;
#if defined(__x86_64__)
    /* The frame src/fiber_switch_x86_64.S pops: 8 slots, the last one the
     * return address, then 8 bytes so that parc_ctx_start_ begins with a
     * 16-byte aligned stack (its call pushes the return address the entry
     * function expects at rsp % 16 == 8). */
    uint64_t *frame = (uint64_t *)(top - 16 - 64);
    memset(frame, 0, 64);
    frame[4] = (uint64_t)(uintptr_t)entry;           /* r12 */
    frame[7] = (uint64_t)(uintptr_t)parc_ctx_start_; /* return address */
    ctx->sp = frame;
#else /* __aarch64__ */
    /* The 160-byte frame src/fiber_switch_aarch64.S restores. */
    uint64_t *frame = (uint64_t *)(top - 160);
    memset(frame, 0, 160);
    frame[0] = (uint64_t)(uintptr_t)entry;           /* x19 */
    frame[11] = (uint64_t)(uintptr_t)parc_ctx_start_; /* x30 */
    ctx->sp = frame;
#endif
    sanitizer_make(ctx, bottom, size, false);
#ifdef PARC_FIBER_TSAN
    if (ctx->tsan_fiber == NULL)
        return ENOMEM;
#endif
    return 0;
}

#if !PARC_FIBER_CTX_INLINE
void *parc_ctx_switch(parc_ctx_t *from, parc_ctx_t *to, bool exiting,
                      parc_ctx_hook_fn hook, void *arg)
{
    before_switch(from, to, exiting);
    from->hook = hook;
    from->hook_arg = arg;
    /* The routine hands `from` over as is (no hook): the sanitizers' half
     * must run on the arriving side before the hook does. */
    parc_ctx_t *came_from = parc_ctx_switch_(&from->sp, to->sp, from, NULL);
    return arrived(from, came_from);
}
#endif

#else
/* ---- ucontext back-end ----------------------------------------------------- */

/* swapcontext passes nothing, so the two contexts of a switch are left
 * here for the side that resumes. A switch never crosses threads, so the
 * reader is on the writer's thread; the accessors are not inlined so that
 * a compiler never keeps a thread-local address across a switch (the
 * context may resume on another thread). */
static _Thread_local parc_ctx_t *switching_from, *switching_to;

__attribute__((noinline)) static void set_switching(parc_ctx_t *from, parc_ctx_t *to)
{
    __asm__ volatile("" ::: "memory");
    switching_from = from;
    switching_to = to;
}

__attribute__((noinline)) static parc_ctx_t *get_switching(parc_ctx_t **to)
{
    __asm__ volatile("" ::: "memory");
    *to = switching_to;
    return switching_from;
}

static void ucontext_trampoline(void)
{
    parc_ctx_t *self;
    parc_ctx_t *from = get_switching(&self);
    self->entry(from);
}

int parc_ctx_make(parc_ctx_t *ctx, void *bottom, size_t size,
                  parc_ctx_entry_fn entry)
{
    if (getcontext(&ctx->uc) != 0)
        return ENOMEM;
    ctx->uc.uc_stack.ss_sp = bottom;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL;
    makecontext(&ctx->uc, ucontext_trampoline, 0);
    sanitizer_make(ctx, bottom, size, false);
    ctx->entry = entry;
    return 0;
}

void *parc_ctx_switch(parc_ctx_t *from, parc_ctx_t *to, bool exiting,
                      parc_ctx_hook_fn hook, void *arg)
{
    before_switch(from, to, exiting);
    from->hook = hook;
    from->hook_arg = arg;
    set_switching(from, to);
    swapcontext(&from->uc, &to->uc);
    parc_ctx_t *self;
    parc_ctx_t *came_from = get_switching(&self);
    return arrived(from, came_from);
}
#endif
