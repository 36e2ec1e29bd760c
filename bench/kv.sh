#!/usr/bin/env bash
# netkit kv against redis-server, side by side in one run, on loopback only.
#
#   bench/kv.sh            # -n 200000 -c 50, as the issue asks
#   N=50000 bench/kv.sh    # shorter
#   SKIP_BENCH=1 bench/kv.sh   # only the crash test
#   REPEAT=3 bench/kv.sh       # each comparison three times, then the median ratios
#
# Prints requests/s of redis-server and netkit for SET and GET and their
# ratio (netkit / redis) for: plain, pipelined (-P 16), and with a log fsynced
# every second (redis --appendonly yes --appendfsync everysec vs
# netkit --data FILE --fsync everysec); then every test of `redis-benchmark
# -n N -c 50 -q` with no -t, line by line, without and with -P 16
# (bench/kv_tests.py: fresh servers per repetition, test groups interleaved,
# median ratio and its range, geometric mean); then sorted-set operations at
# 1k and 1M members (bench/kv_zset.py). Then the crash test: 20 clients write
# keys to netkit --fsync always, the server is SIGKILLed mid-load, restarted on
# the same file, and every acknowledged key must be there.
#
#   ALL_REPEAT=5 bench/kv.sh    # repetitions of the every-test comparison (3)
#   SKIP_ZSET=1 bench/kv.sh     # without the sorted-set sizes
#
# Pub/sub: SUBS subscribers (redis-cli subscribe, 2 by default) read channel
# `ch` while `redis-benchmark -c 50 PUBLISH ch x` runs against each server.
#   SKIP_PUBSUB=1 bench/kv.sh   # without it
#   SKIP_BENCH=1 SKIP_CRASH=1 SUBS=10 bench/kv.sh   # only pub/sub, 10 subscribers
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-200000}
C=${C:-50}
for tool in redis-server redis-benchmark redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "bench/kv.sh: $tool is not installed" >&2; exit 1; }
done

cargo build --release --quiet
NETKIT=$PWD/target/release/netkit
WORK=$(mktemp -d)
cleanup() { # servers are started in subshells: their pids are in a file
  [ -f "$WORK/pids" ] && while read -r p; do kill -9 "$p" 2>/dev/null || true; done <"$WORK/pids"
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # wait until something answers PING on 127.0.0.1:$1
  for _ in $(seq 1 200); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "nothing answers on port $1" >&2
  return 1
}

start_redis() { # extra redis-server args...
  local port; port=$(free_port)
  local dir; dir=$(mktemp -d -p "$WORK") # no AOF left by an earlier round to load
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' "$@" >/dev/null &
  local pid=$!
  echo "$pid" >>"$WORK/pids"
  wait_port "$port"
  echo "$port $pid"
}

start_netkit() { # extra netkit kv serve args...
  local port; port=$(free_port)
  "$NETKIT" kv serve -q "$@" "$port" >/dev/null 2>>"$WORK/netkit.err" &
  local pid=$!
  echo "$pid" >>"$WORK/pids"
  wait_port "$port"
  echo "$port $pid"
}

stop() { # the server is not our child: signal it and wait until it is gone
  kill "$1" 2>/dev/null || true
  while kill -0 "$1" 2>/dev/null; do sleep 0.05; done
}

# rps OP < redis-benchmark -q output
rps() { tr '\r' '\n' | awk -v op="$1:" '$1 == op && /requests per second/ {print $2}' | tail -1; }

bench() { # label port extra-args...
  local port=$2; shift 2
  redis-benchmark -p "$port" -t set,get -n "$N" -c "$C" -q "$@" 2>/dev/null
}

compare() { # title "redis args" "netkit args" "benchmark args"
  local title=$1 rargs=$2 nargs=$3 bargs=$4
  read -r rport rpid < <(start_redis $rargs)
  local rout; rout=$(bench redis "$rport" $bargs)
  stop "$rpid"
  read -r nport npid < <(start_netkit $nargs)
  local nout; nout=$(bench netkit "$nport" $bargs)
  stop "$npid"
  for op in SET GET; do
    local r n
    r=$(rps "$op" <<<"$rout"); n=$(rps "$op" <<<"$nout")
    printf '%-28s %-4s redis %12s rps   netkit %12s rps   ratio %s\n' "$title" "$op" "$r" "$n" \
      "$(python3 -c "print(f'{$n/$r:.2f}x')")"
    echo "$title|$op|$(python3 -c "print($n/$r)")" >>"$WORK/ratios"
  done
}

publish() { # port: attach $SUBS subscribers, publish, print requests/s
  local subs=() _
  for _ in $(seq 1 "${SUBS:-2}"); do
    redis-cli -p "$1" subscribe ch >/dev/null &
    subs+=($!)
  done
  until [ "$(redis-cli -p "$1" pubsub numsub ch | tail -1)" = "${SUBS:-2}" ]; do sleep 0.05; done
  redis-benchmark -p "$1" -n "$N" -c "$C" -q PUBLISH ch x 2>/dev/null |
    tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -1 | cut -d' ' -f1
  kill "${subs[@]}" 2>/dev/null || true
  wait "${subs[@]}" 2>/dev/null || true
}

if [ -z "${SKIP_PUBSUB:-}" ]; then
  echo "PUBLISH with ${SUBS:-2} subscribers attached, -n $N -c $C (netkit / redis-server, same run)"
  for rep in $(seq 1 "${REPEAT:-1}"); do
    read -r rport rpid < <(start_redis --appendonly no)
    read -r nport npid < <(start_netkit)
    r=$(publish "$rport"); n=$(publish "$nport")
    stop "$rpid"; stop "$npid"
    printf '%-28s %-7s redis %12s rps   netkit %12s rps   ratio %s\n' "pub/sub, round $rep" PUBLISH \
      "$r" "$n" "$(python3 -c "print(f'{$n/$r:.2f}x')")"
  done
  echo
fi

if [ -z "${SKIP_BENCH:-}" ]; then
  for rep in $(seq 1 "${REPEAT:-1}"); do
    echo "redis-benchmark -t set,get -n $N -c $C (netkit / redis-server, same run; round $rep)"
    compare "in memory" "--appendonly no" "" ""
    compare "in memory, -P 16" "--appendonly no" "" "-P 16"
    compare "log, fsync everysec" "--appendonly yes --appendfsync everysec" \
      "--data $WORK/bench.aof --fsync everysec" ""
    rm -f "$WORK/bench.aof"
  done
  if [ "${REPEAT:-1}" -gt 1 ]; then
    echo "median ratio over the ${REPEAT} rounds (netkit / redis-server; each round's range):"
    python3 - "$WORK/ratios" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    title, op, r = line.strip().split("|")
    rows.setdefault((title, op), []).append(float(r))
for (title, op), v in rows.items():
    print(f"  {title:<28} {op:<4} {statistics.median(v):.2f}x   ({min(v):.2f}-{max(v):.2f}x)")
PY
  fi
  for p in 1 16; do
    echo
    echo "redis-benchmark -n $N -c $C -P $p -q, no -t: every test (netkit / redis-server, ${ALL_REPEAT:-3} rounds)"
    python3 bench/kv_tests.py "$NETKIT" "$N" "$p" "${ALL_REPEAT:-3}"
  done
  if [ -z "${SKIP_ZSET:-}" ]; then
    echo
    echo "sorted sets at 1k and 1M members (redis-benchmark -P 32, random members)"
    python3 bench/kv_zset.py "$NETKIT" 200000 1000 1000000
  fi
fi

[ -z "${SKIP_CRASH:-}" ] || exit 0
echo
echo "crash test: 20 clients, --fsync always, SIGKILL mid-load, restart on the same file"
AOF=$WORK/crash.aof
read -r port pid < <(start_netkit --data "$AOF" --fsync always)
# Each writer SETs c<i>:0, c<i>:1, ... one at a time and, when the server
# dies, records how many were acknowledged (+OK received).
cat >"$WORK/writer.py" <<'PY'
import socket, sys
port, i, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
n = 0
try:
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    while True:
        k, v = f"c{i}:{n}", f"v{n}"
        s.sendall(f"*3\r\n$3\r\nSET\r\n${len(k)}\r\n{k}\r\n${len(v)}\r\n{v}\r\n".encode())
        if f.readline() != b"+OK\r\n":
            break
        n += 1
except OSError:
    pass
with open(out, "w") as fh:
    fh.write(f"{n}\n")
PY
WRITERS=()
for i in $(seq 1 20); do
  python3 "$WORK/writer.py" "$port" "$i" "$WORK/count.$i" &
  WRITERS+=($!)
done
sleep 2
kill -9 "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
for w in "${WRITERS[@]}"; do wait "$w" 2>/dev/null || true; done
written=0
for i in $(seq 1 20); do
  written=$((written + $(cat "$WORK/count.$i")))
done
read -r port pid < <(start_netkit --data "$AOF" --fsync always)
recovered=0
for i in $(seq 1 20); do
  c=$(cat "$WORK/count.$i")
  [ "$c" -gt 0 ] || continue
  # EXISTS with many keys answers how many of them exist.
  for got in $(seq 0 $((c - 1)) | sed "s/.*/c$i:&/" | xargs -n 2000 redis-cli -p "$port" EXISTS); do
    recovered=$((recovered + got))
  done
done
stop "$pid"
grep -h "warning" "$WORK/netkit.err" || true
echo "acknowledged writes: $written, recovered after SIGKILL + restart: $recovered"
if [ "$written" -gt 0 ] && [ "$recovered" -eq "$written" ]; then
  echo "crash test: PASS"
else
  echo "crash test: FAIL"
  exit 1
fi
