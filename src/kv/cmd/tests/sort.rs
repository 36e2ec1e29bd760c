//! SORT and SORT_RO against Redis 7.0's replies (sort.c, tests/unit/sort.tcl
//! and the SORT cases of multi.tcl and scripting.tcl).

use super::super::sort::{Pattern, clamp_limit, parse, score, sort_keys};
use super::{NIL, OK, T, WT, arr, bulk, int};
use crate::kv::cmd::{Ctx, dispatch};
use crate::kv::shared::Msg;
use crate::kv::store::{Store, now_ms};

const BAD_DOUBLE: &str = "-ERR One or more scores can't be converted into double\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";

/// An array of bulk strings and nulls (`None`).
fn arr_opt(items: &[Option<&str>]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        match i {
            Some(v) => s.push_str(&bulk(v)),
            None => s.push_str(NIL),
        }
    }
    s
}

/// Run one command with the clock at `now` (ms), to see expiry without sleeping.
fn at(t: &mut T, now: u64, args: &[&str]) -> String {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    let mut round = t.sh.store.round(&mut t.batch);
    let mut ctx = Ctx {
        ks: round.ks(now),
        sess: &mut t.sess,
        out: &mut t.out,
        srv: &t.sh,
        outbox: &mut t.outbox,
        calls: &t.sh.calls[0],
        refuse_writes: None,
        interrupt: None,
    };
    dispatch(&mut ctx, &a);
    round.commit().expect("commit");
    String::from_utf8_lossy(&std::mem::take(&mut t.out.buf)).into_owned()
}

#[test]
fn options_parse_as_redis_reads_them() {
    let a: Vec<&[u8]> = [
        "SORT", "k", "BY", "w_*", "LIMIT", "1", "2", "GET", "#", "GET", "x_*", "DESC", "ALPHA",
        "ASC", "STORE", "d1", "STORE", "d2",
    ]
    .iter()
    .map(|s| s.as_bytes())
    .collect();
    let o = parse(&a, false).expect("parses");
    assert_eq!(o.by, Some(&b"w_*"[..]));
    assert!(!o.dontsort);
    assert_eq!(o.limit, (1, 2));
    assert_eq!(o.gets, [&b"#"[..], b"x_*"]);
    assert!(!o.desc && o.alpha);
    assert_eq!(o.store, Some(&b"d2"[..]));
    // SORT_RO has no STORE; LIMIT wants two integers; BY without * sorts nothing.
    assert_eq!(parse(&a, true), Err("ERR syntax error"));
    let p = |v: &[&str]| {
        let v: Vec<&[u8]> = v.iter().map(|s| s.as_bytes()).collect();
        parse(&v, false).map(|o| (o.dontsort, o.limit))
    };
    assert_eq!(p(&["SORT", "k", "LIMIT", "1"]), Err("ERR syntax error"));
    assert_eq!(
        p(&["SORT", "k", "LIMIT", "x", "1"]),
        Err("ERR value is not an integer or out of range")
    );
    assert_eq!(p(&["SORT", "k", "STORE"]), Err("ERR syntax error"));
    assert_eq!(p(&["SORT", "k", "BY", "nosort"]), Ok((true, (0, -1))));
    assert_eq!(p(&["SORT", "k", "bogus"]), Err("ERR syntax error"));
}

#[test]
fn scores_read_as_strtod() {
    assert_eq!(score(b"1.5"), Some(1.5));
    assert_eq!(score(b" \t-2e3"), Some(-2000.0));
    assert_eq!(score(b"+.5"), Some(0.5));
    assert_eq!(score(b"inf"), Some(f64::INFINITY));
    assert_eq!(score(b"-Infinity"), Some(f64::NEG_INFINITY));
    assert_eq!(score(b"0x1p4"), Some(16.0));
    assert_eq!(score(b"0x.8"), Some(0.5));
    assert_eq!(score(b""), Some(0.0));
    assert_eq!(score(b"7\0junk"), Some(7.0));
    for bad in [
        &b"not-a-double"[..],
        b"1 ",
        b"   ",
        b"nan",
        b"1e400",
        b"1e-400",
        b"0x",
        b"0x1p",
        b"1e",
        b"--1",
    ] {
        assert_eq!(score(bad), None, "{}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn patterns_and_limits() {
    assert_eq!(Pattern::new(b"#"), Pattern::Elem);
    assert_eq!(Pattern::new(b"const"), Pattern::Nothing);
    assert_eq!(
        Pattern::new(b"w_*->f->g"),
        Pattern::Key {
            pre: b"w_",
            post: b"",
            field: Some(b"f->g")
        }
    );
    // `->` with no field after it is part of the key name; only the first * counts.
    assert_eq!(
        Pattern::new(b"x:*->"),
        Pattern::Key {
            pre: b"x:",
            post: b"->",
            field: None
        }
    );
    assert_eq!(
        Pattern::new(b"a*b*"),
        Pattern::Key {
            pre: b"a",
            post: b"b*",
            field: None
        }
    );
    assert_eq!(clamp_limit(5, 0, -1), (0, 4));
    assert_eq!(clamp_limit(5, -10, 100), (0, 4));
    assert_eq!(clamp_limit(5, 5, 10), (4, 3));
    assert_eq!(clamp_limit(3, 2, i64::MAX), (2, 2));
    assert_eq!(clamp_limit(3, i64::MIN, i64::MIN), (0, 2));
    assert_eq!(clamp_limit(3, 1, 0), (1, 0));
    assert_eq!(clamp_limit(0, 0, -1), (-1, -2));
}

#[test]
fn numeric_alpha_desc_limit() {
    let mut t = T::new();
    for x in [
        "1.1", "5.10", "3.10", "7.44", "2.1", "5.75", "6.12", "0.25", "1.15",
    ] {
        t.r(&["LPUSH", "floats", x]);
    }
    assert_eq!(
        t.r(&["SORT", "floats"]),
        arr(&[
            "0.25", "1.1", "1.15", "2.1", "3.10", "5.10", "5.75", "6.12", "7.44"
        ])
    );
    t.r(&["RPUSH", "l", "2", "1", "3", "10"]);
    assert_eq!(t.r(&["SORT", "l"]), arr(&["1", "2", "3", "10"]));
    assert_eq!(t.r(&["SORT", "l", "DESC"]), arr(&["10", "3", "2", "1"]));
    assert_eq!(t.r(&["SORT", "l", "ALPHA"]), arr(&["1", "10", "2", "3"]));
    assert_eq!(t.r(&["SORT", "l", "LIMIT", "1", "2"]), arr(&["2", "3"]));
    assert_eq!(
        t.r(&["SORT", "l", "LIMIT", "-10", "100"]),
        arr(&["1", "2", "3", "10"])
    );
    assert_eq!(t.r(&["SORT", "l", "LIMIT", "4", "10"]), "*0\r\n");
    assert_eq!(t.r(&["SORT", "l", "LIMIT", "0", "0"]), "*0\r\n");
    assert_eq!(
        t.r(&["SORT_RO", "l", "LIMIT", "2", "9223372036854775807"]),
        arr(&["3", "10"])
    );
    assert_eq!(t.r(&["SORT", "nokey"]), "*0\r\n");
    // Equal scores: ordered by the elements' bytes.
    t.r(&["SADD", "eq", "b", "a", "c"]);
    t.r(&["MSET", "s_a", "1", "s_b", "1", "s_c", "1"]);
    assert_eq!(t.r(&["SORT", "eq", "BY", "s_*"]), arr(&["a", "b", "c"]));
    assert_eq!(
        t.r(&["SORT", "eq", "BY", "s_*", "DESC"]),
        arr(&["c", "b", "a"])
    );
    // Sorted sets sort by their members, not their scores.
    t.r(&[
        "ZADD", "z", "1", "a", "5", "b", "2", "c", "10", "d", "3", "e",
    ]);
    assert_eq!(
        t.r(&["SORT", "z", "ALPHA", "DESC"]),
        arr(&["e", "d", "c", "b", "a"])
    );
}

#[test]
fn errors() {
    let mut t = T::new();
    t.r(&["SADD", "s", "1", "2", "3", "4", "not-a-double"]);
    assert_eq!(t.r(&["SORT", "s"]), BAD_DOUBLE);
    assert_eq!(t.r(&["SORT", "s", "STORE", "d"]), BAD_DOUBLE);
    assert_eq!(t.r(&["EXISTS", "d"]), int(0));
    t.r(&["SREM", "s", "not-a-double"]);
    t.r(&[
        "MSET", "score:1", "10", "score:2", "20", "score:3", "30", "score:4", "x",
    ]);
    assert_eq!(t.r(&["SORT", "s", "BY", "score:*"]), BAD_DOUBLE);
    t.r(&["SET", "str", "v"]);
    t.r(&["HSET", "h", "f", "v"]);
    assert_eq!(t.r(&["SORT", "str"]), WT);
    assert_eq!(t.r(&["SORT_RO", "h"]), WT);
    // Options first, then the key's type.
    assert_eq!(t.r(&["SORT", "str", "LIMIT", "a", "b"]), NOT_INT);
    assert_eq!(t.r(&["SORT_RO", "s", "STORE", "d"]), SYNTAX);
    assert_eq!(t.r(&["SORT", "s", "GET"]), SYNTAX);
    assert_eq!(
        t.r(&["SORT"]),
        "-ERR wrong number of arguments for 'sort' command\r\n"
    );
}

#[test]
fn by_and_get_patterns() {
    let mut t = T::new();
    t.r(&["RPUSH", "l", "1", "2", "3"]);
    t.r(&["MSET", "w_1", "30", "w_2", "10", "w_3", "20"]);
    t.r(&["HSET", "o_1", "w", "3", "name", "one"]);
    t.r(&["HSET", "o_2", "w", "1", "name", "two"]);
    t.r(&["HSET", "o_3", "w", "2"]);
    assert_eq!(t.r(&["SORT", "l", "BY", "w_*"]), arr(&["2", "3", "1"]));
    assert_eq!(t.r(&["SORT", "l", "BY", "o_*->w"]), arr(&["2", "3", "1"]));
    assert_eq!(
        t.r(&["SORT", "l", "BY", "w_*", "LIMIT", "1", "1"]),
        arr(&["3"])
    );
    assert_eq!(
        t.r(&["SORT", "l", "BY", "o_*->name", "ALPHA"]),
        arr(&["3", "1", "2"]) // a missing weight sorts first
    );
    assert_eq!(
        t.r(&["SORT", "l", "GET", "#", "GET", "w_*", "GET", "o_*->name"]),
        arr_opt(&[
            Some("1"),
            Some("30"),
            Some("one"),
            Some("2"),
            Some("10"),
            Some("two"),
            Some("3"),
            Some("20"),
            None,
        ])
    );
    // No * names no key; a pattern on the wrong type finds nothing.
    assert_eq!(
        t.r(&["SORT", "l", "GET", "w_1"]),
        arr_opt(&[None, None, None])
    );
    assert_eq!(
        t.r(&["SORT", "l", "GET", "o_*", "LIMIT", "0", "1"]),
        arr_opt(&[None])
    );
    // Missing BY weights count as 0.
    assert_eq!(
        t.r(&["SORT", "l", "BY", "nokey_*", "DESC"]),
        arr(&["3", "2", "1"])
    );
    // A trailing -> is part of the key name.
    t.r(&["RPUSH", "m", "a"]);
    t.r(&["SET", "x:a->", "100"]);
    assert_eq!(
        t.r(&["SORT", "m", "BY", "num", "GET", "x:*->"]),
        arr(&["100"])
    );
    assert_eq!(
        t.r(&["SORT_RO", "m", "BY", "nosort", "GET", "x:*->"]),
        arr(&["100"])
    );
    t.resp3();
    assert_eq!(t.r(&["SORT", "m", "ALPHA", "GET", "nokey"]), "*1\r\n_\r\n");
}

#[test]
fn nosort_keeps_native_order() {
    let mut t = T::new();
    t.r(&["LPUSH", "l", "2", "1", "4", "3", "5"]);
    assert_eq!(
        t.r(&["SORT", "l", "BY", "nosort"]),
        arr(&["5", "3", "4", "1", "2"])
    );
    assert_eq!(
        t.r(&["SORT", "l", "BY", "nosort", "DESC"]),
        arr(&["2", "1", "4", "3", "5"])
    );
    assert_eq!(
        t.r(&["SORT", "l", "BY", "nosort", "LIMIT", "1", "2"]),
        arr(&["3", "4"])
    );
    assert_eq!(
        t.r(&["SORT", "l", "BY", "nosort", "LIMIT", "1", "2", "DESC"]),
        arr(&["1", "4"])
    );
    t.r(&[
        "ZADD", "z", "1", "a", "5", "b", "2", "c", "10", "d", "3", "e",
    ]);
    assert_eq!(
        t.r(&["SORT", "z", "BY", "nosort", "ASC"]),
        arr(&["a", "c", "e", "b", "d"])
    );
    assert_eq!(
        t.r(&["SORT", "z", "BY", "nosort", "DESC"]),
        arr(&["d", "b", "e", "c", "a"])
    );
    assert_eq!(
        t.r(&["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "0", "2"]),
        arr(&["d", "b"])
    );
    assert_eq!(
        t.r(&["SORT", "z", "BY", "nosort", "LIMIT", "5", "10"]),
        "*0\r\n"
    );
    assert_eq!(
        t.r(&["SORT", "z", "BY", "nosort", "LIMIT", "-10", "100"]),
        arr(&["a", "c", "e", "b", "d"])
    );
    // In MULTI too.
    t.r(&["MULTI"]);
    t.r(&["SORT", "z", "BY", "nosort", "DESC"]);
    assert_eq!(
        t.r(&["EXEC"]),
        format!("*1\r\n{}", arr(&["d", "b", "e", "c", "a"]))
    );
}

#[test]
fn a_set_by_a_constant_is_ordered_where_it_must_be() {
    let mut t = T::new();
    let members = [
        "a", "b", "c", "d", "e", "f", "g", "h", "i", "l", "m", "n", "o", "p", "q", "r", "s", "t",
        "u", "v", "z", "aa", "aaa", "azz",
    ];
    let mut sadd = vec!["SADD", "myset"];
    sadd.extend(members);
    t.r(&sadd);
    let ordered = arr(&[
        "a", "aa", "aaa", "azz", "b", "c", "d", "e", "f", "g", "h", "i", "l", "m", "n", "o", "p",
        "q", "r", "s", "t", "u", "v", "z",
    ]);
    assert_eq!(
        t.r(&[
            "EVAL",
            "return redis.call('sort',KEYS[1],'by','_')",
            "1",
            "myset"
        ]),
        ordered
    );
    assert_eq!(t.r(&["SORT", "myset", "BY", "_", "STORE", "dst"]), int(24));
    assert_eq!(t.r(&["LRANGE", "dst", "0", "-1"]), ordered);
    // Numeric sorting in scripts is not re-ordered.
    t.r(&["SADD", "nums", "1", "2", "3", "10"]);
    assert_eq!(
        t.r(&[
            "EVAL",
            "return redis.call('sort',KEYS[1],'desc')",
            "1",
            "nums"
        ]),
        "*4\r\n$2\r\n10\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n"
    );
    t.r(&["SADD", "abc", "a", "b", "c"]);
    assert_eq!(
        t.r(&[
            "EVAL",
            "return redis.call('sort',KEYS[1],'by','_','get','#','get','_:*')",
            "1",
            "abc"
        ]),
        arr_opt(&[Some("a"), None, Some("b"), None, Some("c"), None])
    );
    // A plain SORT BY <constant> of a set outputs its members unsorted.
    let r = t.r(&["SORT", "abc", "BY", "_"]);
    assert!(r.starts_with("*3\r\n"), "{r}");
}

#[test]
fn store_writes_a_list_or_deletes() {
    let mut t = T::new();
    t.r(&["RPUSH", "l", "3", "1", "2"]);
    t.r(&["SET", "dst", "old", "EX", "100"]);
    assert_eq!(t.r(&["SORT", "l", "STORE", "dst"]), int(3));
    assert_eq!(t.r(&["LRANGE", "dst", "0", "-1"]), arr(&["1", "2", "3"]));
    assert_eq!(t.r(&["TTL", "dst"]), int(-1));
    // GET patterns: a missing value is stored as "".
    t.r(&["SET", "w_1", "one"]);
    assert_eq!(
        t.r(&["SORT", "l", "GET", "#", "GET", "w_*", "STORE", "dst"]),
        int(6)
    );
    assert_eq!(
        t.r(&["LRANGE", "dst", "0", "-1"]),
        arr(&["1", "one", "2", "", "3", ""])
    );
    // Sorting a list into itself.
    assert_eq!(t.r(&["SORT", "l", "DESC", "STORE", "l"]), int(3));
    assert_eq!(t.r(&["LRANGE", "l", "0", "-1"]), arr(&["3", "2", "1"]));
    // Empty results delete the destination, never create it.
    assert_eq!(t.r(&["SORT", "nokey", "STORE", "dst"]), int(0));
    assert_eq!(t.r(&["EXISTS", "dst"]), int(0));
    assert_eq!(
        t.r(&["SORT", "l", "LIMIT", "10", "10", "STORE", "dst"]),
        int(0)
    );
    assert_eq!(t.r(&["EXISTS", "dst"]), int(0));
}

#[test]
fn store_touches_a_watched_destination_even_when_empty() {
    let mut t = T::new();
    t.r(&["LPUSH", "foo", "bar"]);
    assert_eq!(t.r(&["WATCH", "foo"]), OK);
    assert_eq!(t.r(&["SORT", "emptylist", "STORE", "foo"]), int(0));
    t.r(&["MULTI"]);
    t.r(&["PING"]);
    assert_eq!(t.r(&["EXEC"]), "*-1\r\n");
    // No destination to delete: nothing changed, EXEC runs.
    t.r(&["WATCH", "foo"]);
    assert_eq!(t.r(&["SORT", "emptylist", "STORE", "foo"]), int(0));
    t.r(&["MULTI"]);
    t.r(&["PING"]);
    assert_eq!(t.r(&["EXEC"]), "*1\r\n+PONG\r\n");
}

#[test]
fn store_wakes_a_blocked_pop() {
    let mut a = T::new();
    let mut b = T::client(&a.sh);
    b.r(&["RPUSH", "src", "hello", "hola", "aguacate"]);
    assert_eq!(a.r(&["BLPOP", "dst", "0"]), "");
    assert!(a.sess.blocked.is_some());
    assert_eq!(b.r(&["SORT", "src", "ALPHA", "STORE", "dst"]), int(3));
    let served: Vec<(u64, String)> = b
        .outbox()
        .into_iter()
        .filter_map(|(_, m)| match m {
            Msg::Unblock(id, r) => Some((id, String::from_utf8_lossy(&r).into_owned())),
            _ => None,
        })
        .collect();
    assert_eq!(served, vec![(a.sess.id, arr(&["dst", "aguacate"]))]);
    assert_eq!(b.r(&["LRANGE", "dst", "0", "-1"]), arr(&["hello", "hola"]));
}

#[test]
fn expired_keys_are_gone() {
    let mut t = T::new();
    let now = now_ms();
    t.r(&["RPUSH", "l", "1", "2"]);
    t.r(&["SET", "w_1", "5", "PX", "1000"]);
    t.r(&["SET", "w_2", "3"]);
    assert_eq!(t.r(&["SORT", "l", "BY", "w_*"]), arr(&["2", "1"]));
    // Two seconds on, w_1 has expired: weight 0.
    assert_eq!(
        at(&mut t, now + 2000, &["SORT", "l", "BY", "w_*"]),
        arr(&["1", "2"])
    );
    assert_eq!(
        at(&mut t, now + 2000, &["SORT", "l", "GET", "w_*"]),
        arr_opt(&[None, Some("3")])
    );
    t.r(&["PEXPIRE", "l", "1000"]);
    assert_eq!(at(&mut t, now + 5000, &["SORT", "l"]), "*0\r\n");
    assert_eq!(at(&mut t, now + 5000, &["EXISTS", "l"]), int(0));
}

#[test]
fn command_table_knows_the_keys() {
    let mut t = T::new();
    assert_eq!(
        t.r(&["COMMAND", "GETKEYS", "SORT", "abc", "STORE", "def"]),
        arr(&["abc", "def"])
    );
    assert_eq!(
        t.r(&[
            "COMMAND", "GETKEYS", "SORT", "abc", "STORE", "invalid", "STORE", "stillbad", "STORE",
            "def"
        ]),
        arr(&["abc", "def"])
    );
    assert_eq!(
        t.r(&[
            "COMMAND", "GETKEYS", "SORT", "abc", "GET", "store", "LIMIT", "store", "x"
        ]),
        arr(&["abc"])
    );
    assert_eq!(
        t.r(&["COMMAND", "GETKEYS", "SORT_RO", "abc"]),
        arr(&["abc"])
    );
    let v: Vec<&[u8]> = vec![b"sort", b"k", b"BY", b"store", b"STORE"];
    assert_eq!(sort_keys(&v), [1]);
    let info = t.r(&["COMMAND", "INFO", "SORT", "SORT_RO"]);
    assert!(
        info.contains(
            "$4\r\nsort\r\n:-2\r\n*3\r\n+write\r\n+denyoom\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n"
        ),
        "{info}"
    );
    assert!(
        info.contains(
            "$7\r\nsort_ro\r\n:-2\r\n*2\r\n+readonly\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n"
        ),
        "{info}"
    );
}

#[test]
fn store_is_one_record_and_replays() {
    let path = std::env::temp_dir().join(format!(
        "netkit-kv-unit-sort-{}-{}.aof",
        std::process::id(),
        now_ms()
    ));
    let open = || {
        let (store, opened) =
            Store::open(&path, 16, crate::kv::logfile::Fsync::No).expect("open log");
        (T::with(crate::kv::shared::Config::default(), store), opened)
    };
    let script: &[&[&str]] = &[
        &["RPUSH", "l", "3", "1", "2"],
        &["HSET", "h_1", "f", "x"],
        &[
            "SORT", "l", "GET", "#", "GET", "h_*->f", "DESC", "STORE", "d",
        ],
        &["SET", "gone", "v"],
        &["SORT", "nokey", "STORE", "gone"],
        &["SET", "d2", "v", "EX", "100"],
        &["SORT", "l", "LIMIT", "0", "2", "STORE", "d2"],
    ];
    let before = {
        let (mut t, _) = open();
        for cmd in script {
            let r = t.r(cmd);
            assert!(!r.starts_with('-'), "{cmd:?}: {r}");
        }
        (
            t.r(&["LRANGE", "d", "0", "-1"]),
            t.r(&["LRANGE", "d2", "0", "-1"]),
            t.r(&["TTL", "d2"]),
            t.r(&["DBSIZE"]),
        )
    };
    // Reads (and a SORT that changes nothing) log nothing.
    {
        let (mut t, _) = open();
        t.r(&["SORT", "l"]);
        t.r(&["SORT", "nokey", "STORE", "nothere"]);
    }
    let (mut t, opened) = open();
    assert_eq!(opened.records, script.len() as u64);
    let after = (
        t.r(&["LRANGE", "d", "0", "-1"]),
        t.r(&["LRANGE", "d2", "0", "-1"]),
        t.r(&["TTL", "d2"]),
        t.r(&["DBSIZE"]),
    );
    assert_eq!(after, before);
    assert_eq!(before.0, arr(&["3", "", "2", "", "1", "x"]));
    assert_eq!(before.2, int(-1));
    assert_eq!(before.3, int(4));
    let _ = std::fs::remove_file(&path);
}
