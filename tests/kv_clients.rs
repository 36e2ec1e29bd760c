//! Real Redis clients against `netkit kv serve`: redis-py with its default
//! protocol (RESP3 since 8.x: HELLO 3 on connect), and redis-cli in RESP3.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::have;
use common::kv::Kv;

/// A Python with redis-py: `$NETKIT_PYTHON` (set by .ci/run), the venv
/// .ci/run makes, or the system python3 if it has the module.
fn python_with_redis() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("NETKIT_PYTHON") {
        candidates.push(p.into());
    }
    candidates.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/python"));
    candidates.push("python3".into());
    candidates.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import redis"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

const SCRIPT: &str = r#"
import sys, time, redis
port = int(sys.argv[1])
r = redis.Redis(host="127.0.0.1", port=port)
assert r.ping()
# Default protocol: redis-py 8 asks for RESP3 with HELLO 3 on connect
# (older versions stay on RESP2); either way the server says which.
info = r.execute_command("CLIENT", "INFO")
proto = int(info.split(b"resp=")[1].split()[0])
assert proto == (3 if int(redis.__version__.split(".")[0]) >= 8 else 2), info
assert r.set("greeting", "hello world")
assert r.get("greeting") == b"hello world"
# Binary values, both ways.
blob = bytes(range(256)) * 4
assert r.set(b"\x00bin\xff", blob)
assert r.get(b"\x00bin\xff") == blob
# Pipelines (no transaction) and a transaction.
p = r.pipeline(transaction=False)
for i in range(500):
    p.set(f"k{i}", i)
p.incrby("counter", 5)
res = p.execute()
assert res[-1] == 5 and all(res[:-1])
with r.pipeline() as t:
    t.incrby("counter", 10).decrby("counter", 3).get("counter")
    assert t.execute() == [15, 12, b"12"]
# WATCH: a change by another client makes the transaction retry.
other = redis.Redis(host="127.0.0.1", port=port)
def bump(pipe):
    v = int(pipe.get("counter"))
    if not getattr(bump, "done", False):
        bump.done = True
        other.incr("counter")
    pipe.multi()
    pipe.set("counter", v + 100)
r.transaction(bump, "counter")
assert r.get("counter") == b"113", r.get("counter")
# scan_iter sees every key.
keys = set(r.scan_iter(match="k*", count=37))
assert len(keys) == 500, len(keys)
# Expiry.
r.set("temp", "x", px=150)
assert 0 < r.pttl("temp") <= 150
assert r.expire("greeting", 100) and r.ttl("greeting") == 100
time.sleep(0.3)
assert r.get("temp") is None and r.exists("temp") == 0
# Several databases.
r1 = redis.Redis(host="127.0.0.1", port=port, db=1)
r1.set("only-in-1", "y")
assert r.get("only-in-1") is None and r1.get("only-in-1") == b"y"
# RESP3 types come through as Python types.
r3 = redis.Redis(host="127.0.0.1", port=port, protocol=3)
assert r3.ping()
assert isinstance(r3.execute_command("HELLO", "3"), dict)
assert r3.config_get("databases") == {"databases": "16"} or r3.config_get("databases") == {b"databases": b"16"}
print("redis-py", redis.__version__, "OK, default protocol", proto)
"#;

#[test]
fn redis_py_with_default_settings() {
    let Some(py) = python_with_redis() else {
        eprintln!(
            "SKIP redis_py_with_default_settings: no python with redis-py (.ci/run installs it in target/ci-venv)"
        );
        return;
    };
    let kv = Kv::memory();
    let dir = std::env::temp_dir().join(format!("netkit-redispy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let script = dir.join("client.py");
    std::fs::write(&script, SCRIPT).expect("script");
    let out = Command::new(&py)
        .arg(&script)
        .arg(kv.addr.port().to_string())
        .output()
        .expect("python");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK"));
}

#[test]
fn redis_cli_in_resp3_and_inline_health_checks() {
    if !have("redis-cli") {
        eprintln!("SKIP redis_cli_in_resp3...: redis-cli is not installed");
        return;
    }
    let kv = Kv::memory();
    let port = kv.addr.port().to_string();
    let cli = |args: &[&str]| {
        let out = Command::new("redis-cli")
            .args(["-3", "-p", &port])
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(cli(&["HELLO", "3"]).contains("proto"));
    cli(&["SET", "d", "1.5"]);
    assert_eq!(cli(&["INCRBYFLOAT", "d", "1"]), "2.5\n");
    assert_eq!(cli(&["GET", "missing"]), "\n");
    assert!(cli(&["CONFIG", "GET", "databases"]).contains("16"));
    // `echo PING | nc` style health check: an inline command on a fresh connection.
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(kv.addr).expect("connect");
    s.write_all(b"PING\n").expect("write");
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let mut got = String::new();
    s.read_to_string(&mut got).expect("read");
    assert_eq!(got, "+PONG\r\n");
    // And the seed's line protocol on another.
    let mut s = std::net::TcpStream::connect(kv.addr).expect("connect");
    s.write_all(b"SET k v w\nGET k\n").expect("write");
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let mut got = String::new();
    s.read_to_string(&mut got).expect("read");
    assert_eq!(got, "OK\nv w\n");
}
