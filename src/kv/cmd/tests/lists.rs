use super::{NIL, NIL_ARRAY, OK, T, WT, arr, bulk, int};

#[test]
fn pushes_and_pops_at_both_ends() {
    let mut t = T::new();
    assert_eq!(t.r(&["RPUSH", "l", "a", "b"]), int(2));
    assert_eq!(t.r(&["LPUSH", "l", "x", "y"]), int(4));
    assert_eq!(t.r(&["LRANGE", "l", "0", "-1"]), arr(&["y", "x", "a", "b"]));
    assert_eq!(t.r(&["LPUSHX", "nokey", "a"]), int(0));
    assert_eq!(t.r(&["RPUSHX", "l", "c"]), int(5));
    assert_eq!(t.r(&["EXISTS", "nokey"]), int(0));
    assert_eq!(t.r(&["LPOP", "l"]), bulk("y"));
    assert_eq!(t.r(&["RPOP", "l"]), bulk("c"));
    assert_eq!(t.r(&["LPOP", "l", "2"]), arr(&["x", "a"]));
    assert_eq!(t.r(&["LPOP", "l", "0"]), "*0\r\n");
    assert_eq!(t.r(&["RPOP", "l", "5"]), arr(&["b"]));
    // Emptied: the key is gone; a pop with a count answers a null array.
    assert_eq!(t.r(&["EXISTS", "l"]), int(0));
    assert_eq!(t.r(&["LPOP", "l"]), NIL);
    assert_eq!(t.r(&["LPOP", "l", "2"]), NIL_ARRAY);
    assert_eq!(
        t.r(&["LPOP", "l", "-1"]),
        "-ERR value is out of range, must be positive\r\n"
    );
    assert_eq!(
        t.r(&["LPOP", "l", "1", "2"]),
        "-ERR wrong number of arguments for 'lpop' command\r\n"
    );
    assert_eq!(t.r(&["LLEN", "l"]), int(0));
}

#[test]
fn ranges_indexes_and_edits() {
    let mut t = T::new();
    t.r(&["RPUSH", "l", "a", "b", "c", "b", "d", "b"]);
    assert_eq!(t.r(&["LRANGE", "l", "-2", "100"]), arr(&["d", "b"]));
    assert_eq!(t.r(&["LRANGE", "l", "4", "2"]), "*0\r\n");
    assert_eq!(t.r(&["LRANGE", "nokey", "0", "-1"]), "*0\r\n");
    assert_eq!(
        t.r(&["LRANGE", "l", "a", "1"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(t.r(&["LINDEX", "l", "-1"]), bulk("b"));
    assert_eq!(t.r(&["LINDEX", "l", "99"]), NIL);
    assert_eq!(t.r(&["LSET", "l", "-1", "z"]), OK);
    assert_eq!(t.r(&["LSET", "l", "9", "z"]), "-ERR index out of range\r\n");
    assert_eq!(t.r(&["LSET", "nokey", "0", "z"]), "-ERR no such key\r\n");
    assert_eq!(t.r(&["LINSERT", "l", "BEFORE", "c", "C"]), int(7));
    assert_eq!(t.r(&["LINSERT", "l", "AFTER", "c", "D"]), int(8));
    assert_eq!(t.r(&["LINSERT", "l", "AFTER", "nope", "D"]), int(-1));
    assert_eq!(t.r(&["LINSERT", "nokey", "AFTER", "c", "D"]), int(0));
    assert_eq!(
        t.r(&["LINSERT", "l", "MIDDLE", "c", "D"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        t.r(&["LRANGE", "l", "0", "-1"]),
        arr(&["a", "b", "C", "c", "D", "b", "d", "z"])
    );
    assert_eq!(t.r(&["LREM", "l", "-1", "b"]), int(1));
    assert_eq!(t.r(&["LREM", "l", "0", "nope"]), int(0));
    assert_eq!(
        t.r(&["LRANGE", "l", "0", "-1"]),
        arr(&["a", "b", "C", "c", "D", "d", "z"])
    );
    assert_eq!(t.r(&["LTRIM", "l", "1", "-2"]), OK);
    assert_eq!(
        t.r(&["LRANGE", "l", "0", "-1"]),
        arr(&["b", "C", "c", "D", "d"])
    );
    assert_eq!(t.r(&["LTRIM", "l", "5", "1"]), OK);
    assert_eq!(t.r(&["EXISTS", "l"]), int(0));
}

#[test]
fn lpos_options() {
    let mut t = T::new();
    t.r(&["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
    assert_eq!(t.r(&["LPOS", "l", "c"]), int(2));
    assert_eq!(t.r(&["LPOS", "l", "c", "RANK", "2"]), int(6));
    assert_eq!(t.r(&["LPOS", "l", "c", "RANK", "-1"]), int(7));
    assert_eq!(
        t.r(&["LPOS", "l", "c", "COUNT", "0"]),
        "*3\r\n:2\r\n:6\r\n:7\r\n"
    );
    assert_eq!(
        t.r(&["LPOS", "l", "c", "COUNT", "2", "RANK", "-1"]),
        "*2\r\n:7\r\n:6\r\n"
    );
    assert_eq!(t.r(&["LPOS", "l", "c", "MAXLEN", "2"]), NIL);
    assert_eq!(
        t.r(&["LPOS", "l", "c", "COUNT", "1", "MAXLEN", "2"]),
        "*0\r\n"
    );
    assert_eq!(t.r(&["LPOS", "nokey", "c"]), NIL);
    assert_eq!(
        t.r(&["LPOS", "l", "c", "RANK", "0"]),
        "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"
    );
    assert_eq!(
        t.r(&["LPOS", "l", "c", "COUNT", "-1"]),
        "-ERR COUNT can't be negative\r\n"
    );
    assert_eq!(
        t.r(&["LPOS", "l", "c", "MAXLEN", "-1"]),
        "-ERR MAXLEN can't be negative\r\n"
    );
    assert_eq!(t.r(&["LPOS", "l", "c", "BOGUS"]), "-ERR syntax error\r\n");
}

#[test]
fn lmove_rpoplpush_and_lmpop() {
    let mut t = T::new();
    t.r(&["RPUSH", "src", "a", "b", "c"]);
    assert_eq!(t.r(&["LMOVE", "src", "dst", "LEFT", "RIGHT"]), bulk("a"));
    assert_eq!(t.r(&["RPOPLPUSH", "src", "dst"]), bulk("c"));
    assert_eq!(t.r(&["LRANGE", "dst", "0", "-1"]), arr(&["c", "a"]));
    // Rotation on one list.
    assert_eq!(t.r(&["LMOVE", "dst", "dst", "LEFT", "RIGHT"]), bulk("c"));
    assert_eq!(t.r(&["LRANGE", "dst", "0", "-1"]), arr(&["a", "c"]));
    assert_eq!(t.r(&["LMOVE", "nokey", "dst", "LEFT", "LEFT"]), NIL);
    assert_eq!(
        t.r(&["LMOVE", "src", "dst", "UP", "LEFT"]),
        "-ERR syntax error\r\n"
    );
    t.r(&["SET", "str", "x"]);
    assert_eq!(t.r(&["LMOVE", "src", "str", "LEFT", "LEFT"]), WT);
    assert_eq!(t.r(&["LRANGE", "src", "0", "-1"]), arr(&["b"]));
    assert_eq!(
        t.r(&["LMPOP", "3", "nokey", "src", "dst", "RIGHT", "COUNT", "5"]),
        format!("*2\r\n{}{}", bulk("src"), arr(&["b"]))
    );
    assert_eq!(t.r(&["LMPOP", "1", "nokey", "LEFT"]), NIL_ARRAY);
    assert_eq!(
        t.r(&["LMPOP", "0", "dst", "LEFT"]),
        "-ERR numkeys should be greater than 0\r\n"
    );
    assert_eq!(t.r(&["LMPOP", "5", "dst", "LEFT"]), "-ERR syntax error\r\n");
    assert_eq!(
        t.r(&["LMPOP", "1", "dst", "LEFT", "COUNT", "0"]),
        "-ERR count should be greater than 0\r\n"
    );
    assert_eq!(t.r(&["LMPOP", "2", "str", "dst", "LEFT"]), WT);
}

#[test]
fn wrong_types() {
    let mut t = T::new();
    t.r(&["SET", "s", "x"]);
    t.r(&["RPUSH", "l", "a"]);
    for cmd in [
        &["LPUSH", "s", "a"][..],
        &["RPUSHX", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s", "2"],
        &["LLEN", "s"],
        &["LRANGE", "s", "0", "1"],
        &["LINDEX", "s", "0"],
        &["LSET", "s", "0", "a"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LREM", "s", "0", "a"],
        &["LTRIM", "s", "0", "1"],
        &["LPOS", "s", "a"],
        &["RPOPLPUSH", "s", "l"],
        &["BLPOP", "s", "0"],
        &["BRPOPLPUSH", "s", "l", "0"],
        &["GET", "l"],
        &["SADD", "l", "a"],
        &["HSET", "l", "a", "b"],
        &["ZADD", "l", "1", "a"],
    ] {
        assert_eq!(t.r(cmd), WT, "{cmd:?}");
    }
}
