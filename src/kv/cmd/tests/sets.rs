use super::{NIL, OK, T, WT, arr, bulk, int};

fn sorted_members(reply: &str) -> Vec<String> {
    let mut v: Vec<String> = reply
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty() && !l.starts_with('$') && !l.starts_with('*'))
        .map(String::from)
        .collect();
    v.sort();
    v
}

#[test]
fn membership() {
    let mut t = T::new();
    assert_eq!(t.r(&["SADD", "s", "a", "b", "a"]), int(2));
    assert_eq!(t.r(&["SADD", "s", "b", "c"]), int(1));
    assert_eq!(t.r(&["SCARD", "s"]), int(3));
    assert_eq!(t.r(&["SISMEMBER", "s", "a"]), int(1));
    assert_eq!(t.r(&["SISMEMBER", "s", "z"]), int(0));
    assert_eq!(t.r(&["SMISMEMBER", "s", "a", "z"]), "*2\r\n:1\r\n:0\r\n");
    assert_eq!(t.r(&["SMISMEMBER", "nokey", "a"]), "*1\r\n:0\r\n");
    assert_eq!(sorted_members(&t.r(&["SMEMBERS", "s"])), ["a", "b", "c"]);
    assert_eq!(t.r(&["SREM", "s", "a", "z"]), int(1));
    assert_eq!(t.r(&["SREM", "nokey", "a"]), int(0));
    assert_eq!(t.r(&["SMEMBERS", "nokey"]), "*0\r\n");
    t.resp3();
    assert!(t.r(&["SMEMBERS", "s"]).starts_with("~2\r\n"));
    assert_eq!(t.r(&["SMEMBERS", "nokey"]), "~0\r\n");
}

#[test]
fn spop_srandmember_smove() {
    let mut t = T::new();
    t.r(&["SADD", "s", "a"]);
    assert_eq!(t.r(&["SRANDMEMBER", "s"]), bulk("a"));
    assert_eq!(t.r(&["SRANDMEMBER", "s", "-3"]), arr(&["a", "a", "a"]));
    assert_eq!(t.r(&["SRANDMEMBER", "s", "3"]), arr(&["a"]));
    assert_eq!(t.r(&["SRANDMEMBER", "nokey"]), NIL);
    assert_eq!(t.r(&["SRANDMEMBER", "nokey", "2"]), "*0\r\n");
    assert_eq!(t.r(&["SPOP", "s"]), bulk("a"));
    assert_eq!(t.r(&["EXISTS", "s"]), int(0));
    assert_eq!(t.r(&["SPOP", "s"]), NIL);
    assert_eq!(t.r(&["SPOP", "s", "2"]), "*0\r\n");
    assert_eq!(
        t.r(&["SPOP", "s", "-1"]),
        "-ERR value is out of range, must be positive\r\n"
    );
    t.r(&["SADD", "s", "1", "2", "3", "4"]);
    assert_eq!(
        sorted_members(&t.r(&["SPOP", "s", "10"])),
        ["1", "2", "3", "4"]
    );
    t.r(&["SADD", "s", "1", "2", "3", "4"]);
    assert_eq!(sorted_members(&t.r(&["SPOP", "s", "3"])).len(), 3);
    assert_eq!(t.r(&["SCARD", "s"]), int(1));
    t.r(&["SADD", "a", "x", "y"]);
    assert_eq!(t.r(&["SMOVE", "a", "b", "x"]), int(1));
    assert_eq!(t.r(&["SMOVE", "a", "b", "x"]), int(0));
    assert_eq!(t.r(&["SMOVE", "a", "a", "y"]), int(1));
    assert_eq!(t.r(&["SMOVE", "nokey", "b", "y"]), int(0));
    assert_eq!(t.r(&["SMEMBERS", "b"]), arr(&["x"]));
    t.r(&["SET", "str", "v"]);
    assert_eq!(t.r(&["SMOVE", "a", "str", "y"]), WT);
    assert_eq!(t.r(&["SMOVE", "str", "a", "y"]), WT);
}

#[test]
fn algebra() {
    let mut t = T::new();
    t.r(&["SADD", "k1", "a", "b", "c", "d"]);
    t.r(&["SADD", "k2", "c"]);
    t.r(&["SADD", "k3", "a", "c", "e"]);
    assert_eq!(t.r(&["SINTER", "k1", "k2", "k3"]), arr(&["c"]));
    assert_eq!(t.r(&["SINTER", "k1", "nokey"]), "*0\r\n");
    assert_eq!(
        sorted_members(&t.r(&["SUNION", "k1", "k2", "k3", "nokey"])),
        ["a", "b", "c", "d", "e"]
    );
    assert_eq!(
        sorted_members(&t.r(&["SDIFF", "k1", "k2", "k3"])),
        ["b", "d"]
    );
    assert_eq!(t.r(&["SDIFF", "nokey", "k1"]), "*0\r\n");
    assert_eq!(t.r(&["SINTERSTORE", "dst", "k1", "k3"]), int(2));
    assert_eq!(sorted_members(&t.r(&["SMEMBERS", "dst"])), ["a", "c"]);
    assert_eq!(t.r(&["SUNIONSTORE", "dst", "k2"]), int(1));
    assert_eq!(t.r(&["SDIFFSTORE", "dst", "k2", "k1"]), int(0));
    assert_eq!(t.r(&["EXISTS", "dst"]), int(0));
    // A STORE replaces a key of any type.
    t.r(&["SET", "str", "x"]);
    assert_eq!(t.r(&["SUNIONSTORE", "str", "k2"]), int(1));
    assert_eq!(t.r(&["TYPE", "str"]), "+set\r\n");
    assert_eq!(t.r(&["SINTERCARD", "2", "k1", "k3"]), int(2));
    assert_eq!(t.r(&["SINTERCARD", "2", "k1", "k3", "LIMIT", "1"]), int(1));
    assert_eq!(
        t.r(&["SINTERCARD", "0", "k1"]),
        "-ERR numkeys should be greater than 0\r\n"
    );
    assert_eq!(
        t.r(&["SINTERCARD", "3", "k1"]),
        "-ERR Number of keys can't be greater than number of args\r\n"
    );
    assert_eq!(
        t.r(&["SINTERCARD", "1", "k1", "LIMIT", "-1"]),
        "-ERR LIMIT can't be negative\r\n"
    );
    t.r(&["SET", "s", "x"]);
    // Every source is type-checked, even after an empty one.
    assert_eq!(t.r(&["SINTER", "nokey", "s"]), WT);
    assert_eq!(t.r(&["SUNIONSTORE", "d", "k1", "s"]), WT);
    t.resp3();
    assert_eq!(t.r(&["SINTER", "k1", "k2"]), format!("~1\r\n{}", bulk("c")));
}

#[test]
fn sscan_and_wrong_types() {
    let mut t = T::new();
    t.r(&["SADD", "s", "1", "2", "3"]);
    let r = t.r(&["SSCAN", "s", "0", "MATCH", "2"]);
    assert_eq!(r, format!("*2\r\n{}{}", bulk("0"), arr(&["2"])));
    t.r(&["SET", "str", "x"]);
    for cmd in [
        &["SADD", "str", "a"][..],
        &["SREM", "str", "a"],
        &["SCARD", "str"],
        &["SISMEMBER", "str", "a"],
        &["SMISMEMBER", "str", "a"],
        &["SMEMBERS", "str"],
        &["SPOP", "str"],
        &["SRANDMEMBER", "str"],
        &["SSCAN", "str", "0"],
        &["SINTERCARD", "1", "str"],
    ] {
        assert_eq!(t.r(cmd), WT, "{cmd:?}");
    }
}

// Sets of integers are intsets, listed ascending; the expected replies
// below are redis-server 7.0.15's for the same commands.

#[test]
fn intsets_reply_ascending() {
    let mut t = T::new();
    let enc = |t: &mut T, k: &str| t.r(&["OBJECT", "ENCODING", k]);
    t.r(&["SADD", "s", "10", "-3", "2", "5", "100"]);
    let asc = ["-3", "2", "5", "10", "100"];
    assert_eq!(t.r(&["SMEMBERS", "s"]), arr(&asc));
    assert_eq!(
        t.r(&["SSCAN", "s", "3", "COUNT", "1"]),
        format!("*2\r\n{}{}", bulk("0"), arr(&asc))
    );
    assert_eq!(t.r(&["SORT", "s", "BY", "nosort"]), arr(&asc));
    assert_eq!(t.r(&["SRANDMEMBER", "s", "10"]), arr(&asc));
    assert_eq!(t.r(&["RENAME", "s", "s2"]), OK);
    assert_eq!(t.r(&["COPY", "s2", "s3"]), int(1));
    let payload = t.dump_payload("s3");
    assert_eq!(t.raw(&[b"RESTORE", b"s4", b"0", &payload]), OK);
    for k in ["s2", "s3", "s4"] {
        assert_eq!(t.r(&["SMEMBERS", k]), arr(&asc), "{k}");
        assert_eq!(enc(&mut t, k), bulk("intset"), "{k}");
    }
    // A member that is not an integer in Redis's strict form converts it
    // for good.
    t.r(&["SADD", "s2", "01"]);
    assert_eq!(enc(&mut t, "s2"), bulk("hashtable"));
    t.r(&["SREM", "s2", "01"]);
    assert_eq!(enc(&mut t, "s2"), bulk("hashtable"));

    // The algebra: SINTER lists the smallest set's order; SUNION, SDIFF
    // and the STORE forms build a new set, an intset when it can be.
    t.r(&["SADD", "i", "3", "2"]);
    t.r(&["SADD", "j", "4", "3", "2", "x"]);
    t.r(&["SREM", "j", "x"]);
    assert_eq!(t.r(&["SINTER", "j", "i"]), arr(&["2", "3"]));
    assert_eq!(t.r(&["SUNION", "j", "i"]), arr(&["2", "3", "4"]));
    assert_eq!(t.r(&["SDIFF", "j", "i"]), arr(&["4"]));
    assert_eq!(t.r(&["SUNION", "j"]), arr(&["2", "3", "4"]));
    assert_eq!(t.r(&["SUNIONSTORE", "k", "j"]), int(3));
    assert_eq!(enc(&mut t, "k"), bulk("intset"));
    assert_eq!(t.r(&["SMEMBERS", "k"]), arr(&["2", "3", "4"]));
    // SPOP of everything answers the way SUNION would.
    t.r(&[
        "SADD", "p", "9", "8", "7", "6", "5", "4", "3", "2", "1", "0",
    ]);
    assert_eq!(
        t.r(&["SPOP", "p", "10"]),
        arr(&["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"])
    );
    // Popping most of an intset answers in its order too.
    t.r(&[
        "SADD", "p", "9", "8", "7", "6", "5", "4", "3", "2", "1", "0",
    ]);
    let r = t.r(&["SPOP", "p", "9"]);
    // The bulk strings of the array: every second line after the header.
    let got: Vec<i64> = r
        .split("\r\n")
        .skip(2)
        .step_by(2)
        .filter_map(|l| l.parse().ok())
        .collect();
    let mut sorted = got.clone();
    sorted.sort_unstable();
    assert_eq!((got.len(), got), (9, sorted), "{r}");
}

#[test]
fn sets_convert_where_redis_does() {
    let mut t = T::new();
    let enc = |t: &mut T, k: &str| t.r(&["OBJECT", "ENCODING", k]);
    t.r(&["SADD", "a", "x", "1"]);
    assert_eq!(enc(&mut t, "a"), bulk("hashtable"));
    t.r(&["SADD", "b", "1", "x"]);
    assert_eq!(enc(&mut t, "b"), bulk("hashtable"));
    assert_eq!(t.r(&["CONFIG", "SET", "set-max-intset-entries", "3"]), OK);
    t.r(&["SADD", "c", "1", "2", "3"]);
    assert_eq!(enc(&mut t, "c"), bulk("intset"));
    t.r(&["SADD", "c", "3"]);
    assert_eq!(enc(&mut t, "c"), bulk("intset"));
    t.r(&["SADD", "c", "4"]);
    assert_eq!(enc(&mut t, "c"), bulk("hashtable"));
    // SMOVE creates its destination from the member it moves.
    t.r(&["SADD", "d", "5", "y"]);
    t.r(&["SMOVE", "d", "e", "5"]);
    t.r(&["SMOVE", "d", "f", "y"]);
    assert_eq!(enc(&mut t, "e"), bulk("intset"));
    assert_eq!(enc(&mut t, "f"), bulk("hashtable"));
    // A built set past the limit is a hashtable.
    t.r(&["SADD", "g", "1", "2"]);
    t.r(&["SADD", "h", "3", "4"]);
    assert_eq!(t.r(&["SUNIONSTORE", "gh", "g", "h"]), int(4));
    assert_eq!(enc(&mut t, "gh"), bulk("hashtable"));
    // RESTORE checks the limits in force.
    t.r(&["CONFIG", "SET", "set-max-intset-entries", "512"]);
    t.r(&["SADD", "r", "3", "1", "2"]);
    let payload = t.dump_payload("r");
    t.r(&["CONFIG", "SET", "set-max-intset-entries", "2"]);
    assert_eq!(t.raw(&[b"RESTORE", b"r2", b"0", &payload]), OK);
    assert_eq!(enc(&mut t, "r2"), bulk("hashtable"));
}
