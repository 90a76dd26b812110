/*
 * examples/taskgroup_nqueens.c — fork/join with a task group: n-queens
 * (a fixed fan-out) and a tree walk with a variable number of children.
 * Each parallel function sits next to its serial twin; the task-group
 * version declares a group, spawns a task per child (its argument copied
 * into the task: no storage per child) and finishes the group. A task's
 * int return is its status, so results go through memory: here one
 * total per run, added to atomically where a piece of work ends.
 * Lines of code (non-blank, non-comment lines of each function, braces
 * included; docs/bench/issue17.md compares them with oneTBB's):
 *   queens_serial 10, queens_task 13 (1.3x); walk_serial 7, walk_task 9
 *   (1.29x).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "parc/atomic.h"
#include "parc/task_group.h"

/* ---- n-queens: count the placements of n queens --------------------------- */

typedef struct board {
    int n, row;
    uint32_t cols, diag1, diag2;   /* attacked columns and diagonals */
    parc_atomic(int64_t) *total;   /* the parallel version's count */
} board_t;

/* Put a queen on column c of b's next row, into *child; false if attacked. */
static bool place(const board_t *b, int c, board_t *child)
{
    uint32_t bit = 1u << c, d1 = bit << b->row, d2 = bit << (b->n - b->row);
    if ((b->cols & bit) || (b->diag1 & d1) || (b->diag2 & d2))
        return false;
    *child = (board_t){ b->n, b->row + 1, b->cols | bit, b->diag1 | d1,
                        b->diag2 | d2, b->total };
    return true;
}

static int64_t queens_serial(const board_t *b)
{
    if (b->row == b->n)
        return 1;
    int64_t count = 0;
    board_t child;
    for (int c = 0; c < b->n; c++)
        if (place(b, c, &child))
            count += queens_serial(&child);
    return count;
}

static int queens_task(void *arg)
{
    const board_t *b = arg;
    parc_task_group_t g = PARC_TASK_GROUP_INIT;
    board_t child;
    if (b->n - b->row <= 6) /* cutoff: small boards run serially */
        parc_faa(b->total, queens_serial(b), PARC_RELAXED);
    else
        for (int c = 0; c < b->n; c++)
            if (place(b, c, &child))
                parc_task_group_spawn(&g, queens_task, &child, sizeof child);
    return parc_task_group_finish(&g);
}

/* ---- a tree walk: every node has 0..5 children ----------------------------- */

typedef struct node {
    int nchildren;
    struct node *child[5];
    int64_t value;
} node_t;

static int64_t walk_serial(const node_t *t)
{
    int64_t sum = t->value;
    for (int i = 0; i < t->nchildren; i++)
        sum += walk_serial(t->child[i]);
    return sum;
}

typedef struct walk {
    const node_t *node;
    parc_atomic(int64_t) *total; /* every node adds its value here */
} walk_t;

static int walk_task(void *arg)
{
    const walk_t *w = arg;
    parc_task_group_t g = PARC_TASK_GROUP_INIT;
    parc_faa(w->total, w->node->value, PARC_RELAXED);
    for (int i = 0; i < w->node->nchildren; i++)
        PARC_TASK_GROUP_SPAWN(&g, walk_task, walk_t, w->node->child[i], w->total);
    return parc_task_group_finish(&g);
}

/* An unbalanced random tree of about `budget` nodes. */
static node_t *make_tree(int depth, uint64_t *rng, int64_t *made)
{
    node_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        abort();
    *rng = *rng * 6364136223846793005u + 1442695040888963407u;
    t->value = (int64_t)(*rng >> 40) % 100;
    (*made)++;
    t->nchildren = depth > 0 ? (int)((*rng >> 33) % 6) : 0;
    for (int i = 0; i < t->nchildren; i++)
        t->child[i] = make_tree(depth - 1, rng, made);
    return t;
}

static void free_tree(node_t *t)
{
    for (int i = 0; i < t->nchildren; i++)
        free_tree(t->child[i]);
    free(t);
}

int main(void)
{
    parc_pool_t *pool;
    if (parc_pool_create(0, NULL, &pool) != 0)
        return 1;
    int fails = 0;

    /* The root task runs from outside: the pool runs it, and this thread
     * works too when every worker is busy. */
    parc_atomic(int64_t) total;
    parc_atomic_init(&total, 0);
    board_t b = { 10, 0, 0, 0, 0, &total };
    parc_task_group_t g;
    parc_task_group_init(&g, pool);
    parc_task_group_spawn(&g, queens_task, &b, sizeof b);
    int rc = parc_task_group_finish(&g);
    int64_t expect = queens_serial(&b);
    int64_t got = parc_load(&total, PARC_RELAXED);
    printf("nqueens(10): %lld solutions (serial: %lld)\n", (long long)got,
           (long long)expect);
    fails += rc != 0 || got != expect;

    uint64_t rng = 42;
    int64_t made = 0;
    node_t *tree = make_tree(9, &rng, &made);
    parc_store(&total, 0, PARC_RELAXED);
    parc_task_group_init(&g, pool);
    PARC_TASK_GROUP_SPAWN(&g, walk_task, walk_t, tree, &total);
    rc = parc_task_group_finish(&g);
    got = parc_load(&total, PARC_RELAXED);
    printf("tree walk: %lld nodes, sum %lld (serial: %lld)\n", (long long)made,
           (long long)got, (long long)walk_serial(tree));
    fails += rc != 0 || got != walk_serial(tree);
    free_tree(tree);

    parc_pool_free(pool);
    return fails != 0;
}
