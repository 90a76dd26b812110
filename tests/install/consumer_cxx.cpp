// A C++ program outside parc's tree, built against an installed parc: a
// lock, a queue, the pool and a thread actor, used from C++ through the C
// API (parc's headers wrap their declarations in extern "C").
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include <parc/parc.h>

namespace {

parc_mutex_t counter_lock = PARC_MUTEX_INIT;
long counter = 0;

int square(void *arg, void **result)
{
    auto n = reinterpret_cast<std::intptr_t>(arg);
    *result = reinterpret_cast<void *>(n * n);
    return 0;
}

int summing_actor(parc_actor_t *self, void *arg)
{
    auto *sum = static_cast<long *>(arg);
    parc_msg_t *m = nullptr;
    int rc;
    while ((rc = parc_actor_recv(self, &m)) == 0) {
        long v = 0;
        std::memcpy(&v, parc_msg_data(m), sizeof v);
        *sum += v;
        parc_msg_free(m);
    }
    return rc == EPIPE ? 0 : rc;
}

int fail(const char *what, int rc)
{
    std::fprintf(stderr, "consumer_cxx: %s: %s\n", what, parc_strerror(rc));
    return 1;
}

} // namespace

int main()
{
    // A lock: four std::threads count under a parc mutex.
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; t++)
        threads.emplace_back([] {
            for (int i = 0; i < 1000; i++) {
                parc_mutex_lock(&counter_lock);
                counter++;
                parc_mutex_unlock(&counter_lock);
            }
        });
    for (auto &t : threads)
        t.join();
    if (counter != 4000)
        return fail("mutex lost counts", EINVAL);

    // A queue: FIFO order across a producer thread.
    parc_queue_t q;
    int rc = parc_queue_init(&q, 8, PARC_QUEUE_FIFO, nullptr, nullptr);
    if (rc != 0)
        return fail("parc_queue_init", rc);
    std::thread producer([&q] {
        for (std::intptr_t i = 1; i <= 100; i++)
            parc_queue_put(&q, reinterpret_cast<void *>(i));
    });
    for (std::intptr_t i = 1; i <= 100; i++) {
        void *item = nullptr;
        if ((rc = parc_queue_get(&q, &item)) != 0)
            return fail("parc_queue_get", rc);
        if (reinterpret_cast<std::intptr_t>(item) != i)
            return fail("queue out of order", EINVAL);
    }
    producer.join();
    parc_queue_destroy(&q);

    // The pool: futures of squares.
    parc_pool_t *pool = nullptr;
    if ((rc = parc_pool_create(2, nullptr, &pool)) != 0)
        return fail("parc_pool_create", rc);
    std::vector<parc_future_t *> futures(16);
    for (std::intptr_t i = 0; i < 16; i++)
        if ((rc = parc_pool_submit(pool, square, reinterpret_cast<void *>(i),
                                   &futures[i])) != 0)
            return fail("parc_pool_submit", rc);
    for (std::intptr_t i = 0; i < 16; i++) {
        void *value = nullptr;
        if ((rc = parc_future_get(futures[i], &value)) != 0)
            return fail("parc_future_get", rc);
        if (reinterpret_cast<std::intptr_t>(value) != i * i)
            return fail("wrong square", EINVAL);
        parc_future_release(futures[i]);
    }
    parc_pool_shutdown(pool, true, false);
    parc_pool_free(pool);

    // A thread actor: sums what it is sent until closed.
    static parc_actor_t actor; // cache-line aligned: static storage
    long sum = 0;
    if ((rc = parc_actor_init(&actor, summing_actor, &sum)) != 0 ||
        (rc = parc_actor_start(&actor)) != 0)
        return fail("actor start", rc);
    for (long v = 1; v <= 10; v++) {
        parc_msg_t *m = nullptr;
        if ((rc = parc_msg_new(PARC_MSG_USER, &v, sizeof v, &m)) != 0 ||
            (rc = parc_actor_send(&actor, m)) != 0)
            return fail("actor send", rc);
    }
    int status = -1;
    parc_actor_close(&actor);
    if ((rc = parc_actor_join(&actor, &status)) != 0 || status != 0)
        return fail("actor join", rc ? rc : status);
    parc_actor_destroy(&actor);
    if (sum != 55)
        return fail("actor lost messages", EINVAL);

    std::printf("parc %s C++ consumer ok (C++ %ld)\n", parc_version_string(),
                static_cast<long>(__cplusplus));
    return 0;
}
