//! `maxmemory` against the real binary (its allocator counts the heap):
//! over the limit with `noeviction`, commands that may grow memory get
//! Redis's `-OOM` (also queued in MULTI, at EXEC and from a script) while
//! reads and deletes go on (a `#!lua` script runs over the limit only
//! with `allow-oom` or `no-writes`); an eviction policy deletes keys, announces them
//! as `evicted` and counts them, and the log keeps them deleted; a limit
//! above the data evicts nothing, a lower one evicts until under it.

mod common;

use std::net::{SocketAddr, TcpStream};

use common::kv::{Resp, bulk, ok};
use common::{PATIENCE, Running, spawn_server};
use netkit::kv::protocol::Reply;

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

fn conn(addr: SocketAddr) -> Resp {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    Resp { s, buf: Vec::new() }
}

fn info_field(c: &mut Resp, section: &str, field: &str) -> u64 {
    let reply = c.call(&["INFO", section]);
    let Some(b) = reply.bytes() else {
        panic!("INFO {section}: {reply:?}");
    };
    let text = String::from_utf8_lossy(b).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in {text}"))
        .trim()
        .parse()
        .expect("a number")
}

fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}

fn server(extra: &[&str]) -> (Running, Resp) {
    let mut args = vec!["kv", "serve"];
    args.extend_from_slice(extra);
    args.push("0");
    let srv = spawn_server(&args);
    let c = conn(srv.addr);
    (srv, c)
}

#[test]
fn noeviction_refuses_what_grows_memory_and_serves_the_rest() {
    let (srv, mut c) = server(&[]);
    assert!(info_field(&mut c, "memory", "used_memory") > 0);
    assert_eq!(c.call(&["SET", "foo", "bar"]), ok());
    assert_eq!(c.call(&["CONFIG", "SET", "maxmemory", "1"]), ok());
    assert_eq!(info_field(&mut c, "memory", "maxmemory"), 1);
    assert_eq!(c.call(&["SET", "a", "b"]), err(OOM));
    assert_eq!(c.call(&["RPUSH", "l", "x"]), err(OOM));
    assert_eq!(c.call(&["GET", "foo"]), bulk("bar"));
    assert_eq!(c.call(&["PING"]), Reply::Status("PONG".into()));
    assert_eq!(c.call(&["DEL", "foo"]), Reply::Int(1));
    // Scripts: a memory-growing redis.call fails, reads run.
    let Reply::Error(e) = c.call(&["EVAL", "return redis.call('set','s','1')", "0"]) else {
        panic!("the script's SET ran");
    };
    assert!(e.contains(OOM), "{e}");
    assert_eq!(
        c.call(&["EVAL", "return redis.call('exists','s')", "0"]),
        Reply::Int(0)
    );
    // A shebang script is refused unless it may run over the limit.
    assert_eq!(c.call(&["EVAL", "#!lua flags=\nreturn 1", "0"]), err(OOM));
    assert_eq!(
        c.call(&[
            "EVAL",
            "#!lua flags=allow-oom\nreturn redis.call('set','s','2')",
            "0"
        ]),
        ok()
    );
    assert_eq!(
        c.call(&[
            "EVAL",
            "#!lua flags=no-writes\nreturn redis.call('get','s')",
            "0"
        ]),
        bulk("2")
    );
    assert_eq!(info_field(&mut c, "stats", "evicted_keys"), 0);
    assert_eq!(c.call(&["CONFIG", "SET", "maxmemory", "0"]), ok());
    assert_eq!(
        c.call(&["EVAL", "#!lua flags=\nreturn 1", "0"]),
        Reply::Int(1)
    );
    assert_eq!(c.call(&["SET", "a", "b"]), ok());
    drop(srv);
}

#[test]
fn transactions_under_oom_behave_as_in_redis() {
    let (srv, mut c) = server(&[]);
    let mut admin = conn(srv.addr);
    // Queued while over: the command is refused and EXEC aborts.
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(
        c.call(&["SET", "foo1", "bar1"]),
        Reply::Status("QUEUED".into())
    );
    assert_eq!(admin.call(&["CONFIG", "SET", "maxmemory", "1"]), ok());
    assert_eq!(c.call(&["LPUSH", "mylist", "v"]), err(OOM));
    assert_eq!(c.call(&["GET", "x"]), err(OOM), "anything queued in MULTI");
    assert_eq!(admin.call(&["CONFIG", "SET", "maxmemory", "0"]), ok());
    assert_eq!(
        c.call(&["SET", "foo2", "bar2"]),
        Reply::Status("QUEUED".into())
    );
    let Reply::Error(e) = c.call(&["EXEC"]) else {
        panic!("EXEC ran");
    };
    assert!(e.starts_with("EXECABORT"), "{e}");
    assert_eq!(c.call(&["EXISTS", "foo1", "foo2"]), Reply::Int(0));
    // DISCARD is never refused.
    assert_eq!(admin.call(&["CONFIG", "SET", "maxmemory", "1"]), ok());
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["SET", "x", "1"]), err(OOM));
    assert_eq!(c.call(&["DISCARD"]), ok());
    assert_eq!(admin.call(&["CONFIG", "SET", "maxmemory", "0"]), ok());
    // EXEC of reads only runs when over; EXEC of a write aborts with OOM.
    assert_eq!(c.call(&["SET", "x", "value"]), ok());
    assert_eq!(c.call(&["MULTI"]), ok());
    c.call(&["GET", "x"]);
    c.call(&["PING"]);
    assert_eq!(admin.call(&["CONFIG", "SET", "maxmemory", "1"]), ok());
    assert_eq!(
        c.call(&["EXEC"]),
        Reply::Array(Some(vec![bulk("value"), Reply::Status("PONG".into())]))
    );
    assert_eq!(admin.call(&["CONFIG", "SET", "maxmemory", "0"]), ok());
    assert_eq!(c.call(&["MULTI"]), ok());
    c.call(&["SET", "x", "1"]);
    c.call(&["GET", "x"]);
    assert_eq!(admin.call(&["CONFIG", "SET", "maxmemory", "1"]), ok());
    assert_eq!(
        c.call(&["EXEC"]),
        err(&format!(
            "EXECABORT Transaction discarded because of: {OOM}"
        ))
    );
    assert_eq!(
        c.call(&["EXEC"]),
        err("ERR EXEC without MULTI"),
        "the aborted transaction is gone"
    );
    assert_eq!(admin.call(&["CONFIG", "SET", "maxmemory", "0"]), ok());
    assert_eq!(c.call(&["GET", "x"]), bulk("value"));
    drop(srv);
}

#[test]
fn an_eviction_policy_evicts_announces_and_logs() {
    let log = common::kv::temp_path("maxmemory");
    let log_s = log.to_string_lossy().into_owned();
    let (srv, mut c) = server(&["--data", &log_s, "--notify-keyspace-events", "Ee"]);
    let mut sub = conn(srv.addr);
    assert_eq!(
        sub.call(&["PSUBSCRIBE", "*"]),
        Reply::Array(Some(vec![bulk("psubscribe"), bulk("*"), Reply::Int(1)]))
    );
    assert_eq!(
        c.call(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]),
        ok()
    );
    assert_eq!(c.call(&["SET", "foo", "bar"]), ok());
    // Lowering the limit evicts at once, before any other command.
    assert_eq!(c.call(&["CONFIG", "SET", "maxmemory", "1"]), ok());
    assert_eq!(
        sub.reply(),
        Reply::Array(Some(vec![
            bulk("pmessage"),
            bulk("*"),
            bulk("__keyevent@0__:evicted"),
            bulk("foo")
        ]))
    );
    assert_eq!(info_field(&mut c, "stats", "evicted_keys"), 1);
    // Nothing left to evict: still over, so SET is refused.
    assert_eq!(c.call(&["SET", "a", "b"]), err(OOM));
    assert_eq!(c.call(&["DBSIZE"]), Reply::Int(0));
    drop(sub);
    drop(c);
    drop(srv);
    // The eviction was logged as a delete: the key stays gone.
    let (srv, mut c) = server(&["--data", &log_s]);
    assert_eq!(c.call(&["EXISTS", "foo"]), Reply::Int(0));
    drop(srv);
}

#[test]
fn a_limit_under_the_data_evicts_only_what_the_policy_allows() {
    let (srv, mut c) = server(&["--maxmemory-policy", "volatile-ttl"]);
    let big = "x".repeat(256 << 10);
    for i in 0..20 {
        assert_eq!(c.call(&["SET", &format!("keep{i}"), &big]), ok());
        assert_eq!(
            c.call(&[
                "SET",
                &format!("tmp{i}"),
                &big,
                "EX",
                &(1000 + i).to_string()
            ]),
            ok()
        );
    }
    let used = info_field(&mut c, "memory", "used_memory");
    assert!(used > 40 * (256 << 10), "used_memory {used}");
    // A limit above the data evicts nothing.
    let roomy = (used + (16 << 20)).to_string();
    assert_eq!(c.call(&["CONFIG", "SET", "maxmemory", &roomy]), ok());
    assert_eq!(c.call(&["SET", "more", "1"]), ok());
    assert_eq!(info_field(&mut c, "stats", "evicted_keys"), 0);
    // 2 MiB under: about 8 keys with a TTL go, none without.
    let tight = (used - (2 << 20)).to_string();
    assert_eq!(c.call(&["CONFIG", "SET", "maxmemory", &tight]), ok());
    let evicted = info_field(&mut c, "stats", "evicted_keys");
    assert!((8..=20).contains(&evicted), "evicted {evicted}");
    for i in 0..20 {
        assert_eq!(
            c.call(&["EXISTS", &format!("keep{i}")]),
            Reply::Int(1),
            "keep{i} has no TTL"
        );
    }
    let Reply::Int(left) = c.call(&["DBSIZE"]) else {
        panic!("DBSIZE");
    };
    assert_eq!(left as u64, 41 - evicted);
    assert!(info_field(&mut c, "memory", "used_memory") <= used - (2 << 20) + (1 << 20));
    drop(srv);
}

#[test]
fn bad_limits_and_policies_are_refused() {
    let (srv, mut c) = server(&["--maxmemory", "100mb"]);
    assert_eq!(
        c.call(&["CONFIG", "GET", "maxmemory"]),
        Reply::Array(Some(vec![bulk("maxmemory"), bulk("104857600")]))
    );
    assert_eq!(
        c.call(&["CONFIG", "SET", "maxmemory", "bla"]),
        err(
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
        )
    );
    assert_eq!(c.call(&["CONFIG", "SET", "maxmemory", "2gb"]), ok());
    assert_eq!(info_field(&mut c, "memory", "maxmemory"), 2 << 30);
    drop(srv);
    for bad in [
        &["kv", "serve", "--maxmemory", "lots", "0"][..],
        &["kv", "serve", "--maxmemory-policy", "oldest", "0"],
    ] {
        let out = common::netkit().args(bad).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(e.starts_with("netkit: error:"), "{e}");
    }
}

#[test]
fn an_evicted_keys_invalidation_comes_before_the_reply_of_the_command_that_evicted_it() {
    // Redis 7.0's "Tracking invalidation message of eviction keys should be
    // before response": eviction runs before the command, and so does its
    // invalidation push; the client's own writes are told after the reply.
    let (_srv, mut c) = server(&["--maxmemory-policy", "volatile-random"]);
    assert!(matches!(c.call(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(c.call(&["CLIENT", "TRACKING", "on"]), ok());
    assert_eq!(c.call(&["SETEX", "volatile-key", "10000", "x"]), ok());
    assert_eq!(c.call(&["GET", "volatile-key"]), bulk("x"));
    let used = info_field(&mut c, "memory", "used_memory");
    let limit = (used + 100 * 1024).to_string();
    assert_eq!(c.call(&["CONFIG", "SET", "maxmemory", &limit]), ok());
    // 200 KB: over the limit once it has run (it ran under it).
    assert_eq!(
        c.call(&["SETBIT", "big-key", "1600000", "0"]),
        Reply::Int(0)
    );
    c.send(&[b"GETBIT", b"big-key", b"0"]);
    let invalidate = Reply::Push(vec![
        bulk("invalidate"),
        Reply::Array(Some(vec![bulk("volatile-key")])),
    ]);
    assert_eq!(c.reply(), invalidate);
    assert_eq!(c.reply(), Reply::Int(0));
    assert_eq!(info_field(&mut c, "stats", "evicted_keys"), 1);
}
