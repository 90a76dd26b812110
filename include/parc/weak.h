/*
 * parc/weak.h — a C11 weak-memory model behind the atomic seam (layer 0,
 * PARC_WEAK builds).
 *
 * x86 reorders only a store behind a later load, so a memory_order_relaxed
 * that should have been acquire/release passes every test on it, and
 * ThreadSanitizer sees it only when non-atomic data is involved. In a
 * PARC_WEAK build (cmake -DPARC_WEAK=ON, preset `weak`; implies PARC_CHAOS)
 * every parc_load/parc_store/parc_xchg/parc_cas/parc_faa/.../parc_fence of
 * parc/atomic.h calls the functions below, and while a model run is active
 * (parc_weak_begin; the stress harness's --weak) each load of a thread of
 * the run returns a value chosen among the stores the C11 model lets it
 * read — not necessarily the latest. This is the operational model of
 * CDSChecker and C11Tester (Norris and Demsky, OOPSLA 2013 and ASPLOS
 * 2021), written afresh and simplified:
 *
 *   - Each atomic location keeps its last PARC_WEAK_HISTORY stores in
 *     modification order (mo). A store always goes to the end of mo (the
 *     execution is one thread at a time, under the baton), and also to
 *     memory, so memory holds the mo-latest value: futexes, the harness and
 *     code outside the run see what the hardware would.
 *   - Each thread has a vector clock; each store records its writer and the
 *     writer's clock component, and, when it can synchronize, a release
 *     clock: the writer's clock for a release (or stronger) store, the
 *     clock of the writer's last release fence for a relaxed one, joined
 *     with the release clock of the store an RMW read or, for a plain
 *     store, of the mo-previous store when that was an RMW or the same
 *     thread's (C11's release sequences, 7.17.3p10, which C++20 narrowed
 *     to RMWs only; parc is C11, and Lê et al.'s deque relies on them).
 *   - A load may read any store from the latest one that "happens before"
 *     it up to the mo-latest: a store is visible when its writer's
 *     component is covered by the loading thread's clock (write-read
 *     coherence, CoWR) or when a load that read it happens before this one
 *     (read-read coherence, CoRR). The choice comes from the run's seeded
 *     generator (or a chooser: the exhaustive explorer), so a seed replays.
 *   - An acquire (or stronger) load joins the release clock of the store it
 *     read into the thread's clock; a relaxed load stashes it for the
 *     thread's next acquire fence. RMWs always read the mo-latest store.
 *     A failed compare-exchange also reads the latest (conservative).
 *   - seq_cst, conservatively: every seq_cst operation or fence first
 *     acquires a global clock S and afterwards releases into it, so all
 *     seq_cst events form one total order that is also happens-before.
 *     That is stronger than C11 (where a seq_cst load does not synchronize
 *     with the seq_cst store of another location before it) and so hides
 *     some legal behaviours, never invents one: SB with seq_cst cannot give
 *     (0,0), IRIW readers agree.
 *   - Kernel parks: a thread back from a park (the baton's unblock hook)
 *     acquires every thread's clock (it was woken by someone, and the model
 *     does not know by whom): conservative again.
 *
 * What it cannot produce: a load reading a store that comes later in the
 * execution (load buffering, out-of-thin-air): the model is operational,
 * stores are never promised ahead. Spurious compare-exchange_weak failures
 * are not injected. Stores pruned from a long history can no longer be
 * read. Non-atomic accesses go to memory (ThreadSanitizer covers them).
 * Synchronization that bypasses the seam (a pthread mutex, Concurrency
 * Kit's ck_pr) is invisible: code using it may see values its real
 * synchronization forbids, so such code is not run under the model.
 *
 * Writes to an atomic behind the model's back (parc_atomic_init, memset,
 * parc_raw_*, a thread outside the run) are noticed at the next access
 * (memory no longer holds the mo-latest value) or told by
 * parc_weak_forget(); the location's history then restarts from the value
 * in memory, visible to every thread.
 *
 * Threads: parc_weak_begin/end from a thread outside the run; the access
 * functions from any thread (threads outside the run, or any thread while
 * no run is active, get plain seq_cst atomics). One run at a time.
 */
#ifndef PARC_WEAK_H
#define PARC_WEAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parc/api.h"

/* Stores kept per location (older ones can no longer be read). */
#define PARC_WEAK_HISTORY 8
/* Threads of one model run. */
#define PARC_WEAK_MAX_THREADS 64

/* RMW operations of parc_weak_rmw(). */
enum { PARC_WEAK_XCHG, PARC_WEAK_ADD, PARC_WEAK_SUB, PARC_WEAK_OR, PARC_WEAK_AND };

/* Chooses one of `options` (>= 2) alternatives: returns 0 .. options-1.
 * `kind` is PARC_WEAK_CHOICE_READ here (the baton's exhaustive mode uses
 * the same shape for schedules). Option 0 is always the mo-latest store,
 * the others go back in mo. */
typedef unsigned (*parc_weak_chooser_fn)(void *ctx, unsigned kind, unsigned options);
enum { PARC_WEAK_CHOICE_READ = 1, PARC_WEAK_CHOICE_SCHEDULE = 2, PARC_WEAK_CHOICE_SWITCH = 3 };

typedef struct parc_weak_stats {
    uint64_t loads;       /* modelled loads */
    uint64_t stale;       /* ... that read a store older than the latest */
    uint64_t stores;      /* modelled stores and RMWs */
    uint64_t resets;      /* histories restarted (writes behind the model) */
    uint64_t locations;   /* distinct locations touched */
} parc_weak_stats_t;

PARC_BEGIN_DECLS

/** True when the library was built with PARC_WEAK (the seam calls the
 *  model). Any thread; never blocks. */
PARC_API bool parc_weak_compiled(void);

/**
 * Start a model run for participants 0..threads-1 (1..PARC_WEAK_MAX_THREADS):
 * forgets every history, zeroes the clocks, seeds the read choices from
 * `seed`. Returns 0, EINVAL (thread count), EBUSY (a run is active),
 * ENOTSUP (not a PARC_WEAK build), ENOMEM. Call with no participant
 * running. Never blocks.
 */
PARC_API int parc_weak_begin(unsigned threads, uint64_t seed);

/** End the run: frees the histories, fills *stats (may be NULL). Call after
 *  every participant stopped. Never blocks. */
PARC_API void parc_weak_end(parc_weak_stats_t *stats);

/** The calling thread becomes participant `index` of the active run (its
 *  accesses are modelled from now on). Returns 0 or EINVAL. */
PARC_API int parc_weak_thread_enter(unsigned index);

/** The calling thread leaves the run (its accesses go to memory again). */
PARC_API void parc_weak_thread_exit(void);

/** The calling participant acquires every participant's current clock and
 *  the seq_cst clock: called when it comes back from a kernel park, whose
 *  waker the model cannot name. No-op outside a run. */
PARC_API void parc_weak_sync_all(void);

/** Route read choices to `fn` (NULL: the seeded generator). Set only while
 *  no participant runs. */
PARC_API void parc_weak_set_chooser(parc_weak_chooser_fn fn, void *ctx);

/* ---- the seam (called by parc/atomic.h's macros; `p` points to an
 * atomic object of `size` 1, 2, 4 or 8 bytes, values are its bits
 * zero-extended, `mo` a memory_order) ---- */

/** A load: the bits of the store the model chose. */
PARC_API uint64_t parc_weak_load(const void *p, size_t size, int mo);
/** A store of `v`. */
PARC_API void parc_weak_store(void *p, size_t size, uint64_t v, int mo);
/** A read-modify-write PARC_WEAK_XCHG/ADD/SUB/OR/AND with operand `v`:
 *  the bits before it. */
PARC_API uint64_t parc_weak_rmw(void *p, size_t size, int op, uint64_t v, int mo);
/** A strong compare-exchange of *expected (size bytes) against the
 *  mo-latest value; on failure *expected receives it. */
PARC_API bool parc_weak_cas(void *p, size_t size, void *expected, uint64_t desired,
                            int mo_ok, int mo_fail);
/** A fence. */
PARC_API void parc_weak_fence(int mo);
/** The object at `p` was (re)initialized behind the model: its history
 *  restarts from memory. Any thread. */
PARC_API void parc_weak_forget(const void *p);

PARC_END_DECLS

#endif /* PARC_WEAK_H */
