/*
 * Unit tests for the runtime's recycling allocator (src/recycle.h, private
 * to libparc): bad arguments, heap objects handed between threads with no
 * object given out twice while in use, and slab objects whose owner is
 * found by masking, counted in use, reused, and unmapped at destroy.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recycle.h"
#include "testutil.h"

START_TEST(rejects_bad_arguments)
{
    parc_recycler_t r;
    ck_assert_int_eq(parc_recycle_init_heap(NULL, 32, 4, 4, 64), EINVAL);
    ck_assert_int_eq(parc_recycle_init_heap(&r, 0, 4, 4, 64), EINVAL);
    ck_assert_int_eq(parc_recycle_init_heap(&r, 32, 4, 0, 64), EINVAL);
    ck_assert_int_eq(parc_recycle_init_slab(NULL, 64, 1 << 16, &r), EINVAL);
    ck_assert_int_eq(parc_recycle_init_slab(&r, 0, 1 << 16, &r), EINVAL);
    ck_assert_int_eq(parc_recycle_init_slab(&r, 64, 3 << 14, &r), EINVAL);
    ck_assert_int_eq(parc_recycle_init_slab(&r, 1 << 16, 1 << 16, &r), EINVAL);
}
END_TEST

/* Heap: objects made by one thread and freed by another, over and over;
 * every live object is stamped with its holder's mark, which a recycler
 * that gave one object out twice would make another holder see. */
#define HEAP_ROUNDS 20000
#define HEAP_LIVE 64

static parc_recycler_t heap_r;
static _Thread_local parc_recycle_cache_t heap_c;

typedef struct handoff {
    uint64_t *slot[HEAP_LIVE];
    parc_atomic(int) full; /* 1: the producer's batch awaits the consumer */
    bool bad;
} handoff_t;

static void *heap_consumer(void *arg)
{
    handoff_t *h = arg;
    for (int round = 0; round < HEAP_ROUNDS / HEAP_LIVE; round++) {
        while (parc_load(&h->full, PARC_ACQUIRE) == 0) /* pairs with the */
            sched_yield();                            /* producer's store */
        for (int i = 0; i < HEAP_LIVE; i++) {
            if (*h->slot[i] != (uint64_t)round * HEAP_LIVE + (uint64_t)i)
                h->bad = true;
            parc_recycle_free(&heap_r, &heap_c, h->slot[i]);
        }
        /* release: our frees (writes to the objects' links) happen before
         * the producer's next allocations; pairs with its acquire load. */
        parc_store(&h->full, 0, PARC_RELEASE);
    }
    return NULL;
}

START_TEST(heap_objects_cross_threads_exactly_once)
{
    ck_assert_int_eq(parc_recycle_init_heap(&heap_r, 24, 8, 4, 32), 0);
    ck_assert_uint_ge(heap_r.size, 24);
    handoff_t *h = calloc(1, sizeof *h);
    pthread_t t;
    parc_test_spawn(&t, 1, heap_consumer, h, 0);
    for (int round = 0; round < HEAP_ROUNDS / HEAP_LIVE; round++) {
        while (parc_load(&h->full, PARC_ACQUIRE) != 0) /* pairs with the */
            sched_yield();                            /* consumer's store */
        for (int i = 0; i < HEAP_LIVE; i++) {
            uint64_t *o = parc_recycle_alloc(&heap_r, &heap_c);
            ck_assert_ptr_nonnull(o);
            for (int j = 0; j < i; j++)
                ck_assert_ptr_ne(o, h->slot[j]); /* never twice at once */
            *o = (uint64_t)round * HEAP_LIVE + (uint64_t)i;
            h->slot[i] = o;
        }
        parc_store(&h->full, 1, PARC_RELEASE); /* publishes the objects */
    }
    parc_test_join(&t, 1);
    ck_assert(!h->bad);
    /* Our own cache after the consumer's frees: reuse works both ways. */
    void *a = parc_recycle_alloc(&heap_r, &heap_c);
    ck_assert_ptr_nonnull(a);
    parc_recycle_free(&heap_r, &heap_c, a);
    parc_recycle_cache_flush(&heap_c);
    parc_recycle_destroy_heap(&heap_r);
    free(h);
}
END_TEST

/* Heap, one thread: allocs and frees interleaved at random, the cache
 * refilled from its own frees and flushed now and then. Every live object
 * is filled with a pattern that is no address (its link words included):
 * an allocation that followed the link of an object given out (the
 * prefetch cursor behind head, parc_recycle_alloc, if it ever pointed at
 * one) would load through the pattern and fault, and an object given out
 * twice would be found among the live ones. */
#define CURSOR_STEPS 60000
#define CURSOR_LIVE 150

START_TEST(heap_cursor_interleaved)
{
    static parc_recycler_t r;
    static _Thread_local parc_recycle_cache_t c;
    /* A small cache and batch: refills (which set the cursor) and
     * frees beyond the cache (to the shared stack) come often. */
    ck_assert_int_eq(parc_recycle_init_heap(&r, 32, 4, 2, 1u << 20), 0);
    unsigned char *live[CURSOR_LIVE];
    int n = 0;
    uint64_t rng = 0x9e3779b97f4a7c15u;
    for (int step = 0; step < CURSOR_STEPS; step++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        if (step % 9973 == 9972)
            parc_recycle_cache_flush(&c);
        if (n < CURSOR_LIVE && (n == 0 || rng % 5 < 3)) {
            unsigned char *o = parc_recycle_alloc(&r, &c);
            ck_assert_ptr_nonnull(o);
            for (int j = 0; j < n; j++)
                ck_assert_ptr_ne(o, live[j]); /* never twice at once */
            memset(o, 0xa5, 32); /* no canonical address */
            live[n++] = o;
        } else {
            int k = (int)((rng >> 8) % (uint64_t)n);
            for (int b = 0; b < 32; b++)
                ck_assert_uint_eq(live[k][b], 0xa5); /* nobody wrote it */
            parc_recycle_free(&r, &c, live[k]);
            live[k] = live[--n];
        }
    }
    while (n > 0)
        parc_recycle_free(&r, &c, live[--n]);
    parc_recycle_cache_flush(&c);
    parc_recycle_destroy_heap(&r);
}
END_TEST

START_TEST(slab_owner_count_reuse)
{
    enum { SLAB = 1 << 16, SIZE = 192, N = 1000 }; /* N spans several slabs */
    static int owner;
    parc_recycler_t r;
    ck_assert_int_eq(parc_recycle_init_slab(&r, SIZE, SLAB, &owner), 0);
    ck_assert_uint_eq(parc_recycle_slab_in_use(&r), 0);
    char **objs = calloc(N, sizeof *objs);
    for (int i = 0; i < N; i++) {
        objs[i] = parc_recycle_slab_alloc(&r);
        ck_assert_ptr_nonnull(objs[i]);
        ck_assert_uint_eq((uintptr_t)objs[i] % PARC_CACHELINE, 0);
        ck_assert_ptr_eq(parc_recycle_slab_owner(objs[i], SLAB), &owner);
        /* not in the header line */
        ck_assert_uint_ge((uintptr_t)objs[i] % SLAB, PARC_CACHELINE);
        memset(objs[i], 0xab, SIZE);
    }
    for (int i = 0; i < N; i++) /* no two objects overlap */
        for (int j = i + 1; j < N; j++)
            ck_assert(objs[i] + SIZE <= objs[j] || objs[j] + SIZE <= objs[i]);
    ck_assert_uint_eq(parc_recycle_slab_in_use(&r), N);
    ck_assert_uint_eq(parc_recycle_slab_allocs(&r), N);
    for (int i = 0; i < N; i += 2)
        parc_recycle_slab_free(&r, objs[i]);
    ck_assert_uint_eq(parc_recycle_slab_in_use(&r), N / 2);
    /* The freed objects come back before a new slab is carved. */
    for (int i = 0; i < N; i += 2) {
        char *o = parc_recycle_slab_alloc(&r);
        bool was_freed = false;
        for (int j = 0; j < N; j += 2)
            was_freed |= o == objs[j];
        ck_assert(was_freed);
        objs[i] = o;
    }
    ck_assert_uint_eq(parc_recycle_slab_in_use(&r), N);
    for (int i = 0; i < N; i++)
        parc_recycle_slab_free(&r, objs[i]);
    ck_assert_uint_eq(parc_recycle_slab_in_use(&r), 0);
    parc_recycle_destroy_slab(&r);
    free(objs);
}
END_TEST

/* Slab: threads allocating and freeing at once; the count is exact after. */
static parc_recycler_t slab_r;

static void *slab_churn(void *arg)
{
    (void)arg;
    void *mine[32];
    for (int round = 0; round < 500; round++) {
        for (int i = 0; i < 32; i++) {
            mine[i] = parc_recycle_slab_alloc(&slab_r);
            *(uintptr_t *)mine[i] = (uintptr_t)&mine[i];
        }
        for (int i = 0; i < 32; i++) {
            ck_assert_uint_eq(*(uintptr_t *)mine[i], (uintptr_t)&mine[i]);
            parc_recycle_slab_free(&slab_r, mine[i]);
        }
    }
    return NULL;
}

START_TEST(slab_concurrent_alloc_free)
{
    ck_assert_int_eq(parc_recycle_init_slab(&slab_r, 64, 1 << 16, &slab_r), 0);
    pthread_t t[4];
    parc_test_spawn(t, 4, slab_churn, NULL, 0);
    parc_test_join(t, 4);
    ck_assert_uint_eq(parc_recycle_slab_in_use(&slab_r), 0);
    ck_assert_uint_eq(parc_recycle_slab_allocs(&slab_r), 4 * 500 * 32);
    parc_recycle_destroy_slab(&slab_r);
}
END_TEST

/* Slab caches: each of 4 threads holds its own cache (allocates from it
 * alone) while its objects are freed into it by another thread (the next
 * one's): no object is given out twice while in use (each is stamped and
 * checked), frees into a cache come back to its holder's allocations,
 * and the count is exact once the caches are flushed. */
enum { SC_THREADS = 4, SC_ROUNDS = 300, SC_N = 32 };
static parc_recycler_t sc_r;
static parc_recycle_slab_cache_t sc_cache[SC_THREADS];
/* Objects thread i hands to thread i+1 to free into i's cache. */
static parc_atomic(void *) sc_box[SC_THREADS][SC_N];

static void *sc_churn(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg, from = (me + SC_THREADS - 1) % SC_THREADS;
    for (int round = 0; round < SC_ROUNDS; round++) {
        for (int i = 0; i < SC_N; i++) {
            uintptr_t *o = parc_recycle_slab_alloc_cached(&sc_r, &sc_cache[me]);
            ck_assert_ptr_nonnull(o);
            *o = (uintptr_t)&sc_box[me][i];
            void *prev = NULL;
            while (!parc_cas(&sc_box[me][i], &prev, (void *)o, PARC_RELEASE,
                             PARC_ACQUIRE)) {
                prev = NULL;
                sched_yield(); /* the neighbour has not taken the last */
            }
        }
        for (int i = 0; i < SC_N; i++) {
            uintptr_t *o;
            while ((o = parc_xchg(&sc_box[from][i], (void *)NULL,
                                  PARC_ACQUIRE)) == NULL)
                sched_yield();
            ck_assert_uint_eq(*o, (uintptr_t)&sc_box[from][i]);
            parc_recycle_slab_free_cached(&sc_r, &sc_cache[from], o);
        }
    }
    return NULL;
}

START_TEST(slab_caches_cross_threads)
{
    ck_assert_int_eq(parc_recycle_init_slab(&sc_r, 64, 1 << 16, &sc_r), 0);
    for (unsigned i = 0; i < SC_THREADS; i++) {
        parc_recycle_slab_cache_init(&sc_cache[i]);
        for (int k = 0; k < SC_N; k++)
            parc_atomic_init(&sc_box[i][k], (void *)NULL);
    }
    pthread_t t[SC_THREADS];
    for (unsigned i = 0; i < SC_THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, sc_churn,
                                        (void *)(uintptr_t)i), 0);
    parc_test_join(t, SC_THREADS);
    /* The last round's objects are still boxed: free them too. */
    for (unsigned i = 0; i < SC_THREADS; i++)
        for (int k = 0; k < SC_N; k++) {
            void *o = parc_xchg(&sc_box[i][k], (void *)NULL, PARC_ACQUIRE);
            if (o != NULL)
                parc_recycle_slab_free_cached(&sc_r, &sc_cache[i], o);
        }
    /* Cached frees do not count free until flushed. */
    ck_assert_uint_ne(parc_recycle_slab_in_use(&sc_r), 0);
    /* Every allocation after the first rounds came from the caches: the
     * slabs hold no more than the objects ever live at once, plus the
     * few in flight between threads. */
    ck_assert_uint_le(parc_recycle_slab_allocs(&sc_r),
                      (uint64_t)SC_THREADS * SC_N * 3);
    for (unsigned i = 0; i < SC_THREADS; i++)
        parc_recycle_slab_cache_flush(&sc_r, &sc_cache[i]);
    ck_assert_uint_eq(parc_recycle_slab_in_use(&sc_r), 0);
    parc_recycle_destroy_slab(&sc_r);
}
END_TEST

static Suite *recycle_suite(void)
{
    Suite *s = suite_create("recycle");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_test(tc, rejects_bad_arguments);
    tcase_add_test(tc, heap_objects_cross_threads_exactly_once);
    tcase_add_test(tc, heap_cursor_interleaved);
    tcase_add_test(tc, slab_owner_count_reuse);
    tcase_add_test(tc, slab_concurrent_alloc_free);
    tcase_add_test(tc, slab_caches_cross_threads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(recycle_suite());
}
