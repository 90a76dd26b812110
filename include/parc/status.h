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
 */
#ifndef PARC_STATUS_H
#define PARC_STATUS_H

#include "parc/api.h"

#include <errno.h>

#define PARC_OK 0

/* A short, static, English description of a parc return code, naming the
 * parc meaning first ("EAGAIN: would block (empty, full or busy)"). Unknown
 * codes give "unknown parc status". Any thread; never blocks. */
PARC_API const char *parc_strerror(int code);

#endif /* PARC_STATUS_H */
