/* Typed messages (parc/act_msg.h): the one out-of-line step of the
 * generated helpers, allocate-and-send. */
#include <errno.h>

#include "parc/act_msg.h"

int parc_act_msg_send_(parc_act_t *to, int32_t type, const void *data,
                       size_t size, parc_future_t **reply)
{
    if (to == NULL)
        return EINVAL;
    parc_msg_t *m;
    int rc = parc_msg_new(type, data, size, &m);
    if (rc != 0)
        return rc;
    rc = reply != NULL ? parc_act_ask(to, m, reply) : parc_act_send(to, m);
    if (rc != 0)
        parc_msg_free(m);
    return rc;
}
