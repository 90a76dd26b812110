// bench/fiber/boost_fiber_pingpong.cpp — Boost.Fiber's peer for
// parc-bench-fiber: two fibers on one thread hand a token back and forth
// over unbuffered channels. Prints ns per round trip.
#include <boost/fiber/all.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? std::atol(argv[1]) : 200000;
    boost::fibers::unbuffered_channel<long> ping, pong;
    boost::fibers::fiber echo([&] {
        long v;
        for (long i = 0; i < rounds; i++) {
            ping.pop(v);
            pong.push(v);
        }
    });
    auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < rounds; i++) {
        long v;
        ping.push(i);
        pong.pop(v);
    }
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::steady_clock::now() - start).count();
    echo.join();
    std::printf("%f\n", (double)ns / (double)rounds);
    return 0;
}
