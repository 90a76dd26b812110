/* The spin before a park (see spin_wait.h). */
#include "spin_wait.h"

#include "parc/chaos.h"
#include "parc/time.h"

#if defined(__GNUC__)
#define SPIN_TLS_MODEL __attribute__((tls_model("initial-exec")))
#else
#define SPIN_TLS_MODEL
#endif

/* A yield that returned after more than YIELD_SWITCHED_NS let another
 * thread run on our core: a sched_yield that finds nobody else runnable
 * is a system call (well under a microsecond here); one that switched
 * costs two context switches plus whatever the other thread ran. A
 * spinning partner yields back within its PARC_SPIN_YIELD_EVERY pauses
 * (~3 us in all here); a thread of other work runs up to its time slice
 * (milliseconds). So only a yield of between the two bounds says "our
 * partner, alone with us on this core": a longer one says the core is
 * shared with other work, where a park would wait behind it for a slice
 * (measured at load 15: a condition ping-pong that parked on every
 * longer yield took 2 ms per hop instead of 6 us). */
#define YIELD_SWITCHED_NS 1500
#define YIELD_PARTNER_MAX_NS 30000

/* Set when this thread's last wait ended in a yield that switched: its
 * next wait parks at once (see spin_wait.h). Per thread: it is about the
 * core this thread runs on, not about any one object. */
static _Thread_local bool park_next SPIN_TLS_MODEL;

#if defined(__GNUC__)
#define PARC_NOINLINE_SPIN_ __attribute__((noinline))
#else
#define PARC_NOINLINE_SPIN_
#endif

/* Poll `i` of a shared wait that yields: true when the wait should end
 * now (ready after a yield that handed the core to our partner; the next
 * wait then parks at once). Out of line: the clock and the chaos
 * generator would otherwise make every spin's loop save and restore
 * their registers, on the path a fiber's hand-off takes at each poll. */
static PARC_NOINLINE_SPIN_ bool partner_yield(bool (*ready)(void *arg), void *arg)
{
#ifdef PARC_CHAOS
    /* The chaos build decides by its seeded per-thread generator, not by
     * the clock: the park-at-once path is still taken (one yield in
     * eight), and a seed still replays one schedule exactly under the
     * baton (ctest stress.baton.replay). */
    parc_yield();
    bool partner_turn = parc_chaos_random() % 8 == 0;
#else
    int64_t t0 = parc_now_ns();
    parc_yield();
    int64_t took = parc_now_ns() - t0;
    bool partner_turn = took > YIELD_SWITCHED_NS && took < YIELD_PARTNER_MAX_NS;
#endif
    if (partner_turn && ready(arg)) {
        park_next = true;
        return true;
    }
    return false;
}

bool parc_spin_wait_(bool (*ready)(void *arg), void *arg, bool shared)
{
    if (shared && park_next) {
        park_next = false;
        return ready(arg);
    }
    for (unsigned i = 0; i < PARC_SPIN_POLLS; i++) {
        if (ready(arg))
            return true;
        /* relaxed: a flag set once at install; a runtime that can run
         * something else in place of this poll (fibers) decides alone. */
        if (!shared || i % PARC_SPIN_YIELD_EVERY != PARC_SPIN_YIELD_EVERY - 1 ||
            parc_load(&parc_spin_hooked_, PARC_RELAXED)) {
            parc_spin_poll(i);
            continue;
        }
        if (partner_yield(ready, arg))
            return true;
    }
    return false;
}
