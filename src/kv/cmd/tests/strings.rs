use super::{NIL, OK, T, bulk, int};

const WT: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

#[test]
fn set_get_and_options() {
    let mut t = T::new();
    assert_eq!(t.r(&["set", "k", "v"]), OK);
    assert_eq!(t.r(&["GET", "k"]), bulk("v"));
    assert_eq!(t.r(&["GET", "nope"]), NIL);
    assert_eq!(t.r(&["SET", "k", "w", "NX"]), NIL);
    assert_eq!(t.r(&["SET", "k", "w", "XX", "GET"]), bulk("v"));
    assert_eq!(t.r(&["SET", "n", "w", "XX"]), NIL);
    assert_eq!(t.r(&["SET", "n", "w", "NX", "GET"]), NIL);
    assert_eq!(t.r(&["GET", "n"]), bulk("w"));
    assert_eq!(
        t.r(&["SET", "k", "w", "EX", "0"]),
        "-ERR invalid expire time in 'set' command\r\n"
    );
    assert_eq!(
        t.r(&["SET", "k", "w", "EX", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(t.r(&["SET", "k", "w", "BOGUS"]), "-ERR syntax error\r\n");
    assert_eq!(t.r(&["SET", "k", "w", "NX", "XX"]), "-ERR syntax error\r\n");
    assert_eq!(
        t.r(&["SET", "k", "w", "EX", "10", "PX", "10"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(t.r(&["SET", "k", "w", "PX", "100000"]), OK);
    assert_eq!(t.r(&["SET", "k", "x", "KEEPTTL"]), OK);
    let pttl = t.r(&["PTTL", "k"]);
    let ms: i64 = pttl.trim_start_matches(':').trim().parse().unwrap_or(0);
    assert!((99_000..=100_000).contains(&ms), "{pttl}");
    assert_eq!(t.r(&["SET", "k", "x"]), OK);
    assert_eq!(t.r(&["TTL", "k"]), int(-1));
    assert_eq!(
        t.r(&["GET"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
}

#[test]
fn counters() {
    let mut t = T::new();
    assert_eq!(t.r(&["INCR", "n"]), int(1));
    assert_eq!(t.r(&["INCRBY", "n", "41"]), int(42));
    assert_eq!(t.r(&["DECR", "n"]), int(41));
    assert_eq!(t.r(&["DECRBY", "n", "40"]), int(1));
    t.r(&["SET", "s", "abc"]);
    assert_eq!(
        t.r(&["INCR", "s"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    t.r(&["SET", "big", "9223372036854775807"]);
    assert_eq!(
        t.r(&["INCR", "big"]),
        "-ERR increment or decrement would overflow\r\n"
    );
    t.r(&["SET", "sp", " 11"]);
    assert!(
        t.r(&["INCR", "sp"])
            .starts_with("-ERR value is not an integer")
    );
    assert_eq!(t.r(&["INCRBYFLOAT", "f", "10.5"]), bulk("10.5"));
    assert_eq!(t.r(&["INCRBYFLOAT", "f", "0.25"]), bulk("10.75"));
    assert_eq!(
        t.r(&["INCRBYFLOAT", "f", "abc"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        t.r(&["INCRBYFLOAT", "f", "+inf"]),
        "-ERR increment would produce NaN or Infinity\r\n"
    );
    t.r(&["SET", "e", "1", "EX", "100"]);
    t.r(&["INCR", "e"]);
    assert_eq!(t.r(&["TTL", "e"]), int(100), "INCR keeps the TTL");
}

#[test]
fn multi_key_and_variants() {
    let mut t = T::new();
    assert_eq!(t.r(&["MSET", "a", "1", "b", "2"]), OK);
    assert_eq!(
        t.r(&["MSET", "a", "1", "b"]),
        "-ERR wrong number of arguments for 'mset' command\r\n"
    );
    assert_eq!(
        t.r(&["MGET", "a", "zz", "b"]),
        "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n"
    );
    assert_eq!(t.r(&["MSETNX", "a", "9", "c", "3"]), int(0));
    assert_eq!(t.r(&["GET", "c"]), NIL);
    assert_eq!(t.r(&["MSETNX", "c", "3", "d", "4"]), int(1));
    assert_eq!(t.r(&["SETNX", "c", "x"]), int(0));
    assert_eq!(t.r(&["SETEX", "t", "100", "v"]), OK);
    assert_eq!(t.r(&["TTL", "t"]), int(100));
    assert_eq!(
        t.r(&["SETEX", "t", "-1", "v"]),
        "-ERR invalid expire time in 'setex' command\r\n"
    );
    assert_eq!(
        t.r(&["PSETEX", "t", "0", "v"]),
        "-ERR invalid expire time in 'psetex' command\r\n"
    );
    assert_eq!(t.r(&["GETSET", "a", "x"]), bulk("1"));
    assert_eq!(t.r(&["GETDEL", "a"]), bulk("x"));
    assert_eq!(t.r(&["GETDEL", "a"]), NIL);
    assert_eq!(t.r(&["GETEX", "b", "EX", "50"]), bulk("2"));
    assert_eq!(t.r(&["TTL", "b"]), int(50));
    assert_eq!(t.r(&["GETEX", "b", "PERSIST"]), bulk("2"));
    assert_eq!(t.r(&["TTL", "b"]), int(-1));
    assert_eq!(t.r(&["GETEX", "b", "BOGUS"]), "-ERR syntax error\r\n");
}

#[test]
fn ranges_and_append() {
    let mut t = T::new();
    assert_eq!(t.r(&["APPEND", "s", "Hello"]), int(5));
    assert_eq!(t.r(&["APPEND", "s", " World"]), int(11));
    assert_eq!(t.r(&["STRLEN", "s"]), int(11));
    assert_eq!(t.r(&["STRLEN", "none"]), int(0));
    assert_eq!(t.r(&["GETRANGE", "s", "0", "4"]), bulk("Hello"));
    assert_eq!(t.r(&["GETRANGE", "s", "-3", "-1"]), bulk("rld"));
    assert_eq!(t.r(&["GETRANGE", "s", "0", "-1"]), bulk("Hello World"));
    assert_eq!(t.r(&["GETRANGE", "s", "10", "100"]), bulk("d"));
    assert_eq!(t.r(&["GETRANGE", "s", "5", "3"]), bulk(""));
    assert_eq!(t.r(&["SETRANGE", "s", "6", "Redis"]), int(11));
    assert_eq!(t.r(&["GET", "s"]), bulk("Hello Redis"));
    assert_eq!(t.r(&["SETRANGE", "z", "3", "x"]), int(4));
    assert_eq!(t.r(&["GET", "z"]), "$4\r\n\0\0\0x\r\n");
    assert_eq!(t.r(&["SETRANGE", "empty", "0", ""]), int(0));
    assert_eq!(t.r(&["EXISTS", "empty"]), int(0));
    assert_eq!(
        t.r(&["SETRANGE", "s", "-1", "x"]),
        "-ERR offset is out of range\r\n"
    );
    assert_eq!(
        t.r(&["SETRANGE", "s", "536870911", "xx"]),
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    );
}

#[test]
fn bits() {
    let mut t = T::new();
    assert_eq!(t.r(&["SETBIT", "b", "7", "1"]), int(0));
    assert_eq!(t.r(&["SETBIT", "b", "7", "0"]), int(1));
    assert_eq!(t.r(&["GETBIT", "b", "7"]), int(0));
    assert_eq!(t.r(&["GETBIT", "b", "100"]), int(0));
    assert_eq!(
        t.r(&["SETBIT", "b", "-1", "1"]),
        "-ERR bit offset is not an integer or out of range\r\n"
    );
    assert_eq!(
        t.r(&["SETBIT", "b", "1", "2"]),
        "-ERR bit is not an integer or out of range\r\n"
    );
    t.r(&["SET", "f", "foobar"]);
    assert_eq!(t.r(&["BITCOUNT", "f"]), int(26));
    assert_eq!(t.r(&["BITCOUNT", "f", "0", "0"]), int(4));
    assert_eq!(t.r(&["BITCOUNT", "f", "1", "1"]), int(6));
    assert_eq!(t.r(&["BITCOUNT", "f", "5", "30", "BIT"]), int(17));
    assert_eq!(t.r(&["BITCOUNT", "f", "0"]), "-ERR syntax error\r\n");
    // Both from the end and crossed: empty (Redis 7.0), not clamped to 0..0.
    assert_eq!(t.r(&["BITCOUNT", "f", "-6", "-7"]), int(0));
    assert_eq!(t.r(&["BITCOUNT", "f", "-6", "-15", "BIT"]), int(0));
    assert_eq!(t.r(&["BITCOUNT", "f", "-7", "-6"]), int(4));
    t.r(&["SET", "p", "\u{ff}\u{f0}\0"]);
    t.raw(&[b"SET", b"p", b"\xff\xf0\x00"]);
    assert_eq!(t.r(&["BITPOS", "p", "0"]), int(12));
    t.raw(&[b"SET", b"p", b"\x00\xff\xf0"]);
    assert_eq!(t.r(&["BITPOS", "p", "1", "0"]), int(8));
    assert_eq!(t.r(&["BITPOS", "p", "1", "2"]), int(16));
    t.raw(&[b"SET", b"ones", b"\xff\xff"]);
    assert_eq!(t.r(&["BITPOS", "ones", "0"]), int(16));
    assert_eq!(t.r(&["BITPOS", "ones", "0", "0", "-1"]), int(-1));
    assert_eq!(t.r(&["BITPOS", "nokey", "1"]), int(-1));
    assert_eq!(
        t.r(&["BITPOS", "p", "2"]),
        "-ERR The bit argument must be 1 or 0.\r\n"
    );
    t.r(&["SET", "k1", "foobar"]);
    t.r(&["SET", "k2", "abcdef"]);
    assert_eq!(t.r(&["BITOP", "AND", "dest", "k1", "k2"]), int(6));
    assert_eq!(t.r(&["GET", "dest"]), bulk("`bc`ab"));
    assert_eq!(
        t.r(&["BITOP", "NOT", "dest", "k1", "k2"]),
        "-ERR BITOP NOT must be called with a single source key.\r\n"
    );
    assert_eq!(t.r(&["BITOP", "OR", "dest", "nokey"]), int(0));
    assert_eq!(t.r(&["EXISTS", "dest"]), int(0));
}

#[test]
fn lcs_as_documented() {
    let mut t = T::new();
    t.r(&["MSET", "key1", "ohmytext", "key2", "mynewtext"]);
    assert_eq!(t.r(&["LCS", "key1", "key2"]), bulk("mytext"));
    assert_eq!(t.r(&["LCS", "key1", "key2", "LEN"]), int(6));
    assert_eq!(
        t.r(&[
            "LCS",
            "key1",
            "key2",
            "IDX",
            "MINMATCHLEN",
            "4",
            "WITHMATCHLEN"
        ]),
        "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"
    );
    assert_eq!(
        t.r(&["LCS", "key1", "key2", "IDX"]),
        "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"
    );
}

#[test]
fn binary_values_are_kept_byte_for_byte() {
    let mut t = T::new();
    let v: Vec<u8> = (0..=255u8).collect();
    assert_eq!(t.raw(&[b"SET", b"\x00k\xff", &v]), OK);
    let mut want = format!("${}\r\n", v.len()).into_bytes();
    want.extend_from_slice(&v);
    want.extend_from_slice(b"\r\n");
    assert_eq!(t.bytes(&[b"GET", b"\x00k\xff"]), want);
}

#[test]
fn wrong_type_is_reported_for_strings_only_once_types_exist() {
    // Only strings exist today; a missing key is never WRONGTYPE.
    let mut t = T::new();
    assert_eq!(t.r(&["APPEND", "x", "1"]), int(1));
    assert!(!t.r(&["GET", "x"]).starts_with(WT));
}
