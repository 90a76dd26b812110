/* parc/generator.h: a generator is a fiber run by hand plus the two values
 * that cross each switch (the one yielded, the one sent). */
#include <errno.h>
#include <stdlib.h>

#include "parc/generator.h"

#include "fiber_internal.h"

struct parc_generator {
    parc_fiber_t *fiber;
    parc_generator_fn fn;
    void *arg;
    void *yielded;        /* body -> caller */
    void *sent;           /* caller -> body */
    int status;           /* what the body returned */
    bool started;
    bool closing;
    bool ended;           /* exhausted, failed or closed */
};

static void generator_main(void *arg)
{
    parc_generator_t *g = arg;
    g->status = g->fn(g, g->arg);
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

/* Run the body to its next yield or its end. */
static int step(parc_generator_t *g, void **value)
{
    g->started = true;
    int rc = parc_fiber_resume(g->fiber);
    if (rc == 0) {
        if (value != NULL)
            *value = g->yielded;
        return 0;
    }
    if (rc != EPIPE)
        return rc; /* EBUSY: running */
    if (g->ended)
        return EPIPE;
    g->ended = true;
    return g->status != 0 ? g->status : EPIPE;
}

int parc_generator_send(parc_generator_t *g, void *sent, void **value)
{
    if (g == NULL)
        return EINVAL;
    if (!g->started && sent != NULL)
        return EINVAL;
    if (g->ended)
        return EPIPE;
    g->sent = sent;
    return step(g, value);
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
    parc_fiber_yield();
    if (g->closing)
        return EPIPE;
    if (sent != NULL)
        *sent = g->sent;
    return 0;
}

int parc_generator_close(parc_generator_t *g)
{
    if (g == NULL)
        return EINVAL;
    if (g->ended)
        return 0;
    if (!g->started) {
        g->ended = true;
        return 0;
    }
    g->closing = true;
    int rc = parc_fiber_resume(g->fiber);
    if (rc == EBUSY) {
        g->closing = false;
        return EBUSY;
    }
    g->ended = true;
    return rc == EPIPE ? 0 : EPROTO;
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
