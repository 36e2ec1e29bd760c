use super::{NIL, OK, T, bulk, int};
use crate::kv::store::now_ms;

#[test]
fn exists_del_type_touch() {
    let mut t = T::new();
    t.r(&["MSET", "a", "1", "b", "2"]);
    assert_eq!(t.r(&["EXISTS", "a", "b", "a", "zz"]), int(3));
    assert_eq!(t.r(&["TYPE", "a"]), "+string\r\n");
    assert_eq!(t.r(&["TYPE", "zz"]), "+none\r\n");
    assert_eq!(t.r(&["TOUCH", "a", "zz"]), int(1));
    assert_eq!(t.r(&["DEL", "a", "zz"]), int(1));
    assert_eq!(t.r(&["UNLINK", "b"]), int(1));
    assert_eq!(t.r(&["DBSIZE"]), int(0));
}

#[test]
fn rename_copy_move() {
    let mut t = T::new();
    assert_eq!(t.r(&["RENAME", "no", "x"]), "-ERR no such key\r\n");
    t.r(&["SET", "a", "1", "EX", "100"]);
    assert_eq!(t.r(&["RENAME", "a", "b"]), OK);
    assert_eq!(t.r(&["TTL", "b"]), int(100), "RENAME keeps the TTL");
    assert_eq!(t.r(&["RENAME", "b", "b"]), OK);
    t.r(&["SET", "c", "3"]);
    assert_eq!(t.r(&["RENAMENX", "b", "c"]), int(0));
    assert_eq!(t.r(&["RENAMENX", "b", "d"]), int(1));
    assert_eq!(t.r(&["COPY", "d", "c"]), int(0));
    assert_eq!(t.r(&["COPY", "d", "c", "REPLACE"]), int(1));
    assert_eq!(t.r(&["GET", "c"]), bulk("1"));
    assert_eq!(
        t.r(&["COPY", "d", "d"]),
        "-ERR source and destination objects are the same\r\n"
    );
    assert_eq!(t.r(&["COPY", "d", "x", "DB", "3"]), int(1));
    assert_eq!(
        t.r(&["COPY", "d", "x", "DB", "99"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(t.r(&["MOVE", "d", "1"]), int(1));
    assert_eq!(t.r(&["MOVE", "d", "1"]), int(0));
    assert_eq!(
        t.r(&["MOVE", "c", "0"]),
        "-ERR source and destination objects are the same\r\n"
    );
    assert_eq!(t.r(&["SELECT", "1"]), OK);
    assert_eq!(t.r(&["GET", "d"]), bulk("1"));
    assert_eq!(t.r(&["SELECT", "3"]), OK);
    assert_eq!(t.r(&["GET", "x"]), bulk("1"));
}

#[test]
fn expire_family_with_options() {
    let mut t = T::new();
    t.r(&["SET", "k", "v"]);
    assert_eq!(t.r(&["EXPIRE", "k", "100", "XX"]), int(0));
    assert_eq!(t.r(&["EXPIRE", "k", "100", "NX"]), int(1));
    assert_eq!(t.r(&["EXPIRE", "k", "50", "GT"]), int(0));
    assert_eq!(t.r(&["EXPIRE", "k", "200", "GT"]), int(1));
    assert_eq!(t.r(&["EXPIRE", "k", "300", "LT"]), int(0));
    assert_eq!(
        t.r(&["EXPIRE", "k", "10", "NX", "XX"]),
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        t.r(&["EXPIRE", "k", "10", "GT", "LT"]),
        "-ERR GT and LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        t.r(&["EXPIRE", "k", "10", "FOO"]),
        "-ERR Unsupported option FOO\r\n"
    );
    assert_eq!(t.r(&["TTL", "k"]), int(200));
    assert_eq!(t.r(&["PERSIST", "k"]), int(1));
    assert_eq!(t.r(&["PERSIST", "k"]), int(0));
    assert_eq!(
        t.r(&["EXPIRE", "k", "10", "LT"]),
        int(1),
        "no TTL counts as infinite"
    );
    let at = now_ms() / 1000 + 1000;
    assert_eq!(t.r(&["EXPIREAT", "k", &at.to_string()]), int(1));
    assert_eq!(t.r(&["EXPIRETIME", "k"]), int(at as i64));
    assert_eq!(t.r(&["PEXPIRETIME", "k"]), int(at as i64 * 1000));
    assert_eq!(t.r(&["EXPIRETIME", "none"]), int(-2));
    t.r(&["SET", "p", "v"]);
    assert_eq!(t.r(&["PEXPIRETIME", "p"]), int(-1));
    assert_eq!(
        t.r(&["EXPIRE", "p", "9223372036854775807"]),
        "-ERR invalid expire time in 'expire' command\r\n"
    );
    assert_eq!(t.r(&["PEXPIRE", "p", "-1"]), int(1));
    assert_eq!(t.r(&["EXISTS", "p"]), int(0), "a time in the past deletes");
    t.r(&["SET", "q", "v", "PX", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(3));
    assert_eq!(t.r(&["GET", "q"]), NIL);
    assert_eq!(t.r(&["TTL", "q"]), int(-2));
}

#[test]
fn keys_scan_randomkey_object() {
    let mut t = T::new();
    assert_eq!(t.r(&["RANDOMKEY"]), NIL);
    for i in 0..100 {
        t.r(&["SET", &format!("user:{i}"), "x"]);
    }
    t.r(&["SET", "other", "y"]);
    let r = t.r(&["KEYS", "user:1?"]);
    assert!(r.starts_with("*10\r\n"), "{r}");
    assert!(t.r(&["RANDOMKEY"]).starts_with('$'));
    let mut cursor = "0".to_string();
    let mut seen = std::collections::HashSet::new();
    loop {
        let r = t.r(&["SCAN", &cursor, "MATCH", "user:*", "COUNT", "7"]);
        let lines: Vec<&str> = r.split("\r\n").collect();
        cursor = lines[2].to_string();
        for w in lines.iter().skip(5).step_by(2) {
            if !w.is_empty() {
                seen.insert(w.to_string());
            }
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 100);
    assert!(!seen.contains("other"));
    assert_eq!(t.r(&["SCAN", "x"]), "-ERR invalid cursor\r\n");
    assert_eq!(t.r(&["SCAN", "0", "COUNT", "0"]), "-ERR syntax error\r\n");
    let r = t.r(&["SCAN", "0", "TYPE", "hash", "COUNT", "1000"]);
    assert_eq!(r, "*2\r\n$1\r\n0\r\n*0\r\n");
    t.r(&["SET", "int", "12345"]);
    t.r(&["SET", "emb", "hello"]);
    t.r(&["SET", "raw", &"x".repeat(100)]);
    assert_eq!(t.r(&["OBJECT", "ENCODING", "int"]), bulk("int"));
    assert_eq!(t.r(&["OBJECT", "ENCODING", "emb"]), bulk("embstr"));
    assert_eq!(t.r(&["OBJECT", "ENCODING", "raw"]), bulk("raw"));
    assert_eq!(t.r(&["OBJECT", "ENCODING", "none"]), NIL);
    assert_eq!(t.r(&["OBJECT", "IDLETIME", "raw"]), int(0));
    assert!(
        t.r(&["OBJECT", "FREQ", "raw"])
            .starts_with("-ERR An LFU maxmemory policy")
    );
    assert_eq!(
        t.r(&["OBJECT", "NOPE", "raw"]),
        "-ERR unknown subcommand 'NOPE'. Try OBJECT HELP.\r\n"
    );
}

#[test]
fn looking_at_a_key_leaves_its_idle_time() {
    let mut t = T::new();
    t.r(&["SET", "k", "v"]);
    let payload = t.bytes(&[b"DUMP", b"k"]);
    // The bulk's body: after `$N\r\n`, before the final `\r\n`.
    let start = payload.iter().position(|&b| b == b'\n').expect("header") + 1;
    let body = &payload[start..payload.len() - 2];
    t.raw(&[b"RESTORE", b"idle", b"0", body, b"IDLETIME", b"1000"]);
    t.r(&["TTL", "idle"]);
    t.r(&["PTTL", "idle"]);
    t.r(&["TYPE", "idle"]);
    t.r(&["EXISTS", "idle"]);
    t.r(&["OBJECT", "ENCODING", "idle"]);
    let idle = t.r(&["OBJECT", "IDLETIME", "idle"]);
    let secs: i64 = idle.trim_start_matches(':').trim().parse().expect("int");
    assert!(secs >= 1000, "{idle}");
    // Using it (TOUCH, GET) does reset it.
    assert_eq!(t.r(&["TOUCH", "idle", "nope"]), int(1));
    assert_eq!(t.r(&["OBJECT", "IDLETIME", "idle"]), int(0));
}
