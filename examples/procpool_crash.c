/*
 * procpool_crash.c — a task that segfaults takes down only its worker.
 *
 * map(risky, 0..9) where risky(7) dereferences NULL: item 7 fails with
 * ECHILD and the wait status says SIGSEGV; the nine others complete; the
 * pool forks a replacement and keeps its size. (Python's Pool hangs
 * forever when a worker dies this way: cpython#96062.)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <parc/procpool.h>

static int risky(const void *arg, size_t len, void **out, size_t *out_len)
{
    (void)len;
    int x = *(const int *)arg;
    if (x == 7) {
        volatile int *p = NULL;
        *p = 1; /* SIGSEGV, in the worker only */
    }
    int *r = malloc(sizeof *r);
    if (r == NULL)
        return ENOMEM;
    *r = x * 10;
    *out = r;
    *out_len = sizeof *r;
    return 0;
}

int main(void)
{
    int rc = parc_procpool_forkserver_start();
    parc_procpool_options_t opt = PARC_PROCPOOL_OPTIONS_INIT;
    opt.workers = 3;
    parc_procpool_t *pool;
    if (rc == 0)
        rc = parc_procpool_create(&opt, &pool);
    if (rc != 0) {
        fprintf(stderr, "procpool: %s\n", parc_strerror(rc));
        return 1;
    }
    int in[10], out[10], st[10];
    for (int i = 0; i < 10; i++)
        in[i] = i;
    rc = parc_procpool_map(pool, risky, in, sizeof in[0], 10, out, sizeof out[0], st);
    printf("map returned %s\n", rc == ECHILD ? "ECHILD (a worker died)" : parc_strerror(rc));
    for (int i = 0; i < 10; i++) {
        if (st[i] == 0)
            printf("  risky(%d) = %d\n", i, out[i]);
        else
            printf("  risky(%d) failed: %s\n", i, parc_strerror(st[i]));
    }
    /* The cause, from the future of one more call. */
    parc_future_t *f;
    int seven = 7, ws;
    if (parc_procpool_submit(pool, risky, &seven, sizeof seven, &f) == 0) {
        parc_future_wait(f);
        if (parc_procpool_wait_status(f, &ws) == 0 && WIFSIGNALED(ws))
            printf("risky(7) again: its worker died of signal %d%s\n", WTERMSIG(ws),
                   WTERMSIG(ws) == SIGSEGV ? " (SIGSEGV)" : "");
        parc_procpool_release(f);
    }
    printf("workers replaced: %llu; the pool still has %u\n",
           (unsigned long long)parc_procpool_respawns(pool), parc_procpool_size(pool));
    parc_procpool_close(pool);
    parc_procpool_join(pool);
    parc_procpool_free(pool);
    int ok = rc == ECHILD && st[7] == ECHILD;
    for (int i = 0; i < 10; i++)
        ok &= i == 7 || (st[i] == 0 && out[i] == i * 10);
    return ok ? 0 : 1;
}
