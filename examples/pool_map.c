/*
 * pool_map.c — the seed's multiprocessing example, in C.
 *
 *     from multiprocessing import Pool
 *
 *     def square(x):
 *         return x * x
 *
 *     with Pool(5) as p:
 *         print(p.map(square, [1, 2, 3]))      # [1, 4, 9]
 *
 * parc's pool runs threads, not processes: map hands each worker chunks of
 * the input array and writes the results in input order.
 *
 * parc_pool_map calls square through a pointer for each element. For
 * work as small as this over big arrays, PARC_POOL_MAP_DEFINE makes a
 * typed map whose chunks call square inlined (as fast as a hand-written
 * loop over threads); the same function serves both.
 */
#include <stdio.h>

#include <parc/pool.h>

static inline int square(const void *in, void *out)
{
    int x = *(const int *)in;
    *(int *)out = x * x;
    return 0; /* a non-zero code would be map's result: the task "raised" */
}

/* square_map(pool, const int *in, int *out, n, chunksize) */
PARC_POOL_MAP_DEFINE(square_map, square, int, int);

int main(void)
{
    parc_pool_t *pool;
    int rc = parc_pool_create(5, NULL, &pool);
    if (rc != 0) {
        fprintf(stderr, "pool: %s\n", parc_strerror(rc));
        return 1;
    }
    int in[] = { 1, 2, 3 }, out[3];
    rc = parc_pool_map(pool, square, in, out, 3, sizeof in[0], sizeof out[0], 0);
    if (rc != 0) {
        fprintf(stderr, "map: %s\n", parc_strerror(rc));
        return 1;
    }
    printf("[%d, %d, %d]\n", out[0], out[1], out[2]);

    static int big_in[100000], big_out[100000];
    for (int i = 0; i < 100000; i++)
        big_in[i] = i % 1000;
    rc = square_map(pool, big_in, big_out, 100000, 0); /* typed, inlined */
    if (rc != 0 || big_out[99999] != 999 * 999) {
        fprintf(stderr, "square_map: %s\n", parc_strerror(rc));
        return 1;
    }

    parc_pool_close(pool); /* no more work: submissions now fail with EPIPE */
    parc_pool_join(pool);  /* all accepted work has run, workers have exited */
    parc_pool_free(pool);
    return 0;
}
