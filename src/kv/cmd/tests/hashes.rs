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
