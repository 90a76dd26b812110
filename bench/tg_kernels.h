/*
 * bench/tg_kernels.h — the serial kernels of bench_task_group.c's
 * fork/join programs (fib, n-queens, the UTS-like tree), shared by its C
 * cases and by the oneTBB peer (peer_tbb_tg.cpp), so every form of a
 * program runs the same code between its forks. Plain C that is also
 * C++ (no compound literals).
 */
#ifndef PARC_BENCH_TG_KERNELS_H
#define PARC_BENCH_TG_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

#define TG_FIB_CUTOFF 18     /* fib(n) below this runs serially */
#define TG_QUEENS_SERIAL 5   /* boards with this many rows left run serially */
#define TG_UTS_MAX_DEPTH 60

static __attribute__((noinline, unused)) int64_t tg_fib_serial(int64_t n)
{
    return n < 2 ? n : tg_fib_serial(n - 1) + tg_fib_serial(n - 2);
}

typedef struct board {
    int n, row;
    uint32_t cols, d1, d2;
    int64_t count;
} board_t;

/* Put a queen on column c of b's next row, into *child; false if attacked. */
static inline bool tg_place(const board_t *b, int c, board_t *child)
{
    uint32_t bit = 1u << c, d1 = bit << b->row, d2 = bit << (b->n - b->row);
    if ((b->cols & bit) || (b->d1 & d1) || (b->d2 & d2))
        return false;
    child->n = b->n;
    child->row = b->row + 1;
    child->cols = b->cols | bit;
    child->d1 = b->d1 | d1;
    child->d2 = b->d2 | d2;
    child->count = 0;
    return true;
}

static __attribute__((unused)) int64_t tg_queens_serial(const board_t *b)
{
    if (b->row == b->n)
        return 1;
    int64_t count = 0;
    board_t child;
    for (int c = 0; c < b->n; c++)
        if (tg_place(b, c, &child))
            count += tg_queens_serial(&child);
    return count;
}

/* A node is its hash; its child i hashes (node, i). Children: a
 * geometric-like law with mean just under 1 below the root's fan-out,
 * so subtree sizes vary wildly (UTS's binomial trees, simplified). */
static inline uint64_t tg_uts_hash(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdu;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53u;
    return x ^ (x >> 33);
}

static inline int tg_uts_children(uint64_t node, int depth)
{
    if (depth >= TG_UTS_MAX_DEPTH)
        return 0;
    if (depth == 0)
        return 20000; /* the root's fan-out */
    uint64_t h = tg_uts_hash(node);
    return h % 8 < 5 ? 0 : (int)(2 + (h >> 8) % 2) + (depth < 3 ? 3 : 0);
}

static inline uint64_t tg_uts_child(uint64_t node, int i)
{
    return tg_uts_hash(node * 8 + (uint64_t)i + 1);
}

#endif /* PARC_BENCH_TG_KERNELS_H */
