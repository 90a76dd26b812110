/* src/fiber_stack.h: the stack pool. One mutex guards it: taking a stack
 * happens once per fiber, not per switch, and a per-thread cache would
 * strand stacks on threads that create fibers but never finish them. */
/* MAP_ANONYMOUS, MAP_NORESERVE, MAP_STACK are not POSIX. */
#define _DEFAULT_SOURCE 1

#include "fiber_stack.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fiber_context.h"

#ifdef PARC_FIBER_ASAN
#include <sanitizer/asan_interface.h>
#endif

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif
#ifndef MAP_STACK
#define MAP_STACK 0
#endif

/* Default usable size: 64 KiB, enough for ordinary C with a few KiB
 * frames; sanitizers grow frames with redzones, so 4x there. */
#if defined(PARC_FIBER_ASAN) || defined(PARC_FIBER_TSAN)
#define DEFAULT_STACK ((size_t)256 << 10)
#else
#define DEFAULT_STACK ((size_t)64 << 10)
#endif
#define MIN_STACK ((size_t)16 << 10)
#define SLAB_STACKS 64            /* unguarded stacks per mapping */
#define CACHE_GUARDED 256         /* guarded stacks kept per size */
#define MAX_CLASSES 16

/* A free stack is linked through a node written at its top. */
typedef struct free_node {
    struct free_node *next;
} free_node_t;

typedef struct size_class {
    size_t size;
    bool guarded;
    free_node_t *free;
    size_t nfree;
} size_class_t;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static size_class_t classes[MAX_CLASSES];
static unsigned nclasses;

static size_t page_size(void)
{
    static size_t cached;
    if (cached == 0) {
        long p = sysconf(_SC_PAGESIZE);
        cached = p > 0 ? (size_t)p : 4096;
    }
    return cached;
}

size_t parc_fiber_stack_size(size_t requested)
{
    size_t size = requested == 0 ? DEFAULT_STACK : requested;
    if (size < MIN_STACK)
        size = MIN_STACK;
    size_t page = page_size();
    if (size > SIZE_MAX - page)
        return 0;
    return (size + page - 1) & ~(page - 1);
}

static free_node_t *node_of(void *bottom, size_t size)
{
    return (free_node_t *)((char *)bottom + size - sizeof(free_node_t));
}

static void *bottom_of(free_node_t *n, size_t size)
{
    return (char *)n + sizeof(free_node_t) - size;
}

/* The class for (size, guarded), made if new; NULL when the table is full
 * (the stack then bypasses the cache). Called with pool_lock held. */
static size_class_t *class_of(size_t size, bool guarded)
{
    for (unsigned i = 0; i < nclasses; i++)
        if (classes[i].size == size && classes[i].guarded == guarded)
            return &classes[i];
    if (nclasses == MAX_CLASSES)
        return NULL;
    size_class_t *c = &classes[nclasses++];
    c->size = size;
    c->guarded = guarded;
    return c;
}

static void push_free(size_class_t *c, void *bottom)
{
    free_node_t *n = node_of(bottom, c->size);
    n->next = c->free;
    c->free = n;
    c->nfree++;
}

static void *map_guarded(size_t size)
{
    size_t page = page_size();
    char *m = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    if (mprotect(m, page, PROT_NONE) != 0) { /* out of mappings, usually */
        munmap(m, size + page);
        return NULL;
    }
    return m + page;
}

/* Map a slab of unguarded stacks into c's free list. pool_lock held. */
static int map_slab(size_class_t *c)
{
    size_t bytes = c->size * SLAB_STACKS;
    char *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (m == MAP_FAILED)
        return ENOMEM;
    for (unsigned i = SLAB_STACKS; i-- > 0;)
        push_free(c, m + (size_t)i * c->size);
    return 0;
}

int parc_fiber_stack_get(size_t size, bool guarded, parc_fiber_stack_t *out)
{
    void *bottom = NULL;
    pthread_mutex_lock(&pool_lock);
    size_class_t *c = class_of(size, guarded);
    if (c != NULL && c->free == NULL && !guarded && map_slab(c) != 0) {
        pthread_mutex_unlock(&pool_lock);
        return ENOMEM;
    }
    if (c != NULL && c->free != NULL) {
        free_node_t *n = c->free;
        c->free = n->next;
        c->nfree--;
        bottom = bottom_of(n, size);
    }
    pthread_mutex_unlock(&pool_lock);
    if (bottom == NULL) {
        /* A new guarded stack, or any stack once the class table is full
         * (then guarded too: an unguarded one would need a slab). */
        bottom = map_guarded(size);
        guarded = true;
        if (bottom == NULL)
            return ENOMEM;
    }
#ifdef PARC_FIBER_ASAN
    /* A fiber abandoned while suspended (a generator never run to its end)
     * leaves its frames' redzones poisoned: a new fiber starts clean. */
    __asan_unpoison_memory_region(bottom, size);
#endif
    out->bottom = bottom;
    out->size = size;
    out->guarded = guarded;
    return 0;
}

void parc_fiber_stack_put(const parc_fiber_stack_t *s)
{
    pthread_mutex_lock(&pool_lock);
    size_class_t *c = class_of(s->size, s->guarded);
    if (c != NULL && (!s->guarded || c->nfree < CACHE_GUARDED)) {
        push_free(c, s->bottom);
        pthread_mutex_unlock(&pool_lock);
        return;
    }
    pthread_mutex_unlock(&pool_lock);
    size_t page = page_size();
    munmap((char *)s->bottom - page, s->size + page);
}
