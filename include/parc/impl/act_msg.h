/*
 * parc/impl/act_msg.h — what parc/act_msg.h's generated helpers call.
 * Included at the bottom of parc/act_msg.h; not an API of its own.
 */
#ifndef PARC_IMPL_ACT_MSG_H
#define PARC_IMPL_ACT_MSG_H

#ifndef PARC_ACT_MSG_H
#error "include parc/act_msg.h, not parc/impl/act_msg.h"
#endif

PARC_BEGIN_DECLS

/* A parc_msg_new(type, data, size) message sent to `to` (asked, with
 * *reply, when reply is not NULL); freed when the send fails. Returns as
 * parc_act_send / parc_act_ask, or ENOMEM, EINVAL. */
PARC_API int parc_act_msg_send_(parc_act_t *to, int32_t type,
                                const void *data, size_t size,
                                parc_future_t **reply);

PARC_END_DECLS

#endif /* PARC_IMPL_ACT_MSG_H */
