/* bench/issue12: fixed-size workloads timed by wall clock and by the
 * process's CPU time, built against two checkouts of parc (cpu_ab.sh).
 * On a machine shared with other work the wall clock mostly measures
 * the load; the CPU time the process spent (all its threads, user and
 * system) per operation is what the code costs. */
#ifndef ISSUE12_COMMON_H
#define ISSUE12_COMMON_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t clock_ns(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Run `rep` reps times on ops operations; print the median wall and CPU
 * nanoseconds per operation. */
static int run_reps(long ops, int reps, int (*rep)(long ops))
{
    double wall[64], cpu[64];
    if (reps < 1 || reps > 64)
        return 1;
    for (int k = 0; k < reps; k++) {
        int64_t w0 = clock_ns(CLOCK_MONOTONIC);
        int64_t c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
        if (rep(ops) != 0)
            return 2;
        wall[k] = (double)(clock_ns(CLOCK_MONOTONIC) - w0) / (double)ops;
        cpu[k] = (double)(clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / (double)ops;
    }
    qsort(wall, (size_t)reps, sizeof wall[0], cmp_double);
    qsort(cpu, (size_t)reps, sizeof cpu[0], cmp_double);
    printf("%.3f %.3f\n", wall[reps / 2], cpu[reps / 2]);
    return 0;
}
#endif
