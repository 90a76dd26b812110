/* bench/cs_work.c — see cs_work.h. */
#include "cs_work.h"

#include <pthread.h>

#include "bench.h"

static double iters_per_ns;
static pthread_once_t calibrated = PTHREAD_ONCE_INIT;

static void calibrate(void)
{
    const uint64_t n = 200000; /* ~0.2-0.5 ms per try */
    int64_t best = INT64_MAX;
    for (int t = 0; t < 7; t++) {
        int64_t t0 = bench_now_ns();
        bench_consume(bench_cs_spin(n, (uint64_t)t));
        int64_t dt = bench_now_ns() - t0;
        if (dt > 0 && dt < best)
            best = dt;
    }
    iters_per_ns = best == INT64_MAX ? 1.0 : (double)n / (double)best;
}

uint64_t bench_cs_iters(long ns)
{
    if (ns <= 0)
        return 0;
    pthread_once(&calibrated, calibrate);
    uint64_t it = (uint64_t)((double)ns * iters_per_ns + 0.5);
    return it == 0 ? 1 : it;
}
