/* parc/spsc.h: set-up, close and the waiting paths. */
#include "parc/spsc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The stand-in stored for NULL items (PARC_SPSC_NULL_). */
char parc_spsc_null_;

/* The ring accesses the caller's void * array as atomic pointers. */
_Static_assert(sizeof(parc_atomic(void *)) == sizeof(void *),
               "an atomic pointer is not the size of a pointer");

/* ---- set-up ----------------------------------------------------------- */

static bool power_of_two(size_t n)
{
    return n != 0 && (n & (n - 1)) == 0;
}

int parc_spsc_init(parc_spsc_t *q, void **buf, size_t capacity)
{
    if (q == NULL || buf == NULL || !power_of_two(capacity) ||
        capacity > SIZE_MAX / 2)
        return EINVAL;
    memset(q, 0, sizeof *q);
    parc_atomic_init(&q->tail, 0);
    parc_atomic_init(&q->head, 0);
    parc_atomic_init(&q->closed, 0u);
    parc_atomic_init(&q->pushing, 0u);
    q->free_end = 0;
    q->slots = (parc_atomic(void *) *)buf;
    for (size_t i = 0; i < capacity; i++)
        parc_atomic_init(&q->slots[i], NULL); /* every slot empty */
    q->mask = capacity - 1;
    /* Below the capacity, so that an empty slot ahead proves the slots
     * before it free (parc_spsc_free_at_). */
    q->lookahead = capacity >= 2 * PARC_SPSC_LOOKAHEAD ? PARC_SPSC_LOOKAHEAD
                                                       : capacity / 2;
    q->asym = parc_asymfence_available();
    q->owns_buf = false;
    parc_eventcount_init(&q->items);
    parc_eventcount_init(&q->space);
    parc_atomic_init(&q->items_armed, 0u);
    parc_atomic_init(&q->space_armed, 0u);
    return 0;
}

int parc_spsc_destroy(parc_spsc_t *q)
{
    if (q == NULL)
        return EINVAL;
    q->slots = NULL;
    return 0;
}

int parc_spsc_create(parc_spsc_t **out, size_t capacity)
{
    if (out == NULL || !power_of_two(capacity) || capacity > SIZE_MAX / 2)
        return EINVAL;
    *out = NULL;
    parc_spsc_t *q = aligned_alloc(PARC_CACHELINE, sizeof *q);
    void **buf = calloc(capacity, sizeof *buf);
    if (q == NULL || buf == NULL) {
        free(q);
        free(buf);
        return ENOMEM;
    }
    parc_spsc_init(q, buf, capacity);
    q->owns_buf = true;
    *out = q;
    return 0;
}

void parc_spsc_free(parc_spsc_t *q)
{
    if (q == NULL)
        return;
    if (q->owns_buf)
        free((void *)q->slots);
    free(q);
}

int parc_spsc_close(parc_spsc_t *q)
{
    if (q == NULL)
        return EINVAL;
    parc_store(&q->closed, 1u, PARC_RELAXED);
    /* notify_all's seq_cst fence orders the flag before the waiter-count
     * loads; pairs with the fence in parc_eventcount_prepare_wait() of a
     * waiter that then re-checks the flag. */
    parc_eventcount_notify_all(&q->items);
    parc_eventcount_notify_all(&q->space);
    return 0;
}

/* ---- closed and empty ------------------------------------------------- */

int parc_spsc_closed_empty_(parc_spsc_t *q, size_t head)
{
    /* We saw the closed flag. After the heavy fence, the producer's closed
     * check either follows it (and sees the flag: its push backs out) or
     * precedes it, and then its mark, or the publish before the mark's
     * end, is visible below (see "Close" in spsc.h). */
    parc_asymfence_heavy(q->asym);
    /* acquire: reading the end of a mark makes that push's publish
     * visible; pairs with the release stores of the mark. */
    if (parc_load(&q->pushing, PARC_ACQUIRE) != 0)
        return EAGAIN; /* a push is between its check and its publish */
    /* An item published before the mark's end is in our slot now. */
    return parc_spsc_peek_(q, head) == NULL ? EPIPE : EAGAIN; /* EAGAIN: pop again */
}

/* ---- waiting ------------------------------------------------------------ */

int parc_spsc_push_wait_(parc_spsc_t *q, void *item, parc_deadline_t deadline)
{
    /* Spin first: a consumer running on the other core frees a slot within
     * a cache-line round trip; a wake-up from the kernel costs ~45 us. */
    for (unsigned i = 0; i < PARC_SPIN_POLLS; i++) {
        int rc = parc_spsc_push_try(q, item);
        if (rc != EAGAIN)
            return rc;
        parc_spin_poll(i);
    }
    for (;;) {
        parc_eventcount_key_t key = parc_eventcount_prepare_wait(&q->space);
        parc_store(&q->space_armed, 1u, PARC_RELAXED); /* ordered by the fence below */
        /* store-load with every running thread: the flag before the
         * re-check; pairs with the light fence in parc_spsc_notify_(). */
        parc_asymfence_heavy(q->asym);
        int rc = parc_spsc_push_try(q, item);
        if (rc != EAGAIN) {
            parc_eventcount_cancel_wait(&q->space);
            return rc;
        }
        if (parc_deadline_passed(deadline)) {
            parc_eventcount_cancel_wait(&q->space);
            return ETIMEDOUT;
        }
        if (parc_eventcount_wait(&q->space, key, deadline) == ETIMEDOUT) {
            rc = parc_spsc_push_try(q, item);
            return rc == EAGAIN ? ETIMEDOUT : rc;
        }
    }
}

int parc_spsc_pop_wait_(parc_spsc_t *q, void **item, parc_deadline_t deadline)
{
    for (unsigned i = 0; i < PARC_SPIN_POLLS; i++) {
        int rc = parc_spsc_pop_try(q, item);
        if (rc != EAGAIN)
            return rc;
        parc_spin_poll(i);
    }
    parc_backoff_t backoff = PARC_BACKOFF_INIT;
    for (;;) {
        parc_eventcount_key_t key = parc_eventcount_prepare_wait(&q->items);
        parc_store(&q->items_armed, 1u, PARC_RELAXED); /* ordered by the fence below */
        /* store-load with every running thread: the flag before the
         * re-check; pairs with the light fence in parc_spsc_notify_(). */
        parc_asymfence_heavy(q->asym);
        int rc = parc_spsc_pop_try(q, item);
        if (rc != EAGAIN) {
            parc_eventcount_cancel_wait(&q->items);
            return rc;
        }
        if (parc_deadline_passed(deadline)) {
            parc_eventcount_cancel_wait(&q->items);
            return ETIMEDOUT;
        }
        if (parc_spsc_is_closed(q)) {
            /* Closed but a push is in progress: it will publish or back out
             * without necessarily notifying; do not sleep, yield to it. */
            parc_eventcount_cancel_wait(&q->items);
            parc_backoff_spin(&backoff);
            continue;
        }
        if (parc_eventcount_wait(&q->items, key, deadline) == ETIMEDOUT) {
            rc = parc_spsc_pop_try(q, item);
            return rc == EAGAIN ? ETIMEDOUT : rc;
        }
    }
}
