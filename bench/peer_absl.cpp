// bench/peer_absl.cpp — see peer_absl.h. Empty unless CMake found Abseil.
#ifdef PARC_BENCH_HAVE_ABSL
#include <new>

#include <absl/synchronization/mutex.h>

#include "peer_absl.h"

static_assert(sizeof(absl::Mutex) <= sizeof(bench_cxx_lock_t::bytes),
              "absl::Mutex fits the storage");

static absl::Mutex *mu(bench_cxx_lock_t *l)
{
    return std::launder(reinterpret_cast<absl::Mutex *>(l->bytes));
}

extern "C" int bench_absl_init(bench_cxx_lock_t *l)
{
    // Deadlock detection off, as a release build has it: Debian's libabsl
    // may be built with it on, which records every acquisition in a graph
    // (tens of ns per lock) and would flatter parc.
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
    new (l->bytes) absl::Mutex();
    return 0;
}

extern "C" int bench_absl_lock(bench_cxx_lock_t *l)
{
    mu(l)->Lock();
    return 0;
}

extern "C" int bench_absl_unlock(bench_cxx_lock_t *l)
{
    mu(l)->Unlock();
    return 0;
}

extern "C" int bench_absl_rdlock(bench_cxx_lock_t *l)
{
    mu(l)->ReaderLock();
    return 0;
}

extern "C" int bench_absl_rdunlock(bench_cxx_lock_t *l)
{
    mu(l)->ReaderUnlock();
    return 0;
}

extern "C" int bench_absl_destroy(bench_cxx_lock_t *l)
{
    absl::Mutex *m = mu(l);
    bool free = m->TryLock();
    if (free)
        m->Unlock();
    m->~Mutex();
    return free ? 0 : -1;
}
#endif
