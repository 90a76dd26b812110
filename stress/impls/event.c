/*
 * Stress adapter for parc's event (parc/event.h).
 *
 *   signal parc.event   parc_event_t: signal.wakeup checks that set()
 *                       wakes every waiter within its timeout and that
 *                       none returns before the set.
 */
#include <errno.h>
#include <stdlib.h>

#include "parc/event.h"
#include "parc/stress.h"

static int event_create(void **out)
{
    parc_event_t *e = malloc(sizeof *e);
    if (e == NULL)
        return ENOMEM;
    parc_event_init(e);
    *out = e;
    return 0;
}

static void event_destroy(void *e)
{
    parc_event_destroy(e);
    free(e);
}

static int event_set(void *e) { return parc_event_set(e); }
static int event_clear(void *e) { return parc_event_clear(e); }
static int event_wait_timed(void *e, int64_t timeout_ns) { return parc_event_wait_timed(e, timeout_ns); }

static const parc_stress_signal_impl_t event_impl = {
    .name = "parc.event",
    .description = "parc_event_t (threading.Event)",
    .create = event_create,
    .destroy = event_destroy,
    .set = event_set,
    .clear = event_clear,
    .wait_timed = event_wait_timed,
};
PARC_STRESS_SIGNAL(event_impl)
