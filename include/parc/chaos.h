/*
 * parc/chaos.h — chaos points: random scheduling noise for stress runs
 * (layer 0).
 *
 * A chaos point is a place where a thread may be preempted in a way that
 * matters: every atomic operation (parc/atomic.h) and every park
 * (parc/park.h). In a normal build PARC_CHAOS_POINT() compiles to nothing.
 * In a PARC_CHAOS build (cmake -DPARC_CHAOS=ON) each point asks the chaos
 * engine whether to yield, spin or sleep briefly, so that two cores explore
 * interleavings that would otherwise need many.
 *
 * Reproducibility: each thread draws its decisions from its own xorshift
 * generator, seeded from (global seed, thread index). The global seed comes
 * from parc_chaos_set_seed() or, failing that, the PARC_CHAOS_SEED
 * environment variable, or else the clock; a printed seed plus the same
 * thread indices (parc_chaos_thread_begin) reproduce every thread's sequence
 * of decisions. The OS still interleaves the threads, so a free-running
 * chaos run is not replayed exactly; the stress harness's serialized
 * ("baton") mode installs hooks (parc_chaos_set_hooks) that run one thread
 * at a time and choose the next one at each point, which is.
 *
 * The functions below exist in every build, so code that drives chaos links
 * everywhere; in a build without PARC_CHAOS the library never calls them.
 */
#ifndef PARC_CHAOS_H
#define PARC_CHAOS_H

#include "parc/api.h"

#include <stdbool.h>
#include <stdint.h>

#include "parc/config.h"

#ifdef PARC_CHAOS
#define PARC_CHAOS_POINT() parc_chaos_point()
#else
#define PARC_CHAOS_POINT() ((void)0)
#endif

/* True when the library was built with chaos points (PARC_CHAOS). */
PARC_API bool parc_chaos_compiled(void);

/* Pass one chaos point: run the installed hook, or else the default
 * random yield/spin/sleep. Any thread. May yield or sleep (microseconds). */
PARC_API void parc_chaos_point(void);

/* Set the global seed. Threads that call parc_chaos_thread_begin() after
 * this derive their generators from it. Any thread; never blocks. */
PARC_API void parc_chaos_set_seed(uint64_t seed);

/* The global seed in force (read from PARC_CHAOS_SEED or the clock on first
 * use when never set). Any thread; never blocks. */
PARC_API uint64_t parc_chaos_seed(void);

/* Give the calling thread the stable index `index` and reseed its generator
 * from (global seed, index). A thread that never calls it gets the next free
 * index on its first chaos point. Any thread; never blocks. */
PARC_API void parc_chaos_thread_begin(unsigned index);

/* The calling thread's chaos index (assigning one if needed). */
PARC_API unsigned parc_chaos_thread_index(void);

/* Next value of the calling thread's generator (xorshift64*). Never 0. */
PARC_API uint64_t parc_chaos_random(void);

/*
 * Hooks for a scheduler that takes over chaos points (the stress harness's
 * baton mode). `point` replaces the default noise at every chaos point;
 * `block` is called just before a thread parks in the kernel (it will not
 * run until woken) and `unblock` right after it returns from the park.
 * Any member may be NULL. Pass NULL to restore the defaults. Install hooks
 * only while no other thread is passing chaos points.
 */
typedef struct parc_chaos_hooks {
    void (*point)(void *ctx);
    void (*block)(void *ctx);
    void (*unblock)(void *ctx);
    void *ctx;
} parc_chaos_hooks_t;

/* Install `hooks` (kept by pointer: the table must outlive its use), or
 * restore the defaults with NULL (see above). */
PARC_API void parc_chaos_set_hooks(const parc_chaos_hooks_t *hooks);

/* Called by parc's parking code around a kernel wait (chaos builds only). */
PARC_API void parc_chaos_block(void);
PARC_API void parc_chaos_unblock(void);

#endif /* PARC_CHAOS_H */
