/*
 * bench/peer_bipc.h — Boost.Interprocess's message_queue (libboost-dev,
 * header-only) behind a C interface, for bench/bench_procs.c's xproc_queue.
 * Compiled with the other bench C++ files (only when CMake found a C++
 * compiler), and only when the header is found (__has_include):
 * PARC_BENCH_HAVE_BOOST_IPC below says so to the C side.
 *
 * The peer's promise, for the reader of a ratio: a bounded queue of byte
 * messages up to a size fixed at creation, in POSIX shared memory, with
 * priorities; one process-shared mutex (pthread, pshared) guards it, two
 * condition variables block senders (full) and receivers (empty). Not
 * robust: a process that dies holding its mutex wedges the queue.
 */
#ifndef PARC_BENCH_PEER_BIPC_H
#define PARC_BENCH_PEER_BIPC_H

#include <stddef.h>

#if defined(PARC_BENCH_HAVE_MOODYCAMEL) && defined(__has_include)
#if __has_include(<boost/interprocess/ipc/message_queue.hpp>)
#define PARC_BENCH_HAVE_BOOST_IPC 1
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

#ifdef PARC_BENCH_HAVE_BOOST_IPC
/* Create the queue `name` (removing a stale one first): capacity messages
 * of at most msg_size bytes. NULL on failure. The handle stays usable in
 * children forked afterwards (the mapping is shared). */
void *peer_bipc_create(const char *name, size_t capacity, size_t msg_size);
/* Blocking send / receive; 0 or -1. */
int peer_bipc_send(void *q, const void *msg, size_t len);
int peer_bipc_recv(void *q, void *buf, size_t cap, size_t *len);
/* Unmap the handle and remove the name. */
void peer_bipc_destroy(void *q, const char *name);
#endif

#ifdef __cplusplus
}
#endif

#endif
