//! Keyspace notifications (`notify-keyspace-events`) over real sockets: a
//! pattern subscriber sees each command family's events with Redis 7.0's
//! names and order, the flags mask classes and read back in Redis's
//! canonical form, keys expire with `expired` (on access and from the
//! background sweep), MULTI/EXEC, scripts and served blocking pops notify,
//! a RESP3 client gets its own events before its reply, and `kv serve
//! --notify-keyspace-events` works with redis-cli as the subscriber.
//!
//! Absence is checked without sleeping: after the commands that must not
//! notify, a PUBLISH on a channel the subscriber's pattern matches must be
//! the next message it reads.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::kv::{Kv, Resp, bulk, ok};
use common::{PATIENCE, have, spawn_server};
use netkit::kv::protocol::Reply;

fn text(r: &Reply) -> String {
    match r {
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
        Reply::Status(s) => s.clone(),
        Reply::Int(n) => n.to_string(),
        r => panic!("not a string: {r:?}"),
    }
}

/// A client psubscribed to `pattern`.
fn psubscriber(kv: &Kv, pattern: &str) -> Resp {
    let mut s = kv.conn();
    let r = s.call(&["PSUBSCRIBE", pattern]);
    assert_eq!(
        r,
        Reply::Array(Some(vec![bulk("psubscribe"), bulk(pattern), Reply::Int(1)]))
    );
    s
}

/// The next pub/sub message: (channel, payload).
fn next(sub: &mut Resp) -> (String, String) {
    match sub.reply() {
        Reply::Array(Some(v)) | Reply::Push(v) => {
            let v: Vec<String> = v.iter().map(text).collect();
            match v[0].as_str() {
                "pmessage" => (v[2].clone(), v[3].clone()),
                "message" => (v[1].clone(), v[2].clone()),
                _ => panic!("not a message: {v:?}"),
            }
        }
        r => panic!("not a message: {r:?}"),
    }
}

/// Read messages until the marker `c` publishes on `mark`; the keyevent
/// events before it as `event key` strings (keyspace ones as `key:event`).
fn events_until_mark(sub: &mut Resp, c: &mut Resp) -> Vec<String> {
    assert_eq!(
        c.call(&["PUBLISH", "__keyevent@0__:mark", "x"]),
        Reply::Int(1)
    );
    let mut got = Vec::new();
    loop {
        let (ch, payload) = next(sub);
        if ch == "__keyevent@0__:mark" {
            return got;
        }
        if let Some(ev) = ch.strip_prefix("__keyevent@0__:") {
            got.push(format!("{ev} {payload}"));
        } else if let Some(key) = ch.strip_prefix("__keyspace@0__:") {
            got.push(format!("{key}:{payload}"));
        } else {
            got.push(format!("{ch} {payload}"));
        }
    }
}

fn run(c: &mut Resp, cmds: &[&[&str]]) {
    for cmd in cmds {
        if let Reply::Error(e) = c.call(cmd) {
            panic!("{cmd:?}: {e}");
        }
    }
}

fn config_get(c: &mut Resp) -> String {
    match c.call(&["CONFIG", "GET", "notify-keyspace-events"]) {
        Reply::Array(Some(v)) => text(&v[1]),
        r => panic!("{r:?}"),
    }
}

#[test]
fn each_command_family_notifies_with_redis_names_and_order() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    assert_eq!(
        c.call(&["CONFIG", "SET", "notify-keyspace-events", "EA"]),
        ok()
    );
    let mut sub = psubscriber(&kv, "__keyevent@0__:*");
    run(
        &mut c,
        &[
            &["SET", "s", "1", "EX", "100"],
            &["INCRBY", "s", "2"],
            &["APPEND", "s", "x"],
            &["SETRANGE", "s", "0", "9"],
            &["PERSIST", "s"],
            &["RENAME", "s", "t"],
            &["COPY", "t", "u"],
            &["MOVE", "u", "1"],
            &["DEL", "t", "nope"],
            &["GETDEL", "nope"],
        ],
    );
    assert_eq!(
        events_until_mark(&mut sub, &mut c),
        [
            "set s",
            "expire s",
            "incrby s",
            "append s",
            "setrange s",
            "persist s",
            "rename_from s",
            "rename_to t",
            "copy_to u",
            "move_from u",
            "del t",
        ]
    );
    run(
        &mut c,
        &[
            &["RPUSH", "l", "a", "b"],
            &["LMOVE", "l", "m", "LEFT", "RIGHT"],
            &["LSET", "l", "0", "z"],
            &["LPOP", "l"],
            &["LREM", "m", "0", "nothing"],
            &["LTRIM", "m", "0", "-1"],
        ],
    );
    assert_eq!(
        events_until_mark(&mut sub, &mut c),
        [
            "rpush l", "rpush m", "lpop l", "lset l", "lpop l", "del l", "ltrim m",
        ]
    );
    run(
        &mut c,
        &[
            &["SADD", "s1", "a", "b"],
            &["SADD", "s1", "a"],
            &["SREM", "s1", "x"],
            &["SMOVE", "s1", "s2", "a"],
            &["SINTERSTORE", "s3", "s1", "s2"],
            &["SUNIONSTORE", "s3", "s1", "s2"],
            &["SPOP", "s1"],
        ],
    );
    assert_eq!(
        events_until_mark(&mut sub, &mut c),
        [
            "sadd s1",
            "srem s1",
            "sadd s2",
            "sunionstore s3",
            "spop s1",
            "del s1",
        ]
    );
    run(
        &mut c,
        &[
            &["HSET", "h", "f", "1", "g", "2"],
            &["HINCRBY", "h", "f", "1"],
            &["HINCRBYFLOAT", "h", "f", "0.5"],
            &["HDEL", "h", "f", "g"],
        ],
    );
    assert_eq!(
        events_until_mark(&mut sub, &mut c),
        ["hset h", "hincrby h", "hincrbyfloat h", "hdel h", "del h"]
    );
    run(
        &mut c,
        &[
            &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
            &["ZADD", "z", "1", "a"],
            &["ZINCRBY", "z", "5", "a"],
            &["ZREM", "z", "b"],
            &["ZUNIONSTORE", "z2", "1", "z"],
            &["ZREMRANGEBYSCORE", "z2", "0", "3"],
            &["ZPOPMIN", "z", "5"],
        ],
    );
    assert_eq!(
        events_until_mark(&mut sub, &mut c),
        [
            "zadd z",
            "zincr z",
            "zrem z",
            "zunionstore z2",
            "zremrangebyscore z2",
            "zpopmin z",
            "del z",
        ]
    );
}

#[test]
fn flags_mask_classes_and_read_back_in_redis_form() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    assert_eq!(config_get(&mut c), "");
    for (set, get) in [
        ("gKE", "gKE"),
        ("$lshzxeKE", "$lshzxeKE"),
        ("KA", "AK"),
        ("EA", "AE"),
        ("nmEdK", "dnKEm"),
    ] {
        assert_eq!(
            c.call(&["CONFIG", "SET", "notify-keyspace-events", set]),
            ok()
        );
        assert_eq!(config_get(&mut c), get);
    }
    assert_eq!(
        c.call(&["CONFIG", "SET", "notify-keyspace-events", "KEq"]),
        Reply::Error(
            "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - \
             Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
                .into()
        )
    );
    assert_eq!(config_get(&mut c), "dnKEm", "a refused SET changes nothing");

    let mut sub = psubscriber(&kv, "__key*@0__:*");
    // Lists only, both channel kinds.
    assert_eq!(
        c.call(&["CONFIG", "SET", "notify-keyspace-events", "KEl"]),
        ok()
    );
    run(
        &mut c,
        &[
            &["SET", "foo", "bar"],
            &["LPUSH", "mylist", "a"],
            &["DEL", "foo"],
        ],
    );
    assert_eq!(
        events_until_mark(&mut sub, &mut c),
        ["mylist:lpush", "lpush mylist"]
    );
    // Classes without K or E publish nothing; K or E without classes neither.
    for flags in ["A", "KE", ""] {
        assert_eq!(
            c.call(&["CONFIG", "SET", "notify-keyspace-events", flags]),
            ok()
        );
        run(&mut c, &[&["SET", "foo", "bar"], &["LPUSH", "mylist", "b"]]);
        assert!(events_until_mark(&mut sub, &mut c).is_empty(), "{flags}");
    }
    // New keys (n) and read misses (m) only when asked for; A has neither.
    assert_eq!(
        c.call(&["CONFIG", "SET", "notify-keyspace-events", "Enm"]),
        ok()
    );
    run(
        &mut c,
        &[
            &["SET", "k1", "v"],
            &["SET", "k1", "w"],
            &["GET", "nokey"],
            &["HSET", "k2", "f", "v"],
            &["GETDEL", "nokey2"],
            &["TYPE", "nokey3"],
            &["INCR", "k3"],
        ],
    );
    assert_eq!(
        events_until_mark(&mut sub, &mut c),
        [
            "new k1",
            "keymiss nokey",
            "new k2",
            "keymiss nokey2",
            "keymiss nokey3",
            "new k3"
        ]
    );
}

#[test]
fn keys_expire_with_an_event_on_access_and_from_the_sweep() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    assert_eq!(
        c.call(&["CONFIG", "SET", "notify-keyspace-events", "Egx"]),
        ok()
    );
    let mut sub = psubscriber(&kv, "__keyevent@0__:*");
    // PXAT in the past: stored already expired, gone at the first access.
    assert_eq!(c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    assert_eq!(c.call(&["SET", "old", "v", "PXAT", "1"]), ok());
    assert_eq!(c.call(&["GET", "old"]), Reply::Bulk(None));
    assert_eq!(
        events_until_mark(&mut sub, &mut c),
        ["expire old", "expired old"]
    );
    // Untouched, the background sweep finds it and notifies.
    assert_eq!(c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), ok());
    assert_eq!(c.call(&["SET", "gone", "v", "PX", "20"]), ok());
    assert_eq!(
        next(&mut sub),
        ("__keyevent@0__:expire".into(), "gone".into())
    );
    assert_eq!(
        next(&mut sub),
        ("__keyevent@0__:expired".into(), "gone".into())
    );
    assert_eq!(c.call(&["EXISTS", "gone"]), Reply::Int(0));
}

#[test]
fn transactions_scripts_and_served_pops_notify() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    assert_eq!(
        c.call(&["CONFIG", "SET", "notify-keyspace-events", "E$lg"]),
        ok()
    );
    let mut sub = psubscriber(&kv, "__keyevent@0__:*");
    assert_eq!(c.call(&["MULTI"]), ok());
    for cmd in [&["SET", "a", "1"][..], &["LPUSH", "q", "x"], &["DEL", "a"]] {
        assert_eq!(c.call(cmd), Reply::Status("QUEUED".into()));
    }
    assert!(matches!(c.call(&["EXEC"]), Reply::Array(Some(_))));
    let script = "redis.call('set', KEYS[1], 'v'); return redis.call('incr', KEYS[2])";
    assert_eq!(c.call(&["EVAL", script, "2", "b", "n"]), Reply::Int(1));
    assert_eq!(
        events_until_mark(&mut sub, &mut c),
        ["set a", "lpush q", "del a", "set b", "incrby n"]
    );
    // A blocked BLMOVE served by another client's push: its pop and push
    // come after the push that woke it, as in Redis.
    let mut waiter = kv.conn();
    waiter.send(&[b"BLMOVE", b"src", b"dst", b"LEFT", b"LEFT", b"0"]);
    let until = Instant::now() + PATIENCE;
    loop {
        let info = text(&c.call(&["INFO", "clients"]));
        if info.contains("blocked_clients:1") {
            break;
        }
        assert!(Instant::now() < until, "the BLMOVE never blocked");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(c.call(&["RPUSH", "src", "v"]), Reply::Int(1));
    assert_eq!(waiter.reply(), bulk("v"));
    assert_eq!(
        events_until_mark(&mut sub, &mut c),
        ["rpush src", "lpush dst", "lpop src", "del src"]
    );
}

#[test]
fn a_resp3_client_gets_its_own_events_before_its_reply() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    assert!(matches!(c.call(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(
        c.call(&["CONFIG", "SET", "notify-keyspace-events", "K$"]),
        ok()
    );
    assert_eq!(
        c.call(&["SUBSCRIBE", "__keyspace@0__:mine"]),
        Reply::Push(vec![
            bulk("subscribe"),
            bulk("__keyspace@0__:mine"),
            Reply::Int(1)
        ])
    );
    c.send(&[b"SET", b"mine", b"v"]);
    assert_eq!(
        c.reply(),
        Reply::Push(vec![
            bulk("message"),
            bulk("__keyspace@0__:mine"),
            bulk("set")
        ])
    );
    assert_eq!(c.reply(), ok());
    assert_eq!(c.call(&["SET", "other", "v"]), ok());
}

#[test]
fn serve_option_sets_the_flags_and_redis_cli_subscribes() {
    let srv = spawn_server(&["kv", "serve", "--notify-keyspace-events", "Elg", "0"]);
    let mut c = {
        let s = std::net::TcpStream::connect(srv.addr).expect("connect");
        s.set_read_timeout(Some(PATIENCE)).expect("timeout");
        Resp { s, buf: Vec::new() }
    };
    assert_eq!(config_get(&mut c), "glE");
    if !have("redis-cli") {
        eprintln!("SKIP the redis-cli subscriber: redis-cli is not installed");
        return;
    }
    let port = srv.addr.port().to_string();
    let mut cli = Command::new("redis-cli")
        .args(["-p", &port, "psubscribe", "__keyevent@0__:*"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("redis-cli");
    let mut lines = BufReader::new(cli.stdout.take().expect("stdout")).lines();
    let mut line = || lines.next().expect("a line").expect("read");
    for want in ["psubscribe", "__keyevent@0__:*", "1"] {
        assert_eq!(line(), want);
    }
    run(
        &mut c,
        &[&["SET", "k", "v"], &["RPUSH", "k2", "a"], &["DEL", "k2"]],
    );
    // The SET is a string event: not selected.
    for event in ["rpush", "del"] {
        assert_eq!(line(), "pmessage");
        assert_eq!(line(), "__keyevent@0__:*");
        assert_eq!(line(), format!("__keyevent@0__:{event}"));
        assert_eq!(line(), "k2");
    }
    let _ = cli.kill();
    let _ = cli.wait();
    // A bad letter is refused at start with Redis's words.
    let out = common::netkit()
        .args(["kv", "serve", "--notify-keyspace-events", "KEy", "0"])
        .output()
        .expect("netkit");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Invalid event class character"), "{err}");
}
