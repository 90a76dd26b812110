/*
 * chan_pipeline.c — a producer/consumer pipeline with Go-style select.
 *
 * A producer sends jobs on a bounded work channel and closes it when done.
 * Two workers each select over the work channel, a quit channel and a
 * timer (parc/chan_timer.h): they run jobs as they come, say so when the
 * line has been idle for a while, and stop on quit or when the work
 * channel is closed and drained. Results go back on an unbounded channel.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>

#include <parc/parc.h>

#define JOBS 1000
#define WORKERS 2

static parc_chan_t work = PARC_CHAN_INIT(sizeof(int), 16);
static parc_chan_t quit = PARC_CHAN_INIT(sizeof(int), 0);
static parc_chan_t results = PARC_CHAN_INIT(sizeof(int64_t), PARC_CHAN_UNBOUNDED);

static void *producer(void *arg)
{
    (void)arg;
    for (int j = 1; j <= JOBS; j++) {
        parc_chan_send(&work, &j);
        if (j == JOBS / 2)
            parc_sleep_ns(30 * PARC_NS_PER_MS); /* a lull: workers see their timeout */
    }
    parc_chan_close(&work); /* workers drain what is left, then see EPIPE */
    return NULL;
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg, job, stop, idle_reports = 0;
    int64_t fired;
    for (;;) {
        parc_timer_t idle;
        parc_timer_after(&idle, 10 * PARC_NS_PER_MS);
        parc_select_case_t cs[3];
        cs[0] = parc_select_recv(&work, &job);
        cs[1] = parc_select_recv(&quit, &stop);
        cs[2] = parc_select_recv(parc_timer_chan(&idle), &fired);
        size_t i;
        int rc = parc_select(cs, 3, 0, &i);
        parc_timer_destroy(&idle);
        if (i == 0 && rc == 0) {
            int64_t square = (int64_t)job * job;
            parc_chan_send(&results, &square);
        } else if (i == 0) {           /* EPIPE: closed and drained */
            break;
        } else if (i == 1) {           /* told to quit */
            break;
        } else if (idle_reports++ == 0) {
            printf("worker %d: no work for 10 ms\n", id);
        }
    }
    return NULL;
}

int main(void)
{
    pthread_t p, w[WORKERS];
    pthread_create(&p, NULL, producer, NULL);
    for (intptr_t i = 0; i < WORKERS; i++)
        pthread_create(&w[i], NULL, worker, (void *)i);
    pthread_join(p, NULL);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(w[i], NULL);

    int64_t sum = 0, r;
    size_t n = 0;
    while (parc_chan_recv_try(&results, &r) == 0) {
        sum += r;
        n++;
    }
    int64_t want = (int64_t)JOBS * (JOBS + 1) * (2 * JOBS + 1) / 6;
    printf("%zu results, sum of squares %" PRId64 " (expected %" PRId64 ")\n", n, sum, want);
    parc_chan_destroy(&work);
    parc_chan_destroy(&quit);
    parc_chan_destroy(&results);
    return sum == want && n == JOBS ? 0 : 1;
}
