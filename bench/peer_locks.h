/*
 * bench/peer_locks.h — storage for a C++ lock that a C benchmark holds in
 * place (bench_mutex.c, bench_rwlock.c through peer_absl.h and
 * peer_tbb_mutex.h): the C++ side constructs its object inside with
 * placement new (it checks that the object fits), so the lock sits in the
 * benchmark's state like pthread's does, not behind a pointer.
 */
#ifndef PARC_BENCH_PEER_LOCKS_H
#define PARC_BENCH_PEER_LOCKS_H

#ifdef __cplusplus
#define BENCH_CXX_LOCK_ALIGN alignas(64)
#else
#define BENCH_CXX_LOCK_ALIGN _Alignas(64)
#endif

typedef struct bench_cxx_lock {
    BENCH_CXX_LOCK_ALIGN unsigned char bytes[64];
} bench_cxx_lock_t;

#endif /* PARC_BENCH_PEER_LOCKS_H */
