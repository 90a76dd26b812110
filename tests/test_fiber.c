/* Unit tests for parc/fiber.h: fibers run by hand, guard pages,
 * fiber-local storage, and M:N on a pool with parc's blocking primitives
 * parking fibers instead of workers. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parc/chan.h"
#include "parc/cond.h"
#include "parc/event.h"
#include "parc/fiber.h"
#include "parc/future.h"
#include "parc/mutex.h"
#include "parc/pool.h"
#include "parc/queue.h"
#include "parc/sem.h"

#include "fiber_internal.h"
#include "testutil.h"

/* ---- by hand ---------------------------------------------------------------- */

static void count_and_yield(void *arg)
{
    int *n = arg;
    for (int i = 0; i < 3; i++) {
        (*n)++;
        ck_assert_int_eq(parc_fiber_yield(), 0);
    }
    (*n)++;
}

START_TEST(resume_runs_until_yield_then_finishes)
{
    int n = 0;
    parc_fiber_t *f;
    ck_assert_int_eq(parc_fiber_create(&f, count_and_yield, &n, NULL), 0);
    ck_assert_int_eq(n, 0); /* nothing runs before the first resume */
    for (int i = 1; i <= 3; i++) {
        ck_assert_int_eq(parc_fiber_resume(f), 0);
        ck_assert_int_eq(n, i);
        ck_assert(!parc_fiber_done(f));
    }
    ck_assert_int_eq(parc_fiber_resume(f), EPIPE);
    ck_assert_int_eq(n, 4);
    ck_assert(parc_fiber_done(f));
    ck_assert_int_eq(parc_fiber_resume(f), EPIPE);
    ck_assert_ptr_null(parc_fiber_current());
    ck_assert_int_eq(parc_fiber_free(f), 0);
}
END_TEST

static void noop(void *arg) { (void)arg; }

START_TEST(rejects_bad_arguments)
{
    parc_fiber_t *f;
    ck_assert_int_eq(parc_fiber_create(NULL, noop, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_fiber_create(&f, NULL, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_fiber_resume(NULL), EINVAL);
    ck_assert_int_eq(parc_fiber_free(NULL), EINVAL);
    ck_assert_int_eq(parc_fiber_yield(), EPERM);
    ck_assert_int_eq(parc_fiber_switch(NULL), EPERM);
    ck_assert_int_eq(parc_fiber_join(NULL), EINVAL);
    ck_assert_int_eq(parc_fiber_spawn(NULL, noop, NULL, NULL, NULL), EINVAL);
    ck_assert_int_eq(parc_fiber_sleep(-1), EINVAL);
    ck_assert_int_eq(parc_fiber_create(&f, noop, NULL, NULL), 0);
    ck_assert_int_eq(parc_fiber_join(f), EINVAL); /* not spawned */
    ck_assert_int_eq(parc_fiber_free(f), 0);      /* never run: abandoned */
}
END_TEST

/* Callee-saved registers survive switches: a computation keeps many
 * values live across yields (the compiler puts them in callee-saved
 * registers), in integer and floating-point form. */
static void keep_registers(void *arg)
{
    double *out = arg;
    volatile int rounds = 50;
    uint64_t a = 1, b = 2, c = 3, d = 5, e = 7, g = 11;
    double x = 1.5, y = 2.25, z = 3.125, w = 0.5;
    for (int i = 0; i < rounds; i++) {
        a = a * 3 + b; b ^= c + (uint64_t)i; c += d; d = d * 5 + e; e += g; g ^= a;
        x = x * 1.0001 + y; y = y * 0.999 + z; z += w; w *= 1.01;
        parc_fiber_yield();
    }
    out[0] = (double)(a ^ b ^ c ^ d ^ e ^ g);
    out[1] = x + y + z + w;
}

START_TEST(registers_survive_switches)
{
    double ref[2], got[2];
    /* Reference: the same computation run plainly in a fiber that is
     * resumed by interleaving with a second, register-thrashing fiber. */
    parc_fiber_t *f1, *f2;
    ck_assert_int_eq(parc_fiber_create(&f1, keep_registers, ref, NULL), 0);
    while (parc_fiber_resume(f1) == 0)
        ;
    ck_assert_int_eq(parc_fiber_create(&f2, keep_registers, got, NULL), 0);
    parc_fiber_t *f3;
    double junk[2];
    ck_assert_int_eq(parc_fiber_create(&f3, keep_registers, junk, NULL), 0);
    while (parc_fiber_resume(f2) == 0)
        (void)parc_fiber_resume(f3);
    ck_assert(memcmp(ref, got, sizeof ref) == 0);
    parc_fiber_free(f1);
    parc_fiber_free(f2);
    parc_fiber_free(f3);
}
END_TEST

/* Symmetric transfer and nesting. */
typedef struct trace {
    char log[32];
    int n;
    parc_fiber_t *other;
} trace_t;

static void mark(trace_t *t, char c) { t->log[t->n++] = c; }

static void switch_b(void *arg)
{
    trace_t *t = arg;
    mark(t, 'b');
    parc_fiber_yield();     /* back to the resumer of a, who switched here */
    mark(t, 'B');
}

static void switch_a(void *arg)
{
    trace_t *t = arg;
    mark(t, 'a');
    ck_assert_int_eq(parc_fiber_switch(t->other), 0);
    mark(t, 'A');
}

START_TEST(switch_hands_the_resumer_over)
{
    trace_t t = { .n = 0 };
    parc_fiber_t *a, *b;
    ck_assert_int_eq(parc_fiber_create(&b, switch_b, &t, NULL), 0);
    ck_assert_int_eq(parc_fiber_create(&a, switch_a, &t, NULL), 0);
    t.other = b;
    ck_assert_int_eq(parc_fiber_resume(a), 0);   /* a -> b -> yield */
    ck_assert_int_eq(parc_fiber_resume(a), EPIPE); /* a continues, ends */
    ck_assert_int_eq(parc_fiber_resume(b), EPIPE);
    t.log[t.n] = 0;
    ck_assert_str_eq(t.log, "abAB");
    parc_fiber_free(a);
    parc_fiber_free(b);
}
END_TEST

static void inner(void *arg)
{
    trace_t *t = arg;
    mark(t, 'i');
    parc_fiber_yield();
    mark(t, 'I');
}

static void outer(void *arg)
{
    trace_t *t = arg;
    parc_fiber_t *self = parc_fiber_current();
    mark(t, 'o');
    parc_fiber_t *in;
    ck_assert_int_eq(parc_fiber_create(&in, inner, t, NULL), 0);
    ck_assert_int_eq(parc_fiber_resume(in), 0);
    ck_assert_ptr_eq(parc_fiber_current(), self);
    parc_fiber_yield();
    ck_assert_int_eq(parc_fiber_resume(in), EPIPE);
    mark(t, 'O');
    parc_fiber_free(in);
}

START_TEST(fibers_nest)
{
    trace_t t = { .n = 0 };
    parc_fiber_t *f;
    ck_assert_int_eq(parc_fiber_create(&f, outer, &t, NULL), 0);
    ck_assert_int_eq(parc_fiber_resume(f), 0);
    ck_assert_int_eq(parc_fiber_resume(f), EPIPE);
    t.log[t.n] = 0;
    ck_assert_str_eq(t.log, "oiIO");
    parc_fiber_free(f);
}
END_TEST

/* A fiber run by hand may be resumed from one thread after another. */
typedef struct hop {
    parc_fiber_t *f;
    int rc;
} hop_t;

static void *resume_on_thread(void *arg)
{
    hop_t *h = arg;
    h->rc = parc_fiber_resume(h->f);
    return NULL;
}

static void hopper(void *arg)
{
    int *steps = arg;
    for (int i = 0; i < 8; i++) {
        (*steps)++;
        parc_fiber_yield();
    }
}

START_TEST(resumes_on_other_threads)
{
    int steps = 0;
    hop_t h;
    ck_assert_int_eq(parc_fiber_create(&h.f, hopper, &steps, NULL), 0);
    for (int i = 0; i < 9; i++) {
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, resume_on_thread, &h), 0);
        ck_assert_int_eq(pthread_join(th, NULL), 0);
        ck_assert_int_eq(h.rc, i < 8 ? 0 : EPIPE);
    }
    ck_assert_int_eq(steps, 8);
    parc_fiber_free(h.f);
}
END_TEST

/* Two threads race to resume one suspended fiber: each resume either
 * runs it (0) or is refused (EBUSY), never both at once: the fiber
 * counts how many threads are inside it. */
typedef struct race {
    parc_fiber_t *f;
    atomic_int inside, overlaps, stop;
    atomic_long runs, refused;
} race_t;

static void racer_body(void *arg)
{
    race_t *r = arg;
    while (!atomic_load(&r->stop)) {
        if (atomic_fetch_add(&r->inside, 1) != 0)
            atomic_fetch_add(&r->overlaps, 1);
        for (volatile int i = 0; i < 50; i++)
            ;
        atomic_fetch_sub(&r->inside, 1);
        parc_fiber_yield();
    }
}

static void *racer_thread(void *arg)
{
    race_t *r = arg;
    for (int i = 0; i < 100000; i++) {
        int rc = parc_fiber_resume(r->f);
        if (rc == 0)
            atomic_fetch_add(&r->runs, 1);
        else if (rc == EBUSY)
            atomic_fetch_add(&r->refused, 1);
        else
            ck_abort_msg("resume returned %d", rc);
    }
    return NULL;
}

START_TEST(racing_resumes_run_the_fiber_once)
{
    race_t r = { .f = NULL };
    ck_assert_int_eq(parc_fiber_create(&r.f, racer_body, &r, NULL), 0);
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, racer_thread, &r), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    ck_assert_int_eq(atomic_load(&r.overlaps), 0);
    ck_assert_int_eq(atomic_load(&r.runs) + atomic_load(&r.refused), 200000);
    ck_assert_int_gt(atomic_load(&r.runs), 0);
    atomic_store(&r.stop, 1);
    ck_assert_int_eq(parc_fiber_resume(r.f), EPIPE);
    ck_assert_int_eq(parc_fiber_free(r.f), 0);
}
END_TEST

/* ---- stacks ------------------------------------------------------------------- */

static void use_big_frame(void *arg)
{
    volatile char big[512 * 1024];
    big[0] = 1;
    big[sizeof big - 1] = 2;
    *(int *)arg = big[0] + big[sizeof big - 1];
}

START_TEST(stack_size_is_configurable)
{
    parc_fiber_attr_t attr = PARC_FIBER_ATTR_INIT;
    attr.stack_size = 2u << 20;
    int out = 0;
    parc_fiber_t *f;
    ck_assert_int_eq(parc_fiber_create(&f, use_big_frame, &out, &attr), 0);
    ck_assert_int_eq(parc_fiber_resume(f), EPIPE);
    ck_assert_int_eq(out, 3);
    parc_fiber_free(f);
}
END_TEST

static void touch_below_stack(void *arg)
{
    (void)arg;
    parc_fiber_t *self = parc_fiber_current();
    volatile char *below = (volatile char *)self->stack.bottom - 1;
    *below = 1; /* the guard page: must fault */
}

/* Run a fiber in a child process; true when the child died of a fault
 * (or a sanitizer reported one and exited non-zero). */
static bool faults_in_child(parc_fiber_fn fn)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* The sanitizers' stack-overflow reports are expected: hide them. */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDERR_FILENO);
        parc_fiber_t *f;
        if (parc_fiber_create(&f, fn, NULL, NULL) != 0)
            _exit(3);
        parc_fiber_resume(f);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
                                   WEXITSTATUS(status) != 3);
}

static int recurse(int depth)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    return depth > 0 ? recurse(depth + 1) + frame[0] : 0; /* not a tail call */
}

static void overflow(void *arg)
{
    (void)arg;
    recurse(1);
}

START_TEST(guard_page_faults)
{
    ck_assert(faults_in_child(touch_below_stack));
    ck_assert(faults_in_child(overflow));
}
END_TEST

/* ---- fiber-local storage ---------------------------------------------------- */

static parc_atomic(int) destroyed;

static void count_destroy(void *v)
{
    parc_faa(&destroyed, *(int *)v, PARC_RELAXED);
}

typedef struct fls_arg {
    parc_fiber_key_t key;
    int value;
} fls_arg_t;

static void use_local(void *arg)
{
    fls_arg_t *a = arg;
    ck_assert_ptr_null(parc_fiber_local_get(a->key));
    ck_assert_int_eq(parc_fiber_local_set(a->key, &a->value), 0);
    parc_fiber_yield();
    ck_assert_ptr_eq(parc_fiber_local_get(a->key), &a->value);
}

START_TEST(fiber_locals_are_per_fiber)
{
    parc_fiber_key_t key;
    ck_assert_int_eq(parc_fiber_key_create(&key, count_destroy), 0);
    ck_assert_int_eq(parc_fiber_local_set(key, &key), EPERM); /* not a fiber */
    ck_assert_ptr_null(parc_fiber_local_get(key));
    ck_assert_int_eq(parc_fiber_local_set(PARC_FIBER_KEYS_MAX, NULL), EINVAL);
    fls_arg_t a1 = { key, 10 }, a2 = { key, 100 };
    parc_fiber_t *f1, *f2;
    ck_assert_int_eq(parc_fiber_create(&f1, use_local, &a1, NULL), 0);
    ck_assert_int_eq(parc_fiber_create(&f2, use_local, &a2, NULL), 0);
    ck_assert_int_eq(parc_fiber_resume(f1), 0);
    ck_assert_int_eq(parc_fiber_resume(f2), 0);
    ck_assert_int_eq(parc_fiber_resume(f1), EPIPE);
    ck_assert_int_eq(parc_load(&destroyed, PARC_RELAXED), 10);
    ck_assert_int_eq(parc_fiber_resume(f2), EPIPE);
    ck_assert_int_eq(parc_load(&destroyed, PARC_RELAXED), 110);
    parc_fiber_free(f1);
    parc_fiber_free(f2);
}
END_TEST

/* ---- M:N on a pool ---------------------------------------------------------- */

static parc_pool_t *make_pool(unsigned workers)
{
    parc_pool_t *p;
    ck_assert_int_eq(parc_pool_create(workers, NULL, &p), 0);
    return p;
}

typedef struct pingpong {
    parc_sem_t ping, pong;
    int rounds;
    int seen;
} pingpong_t;

static void pinger(void *arg)
{
    pingpong_t *pp = arg;
    for (int i = 0; i < pp->rounds; i++) {
        parc_sem_release(&pp->ping, 1);
        ck_assert_int_eq(parc_sem_acquire(&pp->pong, 1), 0);
    }
}

static void ponger(void *arg)
{
    pingpong_t *pp = arg;
    for (int i = 0; i < pp->rounds; i++) {
        ck_assert_int_eq(parc_sem_acquire(&pp->ping, 1), 0);
        pp->seen++;
        parc_sem_release(&pp->pong, 1);
    }
}

/* On ONE worker, two fibers that block on each other can only progress if
 * a blocked fiber parks instead of blocking the worker. */
START_TEST(blocked_fibers_park_not_the_worker)
{
    parc_pool_t *p = make_pool(1);
    pingpong_t pp = { .rounds = 2000 };
    parc_sem_init(&pp.ping, 0);
    parc_sem_init(&pp.pong, 0);
    parc_fiber_t *a, *b;
    ck_assert_int_eq(parc_fiber_spawn(p, ponger, &pp, NULL, &b), 0);
    ck_assert_int_eq(parc_fiber_spawn(p, pinger, &pp, NULL, &a), 0);
    ck_assert_int_eq(parc_fiber_join(a), 0);
    ck_assert_int_eq(parc_fiber_join(b), 0);
    ck_assert_int_eq(pp.seen, pp.rounds);
    ck_assert(parc_fiber_done(a));
    parc_fiber_free(a);
    parc_fiber_free(b);
    parc_pool_free(p);
}
END_TEST

typedef struct contended {
    parc_mutex_t m;
    long counter;          /* not atomic: the mutex orders it */
    int inside;
    parc_atomic(int) violations;
    int per_fiber;
} contended_t;

static void lock_loop(void *arg)
{
    contended_t *c = arg;
    for (int i = 0; i < c->per_fiber; i++) {
        ck_assert_int_eq(parc_mutex_lock(&c->m), 0);
        if (c->inside++ != 0)
            parc_faa(&c->violations, 1, PARC_RELAXED);
        c->counter++;
        if (i % 7 == 0)
            parc_fiber_yield(); /* hold it across a yield: others park */
        c->inside--;
        ck_assert_int_eq(parc_mutex_unlock(&c->m), 0);
    }
}

START_TEST(mutex_excludes_fibers_across_workers)
{
    parc_pool_t *p = make_pool(2);
    contended_t c = { .per_fiber = 200 };
    parc_mutex_init(&c.m, PARC_MUTEX_ERRORCHECK); /* owner: the fiber */
    enum { N = 64 };
    parc_fiber_t *f[N];
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(parc_fiber_spawn(p, lock_loop, &c, NULL, &f[i]), 0);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(parc_fiber_join(f[i]), 0);
        parc_fiber_free(f[i]);
    }
    ck_assert_int_eq(parc_load(&c.violations, PARC_RELAXED), 0);
    ck_assert_int_eq(c.counter, (long)N * c.per_fiber);
    parc_pool_free(p);
}
END_TEST

typedef struct pc {
    parc_queue_t q;
    parc_event_t go;
    long sum;
    int items;
} pc_t;

static void producer(void *arg)
{
    pc_t *pc = arg;
    ck_assert_int_eq(parc_event_wait(&pc->go), 0);
    for (intptr_t i = 1; i <= pc->items; i++)
        ck_assert_int_eq(parc_queue_put(&pc->q, (void *)i), 0);
}

static void consumer(void *arg)
{
    pc_t *pc = arg;
    for (int i = 0; i < pc->items; i++) {
        void *v;
        ck_assert_int_eq(parc_queue_get(&pc->q, &v), 0);
        pc->sum += (intptr_t)v;
    }
}

START_TEST(queue_and_event_park_fibers)
{
    parc_pool_t *p = make_pool(1);
    pc_t pc = { .items = 3000 };
    ck_assert_int_eq(parc_queue_init(&pc.q, 1, PARC_QUEUE_FIFO, NULL, NULL), 0);
    parc_event_init(&pc.go);
    parc_fiber_t *a, *b;
    ck_assert_int_eq(parc_fiber_spawn(p, consumer, &pc, NULL, &b), 0);
    ck_assert_int_eq(parc_fiber_spawn(p, producer, &pc, NULL, &a), 0);
    parc_sleep_ns(PARC_NS_PER_MS);
    parc_event_set(&pc.go);   /* a thread wakes a parked fiber */
    ck_assert_int_eq(parc_fiber_join(a), 0);
    ck_assert_int_eq(parc_fiber_join(b), 0);
    ck_assert_int_eq(pc.sum, (long)pc.items * (pc.items + 1) / 2);
    parc_fiber_free(a);
    parc_fiber_free(b);
    parc_queue_destroy(&pc.q);
    parc_pool_free(p);
}
END_TEST

typedef struct chan_game {
    parc_chan_t ping, pong;
    long rounds, sum;
    int closed_rc;
} chan_game_t;

static void chan_a(void *arg)
{
    chan_game_t *g = arg;
    for (long i = 1; i <= g->rounds; i++) {
        long v = i, back = 0;
        ck_assert_int_eq(parc_chan_send(&g->ping, &v), 0);
        ck_assert_int_eq(parc_chan_recv(&g->pong, &back), 0);
        ck_assert_int_eq(back, 2 * i);
        g->sum += back;
    }
}

static void chan_b(void *arg)
{
    chan_game_t *g = arg;
    for (long i = 1; i <= g->rounds; i++) {
        long v = 0;
        ck_assert_int_eq(parc_chan_recv(&g->ping, &v), 0);
        v *= 2;
        ck_assert_int_eq(parc_chan_send(&g->pong, &v), 0);
    }
}

static void chan_blocked_recv(void *arg)
{
    chan_game_t *g = arg;
    long v;
    g->closed_rc = parc_chan_recv(&g->ping, &v);
}

static void chan_closer(void *arg)
{
    chan_game_t *g = arg;
    ck_assert_int_eq(parc_chan_close(&g->ping), 0);
}

/* Channel sends and receives park a fiber, not its worker: two fibers on
 * ONE worker exchange values through a rendezvous channel and through
 * channels of capacity 1 (a blocked caller that held the worker would
 * hang the pair), and a fiber parked in a receive is woken with EPIPE by
 * a close from another fiber of the same worker. */
START_TEST(chan_waits_park_fibers)
{
    parc_pool_t *p = make_pool(1);
    for (size_t cap = 0; cap <= 1; cap++) {
        chan_game_t g = { .rounds = 3000 };
        ck_assert_int_eq(parc_chan_init(&g.ping, sizeof(long), cap), 0);
        ck_assert_int_eq(parc_chan_init(&g.pong, sizeof(long), cap), 0);
        parc_fiber_t *a, *b;
        ck_assert_int_eq(parc_fiber_spawn(p, chan_b, &g, NULL, &b), 0);
        ck_assert_int_eq(parc_fiber_spawn(p, chan_a, &g, NULL, &a), 0);
        ck_assert_int_eq(parc_fiber_join(a), 0);
        ck_assert_int_eq(parc_fiber_join(b), 0);
        ck_assert_int_eq(g.sum, g.rounds * (g.rounds + 1));
        parc_fiber_free(a);
        parc_fiber_free(b);
        /* spawned in this order, the receiver runs (and parks) first */
        g.closed_rc = -1;
        ck_assert_int_eq(parc_fiber_spawn(p, chan_blocked_recv, &g, NULL, &a), 0);
        ck_assert_int_eq(parc_fiber_spawn(p, chan_closer, &g, NULL, &b), 0);
        ck_assert_int_eq(parc_fiber_join(a), 0);
        ck_assert_int_eq(parc_fiber_join(b), 0);
        ck_assert_int_eq(g.closed_rc, EPIPE);
        parc_fiber_free(a);
        parc_fiber_free(b);
        ck_assert_int_eq(parc_chan_destroy(&g.ping), 0);
        ck_assert_int_eq(parc_chan_destroy(&g.pong), 0);
    }
    parc_pool_free(p);
}
END_TEST

typedef struct order_log {
    parc_atomic(int) next;
    int at[2];
} order_log_t;

static void sleeper(void *arg)
{
    order_log_t *l = arg;
    ck_assert_int_eq(parc_fiber_sleep(200 * PARC_NS_PER_MS), 0);
    l->at[0] = parc_faa(&l->next, 1, PARC_RELAXED);
}

static void runner(void *arg)
{
    order_log_t *l = arg;
    l->at[1] = parc_faa(&l->next, 1, PARC_RELAXED);
}

/* A sleeping fiber frees its (only) worker: the fiber spawned after it
 * runs first. */
START_TEST(sleep_parks_on_a_timer)
{
    parc_pool_t *p = make_pool(1);
    order_log_t l = { .at = { -1, -1 } };
    parc_fiber_t *a, *b;
    ck_assert_int_eq(parc_fiber_spawn(p, sleeper, &l, NULL, &a), 0);
    ck_assert_int_eq(parc_fiber_spawn(p, runner, &l, NULL, &b), 0);
    parc_fiber_join(a);
    parc_fiber_join(b);
    ck_assert_int_eq(l.at[1], 0);
    ck_assert_int_eq(l.at[0], 1);
    parc_fiber_free(a);
    parc_fiber_free(b);
    parc_pool_free(p);
}
END_TEST

typedef struct timed_pair {
    parc_sem_t sem;
    parc_event_t timed_out; /* the first wait has returned ETIMEDOUT */
} timed_pair_t;

static void timed_waiter(void *arg)
{
    timed_pair_t *t = arg;
    int64_t t0 = parc_now_ns();
    ck_assert_int_eq(parc_sem_acquire_timed(&t->sem, 1, 20 * PARC_NS_PER_MS), ETIMEDOUT);
    ck_assert_int_ge(parc_now_ns() - t0, 20 * PARC_NS_PER_MS); /* never early */
    parc_event_set(&t->timed_out);
    ck_assert_int_eq(parc_sem_acquire_timed(&t->sem, 1, PARC_TEST_PATIENCE_NS), 0);
}

START_TEST(timed_waits_time_out_and_wake)
{
    parc_pool_t *p = make_pool(1);
    timed_pair_t t;
    parc_sem_init(&t.sem, 0);
    parc_event_init(&t.timed_out);
    parc_fiber_t *f;
    ck_assert_int_eq(parc_fiber_spawn(p, timed_waiter, &t, NULL, &f), 0);
    /* Release only after the timed wait has ended: on a loaded machine the
     * fiber may start later than any fixed sleep. Then the permit must
     * wake the fiber parked in its second wait. */
    ck_assert_int_eq(parc_event_wait_timed(&t.timed_out, PARC_TEST_PATIENCE_NS), 0);
    parc_sleep_ns(10 * PARC_NS_PER_MS);
    parc_sem_release(&t.sem, 1);
    ck_assert_int_eq(parc_fiber_join(f), 0);
    parc_fiber_free(f);
    parc_pool_free(p);
}
END_TEST

typedef struct condpair {
    parc_mutex_t m;
    parc_cond_t c;
    int turn;
    int rounds;
} condpair_t;

typedef struct player {
    condpair_t *cp;
    int me;
} player_t;

/* Two fibers take turns through a condition variable. */
static void cond_player(void *arg)
{
    player_t *pl = arg;
    condpair_t *cp = pl->cp;
    parc_mutex_lock(&cp->m);
    for (int i = 0; i < cp->rounds; i++) {
        while ((cp->turn & 1) != pl->me)
            ck_assert_int_eq(parc_cond_wait(&cp->c, &cp->m), 0);
        cp->turn++;
        parc_cond_notify_all(&cp->c);
    }
    parc_mutex_unlock(&cp->m);
}

START_TEST(cond_waits_park_fibers)
{
    parc_pool_t *p = make_pool(1);
    condpair_t cp = { .turn = 0, .rounds = 500 };
    parc_mutex_init(&cp.m, PARC_MUTEX_NORMAL);
    parc_cond_init(&cp.c);
    player_t p1 = { &cp, 1 }, p0 = { &cp, 0 };
    parc_fiber_t *a, *b;
    ck_assert_int_eq(parc_fiber_spawn(p, cond_player, &p1, NULL, &a), 0);
    ck_assert_int_eq(parc_fiber_spawn(p, cond_player, &p0, NULL, &b), 0);
    parc_fiber_join(a);
    parc_fiber_join(b);
    ck_assert_int_eq(cp.turn, 2 * cp.rounds);
    parc_fiber_free(a);
    parc_fiber_free(b);
    parc_pool_free(p);
}
END_TEST

static int slow_task(void *arg, void **result)
{
    (void)arg;
    *result = (void *)(intptr_t)42;
    return 0;
}

static void await_future(void *arg)
{
    parc_pool_t *p = arg;
    parc_future_t *f;
    ck_assert_int_eq(parc_pool_submit(p, slow_task, NULL, &f), 0);
    void *v = NULL;
    ck_assert_int_eq(parc_future_get(f, &v), 0); /* parks; the task runs */
    ck_assert_int_eq((intptr_t)v, 42);
    parc_future_release(f);
}

/* A spawned fiber waiting on a future of its own pool (one worker) parks
 * rather than running the task on its stack through the help hook. */
START_TEST(future_waits_park_fibers)
{
    parc_pool_t *p = make_pool(1);
    parc_fiber_t *f[8];
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(parc_fiber_spawn(p, await_future, p, NULL, &f[i]), 0);
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(parc_fiber_join(f[i]), 0);
        parc_fiber_free(f[i]);
    }
    parc_pool_free(p);
}
END_TEST

static parc_atomic(int) detached_ran;

static void detached(void *arg)
{
    parc_fiber_t **target = arg;
    parc_fiber_yield();
    parc_faa(&detached_ran, 1, PARC_RELEASE); /* pairs with the test's load */
    (void)target;
}

static void joiner(void *arg)
{
    parc_fiber_t *f = arg;
    ck_assert_int_eq(parc_fiber_join(parc_fiber_current()), EDEADLK);
    ck_assert_int_eq(parc_fiber_join(f), 0); /* a fiber joining a fiber */
    ck_assert(parc_fiber_done(f));
}

START_TEST(join_from_fibers_and_detached_fibers)
{
    parc_pool_t *p = make_pool(2);
    parc_fiber_t *slow, *j;
    order_log_t log = { .at = { 0, 0 } };
    ck_assert_int_eq(parc_fiber_spawn(p, sleeper, &log, NULL, &slow), 0);
    ck_assert_int_eq(parc_fiber_spawn(p, joiner, slow, NULL, &j), 0);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(parc_fiber_spawn(p, detached, NULL, NULL, NULL), 0);
    ck_assert_int_eq(parc_fiber_join(j), 0);
    parc_fiber_free(j);
    parc_fiber_free(slow);
    parc_pool_join(p); /* the detached ones finish before the pool drains */
    ck_assert_int_eq(parc_load(&detached_ran, PARC_ACQUIRE), 100);
    parc_pool_free(p);
}
END_TEST

static void declares_blocking(void *arg)
{
    unsigned *depths = arg;
    parc_fiber_block_begin();
    parc_fiber_block_begin();
    depths[0] = parc_fiber_blocking();
    parc_fiber_block_end();
    parc_fiber_block_end();
    parc_fiber_block_end(); /* unbalanced: ignored */
    depths[1] = parc_fiber_blocking();
}

START_TEST(blocking_declarations_nest)
{
    unsigned depths[2] = { 99, 99 };
    parc_fiber_block_begin(); /* outside a fiber: harmless */
    ck_assert_uint_eq(parc_fiber_blocking(), 0);
    parc_fiber_t *f;
    ck_assert_int_eq(parc_fiber_create(&f, declares_blocking, depths, NULL), 0);
    ck_assert_int_eq(parc_fiber_resume(f), EPIPE);
    ck_assert_uint_eq(depths[0], 2);
    ck_assert_uint_eq(depths[1], 0);
    parc_fiber_free(f);
}
END_TEST

static parc_atomic(int) parked_ran;

static void wait_then_count(void *arg)
{
    parc_sem_t *s = arg;
    ck_assert_int_eq(parc_sem_acquire(s, 1), 0);
    parc_faa(&parked_ran, 1, PARC_RELEASE); /* pairs with the test's load */
}

/* Freeing the handle of a spawned fiber that is still parked detaches it:
 * it runs to its end and frees itself. */
START_TEST(free_detaches_a_parked_fiber)
{
    parc_pool_t *p = make_pool(2);
    parc_sem_t s;
    parc_sem_init(&s, 0);
    parc_fiber_t *f;
    ck_assert_int_eq(parc_fiber_spawn(p, wait_then_count, &s, NULL, &f), 0);
    ck_assert_int_eq(parc_fiber_resume(f), EBUSY); /* spawned: not by hand */
    ck_assert_int_eq(parc_fiber_free(f), 0);       /* detached */
    parc_sem_release(&s, 1);
    parc_pool_join(p);
    ck_assert_int_eq(parc_load(&parked_ran, PARC_ACQUIRE), 1);
    parc_pool_free(p);
}
END_TEST


/* ---- declared blocking calls: the pool compensates ------------------------ */

typedef struct piped {
    int fds[2];
    parc_pool_t *pool;
    int read_rc;                 /* what the blocked fiber's read returned */
    int yield_rc;                /* parc_fiber_yield inside the section */
    unsigned compensators_seen;  /* by the writer, while the reader blocks */
} piped_t;

/* Holds its worker in a real blocking system call (poll, then read),
 * declared; only another fiber of the same one-worker pool can write. */
static void blocking_reader(void *arg)
{
    piped_t *p = arg;
    parc_fiber_block_begin();
    p->yield_rc = parc_fiber_yield(); /* must not leave this thread */
    struct pollfd pfd = { .fd = p->fds[0], .events = POLLIN };
    char c;
    if (poll(&pfd, 1, 10000) == 1) /* 10 s: the writer never ran */
        p->read_rc = (int)read(p->fds[0], &c, 1);
    parc_fiber_block_end();
}

static void pipe_writer(void *arg)
{
    piped_t *p = arg;
    p->compensators_seen = parc_pool_compensators(p->pool);
    ck_assert_int_eq((int)write(p->fds[1], "x", 1), 1);
}

/* On ONE worker: the reader's declared block makes the pool bring in a
 * compensating thread, which runs the writer. Without compensation the
 * writer waits for the worker the reader holds, and the read times out. */
START_TEST(declared_blocking_calls_are_compensated)
{
    parc_pool_t *p = make_pool(1);
    piped_t pp = { .pool = p, .read_rc = -1, .yield_rc = -1 };
    ck_assert_int_eq(pipe(pp.fds), 0);
    parc_fiber_t *r, *w;
    ck_assert_int_eq(parc_fiber_spawn(p, blocking_reader, &pp, NULL, &r), 0);
    /* Let the reader take the worker first (the test is the same either
     * way when it does not: the writer then runs before the read). */
    parc_sleep_ns(20 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_fiber_spawn(p, pipe_writer, &pp, NULL, &w), 0);
    ck_assert_int_eq(parc_fiber_join(r), 0);
    ck_assert_int_eq(parc_fiber_join(w), 0);
    ck_assert_int_eq(pp.read_rc, 1);
    ck_assert_int_eq(pp.yield_rc, EBUSY);
    ck_assert_uint_ge(pp.compensators_seen, 1);
    parc_fiber_free(r);
    parc_fiber_free(w);
    parc_pool_free(p);
    close(pp.fds[0]);
    close(pp.fds[1]);
}
END_TEST

/* The pool's own declaration, parc_pool_block_begin/end, called from a
 * spawned fiber: it belongs to the fiber (as parc_fiber_block_begin),
 * which stays on the thread that counted the begin until the end. */
typedef struct pool_declared {
    parc_sem_t go;
    int begin_rc, yield_rc, end_rc, end_again_rc, yield_after_rc;
    unsigned depth_inside, depth_after;
} pool_declared_t;

static void declares_through_the_pool(void *arg)
{
    pool_declared_t *d = arg;
    d->begin_rc = parc_pool_block_begin();
    d->depth_inside = parc_fiber_blocking();
    d->yield_rc = parc_fiber_yield();       /* pinned to this thread: EBUSY */
    (void)parc_sem_acquire(&d->go, 1);      /* blocks the thread, compensated */
    d->end_rc = parc_pool_block_end();
    d->end_again_rc = parc_pool_block_end(); /* none open in this fiber */
    d->depth_after = parc_fiber_blocking();
    d->yield_after_rc = parc_fiber_yield();  /* free to move again */
}

static void release_go(void *arg)
{
    pool_declared_t *d = arg;
    parc_sem_release(&d->go, 1);
}

static int end_on_a_pool_thread(void *arg, void **result)
{
    (void)result;
    *(int *)arg = parc_pool_block_end();
    return 0;
}

/* On ONE worker: the declaring fiber holds the worker in a semaphore
 * wait; only a compensating thread can run the fiber that releases it.
 * Without the fiber's ownership of the declaration, the yield inside
 * would move the fiber (0, not EBUSY), and a begin counted on one thread
 * could be ended on another (EINVAL there, the first left blocked). */
START_TEST(pool_block_calls_from_a_fiber_belong_to_it)
{
    parc_pool_t *p = make_pool(1);
    pool_declared_t d = { .begin_rc = -1, .yield_rc = -1, .end_rc = -1,
                          .end_again_rc = -1, .yield_after_rc = -1 };
    parc_sem_init(&d.go, 0);
    parc_fiber_t *a, *b;
    ck_assert_int_eq(parc_fiber_spawn(p, declares_through_the_pool, &d, NULL, &a), 0);
    parc_sleep_ns(20 * PARC_NS_PER_MS); /* let it take the worker first */
    ck_assert_int_eq(parc_fiber_spawn(p, release_go, &d, NULL, &b), 0);
    ck_assert_int_eq(parc_fiber_join(a), 0);
    ck_assert_int_eq(parc_fiber_join(b), 0);
    ck_assert_int_eq(d.begin_rc, 0);
    ck_assert_uint_eq(d.depth_inside, 1);
    ck_assert_int_eq(d.yield_rc, EBUSY);
    ck_assert_int_eq(d.end_rc, 0);
    ck_assert_int_eq(d.end_again_rc, EINVAL);
    ck_assert_uint_eq(d.depth_after, 0);
    ck_assert_int_eq(d.yield_after_rc, 0);
    /* Every pool thread's own count is balanced again. */
    int task_end_rc = -1;
    parc_future_t *f;
    ck_assert_int_eq(parc_pool_submit(p, end_on_a_pool_thread, &task_end_rc, &f), 0);
    ck_assert_int_eq(parc_future_wait(f), 0);
    parc_future_release(f);
    ck_assert_int_eq(task_end_rc, EINVAL);
    parc_fiber_free(a);
    parc_fiber_free(b);
    parc_sem_destroy(&d.go);
    parc_pool_free(p);
}
END_TEST

/* ---- the local scheduler: fairness ----------------------------------------- */

typedef struct ballgame {
    parc_sem_t ping, pong;
    parc_atomic(int) stop;
    long rounds;
} ballgame_t;

/* Hand the ball back and forth until told to stop: every hand-off makes
 * the partner ready on this worker (runnext). */
static void ball_a(void *arg)
{
    ballgame_t *g = arg;
    while (!parc_load(&g->stop, PARC_ACQUIRE)) { /* pairs with the task's store */
        parc_sem_release(&g->ping, 1);
        parc_sem_acquire(&g->pong, 1);
        g->rounds++;
    }
    parc_sem_release(&g->ping, 1); /* let b see the stop */
}

static void ball_b(void *arg)
{
    ballgame_t *g = arg;
    while (!parc_load(&g->stop, PARC_ACQUIRE)) {
        parc_sem_acquire(&g->ping, 1);
        parc_sem_release(&g->pong, 1);
    }
}

static int stop_the_game(void *arg, void **result)
{
    (void)result;
    ballgame_t *g = arg;
    /* Release: pairs with the fibers' acquire loads. */
    parc_store(&g->stop, 1, PARC_RELEASE);
    return 0;
}

/* Two fibers handing a ball back and forth on ONE worker keep making
 * each other ready locally; a plain task submitted to the same pool must
 * still run (the local scheduler hands the worker back to the pool after
 * a bounded number of local runs), or the game never ends. */
START_TEST(local_handoffs_do_not_starve_the_pool)
{
    parc_pool_t *p = make_pool(1);
    ballgame_t g = { .rounds = 0 };
    parc_sem_init(&g.ping, 0);
    parc_sem_init(&g.pong, 0);
    parc_atomic_init(&g.stop, 0);
    parc_fiber_t *a, *b;
    ck_assert_int_eq(parc_fiber_spawn(p, ball_b, &g, NULL, &b), 0);
    ck_assert_int_eq(parc_fiber_spawn(p, ball_a, &g, NULL, &a), 0);
    parc_sleep_ns(5 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_pool_submit(p, stop_the_game, &g, NULL), 0);
    ck_assert_int_eq(parc_fiber_join(a), 0);
    ck_assert_int_eq(parc_fiber_join(b), 0);
    ck_assert_int_gt(g.rounds, 0);
    parc_fiber_free(a);
    parc_fiber_free(b);
    parc_sem_destroy(&g.ping);
    parc_sem_destroy(&g.pong);
    parc_pool_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fiber");
    TCase *hand = tcase_create("by_hand");
    tcase_add_test(hand, resume_runs_until_yield_then_finishes);
    tcase_add_test(hand, rejects_bad_arguments);
    tcase_add_test(hand, registers_survive_switches);
    tcase_add_test(hand, switch_hands_the_resumer_over);
    tcase_add_test(hand, fibers_nest);
    tcase_add_test(hand, resumes_on_other_threads);
    tcase_add_test(hand, racing_resumes_run_the_fiber_once);
    tcase_add_test(hand, stack_size_is_configurable);
    tcase_add_test(hand, guard_page_faults);
    tcase_add_test(hand, fiber_locals_are_per_fiber);
    tcase_add_test(hand, blocking_declarations_nest);
    suite_add_tcase(s, hand);
    TCase *mn = tcase_create("pool");
    tcase_set_timeout(mn, 120 * PARC_SLOWDOWN);
    tcase_add_test(mn, blocked_fibers_park_not_the_worker);
    tcase_add_test(mn, mutex_excludes_fibers_across_workers);
    tcase_add_test(mn, queue_and_event_park_fibers);
    tcase_add_test(mn, chan_waits_park_fibers);
    tcase_add_test(mn, sleep_parks_on_a_timer);
    tcase_add_test(mn, timed_waits_time_out_and_wake);
    tcase_add_test(mn, cond_waits_park_fibers);
    tcase_add_test(mn, join_from_fibers_and_detached_fibers);
    tcase_add_test(mn, future_waits_park_fibers);
    tcase_add_test(mn, free_detaches_a_parked_fiber);
    tcase_add_test(mn, declared_blocking_calls_are_compensated);
    tcase_add_test(mn, pool_block_calls_from_a_fiber_belong_to_it);
    tcase_add_test(mn, local_handoffs_do_not_starve_the_pool);
    suite_add_tcase(s, mn);
    return parc_test_run(s);
}
