/* parc/generator.h, the stackful form: a generator is a fiber run by hand
 * plus the values that cross each switch (the one yielded, the one
 * sent). The stackless form is all inline in the header.
 *
 * A value costs one round trip of switches and no return across a stack
 * swap: next/send end in a tail jump into the switch (through
 * parc_fiber_resume_with_), the body's yield too (parc_fiber_yield_with_),
 * and the work each side would do after its switch returns runs as a
 * hook on the arriving side instead: `delivered` stores the yielded value
 * into the caller's variable before the fiber counts as suspended,
 * `resumed` hands the sent value (or GeneratorExit) to the pending
 * yield. A return after a swap would go back through a return address the
 * processor's return predictor did not see pushed, a misprediction per
 * switch. */
#include <errno.h>
#include <stdlib.h>

#include "parc/generator.h"

#include "fiber_internal.h"

struct parc_generator {
    parc_fiber_t *fiber;
    parc_generator_fn fn;
    void *arg;
    void *yielded;        /* body -> caller */
    void **out;           /* where the caller wants it (or NULL) */
    void *sent;           /* caller -> body */
    void **sent_out;      /* where the body wants it (or NULL) */
    bool started;
    bool closing;
    bool closed;          /* close ran: next/send return EPIPE */
};

static void generator_main(void *arg)
{
    parc_generator_t *g = arg;
    int status = g->fn(g, g->arg);
    /* What the finishing next/send returns: the body's error, once (a
     * resume after that finds the fiber done: EPIPE). */
    g->fiber->exit_rc = status != 0 ? status : EPIPE;
}

int parc_generator_create(parc_generator_t **out, parc_generator_fn fn,
                          void *arg, const parc_fiber_attr_t *attr)
{
    if (out == NULL || fn == NULL)
        return EINVAL;
    parc_generator_t *g = calloc(1, sizeof *g);
    if (g == NULL)
        return ENOMEM;
    g->fn = fn;
    g->arg = arg;
    int rc = parc_fiber_create(&g->fiber, generator_main, g, attr);
    if (rc != 0) {
        free(g);
        return rc;
    }
    *out = g;
    return 0;
}

/* On the caller's side of a yield. */
static void delivered(void *arg)
{
    parc_generator_t *g = arg;
    if (g->out != NULL)
        *g->out = g->yielded;
}

/* On the body's side of a resume: what its pending yield returns. */
static void *resumed(void *arg)
{
    parc_generator_t *g = arg;
    if (g->closing)
        return (void *)(intptr_t)EPIPE;
    if (g->sent_out != NULL)
        *g->sent_out = g->sent;
    return NULL;
}

int parc_generator_send(parc_generator_t *g, void *sent, void **value)
{
    if (g == NULL)
        return EINVAL;
    if (!g->started && sent != NULL)
        return EINVAL;
    if (g->closed)
        return EPIPE;
    g->started = true;
    g->sent = sent;
    g->out = value;
    return parc_fiber_resume_with_(g->fiber, resumed, g);
}

int parc_generator_next(parc_generator_t *g, void **value)
{
    return parc_generator_send(g, NULL, value);
}

int parc_generator_yield(parc_generator_t *g, void *value, void **sent)
{
    if (g == NULL || parc_fiber_self_() != g->fiber)
        return EPERM;
    g->yielded = value;
    g->sent_out = sent;
    return parc_fiber_yield_with_(g->fiber, delivered, g);
}

int parc_generator_close(parc_generator_t *g)
{
    if (g == NULL)
        return EINVAL;
    if (g->closed || parc_fiber_done(g->fiber))
        return 0;
    if (!g->started) {
        g->closed = true;
        return 0;
    }
    g->closing = true;
    g->out = NULL;
    int rc = parc_fiber_resume_with_(g->fiber, resumed, g);
    g->closing = false;
    if (rc == EBUSY)
        return EBUSY;
    g->closed = true;
    if (rc == 0)
        return EPROTO; /* yielded again */
    return rc == EPIPE ? 0 : rc;
}

int parc_generator_free(parc_generator_t *g)
{
    if (g == NULL)
        return EINVAL;
    int rc = parc_fiber_free(g->fiber);
    if (rc != 0)
        return rc;
    free(g);
    return 0;
}
