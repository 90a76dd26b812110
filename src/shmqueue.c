/*
 * The shared-memory MPMC message queue (see parc/shmqueue.h).
 *
 * Invariants:
 *   - a cell's state names the position it serves and, while claimed, the
 *     tid that claimed it; phases go EMPTY(p) -> WRITING(p, tid) -> FULL(p)
 *     -> READING(p, tid) -> EMPTY(p + capacity), each step one atomic
 *     store or CAS of the state word, so every claimed cell has a known
 *     claimant;
 *   - enq is at most one position behind the newest claimed cell (a
 *     producer claims only the cell at enq, and anyone who finds it claimed
 *     advances enq first); the same holds for deq and READING;
 *   - the cell states are the truth, enq and deq are hints: a stale index
 *     finds a state for another position and reloads;
 *   - after close at position E (enq | CLOSED, which stops the index),
 *     only the cell at E may still be claimed, by a producer that read enq
 *     before the close; close or a consumer marks it EMPTY(E, CLOSE_MARK)
 *     unless a producer claimed it first (then that message is delivered),
 *     so a consumer says EPIPE only when nothing more can arrive.
 *   - a dead claimant's cell is freed with one CAS from the exact state
 *     that names it: of two processes recovering it, one wins and counts.
 */
#include <string.h>

#include "liveness.h"
#include "parc/shmqueue.h"
#include "parc/time.h"

#define POS_BITS 40
#define POS_MASK ((UINT64_C(1) << POS_BITS) - 1)
#define TID_MASK ((UINT32_C(1) << 22) - 1)
#define CLOSE_MARK TID_MASK /* in an EMPTY state: closed at this position */
#define CLOSED (UINT64_C(1) << 63)
#define MAGIC 0x73686d71u   /* "shmq" */
#define OWNER_CHECK_NS (20 * PARC_NS_PER_MS)

enum { EMPTY = 0, WRITING = 1, FULL = 2, READING = 3 };

struct cell {
    parc_atomic(uint64_t) state; /* position:40 | tid:22 | phase:2 */
    uint32_t len;
    uint32_t unused;
    unsigned char data[];
};

static uint64_t make(uint64_t pos, uint32_t tid, unsigned phase)
{
    return (pos & POS_MASK) << 24 | (uint64_t)(tid & TID_MASK) << 2 | phase;
}
static uint64_t pos_of(uint64_t st) { return st >> 24; }
static uint32_t tid_of(uint64_t st) { return (uint32_t)(st >> 2) & TID_MASK; }
static unsigned phase_of(uint64_t st) { return (unsigned)(st & 3u); }

static size_t header_size(void)
{
    return (sizeof(parc_shmqueue_t) + PARC_CACHELINE - 1) & ~(size_t)(PARC_CACHELINE - 1);
}

static size_t stride_for(size_t msg_size)
{
    size_t s = sizeof(struct cell) + msg_size;
    return (s + PARC_CACHELINE - 1) & ~(size_t)(PARC_CACHELINE - 1);
}

static struct cell *cell_at(parc_shmqueue_t *q, uint64_t pos)
{
    return (struct cell *)((char *)q + header_size() +
                           (size_t)(pos & (q->capacity - 1)) * (size_t)q->stride);
}

size_t parc_shmqueue_footprint(size_t capacity, size_t msg_size)
{
    if (capacity == 0 || (capacity & (capacity - 1)) != 0 ||
        capacity > (size_t)1 << 30 || msg_size == 0 || msg_size > (size_t)1 << 30)
        return 0;
    return header_size() + capacity * stride_for(msg_size);
}

int parc_shmqueue_init(parc_shmqueue_t *q, size_t capacity, size_t msg_size)
{
    if (q == NULL || parc_shmqueue_footprint(capacity, msg_size) == 0)
        return EINVAL;
    parc_atomic_init(&q->enq, (uint64_t)0);
    parc_atomic_init(&q->deq, (uint64_t)0);
    q->capacity = capacity;
    q->msg_size = msg_size;
    q->stride = stride_for(msg_size);
    parc_atomic_init(&q->lost_sends, (uint64_t)0);
    parc_atomic_init(&q->lost_receives, (uint64_t)0);
    parc_eventcount_init_flags(&q->items, PARC_PSHARED);
    parc_eventcount_init_flags(&q->space, PARC_PSHARED);
    q->magic = MAGIC;
    for (uint64_t i = 0; i < capacity; i++)
        parc_atomic_init(&cell_at(q, i)->state, make(i, 0, EMPTY));
    return 0;
}

int parc_shmqueue_create(parc_shm_t *shm, size_t capacity, size_t msg_size,
                         uint64_t *off)
{
    size_t bytes = parc_shmqueue_footprint(capacity, msg_size);
    if (shm == NULL || off == NULL || bytes == 0)
        return EINVAL;
    uint64_t at;
    int rc = parc_shm_alloc(shm, bytes, &at);
    if (rc != 0)
        return rc;
    rc = parc_shmqueue_init(parc_shm_ptr(shm, at), capacity, msg_size);
    if (rc != 0) {
        parc_shm_free(shm, at);
        return rc;
    }
    *off = at;
    return 0;
}

/* Help a stuck index past position `at` (relaxed: the cells carry the
 * data and its ordering; the index is a hint). */
static void advance(parc_atomic(uint64_t) *index, uint64_t at)
{
    (void)parc_cas(index, &at, at + 1, PARC_RELAXED, PARC_RELAXED);
}

/* ---- one attempt each ------------------------------------------------ */

/* 0, EAGAIN (full; *blocker: the state of a claimant that keeps the cell,
 * 0 when it is just full), EPIPE. `check`: ask whether that claimant
 * lives, and free its cell when it does not. */
static int send_once(parc_shmqueue_t *q, const void *msg, size_t len,
                     bool check, uint64_t *blocker)
{
    const uint32_t me = parc_self_tid_();
    *blocker = 0;
    for (;;) {
        uint64_t e = parc_load(&q->enq, PARC_RELAXED);
        if (e & CLOSED)
            return EPIPE;
        struct cell *c = cell_at(q, e);
        /* acquire: pairs with the release store of EMPTY by the consumer
         * that emptied the cell (its reads happen before our writes). */
        uint64_t st = parc_load(&c->state, PARC_ACQUIRE);
        if (pos_of(st) == (e & POS_MASK)) {
            if (phase_of(st) != EMPTY) { /* claimed: help enq along */
                advance(&q->enq, e);
                continue;
            }
            if (tid_of(st) == CLOSE_MARK)
                return EPIPE;
            /* acquire: as the load above, for the state we replace. */
            if (!parc_cas(&c->state, &st, make(e, me, WRITING), PARC_ACQUIRE,
                          PARC_RELAXED))
                continue;
            advance(&q->enq, e);
            c->len = (uint32_t)len;
            if (len > 0)
                memcpy(c->data, msg, len);
            /* release: publishes len and data; pairs with the consumer's
             * acquire load of the state. */
            parc_store(&c->state, make(e, 0, FULL), PARC_RELEASE);
            parc_eventcount_notify_one(&q->items);
            return 0;
        }
        if (pos_of(st) == ((e - q->capacity) & POS_MASK)) {
            /* The previous lap's message is still here: full. */
            unsigned ph = phase_of(st);
            if (ph == READING || ph == WRITING) {
                if (check && parc_tid_dead_(tid_of(st))) {
                    /* release: nothing of ours to publish; keeps the chain
                     * to the producer that claims the cell next. */
                    if (parc_cas(&c->state, &st, make(e, 0, EMPTY), PARC_RELEASE,
                                 PARC_RELAXED))
                        parc_faa(ph == READING ? &q->lost_receives : &q->lost_sends,
                                 UINT64_C(1), PARC_RELAXED);
                    check = false;
                    continue;
                }
                *blocker = st;
            }
            return EAGAIN;
        }
        /* enq moved meanwhile: reload */
    }
}

/* 0, EAGAIN (empty; *blocker as in send_once), EPIPE, EOWNERDEAD. */
static int recv_once(parc_shmqueue_t *q, void *buf, size_t *len, bool check,
                     uint64_t *blocker)
{
    const uint32_t me = parc_self_tid_();
    *blocker = 0;
    for (;;) {
        uint64_t d = parc_load(&q->deq, PARC_RELAXED);
        struct cell *c = cell_at(q, d);
        /* acquire: pairs with the producer's release store of FULL. */
        uint64_t st = parc_load(&c->state, PARC_ACQUIRE);
        uint64_t p = d & POS_MASK;
        if (pos_of(st) == p) {
            switch (phase_of(st)) {
            case FULL:
                /* acquire: as the load above. */
                if (!parc_cas(&c->state, &st, make(d, me, READING), PARC_ACQUIRE,
                              PARC_RELAXED))
                    continue;
                advance(&q->deq, d);
                *len = c->len;
                if (c->len > 0)
                    memcpy(buf, c->data, c->len);
                /* release: our reads of the cell happen before the next
                 * producer's writes; pairs with its acquire CAS. */
                parc_store(&c->state, make(d + q->capacity, 0, EMPTY), PARC_RELEASE);
                parc_eventcount_notify_one(&q->space);
                return 0;
            case READING:
                advance(&q->deq, d);
                continue;
            case WRITING:
                if (check && parc_tid_dead_(tid_of(st))) {
                    /* release: as in send_once's recovery. */
                    if (!parc_cas(&c->state, &st, make(d + q->capacity, 0, EMPTY),
                                  PARC_RELEASE, PARC_RELAXED))
                        continue;
                    parc_faa(&q->lost_sends, UINT64_C(1), PARC_RELAXED);
                    advance(&q->deq, d);
                    parc_eventcount_notify_one(&q->space);
                    return EOWNERDEAD;
                }
                *blocker = st;
                return EAGAIN;
            default: { /* EMPTY: nothing claimed here yet */
                if (tid_of(st) == CLOSE_MARK)
                    return EPIPE;
                uint64_t e = parc_load(&q->enq, PARC_RELAXED);
                if (!(e & CLOSED))
                    return EAGAIN;
                if ((e & ~CLOSED) < d)
                    return EPIPE; /* closed before this position */
                if ((e & ~CLOSED) > d)
                    continue; /* claimed since we looked: reload */
                /* closed at this very position: mark it, unless a late
                 * producer claims it first (then its message comes). */
                if (parc_cas(&c->state, &st, make(d, CLOSE_MARK, EMPTY),
                             PARC_RELAXED, PARC_RELAXED))
                    return EPIPE;
                continue;
            }
            }
        }
        if (pos_of(st) == ((d - q->capacity) & POS_MASK)) {
            /* The previous lap's consumer still holds the cell. */
            if (phase_of(st) == READING) {
                if (check && parc_tid_dead_(tid_of(st))) {
                    if (parc_cas(&c->state, &st, make(d, 0, EMPTY), PARC_RELEASE,
                                 PARC_RELAXED))
                        parc_faa(&q->lost_receives, UINT64_C(1), PARC_RELAXED);
                    check = false;
                    continue;
                }
                *blocker = st;
            }
            uint64_t e = parc_load(&q->enq, PARC_RELAXED);
            if ((e & CLOSED) && (e & ~CLOSED) < d)
                return EPIPE;
            return EAGAIN;
        }
        /* the cell is past d: its consumer is done; help deq along */
        advance(&q->deq, d);
    }
}

/* ---- the three forms -------------------------------------------------- */

typedef int (*attempt_fn)(parc_shmqueue_t *q, void *io, size_t *len, bool check,
                          uint64_t *blocker);

struct send_args {
    const void *msg;
    size_t len;
};

static int send_attempt(parc_shmqueue_t *q, void *io, size_t *unused, bool check,
                        uint64_t *blocker)
{
    (void)unused;
    struct send_args *a = io;
    return send_once(q, a->msg, a->len, check, blocker);
}

static int recv_attempt(parc_shmqueue_t *q, void *io, size_t *len, bool check,
                        uint64_t *blocker)
{
    return recv_once(q, io, len, check, blocker);
}

/* A _try caller that finds the same claimant in the way twice in a row
 * asks whether it lives (so polling never wedges on a dead process, and
 * the common case, a claimant mid-copy, costs no system call). */
static _Thread_local uint64_t try_suspect;

static int run(parc_shmqueue_t *q, attempt_fn attempt, void *io, size_t *len,
               parc_eventcount_t *ec, parc_deadline_t deadline, bool try_only)
{
    uint64_t blocker;
    int rc = attempt(q, io, len, false, &blocker);
    if (rc != EAGAIN)
        return rc;
    if (try_only) {
        if (blocker != 0 && blocker == try_suspect) {
            try_suspect = 0;
            return attempt(q, io, len, true, &blocker);
        }
        try_suspect = blocker;
        return EAGAIN;
    }
    bool check = false;
    for (unsigned i = 0; i < PARC_SPIN_POLLS; i++) {
        parc_spin_poll(i);
        rc = attempt(q, io, len, false, &blocker);
        if (rc != EAGAIN)
            return rc;
    }
    for (;;) {
        if (parc_deadline_passed(deadline))
            return ETIMEDOUT;
        parc_eventcount_key_t key = parc_eventcount_prepare_wait(ec);
        rc = attempt(q, io, len, check, &blocker);
        if (rc != EAGAIN) {
            parc_eventcount_cancel_wait(ec);
            return rc;
        }
        /* Waiting on a claimant: wake up now and then to ask whether it
         * lives (a dead process never notifies). */
        parc_deadline_t slice = deadline;
        if (blocker != 0 && (deadline == PARC_FOREVER ||
                             deadline - parc_now_ns() > OWNER_CHECK_NS))
            parc_deadline_in(&slice, OWNER_CHECK_NS);
        int w = parc_eventcount_wait(ec, key, slice);
        check = blocker != 0 && w == ETIMEDOUT;
    }
}

static bool bad(const parc_shmqueue_t *q)
{
    return q == NULL || q->magic != MAGIC;
}

static int send_until(parc_shmqueue_t *q, const void *msg, size_t len,
                      parc_deadline_t deadline, bool try_only)
{
    if (bad(q) || (msg == NULL && len > 0))
        return EINVAL;
    if (len > q->msg_size)
        return EMSGSIZE;
    struct send_args a = {msg, len};
    return run(q, send_attempt, &a, NULL, &q->space, deadline, try_only);
}

static int recv_until(parc_shmqueue_t *q, void *buf, size_t cap, size_t *len,
                      parc_deadline_t deadline, bool try_only)
{
    if (bad(q) || buf == NULL || len == NULL || cap < q->msg_size)
        return EINVAL;
    return run(q, recv_attempt, buf, len, &q->items, deadline, try_only);
}

int parc_shmqueue_send(parc_shmqueue_t *q, const void *msg, size_t len)
{
    return send_until(q, msg, len, PARC_FOREVER, false);
}

int parc_shmqueue_send_try(parc_shmqueue_t *q, const void *msg, size_t len)
{
    return send_until(q, msg, len, 0, true);
}

int parc_shmqueue_send_timed(parc_shmqueue_t *q, const void *msg, size_t len,
                             int64_t timeout_ns)
{
    parc_deadline_t d;
    if (parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    return send_until(q, msg, len, d, false);
}

int parc_shmqueue_recv(parc_shmqueue_t *q, void *buf, size_t cap, size_t *len)
{
    return recv_until(q, buf, cap, len, PARC_FOREVER, false);
}

int parc_shmqueue_recv_try(parc_shmqueue_t *q, void *buf, size_t cap, size_t *len)
{
    return recv_until(q, buf, cap, len, 0, true);
}

int parc_shmqueue_recv_timed(parc_shmqueue_t *q, void *buf, size_t cap,
                             size_t *len, int64_t timeout_ns)
{
    parc_deadline_t d;
    if (parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    return recv_until(q, buf, cap, len, d, false);
}

int parc_shmqueue_close(parc_shmqueue_t *q)
{
    if (bad(q))
        return EINVAL;
    /* relaxed: the flag publishes nothing; the cells order the data. */
    uint64_t e = parc_for(&q->enq, CLOSED, PARC_RELAXED) & ~CLOSED;
    struct cell *c = cell_at(q, e);
    uint64_t st = make(e, 0, EMPTY);
    (void)parc_cas(&c->state, &st, make(e, CLOSE_MARK, EMPTY), PARC_RELAXED,
                   PARC_RELAXED);
    parc_eventcount_notify_all(&q->items);
    parc_eventcount_notify_all(&q->space);
    return 0;
}

size_t parc_shmqueue_recover(parc_shmqueue_t *q)
{
    if (bad(q))
        return 0;
    size_t freed = 0;
    for (uint64_t i = 0; i < q->capacity; i++) {
        struct cell *c = cell_at(q, i);
        uint64_t st = parc_load(&c->state, PARC_ACQUIRE);
        unsigned ph = phase_of(st);
        if ((ph != WRITING && ph != READING) || !parc_tid_dead_(tid_of(st)))
            continue;
        /* The next position this cell serves: pos_of(st) + capacity, in
         * the 40-bit space; deq and enq compare through it the same way. */
        uint64_t next = pos_of(st) + q->capacity;
        if (!parc_cas(&c->state, &st, make(next, 0, EMPTY), PARC_RELEASE,
                      PARC_RELAXED))
            continue;
        parc_faa(ph == READING ? &q->lost_receives : &q->lost_sends, UINT64_C(1),
                 PARC_RELAXED);
        freed++;
    }
    if (freed > 0) {
        parc_eventcount_notify_all(&q->items);
        parc_eventcount_notify_all(&q->space);
    }
    return freed;
}

uint64_t parc_shmqueue_lost_sends(const parc_shmqueue_t *q)
{
    return q == NULL ? 0 : parc_load(&((parc_shmqueue_t *)q)->lost_sends, PARC_RELAXED);
}

uint64_t parc_shmqueue_lost_receives(const parc_shmqueue_t *q)
{
    return q == NULL ? 0 : parc_load(&((parc_shmqueue_t *)q)->lost_receives, PARC_RELAXED);
}

size_t parc_shmqueue_size(const parc_shmqueue_t *q)
{
    if (q == NULL)
        return 0;
    parc_shmqueue_t *m = (parc_shmqueue_t *)q;
    uint64_t e = parc_load(&m->enq, PARC_RELAXED) & ~CLOSED;
    uint64_t d = parc_load(&m->deq, PARC_RELAXED);
    return e > d ? (size_t)(e - d) : 0;
}
