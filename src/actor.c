/* Messages and the thread-per-actor mode (parc/actor.h). */
#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "parc/actor.h"

/* ---- messages ----------------------------------------------------------- */

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

void parc_msg_free(parc_msg_t *m)
{
    if (m == NULL)
        return;
    parc_future_t *f = m->reply_;
    m->reply_ = NULL;
    /* Dispose before answering: once the future completes, the asker may
     * reuse a message that lives in its own storage. */
    if (m->dispose != NULL)
        m->dispose(m);
    if (f != NULL) { /* an ask nobody answered: the asker learns EPIPE */
        parc_future_complete(f, EPIPE, NULL);
        parc_future_release(f);
    }
}

/* ---- thread-per-actor --------------------------------------------------- */

static parc_msg_t *msg_of(parc_mpsc_node_t *n)
{
    return parc_mpsc_entry(n, parc_msg_t, node_);
}

int parc_actor_init(parc_actor_t *a, parc_actor_run_fn run, void *arg)
{
    if (a == NULL || run == NULL)
        return EINVAL;
    int rc = parc_mpsc_init(&a->mbox);
    if (rc != 0)
        return rc;
    a->run = run;
    a->arg = arg;
    parc_atomic_init(&a->phase, PARC_ACTOR_NEW_);
    a->status = 0;
    return parc_event_init(&a->done);
}

static void *actor_main(void *arg)
{
    parc_actor_t *a = arg;
    a->status = a->run(a, a->arg);
    /* run() is over: nobody will receive any more. Refuse later sends;
     * what is still queued is disposed by destroy. */
    parc_mpsc_close(&a->mbox);
    /* parc_event_set publishes status (release) to join's wait. */
    parc_event_set(&a->done);
    return NULL;
}

int parc_actor_start(parc_actor_t *a)
{
    if (a == NULL)
        return EINVAL;
    uint32_t expect = PARC_ACTOR_NEW_;
    /* relaxed: the CAS only elects the one starter; pthread_create
     * publishes the actor to the new thread. */
    if (!parc_cas(&a->phase, &expect, PARC_ACTOR_STARTED_, PARC_RELAXED,
                  PARC_RELAXED))
        return EALREADY;
    if (pthread_create(&a->thread, NULL, actor_main, a) != 0) {
        parc_store(&a->phase, PARC_ACTOR_NEW_, PARC_RELAXED);
        return EAGAIN;
    }
    return 0;
}

int parc_actor_send(parc_actor_t *a, parc_msg_t *m)
{
    if (a == NULL || m == NULL)
        return EINVAL;
    return parc_mpsc_push(&a->mbox, &m->node_, NULL);
}

/* Hand a popped node out as its message (rc == 0 only). */
static int recv_result(int rc, parc_mpsc_node_t *const *n, parc_msg_t **out)
{
    if (rc == 0)
        *out = msg_of(*n);
    return rc;
}

int parc_actor_recv(parc_actor_t *a, parc_msg_t **out)
{
    if (a == NULL || out == NULL)
        return EINVAL;
    parc_mpsc_node_t *n = NULL;
    return recv_result(parc_mpsc_pop(&a->mbox, &n), &n, out);
}

int parc_actor_recv_try(parc_actor_t *a, parc_msg_t **out)
{
    if (a == NULL || out == NULL)
        return EINVAL;
    parc_mpsc_node_t *n = NULL;
    return recv_result(parc_mpsc_pop_try(&a->mbox, &n), &n, out);
}

int parc_actor_recv_timed(parc_actor_t *a, parc_msg_t **out,
                          int64_t timeout_ns)
{
    if (a == NULL || out == NULL || timeout_ns < 0)
        return EINVAL;
    parc_mpsc_node_t *n = NULL;
    return recv_result(parc_mpsc_pop_timed(&a->mbox, &n, timeout_ns), &n, out);
}

int parc_actor_close(parc_actor_t *a)
{
    if (a == NULL)
        return EINVAL;
    return parc_mpsc_close(&a->mbox);
}

static int join_common(parc_actor_t *a, int *status, bool timed,
                       int64_t timeout_ns)
{
    if (a == NULL || (timed && timeout_ns < 0))
        return EINVAL;
    uint32_t ph = parc_load(&a->phase, PARC_RELAXED);
    if (ph == PARC_ACTOR_NEW_)
        return EINVAL;
    if (ph == PARC_ACTOR_JOINED_)
        return EALREADY;
    if (pthread_equal(pthread_self(), a->thread))
        return EDEADLK;
    int rc = timed ? parc_event_wait_timed(&a->done, timeout_ns)
                   : parc_event_wait(&a->done);
    if (rc != 0)
        return rc;
    uint32_t expect = PARC_ACTOR_STARTED_;
    /* relaxed: elects the one joiner; the event's acquire already made
     * status visible. */
    if (!parc_cas(&a->phase, &expect, PARC_ACTOR_JOINED_, PARC_RELAXED,
                  PARC_RELAXED))
        return EALREADY;
    pthread_join(a->thread, NULL); /* run() is over: returns promptly */
    if (status != NULL)
        *status = a->status;
    return 0;
}

int parc_actor_join(parc_actor_t *a, int *status)
{
    return join_common(a, status, false, 0);
}

int parc_actor_join_timed(parc_actor_t *a, int *status, int64_t timeout_ns)
{
    return join_common(a, status, true, timeout_ns);
}

int parc_actor_destroy(parc_actor_t *a)
{
    if (a == NULL)
        return EINVAL;
    if (parc_load(&a->phase, PARC_RELAXED) == PARC_ACTOR_STARTED_)
        return EBUSY;
    parc_mpsc_close(&a->mbox);
    parc_mpsc_node_t *n;
    while (parc_mpsc_pop(&a->mbox, &n) == 0)
        parc_msg_free(msg_of(n));
    parc_event_destroy(&a->done);
    parc_mpsc_destroy(&a->mbox);
    return 0;
}
