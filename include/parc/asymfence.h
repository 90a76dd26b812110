/*
 * parc/asymfence.h — an asymmetric store-load barrier (layer 1).
 *
 * After Dice, Lev & Moir's asymmetric Dekker synchronization and the
 * Linux membarrier(2) system call (also liburcu's urcu-membarrier and
 * folly's asymmetricHeavyBarrier). The light side is a compiler barrier;
 * the heavy side forces a full memory barrier on every running thread of
 * the process, so a light-side "store A; light; load B" and a heavy-side
 * "store B; heavy; load A" cannot both miss the other's store. `asym`
 * comes from parc_asym_available(); when false both sides are seq_cst
 * fences. Used by the rings (parc/spsc.h, parc/mpmc.h) so that a push or
 * pop pays no fence to keep a sleeping peer's wake-up from being lost.
 */
#ifndef PARC_ASYMFENCE_H
#define PARC_ASYMFENCE_H

#include <stdbool.h>

#include "parc/atomic.h"


/* True when the heavy side can use membarrier (registered once per
 * process on first call). False in ThreadSanitizer builds. Any thread. */
PARC_API bool parc_asym_available(void);

/* Light side: order the caller's earlier store before its next load, with
 * the heavy side's help. */
static inline void parc_asym_light_fence(bool asym)
{
    if (asym)
        parc_compiler_barrier(); /* the heavy side's membarrier does the rest */
    else
        parc_fence(PARC_SEQ_CST); /* store-load: pairs with the heavy side's
                                   * seq_cst fence */
}

/* Heavy side: a full barrier on this thread and, when `asym`, on every
 * running thread of the process. Any thread; may enter the kernel. */
PARC_API void parc_asym_heavy_fence(bool asym);

#endif /* PARC_ASYMFENCE_H */
