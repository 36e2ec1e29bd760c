use super::{NIL, NIL_ARRAY, T, WT, arr, bulk, int};

#[test]
fn zadd_flags() {
    let mut t = T::new();
    assert_eq!(t.r(&["ZADD", "z", "1", "a", "2", "b"]), int(2));
    assert_eq!(t.r(&["ZADD", "z", "NX", "5", "a", "3", "c"]), int(1));
    assert_eq!(t.r(&["ZSCORE", "z", "a"]), bulk("1"));
    assert_eq!(t.r(&["ZADD", "z", "XX", "5", "a", "9", "new"]), int(0));
    assert_eq!(t.r(&["ZSCORE", "z", "a"]), bulk("5"));
    assert_eq!(t.r(&["ZSCORE", "z", "new"]), NIL);
    assert_eq!(
        t.r(&["ZADD", "z", "CH", "6", "a", "2", "b", "7", "d"]),
        int(2)
    );
    assert_eq!(t.r(&["ZADD", "z", "GT", "CH", "1", "a", "10", "b"]), int(1));
    assert_eq!(t.r(&["ZSCORE", "z", "a"]), bulk("6"));
    assert_eq!(t.r(&["ZADD", "z", "LT", "CH", "1", "a"]), int(1));
    assert_eq!(t.r(&["ZADD", "z", "INCR", "2.5", "a"]), bulk("3.5"));
    assert_eq!(t.r(&["ZADD", "z", "NX", "INCR", "1", "a"]), NIL);
    assert_eq!(t.r(&["ZINCRBY", "z", "-0.5", "a"]), bulk("3"));
    assert_eq!(t.r(&["ZINCRBY", "z", "1", "fresh"]), bulk("1"));
    // One member twice in one ZADD: the last score wins.
    assert_eq!(t.r(&["ZADD", "z2", "1", "m", "2", "m"]), int(1));
    assert_eq!(t.r(&["ZSCORE", "z2", "m"]), bulk("2"));
    assert_eq!(t.r(&["ZADD", "z", "1", "a", "2"]), "-ERR syntax error\r\n");
    assert_eq!(
        t.r(&["ZADD", "z", "NX", "XX", "1", "a"]),
        "-ERR XX and NX options at the same time are not compatible\r\n"
    );
    assert_eq!(
        t.r(&["ZADD", "z", "GT", "LT", "1", "a"]),
        "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"
    );
    assert_eq!(
        t.r(&["ZADD", "z", "INCR", "1", "a", "2", "b"]),
        "-ERR INCR option supports a single increment-element pair\r\n"
    );
    assert_eq!(
        t.r(&["ZADD", "z", "x", "a"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(t.r(&["ZADD", "zinf", "+inf", "a"]), int(1));
    assert_eq!(
        t.r(&["ZINCRBY", "zinf", "-inf", "a"]),
        "-ERR resulting score is not a number (NaN)\r\n"
    );
    assert_eq!(t.r(&["ZADD", "nokey", "XX", "1", "a"]), int(0));
    assert_eq!(t.r(&["EXISTS", "nokey"]), int(0));
}

#[test]
fn scores_ranks_counts_in_both_protocols() {
    let mut t = T::new();
    t.r(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "0.1", "d"]);
    assert_eq!(t.r(&["ZCARD", "z"]), int(4));
    assert_eq!(t.r(&["ZSCORE", "z", "d"]), bulk("0.10000000000000001"));
    assert_eq!(
        t.r(&["ZMSCORE", "z", "a", "nope"]),
        format!("*2\r\n{}{NIL}", bulk("1"))
    );
    assert_eq!(t.r(&["ZRANK", "z", "a"]), int(1));
    assert_eq!(t.r(&["ZREVRANK", "z", "a"]), int(2));
    assert_eq!(t.r(&["ZRANK", "z", "nope"]), NIL);
    assert_eq!(t.r(&["ZCOUNT", "z", "(1", "+inf"]), int(2));
    assert_eq!(
        t.r(&["ZCOUNT", "z", "x", "1"]),
        "-ERR min or max is not a float\r\n"
    );
    t.resp3();
    assert_eq!(t.r(&["ZSCORE", "z", "b"]), ",2\r\n");
    assert_eq!(t.r(&["ZSCORE", "z", "nope"]), "_\r\n");
    t.r(&["ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d"]);
    assert_eq!(t.r(&["ZLEXCOUNT", "lex", "[b", "(d"]), int(2));
    assert_eq!(t.r(&["ZLEXCOUNT", "lex", "-", "+"]), int(4));
    assert_eq!(
        t.r(&["ZLEXCOUNT", "lex", "b", "+"]),
        "-ERR min or max not valid string range item\r\n"
    );
}

#[test]
fn ranges() {
    let mut t = T::new();
    t.r(&[
        "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
    ]);
    assert_eq!(t.r(&["ZRANGE", "z", "1", "2"]), arr(&["b", "c"]));
    assert_eq!(t.r(&["ZRANGE", "z", "0", "1", "REV"]), arr(&["e", "d"]));
    assert_eq!(t.r(&["ZREVRANGE", "z", "0", "1"]), arr(&["e", "d"]));
    assert_eq!(
        t.r(&["ZRANGE", "z", "-2", "-1", "WITHSCORES"]),
        arr(&["d", "4", "e", "5"])
    );
    assert_eq!(
        t.r(&["ZRANGE", "z", "(1", "3", "BYSCORE"]),
        arr(&["b", "c"])
    );
    assert_eq!(
        t.r(&[
            "ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2"
        ]),
        arr(&["d", "c"])
    );
    assert_eq!(
        t.r(&["ZRANGEBYSCORE", "z", "2", "4", "LIMIT", "1", "-1"]),
        arr(&["c", "d"])
    );
    assert_eq!(
        t.r(&["ZRANGEBYSCORE", "z", "2", "4", "LIMIT", "-1", "2"]),
        "*0\r\n"
    );
    assert_eq!(t.r(&["ZREVRANGEBYSCORE", "z", "4", "(2"]), arr(&["d", "c"]));
    assert_eq!(t.r(&["ZRANGE", "z", "[b", "(d", "BYLEX"]), arr(&["b", "c"]));
    assert_eq!(
        t.r(&["ZRANGEBYLEX", "z", "-", "+", "LIMIT", "3", "5"]),
        arr(&["d", "e"])
    );
    assert_eq!(t.r(&["ZREVRANGEBYLEX", "z", "+", "[d"]), arr(&["e", "d"]));
    assert_eq!(
        t.r(&["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"]),
        "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"
    );
    assert_eq!(
        t.r(&["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"]),
        "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"
    );
    assert_eq!(
        t.r(&["ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(t.r(&["ZRANGE", "nokey", "0", "-1"]), "*0\r\n");
    assert_eq!(
        t.r(&["ZRANGESTORE", "dst", "z", "2", "3", "BYSCORE"]),
        int(2)
    );
    assert_eq!(
        t.r(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        arr(&["b", "2", "c", "3"])
    );
    assert_eq!(t.r(&["ZRANGESTORE", "dst", "z", "9", "10"]), int(0));
    assert_eq!(t.r(&["EXISTS", "dst"]), int(0));
    t.resp3();
    assert_eq!(
        t.r(&["ZRANGE", "z", "0", "0", "WITHSCORES"]),
        format!("*1\r\n*2\r\n{},1\r\n", bulk("a"))
    );
}

#[test]
fn removals_and_pops() {
    let mut t = T::new();
    t.r(&[
        "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f",
    ]);
    assert_eq!(t.r(&["ZREM", "z", "a", "nope"]), int(1));
    assert_eq!(t.r(&["ZREMRANGEBYRANK", "z", "0", "0"]), int(1));
    assert_eq!(t.r(&["ZREMRANGEBYSCORE", "z", "(5", "+inf"]), int(1));
    assert_eq!(t.r(&["ZREMRANGEBYLEX", "z", "[e", "+"]), int(1));
    assert_eq!(t.r(&["ZRANGE", "z", "0", "-1"]), arr(&["c", "d"]));
    assert_eq!(t.r(&["ZPOPMIN", "z"]), arr(&["c", "3"]));
    assert_eq!(t.r(&["ZPOPMAX", "z", "5"]), arr(&["d", "4"]));
    assert_eq!(t.r(&["EXISTS", "z"]), int(0));
    assert_eq!(t.r(&["ZPOPMIN", "z"]), "*0\r\n");
    assert_eq!(
        t.r(&["ZPOPMIN", "z", "-1"]),
        "-ERR value is out of range, must be positive\r\n"
    );
    t.r(&["ZADD", "z", "1", "a", "2", "b"]);
    assert_eq!(
        t.r(&["ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "5"]),
        format!(
            "*2\r\n{}*2\r\n{}{}",
            bulk("z"),
            arr(&["b", "2"]),
            arr(&["a", "1"])
        )
    );
    assert_eq!(t.r(&["ZMPOP", "1", "z", "MIN"]), NIL_ARRAY);
    assert_eq!(t.r(&["ZMPOP", "1", "z", "MID"]), "-ERR syntax error\r\n");
    t.r(&["ZADD", "z", "1", "a", "2", "b"]);
    t.resp3();
    assert_eq!(
        t.r(&["ZPOPMIN", "z", "1"]),
        format!("*1\r\n*2\r\n{},1\r\n", bulk("a"))
    );
    assert_eq!(t.r(&["ZPOPMAX", "z"]), format!("*2\r\n{},2\r\n", bulk("b")));
}

#[test]
fn algebra_with_weights_and_aggregates() {
    let mut t = T::new();
    t.r(&["ZADD", "z1", "1", "a", "2", "b"]);
    t.r(&["ZADD", "z2", "10", "b", "20", "c"]);
    t.r(&["SADD", "s", "a", "c"]);
    assert_eq!(t.r(&["ZUNIONSTORE", "u", "2", "z1", "z2"]), int(3));
    assert_eq!(
        t.r(&["ZRANGE", "u", "0", "-1", "WITHSCORES"]),
        arr(&["a", "1", "b", "12", "c", "20"])
    );
    assert_eq!(
        t.r(&[
            "ZINTER",
            "2",
            "z1",
            "z2",
            "WEIGHTS",
            "2",
            "1",
            "AGGREGATE",
            "MAX",
            "WITHSCORES"
        ]),
        arr(&["b", "10"])
    );
    // A plain set counts as scores of 1.
    assert_eq!(
        t.r(&["ZUNION", "2", "z1", "s", "AGGREGATE", "MIN", "WITHSCORES"]),
        arr(&["a", "1", "c", "1", "b", "2"])
    );
    assert_eq!(t.r(&["ZDIFF", "2", "z1", "z2"]), arr(&["a"]));
    assert_eq!(t.r(&["ZDIFFSTORE", "d", "2", "z1", "z1"]), int(0));
    assert_eq!(t.r(&["ZINTERCARD", "2", "z1", "z2"]), int(1));
    assert_eq!(
        t.r(&["ZUNIONSTORE", "u", "0", "z1"]),
        "-ERR at least 1 input key is needed for 'zunionstore' command\r\n"
    );
    assert_eq!(
        t.r(&["ZUNIONSTORE", "u", "3", "z1"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        t.r(&["ZUNION", "2", "z1", "z2", "WEIGHTS", "1", "x"]),
        "-ERR weight value is not a float\r\n"
    );
    assert_eq!(
        t.r(&["ZDIFF", "1", "z1", "WEIGHTS", "1"]),
        "-ERR syntax error\r\n"
    );
    t.r(&["SET", "str", "x"]);
    assert_eq!(t.r(&["ZUNIONSTORE", "u", "2", "z1", "str"]), WT);
    // inf + -inf sums to 0, as Redis.
    t.r(&["ZADD", "pinf", "+inf", "m"]);
    t.r(&["ZADD", "ninf", "-inf", "m"]);
    assert_eq!(
        t.r(&["ZUNION", "2", "pinf", "ninf", "WITHSCORES"]),
        arr(&["m", "0"])
    );
}

#[test]
fn zrandmember_and_zscan() {
    let mut t = T::new();
    t.r(&["ZADD", "z", "1.5", "a"]);
    assert_eq!(t.r(&["ZRANDMEMBER", "z"]), bulk("a"));
    assert_eq!(
        t.r(&["ZRANDMEMBER", "z", "-2", "WITHSCORES"]),
        arr(&["a", "1.5", "a", "1.5"])
    );
    assert_eq!(t.r(&["ZRANDMEMBER", "nokey", "2"]), "*0\r\n");
    assert_eq!(
        t.r(&["ZSCAN", "z", "0"]),
        format!("*2\r\n{}{}", bulk("0"), arr(&["a", "1.5"]))
    );
}

#[test]
fn wrong_types() {
    let mut t = T::new();
    t.r(&["SET", "s", "x"]);
    for cmd in [
        &["ZADD", "s", "1", "a"][..],
        &["ZINCRBY", "s", "1", "a"],
        &["ZSCORE", "s", "a"],
        &["ZMSCORE", "s", "a"],
        &["ZCARD", "s"],
        &["ZCOUNT", "s", "0", "1"],
        &["ZLEXCOUNT", "s", "-", "+"],
        &["ZRANK", "s", "a"],
        &["ZRANGE", "s", "0", "1"],
        &["ZRANGEBYSCORE", "s", "0", "1"],
        &["ZRANGESTORE", "d", "s", "0", "1"],
        &["ZREM", "s", "a"],
        &["ZREMRANGEBYRANK", "s", "0", "1"],
        &["ZPOPMIN", "s"],
        &["BZPOPMAX", "s", "0"],
        &["ZRANDMEMBER", "s"],
        &["ZSCAN", "s", "0"],
        &["ZINTERCARD", "1", "s"],
    ] {
        assert_eq!(t.r(cmd), WT, "{cmd:?}");
    }
}
