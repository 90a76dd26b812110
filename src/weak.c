/*
 * parc/weak.h: the C11 store-history model.
 *
 * State: one table of locations (address -> history ring), the
 * participants' vector clocks, the seq_cst clock S, all under one mutex.
 * Under the baton only one participant runs at a time, so the mutex is
 * uncontended; it is there for threads that pass the seam while not
 * holding the baton (a parked thread's back-end, a thread outside the
 * run touching the model's bookkeeping through parc_weak_forget).
 *
 * Memory always holds the mo-latest store: every modelled store and RMW
 * is also performed on memory (RMWs as real atomic RMWs, so that a thread
 * outside the run racing with them loses nothing). Only loads differ from
 * the hardware: they may return an older value.
 *
 * Uses parc_raw_* on the object's bytes (typed by size): the model is the
 * seam, it must not call back into it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "parc/atomic.h"
#include "parc/weak.h"

#define TABLE_BITS 12 /* 4096 chains: cheap to set up for each tiny explored run */
#define TABLE_SIZE (1u << TABLE_BITS)

typedef uint32_t wclock_t; /* one component of a vector clock */

typedef struct wk_store {
    uint64_t value;
    bool everyone;   /* written behind the model: visible to all */
    bool has_rel;    /* rel[] holds a release clock */
    bool rmw;        /* written by a read-modify-write */
    unsigned tid;    /* writer */
    wclock_t seq;    /* writer's clock component at the store */
    /* n components of the release clock, then n "first read by thread u at
     * u's component" entries (0: not read) */
    wclock_t clocks[];
} wk_store_t;

typedef struct wk_loc {
    const void *addr;
    struct wk_loc *next; /* hash chain */
    unsigned size;
    unsigned count;      /* stores kept, oldest first in hist[0] */
    wk_store_t *hist[PARC_WEAK_HISTORY];
} wk_loc_t;

typedef struct wk_thread {
    wclock_t *clock;       /* what this thread has seen happen */
    wclock_t *fence_rel;   /* clock at its last release fence */
    wclock_t *acq_pending; /* release clocks read relaxed, for an acquire fence */
    bool has_fence_rel;
} wk_thread_t;

static struct {
    pthread_mutex_t mu;
    bool active;
    unsigned n;
    uint64_t rng;
    wk_loc_t **table;
    wk_thread_t t[PARC_WEAK_MAX_THREADS];
    wclock_t *sc; /* the seq_cst clock S */
    parc_weak_chooser_fn chooser;
    void *chooser_ctx;
    parc_weak_stats_t stats;
} W = { .mu = PTHREAD_MUTEX_INITIALIZER };

static _Thread_local int my_tid = -1;

bool parc_weak_compiled(void)
{
#ifdef PARC_WEAK
    return true;
#else
    return false;
#endif
}

/* ---- memory, by size ------------------------------------------------------ */

static uint64_t mask_of(size_t size)
{
    return size >= 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * size)) - 1;
}

static uint64_t mem_load(const void *p, size_t size)
{
    void *q = (void *)(uintptr_t)p;
    switch (size) {
    case 1: return parc_raw_load((parc_atomic(uint8_t) *)q, PARC_SEQ_CST);
    case 2: return parc_raw_load((parc_atomic(uint16_t) *)q, PARC_SEQ_CST);
    case 4: return parc_raw_load((parc_atomic(uint32_t) *)q, PARC_SEQ_CST);
    default: return parc_raw_load((parc_atomic(uint64_t) *)q, PARC_SEQ_CST);
    }
}

static void mem_store(void *p, size_t size, uint64_t v)
{
    switch (size) {
    case 1: parc_raw_store((parc_atomic(uint8_t) *)p, (uint8_t)v, PARC_SEQ_CST); break;
    case 2: parc_raw_store((parc_atomic(uint16_t) *)p, (uint16_t)v, PARC_SEQ_CST); break;
    case 4: parc_raw_store((parc_atomic(uint32_t) *)p, (uint32_t)v, PARC_SEQ_CST); break;
    default: parc_raw_store((parc_atomic(uint64_t) *)p, v, PARC_SEQ_CST); break;
    }
}

/* Compare-exchange on memory: true and stores `desired` when it held
 * *seen; else *seen receives what it held. */
static bool mem_cas(void *p, size_t size, uint64_t *seen, uint64_t desired)
{
    switch (size) {
    case 1: {
        uint8_t e = (uint8_t)*seen;
        bool ok = parc_raw_cas((parc_atomic(uint8_t) *)p, &e, (uint8_t)desired,
                               PARC_SEQ_CST, PARC_SEQ_CST);
        *seen = e;
        return ok;
    }
    case 2: {
        uint16_t e = (uint16_t)*seen;
        bool ok = parc_raw_cas((parc_atomic(uint16_t) *)p, &e, (uint16_t)desired,
                               PARC_SEQ_CST, PARC_SEQ_CST);
        *seen = e;
        return ok;
    }
    case 4: {
        uint32_t e = (uint32_t)*seen;
        bool ok = parc_raw_cas((parc_atomic(uint32_t) *)p, &e, (uint32_t)desired,
                               PARC_SEQ_CST, PARC_SEQ_CST);
        *seen = e;
        return ok;
    }
    default:
        return parc_raw_cas((parc_atomic(uint64_t) *)p, seen, desired, PARC_SEQ_CST,
                            PARC_SEQ_CST);
    }
}

static uint64_t apply(int op, uint64_t old, uint64_t v, size_t size)
{
    uint64_t r;
    switch (op) {
    case PARC_WEAK_ADD: r = old + v; break;
    case PARC_WEAK_SUB: r = old - v; break;
    case PARC_WEAK_OR: r = old | v; break;
    case PARC_WEAK_AND: r = old & v; break;
    default: r = v; break;
    }
    return r & mask_of(size);
}

/* A real atomic RMW on memory: the value before it. */
static uint64_t mem_rmw(void *p, size_t size, int op, uint64_t v)
{
    uint64_t seen = mem_load(p, size);
    while (!mem_cas(p, size, &seen, apply(op, seen, v, size)))
        ;
    return seen;
}

/* ---- clocks (W.mu held) -------------------------------------------------- */

static void join(wclock_t *into, const wclock_t *from)
{
    for (unsigned i = 0; i < W.n; i++)
        if (from[i] > into[i])
            into[i] = from[i];
}

static wclock_t *clock_new(void)
{
    return calloc(W.n ? W.n : 1, sizeof(wclock_t));
}

static bool is_acquire(int mo)
{
    return mo == PARC_ACQUIRE || mo == PARC_ACQ_REL || mo == PARC_SEQ_CST ||
           mo == memory_order_consume;
}

static bool is_release(int mo)
{
    return mo == PARC_RELEASE || mo == PARC_ACQ_REL || mo == PARC_SEQ_CST;
}

static uint64_t next_random(void)
{
    /* xorshift64* (Vigna 2016) */
    uint64_t x = W.rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    W.rng = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* ---- histories (W.mu held) ------------------------------------------------ */

static wk_store_t *store_new(uint64_t value)
{
    wk_store_t *s = calloc(1, sizeof *s + 2u * W.n * sizeof(wclock_t));
    if (s == NULL)
        abort(); /* the model cannot go on without it */
    s->value = value;
    return s;
}

static wclock_t *rel_of(wk_store_t *s) { return s->clocks; }
static wclock_t *reads_of(wk_store_t *s) { return s->clocks + W.n; }

static void loc_clear(wk_loc_t *l)
{
    for (unsigned i = 0; i < l->count; i++)
        free(l->hist[i]);
    l->count = 0;
}

static void loc_push(wk_loc_t *l, wk_store_t *s)
{
    if (l->count == PARC_WEAK_HISTORY) {
        free(l->hist[0]);
        memmove(&l->hist[0], &l->hist[1], (PARC_WEAK_HISTORY - 1) * sizeof l->hist[0]);
        l->count--;
    }
    l->hist[l->count++] = s;
}

/* Restart l's history from the value in memory, visible to everyone. */
static void loc_reset(wk_loc_t *l, uint64_t value)
{
    loc_clear(l);
    wk_store_t *s = store_new(value);
    s->everyone = true;
    loc_push(l, s);
}

static size_t hash_addr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 29;
    x *= UINT64_C(0xBF58476D1CE4E5B9);
    return (size_t)(x >> (64 - TABLE_BITS));
}

static wk_loc_t *loc_find(const void *p, bool create)
{
    size_t h = hash_addr(p);
    for (wk_loc_t *l = W.table[h]; l != NULL; l = l->next)
        if (l->addr == p)
            return l;
    if (!create)
        return NULL;
    wk_loc_t *l = calloc(1, sizeof *l);
    if (l == NULL)
        abort();
    l->addr = p;
    l->next = W.table[h];
    W.table[h] = l;
    W.stats.locations++;
    return l;
}

/* The location at p, its history consistent with memory: a location seen
 * for the first time, or written behind the model since, restarts. */
static wk_loc_t *loc_get(const void *p, size_t size)
{
    wk_loc_t *l = loc_find(p, true);
    uint64_t in_memory = mem_load(p, size);
    if (l->count == 0 || l->size != size || l->hist[l->count - 1]->value != in_memory) {
        if (l->count != 0)
            W.stats.resets++;
        l->size = (unsigned)size;
        loc_reset(l, in_memory);
    }
    return l;
}

/* Does store s happen before the current event of thread t? Either its
 * write does, or a read of it does. */
static bool visible(wk_store_t *s, unsigned t)
{
    const wclock_t *c = W.t[t].clock;
    if (s->everyone || s->seq <= c[s->tid])
        return true;
    const wclock_t *reads = reads_of(s);
    for (unsigned u = 0; u < W.n; u++)
        if (reads[u] != 0 && reads[u] <= c[u])
            return true;
    return false;
}

/* ---- events (W.mu held) ---------------------------------------------------- */

/* Start an event of thread t: a new clock component; seq_cst events
 * first acquire S. */
static void event_begin(unsigned t, int mo)
{
    W.t[t].clock[t]++;
    if (mo == PARC_SEQ_CST)
        join(W.t[t].clock, W.sc);
}

static void event_end(unsigned t, int mo)
{
    if (mo == PARC_SEQ_CST)
        join(W.sc, W.t[t].clock);
}

/* What a load of t reading store s acquires. */
static void acquire_from(unsigned t, wk_store_t *s, int mo)
{
    if (!s->has_rel)
        return;
    if (is_acquire(mo))
        join(W.t[t].clock, rel_of(s));
    else
        join(W.t[t].acq_pending, rel_of(s));
}

/* Append t's store of v to l; `read` is the store an RMW read (else NULL). */
static void append_store(unsigned t, wk_loc_t *l, uint64_t v, int mo, wk_store_t *read)
{
    wk_store_t *s = store_new(v);
    s->tid = t;
    s->seq = W.t[t].clock[t];
    if (is_release(mo)) {
        memcpy(rel_of(s), W.t[t].clock, W.n * sizeof(wclock_t));
        s->has_rel = true;
    } else if (W.t[t].has_fence_rel) {
        memcpy(rel_of(s), W.t[t].fence_rel, W.n * sizeof(wclock_t));
        s->has_rel = true;
    }
    /* C11's release sequence (7.17.3p10) goes on through every RMW and
     * through the head's own later stores: a store inherits the release
     * clock of the mo-previous store when it is an RMW or when that store
     * was the same thread's. (Over a mix of threads and RMWs this joins
     * more than the heads whose sequence it continues: more
     * synchronization, never less.) */
    wk_store_t *prev = read != NULL ? read : l->hist[l->count - 1];
    if (prev->has_rel && (read != NULL || prev->rmw || (!prev->everyone && prev->tid == t))) {
        join(rel_of(s), rel_of(prev));
        s->has_rel = true;
    }
    s->rmw = read != NULL;
    loc_push(l, s);
    W.stats.stores++;
}

static bool modelled(void)
{
    return my_tid >= 0 && W.active;
}

/* ---- the seam --------------------------------------------------------------- */

uint64_t parc_weak_load(const void *p, size_t size, int mo)
{
    if (!modelled())
        return mem_load(p, size);
    pthread_mutex_lock(&W.mu);
    unsigned t = (unsigned)my_tid;
    event_begin(t, mo);
    wk_loc_t *l = loc_get(p, size);
    /* oldest readable: the newest store visible to t */
    unsigned floor = l->count - 1;
    while (floor > 0 && !visible(l->hist[floor], t))
        floor--;
    unsigned options = l->count - floor;
    unsigned back = 0; /* how far back from the latest */
    if (options > 1) {
        if (W.chooser != NULL)
            back = W.chooser(W.chooser_ctx, PARC_WEAK_CHOICE_READ, options) % options;
        else if (next_random() & 1u) /* half the loads read the latest */
            back = 1 + (unsigned)(next_random() % (options - 1));
    }
    wk_store_t *s = l->hist[l->count - 1 - back];
    if (back > 0)
        W.stats.stale++;
    W.stats.loads++;
    if (reads_of(s)[t] == 0)
        reads_of(s)[t] = W.t[t].clock[t];
    acquire_from(t, s, mo);
    event_end(t, mo);
    uint64_t v = s->value;
    pthread_mutex_unlock(&W.mu);
    return v;
}

void parc_weak_store(void *p, size_t size, uint64_t v, int mo)
{
    v &= mask_of(size);
    if (!modelled()) {
        mem_store(p, size, v);
        return;
    }
    pthread_mutex_lock(&W.mu);
    unsigned t = (unsigned)my_tid;
    event_begin(t, mo);
    wk_loc_t *l = loc_get(p, size);
    mem_store(p, size, v);
    append_store(t, l, v, mo, NULL);
    event_end(t, mo);
    pthread_mutex_unlock(&W.mu);
}

/* An RMW of t that read the latest store `old_value` of l and wrote
 * `new_value` (memory already holds it). */
static void rmw_record(unsigned t, wk_loc_t *l, uint64_t new_value, int mo)
{
    wk_store_t *read = l->hist[l->count - 1];
    if (reads_of(read)[t] == 0)
        reads_of(read)[t] = W.t[t].clock[t];
    acquire_from(t, read, mo);
    append_store(t, l, new_value, mo, read);
}

uint64_t parc_weak_rmw(void *p, size_t size, int op, uint64_t v, int mo)
{
    if (!modelled())
        return mem_rmw(p, size, op, v);
    pthread_mutex_lock(&W.mu);
    unsigned t = (unsigned)my_tid;
    event_begin(t, mo);
    wk_loc_t *l = loc_get(p, size);
    uint64_t old = mem_rmw(p, size, op, v);
    if (old != l->hist[l->count - 1]->value)
        loc_reset(l, old); /* a thread outside the run got in between */
    rmw_record(t, l, apply(op, old, v, size), mo);
    event_end(t, mo);
    pthread_mutex_unlock(&W.mu);
    return old;
}

bool parc_weak_cas(void *p, size_t size, void *expected, uint64_t desired, int mo_ok,
                   int mo_fail)
{
    uint64_t want = 0;
    memcpy(&want, expected, size);
    desired &= mask_of(size);
    if (!modelled()) {
        bool ok = mem_cas(p, size, &want, desired);
        memcpy(expected, &want, size);
        return ok;
    }
    pthread_mutex_lock(&W.mu);
    unsigned t = (unsigned)my_tid;
    /* the stronger order's S acquisition: which one applies is known only
     * after the compare */
    int mo_begin = (mo_ok == PARC_SEQ_CST || mo_fail == PARC_SEQ_CST) ? PARC_SEQ_CST : mo_ok;
    event_begin(t, mo_begin);
    wk_loc_t *l = loc_get(p, size);
    uint64_t seen = want;
    bool ok = mem_cas(p, size, &seen, desired);
    if (seen != l->hist[l->count - 1]->value)
        loc_reset(l, seen); /* a thread outside the run got in between */
    if (ok) {
        rmw_record(t, l, desired, mo_ok);
    } else {
        /* a failed compare-exchange is a load; it reads the latest */
        wk_store_t *read = l->hist[l->count - 1];
        if (reads_of(read)[t] == 0)
            reads_of(read)[t] = W.t[t].clock[t];
        acquire_from(t, read, mo_fail);
        W.stats.loads++;
        memcpy(expected, &seen, size);
    }
    event_end(t, mo_begin);
    pthread_mutex_unlock(&W.mu);
    return ok;
}

void parc_weak_fence(int mo)
{
    if (!modelled()) {
        /* the real fence: parc_fence() is this function in this build */
        atomic_thread_fence(mo);
        return;
    }
    pthread_mutex_lock(&W.mu);
    unsigned t = (unsigned)my_tid;
    event_begin(t, mo);
    wk_thread_t *me = &W.t[t];
    if (is_acquire(mo))
        join(me->clock, me->acq_pending);
    if (is_release(mo)) {
        memcpy(me->fence_rel, me->clock, W.n * sizeof(wclock_t));
        me->has_fence_rel = true;
    }
    event_end(t, mo);
    pthread_mutex_unlock(&W.mu);
}

void parc_weak_forget(const void *p)
{
    pthread_mutex_lock(&W.mu);
    if (W.active) {
        wk_loc_t *l = loc_find(p, false);
        if (l != NULL)
            loc_clear(l); /* the next access restarts it from memory */
    }
    pthread_mutex_unlock(&W.mu);
}

/* ---- runs ---------------------------------------------------------------------- */

static void free_run(void)
{
    if (W.table != NULL) {
        for (size_t h = 0; h < TABLE_SIZE; h++) {
            wk_loc_t *l = W.table[h];
            while (l != NULL) {
                wk_loc_t *next = l->next;
                loc_clear(l);
                free(l);
                l = next;
            }
        }
        free(W.table);
        W.table = NULL;
    }
    for (unsigned i = 0; i < PARC_WEAK_MAX_THREADS; i++) {
        free(W.t[i].clock);
        free(W.t[i].fence_rel);
        free(W.t[i].acq_pending);
        memset(&W.t[i], 0, sizeof W.t[i]);
    }
    free(W.sc);
    W.sc = NULL;
}

int parc_weak_begin(unsigned threads, uint64_t seed)
{
    if (!parc_weak_compiled())
        return ENOTSUP;
    if (threads == 0 || threads > PARC_WEAK_MAX_THREADS)
        return EINVAL;
    pthread_mutex_lock(&W.mu);
    if (W.active) {
        pthread_mutex_unlock(&W.mu);
        return EBUSY;
    }
    W.n = threads;
    W.table = calloc(TABLE_SIZE, sizeof *W.table);
    W.sc = clock_new();
    bool ok = W.table != NULL && W.sc != NULL;
    for (unsigned i = 0; ok && i < threads; i++) {
        W.t[i].clock = clock_new();
        W.t[i].fence_rel = clock_new();
        W.t[i].acq_pending = clock_new();
        ok = W.t[i].clock && W.t[i].fence_rel && W.t[i].acq_pending;
    }
    if (!ok) {
        free_run();
        pthread_mutex_unlock(&W.mu);
        return ENOMEM;
    }
    W.rng = seed ^ UINT64_C(0x9E3779B97F4A7C15);
    if (W.rng == 0)
        W.rng = 1;
    memset(&W.stats, 0, sizeof W.stats);
    W.active = true;
    pthread_mutex_unlock(&W.mu);
    return 0;
}

void parc_weak_end(parc_weak_stats_t *stats)
{
    pthread_mutex_lock(&W.mu);
    if (stats != NULL)
        *stats = W.stats;
    if (W.active) {
        W.active = false;
        free_run();
    }
    pthread_mutex_unlock(&W.mu);
}

int parc_weak_thread_enter(unsigned index)
{
    pthread_mutex_lock(&W.mu);
    bool ok = W.active && index < W.n;
    pthread_mutex_unlock(&W.mu);
    if (!ok)
        return EINVAL;
    my_tid = (int)index;
    return 0;
}

void parc_weak_thread_exit(void)
{
    my_tid = -1;
}

void parc_weak_sync_all(void)
{
    if (!modelled())
        return;
    pthread_mutex_lock(&W.mu);
    unsigned t = (unsigned)my_tid;
    for (unsigned u = 0; u < W.n; u++)
        join(W.t[t].clock, W.t[u].clock);
    join(W.t[t].clock, W.sc);
    pthread_mutex_unlock(&W.mu);
}

void parc_weak_set_chooser(parc_weak_chooser_fn fn, void *ctx)
{
    pthread_mutex_lock(&W.mu);
    W.chooser = fn;
    W.chooser_ctx = ctx;
    pthread_mutex_unlock(&W.mu);
}
