/* Scheduled actors (parc/act.h): links, Erlang's link/1 and
 * process_flag(trap_exit, true).
 *
 * A link is two monitors of a private type (ACT_LINK_DOWN), one each
 * way, so it inherits the monitor's guarantee: the notice comes exactly
 * once, also when the partner has already stopped. The receiving turn
 * decides what the notice means when it pops it, not when it is sent:
 * trapping is a property of the receiver at that moment, and a turn is
 * the only place where the receiver can be made to exit in order. A
 * notice of a normal exit (status 0) to an actor that does not trap is
 * dropped; of an abnormal one, it ends the receiver with the same status
 * (which its own links then carry on). */
#include <errno.h>

#include "act_internal.h"

int parc_act_link(parc_act_t *a, parc_act_t *b)
{
    if (a == NULL || b == NULL || a == b)
        return EINVAL;
    int rc = act_watch(a, b, ACT_LINK_DOWN);
    if (rc != 0)
        return rc;
    return act_watch(b, a, ACT_LINK_DOWN);
}

void parc_act_trap_exits(parc_act_t *self, bool trap)
{
    if (self == NULL)
        return;
    /* relaxed: read by self's own turns only (act_link_deliver); a turn
     * follows the previous one through the scheduling hand-off. */
    if (trap)
        parc_for(&self->flags, F_TRAP, PARC_RELAXED);
    else
        parc_fand(&self->flags, ~F_TRAP, PARC_RELAXED);
}

bool act_link_deliver(parc_act_t *a, parc_msg_t *m)
{
    parc_act_down_t *d = parc_msg_entry(m, parc_act_down_t, msg);
    /* relaxed: F_TRAP is set by a's own turns (see above). */
    if (parc_load(&a->flags, PARC_RELAXED) & F_TRAP) {
        m->type = PARC_ACT_EXIT;
        return true;
    }
    int status = d->status;
    parc_msg_free(m);
    if (status != 0)
        parc_act_exit(a, status);
    return false;
}
