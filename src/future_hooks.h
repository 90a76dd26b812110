/*
 * src/future_hooks.h — taking a thread's future hooks out while a fiber
 * runs on it (private; src/future.c and src/fiber.c).
 *
 * A pool worker installs help and join hooks (parc/future.h) so that a
 * task waiting on a future runs other tasks meanwhile. A spawned fiber
 * must not: it parks instead (its worker runs the other tasks anyway), it
 * would run those tasks on its own small stack, and after a park it may
 * continue on another worker while the hooks it read name the first one.
 * The fiber runtime takes the hooks out around each run of a spawned
 * fiber and puts them back afterwards.
 */
#ifndef PARC_SRC_FUTURE_HOOKS_H
#define PARC_SRC_FUTURE_HOOKS_H

#include "parc/future.h"

typedef struct parc_future_hooks {
    parc_future_help_fn help;
    void *help_ctx;
    parc_future_join_fn join;
    void *join_ctx;
} parc_future_hooks_t;

/* Move the calling thread's hooks into *saved and clear them. */
void parc_future_hooks_take(parc_future_hooks_t *saved);

/* Reinstall hooks taken by parc_future_hooks_take. */
void parc_future_hooks_put(const parc_future_hooks_t *saved);

#endif /* PARC_SRC_FUTURE_HOOKS_H */
