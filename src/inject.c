/* parc/inject.h: the sharded injection queue. The protocol (push, take,
 * close on one word per shard) is argued in the header. */
#include <stdlib.h>
#include <string.h>

#include "parc/inject.h"

#define SHARD_LOCKED UINT64_C(1)
#define SHARD_CLOSED UINT64_C(2)
#define SHARD_ONE UINT64_C(4) /* one entry in the count */
/* Looks at a held shard with entries before a take moves on. */
#define BUSY_POLLS 64u

struct parc_inject_shard {
    /* count * SHARD_ONE | SHARD_CLOSED | SHARD_LOCKED. Its own line (the
     * struct is cache-aligned): the pushers of one shard write it. */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) word;
    /* Guarded by LOCKED: the oldest entry's ring index, the ring. */
    size_t head;
    size_t cap; /* a power of two */
    parc_inject_entry_t *ring;
};

typedef struct parc_inject_shard shard_t;

/* A pushing thread's shard: dealt out round robin on its first push, the
 * same index for every queue. 0: none dealt yet. */
static _Thread_local unsigned my_slot;
static parc_atomic(unsigned) dealt;

/* my_slot reduced modulo the shard count of the queue this thread pushed
 * to last, so that a push finds its first shard without a division: the
 * count is a run-time value, and the two divisions a push made (its
 * start, then each step) cost about as much as the rest of it. A hint
 * only: any index below the queue's count is a correct place to start,
 * so an entry left by another queue at the same address is harmless once
 * checked against that count. */
static _Thread_local const parc_inject_t *my_q;
static _Thread_local unsigned my_first;

static size_t shard_count(uint64_t word)
{
    return (size_t)(word / SHARD_ONE);
}

int parc_inject_init(parc_inject_t *q, unsigned shards)
{
    if (q == NULL || shards == 0 || shards > PARC_INJECT_MAX_SHARDS)
        return EINVAL;
    shard_t *s = aligned_alloc(PARC_CACHELINE, shards * sizeof *s);
    if (s == NULL)
        return ENOMEM;
    memset(s, 0, shards * sizeof *s);
    for (unsigned i = 0; i < shards; i++) {
        s[i].ring = malloc(PARC_INJECT_RING_MIN * sizeof *s[i].ring);
        if (s[i].ring == NULL) {
            for (unsigned j = 0; j < i; j++)
                free(s[j].ring);
            free(s);
            return ENOMEM;
        }
        parc_atomic_init(&s[i].word, UINT64_C(0));
        s[i].cap = PARC_INJECT_RING_MIN;
    }
    q->shards = s;
    q->nshards = shards;
    return 0;
}

int parc_inject_destroy(parc_inject_t *q)
{
    if (q == NULL)
        return EINVAL;
    for (unsigned i = 0; i < q->nshards; i++)
        free(q->shards[i].ring);
    free(q->shards);
    q->shards = NULL;
    q->nshards = 0;
    return 0;
}

/* Double the ring of s, which holds n == s->cap entries; the caller holds
 * s (LOCKED). False when there is no memory (nothing changed). Out of
 * line: the push that calls it is the submission fast path, and keeping
 * malloc, the copy and their registers out of it shortens every push. */
__attribute__((noinline)) static bool shard_grow(shard_t *s, size_t n)
{
    parc_inject_entry_t *bigger = malloc(2 * s->cap * sizeof *bigger);
    if (bigger == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        bigger[i] = s->ring[(s->head + i) & (s->cap - 1)];
    free(s->ring);
    s->ring = bigger;
    s->head = 0;
    s->cap *= 2;
    return true;
}

/* Append one entry. Returns 0; EAGAIN when another thread holds the
 * shard (or won the race for it); EPIPE when the shard is closed; ENOMEM
 * when a full ring could not grow. */
static int shard_push(shard_t *s, parc_inject_fn fn, void *arg)
{
    uint64_t w = parc_load(&s->word, PARC_RELAXED);
    if (w & SHARD_CLOSED)
        return EPIPE;
    if (w & SHARD_LOCKED)
        return EAGAIN; /* the caller tries another shard first */
    /* acquire: the ring as the previous holder left it (its release
     * store or seq_cst add of the word) is visible. */
    if (!parc_cas(&s->word, &w, w | SHARD_LOCKED, PARC_ACQUIRE, PARC_RELAXED))
        return (w & SHARD_CLOSED) ? EPIPE : EAGAIN;
    size_t n = shard_count(w);
    if (n == s->cap && !shard_grow(s, n)) {
        /* release: nothing changed, but the next holder's acquire pairs
         * with every unlock alike. */
        parc_store(&s->word, w, PARC_RELEASE);
        return ENOMEM;
    }
    parc_inject_entry_t *e = &s->ring[(s->head + n) & (s->cap - 1)];
    e->fn = fn;
    e->arg = arg;
    /* Count the entry and unlock in one RMW (w | LOCKED + ONE - LOCKED is
     * w + ONE). release: publishes the entry and the ring to the next
     * holder (its acquire CAS). seq_cst: the header's "Ordering (memory)":
     * a scheduler's fence-free wake-up pairs with it. */
    parc_faa(&s->word, SHARD_ONE - SHARD_LOCKED, PARC_SEQ_CST);
    return 0;
}

int parc_inject_push(parc_inject_t *q, parc_inject_fn fn, void *arg)
{
    if (q == NULL || q->nshards == 0) /* NULL, or destroyed */
        return EINVAL;
    unsigned n = q->nshards, s;
    if (my_q == q && my_first < n) {
        s = my_first;
    } else {
        if (my_slot == 0)
            my_slot = parc_faa(&dealt, 1u, PARC_RELAXED) % PARC_INJECT_MAX_SHARDS + 1u;
        s = (my_slot - 1u) % n;
        my_q = q;
        my_first = s;
    }
    /* Our own shard, or when another thread holds it (a consumer taking a
     * batch, possibly preempted meanwhile) the next free one: a push never
     * waits for a holder unless every shard is held at once. */
    for (unsigned tried = 1, rounds = 0;; tried++) {
        int rc = shard_push(&q->shards[s], fn, arg);
        if (rc != EAGAIN)
            return rc;
        if (++s == n)
            s = 0;
        if (tried == n) { /* all held: wait a little */
            parc_spin_poll(rounds++);
            tried = 0;
        }
    }
}

/* Take up to `max` entries (oldest first) into out. Returns how many; 0
 * when the shard is empty, or when it is held, which sets *busy. */
static size_t shard_take(shard_t *s, parc_inject_entry_t *out, size_t max,
                         bool half, bool *busy)
{
    uint64_t w = parc_load(&s->word, PARC_RELAXED);
    for (;;) {
        if (shard_count(w) == 0)
            return 0;
        if (w & SHARD_LOCKED) {
            *busy = true;
            return 0;
        }
        /* acquire: as in shard_push. */
        if (parc_cas_weak(&s->word, &w, w | SHARD_LOCKED, PARC_ACQUIRE,
                          PARC_RELAXED))
            break;
    }
    size_t n = shard_count(w), k = n < max ? n : max;
    if (half && k > (n + 1) / 2)
        k = (n + 1) / 2;
    for (size_t i = 0; i < k; i++)
        out[i] = s->ring[(s->head + i) & (s->cap - 1)];
    s->head = (s->head + k) & (s->cap - 1);
    if (k == n && s->cap > PARC_INJECT_RING_KEEP) { /* a burst is over */
        parc_inject_entry_t *small = malloc(PARC_INJECT_RING_MIN * sizeof *small);
        if (small != NULL) {
            free(s->ring);
            s->ring = small;
            s->cap = PARC_INJECT_RING_MIN;
            s->head = 0;
        }
    }
    /* release: our ring updates happen before the next holder's acquire
     * CAS. Nobody else writes the word while it is LOCKED. */
    parc_store(&s->word, w - k * SHARD_ONE, PARC_RELEASE);
    return k;
}

int parc_inject_take(parc_inject_t *q, unsigned start, parc_inject_entry_t *out,
                     size_t max, unsigned flags, size_t *taken)
{
    if (q == NULL || out == NULL || taken == NULL || max == 0
        || (flags & ~PARC_INJECT_HALF) != 0)
        return EINVAL;
    *taken = 0;
    bool all_closed_empty = true;
    unsigned n = q->nshards;
    for (unsigned i = 0; i < n; i++) {
        shard_t *s = &q->shards[(start % n + i) % n];
        for (unsigned polls = 0;; polls++) {
            bool busy = false;
            size_t k = shard_take(s, out, max, flags & PARC_INJECT_HALF, &busy);
            if (k > 0) {
                *taken = k;
                return 0;
            }
            if (!busy) {
                /* relaxed: CLOSED is final, and an empty closed shard
                 * stays empty. */
                if (!(parc_load(&s->word, PARC_RELAXED) & SHARD_CLOSED))
                    all_closed_empty = false;
                break;
            }
            /* Held, and holding entries: its holder takes a few stores,
             * look again a few times. Held longer (the holder was
             * preempted): move on; the next take comes back. */
            if (polls >= BUSY_POLLS) {
                all_closed_empty = false;
                break;
            }
            parc_cpu_relax();
        }
    }
    return all_closed_empty ? EPIPE : EAGAIN;
}

int parc_inject_drain(parc_inject_t *q, parc_inject_entry_t *out, size_t max,
                      size_t *taken)
{
    if (q == NULL || out == NULL || taken == NULL || max == 0)
        return EINVAL;
    *taken = 0;
    for (unsigned i = 0; i < q->nshards; i++) {
        for (unsigned polls = 0;; polls++) {
            bool busy = false;
            size_t k = shard_take(&q->shards[i], out, max, false, &busy);
            if (k > 0) {
                *taken = k;
                return 0;
            }
            if (!busy)
                break;
            parc_spin_poll(polls); /* a consumer is taking a batch */
        }
    }
    return 0;
}

int parc_inject_close(parc_inject_t *q)
{
    if (q == NULL)
        return EINVAL;
    for (unsigned i = 0; i < q->nshards; i++) {
        shard_t *s = &q->shards[i];
        uint64_t w = parc_load(&s->word, PARC_RELAXED);
        for (unsigned polls = 0; !(w & SHARD_CLOSED);) {
            if (w & SHARD_LOCKED) { /* wait out the holder: a few stores */
                parc_spin_poll(polls++);
                w = parc_load(&s->word, PARC_RELAXED);
                continue;
            }
            /* relaxed: the bit is all a pusher needs, and it reads it in
             * the word's modification order (its CAS). */
            parc_cas_weak(&s->word, &w, w | SHARD_CLOSED, PARC_RELAXED,
                          PARC_RELAXED);
        }
    }
    return 0;
}

size_t parc_inject_size(const parc_inject_t *q)
{
    if (q == NULL)
        return 0;
    size_t total = 0;
    for (unsigned i = 0; i < q->nshards; i++) {
        /* seq_cst: the header's "Ordering (memory)"; nothing is read
         * through the count. */
        uint64_t w = parc_load((parc_atomic(uint64_t) *)&q->shards[i].word,
                               PARC_SEQ_CST);
        total += shard_count(w);
    }
    return total;
}
