/*
 * parc-stress --weak --litmus: the classic litmus tests run under the
 * weak-memory model (parc/weak.h) and the baton, their outcome sets
 * checked against C11.
 *
 * Each test says which outcomes C11 forbids (seeing one FAILs), which
 * weak outcomes C11 allows and the model must produce (never seeing one
 * FAILs too: the model would be stronger than it claims), and, for load
 * buffering, an outcome C11 allows that the model cannot produce (its
 * loads never read a store that comes later in the execution): that test
 * reports SKIP, never PASS, and FAILs if the outcome ever shows up.
 *
 * A run: one baton run per seed, every thread walking INSTANCES fresh
 * copies of the state, each copy one instance of the test. The baton's
 * depth and starvation bound vary with the seed so that the threads'
 * steps interleave in many ways, not only one after the other. The actors
 * use parc_load/parc_store: the model sits behind them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parc/atomic.h"
#include "parc/stress_baton.h"
#include "parc/time.h"
#include "parc/weak.h"
#include "explore.h"
#include "weak_modes.h"

#define INSTANCES 64
#define MAX_OUTCOMES 32

typedef struct wl_state {
    parc_atomic(int) x;
    parc_atomic(int) y;
    int r[5];
} wl_state_t;

typedef void (*wl_actor_t)(wl_state_t *s);

typedef struct wl_test {
    const char *name;
    const char *what;
    unsigned threads;
    wl_actor_t actor[4];
    unsigned results;      /* r[0..results-1] form the outcome */
    bool final_x;          /* ... followed by x's final value */
    const char *forbidden; /* comma-separated outcomes C11 forbids */
    const char *required;  /* weak outcomes C11 allows: must be seen */
    const char *beyond;    /* allowed by C11, beyond the model: SKIP */
} wl_test_t;

#define LD(v, mo) parc_load(&s->v, mo)
#define ST(v, val, mo) parc_store(&s->v, val, mo)

/* ---- message passing ---- */
static void mp_w_rlx(wl_state_t *s) { ST(x, 1, PARC_RELAXED); ST(y, 1, PARC_RELAXED); }
static void mp_r_rlx(wl_state_t *s) { s->r[0] = LD(y, PARC_RELAXED); s->r[1] = LD(x, PARC_RELAXED); }
/* release: publishes x; pairs with the acquire load of y */
static void mp_w_ra(wl_state_t *s) { ST(x, 1, PARC_RELAXED); ST(y, 1, PARC_RELEASE); }
/* acquire: pairs with the release store of y */
static void mp_r_ra(wl_state_t *s) { s->r[0] = LD(y, PARC_ACQUIRE); s->r[1] = LD(x, PARC_RELAXED); }
/* release fence before a relaxed store; acquire fence after a relaxed load */
static void mp_w_fence(wl_state_t *s)
{
    ST(x, 1, PARC_RELAXED);
    parc_fence(PARC_RELEASE); /* publishes x to whoever fences after seeing y */
    ST(y, 1, PARC_RELAXED);
}
static void mp_r_fence(wl_state_t *s)
{
    s->r[0] = LD(y, PARC_RELAXED);
    parc_fence(PARC_ACQUIRE); /* pairs with the writer's release fence */
    s->r[1] = LD(x, PARC_RELAXED);
}

/* ---- store buffering ---- */
#define SB(tag, smo, lmo)                                                        \
    static void sb_##tag##_0(wl_state_t *s) { ST(x, 1, smo); s->r[0] = LD(y, lmo); } \
    static void sb_##tag##_1(wl_state_t *s) { ST(y, 1, smo); s->r[1] = LD(x, lmo); }
SB(rlx, PARC_RELAXED, PARC_RELAXED)
SB(ra, PARC_RELEASE, PARC_ACQUIRE)  /* release/acquire do not order a store before a load */
SB(sc, PARC_SEQ_CST, PARC_SEQ_CST)  /* seq_cst: one total order */
static void sb_fence_0(wl_state_t *s)
{
    ST(x, 1, PARC_RELAXED);
    parc_fence(PARC_SEQ_CST); /* store-load order; pairs with the other fence */
    s->r[0] = LD(y, PARC_RELAXED);
}
static void sb_fence_1(wl_state_t *s)
{
    ST(y, 1, PARC_RELAXED);
    parc_fence(PARC_SEQ_CST); /* as above */
    s->r[1] = LD(x, PARC_RELAXED);
}

/* ---- write-to-read causality, release/acquire ---- */
static void wrc_0(wl_state_t *s) { ST(x, 1, PARC_RELAXED); }
static void wrc_1(wl_state_t *s)
{
    s->r[0] = LD(x, PARC_ACQUIRE); /* takes x=1 into this thread's view */
    ST(y, 1, PARC_RELEASE);        /* passes it on; pairs with wrc_2's acquire */
}
static void wrc_2(wl_state_t *s) { s->r[1] = LD(y, PARC_ACQUIRE); s->r[2] = LD(x, PARC_RELAXED); }

/* ---- independent reads of independent writes ---- */
static void iriw_wx(wl_state_t *s) { ST(x, 1, PARC_RELEASE); } /* release: for the readers' acquire */
static void iriw_wy(wl_state_t *s) { ST(y, 1, PARC_RELEASE); } /* as above */
static void iriw_r0(wl_state_t *s) { s->r[0] = LD(x, PARC_ACQUIRE); s->r[1] = LD(y, PARC_ACQUIRE); }
static void iriw_r1(wl_state_t *s) { s->r[2] = LD(y, PARC_ACQUIRE); s->r[3] = LD(x, PARC_ACQUIRE); }
/* seq_cst: the single total order is what is under test */
static void iriw_sc_wx(wl_state_t *s) { ST(x, 1, PARC_SEQ_CST); }
static void iriw_sc_wy(wl_state_t *s) { ST(y, 1, PARC_SEQ_CST); }
static void iriw_sc_r0(wl_state_t *s) { s->r[0] = LD(x, PARC_SEQ_CST); s->r[1] = LD(y, PARC_SEQ_CST); }
static void iriw_sc_r1(wl_state_t *s) { s->r[2] = LD(y, PARC_SEQ_CST); s->r[3] = LD(x, PARC_SEQ_CST); }

/* ---- coherence (relaxed throughout: coherence needs no ordering) ---- */
static void co_w12(wl_state_t *s) { ST(x, 1, PARC_RELAXED); ST(x, 2, PARC_RELAXED); }
static void corr_r(wl_state_t *s) { s->r[0] = LD(x, PARC_RELAXED); s->r[1] = LD(x, PARC_RELAXED); }
static void cowr_0(wl_state_t *s) { ST(x, 1, PARC_RELAXED); s->r[0] = LD(x, PARC_RELAXED); }
static void co_w2(wl_state_t *s) { ST(x, 2, PARC_RELAXED); }
static void coww_r(wl_state_t *s) { s->r[0] = LD(x, PARC_RELAXED); }
static void corw_0(wl_state_t *s) { s->r[0] = LD(x, PARC_RELAXED); ST(x, 1, PARC_RELAXED); }

/* ---- load buffering ---- */
static void lb_0(wl_state_t *s) { s->r[0] = LD(y, PARC_RELAXED); ST(x, 1, PARC_RELAXED); }
static void lb_1(wl_state_t *s) { s->r[1] = LD(x, PARC_RELAXED); ST(y, 1, PARC_RELAXED); }

static const wl_test_t tests[] = {
    { "mp.relaxed", "x=1; y=1 || r0=y; r1=x", 2, { mp_w_rlx, mp_r_rlx }, 2, false,
      "", "10", NULL },
    { "mp.release_acquire", "x=1; y=1 (rel) || r0=y (acq); r1=x", 2, { mp_w_ra, mp_r_ra },
      2, false, "10", "", NULL },
    { "mp.fences", "x=1; fence(rel); y=1 || r0=y; fence(acq); r1=x", 2,
      { mp_w_fence, mp_r_fence }, 2, false, "10", "", NULL },
    { "sb.relaxed", "x=1; r0=y || y=1; r1=x", 2, { sb_rlx_0, sb_rlx_1 }, 2, false, "",
      "00", NULL },
    { "sb.release_acquire", "x=1 (rel); r0=y (acq) || y=1 (rel); r1=x (acq)", 2,
      { sb_ra_0, sb_ra_1 }, 2, false, "", "00", NULL },
    { "sb.seq_cst", "x=1; r0=y || y=1; r1=x, all seq_cst", 2, { sb_sc_0, sb_sc_1 }, 2,
      false, "00", "", NULL },
    { "sb.seq_cst_fences", "x=1; fence(sc); r0=y || y=1; fence(sc); r1=x", 2,
      { sb_fence_0, sb_fence_1 }, 2, false, "00", "", NULL },
    { "wrc.release_acquire", "x=1 || r0=x (acq); y=1 (rel) || r1=y (acq); r2=x", 3,
      { wrc_0, wrc_1, wrc_2 }, 3, false, "110", "", NULL },
    { "iriw.acquire", "x=1 || y=1 || r0=x; r1=y || r2=y; r3=x, acquire loads", 4,
      { iriw_wx, iriw_wy, iriw_r0, iriw_r1 }, 4, false, "", "1010", NULL },
    { "iriw.seq_cst", "the same, all seq_cst", 4,
      { iriw_sc_wx, iriw_sc_wy, iriw_sc_r0, iriw_sc_r1 }, 4, false, "1010", "", NULL },
    { "corr", "x=1; x=2 || r0=x; r1=x", 2, { co_w12, corr_r }, 2, false, "10,20,21", "",
      NULL },
    { "cowr", "x=1; r0=x || x=2", 2, { cowr_0, co_w2 }, 1, false, "0", "", NULL },
    { "coww", "x=1; x=2 || r0=x; final x", 2, { co_w12, coww_r }, 1, true, "01,11,21", "",
      NULL },
    { "corw", "r0=x; x=1 || x=2; final x", 2, { corw_0, co_w2 }, 1, true, "22", "", NULL },
    { "lb.relaxed", "r0=y; x=1 || r1=x; y=1", 2, { lb_0, lb_1 }, 2, false, "", "", "11" },
};

/* ---- running one test ---------------------------------------------------- */

typedef struct wl_run {
    const wl_test_t *test;
    wl_state_t *states;
} wl_run_t;

static void wl_actor(unsigned index, void *arg)
{
    wl_run_t *run = arg;
    for (unsigned k = 0; k < INSTANCES; k++)
        run->test->actor[index](&run->states[k]);
}

typedef struct wl_hist {
    unsigned n;
    char key[MAX_OUTCOMES][8];
    uint64_t count[MAX_OUTCOMES];
} wl_hist_t;

static void tally(wl_hist_t *h, const char *key)
{
    for (unsigned i = 0; i < h->n; i++)
        if (strcmp(h->key[i], key) == 0) {
            h->count[i]++;
            return;
        }
    if (h->n < MAX_OUTCOMES) {
        snprintf(h->key[h->n], sizeof h->key[0], "%s", key);
        h->count[h->n++] = 1;
    }
}

/* Is `key` one of the comma-separated outcomes in `list`? */
static bool listed(const char *list, const char *key)
{
    size_t len = strlen(key);
    for (const char *p = list; p != NULL && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, key, n) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

static uint64_t seen(const wl_hist_t *h, const char *key)
{
    for (unsigned i = 0; i < h->n; i++)
        if (strcmp(h->key[i], key) == 0)
            return h->count[i];
    return 0;
}

/* Run `runs` baton runs of t; fills h. 0 or an errno value. */
static int run_test(const wl_test_t *t, uint64_t seed, unsigned runs, wl_hist_t *h)
{
    wl_state_t *states = calloc(INSTANCES, sizeof *states);
    if (states == NULL)
        return ENOMEM;
    memset(h, 0, sizeof *h);
    int rc = 0;
    for (unsigned r = 0; r < runs && rc == 0; r++) {
        for (unsigned k = 0; k < INSTANCES; k++) {
            parc_atomic_init(&states[k].x, 0);
            parc_atomic_init(&states[k].y, 0);
            memset(states[k].r, 0, sizeof states[k].r);
        }
        uint64_t s = seed + r;
        parc_baton_options_t bo = {
            .seed = s,
            .depth = 1 + (unsigned)(s % 5),
            .expected_steps = 8u * INSTANCES * t->threads,
            .max_run = 1 + (unsigned)((s / 5) % 8),
            .hang_ns = 10 * PARC_NS_PER_S,
            .weak = true,
        };
        wl_run_t run = { t, states };
        rc = parc_baton_run(t->threads, wl_actor, &run, &bo, NULL);
        for (unsigned k = 0; rc == 0 && k < INSTANCES; k++) {
            char key[8];
            unsigned n = 0;
            for (unsigned i = 0; i < t->results; i++)
                key[n++] = (char)('0' + states[k].r[i]);
            if (t->final_x)
                key[n++] = (char)('0' + parc_raw_load(&states[k].x, PARC_RELAXED));
            key[n] = 0;
            tally(h, key);
        }
    }
    free(states);
    return rc;
}

/* Print the histogram and the verdict: 0 PASS, 1 FAIL, 2 SKIP. */
static int judge(const wl_test_t *t, const wl_hist_t *h)
{
    for (unsigned o = 0; o < h->n; o++)
        printf(" %s=%" PRIu64 "%s", h->key[o], h->count[o],
               listed(t->forbidden, h->key[o]) ? "(FORBIDDEN)" :
               listed(t->required, h->key[o]) ? "(weak)" :
               listed(t->beyond, h->key[o]) ? "(BEYOND THE MODEL)" : "");
    putchar('\n');
    bool bad = false;
    for (unsigned o = 0; o < h->n; o++) {
        if (listed(t->forbidden, h->key[o])) {
            printf("  FAIL: C11 forbids %s, seen %" PRIu64 " times\n", h->key[o],
                   h->count[o]);
            bad = true;
        }
        if (t->beyond && listed(t->beyond, h->key[o])) {
            printf("  FAIL: the model claims it cannot produce %s, seen\n", h->key[o]);
            bad = true;
        }
    }
    for (const char *p = t->required; *p;) {
        char want[8];
        size_t n = strcspn(p, ",");
        snprintf(want, sizeof want, "%.*s", (int)n, p);
        if (seen(h, want) == 0) {
            printf("  FAIL: C11 allows %s and the model never produced it\n", want);
            bad = true;
        }
        p += n + (p[n] == ',');
    }
    if (bad)
        return 1;
    if (t->beyond) {
        printf("  SKIP: C11 allows %s, which needs a load to read a store that "
               "comes later in the execution; the model cannot produce it\n",
               t->beyond);
        return 2;
    }
    printf("  PASS\n");
    return 0;
}

static void count(int verdict, unsigned *passed, unsigned *failed, unsigned *skipped)
{
    if (verdict == 0)
        (*passed)++;
    else if (verdict == 2)
        (*skipped)++;
    else
        (*failed)++;
}

static bool wanted(const char *filter, const wl_test_t *t)
{
    char key[160];
    snprintf(key, sizeof key, "litmus/%s", t->name);
    return filter == NULL || strstr(key, filter) != NULL;
}

int stress_mode_litmus_weak(const stress_options_t *opt)
{
    unsigned runs = opt->ops ? (unsigned)(opt->ops / INSTANCES) : 40;
    if (runs == 0)
        runs = 1;
    if (runs > 100000)
        runs = 100000;
    unsigned passed = 0, failed = 0, skipped = 0;
    if (!opt->list)
        printf("parc-stress --weak --litmus: seed 0x%016" PRIx64 ", %u runs x %u "
               "instances per test\n", opt->seed, runs, INSTANCES);
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        const wl_test_t *t = &tests[i];
        if (!wanted(opt->filter, t))
            continue;
        if (opt->list) {
            printf("litmus/%s\n", t->name);
            continue;
        }
        wl_hist_t h;
        int rc = run_test(t, opt->seed, runs, &h);
        printf("litmus %s (%s):", t->name, t->what);
        if (rc != 0) {
            printf(" could not run: %s\n", strerror(rc));
            failed++;
            continue;
        }
        count(judge(t, &h), &passed, &failed, &skipped);
        fflush(stdout);
    }
    if (opt->list)
        return 0;
    printf("\n%u passed, %u failed", passed, failed);
    if (skipped)
        printf(", %u skipped", skipped);
    printf("\n");
    return failed ? 1 : 0;
}

/* ---- exhaustively (explore.h) ------------------------------------------- */

typedef struct wl_explore {
    const wl_test_t *test;
    wl_state_t state;
    wl_hist_t hist;
} wl_explore_t;

static void wl_explore_actor(unsigned index, void *arg)
{
    wl_explore_t *x = arg;
    x->test->actor[index](&x->state);
}

static int wl_explore_one(void *arg, const parc_baton_options_t *bo)
{
    wl_explore_t *x = arg;
    const wl_test_t *t = x->test;
    parc_atomic_init(&x->state.x, 0);
    parc_atomic_init(&x->state.y, 0);
    memset(x->state.r, 0, sizeof x->state.r);
    int rc = parc_baton_run(t->threads, wl_explore_actor, x, bo, NULL);
    if (rc != 0)
        return rc;
    char key[8];
    unsigned n = 0;
    for (unsigned i = 0; i < t->results; i++)
        key[n++] = (char)('0' + x->state.r[i]);
    if (t->final_x)
        key[n++] = (char)('0' + parc_raw_load(&x->state.x, PARC_RELAXED));
    key[n] = 0;
    tally(&x->hist, key);
    return 0;
}

void stress_litmus_weak_explore(const char *filter, unsigned *passed, unsigned *failed,
                                unsigned *skipped)
{
    /* litmus tests are a few operations long: bounds that never bind */
    explore_bounds_t b = { .preemptions = 16, .stale_reads = 16 };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        const wl_test_t *t = &tests[i];
        if (!wanted(filter, t))
            continue;
        wl_explore_t *x = calloc(1, sizeof *x);
        if (x == NULL) {
            (*failed)++;
            continue;
        }
        x->test = t;
        explore_result_t res;
        int rc = explore_run(&b, wl_explore_one, x, &res);
        printf("explore litmus/%s (%s): %" PRIu64 " executions%s%s, outcomes:", t->name,
               t->what, res.executions, res.complete ? " (all)" : " (INCOMPLETE)",
               res.diverged ? " (a replay DIVERGED)" : "");
        if (rc != 0 || res.failure != 0 || !res.complete || res.diverged) {
            printf(" could not finish: %s\n", strerror(rc ? rc : res.failure ? res.failure
                                                                            : EAGAIN));
            (*failed)++;
        } else {
            count(judge(t, &x->hist), passed, failed, skipped);
        }
        fflush(stdout);
        free(x);
    }
}
