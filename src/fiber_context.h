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
#include <stdint.h>

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

/* What the side that gains control runs first, on its own stack, before
 * its switch call returns (or, for a new context, before its entry
 * function): chosen by the side that switches away, so that it acts on
 * a context that is already off its stack (marks a yielded fiber
 * resumable, resubmits it, unlocks the bucket it parked in, frees it).
 * Its result is what that switch call returns. */
typedef void *(*parc_ctx_hook_fn)(void *arg);

/* One suspended (or running) execution context: a fiber's own, or the
 * base context of a thread (or fiber) that resumed one. */
typedef struct parc_ctx {
#ifdef PARC_FIBER_UCONTEXT
    ucontext_t uc;
    void (*entry)(void *from);  /* run at the first switch */
#else
    void *sp;                   /* saved stack pointer while suspended */
#endif
    /* The hook and argument this context left for the side it switched
     * to (the out-of-line switch; the inline one passes them in
     * registers). */
    parc_ctx_hook_fn hook;
    void *hook_arg;
    /* Its stack, for AddressSanitizer: known for a fiber; for a base
     * context learnt at the first switch away from it. */
    const void *stack_bottom;
    size_t stack_size;
    void *asan_fake_stack;      /* ASan's fake frames while suspended */
    void *tsan_fiber;           /* ThreadSanitizer's fiber of this context */
    bool is_base;               /* a thread's (or resumer's) own stack */
} parc_ctx_t;

/* Entry of a new context: receives what parc_ctx_started needs (pass it
 * on); must never return. */
typedef void (*parc_ctx_entry_fn)(void *from);

/* Prepare `ctx` to run entry() on the stack [bottom, bottom + size) at its
 * first switch. Creates its ThreadSanitizer fiber. Returns 0 or ENOMEM. */
int parc_ctx_make(parc_ctx_t *ctx, void *bottom, size_t size,
                  parc_ctx_entry_fn entry);

/* Release what parc_ctx_make created (the ThreadSanitizer fiber). Never
 * on the current context. */
void parc_ctx_destroy(parc_ctx_t *ctx);

/* The switch:
 *   parc_ctx_switch(from, to, exiting, hook, arg)
 * suspends `from` (the current context) and runs `to`; on `to`'s side,
 * hook(arg) runs first (hook NULL: nothing, the result is arg) and its
 * result is the value `to`'s pending parc_ctx_switch returns (or the
 * value its entry's parc_ctx_started returns). `exiting`: from never
 * runs again (AddressSanitizer drops its fake stack). */
#if defined(PARC_FIBER_ASAN) || defined(PARC_FIBER_TSAN) || defined(PARC_FIBER_UCONTEXT)
#define PARC_FIBER_CTX_INLINE 0
/* Prepare `ctx` as the base context of the calling thread or fiber (the
 * place a resumed fiber comes back to). */
void parc_ctx_make_base(parc_ctx_t *ctx);

void *parc_ctx_switch(parc_ctx_t *from, parc_ctx_t *to, bool exiting,
                      parc_ctx_hook_fn hook, void *arg);

/* First thing entry() calls with its argument: completes the switch that
 * started it (the sanitizers' half of it, the hook) and returns the
 * hook's result. */
void *parc_ctx_started(parc_ctx_t *self, void *from);
#else
/* Without a sanitizer to tell, a switch is the assembly routine alone
 * (which calls the hook itself) and a base context needs only its flag:
 * both inline, so that a resume or a yield costs the register save and
 * restore and nearly nothing else, and a function that ends with a
 * switch compiles to a tail jump into it (no return after the switch,
 * whose prediction would always miss). */
#define PARC_FIBER_CTX_INLINE 1
void *parc_ctx_switch_(void **save_sp, void *to_sp, void *arg, parc_ctx_hook_fn hook);

static inline void parc_ctx_make_base(parc_ctx_t *ctx)
{
    ctx->is_base = true;
}

static inline void *parc_ctx_switch(parc_ctx_t *from, parc_ctx_t *to, bool exiting,
                                    parc_ctx_hook_fn hook, void *arg)
{
    (void)exiting;
    return parc_ctx_switch_(&from->sp, to->sp, arg, hook);
}

static inline void *parc_ctx_started(parc_ctx_t *self, void *from)
{
    (void)self;
    return from;
}

/* The same routine for a switch whose result is a small int (the hook's
 * void * result carries it): declared with int's type, so that a
 * function returning it jumps into the routine instead of calling it. */
int parc_ctx_switch_int_(void **save_sp, void *to_sp, void *arg, parc_ctx_hook_fn hook)
    __asm__("parc_ctx_switch_");

static inline int parc_ctx_switch_int(parc_ctx_t *from, parc_ctx_t *to,
                                      parc_ctx_hook_fn hook, void *arg)
{
    return parc_ctx_switch_int_(&from->sp, to->sp, arg, hook);
}
#endif

/* Make dst stand for the suspended context src (a fiber that takes over
 * another's resumer). Inline switches read only the stack pointer of a
 * base context; the sanitizers' switch needs its stack bounds and fibers
 * too, so the whole record is copied there. */
static inline void parc_ctx_take_over(parc_ctx_t *dst, const parc_ctx_t *src)
{
#if PARC_FIBER_CTX_INLINE
    dst->sp = src->sp;
    dst->is_base = src->is_base;
#else
    *dst = *src;
#endif
}

#if !PARC_FIBER_CTX_INLINE
static inline int parc_ctx_switch_int(parc_ctx_t *from, parc_ctx_t *to,
                                      parc_ctx_hook_fn hook, void *arg)
{
    return (int)(intptr_t)parc_ctx_switch(from, to, false, hook, arg);
}
#endif

#endif /* PARC_SRC_FIBER_CONTEXT_H */
