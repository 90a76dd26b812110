/* The thread-per-actor mode (parc/actor.h). */
#define _GNU_SOURCE /* sched_getcpu, pthread_{get,set}affinity_np */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "msg_internal.h"
#include "parc/actor.h"

/* parc_actor_t.phase: start and join each move it on once. */
#define PARC_ACTOR_NEW_ 0u
#define PARC_ACTOR_STARTED_ 1u
#define PARC_ACTOR_JOINED_ 2u

/* ---- waiting next to a partner ----------------------------------------- */

/*
 * A request/reply round trip between two threads is a cache-line round
 * trip (~0.1 us) when they run on two CPUs and spin, and a futex wake-up
 * (~45 us here) when one sleeps: so both sides spin before they park.
 * But when the scheduler has put both threads on the same CPU (it does,
 * and keeps them there while both stay runnable), spinning only delays
 * the partner, who cannot run until we give the CPU away: parc_spin_poll
 * yields only every 32 polls, so a round trip would cost two 32-poll
 * spins (~4 us) instead of the two context switches it needs (~2.6 us
 * on these virtual machines). So each
 * side publishes the CPU it waits on (the actor in recv, the asker in
 * ask/await; stored only when it changed, so the line stays shared), and
 * a waiter that finds its partner on its own CPU yields at once.
 *
 * Yielding still costs two context switches a round trip (~2.7 us here),
 * and two threads that keep yielding to each other stay on their CPU: the
 * load balancer hesitates to move a task that ran a moment ago (and a
 * futex wake-up tends to pull the woken thread next to its waker). So
 * once every UNPAIR_NS a waiter sharing its partner's CPU separates them:
 * the actor's own thread (parc's, created by parc_actor_start) moves
 * itself to another CPU it may run on, by narrowing its affinity to that
 * CPU and restoring the mask it had at once (the kernel migrates a thread
 * whose CPU leaves its mask; restoring the mask does not move it back).
 * A user's thread is never re-pinned: the asker sleeps briefly instead
 * (for the timer's slack, ~50 us), and a thread that wakes from a sleep
 * is placed on an idle CPU if there is one. With the two apart a round
 * trip is a cache-line exchange again; with no CPU idle the attempt
 * costs ~1% of the time.
 */
#define PARTNER_POLLS (PARC_SPIN_POLLS / 2) /* then the primitive's own wait */
#define UNPAIR_NS 5000000                   /* 5 ms */

static int32_t this_cpu(void)
{
#if defined(__linux__)
    return (int32_t)sched_getcpu();
#else
    return -1;
#endif
}

/* Publish the CPU we wait on; returns it. */
static int32_t publish_cpu(parc_atomic(int32_t) *mine)
{
    int32_t cpu = this_cpu();
    /* relaxed: a scheduling hint; nothing is published with it. */
    if (parc_load(mine, PARC_RELAXED) != cpu)
        parc_store(mine, cpu, PARC_RELAXED);
    return cpu;
}

/* Move the calling thread (the actor's own) off CPU `cpu` to the next
 * CPU in its affinity mask, leaving the mask as it was. Returns false
 * when it cannot (a mask of one CPU, or no affinity calls here). */
static bool move_off_cpu(int32_t cpu)
{
#if defined(__linux__)
    cpu_set_t allowed, one;
    pthread_t self = pthread_self();
    if (pthread_getaffinity_np(self, sizeof allowed, &allowed) != 0)
        return false;
    for (int k = 1; k < CPU_SETSIZE; k++) {
        int other = (cpu + k) % CPU_SETSIZE;
        if (!CPU_ISSET(other, &allowed))
            continue;
        CPU_ZERO(&one);
        CPU_SET(other, &one);
        bool moved = pthread_setaffinity_np(self, sizeof one, &one) == 0;
        pthread_setaffinity_np(self, sizeof allowed, &allowed);
        return moved;
    }
#else
    (void)cpu;
#endif
    return false;
}

/* Poll number i of a wait on a partner whose CPU is in *theirs. Returns
 * the CPU we are on now (we may have moved while yielding). */
static int32_t partner_poll(parc_actor_t *a, unsigned i,
                            parc_atomic(int32_t) *mine,
                            parc_atomic(int32_t) *theirs, int32_t cpu)
{
    /* relaxed: a hint (see publish_cpu). */
    if (cpu >= 0 && parc_load(theirs, PARC_RELAXED) == cpu) {
        int64_t now = parc_now_ns();
        /* relaxed: a rate limit; a rare double move is harmless. */
        int64_t last = parc_load(&a->unpair_ns_, PARC_RELAXED);
        if (now - last >= UNPAIR_NS) {
            parc_store(&a->unpair_ns_, now, PARC_RELAXED);
            /* Only the actor's thread (the one receiving) moves itself. */
            if (mine != &a->recv_cpu_ || !move_off_cpu(cpu))
                parc_sleep_until(now + 1000); /* wake up on an idle CPU */
        } else {
            parc_yield(); /* the partner needs this CPU to answer */
        }
        return publish_cpu(mine);
    }
    parc_spin_poll(i);
    return cpu;
}

/* ---- thread-per-actor -------------------------------------------------- */

static parc_msg_t *msg_of(parc_mpsc_node_t *n)
{
    return parc_mpsc_entry(n, parc_msg_t, node_);
}

int parc_actor_init(parc_actor_t *a, parc_actor_run_fn run, void *arg)
{
    if (a == NULL || run == NULL)
        return EINVAL;
    int rc = parc_mpsc_init(&a->mbox);
    if (rc != 0)
        return rc;
    a->run = run;
    a->arg = arg;
    parc_atomic_init(&a->phase, PARC_ACTOR_NEW_);
    parc_atomic_init(&a->recv_cpu_, -1);
    parc_atomic_init(&a->ask_cpu_, -1);
    parc_atomic_init(&a->unpair_ns_, (int64_t)0);
    a->status = 0;
    return parc_event_init(&a->done);
}

static void *actor_main(void *arg)
{
    parc_actor_t *a = arg;
    a->status = a->run(a, a->arg);
    /* run() is over: nobody will receive any more. Refuse later sends;
     * what is still queued is disposed by destroy. */
    parc_mpsc_close(&a->mbox);
    /* parc_event_set publishes status (release) to join's wait. */
    parc_event_set(&a->done);
    return NULL;
}

int parc_actor_start(parc_actor_t *a)
{
    if (a == NULL)
        return EINVAL;
    uint32_t expect = PARC_ACTOR_NEW_;
    /* relaxed: the CAS only elects the one starter; pthread_create
     * publishes the actor to the new thread. */
    if (!parc_cas(&a->phase, &expect, PARC_ACTOR_STARTED_, PARC_RELAXED,
                  PARC_RELAXED))
        return EALREADY;
    if (pthread_create(&a->thread, NULL, actor_main, a) != 0) {
        parc_store(&a->phase, PARC_ACTOR_NEW_, PARC_RELAXED);
        return EAGAIN;
    }
    return 0;
}

int parc_actor_send(parc_actor_t *a, parc_msg_t *m)
{
    if (a == NULL || m == NULL)
        return EINVAL;
    return parc_mpsc_push(&a->mbox, &m->node_, NULL);
}

/* Hand a popped node out as its message (rc == 0 only). */
static int recv_result(int rc, parc_mpsc_node_t *const *n, parc_msg_t **out)
{
    if (rc == 0)
        *out = msg_of(*n);
    return rc;
}

/* The blocking receives' wait once a pop_try found nothing: pop_try
 * again while the asker may be about to send; EAGAIN when the spin ran
 * out (block then). Out of line and entered only after a miss: the
 * receives keep the hit (a message already linked, the common case of a
 * stream) inline, a few instructions with no call; folding the first
 * pop_try into this function made it too large to inline, so that every
 * receive paid a call and this frame for a message already there. */
__attribute__((noinline)) static int recv_spin(parc_actor_t *a,
                                                 parc_mpsc_node_t **n,
                                                 parc_deadline_t deadline)
{
    int32_t cpu = publish_cpu(&a->recv_cpu_);
    for (unsigned i = 0; i < PARTNER_POLLS; i++) {
        int rc = parc_mpsc_pop_try(&a->mbox, n);
        if (rc != EAGAIN)
            return rc;
        if (deadline != PARC_FOREVER && (i & 31u) == 31u &&
            parc_deadline_passed(deadline))
            return ETIMEDOUT;
        cpu = partner_poll(a, i, &a->recv_cpu_, &a->ask_cpu_, cpu);
    }
    return EAGAIN;
}

int parc_actor_recv(parc_actor_t *a, parc_msg_t **out)
{
    if (a == NULL || out == NULL)
        return EINVAL;
    parc_mpsc_node_t *n = NULL;
    int rc = parc_mpsc_pop_try(&a->mbox, &n);
    if (rc == EAGAIN)
        rc = recv_spin(a, &n, PARC_FOREVER);
    if (rc == EAGAIN)
        rc = parc_mpsc_pop(&a->mbox, &n);
    return recv_result(rc, &n, out);
}

int parc_actor_recv_try(parc_actor_t *a, parc_msg_t **out)
{
    if (a == NULL || out == NULL)
        return EINVAL;
    parc_mpsc_node_t *n = NULL;
    return recv_result(parc_mpsc_pop_try(&a->mbox, &n), &n, out);
}

int parc_actor_recv_timed(parc_actor_t *a, parc_msg_t **out,
                          int64_t timeout_ns)
{
    parc_deadline_t deadline;
    if (a == NULL || out == NULL ||
        parc_deadline_in(&deadline, timeout_ns) != 0)
        return EINVAL;
    parc_mpsc_node_t *n = NULL;
    int rc = parc_mpsc_pop_try(&a->mbox, &n);
    if (rc == EAGAIN && timeout_ns != 0)
        rc = recv_spin(a, &n, deadline);
    if (rc == EAGAIN)
        rc = parc_mpsc_pop_timed(&a->mbox, &n,
                                 parc_deadline_remaining(deadline));
    return recv_result(rc, &n, out);
}

int parc_actor_ask(parc_actor_t *a, parc_msg_t *m, parc_future_t *reply)
{
    if (a == NULL || m == NULL || reply == NULL)
        return EINVAL;
    parc_future_init(reply, NULL, NULL);
    m->reply_ = reply;
    m->flags_ |= PARC_MSG_LOCAL_REPLY_;
    publish_cpu(&a->ask_cpu_);
    int rc = parc_mpsc_push(&a->mbox, &m->node_, NULL);
    if (rc != 0) {
        m->reply_ = NULL;
        m->flags_ &= ~PARC_MSG_LOCAL_REPLY_;
        parc_future_destroy(reply);
    }
    return rc;
}

static int await_common(parc_actor_t *a, parc_future_t *reply, void **value,
                        bool try, bool timed, int64_t timeout_ns)
{
    parc_deadline_t deadline = PARC_FOREVER;
    if (a == NULL || reply == NULL ||
        (timed && parc_deadline_in(&deadline, timeout_ns) != 0))
        return EINVAL;
    if (!try && !parc_future_is_done(reply)) {
        int32_t cpu = publish_cpu(&a->ask_cpu_);
        for (unsigned i = 0; i < PARTNER_POLLS; i++) {
            if (parc_future_is_done(reply))
                break;
            if (timed && (i & 31u) == 31u && parc_deadline_passed(deadline))
                break;
            cpu = partner_poll(a, i, &a->ask_cpu_, &a->recv_cpu_, cpu);
        }
    }
    if (try || parc_future_is_done(reply))
        return parc_future_get_try(reply, value);
    if (!timed)
        return parc_future_get(reply, value);
    return parc_future_get_timed(reply, value,
                                 parc_deadline_remaining(deadline));
}

int parc_actor_await(parc_actor_t *a, parc_future_t *reply, void **value)
{
    return await_common(a, reply, value, false, false, 0);
}

int parc_actor_await_try(parc_actor_t *a, parc_future_t *reply, void **value)
{
    return await_common(a, reply, value, true, false, 0);
}

int parc_actor_await_timed(parc_actor_t *a, parc_future_t *reply,
                           void **value, int64_t timeout_ns)
{
    return await_common(a, reply, value, false, true, timeout_ns);
}

int parc_actor_close(parc_actor_t *a)
{
    if (a == NULL)
        return EINVAL;
    return parc_mpsc_close(&a->mbox);
}

static int join_common(parc_actor_t *a, int *status, bool timed,
                       int64_t timeout_ns)
{
    if (a == NULL || (timed && timeout_ns < 0))
        return EINVAL;
    uint32_t ph = parc_load(&a->phase, PARC_RELAXED);
    if (ph == PARC_ACTOR_NEW_)
        return EINVAL;
    if (ph == PARC_ACTOR_JOINED_)
        return EALREADY;
    if (pthread_equal(pthread_self(), a->thread))
        return EDEADLK;
    int rc = timed ? parc_event_wait_timed(&a->done, timeout_ns)
                   : parc_event_wait(&a->done);
    if (rc != 0)
        return rc;
    uint32_t expect = PARC_ACTOR_STARTED_;
    /* relaxed: elects the one joiner; the event's acquire already made
     * status visible. */
    if (!parc_cas(&a->phase, &expect, PARC_ACTOR_JOINED_, PARC_RELAXED,
                  PARC_RELAXED))
        return EALREADY;
    pthread_join(a->thread, NULL); /* run() is over: returns promptly */
    if (status != NULL)
        *status = a->status;
    return 0;
}

int parc_actor_join(parc_actor_t *a, int *status)
{
    return join_common(a, status, false, 0);
}

int parc_actor_join_timed(parc_actor_t *a, int *status, int64_t timeout_ns)
{
    return join_common(a, status, true, timeout_ns);
}

int parc_actor_destroy(parc_actor_t *a)
{
    if (a == NULL)
        return EINVAL;
    if (parc_load(&a->phase, PARC_RELAXED) == PARC_ACTOR_STARTED_)
        return EBUSY;
    parc_mpsc_close(&a->mbox);
    parc_mpsc_node_t *n;
    while (parc_mpsc_pop(&a->mbox, &n) == 0)
        parc_msg_free(msg_of(n));
    parc_event_destroy(&a->done);
    parc_mpsc_destroy(&a->mbox);
    return 0;
}

int parc_actor_create(parc_actor_run_fn run, void *arg, parc_actor_t **out)
{
    if (run == NULL || out == NULL)
        return EINVAL;
    /* aligned_alloc wants a multiple of the alignment. */
    size_t size = (sizeof(parc_actor_t) + PARC_CACHELINE - 1) &
                  ~(size_t)(PARC_CACHELINE - 1);
    parc_actor_t *a = aligned_alloc(PARC_CACHELINE, size);
    if (a == NULL)
        return ENOMEM;
    int rc = parc_actor_init(a, run, arg);
    if (rc != 0) {
        free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int parc_actor_free(parc_actor_t *a)
{
    int rc = parc_actor_destroy(a);
    if (rc == 0)
        free(a);
    return rc;
}
