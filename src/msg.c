/* Messages (parc/msg.h): their headers, plain-value messages, and the
 * answer to an ask, shared by both actor modes.
 *
 * Plain-value messages come from three size classes of the runtime's
 * recycling allocator (recycle.h), larger ones from malloc. The typical
 * stream is made on one thread and freed on another (a sender and its
 * receiver): the receiver's frees fill its thread cache, then go in
 * chains of MSG_BATCH to the class's shared stack with one CAS, and the
 * sender, its cache empty, takes the whole stack with one exchange: a
 * message costs neither a malloc nor a free, and the two threads meet on
 * one cache line per MSG_BATCH messages (the remote-free batching of
 * Pony's pool allocator and snmalloc, on the recycler's shared stack).
 * Rejected: one class sized for any payload (a counter's 8 bytes would
 * pay for a line it never touches); per-receiver return queues as in
 * snmalloc (the receiver of a parc message is an actor, not a thread,
 * and a thread's frees already go out in batches).
 *
 * The class is not stored in the message: each class has its own
 * dispose function, which the receiver calls through m->dispose. */
#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "msg_internal.h"
#include "parc/msg.h"
#include "recycle.h"

/* A plain-value message: header, then the payload at a max_align_t
 * boundary. */
typedef struct value_msg {
    parc_msg_t m;
    alignas(max_align_t) unsigned char data[];
} value_msg_t;

/* The header's fields (parc_msg_init without its check; inlined into
 * parc_msg_new, which exported parc_msg_init cannot be). */
static inline void header_init(parc_msg_t *m, int32_t type,
                               void (*dispose)(parc_msg_t *))
{
    memset(&m->node_, 0, sizeof m->node_);
    m->type = type;
    m->flags_ = 0;
    m->dispose = dispose;
    m->reply_ = NULL;
    m->sender_ = NULL;
}

int parc_msg_init(parc_msg_t *m, int32_t type, void (*dispose)(parc_msg_t *))
{
    if (m == NULL)
        return EINVAL;
    header_init(m, type, dispose);
    return 0;
}

/* Copy a payload: up to 16 bytes (a counter, a pointer or two: the
 * common message) with two fixed-size copies, which compile to moves;
 * memcpy's call costs more than such a copy. */
static inline void payload_copy(unsigned char *to, const void *from,
                                size_t size)
{
    const unsigned char *f = from;
    if (size >= 8 && size <= 16) {
        memcpy(to, f, 8);
        memcpy(to + size - 8, f + size - 8, 8); /* overlaps below 16 */
    } else if (size > 0) {
        memcpy(to, f, size);
    }
}

/* The classes' block sizes: header and payload (offsetof(value_msg_t,
 * data) is 48 on LP64): one line, two, four. */
#define MSG_CLASS0 64u
#define MSG_CLASS1 128u
#define MSG_CLASS2 256u
/* A thread keeps up to MSG_CACHE blocks of a class; chains of MSG_BATCH
 * go to the shared stack, which keeps about MSG_SHARED (beyond that,
 * back to free: a burst does not pin its peak forever). */
#define MSG_CACHE 512u
#define MSG_BATCH 128u
#define MSG_SHARED 65536u

_Static_assert(offsetof(value_msg_t, data) < MSG_CLASS0,
               "the smallest class holds a header and some payload");

static parc_recycler_t msg_class[3] = {
    PARC_RECYCLE_HEAP_INIT(MSG_CLASS0, MSG_CACHE, MSG_BATCH, MSG_SHARED),
    PARC_RECYCLE_HEAP_INIT(MSG_CLASS1, MSG_CACHE, MSG_BATCH, MSG_SHARED),
    PARC_RECYCLE_HEAP_INIT(MSG_CLASS2, MSG_CACHE, MSG_BATCH, MSG_SHARED),
};
/* initial-exec: a %fs-relative access, no __tls_get_addr call per
 * message in the shared library (as pool_internal.h's POOL_TLS). */
#if defined(__GNUC__)
#define MSG_TLS __attribute__((tls_model("initial-exec")))
#else
#define MSG_TLS
#endif
static _Thread_local parc_recycle_cache_t msg_cache[3] MSG_TLS;

static void value_dispose0(parc_msg_t *m)
{
    parc_recycle_free(&msg_class[0], &msg_cache[0],
                      parc_msg_entry(m, value_msg_t, m));
}

static void value_dispose1(parc_msg_t *m)
{
    parc_recycle_free(&msg_class[1], &msg_cache[1],
                      parc_msg_entry(m, value_msg_t, m));
}

static void value_dispose2(parc_msg_t *m)
{
    parc_recycle_free(&msg_class[2], &msg_cache[2],
                      parc_msg_entry(m, value_msg_t, m));
}

static void value_dispose_big(parc_msg_t *m)
{
    free(parc_msg_entry(m, value_msg_t, m));
}

int parc_msg_new(int32_t type, const void *data, size_t size, parc_msg_t **out)
{
    if (out == NULL || (data == NULL && size > 0))
        return EINVAL;
    size_t bytes = offsetof(value_msg_t, data) + size;
    if (bytes < size) /* wrapped */
        return ENOMEM;
    value_msg_t *v;
    void (*dispose)(parc_msg_t *);
    if (bytes <= MSG_CLASS0) {
        v = parc_recycle_alloc(&msg_class[0], &msg_cache[0]);
        dispose = value_dispose0;
    } else if (bytes <= MSG_CLASS1) {
        v = parc_recycle_alloc(&msg_class[1], &msg_cache[1]);
        dispose = value_dispose1;
    } else if (bytes <= MSG_CLASS2) {
        v = parc_recycle_alloc(&msg_class[2], &msg_cache[2]);
        dispose = value_dispose2;
    } else {
        v = malloc(bytes);
        dispose = value_dispose_big;
    }
    if (v == NULL)
        return ENOMEM;
    header_init(&v->m, type, dispose);
    payload_copy(v->data, data, size);
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
