/*
 * src/select_hooks.h — what parc/select.h needs from the primitives it
 * waits on, beyond their public API. Private to libparc.
 */
#ifndef PARC_SELECT_HOOKS_H
#define PARC_SELECT_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include "parc/future.h"

/* src/future.c: set f's WAITERS bit so that its completion wakes the
 * threads parked on &f->state; *seen is the value to park with. True when
 * f is already complete (then park not). */
bool parc_future_watch_(parc_future_t *f, uint32_t *seen);

#endif /* PARC_SELECT_HOOKS_H */
