/*
 * parc/chaos.h: the chaos engine.
 *
 * Uses only parc_raw_* atomics: a chaos point inside the engine would
 * recurse.
 */
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "parc/atomic.h"
#include "parc/chaos.h"

static parc_atomic(uint64_t) global_seed;       /* 0 = not chosen yet */
static parc_atomic(unsigned) next_index;        /* auto-assigned indices */
static parc_atomic(const parc_chaos_hooks_t *) hooks;

typedef struct chaos_thread {
    bool started;
    unsigned index;
    uint64_t state;
} chaos_thread_t;

static _Thread_local chaos_thread_t self;

static uint64_t splitmix64(uint64_t x)
{
    x += UINT64_C(0x9E3779B97F4A7C15);
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

bool parc_chaos_compiled(void)
{
#ifdef PARC_CHAOS
    return true;
#else
    return false;
#endif
}

void parc_chaos_set_seed(uint64_t seed)
{
    if (seed == 0)
        seed = 1; /* 0 means "unset" */
    /* release: pairs with the acquire in parc_chaos_seed(), so a thread that
     * sees the seed also sees whatever the setter prepared before it. */
    parc_raw_store(&global_seed, seed, PARC_RELEASE);
}

uint64_t parc_chaos_seed(void)
{
    /* acquire: pairs with the release store in parc_chaos_set_seed(). */
    uint64_t seed = parc_raw_load(&global_seed, PARC_ACQUIRE);
    if (seed != 0)
        return seed;
    const char *env = getenv("PARC_CHAOS_SEED");
    uint64_t chosen = env ? strtoull(env, NULL, 0) : 0;
    if (chosen == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        chosen = splitmix64((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    }
    if (chosen == 0)
        chosen = 1;
    /* Racing first callers agree on one seed: the first CAS wins.
     * acq_rel/acquire: as for set_seed/seed above. */
    if (!parc_raw_cas(&global_seed, &seed, chosen, PARC_ACQ_REL, PARC_ACQUIRE))
        return seed;
    return chosen;
}

void parc_chaos_thread_begin(unsigned index)
{
    self.started = true;
    self.index = index;
    self.state = splitmix64(parc_chaos_seed() ^ splitmix64(index + 1u));
    if (self.state == 0)
        self.state = 1;
}

static chaos_thread_t *me(void)
{
    if (!self.started)
        /* relaxed: only uniqueness of the index matters */
        parc_chaos_thread_begin(parc_raw_faa(&next_index, 1u, PARC_RELAXED) + 1000u);
    return &self;
}

unsigned parc_chaos_thread_index(void)
{
    return me()->index;
}

uint64_t parc_chaos_random(void)
{
    chaos_thread_t *t = me();
    /* xorshift64* (Vigna 2016) */
    uint64_t x = t->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    t->state = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

void parc_chaos_set_hooks(const parc_chaos_hooks_t *h)
{
    /* release: the hook table's contents are visible to every thread that
     * loads the pointer (acquire in the chaos functions below). */
    parc_raw_store(&hooks, h, PARC_RELEASE);
}

static const parc_chaos_hooks_t *current_hooks(void)
{
    /* acquire: pairs with the release store in parc_chaos_set_hooks(). */
    return parc_raw_load(&hooks, PARC_ACQUIRE);
}

/* Default noise: mostly nothing, sometimes a yield, a short spin, rarely a
 * sleep long enough for the other core to run a whole operation. */
static void default_noise(void)
{
    uint64_t r = parc_chaos_random();
    unsigned pick = (unsigned)(r & 1023u);
    if (pick < 48) {
        sched_yield();
    } else if (pick < 96) {
        unsigned spins = (unsigned)((r >> 10) & 255u);
        for (unsigned i = 0; i < spins; i++)
            parc_cpu_relax();
    } else if (pick < 99) {
        struct timespec ts = { 0, (long)((r >> 20) % 50000u) };
        nanosleep(&ts, NULL);
    }
}

void parc_chaos_point(void)
{
    const parc_chaos_hooks_t *h = current_hooks();
    if (h != NULL && h->point != NULL)
        h->point(h->ctx);
    else if (h == NULL)
        default_noise();
}

void parc_chaos_block(void)
{
    const parc_chaos_hooks_t *h = current_hooks();
    if (h != NULL && h->block != NULL)
        h->block(h->ctx);
}

void parc_chaos_unblock(void)
{
    const parc_chaos_hooks_t *h = current_hooks();
    if (h != NULL && h->unblock != NULL)
        h->unblock(h->ctx);
}
