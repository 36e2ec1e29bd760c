//! DUMP and RESTORE over a real socket: every type round trips, Redis's
//! errors for bad options and hostile payloads, WATCH, a blocked client
//! served by a restored list, one log record per RESTORE that replays after
//! a restart, and redis-py's dump/restore.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::PATIENCE;
use common::kv::{Kv, Resp, bulk, ok, python_with_redis, quiet, run_python, temp_path};
use netkit::kv::aof;
use netkit::kv::crc64::crc64;
use netkit::kv::logfile::Fsync;
use netkit::kv::protocol::Reply;
use netkit::kv::store::Store;

fn arr(items: &[&str]) -> Reply {
    Reply::Array(Some(items.iter().map(|s| bulk(s)).collect()))
}

fn dump(c: &mut Resp, key: &str) -> Vec<u8> {
    match c.call(&["DUMP", key]) {
        Reply::Bulk(Some(p)) => p,
        r => panic!("DUMP {key}: {r:?}"),
    }
}

fn restore(c: &mut Resp, key: &str, ttl: &str, payload: &[u8], opts: &[&str]) -> Reply {
    let mut a: Vec<&[u8]> = vec![b"RESTORE", key.as_bytes(), ttl.as_bytes(), payload];
    a.extend(opts.iter().map(|o| o.as_bytes()));
    c.send(&a);
    c.reply()
}

fn err(r: Reply) -> String {
    match r {
        Reply::Error(e) => e,
        r => panic!("expected an error, got {r:?}"),
    }
}

fn int(r: Reply) -> i64 {
    match r {
        Reply::Int(n) => n,
        r => panic!("expected an integer, got {r:?}"),
    }
}

/// A payload with netkit's trailer around `body` (version `ver`).
fn sealed(body: &[u8], ver: u16) -> Vec<u8> {
    let mut p = body.to_vec();
    p.extend_from_slice(&ver.to_le_bytes());
    let crc = crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

fn fill(c: &mut Resp) {
    assert_eq!(c.call(&["SET", "s", "bar"]), ok());
    assert_eq!(c.call(&["RPUSH", "l", "a", "b", "", "a"]), Reply::Int(4));
    assert_eq!(c.call(&["SADD", "st", "x", "y", "1"]), Reply::Int(3));
    assert_eq!(
        c.call(&["ZADD", "z", "1.5", "a", "-inf", "b", "2", "c"]),
        Reply::Int(3)
    );
    assert_eq!(c.call(&["HSET", "h", "f", "v", "g", ""]), Reply::Int(2));
}

fn check_copies(c: &mut Resp, p: &str) {
    assert_eq!(c.call(&["GET", &format!("{p}s")]), bulk("bar"));
    assert_eq!(
        c.call(&["LRANGE", &format!("{p}l"), "0", "-1"]),
        arr(&["a", "b", "", "a"])
    );
    assert_eq!(
        c.call(&["SORT", &format!("{p}st"), "ALPHA"]),
        arr(&["1", "x", "y"])
    );
    assert_eq!(
        c.call(&["ZRANGE", &format!("{p}z"), "0", "-1", "WITHSCORES"]),
        arr(&["b", "-inf", "a", "1.5", "c", "2"])
    );
    assert_eq!(c.call(&["HGET", &format!("{p}h"), "f"]), bulk("v"));
    assert_eq!(c.call(&["HGET", &format!("{p}h"), "g"]), bulk(""));
    assert_eq!(c.call(&["HLEN", &format!("{p}h")]), Reply::Int(2));
}

#[test]
fn every_type_round_trips_with_redis_options_and_errors() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    fill(&mut c);
    for k in ["s", "l", "st", "z", "h"] {
        let p = dump(&mut c, k);
        assert_eq!(restore(&mut c, &format!("c{k}"), "0", &p, &[]), ok());
        assert_eq!(c.call(&["TTL", &format!("c{k}")]), Reply::Int(-1));
        assert_eq!(c.call(&["TYPE", &format!("c{k}")]), c.call(&["TYPE", k]));
    }
    check_copies(&mut c, "c");
    assert_eq!(c.call(&["DUMP", "missing"]), Reply::Bulk(None));

    let p = dump(&mut c, "s");
    // Existing key: BUSYKEY unless REPLACE (checked before the TTL and payload).
    assert_eq!(
        err(restore(&mut c, "s", "-1", b"...", &[])),
        "BUSYKEY Target key name already exists."
    );
    let pl = dump(&mut c, "l");
    assert_eq!(restore(&mut c, "s", "0", &pl, &["REPLACE"]), ok());
    assert_eq!(c.call(&["TYPE", "s"]), Reply::Status("list".into()));
    assert_eq!(
        err(restore(&mut c, "n", "-1", &p, &[])),
        "ERR Invalid TTL value, must be >= 0"
    );
    assert_eq!(
        err(restore(&mut c, "n", "x", &p, &[])),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(restore(&mut c, "n", "0", &p, &["bogus"])),
        "ERR syntax error"
    );
    assert_eq!(
        err(restore(&mut c, "n", "0", &p, &["IDLETIME", "-1"])),
        "ERR Invalid IDLETIME value, must be >= 0"
    );
    assert_eq!(
        err(restore(&mut c, "n", "0", &p, &["FREQ", "256"])),
        "ERR Invalid FREQ value, must be >= 0 and <= 255"
    );
    assert_eq!(
        err(restore(&mut c, "n", "0", &p, &["FREQ", "x"])),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(restore(
            &mut c,
            "n",
            "0",
            &p,
            &["IDLETIME", "1", "FREQ", "1"]
        )),
        "ERR syntax error"
    );
    assert_eq!(
        err(restore(&mut c, "n", "0", &p, &["IDLETIME"])),
        "ERR syntax error"
    );

    // Corrupt, truncated, foreign: version or checksum.
    let wrong = "ERR DUMP payload version or checksum are wrong";
    let mut bad = p.clone();
    bad[1] ^= 1;
    for payload in [
        bad,
        p[..p.len() - 1].to_vec(),
        b"...".to_vec(),
        Vec::new(),
        sealed(b"\x00\x03bar", 10),
    ] {
        assert_eq!(err(restore(&mut c, "n", "0", &payload, &[])), wrong);
    }
    // A good checksum around a hostile body: Redis's "Bad data format".
    for body in [
        &b"\x02\xff\xff\xff\xff"[..],
        b"\x02\x01\x00\x00\x00\xff\xff\xff\x7fa",
        b"\x03\x02\x00\x00\x00\x01\x00\x00\x00a\x01\x00\x00\x00a",
        b"\x07",
        b"",
    ] {
        assert_eq!(
            err(restore(&mut c, "n", "0", &sealed(body, 0x4b4e), &[])),
            "ERR Bad data format"
        );
    }
    assert_eq!(c.call(&["EXISTS", "n"]), Reply::Int(0));

    // TTLs: relative, absolute, past.
    assert_eq!(restore(&mut c, "t", "5000", &p, &[]), ok());
    let pttl = int(c.call(&["PTTL", "t"]));
    assert!((3000..=5000).contains(&pttl), "{pttl}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let at = (now + 3000).to_string();
    assert_eq!(restore(&mut c, "ta", &at, &p, &["ABSTTL"]), ok());
    let pttl = int(c.call(&["PTTL", "ta"]));
    assert!((2000..=3100).contains(&pttl), "{pttl}");
    let past = (now - 3000).to_string();
    assert_eq!(restore(&mut c, "tp", &past, &p, &["ABSTTL"]), ok());
    assert_eq!(c.call(&["EXISTS", "tp"]), Reply::Int(0));
    assert_eq!(
        restore(&mut c, "ta", &past, &p, &["ABSTTL", "REPLACE"]),
        ok()
    );
    assert_eq!(c.call(&["EXISTS", "ta"]), Reply::Int(0));
    assert_eq!(restore(&mut c, "big", "2569591501", &p, &[]), ok());
    assert!(int(c.call(&["PTTL", "big"])) > 2_569_591_501 - 3000);

    assert_eq!(
        restore(&mut c, "idle", "0", &p, &["IDLETIME", "1000"]),
        ok()
    );
    let idle = int(c.call(&["OBJECT", "IDLETIME", "idle"]));
    assert!((1000..=1010).contains(&idle), "{idle}");
    assert_eq!(restore(&mut c, "fq", "0", &p, &["FREQ", "100"]), ok());
    // OBJECT FREQ answers under an LFU policy (maxmemory stays 0: no eviction).
    assert!(
        err(c.call(&["OBJECT", "FREQ", "fq"])).contains("LFU maxmemory policy is not selected")
    );
    assert!(err(c.call(&["CONFIG", "SET", "maxmemory-policy", "lfu"])).contains("must be one of"));
    assert_eq!(
        c.call(&["CONFIG", "SET", "maxmemory-policy", "ALLKEYS-LFU"]),
        ok()
    );
    assert_eq!(
        c.call(&["CONFIG", "GET", "maxmemory-policy"]),
        arr(&["maxmemory-policy", "allkeys-lfu"])
    );
    assert_eq!(c.call(&["OBJECT", "FREQ", "fq"]), Reply::Int(100));
    assert_eq!(c.call(&["OBJECT", "FREQ", "s"]), Reply::Int(5));
    assert!(err(c.call(&["OBJECT", "IDLETIME", "fq"])).contains("idle time not tracked"));
    assert_eq!(
        c.call(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]),
        ok()
    );

    // Big values.
    let big = "x".repeat(200_000);
    assert_eq!(c.call(&["SET", "bs", &big]), ok());
    let pb = dump(&mut c, "bs");
    assert_eq!(restore(&mut c, "bs2", "0", &pb, &[]), ok());
    assert_eq!(c.call(&["GET", "bs2"]), bulk(&big));
}

#[test]
fn restore_fails_a_watchers_exec_and_serves_a_blocked_client() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    let mut w = kv.conn();
    let mut b = kv.conn();
    assert_eq!(c.call(&["RPUSH", "src", "one", "two"]), Reply::Int(2));
    let p = dump(&mut c, "src");
    assert_eq!(w.call(&["WATCH", "dst"]), ok());
    assert_eq!(restore(&mut c, "dst", "0", &p, &[]), ok());
    assert_eq!(w.call(&["MULTI"]), ok());
    assert_eq!(w.call(&["GET", "x"]), Reply::Status("QUEUED".into()));
    assert_eq!(w.call(&["EXEC"]), Reply::Array(None));

    b.send(&[b"BLPOP", b"fresh", b"0"]);
    let until = Instant::now() + PATIENCE;
    loop {
        let info = match c.call(&["INFO", "clients"]) {
            Reply::Bulk(Some(i)) => String::from_utf8_lossy(&i).into_owned(),
            r => panic!("{r:?}"),
        };
        if info.contains("blocked_clients:1\r") {
            break;
        }
        assert!(Instant::now() < until, "never blocked");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(restore(&mut c, "fresh", "0", &p, &[]), ok());
    assert_eq!(b.reply(), arr(&["fresh", "one"]));
    assert_eq!(c.call(&["LRANGE", "fresh", "0", "-1"]), arr(&["two"]));
}

#[test]
fn restore_is_one_log_record_and_replays_after_a_restart() {
    let path = temp_path("dump");
    let open = || Arc::new(Store::open(&path, 16, Fsync::No).expect("open").0);
    {
        let kv = Kv::start(open(), quiet());
        let mut c = kv.conn();
        fill(&mut c);
        let before = aof::scan(&std::fs::read(&path).expect("log"), |_| {})
            .expect("scan")
            .records;
        for k in ["s", "l", "st", "z", "h"] {
            let p = dump(&mut c, k);
            assert_eq!(restore(&mut c, &format!("r{k}"), "0", &p, &[]), ok());
        }
        let p = dump(&mut c, "z");
        assert_eq!(restore(&mut c, "rh", "100000", &p, &["REPLACE"]), ok());
        kv.stop();
        let after = aof::scan(&std::fs::read(&path).expect("log"), |_| {})
            .expect("scan")
            .records;
        assert_eq!(after - before, 6, "one record per RESTORE");
    }
    let kv = Kv::start(open(), quiet());
    let mut c = kv.conn();
    for (k, t) in [
        ("rs", "string"),
        ("rl", "list"),
        ("rst", "set"),
        ("rz", "zset"),
    ] {
        assert_eq!(c.call(&["TYPE", k]), Reply::Status(t.into()));
    }
    assert_eq!(
        c.call(&["ZRANGE", "rh", "0", "-1", "WITHSCORES"]),
        arr(&["b", "-inf", "a", "1.5", "c", "2"])
    );
    let pttl = int(c.call(&["PTTL", "rh"]));
    assert!(pttl > 0 && pttl <= 100_000, "{pttl}");
    assert_eq!(c.call(&["GET", "rs"]), bulk("bar"));
    assert_eq!(
        c.call(&["LRANGE", "rl", "0", "-1"]),
        arr(&["a", "b", "", "a"])
    );
    kv.stop();
}

const PY: &str = r#"
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]))
r.set("s", b"\x00\xffbin")
r.rpush("l", "a", "b")
r.hset("h", mapping={"f": "v"})
r.zadd("z", {"m": 2.5})
r.sadd("st", "x")
for k in ["s", "l", "h", "z", "st"]:
    p = r.dump(k)
    assert isinstance(p, bytes) and len(p) > 10, p
    r.restore("c" + k, 0, p)
    try:
        r.restore("c" + k, 0, p)
        raise SystemExit("no BUSYKEY")
    except redis.exceptions.ResponseError as e:
        assert "BUSYKEY" in str(e) or "already exists" in str(e), e
    r.restore("c" + k, 1000, p, replace=True)
    assert 0 < r.pttl("c" + k) <= 1000
assert r.get("cs") == b"\x00\xffbin"
assert r.lrange("cl", 0, -1) == [b"a", b"b"]
assert r.hgetall("ch") == {b"f": b"v"}
assert r.zrange("cz", 0, -1, withscores=True) == [(b"m", 2.5)]
assert r.smembers("cst") == {b"x"}
assert r.dump("nope") is None
try:
    r.restore("bad", 0, b"garbage!!!!!")
    raise SystemExit("no error")
except redis.exceptions.ResponseError as e:
    assert "checksum" in str(e), e
print("dump OK")
"#;

#[test]
fn redis_py_dump_and_restore() {
    let Some(py) = python_with_redis() else {
        eprintln!(
            "SKIP redis_py_dump_and_restore: no python with redis-py (.ci/run installs it in target/ci-venv)"
        );
        return;
    };
    let kv = Kv::memory();
    assert!(run_python(&py, PY, kv.addr.port()).contains("dump OK"));
}
