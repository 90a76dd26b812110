/*
 * parc/msg.h — messages, shared by both modes of parc's actors: the
 * thread-per-actor parc/actor.h and the scheduled parc/act.h (layer 4).
 *
 * Names in the actor layer: parc_msg_* here (what is sent), parc_actor_*
 * in parc/actor.h (the seed's Actor, a thread each), parc_act_* in
 * parc/act.h (scheduled actors, with their runtime parc_act_rt_*). Each
 * header's prefix is its file's name; messages have their own header
 * because both modes send the same parc_msg_t.
 *
 * Messages are intrusive: the user's message struct embeds a parc_msg_t
 * (usually first), so a send allocates nothing, and the receiver gets the
 * whole struct back with parc_msg_entry (container_of). For plain values,
 * parc_msg_new() copies bytes into a message of its own that
 * parc_msg_free() gives back: payloads up to 208 bytes come from
 * per-thread caches of recycled blocks in three size classes (a stream
 * from one thread to another costs no malloc nor free: the receiver's
 * frees go back to the sender's allocations in batches), larger ones
 * from malloc.
 *
 *     typedef struct greet { parc_msg_t hdr; char name[32]; } greet_t;
 *     greet_t *g = malloc(sizeof *g);
 *     parc_msg_init(&g->hdr, MY_GREET, my_free_greet);
 *     parc_act_send(a, &g->hdr);            // or parc_actor_send
 *     ...in the receiver:
 *     greet_t *g = parc_msg_entry(m, greet_t, hdr);
 *     parc_msg_free(m);                     // calls my_free_greet
 *
 * Ownership: a message belongs to the sender until a send returns 0, then
 * to the receiving actor, which disposes of it with parc_msg_free() (that
 * calls the message's dispose function, when it has one; an intrusive
 * message with dispose == NULL is simply the receiver's to reuse). A send
 * that fails leaves the message with the sender.
 *
 * Ask: a message may carry a reply future (parc/future.h), put there by
 * parc_actor_ask or parc_act_ask; the receiver answers with
 * parc_msg_reply(). A request disposed without an answer completes its
 * future with EPIPE, so an asker never waits for a reply that cannot come.
 */
#ifndef PARC_MSG_H
#define PARC_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "parc/api.h"
#include "parc/future.h"
#include "parc/mpsc.h"

PARC_BEGIN_DECLS

/** Message types below this are the runtime's own (a monitor's down, for
 * one); user types are any value >= PARC_MSG_USER. */
#define PARC_MSG_USER 16

typedef struct parc_msg parc_msg_t;

/** The header every message embeds (40 bytes). Fields ending in _ are the
 * runtime's. */
struct parc_msg {
    parc_mpsc_node_t node_;            /* the mailbox's link */
    int32_t type;                      /* the user's tag (>= PARC_MSG_USER) */
    uint32_t flags_;                   /* runtime's */
    void (*dispose)(parc_msg_t *m);    /* called by parc_msg_free; NULL: none */
    parc_future_t *reply_;             /* ask: the asker's future, or NULL */
    void *sender_;                     /* runtime's: the scheduled actor
                                        * (parc/act.h) that sent it, one
                                        * reference, or NULL */
};

/** The message embedding header `m` as `member` (container_of). */
#define parc_msg_entry(m, type, member) \
    ((type *)(void *)((char *)(m) - offsetof(type, member)))

/** Initialise a message header in caller storage with `type` and an
 * optional dispose function (called by parc_msg_free). Returns 0, EINVAL
 * for NULL m. Any thread; never blocks. */
PARC_API int parc_msg_init(parc_msg_t *m, int32_t type,
                           void (*dispose)(parc_msg_t *));

/** A plain-value message: a header followed by a copy of the `size`
 * bytes at `data` (data may be NULL when size is 0), in a recycled block
 * (size <= 208) or a malloc'd one; its dispose gives the block back.
 * Returns 0, EINVAL (NULL out, NULL data with size > 0), ENOMEM.
 * Any thread; never blocks. */
PARC_API int parc_msg_new(int32_t type, const void *data, size_t size,
                          parc_msg_t **out);

/** The payload of a parc_msg_new() message (aligned for any type). Any
 * thread; never blocks. */
PARC_API void *parc_msg_data(parc_msg_t *m);

/** Dispose of a received message: answers an unanswered ask with EPIPE,
 * then calls m->dispose (if any). NULL: no-op. Any thread; never blocks. */
PARC_API void parc_msg_free(parc_msg_t *m);

/** Answer an ask (a message sent by parc_actor_ask or parc_act_ask) with
 * status 0 and value, or an error, and dispose of the request as
 * parc_msg_free does: the receiver must not touch m afterwards (the asker
 * may already be reusing it). Returns 0, EINVAL (NULL m), EALREADY (not an
 * ask, or answered before; m is untouched then). The actor's thread (or
 * behaviour); never blocks. */
PARC_API int parc_msg_reply(parc_msg_t *m, int status, void *value);

PARC_END_DECLS

#endif /* PARC_MSG_H */
