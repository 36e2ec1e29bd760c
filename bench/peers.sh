#!/usr/bin/env bash
# netkit against its peers, side by side in one run, on loopback only.
# Prints ratios (netkit / peer; above 1 means netkit is faster).
#
#   bench/peers.sh                 every section
#   bench/peers.sh pipe echo10k    some of them
#   NETKIT_BIN=/tmp/old/netkit bench/peers.sh pipe   another netkit build
#
# Sections: pipe (file and stream through connect -> serve vs nc), rtt (one
# small message's round trip through connect with pipes on both ends, and
# through a relay, vs nc and socat), echo10k (10,000 open echo connections,
# server peak RSS), probe (nc -z vs connect -z), bench (bench/bench.sh:
# iperf3, sockperf, socat), kv (bench/kv.sh: redis), transports
# (bench/transports.sh: --forward vs socat and ncat, TLS vs socat OPENSSL and
# ncat --ssl, Unix sockets next to TCP).
# Install the peers with:
#   apt-get install -y netcat-openbsd ncat socat iperf3 sockperf redis-server redis-tools hyperfine
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)
# NETKIT_BIN=path compares another build (say, main's) against the same peers.
if [ -z "${NETKIT_BIN:-}" ]; then cargo build --release --quiet; fi
NK=${NETKIT_BIN:-"$here/target/release/netkit"}
ROUNDS=${ROUNDS:-5}
SIZE=${SIZE:-2G}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Port a process listens on, once it has bound (read from ss).
port_of() {
  local pid=$1 port=""
  for _ in $(seq 200); do
    port=$(ss -Hltnp 2>/dev/null | awk -v p="pid=$1," 'index($0, p) { n = split($4, a, ":"); print a[n]; exit }')
    [ -n "$port" ] && { echo "$port"; return; }
    sleep 0.05
  done
  echo "no listener for pid $pid" >&2
  return 1
}

# Start `netkit serve ARGS` (port 0) in the background; sets SERVER_PID, SERVER_PORT.
netkit_server() {
  local out=$1; shift
  rm -f "$work/serve.err" # never read the last server's port
  "$NK" serve "$@" 0 </dev/null >"$out" 2>"$work/serve.err" &
  SERVER_PID=$!
  pids+=("$SERVER_PID")
  for _ in $(seq 200); do
    SERVER_PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/serve.err" 2>/dev/null | cut -d: -f2 || true)
    [ -n "$SERVER_PORT" ] && return
    sleep 0.05
  done
  echo "netkit serve did not start" >&2
  return 1
}

nc_server() {
  local out=$1
  nc -l 127.0.0.1 0 </dev/null >"$out" &
  SERVER_PID=$!
  pids+=("$SERVER_PID")
  SERVER_PORT=$(port_of "$SERVER_PID")
}

# One transfer: $1 = nc|netkit, $2 = input command (a file name or "zero").
transfer() {
  local who=$1 src=$2 out=${3:-/dev/null} t0 t1
  if [ "$who" = nc ]; then nc_server "$out"; else netkit_server "$out"; fi
  t0=$(now)
  if [ "$src" = zero ]; then
    if [ "$who" = nc ]; then head -c "$SIZE" /dev/zero | nc -N 127.0.0.1 "$SERVER_PORT"
    else head -c "$SIZE" /dev/zero | "$NK" connect 127.0.0.1 "$SERVER_PORT"; fi
  else
    if [ "$who" = nc ]; then nc -N 127.0.0.1 "$SERVER_PORT" <"$src"
    else "$NK" connect 127.0.0.1 "$SERVER_PORT" <"$src"; fi
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

gib_per_s() { awk -v s="$1" -v t="$2" 'BEGIN { printf "%.2f", s / t / 1073741824 }'; }
bytes_of() { numfmt --from=iec "$SIZE"; }

section_pipe() {
  echo "== pipe: $SIZE through connect -> serve -> /dev/null, vs nc -N -> nc -l ($ROUNDS rounds, median)"
  local file="$work/payload.bin" bytes
  bytes=$(bytes_of)
  head -c "$SIZE" /dev/urandom >"$file"
  for src in "$file" zero; do
    local label; label=$([ "$src" = zero ] && echo "stream (head -c $SIZE /dev/zero |)" || echo "file (< $SIZE file)")
    local nct=() nkt=()
    for _ in $(seq "$ROUNDS"); do
      nct+=("$(transfer nc "$src")")
      nkt+=("$(transfer netkit "$src")")
    done
    local a b
    a=$(printf '%s\n' "${nct[@]}" | median)
    b=$(printf '%s\n' "${nkt[@]}" | median)
    printf '  %-34s nc %6.2f GiB/s   netkit %6.2f GiB/s   ratio %sx\n' \
      "$label" "$(gib_per_s "$bytes" "$a")" "$(gib_per_s "$bytes" "$b")" "$(ratio "$a" "$b")"
  done
  # Every byte arrives: checksums of what went in and what came out.
  transfer netkit "$file" "$work/out.bin" >/dev/null
  if cmp -s "$file" "$work/out.bin"; then
    echo "  sha256 in = out: $(sha256sum <"$work/out.bin" | cut -c1-16)..."
  else
    echo "  CHECKSUM MISMATCH"; return 1
  fi
  rm -f "$file" "$work/out.bin"
}

# Median of bench/rtt.py's median round trips over ROUNDS runs of one
# command; the runs of the commands compared are interleaved.
rtt_rounds() {
  local -n _cmds=$1
  local -A med=()
  local r k
  for r in $(seq "$ROUNDS"); do
    for k in "${!_cmds[@]}"; do
      med[$k]+="$(eval "python3 bench/rtt.py $RTT_N 64 ${_cmds[$k]}" | cut -d' ' -f1) "
    done
  done
  for k in "${!_cmds[@]}"; do
    RTT[$k]=$(echo ${med[$k]} | tr ' ' '\n' | median)
  done
}

rtt_row() {
  printf '  %-7s netkit %6.1f us   nc %6.1f us (%sx)   socat %6.1f us (%sx)\n' "$1" \
    "${RTT[netkit]}" "${RTT[nc]}" "$(ratio "${RTT[netkit]}" "${RTT[nc]}")" \
    "${RTT[socat]}" "$(ratio "${RTT[netkit]}" "${RTT[socat]}")"
}

section_rtt() {
  RTT_N=${RTT_N:-2000}
  echo "== rtt: one 64-byte message, write to stdin pipe -> echo -> read from stdout pipe"
  echo "   (median of $ROUNDS runs of each run's median over $RTT_N round trips; time ratio netkit/peer, target <= 1.20)"
  netkit_server /dev/null --echo
  local echo_port=$SERVER_PORT
  declare -gA RTT=()
  # shellcheck disable=SC2034 # used through a nameref
  local -A direct=(
    [netkit]="'$NK' connect 127.0.0.1 $echo_port"
    [nc]="nc -N 127.0.0.1 $echo_port"
    [socat]="socat - TCP:127.0.0.1:$echo_port"
  )
  rtt_rounds direct
  rtt_row direct
  # Relays: a listener running a pipe program per connection, and the same
  # program as the client: netkit serve --sh-exec 'netkit connect', ncat -lk
  # --sh-exec 'nc' (nc cannot run a command), socat fork EXEC:'socat -'.
  netkit_server /dev/null -k --sh-exec "'$NK' connect 127.0.0.1 $echo_port"
  local nk_relay=$SERVER_PORT
  ncat -lk 127.0.0.1 0 --sh-exec "nc -N 127.0.0.1 $echo_port" </dev/null &
  pids+=($!); local nc_relay; nc_relay=$(port_of $!)
  socat TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr "EXEC:socat - TCP\:127.0.0.1\:$echo_port" </dev/null &
  pids+=($!); local socat_relay; socat_relay=$(port_of $!)
  # shellcheck disable=SC2034
  local -A relay=(
    [netkit]="'$NK' connect 127.0.0.1 $nk_relay"
    [nc]="nc -N 127.0.0.1 $nc_relay"
    [socat]="socat - TCP:127.0.0.1:$socat_relay"
  )
  rtt_rounds relay
  rtt_row relay
  if command -v hyperfine >/dev/null; then
    # The whole one-shot command, process start and connect included.
    local h
    h=$(hyperfine -N -w 20 -r 300 --export-json "$work/oneshot.json" \
      "sh -c 'echo hello | $NK connect 127.0.0.1 $echo_port'" \
      "sh -c 'echo hello | nc -N 127.0.0.1 $echo_port'" \
      "sh -c 'echo hello | socat - TCP:127.0.0.1:$echo_port'" >/dev/null 2>&1 &&
      python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(" ".join("%.2f" % (x["median"]*1000) for x in r))' "$work/oneshot.json")
    read -r a b c <<<"$h"
    printf '  one-shot (echo hello | CMD, whole process) netkit %s ms   nc %s ms (%sx)   socat %s ms (%sx)\n' \
      "$a" "$b" "$(ratio "$a" "$b")" "$c" "$(ratio "$a" "$c")"
  fi
}

section_echo10k() {
  local n=${CONNS:-10000}
  echo "== echo10k: $n concurrent connections to netkit serve --echo"
  netkit_server /dev/null --echo
  python3 bench/echo_clients.py 127.0.0.1 "$SERVER_PORT" "$n" | sed 's/^/  /'
  local hwm
  hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$SERVER_PID/status")
  echo "  server peak RSS: $((hwm / 1024)) MiB ($((hwm * 1024 / n)) bytes per connection; target < 256 MiB)"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
}

section_probe() {
  echo "== probe: nc -z vs netkit connect -z, 127.0.0.1 1-65535 ($ROUNDS rounds, median)"
  local nct=() nkt=() t0 a b
  for _ in $(seq "$ROUNDS"); do
    t0=$(now); nc -z 127.0.0.1 1-65535 >/dev/null 2>&1 || true; nct+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')")
    t0=$(now); "$NK" connect -z 127.0.0.1 1-65535 >/dev/null 2>&1 || true; nkt+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')")
  done
  a=$(printf '%s\n' "${nct[@]}" | median)
  b=$(printf '%s\n' "${nkt[@]}" | median)
  printf '  nc %.3fs   netkit %.3fs   ratio %sx\n' "$a" "$b" "$(ratio "$a" "$b")"
}

section_bench() { [ -x bench/bench.sh ] && bash bench/bench.sh || echo "== bench: bench/bench.sh missing"; }
section_kv() { [ -x bench/kv.sh ] && bash bench/kv.sh || echo "== kv: bench/kv.sh missing"; }
section_transports() { bash bench/transports.sh; }

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(pipe rtt echo10k probe bench kv transports)
for s in "${sections[@]}"; do
  "section_$s"
done
