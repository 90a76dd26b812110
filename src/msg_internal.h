/* Private to the actor runtimes: the bits of parc_msg_t.flags_. */
#ifndef PARC_SRC_MSG_INTERNAL_H
#define PARC_SRC_MSG_INTERNAL_H

/* Counted against a bounded mailbox (src/act.c): the receiver gives the
 * slot back when it takes the message. */
#define PARC_MSG_COUNTED_ 1u
/* reply_ is a future in the asker's storage (parc_actor_ask): answering
 * completes it but does not release it. */
#define PARC_MSG_LOCAL_REPLY_ 2u

#endif /* PARC_SRC_MSG_INTERNAL_H */
