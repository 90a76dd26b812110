/*
 * parc/shmqueue.h — a bounded MPMC queue of byte messages in shared memory,
 * that survives a process dying in the middle of a send or a receive
 * (layer 2).
 *
 * The multiprocessing.Queue of parc: any number of processes send and
 * receive messages of up to `msg_size` bytes (fixed at creation) through a
 * ring of `capacity` cells that lives in a shared region (parc/shm.h; the
 * queue refers to nothing by pointer, so each process may map it
 * anywhere). Sends and receives come in the three forms; close wakes every
 * blocked caller with EPIPE and loses nothing already accepted; blocking
 * parks on shared futexes (eventcounts initialised PARC_PSHARED).
 *
 * The ring: Vyukov's bounded MPMC queue (1024cores.net, "Bounded MPMC
 * queue"), changed so that a claim names its claimant. Each cell has one
 * 64-bit state word, (position:40 | tid:22 | phase:2), phases EMPTY (free
 * for the producer of `position`), WRITING (producer `tid` is copying its
 * message in), FULL (for the consumer of `position`), READING (consumer
 * `tid` is copying it out). A producer claims a cell with one CAS of that
 * word from EMPTY(pos) to WRITING(pos, its tid), then advances the shared
 * enqueue index (any producer that finds the cell claimed helps advance
 * it); consumers likewise claim FULL(pos) -> READING(pos, tid). Claiming
 * the cell and recording the claimant are one atomic step: there is no
 * moment at which a process holds a cell that nobody can attribute.
 *
 * A process that dies holding a cell:
 *   - a producer (WRITING): the consumer that reaches the cell finds the
 *     claimant dead (a pidfd of its tid: parc/mutex.h's robust mutex asks
 *     the same way, on contention only) and skips the cell. The message is
 *     lost -- it was never accepted (its send never returned 0) -- and the
 *     loss is reported, never silent: parc_shmqueue_lost_sends() counts
 *     it, and that receive returns EOWNERDEAD (call it again for the next
 *     message).
 *   - a consumer (READING): the message it had taken dies with it; the
 *     producer that next needs the cell frees it and
 *     parc_shmqueue_lost_receives() counts it.
 *   - a process that dies while parked leaves a registration in an
 *     eventcount: later notifies then always make the wake system call.
 * parc_shmqueue_recover() sweeps every cell for dead claimants at once
 * (for a supervisor that just reaped a process, or before final counts).
 * Limits: processes in one pid namespace; ordering is FIFO per producer
 * among messages taken by one consumer; a tid recycled before anyone looks
 * reads as alive.
 *
 * Synchronization table (q in shared memory):
 *
 *   operation          may run concurrently with
 *   send, recv (any)   anything but init, in any process
 *   close              anything but init; idempotent
 *   recover            anything but init
 *   init               nothing (before the queue is shared)
 *
 * Memory ordering: a send's bytes happen-before the receive that returns
 * them (release store of FULL / acquire load of it); a receive's reads of
 * its cell happen-before the reuse of the cell by a later send (release
 * store of EMPTY / the producer's acquire CAS).
 *
 * Example (two processes; see examples/shmqueue_actor.c):
 *
 *     parc_shm_t shm;
 *     parc_shm_create(&shm, NULL, 1 << 20);
 *     uint64_t off;
 *     parc_shmqueue_create(&shm, 64, 256, &off);        // 64 cells of <= 256 B
 *     parc_shmqueue_t *q = parc_shm_ptr(&shm, off);
 *     if (fork() == 0) { parc_shmqueue_send(q, "hi", 3); _exit(0); }
 *     char buf[256]; size_t n;
 *     parc_shmqueue_recv(q, buf, sizeof buf, &n);        // "hi", n == 3
 */
#ifndef PARC_SHMQUEUE_H
#define PARC_SHMQUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "parc/api.h"
#include "parc/atomic.h"
#include "parc/eventcount.h"
#include "parc/shm.h"
#include "parc/status.h"

PARC_BEGIN_DECLS

/* Lives in shared memory; the cells follow it. Fields are private. */
typedef struct parc_shmqueue {
    parc_atomic(uint64_t) enq;   /* producers' next position (+CLOSED) */
    char pad0[PARC_CACHELINE - sizeof(uint64_t)];
    parc_atomic(uint64_t) deq;   /* consumers' next position */
    char pad1[PARC_CACHELINE - sizeof(uint64_t)];
    uint64_t capacity;           /* cells, a power of two */
    uint64_t msg_size;           /* most bytes in one message */
    uint64_t stride;             /* bytes per cell */
    parc_atomic(uint64_t) lost_sends;    /* cells of dead producers skipped */
    parc_atomic(uint64_t) lost_receives; /* cells of dead consumers freed */
    parc_eventcount_t items;             /* consumers wait here (shared) */
    parc_eventcount_t space;             /* producers wait here (shared) */
    uint32_t magic;
} parc_shmqueue_t;

/* Bytes a queue of `capacity` cells of `msg_size` bytes occupies (header
 * and cells), or 0 when the arguments are invalid. */
PARC_API size_t parc_shmqueue_footprint(size_t capacity, size_t msg_size);

/*
 * Initialise a queue in `footprint` bytes of shared memory at q (16-byte
 * aligned at least), capacity a power of two (1 .. 2^30), msg_size 1 ..
 * 2^30. Not while any process uses q. Returns 0 or EINVAL.
 */
PARC_API int parc_shmqueue_init(parc_shmqueue_t *q, size_t capacity, size_t msg_size);

/* Allocate a queue in region shm (parc_shm_alloc) and initialise it; its
 * offset goes to *off (pass it to other processes, or parc_shm_set_root).
 * Returns 0, EINVAL, ENOMEM. */
PARC_API int parc_shmqueue_create(parc_shm_t *shm, size_t capacity,
                                  size_t msg_size, uint64_t *off);

/*
 * Send msg[0..len): copies it into a cell. Blocks while the queue is full
 * (spins briefly, then parks on a shared futex). Any thread of any
 * process. Returns 0 (accepted: a receive will return it unless a
 * receiving process dies holding it); EPIPE when closed (also while
 * blocked); EMSGSIZE when len > msg_size; EINVAL (NULL q, NULL msg with
 * len > 0). _try: EAGAIN when full; _timed: ETIMEDOUT after timeout_ns
 * (relative), EINVAL when negative. A send racing a close may still
 * succeed; its message is then delivered like any other.
 */
PARC_API int parc_shmqueue_send(parc_shmqueue_t *q, const void *msg, size_t len);
PARC_API int parc_shmqueue_send_try(parc_shmqueue_t *q, const void *msg, size_t len);
PARC_API int parc_shmqueue_send_timed(parc_shmqueue_t *q, const void *msg,
                                      size_t len, int64_t timeout_ns);

/*
 * Receive the next message into buf (cap >= msg_size bytes) and its length
 * into *len. Blocks while the queue is empty. Any thread of any process.
 * Returns 0; EOWNERDEAD when the next message was lost because its
 * producer died mid-send (nothing received; counted in
 * parc_shmqueue_lost_sends; call again); EPIPE when closed and drained;
 * EINVAL (NULL, cap < msg_size). _try: EAGAIN when empty (or the next
 * message is still being written); _timed: ETIMEDOUT, EINVAL when
 * negative.
 */
PARC_API int parc_shmqueue_recv(parc_shmqueue_t *q, void *buf, size_t cap, size_t *len);
PARC_API int parc_shmqueue_recv_try(parc_shmqueue_t *q, void *buf, size_t cap,
                                    size_t *len);
PARC_API int parc_shmqueue_recv_timed(parc_shmqueue_t *q, void *buf, size_t cap,
                                      size_t *len, int64_t timeout_ns);

/* Close: later sends fail with EPIPE; receives drain what was accepted,
 * then fail with EPIPE; every blocked caller wakes. Idempotent. Returns 0
 * or EINVAL. Never blocks. */
PARC_API int parc_shmqueue_close(parc_shmqueue_t *q);

/* Free every cell whose claimant is dead (counting the losses as the
 * receive and send paths would). Returns how many cells it freed. Never
 * blocks (a liveness check per claimed cell). */
PARC_API size_t parc_shmqueue_recover(parc_shmqueue_t *q);

/* Messages lost because their producer died between claiming a cell and
 * publishing it; messages lost because their consumer died while taking
 * them. Monotonic. */
PARC_API uint64_t parc_shmqueue_lost_sends(const parc_shmqueue_t *q);
PARC_API uint64_t parc_shmqueue_lost_receives(const parc_shmqueue_t *q);

/* Messages in the queue now (a snapshot). */
PARC_API size_t parc_shmqueue_size(const parc_shmqueue_t *q);

PARC_END_DECLS

#endif /* PARC_SHMQUEUE_H */
