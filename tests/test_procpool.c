/*
 * Unit tests for parc/procpool.h.
 *
 * The seed's Pool(5).map(square, [1, 2, 3]) -> [1, 4, 9] across processes;
 * results and task errors come back through futures; a task that crashes
 * (SIGSEGV, exit, an external kill -9) fails alone with ECHILD and its wait
 * status while the rest of a map completes, and the pool forks a
 * replacement and keeps its size; a task past the timeout is killed
 * (ETIMEDOUT, SIGKILL); the initializer runs in each worker; workers
 * retire after max_tasks_per_child; close, terminate, join, imap, apply.
 *
 * Each test starts the fork server first, while its process (Check forks
 * one per test) has a single thread.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parc/procpool.h"
#include "testutil.h"

/* The sanitizers catch SIGSEGV in a worker and exit(1) instead: let the
 * signal kill it, as it would without them, so its status says SIGSEGV. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "handle_segv=0"; }
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "handle_segv=0"; }

static int square(const void *arg, size_t len, void **out, size_t *out_len)
{
    if (len != sizeof(long))
        return EINVAL;
    long x = *(const long *)arg;
    long *r = malloc(sizeof *r);
    if (r == NULL)
        return ENOMEM;
    *r = x * x;
    *out = r;
    *out_len = sizeof *r;
    return 0;
}

/* square, except: 13 segfaults, 17 exits with 3, 19 returns ERANGE. */
static int picky_square(const void *arg, size_t len, void **out, size_t *out_len)
{
    long x = *(const long *)arg;
    if (x == 13)
        raise(SIGSEGV);
    if (x == 17)
        _exit(3);
    if (x == 19)
        return ERANGE;
    return square(arg, len, out, out_len);
}

static int sleep_ms(const void *arg, size_t len, void **out, size_t *out_len)
{
    (void)len, (void)out, (void)out_len;
    parc_sleep_ns(*(const long *)arg * PARC_NS_PER_MS);
    return 0;
}

static int my_pid(const void *arg, size_t len, void **out, size_t *out_len)
{
    (void)arg, (void)len;
    pid_t *p = malloc(sizeof *p);
    *p = getpid();
    *out = p;
    *out_len = sizeof *p;
    return 0;
}

static long init_value; /* set in each worker by the initializer */

static int set_init_value(const void *arg, size_t len)
{
    if (len != sizeof(long))
        return 1;
    init_value = *(const long *)arg;
    return 0;
}

static int read_init_value(const void *arg, size_t len, void **out, size_t *out_len)
{
    (void)arg, (void)len;
    long *r = malloc(sizeof *r);
    *r = init_value;
    *out = r;
    *out_len = sizeof *r;
    return 0;
}

static int echo(const void *arg, size_t len, void **out, size_t *out_len)
{
    if (len == 0)
        return 0;
    char *r = malloc(len);
    memcpy(r, arg, len);
    *out = r;
    *out_len = len;
    return 0;
}

static parc_procpool_t *make_pool(unsigned workers, int64_t timeout_ns)
{
    ck_assert_int_eq(parc_procpool_forkserver_start(), 0);
    parc_procpool_options_t o = PARC_PROCPOOL_OPTIONS_INIT;
    o.workers = workers;
    o.task_timeout_ns = timeout_ns;
    parc_procpool_t *p;
    ck_assert_int_eq(parc_procpool_create(&o, &p), 0);
    return p;
}

static void finish_pool(parc_procpool_t *p)
{
    ck_assert_int_eq(parc_procpool_close(p), 0);
    ck_assert_int_eq(parc_procpool_join(p), 0);
    parc_procpool_free(p);
}

/* Wait until the pool has `size` live workers again. */
static void expect_full_size(parc_procpool_t *p)
{
    pid_t pids[64];
    parc_deadline_t d;
    parc_deadline_in(&d, PARC_TEST_PATIENCE_NS);
    size_t n;
    while ((n = parc_procpool_pids(p, pids, 64)) < parc_procpool_size(p) &&
           !parc_deadline_passed(d))
        parc_sleep_ns(PARC_NS_PER_MS);
    ck_assert_uint_eq(n, parc_procpool_size(p));
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(kill(pids[i], 0), 0); /* really alive */
}

START_TEST(rejects_bad_arguments)
{
    parc_procpool_t *p = make_pool(1, 0);
    parc_future_t *f;
    parc_procpool_options_t o = PARC_PROCPOOL_OPTIONS_INIT;
    o.task_timeout_ns = -1;
    ck_assert_int_eq(parc_procpool_create(&o, &p), EINVAL);
    ck_assert_int_eq(parc_procpool_create(NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_procpool_submit(NULL, square, NULL, 0, &f), EINVAL);
    ck_assert_int_eq(parc_procpool_submit(p, NULL, NULL, 0, &f), EINVAL);
    ck_assert_int_eq(parc_procpool_submit(p, square, NULL, 4, &f), EINVAL);
    ck_assert_int_eq(parc_procpool_join(p), EINVAL); /* not closed */
    finish_pool(p);
}
END_TEST

START_TEST(seed_map_square)
{
    parc_procpool_t *p = make_pool(5, 0);
    long in[3] = {1, 2, 3}, out[3] = {0};
    ck_assert_int_eq(parc_procpool_map(p, square, in, sizeof in[0], 3, out,
                                       sizeof out[0], NULL), 0);
    ck_assert_int_eq(out[0], 1);
    ck_assert_int_eq(out[1], 4);
    ck_assert_int_eq(out[2], 9);
    enum { N = 300 };
    long big_in[N], big_out[N];
    for (long i = 0; i < N; i++)
        big_in[i] = i - 100;
    ck_assert_int_eq(parc_procpool_map(p, square, big_in, sizeof(long), N,
                                       big_out, sizeof(long), NULL), 0);
    for (long i = 0; i < N; i++)
        ck_assert_int_eq(big_out[i], (i - 100) * (i - 100));
    finish_pool(p);
}
END_TEST

START_TEST(chunked_map_isolates_the_crashing_item)
{
    parc_procpool_t *p = make_pool(2, 0);
    enum { N = 1000 };
    static long in[N], out[N];
    static int st[N];
    for (long i = 0; i < N; i++)
        in[i] = i % 13 == 0 && i != 13 ? i + 1 : i; /* only item 13 is 13 */
    /* chunks of 100: item 13's chunk dies and is rerun item by item */
    ck_assert_int_eq(parc_procpool_map_chunked(p, picky_square, in, sizeof(long), N,
                                               out, sizeof(long), st, 100), ECHILD);
    for (long i = 0; i < N; i++) {
        if (i == 13) {
            ck_assert_int_eq(st[i], ECHILD);
        } else {
            ck_assert_int_eq(st[i], in[i] == 17 ? ECHILD : in[i] == 19 ? ERANGE : 0);
            if (st[i] == 0)
                ck_assert_int_eq(out[i], in[i] * in[i]);
        }
    }
    /* the automatic chunk size and one task per item agree */
    for (long i = 0; i < N; i++)
        in[i] = 20 + i;
    ck_assert_int_eq(parc_procpool_map(p, square, in, sizeof(long), N, out,
                                       sizeof(long), NULL), 0);
    for (long i = 0; i < N; i++)
        ck_assert_int_eq(out[i], in[i] * in[i]);
    ck_assert_int_eq(parc_procpool_map_chunked(p, square, in, sizeof(long), 50, out,
                                               sizeof(long), NULL, 1), 0);
    ck_assert_int_eq(out[49], in[49] * in[49]);
    /* a result of the wrong size fails that item with EMSGSIZE */
    int small[3] = {1, 2, 3};
    ck_assert_int_eq(parc_procpool_map_chunked(p, echo, small, sizeof small[0], 3,
                                               out, sizeof out[0], st, 2), EMSGSIZE);
    finish_pool(p);
}
END_TEST

/* map_elems' element function: square, except 13 segfaults, 17 exits
 * with 3, 19 returns ERANGE, and -1 sleeps for 10 s (past any timeout). */
static int picky_square_elem(const void *in, void *out)
{
    long x = *(const long *)in;
    if (x == 13)
        raise(SIGSEGV);
    if (x == 17)
        _exit(3);
    if (x == 19)
        return ERANGE;
    if (x == -1)
        parc_sleep_ns(10 * PARC_NS_PER_S);
    *(long *)out = x * x;
    return 0;
}

START_TEST(map_elems_seed_and_bulk)
{
    parc_procpool_t *p = make_pool(5, 0);
    long in[3] = {1, 2, 3}, out[3] = {0};
    ck_assert_int_eq(parc_procpool_map_elems(p, picky_square_elem, in, sizeof in[0], 3,
                                             out, sizeof out[0], NULL, 0), 0);
    ck_assert_int_eq(out[0], 1);
    ck_assert_int_eq(out[1], 4);
    ck_assert_int_eq(out[2], 9);
    /* megabytes per chunk: frames and replies cross the sockets in many
     * pieces, straight from and into the caller's arrays */
    enum { N = 400000 };
    long *big_in = malloc(N * sizeof *big_in), *big_out = malloc(N * sizeof *big_out);
    int *st = malloc(N * sizeof *st);
    ck_assert_ptr_nonnull(big_in);
    ck_assert_ptr_nonnull(big_out);
    ck_assert_ptr_nonnull(st);
    for (long i = 0; i < N; i++)
        big_in[i] = 20 + i;
    memset(st, 0x55, N * sizeof *st);
    ck_assert_int_eq(parc_procpool_map_elems(p, picky_square_elem, big_in, sizeof(long), N,
                                             big_out, sizeof(long), st, 0), 0);
    for (long i = 0; i < N; i++) {
        ck_assert_int_eq(big_out[i], (20 + i) * (20 + i));
        ck_assert_int_eq(st[i], 0);
    }
    /* one item per task agrees; results not wanted back is fine */
    ck_assert_int_eq(parc_procpool_map_elems(p, picky_square_elem, big_in, sizeof(long), 100,
                                             big_out, sizeof(long), NULL, 1), 0);
    ck_assert_int_eq(big_out[99], 119 * 119);
    ck_assert_int_eq(parc_procpool_map_elems(p, picky_square_elem, big_in, sizeof(long), N,
                                             NULL, sizeof(long), NULL, 0), 0);
    ck_assert_int_eq(parc_procpool_map_elems(p, picky_square_elem, big_in, sizeof(long), 0,
                                             big_out, sizeof(long), NULL, 0), 0);
    ck_assert_int_eq(parc_procpool_map_elems(NULL, picky_square_elem, in, sizeof(long), 3,
                                             out, sizeof(long), NULL, 0), EINVAL);
    ck_assert_int_eq(parc_procpool_map_elems(p, NULL, in, sizeof(long), 3, out,
                                             sizeof(long), NULL, 0), EINVAL);
    ck_assert_int_eq(parc_procpool_map_elems(p, picky_square_elem, NULL, sizeof(long), 3,
                                             out, sizeof(long), NULL, 0), EINVAL);
    ck_assert_int_eq(parc_procpool_map_elems(p, picky_square_elem, in, SIZE_MAX / 2, 3,
                                             out, sizeof(long), NULL, 0), EINVAL);
    free(big_in);
    free(big_out);
    free(st);
    finish_pool(p);
}
END_TEST

/* Items and results in a shared buffer: the workers read and write them
 * in place (nothing crosses the sockets or the arena); crashes and task
 * errors are still per item; a map with only its results in a buffer, or
 * spanning two, still works (it takes the other paths). */
START_TEST(map_elems_in_a_shared_buffer)
{
    parc_procpool_t *p = make_pool(2, 0);
    enum { N = 100000 };
    long *buf = NULL, *other = NULL;
    ck_assert_int_eq(parc_procpool_buffer(p, 2 * N * sizeof(long), (void **)&buf), 0);
    ck_assert_int_eq(parc_procpool_buffer(p, N * sizeof(long), (void **)&other), 0);
    long *in = buf, *out = buf + N;
    static int st[N];
    for (long i = 0; i < N; i++) {
        in[i] = i % 13 == 0 && i != 13 ? i + 1 : i; /* only item 13 is 13 */
        out[i] = -1;
    }
    for (int round = 0; round < 2; round++) { /* the workers keep the mapping */
        ck_assert_int_eq(parc_procpool_map_elems(p, picky_square_elem, in, sizeof(long), N,
                                                 out, sizeof(long), st, 1000),
                         round == 0 ? ECHILD : ERANGE);
        for (long i = 0; i < N; i++) {
            ck_assert_int_eq(st[i], in[i] == 13 || in[i] == 17 ? ECHILD
                                    : in[i] == 19              ? ERANGE
                                                               : 0);
            if (st[i] == 0)
                ck_assert_int_eq(out[i], in[i] * in[i]);
        }
        in[13] = 14;
        in[17] = 18;
    }
    ck_assert_int_eq(parc_procpool_map_elems(p, picky_square_elem, in, sizeof(long), 10,
                                             out, sizeof(long), NULL, 0), 0);
    /* items in one buffer, results in another; results in the caller's array */
    static long mine[N];
    in[19] = 20;
    ck_assert_int_eq(parc_procpool_map_elems(p, picky_square_elem, in, sizeof(long), N,
                                             other, sizeof(long), NULL, 0), 0);
    ck_assert_int_eq(parc_procpool_map_elems(p, picky_square_elem, in, sizeof(long), N,
                                             mine, sizeof(long), NULL, 0), 0);
    for (long i = 0; i < N; i++) {
        ck_assert_int_eq(other[i], in[i] * in[i]);
        ck_assert_int_eq(mine[i], in[i] * in[i]);
    }
    /* results in the buffer, items not: the other paths */
    ck_assert_int_eq(parc_procpool_map_elems(p, picky_square_elem, mine, sizeof(long), 20,
                                             out, sizeof(long), NULL, 0), 0);
    ck_assert_int_eq(out[19], mine[19] * mine[19]);
    ck_assert_int_eq(parc_procpool_buffer(NULL, 64, (void **)&buf), EINVAL);
    ck_assert_int_eq(parc_procpool_buffer(p, 0, (void **)&buf), EINVAL);
    ck_assert_int_eq(parc_procpool_buffer(p, 64, NULL), EINVAL);
    ck_assert_int_eq(parc_procpool_buffer_free(p, mine), EINVAL);
    ck_assert_int_eq(parc_procpool_buffer_free(NULL, other), EINVAL);
    ck_assert_int_eq(parc_procpool_buffer_free(p, other), 0);
    ck_assert_int_eq(parc_procpool_buffer_free(p, other), EINVAL);
    finish_pool(p); /* frees `in`'s buffer */
}
END_TEST

START_TEST(map_elems_isolates_the_crashing_item)
{
    parc_procpool_t *p = make_pool(2, 0);
    enum { N = 1000 };
    static long in[N], out[N];
    static int st[N];
    for (long i = 0; i < N; i++)
        in[i] = i % 13 == 0 && i != 13 ? i + 1 : i; /* only item 13 is 13 */
    /* chunks of 100: the chunks of 13 and 17 die and are rerun item by
     * item; 19's chunk reports ERANGE for 19 alone */
    ck_assert_int_eq(parc_procpool_map_elems(p, picky_square_elem, in, sizeof(long), N,
                                             out, sizeof(long), st, 100), ECHILD);
    for (long i = 0; i < N; i++) {
        ck_assert_int_eq(st[i], in[i] == 13 || in[i] == 17 ? ECHILD
                                : in[i] == 19              ? ERANGE
                                                           : 0);
        if (st[i] == 0)
            ck_assert_int_eq(out[i], in[i] * in[i]);
    }
    expect_full_size(p);
    /* an error alone (no death) is the map's answer */
    long errs[4] = {2, 19, 3, 19};
    int est[4];
    ck_assert_int_eq(parc_procpool_map_elems(p, picky_square_elem, errs, sizeof(long), 4,
                                             out, sizeof(long), est, 0), ERANGE);
    ck_assert_int_eq(est[0], 0);
    ck_assert_int_eq(est[1], ERANGE);
    ck_assert_int_eq(est[3], ERANGE);
    ck_assert_int_eq(out[2], 9);
    finish_pool(p);
}
END_TEST

/* A big map (the arena path) from a thread of its own. */
struct big_map {
    parc_procpool_t *p;
    long base;
    size_t n;
    int rc;
    bool ok;
};

static void *run_big_map(void *arg)
{
    struct big_map *m = arg;
    long *in = malloc(m->n * sizeof *in), *out = malloc(m->n * sizeof *out);
    m->ok = in != NULL && out != NULL;
    if (!m->ok)
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        in[i] = m->base + (long)i;
    m->rc = parc_procpool_map_elems(m->p, picky_square_elem, in, sizeof *in, m->n, out,
                                    sizeof *out, NULL, 0);
    for (size_t i = 0; i < m->n && m->ok; i++)
        m->ok = out[i] == in[i] * in[i];
    free(in);
    free(out);
    return NULL;
}

START_TEST(map_elems_arena_grows_isolates_crashes_and_shares)
{
    parc_procpool_t *p = make_pool(2, 0);
    /* 40,000 items and results: 640 KB, through the arena; item 13's chunk
     * dies there and is rerun one item per task, from the arena too */
    enum { N = 40000 };
    static long in[N], out[N];
    static int st[N];
    for (long i = 0; i < N; i++)
        in[i] = i == 13 ? 13 : i + 20;
    ck_assert_int_eq(parc_procpool_map_elems(p, picky_square_elem, in, sizeof(long), N,
                                             out, sizeof(long), st, 0), ECHILD);
    for (long i = 0; i < N; i++) {
        ck_assert_int_eq(st[i], i == 13 ? ECHILD : 0);
        if (i != 13)
            ck_assert_int_eq(out[i], in[i] * in[i]);
    }
    /* a larger map: a new arena, which the workers map on their next chunk */
    struct big_map big = {p, 100, 300000, -1, false};
    run_big_map(&big);
    ck_assert_int_eq(big.rc, 0);
    ck_assert(big.ok);
    /* and the smaller again, in the grown arena */
    for (long i = 0; i < N; i++)
        in[i] = i + 1000;
    ck_assert_int_eq(parc_procpool_map_elems(p, picky_square_elem, in, sizeof(long), N,
                                             out, sizeof(long), NULL, 0), 0);
    ck_assert_int_eq(out[N - 1], (N + 999L) * (N + 999L));
    /* two maps at once: one has the arena, the other the sockets */
    struct big_map m[3] = {{p, 1000, 200000, -1, false}, {p, 500000, 250000, -1, false},
                           {p, 900000, 50000, -1, false}};
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, run_big_map, &m[i]), 0);
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(m[i].rc, 0);
        ck_assert(m[i].ok);
    }
    finish_pool(p);
}
END_TEST

START_TEST(map_elems_timeout_and_initializer)
{
    /* an initializer's frame is queued ahead of each new worker's first
     * chunk (the frame is then copied behind it, the items still borrowed) */
    ck_assert_int_eq(parc_procpool_forkserver_start(), 0);
    parc_procpool_options_t o = PARC_PROCPOOL_OPTIONS_INIT;
    long iv = 7;
    o.workers = 2;
    o.initializer = set_init_value;
    o.initarg = &iv;
    o.initarg_len = sizeof iv;
    o.task_timeout_ns = 300 * PARC_NS_PER_MS;
    parc_procpool_t *p;
    ck_assert_int_eq(parc_procpool_create(&o, &p), 0);
    enum { N = 64 };
    long in[N], out[N];
    int st[N];
    for (long i = 0; i < N; i++)
        in[i] = i == 5 ? -1 : i + 100;
    ck_assert_int_eq(parc_procpool_map_elems(p, picky_square_elem, in, sizeof(long), N,
                                             out, sizeof(long), st, 16), ETIMEDOUT);
    for (long i = 0; i < N; i++) {
        ck_assert_int_eq(st[i], i == 5 ? ETIMEDOUT : 0);
        if (i != 5)
            ck_assert_int_eq(out[i], in[i] * in[i]);
    }
    finish_pool(p);
}
END_TEST

START_TEST(submit_apply_and_results)
{
    parc_procpool_t *p = make_pool(2, 0);
    parc_future_t *f;
    const char msg[] = "bytes across processes";
    ck_assert_int_eq(parc_procpool_submit(p, echo, msg, sizeof msg, &f), 0);
    void *v;
    ck_assert_int_eq(parc_future_get(f, &v), 0);
    ck_assert_str_eq(v, msg);
    const void *data;
    size_t len;
    ck_assert_int_eq(parc_procpool_result(f, &data, &len), 0);
    ck_assert_uint_eq(len, sizeof msg);
    int ws;
    ck_assert_int_eq(parc_procpool_wait_status(f, &ws), ENOENT);
    parc_procpool_release(f);
    /* empty argument, empty result */
    ck_assert_int_eq(parc_procpool_submit(p, echo, NULL, 0, &f), 0);
    ck_assert_int_eq(parc_future_get(f, &v), 0);
    ck_assert_ptr_null(v);
    parc_procpool_release(f);
    /* a task's own error code */
    long x = 19;
    ck_assert_int_eq(parc_procpool_submit(p, picky_square, &x, sizeof x, &f), 0);
    ck_assert_int_eq(parc_future_get(f, NULL), ERANGE);
    parc_procpool_release(f);
    /* apply */
    x = 12;
    void *r;
    size_t rlen;
    ck_assert_int_eq(parc_procpool_apply(p, square, &x, sizeof x, &r, &rlen), 0);
    ck_assert_uint_eq(rlen, sizeof(long));
    ck_assert_int_eq(*(long *)r, 144);
    free(r);
    /* released before it completes: no leak, no crash (asan) */
    ck_assert_int_eq(parc_procpool_submit(p, echo, msg, sizeof msg, &f), 0);
    parc_procpool_release(f);
    finish_pool(p);
}
END_TEST

START_TEST(crashing_tasks_fail_alone_and_workers_are_replaced)
{
    parc_procpool_t *p = make_pool(3, 0);
    enum { N = 40 };
    long in[N], out[N];
    int st[N];
    for (long i = 0; i < N; i++)
        in[i] = i;
    int rc = parc_procpool_map(p, picky_square, in, sizeof(long), N, out,
                               sizeof(long), st);
    ck_assert_int_eq(rc, ECHILD); /* the first failure by index: 13 */
    for (long i = 0; i < N; i++) {
        if (i == 13 || i == 17)
            ck_assert_int_eq(st[i], ECHILD);
        else if (i == 19)
            ck_assert_int_eq(st[i], ERANGE);
        else {
            ck_assert_int_eq(st[i], 0);
            ck_assert_int_eq(out[i], i * i);
        }
    }
    /* The cause is readable from the future. */
    parc_future_t *f;
    long x = 13;
    ck_assert_int_eq(parc_procpool_submit(p, picky_square, &x, sizeof x, &f), 0);
    ck_assert_int_eq(parc_future_get(f, NULL), ECHILD);
    int ws = 0;
    ck_assert_int_eq(parc_procpool_wait_status(f, &ws), 0);
    ck_assert(WIFSIGNALED(ws));
    ck_assert_int_eq(WTERMSIG(ws), SIGSEGV);
    parc_procpool_release(f);
    x = 17;
    ck_assert_int_eq(parc_procpool_submit(p, picky_square, &x, sizeof x, &f), 0);
    ck_assert_int_eq(parc_future_get(f, NULL), ECHILD);
    ck_assert_int_eq(parc_procpool_wait_status(f, &ws), 0);
    ck_assert(WIFEXITED(ws));
    ck_assert_int_eq(WEXITSTATUS(ws), 3);
    parc_procpool_release(f);
    ck_assert_uint_ge(parc_procpool_respawns(p), 4);
    expect_full_size(p);
    finish_pool(p);
}
END_TEST

START_TEST(killed_worker_fails_its_task)
{
    parc_procpool_t *p = make_pool(2, 0);
    expect_full_size(p);
    parc_future_t *f[2];
    long ms = 60 * 1000;
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(parc_procpool_submit(p, sleep_ms, &ms, sizeof ms, &f[i]), 0);
    /* both workers are busy with a minute-long sleep: kill both */
    parc_sleep_ns(100 * PARC_NS_PER_MS);
    pid_t pids[2];
    ck_assert_uint_eq(parc_procpool_pids(p, pids, 2), 2);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(kill(pids[i], SIGKILL), 0);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(parc_future_get_timed(f[i], NULL, PARC_TEST_PATIENCE_NS), ECHILD);
        int ws;
        ck_assert_int_eq(parc_procpool_wait_status(f[i], &ws), 0);
        ck_assert(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
        parc_procpool_release(f[i]);
    }
    expect_full_size(p);
    long x = 5, r;
    ck_assert_int_eq(parc_procpool_map(p, square, &x, sizeof x, 1, &r, sizeof r, NULL), 0);
    ck_assert_int_eq(r, 25);
    finish_pool(p);
}
END_TEST

/* Resident memory of a process in KiB (VmRSS), or -1. */
static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %ld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* The caller's memory touched after the server started is not in the
 * workers, first ones and replacements alike (a server forked from the
 * grown caller would give each worker all of it to copy the page tables
 * of at its fork and to tear down at its death: procpool.h). RSS counts
 * the pages a process maps, copy-on-write shared ones too. */
START_TEST(workers_do_not_inherit_the_callers_later_growth)
{
    ck_assert_int_eq(parc_procpool_forkserver_start(), 0);
    size_t grown = (size_t)64 << 20;
    char *ballast = malloc(grown);
    ck_assert_ptr_nonnull(ballast);
    memset(ballast, 1, grown);
    parc_procpool_options_t o = PARC_PROCPOOL_OPTIONS_INIT;
    o.workers = 1;
    parc_procpool_t *p;
    ck_assert_int_eq(parc_procpool_create(&o, &p), 0);
    for (int round = 0; round < 2; round++) {
        expect_full_size(p);
        pid_t pid;
        ck_assert_uint_eq(parc_procpool_pids(p, &pid, 1), 1);
        long mine = rss_kib(getpid()), its = rss_kib(pid);
        ck_assert_int_gt(its, 0);
        ck_assert_int_le(its + 48 * 1024, mine);
        /* the replacement of a crashed worker, in the second round */
        long x = 13;
        parc_future_t *f;
        ck_assert_int_eq(parc_procpool_submit(p, picky_square, &x, sizeof x, &f), 0);
        ck_assert_int_eq(parc_future_get_timed(f, NULL, PARC_TEST_PATIENCE_NS), ECHILD);
        parc_procpool_release(f);
    }
    ck_assert_int_eq(ballast[grown - 1], 1);
    free(ballast);
    finish_pool(p);
}
END_TEST

START_TEST(task_past_timeout_is_killed)
{
    parc_procpool_t *p = make_pool(1, 200 * PARC_NS_PER_MS);
    parc_future_t *f;
    long ms = 60 * 1000;
    ck_assert_int_eq(parc_procpool_submit(p, sleep_ms, &ms, sizeof ms, &f), 0);
    ck_assert_int_eq(parc_future_get_timed(f, NULL, PARC_TEST_PATIENCE_NS), ETIMEDOUT);
    ck_assert(parc_future_is_done(f));
    int ws;
    ck_assert_int_eq(parc_procpool_wait_status(f, &ws), 0);
    ck_assert(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
    parc_procpool_release(f);
    /* the replacement serves the next task */
    ms = 1;
    ck_assert_int_eq(parc_procpool_apply(p, sleep_ms, &ms, sizeof ms, NULL, NULL), 0);
    finish_pool(p);
}
END_TEST

START_TEST(initializer_and_max_tasks_per_child)
{
    ck_assert_int_eq(parc_procpool_forkserver_start(), 0);
    long seed = 4242;
    parc_procpool_options_t o = PARC_PROCPOOL_OPTIONS_INIT;
    o.workers = 1; /* so that each worker serves exactly one read + one pid */
    o.initializer = set_init_value;
    o.initarg = &seed;
    o.initarg_len = sizeof seed;
    o.max_tasks_per_child = 2;
    parc_procpool_t *p;
    ck_assert_int_eq(parc_procpool_create(&o, &p), 0);
    pid_t seen[12];
    for (int i = 0; i < 12; i++) {
        void *r;
        ck_assert_int_eq(parc_procpool_apply(p, read_init_value, NULL, 0, &r, NULL), 0);
        ck_assert_int_eq(*(long *)r, 4242);
        free(r);
        ck_assert_int_eq(parc_procpool_apply(p, my_pid, NULL, 0, &r, NULL), 0);
        seen[i] = *(pid_t *)r;
        free(r);
    }
    /* the worker served two tasks (one read, one pid) and retired each
     * time: the twelve pids are all different */
    for (int i = 0; i < 12; i++)
        for (int j = 0; j < i; j++)
            ck_assert_int_ne(seen[i], seen[j]);
    ck_assert_uint_ge(parc_procpool_respawns(p), 11);
    finish_pool(p);
}
END_TEST

START_TEST(close_terminate_and_imap)
{
    parc_procpool_t *p = make_pool(2, 0);
    long in[20];
    for (long i = 0; i < 20; i++)
        in[i] = i;
    parc_procpool_imap_t *it;
    ck_assert_int_eq(parc_procpool_imap(p, square, in, sizeof(long), 20, &it), 0);
    parc_future_t *f;
    for (long i = 0; i < 10; i++) {
        ck_assert_int_eq(parc_procpool_imap_next(it, &f), 0);
        void *v;
        ck_assert_int_eq(parc_future_get(f, &v), 0);
        ck_assert_int_eq(*(long *)v, i * i);
        parc_procpool_release(f);
    }
    parc_procpool_imap_free(it); /* the other ten still run */
    /* terminate: queued and running tasks fail with ECANCELED */
    long ms = 60 * 1000;
    parc_future_t *g[6];
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(parc_procpool_submit(p, sleep_ms, &ms, sizeof ms, &g[i]), 0);
    parc_sleep_ns(50 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_procpool_terminate(p), 0);
    ck_assert_int_eq(parc_procpool_submit(p, square, &ms, sizeof ms, &f), EPIPE);
    ck_assert_int_eq(parc_procpool_join(p), 0);
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(parc_future_get(g[i], NULL), ECANCELED);
        parc_procpool_release(g[i]);
    }
    parc_procpool_free(p);
}
END_TEST

START_TEST(close_runs_queued_tasks)
{
    parc_procpool_t *p = make_pool(2, 0);
    parc_future_t *f[30];
    for (long i = 0; i < 30; i++)
        ck_assert_int_eq(parc_procpool_submit(p, square, &i, sizeof i, &f[i]), 0);
    ck_assert_int_eq(parc_procpool_close(p), 0);
    long x = 1;
    parc_future_t *g;
    ck_assert_int_eq(parc_procpool_submit(p, square, &x, sizeof x, &g), EPIPE);
    ck_assert_int_eq(parc_procpool_join(p), 0);
    for (long i = 0; i < 30; i++) {
        void *v;
        ck_assert_int_eq(parc_future_get(f[i], &v), 0);
        ck_assert_int_eq(*(long *)v, i * i);
        parc_procpool_release(f[i]);
    }
    parc_procpool_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("procpool");
    TCase *tc = tcase_create("processes");
    tcase_set_timeout(tc, 120 * PARC_SLOWDOWN);
    tcase_add_test(tc, rejects_bad_arguments);
    tcase_add_test(tc, seed_map_square);
    tcase_add_test(tc, submit_apply_and_results);
    tcase_add_test(tc, chunked_map_isolates_the_crashing_item);
    tcase_add_test(tc, map_elems_seed_and_bulk);
    tcase_add_test(tc, map_elems_isolates_the_crashing_item);
    tcase_add_test(tc, map_elems_in_a_shared_buffer);
    tcase_add_test(tc, map_elems_timeout_and_initializer);
    tcase_add_test(tc, map_elems_arena_grows_isolates_crashes_and_shares);
    tcase_add_test(tc, crashing_tasks_fail_alone_and_workers_are_replaced);
    tcase_add_test(tc, killed_worker_fails_its_task);
    tcase_add_test(tc, workers_do_not_inherit_the_callers_later_growth);
    tcase_add_test(tc, task_past_timeout_is_killed);
    tcase_add_test(tc, initializer_and_max_tasks_per_child);
    tcase_add_test(tc, close_terminate_and_imap);
    tcase_add_test(tc, close_runs_queued_tasks);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
