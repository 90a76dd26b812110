#!/usr/bin/env python3
"""The seed's Python actor as the peer of bench_actor.c's actor_thread and
actor_thread_rr: a thread reading a queue.Queue, with a sentinel for close.

Prints messages/s (one sender -> the actor, until the sentinel) and the
request/reply round trip (the reply through a second queue).
Run: python3 bench/actor_peers/python_actor.py [messages]
"""
import queue
import sys
import threading
import time

_SENTINEL = object()


class Actor:
    def __init__(self):
        self._mailbox = queue.Queue()

    def send(self, msg):
        self._mailbox.put(msg)

    def recv(self):
        msg = self._mailbox.get()
        if msg is _SENTINEL:
            raise ActorExit()
        return msg

    def close(self):
        self.send(_SENTINEL)

    def start(self):
        self._terminated = threading.Event()
        t = threading.Thread(target=self._bootstrap)
        t.daemon = True
        t.start()

    def _bootstrap(self):
        try:
            self.run()
        except ActorExit:
            pass
        finally:
            self._terminated.set()

    def join(self):
        self._terminated.wait()

    def run(self):
        while True:
            self.recv()


class ActorExit(Exception):
    pass


class Counter(Actor):
    def run(self):
        self.n = 0
        while True:
            self.recv()
            self.n += 1


class Echo(Actor):
    def run(self):
        while True:
            reply = self.recv()
            reply.put(None)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    c = Counter()
    c.start()
    t0 = time.perf_counter()
    for i in range(n):
        c.send(i)
    c.close()
    c.join()
    dt = time.perf_counter() - t0
    assert c.n == n
    print(f"python actor_thread: {n / dt / 1e6:.3f} M msgs/s")
    e = Echo()
    e.start()
    reply = queue.Queue()
    rounds = max(1000, n // 50)
    t0 = time.perf_counter()
    for _ in range(rounds):
        e.send(reply)
        reply.get()
    dt = time.perf_counter() - t0
    e.close()
    e.join()
    print(f"python actor_thread_rr: {dt / rounds * 1e6:.1f} us per round trip")


if __name__ == "__main__":
    main()
