#!/bin/sh
# bench/probe/build.sh — build build/chan_probe: the channel's sources
# with their diagnostic counters (-DPARC_CHAN_PROBE), linked ahead of a
# parc-bench build's libparc.a (bench/run.sh --build-only makes it).
set -eu
cd "$(dirname "$0")/../.."
[ -f build/bench/libparc.a ] || bench/run.sh --build-only >/dev/null
cc -O2 -std=c11 -DPARC_CHAN_PROBE -Iinclude -Ibuild/bench/include -Isrc \
   bench/probe/chan_probe.c src/chan.c src/chan_ring.c src/chan_waitq.c src/chan_wait.c \
   src/chan_slot.c src/chan_fd.c build/bench/libparc.a -lpthread -o build/chan_probe
