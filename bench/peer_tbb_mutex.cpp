// bench/peer_tbb_mutex.cpp — see peer_tbb_mutex.h. Empty unless CMake
// found oneTBB.
#ifdef PARC_BENCH_HAVE_TBB
#include <new>

#include <tbb/queuing_mutex.h>
#include <tbb/spin_mutex.h>

#include "peer_tbb_mutex.h"

static_assert(sizeof(tbb::spin_mutex) <= sizeof(bench_cxx_lock_t::bytes),
              "spin_mutex fits the storage");
static_assert(sizeof(tbb::queuing_mutex) <= sizeof(bench_cxx_lock_t::bytes),
              "queuing_mutex fits the storage");

template <class M> static M *as(bench_cxx_lock_t *l)
{
    return std::launder(reinterpret_cast<M *>(l->bytes));
}

extern "C" int bench_tbb_spin_init(bench_cxx_lock_t *l)
{
    new (l->bytes) tbb::spin_mutex();
    return 0;
}

extern "C" int bench_tbb_spin_lock(bench_cxx_lock_t *l)
{
    as<tbb::spin_mutex>(l)->lock();
    return 0;
}

extern "C" int bench_tbb_spin_unlock(bench_cxx_lock_t *l)
{
    as<tbb::spin_mutex>(l)->unlock();
    return 0;
}

extern "C" int bench_tbb_spin_destroy(bench_cxx_lock_t *l)
{
    tbb::spin_mutex *m = as<tbb::spin_mutex>(l);
    bool free = m->try_lock();
    if (free)
        m->unlock();
    m->~spin_mutex();
    return free ? 0 : -1;
}

// The MCS node of the lock this thread holds or waits for.
static thread_local tbb::queuing_mutex::scoped_lock queuing_node;

extern "C" int bench_tbb_queuing_init(bench_cxx_lock_t *l)
{
    new (l->bytes) tbb::queuing_mutex();
    return 0;
}

extern "C" int bench_tbb_queuing_lock(bench_cxx_lock_t *l)
{
    queuing_node.acquire(*as<tbb::queuing_mutex>(l));
    return 0;
}

extern "C" int bench_tbb_queuing_unlock(bench_cxx_lock_t *)
{
    queuing_node.release();
    return 0;
}

extern "C" int bench_tbb_queuing_destroy(bench_cxx_lock_t *l)
{
    tbb::queuing_mutex *m = as<tbb::queuing_mutex>(l);
    tbb::queuing_mutex::scoped_lock probe;
    bool free = probe.try_acquire(*m);
    if (free)
        probe.release();
    m->~queuing_mutex();
    return free ? 0 : -1;
}
#endif
