//! Streams: XADD's IDs and trimming, XRANGE/XREVRANGE bounds, XDEL and
//! XTRIM against Redis 7.0's replies; a restart replays every change
//! (metadata included); DUMP/RESTORE and COPY keep the whole stream; a
//! failed round's stream writes are undone with it (unit tests in
//! `src/kv/types/stream.rs` and `src/kv/cmd/streams.rs`).

mod common;

use std::sync::Arc;

use common::kv::{Kv, Resp, bulk, quiet, temp_path};
use netkit::kv::logfile::Fsync;
use netkit::kv::protocol::Reply;
use netkit::kv::store::Store;

fn open(path: &std::path::Path) -> Store {
    Store::open(path, 16, Fsync::No).expect("open").0
}

fn entry(id: &str, fields: &[&str]) -> Reply {
    Reply::Array(Some(vec![
        bulk(id),
        Reply::Array(Some(fields.iter().map(|f| bulk(f)).collect())),
    ]))
}

fn ids(r: Reply) -> Vec<String> {
    match r {
        Reply::Array(Some(items)) => items
            .into_iter()
            .map(|e| match e {
                Reply::Array(Some(mut p)) => match p.remove(0) {
                    Reply::Bulk(Some(b)) => String::from_utf8(b).expect("utf8"),
                    r => panic!("{r:?}"),
                },
                r => panic!("{r:?}"),
            })
            .collect(),
        r => panic!("{r:?}"),
    }
}

fn err(c: &mut Resp, args: &[&str]) -> String {
    match c.call(args) {
        Reply::Error(e) => e,
        r => panic!("{args:?}: {r:?}"),
    }
}

#[test]
fn xadd_ids_ranges_deletes_and_trims_answer_as_redis() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    assert_eq!(c.call(&["XADD", "s", "1-1", "a", "1"]), bulk("1-1"));
    assert_eq!(c.call(&["XADD", "s", "1-*", "b", "2"]), bulk("1-2"));
    assert_eq!(c.call(&["XADD", "s", "5", "c", "3"]), bulk("5-0"));
    assert!(err(&mut c, &["XADD", "s", "5-0", "d", "4"]).contains("equal or smaller"));
    assert!(err(&mut c, &["XADD", "t", "0-0", "d", "4"]).contains("greater than 0-0"));
    assert!(err(&mut c, &["XADD", "s", "x", "d", "4"]).contains("Invalid stream ID"));
    assert!(err(&mut c, &["XADD", "s", "*", "d"]).contains("wrong number of arguments"));
    assert_eq!(
        c.call(&["XADD", "n", "NOMKSTREAM", "*", "a", "b"]),
        Reply::Bulk(None)
    );
    assert_eq!(c.call(&["EXISTS", "n"]), Reply::Int(0));
    assert_eq!(c.call(&["TYPE", "s"]), Reply::Status("stream".into()));
    assert_eq!(c.call(&["XLEN", "s"]), Reply::Int(3));
    assert_eq!(
        c.call(&["XRANGE", "s", "-", "+", "COUNT", "1"]),
        Reply::Array(Some(vec![entry("1-1", &["a", "1"])]))
    );
    assert_eq!(ids(c.call(&["XRANGE", "s", "(1-1", "(5-0"])), ["1-2"]);
    assert_eq!(
        ids(c.call(&["XREVRANGE", "s", "+", "-"])),
        ["5-0", "1-2", "1-1"]
    );
    assert_eq!(
        c.call(&["XRANGE", "s", "-", "+", "COUNT", "0"]),
        Reply::Array(None)
    );
    assert_eq!(
        c.call(&["XRANGE", "nokey", "-", "+"]),
        Reply::Array(Some(vec![]))
    );
    assert_eq!(c.call(&["XDEL", "s", "1-2", "9-9"]), Reply::Int(1));
    assert_eq!(c.call(&["XTRIM", "s", "MAXLEN", "1"]), Reply::Int(1));
    assert_eq!(ids(c.call(&["XRANGE", "s", "-", "+"])), ["5-0"]);
    assert!(err(&mut c, &["XTRIM", "s", "MAXLEN", "1", "LIMIT", "10"]).contains("special ~"));
    assert!(err(&mut c, &["XTRIM", "s", "MAXLEN", "1", "MINID", "1"]).contains("not compatible"));
    // `~` removes whole nodes of stream-node-max-entries only.
    assert_eq!(
        c.call(&["CONFIG", "SET", "stream-node-max-entries", "10"]),
        Reply::Status("OK".into())
    );
    for i in 0..100 {
        let id = format!("{}-1", 100 + i);
        c.call(&["XADD", "big", "MAXLEN", "~", "55", &id, "x", "y"]);
    }
    assert_eq!(c.call(&["XLEN", "big"]), Reply::Int(60));
    assert_eq!(
        c.call(&["XTRIM", "big", "MINID", "~", "145"]),
        Reply::Int(0)
    );
    assert_eq!(c.call(&["XTRIM", "big", "MINID", "150"]), Reply::Int(10));
    assert_eq!(c.call(&["SET", "str", "v"]), Reply::Status("OK".into()));
    assert!(err(&mut c, &["XADD", "str", "*", "a", "b"]).starts_with("WRONGTYPE"));
    assert!(err(&mut c, &["XLEN", "str"]).starts_with("WRONGTYPE"));
    kv.stop();
}

#[test]
fn streams_replay_dump_restore_and_copy_whole() {
    let path = temp_path("streams");
    let digest;
    {
        let kv = Kv::start(Arc::new(open(&path)), quiet());
        let mut c = kv.conn();
        for i in 1..=5 {
            c.call(&["XADD", "s", &format!("{i}-0"), "f", &i.to_string()]);
        }
        c.call(&["XDEL", "s", "5-0"]);
        c.call(&["XTRIM", "s", "MAXLEN", "3"]);
        digest = c.call(&["DEBUG", "DIGEST-VALUE", "s"]);
        kv.stop();
    }
    let kv = Kv::start(Arc::new(open(&path)), quiet());
    let mut c = kv.conn();
    assert_eq!(
        ids(c.call(&["XRANGE", "s", "-", "+"])),
        ["2-0", "3-0", "4-0"]
    );
    assert_eq!(c.call(&["DEBUG", "DIGEST-VALUE", "s"]), digest);
    // The last ID survived the restart (5-0 was deleted, not forgotten).
    assert!(err(&mut c, &["XADD", "s", "5-0", "a", "b"]).contains("equal or smaller"));
    let payload = match c.call(&["DUMP", "s"]) {
        Reply::Bulk(Some(p)) => p,
        r => panic!("{r:?}"),
    };
    c.send(&[b"RESTORE", b"r", b"0", &payload]);
    assert_eq!(c.reply(), Reply::Status("OK".into()));
    assert_eq!(
        ids(c.call(&["XRANGE", "r", "-", "+"])),
        ["2-0", "3-0", "4-0"]
    );
    assert!(err(&mut c, &["XADD", "r", "5-0", "a", "b"]).contains("equal or smaller"));
    assert_eq!(c.call(&["COPY", "s", "c"]), Reply::Int(1));
    c.call(&["XADD", "s", "9-0", "a", "b"]);
    assert_eq!(
        ids(c.call(&["XRANGE", "c", "-", "+"])),
        ["2-0", "3-0", "4-0"]
    );
    assert_eq!(c.call(&["DEBUG", "DIGEST-VALUE", "c"]), digest);
    // An emptied stream stays, with its last ID (Redis keeps empty streams).
    c.call(&["XTRIM", "c", "MAXLEN", "0"]);
    assert_eq!(c.call(&["EXISTS", "c"]), Reply::Int(1));
    // DEBUG RELOAD rebuilds from the ops compaction writes.
    assert_eq!(c.call(&["DEBUG", "RELOAD"]), Reply::Status("OK".into()));
    assert_eq!(c.call(&["XLEN", "c"]), Reply::Int(0));
    assert!(err(&mut c, &["XADD", "c", "4-0", "a", "b"]).contains("equal or smaller"));
    assert_eq!(
        ids(c.call(&["XRANGE", "s", "-", "+"])),
        ["2-0", "3-0", "4-0", "9-0"]
    );
    kv.stop();
}

/// Every bulk and status of a reply, as text, space separated.
fn flat(r: &Reply) -> String {
    match r {
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
        Reply::Status(s) => s.clone(),
        Reply::Int(n) => n.to_string(),
        Reply::Array(Some(v)) => v.iter().map(flat).collect::<Vec<_>>().join(" "),
        r => format!("{r:?}"),
    }
}

fn arr(items: Vec<Reply>) -> Reply {
    Reply::Array(Some(items))
}

#[test]
fn consumer_groups_deliver_ack_claim_and_survive_a_restart() {
    let path = temp_path("stream-groups");
    {
        let kv = Kv::start(Arc::new(open(&path)), quiet());
        let mut c = kv.conn();
        for i in 1..=3 {
            c.call(&["XADD", "s", &format!("{i}-0"), "f", &i.to_string()]);
        }
        assert_eq!(
            c.call(&["XGROUP", "CREATE", "s", "g", "0"]),
            Reply::Status("OK".into())
        );
        assert!(err(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).starts_with("BUSYGROUP"));
        let got = c.call(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "2",
            "STREAMS",
            "s",
            ">",
        ]);
        assert_eq!(
            got,
            arr(vec![arr(vec![
                bulk("s"),
                arr(vec![entry("1-0", &["f", "1"]), entry("2-0", &["f", "2"])])
            ])])
        );
        c.call(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "bob",
            "NOACK",
            "STREAMS",
            "s",
            ">",
        ]);
        assert_eq!(c.call(&["XACK", "s", "g", "1-0", "9-0"]), Reply::Int(1));
        // History: alice's pending entries after 0.
        assert_eq!(
            ids(
                match c.call(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"]) {
                    Reply::Array(Some(mut v)) => match v.remove(0) {
                        Reply::Array(Some(mut p)) => p.remove(1),
                        r => panic!("{r:?}"),
                    },
                    r => panic!("{r:?}"),
                }
            ),
            ["2-0"]
        );
        assert_eq!(
            c.call(&["XCLAIM", "s", "g", "carol", "0", "2-0", "JUSTID"]),
            arr(vec![bulk("2-0")])
        );
        assert_eq!(
            c.call(&["XGROUP", "CREATECONSUMER", "s", "g", "dave"]),
            Reply::Int(1)
        );
        assert!(
            err(
                &mut c,
                &["XAUTOCLAIM", "s", "g", "x", "0", "0", "COUNT", "0"]
            )
            .contains("COUNT must be > 0")
        );
        kv.stop();
    }
    let kv = Kv::start(Arc::new(open(&path)), quiet());
    let mut c = kv.conn();
    let summary = c.call(&["XPENDING", "s", "g"]);
    assert_eq!(
        summary,
        arr(vec![
            Reply::Int(1),
            bulk("2-0"),
            bulk("2-0"),
            arr(vec![arr(vec![bulk("carol"), bulk("1")])]),
        ])
    );
    let groups = c.call(&["XINFO", "GROUPS", "s"]);
    let text = flat(&groups);
    assert!(text.contains("last-delivered-id 3-0"), "{text}");
    let consumers = flat(&c.call(&["XINFO", "CONSUMERS", "s", "g"]));
    for who in ["alice", "bob", "carol", "dave"] {
        assert!(consumers.contains(who), "{consumers}");
    }
    // DUMP/RESTORE keeps the groups.
    let payload = match c.call(&["DUMP", "s"]) {
        Reply::Bulk(Some(p)) => p,
        r => panic!("{r:?}"),
    };
    c.send(&[b"RESTORE", b"r", b"0", &payload]);
    assert_eq!(c.reply(), Reply::Status("OK".into()));
    assert_eq!(c.call(&["XPENDING", "r", "g"]), summary);
    assert_eq!(c.call(&["COPY", "s", "c"]), Reply::Int(1));
    assert_eq!(c.call(&["XPENDING", "c", "g"]), summary);
    assert_eq!(c.call(&["XGROUP", "DESTROY", "s", "g"]), Reply::Int(1));
    assert_eq!(c.call(&["XPENDING", "c", "g"]), summary);
    kv.stop();
}

#[test]
fn blocked_xread_is_served_by_xadd_and_multi_does_not_block() {
    let kv = Kv::memory();
    let mut admin = kv.conn();
    let mut reader = kv.conn();
    let mut grouped = kv.conn();
    admin.call(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    reader.send(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"]);
    grouped.send(&[
        b"XREADGROUP",
        b"GROUP",
        b"g",
        b"w",
        b"BLOCK",
        b"0",
        b"STREAMS",
        b"s",
        b">",
    ]);
    let until = std::time::Instant::now() + common::PATIENCE;
    loop {
        let info = flat(&admin.call(&["INFO", "clients"]));
        if info.contains("blocked_clients:2") {
            break;
        }
        assert!(std::time::Instant::now() < until, "{info}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    admin.call(&["XADD", "s", "5-0", "k", "v"]);
    let want = arr(vec![arr(vec![
        bulk("s"),
        arr(vec![entry("5-0", &["k", "v"])]),
    ])]);
    assert_eq!(reader.reply(), want);
    assert_eq!(grouped.reply(), want);
    assert_eq!(
        admin.call(&["XPENDING", "s", "g"]),
        arr(vec![
            Reply::Int(1),
            bulk("5-0"),
            bulk("5-0"),
            arr(vec![arr(vec![bulk("w"), bulk("1")])])
        ])
    );
    // Inside MULTI, BLOCK answers at once.
    admin.call(&["MULTI"]);
    admin.call(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    assert_eq!(admin.call(&["EXEC"]), arr(vec![Reply::Array(None)]));
    // Deleting the stream releases a blocked XREADGROUP.
    grouped.send(&[
        b"XREADGROUP",
        b"GROUP",
        b"g",
        b"w",
        b"BLOCK",
        b"0",
        b"STREAMS",
        b"s",
        b">",
    ]);
    loop {
        let info = flat(&admin.call(&["INFO", "clients"]));
        if info.contains("blocked_clients:1") {
            break;
        }
        assert!(std::time::Instant::now() < until, "{info}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    admin.call(&["DEL", "s"]);
    assert!(matches!(grouped.reply(), Reply::Error(e) if e.starts_with("UNBLOCKED")));
    // Destroying the group releases it with NOGROUP.
    admin.call(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    grouped.send(&[
        b"XREADGROUP",
        b"GROUP",
        b"g",
        b"w",
        b"BLOCK",
        b"0",
        b"STREAMS",
        b"s",
        b">",
    ]);
    loop {
        let info = flat(&admin.call(&["INFO", "clients"]));
        if info.contains("blocked_clients:1") {
            break;
        }
        assert!(std::time::Instant::now() < until, "{info}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    admin.call(&["XGROUP", "DESTROY", "s", "g"]);
    assert!(matches!(grouped.reply(), Reply::Error(e) if e.starts_with("NOGROUP")));
    // Both releases were calls that failed, as Redis counts them on unblock.
    let stats = flat(&admin.call(&["INFO", "commandstats"]));
    assert!(
        stats.contains(
            "cmdstat_xreadgroup:calls=3,usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=2"
        ),
        "{stats}"
    );
    let errors = flat(&admin.call(&["INFO", "errorstats"]));
    for e in ["errorstat_UNBLOCKED:count=1", "errorstat_NOGROUP:count=1"] {
        assert!(errors.contains(e), "{e} not in {errors}");
    }
    kv.stop();
}
