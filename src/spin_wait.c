/* The spin before a park (see spin_wait.h). */
#include "spin_wait.h"

#include "parc/time.h"

#if defined(__GNUC__)
#define SPIN_TLS_MODEL __attribute__((tls_model("initial-exec")))
#else
#define SPIN_TLS_MODEL
#endif

/* A yield that returned after this long let another thread run on our
 * core: a sched_yield that finds nobody else runnable is a system call
 * (well under a microsecond here); one that switched costs two context
 * switches plus whatever the other thread ran (a partner's 31 pauses and
 * its own yield: ~3 us here). */
#define YIELD_SWITCHED_NS 1500

/* Set when this thread's last wait ended in a yield that switched: its
 * next wait parks at once (see spin_wait.h). Per thread: it is about the
 * core this thread runs on, not about any one object. */
static _Thread_local bool park_next SPIN_TLS_MODEL;

bool parc_spin_wait_(bool (*ready)(void *arg), void *arg)
{
    if (park_next) {
        park_next = false;
        return ready(arg);
    }
    for (unsigned i = 0; i < PARC_SPIN_POLLS; i++) {
        if (ready(arg))
            return true;
        /* relaxed: a flag set once at install; a runtime that can run
         * something else in place of this poll (fibers) decides alone. */
        if (i % PARC_SPIN_YIELD_EVERY != PARC_SPIN_YIELD_EVERY - 1 ||
            parc_load(&parc_spin_hooked_, PARC_RELAXED)) {
            parc_spin_poll(i);
            continue;
        }
        int64_t t0 = parc_now_ns();
        parc_yield();
        if (parc_now_ns() - t0 > YIELD_SWITCHED_NS && ready(arg)) {
            park_next = true;
            return true;
        }
    }
    return false;
}
