// bench/peer_tbb_arena.hpp — the oneTBB arenas every oneTBB case runs in
// (C++ only; defined in peer_tbb.cpp).
#ifndef PARC_BENCH_PEER_TBB_ARENA_HPP
#define PARC_BENCH_PEER_TBB_ARENA_HPP

#include <tbb/task_arena.h>

// The arena of `threads` threads (1..8), made on first use and kept, as
// parc's pools are; NULL outside that range or when out of memory.
tbb::task_arena *bench_tbb_arena(int threads);

#endif
