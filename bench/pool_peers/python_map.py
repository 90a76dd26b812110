#!/usr/bin/env python3
"""bench/pool_peers/python_map.py — the seed's multiprocessing example at
benchmark size: Pool(2).map(square, range(1_000_000)), timed around the
map call only (the pool is started and warmed first), median of 5 rounds.
parc's figure for the same work is parc-bench's pool_pymap."""
import statistics
import sys
import time
from multiprocessing import Pool


def square(x):
    return x * x


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    n = 1_000_000
    with Pool(2) as p:
        p.map(square, range(1000))  # workers started and warm
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            out = p.map(square, range(n))
            times.append(time.perf_counter() - t0)
            assert out[-1] == (n - 1) ** 2 and len(out) == n
    med = statistics.median(times)
    print(f"python Pool(2).map(square, range({n:_})): {med * 1e3:.1f} ms "
          f"(median of {rounds}), {n / med / 1e6:.2f} M elements/s")


if __name__ == "__main__":
    main()
