/*
 * The loop behind parc_pool_map, parc_pool_starmap, parc_pool_parallel_for
 * and parc_pool_parallel_reduce (parc/pool.h, parc/task_group.h; the
 * reduce's values: parallel_reduce.c).
 *
 * A loop on a pool of P workers runs on at most P threads, the calling
 * thread being one of them (oneTBB's arena: the thread that starts an
 * algorithm takes one of its slots and works; OpenMP's team counts its
 * master likewise). So the caller starts at once, with no hand-off to a
 * sleeping worker, and P runnable threads never become P + 1 on P cores,
 * where a participant preempted in the middle of a piece would hold up
 * the end of the loop.
 *
 * The range is cut into `units` (one element, or a chunk of `chunksize`
 * elements; larger when there are more than 2^32 of them) and dealt
 * evenly to P_eff = min(P, units) slots, one per participant: the caller
 * owns slot 0 and P_eff - 1 helper tasks of a task group own the others.
 * A participant takes pieces from the front of its own slot; a
 * participant whose slot is empty steals the back half of another slot's
 * range (a thief, with nothing to do: the load is uneven there), keeps it
 * in its own slot and goes on. With chunksize 0 every piece is a quarter
 * of what is left of the range it is cut from (a share or a stolen half),
 * and at least 1/64 of a first share: the first pieces are about P x 4 in
 * all when nobody steals (few, large: nothing to pay on a balanced loop),
 * finer ones come where thieves had to (a stolen half is cut anew) and
 * towards the end of each share, so that the last piece a thread is busy
 * with while the others have run dry is short. That is the behaviour
 * oneTBB documents for its auto_partitioner (an initial division
 * proportional to the threads, further division of what is stolen);
 * Rayon's adaptive splitter is alike; the shrinking pieces are guided
 * self-scheduling's (Polychronopoulos and Kuck, 1987) within a share.
 * With a chunksize every piece is one chunk, so "a chunk stops at its
 * first failing element" holds as documented.
 *
 * A slot's range is one 64-bit word, hi << 32 | lo (units): its owner
 * takes [lo, lo + piece) with one CAS, a thief [lo + half, hi) with one
 * CAS, so every unit leaves a slot exactly once. No ABA: a non-empty
 * value names units that are in the slot, and units that left never come
 * back, so a value once left never recurs; only the owner stores into
 * its slot (a stolen range over an empty value; empty over what is left
 * right of a failure), and a thief never CASes from an empty value. The
 * slots are cache lines of their own: the owner's takes touch only its
 * line; the writes other threads make are the thieves', one per steal.
 * A thief looks at the slots in turn from its own on, O(P) reads per
 * steal: not measured beyond 4 threads on the 2-core machine this was
 * written on; a random first victim would spread 64 thieves better.
 * Every slot operation is relaxed: the slot words carry unit numbers,
 * never data. The job and the slots' first values are published to the
 * helpers by the task group's push (release); the elements they wrote,
 * and their error records, are read by the caller after
 * parc_task_group_wait (whose acquire pairs with each helper's finish).
 *
 * A helper that finds every slot empty returns; one that starts after
 * the loop ended finds them empty too. The loop ends when the caller's
 * slot and steals come up empty and the group's wait returns: every
 * helper has returned, so every piece has run (a participant leaves only
 * with no piece in hand). The wait also runs the helpers nobody started
 * (they return at once), so the job on the caller's stack outlives them.
 *
 * Errors: a failing piece records (its first unit, its error) in its
 * participant's slot and lowers `stop` (CAS-min); pieces from `stop` on
 * are skipped, pieces left of it still run, so the lowest failing piece
 * in the end is the first failing one in input order.
 *
 * Rejected: one shared counter of the next chunk (OpenMP's dynamic
 * schedule): every piece of every thread on one line, which 64 cores
 * contend; lazy binary splitting with a task group per split (halve,
 * spawn the right half, join after the wait): a task group per split
 * costs more than a CAS, and an outside caller that runs the root while
 * every worker joins in makes P + 1 threads; static chunks pushed as futures while the
 * caller waits: the caller's core idles and a wake-up precedes the first
 * element; pieces of a fixed quarter share: a thread that runs dry waits
 * up to a quarter share for the last busy one.
 */
#include <stdlib.h>
#include <string.h>

#include "pool_internal.h"
#include "pool_loop.h"

#define LOOP_PIECES 4u  /* a piece is a quarter of what is left... */
#define LOOP_TAIL 64u   /* ...and at least 1/64 of a first share */
#define LOOP_LOCAL_SLOTS 8u /* slots on the caller's stack; more: heap */

typedef struct loop loop_t;

/* JOB_REDUCE: the value of a run of adjacent pieces one participant ran,
 * units [start, end). */
typedef struct loop_seg {
    struct loop_seg *next;
    uint32_t start, end;
    max_align_t value[]; /* value_size bytes */
} loop_seg_t;

typedef struct loop_slot {
    /* hi << 32 | lo, in units; empty when lo >= hi. Its own line. */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) range;
    loop_t *loop;
    unsigned index;
    /* The owner's lowest failing unit and its error (none: err 0). Only
     * the slot's participant writes them; the caller reads them after
     * the group's wait. */
    uint32_t err_unit;
    int err;
    loop_seg_t *segs; /* JOB_REDUCE: the participant's values */
} loop_slot_t;

struct loop {
    const map_job_t *job;
    size_t n;       /* elements */
    size_t unit;    /* elements per unit */
    uint32_t units;
    unsigned nslots;
    bool chunked;   /* a chunksize was given: one unit per piece */
    uint32_t min_piece; /* adaptive: the smallest piece, in units */
    loop_slot_t *slots;
    parc_task_group_t group; /* the helpers */
    /* Units from here on are skipped: a piece at this unit failed. */
    PARC_CACHE_ALIGNED parc_atomic(uint32_t) stop;
    parc_atomic(int) skipped; /* a participant stopped: group cancelled */
};

static uint64_t pack(uint32_t lo, uint32_t hi)
{
    return (uint64_t)hi << 32 | lo;
}

static uint32_t lo_of(uint64_t w)
{
    return (uint32_t)w;
}

static uint32_t hi_of(uint64_t w)
{
    return (uint32_t)(w >> 32);
}

/* The next piece of a range of `len` units: a quarter of it (so the
 * first pieces of the shares are about P x 4 in all), never below
 * `min_piece`; one unit when chunked. */
static uint32_t piece_for(const loop_t *l, uint32_t len)
{
    if (l->chunked)
        return 1;
    uint32_t q = len / LOOP_PIECES + (len % LOOP_PIECES != 0);
    return q > l->min_piece ? q : l->min_piece;
}

/* The owner takes the next piece from the front of its slot. */
static bool take_own(loop_t *l, loop_slot_t *s, uint32_t *lo, uint32_t *hi)
{
    /* relaxed, here and below: unit numbers only (see above) */
    uint64_t w = parc_load(&s->range, PARC_RELAXED);
    for (;;) {
        uint32_t a = lo_of(w), b = hi_of(w);
        if (a >= b)
            return false;
        uint32_t piece = piece_for(l, b - a);
        uint32_t e = b - a > piece ? a + piece : b;
        if (parc_cas_weak(&s->range, &w, pack(e, b), PARC_RELAXED, PARC_RELAXED)) {
            *lo = a;
            *hi = e;
            return true;
        }
    }
}

/* Take the back half (rounded up) of another slot's range, looking from
 * the next slot on. */
static bool steal(loop_t *l, unsigned self, uint32_t *lo, uint32_t *hi)
{
    for (unsigned i = 1; i < l->nslots; i++) {
        loop_slot_t *v = &l->slots[(self + i) % l->nslots];
        uint64_t w = parc_load(&v->range, PARC_RELAXED);
        for (;;) {
            uint32_t a = lo_of(w), b = hi_of(w);
            if (a >= b)
                break;
            uint32_t keep = a + (b - a) / 2;
            if (parc_cas_weak(&v->range, &w, pack(a, keep), PARC_RELAXED, PARC_RELAXED)) {
                *lo = keep;
                *hi = b;
                return true;
            }
        }
    }
    return false;
}

/* JOB_REDUCE: body over [lo, hi) into the value of the participant's
 * current run when the piece extends it (starts at its end), else into a
 * new run's value, a copy of the identity. */
static int reduce_piece(const map_job_t *j, loop_slot_t *s, loop_seg_t **cur,
                        uint32_t a, uint32_t b, size_t lo, size_t hi)
{
    void *value = NULL;
    if (j->value_size > 0) {
        if (*cur == NULL || (*cur)->end != a) {
            loop_seg_t *g = malloc(sizeof *g + j->value_size);
            if (g == NULL)
                return ENOMEM;
            g->start = a;
            memcpy(g->value, j->identity, j->value_size);
            g->next = s->segs;
            s->segs = g;
            *cur = g;
        }
        value = (*cur)->value;
    }
    int rc = j->fn.reduce(j->ctx, j->begin + (int64_t)lo, j->begin + (int64_t)hi,
                          value);
    if (*cur != NULL)
        (*cur)->end = b; /* a failed piece ends the reduce: no join follows */
    return rc;
}

static void run_piece(loop_t *l, loop_slot_t *s, loop_seg_t **cur, uint32_t a,
                      uint32_t b)
{
    size_t lo = (size_t)a * l->unit;
    size_t hi = (size_t)b * l->unit;
    if (hi > l->n || hi < lo) /* the last unit may be short */
        hi = l->n;
    int rc = l->job->kind == JOB_REDUCE ? reduce_piece(l->job, s, cur, a, b, lo, hi)
                                        : parc_pool_job_run_(l->job, lo, hi);
    if (rc == 0)
        return;
    if (s->err == 0 || a < s->err_unit) {
        s->err_unit = a;
        s->err = rc;
    }
    uint32_t stop = parc_load(&l->stop, PARC_RELAXED);
    while (a < stop
           && !parc_cas_weak(&l->stop, &stop, a, PARC_RELAXED, PARC_RELAXED)) {
    }
}

/* Work on slot `self` and steal until every slot is empty. */
static void participate(loop_t *l, unsigned self)
{
    loop_slot_t *s = &l->slots[self];
    loop_seg_t *cur = NULL; /* JOB_REDUCE: the run the last piece went to */
    for (;;) {
        uint32_t a, b;
        if (!take_own(l, s, &a, &b)) {
            if (!steal(l, self, &a, &b))
                return;
            uint32_t piece = piece_for(l, b - a);
            uint32_t e = b - a > piece ? a + piece : b;
            /* Our slot is empty, and a thief never CASes an empty value:
             * a plain store cannot overwrite a steal. */
            if (e < b)
                parc_store(&s->range, pack(e, b), PARC_RELAXED);
            b = e;
        }
        if (a >= parc_load(&l->stop, PARC_RELAXED)) {
            /* Right of a failure: its error decides; drop our rest (all
             * of it lies further right). */
            parc_store(&s->range, pack(0, 0), PARC_RELAXED);
            continue;
        }
        if (parc_task_group_cancelled(&l->group)) {
            parc_store(&l->skipped, 1, PARC_RELAXED); /* read after the wait */
            return;
        }
        run_piece(l, s, &cur, a, b);
    }
}

static int loop_helper(void *arg)
{
    loop_slot_t *s = arg;
    participate(s->loop, s->index);
    return 0;
}

/* JOB_REDUCE: join the participants' values into *result in index order
 * (the runs are disjoint; sorted by their first unit, each starts where
 * the one before ended), freeing them. */
static void reduce_join(const map_job_t *j, loop_slot_t *slots, unsigned nslots,
                        bool join)
{
    loop_seg_t *sorted = NULL;
    for (unsigned i = 0; i < nslots; i++) {
        loop_seg_t *g = slots[i].segs;
        while (g != NULL) {
            loop_seg_t *next = g->next, **at = &sorted;
            /* insertion: a few runs per thread, more only where threads
             * stole much */
            while (*at != NULL && (*at)->start < g->start)
                at = &(*at)->next;
            g->next = *at;
            *at = g;
            g = next;
        }
    }
    while (sorted != NULL) {
        loop_seg_t *next = sorted->next;
        if (join)
            j->join(j->ctx, j->result, sorted->value);
        free(sorted);
        sorted = next;
    }
}

int parc_pool_loop_run_(parc_pool_t *p, const map_job_t *job, size_t n, size_t chunk,
                   size_t min_piece)
{
    if (n == 0)
        return 0;
    pool_worker_t *self = parc_pool_self_();
    bool worker = self != NULL && self->pool == p;
    /* An outside caller is refused as a submission would be; a task of
     * p's (a worker, or a thread running a group task of p) never is. */
    if (!worker && parc_pool_current() != p && !pool_open(p))
        return EPIPE;
    loop_t l = { .job = job, .n = n, .chunked = chunk != 0 };
    l.unit = chunk != 0 ? chunk : 1;
    size_t units = n / l.unit + (n % l.unit != 0);
    if (units > UINT32_MAX) { /* coarser units: a multiple of the chunk */
        size_t m = units / UINT32_MAX + 1;
        l.unit *= m;
        units = n / l.unit + (n % l.unit != 0);
    }
    l.units = (uint32_t)units;
    l.min_piece = 1;
    unsigned nslots = parc_pool_workers(p);
    if (nslots > l.units)
        nslots = l.units;
    loop_slot_t local[LOOP_LOCAL_SLOTS];
    l.slots = local;
    if (nslots > LOOP_LOCAL_SLOTS) {
        l.slots = aligned_alloc(PARC_CACHELINE, nslots * sizeof *l.slots);
        if (l.slots == NULL) { /* fewer helpers, same result */
            l.slots = local;
            nslots = LOOP_LOCAL_SLOTS;
        }
    }
    l.nslots = nslots;
    if (!l.chunked && l.units / nslots / LOOP_TAIL > 1)
        l.min_piece = l.units / nslots / LOOP_TAIL;
    size_t floor_units = min_piece / l.unit + (min_piece % l.unit != 0);
    if (floor_units > l.min_piece)
        l.min_piece = floor_units > UINT32_MAX ? UINT32_MAX : (uint32_t)floor_units;
    for (unsigned i = 0; i < nslots; i++) {
        uint32_t lo = (uint32_t)((uint64_t)l.units * i / nslots);
        uint32_t hi = (uint32_t)((uint64_t)l.units * (i + 1) / nslots);
        parc_atomic_init(&l.slots[i].range, pack(lo, hi));
        l.slots[i].loop = &l;
        l.slots[i].index = i;
        l.slots[i].err_unit = 0;
        l.slots[i].err = 0;
        l.slots[i].segs = NULL;
    }
    parc_atomic_init(&l.stop, UINT32_MAX);
    parc_atomic_init(&l.skipped, 0);
    parc_task_group_init(&l.group, p);
    /* A helper refused (closed meanwhile, no memory) leaves its slot to
     * the others' steals. */
    for (unsigned i = 1; i < nslots; i++)
        if (parc_task_group_run(&l.group, loop_helper, &l.slots[i]) != 0)
            break;
    /* The caller's pieces run as the helpers' do, as tasks of the group
     * (parc_pool_current and parc_task_cancelled answer alike on every
     * participant). */
    parc_task_group_t *outer = parc_task_group_enter_(&l.group);
    participate(&l, 0);
    parc_task_group_leave_(outer);
    int wrc = parc_task_group_wait(&l.group);
    (void)parc_task_group_destroy(&l.group);
    int rc = 0;
    uint32_t first = UINT32_MAX;
    for (unsigned i = 0; i < nslots; i++)
        if (l.slots[i].err != 0 && (rc == 0 || l.slots[i].err_unit < first)) {
            first = l.slots[i].err_unit;
            rc = l.slots[i].err;
        }
    if (rc == 0 && parc_load(&l.skipped, PARC_RELAXED) != 0) /* after the wait */
        rc = wrc != 0 ? wrc : ECANCELED;
    if (job->kind == JOB_REDUCE)
        reduce_join(job, l.slots, nslots, rc == 0);
    if (l.slots != local)
        free(l.slots);
    return rc;
}

int parc_pool_job_run_(const map_job_t *j, size_t lo, size_t hi)
{
    switch (j->kind) {
    case JOB_REDUCE:
        break; /* run_piece calls its body with a value */
    case JOB_FOR:
        return j->fn.range(j->ctx, j->begin + (int64_t)lo,
                           j->begin + (int64_t)hi);
    case JOB_MAP: {
        /* The sizes and pointers in locals: the call through fn could
         * write *j for all the compiler knows, which would reload them
         * for every element. out == NULL (out_size 0): no arithmetic on
         * it at all. */
        parc_pool_map_fn fn = j->fn.map;
        size_t is = j->in_size, os = j->out_size;
        const char *in = j->in + lo * is, *end = j->in + hi * is;
        if (j->out == NULL) {
            for (; in != end; in += is) {
                int rc = fn(in, NULL);
                if (rc != 0)
                    return rc;
            }
            return 0;
        }
        for (char *out = j->out + lo * os; in != end; in += is, out += os) {
            int rc = fn(in, out);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    case JOB_STARMAP: {
        parc_pool_starmap_fn fn = j->fn.star;
        void *ctx = j->ctx;
        size_t is = j->in_size, os = j->out_size;
        const char *in = j->in + lo * is, *end = j->in + hi * is;
        if (j->out == NULL) {
            for (; in != end; in += is) {
                int rc = fn(ctx, in, NULL);
                if (rc != 0)
                    return rc;
            }
            return 0;
        }
        for (char *out = j->out + lo * os; in != end; in += is, out += os) {
            int rc = fn(ctx, in, out);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    }
    return EINVAL;
}

