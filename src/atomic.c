/* parc/atomic.h: the out-of-line pieces. */
#include <sched.h>

#include "parc/atomic.h"

/* The word every fence touches in a ThreadSanitizer build (see atomic.h).
 * Defined in every build so that objects built with and without TSan link. */
parc_atomic(unsigned) parc_tsan_fence_word;

void parc_yield(void)
{
    PARC_CHAOS_POINT();
    sched_yield();
}
