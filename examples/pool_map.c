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
 */
#include <stdio.h>

#include <parc/pool.h>

static int square(const void *in, void *out)
{
    int x = *(const int *)in;
    *(int *)out = x * x;
    return 0; /* a non-zero code would be map's result: the task "raised" */
}

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

    parc_pool_close(pool); /* no more work: submissions now fail with EPIPE */
    parc_pool_join(pool);  /* all accepted work has run, workers have exited */
    parc_pool_free(pool);
    return 0;
}
