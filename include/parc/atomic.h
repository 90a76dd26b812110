/*
 * parc/atomic.h — the one seam between parc and the memory model (layer 0).
 *
 * Every atomic access in parc goes through these wrappers; nothing else in
 * the project includes <stdatomic.h>. The seam exists for three reasons
 * (Concurrency Kit's ck_pr and Pony's PONY_ATOMIC follow the same idea):
 *
 *   1. Chaos: in a PARC_CHAOS build every wrapper first passes
 *      PARC_CHAOS_POINT(), where the chaos engine (parc/chaos.h) may yield,
 *      spin or sleep, widening the interleavings a stress run explores.
 *   2. ThreadSanitizer does not model standalone fences and reports false
 *      races around them. In a TSan build parc_fence() becomes a
 *      read-modify-write of the same order on one process-wide word, which
 *      TSan does understand. That over-synchronises (every fence pairs with
 *      every later fence), so it can hide a race but never invents one.
 *   3. A model checker can stand in for the hardware by redefining these
 *      macros.
 *
 * Every wrapper takes an explicit memory order; there are no defaults.
 * Callers comment what each acquire/release publishes and what it pairs with.
 *
 * Also here: cache-line padding, parc_cpu_relax() and a bounded exponential
 * backoff, because every spinning path in parc needs them.
 *
 * Threads: all of it may be used from any thread. Nothing here blocks except
 * parc_backoff_spin(), which may yield the processor (sched_yield) once its
 * spinning budget is spent.
 */
#ifndef PARC_ATOMIC_H
#define PARC_ATOMIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parc/chaos.h"

/* ---- memory orders -------------------------------------------------- */

#define PARC_RELAXED memory_order_relaxed
#define PARC_ACQUIRE memory_order_acquire
#define PARC_RELEASE memory_order_release
#define PARC_ACQ_REL memory_order_acq_rel
#define PARC_SEQ_CST memory_order_seq_cst

/* ---- typed atomics and operations ------------------------------------ */

/* parc_atomic(T): an atomic object of type T (declaration helper). */
#define parc_atomic(T) _Atomic(T)

/* Initialise an atomic that no other thread can see yet (no ordering). */
#define parc_atomic_init(p, v) atomic_init((p), (v))

/* Each operation passes a chaos point first (a no-op unless PARC_CHAOS). */
#define parc_load(p, mo) \
    (PARC_CHAOS_POINT(), atomic_load_explicit((p), (mo)))
#define parc_store(p, v, mo) \
    (PARC_CHAOS_POINT(), atomic_store_explicit((p), (v), (mo)))
#define parc_xchg(p, v, mo) \
    (PARC_CHAOS_POINT(), atomic_exchange_explicit((p), (v), (mo)))
/* Strong compare-exchange: *expected is updated with the value seen on
 * failure; evaluates to true on success. */
#define parc_cas(p, expected, desired, mo_ok, mo_fail)                     \
    (PARC_CHAOS_POINT(),                                                   \
     atomic_compare_exchange_strong_explicit((p), (expected), (desired),   \
                                             (mo_ok), (mo_fail)))
/* Weak compare-exchange: may fail spuriously; use in retry loops. */
#define parc_cas_weak(p, expected, desired, mo_ok, mo_fail)                \
    (PARC_CHAOS_POINT(),                                                   \
     atomic_compare_exchange_weak_explicit((p), (expected), (desired),     \
                                           (mo_ok), (mo_fail)))
/* Fetch-and-op: evaluate to the value before the operation. */
#define parc_faa(p, v, mo) \
    (PARC_CHAOS_POINT(), atomic_fetch_add_explicit((p), (v), (mo)))
#define parc_fas(p, v, mo) \
    (PARC_CHAOS_POINT(), atomic_fetch_sub_explicit((p), (v), (mo)))
#define parc_for(p, v, mo) \
    (PARC_CHAOS_POINT(), atomic_fetch_or_explicit((p), (v), (mo)))
#define parc_fand(p, v, mo) \
    (PARC_CHAOS_POINT(), atomic_fetch_and_explicit((p), (v), (mo)))

/* The same operations without a chaos point, for the few places that must
 * not reschedule: the chaos engine itself and the stress harness's own
 * bookkeeping (a chaos point there would recurse or perturb the measure). */
#define parc_raw_load(p, mo) atomic_load_explicit((p), (mo))
#define parc_raw_store(p, v, mo) atomic_store_explicit((p), (v), (mo))
#define parc_raw_xchg(p, v, mo) atomic_exchange_explicit((p), (v), (mo))
#define parc_raw_faa(p, v, mo) atomic_fetch_add_explicit((p), (v), (mo))
#define parc_raw_cas(p, expected, desired, mo_ok, mo_fail)                 \
    atomic_compare_exchange_strong_explicit((p), (expected), (desired),   \
                                            (mo_ok), (mo_fail))

/* ---- fences ----------------------------------------------------------- */

#if defined(__SANITIZE_THREAD__)
#define PARC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PARC_TSAN 1
#endif
#endif

#ifdef PARC_TSAN
/* TSan build: a fence becomes an RMW of the same order on one shared word,
 * which TSan models as acquire/release synchronisation. */
PARC_API extern _Atomic(unsigned) parc_tsan_fence_word;
#define parc_fence(mo) \
    ((void)(PARC_CHAOS_POINT(), \
            atomic_fetch_add_explicit(&parc_tsan_fence_word, 0u, (mo))))
#else
#define parc_fence(mo) \
    (PARC_CHAOS_POINT(), atomic_thread_fence(mo))
#endif

/* Compiler-only barrier: orders the compiler, not the processor. */
#define parc_compiler_barrier() atomic_signal_fence(memory_order_seq_cst)

/* ---- cache lines -------------------------------------------------------- */

/* Both x86-64 and arm64 (Neoverse, Apple aside) use 64-byte lines. x86's
 * adjacent-line prefetcher can pair lines, but padding to 128 bytes doubles
 * every padded structure for a small gain; parc pads to one line. */
#define PARC_CACHELINE 64

/* Put a field that other threads write on its own cache line. */
#define PARC_CACHE_ALIGNED _Alignas(PARC_CACHELINE)

/* Explicit padding member: PARC_PAD(name, bytes_already_used). */
#define PARC_PAD(name, used) char name[PARC_CACHELINE - ((used) % PARC_CACHELINE)]

/* ---- spinning ----------------------------------------------------------- */

/* Tell the processor we are in a spin-wait loop: x86 PAUSE, arm64 YIELD. */
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

/*
 * Bounded exponential backoff. Each call to parc_backoff_spin() relaxes the
 * CPU for the current number of iterations, then doubles it up to
 * PARC_BACKOFF_MAX. Once the cap is reached further calls yield the
 * processor instead: on an oversubscribed machine the thread we wait for
 * may need our core.
 *
 * Usage:  parc_backoff_t b = PARC_BACKOFF_INIT;
 *         while (!ready()) parc_backoff_spin(&b);
 */
typedef struct parc_backoff {
    uint32_t iterations;
} parc_backoff_t;

#define PARC_BACKOFF_MIN 1u
#define PARC_BACKOFF_MAX 1024u
#define PARC_BACKOFF_INIT { PARC_BACKOFF_MIN }

/* Start over from the shortest spin (after progress was made). */
static inline void parc_backoff_reset(parc_backoff_t *b)
{
    b->iterations = PARC_BACKOFF_MIN;
}

/* True while the backoff still spins rather than yields. */
static inline bool parc_backoff_spinning(const parc_backoff_t *b)
{
    return b->iterations < PARC_BACKOFF_MAX;
}

/* Defined in src/atomic.c: sched_yield() behind a chaos point. */
PARC_API void parc_yield(void);

/* Wait once: spin b->iterations pauses and double them, or yield the
 * processor once the spin has reached PARC_BACKOFF_MAX. Never blocks. */
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

/*
 * How long a blocking path spins before it parks, in parc_cpu_relax() polls.
 * A cross-core wake-up from futex sleep costs about 45 us on the virtual
 * machines parc is developed on, a cache-line round trip about 0.1 us, and
 * one PAUSE about 25 ns (AMD EPYC; ~40 ns on recent Intel, a few ns on old
 * Intel). 1000 polls spin for about half a wake-up's cost here: a hand-off
 * between running threads is caught without sleeping, and spinning in
 * vain costs at most ~1.5x what blocking at once would have (the classic
 * competitive-spinning bound), while an idle waiter stops burning its core
 * after ~25 us.
 */
#define PARC_SPIN_POLLS 1000u

/* A spinning waiter yields the processor once every this many polls (see
 * parc_ec_await): cheap when the partner runs on another core, decisive
 * when it waits for our core. */
#define PARC_SPIN_YIELD_EVERY 32u

/* Poll number `i` of a bounded spin before parking: a PAUSE, but every
 * PARC_SPIN_YIELD_EVERY-th poll gives the processor away. When threads
 * outnumber cores the thread we wait for is often not running, and a
 * futex sleep and wake-up (~45 us plus a system call on the waker's side)
 * costs far more than a yield that lets it run now; with a core each, a
 * yield returns at once. */
static inline void parc_spin_poll(unsigned i)
{
    if (i % PARC_SPIN_YIELD_EVERY == PARC_SPIN_YIELD_EVERY - 1)
        parc_yield();
    else
        parc_cpu_relax();
}

#endif /* PARC_ATOMIC_H */
