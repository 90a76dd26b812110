/*
 * print_actor.c — the seed's PrintActor: an actor that prints each
 * message it receives.
 *
 * The seed (in Python) was:
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
 * In parc the exit sentinel is the mailbox's close mark: recv() returns
 * EPIPE once every message sent before close() has been received, which
 * is when run() returns.
 */
#include <stdio.h>
#include <string.h>

#include <parc/parc.h>

enum { MSG_TEXT = PARC_MSG_USER };

static int print_actor_run(parc_actor_t *self, void *arg)
{
    (void)arg;
    parc_msg_t *msg;
    int rc;
    while ((rc = parc_actor_recv(self, &msg)) == 0) {
        printf("Got: %s\n", (const char *)parc_msg_data(msg));
        parc_msg_free(msg);
    }
    return rc == EPIPE ? 0 : rc; /* EPIPE: closed and drained */
}

/* Send a string, copied into a plain-value message. */
static int send_text(parc_actor_t *a, const char *text)
{
    parc_msg_t *m;
    int rc = parc_msg_new(MSG_TEXT, text, strlen(text) + 1, &m);
    if (rc != 0)
        return rc;
    rc = parc_actor_send(a, m);
    if (rc != 0)
        parc_msg_free(m); /* refused: still ours */
    return rc;
}

int main(void)
{
    parc_actor_t p;
    int status = -1;
    if (parc_actor_init(&p, print_actor_run, NULL) != 0 ||
        parc_actor_start(&p) != 0)
        return 1;
    send_text(&p, "Hello");
    send_text(&p, "World");
    parc_actor_close(&p);
    if (send_text(&p, "too late") != EPIPE)
        return 1;
    parc_actor_join(&p, &status);
    parc_actor_destroy(&p);
    return status;
}
