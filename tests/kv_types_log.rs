//! The log with hashes, lists, sets and sorted sets: blocking pops are
//! logged as the pops they did (one record each, after the push's record),
//! a restart rebuilds exactly what was acknowledged, and compaction writes
//! each collection as batched HSET/RPUSH/SADD/ZADD ops.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::PATIENCE;
use common::kv::{Kv, Resp, bulk, quiet, temp_path};
use netkit::kv::aof::{self, CollKind, Record};
use netkit::kv::logfile::Fsync;
use netkit::kv::protocol::Reply;
use netkit::kv::store::Store;

fn open(path: &std::path::Path) -> Store {
    Store::open(path, 16, Fsync::Always).expect("open").0
}

/// Without fsyncs: for tests of what is written, not of when.
fn open_fast(path: &std::path::Path) -> Store {
    Store::open(path, 16, Fsync::No).expect("open").0
}

fn records(path: &std::path::Path) -> Vec<Vec<Record>> {
    let data = std::fs::read(path).expect("read log");
    let mut recs = Vec::new();
    let s = aof::scan(&data, |ops| recs.push(ops)).expect("scan");
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    recs
}

fn arr(items: &[&str]) -> Reply {
    Reply::Array(Some(items.iter().map(|s| bulk(s)).collect()))
}

fn wait_blocked(c: &mut Resp, n: usize) {
    let until = Instant::now() + PATIENCE;
    loop {
        let info = match c.call(&["INFO", "clients"]) {
            Reply::Bulk(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
            r => panic!("{r:?}"),
        };
        if info.contains(&format!("blocked_clients:{n}\r")) {
            return;
        }
        assert!(Instant::now() < until, "never {n} blocked: {info}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn kinds(rec: &[Record]) -> Vec<CollKind> {
    rec.iter()
        .filter_map(|r| match r {
            Record::Coll(c) => Some(c.kind),
            _ => None,
        })
        .collect()
}

#[test]
fn served_blocking_pops_are_logged_as_their_effects_and_replay() {
    let path = temp_path("blocking");
    {
        let kv = Kv::start(Arc::new(open(&path)), quiet());
        let mut admin = kv.conn();
        let mut mover = kv.conn();
        let mut popper = kv.conn();
        mover.send(&[b"BLMOVE", b"src", b"dst", b"LEFT", b"RIGHT", b"0"]);
        wait_blocked(&mut admin, 1);
        popper.send(&[b"BZPOPMIN", b"board", b"0"]);
        wait_blocked(&mut admin, 2);
        // One push feeds the mover; the second element stays.
        assert_eq!(admin.call(&["RPUSH", "src", "a", "b"]), Reply::Int(2));
        assert_eq!(mover.reply(), bulk("a"));
        assert_eq!(
            admin.call(&["ZADD", "board", "1", "x", "2", "y"]),
            Reply::Int(2)
        );
        assert_eq!(popper.reply(), arr(&["board", "x", "1"]));
        assert_eq!(admin.call(&["HSET", "h", "f", "v"]), Reply::Int(1));
        kv.stop();
    }
    let recs = records(&path);
    // RPUSH; the served LMOVE (a push and a pop, one record: the push
    // first, the order Redis notifies them in); ZADD; the served ZPOPMIN;
    // HSET: one record per logical write.
    assert_eq!(recs.len(), 5, "{recs:#?}");
    assert_eq!(kinds(&recs[0]), [CollKind::RPush]);
    assert_eq!(kinds(&recs[1]), [CollKind::RPush, CollKind::LPop]);
    assert_eq!(kinds(&recs[2]), [CollKind::ZAdd]);
    assert_eq!(kinds(&recs[3]), [CollKind::ZRemRange]);
    assert_eq!(kinds(&recs[4]), [CollKind::HSet]);
    let kv = Kv::start(Arc::new(open(&path)), quiet());
    let mut c = kv.conn();
    assert_eq!(c.call(&["LRANGE", "src", "0", "-1"]), arr(&["b"]));
    assert_eq!(c.call(&["LRANGE", "dst", "0", "-1"]), arr(&["a"]));
    assert_eq!(c.call(&["ZRANGE", "board", "0", "-1"]), arr(&["y"]));
    assert_eq!(c.call(&["HGET", "h", "f"]), bulk("v"));
    kv.stop();
}

#[test]
fn compaction_writes_each_collection_as_batched_ops() {
    let path = temp_path("compact-types");
    let store = Arc::new(open_fast(&path));
    let kv = Kv::start(store.clone(), quiet());
    let mut c = kv.conn();
    // Many small writes: a long log for little data.
    for i in 0..1200 {
        let m = format!("m{i}");
        c.call(&["HSET", "h", &m, "v"]);
        c.call(&["RPUSH", "l", &m]);
        c.call(&["SADD", "s", &m]);
        c.call(&["ZADD", "z", &i.to_string(), &m]);
    }
    c.call(&["EXPIRE", "z", "5000"]);
    for i in 0..200 {
        c.call(&["HDEL", "h", &format!("m{i}")]);
    }
    let before = std::fs::metadata(&path).expect("meta").len();
    assert!(store.rewrite_log().expect("rewrite"));
    let after = std::fs::metadata(&path).expect("meta").len();
    assert!(after * 3 < before, "{before} -> {after}");
    kv.stop();
    drop(store);
    // Each key is written as ops of at most 512 items, in key order.
    let mut per_kind = std::collections::HashMap::new();
    for rec in records(&path) {
        for op in rec {
            if let Record::Coll(op) = op {
                let items = if op.kind == CollKind::HSet {
                    op.items.len() / 2
                } else {
                    op.items.len()
                };
                assert!(items <= 512, "{:?} of {items}", op.kind);
                *per_kind.entry(op.kind).or_insert(0) += 1;
            }
        }
    }
    assert_eq!(
        per_kind.get(&CollKind::HSet),
        Some(&2),
        "1000 fields: 512 + 488"
    );
    assert_eq!(per_kind.get(&CollKind::RPush), Some(&3));
    assert_eq!(per_kind.get(&CollKind::SAdd), Some(&3));
    assert_eq!(per_kind.get(&CollKind::ZAdd), Some(&3));
    let kv = Kv::start(Arc::new(open(&path)), quiet());
    let mut c = kv.conn();
    assert_eq!(c.call(&["HLEN", "h"]), Reply::Int(1000));
    assert_eq!(c.call(&["HGET", "h", "m999"]), bulk("v"));
    assert_eq!(c.call(&["LINDEX", "l", "1199"]), bulk("m1199"));
    assert_eq!(c.call(&["SCARD", "s"]), Reply::Int(1200));
    assert_eq!(
        c.call(&["ZRANGE", "z", "-1", "-1", "WITHSCORES"]),
        arr(&["m1199", "1199"])
    );
    assert!(matches!(c.call(&["TTL", "z"]), Reply::Int(t) if t > 4000));
    kv.stop();
}
