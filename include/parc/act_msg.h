/*
 * parc/act_msg.h — typed messages for scheduled actors (parc/act.h) with
 * less ceremony (layer 4): one line declares a message type with its
 * payload, and gives a sender-side helper that allocates and sends in
 * one call, an ask, and a match for the receiving behaviour.
 *
 *     typedef struct { int seq; } ping_t;
 *     typedef struct { int seq; } pong_t;
 *     PARC_ACT_MSG(ping, ping_t, MY_USER_BASE + 0)
 *     PARC_ACT_MSG(pong, pong_t, MY_USER_BASE + 1)
 *
 *     static void server(parc_act_t *self, void *state, parc_msg_t *m)
 *     {
 *         ping_t *p;
 *         if (ping_match(m, &p)) {
 *             pong_t r = { p->seq };
 *             pong_send(parc_act_sender(), r);   // reply to who sent it
 *         }
 *         parc_msg_free(m);
 *     }
 *     ...
 *     ping_t p = { 1 };
 *     ping_send(server_actor, p);
 *
 * PARC_ACT_MSG(name, payload_type, tag) declares, as static inline
 * functions (tag: a constant >= PARC_MSG_USER):
 *
 *   name_TYPE                        the tag, an enum constant
 *   int name_send(to, payload)       copy payload into a new message and
 *                                    parc_act_send it: returns as
 *                                    parc_act_send, or ENOMEM; on failure
 *                                    the message is freed (nothing leaks)
 *   int name_ask(to, payload, &fut)  the same with parc_act_ask
 *   bool name_match(m, &payload_ptr) true when m is of this type, with a
 *                                    pointer to its payload (valid until
 *                                    parc_msg_free(m))
 *
 * The message is a parc_msg_new() message (a recycled block, freed by
 * parc_msg_free), so the receiver disposes of it as any other.
 */
#ifndef PARC_ACT_MSG_H
#define PARC_ACT_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "parc/act.h"
#include "parc/api.h"

PARC_BEGIN_DECLS

/** Declare a typed message `name` carrying a `payload_t` (by value,
 * copied) with type `tag`; see the header's comment for what it gives.
 * Use at file scope. Any thread may call the helpers; name_send never
 * blocks on an unbounded actor (blocks as parc_act_send on a full bounded
 * one). */
#define PARC_ACT_MSG(name, payload_t, tag)                                    \
    enum { name##_TYPE = (tag) };                                             \
    static inline int name##_send(parc_act_t *to_, payload_t body_)           \
    {                                                                         \
        return parc_act_msg_send_(to_, (tag), &body_, sizeof body_, NULL);    \
    }                                                                         \
    static inline int name##_ask(parc_act_t *to_, payload_t body_,            \
                                 parc_future_t **reply_)                      \
    {                                                                         \
        if (reply_ == NULL)                                                   \
            return 22; /* EINVAL, without <errno.h> in every user */          \
        return parc_act_msg_send_(to_, (tag), &body_, sizeof body_, reply_);  \
    }                                                                         \
    static inline bool name##_match(parc_msg_t *m_, payload_t **out_)         \
    {                                                                         \
        if (m_ == NULL || m_->type != (tag))                                  \
            return false;                                                     \
        *out_ = (payload_t *)parc_msg_data(m_);                               \
        return true;                                                          \
    }

PARC_END_DECLS

#include "parc/impl/act_msg.h"

#endif /* PARC_ACT_MSG_H */
