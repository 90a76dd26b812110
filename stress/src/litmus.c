/*
 * parc/stress_litmus.h: lockstep rounds over arrays of fresh states.
 *
 * Each round: barrier; every actor walks the whole stride; barrier; each
 * thread tallies and re-initialises its own slice of the stride (so the
 * bookkeeping is parallel too). The harness's synchronization uses
 * parc_raw_* atomics: chaos points there would only slow the rounds.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#endif
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parc/atomic.h"
#include "parc/chaos.h"
#include "parc/stress_litmus.h"
#include "parc/time.h"

const char *parc_litmus_verdict_name(parc_litmus_verdict_t v)
{
    switch (v) {
    case PARC_LITMUS_PASS: return "PASS";
    case PARC_LITMUS_FAIL: return "FAIL";
    case PARC_LITMUS_SKIP: return "SKIP";
    }
    return "?";
}

unsigned parc_litmus_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return (unsigned)n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1u;
}

int parc_litmus_pin(unsigned index)
{
    cpu_set_t allowed, one;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return errno;
    int n = CPU_COUNT(&allowed);
    if (n <= 0)
        return EINVAL;
    int want = (int)(index % (unsigned)n);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &allowed) || want-- > 0)
            continue;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        return pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    }
    return EINVAL;
}

/* ---- a sense-reversing barrier ---------------------------------------------- */

typedef struct lit_barrier {
    PARC_CACHE_ALIGNED parc_atomic(unsigned) arrived;
    PARC_CACHE_ALIGNED parc_atomic(unsigned) sense;
    unsigned parties;
} lit_barrier_t;

static void barrier_wait(lit_barrier_t *b, unsigned *my_sense)
{
    unsigned s = *my_sense ^ 1u;
    *my_sense = s;
    /* acq_rel: release publishes this thread's writes of the round (actor
     * results, fresh states) to the last arriver; acquire takes the others'
     * when this thread is the last. */
    if (parc_raw_faa(&b->arrived, 1u, PARC_ACQ_REL) == b->parties - 1) {
        parc_raw_store(&b->arrived, 0u, PARC_RELAXED);
        /* release: hands everything the arrivers published to the waiters'
         * acquire loads below. */
        parc_raw_store(&b->sense, s, PARC_RELEASE);
        return;
    }
    /* acquire: pairs with the last arriver's release store of the sense. */
    for (unsigned polls = 0; parc_raw_load(&b->sense, PARC_ACQUIRE) != s; polls++) {
        if (polls < 4 * PARC_SPIN_POLLS)
            parc_cpu_relax();
        else
            sched_yield(); /* oversubscribed: let the late actor run */
    }
}

/* ---- the run ---------------------------------------------------------------- */

typedef struct lit_hist {
    unsigned n;
    bool overflow;
    uint64_t key[PARC_LITMUS_MAX_OUTCOMES];
    uint64_t count[PARC_LITMUS_MAX_OUTCOMES];
} lit_hist_t;

typedef struct lit_run {
    const parc_litmus_t *test;
    unsigned char *states;
    size_t slot;         /* bytes per state, aligned */
    unsigned stride;
    uint64_t max_rounds;
    parc_deadline_t deadline;
    lit_barrier_t barrier;
    PARC_CACHE_ALIGNED parc_atomic(unsigned) stop; /* set by thread 0 */
    parc_atomic(unsigned) go;                      /* every actor exists */
    uint64_t rounds;     /* thread 0's count; read after join */
} lit_run_t;

typedef struct lit_worker {
    lit_run_t *run;
    unsigned index;
    lit_hist_t hist;
} lit_worker_t;

static void *state_at(const lit_run_t *run, unsigned i)
{
    return run->states + (size_t)i * run->slot;
}

static void fresh(const lit_run_t *run, void *state)
{
    if (run->test->init != NULL)
        run->test->init(state);
    else
        memset(state, 0, run->test->state_size);
}

static void tally(lit_hist_t *h, uint64_t key)
{
    for (unsigned i = 0; i < h->n; i++) {
        if (h->key[i] == key) {
            h->count[i]++;
            return;
        }
    }
    if (h->n == PARC_LITMUS_MAX_OUTCOMES) {
        h->overflow = true;
        return;
    }
    h->key[h->n] = key;
    h->count[h->n++] = 1;
}

static void *worker_main(void *arg)
{
    lit_worker_t *w = arg;
    lit_run_t *run = w->run;
    const parc_litmus_t *test = run->test;
    void (*actor)(void *) = test->actor[w->index];
    unsigned n = test->threads;
    unsigned lo = (unsigned)((uint64_t)run->stride * w->index / n);
    unsigned hi = (unsigned)((uint64_t)run->stride * (w->index + 1) / n);
    unsigned sense = 0;
    parc_chaos_thread_begin(200u + w->index);
    /* distinct CPUs: actors that share one never race (best effort) */
    (void)parc_litmus_pin(w->index);
    /* acquire: pairs with the release store of `go` in parc_litmus_run() */
    while (!parc_raw_load(&run->go, PARC_ACQUIRE))
        sched_yield();
    /* relaxed: ordered by `go` */
    if (parc_raw_load(&run->stop, PARC_RELAXED))
        return NULL; /* another actor could not be started */
    for (;;) {
        barrier_wait(&run->barrier, &sense);
        /* relaxed: thread 0 stored it before the barrier, which orders it */
        if (parc_raw_load(&run->stop, PARC_RELAXED))
            return NULL;
        for (unsigned i = 0; i < run->stride; i++)
            actor(state_at(run, i));
        barrier_wait(&run->barrier, &sense);
        for (unsigned i = lo; i < hi; i++) {
            void *s = state_at(run, i);
            tally(&w->hist, test->outcome(s));
            fresh(run, s);
        }
        if (w->index == 0) {
            run->rounds++;
            if (run->rounds >= run->max_rounds || parc_deadline_passed(run->deadline))
                /* relaxed: published to the others by the next barrier */
                parc_raw_store(&run->stop, 1u, PARC_RELAXED);
        }
    }
}

static void merge(parc_litmus_result_t *res, const lit_hist_t *h, bool *overflow)
{
    *overflow |= h->overflow;
    for (unsigned i = 0; i < h->n; i++) {
        unsigned j = 0;
        while (j < res->outcomes && res->outcome[j].key != h->key[i])
            j++;
        if (j == res->outcomes) {
            if (j == PARC_LITMUS_MAX_OUTCOMES) {
                *overflow = true;
                continue;
            }
            res->outcome[j].key = h->key[i];
            res->outcome[j].count = 0;
            res->outcomes++;
        }
        res->outcome[j].count += h->count[i];
    }
}

int parc_litmus_run(const parc_litmus_t *test, const parc_litmus_options_t *opt,
                    parc_litmus_result_t *res)
{
    if (test == NULL || res == NULL || test->threads < 2 ||
        test->threads > PARC_LITMUS_MAX_THREADS || test->state_size == 0 ||
        test->outcome == NULL || test->grade == NULL)
        return EINVAL;
    for (unsigned t = 0; t < test->threads; t++)
        if (test->actor[t] == NULL)
            return EINVAL;
    parc_litmus_options_t o = { 0 };
    if (opt != NULL)
        o = *opt;
    if (o.samples == 0)
        o.samples = 2000000;
    if (o.stride == 0)
        o.stride = 4096;
    if (o.duration_ns < 0)
        return EINVAL;

    memset(res, 0, sizeof *res);
    lit_run_t run;
    memset(&run, 0, sizeof run);
    run.test = test;
    run.stride = o.stride;
    run.max_rounds = (o.samples + o.stride - 1) / o.stride;
    run.deadline = PARC_FOREVER;
    if (o.duration_ns > 0)
        parc_deadline_in(&run.deadline, o.duration_ns);
    /* each state aligned for any type the user may put in it */
    size_t align = _Alignof(max_align_t);
    run.slot = (test->state_size + align - 1) / align * align;
    run.states = aligned_alloc(PARC_CACHELINE,
                               (run.slot * o.stride + PARC_CACHELINE - 1) /
                                   PARC_CACHELINE * PARC_CACHELINE);
    if (run.states == NULL)
        return ENOMEM;
    for (unsigned i = 0; i < o.stride; i++)
        fresh(&run, state_at(&run, i));
    parc_atomic_init(&run.barrier.arrived, 0u);
    parc_atomic_init(&run.barrier.sense, 0u);
    run.barrier.parties = test->threads;
    parc_atomic_init(&run.stop, 0u);
    parc_atomic_init(&run.go, 0u);

    lit_worker_t workers[PARC_LITMUS_MAX_THREADS];
    pthread_t tids[PARC_LITMUS_MAX_THREADS];
    memset(workers, 0, sizeof workers);
    int64_t start = parc_now_ns();
    unsigned started = 0;
    int rc = 0;
    for (; started < test->threads; started++) {
        workers[started].run = &run;
        workers[started].index = started;
        if (pthread_create(&tids[started], NULL, worker_main, &workers[started]) != 0) {
            rc = EAGAIN;
            break;
        }
    }
    if (rc != 0)
        /* relaxed: published by the release store of `go` below */
        parc_raw_store(&run.stop, 1u, PARC_RELAXED);
    /* release: the actors start (or, after a failed start, leave) only
     * once every thread exists; pairs with the acquire in worker_main(). */
    parc_raw_store(&run.go, 1u, PARC_RELEASE);
    for (unsigned t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    res->elapsed_ns = parc_now_ns() - start;
    free(run.states);
    if (rc != 0)
        return rc;

    bool overflow = false;
    for (unsigned t = 0; t < test->threads; t++)
        merge(res, &workers[t].hist, &overflow);
    res->samples = run.rounds * o.stride;
    res->cpus = parc_litmus_cpus();
    for (unsigned j = 0; j < res->outcomes; j++) {
        res->outcome[j].grade = test->grade(res->outcome[j].key);
        if (res->outcome[j].grade == PARC_LITMUS_FORBIDDEN)
            res->forbidden += res->outcome[j].count;
        else if (res->outcome[j].grade == PARC_LITMUS_INTERESTING)
            res->interesting += res->outcome[j].count;
    }
    if (res->forbidden > 0)
        res->verdict = PARC_LITMUS_FAIL;
    else if (test->threads > res->cpus)
        res->verdict = PARC_LITMUS_SKIP;
    else
        res->verdict = PARC_LITMUS_PASS;
    return overflow ? EOVERFLOW : 0;
}

static const char *grade_name(parc_litmus_grade_t g)
{
    switch (g) {
    case PARC_LITMUS_ACCEPTABLE: return "acceptable";
    case PARC_LITMUS_INTERESTING: return "interesting";
    case PARC_LITMUS_FORBIDDEN: return "FORBIDDEN";
    }
    return "?";
}

void parc_litmus_print(FILE *out, const parc_litmus_t *test,
                       const parc_litmus_result_t *res)
{
    if (out == NULL || test == NULL || res == NULL)
        return;
    fprintf(out, "litmus %s: %u actors on %u cpus, %" PRIu64 " samples in %.2f s\n",
            test->name ? test->name : "?", test->threads, res->cpus, res->samples,
            (double)res->elapsed_ns / 1e9);
    for (unsigned j = 0; j < res->outcomes; j++) {
        char label[64];
        if (test->describe != NULL)
            test->describe(res->outcome[j].key, label, sizeof label);
        else
            snprintf(label, sizeof label, "%" PRIu64, res->outcome[j].key);
        double pct = res->samples ? 100.0 * (double)res->outcome[j].count /
                                        (double)res->samples : 0.0;
        fprintf(out, "  %-24s %12" PRIu64 "  %8.4f%%  %s\n", label,
                res->outcome[j].count, pct, grade_name(res->outcome[j].grade));
    }
    switch (res->verdict) {
    case PARC_LITMUS_FAIL:
        fprintf(out, "  FAIL: a forbidden outcome was seen %" PRIu64 " times\n",
                res->forbidden);
        break;
    case PARC_LITMUS_SKIP:
        fprintf(out, "  SKIP: %u actors but only %u cpus: they never ran truly in "
                     "parallel (no forbidden outcome in %" PRIu64 " samples)\n",
                test->threads, res->cpus, res->samples);
        break;
    case PARC_LITMUS_PASS:
        fprintf(out, "  PASS: no forbidden outcome in %" PRIu64 " samples "
                     "(%" PRIu64 " interesting)\n", res->samples, res->interesting);
        break;
    }
}

/* ---- registration ------------------------------------------------------------ */

static const parc_litmus_t **registered;
static size_t registered_count;

int parc_litmus_register(const parc_litmus_t *test)
{
    if (test == NULL || test->threads < 2 || test->threads > PARC_LITMUS_MAX_THREADS ||
        test->state_size == 0 || test->outcome == NULL || test->grade == NULL)
        return EINVAL;
    for (unsigned t = 0; t < test->threads; t++)
        if (test->actor[t] == NULL)
            return EINVAL;
    const parc_litmus_t **grown =
        realloc(registered, (registered_count + 1) * sizeof *grown);
    if (grown == NULL)
        return ENOMEM;
    registered = grown;
    registered[registered_count++] = test;
    return 0;
}

size_t parc_litmus_registered(const parc_litmus_t *const **tests)
{
    *tests = registered;
    return registered_count;
}
