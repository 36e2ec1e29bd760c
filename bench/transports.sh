#!/usr/bin/env bash
# Transports against their peers, side by side in one run, loopback only:
# port forwarding (socat fork, ncat --sh-exec ncat), TLS (socat OPENSSL,
# ncat --ssl), and Unix sockets next to TCP. Prints figures and ratios
# (netkit / peer; above 1 means netkit is faster).
#
#   bench/transports.sh [forward|tls|unix ...]    (default: all three)
# Env: SIZE (default 2GiB), T (seconds per latency/handshake run, default 5),
# ROUNDS (default 3; the median is reported), NETKIT_BIN (another build).
# Needs: socat, ncat, openssl, python3, ss.
set -euo pipefail
cd "$(dirname "$0")/.."
# NETKIT_BIN=path measures another build (say, an older commit's).
if [ -z "${NETKIT_BIN:-}" ]; then cargo build --release --quiet; fi
NK=${NETKIT_BIN:-$PWD/target/release/netkit}
SIZE=${SIZE:-2GiB}
T=${T:-5}
ROUNDS=${ROUNDS:-3}
for p in socat ncat openssl python3 ss; do
    command -v "$p" >/dev/null || { echo "SKIP: $p is not installed" >&2; exit 1; }
done
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

json() { python3 -c "import json,sys; v=json.load(sys.stdin); print($1)"; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
verdict() { python3 -c "print('ok' if $1 else 'MISSED')"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
bytes() { numfmt --from=iec "${SIZE%iB}"; }
now() { date +%s.%N; }

# Start `netkit serve ARGS 0` in the background; sets ADDR (and FP with --tls).
nk_serve() {
    local log="$TMP/serve.$RANDOM"
    "$NK" serve "$@" 0 >/dev/null 2>"$log" & PIDS+=($!)
    for _ in $(seq 200); do
        ADDR=$(sed -n 's/^listening on \([^ ]*\).*/\1/p' "$log")
        FP=$(grep -o 'sha256 [0-9A-F:]*' "$log" | cut -d' ' -f2 || true)
        [ -n "$ADDR" ] && return 0
        sleep 0.05
    done
    echo "netkit serve $* printed no listening line" >&2; exit 1
}
# The TCP port process $1 listens on (peers that bind port 0 quietly).
port_of() {
    for _ in $(seq 200); do
        local p
        p=$(ss -Hltnp 2>/dev/null | awk -v p="pid=$1," 'index($0, p) { n = split($4, a, ":"); print a[n]; exit }')
        [ -n "$p" ] && { echo "$p"; return; }
        sleep 0.05
    done
    echo "no listener for pid $1" >&2; exit 1
}
# Gbit/s of `netkit bench -n SIZE` through ADDR.
through() { "$NK" bench -n "$SIZE" -q --json "$1" | json 'v["total"]["gbit_s"]'; }
med() { local f=$1; shift; for _ in $(seq "$ROUNDS"); do "$f" "$@"; done | median; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
PIN=$(openssl x509 -in "$TMP/cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)

section_forward() {
    echo "== forward: $SIZE through the relay into a discard server ($ROUNDS rounds, median; client: netkit bench -n)"
    echo "   targets: >= 2x socat TCP-LISTEN,fork TCP; >= 1.5x ncat --sh-exec 'ncat host port'"
    nk_serve --discard; local sink=$ADDR sport=${ADDR##*:}
    nk_serve --forward "$sink"; local nkf=$ADDR
    socat TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr TCP:"$sink" & PIDS+=($!)
    local so="127.0.0.1:$(port_of $!)"
    ncat -lk 127.0.0.1 0 --sh-exec "ncat 127.0.0.1 $sport" & PIDS+=($!)
    local nc="127.0.0.1:$(port_of $!)"
    local direct a b c
    direct=$(med through "$sink"); a=$(med through "$nkf"); b=$(med through "$so"); c=$(med through "$nc")
    printf '   direct %.1f Gbit/s | netkit %.1f | socat %.1f | ncat %.1f\n' "$direct" "$a" "$b" "$c"
    echo "   netkit/socat $(ratio "$a" "$b") $(verdict "$a >= 2*$b")   netkit/ncat $(ratio "$a" "$c") $(verdict "$a >= 1.5*$c")"

    echo "== forward: 50 clients' 64 B echo round trips through the relay, ${T}s x $ROUNDS rounds interleaved, median (target: >= 2x socat's requests/s)"
    nk_serve --echo; local echo=$ADDR
    nk_serve --forward "$echo"; local nke=$ADDR
    socat TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr TCP:"$echo" & PIDS+=($!)
    local soe="127.0.0.1:$(port_of $!)"
    local rn rs rd all_n="" all_s="" all_d="" r
    rps() { "$NK" bench latency -c 50 -t "$T" -q --json "$1" | json 'v["requests_per_s"]'; }
    for r in $(seq "$ROUNDS"); do
        all_d+="$(rps "$echo") "
        all_n+="$(rps "$nke") "
        all_s+="$(rps "$soe") "
    done
    rd=$(tr ' ' '\n' <<<"$all_d" | grep . | median)
    rn=$(tr ' ' '\n' <<<"$all_n" | grep . | median)
    rs=$(tr ' ' '\n' <<<"$all_s" | grep . | median)
    printf '   direct %.0f req/s | through netkit %.0f | through socat %.0f\n' "$rd" "$rn" "$rs"
    echo "   rounds: netkit $(printf '%.0f ' $all_n)| socat $(printf '%.0f ' $all_s)"
    echo "   netkit/socat $(ratio "$rn" "$rs") $(verdict "$rn >= 2*$rs")"
}

# Time `head -c SIZE /dev/zero | CLIENT` into a server that discards; GiB/s.
pipe_rate() {
    local t0 t1
    t0=$(now)
    head -c "$(bytes)" /dev/zero | "$@" >/dev/null || { echo "FAILED: $*" >&2; exit 1; }
    t1=$(now)
    python3 -c "print($(bytes)/($t1-$t0)/2**30)"
}
socat_tls() {
    socat -d -d -u OPENSSL-LISTEN:0,bind=127.0.0.1,cert="$TMP/cert.pem",key="$TMP/key.pem",verify=0 OPEN:/dev/null 2>"$TMP/socat.err" &
    local pid=$!
    local port; port=$(port_of "$pid")
    pipe_rate socat -u - OPENSSL:127.0.0.1:"$port",verify=0
    wait "$pid" 2>/dev/null || true
}
ncat_tls() {
    ncat -l --ssl --ssl-cert "$TMP/cert.pem" --ssl-key "$TMP/key.pem" 127.0.0.1 0 >/dev/null &
    local pid=$!
    local port; port=$(port_of "$pid")
    pipe_rate ncat --ssl --send-only 127.0.0.1 "$port"
    wait "$pid" 2>/dev/null || true
}
netkit_tls_pipe() {
    "$NK" serve --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" 0 >/dev/null 2>"$TMP/nk.err" &
    local pid=$!
    local port; port=$(port_of "$pid")
    pipe_rate "$NK" connect --tls-pin "$PIN" localhost "$port"
    wait "$pid" 2>/dev/null || true
}
netkit_tls_bench() { "$NK" bench --tls -n "$SIZE" -q --json | json 'v["total"]["gbit_s"]/8'; }

section_tls() {
    echo "== tls: $SIZE from a client into a server that discards ($ROUNDS rounds, median GiB/s)"
    echo "   target: netkit >= 1.5x socat OPENSSL and ncat --ssl moving the same bytes"
    local so nc nkp nkb
    so=$(med socat_tls); nc=$(med ncat_tls); nkp=$(med netkit_tls_pipe); nkb=$(med netkit_tls_bench)
    printf '   socat %.2f | ncat %.2f | netkit connect->serve %.2f | netkit bench --tls %.2f GiB/s\n' "$so" "$nc" "$nkp" "$nkb"
    echo "   connect->serve: /socat $(ratio "$nkp" "$so") $(verdict "$nkp >= 1.5*$so")  /ncat $(ratio "$nkp" "$nc") $(verdict "$nkp >= 1.5*$nc")"
    echo "   bench --tls:    /socat $(ratio "$nkb" "$so") $(verdict "$nkb >= 1.5*$so")  /ncat $(ratio "$nkb" "$nc") $(verdict "$nkb >= 1.5*$nc")"

    echo "== tls handshakes: netkit bench connect --tls -c 4, ${T}s, against each server (full handshakes, ECDSA P-256)"
    nk_serve --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" --discard; local nk=$ADDR
    socat OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,cert="$TMP/cert.pem",key="$TMP/key.pem",verify=0 OPEN:/dev/null 2>/dev/null & PIDS+=($!)
    local so_a="127.0.0.1:$(port_of $!)"
    ncat -lk --ssl --ssl-cert "$TMP/cert.pem" --ssl-key "$TMP/key.pem" 127.0.0.1 0 >/dev/null 2>&1 & PIDS+=($!)
    local nc_a="127.0.0.1:$(port_of $!)"
    local hn hs hc
    hn=$("$NK" bench connect --tls-insecure -c 4 -t "$T" -q --json "$nk" | json 'v["connections_per_s"]')
    hs=$("$NK" bench connect --tls-insecure -c 4 -t "$T" -q --json "$so_a" | json 'v["connections_per_s"]')
    hc=$("$NK" bench connect --tls-insecure -c 4 -t "$T" -q --json "$nc_a" | json 'v["connections_per_s"]')
    printf '   netkit serve --tls %.0f/s | socat OPENSSL-LISTEN,fork %.0f/s | ncat -lk --ssl %.0f/s\n' "$hn" "$hs" "$hc"
    echo "   netkit/socat $(ratio "$hn" "$hs")  netkit/ncat $(ratio "$hn" "$hc")"
}

section_unix() {
    echo "== unix: netkit bench over a Unix socket next to TCP loopback (in-process servers)"
    local tt tu lt lu
    tt=$("$NK" bench -n "$SIZE" -q --json | json 'v["total"]["gbit_s"]')
    tu=$("$NK" bench -U -n "$SIZE" -q --json | json 'v["total"]["gbit_s"]')
    printf '   throughput: tcp %.1f Gbit/s, unix %.1f Gbit/s (unix/tcp %s)\n' "$tt" "$tu" "$(ratio "$tu" "$tt")"
    "$NK" bench latency -t "$T" -q --json >"$TMP/lt"
    "$NK" bench latency -U -t "$T" -q --json >"$TMP/lu"
    lt=$(json 'v["rtt_us"]["p50"]' <"$TMP/lt"); lu=$(json 'v["rtt_us"]["p50"]' <"$TMP/lu")
    printf '   latency 64 B p50: tcp %s us, unix %s us; p99: tcp %s us, unix %s us\n' \
        "$lt" "$lu" "$(json 'v["rtt_us"]["p99"]' <"$TMP/lt")" "$(json 'v["rtt_us"]["p99"]' <"$TMP/lu")"
}

sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(forward tls unix)
for s in "${sections[@]}"; do
    "section_$s"
done
