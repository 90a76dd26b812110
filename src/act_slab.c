/* Actor memory (act_internal.h): the slabs scheduled actors live in. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <string.h>
#include <sys/mman.h>

#include "act_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define ACTOR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ACTOR_ASAN 1
#endif
#endif
#ifdef ACTOR_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/lsan_interface.h>
#endif

/*
 * Actor memory: slabs of SLAB_BYTES, aligned to their size, each a
 * one-line header and SLAB_SLOTS actor slots, cache-aligned and nothing
 * left over (2^18 - 64 is a multiple of 192). An actor finds its runtime
 * through its slab's header, so it needs no pointer of its own. Slabs are
 * mapped from the system (the alignment would cost malloc a second slab's
 * worth of address space) and unmapped when the runtime is freed; freed
 * slots are reused, never given back earlier. Free slots are pushed by
 * any thread on a Treiber stack that the allocator (under slots.lock)
 * takes whole with one exchange, so the stack never pops a single node
 * and has no ABA problem. Under AddressSanitizer a free slot is poisoned
 * (a use after the last release is reported) and each slab is a root
 * region for LeakSanitizer (what live actors point to is reachable).
 */
#define SLAB_BYTES ACT_SLAB_BYTES
#define SLAB_SLOTS ((SLAB_BYTES - PARC_CACHELINE) / sizeof(struct parc_act))
_Static_assert((SLAB_BYTES - PARC_CACHELINE) % sizeof(struct parc_act) == 0,
               "a slab is its header and whole slots");

typedef struct act_slab {
    parc_act_rt_t *rt;      /* first word: act_rt_of reads it */
    struct act_slab *next;  /* the runtime's slabs, under slots.lock */
} slab_t;

typedef struct act_slot {
    struct act_slot *next;  /* a free slot's link (its first word) */
} slot_t;

#ifdef ACTOR_ASAN
#define SLOT_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define SLOT_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define SLOT_POISON(p, n) ((void)(p), (void)(n))
#define SLOT_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* A free slot's link, read or written by the slot's one owner (a free
 * slot is poisoned but for these moments). */
static slot_t *slot_next(slot_t *s)
{
    SLOT_UNPOISON(s, sizeof *s);
    slot_t *n = s->next;
    SLOT_POISON(s, sizeof *s);
    return n;
}

static void slot_set_next(slot_t *s, slot_t *n)
{
    SLOT_UNPOISON(s, sizeof *s);
    s->next = n;
    SLOT_POISON(s, sizeof *s);
}

static slab_t *slab_map(parc_act_rt_t *rt)
{
    /* Map twice the size and cut the aligned slab out of it. */
    size_t len = 2 * SLAB_BYTES;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    char *p = m;
    char *s = (char *)(((uintptr_t)p + SLAB_BYTES - 1) &
                       ~(uintptr_t)(SLAB_BYTES - 1));
    if (s > p)
        munmap(p, (size_t)(s - p));
    if (s + SLAB_BYTES < p + len)
        munmap(s + SLAB_BYTES, (size_t)(p + len - (s + SLAB_BYTES)));
#ifdef MADV_NOHUGEPAGE
    /* Neighbouring slabs merge into one mapping, which a kernel with
     * transparent huge pages "always" would back 2 MiB at a time: keep an
     * idle actor's cost its 192 bytes, not a huge page's share. */
    madvise(s, SLAB_BYTES, MADV_NOHUGEPAGE);
#endif
#ifdef ACTOR_ASAN
    SLOT_UNPOISON(s, SLAB_BYTES); /* whatever an earlier mapping left */
    __lsan_register_root_region(s, SLAB_BYTES);
#endif
    slab_t *slab = (slab_t *)(void *)s;
    slab->rt = rt;
    return slab;
}

static void slab_unmap(slab_t *slab)
{
#ifdef ACTOR_ASAN
    __lsan_unregister_root_region(slab, SLAB_BYTES);
    SLOT_UNPOISON(slab, SLAB_BYTES);
#endif
    munmap(slab, SLAB_BYTES);
}

/* Take the freed stack whole and put it in front of spare. Under
 * slots.lock. */
static void take_freed(parc_act_rt_t *rt)
{
    /* acquire: the freeing threads' last uses of the slots and their
     * links happen before; pairs with slot_free's release CAS. */
    slot_t *got = (slot_t *)parc_xchg(&rt->slots.freed, (uintptr_t)0, PARC_ACQUIRE);
    if (got == NULL)
        return;
    if (rt->slots.spare != NULL) {
        slot_t *last = got;
        for (slot_t *n; (n = slot_next(last)) != NULL;)
            last = n;
        slot_set_next(last, rt->slots.spare);
    }
    rt->slots.spare = got;
}

/* A slot for a new actor, or NULL (no memory). Any thread. */
parc_act_t *act_slot_alloc(parc_act_rt_t *rt)
{
    slab_t *unused = NULL;
    parc_spin_tas_lock(&rt->slots.lock);
    if (rt->slots.spare == NULL)
        take_freed(rt);
    slot_t *s = rt->slots.spare;
    if (s != NULL) {
        slot_t *next = slot_next(s);
        rt->slots.spare = next;
        SLOT_UNPOISON(s, sizeof(parc_act_t));
#ifndef ACTOR_ASAN
        if (next != NULL) {
            /* The next spawn writes all three lines of that slot, last
             * written by the thread that freed it: start fetching them. */
            for (size_t off = 0; off < sizeof(parc_act_t); off += PARC_CACHELINE)
                __builtin_prefetch((char *)next + off, 1);
        }
#endif
    } else {
        if (rt->slots.carve == rt->slots.carve_end) {
            parc_spin_tas_unlock(&rt->slots.lock);
            slab_t *slab = slab_map(rt);
            if (slab == NULL)
                return NULL;
            parc_spin_tas_lock(&rt->slots.lock);
            if (rt->slots.carve == rt->slots.carve_end) {
                slab->next = rt->slots.slabs;
                rt->slots.slabs = slab;
                rt->slots.carve = (char *)slab + PARC_CACHELINE;
                rt->slots.carve_end = (char *)slab + SLAB_BYTES;
            } else {
                unused = slab; /* another spawner mapped one meanwhile */
            }
        }
        s = (slot_t *)(void *)rt->slots.carve;
        rt->slots.carve += sizeof(parc_act_t);
        rt->slots.carved++;
    }
    /* relaxed, and no RMW: only the lock's holder writes it. */
    parc_store(&rt->slots.allocs, parc_load(&rt->slots.allocs, PARC_RELAXED) + 1,
               PARC_RELAXED);
    parc_spin_tas_unlock(&rt->slots.lock);
    if (unused != NULL)
        slab_unmap(unused);
    return (parc_act_t *)(void *)s;
}

/* Give an actor's slot back (the last reference is gone). Any thread;
 * lock-free. */
void act_slot_free(parc_act_rt_t *rt, parc_act_t *a)
{
    slot_t *s = (slot_t *)(void *)a;
#ifdef ACTOR_ASAN
    memset(a, 0, sizeof *a); /* stale pointers would hide leaks from LSan */
#endif
    SLOT_POISON(a, sizeof *a);
    uintptr_t head = parc_load(&rt->slots.freed, PARC_RELAXED);
    do {
        slot_set_next(s, (slot_t *)head);
        /* release: our uses of the slot (and the link) happen before the
         * allocator's acquire exchange in take_freed. */
    } while (!parc_cas_weak(&rt->slots.freed, &head, (uintptr_t)s, PARC_RELEASE,
                            PARC_RELAXED));
}

uint64_t act_slots_in_use(parc_act_rt_t *rt)
{
    parc_spin_tas_lock(&rt->slots.lock);
    take_freed(rt);
    uint64_t spare = 0;
    for (slot_t *s = rt->slots.spare; s != NULL; s = slot_next(s))
        spare++;
    uint64_t n = rt->slots.carved - spare;
    parc_spin_tas_unlock(&rt->slots.lock);
    return n;
}

void act_slots_init(parc_act_rt_t *rt)
{
    memset(&rt->slots, 0, sizeof rt->slots);
    parc_atomic_init(&rt->slots.freed, (uintptr_t)0);
    parc_spin_tas_init(&rt->slots.lock);
    parc_atomic_init(&rt->slots.allocs, (uint64_t)0);
}

void act_slots_destroy(parc_act_rt_t *rt)
{
    for (slab_t *s = rt->slots.slabs; s != NULL;) {
        slab_t *next = s->next;
        slab_unmap(s);
        s = next;
    }
    rt->slots.slabs = NULL;
}
