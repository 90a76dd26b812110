/*
 * parc/status.h — return codes (layer 0).
 *
 * Every parc function that can fail returns an int: 0 on success, otherwise
 * a positive errno value, as pthreads do. The codes parc uses:
 *
 *   0          success
 *   EAGAIN     a _try form found the object empty, full or busy
 *   ETIMEDOUT  a _timed form's deadline passed first
 *   EPIPE      the object is closed / shut down / aborted
 *   EINVAL     bad argument: NULL, a capacity of 0 or not a power of two
 *              where one is needed, a negative timeout
 *   EPERM      unlock or release by a thread that does not own the object
 *   EDEADLK    the calling thread would wait for itself (relock of an
 *              error-checking mutex by its owner)
 *   EOVERFLOW  a count would pass its bound (BoundedSemaphore release)
 *   ENOMEM     allocation failed
 *   ECANCELED  the work was cancelled before it ran (futures)
 *   EALREADY   the work has already started or finished (future run or
 *              complete called twice)
 *   EBUSY      still in use: destroy of a running future, of an actor
 *              runtime with live actors, of a started actor not joined
 *
 * Processes (shm.h, procpool.h, the PARC_PSHARED primitives, shmqueue.h):
 *   ECHILD     the worker process running a task died (procpool)
 *   EOWNERDEAD the lock's previous owner died holding it: the caller owns
 *              it now, its state is inconsistent until marked consistent
 *   ENOTRECOVERABLE  it was unlocked without being made consistent
 *   EMSGSIZE   a message or result of the wrong size
 *   EPROTO     a region that is not a parc region
 */
#ifndef PARC_STATUS_H
#define PARC_STATUS_H

#include <errno.h>

#include "parc/api.h"

PARC_BEGIN_DECLS

#define PARC_OK 0

/** A short English description of a return code. For the codes listed
 * above it names the parc meaning first ("EAGAIN: would block (empty, full
 * or busy)") and is a static string; any other code gives the C library's
 * strerror(code) (for an unknown value glibc's text lives in a per-thread
 * buffer, valid until the calling thread's next strerror call). Any thread;
 * never blocks; never returns NULL. */
PARC_API const char *parc_strerror(int code);

PARC_END_DECLS

#endif /* PARC_STATUS_H */
