//! Hashes, lists, sets, sorted sets and blocking pops over real sockets:
//! what applications do with them (a job queue with BRPOP, a session in a
//! hash, a leaderboard in a sorted set) through redis-py and redis-cli, and
//! the blocking pops' promises (first blocked first served, across event
//! loops, released when the client leaves, non-blocking inside MULTI).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::kv::{Kv, Resp, bulk, ok, python_with_redis, run_python};
use common::{PATIENCE, have};
use netkit::kv::protocol::Reply;

fn arr(items: &[&str]) -> Reply {
    Reply::Array(Some(items.iter().map(|s| bulk(s)).collect()))
}

/// INFO's `blocked_clients`.
fn blocked(c: &mut Resp) -> usize {
    let info = match c.call(&["INFO", "clients"]) {
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
        r => panic!("{r:?}"),
    };
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("blocked_clients")
}

/// Wait (bounded) until `n` clients are blocked: the server's own count.
fn wait_blocked(c: &mut Resp, n: usize) {
    let until = Instant::now() + PATIENCE;
    while blocked(c) != n {
        assert!(Instant::now() < until, "never {n} blocked clients");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn blocked_clients_are_served_in_order_across_event_loops() {
    // Two event loops; eight waiters land on both of them.
    let kv = Kv::memory();
    let mut admin = kv.conn();
    let mut waiters: Vec<Resp> = (0..8).map(|_| kv.conn()).collect();
    for (i, w) in waiters.iter_mut().enumerate() {
        w.send(&[b"BRPOP", b"jobs", b"0"]);
        wait_blocked(&mut admin, i + 1);
    }
    // One push per waiter: the first to block gets the first job, and so on.
    for i in 0..8 {
        let job = format!("job{i}");
        assert_eq!(admin.call(&["LPUSH", "jobs", &job]), Reply::Int(1));
    }
    for (i, w) in waiters.iter_mut().enumerate() {
        assert_eq!(w.reply(), arr(&["jobs", &format!("job{i}")]));
    }
    assert_eq!(admin.call(&["EXISTS", "jobs"]), Reply::Int(0));
    // A served client runs what it sent while it waited.
    let w = &mut waiters[0];
    w.send(&[b"BLPOP", b"later", b"0"]);
    w.send(&[b"PING"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.call(&["RPUSH", "later", "x"]), Reply::Int(1));
    assert_eq!(w.reply(), arr(&["later", "x"]));
    assert_eq!(w.reply(), Reply::Status("PONG".into()));
}

#[test]
fn timeouts_transactions_and_leaving_clients() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    let mut admin = kv.conn();
    // A fractional timeout answers a null array, not sooner.
    let t0 = Instant::now();
    assert_eq!(c.call(&["BLPOP", "none", "0.2"]), Reply::Array(None));
    assert!(
        t0.elapsed() >= Duration::from_millis(190),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(c.call(&["BZPOPMIN", "none", "0.01"]), Reply::Array(None));
    // Inside MULTI nothing blocks.
    assert_eq!(c.call(&["MULTI"]), ok());
    c.call(&["BRPOPLPUSH", "none", "dst", "0"]);
    assert_eq!(
        c.call(&["EXEC"]),
        Reply::Array(Some(vec![Reply::Bulk(None)]))
    );
    // A client that leaves while blocked leaves the queue: the next push
    // stays in the list.
    let mut gone = kv.conn();
    gone.send(&[b"BLPOP", b"q", b"0"]);
    wait_blocked(&mut admin, 1);
    drop(gone);
    wait_blocked(&mut admin, 0);
    assert_eq!(admin.call(&["RPUSH", "q", "kept"]), Reply::Int(1));
    assert_eq!(admin.call(&["LRANGE", "q", "0", "-1"]), arr(&["kept"]));
    // CLIENT KILL of a blocked client releases it too.
    let mut k = kv.conn();
    let id = match k.call(&["CLIENT", "ID"]) {
        Reply::Int(i) => i.to_string(),
        r => panic!("{r:?}"),
    };
    k.send(&[b"BLPOP", b"q2", b"0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.call(&["CLIENT", "KILL", "ID", &id]), Reply::Int(1));
    wait_blocked(&mut admin, 0);
}

const QUEUE: &str = r#"
import sys, threading, redis
port = int(sys.argv[1])
N = 300
got = {}
def worker(name):
    r = redis.Redis(host="127.0.0.1", port=port)
    mine = []
    while True:
        item = r.brpop("jobs", timeout=5)
        assert item is not None, "a worker timed out"
        key, job = item
        assert key == b"jobs"
        if job == b"STOP":
            break
        mine.append(int(job))
    got[name] = mine
workers = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
for w in workers:
    w.start()
producer = redis.Redis(host="127.0.0.1", port=port)
for i in range(N):
    producer.lpush("jobs", i)
producer.lpush("jobs", "STOP", "STOP")
for w in workers:
    w.join()
jobs = sorted(got["a"] + got["b"])
assert jobs == list(range(N)), (len(jobs), jobs[:10])
# Each worker saw its jobs in queue order.
for mine in got.values():
    assert mine == sorted(mine)
# An empty queue: a short timeout answers None.
assert producer.brpop("jobs", timeout=0.1) is None
# BLMOVE as a reliable queue: the job moves to a processing list.
producer.rpush("work", "j1")
assert producer.blmove("work", "processing", 1, "LEFT", "RIGHT") == b"j1"
assert producer.lrange("processing", 0, -1) == [b"j1"]
print("queue OK", len(got["a"]), len(got["b"]))
"#;

const SESSION: &str = r#"
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), decode_responses=True)
sid = "session:42"
assert r.hset(sid, mapping={"user": "ada", "cart": "3", "lang": "en"}) == 3
assert r.hgetall(sid) == {"user": "ada", "cart": "3", "lang": "en"}
assert r.hincrby(sid, "cart", 2) == 5
assert abs(r.hincrbyfloat(sid, "score", 1.5) - 1.5) < 1e-9
assert r.hget(sid, "user") == "ada"
assert r.hmget(sid, ["user", "missing"]) == ["ada", None]
assert r.hexists(sid, "lang") and not r.hexists(sid, "nope")
assert r.expire(sid, 1800) and 1790 < r.ttl(sid) <= 1800
assert r.hdel(sid, "lang") == 1
assert sorted(r.hkeys(sid)) == ["cart", "score", "user"]
assert r.hlen(sid) == 3
assert r.type(sid) == "hash"
fields = dict(r.hscan_iter(sid))
assert fields["user"] == "ada"
try:
    r.get(sid)
    raise SystemExit("GET on a hash must fail")
except redis.ResponseError as e:
    assert str(e).startswith("WRONGTYPE"), e
r.delete(sid)
assert r.hgetall(sid) == {}
print("session OK")
"#;

const LEADERBOARD: &str = r#"
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), decode_responses=True)
lb = "leaderboard"
r.zadd(lb, {f"player{i}": i * 10 for i in range(100)})
assert r.zcard(lb) == 100
assert r.zincrby(lb, 1000, "player3") == 1030.0
top = r.zrevrange(lb, 0, 2, withscores=True)
assert top == [("player3", 1030.0), ("player99", 990.0), ("player98", 980.0)], top
assert r.zrevrank(lb, "player3") == 0 and r.zrank(lb, "player0") == 0
assert r.zscore(lb, "player50") == 500.0
assert r.zcount(lb, 100, 200) == 11
band = r.zrangebyscore(lb, "(100", 130, withscores=True)
assert band == [("player11", 110.0), ("player12", 120.0), ("player13", 130.0)], band
assert r.zadd(lb, {"player0": 5}, gt=True, ch=True) == 1
assert r.zadd(lb, {"player0": 1}, gt=True, ch=True) == 0
assert r.zpopmax(lb) == [("player3", 1030.0)]
assert r.zmscore(lb, ["player1", "nobody"]) == [10.0, None]
r.zadd("weekly", {"player1": 1, "player2": 2})
assert r.zunionstore("total", {lb: 1, "weekly": 100}) == 99
assert r.zscore("total", "player2") == 220.0
page = r.zrange(lb, 10, 19, desc=True)
assert len(page) == 10 and page[0] == "player89"
print("leaderboard OK")
"#;

#[test]
fn redis_py_queue_session_and_leaderboard() {
    let Some(py) = python_with_redis() else {
        eprintln!(
            "SKIP redis_py_queue_session_and_leaderboard: no python with redis-py (.ci/run installs it in target/ci-venv)"
        );
        return;
    };
    let kv = Kv::memory();
    let port = kv.addr.port();
    assert!(run_python(&py, QUEUE, port).contains("queue OK"));
    assert!(run_python(&py, SESSION, port).contains("session OK"));
    assert!(run_python(&py, LEADERBOARD, port).contains("leaderboard OK"));
}

#[test]
fn redis_cli_with_the_types() {
    if !have("redis-cli") {
        eprintln!("SKIP redis_cli_with_the_types: redis-cli is not installed");
        return;
    }
    let kv = Kv::memory();
    let port = kv.addr.port().to_string();
    let cli = |args: &[&str]| {
        let out = Command::new("redis-cli")
            .args(["-p", &port])
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(cli(&["RPUSH", "l", "a", "b", "c"]), "3\n");
    assert_eq!(cli(&["LRANGE", "l", "0", "-1"]), "a\nb\nc\n");
    assert_eq!(cli(&["HSET", "h", "f", "v"]), "1\n");
    assert_eq!(cli(&["HGETALL", "h"]), "f\nv\n");
    assert_eq!(cli(&["SADD", "s", "m"]), "1\n");
    assert_eq!(cli(&["ZADD", "z", "2.5", "m"]), "1\n");
    assert_eq!(cli(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]), "m\n2.5\n");
    assert_eq!(cli(&["TYPE", "z"]), "zset\n");
    assert!(cli(&["LPUSH", "h", "x"]).starts_with("WRONGTYPE"));
    // A blocked redis-cli is woken by another one.
    let port2 = port.clone();
    let waiter = std::thread::spawn(move || {
        let out = Command::new("redis-cli")
            .args(["-p", &port2, "BLPOP", "q", "5"])
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&out.stdout).into_owned()
    });
    let mut admin = kv.conn();
    wait_blocked(&mut admin, 1);
    assert_eq!(cli(&["RPUSH", "q", "hello"]), "1\n");
    assert_eq!(waiter.join().expect("waiter"), "q\nhello\n");
    // RESP3 on the wire: a double for ZSCORE, a map for HGETALL.
    use std::io::{Read, Write};
    let mut raw = std::net::TcpStream::connect(kv.addr).expect("connect");
    raw.set_read_timeout(Some(PATIENCE)).expect("timeout");
    raw.write_all(b"HELLO 3\r\nZSCORE z m\r\nHGETALL h\r\nPING\r\n")
        .expect("write");
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while !got.ends_with(b"+PONG\r\n") {
        let n = raw.read(&mut chunk).expect("read");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.ends_with(",2.5\r\n%1\r\n$1\r\nf\r\n$1\r\nv\r\n+PONG\r\n"),
        "{text}"
    );
}
