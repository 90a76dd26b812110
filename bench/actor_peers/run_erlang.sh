#!/bin/sh
# Run the Erlang peer of bench_actor (only when erl is installed).
set -e
command -v erl >/dev/null 2>&1 || { echo "erl not installed: skipping the Erlang peer"; exit 0; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
erlc -o "$dir" "$(dirname "$0")/actor_peer.erl"
erl -noshell -pa "$dir" -s actor_peer main
