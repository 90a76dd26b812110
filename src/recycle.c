/* The runtime's recycling allocator (src/recycle.h): heap recyclers with
 * per-thread caches, slab recyclers for objects whose owner is found by
 * masking their address, and the one place that talks to ASan/LSan. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "recycle.h"

#if defined(__SANITIZE_ADDRESS__)
#define PARC_RECYCLE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PARC_RECYCLE_ASAN 1
#endif
#endif

#ifdef PARC_RECYCLE_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/lsan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

typedef parc_recycle_free_t free_t;

static size_t object_size(size_t size)
{
    return size < PARC_RECYCLE_MIN_SIZE ? PARC_RECYCLE_MIN_SIZE : size;
}

static void free_list(free_t *o)
{
    while (o != NULL) {
        free_t *next = o->next;
        free(o);
        o = next;
    }
}

/* ---- the shared stack ---------------------------------------------------- */

#ifndef PARC_RECYCLE_ASAN /* a heap recycler under ASan does not recycle */
/* Push a chain (head .. tail, len objects) for any thread's pop-all. */
static void shared_push(parc_recycler_t *r, free_t *head, free_t *tail,
                        size_t len)
{
    head->chain_tail = tail;
    head->chain_len = len;
    free_t *top = parc_load(&r->shared, PARC_RELAXED);
    do {
        head->chain_next = top;
        /* release: our uses of the chain's objects (and its links) happen
         * before their reuse; pairs with the acquire exchange in
         * shared_take. */
    } while (!parc_cas_weak(&r->shared, &top, head, PARC_RELEASE,
                            PARC_RELAXED));
}
#endif

/* Take the whole shared stack: its chains, linked by chain_next. */
static free_t *shared_take(parc_recycler_t *r)
{
    if (parc_load(&r->shared, PARC_RELAXED) == NULL)
        return NULL; /* a plain look first: no exchange on an empty stack */
    /* acquire: the freeing threads' last uses of the objects happen
     * before we reuse them; pairs with the release CAS in shared_push. */
    return parc_xchg(&r->shared, (free_t *)NULL, PARC_ACQUIRE);
}

/* ---- heap recyclers: thread caches --------------------------------------- */

int parc_recycle_init_heap(parc_recycler_t *r, size_t size, unsigned cache_max,
                           unsigned batch, size_t shared_max)
{
    if (r == NULL || size == 0 || batch == 0)
        return EINVAL;
    memset(r, 0, sizeof *r);
    r->size = object_size(size);
    r->cache_max = cache_max;
    r->batch = batch;
    r->shared_max = shared_max;
    parc_atomic_init(&r->shared, (free_t *)NULL);
    parc_atomic_init(&r->shared_count, (size_t)0);
    return 0;
}

void parc_recycle_destroy_heap(parc_recycler_t *r)
{
    for (free_t *ch = parc_xchg(&r->shared, (free_t *)NULL, PARC_ACQUIRE);
         ch != NULL;) { /* acquire: as in shared_take */
        free_t *next = ch->chain_next;
        free_list(ch);
        ch = next;
    }
    parc_store(&r->shared_count, (size_t)0, PARC_RELAXED); /* a hint */
}

void parc_recycle_cache_flush(parc_recycle_cache_t *c)
{
    free_list(c->head);
    free_list(c->batch);
    c->head = c->ahead = c->batch = c->batch_tail = NULL;
    c->n = c->batch_len = 0;
}

#ifndef PARC_RECYCLE_ASAN /* under ASan nothing is cached */
/* A thread's caches, one list per thread whose destructor empties them
 * (the key's value is the list's head). */
static pthread_key_t caches_key;
static pthread_once_t caches_key_once = PTHREAD_ONCE_INIT;

static void caches_exit(void *arg)
{
    for (parc_recycle_cache_t *c = arg; c != NULL;) {
        parc_recycle_cache_t *next = c->next_cache;
        parc_recycle_cache_flush(c);
        /* A later key destructor may free again: it registers anew, and
         * pthreads runs this destructor once more. */
        c->registered = false;
        c->next_cache = NULL;
        c = next;
    }
}

static void caches_key_create(void)
{
    (void)pthread_key_create(&caches_key, caches_exit);
}

/* Tell the thread-exit flush about c; false when that cannot be done
 * (then the thread keeps nothing in c). */
static bool cache_register(parc_recycle_cache_t *c)
{
    if (c->registered)
        return true;
    pthread_once(&caches_key_once, caches_key_create);
    parc_recycle_cache_t *first = pthread_getspecific(caches_key);
    c->next_cache = first;
    if (pthread_setspecific(caches_key, c) != 0) {
        c->next_cache = NULL;
        return false;
    }
    c->registered = true;
    return true;
}
#endif

void *parc_recycle_alloc_slow_(parc_recycler_t *r, parc_recycle_cache_t *c)
{
#ifndef PARC_RECYCLE_ASAN
    if (c->head == NULL && c->batch != NULL) { /* our own frees first */
        c->head = c->batch;
        c->n = c->batch_len;
        c->batch = c->batch_tail = NULL;
        c->batch_len = 0;
    }
    if (c->head == NULL && cache_register(c)) {
        free_t *chains = shared_take(r);
        if (chains != NULL)
            parc_store(&r->shared_count, (size_t)0, PARC_RELAXED); /* a hint */
        while (chains != NULL) { /* splice the chains into one list */
            free_t *next_chain = chains->chain_next;
            chains->chain_tail->next = c->head;
            c->head = chains;
            c->n += (unsigned)chains->chain_len;
            chains = next_chain;
        }
    }
    free_t *o = c->head;
    if (o != NULL) {
        c->head = o->next;
        c->n--;
        /* The cursor starts PARC_RECYCLE_AHEAD places behind the new
         * head (see parc_recycle_alloc); the walk pays the first few
         * misses one after another, which those allocs would have paid
         * anyway, and has the lines requested in passing. */
        free_t *a = c->head;
        for (unsigned i = 0; i < PARC_RECYCLE_AHEAD && a != NULL; i++) {
            __builtin_prefetch(a, 1);
            a = a->next;
        }
        c->ahead = a;
        return o;
    }
#else
    (void)c;
#endif
    return malloc(r->size);
}

void parc_recycle_free_slow_(parc_recycler_t *r, parc_recycle_cache_t *c,
                             void *obj)
{
#ifndef PARC_RECYCLE_ASAN
    if (cache_register(c)) {
        free_t *o = obj;
        if (c->n < r->cache_max) { /* registered just now */
            o->next = c->head;
            c->head = o;
            c->n++;
            return;
        }
        o->next = c->batch;
        if (c->batch == NULL)
            c->batch_tail = o;
        c->batch = o;
        if (++c->batch_len < r->batch)
            return;
        free_t *chain = c->batch, *tail = c->batch_tail;
        c->batch = c->batch_tail = NULL;
        c->batch_len = 0;
        if (parc_load(&r->shared_count, PARC_RELAXED) < r->shared_max) {
            parc_faa(&r->shared_count, (size_t)r->batch, PARC_RELAXED);
            shared_push(r, chain, tail, r->batch);
        } else {
            free_list(chain); /* enough kept: back to malloc */
        }
        return;
    }
#else
    (void)r;
    (void)c;
#endif
    free(obj);
}

/* ---- slab recyclers ------------------------------------------------------ */

/* A slab's header line: the owner first (parc_recycle_slab_owner). */
typedef struct slab_header {
    void *owner;
    struct slab_header *next; /* the recycler's slabs, under its lock */
} slab_header_t;

/* A free object's link, read by the object's one owner: under ASan a
 * free object is poisoned but for this moment. */
static free_t *link_next(free_t *o)
{
    UNPOISON(o, sizeof *o);
    free_t *n = o->next;
    POISON(o, sizeof *o);
    return n;
}

int parc_recycle_init_slab(parc_recycler_t *r, size_t size, size_t slab_bytes,
                           void *owner)
{
    long page = sysconf(_SC_PAGESIZE);
    if (r == NULL || size == 0 || slab_bytes == 0
        || (slab_bytes & (slab_bytes - 1)) != 0
        || (page > 0 && slab_bytes < (size_t)page)
        || slab_bytes < PARC_CACHELINE + object_size(size))
        return EINVAL;
    memset(r, 0, sizeof *r);
    r->size = object_size(size);
    r->slab_bytes = slab_bytes;
    r->owner = owner;
    parc_atomic_init(&r->shared, (free_t *)NULL);
    parc_atomic_init(&r->shared_count, (size_t)0);
    parc_atomic_init(&r->allocs, (uint64_t)0);
    return parc_spin_tas_init(&r->lock);
}

static slab_header_t *slab_map(parc_recycler_t *r)
{
    /* Map twice the size and cut the aligned slab out of it. */
    size_t bytes = r->slab_bytes, len = 2 * bytes;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    char *p = m;
    char *s = (char *)(((uintptr_t)p + bytes - 1) & ~(uintptr_t)(bytes - 1));
    if (s > p)
        munmap(p, (size_t)(s - p));
    if (s + bytes < p + len)
        munmap(s + bytes, (size_t)(p + len - (s + bytes)));
#ifdef MADV_NOHUGEPAGE
    /* Neighbouring slabs merge into one mapping, which a kernel with
     * transparent huge pages "always" would back 2 MiB at a time: keep an
     * idle object's cost its size, not a huge page's share. */
    madvise(s, bytes, MADV_NOHUGEPAGE);
#endif
#ifdef PARC_RECYCLE_ASAN
    UNPOISON(s, bytes); /* whatever an earlier mapping left */
    __lsan_register_root_region(s, bytes);
#endif
    slab_header_t *slab = (slab_header_t *)(void *)s;
    slab->owner = r->owner;
    return slab;
}

static void slab_unmap(parc_recycler_t *r, slab_header_t *slab)
{
#ifdef PARC_RECYCLE_ASAN
    __lsan_unregister_root_region(slab, r->slab_bytes);
    UNPOISON(slab, r->slab_bytes);
#endif
    munmap(slab, r->slab_bytes);
}

void parc_recycle_destroy_slab(parc_recycler_t *r)
{
    slab_header_t *s = r->slabs;
    while (s != NULL) {
        slab_header_t *next = s->next;
        slab_unmap(r, s);
        s = next;
    }
    r->slabs = NULL;
    r->spare = NULL;
    r->carve = r->carve_end = NULL;
    parc_store(&r->shared, (free_t *)NULL, PARC_RELAXED); /* no user left */
}

/* Move the shared stack in front of spare. Under r->lock. A slab
 * recycler's chains are single objects (chain_next links them). */
static void take_freed(parc_recycler_t *r)
{
    free_t *got = shared_take(r);
    while (got != NULL) {
        UNPOISON(got, sizeof *got);
        free_t *next = got->chain_next;
        got->next = r->spare;
        POISON(got, sizeof *got);
        r->spare = got;
        got = next;
    }
}

/* Bytes left to carve in the newest slab (none before the first). */
static size_t carve_room(const parc_recycler_t *r)
{
    return r->carve == NULL ? 0 : (size_t)(r->carve_end - r->carve);
}

void *parc_recycle_slab_alloc(parc_recycler_t *r)
{
    slab_header_t *unused = NULL;
    parc_spin_tas_lock(&r->lock);
    if (r->spare == NULL)
        take_freed(r);
    free_t *o = r->spare;
    if (o != NULL) {
        free_t *next = link_next(o);
        r->spare = next;
        UNPOISON(o, r->size);
#ifndef PARC_RECYCLE_ASAN
        if (next != NULL) {
            /* The next alloc's user writes that object, last written by
             * the thread that freed it: start fetching its lines. */
            for (size_t off = 0; off < r->size; off += PARC_CACHELINE)
                __builtin_prefetch((char *)next + off, 1);
        }
#endif
    } else {
        if (carve_room(r) < r->size) {
            parc_spin_tas_unlock(&r->lock);
            slab_header_t *slab = slab_map(r); /* no system call under lock */
            if (slab == NULL)
                return NULL;
            parc_spin_tas_lock(&r->lock);
            if (carve_room(r) < r->size) {
                slab->next = r->slabs;
                r->slabs = slab;
                r->carve = (char *)slab + PARC_CACHELINE;
                r->carve_end = (char *)slab + r->slab_bytes;
            } else {
                unused = slab; /* another allocator mapped one meanwhile */
            }
        }
        o = (free_t *)(void *)r->carve;
        r->carve += r->size;
        r->carved++;
    }
    /* relaxed, and no RMW: only the lock's holder writes it. */
    parc_store(&r->allocs, parc_load(&r->allocs, PARC_RELAXED) + 1,
               PARC_RELAXED);
    parc_spin_tas_unlock(&r->lock);
    if (unused != NULL)
        slab_unmap(r, unused);
    return o;
}

void parc_recycle_slab_free(parc_recycler_t *r, void *obj)
{
    free_t *o = obj;
#ifdef PARC_RECYCLE_ASAN
    memset(obj, 0, r->size); /* stale pointers would hide leaks from LSan */
#endif
    POISON(obj, r->size);
    free_t *top = parc_load(&r->shared, PARC_RELAXED);
    do {
        UNPOISON(o, sizeof *o);
        o->chain_next = top;
        POISON(o, sizeof *o);
        /* release: our uses of the object (and its link) happen before its
         * reuse; pairs with the acquire exchange in shared_take. */
    } while (!parc_cas_weak(&r->shared, &top, o, PARC_RELEASE, PARC_RELAXED));
}

/* ---- slab caches ---------------------------------------------------------- */

void parc_recycle_slab_cache_init(parc_recycle_slab_cache_t *c)
{
    c->spare = NULL;
    parc_atomic_init(&c->freed, (free_t *)NULL);
}

/* A free object's chain_next, read by its one owner (see link_next). */
static free_t *chain_link(free_t *o)
{
    UNPOISON(o, sizeof *o);
    free_t *n = o->chain_next;
    POISON(o, sizeof *o);
    return n;
}

void *parc_recycle_slab_alloc_cached(parc_recycler_t *r,
                                     parc_recycle_slab_cache_t *c)
{
    free_t *o = c->spare;
    if (o == NULL && parc_load(&c->freed, PARC_RELAXED) != NULL) {
        /* acquire: the freeing threads' last uses of the objects happen
         * before our reuse; pairs with the release CAS in
         * parc_recycle_slab_free_cached. */
        o = parc_xchg(&c->freed, (free_t *)NULL, PARC_ACQUIRE);
    }
    if (o == NULL)
        return parc_recycle_slab_alloc(r);
    free_t *next = chain_link(o);
    c->spare = next;
    UNPOISON(o, r->size);
#ifndef PARC_RECYCLE_ASAN
    if (next != NULL) /* its user writes it next: see slab_alloc */
        for (size_t off = 0; off < r->size; off += PARC_CACHELINE)
            __builtin_prefetch((char *)next + off, 1);
#endif
    return o;
}

void parc_recycle_slab_free_cached(parc_recycler_t *r,
                                   parc_recycle_slab_cache_t *c, void *obj)
{
    free_t *o = obj;
#ifdef PARC_RECYCLE_ASAN
    memset(obj, 0, r->size); /* stale pointers would hide leaks from LSan */
#endif
    POISON(obj, r->size);
    free_t *top = parc_load(&c->freed, PARC_RELAXED);
    do {
        UNPOISON(o, sizeof *o);
        o->chain_next = top;
        POISON(o, sizeof *o);
        /* release: our uses of the object happen before its reuse; pairs
         * with the acquire exchange in parc_recycle_slab_alloc_cached. */
    } while (!parc_cas_weak(&c->freed, &top, o, PARC_RELEASE, PARC_RELAXED));
}

/* Push a list linked by chain_next onto r's shared stack, whole. */
static void shared_push_list(parc_recycler_t *r, free_t *head)
{
    if (head == NULL)
        return;
    free_t *tail = head, *n;
    while ((n = chain_link(tail)) != NULL)
        tail = n;
    free_t *top = parc_load(&r->shared, PARC_RELAXED);
    do {
        UNPOISON(tail, sizeof *tail);
        tail->chain_next = top;
        POISON(tail, sizeof *tail);
        /* release: as in parc_recycle_slab_free (pairs with shared_take). */
    } while (!parc_cas_weak(&r->shared, &top, head, PARC_RELEASE,
                            PARC_RELAXED));
}

void parc_recycle_slab_cache_flush(parc_recycler_t *r,
                                   parc_recycle_slab_cache_t *c)
{
    shared_push_list(r, c->spare);
    c->spare = NULL;
    /* acquire: as in parc_recycle_slab_alloc_cached. */
    shared_push_list(r, parc_xchg(&c->freed, (free_t *)NULL, PARC_ACQUIRE));
}

uint64_t parc_recycle_slab_in_use(parc_recycler_t *r)
{
    parc_spin_tas_lock(&r->lock);
    take_freed(r);
    uint64_t spare = 0;
    for (free_t *o = r->spare; o != NULL; o = link_next(o))
        spare++;
    uint64_t in_use = r->carved - spare;
    parc_spin_tas_unlock(&r->lock);
    return in_use;
}
