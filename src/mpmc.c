/* parc/mpmc.h: set-up, close and the waiting paths. */
#include "parc/mpmc.h"

#include <stdlib.h>

static bool ring_capacity_ok(size_t n)
{
    return n >= 2 && (n & (n - 1)) == 0 && n <= (PARC_MPMC_CLOSED >> 2);
}

int parc_mpmc_init(parc_mpmc_t *q, parc_mpmc_cell_t *cells, size_t capacity)
{
    if (q == NULL || cells == NULL || !ring_capacity_ok(capacity))
        return EINVAL;
    for (size_t i = 0; i < capacity; i++) {
        parc_atomic_init(&cells[i].seq, i); /* cell i: free for position i */
        cells[i].item = NULL;
    }
    parc_atomic_init(&q->enq, 0);
    parc_atomic_init(&q->deq, 0);
    q->cells = cells;
    q->mask = capacity - 1;
    q->asym = parc_asymfence_available();
    q->owns_cells = false;
    parc_eventcount_init(&q->items);
    parc_eventcount_init(&q->space);
    parc_atomic_init(&q->items_armed, 0u);
    parc_atomic_init(&q->space_armed, 0u);
    return 0;
}

int parc_mpmc_init_flags(parc_mpmc_t *q, parc_mpmc_cell_t *cells, size_t capacity,
                         unsigned flags)
{
    if ((flags & ~PARC_PSHARED) != 0)
        return EINVAL;
    int rc = parc_mpmc_init(q, cells, capacity);
    if (rc != 0 || !(flags & PARC_PSHARED))
        return rc;
    q->asym = false; /* membarrier cannot reach the other processes */
    parc_eventcount_init_flags(&q->items, PARC_PSHARED);
    parc_eventcount_init_flags(&q->space, PARC_PSHARED);
    return 0;
}

int parc_mpmc_destroy(parc_mpmc_t *q)
{
    if (q == NULL)
        return EINVAL;
    q->cells = NULL;
    return 0;
}

int parc_mpmc_create(parc_mpmc_t **out, size_t capacity)
{
    if (out == NULL || !ring_capacity_ok(capacity))
        return EINVAL;
    *out = NULL;
    parc_mpmc_t *q = aligned_alloc(PARC_CACHELINE, sizeof *q);
    parc_mpmc_cell_t *cells = calloc(capacity, sizeof *cells);
    if (q == NULL || cells == NULL) {
        free(q);
        free(cells);
        return ENOMEM;
    }
    parc_mpmc_init(q, cells, capacity);
    q->owns_cells = true;
    *out = q;
    return 0;
}

void parc_mpmc_free(parc_mpmc_t *q)
{
    if (q == NULL)
        return;
    if (q->owns_cells)
        free(q->cells);
    free(q);
}

int parc_mpmc_close(parc_mpmc_t *q)
{
    if (q == NULL)
        return EINVAL;
    /* relaxed: the bit orders claims by the modification order of enq
     * alone (a claim's CAS fails once the bit is set); the fences in the
     * notifies below order it before the waiter-count loads. */
    parc_for(&q->enq, PARC_MPMC_CLOSED, PARC_RELAXED);
    parc_eventcount_notify_all(&q->items);
    parc_eventcount_notify_all(&q->space);
    return 0;
}

/* The waiting loop shared by push and pop: spin on the _try form, then
 * sleep on `ec` with the heavy fence between arming and re-check. */
#define MPMC_WAIT(q, ec, armed, try_expr, deadline)                         \
    do {                                                                    \
        int rc_;                                                            \
        for (unsigned i_ = 0; i_ < PARC_SPIN_POLLS; i_++) {                 \
            if ((rc_ = (try_expr)) != EAGAIN)                               \
                return rc_;                                                 \
            parc_spin_poll(i_);                                             \
        }                                                                   \
        for (;;) {                                                          \
            parc_eventcount_key_t key_ = parc_eventcount_prepare_wait(ec);                  \
            /* relaxed: ordered before the re-check by the fence below   */ \
            parc_store(armed, 1u, PARC_RELAXED);                            \
            /* store-load with every running thread: the flag before the */ \
            /* re-check; pairs with the light fence in                   */ \
            /* parc_mpmc_notify_() after a publish or release.           */ \
            parc_asymfence_heavy((q)->asym);                               \
            if ((rc_ = (try_expr)) != EAGAIN) {                             \
                parc_eventcount_cancel_wait(ec);                                    \
                return rc_;                                                 \
            }                                                               \
            if (parc_deadline_passed(deadline)) {                           \
                parc_eventcount_cancel_wait(ec);                                    \
                return ETIMEDOUT;                                           \
            }                                                               \
            if (parc_eventcount_wait(ec, key_, deadline) == ETIMEDOUT) {            \
                rc_ = (try_expr);                                           \
                return rc_ == EAGAIN ? ETIMEDOUT : rc_;                     \
            }                                                               \
        }                                                                   \
    } while (0)

int parc_mpmc_push_wait_(parc_mpmc_t *q, void *item, parc_deadline_t deadline)
{
    MPMC_WAIT(q, &q->space, &q->space_armed, parc_mpmc_push_try(q, item),
              deadline);
}

int parc_mpmc_pop_wait_(parc_mpmc_t *q, void **item, parc_deadline_t deadline)
{
    MPMC_WAIT(q, &q->items, &q->items_armed, parc_mpmc_pop_try(q, item),
              deadline);
}
