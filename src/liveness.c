/*
 * Thread identity and liveness across processes (see liveness.h).
 *
 * Dead or alive: pidfd_open(tid) fails with ESRCH once the thread is
 * reaped, and a pidfd polls readable once it has exited, reaped or not (a
 * process killed by -9 stays a zombie until its parent waits: it must not
 * read as alive meanwhile, which kill(tid, 0) would say). PIDFD_THREAD
 * (Linux 6.9) opens any thread; older kernels open only thread-group
 * leaders, and other threads fall back to kill(tid, 0).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "liveness.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* linux/pidfd.h, Linux 6.9 */
#endif

static _Thread_local uint32_t cached_tid;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* The child of a fork runs with a new tid but the forking thread's
 * thread-local cache. */
static void forget_tid(void)
{
    cached_tid = 0;
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, forget_tid);
}

uint32_t parc_self_tid_(void)
{
    if (cached_tid == 0) {
        pthread_once(&atfork_once, register_atfork);
        cached_tid = (uint32_t)syscall(SYS_gettid);
    }
    return cached_tid;
}

bool parc_tid_dead_(uint32_t tid)
{
    int fd = (int)syscall(SYS_pidfd_open, (pid_t)tid, PIDFD_THREAD);
    if (fd < 0 && errno == EINVAL) /* a kernel without PIDFD_THREAD */
        fd = (int)syscall(SYS_pidfd_open, (pid_t)tid, 0);
    if (fd < 0) {
        if (errno == ESRCH)
            return true;
        if (errno == EINVAL) /* a non-leader thread, older kernel */
            return kill((pid_t)tid, 0) != 0 && errno == ESRCH;
        return false;
    }
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, 0);
    close(fd);
    return r > 0;
}
