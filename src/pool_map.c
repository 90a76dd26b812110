/* parc/pool.h: map, starmap, parallel_for, imap and imap_unordered.
 *
 * map, starmap and parallel_for are one loop in which the calling thread
 * works (pool_loop.c). imap and imap_unordered return before
 * the work is done, so their caller cannot take part: they cut the work
 * into chunks, each a caller-storage future in one array allocated per
 * call (no allocation per element or chunk), pushed to the pool like any
 * task; next() waits for the chunks (on a worker, running other tasks
 * meanwhile: the future help hook). */
#include <stdlib.h>
#include <string.h>

#include "pool_internal.h"
#include "pool_loop.h"

typedef struct map_chunk {
    parc_future_t f;         /* caller storage: lives in the chunk array */
    map_job_t *job;
    size_t lo, hi;           /* elements [lo, hi) */
} map_chunk_t;

static int chunk_task(void *arg, void **result)
{
    map_chunk_t *c = arg;
    (void)result;
    int rc = parc_pool_job_run_(c->job, c->lo, c->hi);
    /* imap_unordered: announce the chunk, failed or not (the consumer
     * then waits for its future to settle, a matter of instructions). */
    if (c->job->done != NULL)
        parc_lfqueue_push(c->job->done, c);
    return rc;
}

/* Python's rule: chunksize, extra = divmod(n, 4 * workers); +1 if extra. */
static size_t auto_chunk(parc_pool_t *p, size_t n)
{
    size_t parts = 4u * parc_pool_workers(p);
    size_t size = n / parts + (n % parts != 0);
    return size == 0 ? 1 : size;
}

/* Cut [0, n) into chunks and push them. Returns 0 with *chunks and
 * *pushed set (pushed < count only on error, and then the error). */
static int start_chunks(parc_pool_t *p, map_job_t *job, size_t n,
                        size_t chunksize, map_chunk_t **chunks, size_t *count,
                        size_t *pushed)
{
    *chunks = NULL;
    *count = 0;
    *pushed = 0;
    if (chunksize == 0)
        chunksize = auto_chunk(p, n);
    size_t k = n / chunksize + (n % chunksize != 0);
    map_chunk_t *cs = calloc(k == 0 ? 1 : k, sizeof *cs);
    if (cs == NULL)
        return ENOMEM;
    for (size_t i = 0; i < k; i++) {
        cs[i].job = job;
        cs[i].lo = i * chunksize;
        cs[i].hi = i + 1 == k ? n : (i + 1) * chunksize;
        parc_future_init(&cs[i].f, chunk_task, &cs[i]);
    }
    *chunks = cs;
    *count = k;
    int rc = 0;
    size_t i = 0;
    for (; i < k; i++) {
        rc = parc_pool_push_(p, &cs[i].f);
        if (rc != 0)
            break;
    }
    *pushed = i;
    return rc;
}

int parc_pool_map(parc_pool_t *p, parc_pool_map_fn fn, const void *in,
                  void *out, size_t n, size_t in_size, size_t out_size,
                  size_t chunksize)
{
    if (p == NULL || fn == NULL || in_size == 0
        || (n > 0 && (in == NULL || (out == NULL && out_size > 0))))
        return EINVAL;
    map_job_t job = { .kind = JOB_MAP, .fn.map = fn, .in = in, .out = out,
                      .in_size = in_size, .out_size = out_size };
    return parc_pool_loop_run_(p, &job, n, chunksize, 0);
}

int parc_pool_starmap(parc_pool_t *p, parc_pool_starmap_fn fn, void *ctx,
                      const void *args, void *out, size_t n, size_t args_size,
                      size_t out_size, size_t chunksize)
{
    if (p == NULL || fn == NULL || args_size == 0
        || (n > 0 && (args == NULL || (out == NULL && out_size > 0))))
        return EINVAL;
    map_job_t job = { .kind = JOB_STARMAP, .fn.star = fn, .ctx = ctx,
                      .in = args, .out = out, .in_size = args_size,
                      .out_size = out_size };
    return parc_pool_loop_run_(p, &job, n, chunksize, 0);
}

int parc_pool_parallel_for(parc_pool_t *p, int64_t begin, int64_t end,
                           int64_t grain,
                           int (*fn)(void *arg, int64_t lo, int64_t hi),
                           void *arg)
{
    if (p == NULL || fn == NULL || begin > end || grain < 0)
        return EINVAL;
    map_job_t job = { .kind = JOB_FOR, .fn.range = fn, .ctx = arg,
                      .begin = begin };
    /* end - begin overflows int64_t for the widest ranges, not uint64_t */
    return parc_pool_loop_run_(p, &job, (size_t)((uint64_t)end - (uint64_t)begin),
                          (size_t)grain, 0);
}

/* ---- iterators ----------------------------------------------------------- */

struct parc_pool_imap {
    parc_pool_t *pool;
    map_job_t job;
    map_chunk_t *chunks;
    size_t count, pushed;
    size_t taken;            /* chunks handed to the consumer so far */
    map_chunk_t *cur;        /* chunk being yielded, NULL between chunks */
    size_t pos;              /* next element of cur */
    char *results;           /* out buffer: n * out_size bytes */
    bool unordered;
    parc_lfqueue_t done;
};

static int imap_start(parc_pool_t *p, parc_pool_map_fn fn, const void *in,
                      size_t n, size_t in_size, size_t out_size,
                      size_t chunksize, bool unordered, parc_pool_imap_t **out)
{
    if (p == NULL || fn == NULL || out == NULL || in_size == 0
        || (n > 0 && in == NULL))
        return EINVAL;
    if (out_size != 0 && n > (SIZE_MAX - 1) / out_size)
        return EINVAL;
    parc_pool_imap_t *it = calloc(1, sizeof *it);
    if (it == NULL)
        return ENOMEM;
    it->results = malloc(n * out_size + 1);
    if (it->results == NULL
        || (unordered && parc_lfqueue_init(&it->done) != 0)) {
        free(it->results);
        free(it);
        return ENOMEM;
    }
    it->pool = p;
    it->unordered = unordered;
    it->job = (map_job_t){ .kind = JOB_MAP, .fn.map = fn, .in = in,
                           .out = it->results, .in_size = in_size,
                           .out_size = out_size,
                           .done = unordered ? &it->done : NULL };
    int rc = 0;
    if (n > 0)
        rc = start_chunks(p, &it->job, n, chunksize, &it->chunks, &it->count,
                          &it->pushed);
    if (rc != 0) {
        parc_pool_imap_free(it);
        return rc;
    }
    *out = it;
    return 0;
}

int parc_pool_imap(parc_pool_t *p, parc_pool_map_fn fn, const void *in,
                   size_t n, size_t in_size, size_t out_size, size_t chunksize,
                   parc_pool_imap_t **it)
{
    return imap_start(p, fn, in, n, in_size, out_size, chunksize, false, it);
}

int parc_pool_imap_unordered(parc_pool_t *p, parc_pool_map_fn fn,
                             const void *in, size_t n, size_t in_size,
                             size_t out_size, size_t chunksize,
                             parc_pool_imap_t **it)
{
    return imap_start(p, fn, in, n, in_size, out_size, chunksize, true, it);
}

/* Wait for f until `deadline` (PARC_FOREVER: no limit; already passed:
 * poll). */
static int wait_deadline(parc_future_t *f, parc_deadline_t deadline)
{
    if (deadline == PARC_FOREVER)
        return parc_future_wait(f);
    int rc = parc_future_wait_timed(f, parc_deadline_remaining(deadline));
    return rc;
}

/* The next finished chunk of an unordered iterator. */
static int next_done(parc_pool_imap_t *it, map_chunk_t **c,
                     parc_deadline_t deadline)
{
    void *item;
    for (;;) {
        int rc = parc_lfqueue_pop_try(&it->done, &item);
        if (rc == 0) {
            *c = item;
            return 0;
        }
        if (rc != EAGAIN)
            return rc;
        if (parc_pool_help_(it->pool))
            continue; /* a worker runs tasks instead of blocking */
        if (parc_pool_current_worker(it->pool) < 0) {
            int64_t left = deadline == PARC_FOREVER ? PARC_FOREVER
                                                    : parc_deadline_remaining(deadline);
            rc = parc_lfqueue_pop_timed(&it->done, &item, left);
            if (rc == 0)
                *c = item;
            return rc;
        }
        if (parc_deadline_passed(deadline))
            return ETIMEDOUT;
        /* A worker with nothing to help: sleep on the queue for a short
         * slice, then look for work to help with again. */
        int64_t slice = PARC_NS_PER_MS;
        if (deadline != PARC_FOREVER && parc_deadline_remaining(deadline) < slice)
            slice = parc_deadline_remaining(deadline);
        rc = parc_lfqueue_pop_timed(&it->done, &item, slice);
        if (rc == 0) {
            *c = item;
            return 0;
        }
        if (rc != ETIMEDOUT)
            return rc;
    }
}

static int imap_next_until(parc_pool_imap_t *it, void *out, size_t *index,
                           parc_deadline_t deadline)
{
    if (it == NULL)
        return EINVAL;
    if (it->cur == NULL) {
        if (it->taken == it->pushed)
            return EPIPE;
        map_chunk_t *c;
        int rc;
        if (it->unordered) {
            rc = next_done(it, &c, deadline);
        } else {
            c = &it->chunks[it->taken];
            rc = wait_deadline(&c->f, deadline);
        }
        if (rc != 0)
            return rc;
        it->taken++;
        int st = parc_future_get(&c->f, NULL); /* settled or settling */
        if (st != 0) {
            if (index != NULL)
                *index = c->lo;
            return st;
        }
        it->cur = c;
        it->pos = c->lo;
    }
    size_t i = it->pos++;
    if (out != NULL && it->job.out_size > 0)
        memcpy(out, it->results + i * it->job.out_size, it->job.out_size);
    if (index != NULL)
        *index = i;
    if (it->pos == it->cur->hi)
        it->cur = NULL;
    return 0;
}

int parc_pool_imap_next(parc_pool_imap_t *it, void *out, size_t *index)
{
    return imap_next_until(it, out, index, PARC_FOREVER);
}

int parc_pool_imap_next_try(parc_pool_imap_t *it, void *out, size_t *index)
{
    int rc = imap_next_until(it, out, index, 0);
    return rc == ETIMEDOUT ? EAGAIN : rc;
}

int parc_pool_imap_next_timed(parc_pool_imap_t *it, void *out, size_t *index,
                              int64_t timeout_ns)
{
    parc_deadline_t d;
    if (parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    return imap_next_until(it, out, index, d);
}

void parc_pool_imap_free(parc_pool_imap_t *it)
{
    if (it == NULL)
        return;
    for (size_t i = 0; i < it->pushed; i++)
        parc_future_wait(&it->chunks[i].f);
    for (size_t i = 0; i < it->count; i++)
        parc_future_destroy(&it->chunks[i].f);
    if (it->unordered)
        parc_lfqueue_destroy(&it->done);
    free(it->chunks);
    free(it->results);
    free(it);
}
