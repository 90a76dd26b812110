/*
 * parc/impl/queue.h — the pieces of PARC_QUEUE_INIT that name the queue's
 * private state. Included at the bottom of parc/queue.h; not an API: the
 * contracts are documented there.
 */
#ifndef PARC_IMPL_QUEUE_H
#define PARC_IMPL_QUEUE_H

#include "parc/queue.h"

/* An empty parc_queue_waiters_t. */
#define PARC_QUEUE_WAITERS_INIT_ { 0u, 0u, 0u }
/* last_index while the seqlock'd copy of the newest item is rewritten (and
 * before any put): no index the ring can reach. */
#define PARC_QUEUE_BUSY_ SIZE_MAX

#endif /* PARC_IMPL_QUEUE_H */
