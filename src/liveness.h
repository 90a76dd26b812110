/*
 * src/liveness.h — who is this thread, and is that one still alive: what
 * the robust mutex and the shared queue store in shared memory as an
 * owner, and ask when the owner keeps them waiting (liveness.c).
 */
#ifndef PARC_SRC_LIVENESS_H
#define PARC_SRC_LIVENESS_H

#include <stdbool.h>
#include <stdint.h>

/* The calling thread's kernel thread id (gettid), cached per thread and
 * refreshed in the child after fork. Never 0. */
uint32_t parc_self_tid_(void);

/* True when thread `tid` has exited (a zombie counts as exited) or never
 * existed; false when it runs, or when that cannot be told now (out of
 * file descriptors: ask again later). Two or three system calls. Limits:
 * one pid namespace; a tid reused by a new thread reads as alive. */
bool parc_tid_dead_(uint32_t tid);

#endif
