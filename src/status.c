/* parc/status.h: descriptions of the return codes. */
#include "parc/status.h"

#include <string.h>

const char *parc_strerror(int code)
{
    switch (code) {
    case 0:
        return "OK: success";
    case EAGAIN:
        return "EAGAIN: would block (empty, full or busy)";
    case ETIMEDOUT:
        return "ETIMEDOUT: the deadline passed first";
    case EPIPE:
        return "EPIPE: closed, shut down or aborted";
    case EINVAL:
        return "EINVAL: invalid argument";
    case EPERM:
        return "EPERM: the calling thread does not own it";
    case EDEADLK:
        return "EDEADLK: the calling thread would wait for itself";
    case EOVERFLOW:
        return "EOVERFLOW: a count would pass its bound";
    case ENOMEM:
        return "ENOMEM: out of memory";
    case ECANCELED:
        return "ECANCELED: cancelled before it ran";
    case EALREADY:
        return "EALREADY: already started or finished";
    case EBUSY:
        return "EBUSY: still in use";
    /* processes (shm.h, procpool.h, shared and robust primitives) */
    case ECHILD:
        return "ECHILD: the worker process running it died";
    case EOWNERDEAD:
        return "EOWNERDEAD: the previous owner died holding it (now yours, inconsistent)";
    case ENOTRECOVERABLE:
        return "ENOTRECOVERABLE: unlocked inconsistent after an owner died";
    case EMSGSIZE:
        return "EMSGSIZE: a message or result of the wrong size";
    case EPROTO:
        return "EPROTO: not a parc shared region (or a corrupt one)";
    default:
        /* Not a code parc returns, but callers pass on errno values of
         * their own too: the C library knows those. */
        return strerror(code);
    }
}
