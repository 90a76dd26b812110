/*
 * src/fiber_stack.h — fiber stacks from a pool (private).
 *
 * A stack is anonymous memory mapped with MAP_NORESERVE: the kernel
 * commits a page only when the fiber first touches it, so a 64 KiB stack
 * of which a fiber uses 3 KiB costs one page. A guarded stack has one
 * PROT_NONE page below it (stacks grow down on every architecture parc
 * switches on): running off the bottom faults at once instead of writing
 * into a neighbour. Freed stacks are kept per size for reuse (up to a
 * bound; the rest is unmapped), so creating a fiber is usually a list pop.
 *
 * Guard pages cost a memory mapping each: Linux allows vm.max_map_count
 * (65530 by default) mappings per process, and each guarded stack takes
 * two (the guard splits the region), so about 30,000 guarded stacks can
 * live at once. Unguarded stacks (PARC_FIBER_UNGUARDED) are carved 64 at a
 * time out of one mapping and are recycled, never unmapped: the way to a
 * million fibers.
 */
#ifndef PARC_SRC_FIBER_STACK_H
#define PARC_SRC_FIBER_STACK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct parc_fiber_stack {
    void *bottom;     /* lowest usable byte */
    size_t size;      /* usable bytes, a multiple of the page size */
    bool guarded;     /* a PROT_NONE page lies just below bottom */
} parc_fiber_stack_t;

/* Usable size for a request: 0 gives the default; rounded up to pages and
 * to at least the minimum. */
size_t parc_fiber_stack_size(size_t requested);

/* Take a stack of `size` usable bytes (from parc_fiber_stack_size).
 * Returns 0 or ENOMEM (mmap/mprotect refused: memory or mappings). */
int parc_fiber_stack_get(size_t size, bool guarded, parc_fiber_stack_t *out);

/* Give a stack back for reuse. Its contents are dead. */
void parc_fiber_stack_put(const parc_fiber_stack_t *s);

#endif /* PARC_SRC_FIBER_STACK_H */
