/*
 * The process pool's map and imap (see parc/procpool.h): both submit one
 * task per item through parc_procpool_submit and read the futures back in
 * order. No chunking yet: each item is a round trip to a worker (Python's
 * map batches items into chunks; a chunked frame is the next step).
 */
#include <stdlib.h>
#include <string.h>

#include "parc/procpool.h"

struct parc_procpool_imap {
    parc_future_t **fs;
    size_t n, next;
};

/* Submit items [0, n); on failure release what was submitted. */
static int submit_all(parc_procpool_t *pool, parc_proc_fn fn, const void *args,
                      size_t arg_size, size_t n, parc_future_t **fs)
{
    for (size_t i = 0; i < n; i++) {
        int rc = parc_procpool_submit(pool, fn, (const char *)args + i * arg_size,
                                      arg_size, &fs[i]);
        if (rc != 0) {
            while (i-- > 0)
                parc_procpool_release(fs[i]);
            return rc;
        }
    }
    return 0;
}

static bool bad_items(parc_procpool_t *pool, parc_proc_fn fn, const void *args,
                      size_t arg_size, size_t n)
{
    return pool == NULL || fn == NULL || (n > 0 && arg_size > 0 && args == NULL) ||
           (arg_size > 0 && n > SIZE_MAX / arg_size);
}

int parc_procpool_map(parc_procpool_t *pool, parc_proc_fn fn, const void *args,
                      size_t arg_size, size_t n, void *results,
                      size_t result_size, int *statuses)
{
    if (bad_items(pool, fn, args, arg_size, n))
        return EINVAL;
    if (n == 0)
        return 0;
    parc_future_t **fs = malloc(n * sizeof *fs);
    if (fs == NULL)
        return ENOMEM;
    int rc = submit_all(pool, fn, args, arg_size, n, fs);
    if (rc != 0) {
        free(fs);
        return rc;
    }
    int first = 0;
    for (size_t i = 0; i < n; i++) {
        int st = parc_future_get(fs[i], NULL);
        if (st == 0 && results != NULL) {
            const void *data;
            size_t len;
            parc_procpool_result(fs[i], &data, &len);
            if (len != result_size)
                st = EMSGSIZE;
            else if (len > 0)
                memcpy((char *)results + i * result_size, data, len);
        }
        if (statuses != NULL)
            statuses[i] = st;
        if (st != 0 && first == 0)
            first = st;
        parc_procpool_release(fs[i]);
    }
    free(fs);
    return first;
}

int parc_procpool_imap(parc_procpool_t *pool, parc_proc_fn fn, const void *args,
                       size_t arg_size, size_t n, parc_procpool_imap_t **out)
{
    if (bad_items(pool, fn, args, arg_size, n) || out == NULL)
        return EINVAL;
    parc_procpool_imap_t *it = malloc(sizeof *it);
    parc_future_t **fs = malloc((n ? n : 1) * sizeof *fs);
    if (it == NULL || fs == NULL) {
        free(it);
        free(fs);
        return ENOMEM;
    }
    int rc = submit_all(pool, fn, args, arg_size, n, fs);
    if (rc != 0) {
        free(it);
        free(fs);
        return rc;
    }
    it->fs = fs;
    it->n = n;
    it->next = 0;
    *out = it;
    return 0;
}

int parc_procpool_imap_next(parc_procpool_imap_t *it, parc_future_t **f)
{
    if (it == NULL || f == NULL)
        return EINVAL;
    if (it->next == it->n)
        return EPIPE;
    parc_future_t *g = it->fs[it->next++];
    parc_future_wait(g);
    *f = g;
    return 0;
}

void parc_procpool_imap_free(parc_procpool_imap_t *it)
{
    if (it == NULL)
        return;
    while (it->next < it->n)
        parc_procpool_release(it->fs[it->next++]);
    free(it->fs);
    free(it);
}
