/* parc/stack.h: Treiber's stack over a type-stable, index-named node pool. */
#include <stdlib.h>

#include "parc/stack.h"

struct parc_stack_node {
    /* index + 1 of the node below (0: none). Atomic because a stale popper
     * may read it while the node's new owner writes it. */
    parc_atomic(uint32_t) next;
    void *item; /* owned by whoever holds the node: plain */
};
typedef struct parc_stack_node node_t;

#define MAX_NODES (UINT64_C(0xFFFFFFFF) - 1) /* index + 1 must fit 32 bits */

static inline uint32_t word_ref(uint64_t w) { return (uint32_t)w; }
static inline uint64_t word_next(uint64_t w, uint32_t ref)
{
    /* a new tag (the old one + 1) with the new reference */
    return ((w >> 32) + 1) << 32 | ref;
}

/* Chunk k holds indices [CHUNK0 * (2^k - 1), CHUNK0 * (2^(k+1) - 1)). */
static inline unsigned chunk_of(uint64_t index, uint64_t *offset)
{
    uint64_t j = index + PARC_STACK_CHUNK0;
    unsigned k = 63u - (unsigned)__builtin_clzll(j) - 6u; /* log2(CHUNK0) = 6 */
    *offset = j - ((uint64_t)PARC_STACK_CHUNK0 << k);
    return k;
}

_Static_assert(PARC_STACK_CHUNK0 == 64u, "chunk_of assumes log2(CHUNK0) == 6");

/* The node named by ref (index + 1). Its chunk exists: whoever published
 * the reference obtained the node from it. */
static inline node_t *node_at(parc_stack_t *s, uint32_t ref)
{
    uint64_t off;
    unsigned k = chunk_of((uint64_t)ref - 1, &off);
    /* acquire: the chunk's zeroed memory is visible; pairs with the release
     * CAS that installed it. */
    return parc_load(&s->chunk[k], PARC_ACQUIRE) + off;
}

/* Treiber push of node `ref` onto the list at *list (the item stack or the
 * free list). */
static void list_push(parc_stack_t *s, parc_atomic(uint64_t) *list, uint32_t ref)
{
    node_t *n = node_at(s, ref);
    uint64_t old = parc_load(list, PARC_RELAXED);
    for (;;) {
        parc_store(&n->next, word_ref(old), PARC_RELAXED);
        /* release: publishes the node's next (and, on the item stack, its
         * item) to the thread that pops it; pairs with the acquire load or
         * CAS in list_pop. */
        if (parc_cas_weak(list, &old, word_next(old, ref), PARC_RELEASE, PARC_RELAXED))
            return;
    }
}

/* Treiber pop from the list at *list: the node's reference, or 0 when the
 * list is empty. */
static uint32_t list_pop(parc_stack_t *s, parc_atomic(uint64_t) *list)
{
    /* acquire: the top node's contents, published by the release CAS that
     * pushed it, are visible before we read its next. */
    uint64_t old = parc_load(list, PARC_ACQUIRE);
    for (;;) {
        uint32_t ref = word_ref(old);
        if (ref == 0)
            return 0;
        /* May be stale if the node was popped meanwhile: the tag makes the
         * CAS below fail then. The chunk is never freed, so the read is
         * always of valid memory. */
        uint32_t next = parc_load(&node_at(s, ref)->next, PARC_RELAXED);
        /* acquire (success): we own the node; its item was published by
         * the push (pairs with list_push's release CAS). acquire (failure):
         * the new top's contents are visible for the retry. */
        if (parc_cas_weak(list, &old, word_next(old, next), PARC_ACQUIRE, PARC_ACQUIRE))
            return ref;
    }
}

/* A node for a push: a recycled one, else a fresh one; 0 on ENOMEM. */
static uint32_t node_get(parc_stack_t *s)
{
    uint32_t ref = list_pop(s, &s->free);
    if (ref != 0)
        return ref;
    /* Claims an index; publishes nothing. */
    uint64_t index = parc_faa(&s->fresh, 1, PARC_RELAXED);
    if (index >= MAX_NODES)
        return 0;
    uint64_t off;
    unsigned k = chunk_of(index, &off);
    /* acquire: pairs with the release CAS below (another thread's). */
    if (parc_load(&s->chunk[k], PARC_ACQUIRE) == NULL) {
        node_t *fresh = calloc((size_t)PARC_STACK_CHUNK0 << k, sizeof(node_t));
        if (fresh == NULL) {
            /* The index is lost; a later call retries the chunk. */
            return 0;
        }
        node_t *expected = NULL;
        /* release: publishes the zeroed chunk to every thread that loads
         * the pointer; acquire on failure: pairs with the winner's. */
        if (!parc_cas(&s->chunk[k], &expected, fresh, PARC_RELEASE, PARC_ACQUIRE))
            free(fresh);
    }
    return (uint32_t)(index + 1);
}

int parc_stack_init(parc_stack_t *s)
{
    if (s == NULL)
        return EINVAL;
    parc_atomic_init(&s->top, 0);
    parc_atomic_init(&s->free, 0);
    parc_atomic_init(&s->fresh, 0);
    for (int k = 0; k < PARC_STACK_CHUNKS; k++)
        parc_atomic_init(&s->chunk[k], NULL);
    return 0;
}

int parc_stack_destroy(parc_stack_t *s)
{
    if (s == NULL)
        return EINVAL;
    for (int k = 0; k < PARC_STACK_CHUNKS; k++) {
        free(parc_load(&s->chunk[k], PARC_RELAXED)); /* exclusive access */
        parc_store(&s->chunk[k], NULL, PARC_RELAXED);
    }
    parc_store(&s->top, 0, PARC_RELAXED);
    parc_store(&s->free, 0, PARC_RELAXED);
    parc_store(&s->fresh, 0, PARC_RELAXED);
    return 0;
}

int parc_stack_push(parc_stack_t *s, void *item)
{
    if (s == NULL)
        return EINVAL;
    uint32_t ref = node_get(s);
    if (ref == 0)
        return ENOMEM;
    node_at(s, ref)->item = item; /* published by list_push's release CAS */
    list_push(s, &s->top, ref);
    return 0;
}

int parc_stack_pop_try(parc_stack_t *s, void **item)
{
    if (s == NULL || item == NULL)
        return EINVAL;
    uint32_t ref = list_pop(s, &s->top);
    if (ref == 0)
        return EAGAIN;
    *item = node_at(s, ref)->item;
    /* The release CAS in list_push orders the read above before the node's
     * reuse by whoever pops it from the free list. */
    list_push(s, &s->free, ref);
    return 0;
}

bool parc_stack_empty(parc_stack_t *s)
{
    return s == NULL || word_ref(parc_load(&s->top, PARC_RELAXED)) == 0;
}
