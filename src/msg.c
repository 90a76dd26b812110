/* Messages (parc/msg.h): their headers, plain-value messages, and the
 * answer to an ask, shared by both actor modes. */
#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "msg_internal.h"
#include "parc/msg.h"

/* A plain-value message: header, then the payload at a max_align_t
 * boundary. */
typedef struct value_msg {
    parc_msg_t m;
    alignas(max_align_t) unsigned char data[];
} value_msg_t;

int parc_msg_init(parc_msg_t *m, int32_t type, void (*dispose)(parc_msg_t *))
{
    if (m == NULL)
        return EINVAL;
    memset(&m->node_, 0, sizeof m->node_);
    m->type = type;
    m->flags_ = 0;
    m->dispose = dispose;
    m->reply_ = NULL;
    m->sender_ = NULL;
    return 0;
}

static void value_dispose(parc_msg_t *m)
{
    free(parc_msg_entry(m, value_msg_t, m));
}

int parc_msg_new(int32_t type, const void *data, size_t size, parc_msg_t **out)
{
    if (out == NULL || (data == NULL && size > 0))
        return EINVAL;
    value_msg_t *v = malloc(sizeof *v + size);
    if (v == NULL)
        return ENOMEM;
    parc_msg_init(&v->m, type, value_dispose);
    if (size > 0)
        memcpy(v->data, data, size);
    *out = &v->m;
    return 0;
}

void *parc_msg_data(parc_msg_t *m)
{
    return m == NULL ? NULL : parc_msg_entry(m, value_msg_t, m)->data;
}

/* Complete an ask's reply future and drop the message's reference (a
 * heap future's). A caller-storage reply (parc_actor_ask) is the asker's
 * again the moment it completes, and parc_future_release would read it
 * afterwards: the message's flag says which (read from the message, not
 * the future, whose line the asker is polling: the completing RMW should
 * be our first touch of it, not a read and then an upgrade). */
static int answer(parc_future_t *f, bool local, int status, void *value)
{
    int rc = parc_future_complete(f, status, value);
    if (!local)
        parc_future_release(f);
    return rc;
}

/* Detach m's reply future (NULL: none) and dispose of m. Dispose comes
 * before the answer: once the future completes, the asker may reuse or
 * free a message that lives in its own storage. */
static parc_future_t *detach_and_dispose(parc_msg_t *m, bool *local)
{
    parc_future_t *f = m->reply_;
    *local = (m->flags_ & PARC_MSG_LOCAL_REPLY_) != 0;
    m->reply_ = NULL;
    m->flags_ &= ~PARC_MSG_LOCAL_REPLY_;
    if (m->dispose != NULL)
        m->dispose(m);
    return f;
}

void parc_msg_free(parc_msg_t *m)
{
    if (m == NULL)
        return;
    bool local;
    parc_future_t *f = detach_and_dispose(m, &local);
    if (f != NULL) /* an ask nobody answered: the asker learns EPIPE */
        answer(f, local, EPIPE, NULL);
}

int parc_msg_reply(parc_msg_t *m, int status, void *value)
{
    if (m == NULL)
        return EINVAL;
    if (m->reply_ == NULL)
        return EALREADY;
    bool local;
    parc_future_t *f = detach_and_dispose(m, &local);
    return answer(f, local, status, value);
}
