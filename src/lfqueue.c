/* parc/lfqueue.h: segments, hazard pointers, push, pop and close. */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

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
    /* A value enq had (without ENQ_CLOSED), stored by consumers beside
     * deq: while deq is below it there are claimed slots, and a consumer
     * that is behind its producers need not pull enq's line (written by
     * every push) at every pop. Racing consumers may store an older
     * value; it is still one enq had, never above it. */
    parc_atomic(uint64_t) enq_seen;
    /* The following segment, NULL while this one is last, SEALED once the
     * queue is closed with this segment last. */
    PARC_CACHE_ALIGNED parc_atomic(struct parc_lfqueue_segment *) next;
    /* Once retired: the next segment of a retired list (its retirer's, or
     * the orphans'); written by whoever holds the list. */
    struct parc_lfqueue_segment *retired_next;
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

/* ---- hazard pointers ------------------------------------------------- */

/*
 * Reclamation by hazard pointers (Michael, "Hazard Pointers: Safe Memory
 * Reclamation for Lock-Free Objects", IEEE TPDS 2004), made sticky: a
 * thread's hazard pointer keeps naming the segment it last used after the
 * operation ends. Publishing a hazard pointer costs a store and a full
 * fence (the store must be visible before the pointer is re-validated);
 * a thread that finds the queue's tail (or head) still equal to its hazard
 * pointer skips both, so a stream of operations pays the fence once per
 * segment (PARC_LFQUEUE_SEGMENT_SLOTS items), not per operation. An epoch
 * scheme (ck_epoch) pays a store and a full fence at every section entry.
 *
 * Why a sticky pointer is safe: it protects an address, not an object. The
 * address was published with a fence F1 and validated after it; every
 * free of a retired segment (retire_and_scan) runs a fence F2 and then
 * reads every hazard pointer. Any scan whose F2 follows F1 in the single
 * order S sees the address and keeps it; a scan whose F2 preceded F1 was
 * of a segment unlinked before F1, which the validation after F1 did not
 * return (a segment, once unlinked, is never linked again; its address may
 * be, as a fresh segment, which is then the one protected). So while the
 * pointer names address a, no segment at a is freed, and a later load of
 * the tail or head that returns a may use it at once.
 *
 * Cost of stickiness: each thread keeps at most two retired segments
 * (one per side: tail and head) from being freed until its next operation
 * on any queue, its call of parc_lfqueue_quiesce, or its exit. That is the
 * "memory given back" bound: a queue that drained holds one segment plus
 * two per thread that used it and went idle.
 *
 * ThreadSanitizer does not model fences: for it, a hazard pointer is
 * stored with release and read by a scan with acquire, so every access a
 * thread made to a segment happens before the scan that sees its pointer
 * move elsewhere and frees the segment.
 *
 * Records: one per thread that ever used a queue, in a global list that
 * only grows (records are reused when threads exit). A thread's record
 * holds its two hazard pointers and the segments it retired that some
 * hazard pointer still named at its last scan. On exit, a pthread key
 * destructor clears its pointers, frees what it can and hands the rest to
 * a global stack of orphans that the next scan by any thread adopts.
 */
enum { HP_TAIL = 0, HP_HEAD = 1, HP_SLOTS = 2 };

/* A line of its own (aligned and sized by its first member), so that
 * scans and other threads' records do not false-share with it. */
typedef struct hp_record {
    PARC_CACHE_ALIGNED parc_atomic(segment_t *) hp[HP_SLOTS];
    parc_atomic(int) owned;          /* 1 while a live thread uses it */
    struct hp_record *next;          /* the registry; fixed once linked */
    segment_t *retired;              /* owner only: retired, not yet freed */
} hp_record_t;

/* The registry (push-only list of records) and the orphans (segments
 * retired by exited threads, pushed singly and taken whole). */
static parc_atomic(hp_record_t *) registry;
static parc_atomic(segment_t *) orphans;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t record_key;
static _Thread_local hp_record_t *self_record;

static void retire_and_scan(hp_record_t *r, segment_t *s);

/* pthread key destructor: runs when a thread that used a queue exits. */
static void record_release(void *arg)
{
    hp_record_t *r = arg;
    /* release: our accesses to the segments we named happen before a scan
     * that sees the pointers cleared and frees them (pairs with the scan's
     * acquire loads). */
    for (int i = 0; i < HP_SLOTS; i++)
        parc_store(&r->hp[i], NULL, PARC_RELEASE);
    retire_and_scan(r, NULL); /* frees what nobody names */
    segment_t *s = r->retired;
    r->retired = NULL;
    while (s != NULL) {
        segment_t *next = s->retired_next;
        segment_t *top = parc_load(&orphans, PARC_RELAXED);
        do {
            s->retired_next = top;
            /* release: the segment's link above (and our accesses to it)
             * are visible to the adopter; pairs with the adopting xchg. */
        } while (!parc_cas_weak(&orphans, &top, s, PARC_RELEASE, PARC_RELAXED));
        s = next;
    }
    /* release: the next owner's use of the record comes after ours; pairs
     * with the acquire CAS in record_self(). */
    parc_store(&r->owned, 0, PARC_RELEASE);
    self_record = NULL;
}

static void key_init(void)
{
    if (pthread_key_create(&record_key, record_release) != 0)
        abort(); /* only fails when the process is out of keys */
}

/* The calling thread's record, registered on first use; NULL on ENOMEM. */
static hp_record_t *record_self(void)
{
    hp_record_t *r = self_record;
    if (r != NULL)
        return r;
    pthread_once(&key_once, key_init);
    /* acquire: the records' fixed fields; pairs with the release CAS that
     * linked each one. */
    for (r = parc_load(&registry, PARC_ACQUIRE); r != NULL; r = r->next) {
        int free_ = 0;
        /* acquire: pairs with the release store in record_release(). */
        if (parc_load(&r->owned, PARC_RELAXED) == 0 &&
            parc_cas(&r->owned, &free_, 1, PARC_ACQUIRE, PARC_RELAXED))
            break;
    }
    if (r == NULL) {
        r = aligned_alloc(PARC_CACHELINE, sizeof *r);
        if (r == NULL)
            return NULL;
        for (int i = 0; i < HP_SLOTS; i++)
            parc_atomic_init(&r->hp[i], NULL);
        parc_atomic_init(&r->owned, 1);
        r->retired = NULL;
        hp_record_t *top = parc_load(&registry, PARC_RELAXED);
        do {
            r->next = top;
            /* release: publishes the record's fields to scanners and to
             * later record_self() walks (their acquire loads). */
        } while (!parc_cas_weak(&registry, &top, r, PARC_RELEASE, PARC_RELAXED));
    }
    if (pthread_setspecific(record_key, r) != 0) {
        parc_store(&r->owned, 0, PARC_RELEASE); /* left for another thread */
        return NULL;
    }
    self_record = r;
    return r;
}

/* Protect the segment that *src names with hazard pointer `slot` of r and
 * return it: while r->hp[slot] names it, no scan frees it. */
static segment_t *protect(hp_record_t *r, int slot, parc_atomic(segment_t *) *src)
{
    /* acquire: the segment's initialisation is visible; pairs with the
     * release CAS that linked it (next, then tail or head). */
    segment_t *s = parc_load(src, PARC_ACQUIRE);
    for (;;) {
        if (parc_load(&r->hp[slot], PARC_RELAXED) == s) /* ours: sticky */
            return s;
        /* release: see "ThreadSanitizer" above (a plain store on x86). */
        parc_store(&r->hp[slot], s, PARC_RELEASE);
        /* F1: the pointer is visible before the re-validation below;
         * pairs with the scan's fence F2 (see above). */
        parc_fence(PARC_SEQ_CST);
        /* acquire: as above. */
        segment_t *again = parc_load(src, PARC_ACQUIRE);
        if (again == s)
            return s;
        s = again;
    }
}

/* Does some thread's hazard pointer name s? (after the fence F2) */
static bool named(segment_t *s)
{
    /* acquire (registry): pairs with the release CAS that linked each
     * record. acquire (pointers): see "ThreadSanitizer" above. */
    for (hp_record_t *r = parc_load(&registry, PARC_ACQUIRE); r != NULL; r = r->next)
        for (int i = 0; i < HP_SLOTS; i++)
            if (parc_load(&r->hp[i], PARC_ACQUIRE) == s)
                return true;
    return false;
}

/* Add s (unless NULL) to r's retired segments, adopt the orphans, and free
 * every one that no hazard pointer names. Runs once per segment drained,
 * so the scan (records x retired) is off the per-item path. */
static void retire_and_scan(hp_record_t *r, segment_t *s)
{
    if (s != NULL) {
        s->retired_next = r->retired;
        r->retired = s;
    }
    /* acquire: the orphans' links and their exiting threads' accesses;
     * pairs with the release CAS in record_release(). Relaxed test first:
     * the stack is almost always empty. */
    if (parc_load(&orphans, PARC_RELAXED) != NULL) {
        segment_t *o = parc_xchg(&orphans, NULL, PARC_ACQUIRE);
        while (o != NULL) {
            segment_t *next = o->retired_next;
            o->retired_next = r->retired;
            r->retired = o;
            o = next;
        }
    }
    if (r->retired == NULL)
        return;
    /* F2: every segment here was unlinked before this fence; a protect()
     * whose fence F1 comes after it in S re-validates and cannot return
     * one of them; one whose F1 came before is seen by the loads below. */
    parc_fence(PARC_SEQ_CST);
    segment_t **link = &r->retired;
    while (*link != NULL) {
        segment_t *cur = *link;
        if (named(cur)) {
            link = &cur->retired_next;
        } else {
            *link = cur->retired_next;
            free(cur);
        }
    }
}

void parc_lfqueue_quiesce(void)
{
    hp_record_t *r = self_record;
    if (r == NULL)
        return;
    /* release: as in record_release(). */
    for (int i = 0; i < HP_SLOTS; i++)
        parc_store(&r->hp[i], NULL, PARC_RELEASE);
    retire_and_scan(r, NULL);
}

/* ---- segments ---------------------------------------------------------- */

static segment_t *segment_new(void)
{
    segment_t *s = aligned_alloc(PARC_CACHELINE, sizeof *s);
    if (s == NULL)
        return NULL;
    parc_atomic_init(&s->enq, 0);
    parc_atomic_init(&s->deq, 0);
    parc_atomic_init(&s->enq_seen, 0);
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

/* One push; r is the calling thread's record. */
static int push_in(parc_lfqueue_t *q, hp_record_t *r, void *item)
{
    for (;;) {
        segment_t *s = protect(r, HP_TAIL, &q->tail);
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
    hp_record_t *r = record_self();
    if (r == NULL)
        return ENOMEM;
    int rc = push_in(q, r, item);
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

/* One pop; r is the calling thread's record. Sets *retired to the drained
 * segment this call unlinked, if any: the caller retires it once the
 * head-side hazard pointer has moved past it (so that its own pointer does
 * not keep it). */
static int pop_in(parc_lfqueue_t *q, hp_record_t *r, void **item, segment_t **retired)
{
    for (;;) {
        segment_t *s = protect(r, HP_HEAD, &q->head);
        /* Is slot d claimed by a producer? Three sources, cheapest first:
         *  - the hint enq_seen, beside deq on the consumers' line: d below
         *    it means slot d was claimed already (both counts only grow);
         *  - the slot itself: not NULL (an item, or TAKEN) means it was
         *    claimed (a producer fills only a slot it claimed; TAKEN is
         *    written only by a consumer that claimed it, so deq has moved
         *    past d and the FAA below returns a later slot). A consumer
         *    that keeps up with its producers finds its slot filled here
         *    and never reads enq, which every push writes: reading it
         *    after every item pulled that line away from the next push
         *    (two transfers per item instead of one: the slot's line is
         *    read anyway). The slot's line is the one the producer
         *    writes when it publishes. Relaxed: only a hint that slot d
         *    is claimed; slot_take's acquire load reads the item;
         *  - enq itself, when the slot is still empty (empty queue, or a
         *    producer between its claim and its fill).
         * Read deq before enq: if d >= e then the segment was empty at
         * the moment enq was read (deq only grows). Counts only: relaxed. */
        uint64_t d = parc_load(&s->deq, PARC_RELAXED);
        uint64_t claimed = parc_load(&s->enq_seen, PARC_RELAXED), e = claimed;
        if (d >= claimed) {
            if (d < SLOTS && parc_load(&s->slots[d], PARC_RELAXED) != NULL) {
                claimed = d + 1;
            } else {
                e = parc_load(&s->enq, PARC_RELAXED);
                claimed = e & ~ENQ_CLOSED;
                if (claimed > d)
                    parc_store(&s->enq_seen, claimed, PARC_RELAXED); /* a hint */
            }
        }
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
            if (*retired != NULL) /* a second one in one call: rare */
                retire_and_scan(r, *retired);
            *retired = s;
        }
    }
}

int parc_lfqueue_pop_try(parc_lfqueue_t *q, void **item)
{
    if (q == NULL || item == NULL)
        return EINVAL;
    hp_record_t *r = record_self();
    if (r == NULL)
        return ENOMEM;
    segment_t *retired = NULL;
    int rc = pop_in(q, r, item, &retired);
    if (retired != NULL)
        retire_and_scan(r, retired);
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
    hp_record_t *r = record_self();
    if (r == NULL)
        return ENOMEM;
    for (;;) {
        segment_t *s = protect(r, HP_TAIL, &q->tail);
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
    parc_eventcount_notify_all(&q->nonempty);
    return 0;
}

bool parc_lfqueue_is_closed(parc_lfqueue_t *q)
{
    return q != NULL && parc_load(&q->closed, PARC_RELAXED) != 0;
}
