/* Private to src/pool*.c: what the data-parallel calls need from the core. */
#ifndef PARC_POOL_INTERNAL_H
#define PARC_POOL_INTERNAL_H

#include "parc/pool.h"

/* Hand a future (heap or caller storage) to the pool: on the calling
 * worker's deque when the caller is one of p's workers, else on the
 * injection queue. A caller-storage future must stay alive until it is
 * complete; the pool never touches it after completing it. Returns 0,
 * EPIPE (closed for outside callers, or terminated) or ENOMEM. */
int parc_pool_push_(parc_pool_t *p, parc_future_t *f);

/* When the calling thread is a worker of p, run one other task and return
 * true; false when it ran nothing (or is not p's worker). */
bool parc_pool_help_(parc_pool_t *p);

#endif
