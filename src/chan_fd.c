/*
 * parc/chan.h's readiness and eventfds: whether a receive (send) would
 * complete now (for select's registration and the fds), and the two
 * eventfds (parc_chan_fd, parc_chan_send_fd) kept readable exactly while
 * a receive (send) would not block, so that a channel can join a poll
 * loop. Created on first request; all of it under the channel's lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include "chan_internal.h"

/* ---- readiness and eventfds (lock held) ------------------------------------ */

bool parc_chan_recv_ready_locked_(parc_chan_t *c, const parc_sel_t *self)
{
    /* relaxed: the flag is written under the lock we hold. */
    if (parc_load(&c->closed, PARC_RELAXED))
        return true;
    if (parc_chan_is_ring_(c))
        return parc_chan_len(c) > 0;
    return parc_chan_count_(c) > 0 || parc_chan_has_other_than_(&c->sendq, self);
}

bool parc_chan_send_ready_locked_(parc_chan_t *c, const parc_sel_t *self)
{
    /* relaxed: the flag is written under the lock we hold. */
    if (parc_load(&c->closed, PARC_RELAXED))
        return true;
    if (parc_chan_is_ring_(c))
        return parc_chan_len(c) < c->capacity;
    /* relaxed: a receiver installs in the slot under the lock we hold
     * (a sender may claim it meanwhile: then this says ready for a
     * moment too long, which the select or fd user's retry absorbs). */
    return parc_chan_unbounded_(c) || parc_chan_has_other_than_(&c->recvq, self) ||
           (parc_load(&c->rv, PARC_RELAXED) & ~RV_PARKED) == RV_WAIT;
}

/* Set an eventfd's level: written when it becomes readable, drained
 * (non-blocking) when it stops being so. */
static void fd_level(int fd, bool *current, bool readable)
{
#ifdef __linux__
    if (fd < 0 || readable == *current)
        return;
    eventfd_t drained;
    if (readable)
        eventfd_write(fd, 1);
    else
        (void)eventfd_read(fd, &drained);
    *current = readable;
#else
    (void)fd;
    (void)current;
    (void)readable;
#endif
}

/* Keep the eventfds readable exactly while a receive (send) would not
 * block. Costs two loads while no fd was asked for. A ring operation
 * runs this after it completed (chan_ring.c's ring_wake), so the level
 * follows the ring once the operation returns. */
void parc_chan_fd_update_slow_(parc_chan_t *c)
{
    /* relaxed: written under the lock we hold. */
    int fd = parc_load(&c->fd, PARC_RELAXED);
    int send_fd = parc_load(&c->send_fd, PARC_RELAXED);
    fd_level(fd, &c->fd_readable, parc_chan_recv_ready_locked_(c, NULL));
    fd_level(send_fd, &c->send_fd_readable, parc_chan_send_ready_locked_(c, NULL));
}

/* Create (once) the eventfd at *slot and set its level. */
static int fd_get(parc_chan_t *c, parc_atomic(int) *slot, bool *readable,
                  int *fd)
{
    if (parc_chan_check_(c) != 0 || fd == NULL)
        return EINVAL;
#ifdef __linux__
    int rc = 0;
    parc_mutex_lock(&c->lock);
    /* relaxed: written under the lock we hold. */
    int cur = parc_load(slot, PARC_RELAXED);
    if (cur < 0) {
        cur = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (cur < 0) {
            rc = errno;
        } else {
            *readable = false;
            /* relaxed, then seq_cst: chan_ring.c's ring_wake() Dekker
             * pair again (a ring operation that missed the fd is seen by
             * the read of the ring in parc_chan_fd_update_ below). */
            parc_store(slot, cur, PARC_RELAXED);
            parc_fence(PARC_SEQ_CST);
            parc_chan_fd_update_(c);
        }
    }
    *fd = cur;
    parc_mutex_unlock(&c->lock);
    return rc;
#else
    (void)slot;
    (void)readable;
    return ENOSYS;
#endif
}

int parc_chan_fd(parc_chan_t *c, int *fd)
{
    return c == NULL ? EINVAL : fd_get(c, &c->fd, &c->fd_readable, fd);
}

int parc_chan_send_fd(parc_chan_t *c, int *fd)
{
    return c == NULL ? EINVAL : fd_get(c, &c->send_fd, &c->send_fd_readable, fd);
}
