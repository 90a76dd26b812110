#!/bin/sh
# bench/actor_peers/run_go.sh — run Go's goroutines and channels on
# bench_actor.c's workloads (GOMAXPROCS=2), when a Go toolchain is
# installed (golang-go). Prints "skipped" otherwise. Usage: run_go.sh [rounds]
set -e
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v go >/dev/null 2>&1; then
    echo "go peer: skipped (no go on PATH)"
    exit 0
fi
out=$(mktemp -d /tmp/parc-go-actor-peer.XXXXXX)
trap 'rm -rf "$out"' EXIT
cp "$here/actor_bench.go" "$out/"
cd "$out"
GOMAXPROCS=2 GO111MODULE=off GOCACHE="$out/cache" go run actor_bench.go "${1:-5}"
