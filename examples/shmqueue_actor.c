/*
 * shmqueue_actor.c — the seed's PrintActor in another process, its mailbox
 * a queue in shared memory (Python's Actor over a multiprocessing.Queue).
 *
 *     class PrintActor(Actor):
 *         def run(self):
 *             while True:
 *                 msg = self.recv()
 *                 print('Got:', msg)
 *
 *     p = PrintActor(); p.start()
 *     p.send('Hello'); p.send('World')
 *     p.close(); p.join()
 *
 * The mailbox is a parc_shmqueue_t in an anonymous shared region that the
 * child inherits across fork; a second queue carries the actor's replies
 * back. close() is the exit sentinel: the actor's recv() returns EPIPE once
 * every message sent before it has been received.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <parc/shmqueue.h>

enum { MSG_SIZE = 128 };

static void print_actor_run(parc_shmqueue_t *mailbox, parc_shmqueue_t *replies)
{
    char msg[MSG_SIZE];
    size_t n;
    int count = 0;
    while (parc_shmqueue_recv(mailbox, msg, sizeof msg, &n) == 0) {
        printf("Got: %.*s (in process %ld)\n", (int)n, msg, (long)getpid());
        fflush(stdout);
        count++;
    }
    char reply[MSG_SIZE];
    int len = snprintf(reply, sizeof reply, "printed %d messages", count);
    parc_shmqueue_send(replies, reply, (size_t)len);
}

int main(void)
{
    parc_shm_t shm;
    uint64_t mbox_off, reply_off;
    if (parc_shm_create(&shm, NULL, 1 << 20) != 0 ||
        parc_shmqueue_create(&shm, 16, MSG_SIZE, &mbox_off) != 0 ||
        parc_shmqueue_create(&shm, 4, MSG_SIZE, &reply_off) != 0) {
        fprintf(stderr, "shared memory: failed\n");
        return 1;
    }
    parc_shmqueue_t *mailbox = parc_shm_ptr(&shm, mbox_off);
    parc_shmqueue_t *replies = parc_shm_ptr(&shm, reply_off);

    pid_t actor = fork(); /* p.start() */
    if (actor < 0)
        return 1;
    if (actor == 0) {
        print_actor_run(mailbox, replies);
        _exit(0);
    }
    parc_shmqueue_send(mailbox, "Hello", 5); /* p.send('Hello') */
    parc_shmqueue_send(mailbox, "World", 5); /* p.send('World') */
    parc_shmqueue_close(mailbox);            /* p.close() */

    char reply[MSG_SIZE];
    size_t n;
    int rc = parc_shmqueue_recv(replies, reply, sizeof reply, &n);
    if (rc == 0)
        printf("the actor says: %.*s\n", (int)n, reply);
    int st = 0;
    waitpid(actor, &st, 0);                  /* p.join() */
    parc_shm_close(&shm);
    return rc == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
