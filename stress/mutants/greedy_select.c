/*
 * Negative control: a select that polls its cases with the try forms and
 * completes every one that is ready, returning only the first. Values it
 * receives on the other cases are lost, and values it sends on them are
 * received although their sends were never reported: the exact-once and
 * one-case-per-select checks of select.exactly_once must FAIL.
 */
#include <errno.h>

#include "../impls/select_workload.h"

static int try_case(parc_select_case_t *c)
{
    switch (c->kind) {
    case PARC_SELECT_SEND:
        return c->obj == NULL ? EAGAIN : parc_chan_send_try(c->obj, c->buf);
    case PARC_SELECT_RECV:
        return c->obj == NULL ? EAGAIN : parc_chan_recv_try(c->obj, c->buf);
    case PARC_SELECT_SEM:
        return parc_sem_acquire_try(c->obj, 1);
    case PARC_SELECT_EVENT:
        return parc_event_wait_try(c->obj);
    default:
        return EAGAIN;
    }
}

static int greedy_select(parc_select_case_t *cases, size_t n, unsigned flags,
                         size_t *index, int64_t timeout_ns)
{
    (void)flags;
    parc_deadline_t d = PARC_FOREVER;
    (void)parc_deadline_in(&d, timeout_ns);
    for (;;) {
        int first_rc = EAGAIN;
        for (size_t i = 0; i < n; i++) {
            int rc = try_case(&cases[i]);
            if (rc != EAGAIN && first_rc == EAGAIN) { /* BUG: goes on */
                first_rc = rc;
                *index = i;
            }
        }
        if (first_rc != EAGAIN)
            return first_rc;
        if (parc_deadline_passed(d))
            return ETIMEDOUT;
        parc_sleep_ns(20 * PARC_NS_PER_US);
    }
}

static stress_select_impl_t greedy_impl = { greedy_select };

static const parc_stress_workload_t greedy = {
    .name = "select.exactly_once",
    .impl = "mutant.greedy_select",
    .description = "NEGATIVE CONTROL: a select that completes every ready case",
    .flags = PARC_STRESS_MUTANT | PARC_STRESS_NO_BATON,
    .min_threads = 2,
    .run = stress_select_run,
    .arg = &greedy_impl,
};
PARC_STRESS_WORKLOAD(greedy)
