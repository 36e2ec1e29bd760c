//! Client-side caching (`CLIENT TRACKING`) over real sockets, two event
//! loops: invalidation pushes are compared byte for byte with what Redis
//! 7.0 sends (RESP3 `>2 invalidate`, RESP2 `message` on
//! `__redis__:invalidate` to a redirect target, nulls for flushes,
//! `tracking-redir-broken`), for the default mode, BCAST with prefixes,
//! OPTIN/OPTOUT with CLIENT CACHING, NOLOOP, expiry, MULTI/EXEC and scripts,
//! RESET, and the bound on the tracking table; redis-py's client-side cache
//! runs against the server.
//!
//! Absence is checked without sleeping: after the writes that must not
//! invalidate, a write to a marker key the client tracks must be the next
//! push it reads.

mod common;

use std::io::Read;

use common::kv::{Kv, Resp, bulk, ok, python_with_redis, run_python};
use netkit::kv::protocol::Reply;

/// Read exactly `want` next from `c` (raw bytes, pushes included).
fn expect_raw(c: &mut Resp, want: &[u8]) {
    let mut chunk = [0u8; 4096];
    while c.buf.len() < want.len() {
        let n = c.s.read(&mut chunk).expect("read");
        assert!(n > 0, "server closed the connection");
        c.buf.extend_from_slice(&chunk[..n]);
    }
    let got: Vec<u8> = c.buf.drain(..want.len()).collect();
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(want),
        "raw bytes differ"
    );
}

/// A RESP3 invalidation push of `keys`.
fn inval3(keys: &[&str]) -> Vec<u8> {
    let mut v = format!(">2\r\n$10\r\ninvalidate\r\n*{}\r\n", keys.len()).into_bytes();
    for k in keys {
        v.extend_from_slice(format!("${}\r\n{k}\r\n", k.len()).as_bytes());
    }
    v
}

/// The RESP2 pub/sub form a redirect target gets.
fn inval2(keys: &[&str]) -> Vec<u8> {
    let mut v = b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n".to_vec();
    v.extend_from_slice(format!("*{}\r\n", keys.len()).as_bytes());
    for k in keys {
        v.extend_from_slice(format!("${}\r\n{k}\r\n", k.len()).as_bytes());
    }
    v
}

fn resp3(kv: &Kv) -> Resp {
    let mut c = kv.conn();
    assert!(matches!(c.call(&["HELLO", "3"]), Reply::Map(_)));
    c
}

fn id(c: &mut Resp) -> String {
    match c.call(&["CLIENT", "ID"]) {
        Reply::Int(n) => n.to_string(),
        r => panic!("CLIENT ID: {r:?}"),
    }
}

/// A bulk or verbatim string's text.
fn text(r: &Reply) -> String {
    match r {
        Reply::Bulk(Some(b)) | Reply::Verbatim { text: b, .. } => {
            String::from_utf8_lossy(b).into_owned()
        }
        r => panic!("not text: {r:?}"),
    }
}

fn info_field(c: &mut Resp, field: &str) -> String {
    text(&c.call(&["INFO", "everything"]))
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {field} in INFO"))
}

/// `c` tracks `marker`; `w` changes it; the next push `c` reads must be its
/// invalidation (nothing else was sent before it).
fn marker_next(c: &mut Resp, w: &mut Resp) {
    w.call(&["SET", "marker", "1"]);
    expect_raw(c, &inval3(&["marker"]));
}

#[test]
fn default_mode_invalidates_each_read_key_once_and_own_writes_after_the_reply() {
    let kv = Kv::memory();
    let (mut a, mut w) = (resp3(&kv), kv.conn());
    assert_eq!(a.call(&["CLIENT", "TRACKING", "on"]), ok());
    assert_eq!(w.call(&["SET", "k", "1"]), ok());
    assert_eq!(a.call(&["GET", "k"]), bulk("1"));
    assert_eq!(
        a.call(&["MGET", "m1", "m2"]),
        Reply::Array(Some(vec![Reply::Bulk(None), Reply::Bulk(None)]))
    );
    // Written but never read: no invalidation for `other`.
    w.call(&["SET", "other", "1"]);
    w.call(&["INCR", "k"]);
    expect_raw(&mut a, &inval3(&["k"]));
    // Forgotten after one invalidation: a second write sends nothing.
    w.call(&["INCR", "k"]);
    a.call(&["GET", "marker"]);
    w.call(&["SET", "m2", "x"]);
    expect_raw(&mut a, &inval3(&["m2"]));
    marker_next(&mut a, &mut w);
    // Its own write: the reply first, then the push (as Redis).
    a.call(&["GET", "k"]);
    a.send(&[b"SET", b"k", b"mine"]);
    expect_raw(&mut a, b"+OK\r\n");
    expect_raw(&mut a, &inval3(&["k"]));
    // A transaction's invalidation comes after EXEC's reply.
    a.call(&["GET", "k"]);
    assert_eq!(a.call(&["MULTI"]), ok());
    a.call(&["INCR", "n"]);
    a.call(&["APPEND", "k", "!"]);
    a.send(&[b"EXEC"]);
    expect_raw(&mut a, b"*2\r\n:1\r\n:5\r\n");
    expect_raw(&mut a, &inval3(&["k"]));
    // A script's write reaches other tracking clients.
    a.call(&["GET", "k"]);
    w.call(&["EVAL", "return redis.call('set', KEYS[1], 'lua')", "1", "k"]);
    expect_raw(&mut a, &inval3(&["k"]));
    assert_eq!(info_field(&mut w, "tracking_clients"), "1");
    assert_eq!(a.call(&["CLIENT", "TRACKING", "off"]), ok());
    assert_eq!(info_field(&mut w, "tracking_clients"), "0");
    assert_eq!(info_field(&mut w, "tracking_total_keys"), "0");
}

#[test]
fn bcast_sends_one_message_per_prefix_and_noloop_skips_own_writes() {
    let kv = Kv::memory();
    let (mut a, mut w) = (resp3(&kv), kv.conn());
    assert_eq!(
        a.call(&[
            "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "job:"
        ]),
        ok()
    );
    w.call(&[
        "MSET", "user:2", "a", "job:1", "b", "other", "c", "user:1", "d",
    ]);
    // Per prefix, keys sorted (Redis keeps them in a radix tree).
    expect_raw(&mut a, &inval3(&["job:1"]));
    expect_raw(&mut a, &inval3(&["user:1", "user:2"]));
    let info = a.call(&["CLIENT", "TRACKINGINFO"]);
    assert_eq!(
        info,
        Reply::Map(vec![
            (bulk("flags"), Reply::Set(vec![bulk("on"), bulk("bcast")])),
            (bulk("redirect"), Reply::Int(0)),
            (
                bulk("prefixes"),
                Reply::Array(Some(vec![bulk("user:"), bulk("job:")]))
            ),
        ])
    );
    assert_eq!(
        a.call(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "us"]),
        Reply::Error("ERR Prefix 'us' overlaps with an existing prefix 'user:'. Prefixes for a single client must not overlap.".into())
    );
    assert_eq!(
        a.call(&["CLIENT", "TRACKING", "on"]),
        Reply::Error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.".into())
    );
    assert_eq!(info_field(&mut w, "tracking_total_prefixes"), "2");
    // NOLOOP: its own writes are not sent back, others' are.
    a.call(&["CLIENT", "TRACKING", "off"]);
    assert_eq!(
        a.call(&["CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"]),
        ok()
    );
    assert_eq!(a.call(&["SET", "mine", "1"]), ok());
    w.call(&["SET", "theirs", "1"]);
    expect_raw(&mut a, &inval3(&["theirs"]));
    let line = text(&a.call(&["CLIENT", "INFO"]));
    assert!(line.contains(" flags=tB "), "{line}");
}

#[test]
fn optin_and_optout_follow_client_caching() {
    let kv = Kv::memory();
    let (mut a, mut w) = (resp3(&kv), kv.conn());
    assert_eq!(
        a.call(&["CLIENT", "CACHING", "yes"]),
        Reply::Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled".into())
    );
    assert_eq!(a.call(&["CLIENT", "TRACKING", "on", "OPTIN"]), ok());
    a.call(&["GET", "skipped"]);
    assert_eq!(a.call(&["CLIENT", "CACHING", "yes"]), ok());
    a.call(&["GET", "marker"]);
    // CACHING YES lasted for one command only.
    a.call(&["GET", "skipped2"]);
    w.call(&["SET", "skipped", "1"]);
    w.call(&["SET", "skipped2", "1"]);
    marker_next(&mut a, &mut w);
    assert_eq!(
        a.call(&["CLIENT", "CACHING", "no"]),
        Reply::Error(
            "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.".into()
        )
    );
    assert_eq!(
        a.call(&["CLIENT", "TRACKING", "on", "OPTOUT"]),
        Reply::Error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.".into())
    );
    a.call(&["CLIENT", "TRACKING", "off"]);
    assert_eq!(a.call(&["CLIENT", "TRACKING", "on", "OPTOUT"]), ok());
    assert_eq!(a.call(&["CLIENT", "CACHING", "no"]), ok());
    a.call(&["GET", "skipped"]);
    a.call(&["GET", "marker"]);
    w.call(&["SET", "skipped", "2"]);
    marker_next(&mut a, &mut w);
}

#[test]
fn resp2_redirect_gets_pubsub_messages_and_a_gone_target_breaks_it() {
    let kv = Kv::memory();
    let (mut a, mut w, mut r) = (kv.conn(), kv.conn(), kv.conn());
    let rid = id(&mut r);
    r.call(&["SUBSCRIBE", "__redis__:invalidate"]);
    assert_eq!(
        a.call(&["CLIENT", "TRACKING", "on", "REDIRECT", "999999"]),
        Reply::Error("ERR The client ID you want redirect to does not exist".into())
    );
    assert_eq!(
        a.call(&["CLIENT", "TRACKING", "on", "REDIRECT", &rid]),
        ok()
    );
    assert_eq!(
        a.call(&["CLIENT", "GETREDIR"]),
        Reply::Int(rid.parse().unwrap_or(0))
    );
    a.call(&["GET", "k"]);
    w.call(&["SET", "k", "1"]);
    expect_raw(&mut r, &inval2(&["k"]));
    // A flush: a null for "everything".
    a.call(&["GET", "k"]);
    w.call(&["FLUSHALL"]);
    expect_raw(
        &mut r,
        b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n",
    );
    // The target leaves: a RESP3 client is told, and marked broken.
    assert!(matches!(a.call(&["HELLO", "3"]), Reply::Map(_)));
    a.call(&["GET", "k"]);
    assert_eq!(r.call(&["QUIT"]), ok());
    assert!(r.rest().is_empty());
    // QUIT is answered before the close: wait until the target has gone.
    while !text(&w.call(&["CLIENT", "LIST", "ID", &rid])).is_empty() {
        std::thread::yield_now();
    }
    w.call(&["SET", "k", "2"]);
    expect_raw(
        &mut a,
        format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{rid}\r\n").as_bytes(),
    );
    let Reply::Map(info) = a.call(&["CLIENT", "TRACKINGINFO"]) else {
        panic!("TRACKINGINFO")
    };
    assert_eq!(
        info[0].1,
        Reply::Set(vec![bulk("on"), bulk("broken_redirect")])
    );
}

#[test]
fn flushes_swapdb_and_expiry_invalidate() {
    let kv = Kv::memory();
    let (mut a, mut w) = (resp3(&kv), kv.conn());
    a.call(&["CLIENT", "TRACKING", "on"]);
    a.call(&["GET", "k"]);
    w.call(&["FLUSHDB"]);
    expect_raw(&mut a, b">2\r\n$10\r\ninvalidate\r\n_\r\n");
    w.call(&["SWAPDB", "0", "1"]);
    expect_raw(&mut a, b">2\r\n$10\r\ninvalidate\r\n_\r\n");
    // Expired by the background sweep (no client touches it). The read
    // must come before the expiry: a slow machine retries with a longer one.
    // A fresh key per try: a key read after it expired stays tracked.
    let (mut ttl, mut n) = (50, 0);
    let key = loop {
        let key = format!("short{n}");
        w.call(&["SET", &key, "v", "PX", &ttl.to_string()]);
        if a.call(&["GET", &key]) == bulk("v") {
            break key;
        }
        (ttl, n) = (ttl * 4, n + 1);
    };
    expect_raw(&mut a, &inval3(&[&key]));
}

#[test]
fn reset_and_close_turn_tracking_off() {
    let kv = Kv::memory();
    let (mut a, mut w) = (resp3(&kv), kv.conn());
    a.call(&["CLIENT", "SETNAME", "cache"]);
    a.call(&["CLIENT", "TRACKING", "on", "BCAST"]);
    assert_eq!(info_field(&mut w, "tracking_clients"), "1");
    assert_eq!(a.call(&["RESET"]), Reply::Status("RESET".into()));
    let line = text(&a.call(&["CLIENT", "INFO"]));
    assert!(
        line.contains(" name= ") && line.contains(" flags=N ") && line.contains(" redir=-1 "),
        "{line}"
    );
    assert_eq!(a.call(&["CLIENT", "GETREDIR"]), Reply::Int(-1));
    assert_eq!(info_field(&mut w, "tracking_clients"), "0");
    assert_eq!(info_field(&mut w, "tracking_total_prefixes"), "0");
    // A tracking client that disconnects is forgotten.
    let mut b = resp3(&kv);
    b.call(&["CLIENT", "TRACKING", "on"]);
    b.call(&["GET", "x"]);
    assert_eq!(info_field(&mut w, "tracking_clients"), "1");
    drop(b);
    while info_field(&mut w, "tracking_clients") != "0" {
        std::thread::yield_now();
    }
    assert_eq!(info_field(&mut w, "tracking_total_keys"), "0");
}

#[test]
fn the_table_is_bounded_and_drops_the_oldest_keys_first() {
    let kv = Kv::memory();
    let (mut a, mut w) = (resp3(&kv), kv.conn());
    assert_eq!(
        w.call(&["CONFIG", "SET", "tracking-table-max-keys", "3"]),
        ok()
    );
    a.call(&["CLIENT", "TRACKING", "on"]);
    a.call(&["MGET", "k1", "k2", "k3"]);
    a.send(&[b"GET", b"k4"]);
    expect_raw(&mut a, b"_\r\n");
    expect_raw(&mut a, &inval3(&["k1"]));
    assert_eq!(info_field(&mut w, "tracking_total_keys"), "3");
    // A client reading many keys never grows it past the limit.
    let keys: Vec<String> = (0..2000).map(|i| format!("many{i}")).collect();
    let mut argv: Vec<&str> = vec!["MGET"];
    argv.extend(keys.iter().map(String::as_str));
    a.call(&argv);
    // 2002 evictions: the three older keys and 1999 of these.
    for k in ["k2", "k3", "k4"] {
        expect_raw(&mut a, &inval3(&[k]));
    }
    for k in &keys[..1997] {
        expect_raw(&mut a, &inval3(&[k]));
    }
    assert_eq!(info_field(&mut w, "tracking_total_keys"), "3");
    assert_eq!(
        w.call(&["CONFIG", "GET", "tracking-table-max-keys"]),
        Reply::Array(Some(vec![bulk("tracking-table-max-keys"), bulk("3")]))
    );
    // Lowering the limit applies at once.
    w.call(&["CONFIG", "SET", "tracking-table-max-keys", "1"]);
    expect_raw(&mut a, &inval3(&[&keys[1997]]));
    expect_raw(&mut a, &inval3(&[&keys[1998]]));
    assert_eq!(info_field(&mut w, "tracking_total_keys"), "1");
}

#[test]
fn redis_py_client_side_cache_sees_invalidations() {
    let Some(py) = python_with_redis() else {
        eprintln!("skipped: no python with redis-py (run .ci/run to make target/ci-venv)");
        return;
    };
    let kv = Kv::memory();
    let script = r#"
import sys, time, redis
try:
    from redis.cache import CacheConfig
    from redis.connection import CacheProxyConnection
except ImportError:
    print("skipped: this redis-py has no client-side cache")
    sys.exit(0)
# redis-py gates its cache on the version HELLO reports (7.4); the tracking
# protocol it uses is Redis 6.0+, which netkit (reporting 7.0.15) speaks.
CacheProxyConnection.MIN_ALLOWED_VERSION = "7.0.0"
port = int(sys.argv[1])
r = redis.Redis(port=port, protocol=3, cache_config=CacheConfig())
w = redis.Redis(port=port)
w.set("k", "1")
assert r.get("k") == b"1"
calls = lambda: w.info("commandstats").get("cmdstat_get", {}).get("calls", 0)
before = calls()
for _ in range(5):
    assert r.get("k") == b"1"
assert calls() == before, "cached reads reached the server"
w.set("k", "2")
deadline = time.time() + 10
while r.get("k") != b"2":
    assert time.time() < deadline, "the cache never saw the invalidation"
w.flushall()
deadline = time.time() + 10
while r.get("k") is not None:
    assert time.time() < deadline, "the cache never saw the flush"
print("ok")
"#;
    let out = run_python(&py, script, kv.addr.port());
    if let Some(why) = out.lines().find(|l| l.starts_with("skipped")) {
        eprintln!("{why}");
        return;
    }
    assert_eq!(out.trim(), "ok");
}
