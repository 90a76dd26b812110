/*
 * handoff.c — block on a lock-free counter with the eventcount.
 *
 * A producer publishes numbers into a one-slot mailbox word; a consumer
 * that finds it empty spins briefly, then sleeps in the kernel, and is woken
 * by the producer's notify. The fast path (slot full) never touches the
 * eventcount beyond one load.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>

#include <parc/parc.h>

#define COUNT 100000

static parc_atomic(uint64_t) slot; /* 0 = empty, else value */
static parc_eventcount_t slot_changed = PARC_EVENTCOUNT_INIT;

static bool slot_full(void *arg)
{
    (void)arg;
    /* acquire: pairs with the producer's release store of the value */
    return parc_load(&slot, PARC_ACQUIRE) != 0;
}

static bool slot_empty(void *arg)
{
    (void)arg;
    /* acquire: pairs with the consumer's release store of 0 */
    return parc_load(&slot, PARC_ACQUIRE) == 0;
}

static void *producer(void *arg)
{
    (void)arg;
    for (uint64_t v = 1; v <= COUNT; v++) {
        parc_eventcount_await(&slot_changed, slot_empty, NULL, PARC_FOREVER);
        /* release: publishes v to the consumer's acquire load */
        parc_store(&slot, v, PARC_RELEASE);
        parc_eventcount_notify_all(&slot_changed);
    }
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, producer, NULL);
    uint64_t sum = 0;
    for (int i = 0; i < COUNT; i++) {
        parc_eventcount_await(&slot_changed, slot_full, NULL, PARC_FOREVER);
        /* acquire: the value and everything written before it */
        sum += parc_xchg(&slot, 0, PARC_ACQ_REL);
        parc_eventcount_notify_all(&slot_changed);
    }
    pthread_join(t, NULL);
    uint64_t expect = (uint64_t)COUNT * (COUNT + 1) / 2;
    printf("handed off %d values, sum %" PRIu64 " (%s)\n", COUNT, sum,
           sum == expect ? "ok" : "WRONG");
    return sum == expect ? 0 : 1;
}
