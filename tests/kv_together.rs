//! Issue 11's features together over real sockets: scripts feeding blocked
//! clients (and both logged), blocking pops inside scripts and MULTI, every
//! type from Lua, pub/sub from scripts and transactions (and to a RESP3
//! client blocked in a pop), and a busy script that neither loses nor
//! stalls blocked clients, transactions and AUTH/HELLO/WATCH meeting a busy
//! script, and error
//! replies counted by code.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::kv::{Kv, Resp, bulk, ok, quiet};
use common::{PATIENCE, TempDir};
use netkit::kv::logfile::Fsync;
use netkit::kv::protocol::Reply;
use netkit::kv::store::Store;

fn arr(items: Vec<Reply>) -> Reply {
    Reply::Array(Some(items))
}

fn bulks(items: &[&str]) -> Reply {
    arr(items.iter().map(|s| bulk(s)).collect())
}

/// A field of `INFO clients`.
fn clients_field(c: &mut Resp, field: &str) -> usize {
    let info = match c.call(&["INFO", "clients"]) {
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
        r => panic!("{r:?}"),
    };
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {info}"))
}

/// Wait (bounded) until a script makes the server answer `c` with -BUSY.
fn wait_busy(c: &mut Resp) {
    let started = Instant::now();
    loop {
        match c.call(&["PING"]) {
            Reply::Error(e) if e.starts_with("BUSY") => return,
            r => assert!(started.elapsed() < PATIENCE, "never busy: {r:?}"),
        }
    }
}

/// Wait (bounded) until the server counts `n` blocked clients.
fn wait_blocked(c: &mut Resp, n: usize) {
    let until = Instant::now() + PATIENCE;
    while clients_field(c, "blocked_clients") != n {
        assert!(Instant::now() < until, "never {n} blocked clients");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_script_feeds_a_blocked_client_and_both_are_logged() {
    let dir = TempDir::new("together");
    let path = dir.join("kv.aof");
    {
        let (store, _) = Store::open(&path, 16, Fsync::Always).expect("open");
        let kv = Kv::start(Arc::new(store), quiet());
        let mut admin = kv.conn();
        let mut waiter = kv.conn();
        waiter.send(&[b"BRPOP", b"q", b"0"]);
        wait_blocked(&mut admin, 1);
        // The script sees its own pushes whole: the waiter is served after it.
        let script = "redis.call('lpush', KEYS[1], 'a', 'b') return redis.call('llen', KEYS[1])";
        assert_eq!(admin.call(&["EVAL", script, "1", "q"]), Reply::Int(2));
        assert_eq!(waiter.reply(), bulks(&["q", "a"]));
        assert_eq!(admin.call(&["LRANGE", "q", "0", "-1"]), bulks(&["b"]));
        kv.stop();
    }
    let (store, replay) = Store::open(&path, 16, Fsync::No).expect("reopen");
    assert_eq!(
        replay.records, 2,
        "the script's record, then the served pop's"
    );
    let kv = Kv::start(Arc::new(store), quiet());
    assert_eq!(kv.conn().call(&["LRANGE", "q", "0", "-1"]), bulks(&["b"]));
    drop(kv);
}

#[test]
fn blocking_pops_never_block_inside_scripts_or_transactions() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    // BLMPOP and BZMPOP are allowed in scripts and answer at once (nil ->
    // false -> a null reply); the older blocking pops are refused, as Redis 7.0.
    for cmd in [
        "return redis.call('blmpop', 0, 1, 'none', 'LEFT')",
        "return redis.call('bzmpop', 0, 1, 'none', 'MIN')",
    ] {
        assert_eq!(c.call(&["EVAL", cmd, "0"]), Reply::Bulk(None), "{cmd}");
    }
    for cmd in ["blpop", "brpop", "bzpopmin"] {
        let script = format!("return redis.pcall('{cmd}', 'none', 0)");
        match c.call(&["EVAL", &script, "0"]) {
            Reply::Error(e) => assert!(e.contains("not allowed from script"), "{e}"),
            r => panic!("{cmd}: {r:?}"),
        }
    }
    assert_eq!(clients_field(&mut c, "blocked_clients"), 0);
    // A script inside MULTI feeds the pops queued after it; the second one
    // finds nothing and answers as a timeout.
    let mut other = kv.conn();
    other.send(&[b"BLPOP", b"m", b"0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.call(&["MULTI"]), ok());
    let push = "return redis.call('rpush', 'm', 'x', 'y')";
    for q in [
        &["EVAL", push, "0"][..],
        &["BLPOP", "m", "0"],
        &["BLPOP", "m", "0"],
        &["BLPOP", "m", "0"],
    ] {
        assert_eq!(c.call(q), Reply::Status("QUEUED".into()));
    }
    assert_eq!(
        c.call(&["EXEC"]),
        arr(vec![
            Reply::Int(2),
            bulks(&["m", "x"]),
            bulks(&["m", "y"]),
            Reply::Array(None),
        ])
    );
    // The client blocked before the transaction got nothing: still waiting.
    assert_eq!(clients_field(&mut c, "blocked_clients"), 1);
    assert_eq!(
        c.call(&["EVAL", "return redis.call('rpush', 'm', 'z')", "0"]),
        Reply::Int(1)
    );
    assert_eq!(other.reply(), bulks(&["m", "z"]));
}

#[test]
fn scripts_read_and_write_every_type() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    let write = "redis.call('hset', 'h', 'f', 'v', 'n', 1) \
                 redis.call('rpush', 'l', 'a', 'b') \
                 redis.call('sadd', 's', 'x') \
                 redis.call('zadd', 'z', 1, 'm', 2.5, 'n') \
                 return redis.call('hincrby', 'h', 'n', 3)";
    assert_eq!(c.call(&["EVAL", write, "0"]), Reply::Int(4));
    let read = "return {redis.call('hget', 'h', 'f'), redis.call('llen', 'l'), \
                redis.call('sismember', 's', 'x'), redis.call('zscore', 'z', 'n'), \
                redis.call('zrange', 'z', 0, -1, 'withscores'), redis.call('type', 'z')}";
    assert_eq!(
        c.call(&["EVAL", read, "0"]),
        arr(vec![
            bulk("v"),
            Reply::Int(2),
            Reply::Int(1),
            bulk("2.5"),
            bulks(&["m", "1", "n", "2.5"]),
            Reply::Status("zset".into()),
        ])
    );
    // Wrong types reach the script as Redis's error table.
    let wrong = "return redis.pcall('lpush', 'h', 'x')['err']";
    assert_eq!(
        c.call(&["EVAL", wrong, "0"]),
        bulk("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    // RESP3 inside the script: a map and a double come back as such.
    let resp3 = "redis.setresp(3) local m = redis.call('hgetall', 'h') \
                 return {m['map']['f'], redis.call('zscore', 'z', 'n')['double']}";
    assert_eq!(
        c.call(&["EVAL", resp3, "0"]),
        arr(vec![bulk("v"), Reply::Int(2)])
    );
}

#[test]
fn pubsub_from_scripts_transactions_and_to_a_blocked_resp3_client() {
    let kv = Kv::memory();
    let mut admin = kv.conn();
    let mut sub = kv.conn();
    sub.send(&[b"SUBSCRIBE", b"news"]);
    assert_eq!(
        sub.reply(),
        arr(vec![bulk("subscribe"), bulk("news"), Reply::Int(1)])
    );
    let list = match admin.call(&["CLIENT", "LIST"]) {
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
        r => panic!("{r:?}"),
    };
    assert!(
        list.lines()
            .any(|l| l.contains(" flags=P ") && l.contains(" sub=1 psub=0 ")),
        "{list}"
    );
    let script = "redis.call('rpush', 'l', 'x') \
                  return redis.call('publish', 'news', redis.call('lindex', 'l', 0))";
    assert_eq!(admin.call(&["EVAL", script, "0"]), Reply::Int(1));
    assert_eq!(sub.reply(), bulks(&["message", "news", "x"]));
    assert_eq!(admin.call(&["MULTI"]), ok());
    admin.call(&["ZADD", "z", "1", "a"]);
    admin.call(&["PUBLISH", "news", "hi"]);
    assert_eq!(
        admin.call(&["EXEC"]),
        arr(vec![Reply::Int(1), Reply::Int(1)])
    );
    assert_eq!(sub.reply(), bulks(&["message", "news", "hi"]));
    // RESP3: a subscribed client may block in a pop; messages still reach
    // it as pushes while it waits, and its pop is answered after them.
    let mut r3 = kv.conn();
    assert!(matches!(r3.call(&["HELLO", "3"]), Reply::Map(_)));
    r3.send(&[b"SUBSCRIBE", b"news"]);
    assert!(matches!(r3.reply(), Reply::Push(_)));
    r3.send(&[b"BLPOP", b"jobs", b"0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(
        admin.call(&["PUBLISH", "news", "while-blocked"]),
        Reply::Int(2)
    );
    assert_eq!(
        r3.reply(),
        Reply::Push(vec![bulk("message"), bulk("news"), bulk("while-blocked")])
    );
    assert_eq!(admin.call(&["LPUSH", "jobs", "j1"]), Reply::Int(1));
    assert_eq!(r3.reply(), bulks(&["jobs", "j1"]));
}

#[test]
fn a_busy_script_neither_loses_nor_stalls_blocked_clients() {
    let kv = Kv::memory();
    let mut admin = kv.conn();
    assert_eq!(
        admin.call(&["CONFIG", "SET", "busy-reply-threshold", "20"]),
        ok()
    );
    let mut timed = kv.conn();
    let mut leaving = kv.conn();
    timed.send(&[b"BLPOP", b"t", b"0.3"]);
    leaving.send(&[b"BLPOP", b"gone", b"0"]);
    wait_blocked(&mut admin, 2);
    let started = Instant::now();
    let mut runner = kv.conn();
    runner.send(&[b"EVAL", b"while true do end", b"0"]);
    wait_busy(&mut admin);
    // One waiter leaves and the other's timeout passes while the script
    // holds the store.
    drop(leaving);
    while started.elapsed() < Duration::from_millis(500) {
        assert!(matches!(admin.call(&["PING"]), Reply::Error(e) if e.starts_with("BUSY")));
    }
    assert_eq!(kv.conn().call(&["SCRIPT", "KILL"]), ok());
    assert!(matches!(runner.reply(), Reply::Error(e) if e.contains("SCRIPT KILL")));
    // The timed-out waiter is answered once the script is gone ...
    assert_eq!(timed.reply(), Reply::Array(None));
    // ... and nothing is popped for the one that left.
    assert_eq!(admin.call(&["RPUSH", "gone", "x"]), Reply::Int(1));
    assert_eq!(admin.call(&["LLEN", "gone"]), Reply::Int(1));
    wait_blocked(&mut admin, 0);
    assert_eq!(timed.call(&["PING"]), Reply::Status("PONG".into()));
}

#[test]
fn auth_hello_and_watch_are_answered_while_a_script_is_busy() {
    let kv = Kv::memory();
    let mut admin = kv.conn();
    assert_eq!(admin.call(&["CONFIG", "SET", "lua-time-limit", "10"]), ok());
    assert_eq!(admin.call(&["SET", "wk", "1"]), ok());
    assert_eq!(admin.call(&["CONFIG", "SET", "requirepass", "pw"]), ok());
    let mut newcomer = kv.conn(); // must authenticate
    let (mut watcher, mut changed_mind) = (kv.conn(), kv.conn());
    for c in [&mut watcher, &mut changed_mind] {
        assert_eq!(c.call(&["AUTH", "pw"]), ok());
    }
    let mut runner = kv.conn();
    assert_eq!(runner.call(&["AUTH", "pw"]), ok());
    runner.send(&[b"EVAL", b"while true do end", b"0"]);
    wait_busy(&mut admin);
    // As Redis's allow-busy commands: AUTH and HELLO work, WATCH succeeds.
    assert!(
        matches!(newcomer.call(&["AUTH", "nope"]), Reply::Error(e) if e.starts_with("WRONGPASS"))
    );
    assert_eq!(newcomer.call(&["AUTH", "pw"]), ok());
    match newcomer.call(&["HELLO", "2"]) {
        Reply::Array(Some(a)) => assert_eq!(a.get(..2), Some(&[bulk("server"), bulk("redis")][..])),
        r => panic!("HELLO while busy: {r:?}"),
    }
    assert!(matches!(newcomer.call(&["GET", "wk"]), Reply::Error(e) if e.starts_with("BUSY")));
    assert_eq!(watcher.call(&["WATCH", "wk"]), ok());
    assert_eq!(changed_mind.call(&["WATCH", "wk"]), ok());
    assert_eq!(changed_mind.call(&["UNWATCH"]), ok());
    assert_eq!(kv.conn().call(&["AUTH", "pw"]), ok());
    let mut killer = kv.conn();
    assert_eq!(killer.call(&["AUTH", "pw"]), ok());
    assert_eq!(killer.call(&["SCRIPT", "KILL"]), ok());
    assert!(matches!(runner.reply(), Reply::Error(_)));
    // The script might have changed wk after that WATCH: its EXEC fails,
    // once; the client that let go of its watch commits.
    for (c, v) in [(&mut watcher, "2"), (&mut changed_mind, "3")] {
        assert_eq!(c.call(&["MULTI"]), ok());
        assert_eq!(c.call(&["SET", "wk", v]), Reply::Status("QUEUED".into()));
    }
    assert_eq!(watcher.call(&["EXEC"]), Reply::Array(None));
    assert_eq!(changed_mind.call(&["EXEC"]), arr(vec![ok()]));
    assert_eq!(watcher.call(&["WATCH", "wk"]), ok());
    assert_eq!(watcher.call(&["MULTI"]), ok());
    assert_eq!(
        watcher.call(&["SET", "wk", "4"]),
        Reply::Status("QUEUED".into())
    );
    assert_eq!(watcher.call(&["EXEC"]), arr(vec![ok()]));
    assert_eq!(newcomer.call(&["GET", "wk"]), bulk("4"));
}

#[test]
fn a_transaction_meeting_a_busy_script_runs_whole_or_not_at_all() {
    let kv = Kv::memory();
    let mut admin = kv.conn();
    assert_eq!(admin.call(&["CONFIG", "SET", "lua-time-limit", "10"]), ok());
    assert_eq!(admin.call(&["SET", "xx", "1"]), ok());
    let mut before = kv.conn(); // opens its transaction before the script
    assert_eq!(before.call(&["WATCH", "xx"]), ok());
    assert_eq!(before.call(&["MULTI"]), ok());
    assert_eq!(before.call(&["INCR", "xx"]), Reply::Status("QUEUED".into()));
    let mut runner = kv.conn();
    runner.send(&[b"EVAL", b"while true do end", b"0"]);
    wait_busy(&mut admin);
    // MULTI is let through; a refused command dooms the transaction.
    let mut during = kv.conn();
    assert_eq!(during.call(&["MULTI"]), ok());
    assert!(matches!(during.call(&["INCR", "xx"]), Reply::Error(e) if e.starts_with("BUSY")));
    assert!(matches!(before.call(&["INCR", "xx"]), Reply::Error(e) if e.starts_with("BUSY")));
    match before.call(&["EXEC"]) {
        Reply::Error(e) => assert!(
            e.starts_with("EXECABORT Transaction discarded because of: BUSY"),
            "{e}"
        ),
        r => panic!("{r:?}"),
    }
    assert_eq!(kv.conn().call(&["SCRIPT", "KILL"]), ok());
    assert!(matches!(runner.reply(), Reply::Error(_)));
    assert_eq!(during.call(&["INCR", "xx"]), Reply::Status("QUEUED".into()));
    match during.call(&["EXEC"]) {
        Reply::Error(e) => assert!(e.starts_with("EXECABORT"), "{e}"),
        r => panic!("{r:?}"),
    }
    assert_eq!(admin.call(&["GET", "xx"]), bulk("1"));
    // Neither client is left in a transaction, and the aborted EXEC let go
    // of the watch (a later write to xx does not fail the next one).
    assert_eq!(before.call(&["PING"]), Reply::Status("PONG".into()));
    assert_eq!(during.call(&["PING"]), Reply::Status("PONG".into()));
    assert_eq!(admin.call(&["SET", "xx", "5"]), ok());
    assert_eq!(before.call(&["MULTI"]), ok());
    assert_eq!(before.call(&["INCR", "xx"]), Reply::Status("QUEUED".into()));
    assert_eq!(before.call(&["EXEC"]), arr(vec![Reply::Int(6)]));
}

#[test]
fn error_replies_are_counted_by_code() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    assert_eq!(c.call(&["CONFIG", "RESETSTAT"]), ok());
    let custom = "return redis.error_reply('MY_ERR_CODE custom msg')";
    assert_eq!(
        c.call(&["EVAL", custom, "0"]),
        Reply::Error("MY_ERR_CODE custom msg".into())
    );
    c.call(&["SET", "s", "x"]);
    assert!(matches!(c.call(&["LPUSH", "s", "y"]), Reply::Error(_)));
    let stats = |c: &mut Resp, section: &str| match c.call(&["INFO", section]) {
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
        r => panic!("{r:?}"),
    };
    let errors = stats(&mut c, "errorstats");
    assert!(
        errors.contains("errorstat_MY_ERR_CODE:count=1\r\n"),
        "{errors}"
    );
    assert!(
        errors.contains("errorstat_WRONGTYPE:count=1\r\n"),
        "{errors}"
    );
    assert!(stats(&mut c, "stats").contains("total_error_replies:2\r\n"));
    assert_eq!(c.call(&["CONFIG", "RESETSTAT"]), ok());
    assert_eq!(stats(&mut c, "errorstats"), "# Errorstats\r\n");
}
