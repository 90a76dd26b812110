#!/bin/sh
# bench/pool_peers/run_java.sh — compile ForkJoinBench.java into a temporary
# directory and run it, when a JDK is installed (javac on PATH). Prints
# "skipped" otherwise. Usage: run_java.sh [rounds]
set -e
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v javac >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
    echo "java peer: skipped (no javac/java on PATH)"
    exit 0
fi
out=$(mktemp -d /tmp/parc-java-peer.XXXXXX)
trap 'rm -rf "$out"' EXIT
javac -d "$out" "$here/ForkJoinBench.java"
java -cp "$out" ForkJoinBench "${1:-7}"
