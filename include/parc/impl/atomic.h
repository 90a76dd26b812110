/*
 * parc/impl/atomic.h — the inline bodies behind parc/atomic.h. Included at
 * the bottom of parc/atomic.h; not an API: read parc/atomic.h instead.
 */
#ifndef PARC_IMPL_ATOMIC_H
#define PARC_IMPL_ATOMIC_H

#include "parc/atomic.h"

PARC_BEGIN_DECLS

/* The word every fence touches in a ThreadSanitizer build (parc_fence);
 * exported in every build so that code built with TSan links against a
 * library built without it. */
PARC_API extern parc_atomic(unsigned) parc_tsan_fence_word;

static inline void parc_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    parc_compiler_barrier();
#endif
}

static inline void parc_backoff_reset(parc_backoff_t *b)
{
    b->iterations = PARC_BACKOFF_MIN;
}

static inline bool parc_backoff_spinning(const parc_backoff_t *b)
{
    return b->iterations < PARC_BACKOFF_MAX;
}

static inline void parc_backoff_spin(parc_backoff_t *b)
{
    if (b->iterations >= PARC_BACKOFF_MAX) {
        parc_yield();
        return;
    }
    for (uint32_t i = 0; i < b->iterations; i++)
        parc_cpu_relax();
    b->iterations <<= 1;
}

/* Nonzero once a runtime that can run something else in place of a
 * spinning caller (the fiber scheduler, src/park_hook.h) is installed:
 * then every poll asks it first (parc_spin_poll_hook_, out of line; true:
 * it handled the poll). A spinning fiber must not PAUSE while the fiber
 * it waits for is runnable on its own worker: each PAUSE only delays it. */
PARC_API extern parc_atomic(unsigned) parc_spin_hooked_;
PARC_API bool parc_spin_poll_hook_(unsigned i);

static inline void parc_spin_poll(unsigned i)
{
    if (parc_load(&parc_spin_hooked_, PARC_RELAXED) && parc_spin_poll_hook_(i))
        return;
    if (i % PARC_SPIN_YIELD_EVERY == PARC_SPIN_YIELD_EVERY - 1)
        parc_yield();
    else
        parc_cpu_relax();
}

PARC_END_DECLS

#endif /* PARC_IMPL_ATOMIC_H */
