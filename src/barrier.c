/* parc/barrier.h: arrival, completion, breaking and resetting. */
#include "parc/barrier.h"

/* The state word: generation in the high 32 bits, the number of parties
 * waiting in bits 2..31, the mode in bits 0..1. */
enum { MODE_OK = 0, MODE_BROKEN = 1, MODE_RESETTING = 2 };
#define COUNT_MASK UINT32_C(0x3fffffff)

static uint32_t generation_of(uint64_t st) { return (uint32_t)(st >> 32); }
static uint32_t count_of(uint64_t st) { return (uint32_t)(st >> 2) & COUNT_MASK; }
static uint32_t mode_of(uint64_t st) { return (uint32_t)st & 3u; }
static uint64_t make(uint32_t generation, uint32_t count, uint32_t mode)
{
    return (uint64_t)generation << 32 | (uint64_t)count << 2 | mode;
}

int parc_barrier_init(parc_barrier_t *b, unsigned parties)
{
    if (b == NULL || parties == 0 || parties > PARC_BARRIER_MAX_PARTIES)
        return EINVAL;
    parc_atomic_init(&b->state, make(0, 0, MODE_OK));
    b->parties = parties;
    return parc_eventcount_init(&b->ec);
}

int parc_barrier_init_flags(parc_barrier_t *b, unsigned parties, unsigned flags)
{
    if ((flags & ~PARC_PSHARED) != 0)
        return EINVAL;
    int rc = parc_barrier_init(b, parties);
    return rc != 0 ? rc : parc_eventcount_init_flags(&b->ec, flags);
}

int parc_barrier_destroy(parc_barrier_t *b)
{
    return b == NULL ? EINVAL : 0;
}

struct waiting {
    parc_barrier_t *b;
    uint32_t generation;
};

/* Readiness of an arrived party: its generation completed, broke or is
 * being reset. */
static bool released(void *arg)
{
    struct waiting *w = arg;
    /* acquire: pairs with the last party's acq_rel CAS (the completion) */
    uint64_t st = parc_load(&w->b->state, PARC_ACQUIRE);
    if (generation_of(st) != w->generation || mode_of(st) != MODE_OK)
        return true;
    return false;
}

/* Readiness of a party that has not arrived: no reset in progress. */
static bool not_resetting(void *arg)
{
    parc_barrier_t *b = arg;
    return mode_of(parc_load(&b->state, PARC_RELAXED)) != MODE_RESETTING;
}

/*
 * An arrived party of `generation` leaves without completing it: it timed
 * out, or found the generation broken or being reset. It stops being
 * counted; the last to leave a reset generation starts the fresh one; a
 * timeout in an intact generation breaks it. Returns 0 when the generation
 * turns out to have completed after all, else ETIMEDOUT (we broke it) or
 * EPIPE (it was broken).
 */
static int leave(parc_barrier_t *b, uint32_t generation)
{
    /* acquire: if the generation completed, pairs with the last party's
     * acq_rel CAS so its writes (and all parties') are visible. */
    uint64_t st = parc_load(&b->state, PARC_ACQUIRE);
    for (;;) {
        /* Counted parties keep a broken generation from being replaced,
         * so a new number here means the generation completed. */
        if (generation_of(st) != generation)
            return 0;
        uint32_t mode = mode_of(st), count = count_of(st) - 1;
        uint64_t next;
        int rc = EPIPE;
        if (mode == MODE_OK) {
            next = make(generation, count, MODE_BROKEN);
            rc = ETIMEDOUT;
        } else if (mode == MODE_RESETTING && count == 0) {
            next = make(generation + 1, 0, MODE_OK);
        } else {
            next = make(generation, count, mode);
        }
        /* acquire on failure: the value read may be the completion (see
         * above); on success the order is only there because C11 forbids a
         * failure order stronger than the success one: a broken generation
         * hands no data over, and the notify below wakes who must see it. */
        if (parc_cas_weak(&b->state, &st, next, PARC_ACQUIRE, PARC_ACQUIRE)) {
            if (mode_of(next) != mode || generation_of(next) != generation)
                parc_eventcount_notify_all(&b->ec); /* seq_cst fence inside orders
                                             * the CAS before its check */
            return rc;
        }
    }
}

static int barrier_wait(parc_barrier_t *b, unsigned *index,
                        parc_deadline_t deadline, bool try_only)
{
    uint64_t st = parc_load(&b->state, PARC_RELAXED);
    uint32_t generation, arrival;
    for (;;) {
        uint32_t mode = mode_of(st);
        if (mode == MODE_BROKEN)
            return EPIPE;
        if (mode == MODE_RESETTING) {
            /* Earlier parties are still leaving; arrive once they have. */
            if (try_only)
                return EAGAIN;
            if (parc_eventcount_await(&b->ec, not_resetting, b, deadline) != 0)
                return ETIMEDOUT;
            st = parc_load(&b->state, PARC_RELAXED);
            continue;
        }
        generation = generation_of(st);
        arrival = count_of(st);
        if (arrival + 1 == b->parties) {
            /* acq_rel: acquire makes every earlier party's writes visible
             * (their arrival CASes are releases heading release sequences
             * this CAS reads from); release publishes them and ours to the
             * waiters' acquire loads of the new generation. */
            if (parc_cas_weak(&b->state, &st, make(generation + 1, 0, MODE_OK),
                              PARC_ACQ_REL, PARC_RELAXED)) {
                if (index != NULL)
                    *index = arrival;
                parc_eventcount_notify_all(&b->ec); /* seq_cst fence inside orders
                                             * the CAS before its check */
                return 0;
            }
            continue;
        }
        if (try_only)
            return EAGAIN;
        /* release: publishes this party's writes to the last party's
         * acq_rel CAS (see above). */
        if (parc_cas_weak(&b->state, &st, st + ((uint64_t)1 << 2),
                          PARC_RELEASE, PARC_RELAXED))
            break;
    }
    struct waiting w = { b, generation };
    (void)parc_eventcount_await(&b->ec, released, &w, deadline);
    /* Completed, broken, resetting or timed out: leave() sorts it out
     * (returning 0 at once when the generation completed). */
    int rc = leave(b, generation);
    if (rc == 0 && index != NULL)
        *index = arrival;
    return rc;
}

int parc_barrier_wait(parc_barrier_t *b, unsigned *index)
{
    if (b == NULL)
        return EINVAL;
    return barrier_wait(b, index, PARC_FOREVER, false);
}

int parc_barrier_wait_try(parc_barrier_t *b, unsigned *index)
{
    if (b == NULL)
        return EINVAL;
    return barrier_wait(b, index, PARC_FOREVER, true);
}

int parc_barrier_wait_timed(parc_barrier_t *b, unsigned *index, int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (b == NULL || parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    return barrier_wait(b, index, deadline, false);
}

int parc_barrier_abort(parc_barrier_t *b)
{
    if (b == NULL)
        return EINVAL;
    uint64_t st = parc_load(&b->state, PARC_RELAXED);
    while (mode_of(st) != MODE_BROKEN) {
        /* relaxed: breaking publishes nothing; the notify wakes waiters */
        if (parc_cas_weak(&b->state, &st,
                          make(generation_of(st), count_of(st), MODE_BROKEN),
                          PARC_RELAXED, PARC_RELAXED)) {
            parc_eventcount_notify_all(&b->ec);
            break;
        }
    }
    return 0;
}

int parc_barrier_reset(parc_barrier_t *b)
{
    if (b == NULL)
        return EINVAL;
    uint64_t st = parc_load(&b->state, PARC_RELAXED);
    for (;;) {
        uint32_t count = count_of(st), mode = mode_of(st);
        if (mode == MODE_OK && count == 0)
            return 0; /* fresh already */
        if (mode == MODE_RESETTING)
            return 0; /* the last party to leave finishes it */
        /* With parties waiting, they must leave (EPIPE) first; without,
         * start the fresh generation now. */
        uint64_t next = count == 0 ? make(generation_of(st) + 1, 0, MODE_OK)
                                   : make(generation_of(st), count, MODE_RESETTING);
        /* relaxed: a reset publishes nothing; the notify wakes waiters */
        if (parc_cas_weak(&b->state, &st, next, PARC_RELAXED, PARC_RELAXED)) {
            parc_eventcount_notify_all(&b->ec);
            return 0;
        }
    }
}

bool parc_barrier_broken(parc_barrier_t *b)
{
    return b != NULL && mode_of(parc_load(&b->state, PARC_RELAXED)) == MODE_BROKEN;
}

unsigned parc_barrier_parties(parc_barrier_t *b)
{
    return b == NULL ? 0 : b->parties;
}

unsigned parc_barrier_waiting(parc_barrier_t *b)
{
    if (b == NULL)
        return 0;
    uint64_t st = parc_load(&b->state, PARC_RELAXED);
    return mode_of(st) == MODE_OK ? count_of(st) : 0;
}
