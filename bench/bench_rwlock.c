/*
 * bench/bench_rwlock.c — readers-writer locks under a read-mostly load.
 *
 * Each operation is a read (take the read lock, read a small shared
 * record, do the critical section's work, release) or, with probability
 * 100 - pct percent, a write (take the write lock, update the record, do
 * the same work, release). The work is bench.h's calibrated
 * bench_work(), the same for every case. A family: 90% reads at 1, 2,
 * 4 and 8 threads (2:1 and 4:1 oversubscribed on the 2-core development
 * machine) times a critical section that is empty, ~50 ns or ~500 ns;
 * 99% reads at 2 and 4 threads, empty. A point's arg is pct + 1000 * ns.
 *
 * Peers: glibc's pthread_rwlock in its default mode (prefers readers) and
 * with PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP (writer-preferring,
 * like parc's), Abseil's absl::Mutex in its reader/writer form when found
 * (it lets a waiting writer hold new readers back), and Concurrency Kit's
 * ck_rwlock (a writer-preferring spin lock that never parks).
 *
 * Every case checks that readers always saw a consistent record (both
 * halves equal) and that the writes all landed.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"
#include "parc/atomic.h"
#include "parc/rwlock.h"

/* ck's atomics are inline assembly, which ThreadSanitizer does not see: a
 * TSan build leaves ck out. */
#if defined(PARC_BENCH_HAVE_CK) && !defined(__SANITIZE_THREAD__)
#define HAVE_CK 1
#include <ck_rwlock.h>
#endif

#define RW_ARG(pct, ns) ((pct) + 1000L * (ns))
static const bench_point_t rwlock_points[] = {
    { "90% reads", 1, RW_ARG(90, 0), NULL },
    { "90% reads", 2, RW_ARG(90, 0), NULL },
    { "90% reads", 4, RW_ARG(90, 0), NULL },
    { "90% reads", 8, RW_ARG(90, 0), NULL },
    { "90% reads cs 50 ns", 1, RW_ARG(90, 50), NULL },
    { "90% reads cs 50 ns", 2, RW_ARG(90, 50), NULL },
    { "90% reads cs 50 ns", 4, RW_ARG(90, 50), NULL },
    { "90% reads cs 50 ns", 8, RW_ARG(90, 50), NULL },
    { "90% reads cs 500 ns", 1, RW_ARG(90, 500), NULL },
    { "90% reads cs 500 ns", 2, RW_ARG(90, 500), NULL },
    { "90% reads cs 500 ns", 4, RW_ARG(90, 500), NULL },
    { "90% reads cs 500 ns", 8, RW_ARG(90, 500), NULL },
    { "99% reads", 2, RW_ARG(99, 0), NULL },
    { "99% reads", 4, RW_ARG(99, 0), NULL },
    { NULL, 0, 0, NULL },
};
BENCH_DEFINE(rwlock, "read-mostly record: read lock + read, or write lock + update",
             rwlock_points)

/* The guarded record, away from the lock's line. */
typedef struct record {
    PARC_CACHE_ALIGNED uint64_t a, b; /* equal whenever no writer is inside */
    parc_atomic(uint64_t) torn;       /* reads that saw a != b */
    parc_atomic(uint64_t) writes;     /* writes done (checked at the end) */
    uint32_t iters;                   /* bench_work() units per section */
} record_t;

/* Per-thread xorshift: is the next operation a write? */
static inline int write_next(uint64_t *x, long read_pct)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return (long)(*x % 100u) >= read_pct;
}

/*
 * RW_CASE(tag, impl, type, init, rdlock, rdunlock, wrlock, wrunlock,
 * destroy): each function takes a `type *` and returns 0 on success
 * (wrap void ones); they are called directly so fast paths inline.
 */
#define RW_CASE(tag, impl, type, init, rdlock, rdunlock, wrlock, wrunlock, destroy) \
    typedef struct tag##_state {                                            \
        PARC_CACHE_ALIGNED type lock;                                       \
        record_t rec;                                                       \
    } tag##_state_t;                                                        \
    static void tag##_body(bench_worker_t *w)                               \
    {                                                                       \
        tag##_state_t *s = w->shared;                                       \
        uint64_t x = 0x9e3779b97f4a7c15u * (uint64_t)(w->id + 1);           \
        uint64_t sum = 0, writes = 0, torn = 0;                             \
        const long pct = w->arg % 1000;                                     \
        const uint32_t iters = s->rec.iters;                                \
        for (uint64_t i = 0; i < w->share; i++) {                           \
            if (bench_overrun(w, i)) { /* a convoy: stop, count it */       \
                w->done = i;                                                \
                break;                                                      \
            }                                                               \
            if (write_next(&x, pct)) {                                      \
                if (wrlock(&s->lock) != 0)                                  \
                    abort();                                                \
                s->rec.a++;                                                 \
                s->rec.b++;                                                 \
                if (iters != 0)                                             \
                    bench_work(iters);                                      \
                if (wrunlock(&s->lock) != 0)                                \
                    abort();                                                \
                writes++;                                                   \
            } else {                                                        \
                if (rdlock(&s->lock) != 0)                                  \
                    abort();                                                \
                uint64_t a = s->rec.a;                                      \
                if (iters != 0)                                             \
                    bench_work(iters);                                      \
                uint64_t b = s->rec.b;                                      \
                if (rdunlock(&s->lock) != 0)                                \
                    abort();                                                \
                torn += a != b;                                             \
                sum += a;                                                   \
            }                                                               \
        }                                                                   \
        bench_consume(sum);                                                 \
        parc_raw_faa(&s->rec.writes, writes, PARC_RELAXED);                 \
        parc_raw_faa(&s->rec.torn, torn, PARC_RELAXED);                     \
    }                                                                       \
    static int64_t tag##_case(bench_run_t *r)                               \
    {                                                                       \
        static tag##_state_t s;                                             \
        if (init(&s.lock) != 0)                                             \
            return BENCH_FAILED;                                            \
        s.rec.a = s.rec.b = 0;                                              \
        parc_atomic_init(&s.rec.torn, 0u);                                  \
        parc_atomic_init(&s.rec.writes, 0u);                                \
        s.rec.iters = bench_work_units(r->arg / 1000);                      \
        int64_t ns = bench_parallel(r, tag##_body, &s);                     \
        if (destroy(&s.lock) != 0 || parc_raw_load(&s.rec.torn, PARC_RELAXED) != 0 || \
            parc_raw_load(&s.rec.writes, PARC_RELAXED) != s.rec.a)          \
            return BENCH_FAILED;                                            \
        return ns;                                                          \
    }                                                                       \
    BENCH_CASE(rwlock, impl, tag##_case)

/* ---- parc ---------------------------------------------------------------- */

RW_CASE(parc, "parc", parc_rwlock_t, parc_rwlock_init, parc_rwlock_rdlock,
        parc_rwlock_rdunlock, parc_rwlock_wrlock, parc_rwlock_wrunlock,
        parc_rwlock_destroy)

/* ---- glibc pthreads ------------------------------------------------------- */

static int pthread_default_init(pthread_rwlock_t *l)
{
    return pthread_rwlock_init(l, NULL);
}

static int pthread_writer_init(pthread_rwlock_t *l)
{
    pthread_rwlockattr_t a;
    int rc = pthread_rwlockattr_init(&a);
    if (rc == 0)
        rc = pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    if (rc == 0)
        rc = pthread_rwlock_init(l, &a);
    pthread_rwlockattr_destroy(&a);
    return rc;
}

RW_CASE(pthread_default, "pthread", pthread_rwlock_t, pthread_default_init,
        pthread_rwlock_rdlock, pthread_rwlock_unlock, pthread_rwlock_wrlock,
        pthread_rwlock_unlock, pthread_rwlock_destroy)
RW_CASE(pthread_writer, "pthread-wpref", pthread_rwlock_t, pthread_writer_init,
        pthread_rwlock_rdlock, pthread_rwlock_unlock, pthread_rwlock_wrlock,
        pthread_rwlock_unlock, pthread_rwlock_destroy)

/* ---- Abseil (C++, peer_absl.h; not under TSan) ---------------------------- */

#if defined(PARC_BENCH_HAVE_ABSL) && !defined(__SANITIZE_THREAD__)
#include "peer_absl.h"
RW_CASE(absl, "absl", bench_cxx_lock_t, bench_absl_init, bench_absl_rdlock,
        bench_absl_rdunlock, bench_absl_lock, bench_absl_unlock, bench_absl_destroy)
#endif

/* ---- Concurrency Kit (spins, never parks) ----------------------------------- */

#ifdef HAVE_CK
static int ck_init(ck_rwlock_t *l)
{
    ck_rwlock_init(l);
    return 0;
}
static int ck_rd(ck_rwlock_t *l)
{
    ck_rwlock_read_lock(l);
    return 0;
}
static int ck_rdun(ck_rwlock_t *l)
{
    ck_rwlock_read_unlock(l);
    return 0;
}
static int ck_wr(ck_rwlock_t *l)
{
    ck_rwlock_write_lock(l);
    return 0;
}
static int ck_wrun(ck_rwlock_t *l)
{
    ck_rwlock_write_unlock(l);
    return 0;
}
static int ck_destroy(ck_rwlock_t *l)
{
    return ck_rwlock_locked(l) ? -1 : 0;
}
RW_CASE(ck, "ck-rwlock", ck_rwlock_t, ck_init, ck_rd, ck_rdun, ck_wr, ck_wrun, ck_destroy)
#endif /* HAVE_CK */
