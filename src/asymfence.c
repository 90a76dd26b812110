/* parc/asymfence.h: membarrier registration and the heavy side. */
#define _GNU_SOURCE
#include "parc/asymfence.h"

#include <pthread.h>
#include <stdlib.h>

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

static pthread_once_t asym_once = PTHREAD_ONCE_INIT;
static bool asym_ok;

static void asym_register(void)
{
/* PARC_WEAK: the weak-memory model cannot see membarrier; both sides
 * become seq_cst fences, which it models. */
#if defined(__linux__) && defined(SYS_membarrier) && !defined(PARC_TSAN) && \
    !defined(PARC_WEAK)
    /* Registration is required before the first PRIVATE_EXPEDITED call;
     * it fails on kernels before 4.14 and under seccomp filters that
     * refuse the call: then both sides fall back to fences. */
    long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 &&
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
        asym_ok = true;
#endif
}

bool parc_asymfence_available(void)
{
    pthread_once(&asym_once, asym_register);
    return asym_ok;
}

void parc_asymfence_heavy(bool asym)
{
    /* seq_cst fence: our own store-load barrier (and the whole barrier when
     * the other side uses fences too); pairs with parc_asymfence_light. */
    parc_fence(PARC_SEQ_CST);
#if defined(__linux__) && defined(SYS_membarrier)
    if (asym) {
        PARC_CHAOS_POINT();
        /* Every running thread of the process passes a full barrier before
         * this returns; a thread not running has passed one in the context
         * switch. It fails only when this process is not registered (a
         * child after fork() has a new address space): register again. A
         * light side compiled to rely on it has no fallback, so a barrier
         * that cannot be had is fatal rather than a silent lost wake-up. */
        if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0 &&
            (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0 ||
             syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0))
            abort();
    }
#else
    (void)asym;
#endif
}
