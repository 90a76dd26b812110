/*
 * Stress adapter for parc's Treiber stack (parc/stack.h).
 *
 *   queue parc.stack   unbounded lock-free LIFO; items are recycled
 *                      between threads, the pattern that exposes ABA
 *                      (compare the aba_stack negative control).
 */
#include <errno.h>
#include <stdlib.h>

#include "parc/stack.h"
#include "parc/stress.h"

static int stk_create(void **out, size_t capacity)
{
    (void)capacity; /* unbounded */
    parc_stack_t *s = malloc(sizeof *s);
    if (s == NULL)
        return ENOMEM;
    parc_stack_init(s);
    *out = s;
    return 0;
}

static void stk_destroy(void *s)
{
    parc_stack_destroy(s);
    free(s);
}

static int stk_push(void *s, parc_stress_item_t *item)
{
    return parc_stack_push(s, item);
}

static int stk_pop(void *s, parc_stress_item_t **item)
{
    return parc_stack_pop_try(s, (void **)item);
}

static const parc_stress_queue_impl_t stack_impl = {
    .name = "parc.stack",
    .description = "Treiber stack, 32-bit ABA tags over a type-stable node pool",
    .flags = PARC_STRESS_RECYCLE,
    .order = PARC_STRESS_ORDER_LIFO,
    .create = stk_create,
    .destroy = stk_destroy,
    .push = stk_push,
    .pop = stk_pop,
};
PARC_STRESS_QUEUE(stack_impl)
