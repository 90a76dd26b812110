/*
 * parc/generator.h — generators: a function that yields values to its
 * caller one at a time, Python's generator protocol in C (layer 3, on
 * parc/fiber.h). Two forms, one protocol:
 *
 *   stackful   parc_generator_t: the body is an ordinary C function
 *              running on a fiber of its own, and may yield from any
 *              depth of nested calls (a recursive tree walk, a parser
 *              that yields tokens from deep inside). A value costs a
 *              round trip of context switches (two switches; a few ns
 *              each) plus a call into the library: tens of times a
 *              callback, still several times faster than Python.
 *   stackless  parc_gen_t: the body is a state machine resumed at its
 *              last yield (a switch on the yield's number, the technique
 *              of Duff's device and Simon Tatham's "Coroutines in C"),
 *              its locals kept in a struct of the caller's; no stack, no
 *              switch, no allocation, and the step functions are inline,
 *              so a compiler that sees the body inlines the whole
 *              generator into the caller's loop: a value costs about what
 *              a callback costs. This is what Python's own generators
 *              are: a frame object resumed at its yield instruction, not
 *              a stack (PEP 255). The price: yields only in the body
 *              itself (not in functions it calls), no yield inside a
 *              `switch` statement of the body, and no automatic variable
 *              keeps its value across a yield (keep state in the struct).
 *
 * Names: parc_generator_* for the stackful form, parc_gen_* for the
 * stackless one. They are two types with different storage (a fiber of
 * the library's, a struct of the caller's) and different costs, and the
 * short prefix marks the form whose calls are inline.
 *
 * Use the stackless form where the body is a loop (counting, iterating a
 * container, a pipeline stage, a lexer's main loop) and the cost of a
 * value matters; use the stackful form when a yield must come from inside
 * nested calls or a body that already exists as a plain function.
 * Rejected: a single stackful form with a faster switch. Two switches
 * per value cannot come within 2x of a callback (a call is ~1-2 ns, the
 * cheapest switch pair about 7 ns), and batching values per switch would
 * change the protocol (send could no longer answer each value).
 *
 * The protocol (PEP 255, PEP 342), the same for both forms:
 *
 *   Python                          parc (stackful)
 *   def count(n):                   static int count(parc_generator_t *g, void *arg)
 *       i = 0                       {   for (intptr_t i = 0; i < (intptr_t)arg; i++)
 *       while i < n:                        if (parc_generator_yield(g, (void *)i, NULL))
 *           yield i                             return 0;   // closed: GeneratorExit
 *           i += 1                      return 0;           // StopIteration
 *                                   }
 *   for v in count(3): ...          while (parc_generator_next(g, &v) == 0) ...
 *   raise StopIteration             next returns EPIPE
 *   g.send(x)                       parc_generator_send(g, x, &v)
 *   g.close() -> GeneratorExit      parc_generator_close(g): the pending
 *                                   parc_generator_yield returns EPIPE
 *   an exception from the body      the body returns an errno value: next
 *                                   returns it once, then EPIPE
 *
 *   the same count, stackless:
 *     typedef struct { parc_gen_t gen; intptr_t i, n; } count_t;
 *     static int count(parc_gen_t *g, void *out)
 *     {
 *         count_t *c = (count_t *)g;
 *         PARC_GEN_BEGIN(g);
 *         for (c->i = 0; c->i < c->n; c->i++)
 *             PARC_GEN_YIELD(g, *(intptr_t *)out = c->i);
 *         PARC_GEN_END(g);                       // StopIteration
 *     }
 *     count_t c = { PARC_GEN_INIT, 0, 3 };
 *     intptr_t v;
 *     while (parc_gen_next(&c.gen, count, &v) == 0) ...
 *
 * Stackful values are void pointers (intptr_t casts carry integers);
 * stackless values are whatever the body writes through `out`. Both run
 * the body on the thread that calls next/send, which waits meanwhile; a
 * blocking parc call in a stackful body blocks that thread (a generator
 * is not spawned on a pool). Threads: one caller at a time per generator;
 * a call made while the body runs (recursion, or another thread) gets
 * EBUSY, Python's "generator already executing" (for the stackless form
 * the check is a plain flag: two threads racing on one stackless
 * generator are a data race, as on any unsynchronized struct); a
 * generator may be driven from different threads one after another.
 */
#ifndef PARC_GENERATOR_H
#define PARC_GENERATOR_H

#include <errno.h>
#include <stddef.h>

#include "parc/api.h"
#include "parc/fiber.h"
#include "parc/status.h"

PARC_BEGIN_DECLS

typedef struct parc_generator parc_generator_t;

/* A generator's body: yields with parc_generator_yield(g, ...); returns 0
 * when exhausted (StopIteration) or an errno value (an exception). */
typedef int (*parc_generator_fn)(parc_generator_t *g, void *arg);

/**
 * Create a generator that will run fn(g, arg) at its first next/send, on
 * a fiber with `attr` (NULL: defaults), into *out. Any thread; never
 * blocks. Returns 0; EINVAL when out or fn is NULL; ENOMEM.
 */
PARC_API int parc_generator_create(parc_generator_t **out, parc_generator_fn fn,
                                   void *arg, const parc_fiber_attr_t *attr);

/**
 * Python's next(g): run the body until its next yield and store the
 * yielded value in *value (when value is not NULL). Runs the body on the
 * calling thread. Returns 0 with a value; EPIPE when the body returned 0
 * (StopIteration), now or before, or the generator was closed; the body's
 * error code, once, when it returned one (EPIPE after that); EBUSY when
 * the generator is running (a recursive or concurrent call); EINVAL when
 * g is NULL.
 */
PARC_API int parc_generator_next(parc_generator_t *g, void **value);

/**
 * Python's g.send(sent): resume the body, whose pending
 * parc_generator_yield receives `sent`, and store the next yielded value
 * in *value. Returns as parc_generator_next; also EINVAL when the
 * generator has not started and sent is not NULL (Python's "can't send
 * non-None value to a just-started generator").
 */
PARC_API int parc_generator_send(parc_generator_t *g, void *sent, void **value);

/**
 * Python's g.close(): a suspended body's pending parc_generator_yield
 * returns EPIPE (GeneratorExit) and the body should return; one not
 * started never runs. Afterwards next/send return EPIPE. Returns 0 (also
 * when already finished or closed); the body's error code when it
 * returned one while closing (Python's close re-raises); EPROTO when the
 * body yielded again instead of returning (Python's "generator ignored
 * GeneratorExit"; the generator is then closed and its stack abandoned);
 * EBUSY when running; EINVAL when g is NULL.
 */
PARC_API int parc_generator_close(parc_generator_t *g);

/**
 * Inside the body of g: hand `value` to the caller's next/send and wait
 * for the next one. Returns 0 with the sent value in *sent (NULL after a
 * plain next; sent may be NULL); EPIPE when the generator is being closed
 * (return from the body, after cleaning up); EPERM when not called from
 * g's body.
 */
PARC_API int parc_generator_yield(parc_generator_t *g, void *value, void **sent);

/**
 * Free g. A suspended body is abandoned without unwinding (close it first
 * to let it clean up). Any thread. Returns 0; EINVAL when g is NULL;
 * EBUSY when it is running (nothing freed).
 */
PARC_API int parc_generator_free(parc_generator_t *g);

/* ---- stackless generators ------------------------------------------------- */

/* The protocol state of a stackless generator; embed it (first member, or
 * recover the container from it) in the struct that holds the body's
 * locals, and initialise it with PARC_GEN_INIT. Fields are private. */
typedef struct parc_gen {
    int at_;        /* 0 not started, -1 finished, -2 running, else the
                       number of the yield it waits at */
    int closing_;   /* parc_gen_close is resuming it */
    void *sent_;    /* the value parc_gen_send passed */
} parc_gen_t;

#define PARC_GEN_INIT { 0, 0, NULL }

/* A stackless body: advances g to its next yield, writing the value
 * through out; returns 0 (a value), EPIPE (exhausted) or an errno value
 * (failed). Written with the macros below; called through parc_gen_next,
 * parc_gen_send and parc_gen_close, never directly. */
typedef int (*parc_gen_fn)(parc_gen_t *g, void *out);

/* Opens a body: resumes it where it last yielded. Returns EBUSY when the
 * body is running, EPIPE once it has finished. */
#define PARC_GEN_BEGIN(g)                                                   \
    int parc_gen_at_ = (g)->at_;                                            \
    if (parc_gen_at_ == -2)                                                 \
        return EBUSY;                                                       \
    (g)->at_ = -2;                                                          \
    switch (parc_gen_at_) {                                                 \
    default:                                                                \
        (g)->at_ = -1;                                                      \
        return EPIPE;                                                       \
    case 0:

/* Python's `yield`: evaluates `produce` (typically `*(T *)out = value`),
 * hands control back (next/send return 0) and continues here at the next
 * call. When the generator is being closed, the body ends here (close
 * returns 0): Python's GeneratorExit, not caught. */
#define PARC_GEN_YIELD(g, produce) PARC_GEN_YIELD_((g), produce, PARC_GEN_ID_, 1)

/* As PARC_GEN_YIELD, but a close continues the body after the yield with
 * parc_gen_closing(g) true, to clean up and PARC_GEN_RETURN (GeneratorExit
 * caught). A body that yields again instead makes close return EPROTO. */
#define PARC_GEN_YIELD_CATCH(g, produce) PARC_GEN_YIELD_((g), produce, PARC_GEN_ID_, 0)

/* Ends the body: `return rc` of a Python generator with rc 0
 * (StopIteration: next/send return EPIPE) or an errno value (an
 * exception: returned once, then EPIPE). */
#define PARC_GEN_RETURN(g, rc)                                              \
    do {                                                                    \
        int parc_gen_rc_ = (rc);                                            \
        (g)->at_ = -1;                                                      \
        return parc_gen_rc_ != 0 ? parc_gen_rc_ : EPIPE;                    \
    } while (0)

/* Closes a body: falling off its end is StopIteration. */
#define PARC_GEN_END(g)                                                     \
    }                                                                       \
    (g)->at_ = -1;                                                          \
    return EPIPE

#ifdef __COUNTER__
#define PARC_GEN_ID_ (__COUNTER__ + 1)  /* several yields may share a line */
#else
#define PARC_GEN_ID_ __LINE__           /* one yield per line */
#endif
#define PARC_GEN_YIELD_(g, produce, id, ends_on_close) PARC_GEN_YIELD__(g, produce, id, ends_on_close)
#define PARC_GEN_YIELD__(g, produce, id, ends_on_close)                     \
    do {                                                                    \
        produce;                                                            \
        (g)->at_ = (id);                                                    \
        return 0;                                                           \
    case (id):                                                              \
        if ((ends_on_close) && (g)->closing_) {                             \
            (g)->at_ = -1;                                                  \
            return EPIPE;                                                   \
        }                                                                   \
    } while (0)

/**
 * Python's next(g) for a stackless generator: run `body` from where g
 * last yielded to its next yield, which writes the value through `out`
 * (a pointer to the caller's variable of the body's value type). Inline;
 * runs on the calling thread. Returns 0 with a value; EPIPE when the body
 * has finished (StopIteration), now or before, or g was closed; the
 * body's error code once (PARC_GEN_RETURN), EPIPE after that; EBUSY when
 * the body is running (a recursive call); EINVAL when g or body is NULL.
 */
static inline int parc_gen_next(parc_gen_t *g, parc_gen_fn body, void *out)
{
    if (g == NULL || body == NULL)
        return EINVAL;
    g->sent_ = NULL;
    return body(g, out);
}

/**
 * Python's g.send(sent) for a stackless generator: as parc_gen_next, and
 * the body reads `sent` with parc_gen_sent(g) after the yield it resumes
 * at. Returns as parc_gen_next; also EINVAL when g has not started and
 * sent is not NULL (Python's "can't send non-None value to a
 * just-started generator").
 */
static inline int parc_gen_send(parc_gen_t *g, parc_gen_fn body, void *sent, void *out)
{
    if (g == NULL || body == NULL || (g->at_ == 0 && sent != NULL))
        return EINVAL;
    g->sent_ = sent;
    return body(g, out);
}

/**
 * Inside a stackless body, after a yield: the value the call that resumed
 * it passed to parc_gen_send (NULL after parc_gen_next). Never blocks.
 */
static inline void *parc_gen_sent(const parc_gen_t *g)
{
    return g->sent_;
}

/**
 * Inside a stackless body resumed after PARC_GEN_YIELD_CATCH: whether
 * the resume is parc_gen_close's (clean up and PARC_GEN_RETURN). Never
 * blocks.
 */
static inline int parc_gen_closing(const parc_gen_t *g)
{
    return g->closing_;
}

/**
 * Python's g.close() for a stackless generator: a body suspended at a
 * PARC_GEN_YIELD ends there; one suspended at a PARC_GEN_YIELD_CATCH
 * continues with parc_gen_closing(g) true, to clean up and return; one
 * not started never runs. Afterwards next/send return EPIPE. `out` is
 * passed to the body as next does (written only by a body that yields
 * again). Returns 0; the body's error code when it returned one while
 * closing; EPROTO when it yielded again instead of returning (Python's
 * "generator ignored GeneratorExit"; it is closed anyway); EBUSY when
 * running; EINVAL when g or body is NULL.
 */
static inline int parc_gen_close(parc_gen_t *g, parc_gen_fn body, void *out)
{
    if (g == NULL || body == NULL)
        return EINVAL;
    if (g->at_ == -2)
        return EBUSY;
    if (g->at_ <= 0) {          /* not started, or finished */
        g->at_ = -1;
        return 0;
    }
    g->closing_ = 1;
    g->sent_ = NULL;
    int rc = body(g, out);
    g->closing_ = 0;
    g->at_ = -1;
    if (rc == 0)
        return EPROTO;
    return rc == EPIPE ? 0 : rc;
}

/** Whether the stackless generator g has finished (or was closed). */
static inline int parc_gen_done(const parc_gen_t *g)
{
    return g->at_ == -1;
}

PARC_END_DECLS

#endif /* PARC_GENERATOR_H */
