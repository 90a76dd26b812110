/*
 * examples/taskgroup_nqueens.c — fork/join with a task group: n-queens
 * (a fixed fan-out) and a tree walk with a variable number of children.
 * Each parallel function sits next to its serial twin; the task-group
 * version adds a group, a run per child and a wait (lines of code are
 * counted in the commit that added this file).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "parc/task_group.h"

/* ---- n-queens: count the placements of n queens --------------------------- */

typedef struct board {
    int n, row;
    uint32_t cols, diag1, diag2; /* attacked columns and diagonals */
    int64_t count;               /* the parallel version's result */
} board_t;

/* Put a queen on column c of b's next row, into *child; false if attacked. */
static bool place(const board_t *b, int c, board_t *child)
{
    uint32_t bit = 1u << c, d1 = bit << b->row, d2 = bit << (b->n - b->row);
    if ((b->cols & bit) || (b->diag1 & d1) || (b->diag2 & d2))
        return false;
    *child = (board_t){ b->n, b->row + 1, b->cols | bit, b->diag1 | d1,
                        b->diag2 | d2, 0 };
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
    board_t *b = arg;
    if (b->n - b->row <= 6) { /* cutoff: small boards run serially */
        b->count = queens_serial(b);
        return 0;
    }
    board_t child[32] = { 0 };
    parc_task_group_t g;
    parc_task_group_init(&g, parc_pool_current());
    for (int c = 0; c < b->n; c++)
        if (place(b, c, &child[c]))
            parc_task_group_run(&g, queens_task, &child[c]);
    int rc = parc_task_group_wait(&g);
    parc_task_group_destroy(&g);
    for (int c = 0; c < b->n; c++)
        b->count += child[c].count;
    return rc;
}

/* ---- a tree walk: every node has 0..5 children ----------------------------- */

typedef struct node {
    int nchildren;
    struct node *child[5];
    int64_t value, sum; /* sum: of the subtree */
} node_t;

static int64_t walk_serial(node_t *t)
{
    int64_t sum = t->value;
    for (int i = 0; i < t->nchildren; i++)
        sum += walk_serial(t->child[i]);
    return sum;
}

static int walk_task(void *arg)
{
    node_t *t = arg;
    parc_task_group_t g;
    parc_task_group_init(&g, parc_pool_current());
    for (int i = 0; i < t->nchildren; i++)
        parc_task_group_run(&g, walk_task, t->child[i]);
    int rc = parc_task_group_wait(&g);
    parc_task_group_destroy(&g);
    t->sum = t->value;
    for (int i = 0; i < t->nchildren; i++)
        t->sum += t->child[i]->sum;
    return rc;
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

    /* The root task runs from outside: wait() makes this thread work too. */
    board_t b = { 10, 0, 0, 0, 0, 0 };
    parc_task_group_t g;
    parc_task_group_init(&g, pool);
    parc_task_group_run(&g, queens_task, &b);
    int rc = parc_task_group_wait(&g);
    parc_task_group_destroy(&g);
    int64_t expect = queens_serial(&(board_t){ 10, 0, 0, 0, 0, 0 });
    printf("nqueens(10): %lld solutions (serial: %lld)\n", (long long)b.count,
           (long long)expect);
    fails += rc != 0 || b.count != expect;

    uint64_t rng = 42;
    int64_t made = 0;
    node_t *tree = make_tree(9, &rng, &made);
    parc_task_group_init(&g, pool);
    parc_task_group_run(&g, walk_task, tree);
    rc = parc_task_group_wait(&g);
    parc_task_group_destroy(&g);
    printf("tree walk: %lld nodes, sum %lld (serial: %lld)\n", (long long)made,
           (long long)tree->sum, (long long)walk_serial(tree));
    fails += rc != 0 || tree->sum != walk_serial(tree);
    free_tree(tree);

    parc_pool_free(pool);
    return fails != 0;
}
