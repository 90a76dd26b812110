/*
 * tests/cxx/cxx_use.cpp — parc used from C++: a lock, a queue and an
 * atomic shared by std::threads, objects laid out as C lays them out.
 * Built and run by run.cmake with every C++ compiler and standard found.
 */
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "parc/atomic.h"
#include "parc/barrier.h"
#include "parc/chaos.h"
#include "parc/cond.h"
#include "parc/deque.h"
#include "parc/event.h"
#include "parc/eventcount.h"
#include "parc/latch.h"
#include "parc/lfqueue.h"
#include "parc/mpmc.h"
#include "parc/mpsc.h"
#include "parc/mutex.h"
#include "parc/once.h"
#include "parc/park.h"
#include "parc/queue.h"
#include "parc/rlock.h"
#include "parc/rwlock.h"
#include "parc/sem.h"
#include "parc/spinlock.h"
#include "parc/spsc.h"
#include "parc/stack.h"
#include "parc/status.h"
#include "layout.h"

extern "C" const struct parc_cxx_layout_row parc_cxx_c_layout[];

#define CXX_ROW(T) { #T, sizeof(T), alignof(T) },
static const parc_cxx_layout_row cxx_layout[] = {
    PARC_CXX_LAYOUT_TYPES(CXX_ROW)
    { nullptr, 0, 0 }
};

static parc_atomic(int) failures; /* counted from every thread */
static constexpr int per_producer = 2000;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,      \
                         __LINE__, #cond);                                   \
            parc_faa(&failures, 1, PARC_RELAXED);                            \
        }                                                                    \
    } while (0)

static parc_mutex_t lock = PARC_MUTEX_INIT;
static long guarded; /* written only under `lock` */
static parc_atomic(uint64_t) sum;
static parc_eventcount_t unused_ec = PARC_EVENTCOUNT_INIT;

int main()
{
    for (int i = 0; cxx_layout[i].name != nullptr; i++) {
        CHECK(std::strcmp(cxx_layout[i].name, parc_cxx_c_layout[i].name) == 0);
        if (cxx_layout[i].size != parc_cxx_c_layout[i].size ||
            cxx_layout[i].align != parc_cxx_c_layout[i].align) {
            std::fprintf(stderr, "%s: C++ %lu/%lu bytes/align, C %lu/%lu\n",
                         cxx_layout[i].name, cxx_layout[i].size,
                         cxx_layout[i].align, parc_cxx_c_layout[i].size,
                         parc_cxx_c_layout[i].align);
            parc_faa(&failures, 1, PARC_RELAXED);
        }
    }

    parc_atomic_init(&sum, 0u);
    CHECK(parc_eventcount_init(&unused_ec) == 0);

    static parc_queue_t q;
    CHECK(parc_queue_init_fifo(&q, 8) == 0);

    constexpr int producers = 3;
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; p++)
        threads.emplace_back([p] {
            for (int i = 1; i <= per_producer; i++) {
                uintptr_t v = (uintptr_t)(p * per_producer + i);
                CHECK(parc_queue_put(&q, (void *)v) == 0);
            }
        });
    threads.emplace_back([&] {
        for (int n = 0; n < producers * per_producer; n++) {
            void *item = nullptr;
            if (parc_queue_get(&q, &item) != 0) {
                CHECK(!"parc_queue_get failed");
                return;
            }
            parc_faa(&sum, (uint64_t)(uintptr_t)item, PARC_RELAXED);
            parc_mutex_lock(&lock);
            guarded++;
            parc_mutex_unlock(&lock);
        }
    });
    for (int t = 0; t < 2; t++)
        threads.emplace_back([] {
            for (int i = 0; i < 1000; i++) {
                parc_mutex_lock(&lock);
                guarded++;
                parc_mutex_unlock(&lock);
            }
        });
    for (auto &t : threads)
        t.join();

    uint64_t n = (uint64_t)producers * per_producer;
    CHECK(parc_load(&sum, PARC_ACQUIRE) == n * (n + 1) / 2);
    CHECK(guarded == (long)n + 2000);
    void *item;
    CHECK(parc_queue_get_try(&q, &item) == EAGAIN);
    CHECK(parc_queue_destroy(&q) == 0);
    CHECK(parc_mutex_destroy(&lock) == 0);
    CHECK(std::strcmp(parc_strerror(EPIPE), "") != 0);

    int failed = parc_load(&failures, PARC_RELAXED); /* threads joined */
    if (failed == 0)
        std::printf("cxx use: ok\n");
    return failed == 0 ? 0 : 1;
}
