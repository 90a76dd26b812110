/* Linux futex parking back-end (see parc/park.h). */
#ifdef __linux__
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "park_backend.h"

static long futex(parc_park_word_t *word, int op, uint32_t val,
                  const struct timespec *ts, uint32_t bitset)
{
    return syscall(SYS_futex, (uint32_t *)word, op, val, ts, NULL, bitset);
}

static int futex_wait_op(parc_park_word_t *word, uint32_t expected,
                         parc_deadline_t deadline, int private_flag)
{
    struct timespec ts;
    const struct timespec *tsp = NULL;
    if (deadline != PARC_FOREVER) {
        ts = parc_deadline_timespec(deadline);
        tsp = &ts;
    }
    for (;;) {
        /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, so a
         * retry after EINTR does not stretch the wait. The kernel compares
         * *word with `expected` under its hash-bucket lock: that comparison
         * and the sleep are atomic with respect to FUTEX_WAKE. */
        long r = futex(word, FUTEX_WAIT_BITSET | private_flag, expected,
                       tsp, FUTEX_BITSET_MATCH_ANY);
        if (r == 0)
            return 0; /* woken (or spuriously) */
        switch (errno) {
        case EAGAIN:
            return 0; /* *word != expected already */
        case ETIMEDOUT:
            return ETIMEDOUT;
        case EINTR:
            continue; /* a signal is not a wake-up */
        default:
            return errno; /* EFAULT/EINVAL: caller passed a bad word */
        }
    }
}

static int futex_wait(parc_park_word_t *word, uint32_t expected,
                      parc_deadline_t deadline)
{
    return futex_wait_op(word, expected, deadline, FUTEX_PRIVATE_FLAG);
}

static void futex_wake(parc_park_word_t *word, int count)
{
    futex(word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, (uint32_t)count, NULL, 0);
}

/* Shared: without FUTEX_PRIVATE_FLAG the kernel keys the futex on the
 * backing page (inode and offset for a MAP_SHARED file), so processes
 * that map the word at different addresses meet on it. */
static int futex_wait_shared(parc_park_word_t *word, uint32_t expected,
                             parc_deadline_t deadline)
{
    return futex_wait_op(word, expected, deadline, 0);
}

static void futex_wake_shared(parc_park_word_t *word, int count)
{
    futex(word, FUTEX_WAKE, (uint32_t)count, NULL, 0);
}

const parc_park_backend_t parc_park_futex_backend = {
    .name = "futex",
    .wait = futex_wait,
    .wake = futex_wake,
    .wait_shared = futex_wait_shared,
    .wake_shared = futex_wake_shared,
};
#endif
