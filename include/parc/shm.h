/*
 * parc/shm.h — a shared-memory region and an allocator inside it that hands
 * out offsets (layer 1).
 *
 * A region is a file of shared memory mapped MAP_SHARED: anonymous (a
 * memfd_create(2) file that nobody can open by name; children inherit the
 * mapping across fork, and other processes can get it through the file
 * descriptor, parc_shm_fd()) or named (shm_open(3) under /dev/shm, opened
 * by name from any process). Each process may map it at a different
 * address, so everything stored inside a region refers to other things in
 * it by offset from the region's start, never by pointer:
 * parc_shm_ptr()/parc_shm_offset() convert at the edge.
 *
 * The region begins with a header (a magic number, its size, the
 * allocator's state and one "root" offset that a process opening the
 * region by name reads to find the objects the creator put there). The
 * allocator serves blocks of power-of-two sizes (32 bytes .. the region),
 * 16-byte aligned, from one lock-free Treiber stack per size class
 * (Treiber, IBM RJ 5118, 1986) and, when a class is empty, from a bump
 * pointer. It holds no lock, so a process killed in the middle of an
 * allocation cannot wedge the others: the worst it costs is the one block
 * it was taking or giving back (leaked, never handed out twice). The
 * stacks' heads carry a 32-bit tag beside a 32-bit offset (in 16-byte
 * units, so regions up to 64 GiB) so that a pop cannot be fooled by ABA.
 * Memory is never given back to the system; a freed block is reused only
 * by an allocation of its class (the price of a lock-free allocator
 * without coalescing: meant for the few dozen long-lived objects a
 * multi-process program shares, queues and locks, not for a heap).
 *
 * Rejected: a first-fit free list under a lock in the region (a process
 * dying with it held stops every allocation); pointers with a fixed
 * mapping address (MAP_FIXED_NOREPLACE may find the address taken).
 *
 * Threads and processes: every function may be called from any thread of
 * any process that has the region mapped. A parc_shm_t handle is
 * process-local; after fork the child may use its copy of the parent's
 * handle (the mapping is inherited at the same address).
 *
 * Example:
 *
 *     parc_shm_t shm;
 *     parc_shm_create(&shm, NULL, 1 << 20);          // anonymous, 1 MiB
 *     uint64_t off;
 *     parc_shm_alloc(&shm, sizeof(parc_sem_t), &off);
 *     parc_sem_t *s = parc_shm_ptr(&shm, off);      // init as shared ...
 *     if (fork() == 0) { ... parc_shm_ptr(&shm, off) ... }
 */
#ifndef PARC_SHM_H
#define PARC_SHM_H

#include <stddef.h>
#include <stdint.h>

#include "parc/api.h"
#include "parc/status.h"

PARC_BEGIN_DECLS

/* A process's handle on a mapped region. Fields are read-only to users. */
typedef struct parc_shm {
    void *base;     /* where this process mapped it */
    size_t size;    /* bytes mapped (the whole region) */
    int fd;         /* the region's file (memfd or shm_open), or -1 */
} parc_shm_t;

/* The offset meaning "nothing" (offset 0 is the header, never a block). */
#define PARC_SHM_NULL ((uint64_t)0)

/*
 * Create a region of `size` bytes (rounded up to the page size; at least a
 * page). name == NULL: anonymous (memfd). Otherwise a POSIX shm name
 * ("/something"), created exclusively: EEXIST when it exists. Maps it
 * read-write into this process and initialises its header. Returns 0;
 * EINVAL (NULL shm, size 0 or over 64 GiB, a name without a leading '/');
 * EEXIST; ENOMEM; another errno from shm_open/ftruncate/mmap. Never
 * blocks.
 */
PARC_API int parc_shm_create(parc_shm_t *shm, const char *name, size_t size);

/* Open and map a region that another process created by name. Returns 0;
 * EINVAL; ENOENT when no such region; EAGAIN when it exists but its
 * creator has not finished initialising it (retry); EPROTO when the file
 * is not a parc region. Never blocks. */
PARC_API int parc_shm_open(parc_shm_t *shm, const char *name);

/* Map a region from a file descriptor received from another process (a
 * memfd passed over a Unix socket, or inherited across exec). The handle
 * takes a duplicate of fd; the caller keeps fd. Returns like
 * parc_shm_open(), plus EBADF. */
PARC_API int parc_shm_open_fd(parc_shm_t *shm, int fd);

/* Unmap the region from this process and close its file descriptor. The
 * region lives on while another process maps it (and, when named, until
 * parc_shm_unlink). Returns 0 or EINVAL. */
PARC_API int parc_shm_close(parc_shm_t *shm);

/* Remove a region's name (shm_unlink): mappings stay valid, no new
 * process can open it. Returns 0, EINVAL, ENOENT. */
PARC_API int parc_shm_unlink(const char *name);

/* The region's file descriptor (to pass to another process), or -1. */
PARC_API int parc_shm_fd(const parc_shm_t *shm);

/*
 * Allocate `size` bytes (16-byte aligned, not zeroed: a reused block holds
 * what its last owner left) and store its offset in *off. Lock-free. Any
 * process. Returns 0; EINVAL (NULL, size 0); ENOMEM when the region is
 * exhausted for that size class.
 */
PARC_API int parc_shm_alloc(parc_shm_t *shm, size_t size, uint64_t *off);

/* Give back a block from parc_shm_alloc (any process may free what any
 * process allocated). PARC_SHM_NULL is ignored. Returns 0; EINVAL for a
 * NULL shm or an offset that is not an allocated block's (detected when
 * cheap: out of range, misaligned, a corrupt block header). Lock-free. */
PARC_API int parc_shm_free(parc_shm_t *shm, uint64_t off);

/* The root offset: one word in the header for the creator to publish where
 * its objects are (release), for openers to read (acquire). Initially
 * PARC_SHM_NULL. */
PARC_API void parc_shm_set_root(parc_shm_t *shm, uint64_t off);
PARC_API uint64_t parc_shm_root(const parc_shm_t *shm);

/* Bytes the bump pointer has handed out so far (a fill gauge for tests
 * and monitoring; freed blocks still count). */
PARC_API uint64_t parc_shm_used(const parc_shm_t *shm);

/* The address of offset `off` in this process (NULL for PARC_SHM_NULL). */
static inline void *parc_shm_ptr(const parc_shm_t *shm, uint64_t off)
{
    return off == PARC_SHM_NULL ? NULL : (char *)shm->base + off;
}

/* The offset of address p, which must lie inside the region (NULL gives
 * PARC_SHM_NULL). */
static inline uint64_t parc_shm_offset(const parc_shm_t *shm, const void *p)
{
    return p == NULL ? PARC_SHM_NULL
                     : (uint64_t)((const char *)p - (const char *)shm->base);
}

PARC_END_DECLS

#endif /* PARC_SHM_H */
