/*
 * parc/select.h: poll, register, park, withdraw. The numbered steps are
 * those of the protocol at the top of include/parc/select.h; the state
 * word is described in src/chan_internal.h.
 *
 * Invariants:
 *   1. A select's state word leaves WAITING once per round, by one CAS:
 *      a channel's claim (the case is then completed by that thread) or the
 *      select's own abort (it then completes at most one case itself, or
 *      none and starts another round).
 *   2. A select completes a case of its own only after its abort CAS
 *      succeeded, so it never completes two.
 *   3. Before a round ends, every record of the round is withdrawn under
 *      its channel's lock and every eventcount registration cancelled; the
 *      next round starts from WAITING with nothing of the last one visible.
 *   4. A wake-up that a semaphore meant for one waiter and that this
 *      select did not use is passed on (notify_one) before it returns.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#endif

#include "chan_internal.h"
#include "parc/config.h"
#include "parc/fiber.h"
#include "parc/select.h"
#include "select_hooks.h"

/* How long a select parks at most before it polls the cases that cannot
 * wake it (see "fallbacks" in parc/select.h). */
#define SLICE_NS PARC_NS_PER_MS

/* Per-case state of one round. */
typedef struct slot {
    parc_chan_waiter_t w;  /* a channel case's record */
    uint32_t key;          /* eventcount key, or a future's state as seen */
    bool registered;       /* w queued / eventcount registration held */
} slot_t;

typedef struct round {
    parc_select_case_t *cases;
    size_t n;
    uint8_t order[PARC_SELECT_MAX];
    slot_t slot[PARC_SELECT_MAX];
    parc_sel_t sel;
    bool has_fd, has_watch; /* fd cases; event, semaphore or future cases */
    bool spun;              /* this select has spun once before parking */
    bool fiber;             /* called from a fiber (parc/fiber.h) */
} round_t;

/* ---- per-thread resources ------------------------------------------------ */

static _Thread_local uint64_t rng;

static uint32_t rng_next(void)
{
    if (rng == 0)
        rng = (uint64_t)parc_now_ns() ^ ((uintptr_t)&rng * 0x9e3779b97f4a7c15u) ^ 1u;
    /* xorshift64* (Vigna, 2016) */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545f4914f6cdd1du) >> 32);
}

#ifdef __linux__
/* The eventfd a select with fd cases is woken through: one per thread,
 * closed when the thread exits. */
static pthread_key_t efd_key;
static pthread_once_t efd_once = PTHREAD_ONCE_INIT;
static _Thread_local int thread_efd = -1;

static void efd_close(void *p)
{
    close((int)(intptr_t)p - 1);
}

static void efd_key_make(void)
{
    (void)pthread_key_create(&efd_key, efd_close);
}

static int thread_eventfd(int *out)
{
    if (thread_efd < 0) {
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0)
            return errno;
        pthread_once(&efd_once, efd_key_make);
        (void)pthread_setspecific(efd_key, (void *)(intptr_t)(fd + 1));
        thread_efd = fd;
    }
    *out = thread_efd;
    return 0;
}
#endif

/* ---- checking the cases ---------------------------------------------------- */

static bool is_chan_case(const parc_select_case_t *c)
{
    return c->kind == PARC_SELECT_SEND || c->kind == PARC_SELECT_RECV;
}

static int validate(round_t *r, unsigned flags)
{
    if (r->cases == NULL || r->n == 0 || r->n > PARC_SELECT_MAX ||
        (flags & ~PARC_SELECT_ORDERED) != 0)
        return EINVAL;
    r->has_fd = r->has_watch = false;
    for (size_t i = 0; i < r->n; i++) {
        const parc_select_case_t *c = &r->cases[i];
        switch (c->kind) {
        case PARC_SELECT_SEND:
        case PARC_SELECT_RECV:
            if (c->obj != NULL &&
                (!parc_chan_valid_(c->obj) || c->buf == NULL))
                return EINVAL;
            break;
        case PARC_SELECT_FUTURE:
        case PARC_SELECT_EVENT:
        case PARC_SELECT_SEM:
            if (c->obj == NULL)
                return EINVAL;
            r->has_watch = true;
            break;
        case PARC_SELECT_READABLE:
        case PARC_SELECT_WRITABLE:
            if (c->fd < 0)
                return EINVAL;
            r->has_fd = true;
            break;
        default:
            return EINVAL;
        }
    }
    return 0;
}

/* Go's pollorder: a uniformly random permutation (Fisher-Yates), or the
 * array order. */
static void make_order(round_t *r, unsigned flags)
{
    for (size_t i = 0; i < r->n; i++)
        r->order[i] = (uint8_t)i;
    if (flags & PARC_SELECT_ORDERED)
        return;
    for (size_t i = r->n - 1; i > 0; i--) {
        /* j uniform in [0, i] by a multiply and a shift (Lemire, "Fast
         * random integer generation in an interval", 2019; Go's
         * fastrandn), not a division; the bias, at most (i + 1) / 2^32,
         * is below anything a select's fairness can show. */
        size_t j = (size_t)(((uint64_t)rng_next() * (uint64_t)(i + 1)) >> 32);
        uint8_t t = r->order[i];
        r->order[i] = r->order[j];
        r->order[j] = t;
    }
}

static short fd_events(const parc_select_case_t *c)
{
    return c->kind == PARC_SELECT_READABLE ? POLLIN : POLLOUT;
}

static bool fd_ready(const parc_select_case_t *c)
{
    struct pollfd p = { c->fd, fd_events(c), 0 };
    return poll(&p, 1, 0) > 0;
}

/* Whether a non-channel case is ready now (consumes nothing). */
static bool watch_ready(const parc_select_case_t *c)
{
    switch (c->kind) {
    case PARC_SELECT_FUTURE:
        return parc_future_is_done(c->obj);
    case PARC_SELECT_EVENT:
        return parc_event_is_set(c->obj);
    case PARC_SELECT_SEM:
        return parc_sem_value(c->obj) > 0;
    default:
        return fd_ready(c);
    }
}

/* Complete a ready non-channel case: only a semaphore's can fail (EAGAIN:
 * another thread took the permit). */
static int watch_complete(const parc_select_case_t *c)
{
    if (c->kind == PARC_SELECT_SEM)
        return parc_sem_acquire_try(c->obj, 1);
    return watch_ready(c) ? 0 : EAGAIN;
}

/* ---- step 1: poll ------------------------------------------------------------ */

static int poll_case(parc_select_case_t *c)
{
    if (!is_chan_case(c))
        return watch_complete(c);
    parc_chan_t *ch = c->obj;
    if (ch == NULL)
        return EAGAIN;
    return parc_chan_poll_(ch, c->kind == PARC_SELECT_SEND, c->buf, NULL);
}

static int poll_all(round_t *r, size_t *index)
{
    for (size_t k = 0; k < r->n; k++) {
        size_t i = r->order[k];
        int rc = poll_case(&r->cases[i]);
        if (rc != EAGAIN) {
            *index = i;
            return rc;
        }
    }
    return EAGAIN;
}

/* ---- steps 2 and 4: register and withdraw ---------------------------------- */

static parc_eventcount_t *ec_of(const parc_select_case_t *c)
{
    if (c->kind == PARC_SELECT_EVENT)
        return &((parc_event_t *)c->obj)->ec;
    if (c->kind == PARC_SELECT_SEM)
        return &((parc_sem_t *)c->obj)->ec;
    return NULL;
}

/* Withdraw every record and registration of the round (invariant 3).
 * `taken` is the case completed, or SIZE_MAX. */
static void withdraw(round_t *r, size_t taken)
{
    for (size_t i = 0; i < r->n; i++) {
        slot_t *s = &r->slot[i];
        if (!s->registered)
            continue;
        s->registered = false;
        parc_select_case_t *c = &r->cases[i];
        if (is_chan_case(c)) {
            parc_chan_unregister_(c->obj, c->kind == PARC_SELECT_SEND, &s->w);
            continue;
        }
        parc_eventcount_t *ec = ec_of(c);
        if (ec == NULL)
            continue; /* a future: its WAITERS bit costs a spare wake-up */
        parc_eventcount_cancel_wait(ec);
        /* Invariant 4: a release may have woken us instead of another
         * acquirer. */
        if (c->kind == PARC_SELECT_SEM && i != taken &&
            parc_sem_value(c->obj) > 0)
            parc_eventcount_notify_one(ec);
    }
#ifdef __linux__
    if (r->sel.wake_fd >= 0) {
        eventfd_t drained;
        (void)eventfd_read(r->sel.wake_fd, &drained); /* non-blocking */
    }
#endif
}

/* What register_all found. */
enum { REG_WAIT, REG_SELF, REG_CLAIMED, REG_RETRY };

/* A case turned out ready while registering: take the select back and
 * complete it (REG_SELF, *rc its status), or see that a channel claimed
 * it first (REG_CLAIMED), or find the case gone again (REG_RETRY). */
static int take_self(round_t *r, size_t i, int *rc)
{
    if (!parc_sel_abort(&r->sel))
        return REG_CLAIMED;
    parc_select_case_t *c = &r->cases[i];
    if (is_chan_case(c)) {
        *rc = parc_chan_poll_(c->obj, c->kind == PARC_SELECT_SEND, c->buf,
                              &r->sel);
    } else {
        *rc = watch_complete(c);
    }
    return *rc == EAGAIN ? REG_RETRY : REG_SELF;
}

/* Step 2: register every case, in the poll order, re-checking each. */
static int register_all(round_t *r, size_t *index, int *rc)
{
    for (size_t k = 0; k < r->n; k++) {
        size_t i = r->order[k];
        parc_select_case_t *c = &r->cases[i];
        slot_t *s = &r->slot[i];
        int got = REG_WAIT;
        if (is_chan_case(c)) {
            parc_chan_t *ch = c->obj;
            if (ch == NULL)
                continue;
            parc_chan_waiter_t w = { NULL, NULL, &r->sel, c->buf,
                                     (uint32_t)i, false, false };
            s->w = w;
            s->registered = true; /* withdraw() unlinks it if queued */
            if (parc_chan_register_(ch, c->kind == PARC_SELECT_SEND, &s->w))
                got = take_self(r, i, rc);
        } else {
            parc_eventcount_t *ec = ec_of(c);
            bool ready;
            if (ec != NULL) {
                s->key = parc_eventcount_prepare_wait(ec); /* then re-check */
                s->registered = true;
                ready = watch_ready(c);
            } else if (c->kind == PARC_SELECT_FUTURE) {
                ready = parc_future_watch_(c->obj, &s->key);
            } else {
                ready = fd_ready(c);
            }
            if (ready)
                got = take_self(r, i, rc);
        }
        if (got != REG_WAIT) {
            *index = i;
            return got;
        }
    }
    return REG_WAIT;
}

/* ---- step 3: park ------------------------------------------------------------ */

#if defined(__linux__) && PARC_PARK_FUTEX && defined(SYS_futex_waitv)
#define HAVE_WAITV 1
static parc_atomic(int) waitv_missing; /* ENOSYS seen once */

/* Park on the state word and on every event's, semaphore's and future's
 * word at once (futex_waitv, Linux 5.16). Returns 0, or ENOSYS. */
static int park_waitv(round_t *r, parc_deadline_t deadline)
{
    struct futex_waitv v[PARC_SELECT_MAX + 1];
    unsigned nv = 0;
    uint32_t self = parc_sel_mark_parked(&r->sel);
    if (!parc_sel_waiting(self))
        return 0; /* claimed: the caller waits for the final state */
    memset(v, 0, sizeof v);
    v[nv].uaddr = (uintptr_t)&r->sel.state;
    v[nv].val = self;
    v[nv++].flags = FUTEX_32 | FUTEX_PRIVATE_FLAG;
    for (size_t i = 0; i < r->n; i++) {
        parc_select_case_t *c = &r->cases[i];
        parc_park_word_t *word = NULL;
        if (c->kind == PARC_SELECT_FUTURE)
            word = &((parc_future_t *)c->obj)->state;
        else if (ec_of(c) != NULL)
            word = &ec_of(c)->epoch;
        if (word == NULL)
            continue;
        v[nv].uaddr = (uintptr_t)word;
        v[nv].val = r->slot[i].key;
        v[nv++].flags = FUTEX_32 | FUTEX_PRIVATE_FLAG;
    }
    struct timespec ts, *tsp = NULL;
    if (deadline != PARC_FOREVER) {
        ts = parc_deadline_timespec(deadline);
        tsp = &ts;
    }
#ifdef PARC_CHAOS
    parc_chaos_block();
#endif
    long rc = syscall(SYS_futex_waitv, v, nv, 0, tsp, CLOCK_MONOTONIC);
    int err = rc < 0 ? errno : 0;
#ifdef PARC_CHAOS
    parc_chaos_unblock();
#endif
    if (err == ENOSYS) {
        parc_store(&waitv_missing, 1, PARC_RELAXED); /* relaxed: a hint */
        return ENOSYS;
    }
    return 0; /* woken, changed, timed out or interrupted: re-check */
}
#endif

#ifdef __linux__
/* Park in ppoll on the fd cases and the thread's eventfd. */
static void park_fds(round_t *r, parc_deadline_t deadline)
{
    struct pollfd p[PARC_SELECT_MAX + 1];
    nfds_t np = 0;
    for (size_t i = 0; i < r->n; i++) {
        parc_select_case_t *c = &r->cases[i];
        if (c->kind == PARC_SELECT_READABLE || c->kind == PARC_SELECT_WRITABLE) {
            p[np].fd = c->fd;
            p[np].events = fd_events(c);
            p[np++].revents = 0;
        }
    }
    p[np].fd = r->sel.wake_fd;
    p[np].events = POLLIN;
    p[np++].revents = 0;
    struct timespec ts, *tsp = NULL;
    if (deadline != PARC_FOREVER) {
        int64_t left = parc_deadline_remaining(deadline);
        ts.tv_sec = (time_t)(left / PARC_NS_PER_S);
        ts.tv_nsec = (long)(left % PARC_NS_PER_S);
        tsp = &ts;
    }
#ifdef PARC_CHAOS
    parc_chaos_block();
#endif
    (void)ppoll(p, np, tsp, NULL);
#ifdef PARC_CHAOS
    parc_chaos_unblock();
#endif
}
#endif

/* Wait for a claimed state to become final. In eventfd mode the finisher
 * does not wake the word (see chan_internal.h): the claimer is inside its
 * critical section, so yield until it is done. */
static uint32_t await_final(round_t *r)
{
    if (r->sel.wake_fd < 0)
        return parc_sel_wait_(&r->sel, PARC_FOREVER);
    for (;;) {
        /* acquire: pairs with the finisher's release store. */
        uint32_t v = parc_load(&r->sel.state, PARC_ACQUIRE);
        if (parc_sel_final(v))
            return v;
        parc_yield();
    }
}

/* Step 3. Returns the final state when a channel claimed the select, or
 * PARC_SEL_ABORTED when the select took itself back (something else may
 * be ready, or the deadline passed). */
static uint32_t park(round_t *r, parc_deadline_t deadline)
{
    if (!r->has_fd && !r->has_watch) /* only channels can wake us: one word */
        return parc_sel_wait_(&r->sel, deadline); /* spins, then parks */
    /* Spin before the first park only: a later park follows a slice that
     * ended with nothing ready (or a false alarm), and spinning again at
     * every slice would make an idle select that polls (the fallbacks)
     * burn a few percent of a core. */
    for (unsigned i = 0; !r->spun && i < PARC_SPIN_POLLS; i++) {
        /* relaxed: only a hint to stop spinning; await_final reads the
         * state again with acquire. */
        if (!parc_sel_waiting(parc_load(&r->sel.state, PARC_RELAXED)))
            return await_final(r);
        parc_spin_poll(i);
    }
    r->spun = true;
    parc_deadline_t until = deadline;
    bool sliced = true;
#ifdef __linux__
    if (r->has_fd && !r->fiber) {
        sliced = r->has_watch;
    }
#endif
#ifdef HAVE_WAITV
    if (!r->has_fd && !r->fiber && !parc_load(&waitv_missing, PARC_RELAXED))
        sliced = false;
#endif
    if (sliced) {
        parc_deadline_t slice = parc_add_sat(parc_now_ns(), SLICE_NS);
        if (slice < until)
            until = slice;
    }
#ifdef __linux__
    if (r->has_fd && !r->fiber)
        park_fds(r, until);
    else
#endif
    {
#ifdef HAVE_WAITV
        if (sliced || park_waitv(r, until) == ENOSYS)
#endif
        {
            uint32_t self = parc_sel_mark_parked(&r->sel);
            if (parc_sel_waiting(self))
                parc_park_wait(&r->sel.state, self, until);
        }
    }
    if (parc_sel_abort(&r->sel))
        return PARC_SEL_ABORTED;
    return await_final(r);
}

/* ---- the select ---------------------------------------------------------------- */

static int select_until(parc_select_case_t *cases, size_t n, unsigned flags,
                        size_t *index, bool block, parc_deadline_t deadline)
{
    round_t r;
    r.cases = cases;
    r.n = n;
    int rc = validate(&r, flags);
    if (rc != 0 || index == NULL)
        return EINVAL;
    r.sel.wake_fd = -1;
    r.spun = false;
    r.fiber = false;
    bool prepared = false; /* for waiting: the two facts below */
    for (;;) {
        make_order(&r, flags);
        rc = poll_all(&r, index);                       /* step 1 */
        if (rc != EAGAIN)
            return rc;
        if (!block)
            return EAGAIN;
        if (parc_deadline_passed(deadline))
            return ETIMEDOUT;
        if (!prepared) { /* only a select that waits needs them */
            prepared = true;
            /* A fiber parks through parc_park_wait (the fiber runtime's
             * hook parks the fiber, its worker runs other work); ppoll
             * and futex_waitv would block the worker. So a fiber's select
             * that has fd, event, semaphore or future cases parks on its
             * own word in slices and polls those cases between them, as
             * where futex_waitv is missing. */
            r.fiber = parc_fiber_current() != NULL;
#ifdef __linux__
            if (r.has_fd && !r.fiber && (rc = thread_eventfd(&r.sel.wake_fd)) != 0)
                return rc;
#endif
        }
        parc_atomic_init(&r.sel.state, PARC_SEL_WAITING);
        for (size_t i = 0; i < n; i++)
            r.slot[i].registered = false;
        size_t got_index = SIZE_MAX;
        int got = register_all(&r, &got_index, &rc);     /* step 2 */
        uint32_t final = PARC_SEL_ABORTED;
        if (got == REG_WAIT)
            final = park(&r, deadline);                   /* step 3 */
        else if (got == REG_CLAIMED)
            final = await_final(&r);
        if (got == REG_SELF) {
            withdraw(&r, got_index);                      /* step 4 */
            *index = got_index;
            return rc;
        }
        if (final != PARC_SEL_ABORTED &&
            PARC_SEL_KIND(final) == PARC_SEL_NOTIFIED) {
            /* A bounded channel chose this select for the value (room)
             * that woke it: poll that case before any other, so the
             * wake-up is not lost on a case the select then ignores. */
            size_t i = PARC_SEL_CASE(final);
            withdraw(&r, SIZE_MAX);
            parc_select_case_t *c = &cases[i];
            rc = parc_chan_poll_(c->obj, c->kind == PARC_SELECT_SEND, c->buf,
                                 NULL);
            if (rc != EAGAIN) {
                *index = i;
                return rc;
            }
            continue; /* taken by another thread meanwhile: a new round */
        }
        if (final != PARC_SEL_ABORTED) {
            size_t i = PARC_SEL_CASE(final);
            withdraw(&r, i);
            *index = i;
            return PARC_SEL_KIND(final) == PARC_SEL_DONE ? 0 : EPIPE;
        }
        withdraw(&r, SIZE_MAX);             /* and poll again (step 1) */
    }
}

int parc_select(parc_select_case_t *cases, size_t n, unsigned flags,
                size_t *index)
{
    return select_until(cases, n, flags, index, true, PARC_FOREVER);
}

int parc_select_try(parc_select_case_t *cases, size_t n, unsigned flags,
                    size_t *index)
{
    return select_until(cases, n, flags, index, false, PARC_FOREVER);
}

int parc_select_timed(parc_select_case_t *cases, size_t n, unsigned flags,
                      size_t *index, int64_t timeout_ns)
{
    parc_deadline_t d;
    if (parc_deadline_in(&d, timeout_ns) != 0)
        return EINVAL;
    int rc = select_until(cases, n, flags, index, timeout_ns > 0, d);
    return rc == EAGAIN ? ETIMEDOUT : rc;
}
