/* parc/deque.h: the Chase–Lev deque in the C11 form of Lê et al. 2013. */
#include <stdlib.h>

#include "parc/deque.h"

typedef struct parc_deque_array array_t;

#define MAX_CAPACITY (INT64_C(1) << 40)

static array_t *array_new(int64_t capacity)
{
    array_t *a = malloc(sizeof *a +
                        (size_t)capacity * sizeof(parc_atomic(void *)));
    if (a == NULL)
        return NULL;
    a->mask = capacity - 1;
    a->prev = NULL;
    for (int64_t i = 0; i < capacity; i++)
        parc_atomic_init(&parc_deque_slots_(a)[i], NULL);
    return a;
}

int parc_deque_init(parc_deque_t *d, size_t capacity_hint)
{
    if (d == NULL || capacity_hint > (size_t)MAX_CAPACITY)
        return EINVAL;
    int64_t cap = 1;
    int64_t want = capacity_hint ? (int64_t)capacity_hint : PARC_DEQUE_DEFAULT_CAPACITY;
    while (cap < want)
        cap <<= 1;
    array_t *a = array_new(cap);
    if (a == NULL)
        return ENOMEM;
    parc_atomic_init(&d->top, 0);
    parc_atomic_init(&d->bottom, 0);
    parc_atomic_init(&d->array, a);
    d->retired = NULL;
    d->top_cache = 0;
    return 0;
}

int parc_deque_destroy(parc_deque_t *d)
{
    if (d == NULL)
        return EINVAL;
    free(parc_load(&d->array, PARC_RELAXED)); /* exclusive access */
    for (array_t *a = d->retired; a != NULL;) {
        array_t *prev = a->prev;
        free(a);
        a = prev;
    }
    parc_store(&d->array, NULL, PARC_RELAXED);
    d->retired = NULL;
    return 0;
}

/* Owner: replace the full array `a` by one twice its size holding the
 * items [t, b). Returns the new array, or NULL on ENOMEM. */
array_t *parc_deque_grow_(parc_deque_t *d, array_t *a, int64_t t, int64_t b)
{
    int64_t cap = (a->mask + 1) * 2;
    if (cap > MAX_CAPACITY)
        return NULL;
    array_t *n = array_new(cap);
    if (n == NULL)
        return NULL;
    /* A stale t (smaller) only copies slots already stolen: harmless. */
    for (int64_t i = t; i < b; i++) {
        void *item = parc_load(&parc_deque_slots_(a)[i & a->mask], PARC_RELAXED);
        parc_store(&parc_deque_slots_(n)[i & n->mask], item, PARC_RELAXED);
    }
    /* Thieves may still read `a`: keep it until destroy (see deque.h). */
    a->prev = d->retired;
    d->retired = a;
    /* release: publishes the copied slots to thieves that load the array
     * with acquire (steal); the paper uses consume there. */
    parc_store(&d->array, n, PARC_RELEASE);
    return n;
}

/* The owner's operations are inlined from parc/deque.h (argued there). */
int parc_deque_push(parc_deque_t *d, void *item)
{
    if (d == NULL)
        return EINVAL;
    return parc_deque_push_inline_(d, item);
}

int parc_deque_pop(parc_deque_t *d, void **item)
{
    if (d == NULL || item == NULL)
        return EINVAL;
    return parc_deque_pop_inline_(d, item);
}

int parc_deque_steal(parc_deque_t *d, void **item)
{
    if (d == NULL || item == NULL)
        return EINVAL;
    /* acquire: pairs with the seq_cst CAS that set this top (another
     * thief's or the owner's): orders our slot read after theirs. */
    int64_t t = parc_load(&d->top, PARC_ACQUIRE);
    /* seq_cst fence: orders the top load before the bottom load; pairs
     * with the fence in pop (see there). */
    parc_fence(PARC_SEQ_CST);
    /* acquire: pairs with push's release store of bottom: the slot at t
     * and the item's contents are visible. */
    int64_t b = parc_load(&d->bottom, PARC_ACQUIRE);
    if (t >= b)
        return EAGAIN;
    /* acquire: pairs with grow's release store: the copied slots are
     * visible. An older array holds the same item at t (see deque.h). */
    array_t *a = parc_load(&d->array, PARC_ACQUIRE);
    void *x = parc_load(&parc_deque_slots_(a)[t & a->mask], PARC_RELAXED);
    /* seq_cst: totally ordered with the owner's CAS and fences for the last
     * item (the paper's order). Failure: someone else took item t. */
    if (!parc_cas(&d->top, &t, t + 1, PARC_SEQ_CST, PARC_RELAXED))
        return EAGAIN;
    *item = x;
    return 0;
}

size_t parc_deque_size(parc_deque_t *d)
{
    if (d == NULL)
        return 0;
    /* A snapshot of two counters; no data is read through it. */
    int64_t t = parc_load(&d->top, PARC_RELAXED);
    int64_t b = parc_load(&d->bottom, PARC_RELAXED);
    return b > t ? (size_t)(b - t) : 0;
}
