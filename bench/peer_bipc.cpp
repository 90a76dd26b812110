/*
 * bench/peer_bipc.cpp — Boost.Interprocess message_queue for parc-bench
 * (see peer_bipc.h).
 */
#include "peer_bipc.h"

#ifdef PARC_BENCH_HAVE_BOOST_IPC
#include <boost/interprocess/ipc/message_queue.hpp>
#include <new>

namespace bip = boost::interprocess;

extern "C" void *peer_bipc_create(const char *name, size_t capacity, size_t msg_size)
{
    try {
        bip::message_queue::remove(name);
        return new bip::message_queue(bip::create_only, name, capacity, msg_size);
    } catch (...) {
        return nullptr;
    }
}

extern "C" int peer_bipc_send(void *q, const void *msg, size_t len)
{
    try {
        static_cast<bip::message_queue *>(q)->send(msg, len, 0);
        return 0;
    } catch (...) {
        return -1;
    }
}

extern "C" int peer_bipc_recv(void *q, void *buf, size_t cap, size_t *len)
{
    try {
        bip::message_queue::size_type got = 0;
        unsigned prio = 0;
        static_cast<bip::message_queue *>(q)->receive(buf, cap, got, prio);
        *len = got;
        return 0;
    } catch (...) {
        return -1;
    }
}

extern "C" void peer_bipc_destroy(void *q, const char *name)
{
    delete static_cast<bip::message_queue *>(q);
    bip::message_queue::remove(name);
}
#endif
