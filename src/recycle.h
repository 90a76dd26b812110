/*
 * src/recycle.h — the runtime's one recycling allocator of small
 * fixed-size objects (private to libparc: futures, pool task records,
 * actor slots, and next actor messages and task-group records).
 *
 * Why: a runtime object is typically made on one thread and freed on
 * another (a submitter makes a task record, a worker frees it), which
 * glibc's malloc serves slowly: the free goes back to the allocating
 * arena under its lock. A recycler keeps freed objects for reuse instead.
 *
 * Structure (Treiber's stack, taken whole; the per-thread caches of
 * Pony's pool allocator and snmalloc's batched remote frees, simplified):
 *
 *   thread cache   a freeing thread keeps up to cache_max objects for its
 *                  own allocations (a LIFO list: the most recently freed,
 *                  still in this core's cache, is reused first); beyond
 *                  that it gathers them into a chain of `batch` objects;
 *   shared stack   a full chain goes onto the recycler's shared stack with
 *                  one CAS (release), up to about shared_max objects;
 *                  beyond that the chain goes back to malloc;
 *   pop-all        a thread whose cache is empty takes the shared stack
 *                  whole with one exchange (acquire) and splices its
 *                  chains into its cache. Nobody ever pops a single node
 *                  off the shared stack, so there is no ABA problem and
 *                  no need for tags or hazard pointers.
 *
 * Two kinds of recycler share that stack:
 *
 *   heap   objects are malloc blocks of `size` bytes, recycled through
 *          per-thread caches (parc_recycle_cache_t, which the user declares
 *          _Thread_local next to the recycler). A thread's cached blocks
 *          go back to malloc when it exits. For objects of no particular
 *          home: futures, task records, messages.
 *   slab   objects of `size` bytes carved from slabs of slab_bytes (a power
 *          of two) mapped at slab_bytes alignment; the slab's first cache
 *          line is its header, whose first word is the recycler's `owner`,
 *          so parc_recycle_slab_owner(obj, slab_bytes) finds an object's
 *          owner by masking its address (an actor finds its runtime without
 *          a pointer of its own). Slabs are unmapped only by destroy, so a
 *          slab recycler has no thread caches (a thread's cache would
 *          outlive the slabs): freed objects go singly onto the shared stack
 *          and the allocating side, under a test-and-set lock held for a
 *          few loads and stores, takes the stack whole when its spare list
 *          is empty. It counts objects in use.
 *
 * Sanitizers: src/recycle.c is the only place in libparc that tells
 * AddressSanitizer/LeakSanitizer about recycled memory (the inline fast
 * paths below need no build test: under ASan a cache is never filled nor
 * registered, so they always fall through to the slow paths).
 *   - Under ASan a heap recycler does not recycle: alloc is malloc and free
 *     is free, so ASan sees every use after free (with its quarantine).
 *   - Under ASan a slab recycler poisons a free object (a use after free is
 *     reported), zeroes it before (stale pointers in it would hide leaks
 *     from LSan), and registers each slab as an LSan root region, so what
 *     live objects point to is reachable.
 *
 * Synchronization:
 *
 *   operation                 threads                 blocks
 *   parc_recycle_alloc/free   any, with its own cache  never (heap); a
 *     (heap)                  (the cache is the        malloc/free at times
 *                             calling thread's)
 *   parc_recycle_slab_alloc   any                      spins on the TAS lock
 *                                                      held by another
 *                                                      allocator for a few
 *                                                      stores; maps a slab
 *                                                      (outside the lock)
 *   parc_recycle_slab_free    any                      never (lock-free CAS)
 *   slab caches               see "slab caches" below
 *   parc_recycle_slab_in_use  any, but exact only when no alloc/free runs
 *   init / destroy            one thread, no other call running
 *
 * Ordering: every free happens before the reuse of the same memory by
 * another thread's alloc (the free's release CAS onto the shared stack
 * pairs with the pop-all's acquire exchange); a thread's own cache needs
 * no ordering. Nothing else is ordered: publishing an object's contents
 * to other threads is the user's business.
 */
#ifndef PARC_SRC_RECYCLE_H
#define PARC_SRC_RECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parc/atomic.h"
#include "parc/spinlock.h"

/* A free object's first words (objects are at least this large: init
 * rounds `size` up). */
typedef struct parc_recycle_free {
    struct parc_recycle_free *next;       /* next free object of a list */
    struct parc_recycle_free *chain_next; /* next chain on the shared stack */
    struct parc_recycle_free *chain_tail; /* a chain's head: its last object */
    size_t chain_len;                     /* a chain's head: its length */
} parc_recycle_free_t;

#define PARC_RECYCLE_MIN_SIZE sizeof(parc_recycle_free_t)

/* How many objects a thread cache's allocations fetch ahead of use
 * (parc_recycle_alloc): enough to cover a cross-core miss (60-300 ns on
 * the 2-core VM this was measured on) with allocations some tens of ns
 * apart, and well under a core's outstanding-miss buffers (10-16). */
#define PARC_RECYCLE_AHEAD 8

typedef struct parc_recycler {
    /* Configuration, read-only after init. */
    size_t size;          /* bytes an object gets */
    unsigned cache_max;   /* heap: objects a thread cache keeps */
    unsigned batch;       /* heap: objects per chain handed to shared */
    size_t shared_max;    /* heap: objects the shared stack holds, about */
    size_t slab_bytes;    /* slab: a slab's size and alignment; heap: 0 */
    void *owner;          /* slab: the first word of every slab header */
    /* The shared stack of chains: pushed by any freeing thread, taken
     * whole by an allocating one. Its own line: every freeing thread
     * writes it. */
    PARC_CACHE_ALIGNED parc_atomic(parc_recycle_free_t *) shared;
    parc_atomic(size_t) shared_count; /* heap: approximate, a cap only */
    /* Slab: the allocating side, under lock (allocators only). */
    PARC_CACHE_ALIGNED parc_spin_tas_t lock;
    parc_recycle_free_t *spare;  /* free objects taken from shared */
    char *carve, *carve_end;     /* the newest slab's objects not yet used */
    void *slabs;                 /* every slab, linked through headers */
    uint64_t carved;             /* objects ever carved from slabs */
    parc_atomic(uint64_t) allocs; /* allocations ever; written under lock */
} parc_recycler_t;

/* A thread's cache for one heap recycler. Declare it _Thread_local (zero
 * initialised) beside the recycler and pass it to every call from the
 * thread; it belongs to that thread alone. */
typedef struct parc_recycle_cache {
    parc_recycle_free_t *head;   /* objects this thread allocates from */
    /* The object PARC_RECYCLE_AHEAD or more places behind head in its
     * list (NULL: none, or the list is shorter): each alloc moves it one
     * place on and prefetches it (see parc_recycle_alloc). Frees push in
     * front of head and allocs move both by one, so it never comes
     * closer to head than where a refill put it: it is always a member
     * of the list strictly behind head, or NULL. */
    parc_recycle_free_t *ahead;
    unsigned n;                  /* length of head */
    bool registered;             /* the thread-exit flush knows about it */
    parc_recycle_free_t *batch;  /* a chain being gathered for shared */
    parc_recycle_free_t *batch_tail;
    unsigned batch_len;
    struct parc_recycle_cache *next_cache; /* the thread's caches */
} parc_recycle_cache_t;

/* ---- heap recyclers ---------------------------------------------------- */

/* Initialise a heap recycler of objects of `size` bytes (rounded up to
 * PARC_RECYCLE_MIN_SIZE; malloc's alignment). A thread cache keeps up to
 * cache_max objects, hands the shared stack chains of `batch` (>= 1), and
 * the shared stack keeps about shared_max objects. For a recycler of
 * static storage the initialiser below does the same at compile time.
 * Returns 0, or EINVAL (NULL, size 0, batch 0). */
int parc_recycle_init_heap(parc_recycler_t *r, size_t size, unsigned cache_max,
                           unsigned batch, size_t shared_max);

#define PARC_RECYCLE_HEAP_INIT(size_, cache_max_, batch_, shared_max_)       \
    {                                                                         \
        .size = (size_) < PARC_RECYCLE_MIN_SIZE ? PARC_RECYCLE_MIN_SIZE       \
                                                : (size_),                    \
        .cache_max = (cache_max_), .batch = (batch_),                         \
        .shared_max = (shared_max_),                                          \
    }

/* Free what the shared stack holds. Thread caches are not reachable: a
 * thread's cached blocks go back to malloc at its exit (or earlier with
 * parc_recycle_cache_flush), which needs nothing of the recycler, so a
 * heap recycler may be destroyed while other threads still cache its
 * blocks. No call on r may run meanwhile. */
void parc_recycle_destroy_heap(parc_recycler_t *r);

/* Give the calling thread's cached objects of r back to malloc. */
void parc_recycle_cache_flush(parc_recycle_cache_t *c);

void *parc_recycle_alloc_slow_(parc_recycler_t *r, parc_recycle_cache_t *c);
void parc_recycle_free_slow_(parc_recycler_t *r, parc_recycle_cache_t *c,
                             void *obj);

/* An object of r->size bytes, or NULL (no memory). Its contents are
 * undefined. c is the calling thread's cache for r. Never blocks but in
 * malloc. */
static inline void *parc_recycle_alloc(parc_recycler_t *r,
                                       parc_recycle_cache_t *c)
{
    parc_recycle_free_t *o = c->head; /* always NULL under ASan */
    if (o != NULL) {
        parc_recycle_free_t *next = o->next;
        c->head = next;
        c->n--;
        /* Each alloc reads its object's link, last written by the thread
         * that freed it (another core, for objects that travel: a
         * message, a task record). A list gives the next address only
         * once the line holding it has come, so fetching one object
         * ahead overlaps a miss with one alloc's worth of the caller's
         * work, less than a cross-core miss when the allocations stream
         * (a sender making a message per send): the misses would still
         * come one after another. The cursor keeps PARC_RECYCLE_AHEAD
         * fetches in flight instead: its line was requested that many
         * allocs ago, so reading its link rarely waits. next is
         * prefetched too for the list's last few objects, which the
         * cursor (NULL there) no longer covers. A prefetch of NULL does
         * not fault. Rejected: an array of pointers per batch
         * (Bonwick's magazines), which needs no cursor but a second
         * allocation per batch and its own recycling. */
        parc_recycle_free_t *a = c->ahead;
        if (a != NULL) {
            a = a->next;
            c->ahead = a;
            __builtin_prefetch(a, 1);
        }
        __builtin_prefetch(next, 1);
        return o;
    }
    return parc_recycle_alloc_slow_(r, c);
}

/* Give back an object that parc_recycle_alloc(r, ...) returned, from any
 * thread (c is the calling thread's cache for r). Never blocks but in
 * free. */
static inline void parc_recycle_free(parc_recycler_t *r,
                                     parc_recycle_cache_t *c, void *obj)
{
    if (c->n < r->cache_max && c->registered) { /* never under ASan */
        parc_recycle_free_t *o = (parc_recycle_free_t *)obj;
        o->next = c->head;
        c->head = o;
        c->n++;
        return;
    }
    parc_recycle_free_slow_(r, c, obj);
}

/* ---- slab recyclers ---------------------------------------------------- */

/* Initialise a slab recycler: objects of `size` bytes (rounded up to
 * PARC_RECYCLE_MIN_SIZE), carved from slabs of slab_bytes (a power of two,
 * at least a page, room for the header line and one object) aligned to
 * their size, whose header's first word is `owner`. Objects start on a
 * cache line when size is a multiple of PARC_CACHELINE. No memory is
 * mapped until the first alloc. Returns 0 or EINVAL. */
int parc_recycle_init_slab(parc_recycler_t *r, size_t size, size_t slab_bytes,
                           void *owner);

/* Unmap every slab (objects still in use included: the caller knows none
 * are, see parc_recycle_slab_in_use). No call on r may run meanwhile. */
void parc_recycle_destroy_slab(parc_recycler_t *r);

/* An object, or NULL (no memory). Any thread; takes r's lock for a few
 * loads and stores, maps a slab (outside the lock) now and then. */
void *parc_recycle_slab_alloc(parc_recycler_t *r);

/* Give an object back. Any thread; lock-free (one release CAS). */
void parc_recycle_slab_free(parc_recycler_t *r, void *obj);

/* ---- slab caches ---------------------------------------------------------
 *
 * A slab recycler's one lock and one shared stack are written by every
 * alloc and every free: on a large machine, a line every spawning and
 * every releasing thread hands around. A slab cache keeps a share of the
 * free objects off them: its holder (one thread at a time, under a lock
 * of the caller's, e.g. a per-thread shard's) allocates from its private
 * spare list, and any thread frees into its own lock-free stack, which
 * the holder takes whole (one exchange) when the spare list is empty;
 * only then does it go to the recycler. Unlike a heap recycler's thread
 * caches, a slab cache belongs to the recycler's user (who destroys the
 * two together), so it cannot outlive the slabs. Objects freed into a
 * cache are not counted free by parc_recycle_slab_in_use until
 * parc_recycle_slab_cache_flush gives them back.
 *
 *   operation                         threads                 blocks
 *   parc_recycle_slab_alloc_cached    the cache's holder      as slab_alloc
 *   parc_recycle_slab_free_cached     any                     never (CAS)
 *   parc_recycle_slab_cache_flush     the holder              never
 *
 * Ordering: as the recycler's (a free's release CAS onto the cache's
 * stack pairs with the holder's acquire exchange). */
typedef struct parc_recycle_slab_cache {
    parc_recycle_free_t *spare;   /* the holder's, linked by chain_next */
    /* Any thread pushes here: a line of its own, so that frees from other
     * threads do not take the line the holder allocates from (spare, and
     * whatever its user keeps beside the cache, such as its lock). */
    PARC_CACHE_ALIGNED parc_atomic(parc_recycle_free_t *) freed;
} parc_recycle_slab_cache_t;

/* An empty cache (or: zero-initialised memory). */
void parc_recycle_slab_cache_init(parc_recycle_slab_cache_t *c);

/* An object of r, from c when it has one (the caller holds c), else from
 * r. Returns NULL when out of memory. */
void *parc_recycle_slab_alloc_cached(parc_recycler_t *r,
                                     parc_recycle_slab_cache_t *c);

/* Give obj (from any alloc of r) back into c, from any thread. */
void parc_recycle_slab_free_cached(parc_recycler_t *r,
                                   parc_recycle_slab_cache_t *c, void *obj);

/* Give c's free objects back to r (the caller holds c). */
void parc_recycle_slab_cache_flush(parc_recycler_t *r,
                                   parc_recycle_slab_cache_t *c);

/* Objects handed out and not given back. Takes r's lock; exact when no
 * alloc or free runs meanwhile (then it is what destroy would lose). */
uint64_t parc_recycle_slab_in_use(parc_recycler_t *r);

/* Allocations ever made from r (relaxed: a statistic, exact when no alloc
 * runs meanwhile). */
static inline uint64_t parc_recycle_slab_allocs(parc_recycler_t *r)
{
    return parc_load(&r->allocs, PARC_RELAXED); /* a count, publishes nothing */
}

/* The owner given to the recycler whose slab holds obj: its slab header's
 * first word. obj must be an object of a slab recycler of slab_bytes. */
static inline void *parc_recycle_slab_owner(const void *obj, size_t slab_bytes)
{
    return *(void *const *)(const void *)((uintptr_t)obj
                                          & ~(uintptr_t)(slab_bytes - 1));
}

#endif /* PARC_SRC_RECYCLE_H */
