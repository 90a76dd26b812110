/*
 * The process pool's shared memory (see parc/procpool.h): the map arena,
 * one memfd through which a large map's items and results cross by
 * memcpy instead of through the sockets, and the shared buffers of
 * parc_procpool_buffer, in which the workers read and write a map's
 * items and results in place. Their use by map and map_elems is
 * src/procpool_map.c's; the workers' side of the mappings is
 * src/procpool_server.c's; the pool's fields and the frames are described
 * in src/procpool_internal.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "parc/procpool.h"
#include "procpool_internal.h"

/* ---- the map arena ----------------------------------------------------- */

/* The arena of at least `bytes` (the caller holds arena_lock). A larger
 * one is a new memfd (a new generation): a mapping cannot grow in every
 * worker at once, so each worker maps the new one on its first chunk of
 * it and drops the old one then. Returns 0 or an errno. */
int parc_procpool_arena_reserve_(parc_procpool_t *p, size_t bytes)
{
    if (p->arena != NULL && bytes <= p->arena_cap)
        return 0;
    size_t cap = (size_t)1 << 20;
    while (cap < bytes)
        cap *= 2;
    int fd = memfd_create("parc-procpool-map", MFD_CLOEXEC);
    if (fd < 0)
        return errno;
    if (ftruncate(fd, (off_t)cap) != 0) {
        int e = errno;
        close(fd);
        return e;
    }
    void *a = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (a == MAP_FAILED) {
        int e = errno;
        close(fd);
        return e;
    }
    parc_procpool_arena_free_(p);
    p->arena_fd = fd;
    p->arena = a;
    p->arena_cap = cap;
    p->arena_gen++;
    return 0;
}

void parc_procpool_arena_free_(parc_procpool_t *p)
{
    if (p->arena != NULL)
        munmap(p->arena, p->arena_cap);
    if (p->arena_fd >= 0)
        close(p->arena_fd);
    p->arena = NULL;
    p->arena_fd = -1;
    p->arena_cap = 0;
}

/* ---- shared buffers ---------------------------------------------------- */

int parc_procpool_buffer(parc_procpool_t *pool, size_t bytes, void **out)
{
    if (pool == NULL || out == NULL || bytes == 0 || bytes > SIZE_MAX / 2)
        return EINVAL;
    struct pool_buffer *b = malloc(sizeof *b);
    if (b == NULL)
        return ENOMEM;
    int fd = memfd_create("parc-procpool-buffer", MFD_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        free(b);
        return e == EMFILE || e == ENFILE ? e : ENOMEM;
    }
    void *a = MAP_FAILED;
    if (ftruncate(fd, (off_t)bytes) == 0)
        a = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (a == MAP_FAILED) {
        close(fd);
        free(b);
        return ENOMEM;
    }
    b->base = a;
    b->size = bytes;
    b->fd = fd;
    pthread_mutex_lock(&pool->buf_lock);
    b->gen = BUFFER_GEN_BIT | ++pool->buf_serial;
    b->next = pool->buffers;
    pool->buffers = b;
    pthread_mutex_unlock(&pool->buf_lock);
    *out = a;
    return 0;
}

int parc_procpool_buffer_free(parc_procpool_t *pool, void *buf)
{
    if (pool == NULL || buf == NULL)
        return EINVAL;
    pthread_mutex_lock(&pool->buf_lock);
    struct pool_buffer **at = &pool->buffers;
    while (*at != NULL && (*at)->base != buf)
        at = &(*at)->next;
    struct pool_buffer *b = *at;
    if (b != NULL)
        *at = b->next;
    pthread_mutex_unlock(&pool->buf_lock);
    if (b == NULL)
        return EINVAL;
    munmap(b->base, b->size);
    close(b->fd);
    free(b);
    return 0;
}

void parc_procpool_buffers_free_(parc_procpool_t *p)
{
    while (p->buffers != NULL) {
        struct pool_buffer *b = p->buffers;
        p->buffers = b->next;
        munmap(b->base, b->size);
        close(b->fd);
        free(b);
    }
}

/* The shared buffer holding [a, a + len) whole, copied into *out (its fd
 * stays open while the caller's map runs: freeing a buffer a map uses is
 * the caller's error, parc/procpool.h). false: none. */
bool parc_procpool_buffer_of_(parc_procpool_t *p, const void *a, size_t len,
                              struct pool_buffer *out)
{
    bool found = false;
    pthread_mutex_lock(&p->buf_lock);
    for (struct pool_buffer *b = p->buffers; b != NULL && !found; b = b->next) {
        if (parc_procpool_within_(b, a, len)) {
            *out = *b;
            found = true;
        }
    }
    pthread_mutex_unlock(&p->buf_lock);
    return found;
}
