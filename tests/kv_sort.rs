//! SORT and SORT_RO over real sockets: a dataset sorted by weight keys and
//! hash fields, STORE logged as one record that a restart replays, WATCH
//! on a STORE destination, scripts, bad input that must not hurt the
//! server; and, when redis-server is installed, the same commands answered
//! byte for byte as Redis 7.0 answers them.

mod common;

use std::sync::Arc;

use common::kv::{Kv, Resp, bulk, ok, quiet, temp_path};
use common::redis::Redis;
use netkit::kv::aof::{self, CollKind, Record};
use netkit::kv::logfile::Fsync;
use netkit::kv::protocol::Reply;
use netkit::kv::store::Store;

fn arr(items: &[&str]) -> Reply {
    Reply::Array(Some(items.iter().map(|s| bulk(s)).collect()))
}

fn strings(r: Reply) -> Vec<String> {
    match r {
        Reply::Array(Some(v)) => v
            .into_iter()
            .map(|x| match x {
                Reply::Bulk(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
                Reply::Bulk(None) => "<nil>".into(),
                r => panic!("{r:?}"),
            })
            .collect(),
        r => panic!("{r:?}"),
    }
}

/// 200 ids pushed in a shuffled order, each with a distinct weight in a
/// string key and a hash field; the ids in weight order.
fn dataset(c: &mut Resp) -> Vec<String> {
    let n = 200u64;
    let mut by_weight = Vec::new();
    for i in 0..n {
        let id = (i * 73) % n; // a permutation of 0..n
        let w = (id * 7919) % 1009; // distinct (1009 is prime, n < 1009)
        let w = if id % 2 == 0 {
            format!("{w}")
        } else {
            format!("{w}.5e0")
        };
        let ids = id.to_string();
        c.call(&["RPUSH", "tosort", &ids]);
        c.call(&["SET", &format!("weight_{id}"), &w]);
        c.call(&["HSET", &format!("wobj_{id}"), "weight", &w]);
        by_weight.push((w.parse::<f64>().expect("weight"), ids));
    }
    by_weight.sort_by(|a, b| a.0.total_cmp(&b.0));
    by_weight.into_iter().map(|(_, id)| id).collect()
}

fn records(path: &std::path::Path) -> Vec<Vec<Record>> {
    let data = std::fs::read(path).expect("read log");
    let mut recs = Vec::new();
    let s = aof::scan(&data, |ops| recs.push(ops)).expect("scan");
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    recs
}

#[test]
fn sorts_by_keys_and_fields_and_stores_one_logged_record() {
    let path = temp_path("sort");
    let store = Arc::new(Store::open(&path, 16, Fsync::No).expect("open").0);
    let kv = Kv::start(store.clone(), quiet());
    let mut c = kv.conn();
    let want = dataset(&mut c);
    assert_eq!(strings(c.call(&["SORT", "tosort", "BY", "weight_*"])), want);
    assert_eq!(
        strings(c.call(&["SORT", "tosort", "BY", "wobj_*->weight"])),
        want
    );
    assert_eq!(
        strings(c.call(&["SORT_RO", "tosort", "BY", "weight_*", "LIMIT", "5", "5"])),
        want[5..10]
    );
    let mut rev = want.clone();
    rev.reverse();
    assert_eq!(
        strings(c.call(&["SORT", "tosort", "BY", "weight_*", "DESC"])),
        rev
    );
    // GET # and GET weight_*: pairs in weight order.
    let got = strings(c.call(&[
        "SORT", "tosort", "BY", "weight_*", "GET", "#", "GET", "weight_*",
    ]));
    assert_eq!(got.len(), 400);
    for (pair, id) in got.chunks(2).zip(&want) {
        assert_eq!(&pair[0], id);
        assert_eq!(c.call(&["GET", &format!("weight_{id}")]), bulk(&pair[1]));
    }
    // STORE: one record, a delete of the destination and its new list.
    let before = records(&path).len();
    assert_eq!(
        c.call(&["SORT", "tosort", "BY", "wobj_*->weight", "STORE", "res"]),
        Reply::Int(200)
    );
    let recs = records(&path);
    assert_eq!(recs.len(), before + 1);
    let last = &recs[recs.len() - 1];
    assert_eq!(last[0], Record::Del(0, b"res".to_vec()));
    assert!(
        last[1..]
            .iter()
            .all(|r| matches!(r, Record::Coll(op) if op.kind == CollKind::RPush)),
        "{last:?}"
    );
    // An empty result deletes the destination (one record), or logs nothing.
    c.call(&["SET", "gone", "x"]);
    let before = records(&path).len();
    assert_eq!(c.call(&["SORT", "nokey", "STORE", "gone"]), Reply::Int(0));
    assert_eq!(c.call(&["SORT", "nokey", "STORE", "gone"]), Reply::Int(0));
    assert_eq!(records(&path).len(), before + 1);
    assert_eq!(c.call(&["EXISTS", "gone"]), Reply::Int(0));
    kv.stop();
    drop(store);
    // A restart replays the stored list exactly.
    let store = Arc::new(Store::open(&path, 16, Fsync::No).expect("reopen").0);
    let kv = Kv::start(store, quiet());
    let mut c = kv.conn();
    assert_eq!(strings(c.call(&["LRANGE", "res", "0", "-1"])), want);
    assert_eq!(c.call(&["EXISTS", "gone"]), Reply::Int(0));
    kv.stop();
}

#[test]
fn watch_scripts_and_bad_input() {
    let kv = Kv::memory();
    let mut a = kv.conn();
    let mut b = kv.conn();
    // A STORE that empties a watched key fails the watcher's EXEC.
    a.call(&["LPUSH", "foo", "bar"]);
    assert_eq!(a.call(&["WATCH", "foo"]), ok());
    assert_eq!(
        b.call(&["SORT", "emptylist", "STORE", "foo"]),
        Reply::Int(0)
    );
    assert_eq!(a.call(&["MULTI"]), ok());
    assert_eq!(a.call(&["PING"]), Reply::Status("QUEUED".into()));
    assert_eq!(a.call(&["EXEC"]), Reply::Array(None));
    // In a script, a set sorted BY a constant comes out ALPHA ordered.
    a.call(&["SADD", "myset", "c", "aa", "b", "a"]);
    assert_eq!(
        a.call(&[
            "EVAL",
            "return redis.call('sort', KEYS[1], 'by', '_')",
            "1",
            "myset"
        ]),
        arr(&["a", "aa", "b", "c"])
    );
    // SORT is a write command: not from EVAL_RO; SORT_RO is.
    assert!(matches!(
        a.call(&[
            "EVAL_RO",
            "return redis.call('sort', KEYS[1], 'alpha')",
            "1",
            "myset"
        ]),
        Reply::Error(_)
    ));
    assert_eq!(
        a.call(&[
            "EVAL_RO",
            "return redis.call('sort_ro', KEYS[1], 'alpha')",
            "1",
            "myset"
        ]),
        arr(&["a", "aa", "b", "c"])
    );
    // Huge and negative LIMITs are clamped to what exists.
    a.call(&["RPUSH", "l", "3", "1", "2"]);
    for (off, count, want) in [
        ("9223372036854775807", "9223372036854775807", vec![]),
        (
            "-9223372036854775808",
            "9223372036854775807",
            vec!["1", "2", "3"],
        ),
        ("1", "-9223372036854775808", vec!["2", "3"]),
        ("2", "9223372036854775807", vec!["3"]),
    ] {
        assert_eq!(
            a.call(&["SORT", "l", "LIMIT", off, count]),
            arr(&want),
            "LIMIT {off} {count}"
        );
    }
    assert_eq!(
        a.call(&["SORT", "l", "LIMIT", "99999999999999999999", "1"]),
        Reply::Error("ERR value is not an integer or out of range".into())
    );
    // Many GET patterns: the reply is what exists times what was asked.
    let mut args: Vec<String> = vec!["SORT".into(), "l".into()];
    for i in 0..5000 {
        args.push("GET".into());
        args.push(if i % 2 == 0 {
            "#".into()
        } else {
            "k_*->f".into()
        });
    }
    let argv: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    match a.call(&argv) {
        Reply::Array(Some(v)) => assert_eq!(v.len(), 15000),
        r => panic!("{r:?}"),
    }
    // A BY pattern over a big set with no weights: all missing, sorted by member.
    let members: Vec<String> = (0..20000).map(|i| format!("{i}")).collect();
    let mut sadd: Vec<&str> = vec!["SADD", "big"];
    sadd.extend(members.iter().map(|s| s.as_str()));
    assert_eq!(a.call(&sadd), Reply::Int(20000));
    assert_eq!(
        a.call(&["SORT", "big", "BY", "nokey_*", "LIMIT", "0", "3"]),
        arr(&["0", "1", "10"])
    );
    assert_eq!(
        a.call(&["SORT", "big", "LIMIT", "19999", "5", "DESC"]),
        arr(&["0"])
    );
    assert_eq!(
        a.call(&["SORT", "nokey", "BY", "x", "LIMIT", "-1", "-1"]),
        arr(&[])
    );
    a.call(&["SET", "str", "x"]);
    assert_eq!(
        a.call(&["SORT", "str"]),
        Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value".into())
    );
    assert_eq!(a.call(&["PING"]), Reply::Status("PONG".into()));
}

/// The same commands against netkit and a real Redis 7.0: the same replies.
#[test]
fn answers_as_redis_does() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let mut r = redis.conn();
    let kv = Kv::memory();
    let mut n = kv.conn();
    let setup: &[&[&str]] = &[
        &[
            "RPUSH", "l", "3", "1", "2", "10", "1.5", "-inf", " 7", "0x10",
        ],
        &["RPUSH", "words", "b", "a", "c", "", "aa", "ab"],
        &["SADD", "s", "5", "3", "9", "1"],
        &["SADD", "sw", "x", "y", "z", "w"],
        &[
            "ZADD", "z", "1", "a", "5", "b", "2", "c", "10", "d", "3", "e",
        ],
        &["MSET", "w_x", "3", "w_y", "1", "w_z", "2", "n_x", "bad"],
        &["HSET", "h_x", "f", "b", "g", "1"],
        &["HSET", "h_y", "f", "a"],
        &["HSET", "h_z", "f", "c"],
        &["SET", "str", "v"],
        &["SET", "x:a->", "100"],
    ];
    for cmd in setup {
        assert_eq!(n.call(cmd), r.call(cmd), "{cmd:?}");
    }
    let cases: &[&[&str]] = &[
        &["SORT", "l"],
        &["SORT", "l", "DESC"],
        // ALPHA without STORE collates by the server's locale (strcoll); with
        // STORE by bytes, as netkit always does.
        &["SORT", "l", "ALPHA", "STORE", "dst"],
        &["LRANGE", "dst", "0", "-1"],
        &["SORT", "l", "LIMIT", "2", "3"],
        &["SORT", "l", "LIMIT", "-5", "3", "DESC"],
        &["SORT", "l", "BY", "nosort"],
        &["SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "3"],
        &["SORT", "l", "BY", "nosort", "GET", "#", "GET", "nope_*"],
        &["SORT", "words"],
        &["SORT", "words", "ALPHA"],
        &["SORT", "words", "ALPHA", "DESC", "LIMIT", "0", "2"],
        &["SORT", "s"],
        &["SORT", "s", "DESC", "LIMIT", "1", "2"],
        &["SORT", "s", "BY", "_", "STORE", "dst"],
        &["LRANGE", "dst", "0", "-1"],
        &["SORT", "sw", "BY", "w_*"],
        &["SORT", "sw", "BY", "w_*", "DESC"],
        &["SORT", "sw", "BY", "n_*"],
        &["SORT", "sw", "BY", "h_*->f", "ALPHA"],
        &["SORT", "sw", "BY", "h_*->f", "ALPHA", "DESC"],
        &["SORT", "sw", "BY", "h_*->g"],
        &[
            "SORT", "sw", "ALPHA", "GET", "#", "GET", "w_*", "GET", "h_*->f", "GET", "str",
        ],
        &["SORT", "sw", "ALPHA", "GET", "h_*->f", "STORE", "dst"],
        &["LRANGE", "dst", "0", "-1"],
        &["SORT", "z"],
        &["SORT", "z", "ALPHA"],
        &["SORT", "z", "BY", "nosort", "DESC"],
        &["SORT", "z", "BY", "nosort", "LIMIT", "1", "2"],
        &[
            "SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "2", "STORE", "dst",
        ],
        &["LRANGE", "dst", "0", "-1"],
        &["SORT", "str"],
        &["SORT", "nokey"],
        &["SORT", "nokey", "STORE", "dst"],
        &["EXISTS", "dst"],
        &["SORT", "l", "LIMIT", "1"],
        &["SORT", "l", "LIMIT", "a", "1"],
        &["SORT", "l", "BOGUS"],
        &["SORT_RO", "l", "STORE", "x"],
        &["SORT_RO", "words", "BY", "nosort", "GET", "x:*->"],
        &["SORT", "words", "BY", "x", "GET", "x:*->"],
        &["SORT"],
        &[
            "COMMAND", "GETKEYS", "SORT", "abc", "STORE", "a", "STORE", "def",
        ],
        &[
            "COMMAND", "GETKEYS", "SORT", "abc", "GET", "store", "BY", "store",
        ],
        &["COMMAND", "GETKEYS", "SORT_RO", "abc"],
        &[
            "EVAL",
            "return redis.call('sort', KEYS[1], 'by', '_', 'get', '#', 'get', '_:*')",
            "1",
            "sw",
        ],
        &[
            "EVAL",
            "return redis.call('sort', KEYS[1], 'desc')",
            "1",
            "s",
        ],
    ];
    for cmd in cases {
        assert_eq!(n.call(cmd), r.call(cmd), "{cmd:?}");
    }
    // Scores read as C's strtod reads them, the whole string or an error.
    // Redis checks errno == ERANGE without clearing it first, so once an
    // out-of-range score was read every later SORT fails there too: those
    // cases come last, the subnormal one first.
    for x in [
        "0x1p3",
        "0X1P-2",
        "0x1.8p1",
        "0x",
        "0xg",
        " 7",
        "7 ",
        "\t7",
        "\u{b}7",
        "",
        "inf",
        "-Infinity",
        "infinit",
        "nan",
        "+.5",
        "5.",
        ".",
        "1e",
        "1e+2",
        "1_0",
        "--1",
        "+-1",
        "0.0000001",
        "-0",
        "4e-320",
        "1e-400",
        "1e400",
    ] {
        n.call(&["DEL", "t"]);
        r.call(&["DEL", "t"]);
        let cmd = ["RPUSH", "t", x, "1", "-1"];
        assert_eq!(n.call(&cmd), r.call(&cmd), "{cmd:?}");
        assert_eq!(n.call(&["SORT", "t"]), r.call(&["SORT", "t"]), "{x:?}");
    }
    // Sorting floats with a bad one: the same error.
    for cmd in [
        &["RPUSH", "f", "1", "x"][..],
        &["SORT", "f"],
        &["SORT", "f", "STORE", "g"],
        &["EXISTS", "g"],
    ] {
        assert_eq!(n.call(cmd), r.call(cmd), "{cmd:?}");
    }
}
