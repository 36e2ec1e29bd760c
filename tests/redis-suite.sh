#!/usr/bin/env bash
# Run Redis 7.0's own test suite in external-server mode against netkit.
# Not part of CI: it needs a checkout of the redis/redis repository (tag
# 7.0.x) outside this repository.
#
#   REDIS_SRC=/path/to/redis-7.0.15 tests/redis-suite.sh            # the issues' files
#   REDIS_SRC=... tests/redis-suite.sh unit/type/string unit/multi   # some files
#   SUITE_ARGS="--tags -needs:debug" tests/redis-suite.sh ...        # more runtest options
#   NETKIT_BIN=target/debug/netkit tests/redis-suite.sh ...          # another build
#   SKIPS=1 tests/redis-suite.sh ...                                  # name each skipped test
#
# Runs with --ignore-encoding (hashes and sets convert as Redis's do, but
# sorted sets are stored one way: OBJECT ENCODING reports what Redis would,
# internal conversions are not replayed) and without tests tagged
# needs:repl; set ENCODING=1 to check encodings too. Each
# server keeps a log (`--data` in a fresh temporary directory), so SAVE,
# BGSAVE and BGREWRITEAOF have a file to work on.
#
# A test that calls a command netkit lacks raises an exception, and Redis's
# framework then abandons the rest of that file. So each file is run again,
# against a fresh server (the abandoned run may have left settings behind),
# with such tests skipped (--skiptest) until it completes; the report counts
# passed, failed, and skipped tests per file, and names what was missing.
# netkit listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${REDIS_SRC:?set REDIS_SRC to a redis 7.0.x source tree}"
command -v tclsh >/dev/null || { echo "tests/redis-suite.sh: tclsh is not installed" >&2; exit 1; }
FILES=("$@")
[ ${#FILES[@]} -gt 0 ] || FILES=(unit/type/string unit/type/incr unit/keyspace unit/expire unit/protocol
  unit/other unit/multi unit/scan unit/info-command unit/quit unit/pubsub unit/scripting
  unit/type/hash unit/type/list unit/type/set unit/type/zset)
BIN=${NETKIT_BIN:-}
[ -n "$BIN" ] || { cargo build --release --quiet; BIN=$PWD/target/release/netkit; }
EXTRA="${SUITE_ARGS:-}"
[ -n "${ENCODING:-}" ] || EXTRA="--ignore-encoding $EXTRA"
# unit/scripting runs every test twice, through EVAL and through FUNCTION
# LOAD/FCALL (Redis 7 functions, which netkit does not have); same names, so
# skipping one skips both. Run the EVAL half from a copy in the checkout, and
# without its needs:debug server block (it starts with DEBUG
# SET-DISABLE-DENY-SCRIPTS and DEBUG PROTOCOL, Redis internals).
EVAL_COPY="$REDIS_SRC/tests/unit/netkit-scripting-eval.tcl"
if [ -f "$REDIS_SRC/tests/unit/scripting.tcl" ]; then
  sed 's/^foreach is_eval {0 1} {/foreach is_eval {1} {/' "$REDIS_SRC/tests/unit/scripting.tcl" > "$EVAL_COPY"
  trap 'rm -f "$EVAL_COPY"' EXIT
  for i in "${!FILES[@]}"; do
    [ "${FILES[$i]}" = unit/scripting ] && FILES[$i]=unit/netkit-scripting-eval
  done
fi
echo "netkit: $BIN; Redis suite from $REDIS_SRC; runtest options: $EXTRA"
python3 - "$REDIS_SRC" "$BIN" "$EXTRA" "${FILES[@]}" <<'PY'
import os, random, re, shutil, tempfile, shlex, subprocess, sys, time
src, binary, extra, files = sys.argv[1], sys.argv[2], shlex.split(sys.argv[3]), sys.argv[4:]
verbose = os.environ.get("SKIPS") == "1"
ansi = re.compile(r"\x1b\[[0-9;]*m")

def serve():
    """A fresh netkit on a free loopback port: (process, port)."""
    data = os.path.join(tempfile.mkdtemp(prefix="netkit-suite-"), "kv.log")
    dirs.append(os.path.dirname(data))
    p = subprocess.Popen([binary, "kv", "serve", "-q", "--data", data, "0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(400):
        out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if f"pid={p.pid}," in line:
                m = re.search(r"127\.0\.0\.1:(\d+)", line)
                if m:
                    return p, m.group(1)
        time.sleep(0.05)
    p.kill()
    sys.exit("netkit did not start listening")

dirs = []  # each server's --data directory, removed at the end
total = [0, 0, 0]
norun = []  # files where runtest ran no test at all
for f in files:
    skips, missing = [], set()
    while True:
        server, port = serve()
        cmd = ["./runtest", "--host", "127.0.0.1", "--port", port, "--singledb",
               "--tags", "-needs:repl" + (" -needs:debug" if "scripting" in f else ""),
               "--clients", "1", "--single", f, "--timeout", "120",
               # its own test-server ports, clear of other runs on the machine
               "--baseport", str(22000 + random.randrange(20000)), *extra]
        for s in skips:
            cmd += ["--skiptest", s]
        try:
            p = subprocess.run(cmd, cwd=src, capture_output=True, text=True, timeout=1800)
        finally:
            server.terminate()
            server.wait()
        out = ansi.sub("", p.stdout + p.stderr)
        ok = len(re.findall(r"^\[ok\]:", out, re.M))
        err = re.findall(r"^\[err\]: (.*)", out, re.M)
        # A test that hangs ends the file's run: count it as failed.
        err += re.findall(r"^\[(TIMEOUT\]: .*)", out, re.M)
        exc = re.search(r"^\[exception\]: (.*)", out, re.M)
        if not exc:
            break
        m = re.search(r"unknown command '([^']+)'", exc.group(1))
        name = re.search(r'invoked from within\n"test (?:\{([^}]*)\}|"([^"]*)")', out)
        name = name and (name.group(1) or name.group(2))
        if name and "$" in name:
            # A name built in a loop ("$pop when ..."): skip every expansion.
            name = "/^" + re.sub(r"\\\$\w+", ".*", re.escape(name)) + "$"
        if not name or name in skips:
            print(f"  {f}: stopped by an exception we cannot attribute: {exc.group(1)[:120]}")
            break
        skips.append(name)
        missing.add(m.group(1).upper() if m else exc.group(1)[:60])
    skipped = len(re.findall(r"^\[skip\]:", out, re.M))
    if ok + len(err) + skipped == 0:
        # runtest stopped before any test (its own ports taken, a Tcl
        # error): say so, with its last words, rather than count nothing.
        tail = " | ".join(l for l in out.strip().splitlines()[-4:])
        print(f"{f}: NO TEST RAN (runtest exit {p.returncode}): {tail[:300]}")
        norun.append(f)
        continue
    total[0] += ok; total[1] += len(err); total[2] += skipped
    print(f"{f}: {ok} passed, {len(err)} failed, {skipped} skipped (missing: {', '.join(sorted(missing)) or '-'})")
    for e in err:
        print(f"    failed: {e[:150]}")
    if verbose:
        for t in re.findall(r"^\[skip\]: (.*)", out, re.M):
            print(f"    skipped: {t[:150]}")
print(f"total: {total[0]} passed, {total[1]} failed, {total[2]} skipped")
for d in dirs:
    shutil.rmtree(d, ignore_errors=True)
if norun:
    sys.exit(f"no test ran in: {' '.join(norun)}")
PY
