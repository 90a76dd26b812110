/*
 * chan_epoll.c — drain a channel from an epoll event loop.
 *
 * parc_chan_fd() gives an eventfd that is readable exactly while a receive
 * would not block (a value is there, or the channel is closed). An event
 * loop puts it in epoll next to its sockets and, when it fires, receives
 * with the try form until EAGAIN; EPIPE means closed and drained. Here two
 * threads send lines into the channel, and the loop also watches a pipe
 * that a third thread writes to, to show both kinds of readiness in one
 * epoll_wait.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <parc/parc.h>

#define PER_SENDER 500

typedef struct line {
    int sender, seq;
} line_t;

static parc_chan_t lines = PARC_CHAN_INIT(sizeof(line_t), 64);
static int pipefd[2];

static void *sender(void *arg)
{
    line_t l = { (int)(intptr_t)arg, 0 };
    for (l.seq = 0; l.seq < PER_SENDER; l.seq++)
        parc_chan_send(&lines, &l);
    return NULL;
}

static void *ticker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) {
        parc_sleep_ns(2 * PARC_NS_PER_MS);
        (void)!write(pipefd[1], "t", 1);
    }
    return NULL;
}

int main(void)
{
    int chan_fd;
    if (pipe(pipefd) != 0 || parc_chan_fd(&lines, &chan_fd) != 0)
        return 1;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = chan_fd };
    epoll_ctl(ep, EPOLL_CTL_ADD, chan_fd, &ev);
    ev.data.fd = pipefd[0];
    epoll_ctl(ep, EPOLL_CTL_ADD, pipefd[0], &ev);

    pthread_t s[2], t;
    for (intptr_t i = 0; i < 2; i++)
        pthread_create(&s[i], NULL, sender, (void *)i);
    pthread_create(&t, NULL, ticker, NULL);

    int received = 0, ticks = 0, next[2] = { 0, 0 }, in_order = 1, open = 1;
    while (open || ticks < 3) {
        struct epoll_event evs[4];
        int n = epoll_wait(ep, evs, 4, 1000);
        if (n == 0 && received == 2 * PER_SENDER && open) {
            parc_chan_close(&lines); /* every line arrived: close, see EPIPE */
            continue;
        }
        for (int k = 0; k < n; k++) {
            if (evs[k].data.fd == pipefd[0]) {
                char c;
                ticks += (int)read(pipefd[0], &c, 1);
                continue;
            }
            line_t l;
            int rc;
            while ((rc = parc_chan_recv_try(&lines, &l)) == 0) {
                in_order &= l.seq == next[l.sender]++; /* per-sender FIFO */
                received++;
            }
            if (rc == EPIPE)
                open = 0;
            if (received == 2 * PER_SENDER && open)
                parc_chan_close(&lines);
        }
    }
    for (int i = 0; i < 2; i++)
        pthread_join(s[i], NULL);
    pthread_join(t, NULL);
    printf("epoll loop: %d lines (in order per sender: %s), %d pipe ticks\n",
           received, in_order ? "yes" : "no", ticks);
    close(ep);
    close(pipefd[0]);
    close(pipefd[1]);
    parc_chan_destroy(&lines);
    return received == 2 * PER_SENDER && in_order ? 0 : 1;
}
