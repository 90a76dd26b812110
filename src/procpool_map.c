/*
 * The process pool's map and imap (see parc/procpool.h).
 *
 * map sends items in chunks, as Python's Pool.map does: one task carries
 * many items to run_chunk(), a function of this library (so, like the
 * user's, at the same address in the worker), which calls the user's
 * function on each and packs every item's status and result into one
 * reply. A round trip per chunk instead of per item is what makes a map
 * of small items fast. What chunking costs Python -- a crash fails the
 * whole chunk -- it does not cost here: a chunk whose worker died (or was
 * killed past the timeout) is run again one task per item, so exactly the
 * item that crashes fails, with its own status and wait status. Items of
 * that chunk that had already run then run twice: map's functions are
 * meant to be pure (as Python's). imap submits one task per item.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "parc/procpool.h"
#include "procpool_internal.h"

/* A chunk task's argument: this header, then count items of item_size. */
struct chunk_head {
    uint64_t fn;        /* the user's parc_proc_fn */
    uint64_t item_size;
    uint64_t count;
};

/* A chunk's reply: for each item, this header and then len bytes. */
struct item_head {
    int32_t status;
    uint32_t len;
};

/* Runs in the worker: fn on each item of the chunk. */
static int run_chunk(const void *arg, size_t len, void **out, size_t *out_len)
{
    struct chunk_head h;
    if (len < sizeof h)
        return EINVAL;
    memcpy(&h, arg, sizeof h);
    if (h.item_size != 0 && (len - sizeof h) / h.item_size < h.count)
        return EINVAL;
    parc_proc_fn fn = (parc_proc_fn)(uintptr_t)h.fn;
    const char *items = (const char *)arg + sizeof h;
    size_t cap = (size_t)h.count * (sizeof(struct item_head) + 16) + 64, used = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return ENOMEM;
    for (uint64_t i = 0; i < h.count; i++) {
        void *res = NULL;
        size_t res_len = 0;
        struct item_head ih;
        ih.status = fn(items + i * h.item_size, (size_t)h.item_size, &res, &res_len);
        ih.len = res != NULL ? (uint32_t)res_len : 0;
        if (used + sizeof ih + ih.len > cap) {
            size_t ncap = (used + sizeof ih + ih.len) * 2;
            char *nb = realloc(buf, ncap);
            if (nb == NULL) {
                free(res);
                free(buf);
                return ENOMEM;
            }
            buf = nb;
            cap = ncap;
        }
        memcpy(buf + used, &ih, sizeof ih);
        if (ih.len > 0)
            memcpy(buf + used + sizeof ih, res, ih.len);
        used += sizeof ih + ih.len;
        free(res);
    }
    *out = buf;
    *out_len = used;
    return 0;
}

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

/* Store item i's outcome; returns its status (EMSGSIZE: wrong length). */
static int store_item(int st, const void *data, size_t len, void *results,
                      size_t result_size, size_t i, int *statuses)
{
    if (st == 0 && results != NULL) {
        if (len != result_size)
            st = EMSGSIZE;
        else if (len > 0)
            memcpy((char *)results + i * result_size, data, len);
    }
    if (statuses != NULL)
        statuses[i] = st;
    return st;
}

/* One task per item, waited in order (also the fallback for a chunk whose
 * worker died). Returns the first failing status or 0; submit's error
 * when nothing could be submitted. */
static int map_items(parc_procpool_t *pool, parc_proc_fn fn, const char *args,
                     size_t arg_size, size_t first, size_t n, void *results,
                     size_t result_size, int *statuses)
{
    parc_future_t **fs = malloc(n * sizeof *fs);
    if (fs == NULL)
        return ENOMEM;
    int rc = submit_all(pool, fn, args + first * arg_size, arg_size, n, fs);
    if (rc != 0) {
        free(fs);
        return rc;
    }
    int firstfail = 0;
    for (size_t i = 0; i < n; i++) {
        int st = parc_future_get(fs[i], NULL);
        const void *data = NULL;
        size_t len = 0;
        if (st == 0)
            parc_procpool_result(fs[i], &data, &len);
        st = store_item(st, data, len, results, result_size, first + i, statuses);
        if (st != 0 && firstfail == 0)
            firstfail = st;
        parc_procpool_release(fs[i]);
    }
    free(fs);
    return firstfail;
}

/* Unpack a chunk's reply into items [first, first + count). */
static int unpack_chunk(const char *data, size_t len, size_t first, size_t count,
                        void *results, size_t result_size, int *statuses)
{
    int firstfail = 0;
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
        struct item_head ih;
        int st;
        if (at + sizeof ih > len) {
            st = EPROTO;
            ih.len = 0;
        } else {
            memcpy(&ih, data + at, sizeof ih);
            at += sizeof ih;
            st = at + ih.len <= len ? ih.status : EPROTO;
        }
        st = store_item(st, st == 0 ? data + at : NULL, st == 0 ? ih.len : 0,
                        results, result_size, first + i, statuses);
        at += st == EPROTO ? 0 : ih.len;
        if (st != 0 && firstfail == 0)
            firstfail = st;
    }
    return firstfail;
}

int parc_procpool_map_chunked(parc_procpool_t *pool, parc_proc_fn fn,
                              const void *args, size_t arg_size, size_t n,
                              void *results, size_t result_size, int *statuses,
                              size_t chunksize)
{
    if (bad_items(pool, fn, args, arg_size, n))
        return EINVAL;
    if (n == 0)
        return 0;
    if (chunksize == 0) { /* Python's rule: about four chunks per worker */
        size_t per = (size_t)parc_procpool_size(pool) * 4;
        chunksize = (n + per - 1) / per;
    }
    if (chunksize <= 1)
        return map_items(pool, fn, args, arg_size, 0, n, results, result_size,
                         statuses);
    size_t chunks = (n + chunksize - 1) / chunksize;
    parc_future_t **fs = malloc(chunks * sizeof *fs);
    if (fs == NULL)
        return ENOMEM;
    size_t sent = 0;
    int rc = 0;
    for (; sent < chunks && rc == 0; sent++) {
        size_t first = sent * chunksize;
        size_t count = n - first < chunksize ? n - first : chunksize;
        size_t bytes = sizeof(struct chunk_head) + count * arg_size;
        char *arg = malloc(bytes);
        if (arg == NULL) {
            rc = ENOMEM;
            break;
        }
        struct chunk_head h = {(uint64_t)(uintptr_t)fn, arg_size, count};
        memcpy(arg, &h, sizeof h);
        if (arg_size > 0)
            memcpy(arg + sizeof h, (const char *)args + first * arg_size, count * arg_size);
        rc = parc_procpool_submit(pool, run_chunk, arg, bytes, &fs[sent]);
        free(arg);
        if (rc != 0)
            break;
    }
    if (rc != 0) { /* nothing runs half-way: drop what was submitted */
        for (size_t c = 0; c < sent; c++)
            parc_procpool_release(fs[c]);
        free(fs);
        return rc;
    }
    int firstfail = 0;
    for (size_t c = 0; c < chunks; c++) {
        size_t first = c * chunksize;
        size_t count = n - first < chunksize ? n - first : chunksize;
        int st = parc_future_get(fs[c], NULL);
        if (st == ECHILD || st == ETIMEDOUT) {
            /* its worker died: find exactly which item, one task each */
            st = map_items(pool, fn, args, arg_size, first, count, results,
                           result_size, statuses);
        } else if (st == 0) {
            const void *data;
            size_t len;
            parc_procpool_result(fs[c], &data, &len);
            st = unpack_chunk(data, len, first, count, results, result_size, statuses);
        } else { /* the chunk itself failed (ENOMEM, ECANCELED, EPIPE) */
            for (size_t i = 0; i < count; i++)
                store_item(st, NULL, 0, results, result_size, first + i, statuses);
        }
        if (st != 0 && firstfail == 0)
            firstfail = st;
        parc_procpool_release(fs[c]);
    }
    free(fs);
    return firstfail;
}

/* ---- map_elems: fixed-size results written in place ------------------ */

/* An element chunk's argument: this header, then count items. */
struct elem_head {
    uint64_t fn;          /* the user's parc_proc_map_fn */
    uint64_t arg_size;
    uint64_t result_size;
    uint64_t count;
    /* In the arena (gen != 0): the items at arg_off and the results to
     * res_off of the arena of generation gen and arena_size bytes, whose
     * memfd comes with the frame; the frame then holds no items and the
     * reply no results. gen 0: items follow, results lead the reply. */
    uint64_t gen;
    uint64_t arena_size;
    uint64_t arg_off;
    uint64_t res_off;
};

/* An element chunk's reply: count * result_size result bytes, then one of
 * these per failing item (in index order), then a uint64_t: how many. */
struct elem_fail {
    uint64_t index;       /* within the chunk */
    int64_t status;
};

/* Runs in the worker: fn on each item, each result straight into the
 * reply buffer. No allocation per item: that (and an 8-byte header per
 * item) is what map's bytes-returning functions cost. */
static int run_elems(const void *arg, size_t len, void **out, size_t *out_len)
{
    struct elem_head h;
    if (len < sizeof h)
        return EINVAL;
    memcpy(&h, arg, sizeof h);
    if ((h.result_size != 0 && (SIZE_MAX / 2) / h.result_size < h.count) ||
        (h.arg_size != 0 && (SIZE_MAX / 2) / h.arg_size < h.count))
        return EINVAL;
    parc_proc_map_fn fn = (parc_proc_map_fn)(uintptr_t)h.fn;
    const char *items = (const char *)arg + sizeof h;
    char *results = NULL; /* NULL: the results lead the reply */
    if (h.gen != 0) {
        if (h.arg_off > h.arena_size || h.res_off > h.arena_size ||
            h.count * h.arg_size > h.arena_size - h.arg_off ||
            h.count * h.result_size > h.arena_size - h.res_off)
            return EINVAL;
        char *a = parc_procpool_worker_arena_(h.gen, (size_t)h.arena_size);
        if (a == NULL)
            return ENOMEM;
        items = a + h.arg_off;
        results = a + h.res_off;
    } else if (h.arg_size != 0 && (len - sizeof h) / h.arg_size < h.count) {
        return EINVAL;
    }
    size_t rbytes = results != NULL ? 0 : (size_t)(h.count * h.result_size);
    size_t cap = rbytes + sizeof(uint64_t), used = rbytes;
    char *buf = parc_procpool_worker_reply_(NULL, cap);
    if (buf == NULL)
        return ENOMEM;
    if (results == NULL)
        results = buf;
    uint64_t nfail = 0;
    for (uint64_t i = 0; i < h.count; i++) {
        int st = fn(items + i * h.arg_size, results + i * h.result_size);
        if (st == 0)
            continue;
        struct elem_fail f = {i, st};
        if (used + sizeof f + sizeof nfail > cap) {
            size_t ncap = cap + (cap - rbytes) + 16 * sizeof f;
            char *nb = parc_procpool_worker_reply_(buf, ncap);
            if (nb == NULL)
                return ENOMEM;
            if (results == buf)
                results = nb;
            buf = nb;
            cap = ncap;
        }
        memcpy(buf + used, &f, sizeof f);
        used += sizeof f;
        nfail++;
    }
    memcpy(buf + used, &nfail, sizeof nfail);
    *out = buf;
    *out_len = used + sizeof nfail;
    return 0;
}

/* Unpack an element chunk's reply into items [first, first + count):
 * `placed` of its bytes (0, or all the results) were already received
 * into results; data holds the rest. */
static int unpack_elems(const char *data, size_t len, size_t placed, size_t first,
                        size_t count, void *results, size_t result_size, int *statuses)
{
    size_t rbytes = count * result_size;
    uint64_t nfail;
    if (placed != 0 && placed != rbytes)
        return EPROTO;
    size_t inline_results = rbytes - placed;
    if (data == NULL || len < inline_results + sizeof nfail)
        return EPROTO;
    memcpy(&nfail, data + len - sizeof nfail, sizeof nfail);
    if (nfail > count ||
        len != inline_results + nfail * sizeof(struct elem_fail) + sizeof nfail)
        return EPROTO;
    if (results != NULL && inline_results > 0)
        memcpy((char *)results + first * result_size, data, inline_results);
    if (statuses != NULL)
        memset(statuses + first, 0, count * sizeof *statuses);
    int firstfail = 0;
    for (uint64_t k = 0; k < nfail; k++) {
        struct elem_fail f;
        memcpy(&f, data + inline_results + k * sizeof f, sizeof f);
        if (f.index >= count)
            return EPROTO;
        if (statuses != NULL)
            statuses[first + f.index] = (int)f.status;
        if (firstfail == 0)
            firstfail = (int)f.status;
    }
    return firstfail;
}

static void fail_range(int st, size_t first, size_t count, int *statuses)
{
    if (statuses != NULL)
        for (size_t i = 0; i < count; i++)
            statuses[first + i] = st;
}

/* Below this many bytes of items and results a map goes through the
 * sockets: the arena is for the maps whose copies cost more than a few
 * system calls. */
#define ARENA_MIN_BYTES ((size_t)256 << 10)

/* What a map run needs to know. */
typedef struct elems_job {
    parc_procpool_t *pool;
    parc_proc_map_fn fn;
    const char *args;
    size_t arg_size;
    char *results;
    size_t result_size;
    int *statuses;
    bool in_arena;  /* items at arena + 0, results at arena + res_off */
    size_t res_off;
    /* in_buffer: items and results both in the shared buffer buf, where
     * the workers read and write them in place: nothing is copied. */
    bool in_buffer;
    struct pool_buffer buf;
} elems_job_t;

/* Submit items [at, at + count) as one task. */
static int submit_elems(const elems_job_t *j, size_t at, size_t count, bool copy_in,
                        parc_future_t **f)
{
    char *frame = parc_procpool_frame_alloc_(sizeof(struct elem_head));
    if (frame == NULL)
        return ENOMEM;
    struct elem_head h = {(uint64_t)(uintptr_t)j->fn, j->arg_size, j->result_size, count,
                          0, 0, 0, 0};
    if (j->in_buffer) {
        h.gen = j->buf.gen;
        h.arena_size = j->buf.size;
        h.arg_off = (uint64_t)(j->args - j->buf.base) + at * j->arg_size;
        h.res_off = (uint64_t)(j->results - j->buf.base) + at * j->result_size;
        memcpy(frame + sizeof(struct task_frame), &h, sizeof h);
        return parc_procpool_submit_fd_(j->pool, run_elems, frame, sizeof h, j->buf.fd, f);
    }
    if (j->in_arena) {
        parc_procpool_t *p = j->pool;
        if (copy_in && j->arg_size > 0)
            memcpy(p->arena + at * j->arg_size, j->args + at * j->arg_size,
                   count * j->arg_size);
        h.gen = p->arena_gen;
        h.arena_size = p->arena_cap;
        h.arg_off = at * j->arg_size;
        h.res_off = j->res_off + at * j->result_size;
        memcpy(frame + sizeof(struct task_frame), &h, sizeof h);
        return parc_procpool_submit_fd_(p, run_elems, frame, sizeof h, p->arena_fd, f);
    }
    /* The frame holds the header only: the items are sent straight from
     * the caller's array and the results received straight into the
     * caller's (borrowed: elems_run waits for every chunk). */
    memcpy(frame + sizeof(struct task_frame), &h, sizeof h);
    return parc_procpool_submit_ext_(
        j->pool, run_elems, frame, sizeof h, j->args + at * j->arg_size,
        count * j->arg_size, j->results != NULL ? j->results + at * j->result_size : NULL,
        count * j->result_size, f);
}

/* Items [first, first + n) in chunks of `chunk`, each one task. A chunk of
 * several items whose worker died is run again one item per task (rerun)
 * so that exactly the crashing items fail. */
static int elems_run(const elems_job_t *j, size_t first, size_t n, size_t chunk, bool rerun)
{
    size_t chunks = (n + chunk - 1) / chunk;
    parc_future_t **fs = malloc(chunks * sizeof *fs);
    if (fs == NULL)
        return ENOMEM;
    size_t sent = 0;
    int rc = 0;
    for (; sent < chunks; sent++) {
        size_t at = first + sent * chunk;
        size_t count = first + n - at < chunk ? first + n - at : chunk;
        /* a rerun's items are in the arena already */
        if ((rc = submit_elems(j, at, count, rerun, &fs[sent])) != 0)
            break;
    }
    if (rc != 0) {
        /* what was submitted borrows the caller's arrays (or the arena):
         * wait for it */
        for (size_t c = 0; c < sent; c++) {
            parc_future_wait(fs[c]);
            parc_procpool_release(fs[c]);
        }
        free(fs);
        return rc;
    }
    int firstfail = 0;
    for (size_t c = 0; c < chunks; c++) {
        size_t at = first + c * chunk;
        size_t count = first + n - at < chunk ? first + n - at : chunk;
        int st = parc_future_get(fs[c], NULL);
        if ((st == ECHILD || st == ETIMEDOUT) && rerun && count > 1) {
            st = elems_run(j, at, count, 1, false);
        } else if (st == 0) {
            const void *data;
            size_t len, placed = parc_procpool_placed_(fs[c]);
            parc_procpool_result(fs[c], &data, &len);
            if (j->in_buffer) { /* written in place by the worker */
                placed = count * j->result_size;
            } else if (j->in_arena) { /* the results are in the arena */
                if (j->results != NULL)
                    memcpy(j->results + at * j->result_size,
                           j->pool->arena + j->res_off + at * j->result_size,
                           count * j->result_size);
                placed = count * j->result_size;
            }
            st = unpack_elems(data, len, placed, at, count, j->results, j->result_size,
                              j->statuses);
            if (st == EPROTO)
                fail_range(st, at, count, j->statuses);
        } else { /* the chunk failed as a whole (a death, ENOMEM, ECANCELED, EPIPE) */
            fail_range(st, at, count, j->statuses);
        }
        if (st != 0 && firstfail == 0)
            firstfail = st;
        parc_procpool_release(fs[c]);
    }
    free(fs);
    return firstfail;
}

int parc_procpool_map_elems(parc_procpool_t *pool, parc_proc_map_fn fn,
                            const void *args, size_t arg_size, size_t n,
                            void *results, size_t result_size, int *statuses,
                            size_t chunksize)
{
    if (pool == NULL || fn == NULL || (n > 0 && arg_size > 0 && args == NULL) ||
        (arg_size > 0 && n > SIZE_MAX / 4 / arg_size) ||
        (result_size > 0 && n > SIZE_MAX / 4 / result_size))
        return EINVAL;
    if (n == 0)
        return 0;
    if (chunksize == 0) { /* Python's rule: about four chunks per worker */
        size_t per = (size_t)parc_procpool_size(pool) * 4;
        chunksize = (n + per - 1) / per;
    }
    elems_job_t j = {pool, fn, args, arg_size, results, result_size, statuses, false, 0,
                     false, {NULL, 0, -1, 0, NULL}};
    /* Items and results in one shared buffer: no copy at all. */
    if (results != NULL && result_size > 0 &&
        parc_procpool_buffer_of_(pool, results, n * result_size, &j.buf) &&
        (arg_size == 0 || parc_procpool_within_(&j.buf, args, n * arg_size))) {
        if (arg_size == 0)
            j.args = j.buf.base;
        j.in_buffer = true;
        return elems_run(&j, 0, n, chunksize, true);
    }
    /* Large maps go through the arena: the caller copies the items in and
     * the results out (memcpy, at memory speed), the workers read and
     * write it in place; through the sockets every byte is copied twice
     * more by the kernel, and allocated there. One map at a time holds
     * the arena; a concurrent one takes the sockets. */
    size_t res_off = (n * arg_size + 63) & ~(size_t)63;
    size_t need = res_off + n * result_size;
    if (need >= ARENA_MIN_BYTES && pthread_mutex_trylock(&pool->arena_lock) == 0) {
        if (parc_procpool_arena_reserve_(pool, need) == 0) {
            j.in_arena = true;
            j.res_off = res_off;
            int rc = elems_run(&j, 0, n, chunksize, true);
            pthread_mutex_unlock(&pool->arena_lock);
            return rc;
        }
        pthread_mutex_unlock(&pool->arena_lock);
    }
    return elems_run(&j, 0, n, chunksize, true);
}

int parc_procpool_map(parc_procpool_t *pool, parc_proc_fn fn, const void *args,
                      size_t arg_size, size_t n, void *results,
                      size_t result_size, int *statuses)
{
    return parc_procpool_map_chunked(pool, fn, args, arg_size, n, results,
                                     result_size, statuses, 0);
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
