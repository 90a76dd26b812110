/*
 * examples/generator.c — a Python generator, in C with parc.
 *
 * The Python this mirrors:
 *
 *     def fibonacci(limit):
 *         a, b = 0, 1
 *         while a < limit:
 *             yield a
 *             a, b = b, a + b
 *
 *     def averager():                 # a coroutine: send() feeds it
 *         total, n, avg = 0, 0, None
 *         while True:
 *             x = yield avg
 *             total += x; n += 1; avg = total / n
 *
 *     print(list(fibonacci(100)))
 *     avg = averager(); next(avg)
 *     for x in (10, 20, 60): print(avg.send(x))
 *     avg.close()
 *
 * Both are written twice: as stackful generators (parc_generator_t: the
 * body is a plain function on a fiber of its own, parc/fiber.h; a yield
 * switches back to the caller in a few nanoseconds, without a thread)
 * and fibonacci as a stackless one (parc_gen_t: the body is resumed at
 * its last yield, its locals in a struct, as Python resumes a generator's
 * frame; a value costs about a function call).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "parc/generator.h"

static int fibonacci(parc_generator_t *g, void *arg)
{
    intptr_t limit = (intptr_t)arg, a = 0, b = 1;
    while (a < limit) {
        if (parc_generator_yield(g, (void *)a, NULL) != 0)
            return 0; /* closed early */
        intptr_t next = a + b;
        a = b;
        b = next;
    }
    return 0; /* StopIteration */
}

static int averager(parc_generator_t *g, void *arg)
{
    double *avg = arg; /* the yielded value points here */
    intptr_t total = 0, n = 0;
    for (;;) {
        void *x;
        if (parc_generator_yield(g, n ? avg : NULL, &x) != 0) {
            printf("averager: closed after %ld values\n", (long)n);
            return 0; /* GeneratorExit */
        }
        total += (intptr_t)x;
        n++;
        *avg = (double)total / (double)n;
    }
}

/* fibonacci again, stackless: the locals live in the struct. */
typedef struct fib_gen {
    parc_gen_t gen;
    intptr_t limit, a, b;
} fib_gen_t;

static int fibonacci_stackless(parc_gen_t *g, void *out)
{
    fib_gen_t *f = (fib_gen_t *)g;
    PARC_GEN_BEGIN(g);
    f->a = 0;
    f->b = 1;
    while (f->a < f->limit) {
        PARC_GEN_YIELD(g, *(intptr_t *)out = f->a);
        intptr_t next = f->a + f->b;
        f->a = f->b;
        f->b = next;
    }
    PARC_GEN_END(g); /* StopIteration */
}

int main(void)
{
    parc_generator_t *fib;
    if (parc_generator_create(&fib, fibonacci, (void *)(intptr_t)100, NULL) != 0)
        return 1;
    printf("[");
    void *v;
    int rc;
    for (int i = 0; (rc = parc_generator_next(fib, &v)) == 0; i++)
        printf("%s%ld", i ? ", " : "", (long)(intptr_t)v);
    printf("]\n");
    parc_generator_free(fib);
    if (rc != EPIPE)
        return 1;

    fib_gen_t sfib = { PARC_GEN_INIT, 100, 0, 0 };
    intptr_t x;
    printf("[");
    for (int i = 0; (rc = parc_gen_next(&sfib.gen, fibonacci_stackless, &x)) == 0; i++)
        printf("%s%ld", i ? ", " : "", (long)x);
    printf("]  (stackless)\n");
    if (rc != EPIPE)
        return 1;

    double avg_value;
    parc_generator_t *avg;
    if (parc_generator_create(&avg, averager, &avg_value, NULL) != 0)
        return 1;
    parc_generator_next(avg, &v); /* prime it: run to the first yield */
    const intptr_t xs[] = { 10, 20, 60 };
    for (int i = 0; i < 3; i++) {
        if (parc_generator_send(avg, (void *)xs[i], &v) != 0)
            return 1;
        printf("%.1f\n", *(double *)v);
    }
    rc = parc_generator_close(avg);
    parc_generator_free(avg);
    return rc == 0 ? 0 : 1;
}
