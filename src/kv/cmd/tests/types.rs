//! The key commands with every type, and the log: each write replays to
//! the same data, and a failed append undoes exactly what it did.

use super::{OK, T, arr, bulk, int};
use crate::kv::keyspace::Batch;
use crate::kv::store::Store;

#[test]
fn type_object_encoding_scan_type_copy_rename() {
    let mut t = T::new();
    t.r(&["SET", "s", "1"]);
    t.r(&["HSET", "h", "f", "v"]);
    t.r(&["RPUSH", "l", "a"]);
    t.r(&["SADD", "set", "1", "2"]);
    t.r(&["ZADD", "z", "1", "m"]);
    for (k, ty, enc) in [
        ("h", "hash", "listpack"),
        ("l", "list", "quicklist"),
        ("set", "set", "intset"),
        ("z", "zset", "listpack"),
    ] {
        assert_eq!(t.r(&["TYPE", k]), format!("+{ty}\r\n"));
        assert_eq!(t.r(&["OBJECT", "ENCODING", k]), bulk(enc));
    }
    t.r(&["SADD", "set", "notanumber"]);
    assert_eq!(t.r(&["OBJECT", "ENCODING", "set"]), bulk("hashtable"));
    assert_eq!(t.r(&["CONFIG", "SET", "zset-max-ziplist-entries", "0"]), OK);
    assert_eq!(t.r(&["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    assert_eq!(
        t.r(&["CONFIG", "GET", "zset-max-listpack-entries"]),
        arr(&["zset-max-listpack-entries", "0"])
    );
    assert_eq!(
        t.r(&["SCAN", "0", "TYPE", "zset"]),
        format!("*2\r\n{}{}", bulk("0"), arr(&["z"]))
    );
    assert_eq!(t.r(&["COPY", "h", "h2"]), int(1));
    t.r(&["HSET", "h2", "g", "w"]);
    assert_eq!(t.r(&["HLEN", "h"]), int(1));
    assert_eq!(t.r(&["HLEN", "h2"]), int(2));
    t.r(&["EXPIRE", "l", "100"]);
    assert_eq!(t.r(&["RENAME", "l", "l2"]), OK);
    assert_eq!(t.r(&["LRANGE", "l2", "0", "-1"]), arr(&["a"]));
    assert!(t.r(&["TTL", "l2"]).starts_with(":10"));
    assert_eq!(t.r(&["MOVE", "z", "3"]), int(1));
    t.r(&["SELECT", "3"]);
    assert_eq!(t.r(&["ZSCORE", "z", "m"]), bulk("1"));
    assert!(t.r(&["MEMORY", "USAGE", "z"]).starts_with(':'));
    assert_eq!(t.r(&["DEBUG", "RELOAD"]), OK);
    assert_eq!(t.r(&["ZSCORE", "z", "m"]), bulk("1"));
}

#[test]
fn keys_counted_by_numkeys_are_found() {
    let mut t = T::new();
    assert_eq!(
        t.r(&[
            "COMMAND",
            "GETKEYS",
            "ZUNIONSTORE",
            "d",
            "2",
            "a",
            "b",
            "WEIGHTS",
            "1",
            "2"
        ]),
        arr(&["d", "a", "b"])
    );
    assert_eq!(
        t.r(&["COMMAND", "GETKEYS", "BLMPOP", "0", "2", "x", "y", "LEFT"]),
        arr(&["x", "y"])
    );
    assert_eq!(
        t.r(&["COMMAND", "GETKEYS", "BLPOP", "x", "y", "0"]),
        arr(&["x", "y"])
    );
    let info = t.r(&["COMMAND", "INFO", "LMPOP"]);
    assert!(info.contains("+movablekeys\r\n"), "{info}");
    assert!(
        t.r(&["COMMAND", "INFO", "ZADD"])
            .contains("+@sortedset\r\n")
    );
    assert!(
        t.r(&["COMMAND", "INFO", "BLPOP"])
            .contains("+@blocking\r\n")
    );
}

fn temp_log(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "netkit-kv-unit-{name}-{}-{}.aof",
        std::process::id(),
        crate::kv::store::now_ms()
    ))
}

/// Every live key's TYPE, encoding and a dump of its contents, for
/// comparison: in order where Redis's order is defined (lists, sorted sets,
/// listpack hashes, intsets), sorted where it is arbitrary.
fn dump(t: &mut T) -> Vec<String> {
    dump_as(t, true)
}

/// [`dump`], or with `!strict` only the data: no encoding, hashes and sets
/// sorted (what a reload, which re-encodes as Redis's does, must keep).
fn dump_as(t: &mut T, strict: bool) -> Vec<String> {
    let keys = t.r(&["KEYS", "*"]);
    let mut names: Vec<String> = keys
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.starts_with('$') && !l.is_empty())
        .map(String::from)
        .collect();
    names.sort();
    let mut out = Vec::new();
    for k in names {
        let ty = t.r(&["TYPE", &k]);
        let body = match ty.as_str() {
            "+hash\r\n" => t.r(&["HGETALL", &k]),
            "+list\r\n" => t.r(&["LRANGE", &k, "0", "-1"]),
            "+set\r\n" => t.r(&["SMEMBERS", &k]),
            "+zset\r\n" => t.r(&["ZRANGE", &k, "0", "-1", "WITHSCORES"]),
            _ => t.r(&["GET", &k]),
        };
        let mut enc = t.r(&["OBJECT", "ENCODING", &k]);
        let mut lines: Vec<&str> = body.split("\r\n").collect();
        if !strict {
            enc.clear();
        }
        let ordered = ty == "+list\r\n" || ty == "+zset\r\n";
        if !ordered && (!strict || enc.contains("hashtable") || ty == "+string\r\n") {
            lines.sort();
        }
        out.push(format!("{k} {ty} {enc} {}", lines.join(" ")));
    }
    out
}

#[test]
fn every_write_replays_to_the_same_data() {
    let path = temp_log("replay");
    let script: &[&[&str]] = &[
        &["HSET", "h", "a", "1", "b", "2"],
        &["HINCRBYFLOAT", "h", "a", "0.25"],
        &["HDEL", "h", "b"],
        &["HSET", "o", "z", "1", "a", "2", "m", "3"],
        &["HDEL", "o", "a"],
        &["HSET", "o", "a", "4", "z", "5"],
        &["HSETNX", "o", "b", "6"],
        &["HINCRBY", "o", "m", "1"],
        &["HSET", "long", "f", &"x".repeat(65), "g", "1"],
        &["HDEL", "long", "f"],
        &["SADD", "ints", "10", "-3", "2"],
        &["SADD", "mixed", "10", "x"],
        &["SREM", "mixed", "x"],
        &["RPUSH", "l", "1", "2", "3", "4", "5", "2"],
        &["LPUSH", "l", "0"],
        &["LSET", "l", "1", "one"],
        &["LINSERT", "l", "BEFORE", "3", "2.5"],
        &["LREM", "l", "-1", "2"],
        &["LTRIM", "l", "1", "-2"],
        &["RPOPLPUSH", "l", "l2"],
        &["LMPOP", "1", "l", "LEFT", "COUNT", "2"],
        &["SADD", "s", "a", "b", "c", "d"],
        &["SADD", "pool", "x", "y", "z"],
        &["SPOP", "pool"],
        &["SMOVE", "s", "s2", "a"],
        &["SUNIONSTORE", "s3", "s", "s2"],
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
        &["ZINCRBY", "z", "10", "a"],
        &["ZPOPMIN", "z"],
        &["ZREMRANGEBYSCORE", "z", "3", "3"],
        &["ZUNIONSTORE", "z2", "2", "z", "s3", "WEIGHTS", "2", "1"],
        &["ZRANGESTORE", "z3", "z2", "0", "1"],
        &["COPY", "z3", "z4"],
        &["RENAME", "z4", "z5"],
        &["EXPIRE", "z5", "1000"],
        &["SET", "str", "x"],
    ];
    let before = {
        let (store, _) = Store::open(&path, 16, crate::kv::logfile::Fsync::No).expect("open");
        let mut t = T::with(crate::kv::shared::Config::default(), store);
        for cmd in script {
            let r = t.r(cmd);
            assert!(!r.starts_with('-'), "{cmd:?}: {r}");
        }
        (dump(&mut t), dump_as(&mut t, false))
    };
    let (before, data) = before;
    let (store, opened) = Store::open(&path, 16, crate::kv::logfile::Fsync::No).expect("reopen");
    // One record per logical write.
    assert_eq!(opened.records, script.len() as u64);
    let mut t = T::with(crate::kv::shared::Config::default(), store);
    assert_eq!(dump(&mut t), before);
    let ttl: i64 = t.r(&["TTL", "z5"])[1..].trim().parse().unwrap_or(0);
    assert!((990..=1000).contains(&ttl), "{ttl}");
    // Compaction writes each type as its own ops, and replays the same
    // data; like Redis loading its RDB, a shrunken hashtable comes back
    // compact (its order then the one it was written in).
    assert!(t.sh.store.rewrite_log().expect("rewrite"));
    drop(t);
    let (store, _) = Store::open(&path, 16, crate::kv::logfile::Fsync::No).expect("reopen");
    let mut t = T::with(crate::kv::shared::Config::default(), store);
    assert_eq!(dump_as(&mut t, false), data);
    assert_eq!(t.r(&["OBJECT", "ENCODING", "long"]), bulk("listpack"));
    assert_eq!(t.r(&["OBJECT", "ENCODING", "mixed"]), bulk("intset"));
    assert_eq!(
        t.r(&["HGETALL", "o"]),
        arr(&["z", "5", "m", "4", "a", "4", "b", "6"])
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_rolled_back_round_restores_every_type_exactly() {
    let path = temp_log("undo");
    let (store, _) = Store::open(&path, 16, crate::kv::logfile::Fsync::No).expect("open");
    let mut t = T::with(crate::kv::shared::Config::default(), store);
    for cmd in [
        &["HSET", "h", "a", "1", "b", "2"][..],
        &["HSET", "o", "z", "1", "a", "2", "m", "3"],
        &["SADD", "ints", "10", "-3", "2"],
        &["RPUSH", "l", "1", "2", "3", "2", "1"],
        &["SADD", "s", "a", "b", "c"],
        &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
        &["SET", "str", "v"],
    ] {
        t.r(cmd);
    }
    let before = dump(&mut t);
    // Run changes in a round, then undo it as a failed append would.
    let mut batch = Batch::new(true);
    {
        let sh = t.sh.clone();
        let mut round = sh.store.round(&mut batch);
        let mut outbox = Vec::new();
        for cmd in [
            &["HSET", "h", "a", "9", "c", "3"][..],
            &["HDEL", "h", "b"],
            &["HDEL", "o", "z", "a"],
            &["HSET", "o", "z", "7", "n", "8"],
            &["HSET", "o", "long", &"x".repeat(65)],
            &["SREM", "ints", "-3"],
            &["SADD", "ints", "5", "notanint"],
            &["LPUSH", "l", "x"],
            &["RPOP", "l", "2"],
            &["LSET", "l", "0", "y"],
            &["LINSERT", "l", "AFTER", "3", "z"],
            &["LREM", "l", "0", "2"],
            &["LTRIM", "l", "1", "-1"],
            &["SADD", "s", "d"],
            &["SPOP", "s", "2"],
            &["ZADD", "z", "5", "a", "6", "d"],
            &["ZPOPMAX", "z"],
            &["ZREMRANGEBYRANK", "z", "0", "0"],
            &["RENAME", "h", "h2"],
            &["SUNIONSTORE", "str", "s"],
            &["DEL", "l"],
        ] {
            let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
            let mut ctx = super::super::Ctx {
                ks: round.ks(crate::kv::store::now_ms()),
                sess: &mut t.sess,
                out: &mut t.out,
                srv: &sh,
                outbox: &mut outbox,
                calls: &sh.calls[0],
                refuse_writes: None,
                interrupt: None,
            };
            super::super::dispatch(&mut ctx, &args);
        }
        t.out.buf.clear();
        round.abort();
    }
    assert_eq!(dump(&mut t), before);
    let _ = std::fs::remove_file(&path);
}
