/*
 * parc/select.h — wait for exactly one of several operations and complete
 * it: Go's select and crossbeam-channel's Select over channels, futures,
 * events, semaphores, timers and file descriptors (layer 3).
 *
 * A select takes an array of cases, each one operation:
 *
 *   PARC_SELECT_SEND      send *buf on a channel (parc/chan.h)
 *   PARC_SELECT_RECV      receive from a channel into buf (a timer is a
 *                         channel too: parc/chan_timer.h)
 *   PARC_SELECT_FUTURE    a future is complete (done, failed or cancelled;
 *                         read it with parc_future_get afterwards)
 *   PARC_SELECT_EVENT     an event's flag is up (nothing is consumed)
 *   PARC_SELECT_SEM       take one permit of a semaphore
 *   PARC_SELECT_READABLE  a file descriptor is readable (poll(2) POLLIN,
 *   PARC_SELECT_WRITABLE  or POLLOUT; errors and hang-ups count as ready)
 *
 * and completes exactly one of them: the chosen index comes back in
 * *index. Among cases ready at once the choice is uniformly random (Go's
 * fairness: no case starves), or the first in array order with
 * PARC_SELECT_ORDERED. A channel case whose channel is NULL is never ready
 * (Go's nil channel: a way to switch a case off). A select never consumes
 * a value it does not return, and never misses a wake-up.
 *
 * Source: the protocol is Go's runtime/select.go (selectgo: a poll pass
 * in random order, then one waiter record per channel, then one park) with
 * crossbeam-channel's Context (a select state word that exactly one
 * compare-and-swap moves out of WAITING, by the thread completing a case
 * or by the select itself). The state machine is in src/chan_internal.h.
 *
 * Protocol (src/select.c numbers the same steps):
 *   1. Poll every case in the random (or array) order; the first ready one
 *      is completed and returned. The try form stops here with EAGAIN.
 *   2. Register: for each case in the same order, a record on its
 *      channel's queue (under that channel's lock, re-checking readiness),
 *      a registration in the event's or semaphore's eventcount, the
 *      WAITERS bit of the future; a case found ready while registering
 *      makes the select abort its own state (CAS) and complete that case
 *      itself — unless a channel already claimed it, which wins.
 *   3. Spin briefly on the state word, then park once: on the state word,
 *      with futex_waitv(2) on it and the other primitives' words as well,
 *      or in ppoll(2) on the file descriptors and a per-thread eventfd.
 *   4. Woken with the state claimed: that channel case completed (a
 *      rendezvous or unbounded channel moved the value); withdraw the
 *      other records and return it. Woken with NOTIFIED(i) by a bounded
 *      channel (value or room appeared): withdraw every record, then try
 *      case i first (and return it), or go back to 1 when another thread
 *      took it meanwhile. Woken otherwise (an event, a permit, a future,
 *      an fd, a deadline): abort the state, withdraw every record and go
 *      back to 1 (or say ETIMEDOUT).
 *
 * Where parking needs fallbacks: futex_waitv needs Linux 5.16; without it
 * (ENOSYS, or the condvar park back-end), and in a select that mixes file
 * descriptors with futures, events or semaphores, the select parks for
 * slices of at most 1 ms and polls those cases between slices. Channel
 * cases always wake it at once. A select called from a fiber
 * (parc/fiber.h) parks through parc_park_wait in every case, so that the
 * fiber parks and its worker runs other work: with fd, event, semaphore
 * or future cases it parks in such slices (ppoll and futex_waitv would
 * block the worker).
 *
 * Rejected designs:
 *   - Locking every channel of the select at once, in address order (Go's
 *     sellock): with the claim CAS a select needs one channel lock at a
 *     time, and a channel operation never waits for a select's other
 *     channels.
 *   - Waking a select to retry on rendezvous channels too (crossbeam's
 *     way for every flavour): a rendezvous then costs two round trips.
 *     Bounded channels do wake selects to retry (their ring takes no lock
 *     under which a value could be handed over), and a select so woken
 *     that finds the value taken by another thread registers again.
 *   - A helper thread per select, or timer threads per timer: a select
 *     parks the calling thread only; timers share one thread.
 *
 * Threads: any thread may select; many selects may share channels and other
 * cases. Cases of one select may name the same object (both ends of one
 * channel even: a select never completes with itself).
 *
 * Example (a worker with a quit channel and a timeout):
 *
 *     parc_select_case_t cs[2];
 *     cs[0] = parc_select_recv(&work, &job);
 *     cs[1] = parc_select_recv(&quit, &dummy);
 *     size_t i;
 *     int rc = parc_select_timed(cs, 2, 0, &i, 100 * PARC_NS_PER_MS);
 *     if (rc == ETIMEDOUT) ...      // nothing within 100 ms
 *     else if (i == 0 && rc == 0) run(job);
 *     else ...                       // quit, or work closed (rc EPIPE)
 */
#ifndef PARC_SELECT_H
#define PARC_SELECT_H

#include <stddef.h>
#include <stdint.h>

#include "parc/api.h"
#include "parc/chan.h"
#include "parc/event.h"
#include "parc/future.h"
#include "parc/sem.h"
#include "parc/status.h"
#include "parc/time.h"

PARC_BEGIN_DECLS

typedef enum parc_select_kind {
    PARC_SELECT_SEND = 1,
    PARC_SELECT_RECV = 2,
    PARC_SELECT_FUTURE = 3,
    PARC_SELECT_EVENT = 4,
    PARC_SELECT_SEM = 5,
    PARC_SELECT_READABLE = 6,
    PARC_SELECT_WRITABLE = 7
} parc_select_kind_t;

/* One case. Build it with the parc_select_<kind>() helpers below. */
typedef struct parc_select_case {
    parc_select_kind_t kind;
    void *obj;   /* the channel, future, event or semaphore */
    void *buf;   /* SEND: the value to send; RECV: where to receive */
    int fd;      /* READABLE / WRITABLE: the descriptor */
} parc_select_case_t;

/* The most cases one select takes. */
#define PARC_SELECT_MAX 64u

/* Flag: among ready cases take the first in array order, not a random
 * one (a priority select; later cases may starve). */
#define PARC_SELECT_ORDERED 1u

/*
 * Block until one case can complete, complete it, and set *index to it.
 * Spins briefly, then parks (see the top of this file). Any thread.
 * Returns 0 when case *index completed; EPIPE when case *index is a send
 * or receive on a closed channel (a receive only once it is drained: the
 * case completed with "closed", as Go's `v, ok := <-c` with ok false);
 * ENOMEM when the chosen send could not allocate channel memory; EINVAL
 * for NULL cases or index, n == 0 or n > PARC_SELECT_MAX, an unknown
 * kind, a NULL object or buffer where one is needed, a negative fd, or an
 * unknown flag. With every channel case NULL and nothing else, it blocks
 * forever (as in Go).
 */
PARC_API int parc_select(parc_select_case_t *cases, size_t n, unsigned flags,
                         size_t *index);

/* As parc_select(), completing a case only if one is ready now; otherwise
 * EAGAIN (Go's select with a default case). Never blocks. */
PARC_API int parc_select_try(parc_select_case_t *cases, size_t n,
                             unsigned flags, size_t *index);

/* As parc_select(), waiting at most `timeout_ns` (relative): ETIMEDOUT
 * when it passed with no case completed (never before it); EINVAL also
 * for a negative timeout. */
PARC_API int parc_select_timed(parc_select_case_t *cases, size_t n,
                               unsigned flags, size_t *index,
                               int64_t timeout_ns);

/* Case builders (plain values; no allocation). */
static inline parc_select_case_t parc_select_send(parc_chan_t *c, const void *value);
static inline parc_select_case_t parc_select_recv(parc_chan_t *c, void *out);
static inline parc_select_case_t parc_select_future(parc_future_t *f);
static inline parc_select_case_t parc_select_event(parc_event_t *e);
static inline parc_select_case_t parc_select_sem(parc_sem_t *s);
static inline parc_select_case_t parc_select_readable(int fd);
static inline parc_select_case_t parc_select_writable(int fd);

PARC_END_DECLS

#include "parc/impl/select.h"

#endif /* PARC_SELECT_H */
