/*
 * custom_scheduler.c — a work-stealing scheduler in ~60 lines, built from
 * parc's public parts: a Chase-Lev deque per worker (parc/deque.h), one
 * sharded injection queue for outside submissions (parc/inject.h), taken
 * in batches whose rest goes onto the taker's deque, an eventcount
 * to park idle workers (parc/eventcount.h) and futures as tasks
 * (parc/future.h). The outside thread submits the even tasks; each of them
 * spawns the next odd one on its worker's deque, where an idle worker may
 * steal it. parc_pool_t is this plus searching counts, helping joins and a
 * life cycle.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <parc/deque.h>
#include <parc/eventcount.h>
#include <parc/future.h>
#include <parc/inject.h>

#define WORKERS 2
#define TASKS 1000

static parc_deque_t deques[WORKERS]; /* owner pushes/pops, others steal */
static parc_inject_t inject;         /* submissions from outside */
static parc_eventcount_t idle = PARC_EVENTCOUNT_INIT; /* where workers sleep */
static _Thread_local int self = -1;  /* this worker's index */
static parc_future_t tasks[TASKS];

/* Our deque, then a batch from the injection queue (at most half of a
 * shard: other workers find the rest), then the others' deques. *closed
 * is set when the injection queue is closed and empty. */
static parc_future_t *find(int self, bool *closed)
{
    void *t;
    if (parc_deque_pop(&deques[self], &t) == 0)
        return t;
    parc_inject_entry_t batch[8];
    size_t n;
    int rc = parc_inject_take(&inject, (unsigned)self, batch, 8, PARC_INJECT_HALF, &n);
    if (rc == 0) {
        for (size_t i = n - 1; i > 0; i--) /* the rest: ours next, or stolen */
            if (parc_deque_push(&deques[self], batch[i].arg) != 0)
                parc_future_run(batch[i].arg); /* deque full: run it now */
        return batch[0].arg;
    }
    *closed = rc == EPIPE;
    for (int i = 1; i < WORKERS; i++)
        if (parc_deque_steal(&deques[(self + i) % WORKERS], &t) == 0)
            return t;
    return NULL;
}

static void *worker(void *arg)
{
    self = (int)(intptr_t)arg;
    for (;;) {
        bool closed = false;
        parc_future_t *t = find(self, &closed);
        if (t == NULL) { /* eventcount: register, re-check, sleep */
            parc_eventcount_key_t key = parc_eventcount_prepare_wait(&idle);
            if ((t = find(self, &closed)) == NULL) {
                if (closed) { /* closed and drained */
                    parc_eventcount_cancel_wait(&idle);
                    return NULL;
                }
                parc_eventcount_wait(&idle, key, PARC_FOREVER);
                continue;
            }
            parc_eventcount_cancel_wait(&idle);
        }
        parc_future_run(t); /* runs it unless cancelled; wakes its waiters */
    }
}

static int square(void *arg, void **result)
{
    intptr_t i = (intptr_t)arg;
    if (i % 2 == 0 && i + 1 < TASKS) { /* spawn i+1 on our own deque */
        parc_deque_push(&deques[self], &tasks[i + 1]);
        parc_eventcount_notify_one(&idle); /* an idle worker may steal it */
    }
    *result = (void *)(i * i);
    return 0;
}

int main(void)
{
    pthread_t threads[WORKERS];
    parc_inject_init(&inject, WORKERS);
    for (int i = 0; i < WORKERS; i++) {
        parc_deque_init(&deques[i], 0);
        pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)i);
    }
    for (int i = 0; i < TASKS; i++)
        parc_future_init(&tasks[i], square, (void *)(intptr_t)i);
    for (int i = 0; i < TASKS; i += 2) { /* submit: push, then wake a sleeper */
        parc_inject_push(&inject, NULL, &tasks[i]);
        parc_eventcount_notify_one(&idle);
    }
    int64_t sum = 0;
    for (int i = 0; i < TASKS; i++) {
        void *v;
        parc_future_get(&tasks[i], &v); /* parks until a worker ran it */
        sum += (intptr_t)v;
    }
    parc_inject_close(&inject); /* then wake everyone to see it */
    parc_eventcount_notify_all(&idle);
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(threads[i], NULL);
        parc_deque_destroy(&deques[i]);
    }
    parc_inject_destroy(&inject);
    printf("sum of squares below %d: %lld (expected %lld)\n", TASKS, (long long)sum,
           (long long)(TASKS - 1) * TASKS * (2 * TASKS - 1) / 6);
    return sum == (int64_t)(TASKS - 1) * TASKS * (2 * TASKS - 1) / 6 ? 0 : 1;
}
