/*
 * parc/asymfence.h — an asymmetric store-load barrier (layer 1).
 *
 * After Dice, Lev & Moir's asymmetric Dekker synchronization and the
 * Linux membarrier(2) system call (also liburcu's urcu-membarrier and
 * folly's asymmetricHeavyBarrier). The light side is a compiler barrier;
 * the heavy side forces a full memory barrier on every running thread of
 * the process, so a light-side "store A; light; load B" and a heavy-side
 * "store B; heavy; load A" cannot both miss the other's store. `asym`
 * comes from parc_asymfence_available(); when false both sides are seq_cst
 * fences. Used by the rings (parc/spsc.h, parc/mpmc.h) so that a push or
 * pop pays no fence to keep a sleeping peer's wake-up from being lost.
 */
#ifndef PARC_ASYMFENCE_H
#define PARC_ASYMFENCE_H

#include <stdbool.h>

#include "parc/api.h"
#include "parc/atomic.h"

PARC_BEGIN_DECLS

/** True when the heavy side can use membarrier (registered once per
 * process on first call, which enters the kernel). False in
 * ThreadSanitizer builds. Any thread; never blocks. */
PARC_API bool parc_asymfence_available(void);

/** Light side: order the caller's earlier store before its next load, with
 * the heavy side's help; `asym` is parc_asymfence_available()'s answer.
 * Any thread; never blocks (a compiler barrier, or a seq_cst fence). */
static inline void parc_asymfence_light(bool asym);

/** Heavy side: a full barrier on this thread and, when `asym`, on every
 * running thread of the process. Any thread; does not block on other
 * threads, but enters the kernel (membarrier), which takes microseconds. */
PARC_API void parc_asymfence_heavy(bool asym);

PARC_END_DECLS

#include "parc/impl/asymfence.h"

#endif /* PARC_ASYMFENCE_H */
