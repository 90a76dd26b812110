/*
 * tests/test_task_group.c — parc/task_group.h: fork/join without futures,
 * first error, cancellation (not started: skipped; running: the flag,
 * nested groups too), waits from outside the pool that do the work,
 * isolation of a waiting worker, parc_pool_current.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "parc/task_group.h"
#include "testutil.h"

static parc_pool_t *make_pool(unsigned workers)
{
    parc_pool_t *p = NULL;
    ck_assert_int_eq(parc_pool_create(workers, NULL, &p), 0);
    return p;
}

/* ---- fib: a group per fork ---------------------------------------------- */

typedef struct fib_arg {
    int n;
    int64_t result;
} fib_arg_t;

static int64_t fib_serial(int n)
{
    return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}

static int fib_task(void *arg)
{
    fib_arg_t *a = arg;
    if (a->n < 8) {
        a->result = fib_serial(a->n);
        return 0;
    }
    fib_arg_t x = { a->n - 1, 0 }, y = { a->n - 2, 0 };
    parc_task_group_t g;
    ck_assert_ptr_nonnull(parc_pool_current());
    ck_assert_int_eq(parc_task_group_init(&g, parc_pool_current()), 0);
    ck_assert_int_eq(parc_task_group_run(&g, fib_task, &x), 0);
    ck_assert_int_eq(parc_task_group_run(&g, fib_task, &y), 0);
    int rc = parc_task_group_wait(&g);
    ck_assert_int_eq(parc_task_group_destroy(&g), 0);
    a->result = x.result + y.result;
    return rc;
}

static void fib_on(unsigned workers)
{
    parc_pool_t *p = make_pool(workers);
    fib_arg_t a = { 22, 0 };
    parc_task_group_t g;
    ck_assert_int_eq(parc_task_group_init(&g, p), 0);
    ck_assert_int_eq(parc_task_group_run(&g, fib_task, &a), 0);
    ck_assert_int_eq(parc_task_group_wait(&g), 0);
    ck_assert_int_eq(parc_task_group_destroy(&g), 0);
    ck_assert_int_eq(a.result, fib_serial(22));
    ck_assert_int_eq(parc_pool_free(p), 0);
}

START_TEST(fib_one_two_four_workers)
{
    fib_on(1);
    fib_on(2);
    fib_on(4);
}
END_TEST

START_TEST(bad_arguments_and_current_outside)
{
    parc_pool_t *p = make_pool(1);
    parc_task_group_t g;
    ck_assert_int_eq(parc_task_group_init(NULL, p), EINVAL);
    ck_assert_int_eq(parc_task_group_init(&g, NULL), EINVAL);
    ck_assert_int_eq(parc_task_group_init(&g, p), 0);
    ck_assert_int_eq(parc_task_group_run(&g, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_task_group_run(NULL, fib_task, NULL), EINVAL);
    ck_assert_int_eq(parc_task_group_wait(NULL), EINVAL);
    ck_assert_int_eq(parc_task_group_cancel(NULL), EINVAL);
    ck_assert_int_eq(parc_task_group_destroy(NULL), EINVAL);
    ck_assert_int_eq(parc_task_group_wait(&g), 0); /* empty: at once */
    ck_assert_ptr_null(parc_pool_current());
    ck_assert(!parc_task_cancelled());
    ck_assert_int_eq(parc_task_group_destroy(&g), 0);
    ck_assert_int_eq(parc_pool_free(p), 0);
}
END_TEST

/* ---- a gate that holds a worker ------------------------------------------- */

typedef struct gate {
    parc_atomic(int) started;
    parc_atomic(int) open;
} gate_t;

static int gate_task(void *arg)
{
    gate_t *gt = arg;
    parc_store(&gt->started, 1, PARC_RELEASE); /* release: pairs with eventually's acquire */
    /* acquire: pairs with the release store that opens it */
    while (parc_load(&gt->open, PARC_ACQUIRE) == 0)
        parc_sleep_ns(100000);
    return 0;
}

static void open_gate(gate_t *gt)
{
    parc_store(&gt->open, 1, PARC_RELEASE); /* release: see gate_task */
}

typedef struct counter {
    parc_atomic(int) ran;
    parc_atomic(int) saw_pool; /* parc_pool_current() was the pool */
    parc_pool_t *pool;
} counter_t;

static int count_task(void *arg)
{
    counter_t *c = arg;
    parc_faa(&c->ran, 1, PARC_RELAXED);
    if (parc_pool_current() == c->pool)
        parc_faa(&c->saw_pool, 1, PARC_RELAXED);
    return 0;
}

/* The only worker is held at a gate: the outside waiter must do all the
 * work itself, and its tasks see the pool as theirs. */
START_TEST(outside_waiter_does_the_work)
{
    parc_pool_t *p = make_pool(1);
    gate_t gt = { 0, 0 };
    parc_task_group_t hold, g;
    ck_assert_int_eq(parc_task_group_init(&hold, p), 0);
    ck_assert_int_eq(parc_task_group_run(&hold, gate_task, &gt), 0);
    ck_assert(parc_test_eventually(&gt.started));
    counter_t c = { 0, 0, p };
    ck_assert_int_eq(parc_task_group_init(&g, p), 0);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(parc_task_group_run(&g, count_task, &c), 0);
    ck_assert_int_eq(parc_task_group_wait(&g), 0);
    ck_assert_int_eq(parc_load(&c.ran, PARC_RELAXED), 100);
    ck_assert_int_eq(parc_load(&c.saw_pool, PARC_RELAXED), 100);
    ck_assert_int_eq(parc_task_group_destroy(&g), 0);
    open_gate(&gt);
    ck_assert_int_eq(parc_task_group_wait(&hold), 0);
    ck_assert_int_eq(parc_task_group_destroy(&hold), 0);
    ck_assert_int_eq(parc_pool_free(p), 0);
}
END_TEST

/* Cancel before anything but the gate could start: every counting task
 * is skipped, none runs, and wait says ECANCELED. */
START_TEST(cancel_skips_what_has_not_started)
{
    parc_pool_t *p = make_pool(1);
    gate_t gt = { 0, 0 };
    parc_task_group_t g;
    counter_t c = { 0, 0, p };
    ck_assert_int_eq(parc_task_group_init(&g, p), 0);
    ck_assert_int_eq(parc_task_group_run(&g, gate_task, &gt), 0);
    ck_assert(parc_test_eventually(&gt.started));
    ck_assert_int_eq(parc_task_group_destroy(&g), EBUSY);
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(parc_task_group_run(&g, count_task, &c), 0);
    ck_assert(!parc_task_group_cancelled(&g));
    ck_assert_int_eq(parc_task_group_cancel(&g), 0);
    ck_assert(parc_task_group_cancelled(&g));
    open_gate(&gt);
    ck_assert_int_eq(parc_task_group_wait(&g), ECANCELED);
    ck_assert_int_eq(parc_load(&c.ran, PARC_RELAXED), 0);
    ck_assert_uint_eq(parc_task_group_skipped(&g), 50);
    ck_assert_int_eq(parc_task_group_destroy(&g), 0);
    ck_assert_int_eq(parc_pool_free(p), 0);
}
END_TEST

/* ---- first error ---------------------------------------------------------- */

static int fail_task(void *arg)
{
    return (int)(intptr_t)arg;
}

START_TEST(first_error_is_returned)
{
    parc_pool_t *p = make_pool(2);
    parc_task_group_t g;
    ck_assert_int_eq(parc_task_group_init(&g, p), 0);
    ck_assert_int_eq(parc_task_group_run(&g, fail_task, (void *)(intptr_t)0), 0);
    ck_assert_int_eq(parc_task_group_run(&g, fail_task, (void *)(intptr_t)42), 0);
    ck_assert_int_eq(parc_task_group_wait(&g), 42);
    ck_assert(parc_task_group_cancelled(&g)); /* an error cancels the group */
    ck_assert_int_eq(parc_task_group_destroy(&g), 0);
    ck_assert_int_eq(parc_pool_free(p), 0);
}
END_TEST

/* ---- running tasks see the flag, in nested groups too ------------------------ */

typedef struct poll_arg {
    parc_atomic(int) started;
    parc_atomic(int) saw_cancel;
} poll_arg_t;

static int poll_until_cancelled(void *arg)
{
    poll_arg_t *a = arg;
    parc_store(&a->started, 1, PARC_RELEASE); /* release: pairs with eventually */
    parc_deadline_t d;
    parc_deadline_in(&d, PARC_TEST_PATIENCE_NS);
    while (!parc_task_cancelled() && !parc_deadline_passed(d))
        parc_sleep_ns(100000);
    if (parc_task_cancelled())
        parc_store(&a->saw_cancel, 1, PARC_RELAXED);
    return 0;
}

/* A task of the outer group that runs the poller in a nested group. */
static int nest_poller(void *arg)
{
    parc_task_group_t inner;
    ck_assert_int_eq(parc_task_group_init(&inner, parc_pool_current()), 0);
    ck_assert(!parc_task_cancelled());
    ck_assert_int_eq(parc_task_group_run(&inner, poll_until_cancelled, arg), 0);
    int rc = parc_task_group_wait(&inner);
    ck_assert_int_eq(parc_task_group_destroy(&inner), 0);
    return rc == ECANCELED ? 0 : 1; /* the inner group saw its parent's cancel */
}

START_TEST(cancel_reaches_running_tasks_and_nested_groups)
{
    parc_pool_t *p = make_pool(2);
    poll_arg_t direct = { 0, 0 }, nested = { 0, 0 };
    parc_task_group_t g;
    ck_assert_int_eq(parc_task_group_init(&g, p), 0);
    ck_assert_int_eq(parc_task_group_run(&g, poll_until_cancelled, &direct), 0);
    ck_assert_int_eq(parc_task_group_run(&g, nest_poller, &nested), 0);
    ck_assert(parc_test_eventually(&direct.started));
    ck_assert(parc_test_eventually(&nested.started));
    ck_assert_int_eq(parc_task_group_cancel(&g), 0);
    ck_assert_int_eq(parc_task_group_wait(&g), ECANCELED);
    ck_assert_int_eq(parc_load(&direct.saw_cancel, PARC_RELAXED), 1);
    ck_assert_int_eq(parc_load(&nested.saw_cancel, PARC_RELAXED), 1);
    ck_assert_int_eq(parc_task_group_destroy(&g), 0);
    ck_assert_int_eq(parc_pool_free(p), 0);
}
END_TEST

/* ---- isolation ------------------------------------------------------------- */

static parc_atomic(int) unrelated_ran;

static int unrelated_task(void *arg, void **result)
{
    (void)arg;
    (void)result;
    parc_store(&unrelated_ran, 1, PARC_RELAXED);
    return 0;
}

static int child_checks_unrelated(void *arg)
{
    (void)arg;
    return parc_load(&unrelated_ran, PARC_RELAXED) == 0 ? 0 : 77;
}

/* On the only worker: the child goes into the group, then an unrelated
 * task lands on the same deque, newest. The waiting worker must run the
 * child and never the unrelated task (it runs after this task returns). */
static int isolated_parent(void *arg, void **result)
{
    (void)result;
    parc_pool_t *p = arg;
    parc_task_group_t g;
    ck_assert_int_eq(parc_task_group_init(&g, p), 0);
    ck_assert_int_eq(parc_task_group_run(&g, child_checks_unrelated, NULL), 0);
    ck_assert_int_eq(parc_pool_submit(p, unrelated_task, NULL, NULL), 0);
    int rc = parc_task_group_wait(&g);
    ck_assert_int_eq(parc_task_group_destroy(&g), 0);
    if (rc == 0 && parc_load(&unrelated_ran, PARC_RELAXED) != 0)
        rc = 78;
    return rc;
}

START_TEST(waiting_worker_runs_only_its_groups_tasks)
{
    parc_store(&unrelated_ran, 0, PARC_RELAXED);
    parc_pool_t *p = make_pool(1);
    parc_future_t *f = NULL;
    /* the parent as a pool task with a future (a group task could be run
     * by this thread's wait), so the waiter is the worker itself */
    ck_assert_int_eq(parc_pool_submit(p, isolated_parent, p, &f), 0);
    void *ignored = NULL;
    ck_assert_int_eq(parc_future_get(f, &ignored), 0);
    parc_future_release(f);
    ck_assert_int_eq(parc_pool_join(p), 0);
    ck_assert_int_eq(parc_load(&unrelated_ran, PARC_RELAXED), 1);
    ck_assert_int_eq(parc_pool_free(p), 0);
}
END_TEST

/* ---- tasks that spawn into their own group, waited on from outside ------------ */

typedef struct tree {
    parc_task_group_t *g;
    parc_atomic(int) nodes;
} tree_t;

typedef struct tree_node {
    tree_t *t;
    int depth;
} tree_node_t;

static tree_node_t node_args[1 << 12];
static parc_atomic(int) node_next;

static int tree_task(void *arg)
{
    tree_node_t *n = arg;
    parc_faa(&n->t->nodes, 1, PARC_RELAXED);
    if (n->depth == 0)
        return 0;
    for (int i = 0; i < 2; i++) {
        int k = parc_faa(&node_next, 1, PARC_RELAXED);
        node_args[k].t = n->t;
        node_args[k].depth = n->depth - 1;
        ck_assert_int_eq(parc_task_group_run(n->t->g, tree_task, &node_args[k]), 0);
    }
    return 0;
}

START_TEST(group_spawning_into_itself_waited_from_outside)
{
    for (unsigned workers = 1; workers <= 3; workers++) {
        parc_pool_t *p = make_pool(workers);
        parc_task_group_t g;
        tree_t t;
        t.g = &g;
        parc_atomic_init(&t.nodes, 0);
        parc_store(&node_next, 1, PARC_RELAXED);
        node_args[0].t = &t;
        node_args[0].depth = 10; /* 2^11 - 1 nodes */
        ck_assert_int_eq(parc_task_group_init(&g, p), 0);
        ck_assert_int_eq(parc_task_group_run(&g, tree_task, &node_args[0]), 0);
        ck_assert_int_eq(parc_task_group_wait(&g), 0);
        ck_assert_int_eq(parc_load(&t.nodes, PARC_RELAXED), (1 << 11) - 1);
        ck_assert_int_eq(parc_task_group_destroy(&g), 0);
        ck_assert_int_eq(parc_pool_free(p), 0);
    }
}
END_TEST

/* ---- terminate skips what has not started ----------------------------------- */

START_TEST(terminate_skips_group_tasks)
{
    parc_pool_t *p = make_pool(1);
    gate_t gt = { 0, 0 };
    parc_task_group_t hold, g;
    counter_t c = { 0, 0, p };
    ck_assert_int_eq(parc_task_group_init(&hold, p), 0);
    ck_assert_int_eq(parc_task_group_run(&hold, gate_task, &gt), 0);
    ck_assert(parc_test_eventually(&gt.started));
    ck_assert_int_eq(parc_task_group_init(&g, p), 0);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(parc_task_group_run(&g, count_task, &c), 0);
    ck_assert_int_eq(parc_pool_terminate(p), 0);
    ck_assert_int_eq(parc_task_group_run(&g, count_task, &c), EPIPE);
    open_gate(&gt);
    ck_assert_int_eq(parc_task_group_wait(&g), ECANCELED);
    ck_assert_int_eq(parc_load(&c.ran, PARC_RELAXED), 0);
    ck_assert_uint_eq(parc_task_group_skipped(&g), 20);
    ck_assert_int_eq(parc_task_group_wait(&hold), 0);
    ck_assert_int_eq(parc_task_group_destroy(&g), 0);
    ck_assert_int_eq(parc_task_group_destroy(&hold), 0);
    ck_assert_int_eq(parc_pool_free(p), 0);
}
END_TEST


/* ---- parallel_reduce -------------------------------------------------------- */

/* A value that proves index order: the pieces joined must be adjacent. */
typedef struct span {
    int64_t lo, hi, sum;
    int64_t pieces;
    int ok;
    char pad[100]; /* over the on-stack accumulator size: the malloc path */
} span_t;

static int span_body(void *arg, int64_t lo, int64_t hi, void *acc)
{
    span_t *s = acc;
    int64_t fail_at = arg != NULL ? *(const int64_t *)arg : -1;
    if (fail_at >= lo && fail_at < hi)
        return (int)(100 + fail_at % 7);
    if (s->pieces == 0)
        s->lo = lo;
    else if (s->hi != lo)
        s->ok = 0; /* a gap or an overlap inside one accumulator */
    s->hi = hi;
    s->pieces++;
    for (int64_t i = lo; i < hi; i++)
        s->sum += i;
    return 0;
}

static void span_join(void *arg, void *left, const void *right)
{
    (void)arg;
    span_t *l = left;
    const span_t *r = right;
    if (r->pieces == 0)
        return;
    if (l->pieces == 0) {
        *l = *r;
        return;
    }
    if (l->hi != r->lo || !r->ok)
        l->ok = 0; /* joined out of index order */
    l->hi = r->hi;
    l->sum += r->sum;
    l->pieces += r->pieces;
}

static void reduce_check(parc_pool_t *p, int64_t n, int64_t grain)
{
    span_t id;
    memset(&id, 0, sizeof id);
    id.ok = 1;
    span_t out;
    ck_assert_int_eq(parc_pool_parallel_reduce(p, 0, n, grain, sizeof(span_t), &id,
                                               span_body, span_join, NULL, &out), 0);
    ck_assert_int_eq(out.ok, 1);
    ck_assert_int_eq(out.sum, n * (n - 1) / 2);
    if (n > 0) {
        ck_assert_int_eq(out.lo, 0);
        ck_assert_int_eq(out.hi, n);
        ck_assert_int_ge(out.pieces, 2); /* it did split */
    }
}

/* Uneven work (the first indices cost far more): threads must steal, and
 * the stolen ranges' values still join in index order. */
static int span_body_uneven(void *arg, int64_t lo, int64_t hi, void *acc)
{
    volatile int64_t sink = 0;
    for (int64_t i = lo; i < hi && i < 2000; i++)
        for (int k = 0; k < 3000; k++)
            sink += k;
    (void)sink;
    return span_body(arg, lo, hi, acc);
}

START_TEST(parallel_reduce_uneven_in_index_order)
{
    parc_pool_t *p = make_pool(3);
    for (int rep = 0; rep < 5; rep++) {
        span_t id;
        memset(&id, 0, sizeof id);
        id.ok = 1;
        span_t out;
        int64_t n = 200000;
        ck_assert_int_eq(parc_pool_parallel_reduce(p, 0, n, 0, sizeof(span_t), &id,
                                                   span_body_uneven, span_join, NULL,
                                                   &out), 0);
        ck_assert_int_eq(out.ok, 1);
        ck_assert_int_eq(out.sum, n * (n - 1) / 2);
        ck_assert_int_eq(out.lo, 0);
        ck_assert_int_eq(out.hi, n);
    }
    ck_assert_int_eq(parc_pool_free(p), 0);
}
END_TEST

static int reduce_inside(void *arg)
{
    reduce_check(parc_pool_current(), 100000, 0);
    (void)arg;
    return 0;
}

START_TEST(parallel_reduce_in_index_order)
{
    for (unsigned workers = 1; workers <= 4; workers *= 2) {
        parc_pool_t *p = make_pool(workers);
        reduce_check(p, 0, 0);
        reduce_check(p, 1000003, 0);
        reduce_check(p, 1000, 7);
        parc_task_group_t g;
        ck_assert_int_eq(parc_task_group_init(&g, p), 0);
        ck_assert_int_eq(parc_task_group_run(&g, reduce_inside, NULL), 0);
        ck_assert_int_eq(parc_task_group_wait(&g), 0);
        ck_assert_int_eq(parc_task_group_destroy(&g), 0);
        ck_assert_int_eq(parc_pool_free(p), 0);
    }
}
END_TEST

START_TEST(parallel_reduce_first_error_and_bad_arguments)
{
    parc_pool_t *p = make_pool(2);
    span_t id, out;
    memset(&id, 0, sizeof id);
    int64_t fail_at = 77777;
    ck_assert_int_eq(parc_pool_parallel_reduce(p, 0, 100000, 0, sizeof(span_t), &id,
                                               span_body, span_join, &fail_at, &out),
                     (int)(100 + 77777 % 7));
    ck_assert_int_eq(parc_pool_parallel_reduce(NULL, 0, 1, 0, 0, NULL, span_body,
                                               NULL, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_pool_parallel_reduce(p, 1, 0, 0, 0, NULL, span_body,
                                               NULL, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_pool_parallel_reduce(p, 0, 1, -1, 0, NULL, span_body,
                                               NULL, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_pool_parallel_reduce(p, 0, 1, 0, 8, NULL, span_body,
                                               span_join, NULL, &out), EINVAL);
    ck_assert_int_eq(parc_pool_free(p), 0);
}
END_TEST

/* ---- spawn (a copied argument), PARC_TASK_GROUP_INIT, finish ------------- */

typedef struct walk_arg {
    int depth;
    uint64_t seed;
    parc_atomic(int64_t) *total;
} walk_arg_t;

/* A tree of 0..4 children a node, the child's argument a loop variable
 * spawned by copy and overwritten at once; every node counts itself. */
static int walk_task(void *arg)
{
    const walk_arg_t *w = arg;
    parc_faa(w->total, 1, PARC_RELAXED); /* a count */
    parc_task_group_t g = PARC_TASK_GROUP_INIT;
    int n = w->depth > 0 ? (int)(w->seed % 5) : 0;
    walk_arg_t child;
    for (int i = 0; i < n; i++) {
        child = (walk_arg_t){ w->depth - 1, w->seed * 31 + (uint64_t)i + 7, w->total };
        ck_assert_int_eq(parc_task_group_spawn(&g, walk_task, &child, sizeof child), 0);
        child.total = NULL; /* the task got its own copy */
    }
    return parc_task_group_finish(&g);
}

static int64_t walk_serial(int depth, uint64_t seed)
{
    int64_t count = 1;
    int n = depth > 0 ? (int)(seed % 5) : 0;
    for (int i = 0; i < n; i++)
        count += walk_serial(depth - 1, seed * 31 + (uint64_t)i + 7);
    return count;
}

static int macro_leaf(void *arg)
{
    const walk_arg_t *w = arg;
    parc_faa(w->total, w->depth, PARC_RELAXED); /* a sum */
    return 0;
}

START_TEST(spawn_copies_its_argument_and_init_binds_lazily)
{
    for (unsigned workers = 1; workers <= 4; workers *= 2) {
        parc_pool_t *p = make_pool(workers);
        parc_atomic(int64_t) total;
        parc_atomic_init(&total, 0);
        walk_arg_t root = { 9, 12345, &total };
        parc_task_group_t g;
        ck_assert_int_eq(parc_task_group_init(&g, p), 0);
        ck_assert_int_eq(parc_task_group_spawn(&g, walk_task, &root, sizeof root), 0);
        root.total = NULL;
        ck_assert_int_eq(parc_task_group_finish(&g), 0);
        ck_assert_int_eq(parc_load(&total, PARC_RELAXED), walk_serial(9, 12345));
        /* The macro form, from outside on an initialised group. */
        parc_store(&total, 0, PARC_RELAXED);
        ck_assert_int_eq(parc_task_group_init(&g, p), 0);
        for (int i = 1; i <= 100; i++)
            ck_assert_int_eq(PARC_TASK_GROUP_SPAWN(&g, macro_leaf, walk_arg_t, i, 0, &total), 0);
        ck_assert_int_eq(parc_task_group_finish(&g), 0);
        ck_assert_int_eq(parc_load(&total, PARC_RELAXED), 5050);
        ck_assert_int_eq(parc_pool_free(p), 0);
    }
    /* Bad arguments; a PARC_TASK_GROUP_INIT group outside every pool. */
    parc_task_group_t lazy = PARC_TASK_GROUP_INIT;
    char big[PARC_TASK_GROUP_ARG_MAX + 1] = { 0 };
    ck_assert_int_eq(parc_task_group_spawn(&lazy, macro_leaf, big, sizeof big), EINVAL);
    ck_assert_int_eq(parc_task_group_spawn(&lazy, macro_leaf, NULL, 8), EINVAL);
    ck_assert_int_eq(parc_task_group_spawn(&lazy, macro_leaf, big, 8), EINVAL); /* no pool */
    ck_assert_int_eq(parc_task_group_run(&lazy, macro_leaf, big), EINVAL);
    ck_assert_int_eq(parc_task_group_finish(&lazy), 0); /* never used */
    ck_assert_int_eq(parc_task_group_finish(NULL), EINVAL);
}
END_TEST

/* ---- a cancelled ancestor reaches a group that answered "no" before ------- */

typedef struct cancel_probe {
    parc_atomic(int) asked;   /* the child answered the first time */
    parc_atomic(int) go;      /* the parent was cancelled */
    parc_atomic(int) answers; /* bit 0: first answer, bit 1: second */
} cancel_probe_t;

static int probe_task(void *arg)
{
    cancel_probe_t *c = arg;
    parc_task_group_t child;
    ck_assert_int_eq(parc_task_group_init(&child, parc_pool_current()), 0);
    int first = parc_task_group_cancelled(&child); /* cached: not cancelled */
    parc_store(&c->asked, 1, PARC_RELEASE);        /* pairs with the test */
    while (parc_load(&c->go, PARC_ACQUIRE) == 0)   /* pairs with the test */
        parc_cpu_relax();
    int second = parc_task_group_cancelled(&child); /* the ancestor's cancel */
    parc_store(&c->answers, first | second << 1, PARC_RELAXED);
    ck_assert_int_eq(parc_task_group_destroy(&child), 0);
    return 0;
}

START_TEST(cancel_of_an_ancestor_reaches_a_group_that_looked_before)
{
    parc_pool_t *p = make_pool(1);
    cancel_probe_t c;
    parc_atomic_init(&c.asked, 0);
    parc_atomic_init(&c.go, 0);
    parc_atomic_init(&c.answers, -1);
    parc_task_group_t g;
    ck_assert_int_eq(parc_task_group_init(&g, p), 0);
    ck_assert_int_eq(parc_task_group_run(&g, probe_task, &c), 0);
    ck_assert(parc_test_eventually(&c.asked));
    ck_assert_int_eq(parc_task_group_cancel(&g), 0);
    parc_store(&c.go, 1, PARC_RELEASE); /* pairs with probe_task */
    ck_assert_int_eq(parc_task_group_wait(&g), ECANCELED);
    ck_assert_int_eq(parc_task_group_destroy(&g), 0);
    ck_assert_int_eq(parc_load(&c.answers, PARC_RELAXED), 2); /* no, then yes */
    ck_assert_int_eq(parc_pool_free(p), 0);
}
END_TEST

static Suite *task_group_suite(void)
{
    Suite *s = suite_create("task_group");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, fib_one_two_four_workers);
    tcase_add_test(tc, bad_arguments_and_current_outside);
    tcase_add_test(tc, outside_waiter_does_the_work);
    tcase_add_test(tc, cancel_skips_what_has_not_started);
    tcase_add_test(tc, first_error_is_returned);
    tcase_add_test(tc, cancel_reaches_running_tasks_and_nested_groups);
    tcase_add_test(tc, waiting_worker_runs_only_its_groups_tasks);
    tcase_add_test(tc, group_spawning_into_itself_waited_from_outside);
    tcase_add_test(tc, terminate_skips_group_tasks);
    tcase_add_test(tc, parallel_reduce_in_index_order);
    tcase_add_test(tc, parallel_reduce_uneven_in_index_order);
    tcase_add_test(tc, parallel_reduce_first_error_and_bad_arguments);
    tcase_add_test(tc, spawn_copies_its_argument_and_init_binds_lazily);
    tcase_add_test(tc, cancel_of_an_ancestor_reaches_a_group_that_looked_before);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(task_group_suite());
}
