/*
 * procpool_map.c — the seed's multiprocessing example, in processes.
 *
 *     from multiprocessing import Pool
 *
 *     def square(x):
 *         return x * x
 *
 *     with Pool(5) as p:
 *         print(p.map(square, [1, 2, 3]))      # [1, 4, 9]
 *
 * Like Python's, each call runs in one of five worker processes. The fork
 * server starts first thing in main(), while the program has one thread:
 * every worker is forked from it, whatever threads the program starts
 * later (see parc/procpool.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <parc/procpool.h>

/* A task: bytes in, bytes out (malloc()ed; the worker frees them). */
static int square(const void *arg, size_t len, void **out, size_t *out_len)
{
    (void)len;
    int x = *(const int *)arg;
    int *r = malloc(sizeof *r);
    if (r == NULL)
        return ENOMEM;
    *r = x * x;
    *out = r;
    *out_len = sizeof *r;
    return 0;
}

static int worker_pid(const void *arg, size_t len, void **out, size_t *out_len)
{
    (void)arg, (void)len;
    pid_t *r = malloc(sizeof *r);
    if (r == NULL)
        return ENOMEM;
    *r = getpid();
    *out = r;
    *out_len = sizeof *r;
    return 0;
}

int main(void)
{
    int rc = parc_procpool_forkserver_start();
    parc_procpool_options_t opt = PARC_PROCPOOL_OPTIONS_INIT;
    opt.workers = 5;
    parc_procpool_t *pool;
    if (rc == 0)
        rc = parc_procpool_create(&opt, &pool);
    if (rc != 0) {
        fprintf(stderr, "procpool: %s\n", parc_strerror(rc));
        return 1;
    }
    int in[] = {1, 2, 3}, out[3];
    rc = parc_procpool_map(pool, square, in, sizeof in[0], 3, out, sizeof out[0], NULL);
    if (rc != 0) {
        fprintf(stderr, "map: %s\n", parc_strerror(rc));
        return 1;
    }
    printf("[%d, %d, %d]\n", out[0], out[1], out[2]);

    pid_t pid;
    void *r;
    if (parc_procpool_apply(pool, worker_pid, NULL, 0, &r, NULL) == 0) {
        pid = *(pid_t *)r;
        free(r);
        printf("a task ran in process %ld; this is process %ld\n", (long)pid,
               (long)getpid());
    }
    parc_procpool_close(pool);
    parc_procpool_join(pool);
    parc_procpool_free(pool);
    return 0;
}
