use super::{NIL, OK, T, WT, arr, bulk, int};

#[test]
fn hset_hget_and_friends() {
    let mut t = T::new();
    assert_eq!(t.r(&["HSET", "h", "f1", "v1", "f2", "v2"]), int(2));
    assert_eq!(t.r(&["HSET", "h", "f1", "x"]), int(0));
    assert_eq!(t.r(&["HGET", "h", "f1"]), bulk("x"));
    assert_eq!(t.r(&["HGET", "h", "nope"]), NIL);
    assert_eq!(t.r(&["HGET", "nokey", "f"]), NIL);
    assert_eq!(
        t.r(&["HSET", "h", "f3"]),
        "-ERR wrong number of arguments for 'hset' command\r\n"
    );
    assert_eq!(
        t.r(&["HMSET", "h", "f3", "v3", "f4"]),
        "-ERR wrong number of arguments for 'hmset' command\r\n"
    );
    assert_eq!(t.r(&["HMSET", "h", "f3", "v3"]), OK);
    assert_eq!(
        t.r(&["HMGET", "h", "f1", "nope", "f3"]),
        format!("*3\r\n{}{NIL}{}", bulk("x"), bulk("v3"))
    );
    assert_eq!(t.r(&["HMGET", "nokey", "a"]), format!("*1\r\n{NIL}"));
    assert_eq!(t.r(&["HLEN", "h"]), int(3));
    assert_eq!(t.r(&["HLEN", "nokey"]), int(0));
    assert_eq!(t.r(&["HEXISTS", "h", "f2"]), int(1));
    assert_eq!(t.r(&["HEXISTS", "h", "zz"]), int(0));
    assert_eq!(t.r(&["HSTRLEN", "h", "f3"]), int(2));
    assert_eq!(t.r(&["HSTRLEN", "h", "zz"]), int(0));
    assert_eq!(t.r(&["HSETNX", "h", "f1", "y"]), int(0));
    assert_eq!(t.r(&["HSETNX", "h", "f5", "y"]), int(1));
    assert_eq!(t.r(&["HDEL", "h", "f1", "f2", "nope"]), int(2));
    assert_eq!(t.r(&["HDEL", "h", "f3", "f5"]), int(2));
    // The emptied hash is gone.
    assert_eq!(t.r(&["EXISTS", "h"]), int(0));
    assert_eq!(t.r(&["HDEL", "h", "f3"]), int(0));
}

#[test]
fn whole_hash_replies_in_both_protocols() {
    let mut t = T::new();
    t.r(&["HSET", "h", "f", "v"]);
    assert_eq!(t.r(&["HGETALL", "h"]), arr(&["f", "v"]));
    assert_eq!(t.r(&["HKEYS", "h"]), arr(&["f"]));
    assert_eq!(t.r(&["HVALS", "h"]), arr(&["v"]));
    assert_eq!(t.r(&["HGETALL", "nokey"]), "*0\r\n");
    t.resp3();
    assert_eq!(
        t.r(&["HGETALL", "h"]),
        format!("%1\r\n{}{}", bulk("f"), bulk("v"))
    );
    assert_eq!(t.r(&["HGETALL", "nokey"]), "%0\r\n");
    assert_eq!(t.r(&["HGET", "h", "x"]), "_\r\n");
}

#[test]
fn counters_and_their_errors() {
    let mut t = T::new();
    assert_eq!(t.r(&["HINCRBY", "h", "n", "5"]), int(5));
    assert_eq!(t.r(&["HINCRBY", "h", "n", "-7"]), int(-2));
    t.r(&["HSET", "h", "s", "abc", "big", "9223372036854775807"]);
    assert_eq!(
        t.r(&["HINCRBY", "h", "s", "1"]),
        "-ERR hash value is not an integer\r\n"
    );
    assert_eq!(
        t.r(&["HINCRBY", "h", "big", "1"]),
        "-ERR increment or decrement would overflow\r\n"
    );
    assert_eq!(
        t.r(&["HINCRBY", "h", "n", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(t.r(&["HINCRBYFLOAT", "h", "f", "10.5"]), bulk("10.5"));
    assert_eq!(t.r(&["HINCRBYFLOAT", "h", "f", "0.1"]), bulk("10.6"));
    assert_eq!(t.r(&["HINCRBYFLOAT", "h", "n", "1.5"]), bulk("-0.5"));
    assert_eq!(
        t.r(&["HINCRBYFLOAT", "h", "s", "1"]),
        "-ERR hash value is not a float\r\n"
    );
    assert_eq!(
        t.r(&["HINCRBYFLOAT", "h", "f", "x"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        t.r(&["HINCRBYFLOAT", "h2", "f", "+inf"]),
        "-ERR value is NaN or Infinity\r\n"
    );
    assert_eq!(t.r(&["EXISTS", "h2"]), int(0));
}

#[test]
fn hrandfield_counts() {
    let mut t = T::new();
    assert_eq!(t.r(&["HRANDFIELD", "nokey"]), NIL);
    assert_eq!(t.r(&["HRANDFIELD", "nokey", "3"]), "*0\r\n");
    t.r(&["HSET", "h", "only", "1"]);
    assert_eq!(t.r(&["HRANDFIELD", "h"]), bulk("only"));
    assert_eq!(t.r(&["HRANDFIELD", "h", "0"]), "*0\r\n");
    assert_eq!(t.r(&["HRANDFIELD", "h", "5"]), arr(&["only"]));
    // A negative count may repeat.
    assert_eq!(t.r(&["HRANDFIELD", "h", "-3"]), arr(&["only"; 3]));
    assert_eq!(
        t.r(&["HRANDFIELD", "h", "-2", "WITHVALUES"]),
        arr(&["only", "1", "only", "1"])
    );
    assert_eq!(
        t.r(&["HRANDFIELD", "h", "1", "WITHVALUE"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        t.r(&["HRANDFIELD", "h", "-9223372036854775808", "WITHVALUES"]),
        "-ERR value is out of range\r\n"
    );
    t.resp3();
    assert_eq!(
        t.r(&["HRANDFIELD", "h", "1", "WITHVALUES"]),
        format!("*1\r\n*2\r\n{}{}", bulk("only"), bulk("1"))
    );
    // Distinct picks cover the hash.
    for i in 0..20 {
        t.r(&["HSET", "big", &format!("f{i}"), "v"]);
    }
    let r = t.r(&["HRANDFIELD", "big", "15"]);
    let mut fields: Vec<&str> = r.split("\r\n").filter(|l| l.starts_with('f')).collect();
    fields.sort();
    fields.dedup();
    assert_eq!(fields.len(), 15, "{r}");
}

#[test]
fn hscan_a_small_hash_in_one_call() {
    let mut t = T::new();
    t.r(&["HSET", "h", "a", "1", "b", "2", "xa", "3"]);
    let r = t.r(&["HSCAN", "h", "0", "MATCH", "x*"]);
    assert_eq!(r, format!("*2\r\n{}{}", bulk("0"), arr(&["xa", "3"])));
    assert_eq!(t.r(&["HSCAN", "h", "x"]), "-ERR invalid cursor\r\n");
    assert_eq!(
        t.r(&["HSCAN", "h", "0", "COUNT", "0"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        t.r(&["HSCAN", "nokey", "0"]),
        format!("*2\r\n{}*0\r\n", bulk("0"))
    );
    // A big hash is walked with a cursor and every field comes back.
    for i in 0..500 {
        t.r(&["HSET", "big", &format!("f{i}"), "v"]);
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let r = t.r(&["HSCAN", "big", &cursor, "COUNT", "50"]);
        let lines: Vec<&str> = r.split("\r\n").collect();
        cursor = lines[2].to_string();
        for l in &lines[3..] {
            if l.starts_with('f') {
                seen.insert(l.to_string());
            }
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 500);
}

#[test]
fn wrong_types_both_ways() {
    let mut t = T::new();
    t.r(&["SET", "s", "x"]);
    t.r(&["HSET", "h", "f", "v"]);
    for cmd in [
        &["HSET", "s", "f", "v"][..],
        &["HGET", "s", "f"],
        &["HMGET", "s", "f"],
        &["HGETALL", "s"],
        &["HDEL", "s", "f"],
        &["HLEN", "s"],
        &["HINCRBY", "s", "f", "1"],
        &["HINCRBYFLOAT", "s", "f", "1"],
        &["HRANDFIELD", "s"],
        &["HSCAN", "s", "0"],
        &["HSETNX", "s", "f", "v"],
        &["HSTRLEN", "s", "f"],
        &["HEXISTS", "s", "f"],
        &["HKEYS", "s"],
        &["HVALS", "s"],
        &["GET", "h"],
        &["INCR", "h"],
        &["APPEND", "h", "x"],
    ] {
        assert_eq!(t.r(cmd), WT, "{cmd:?}");
    }
}

// Small hashes are listpacks in insertion order; the expected replies below
// are redis-server 7.0.15's for the same commands.

#[test]
fn small_hashes_reply_in_insertion_order() {
    let mut t = T::new();
    t.r(&[
        "HSET", "h", "z", "1", "a", "2", "m", "3", "b", "4", "c", "5",
    ]);
    t.r(&["HDEL", "h", "a"]);
    // An existing field keeps its place; a new one goes last.
    t.r(&["HSET", "h", "a", "7", "z", "0"]);
    t.r(&["HINCRBY", "h", "m", "1"]);
    t.r(&["HINCRBYFLOAT", "h", "n", "1.5"]);
    t.r(&["HSETNX", "h", "b", "x"]);
    t.r(&["HSETNX", "h", "o", "1"]);
    let all = [
        "z", "0", "m", "4", "b", "4", "c", "5", "a", "7", "n", "1.5", "o", "1",
    ];
    assert_eq!(t.r(&["HGETALL", "h"]), arr(&all));
    assert_eq!(
        t.r(&["HKEYS", "h"]),
        arr(&["z", "m", "b", "c", "a", "n", "o"])
    );
    assert_eq!(
        t.r(&["HVALS", "h"]),
        arr(&["0", "4", "4", "5", "7", "1.5", "1"])
    );
    // HSCAN answers a listpack whole, whatever the cursor and COUNT.
    let whole = format!("*2\r\n{}{}", bulk("0"), arr(&all));
    assert_eq!(t.r(&["HSCAN", "h", "0"]), whole);
    assert_eq!(t.r(&["HSCAN", "h", "7", "COUNT", "1"]), whole);
    assert_eq!(
        t.r(&["HSCAN", "h", "0", "MATCH", "[a-m]*"]),
        format!(
            "*2\r\n{}{}",
            bulk("0"),
            arr(&["m", "4", "b", "4", "c", "5", "a", "7"])
        )
    );
    // Asking for at least every field answers all of them, in order.
    assert_eq!(t.r(&["HRANDFIELD", "h", "100", "WITHVALUES"]), arr(&all));
    // The order travels with the value.
    assert_eq!(t.r(&["RENAME", "h", "h2"]), OK);
    assert_eq!(t.r(&["COPY", "h2", "h3"]), int(1));
    assert_eq!(t.r(&["MOVE", "h3", "1"]), int(1));
    let payload = t.dump_payload("h2");
    let restored = t.raw(&[b"RESTORE", b"h4", b"0", &payload]);
    assert_eq!(restored, OK);
    for k in ["h2", "h4"] {
        assert_eq!(t.r(&["HGETALL", k]), arr(&all), "{k}");
    }
    t.r(&["SELECT", "1"]);
    assert_eq!(t.r(&["HGETALL", "h3"]), arr(&all));
    assert_eq!(t.r(&["DEBUG", "RELOAD"]), OK);
    assert_eq!(t.r(&["HGETALL", "h3"]), arr(&all));
}

#[test]
fn hrandfield_picks_a_listpack_like_redis() {
    let mut t = T::new();
    let names: Vec<String> = (0..30).rev().map(|i| format!("f{i:02}")).collect();
    for f in &names {
        t.r(&["HSET", "h", f, "v"]);
    }
    // Up to a third of it: distinct fields, in the listpack's order
    // (Redis's lpRandomPairsUnique); more: distinct, in any order.
    for n in ["1", "5", "10", "20", "29"] {
        for _ in 0..20 {
            let r = t.r(&["HRANDFIELD", "h", n]);
            let got: Vec<&str> = r.split("\r\n").filter(|l| l.starts_with('f')).collect();
            let mut set = got.clone();
            set.sort_unstable_by(|a, b| b.cmp(a));
            set.dedup();
            assert_eq!(set.len().to_string(), n, "{r}");
            if n != "20" && n != "29" {
                assert_eq!(got, set, "listpack order: {r}");
            }
        }
    }
    // A negative count picks with repeats.
    let r = t.r(&["HRANDFIELD", "h", "-100"]);
    assert_eq!(r.split("\r\n").filter(|l| l.starts_with('f')).count(), 100);
}

#[test]
fn hashes_convert_where_redis_does_and_stay_converted() {
    let mut t = T::new();
    let enc = |t: &mut T, k: &str| t.r(&["OBJECT", "ENCODING", k]);
    // The old ziplist names set the same limits.
    assert_eq!(t.r(&["CONFIG", "SET", "hash-max-ziplist-entries", "4"]), OK);
    t.r(&["HSET", "t", "a", "1", "b", "2", "c", "3", "d", "4"]);
    t.r(&["HSET", "t", "a", "5"]);
    assert_eq!(enc(&mut t, "t"), bulk("listpack"));
    t.r(&["HSET", "t", "e", "5"]);
    assert_eq!(enc(&mut t, "t"), bulk("hashtable"));
    t.r(&["HDEL", "t", "e", "a", "b"]);
    assert_eq!(enc(&mut t, "t"), bulk("hashtable"));
    // Lowering a limit converts nothing until the next write, any write
    // that sets a field (an update too), as in Redis.
    t.r(&["HSET", "u", "a", "1", "b", "2", "c", "3", "d", "4"]);
    t.r(&["CONFIG", "SET", "hash-max-listpack-entries", "2"]);
    t.r(&["HDEL", "u", "a"]);
    assert_eq!(enc(&mut t, "u"), bulk("listpack"));
    assert_eq!(t.r(&["HGETALL", "u"]), arr(&["b", "2", "c", "3", "d", "4"]));
    t.r(&["HSET", "u", "b", "9"]);
    assert_eq!(enc(&mut t, "u"), bulk("hashtable"));
    // Every argument of a write is measured against the value limit.
    t.r(&["CONFIG", "SET", "hash-max-listpack-entries", "128"]);
    assert_eq!(t.r(&["CONFIG", "SET", "hash-max-ziplist-value", "3"]), OK);
    t.r(&["HSET", "v", "a", "1"]);
    assert_eq!(t.r(&["HSETNX", "v", "a", "12345"]), int(0));
    assert_eq!(enc(&mut t, "v"), bulk("listpack"));
    t.r(&["HGET", "v", "abcdef"]);
    assert_eq!(enc(&mut t, "v"), bulk("listpack"));
    assert_eq!(t.r(&["HSETNX", "v", "c", "12345"]), int(1));
    assert_eq!(enc(&mut t, "v"), bulk("hashtable"));
    t.r(&["HSET", "w", "a", "1"]);
    t.r(&["HINCRBY", "w", "abcd", "1"]);
    assert_eq!(enc(&mut t, "w"), bulk("hashtable"));
    t.r(&["HSET", "x", "a", "999"]);
    t.r(&["HINCRBY", "x", "a", "1"]);
    assert_eq!(enc(&mut t, "x"), bulk("hashtable"));
    // RESTORE checks the limits in force.
    t.r(&["CONFIG", "SET", "hash-max-listpack-value", "64"]);
    t.r(&["HSET", "y", "z", "1", "a", "2", "m", "3"]);
    let payload = t.dump_payload("y");
    t.r(&["CONFIG", "SET", "hash-max-listpack-entries", "2"]);
    assert_eq!(t.raw(&[b"RESTORE", b"y2", b"0", &payload]), OK);
    assert_eq!(enc(&mut t, "y2"), bulk("hashtable"));
    t.r(&["CONFIG", "SET", "hash-max-listpack-entries", "3"]);
    assert_eq!(t.raw(&[b"RESTORE", b"y3", b"0", &payload]), OK);
    assert_eq!(enc(&mut t, "y3"), bulk("listpack"));
    assert_eq!(t.r(&["HKEYS", "y3"]), arr(&["z", "a", "m"]));
}
