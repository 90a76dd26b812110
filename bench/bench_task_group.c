/*
 * bench/bench_task_group.c — fork/join written with a task group against
 * the same program written with a future per fork (caller-storage futures,
 * joined newest first), on the same pool:
 *
 *   tg_fib      fib(30) with a sequential cutoff of 18
 *   tg_nqueens  n-queens(11), a group per board with a serial cutoff
 *   tg_uts      a UTS-like unbalanced tree: 0..7 children per node from a
 *               hash of the node, ~1.4 x 10^6 nodes
 *   tg_reduce   parallel_reduce of a sum of squares against oneTBB's
 *               parallel_reduce and OpenMP's reduction (its own comment
 *               below; the map / parallel_for side is bench_pool.c's
 *               pool_loop)
 *
 * In tg_fib, tg_nqueens and tg_uts,
 * "parc" is the task-group form (the numerator of every ratio);
 * "parc-future-per-fork" the form parc had before task groups; "tbb"
 * oneTBB's task_group (peer_tbb_tg.cpp) on a task_arena of the same
 * thread count. All three run the same serial kernels (tg_kernels.h)
 * and bump the same shared fork counter. parc's root is run into a group
 * from this (outside) thread and waited on; oneTBB's runs through
 * arena.execute. One op is one task (fork).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"
#include "parc/future.h"
#include "parc/pool.h"
#include "parc/task_group.h"
#include "tg_kernels.h"
#ifdef PARC_BENCH_HAVE_TBB
#include "peer_tbb_tg.h"
#endif

static parc_pool_t *tg_pool(int workers)
{
    static parc_pool_t *pools[8];
    if (workers < 1 || workers > 8)
        return NULL;
    if (pools[workers - 1] == NULL
        && parc_pool_create((unsigned)workers, NULL, &pools[workers - 1]) != 0)
        return NULL;
    return pools[workers - 1];
}

static parc_atomic(uint64_t) forks;

/* Run root(arg) as the one task of a group waited on from this thread. */
static int64_t timed_root(bench_run_t *r, int (*root)(void *), void *arg)
{
    parc_pool_t *p = tg_pool(r->threads);
    if (p == NULL)
        return BENCH_FAILED;
    parc_store(&forks, 0u, PARC_RELAXED);
    int64_t t0 = bench_now_ns();
    parc_task_group_t g;
    parc_task_group_init(&g, p);
    int rc = parc_task_group_run(&g, root, arg);
    if (rc == 0)
        rc = parc_task_group_wait(&g);
    parc_task_group_destroy(&g);
    int64_t ns = bench_now_ns() - t0;
    r->items = parc_load(&forks, PARC_RELAXED) + 1;
    return rc == 0 ? ns : BENCH_FAILED;
}

/* ---- tg_fib ----------------------------------------------------------------- */

static const bench_point_t tg_fib_points[] = {
    { "fib(30), cutoff 18, 2 workers", 2, 30, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(tg_fib, "fork/join fib with a cutoff: task group vs a future per fork", tg_fib_points)

typedef struct fib_arg {
    int64_t n, result;
} fib_arg_t;

static int fib_group(void *arg)
{
    fib_arg_t *a = arg;
    if (a->n < TG_FIB_CUTOFF) {
        a->result = tg_fib_serial(a->n);
        return 0;
    }
    parc_faa(&forks, 1u, PARC_RELAXED);
    fib_arg_t x = { a->n - 1, 0 }, y = { a->n - 2, 0 };
    parc_task_group_t g;
    parc_task_group_init(&g, parc_pool_current());
    parc_task_group_run(&g, fib_group, &x);
    fib_group(&y);
    int rc = parc_task_group_wait(&g);
    parc_task_group_destroy(&g);
    a->result = x.result + y.result;
    return rc;
}

static int fib_future(void *arg, void **result)
{
    int64_t n = (int64_t)(intptr_t)arg;
    if (n < TG_FIB_CUTOFF) {
        *result = (void *)(intptr_t)tg_fib_serial(n);
        return 0;
    }
    parc_faa(&forks, 1u, PARC_RELAXED);
    parc_future_t f;
    parc_future_init(&f, fib_future, (void *)(intptr_t)(n - 1));
    if (parc_pool_submit_future(parc_pool_current(), &f) != 0)
        return EIO;
    void *a = NULL, *b = NULL;
    fib_future((void *)(intptr_t)(n - 2), &b);
    int rc = parc_future_get(&f, &a);
    parc_future_destroy(&f);
    *result = (void *)((intptr_t)a + (intptr_t)b);
    return rc;
}

static int fib_future_root(void *arg)
{
    fib_arg_t *a = arg;
    void *v = NULL;
    int rc = fib_future((void *)(intptr_t)a->n, &v);
    a->result = (intptr_t)v;
    return rc;
}

static int64_t tg_fib_case(bench_run_t *r, int (*root)(void *))
{
    fib_arg_t a = { r->arg, 0 };
    int64_t ns = timed_root(r, root, &a);
    return a.result == tg_fib_serial(r->arg) ? ns : BENCH_FAILED;
}

static int64_t tg_fib_group(bench_run_t *r)
{
    return tg_fib_case(r, fib_group);
}
BENCH_CASE(tg_fib, "parc", tg_fib_group)

static int64_t tg_fib_future(bench_run_t *r)
{
    return tg_fib_case(r, fib_future_root);
}
BENCH_CASE(tg_fib, "parc-future-per-fork", tg_fib_future)

#ifdef PARC_BENCH_HAVE_TBB
static int64_t tg_fib_tbb(bench_run_t *r)
{
    int64_t result = 0;
    uint64_t forks_ = 0;
    int64_t t0 = bench_now_ns();
    if (bench_tbb_tg_fib(r->threads, r->arg, &result, &forks_) != 0)
        return BENCH_FAILED;
    int64_t ns = bench_now_ns() - t0;
    r->items = forks_ + 1;
    return result == tg_fib_serial(r->arg) ? ns : BENCH_FAILED;
}
BENCH_CASE(tg_fib, "tbb", tg_fib_tbb)
#endif

/* ---- tg_nqueens --------------------------------------------------------------- */

static const bench_point_t tg_nqueens_points[] = {
    { "nqueens(11), cutoff 5 rows, 2 workers", 2, 11, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(tg_nqueens, "n-queens: task group vs a future per fork", tg_nqueens_points)

#define place tg_place
#define queens_serial tg_queens_serial

static int queens_group(void *arg)
{
    board_t *b = arg;
    if (b->n - b->row <= TG_QUEENS_SERIAL) {
        b->count = queens_serial(b);
        return 0;
    }
    board_t child[32] = { 0 };
    parc_task_group_t g;
    parc_task_group_init(&g, parc_pool_current());
    for (int c = 0; c < b->n; c++)
        if (place(b, c, &child[c])) {
            parc_faa(&forks, 1u, PARC_RELAXED);
            parc_task_group_run(&g, queens_group, &child[c]);
        }
    int rc = parc_task_group_wait(&g);
    parc_task_group_destroy(&g);
    for (int c = 0; c < b->n; c++)
        b->count += child[c].count;
    return rc;
}

static int queens_future(void *arg, void **result)
{
    (void)result;
    board_t *b = arg;
    if (b->n - b->row <= TG_QUEENS_SERIAL) {
        b->count = queens_serial(b);
        return 0;
    }
    board_t child[32] = { 0 };
    parc_future_t f[32];
    int k = 0, rc = 0;
    for (int c = 0; c < b->n; c++)
        if (place(b, c, &child[c])) {
            parc_faa(&forks, 1u, PARC_RELAXED);
            parc_future_init(&f[k], queens_future, &child[c]);
            if (parc_pool_submit_future(parc_pool_current(), &f[k]) != 0)
                rc = EIO;
            else
                k++;
        }
    while (k-- > 0) { /* newest first */
        void *v;
        int e = parc_future_get(&f[k], &v);
        if (rc == 0)
            rc = e;
        parc_future_destroy(&f[k]);
    }
    for (int c = 0; c < b->n; c++)
        b->count += child[c].count;
    return rc;
}

static int queens_future_root(void *arg)
{
    void *v;
    return queens_future(arg, &v);
}

static int64_t tg_nqueens_case(bench_run_t *r, int (*root)(void *))
{
    static int64_t known_n = -1, known;
    board_t b = { (int)r->arg, 0, 0, 0, 0, 0 };
    if (known_n != r->arg) {
        known = queens_serial(&b);
        known_n = r->arg;
    }
    int64_t ns = timed_root(r, root, &b);
    return b.count == known ? ns : BENCH_FAILED;
}

static int64_t tg_nqueens_group(bench_run_t *r)
{
    return tg_nqueens_case(r, queens_group);
}
BENCH_CASE(tg_nqueens, "parc", tg_nqueens_group)

static int64_t tg_nqueens_future(bench_run_t *r)
{
    return tg_nqueens_case(r, queens_future_root);
}
BENCH_CASE(tg_nqueens, "parc-future-per-fork", tg_nqueens_future)

#ifdef PARC_BENCH_HAVE_TBB
static int64_t tg_nqueens_tbb(bench_run_t *r)
{
    board_t b = { (int)r->arg, 0, 0, 0, 0, 0 };
    int64_t count = 0, known = queens_serial(&b);
    uint64_t forks_ = 0;
    int64_t t0 = bench_now_ns();
    if (bench_tbb_tg_nqueens(r->threads, (int)r->arg, &count, &forks_) != 0)
        return BENCH_FAILED;
    int64_t ns = bench_now_ns() - t0;
    r->items = forks_ + 1;
    return count == known ? ns : BENCH_FAILED;
}
BENCH_CASE(tg_nqueens, "tbb", tg_nqueens_tbb)
#endif

/* ---- tg_uts ----------------------------------------------------------------------- */

static const bench_point_t tg_uts_points[] = {
    { "UTS-like tree, ~1.4M nodes, 2 workers", 2, 0, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(tg_uts, "unbalanced tree, 0..7 children a node: task group vs a future per fork", tg_uts_points)

#define uts_hash tg_uts_hash

static int uts_children(uint64_t node, int depth)
{
    return tg_uts_children(node, depth);
}

typedef struct uts_node {
    uint64_t id;
    int depth;
    int64_t count;
} uts_node_t;

static int64_t uts_serial(uint64_t id, int depth)
{
    int64_t count = 1;
    int n = uts_children(id, depth);
    for (int i = 0; i < n; i++)
        count += uts_serial(uts_hash(id * 8 + (uint64_t)i + 1), depth + 1);
    return count;
}

static int uts_group(void *arg)
{
    uts_node_t *t = arg;
    int n = uts_children(t->id, t->depth);
    uts_node_t *child = n > 8 ? malloc((size_t)n * sizeof *child) : NULL;
    uts_node_t local[8];
    if (child == NULL)
        child = local;
    parc_task_group_t g;
    parc_task_group_init(&g, parc_pool_current());
    for (int i = 0; i < n; i++) {
        child[i] = (uts_node_t){ uts_hash(t->id * 8 + (uint64_t)i + 1), t->depth + 1, 0 };
        parc_faa(&forks, 1u, PARC_RELAXED);
        parc_task_group_run(&g, uts_group, &child[i]);
    }
    int rc = parc_task_group_wait(&g);
    parc_task_group_destroy(&g);
    t->count = 1;
    for (int i = 0; i < n; i++)
        t->count += child[i].count;
    if (child != local)
        free(child);
    return rc;
}

static int uts_future(void *arg, void **result)
{
    (void)result;
    uts_node_t *t = arg;
    int n = uts_children(t->id, t->depth);
    /* a variable number of children: futures allocated by hand */
    uts_node_t *child = n > 0 ? malloc((size_t)n * sizeof *child) : NULL;
    parc_future_t *f = n > 0 ? malloc((size_t)n * sizeof *f) : NULL;
    if (n > 0 && (child == NULL || f == NULL))
        return ENOMEM;
    int k = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        child[i] = (uts_node_t){ uts_hash(t->id * 8 + (uint64_t)i + 1), t->depth + 1, 0 };
        parc_faa(&forks, 1u, PARC_RELAXED);
        parc_future_init(&f[k], uts_future, &child[i]);
        if (parc_pool_submit_future(parc_pool_current(), &f[k]) != 0)
            rc = EIO;
        else
            k++;
    }
    while (k-- > 0) {
        void *v;
        int e = parc_future_get(&f[k], &v);
        if (rc == 0)
            rc = e;
        parc_future_destroy(&f[k]);
    }
    t->count = 1;
    for (int i = 0; i < n; i++)
        t->count += child[i].count;
    free(child);
    free(f);
    return rc;
}

static int uts_future_root(void *arg)
{
    void *v;
    return uts_future(arg, &v);
}

static int64_t uts_known(void)
{
    static int64_t known = -1;
    if (known < 0)
        known = uts_serial(1, 0);
    return known;
}

static int64_t tg_uts_case(bench_run_t *r, int (*root)(void *))
{
    int64_t known = uts_known();
    uts_node_t t = { 1, 0, 0 };
    int64_t ns = timed_root(r, root, &t);
    return t.count == known ? ns : BENCH_FAILED;
}

static int64_t tg_uts_group(bench_run_t *r)
{
    return tg_uts_case(r, uts_group);
}
BENCH_CASE(tg_uts, "parc", tg_uts_group)

static int64_t tg_uts_future(bench_run_t *r)
{
    return tg_uts_case(r, uts_future_root);
}
BENCH_CASE(tg_uts, "parc-future-per-fork", tg_uts_future)

#ifdef PARC_BENCH_HAVE_TBB
static int64_t tg_uts_tbb(bench_run_t *r)
{
    int64_t nodes = 0, known = uts_known();
    uint64_t forks_ = 0;
    int64_t t0 = bench_now_ns();
    if (bench_tbb_tg_uts(r->threads, &nodes, &forks_) != 0)
        return BENCH_FAILED;
    int64_t ns = bench_now_ns() - t0;
    r->items = forks_ + 1;
    return nodes == known ? ns : BENCH_FAILED;
}
BENCH_CASE(tg_uts, "tbb", tg_uts_tbb)
#endif

/* ---- tg_reduce: parallel_reduce, the reduce side of the loop family ----------
 *
 * The sum of in[i] * in[i] (int64) over n ints, n = 100K and 10M, on T =
 * 1, 2 and 4 threads, T meaning what it means in bench_pool.c's pool_loop
 * (parc's pool of T workers, oneTBB's task_arena(T), OpenMP's team of T).
 *   parc            parc_pool_parallel_reduce, grain 0 (the loop of
 *                   src/pool_loop.c, a value per run of adjacent pieces)
 *   tbb-auto        tbb::parallel_reduce with auto_partitioner
 *   openmp          #pragma omp parallel for reduction(+:sum)
 *   serial          one loop
 * Each call's sum is checked against the one computed at set-up. One op
 * is one element; a run makes as many calls as fit its target.
 */

#ifdef PARC_BENCH_HAVE_TBB
#include "peer_tbb.h"
#endif

static const bench_point_t tg_reduce_points[] = {
    { "sum of squares, 100K ints, 1 thread", 1, 100000, NULL },
    { "sum of squares, 100K ints, 2 threads", 2, 100000, NULL },
    { "sum of squares, 100K ints, 4 threads", 4, 100000, NULL },
    { "sum of squares, 10M ints, 1 thread", 1, 10000000, NULL },
    { "sum of squares, 10M ints, 2 threads", 2, 10000000, NULL },
    { "sum of squares, 10M ints, 4 threads", 4, 10000000, NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(tg_reduce, "parallel_reduce of a sum of squares: parc vs oneTBB, OpenMP", tg_reduce_points)

static int *rd_in;
static size_t rd_have;
static int64_t rd_want;

static bool rd_arrays(size_t n)
{
    if (rd_have != n) {
        free(rd_in);
        rd_in = malloc(n * sizeof *rd_in);
        if (rd_in == NULL)
            return false;
        rd_want = 0;
        for (size_t i = 0; i < n; i++) {
            rd_in[i] = (int)(i % 46341); /* squares fit an int */
            rd_want += (int64_t)rd_in[i] * rd_in[i];
        }
        rd_have = n;
    }
    return true;
}

static int rd_body(void *arg, int64_t lo, int64_t hi, void *acc)
{
    (void)arg;
    int64_t s = *(int64_t *)acc;
    for (int64_t i = lo; i < hi; i++)
        s += (int64_t)rd_in[i] * rd_in[i];
    *(int64_t *)acc = s;
    return 0;
}

static void rd_join(void *arg, void *left, const void *right)
{
    (void)arg;
    *(int64_t *)left += *(const int64_t *)right;
}

typedef enum { RD_PARC, RD_TBB, RD_OMP, RD_SERIAL } rd_form_t;

static int rd_call(rd_form_t form, parc_pool_t *p, size_t n, int threads, int64_t *sum)
{
    int64_t zero = 0;
    *sum = 0;
    switch (form) {
    case RD_PARC:
        return parc_pool_parallel_reduce(p, 0, (int64_t)n, 0, sizeof zero, &zero, rd_body,
                                         rd_join, NULL, sum);
#ifdef PARC_BENCH_HAVE_TBB
    case RD_TBB:
        return bench_tbb_sum_squares(rd_in, n, threads, sum);
#endif
#ifdef PARC_BENCH_HAVE_OPENMP
    case RD_OMP: {
        int64_t s = 0;
        const int *in = rd_in;
#pragma omp parallel for num_threads(threads) schedule(static) reduction(+ : s)
        for (long i = 0; i < (long)n; i++)
            s += (int64_t)in[i] * in[i];
        *sum = s;
        return 0;
    }
#endif
    case RD_SERIAL:
        return rd_body(NULL, 0, (int64_t)n, sum);
    default:
        (void)threads;
        return -1;
    }
}

static int64_t rd_run(bench_run_t *r, rd_form_t form)
{
    size_t n = (size_t)r->arg;
    parc_pool_t *p = tg_pool(r->threads);
    if (p == NULL || !rd_arrays(n))
        return BENCH_FAILED;
    uint64_t calls = r->ops / n;
    if (calls == 0)
        calls = 1;
    int64_t t0 = bench_now_ns();
    for (uint64_t c = 0; c < calls; c++) {
        int64_t sum;
        if (rd_call(form, p, n, r->threads, &sum) != 0 || sum != rd_want)
            return BENCH_FAILED;
    }
    int64_t ns = bench_now_ns() - t0;
    r->items = calls * n;
    return ns;
}

static int64_t rd_parc(bench_run_t *r) { return rd_run(r, RD_PARC); }
BENCH_CASE(tg_reduce, "parc", rd_parc)
#ifdef PARC_BENCH_HAVE_TBB
static int64_t rd_tbb(bench_run_t *r) { return rd_run(r, RD_TBB); }
BENCH_CASE(tg_reduce, "tbb-auto", rd_tbb)
#endif
#ifdef PARC_BENCH_HAVE_OPENMP
static int64_t rd_omp(bench_run_t *r) { return rd_run(r, RD_OMP); }
BENCH_CASE(tg_reduce, "openmp", rd_omp)
#endif
static int64_t rd_serial(bench_run_t *r) { return rd_run(r, RD_SERIAL); }
BENCH_CASE(tg_reduce, "serial", rd_serial)
