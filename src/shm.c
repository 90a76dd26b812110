/*
 * Shared regions and their lock-free offset allocator (see parc/shm.h).
 *
 * Region layout:
 *
 *     [0, HEADER)     struct region: magic, size, bump pointer, root, and
 *                     one Treiber stack head per size class
 *     [HEADER, size)  blocks of 2^k bytes, each opening with a 16-byte
 *                     struct block (its class, whether allocated, the
 *                     stack link), the user's bytes after it
 *
 * Invariants:
 *   - a block's class never changes once the bump pointer carved it;
 *   - a block is on at most one stack, and on one exactly when its word
 *     says free (the free that flips the word is the one that pushes);
 *   - a stack head is (tag << 32) | (offset / 16); every successful CAS on
 *     it increments the tag, so a pop that read a head before another
 *     pop-and-push of the same block fails its CAS instead of installing
 *     a stale link (ABA).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parc/atomic.h"
#include "parc/shm.h"

#define REGION_MAGIC 0x70617263736d3031ull /* "parcsm01" */
#define MIN_CLASS 5                        /* 32-byte blocks */
#define NUM_CLASSES 32                     /* up to 2^36 = 64 GiB */
#define UNIT 16u                           /* offsets on stacks: in units */
#define MAX_REGION ((uint64_t)UINT32_MAX * UNIT)

#define BLOCK_MAGIC 0x5a0c0000u
#define BLOCK_USED 0x100u
#define BLOCK_CLASS_MASK 0xffu

struct region {
    parc_atomic(uint64_t) magic; /* REGION_MAGIC once initialised */
    uint64_t size;               /* bytes, as created */
    parc_atomic(uint64_t) brk;   /* next uncarved byte */
    parc_atomic(uint64_t) root;  /* the creator's published offset */
    parc_atomic(uint64_t) free_head[NUM_CLASSES];
};

#define HEADER_SIZE ((sizeof(struct region) + 63u) & ~(size_t)63u)

struct block {
    parc_atomic(uint32_t) word; /* BLOCK_MAGIC | USED? | class */
    uint32_t unused;
    parc_atomic(uint64_t) next; /* stack link, in units; valid while free */
};

static struct region *region_of(const parc_shm_t *shm)
{
    return (struct region *)shm->base;
}

static int map_fd(parc_shm_t *shm, int fd, size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return errno;
    shm->base = p;
    shm->size = size;
    shm->fd = fd;
    return 0;
}

static void region_init(parc_shm_t *shm)
{
    struct region *r = region_of(shm);
    /* The file is fresh (zero-filled) and nobody has mapped it yet except
     * by name before the magic is set, which openers check. */
    r->size = shm->size;
    parc_atomic_init(&r->brk, (uint64_t)HEADER_SIZE);
    parc_atomic_init(&r->root, PARC_SHM_NULL);
    for (int i = 0; i < NUM_CLASSES; i++)
        parc_atomic_init(&r->free_head[i], (uint64_t)0);
    /* release: publishes the header's fields; pairs with the acquire load
     * of the magic in check_region (a process opening by name). */
    parc_store(&r->magic, REGION_MAGIC, PARC_RELEASE);
}

int parc_shm_create(parc_shm_t *shm, const char *name, size_t size)
{
    if (shm == NULL || size == 0 || (uint64_t)size > MAX_REGION ||
        (name != NULL && name[0] != '/'))
        return EINVAL;
    long page = sysconf(_SC_PAGESIZE);
    size_t pg = page > 0 ? (size_t)page : 4096u;
    size = (size + pg - 1) / pg * pg;
    if (size < HEADER_SIZE + 64u)
        size = pg;
    int fd = name == NULL ? memfd_create("parc-shm", MFD_CLOEXEC)
                          : shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno;
    int rc = ftruncate(fd, (off_t)size) == 0 ? map_fd(shm, fd, size) : errno;
    if (rc != 0) {
        close(fd);
        if (name != NULL)
            shm_unlink(name);
        return rc;
    }
    region_init(shm);
    return 0;
}

/* Map an existing region's file (the handle takes fd). */
static int map_existing(parc_shm_t *shm, int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return e;
    }
    if (st.st_size == 0) {
        close(fd);
        return EAGAIN; /* created, not yet sized */
    }
    if ((size_t)st.st_size < HEADER_SIZE) {
        close(fd);
        return EPROTO;
    }
    int rc = map_fd(shm, fd, (size_t)st.st_size);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    struct region *r = region_of(shm);
    /* acquire: pairs with region_init's release store of the magic (the
     * header is initialised once it reads REGION_MAGIC). */
    uint64_t magic = parc_load(&r->magic, PARC_ACQUIRE);
    rc = magic == 0 ? EAGAIN
         : magic != REGION_MAGIC || r->size != (uint64_t)st.st_size ? EPROTO
                                                                     : 0;
    if (rc != 0) {
        munmap(shm->base, shm->size);
        close(fd);
        shm->base = NULL;
        shm->fd = -1;
    }
    return rc;
}

int parc_shm_open(parc_shm_t *shm, const char *name)
{
    if (shm == NULL || name == NULL || name[0] != '/')
        return EINVAL;
    int fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    return map_existing(shm, fd);
}

int parc_shm_open_fd(parc_shm_t *shm, int fd)
{
    if (shm == NULL)
        return EINVAL;
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0)
        return errno;
    return map_existing(shm, dup);
}

int parc_shm_close(parc_shm_t *shm)
{
    if (shm == NULL || shm->base == NULL)
        return EINVAL;
    munmap(shm->base, shm->size);
    if (shm->fd >= 0)
        close(shm->fd);
    shm->base = NULL;
    shm->size = 0;
    shm->fd = -1;
    return 0;
}

int parc_shm_unlink(const char *name)
{
    if (name == NULL || name[0] != '/')
        return EINVAL;
    return shm_unlink(name) == 0 ? 0 : errno;
}

int parc_shm_fd(const parc_shm_t *shm)
{
    return shm == NULL ? -1 : shm->fd;
}

/* ---- the allocator -------------------------------------------------- */

static struct block *block_at(parc_shm_t *shm, uint64_t off)
{
    return (struct block *)((char *)shm->base + off);
}

/* Pop a block of class c from its stack; 0 when empty. */
static uint64_t stack_pop(parc_shm_t *shm, int c)
{
    parc_atomic(uint64_t) *head = &region_of(shm)->free_head[c];
    /* acquire: pairs with stack_push's release CAS (the block's link and
     * the freeing process's writes to it happened before). */
    uint64_t h = parc_load(head, PARC_ACQUIRE);
    for (;;) {
        uint64_t units = h & UINT32_MAX;
        if (units == 0)
            return 0;
        uint64_t off = units * UNIT;
        /* relaxed: may be stale when another process popped it meanwhile;
         * the tagged CAS below then fails. The region stays mapped, so the
         * read itself is always safe. */
        uint64_t next = parc_load(&block_at(shm, off)->next, PARC_RELAXED);
        uint64_t tag = (h >> 32) + 1;
        /* acquire on success: as the load above, for the block we take. */
        if (parc_cas(head, &h, (tag << 32) | next, PARC_ACQUIRE, PARC_ACQUIRE))
            return off;
    }
}

static void stack_push(parc_shm_t *shm, int c, uint64_t off)
{
    parc_atomic(uint64_t) *head = &region_of(shm)->free_head[c];
    struct block *b = block_at(shm, off);
    uint64_t h = parc_load(head, PARC_RELAXED);
    for (;;) {
        parc_store(&b->next, h & UINT32_MAX, PARC_RELAXED);
        uint64_t tag = (h >> 32) + 1;
        /* release: publishes the link and the block's last contents; pairs
         * with stack_pop's acquire. */
        if (parc_cas(head, &h, (tag << 32) | (off / UNIT), PARC_RELEASE,
                     PARC_RELAXED))
            return;
    }
}

/* Carve a fresh block of class c from the bump pointer; 0 when full. */
static uint64_t carve(parc_shm_t *shm, int c)
{
    struct region *r = region_of(shm);
    uint64_t bytes = (uint64_t)1 << c;
    /* relaxed: the CAS alone decides who gets [b, b + bytes). */
    uint64_t b = parc_load(&r->brk, PARC_RELAXED);
    do {
        if (b + bytes > r->size || b + bytes < b)
            return 0;
    } while (!parc_cas(&r->brk, &b, b + bytes, PARC_RELAXED, PARC_RELAXED));
    struct block *blk = block_at(shm, b);
    parc_store(&blk->word, BLOCK_MAGIC | (uint32_t)c, PARC_RELAXED);
    parc_store(&blk->next, (uint64_t)0, PARC_RELAXED);
    return b;
}

int parc_shm_alloc(parc_shm_t *shm, size_t size, uint64_t *off)
{
    if (shm == NULL || shm->base == NULL || off == NULL || size == 0 ||
        (uint64_t)size > MAX_REGION)
        return EINVAL;
    uint64_t need = (uint64_t)size + sizeof(struct block);
    int c = MIN_CLASS;
    while (c < MIN_CLASS + NUM_CLASSES && ((uint64_t)1 << c) < need)
        c++;
    if (c >= MIN_CLASS + NUM_CLASSES)
        return ENOMEM;
    uint64_t b = stack_pop(shm, c - MIN_CLASS);
    if (b == 0)
        b = carve(shm, c);
    if (b == 0)
        return ENOMEM;
    /* relaxed: the block is ours alone (popped or carved); free's CAS on
     * the word is what catches a double free. */
    parc_store(&block_at(shm, b)->word, BLOCK_MAGIC | BLOCK_USED | (uint32_t)c,
               PARC_RELAXED);
    *off = b + sizeof(struct block);
    return 0;
}

int parc_shm_free(parc_shm_t *shm, uint64_t off)
{
    if (shm == NULL || shm->base == NULL)
        return EINVAL;
    if (off == PARC_SHM_NULL)
        return 0;
    uint64_t b = off - sizeof(struct block);
    if (off < HEADER_SIZE + sizeof(struct block) || off >= shm->size ||
        b % UNIT != 0)
        return EINVAL;
    struct block *blk = block_at(shm, b);
    uint32_t w = parc_load(&blk->word, PARC_RELAXED);
    int c = (int)(w & BLOCK_CLASS_MASK);
    if ((w & ~(BLOCK_USED | BLOCK_CLASS_MASK)) != BLOCK_MAGIC ||
        !(w & BLOCK_USED) || c < MIN_CLASS || c >= MIN_CLASS + NUM_CLASSES ||
        b + ((uint64_t)1 << c) > shm->size)
        return EINVAL;
    /* relaxed: only one of two racing frees of the same block wins this
     * CAS and pushes it; the push's release publishes the rest. */
    if (!parc_cas(&blk->word, &w, w & ~BLOCK_USED, PARC_RELAXED, PARC_RELAXED))
        return EINVAL;
    stack_push(shm, c - MIN_CLASS, b);
    return 0;
}

void parc_shm_set_root(parc_shm_t *shm, uint64_t off)
{
    /* release: publishes the objects at `off`, initialised before; pairs
     * with parc_shm_root's acquire in another process. */
    parc_store(&region_of(shm)->root, off, PARC_RELEASE);
}

uint64_t parc_shm_root(const parc_shm_t *shm)
{
    /* acquire: pairs with parc_shm_set_root's release. */
    return parc_load(&region_of(shm)->root, PARC_ACQUIRE);
}

uint64_t parc_shm_used(const parc_shm_t *shm)
{
    return parc_load(&region_of(shm)->brk, PARC_RELAXED) - HEADER_SIZE;
}
