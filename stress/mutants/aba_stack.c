/*
 * Negative control: a Treiber stack (R. K. Treiber, "Systems Programming:
 * Coping with Parallelism", IBM RJ 5118, 1986) without ABA protection: the
 * head is a bare pointer and nodes (the harness's items) are reused at
 * once. A pop that read head A and next B can be overtaken by pops of A
 * and B and a push of A; its CAS from A to B then succeeds and puts B,
 * which another thread owns, back on the stack. queue.churn recycles a few
 * items between all threads and must FAIL (duplicate or lost item).
 *
 * The short spin between reading next and the CAS stands for the cache
 * miss or preemption that opens the window on a real machine; without it
 * two cores need a long run to hit the few-nanosecond window.
 */
#include <errno.h>
#include <stdlib.h>

#include "parc/atomic.h"
#include "parc/stress.h"

typedef struct aba_stack {
    PARC_CACHE_ALIGNED parc_atomic(parc_stress_item_t *) head;
} aba_stack_t;

static int aba_create(void **out, size_t capacity)
{
    (void)capacity;
    aba_stack_t *s = aligned_alloc(PARC_CACHELINE, sizeof *s);
    if (s == NULL)
        return ENOMEM;
    parc_atomic_init(&s->head, NULL);
    *out = s;
    return 0;
}

static void aba_destroy(void *s)
{
    free(s);
}

static int aba_push(void *p, parc_stress_item_t *item)
{
    aba_stack_t *s = p;
    parc_stress_item_t *top = parc_load(&s->head, PARC_RELAXED);
    do {
        item->link[0] = top;
        /* release: publishes item->link[0] and the item's contents;
         * pairs with the acquire load of head in pop. */
    } while (!parc_cas_weak(&s->head, &top, item, PARC_RELEASE, PARC_RELAXED));
    return 0;
}

static int aba_pop(void *p, parc_stress_item_t **item)
{
    aba_stack_t *s = p;
    /* acquire: pairs with the release CAS in push (top's link and data). */
    parc_stress_item_t *top = parc_load(&s->head, PARC_ACQUIRE);
    for (;;) {
        if (top == NULL)
            return EAGAIN;
        parc_stress_item_t *next = top->link[0];
        for (int i = 0; i < 32; i++) /* the window (see the top of the file) */
            parc_cpu_relax();
        /* THE BUG: head == top does not mean top->link[0] is still next. */
        if (parc_cas(&s->head, &top, next, PARC_ACQUIRE, PARC_ACQUIRE))
            break; /* acquire on both: as the load above */
    }
    *item = top;
    return 0;
}

static const parc_stress_queue_impl_t aba_stack = {
    .name = "mutant.aba_stack",
    .description = "Treiber stack with an untagged head over recycled nodes (ABA)",
    .flags = PARC_STRESS_MUTANT | PARC_STRESS_RECYCLE,
    .order = PARC_STRESS_ORDER_LIFO,
    .create = aba_create,
    .destroy = aba_destroy,
    .push = aba_push,
    .pop = aba_pop,
};
PARC_STRESS_QUEUE(aba_stack)
