/* parc/lfqueue.h: segments, the epoch domain, push, pop and close. */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include <ck_epoch.h>

#include "parc/lfqueue.h"

#define SLOTS PARC_LFQUEUE_SEGMENT_SLOTS

/* Set in a segment's enqueue index by close: a producer whose FAA returns
 * it must not use the slot. Far above any index a segment reaches. */
#define ENQ_CLOSED (UINT64_C(1) << 62)

/* How long a consumer waits for the producer that claimed its slot before
 * poisoning the slot (~3 us): the producer is normally a few nanoseconds
 * from its CAS, unless it was preempted, and then waiting is futile. */
#define SLOT_WAIT_POLLS 128

struct parc_lfqueue_segment {
    /* Next slot a producer claims (FAA); ENQ_CLOSED once closed. Counts
     * past SLOTS while producers find the segment full. */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) enq;
    /* Next slot a consumer claims (FAA); counts past SLOTS likewise. */
    PARC_CACHE_ALIGNED parc_atomic(uint64_t) deq;
    /* The following segment, NULL while this one is last, SEALED once the
     * queue is closed with this segment last. */
    PARC_CACHE_ALIGNED parc_atomic(struct parc_lfqueue_segment *) next;
    ck_epoch_entry_t retire; /* links the segment into ck_epoch's lists */
    /* NULL (empty), an item, or TAKEN (a consumer gave up on it). */
    PARC_CACHE_ALIGNED parc_atomic(void *) slots[SLOTS];
};
typedef struct parc_lfqueue_segment segment_t;

/* Distinct addresses for the two markers; aligned like a segment so that
 * the pointer conversions are valid. Never dereferenced. */
static _Alignas(PARC_CACHELINE) char taken_mark[PARC_CACHELINE];
static _Alignas(PARC_CACHELINE) char sealed_mark[PARC_CACHELINE];
#define TAKEN ((void *)taken_mark)
#define SEALED ((segment_t *)(void *)sealed_mark)

/* ---- the epoch domain ------------------------------------------------- */

/*
 * ThreadSanitizer cannot see Concurrency Kit's synchronisation (inline
 * assembly, uninstrumented library), so it would report a segment's free
 * as racing with the atomic reads other threads made before the grace
 * period. In a TSan build every epoch section ends with a release RMW on
 * one word and every free (and every record reuse) starts with an acquire
 * load of it: the grace period guarantees that real-time order, and TSan
 * sees the happens-before it implies. No-ops in other builds.
 */
#ifdef PARC_TSAN
static parc_atomic(unsigned) tsan_grace;
/* release: everything this thread did in its section (or with its record)
 * happens before a later free; pairs with tsan_after_grace(). */
#define tsan_before_grace() ((void)parc_faa(&tsan_grace, 0u, PARC_RELEASE))
/* acquire: pairs with the release RMWs of tsan_before_grace(). */
#define tsan_after_grace() ((void)parc_load(&tsan_grace, PARC_ACQUIRE))
#else
#define tsan_before_grace() ((void)0)
#define tsan_after_grace() ((void)0)
#endif

static ck_epoch_t domain;
static pthread_once_t domain_once = PTHREAD_ONCE_INIT;
static pthread_key_t domain_key;
static _Thread_local ck_epoch_record_t *self_record;

static void wait_yield(ck_epoch_t *e, ck_epoch_record_t *r, void *arg)
{
    (void)e;
    (void)r;
    (void)arg;
    parc_yield(); /* the thread we wait for may need this core */
}

/* pthread key destructor: runs when a thread that used a queue exits. */
static void record_release(void *arg)
{
    ck_epoch_record_t *r = arg;
    /* ck_epoch_unregister drops pending callbacks: free them first. */
    ck_epoch_barrier_wait(r, wait_yield, NULL);
    tsan_before_grace(); /* the next owner's plain accesses come after ours */
    ck_epoch_unregister(r);
    self_record = NULL;
}

static void domain_init(void)
{
    ck_epoch_init(&domain);
    if (pthread_key_create(&domain_key, record_release) != 0)
        abort(); /* only fails when the process is out of keys */
}

/* The calling thread's record, registered on first use; NULL on ENOMEM. */
static ck_epoch_record_t *record_self(void)
{
    ck_epoch_record_t *r = self_record;
    if (r != NULL)
        return r;
    pthread_once(&domain_once, domain_init);
    r = ck_epoch_recycle(&domain, NULL);
    if (r != NULL) {
        tsan_after_grace();
    } else {
        r = aligned_alloc(PARC_CACHELINE, sizeof *r);
        if (r == NULL)
            return NULL;
        ck_epoch_register(&domain, r, NULL);
    }
    if (pthread_setspecific(domain_key, r) != 0) {
        ck_epoch_unregister(r); /* left for another thread to recycle */
        return NULL;
    }
    self_record = r;
    return r;
}

static void section_leave(ck_epoch_record_t *r)
{
    tsan_before_grace();
    ck_epoch_end(r, NULL);
}

static void segment_free(ck_epoch_entry_t *entry)
{
    segment_t *s = (segment_t *)(void *)((char *)entry - offsetof(segment_t, retire));
    tsan_after_grace();
    free(s);
}

void parc_lfqueue_quiesce(void)
{
    ck_epoch_record_t *r = self_record;
    if (r != NULL)
        ck_epoch_barrier_wait(r, wait_yield, NULL);
}

/* ---- segments ---------------------------------------------------------- */

static segment_t *segment_new(void)
{
    segment_t *s = aligned_alloc(PARC_CACHELINE, sizeof *s);
    if (s == NULL)
        return NULL;
    parc_atomic_init(&s->enq, 0);
    parc_atomic_init(&s->deq, 0);
    parc_atomic_init(&s->next, NULL);
    for (size_t i = 0; i < SLOTS; i++)
        parc_atomic_init(&s->slots[i], NULL);
    return s;
}

/* ---- the queue ---------------------------------------------------------- */

int parc_lfqueue_init(parc_lfqueue_t *q)
{
    if (q == NULL)
        return EINVAL;
    segment_t *s = segment_new();
    if (s == NULL)
        return ENOMEM;
    parc_atomic_init(&q->head, s);
    parc_atomic_init(&q->tail, s);
    parc_atomic_init(&q->closed, 0);
    return parc_eventcount_init(&q->nonempty);
}

int parc_lfqueue_destroy(parc_lfqueue_t *q)
{
    if (q == NULL)
        return EINVAL;
    segment_t *s = parc_load(&q->head, PARC_RELAXED); /* exclusive access */
    while (s != NULL && s != SEALED) {
        segment_t *next = parc_load(&s->next, PARC_RELAXED);
        free(s);
        s = next;
    }
    parc_store(&q->head, NULL, PARC_RELAXED);
    parc_store(&q->tail, NULL, PARC_RELAXED);
    return 0;
}

/* Inside an epoch section: one push. */
static int push_in(parc_lfqueue_t *q, void *item)
{
    for (;;) {
        /* acquire: the segment's initialisation, published by the release
         * CAS that linked it (next or tail), is visible. */
        segment_t *s = parc_load(&q->tail, PARC_ACQUIRE);
        /* Claims a slot; publishes nothing (the slot CAS does). seq_cst:
         * part of the fence-free notify (see parc_lfqueue_push). */
        uint64_t idx = parc_faa(&s->enq, 1, PARC_SEQ_CST);
        if (idx & ENQ_CLOSED)
            return EPIPE;
        if (idx < SLOTS) {
            void *expected = NULL;
            /* release: publishes the item's contents to the consumer that
             * takes it; pairs with its acquire load or exchange. seq_cst:
             * the fence-free notify (see parc_lfqueue_push). */
            if (parc_cas(&s->slots[idx], &expected, item, PARC_SEQ_CST, PARC_RELAXED))
                return 0;
            continue; /* a consumer gave up on this slot: claim another */
        }
        /* The segment is full: append a new one, or help whoever did. */
        /* acquire: pairs with the release CAS that linked the next
         * segment: its initialisation is visible. */
        segment_t *next = parc_load(&s->next, PARC_ACQUIRE);
        if (next == NULL) {
            segment_t *fresh = segment_new();
            if (fresh == NULL)
                return ENOMEM;
            parc_atomic_init(&fresh->slots[0], item);
            parc_atomic_init(&fresh->enq, 1);
            segment_t *expected = NULL;
            /* release: publishes the fresh segment and its first item;
             * pairs with the acquire loads of next. acquire on failure:
             * the winner's segment is read below (pairs likewise).
             * seq_cst: the fence-free notify (see parc_lfqueue_push). */
            if (parc_cas(&s->next, &expected, fresh, PARC_SEQ_CST, PARC_ACQUIRE)) {
                segment_t *old = s;
                /* release: as above, for producers that load the tail. */
                parc_cas(&q->tail, &old, fresh, PARC_RELEASE, PARC_RELAXED);
                return 0;
            }
            free(fresh); /* never shared */
            next = expected;
        }
        if (next == SEALED)
            return EPIPE;
        /* release: the tail now names `next`, whose initialisation we saw
         * through the acquire above; pairs with the tail's acquire load. */
        parc_cas(&q->tail, &s, next, PARC_RELEASE, PARC_RELAXED);
    }
}

int parc_lfqueue_push(parc_lfqueue_t *q, void *item)
{
    if (q == NULL || item == NULL)
        return EINVAL;
    /* Early out only; close's seal decides (see parc_lfqueue_close). */
    if (parc_load(&q->closed, PARC_RELAXED))
        return EPIPE;
    ck_epoch_record_t *r = record_self();
    if (r == NULL)
        return ENOMEM;
    ck_epoch_begin(r, NULL);
    int rc = push_in(q, item);
    section_leave(r);
    /*
     * parc_eventcount_notify_one() without its fence. The eventcount needs the
     * item's publication ordered before the load of the waiter count, and
     * a waiter's registration before its re-check. Here the publication is
     * a seq_cst RMW (the enq FAA and the slot or next CAS in push_in) and
     * the load is seq_cst; the waiter registers, then runs a seq_cst fence
     * F (parc_eventcount_prepare_wait), then re-checks. In the single order S of
     * seq_cst operations either our load comes after F, and then it sees
     * the registration (C11 7.17.3p10: a seq_cst load after F in S reads
     * what was sequenced before F, or later), or it comes before F, and
     * then so do our RMWs, which the re-check after F must see (7.17.3p9).
     * On x86 a seq_cst load is a plain load and a seq_cst RMW costs what a
     * relaxed one does, so the push saves a full fence.
     */
    if (rc == 0 && parc_load(&q->nonempty.waiters, PARC_SEQ_CST) != 0)
        parc_eventcount_wake(&q->nonempty, false);
    return rc;
}

/* Take slot `i` of `s`, which this consumer claimed: the item, or TAKEN
 * when the slot was poisoned (its producer will claim another). */
static void *slot_take(segment_t *s, uint64_t i)
{
    /* acquire: pairs with the producer's release CAS: the item's contents
     * are visible. */
    void *v = parc_load(&s->slots[i], PARC_ACQUIRE);
    if (v != NULL)
        return v;
    /* Wait briefly only if a producer has claimed the slot already. */
    if ((parc_load(&s->enq, PARC_RELAXED) & ~ENQ_CLOSED) > i) {
        for (unsigned n = 0; n < SLOT_WAIT_POLLS; n++) {
            parc_cpu_relax();
            /* acquire: as above. */
            v = parc_load(&s->slots[i], PARC_ACQUIRE);
            if (v != NULL)
                return v;
        }
    }
    /* acquire: if the producer's CAS came first we get its item, whose
     * contents its release CAS published. */
    v = parc_xchg(&s->slots[i], TAKEN, PARC_ACQUIRE);
    return v != NULL ? v : TAKEN;
}

/* Inside an epoch section: one pop. Sets *retired when this call unlinked
 * a drained segment (the caller polls the epoch after leaving). */
static int pop_in(parc_lfqueue_t *q, ck_epoch_record_t *r, void **item, bool *retired)
{
    for (;;) {
        /* acquire: the segment's initialisation is visible; pairs with the
         * release CAS that linked it (next, then head). */
        segment_t *s = parc_load(&q->head, PARC_ACQUIRE);
        /* Read deq before enq: if d >= e then the segment was empty at the
         * moment enq was read (deq only grows). Counts only: relaxed. */
        uint64_t d = parc_load(&s->deq, PARC_RELAXED);
        uint64_t e = parc_load(&s->enq, PARC_RELAXED);
        uint64_t claimed = e & ~ENQ_CLOSED;
        if (d < SLOTS && d < claimed) {
            d = parc_faa(&s->deq, 1, PARC_RELAXED);
            if (d >= SLOTS)
                continue;
            void *v = slot_take(s, d);
            if (v == TAKEN)
                continue;
            *item = v;
            return 0;
        }
        if (d < SLOTS) /* not full, nothing claimable: empty */
            return (e & ENQ_CLOSED) ? EPIPE : EAGAIN;
        /* Every slot here is claimed: move on to the next segment. */
        /* acquire: pairs with the release CAS that linked it. */
        segment_t *next = parc_load(&s->next, PARC_ACQUIRE);
        if (next == NULL)
            return EAGAIN; /* a producer is appending one */
        if (next == SEALED)
            return EPIPE;
        /* The tail must never name a segment behind the head (it would be
         * used after its reclamation): help it past s first. */
        segment_t *t = s;
        /* release: as in push_in; pairs with the tail's acquire load. */
        parc_cas(&q->tail, &t, next, PARC_RELEASE, PARC_RELAXED);
        segment_t *old = s;
        /* release: pairs with the head's acquire load; `next` was
         * published to us by the acquire load above. */
        if (parc_cas(&q->head, &old, next, PARC_RELEASE, PARC_RELAXED)) {
            ck_epoch_call(r, &s->retire, segment_free);
            *retired = true;
        }
    }
}

int parc_lfqueue_pop_try(parc_lfqueue_t *q, void **item)
{
    if (q == NULL || item == NULL)
        return EINVAL;
    ck_epoch_record_t *r = record_self();
    if (r == NULL)
        return ENOMEM;
    bool retired = false;
    ck_epoch_begin(r, NULL);
    int rc = pop_in(q, r, item, &retired);
    section_leave(r);
    if (retired)
        ck_epoch_poll(r); /* free what earlier grace periods allow */
    return rc;
}

struct pop_wait {
    parc_lfqueue_t *q;
    void *item;
    int rc;
};

/* parc_eventcount_await's condition: try to pop; done unless the queue was empty. */
static bool pop_ready(void *arg)
{
    struct pop_wait *w = arg;
    w->rc = parc_lfqueue_pop_try(w->q, &w->item);
    return w->rc != EAGAIN;
}

static int pop_until(parc_lfqueue_t *q, void **item, parc_deadline_t deadline)
{
    struct pop_wait w = { q, NULL, EAGAIN };
    int rc = parc_eventcount_await(&q->nonempty, pop_ready, &w, deadline);
    if (rc != 0)
        return rc;
    if (w.rc == 0)
        *item = w.item;
    return w.rc;
}

int parc_lfqueue_pop(parc_lfqueue_t *q, void **item)
{
    if (q == NULL || item == NULL)
        return EINVAL;
    return pop_until(q, item, PARC_FOREVER);
}

int parc_lfqueue_pop_timed(parc_lfqueue_t *q, void **item, int64_t timeout_ns)
{
    if (q == NULL || item == NULL)
        return EINVAL;
    parc_deadline_t deadline;
    if (parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    if (timeout_ns == 0) {
        int rc = parc_lfqueue_pop_try(q, item);
        return rc == EAGAIN ? ETIMEDOUT : rc;
    }
    return pop_until(q, item, deadline);
}

int parc_lfqueue_close(parc_lfqueue_t *q)
{
    if (q == NULL)
        return EINVAL;
    parc_store(&q->closed, 1, PARC_RELAXED); /* a hint for push's early out */
    ck_epoch_record_t *r = record_self();
    if (r == NULL)
        return ENOMEM;
    ck_epoch_begin(r, NULL);
    for (;;) {
        /* acquire: as in push_in. */
        segment_t *s = parc_load(&q->tail, PARC_ACQUIRE);
        segment_t *next = NULL;
        /* Seal the last segment so that no producer appends another...
         * acq_rel: orders the seal before the ENQ_CLOSED below and, on
         * failure, publishes the appended segment (pairs with its release
         * CAS). */
        if (parc_cas(&s->next, &next, SEALED, PARC_ACQ_REL, PARC_ACQUIRE)) {
            /* ...then stop claims in it. Producers that claimed a slot
             * before this FAA-or deliver their item (pushed before the
             * close); later ones get EPIPE. Counts only: relaxed. */
            parc_for(&s->enq, ENQ_CLOSED, PARC_RELAXED);
            break;
        }
        if (next == SEALED)
            break; /* closed already */
        /* release: as in push_in. */
        parc_cas(&q->tail, &s, next, PARC_RELEASE, PARC_RELAXED);
    }
    section_leave(r);
    parc_eventcount_notify_all(&q->nonempty);
    return 0;
}

bool parc_lfqueue_is_closed(parc_lfqueue_t *q)
{
    return q != NULL && parc_load(&q->closed, PARC_RELAXED) != 0;
}
