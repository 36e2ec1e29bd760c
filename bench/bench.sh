#!/usr/bin/env bash
# netkit bench against iperf3, sockperf and socat, side by side in one run on
# free loopback ports. Prints each figure and the ratio the issue targets.
# Usage: bench/bench.sh [SECONDS]   (default 5; needs iperf3, sockperf, socat, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
T=${1:-5}
cargo build --release --quiet
NK=$PWD/target/release/netkit
for p in iperf3 sockperf socat python3; do
    command -v "$p" >/dev/null || { echo "SKIP: $p is not installed" >&2; exit 1; }
done
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

# A port the kernel reports free on 127.0.0.1 (peers need a number up front).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Wait until something listens on TCP port $1.
wait_tcp() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "nothing listens on $1" >&2; exit 1; }
# Start a one-shot iperf3 server on port $1 and wait until it listens (asking
# ss, since a probe connection would use up its one client).
iperf_server() {
    iperf3 -s -1 -p "$1" -B 127.0.0.1 >/dev/null 2>&1 & PIDS+=($!)
    for _ in $(seq 100); do [ -n "$(ss -Hltn "sport = :$1")" ] && return 0; sleep 0.05; done
    echo "iperf3 -s did not start" >&2; exit 1
}
# Start `netkit serve ARGS 0`; ADDR is set from its listening line. (Not for
# $(...): the server would hold the substitution's pipe open.)
nk_serve() {
    local log="$TMP/serve.$RANDOM"
    "$NK" serve "$@" 0 >/dev/null 2>"$log" & PIDS+=($!)
    for _ in $(seq 100); do
        ADDR=$(sed -n 's/^listening on \([^ ]*\).*/\1/p' "$log")
        [ -n "$ADDR" ] && return 0
        sleep 0.05
    done
    echo "netkit serve $* printed no listening line" >&2; exit 1
}
json() { python3 -c "import json,sys; v=json.load(sys.stdin); print($1)"; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
verdict() { python3 -c "print('ok' if $1 else 'MISSED')"; }

iperf_tcp() {  # iperf_tcp EXTRA_ARGS... -> sender Gbit/s
    local p; p=$(free_port)
    iperf_server "$p"
    iperf3 -c 127.0.0.1 -p "$p" -t "$T" -J "$@" | json 'v["end"]["sum_sent"]["bits_per_second"]/1e9'
}

echo "== throughput, single stream, ${T}s, each at its default block (iperf3 128 KiB, netkit 1 MiB; target: netkit >= 1.1x iperf3)"
ip1=$(iperf_tcp)
nk1=$("$NK" bench throughput -t "$T" -q --json | json 'v["total"]["gbit_s"]')
echo "iperf3 $ip1 Gbit/s, netkit $nk1 Gbit/s, ratio $(ratio "$nk1" "$ip1") $(verdict "$nk1 >= 1.1*$ip1")"

for blk in 128K 1M; do
    echo "== throughput, single stream, ${T}s, both at $blk blocks"
    ipb=$(iperf_tcp -l "$blk")
    nkb=$("$NK" bench throughput -t "$T" -l "${blk}iB" -q --json | json 'v["total"]["gbit_s"]')
    echo "iperf3 -l $blk $ipb Gbit/s, netkit -l ${blk}iB $nkb Gbit/s, ratio $(ratio "$nkb" "$ipb")"
done

echo "== throughput, -P 2, ${T}s (target: netkit >= 1.0x iperf3 -P 2)"
ip2=$(iperf_tcp -P 2)
nk2=$("$NK" bench throughput -P 2 -t "$T" -q --json | json 'v["total"]["gbit_s"]')
echo "iperf3 $ip2 Gbit/s, netkit $nk2 Gbit/s, ratio $(ratio "$nk2" "$ip2") $(verdict "$nk2 >= $ip2")"

echo "== latency, 64 B ping-pong, ${T}s (targets: p50 <= 1.1x, p99 <= 1.2x sockperf's round trip)"
sp=$(free_port)
sockperf server --tcp -i 127.0.0.1 -p "$sp" >/dev/null 2>&1 & PIDS+=($!)
wait_tcp "$sp"
sockperf ping-pong --tcp -i 127.0.0.1 -p "$sp" -t "$T" -m 64 >"$TMP/sockperf" 2>&1
# sockperf prints half the round trip: double it.
sp50=$(awk '/percentile 50.000/ {print 2*$NF}' "$TMP/sockperf")
sp99=$(awk '/percentile 99.000/ {print 2*$NF}' "$TMP/sockperf")
nk_serve --echo; echo_addr=$ADDR
"$NK" bench latency --size 64 -t "$T" -q --json "$echo_addr" >"$TMP/lat1"
nk50=$(json 'v["rtt_us"]["p50"]' <"$TMP/lat1")
nk99=$(json 'v["rtt_us"]["p99"]' <"$TMP/lat1")
echo "p50: sockperf $sp50 us, netkit $nk50 us, ratio $(ratio "$nk50" "$sp50") $(verdict "$nk50 <= 1.1*$sp50")"
echo "p99: sockperf $sp99 us, netkit $nk99 us, ratio $(ratio "$nk99" "$sp99") $(verdict "$nk99 <= 1.2*$sp99")"

echo "== latency -c 50, ${T}s: netkit serve --echo vs socat PIPE (target: >= 2x requests/s)"
"$NK" bench latency -c 50 -t "$T" -q --json "$echo_addr" >"$TMP/lat50"
socat_p=$(free_port)
socat TCP-LISTEN:"$socat_p",bind=127.0.0.1,fork,reuseaddr PIPE & PIDS+=($!)
wait_tcp "$socat_p"
"$NK" bench latency -c 50 -t "$T" -q --json "127.0.0.1:$socat_p" >"$TMP/socat50"
r_nk=$(json 'v["requests_per_s"]' <"$TMP/lat50")
r_so=$(json 'v["requests_per_s"]' <"$TMP/socat50")
echo "netkit echo: $(printf %.0f "$r_nk") req/s (p50 $(json 'v["rtt_us"]["p50"]' <"$TMP/lat50") us, p99 $(json 'v["rtt_us"]["p99"]' <"$TMP/lat50") us)"
echo "socat PIPE:  $(printf %.0f "$r_so") req/s (p50 $(json 'v["rtt_us"]["p50"]' <"$TMP/socat50") us, p99 $(json 'v["rtt_us"]["p99"]' <"$TMP/socat50") us)"
echo "ratio $(ratio "$r_nk" "$r_so") $(verdict "$r_nk >= 2*$r_so")"

echo "== udp, 1400 B: highest echoed datagrams/s under 1% loss (bench udp --find-rate against serve udp --echo)"
echo "   next to iperf3 -u -b 0 -l 1400 one way (target: netkit echoed >= 0.5x iperf3's datagrams/s; a round trip is two datagrams)"
nk_serve udp --echo; udp_addr=$ADDR
ipu=$(free_port)
iperf_server "$ipu"
iperf3 -u -b 0 -l 1400 -c 127.0.0.1 -p "$ipu" -t "$T" -J >"$TMP/ipu"
ip_pps=$(json 'v["end"]["sum"]["packets"]/v["end"]["sum"]["seconds"]' <"$TMP/ipu")
ip_loss=$(json 'v["end"]["sum"]["lost_percent"]' <"$TMP/ipu")
echo "iperf3: $(printf %.0f "$ip_pps") datagrams/s one way, loss $(printf %.2f "$ip_loss")%"
# Each trial lasts 1s; the search takes about ten.
for mode in gso no-gso; do
    flag=$([ "$mode" = no-gso ] && echo --no-gso || true)
    "$NK" bench udp --find-rate -t 1 -l 1400 -q --json $flag "$udp_addr" >"$TMP/udp-$mode"
    nk_pps=$(json 'v["datagrams_per_s"]' <"$TMP/udp-$mode")
    echo "netkit ($mode): $(printf %.0f "$nk_pps") datagrams/s echoed, loss $(json 'round(v["loss_percent"], 2)' <"$TMP/udp-$mode")%, rtt p50 $(json 'v["rtt_us"]["p50"]' <"$TMP/udp-$mode") us, ratio $(ratio "$nk_pps" "$ip_pps") $(verdict "$nk_pps >= 0.5*$ip_pps")"
done
"$NK" bench udp -t "$T" -l 1400 -q --json "$udp_addr" >"$TMP/udp-flat"
echo "netkit flat out (for reference): sent $(json 'round(v["datagrams_out"] / v["duration_s"])' <"$TMP/udp-flat")/s, echoed $(json 'round(v["datagrams_per_s"])' <"$TMP/udp-flat")/s, loss $(json 'round(v["loss_percent"], 1)' <"$TMP/udp-flat")%"
