/*
 * src/fiber_context.h — the machine context under parc's fibers (private).
 *
 * A context is a suspended stack. Two implementations:
 *   assembly  x86-64 SysV and AArch64 AAPCS64 on ELF targets
 *             (src/fiber_switch_*.S): the callee-saved registers pushed
 *             on the stack being left, one stack pointer stored; a switch
 *             costs a few nanoseconds and no system call.
 *   ucontext  everywhere else (or with -DPARC_FIBER_UCONTEXT):
 *             getcontext/makecontext/swapcontext, which also save and
 *             restore the signal mask with a system call per switch.
 *
 * parc_ctx_switch() also tells the sanitizers: AddressSanitizer must know
 * which stack is current (__sanitizer_start_switch_fiber /
 * __sanitizer_finish_switch_fiber), or it reports the frames of the stack
 * being entered as stack-buffer overflows and mishandles fake stacks;
 * ThreadSanitizer keeps a shadow call stack and a clock per fiber
 * (__tsan_create_fiber / __tsan_switch_to_fiber / __tsan_destroy_fiber),
 * and a switch synchronizes the two sides (flag 0), as a resume and its
 * yield do.
 */
#ifndef PARC_SRC_FIBER_CONTEXT_H
#define PARC_SRC_FIBER_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#if !defined(PARC_FIBER_UCONTEXT) && \
    !((defined(__x86_64__) || defined(__aarch64__)) && defined(__ELF__))
#define PARC_FIBER_UCONTEXT 1
#endif

#ifdef PARC_FIBER_UCONTEXT
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define PARC_FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PARC_FIBER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define PARC_FIBER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PARC_FIBER_TSAN 1
#endif
#endif

/* One suspended (or running) execution context: a fiber's own, or the
 * base context of a thread (or fiber) that resumed one. */
typedef struct parc_ctx {
#ifdef PARC_FIBER_UCONTEXT
    ucontext_t uc;
    void (*entry)(void *from);  /* run at the first switch */
#else
    void *sp;                   /* saved stack pointer while suspended */
#endif
    /* Its stack, for AddressSanitizer: known for a fiber; for a base
     * context learnt at the first switch away from it. */
    const void *stack_bottom;
    size_t stack_size;
    void *asan_fake_stack;      /* ASan's fake frames while suspended */
    void *tsan_fiber;           /* ThreadSanitizer's fiber of this context */
    bool is_base;               /* a thread's (or resumer's) own stack */
} parc_ctx_t;

/* Entry of a new context: receives the context that switched to it first
 * (pass it to parc_ctx_started); must never return. */
typedef void (*parc_ctx_entry_fn)(void *from);

/* Prepare `ctx` to run entry() on the stack [bottom, bottom + size) at its
 * first switch. Creates its ThreadSanitizer fiber. Returns 0 or ENOMEM. */
int parc_ctx_make(parc_ctx_t *ctx, void *bottom, size_t size,
                  parc_ctx_entry_fn entry);

/* Release what parc_ctx_make created (the ThreadSanitizer fiber). Never
 * on the current context. */
void parc_ctx_destroy(parc_ctx_t *ctx);

#if defined(PARC_FIBER_ASAN) || defined(PARC_FIBER_TSAN) || defined(PARC_FIBER_UCONTEXT)
#define PARC_FIBER_CTX_INLINE 0
/* Prepare `ctx` as the base context of the calling thread or fiber (the
 * place a resumed fiber comes back to). */
void parc_ctx_make_base(parc_ctx_t *ctx);

/* Suspend `from` (the current context) and run `to`; returns, in `from`,
 * the context that switched back to it. `exiting`: from never runs again
 * (AddressSanitizer drops its fake stack; nothing returns). */
parc_ctx_t *parc_ctx_switch(parc_ctx_t *from, parc_ctx_t *to, bool exiting);
#else
/* Without a sanitizer to tell, a switch is the assembly routine alone and
 * a base context needs only its flag: both inline, so that a resume or a
 * yield costs the register save and restore and nearly nothing else. */
#define PARC_FIBER_CTX_INLINE 1
void *parc_ctx_switch_(void **save_sp, void *to_sp, void *transfer);

static inline void parc_ctx_make_base(parc_ctx_t *ctx)
{
    ctx->is_base = true;
}

static inline parc_ctx_t *parc_ctx_switch(parc_ctx_t *from, parc_ctx_t *to, bool exiting)
{
    (void)exiting;
    return (parc_ctx_t *)parc_ctx_switch_(&from->sp, to->sp, from);
}
#endif

/* First thing entry() calls with its argument: completes the switch that
 * started it (the sanitizers' half of it) and returns that context. */
parc_ctx_t *parc_ctx_started(parc_ctx_t *self, void *from);

#endif /* PARC_SRC_FIBER_CONTEXT_H */
