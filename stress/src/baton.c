/*
 * parc/stress_baton.h: a PCT scheduler behind the chaos hooks.
 *
 * All scheduler state sits under one pthread mutex; each participant has
 * its own condition variable and sleeps on it until the baton is handed
 * to it. The mutex also orders everything the participants do: whatever
 * the baton holder wrote is visible to the next holder (the hand-over is a
 * mutex release/acquire), so the serialized run has no data races of its
 * own. The scheduler uses only parc_raw_* atomics: a chaos point inside
 * a hook would recurse.
 *
 * Parks and determinism. A thread that parks gives the baton away, and the
 * kernel decides when it comes back; left alone, whether it is back at the
 * next decision would be a matter of timing. So the scheduler "settles"
 * parked threads before it decides: it waits until each one is either
 * asleep in the kernel (state S in /proc/self/task/<tid>/stat) or back in
 * the unblock hook. A thread that returns is only "pending"; settle points
 * (every block and exit, and every SETTLE_EVERY steps) admit the pending
 * threads to the runnable set, and only then is it chosen. Since a
 * futex wake makes the woken thread runnable before the waker's system
 * call returns, the waker's next settle point reliably sees it. What stays
 * timing-dependent: timed waits that expire, and spurious wake-ups.
 * A scheduler thread makes the decisions when nobody holds the baton
 * (after a block or an exit, and at the start).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* syscall(SYS_gettid) */
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "parc/atomic.h"
#include "parc/chaos.h"
#include "parc/stress_baton.h"
#include "parc/time.h"
#include "parc/weak.h"

enum { ST_ABSENT, ST_READY, ST_RUNNING, ST_BLOCKED, ST_PENDING, ST_DONE };
enum { EV_START = 1, EV_POINT, EV_BLOCK, EV_DECIDE, EV_EXIT };

/* Settle parked threads every this many steps (and at every block/exit). */
#define SETTLE_EVERY 16
/* Give up waiting for one parked thread to settle after this long (it is
 * neither asleep nor back: e.g. descheduled for ages by an overloaded
 * machine); the run goes on, without the determinism guarantee. */
#define SETTLE_PATIENCE_NS PARC_NS_PER_S

#define BATON_MAX_DEPTH 16

typedef struct bt_thread {
    pthread_cond_t wake;
    pid_t tid; /* kernel thread id, for its /proc state */
    /* Set by the thread itself as soon as it is back from the kernel,
     * before it takes B.mu: asleep on B.mu is not asleep in a park. */
    parc_atomic(bool) returning;
    int status;
    int64_t prio;
    unsigned run_len; /* consecutive choices */
    uint64_t ready_since; /* B.steps when it last ran or became runnable */
} bt_thread_t;

typedef struct baton {
    pthread_mutex_t mu;
    pthread_cond_t all_done; /* signalled when a participant exits */
    /* Wakes the scheduler thread: bumped under B.mu, then a futex wake.
     * A thread about to park must not sleep anywhere but in its park (the
     * settle step would take that sleep for the park), and signalling a
     * condition variable may sleep on its internal lock; a futex wake
     * never sleeps. */
    parc_atomic(uint32_t) decide_seq;
    pthread_t scheduler;
    bool scheduler_quit;
    bool active;
    bool hung;
    parc_baton_options_t opt;
    unsigned n, entered, done;
    int holder; /* participant holding the baton, -1 none */
    int last;   /* last chosen */
    int64_t floor; /* next starvation-guard priority (below all others) */
    int64_t ceiling; /* highest passed-over-guard priority given (above all others) */
    uint64_t change[BATON_MAX_DEPTH];
    unsigned changes, next_change;
    uint64_t steps, switches, parks, hash;
    uint8_t trace[PARC_BATON_TRACE];
    unsigned trace_len, trace_pos;
    uint64_t watch_steps; /* parc_baton_stuck()'s last look */
    int64_t watch_ns;
    bt_thread_t t[PARC_BATON_MAX_THREADS];
} baton_t;

static baton_t B = { .mu = PTHREAD_MUTEX_INITIALIZER,
                     .all_done = PTHREAD_COND_INITIALIZER,
                     .holder = -1 };

/* The participant index of the calling thread, -1 for outsiders. */
static _Thread_local int my_index = -1;

bool parc_baton_available(void)
{
    return parc_chaos_compiled();
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* ---- scheduling (B.mu held) ----------------------------------------------- */

static bool runnable(unsigned i)
{
    return B.t[i].status == ST_READY || B.t[i].status == ST_RUNNING;
}

/* opt.chooser decides: `current` (the running thread, -1 when it stopped)
 * is option 0 when it can go on, the others follow in index order. */
static int choose_by_chooser(int current)
{
    int list[PARC_BATON_MAX_THREADS];
    unsigned n = 0;
    if (current >= 0 && runnable((unsigned)current))
        list[n++] = current;
    for (unsigned i = 0; i < B.n; i++)
        if (runnable(i) && (int)i != current)
            list[n++] = (int)i;
    if (n <= 1)
        return n ? list[0] : -1;
    unsigned kind = list[0] == current ? PARC_WEAK_CHOICE_SCHEDULE : PARC_WEAK_CHOICE_SWITCH;
    return list[B.opt.chooser(B.opt.chooser_ctx, kind, n) % n];
}

/* The second starvation guard, for a thread that is passed over rather
 * than one that spins: a runnable thread that has not run for
 * max_run x n steps rises above every other thread. Without it a thread of
 * low priority never runs while those above it keep coming back from
 * parks: a timed park returns by itself after microseconds of real time,
 * so threads that retry timed waits (a lock_timed loop) are runnable again
 * at nearly every decision, and the one they wait for (the lock holder,
 * between two chaos points of its unlock) waits for ever, which no fair
 * machine does: the time in which their parks expired is time in which
 * it would have run. The run_len guard does not see this, since a park
 * ends each of their runs. Counted in steps, so a replay repeats it. */
static void raise_passed_over(int current)
{
    uint64_t patience = (uint64_t)B.opt.max_run * B.n;
    for (unsigned i = 0; i < B.n; i++)
        if ((int)i != current && runnable(i) && B.steps - B.t[i].ready_since > patience) {
            B.t[i].prio = ++B.ceiling;
            B.t[i].ready_since = B.steps;
        }
}

/* The highest-priority participant that can run, or -1. */
static int choose(int current)
{
    if (B.opt.chooser != NULL)
        return choose_by_chooser(current);
    raise_passed_over(current);
    int best = -1;
    for (unsigned i = 0; i < B.n; i++) {
        int s = B.t[i].status;
        if ((s == ST_READY || s == ST_RUNNING) &&
            (best < 0 || B.t[i].prio > B.t[best].prio))
            best = (int)i;
    }
    return best;
}

static void record(int event, int chosen)
{
    B.steps++;
    uint64_t v = (uint64_t)event << 8 | (uint64_t)(chosen + 1);
    B.hash = (B.hash ^ v) * UINT64_C(0x100000001B3); /* FNV-1a style */
    B.hash ^= B.hash >> 29;
    if (chosen >= 0) {
        B.trace[B.trace_pos] = (uint8_t)chosen;
        B.trace_pos = (B.trace_pos + 1) % PARC_BATON_TRACE;
        if (B.trace_len < PARC_BATON_TRACE)
            B.trace_len++;
        B.t[chosen].ready_since = B.steps;
        if (chosen == B.last) {
            B.t[chosen].run_len++;
        } else {
            if (B.last >= 0)
                B.switches++;
            B.t[chosen].run_len = 1;
            B.last = chosen;
        }
    }
}

/* Give the baton to `next` (or to nobody). */
static void hand_to(int next)
{
    B.holder = next;
    if (next >= 0) {
        B.t[next].status = ST_RUNNING;
        pthread_cond_signal(&B.t[next].wake);
    }
}

static void wait_for_baton(int i)
{
    while (B.holder != i)
        pthread_cond_wait(&B.t[i].wake, &B.mu);
}

/* Is kernel thread `tid` asleep (S: an interruptible wait, such as a
 * futex)? Reads /proc/self/task/<tid>/stat: "pid (comm) S ...". */
static bool asleep(pid_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = 0;
    char *close_paren = strrchr(buf, ')');
    return close_paren != NULL && close_paren[1] == ' ' && close_paren[2] == 'S';
}

/* Wait until every parked thread is asleep or back (pending), then admit
 * the pending ones. Releases B.mu while it waits, so that a returning
 * thread can record itself. */
static void settle(void)
{
    for (unsigned i = 0; i < B.n; i++) {
        int64_t start = 0;
        /* acquire: pairs with the release store in on_unblock() (only
         * the flag itself matters) */
        while (B.t[i].status == ST_BLOCKED &&
               (parc_raw_load(&B.t[i].returning, PARC_ACQUIRE) || !asleep(B.t[i].tid))) {
            int64_t now = parc_now_ns();
            if (start == 0)
                start = now;
            else if (now - start > SETTLE_PATIENCE_NS)
                break;
            pthread_mutex_unlock(&B.mu);
            sched_yield();
            pthread_mutex_lock(&B.mu);
        }
    }
    for (unsigned i = 0; i < B.n; i++)
        if (B.t[i].status == ST_PENDING) {
            B.t[i].status = ST_READY;
            B.t[i].ready_since = B.steps;
        }
}

static bool anyone_parked(void)
{
    for (unsigned i = 0; i < B.n; i++)
        if (B.t[i].status == ST_BLOCKED || B.t[i].status == ST_PENDING)
            return true;
    return false;
}

#ifdef __linux__
#include <linux/futex.h>
#endif

/* Wake the scheduler thread. (B.mu held) Never sleeps. */
static void wake_scheduler(void)
{
    /* relaxed: B.mu orders it; the futex compare in wait_scheduler()
     * catches a bump that comes after the waiter read the count */
    parc_raw_faa(&B.decide_seq, 1u, PARC_RELAXED);
#ifdef __linux__
    syscall(SYS_futex, &B.decide_seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
#endif
}

/* The scheduler thread waits for wake_scheduler(), at most timeout_ns
 * (0: no limit). (B.mu held; released while waiting) */
static void wait_scheduler(int64_t timeout_ns)
{
    uint32_t seq = parc_raw_load(&B.decide_seq, PARC_RELAXED);
    pthread_mutex_unlock(&B.mu);
#ifdef __linux__
    struct timespec ts = { (time_t)(timeout_ns / PARC_NS_PER_S),
                           (long)(timeout_ns % PARC_NS_PER_S) };
    syscall(SYS_futex, &B.decide_seq, FUTEX_WAIT_PRIVATE, seq,
            timeout_ns > 0 ? &ts : NULL, NULL, 0);
#else
    (void)seq;
    (void)timeout_ns;
    sched_yield(); /* elsewhere: poll */
#endif
    pthread_mutex_lock(&B.mu);
}

/* The scheduler thread: decides whenever nobody holds the baton. */
static void *scheduler_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&B.mu);
    while (!B.scheduler_quit) {
        if (B.holder < 0 && B.entered == B.n && B.done < B.n) {
            settle();
            int next = choose(-1);
            if (next >= 0) {
                record(B.steps == 0 ? EV_START : EV_DECIDE, next);
                hand_to(next);
                continue;
            }
            /* Everyone is asleep in the kernel: only a timed wait can end
             * it; look again soon (parc_baton_stuck() judges hangs). */
            wait_scheduler(PARC_NS_PER_MS);
        } else {
            wait_scheduler(0);
        }
    }
    pthread_mutex_unlock(&B.mu);
    return NULL;
}

/* ---- the chaos hooks -------------------------------------------------------- */

static void on_point(void *ctx)
{
    (void)ctx;
    int i = my_index;
    if (i < 0)
        return;
    pthread_mutex_lock(&B.mu);
    if (B.holder != i) {
        /* a chaos point between block and unblock (the condvar park
         * back-end reads the word there): not a scheduling step */
        pthread_mutex_unlock(&B.mu);
        return;
    }
    /* PCT change points: the running thread drops below every initial
     * priority (d-1, d-2, ..., 1). */
    while (B.next_change < B.changes && B.change[B.next_change] <= B.steps + 1) {
        B.t[i].prio = (int64_t)(B.changes - B.next_change);
        B.next_change++;
    }
    /* Starvation guard: a thread that ran max_run steps in a row (a spin
     * loop waiting for a thread of lower priority) goes below everyone. */
    if (B.last == i && B.t[i].run_len >= B.opt.max_run)
        B.t[i].prio = --B.floor;
    if ((B.steps + 1) % SETTLE_EVERY == 0 && anyone_parked())
        settle();
    int next = choose(i);
    record(EV_POINT, next);
    if (next != i) {
        B.t[i].status = ST_READY;
        hand_to(next);
        wait_for_baton(i);
    }
    pthread_mutex_unlock(&B.mu);
}

static void on_block(void *ctx)
{
    (void)ctx;
    int i = my_index;
    if (i < 0)
        return;
    pthread_mutex_lock(&B.mu);
    B.parks++;
    B.t[i].status = ST_BLOCKED;
    /* relaxed: B.mu orders it against the settle loop */
    parc_raw_store(&B.t[i].returning, false, PARC_RELAXED);
    record(EV_BLOCK, -1);
    /* the scheduler thread settles this thread (asleep or back) before
     * it picks the next holder */
    B.holder = -1;
    wake_scheduler();
    pthread_mutex_unlock(&B.mu);
}

static void on_unblock(void *ctx)
{
    (void)ctx;
    int i = my_index;
    if (i < 0)
        return;
    /* release: tells a settle loop that this thread is no longer parked,
     * even if it now sleeps on B.mu (the flag is all it publishes) */
    parc_raw_store(&B.t[i].returning, true, PARC_RELEASE);
    pthread_mutex_lock(&B.mu);
    /* runnable from the next settle point on */
    B.t[i].status = ST_PENDING;
    wake_scheduler();
    wait_for_baton(i);
    pthread_mutex_unlock(&B.mu);
    /* weak: whoever woke it is unknown; it acquires everyone's clock */
    if (B.opt.weak)
        parc_weak_sync_all();
}

static const parc_chaos_hooks_t baton_hooks = { on_point, on_block, on_unblock, NULL };

/* ---- building blocks --------------------------------------------------------- */

int parc_baton_begin(unsigned threads, const parc_baton_options_t *opt)
{
    if (!parc_chaos_compiled())
        return ENOTSUP;
    parc_baton_options_t o = { 0 };
    if (opt != NULL)
        o = *opt;
    if (threads == 0 || threads > PARC_BATON_MAX_THREADS || o.depth > BATON_MAX_DEPTH ||
        o.hang_ns < 0 || (o.weak && !parc_weak_compiled()))
        return EINVAL;
    if (o.seed == 0)
        o.seed = 1;
    if (o.depth == 0)
        o.depth = 3;
    if (o.expected_steps == 0)
        o.expected_steps = 2000;
    if (o.max_run == 0)
        o.max_run = 200;
    if (o.hang_ns == 0)
        o.hang_ns = 10 * PARC_NS_PER_S;

    pthread_mutex_lock(&B.mu);
    if (B.active) {
        pthread_mutex_unlock(&B.mu);
        return EBUSY;
    }
    B.active = true;
    B.hung = false;
    B.opt = o;
    B.n = threads;
    B.entered = B.done = 0;
    B.holder = B.last = -1;
    B.floor = 0;
    B.ceiling = (int64_t)(o.depth + threads - 1); /* the initial d .. d+n-1 are below */
    B.steps = B.switches = B.parks = 0;
    B.hash = UINT64_C(0xCBF29CE484222325);
    B.trace_len = B.trace_pos = 0;
    B.watch_steps = 0;
    B.watch_ns = parc_now_ns();

    /* Everything random is drawn here, from the seed alone. */
    uint64_t rng = o.seed;
    /* distinct initial priorities d .. d+n-1 in random order */
    for (unsigned i = 0; i < threads; i++) {
        pthread_cond_init(&B.t[i].wake, NULL);
        parc_atomic_init(&B.t[i].returning, false);
        B.t[i].status = ST_ABSENT;
        B.t[i].run_len = 0;
        B.t[i].ready_since = 0;
        B.t[i].prio = (int64_t)(o.depth + i);
    }
    for (unsigned i = threads - 1; i > 0; i--) {
        unsigned j = (unsigned)(splitmix64(&rng) % (i + 1));
        int64_t tmp = B.t[i].prio;
        B.t[i].prio = B.t[j].prio;
        B.t[j].prio = tmp;
    }
    /* d-1 change points in [1, k], sorted */
    B.changes = o.depth - 1;
    for (unsigned c = 0; c < B.changes; c++)
        B.change[c] = 1 + splitmix64(&rng) % o.expected_steps;
    for (unsigned a = 1; a < B.changes; a++)
        for (unsigned b = a; b > 0 && B.change[b - 1] > B.change[b]; b--) {
            uint64_t tmp = B.change[b];
            B.change[b] = B.change[b - 1];
            B.change[b - 1] = tmp;
        }
    B.next_change = 0;
    B.scheduler_quit = false;
    parc_atomic_init(&B.decide_seq, 0u);
    int err = o.weak ? parc_weak_begin(threads, o.seed) : 0;
    if (err == 0 && o.weak)
        parc_weak_set_chooser(o.chooser, o.chooser_ctx);
    if (err == 0) {
        err = pthread_create(&B.scheduler, NULL, scheduler_main, NULL);
        if (err != 0 && o.weak)
            parc_weak_end(NULL);
    }
    if (err != 0) {
        for (unsigned i = 0; i < threads; i++)
            pthread_cond_destroy(&B.t[i].wake);
        B.active = false;
        pthread_mutex_unlock(&B.mu);
        return EAGAIN;
    }
    pthread_mutex_unlock(&B.mu);
    parc_chaos_set_hooks(&baton_hooks);
    return 0;
}

/* All participants may be in: let the scheduler thread make the first
 * choice. (B.mu held) */
static void maybe_start(void)
{
    if (B.n > 0 && B.entered == B.n)
        wake_scheduler();
}

int parc_baton_enter(unsigned index)
{
    pthread_mutex_lock(&B.mu);
    if (!B.active || index >= B.n || B.t[index].status != ST_ABSENT || my_index >= 0) {
        pthread_mutex_unlock(&B.mu);
        return EINVAL;
    }
    my_index = (int)index;
    if (B.opt.weak)
        parc_weak_thread_enter(index);
    B.t[index].tid = (pid_t)syscall(SYS_gettid);
    B.t[index].status = ST_READY;
    B.entered++;
    maybe_start();
    wait_for_baton((int)index);
    pthread_mutex_unlock(&B.mu);
    return 0;
}

void parc_baton_exit(void)
{
    int i = my_index;
    if (i < 0)
        return;
    parc_weak_thread_exit();
    pthread_mutex_lock(&B.mu);
    B.t[i].status = ST_DONE;
    B.done++;
    record(EV_EXIT, -1);
    B.holder = -1;
    wake_scheduler();
    my_index = -1;
    pthread_cond_broadcast(&B.all_done);
    pthread_mutex_unlock(&B.mu);
}

static void fill_result(parc_baton_result_t *res)
{
    memset(res, 0, sizeof *res);
    res->steps = B.steps;
    res->switches = B.switches;
    res->parks = B.parks;
    res->schedule_hash = B.hash;
    res->hang = B.hung;
    res->trace_len = B.trace_len;
    unsigned first = (B.trace_pos + PARC_BATON_TRACE - B.trace_len) % PARC_BATON_TRACE;
    for (unsigned k = 0; k < B.trace_len; k++)
        res->trace[k] = B.trace[(first + k) % PARC_BATON_TRACE];
}

int parc_baton_end(parc_baton_result_t *res)
{
    pthread_mutex_lock(&B.mu);
    if (res != NULL)
        fill_result(res);
    if (B.hung || B.done < B.entered) {
        /* Threads are stuck inside the run: keep the hooks (they still
         * hold those threads) and the run (no new one may start). */
        B.hung = true;
        pthread_mutex_unlock(&B.mu);
        return EDEADLK;
    }
    B.scheduler_quit = true;
    wake_scheduler();
    pthread_mutex_unlock(&B.mu);
    pthread_join(B.scheduler, NULL);
    pthread_mutex_lock(&B.mu);
    if (B.opt.weak) {
        parc_weak_stats_t ws;
        parc_weak_end(&ws);
        parc_weak_set_chooser(NULL, NULL);
        if (res != NULL) {
            res->weak_loads = ws.loads;
            res->weak_stale = ws.stale;
        }
    }
    B.active = false;
    for (unsigned i = 0; i < B.n; i++)
        pthread_cond_destroy(&B.t[i].wake);
    B.n = 0;
    pthread_mutex_unlock(&B.mu);
    parc_chaos_set_hooks(NULL);
    return 0;
}

bool parc_baton_stuck(void)
{
    pthread_mutex_lock(&B.mu);
    bool stuck = false;
    int64_t now = parc_now_ns();
    if (!B.active || (B.entered == B.n && B.done == B.n)) {
        stuck = false;
    } else if (B.steps != B.watch_steps) {
        B.watch_steps = B.steps;
        B.watch_ns = now;
    } else if (now - B.watch_ns > B.opt.hang_ns) {
        stuck = true;
        B.hung = true;
    }
    pthread_mutex_unlock(&B.mu);
    return stuck;
}

/* ---- all in one --------------------------------------------------------------- */

typedef struct bt_start {
    parc_baton_fn fn;
    void *arg;
    unsigned index;
} bt_start_t;

static void *participant(void *p)
{
    bt_start_t *s = p;
    parc_chaos_thread_begin(s->index);
    if (parc_baton_enter(s->index) == 0) {
        s->fn(s->index, s->arg);
        parc_baton_exit();
    }
    return NULL;
}

static void print_state(FILE *out)
{
    static const char *names[] = { "absent", "ready", "running", "parked",
                                   "back from park", "done" };
    pthread_mutex_lock(&B.mu);
    fprintf(out, "  baton holder: %d; threads:", B.holder);
    for (unsigned i = 0; i < B.n; i++)
        fprintf(out, " T%u=%s", i, names[B.t[i].status]);
    fputc('\n', out);
    pthread_mutex_unlock(&B.mu);
}

int parc_baton_run(unsigned threads, parc_baton_fn fn, void *arg,
                   const parc_baton_options_t *opt, parc_baton_result_t *res)
{
    if (fn == NULL)
        return EINVAL;
    int rc = parc_baton_begin(threads, opt);
    if (rc != 0)
        return rc;
    pthread_t tids[PARC_BATON_MAX_THREADS];
    bt_start_t starts[PARC_BATON_MAX_THREADS];
    unsigned started = 0;
    for (; started < threads; started++) {
        starts[started] = (bt_start_t){ fn, arg, started };
        if (pthread_create(&tids[started], NULL, participant, &starts[started]) != 0) {
            rc = EAGAIN;
            break;
        }
    }
    if (started < threads) {
        /* run with the threads we have */
        pthread_mutex_lock(&B.mu);
        B.n = started;
        maybe_start();
        pthread_mutex_unlock(&B.mu);
    }

    bool hung = false;
    pthread_mutex_lock(&B.mu);
    while (B.done < B.n && !hung) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&B.all_done, &B.mu, &ts);
        if (B.done < B.n) {
            pthread_mutex_unlock(&B.mu);
            hung = parc_baton_stuck();
            pthread_mutex_lock(&B.mu);
        }
    }
    pthread_mutex_unlock(&B.mu);

    if (hung) {
        parc_baton_result_t r;
        parc_baton_end(&r);
        fprintf(stderr, "HANG under the baton: no step for %.1f s (every live "
                        "thread parked, or the holder blocked outside parc)\n",
                (double)B.opt.hang_ns / 1e9);
        print_state(stderr);
        parc_baton_print(stderr, &r);
        for (unsigned i = 0; i < started; i++)
            pthread_detach(tids[i]);
        if (res != NULL)
            *res = r;
        return EDEADLK;
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    int end = parc_baton_end(res);
    return rc != 0 ? rc : end;
}

void parc_baton_print(FILE *out, const parc_baton_result_t *res)
{
    if (out == NULL || res == NULL)
        return;
    fprintf(out, "  baton: %" PRIu64 " steps, %" PRIu64 " switches, %" PRIu64
                 " parks, schedule hash %016" PRIx64 "\n",
            res->steps, res->switches, res->parks, res->schedule_hash);
    if (res->trace_len > 0) {
        fprintf(out, "  last %u choices (thread indices, oldest first):", res->trace_len);
        for (unsigned k = 0; k < res->trace_len; k++)
            fprintf(out, " %u", res->trace[k]);
        fputc('\n', out);
    }
}
