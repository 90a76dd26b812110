/*
 * parc/stack.h — unbounded lock-free LIFO stack of pointers (layer 2).
 *
 * Algorithm: R. K. Treiber, "Systems Programming: Coping with
 * Parallelism", IBM Research Report RJ 5118, 1986: a linked list whose top
 * is replaced by compare-and-swap. Its classic flaw is ABA: a popper reads
 * top = A and next = B, is preempted while A and B are popped and A is
 * pushed again, and its CAS from A to B then succeeds and puts a node that
 * is no longer in the stack back on top.
 *
 * How parc avoids ABA (the choice argued):
 *   - Nodes belong to the stack and live in a type-stable pool: chunks
 *     that are never freed before parc_stack_destroy. A popper that reads a
 *     node's `next` after someone else popped it reads the stack's own
 *     memory, never freed memory; the value may be stale, which the CAS
 *     below detects.
 *   - Nodes are named by a 32-bit index, and the top word holds
 *     (tag << 32 | index + 1) in one 64-bit atomic. Every successful CAS
 *     increments the tag, so the stale CAS above fails unless exactly 2^32
 *     pushes and pops completed while the popper was preempted and the
 *     same node is on top again (the tagged-pointer argument of IBM's
 *     System/370 free list). Free nodes form a second stack of the same
 *     kind.
 *   - Rejected: a double-width CAS (cmpxchg16b) needs libatomic and is
 *     not lock-free in C11's eyes; a 16-bit tag in the unused pointer bits
 *     wraps after 65536 operations, which a preemption can span; epoch
 *     reclamation (ck_epoch) costs a store and a full fence per operation
 *     plus an allocation per push.
 *   - Items are void* rather than intrusive nodes: with intrusive nodes
 *     the user owns node memory and could free a node that a stale popper
 *     is about to read, so every user would need its own reclamation.
 *
 * Ordering guarantee: LIFO (linearizable).
 * Memory: grows to the largest number of items held at once (plus nodes in
 * flight) in chunks of doubling size; nodes are recycled, never returned
 * until parc_stack_destroy. 16 bytes per node; up to 2^32 - 2 nodes.
 * Allocation happens only when the pool grows (amortised O(1) pushes).
 * Items: any pointer, NULL included; the stack never dereferences them.
 *
 * Synchronization table (liburcu style):
 *
 *                 push   pop_try   empty   destroy
 *   push           yes     yes      yes      no
 *   pop_try        yes     yes      yes      no
 *   empty          yes     yes      yes      no
 *   destroy        no      no       no       no
 *
 * push and pop_try are lock-free; nothing blocks. init/destroy need
 * exclusive access.
 */
#ifndef PARC_STACK_H
#define PARC_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include "parc/atomic.h"
#include "parc/status.h"

/* Node pool chunk k holds (PARC_STACK_CHUNK0 << k) nodes; 27 chunks cover
 * every 32-bit index. */
#define PARC_STACK_CHUNK0 64u
#define PARC_STACK_CHUNKS 27

struct parc_stack_node; /* private to src/stack.c */

typedef struct parc_stack {
    /* (tag << 32) | (index + 1) of the top node; index + 1 == 0: empty.
     * Written by every push and pop: its own line. */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) top;
    /* The free-node stack, same encoding. */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) free;
    /* Nodes never used yet: the next fresh index. */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) fresh;
    /* The pool's chunks, allocated on demand, freed by destroy. */
    parc_atomic(struct parc_stack_node *) chunk[PARC_STACK_CHUNKS];
} parc_stack_t;

/* An empty stack that owns no memory yet (same as parc_stack_init). */
#define PARC_STACK_INIT { 0, 0, 0, { 0 } }

/* Initialise an empty stack. Allocates nothing. Returns 0 or EINVAL when
 * s is NULL. Needs exclusive access. */
PARC_API int parc_stack_init(parc_stack_t *s);

/* Free the node pool. Items still on the stack are not freed (the stack
 * does not own them). No other call may run on s concurrently or after.
 * Returns 0 or EINVAL when s is NULL. */
PARC_API int parc_stack_destroy(parc_stack_t *s);

/* Push `item` (NULL allowed). Any thread; lock-free, never blocks.
 * Allocates only when the node pool grows. Returns 0; EINVAL when s is
 * NULL; ENOMEM when the pool could not grow (the item was not pushed). */
PARC_API int parc_stack_push(parc_stack_t *s, void *item);

/* Pop the most recently pushed item into *item. Any thread; lock-free,
 * never blocks. Returns 0; EAGAIN when the stack is empty; EINVAL when s
 * or item is NULL. */
PARC_API int parc_stack_pop_try(parc_stack_t *s, void **item);

/* True when the stack held no item at the moment of the call (a snapshot:
 * others may push or pop right after). Any thread. True for NULL. */
PARC_API bool parc_stack_empty(parc_stack_t *s);

#endif /* PARC_STACK_H */
