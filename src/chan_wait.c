/*
 * parc/chan.h's waiting: how a blocked send, receive or select waits for
 * its state word (src/chan_internal.h's select state) to become final,
 * spinning for a budget each channel learns, then parking; and the rule
 * by which the budget learns. The inline parts (the constants, the
 * wait's clock, the pause) are in src/chan_internal.h; the channel's
 * protocols and their invariants are at the top of include/parc/chan.h
 * and src/chan_internal.h. Used by src/chan.c (the blocking paths of
 * every kind), src/chan_slot.c (the rendezvous receiver's slot) and
 * src/select.c (parc_sel_wait_).
 */
#define _GNU_SOURCE
#include "chan_internal.h"

/* ---- waiting ------------------------------------------------------------- */

/*
 * Spinning. A blocked caller spins before it parks, for a budget that the
 * channel learns (adaptive spinning, as in Solaris' adaptive mutexes and
 * glibc's PTHREAD_MUTEX_ADAPTIVE_NP), measured in time: a pause costs
 * 25 ns on this machine in one host regime and 50-80 ns in the other, and
 * what a spin is weighed against (a futex wake-up, ~45 us from one core
 * to another here) is a time too.
 *
 * The budget learns from the whole wait, spin and park, not from whether
 * it parked: a wait of T ns (from its first pause to its end) asks for a
 * budget of 2T + CHAN_SPIN_MIN_NS, up to CHAN_SPIN_MAX_NS, and only a wait
 * that parked and lasted CHAN_SPIN_MAX_NS or more halves it. A partner on
 * another core answers within a few cache-line round trips, and the
 * budget stays where spinning wins. Where the partner is away (descheduled
 * for a time slice, or idle between bursts) the waits are long, and the
 * budget falls to CHAN_SPIN_MIN_NS: park almost at once, so the waker's
 * futex wake lets the scheduler run us when there is something to do.
 *
 * Rejected: halving at every wait that parked (the rule the channel had).
 * Probe counts (bench/probe/chan_probe.c, pinned rendezvous ping-pong at
 * load 4): 95% of waits ended within 3 pauses, 5% met a partner
 * preempted for a moment and parked; each park halved the budget, so
 * the next short preemption parked too, and a parked waiter's partner,
 * waiting for the reply through the ~45 us wake-up, ran out and parked
 * in turn (a convoy). Those parks (0.05 per round trip, ~45 us each) were
 * the whole cost: 2.7 us per round trip where spinning takes ~1. A wait
 * that parked but ended within CHAN_SPIN_MAX_NS says a longer spin would
 * have covered it, so it raises the budget, and both sides spin through
 * the next such gap, the wake-up latency included. The price: a caller
 * whose partner answers every 50-100 us spins through the gap (a core
 * busy for what a park would have cost in latency).
 *
 * The first CHAN_SPIN_PURE pauses never yield (a sched_yield is a system
 * call, and on a loaded machine hands the core to another process for a
 * time slice); after them every CHAN_SPIN_PURE-th pause yields, for a
 * partner that shares our core. The clock is read only once a wait has
 * lasted CHAN_CLOCK_AFTER pauses (most waits of a busy channel end
 * before: they learn nothing and cost no clock read), then every
 * CHAN_CLOCK_AFTER pauses. The chaos build counts pauses as
 * CHAN_PAUSE_NS each instead of reading the clock, so that a seed
 * replays one schedule.
 */

/* A wait on c lasted `ns` (0: ended before the clock was read), parked
 * or not, and found its core crowded (a yield of its spin ran another
 * thread) or not. */
void parc_chan_spin_learn_(parc_chan_t *c, int64_t ns, bool parked, bool crowded)
{
    unsigned b = spin_budget(c), nb;
    if (parked && (crowded || ns >= (int64_t)CHAN_SPIN_MAX_NS)) {
        nb = b / 2 < CHAN_SPIN_MIN_NS ? CHAN_SPIN_MIN_NS : b / 2;
    } else {
        int64_t want = 2 * ns + (int64_t)CHAN_SPIN_MIN_NS;
        if (want <= (int64_t)b)
            return; /* no store: the word stays shared in every spinner's cache */
        nb = want > (int64_t)CHAN_SPIN_MAX_NS ? CHAN_SPIN_MAX_NS : (unsigned)want;
    }
    if (nb != b)
        /* relaxed: as above; a lost update between two learners is fine. */
        parc_store(&c->spin, nb, PARC_RELAXED);
}

uint32_t parc_sel_wait_(parc_sel_t *s, parc_deadline_t deadline)
{
    return parc_chan_sel_wait_(s, deadline, PARC_SPIN_POLLS, NULL);
}

/* Spin up to `spins` pauses, then park, until `s` is final or, while it
 * is still WAITING, the deadline passes (then abort). `parked`, when not
 * NULL, is set when the wait parked. */
uint32_t parc_chan_sel_wait_(parc_sel_t *s, parc_deadline_t deadline,
                             unsigned spins, bool *parked)
{
    for (unsigned i = 0; i < spins; i++) {
        /* acquire: pairs with the release store in parc_chan_finish_():
         * the value moved for us is visible once we see the final state. */
        uint32_t v = parc_load(&s->state, PARC_ACQUIRE);
        if (!parc_sel_waiting(v))
            break;
        chan_pause(i);
    }
    for (;;) {
        /* acquire: as above. */
        uint32_t v = parc_load(&s->state, PARC_ACQUIRE);
        if (parc_sel_final(v))
            return v;
        bool waiting = parc_sel_waiting(v);
        if (!waiting) {
            /* Claimed: the claimer is within a copy under its channel's
             * lock. Look again for a few pauses before parking, which
             * would write the word it is about to write (PARKED) and
             * make its final store a futex wake-up. */
            for (unsigned k = 0; k < CHAN_SPIN_PURE && !parc_sel_final(v); k++) {
                parc_cpu_relax();
                /* acquire: as above. */
                v = parc_load(&s->state, PARC_ACQUIRE);
            }
            if (parc_sel_final(v))
                return v;
        }
        if (waiting && parc_deadline_passed(deadline)) {
            if (parc_sel_abort(s))
                return PARC_SEL_ABORTED;
            continue; /* claimed meanwhile: wait for the final state */
        }
        v = parc_sel_mark_parked(s);
        if (parc_sel_final(v))
            return v;
        /* A claimed state becomes final within the claimer's critical
         * section: no deadline for that last stretch. */
        CHAN_PROBE(parks, 1);
        if (parked != NULL)
            *parked = true;
        parc_park_wait(&s->state, v,
                       parc_sel_waiting(v) ? deadline : PARC_FOREVER);
    }
}

/* The spin's end: somebody claimed the word (or it was aborted). */
static bool sel_claimed(uint32_t v)
{
    return !parc_sel_waiting(v);
}

/* A blocked send or receive on a locked kind: spin for c's learnt
 * budget, then park, until `s` is final (or the deadline, as in
 * parc_chan_sel_wait_); then tell the budget how long the wait was. */
uint32_t parc_chan_sel_wait_learn_(parc_sel_t *s, parc_deadline_t deadline,
                                   parc_chan_t *c)
{
    wait_clock_t clk = { -1, 0 };
    bool parked = false, crowded = false;
    /* The spin's acquire loads pair as parc_chan_sel_wait_()'s do. */
    (void)chan_spin_learnt(c, &s->state, sel_claimed, &clk, &crowded);
    uint32_t final = parc_chan_sel_wait_(s, deadline, 0, &parked);
    if (final != PARC_SEL_ABORTED)
        parc_chan_spin_learn_(c, wait_clock_ns(&clk), parked, crowded);
    return final;
}
