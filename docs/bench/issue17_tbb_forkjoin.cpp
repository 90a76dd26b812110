// docs/bench/issue17_tbb_forkjoin.cpp — the oneTBB version of
// examples/taskgroup_nqueens.c's two fork/join functions, written for the
// line count of docs/bench/issue17.md (same rule: non-blank, non-comment
// lines of the function, braces included). The types and serial twins are
// the example's. Not part of the build; it compiles and runs with
//   g++ -O2 -std=c++17 docs/bench/issue17_tbb_forkjoin.cpp -ltbb
#include <atomic>
#include <cstdint>
#include <cstdio>

#include <tbb/task_group.h>

struct board_t {
    int n, row;
    uint32_t cols, diag1, diag2;
};

static bool place(const board_t *b, int c, board_t *child)
{
    uint32_t bit = 1u << c, d1 = bit << b->row, d2 = bit << (b->n - b->row);
    if ((b->cols & bit) || (b->diag1 & d1) || (b->diag2 & d2))
        return false;
    *child = board_t{ b->n, b->row + 1, b->cols | bit, b->diag1 | d1, b->diag2 | d2 };
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

static int64_t queens_tbb(const board_t &b)
{
    if (b.n - b.row <= 6) // cutoff: small boards run serially
        return queens_serial(&b);
    std::atomic<int64_t> count{0};
    tbb::task_group g;
    board_t child;
    for (int c = 0; c < b.n; c++)
        if (place(&b, c, &child))
            g.run([&count, child] { count += queens_tbb(child); });
    g.wait();
    return count;
}

struct node_t {
    int nchildren;
    node_t *child[5];
    int64_t value;
};

static int64_t walk_tbb(const node_t *t)
{
    std::atomic<int64_t> sum{t->value};
    tbb::task_group g;
    for (int i = 0; i < t->nchildren; i++)
        g.run([&sum, t, i] { sum += walk_tbb(t->child[i]); });
    g.wait();
    return sum;
}

int main()
{
    board_t b{ 10, 0, 0, 0, 0 };
    node_t leaf{ 0, {}, 2 }, root{ 2, { &leaf, &leaf }, 1 };
    std::printf("%lld %lld %lld\n", (long long)queens_tbb(b),
                (long long)queens_serial(&b), (long long)walk_tbb(&root));
    return queens_tbb(b) == queens_serial(&b) && walk_tbb(&root) == 5 ? 0 : 1;
}
