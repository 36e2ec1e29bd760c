#!/usr/bin/env bash
# Publish-heavy pub/sub: netkit kv against redis-server, side by side in one
# run, on loopback only. SUBS subscribers (redis-cli subscribe, reading
# everything) are attached to channel `ch`, then `redis-benchmark -c 50
# PUBLISH ch x` runs against each server; prints requests/s and the ratio.
#
#   bench/kv-pubsub.sh                 # -n 200000, 2 subscribers
#   N=50000 SUBS=10 REPEAT=3 bench/kv-pubsub.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200000}
SUBS=${SUBS:-2}
REPEAT=${REPEAT:-1}
for tool in redis-server redis-benchmark redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "bench/kv-pubsub.sh: $tool is not installed" >&2; exit 1; }
done
cargo build --release --quiet
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do redis-cli -p "$1" ping >/dev/null 2>&1 && return; sleep 0.05; done; exit 1; }

run() { # $1 port: attach subscribers, publish, print requests/s
  local subs=()
  for _ in $(seq 1 "$SUBS"); do
    redis-cli -p "$1" subscribe ch >/dev/null & subs+=($!)
  done
  until [ "$(redis-cli -p "$1" pubsub numsub ch | tail -1)" = "$SUBS" ]; do sleep 0.05; done
  redis-benchmark -p "$1" -n "$N" -c 50 -q PUBLISH ch x | tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -1 | cut -d' ' -f1
  kill "${subs[@]}" 2>/dev/null || true
  wait "${subs[@]}" 2>/dev/null || true
}

RP=$(free_port)
(cd "$WORK" && exec redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no >/dev/null) & PIDS+=($!)
NP=$(free_port)
target/release/netkit kv serve -q "$NP" & PIDS+=($!)
wait_port "$RP"; wait_port "$NP"
printf '%-32s %12s %12s %7s\n' "PUBLISH, $SUBS subscribers" redis netkit ratio
for _ in $(seq 1 "$REPEAT"); do
  r=$(run "$RP"); n=$(run "$NP")
  printf '%-32s %12s %12s %7s\n' "-c 50 -n $N" "$r" "$n" "$(python3 -c "print(f'{$n/$r:.2f}x')")"
done
