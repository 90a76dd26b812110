/*
 * parc/stress_lincheck.h: the Wing–Gong search with a failure cache, and
 * the recorder. The scenario runner is in lincheck_run.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "parc/stress_lincheck.h"

const char *parc_lc_kind_name(parc_lc_kind_t kind)
{
    switch (kind) {
    case PARC_LC_FIFO: return "fifo";
    case PARC_LC_LIFO: return "lifo";
    case PARC_LC_COUNTER: return "counter";
    case PARC_LC_SET: return "set";
    case PARC_LC_RENDEZVOUS: return "rendezvous";
    }
    return "?";
}

const char *parc_lc_opcode_name(parc_lc_opcode_t op)
{
    switch (op) {
    case PARC_LC_PUSH: return "push";
    case PARC_LC_POP: return "pop";
    case PARC_LC_ADD: return "add";
    case PARC_LC_GET: return "get";
    case PARC_LC_REMOVE: return "remove";
    case PARC_LC_CONTAINS: return "contains";
    }
    return "?";
}

/* ---- model state ---------------------------------------------------------- */

/* Containers hold small value ids (1..n, the distinct pushed values), sets
 * a bit per value id, counters their value. */
typedef struct lc_state {
    uint32_t len;
    uint64_t word;                  /* counter value or set bits */
    uint8_t items[PARC_LC_MAX_OPS]; /* FIFO: oldest first; LIFO: bottom first */
} lc_state_t;

/* One cached configuration: each thread's linearized prefix + state. */
typedef struct lc_key {
    uint32_t counts; /* 8 bits per thread */
    lc_state_t state;
} lc_key_t;

typedef struct lc_slot {
    uint64_t hash; /* 0 = empty */
    lc_key_t key;
} lc_slot_t;

typedef struct lc_search {
    const parc_lc_history_t *h;
    const parc_lc_model_t *m;
    unsigned total;
    /* per operation: its value id (PUSH/POP/ADD/REMOVE/CONTAINS on
     * containers and sets; 0 = a value nobody pushed) */
    uint8_t id[PARC_LC_MAX_THREADS][PARC_LC_MAX_OPS_PER_THREAD];
    /* per operation: some PUSH (POP) runs concurrently with it */
    bool push_in_flight[PARC_LC_MAX_THREADS][PARC_LC_MAX_OPS_PER_THREAD];
    bool pop_in_flight[PARC_LC_MAX_THREADS][PARC_LC_MAX_OPS_PER_THREAD];
    uint32_t counts[PARC_LC_MAX_THREADS];
    lc_slot_t *table;
    size_t table_size; /* power of two */
    size_t table_used;
    bool cache_full;   /* allocation failed while growing: stop caching */
    parc_lc_stats_t stats;
} lc_search_t;

static uint32_t pack_counts(const lc_search_t *s)
{
    uint32_t c = 0;
    for (unsigned t = 0; t < s->h->threads; t++)
        c |= s->counts[t] << (8 * t);
    return c;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + UINT64_C(0x9E3779B97F4A7C15) + (h << 6) + (h >> 2);
    return h * UINT64_C(0xBF58476D1CE4E5B9);
}

static uint64_t key_hash(const lc_key_t *k)
{
    uint64_t h = mix(mix(mix(1, k->counts), k->state.len), k->state.word);
    for (uint32_t i = 0; i < k->state.len; i++)
        h = mix(h, k->state.items[i]);
    return h ? h : 1;
}

static bool key_equal(const lc_key_t *a, const lc_key_t *b)
{
    return a->counts == b->counts && a->state.len == b->state.len &&
           a->state.word == b->state.word &&
           memcmp(a->state.items, b->state.items, a->state.len) == 0;
}

static void make_key(const lc_search_t *s, const lc_state_t *st, lc_key_t *k)
{
    memset(k, 0, sizeof *k);
    k->counts = pack_counts(s);
    k->state.len = st->len;
    k->state.word = st->word;
    memcpy(k->state.items, st->items, st->len);
}

static bool cache_has(lc_search_t *s, const lc_key_t *k, uint64_t hash)
{
    size_t mask = s->table_size - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        if (s->table[i].hash == 0)
            return false;
        if (s->table[i].hash == hash && key_equal(&s->table[i].key, k))
            return true;
    }
}

static void cache_put_slot(lc_slot_t *table, size_t size, const lc_key_t *k,
                           uint64_t hash)
{
    size_t mask = size - 1;
    size_t i = hash & mask;
    while (table[i].hash != 0)
        i = (i + 1) & mask;
    table[i].hash = hash;
    table[i].key = *k;
}

static void cache_put(lc_search_t *s, const lc_key_t *k, uint64_t hash)
{
    if (s->cache_full)
        return;
    if (2 * (s->table_used + 1) > s->table_size) {
        size_t size = 2 * s->table_size;
        lc_slot_t *bigger = calloc(size, sizeof *bigger);
        if (bigger == NULL) {
            /* Correct without a cache, only slower. */
            s->cache_full = true;
            return;
        }
        for (size_t i = 0; i < s->table_size; i++)
            if (s->table[i].hash != 0)
                cache_put_slot(bigger, size, &s->table[i].key, s->table[i].hash);
        free(s->table);
        s->table = bigger;
        s->table_size = size;
    }
    cache_put_slot(s->table, s->table_size, k, hash);
    s->table_used++;
}

/* ---- one sequential step ------------------------------------------------ */

/* Apply operation (t, i) to *st. Returns false when the model cannot
 * return what was recorded (st is then unspecified). */
static bool step(const lc_search_t *s, unsigned t, unsigned i, lc_state_t *st)
{
    const parc_lc_op_t *op = &s->h->ops[t][i];
    const parc_lc_model_t *m = s->m;
    uint8_t id = s->id[t][i];

    switch (m->kind) {
    case PARC_LC_FIFO:
    case PARC_LC_LIFO:
        if (op->opcode == PARC_LC_PUSH) {
            bool full = m->capacity != 0 && st->len >= m->capacity;
            if (op->rc == EAGAIN)
                return full || ((m->flags & PARC_LC_RELAXED_FULL) &&
                                s->pop_in_flight[t][i]);
            if (op->rc != 0 || full || st->len >= PARC_LC_MAX_OPS)
                return false;
            st->items[st->len++] = id;
            return true;
        }
        if (op->opcode == PARC_LC_POP) {
            if (op->rc == EAGAIN)
                return st->len == 0 || ((m->flags & PARC_LC_RELAXED_EMPTY) &&
                                        s->push_in_flight[t][i]);
            if (op->rc != 0 || st->len == 0 || id == 0)
                return false;
            if (m->kind == PARC_LC_LIFO) {
                if (st->items[st->len - 1] != id)
                    return false;
                st->len--;
            } else {
                if (st->items[0] != id)
                    return false;
                memmove(st->items, st->items + 1, --st->len);
            }
            return true;
        }
        return false;
    case PARC_LC_RENDEZVOUS:
        /* st->len 1: the PUSH (thread, index) in st->word is handing off
         * items[0]; only its POP may come next. */
        if (op->opcode == PARC_LC_PUSH) {
            if (st->len != 0 || (op->rc != 0 && op->rc != EAGAIN))
                return false;
            if (op->rc == 0) {
                st->items[0] = id;
                st->len = 1;
                st->word = ((uint64_t)t << 8) | i;
            }
            return true;
        }
        if (op->opcode == PARC_LC_POP) {
            if (op->rc == EAGAIN)
                return st->len == 0;
            if (op->rc != 0 || st->len != 1 || st->items[0] != id || id == 0)
                return false;
            unsigned pt = (unsigned)(st->word >> 8), pi = (unsigned)(st->word & 0xff);
            /* overlap: the PUSH had not returned when this POP began (so
             * never a thread's own PUSH: program order separates them) */
            if (pt == t || op->seen[pt] > pi)
                return false;
            st->len = 0;
            st->word = 0;
            return true;
        }
        return false;
    case PARC_LC_COUNTER:
        if (op->rc != 0)
            return false;
        if (op->opcode == PARC_LC_GET)
            return op->result == st->word;
        if (op->opcode == PARC_LC_ADD) {
            if (op->result != st->word)
                return false;
            st->word += op->arg;
            return true;
        }
        return false;
    case PARC_LC_SET: {
        uint64_t bit = UINT64_C(1) << (id & 63);
        bool present = (st->word & bit) != 0;
        switch (op->opcode) {
        case PARC_LC_ADD:
            if (op->rc == EEXIST)
                return present;
            if (op->rc != 0 || present)
                return false;
            st->word |= bit;
            return true;
        case PARC_LC_REMOVE:
            if (op->rc == ENOENT)
                return !present;
            if (op->rc != 0 || !present)
                return false;
            st->word &= ~bit;
            return true;
        case PARC_LC_CONTAINS:
            return op->rc == 0 && op->result == (present ? 1u : 0u);
        default:
            return false;
        }
    }
    }
    return false;
}

/* ---- the search ------------------------------------------------------------ */

/* Operation (t, i) is minimal when every operation of the other threads
 * that precedes it is already linearized. */
static bool minimal(const lc_search_t *s, unsigned t, unsigned i)
{
    const parc_lc_op_t *op = &s->h->ops[t][i];
    for (unsigned u = 0; u < s->h->threads; u++)
        if (u != t && op->seen[u] > s->counts[u])
            return false;
    return true;
}

static bool search(lc_search_t *s, const lc_state_t *st, unsigned done)
{
    if (done == s->total)
        return true;
    lc_key_t key;
    make_key(s, st, &key);
    uint64_t hash = key_hash(&key);
    if (cache_has(s, &key, hash)) {
        s->stats.cache_hits++;
        return false;
    }
    for (unsigned t = 0; t < s->h->threads; t++) {
        unsigned i = s->counts[t];
        if (i == s->h->count[t] || !minimal(s, t, i))
            continue;
        lc_state_t next = *st;
        s->stats.steps++;
        if (!step(s, t, i, &next))
            continue;
        s->counts[t]++;
        bool ok = search(s, &next, done + 1);
        s->counts[t]--;
        if (ok)
            return true;
    }
    cache_put(s, &key, hash);
    return false;
}

/* Operations a = (t, i) and b = (u, j) of different threads overlap when
 * neither saw the other complete. */
static bool concurrent(const parc_lc_history_t *h, unsigned t, unsigned i,
                       unsigned u, unsigned j)
{
    return h->ops[u][j].seen[t] <= i && h->ops[t][i].seen[u] <= j;
}

static int validate(const parc_lc_history_t *h)
{
    if (h->threads == 0 || h->threads > PARC_LC_MAX_THREADS)
        return EINVAL;
    for (unsigned t = 0; t < h->threads; t++) {
        if (h->count[t] > PARC_LC_MAX_OPS_PER_THREAD)
            return EINVAL;
        for (unsigned i = 0; i < h->count[t]; i++) {
            const parc_lc_op_t *op = &h->ops[t][i];
            if ((unsigned)op->opcode > PARC_LC_CONTAINS)
                return EINVAL;
            for (unsigned u = 0; u < h->threads; u++) {
                if (u == t)
                    continue;
                if (op->seen[u] > h->count[u])
                    return EINVAL;
                if (i > 0 && op->seen[u] < h->ops[t][i - 1].seen[u])
                    return EINVAL;
            }
        }
    }
    return 0;
}

/* Give each distinct value a small id: containers by PUSH argument (a POP
 * of a value nobody pushed keeps id 0 and can never be explained), sets by
 * argument. */
static int assign_ids(lc_search_t *s)
{
    const parc_lc_history_t *h = s->h;
    uint64_t values[PARC_LC_MAX_OPS];
    unsigned n = 0;
    bool container = s->m->kind == PARC_LC_FIFO || s->m->kind == PARC_LC_LIFO ||
                     s->m->kind == PARC_LC_RENDEZVOUS;
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned t = 0; t < h->threads; t++) {
            for (unsigned i = 0; i < h->count[t]; i++) {
                const parc_lc_op_t *op = &h->ops[t][i];
                uint64_t v;
                bool defines;
                if (container) {
                    if (op->opcode == PARC_LC_PUSH) {
                        v = op->arg;
                        defines = true;
                    } else {
                        v = op->result;
                        defines = false;
                    }
                } else {
                    v = op->arg;
                    defines = true;
                }
                if ((pass == 0) != defines)
                    continue;
                unsigned k = 0;
                while (k < n && values[k] != v)
                    k++;
                if (k == n && defines)
                    values[n++] = v;
                s->id[t][i] = k < n ? (uint8_t)(k + 1) : 0;
            }
        }
    }
    return 0;
}

int parc_lc_check(const parc_lc_history_t *h, const parc_lc_model_t *m,
                  parc_lc_stats_t *stats)
{
    if (h == NULL || m == NULL || (unsigned)m->kind > PARC_LC_RENDEZVOUS)
        return EINVAL;
    int rc = validate(h);
    if (rc != 0)
        return rc;

    lc_search_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return ENOMEM;
    s->h = h;
    s->m = m;
    for (unsigned t = 0; t < h->threads; t++)
        s->total += h->count[t];
    assign_ids(s);
    for (unsigned t = 0; t < h->threads; t++) {
        for (unsigned i = 0; i < h->count[t]; i++) {
            for (unsigned u = 0; u < h->threads; u++) {
                if (u == t)
                    continue;
                for (unsigned j = 0; j < h->count[u]; j++) {
                    if (!concurrent(h, t, i, u, j))
                        continue;
                    if (h->ops[u][j].opcode == PARC_LC_PUSH)
                        s->push_in_flight[t][i] = true;
                    if (h->ops[u][j].opcode == PARC_LC_POP)
                        s->pop_in_flight[t][i] = true;
                }
            }
        }
    }
    s->table_size = 256;
    s->table = calloc(s->table_size, sizeof *s->table);
    if (s->table == NULL) {
        free(s);
        return ENOMEM;
    }
    lc_state_t start;
    memset(&start, 0, sizeof start);
    bool ok = search(s, &start, 0);
    if (stats != NULL)
        *stats = s->stats;
    free(s->table);
    free(s);
    return ok ? 0 : EDOM;
}

/* ---- printing ---------------------------------------------------------------- */

static void print_op(FILE *out, const parc_lc_op_t *op, parc_lc_kind_t kind)
{
    char buf[96];
    switch (op->opcode) {
    case PARC_LC_POP:
    case PARC_LC_GET:
        snprintf(buf, sizeof buf, "%s()", parc_lc_opcode_name(op->opcode));
        break;
    default:
        snprintf(buf, sizeof buf, "%s(%" PRIu64 ")",
                 parc_lc_opcode_name(op->opcode), op->arg);
        break;
    }
    fprintf(out, "%-14s -> ", buf);
    /* a value for operations that return one, "ok" for the others */
    bool returns_value = op->opcode == PARC_LC_POP || op->opcode == PARC_LC_GET ||
                         op->opcode == PARC_LC_CONTAINS ||
                         (op->opcode == PARC_LC_ADD && kind == PARC_LC_COUNTER);
    if (op->rc == 0 && returns_value)
        snprintf(buf, sizeof buf, "%" PRIu64, op->result);
    else if (op->rc == 0)
        snprintf(buf, sizeof buf, "ok");
    else if (op->rc == EAGAIN || op->rc == EEXIST || op->rc == ENOENT)
        snprintf(buf, sizeof buf, "%s", op->rc == EAGAIN ? "EAGAIN"
                                        : op->rc == EEXIST ? "EEXIST" : "ENOENT");
    else
        snprintf(buf, sizeof buf, "rc=%d", op->rc);
    fprintf(out, "%-8s", buf);
}

void parc_lc_history_print(FILE *out, const parc_lc_history_t *h,
                           const parc_lc_model_t *m)
{
    if (out == NULL || h == NULL)
        return;
    if (m != NULL)
        fprintf(out, "  model %s%s%s, capacity %u\n", parc_lc_kind_name(m->kind),
                (m->flags & PARC_LC_RELAXED_EMPTY) ? ", relaxed-empty" : "",
                (m->flags & PARC_LC_RELAXED_FULL) ? ", relaxed-full" : "",
                m->capacity);
    fprintf(out, "  (\"after\" lists, per other thread, how many of its operations\n"
                 "   had completed when the operation was invoked: those precede it)\n");
    unsigned threads = h->threads <= PARC_LC_MAX_THREADS ? h->threads : PARC_LC_MAX_THREADS;
    for (unsigned t = 0; t < threads; t++) {
        unsigned n = h->count[t] <= PARC_LC_MAX_OPS_PER_THREAD ? h->count[t]
                                                               : PARC_LC_MAX_OPS_PER_THREAD;
        for (unsigned i = 0; i < n; i++) {
            const parc_lc_op_t *op = &h->ops[t][i];
            fprintf(out, "  T%u.%u  ", t, i);
            print_op(out, op, m != NULL ? m->kind : PARC_LC_FIFO);
            fprintf(out, "  after");
            for (unsigned u = 0; u < threads; u++)
                if (u != t)
                    fprintf(out, " T%u:%" PRIu32, u, op->seen[u]);
            fputc('\n', out);
        }
    }
}

/* ---- recording ------------------------------------------------------------- */

void parc_lc_recorder_reset(parc_lc_recorder_t *r, parc_lc_history_t *h,
                            unsigned threads)
{
    for (unsigned t = 0; t < PARC_LC_MAX_THREADS; t++)
        /* relaxed: no recording thread runs; the caller's thread start (or
         * the runner's start flag) publishes the reset */
        parc_raw_store(&r->thread[t].done, 0u, PARC_RELAXED);
    memset(h, 0, sizeof *h);
    h->threads = threads;
}

parc_lc_op_t *parc_lc_invoke(parc_lc_recorder_t *r, parc_lc_history_t *h,
                             unsigned t, parc_lc_opcode_t opcode, uint64_t arg)
{
    if (t >= h->threads || h->count[t] >= PARC_LC_MAX_OPS_PER_THREAD)
        return NULL;
    parc_lc_op_t *op = &h->ops[t][h->count[t]];
    op->opcode = opcode;
    op->arg = arg;
    for (unsigned u = 0; u < h->threads; u++)
        /* acquire: pairs with thread u's release in parc_lc_respond(): every
         * operation counted here returned before this one is invoked. */
        op->seen[u] = u == t ? h->count[t]
                             : parc_raw_load(&r->thread[u].done, PARC_ACQUIRE);
    return op;
}

void parc_lc_respond(parc_lc_recorder_t *r, parc_lc_history_t *h,
                     unsigned t, parc_lc_op_t *op, int rc, uint64_t result)
{
    op->rc = rc;
    op->result = result;
    h->count[t]++;
    /* release: publishes this operation's completion (and its record) to
     * the acquire loads of later invocations in parc_lc_invoke(). */
    parc_raw_store(&r->thread[t].done, h->count[t], PARC_RELEASE);
}
