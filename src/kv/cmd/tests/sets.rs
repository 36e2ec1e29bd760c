use super::{NIL, T, WT, arr, bulk, int};

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
