/*
 * parc/impl/asymfence.h — the inline fast paths behind parc/asymfence.h.
 * Included at the bottom of parc/asymfence.h; not an API: the contracts are
 * documented there.
 */
#ifndef PARC_IMPL_ASYMFENCE_H
#define PARC_IMPL_ASYMFENCE_H

#include "parc/asymfence.h"

PARC_BEGIN_DECLS

static inline void parc_asymfence_light(bool asym)
{
    if (asym)
        parc_compiler_barrier(); /* the heavy side's membarrier does the rest */
    else
        parc_fence(PARC_SEQ_CST); /* store-load: pairs with the heavy side's
                                   * seq_cst fence */
}

PARC_END_DECLS

#endif /* PARC_IMPL_ASYMFENCE_H */
