#!/usr/bin/env bash
# Run Redis 7.0's own test suite in external-server mode against netkit.
# Not part of CI: it needs a checkout of the redis/redis repository (tag
# 7.0.x) outside this repository.
#
#   REDIS_SRC=/path/to/redis-7.0.15 tests/redis-suite.sh            # the issue's files
#   REDIS_SRC=... tests/redis-suite.sh unit/type/string unit/multi   # some files
#
# A test that calls a command netkit lacks raises an exception, and Redis's
# framework then abandons the rest of that file. So each file is run again
# with such tests skipped (--skiptest) until it completes; the report counts
# passed, failed, and skipped-for-a-missing-command tests per file, and names
# the commands that were missing. netkit listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${REDIS_SRC:?set REDIS_SRC to a redis 7.0.x source tree}"
command -v tclsh >/dev/null || { echo "tests/redis-suite.sh: tclsh is not installed" >&2; exit 1; }
FILES=("$@")
[ ${#FILES[@]} -gt 0 ] || FILES=(unit/type/string unit/type/incr unit/keyspace unit/expire unit/protocol
  unit/other unit/multi unit/scan unit/info-command unit/quit unit/pubsub)
cargo build --release --quiet
WORK=$(mktemp -d)
"$PWD/target/release/netkit" kv serve -q 0 2>"$WORK/err" >/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do
  PORT=$(python3 - "$PID" <<'PY'
import re, subprocess, sys
out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
for line in out.splitlines():
    if f"pid={sys.argv[1]}," in line:
        print(re.search(r"127\.0\.0\.1:(\d+)", line).group(1)); break
PY
)
  [ -n "$PORT" ] && break
  sleep 0.05
done
echo "netkit kv serve on 127.0.0.1:$PORT; Redis suite from $REDIS_SRC"
python3 - "$REDIS_SRC" "$PORT" "${FILES[@]}" <<'PY'
import re, subprocess, sys
src, port, files = sys.argv[1], sys.argv[2], sys.argv[3:]
ansi = re.compile(r"\x1b\[[0-9;]*m")
total = [0, 0, 0]
for f in files:
    skips, missing = [], set()
    while True:
        cmd = ["./runtest", "--host", "127.0.0.1", "--port", port, "--singledb",
               "--tags", "-needs:repl", "--clients", "1", "--single", f, "--timeout", "120"]
        for s in skips:
            cmd += ["--skiptest", s]
        p = subprocess.run(cmd, cwd=src, capture_output=True, text=True, timeout=1800)
        out = ansi.sub("", p.stdout + p.stderr)
        ok = len(re.findall(r"^\[ok\]:", out, re.M))
        err = re.findall(r"^\[err\]: (.*)", out, re.M)
        exc = re.search(r"^\[exception\]: (.*)", out, re.M)
        if not exc:
            break
        m = re.search(r"unknown command '([^']+)'", exc.group(1))
        name = re.search(r'invoked from within\n"test (?:\{([^}]*)\}|"([^"]*)")', out)
        name = name and (name.group(1) or name.group(2))
        if not name or name in skips:
            print(f"  {f}: stopped by an exception we cannot attribute: {exc.group(1)[:120]}")
            break
        skips.append(name)
        missing.add(m.group(1).upper() if m else exc.group(1)[:60])
    total[0] += ok; total[1] += len(err); total[2] += len(skips)
    print(f"{f}: {ok} passed, {len(err)} failed, {len(skips)} skipped (missing: {', '.join(sorted(missing)) or '-'})")
    for e in err:
        print(f"    failed: {e[:150]}")
print(f"total: {total[0]} passed, {total[1]} failed, {total[2]} skipped for missing commands")
PY
