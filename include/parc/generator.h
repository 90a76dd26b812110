/*
 * parc/generator.h — generators: a function that yields values to its
 * caller one at a time, Python's generator protocol in C (layer 3, on
 * parc/fiber.h).
 *
 * The body runs on a fiber of its own (a stack; see parc/fiber.h for
 * sizes and guard pages) and calls parc_generator_yield where a Python
 * generator says `yield`; the caller pulls values with next or send, as
 * Python's next(g) and g.send(v) do (PEP 255, PEP 342):
 *
 *   Python                          parc
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
 * Values are void pointers (intptr_t casts carry integers). The body runs
 * on the thread that calls next/send, which waits meanwhile; a blocking
 * parc call in the body blocks that thread (a generator is not spawned on
 * a pool). Threads: one caller at a time per generator (a second one
 * meanwhile gets EBUSY, Python's "generator already executing"); the
 * generator may be driven from different threads one after another.
 */
#ifndef PARC_GENERATOR_H
#define PARC_GENERATOR_H

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
 * started never runs. Afterwards next/send return EPIPE. Returns 0;
 * EPROTO when the body yielded again instead of returning (Python's
 * "generator ignored GeneratorExit"; the generator is then closed and its
 * stack abandoned); EBUSY when running; EINVAL when g is NULL.
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

PARC_END_DECLS

#endif /* PARC_GENERATOR_H */
