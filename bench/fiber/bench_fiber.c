/*
 * bench/fiber/bench_fiber.c — parc-bench-fiber: fibers and generators
 * against their peers, one run, ratios printed (issue 19's list):
 *
 *   switch     resume a fiber that yields straight back (two switches) vs
 *              Boost.Context's fcontext (jump there and back) and
 *              swapcontext(3) (there and back)
 *   generator  10M integers from a parc generator vs a Python generator
 *              (python3, when installed) and a hand-written loop calling
 *              a callback per integer
 *   pingpong   two fibers on ONE pool worker handing a token back and
 *              forth through a mutex+condition, through two parc_chan_t
 *              (rendezvous, and capacity 1) and through two bounded
 *              parc_queue_t of 1, vs the same code on two threads
 *              (placed by the scheduler, and both on one CPU); Go
 *              goroutines over an unbuffered channel and Boost.Fiber over
 *              an unbuffered channel, where installed
 *   memory     N fibers (default 1,000,000) each blocked on a semaphore,
 *              default stack size (unguarded: a million guarded stacks
 *              would pass vm.max_map_count): resident memory per fiber
 *
 * Usage: parc-bench-fiber [--quick] [--fibers N] [--only SECTION]
 * --quick shrinks every loop (the ctest smoke run); figures from a loaded
 * machine are noise, only a quiet machine's ratios mean anything.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "parc/atomic.h"
#include "parc/chan.h"
#include "parc/cond.h"
#include "parc/fiber.h"
#include "parc/generator.h"
#include "parc/mutex.h"
#include "parc/pool.h"
#include "parc/queue.h"
#include "parc/sem.h"
#include "parc/time.h"

static int quick;

static double ns_per(int64_t ns, uint64_t n)
{
    return (double)ns / (double)n;
}

static void report(const char *what, double ns, double peer_ns, const char *peer)
{
    if (peer_ns > 0)
        printf("  %-44s %9.1f ns   %6.2fx %s\n", what, ns, ns / peer_ns, peer);
    else
        printf("  %-44s %9.1f ns\n", what, ns);
}

/* ---- the floor ----------------------------------------------------------------- */

/* parc-bench's floor (bench/bench_floor.c), measured the same way: two
 * threads ping-pong one atomic word; timed in blocks of 32 round trips,
 * the 10th percentile block stands for the run. Printed first so that
 * every figure below can be read against the machine's state. */
#define FLOOR_BLOCK 32
#define FLOOR_BLOCKS 2000

static parc_atomic(uint64_t) floor_word;

static void *floor_partner(void *arg)
{
    uint64_t n = (uint64_t)(uintptr_t)arg;
    for (uint64_t mine = 1; mine < 2 * n; mine += 2) {
        /* acquire/release: the word alternates owners (as bench_floor.c) */
        while (parc_load(&floor_word, PARC_ACQUIRE) != mine)
            parc_cpu_relax();
        parc_store(&floor_word, mine + 1, PARC_RELEASE);
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void bench_floor(void)
{
    int blocks = quick ? 200 : FLOOR_BLOCKS;
    uint64_t n = (uint64_t)blocks * FLOOR_BLOCK;
    static int64_t block_ns[FLOOR_BLOCKS];
    parc_atomic_init(&floor_word, 0);
    pthread_t t;
    if (pthread_create(&t, NULL, floor_partner, (void *)(uintptr_t)n) != 0)
        return;
    int64_t start = parc_now_ns();
    uint64_t mine = 0;
    for (int b = 0; b < blocks; b++) {
        for (int i = 0; i < FLOOR_BLOCK; i++, mine += 2) {
            while (parc_load(&floor_word, PARC_ACQUIRE) != mine)
                parc_cpu_relax();
            parc_store(&floor_word, mine + 1, PARC_RELEASE);
        }
        int64_t now = parc_now_ns();
        block_ns[b] = now - start;
        start = now;
    }
    pthread_join(t, NULL);
    qsort(block_ns + 1, (size_t)blocks - 1, sizeof block_ns[0], cmp_i64);
    printf("floor (cache-line round trip between two threads, p10): %.1f ns\n",
           (double)block_ns[1 + (blocks - 1) / 10] / FLOOR_BLOCK);
}

/* ---- context switch ---------------------------------------------------------- */

static void bouncer(void *arg)
{
    (void)arg;
    for (;;)
        parc_fiber_yield();
}

/* Each case runs its round trips in ROUNDS slices, the cases taking
 * turns slice by slice, and reports its fastest slice: on a shared
 * machine a burst of load then hits every case alike instead of one. */
#define ROUNDS 10

static parc_fiber_t *switch_fiber;

static int parc_switch_setup(void)
{
    if (parc_fiber_create(&switch_fiber, bouncer, NULL, NULL) != 0)
        return -1;
    return parc_fiber_resume(switch_fiber); /* warm */
}

static double parc_switch_ns(uint64_t n)
{
    int64_t t0 = parc_now_ns();
    for (uint64_t i = 0; i < n; i++)
        parc_fiber_resume(switch_fiber);
    return ns_per(parc_now_ns() - t0, n);
}

static ucontext_t uc_main, uc_fiber;

static void uc_bouncer(void)
{
    for (;;)
        swapcontext(&uc_fiber, &uc_main);
}

static void swapcontext_setup(void)
{
    static char stack[64 << 10];
    getcontext(&uc_fiber);
    uc_fiber.uc_stack.ss_sp = stack;
    uc_fiber.uc_stack.ss_size = sizeof stack;
    uc_fiber.uc_link = NULL;
    makecontext(&uc_fiber, uc_bouncer, 0);
    swapcontext(&uc_main, &uc_fiber);
}

static double swapcontext_ns(uint64_t n)
{
    int64_t t0 = parc_now_ns();
    for (uint64_t i = 0; i < n; i++)
        swapcontext(&uc_main, &uc_fiber);
    return ns_per(parc_now_ns() - t0, n);
}

#ifdef PARC_BENCH_HAVE_FCONTEXT
/* Boost.Context's C-linkage entry points (boost/context/detail/fcontext.hpp). */
typedef void *fcontext_t;
typedef struct {
    fcontext_t fctx;
    void *data;
} transfer_t;
transfer_t jump_fcontext(fcontext_t const to, void *vp);
fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t));

static void fc_bouncer(transfer_t t)
{
    for (;;)
        t = jump_fcontext(t.fctx, NULL);
}

static transfer_t fc_t;

static void fcontext_setup(void)
{
    static char stack[64 << 10];
    fcontext_t f = make_fcontext(stack + sizeof stack, sizeof stack, fc_bouncer);
    fc_t = jump_fcontext(f, NULL);
}

static double fcontext_ns(uint64_t n)
{
    int64_t t0 = parc_now_ns();
    for (uint64_t i = 0; i < n; i++)
        fc_t = jump_fcontext(fc_t.fctx, NULL);
    return ns_per(parc_now_ns() - t0, n);
}
#endif

static void keep_min(double *best, double v)
{
    if (*best < 0 || v < *best)
        *best = v;
}

static void bench_switch(void)
{
    uint64_t n = quick ? 100000 : 10000000;
    printf("context switch, yield to a fiber and back (%" PRIu64 " round trips, "
           "fastest of %d slices)\n", n, ROUNDS);
    if (parc_switch_setup() != 0)
        return;
    swapcontext_setup();
    double parc = -1, uc = -1, fc = -1;
#ifdef PARC_BENCH_HAVE_FCONTEXT
    fcontext_setup();
#endif
    for (int r = 0; r < ROUNDS; r++) {
        keep_min(&parc, parc_switch_ns(n / ROUNDS));
        keep_min(&uc, swapcontext_ns(n / ROUNDS / 10)); /* 60x slower */
#ifdef PARC_BENCH_HAVE_FCONTEXT
        keep_min(&fc, fcontext_ns(n / ROUNDS));
#endif
    }
    parc_fiber_free(switch_fiber); /* abandoned while suspended */
#ifdef PARC_BENCH_HAVE_FCONTEXT
    report("boost fcontext jump and back", fc, 0, NULL);
    report("parc resume + yield", parc, fc, "fcontext (target <= 1.0)");
#else
    (void)fc;
    printf("  boost fcontext: SKIP (libboost-context-dev not found)\n");
    report("parc resume + yield", parc, 0, NULL);
#endif
    report("swapcontext there and back", uc, 0, NULL);
    printf("  %-44s %9s      %6.3fx swapcontext (target <= 0.05)\n", "parc", "", parc / uc);
}

/* ---- generators ---------------------------------------------------------------- */

static int counter(parc_generator_t *g, void *arg)
{
    intptr_t n = (intptr_t)arg;
    for (intptr_t i = 0; i < n; i++)
        if (parc_generator_yield(g, (void *)i, NULL) != 0)
            break;
    return 0;
}

/* The same counter as a stackless generator (parc/generator.h). */
typedef struct count_gen {
    parc_gen_t gen;
    intptr_t i, n;
} count_gen_t;

static int count_body(parc_gen_t *g, void *out)
{
    count_gen_t *c = (count_gen_t *)g;
    PARC_GEN_BEGIN(g);
    for (c->i = 0; c->i < c->n; c->i++)
        PARC_GEN_YIELD(g, *(intptr_t *)out = c->i);
    PARC_GEN_END(g);
}

static __attribute__((noinline)) intptr_t sum_stackless(intptr_t n)
{
    count_gen_t c = { PARC_GEN_INIT, 0, n };
    intptr_t v, sum = 0;
    while (parc_gen_next(&c.gen, count_body, &v) == 0)
        sum += v;
    return sum;
}

static __attribute__((noinline)) void add_to(void *ctx, intptr_t v)
{
    *(volatile intptr_t *)ctx += v;
}

static __attribute__((noinline)) void count_with_callback(intptr_t n,
                                                          void (*cb)(void *, intptr_t),
                                                          void *ctx)
{
    for (intptr_t i = 0; i < n; i++)
        cb(ctx, i);
}

static double python_generator_ns(long n)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import time\n"
             "def gen(n):\n"
             "    i = 0\n"
             "    while i < n:\n"
             "        yield i\n"
             "        i += 1\n"
             "t = time.perf_counter_ns(); s = 0\n"
             "for v in gen(%ld): s += v\n"
             "print((time.perf_counter_ns() - t) / %ld)' 2>/dev/null",
             n, n);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    double ns = -1;
    if (fscanf(p, "%lf", &ns) != 1)
        ns = -1;
    pclose(p);
    return ns;
}

static void bench_generator(void)
{
    intptr_t n = quick ? 100000 : 10000000;
    printf("generator yielding %ld integers (per integer; the C cases take turns in %d "
           "slices, fastest slice)\n", (long)n, ROUNDS);
    intptr_t slice = n / ROUNDS, sum = 0, sl_sum = 0;
    volatile intptr_t cb_sum = 0;
    double gen = -1, sl = -1, cb = -1;
    for (int r = 0; r < ROUNDS; r++) {
        parc_generator_t *g;
        if (parc_generator_create(&g, counter, (void *)slice, NULL) != 0)
            return;
        void *v;
        int64_t t0 = parc_now_ns();
        while (parc_generator_next(g, &v) == 0)
            sum += (intptr_t)v;
        keep_min(&gen, ns_per(parc_now_ns() - t0, (uint64_t)slice));
        parc_generator_free(g);
        t0 = parc_now_ns();
        sl_sum += sum_stackless(slice);
        keep_min(&sl, ns_per(parc_now_ns() - t0, (uint64_t)slice));
        t0 = parc_now_ns();
        count_with_callback(slice, add_to, (void *)&cb_sum);
        keep_min(&cb, ns_per(parc_now_ns() - t0, (uint64_t)slice));
    }
    if (sum != cb_sum || sl_sum != cb_sum)
        printf("  (sums differ: %ld, %ld vs %ld)\n", (long)sum, (long)sl_sum, (long)cb_sum);
    double py = python_generator_ns(quick ? 100000 : 10000000);
    report("loop with a callback", cb, 0, NULL);
    report("parc stackless generator (parc_gen_t)", sl, cb, "callback loop (target <= 2)");
    report("parc stackful generator (parc_generator_t)", gen, cb, "callback loop");
    if (py > 0) {
        report("python3 generator", py, 0, NULL);
        printf("  %-44s %9s      %6.1fx faster than Python (target >= 50)\n",
               "parc stackless", "", py / sl);
        printf("  %-44s %9s      %6.1fx faster than Python\n", "parc stackful", "", py / gen);
    } else {
        printf("  python3: SKIP (not installed)\n");
    }
}

/* ---- ping-pong: fibers on one worker vs two threads ------------------------------ */

typedef struct table {
    parc_mutex_t m;
    parc_cond_t c;
    int turn;
    parc_queue_t ping, pong;
    parc_chan_t cping, cpong;
    long rounds;
} table_t;

typedef struct side {
    table_t *t;
    int me;
} side_t;

static void mutex_side(void *arg)
{
    side_t *s = arg;
    table_t *t = s->t;
    parc_mutex_lock(&t->m);
    for (long i = 0; i < t->rounds; i++) {
        while ((t->turn & 1) != s->me)
            parc_cond_wait(&t->c, &t->m);
        t->turn++;
        parc_cond_notify_one(&t->c);
    }
    parc_mutex_unlock(&t->m);
}

static void queue_side(void *arg)
{
    side_t *s = arg;
    table_t *t = s->t;
    void *v;
    for (long i = 0; i < t->rounds; i++) {
        if (s->me == 0) {
            parc_queue_put(&t->ping, (void *)1);
            parc_queue_get(&t->pong, &v);
        } else {
            parc_queue_get(&t->ping, &v);
            parc_queue_put(&t->pong, (void *)1);
        }
    }
}

/* The same exchange as queue_side over two parc_chan_t (the table's
 * capacity: 0 rendezvous, as Go's unbuffered channel, or 1). */
static void chan_side(void *arg)
{
    side_t *s = arg;
    table_t *t = s->t;
    long v = 1;
    for (long i = 0; i < t->rounds; i++) {
        if (s->me == 0) {
            parc_chan_send(&t->cping, &v);
            parc_chan_recv(&t->cpong, &v);
        } else {
            parc_chan_recv(&t->cping, &v);
            parc_chan_send(&t->cpong, &v);
        }
    }
}

typedef struct thread_arg {
    void (*fn)(void *);
    side_t side;
} thread_arg_t;

static void *run_thread_side(void *arg)
{
    thread_arg_t *a = arg;
    a->fn(&a->side);
    return NULL;
}

static void table_init(table_t *t, long rounds, size_t chan_cap)
{
    parc_chan_init(&t->cping, sizeof(long), chan_cap);
    parc_chan_init(&t->cpong, sizeof(long), chan_cap);
    parc_mutex_init(&t->m, PARC_MUTEX_NORMAL);
    parc_cond_init(&t->c);
    t->turn = 0;
    parc_queue_init(&t->ping, 1, PARC_QUEUE_FIFO, NULL, NULL);
    parc_queue_init(&t->pong, 1, PARC_QUEUE_FIFO, NULL, NULL);
    t->rounds = rounds;
}

static void table_destroy(table_t *t)
{
    parc_queue_destroy(&t->ping);
    parc_queue_destroy(&t->pong);
    parc_chan_destroy(&t->cping);
    parc_chan_destroy(&t->cpong);
    parc_cond_destroy(&t->c);
    parc_mutex_destroy(&t->m);
}

/* ns per round trip (two hand-offs). */
static double pingpong_fibers(parc_pool_t *pool, void (*fn)(void *), long rounds,
                              size_t chan_cap)
{
    table_t t;
    table_init(&t, rounds, chan_cap);
    side_t a = { &t, 0 }, b = { &t, 1 };
    parc_fiber_t *fa, *fb;
    int64_t t0 = parc_now_ns();
    parc_fiber_spawn(pool, fn, &a, NULL, &fa);
    parc_fiber_spawn(pool, fn, &b, NULL, &fb);
    parc_fiber_join(fa);
    parc_fiber_join(fb);
    double ns = ns_per(parc_now_ns() - t0, (uint64_t)rounds);
    parc_fiber_free(fa);
    parc_fiber_free(fb);
    table_destroy(&t);
    return fn == mutex_side ? 2 * ns : ns; /* mutex: a round is one turn */
}

/* ns per round trip between two threads; one_cpu pins both to the CPU
 * the caller runs on (the fibers' resources: one worker, one core), else
 * they run where the scheduler puts them. -1 if the pinning fails. */
static double pingpong_threads(void (*fn)(void *), long rounds, size_t chan_cap, bool one_cpu)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (one_cpu) {
        cpu_set_t set;
        CPU_ZERO(&set);
        int cpu = sched_getcpu();
        CPU_SET(cpu < 0 ? 0 : cpu, &set);
        if (pthread_attr_setaffinity_np(&attr, sizeof set, &set) != 0) {
            pthread_attr_destroy(&attr);
            return -1;
        }
    }
    table_t t;
    table_init(&t, rounds, chan_cap);
    thread_arg_t a = { fn, { &t, 0 } }, b = { fn, { &t, 1 } };
    pthread_t ta, tb;
    int64_t t0 = parc_now_ns();
    pthread_create(&ta, &attr, run_thread_side, &a);
    pthread_create(&tb, &attr, run_thread_side, &b);
    pthread_attr_destroy(&attr);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    double ns = ns_per(parc_now_ns() - t0, (uint64_t)rounds);
    table_destroy(&t);
    return fn == mutex_side ? 2 * ns : ns;
}

static double run_peer(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    double ns = -1;
    if (fscanf(p, "%lf", &ns) != 1)
        ns = -1;
    pclose(p);
    return ns;
}

/* The thread pair on two cores is bimodal: both threads spinning (a
 * cache-line round trip per hand-off), or one parking in the kernel at
 * each hand-off (a futex wake-up and a scheduler switch); which one a
 * pass gets depends on the machine (a neighbour on the second core, the
 * spin budgets' state). So every case runs PINGPONG_PASSES passes, fibers
 * and threads alternating, and prints the fibers' fastest pass against
 * the threads' fastest (the strict ratio) and slowest. A third pair runs
 * both threads on one CPU, the resources the two fibers have (one
 * worker): every hand-off there is a kernel switch. */
#define PINGPONG_PASSES 3

static void pingpong_case(const char *what, parc_pool_t *pool, void (*fn)(void *),
                          long rounds, size_t chan_cap)
{
    double fib = 0, thr_best = 0, thr_worst = 0, one_best = 0;
    for (int pass = 0; pass < PINGPONG_PASSES; pass++) {
        double f = pingpong_fibers(pool, fn, rounds, chan_cap);
        double t = pingpong_threads(fn, rounds / 4 + 1, chan_cap, false);
        double o = pingpong_threads(fn, rounds / 16 + 1, chan_cap, true);
        if (pass == 0 || f < fib)
            fib = f;
        if (pass == 0 || t < thr_best)
            thr_best = t;
        if (pass == 0 || t > thr_worst)
            thr_worst = t;
        if (pass == 0 || (o > 0 && (one_best <= 0 || o < one_best)))
            one_best = o;
    }
    char line[128];
    snprintf(line, sizeof line, "two threads, %s", what);
    printf("  %-44s %9.1f ns   (slowest pass %.1f ns)\n", line, thr_best, thr_worst);
    snprintf(line, sizeof line, "two threads on one CPU, %s", what);
    if (one_best > 0)
        printf("  %-44s %9.1f ns\n", line, one_best);
    else
        printf("  %-44s SKIP (cannot pin)\n", line);
    snprintf(line, sizeof line, "two fibers on one worker, %s", what);
    printf("  %-44s %9.1f ns   %6.2fx threads' fastest, %.2fx slowest, %.2fx one CPU "
           "(target <= 0.2)\n",
           line, fib, fib / thr_best, fib / thr_worst, one_best > 0 ? fib / one_best : 0.0);
}

static void bench_pingpong(void)
{
    long rounds = quick ? 2000 : 200000;
    printf("ping-pong, ns per round trip (%ld rounds; fastest of %d passes)\n", rounds,
           PINGPONG_PASSES);
    parc_pool_t *pool;
    if (parc_pool_create(1, NULL, &pool) != 0)
        return;
    pingpong_case("mutex+cond", pool, mutex_side, rounds, 0);
    pingpong_case("chan rendezvous", pool, chan_side, rounds, 0);
    pingpong_case("chan capacity 1", pool, chan_side, rounds, 1);
    pingpong_case("queue of 1", pool, queue_side, rounds, 0);
    parc_pool_free(pool);
#ifdef PARC_BENCH_GO_PEER
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd /tmp && go run %s %ld 2>/dev/null", PARC_BENCH_GO_PEER, rounds);
    double go = quick ? -1 : run_peer(cmd);
    if (go > 0)
        report("Go goroutines, unbuffered channel", go, 0, NULL);
    else
        printf("  Go: SKIP (%s)\n", quick ? "--quick" : "go not runnable");
#endif
#ifdef PARC_BENCH_BOOST_FIBER_PEER
    char bcmd[1024];
    snprintf(bcmd, sizeof bcmd, "%s %ld", PARC_BENCH_BOOST_FIBER_PEER, rounds);
    double bf = run_peer(bcmd);
    if (bf > 0)
        report("Boost.Fiber, unbuffered channel", bf, 0, NULL);
#else
    printf("  Boost.Fiber: SKIP (libboost-fiber-dev or a C++ compiler not found)\n");
#endif
    (void)run_peer;
}

/* ---- memory per blocked fiber ----------------------------------------------------- */

static long resident_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return -1;
    long pages_total, pages_resident;
    int ok = fscanf(f, "%ld %ld", &pages_total, &pages_resident) == 2;
    fclose(f);
    return ok ? pages_resident * (sysconf(_SC_PAGESIZE) / 1024) : -1;
}

static void block_on(void *arg)
{
    parc_sem_acquire(arg, 1);
}

static void bench_memory(long n)
{
    printf("memory: %ld fibers blocked on a semaphore (default stack size, unguarded)\n", n);
    parc_pool_t *pool;
    if (parc_pool_create(2, NULL, &pool) != 0)
        return;
    parc_sem_t sem;
    parc_sem_init(&sem, 0);
    parc_fiber_attr_t attr = PARC_FIBER_ATTR_INIT;
    attr.flags = PARC_FIBER_UNGUARDED;
    /* Warm the allocator and the pool so their one-time cost is not
     * charged to the fibers. */
    parc_fiber_spawn(pool, block_on, &sem, &attr, NULL);
    parc_sem_release(&sem, 1);
    parc_sleep_ns(10 * PARC_NS_PER_MS);
    long before = resident_kib();
    int64_t t0 = parc_now_ns();
    long spawned = 0;
    for (; spawned < n; spawned++)
        if (parc_fiber_spawn(pool, block_on, &sem, &attr, NULL) != 0)
            break;
    /* Wait until they are all parked: the semaphore counts its waiters
     * only indirectly, so give the workers time to run every fiber once. */
    parc_sleep_ns((quick ? 100 : 2000) * PARC_NS_PER_MS);
    long after = resident_kib();
    double spawn_ns = ns_per(parc_now_ns() - t0, (uint64_t)(spawned ? spawned : 1));
    printf("  spawned %ld fibers (%.0f ns each, including running each to its park)\n",
           spawned, spawn_ns);
    if (before > 0 && after > 0 && spawned > 0)
        printf("  resident memory per blocked fiber: %.2f KiB (target <= 16)\n",
               (double)(after - before) / (double)spawned);
    parc_sem_release(&sem, (uint32_t)spawned);
    parc_pool_join(pool);
    parc_pool_free(pool);
    parc_sem_destroy(&sem);
}

int main(int argc, char **argv)
{
    long fibers = 1000000;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--fibers") == 0 && i + 1 < argc)
            fibers = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--quick] [--fibers N] "
                            "[--only switch|generator|pingpong|memory]\n", argv[0]);
            return 2;
        }
    }
    if (quick && fibers == 1000000)
        fibers = 10000;
    printf("parc-bench-fiber%s: ratios from one run; a loaded machine gives noise\n",
           quick ? " --quick" : "");
    bench_floor();
#define WANT(name) (only == NULL || strcmp(only, name) == 0)
    if (WANT("switch"))
        bench_switch();
    if (WANT("generator"))
        bench_generator();
    if (WANT("pingpong"))
        bench_pingpong();
    if (WANT("memory"))
        bench_memory(fibers);
    return 0;
}
