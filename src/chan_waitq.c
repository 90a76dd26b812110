/*
 * parc/chan.h's queues of blocked callers (all under the channel's
 * lock): a doubly linked list of records per direction (sendq, recvq),
 * the count of queued callers a ring's waker reads without the lock, and
 * the claim/complete protocol of src/chan_internal.h: claim a record
 * (WAITING -> CLAIMED) and finish it, or hand a value over in one CAS.
 * Both kinds use them: the locked kinds to hand values over, a ring to
 * tell one blocked caller to try again.
 */
#define _GNU_SOURCE
#include <string.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include "chan_internal.h"

#ifdef PARC_CHAN_PROBE
_Thread_local parc_chan_probe_t parc_chan_probe_;
#endif

/* ---- the queues of blocked callers (lock held) ---------------------------- */

static void waiting_add(parc_chan_t *c, bool send, int d)
{
    /* Only a ring reads the counts (chan_ring.c's ring_wake). The
     * locked kinds skip them: they live on the read-mostly line that
     * every operation reads, and a rendezvous hand-off queues and
     * unlinks a record each time. */
    if (!parc_chan_is_ring_(c))
        return;
    parc_atomic(uint32_t) *n = parc_chan_waiting_of_(c, send);
    /* relaxed: written under the lock we hold; a ring's waker reads it
     * after its seq_cst fence, and the queued caller fences (seq_cst)
     * after unlocking, before it re-checks the ring (ring_wake). */
    parc_store(n, parc_load(n, PARC_RELAXED) + (uint32_t)d, PARC_RELAXED);
}

void parc_chan_enqueue_(parc_chan_t *c, bool send, parc_chan_waiter_t *w)
{
    parc_chan_waitq_t *q = send ? &c->sendq : &c->recvq;
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail != NULL)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    w->linked = true;
    waiting_add(c, send, 1);
    /* A queued sender makes a rendezvous receivable, a queued receiver
     * makes it sendable. */
    parc_chan_fd_update_(c);
}

static void unlink_waiter(parc_chan_t *c, bool send, parc_chan_waiter_t *w)
{
    parc_chan_waitq_t *q = send ? &c->sendq : &c->recvq;
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->next = w->prev = NULL;
    w->linked = false;
    waiting_add(c, send, -1);
}

void parc_chan_dequeue_(parc_chan_t *c, bool send, parc_chan_waiter_t *w)
{
    if (!w->linked)
        return;
    unlink_waiter(c, send, w);
    parc_chan_fd_update_(c);
}

/* Whether `q` holds a record of a caller other than `self` (perhaps one
 * that is stale: then the operation finds EAGAIN after all). */
bool parc_chan_has_other_than_(const parc_chan_waitq_t *q, const parc_sel_t *self)
{
    for (const parc_chan_waiter_t *w = q->head; w != NULL; w = w->next)
        if (w->sel != self)
            return true;
    return false;
}

/* Claim the first live record of the send (receive) queue that is not
 * `self`'s: unlink it and CAS its state to CLAIMED. Records whose claim
 * fails are stale (their caller completed another case or gave up) and
 * are unlinked on the way. */
parc_chan_waiter_t *parc_chan_claim_first_(parc_chan_t *c, bool send, parc_sel_t *self)
{
    parc_chan_waiter_t *w = (send ? &c->sendq : &c->recvq)->head;
    while (w != NULL) {
        parc_chan_waiter_t *next = w->next;
        if (w->sel != self) {
            unlink_waiter(c, send, w);
            /* relaxed: the record and the buffer it points at were
             * published by the channel's lock, which we hold; the claim
             * itself publishes nothing (the final exchange does). */
            uint32_t v = parc_load(&w->sel->state, PARC_RELAXED);
            while (parc_sel_waiting(v))
                if (parc_cas(&w->sel->state, &v,
                             PARC_SEL_WORD(w->index, PARC_SEL_CLAIMED) |
                                 (v & PARC_SEL_PARKED),
                             PARC_RELAXED, PARC_RELAXED))
                    return w;
        }
        w = next;
    }
    return NULL;
}

/* Complete a claimed record with DONE, CLOSED or NOTIFIED (see
 * chan_internal.h for why the two wake-up kinds are ordered
 * differently). */
void parc_chan_finish_(parc_chan_waiter_t *w, uint32_t kind)
{
    parc_sel_t *s = w->sel;
    uint32_t final = PARC_SEL_WORD(w->index, kind);
    int fd = s->wake_fd;
    if (fd >= 0) {
#ifdef __linux__
        eventfd_write(fd, 1);
#endif
        /* release: publishes the value copied into (or out of) the
         * caller's buffer; pairs with the acquire loads in
         * parc_sel_wait_() and select.c's wait. */
        parc_store(&s->state, final, PARC_RELEASE);
    } else {
        /* release: as above. */
        uint32_t old = parc_xchg(&s->state, final, PARC_RELEASE);
        if (old & PARC_SEL_PARKED) {
            CHAN_PROBE(wakes, 1);
            parc_park_wake_one(&s->state); /* address only */
        }
    }
}

#if defined(__GNUC__)
/* Ask for w's line exclusive before reading it: the claimer writes it
 * (unlink, the value, the state), and a read first would fetch it shared
 * from the spinning caller's cache and then upgrade it (two transfers). */
#define CHAN_PREFETCHW_(p) __builtin_prefetch((p), 1, 3)
#else
#define CHAN_PREFETCHW_(p) ((void)(p))
#endif

/* Complete w's caller with `kind` in one CAS from WAITING (PARKED or
 * not): true when it was still waiting (then it is woken if it parked),
 * false when it was stale. Whatever the hand-off moves has moved already:
 * into memory only w's caller reads after DONE, or out of w's value into
 * the claimer's temporary. */
static bool complete_cas(parc_chan_waiter_t *w, uint32_t kind)
{
    parc_sel_t *s = w->sel;
    uint32_t final = PARC_SEL_WORD(w->index, kind);
    uint32_t v = PARC_SEL_WAITING; /* a blind CAS first: see mutex.h */
    do {
        /* release: publishes the value copied into the caller's record,
         * and orders our copy out of a sender's value before it reuses
         * its buffer; pairs with the acquire loads of the state in
         * chan_wait.c's parc_chan_sel_wait_() and select.c. */
        if (parc_cas(&s->state, &v, final, PARC_RELEASE, PARC_RELAXED)) {
            if (v & PARC_SEL_PARKED) {
                CHAN_PROBE(wakes, 1);
                parc_park_wake_one(&s->state); /* address only */
            }
            return true;
        }
    } while (parc_sel_waiting(v));
    return false;
}

/* A hand-off on a locked kind (lock held): take the first live record
 * of the send (receive) queue that is not `self`'s and complete it with
 * `kind`, moving the value `in` into a blocked receiver or a blocked
 * sender's value out to `out` (both NULL: a close moves nothing). Stale
 * records are unlinked on the way. Returns whether a record was
 * completed.
 *
 * The common case is one CAS on the caller's state word, WAITING ->
 * final, after the value moved: into a receiver's own buffer (the record
 * carries it; nobody reads it unless the CAS succeeds), or out of a
 * sender's value into a temporary that reaches `out` only after the CAS
 * succeeds. So the caller, spinning on that word, sees one change, and
 * the line moves to us once and back once. The rest (a select's receive
 * into the user's buffer, values above PARC_CHAN_INLINE_VALUE, callers woken
 * through an eventfd, which must be written before the final state) take
 * the claim, copy, finish protocol of chan_internal.h. */
bool parc_chan_claim_complete_(parc_chan_t *c, bool send, parc_sel_t *self,
                           uint32_t kind, const void *in, void *out)
{
    parc_chan_waiter_t *w = (send ? &c->sendq : &c->recvq)->head;
    while (w != NULL) {
        CHAN_PREFETCHW_(w);
        parc_chan_waiter_t *next = w->next;
        if (w->sel == self) {
            w = next;
            continue;
        }
        unlink_waiter(c, send, w);
        bool one_cas = w->sel->wake_fd < 0 && (in == NULL || w->own_buf) &&
                       (out == NULL || c->elem_size <= PARC_CHAN_INLINE_VALUE);
        if (one_cas) {
            unsigned char tmp[PARC_CHAN_INLINE_VALUE];
            if (in != NULL)
                memcpy(w->buf, in, c->elem_size);
            else if (out != NULL)
                memcpy(tmp, w->buf, c->elem_size);
            if (complete_cas(w, kind)) {
                if (out != NULL)
                    memcpy(out, tmp, c->elem_size);
                return true;
            }
        } else {
            /* relaxed: as in parc_chan_claim_first_(). */
            uint32_t v = parc_load(&w->sel->state, PARC_RELAXED);
            while (parc_sel_waiting(v))
                if (parc_cas(&w->sel->state, &v,
                             PARC_SEL_WORD(w->index, PARC_SEL_CLAIMED) |
                                 (v & PARC_SEL_PARKED),
                             PARC_RELAXED, PARC_RELAXED)) {
                    if (in != NULL)
                        memcpy(w->buf, in, c->elem_size);
                    else if (out != NULL)
                        memcpy(out, w->buf, c->elem_size);
                    parc_chan_finish_(w, kind);
                    return true;
                }
        }
        w = next;
    }
    return false;
}
