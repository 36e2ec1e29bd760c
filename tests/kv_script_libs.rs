//! The Lua libraries scripts see (cmsgpack, struct, bit), redis.call with
//! thousands of arguments, and CLUSTER, over a real socket: bytes a client
//! sends go through the libraries and come back as Redis would send them;
//! hostile bytes get an error reply and the connection and server go on.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::kv::{Kv, bulk, ok, quiet};
use netkit::kv::protocol::Reply;
use netkit::kv::store::Store;

fn eval(c: &mut common::kv::Resp, script: &str, args: &[&[u8]]) -> Reply {
    let mut a: Vec<&[u8]> = vec![b"EVAL", script.as_bytes(), b"0"];
    a.extend_from_slice(args);
    c.send(&a);
    c.reply()
}

fn err(r: Reply) -> String {
    match r {
        Reply::Error(e) => e,
        r => panic!("not an error: {r:?}"),
    }
}

#[test]
fn cmsgpack_packs_and_unpacks_client_bytes_as_redis() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    // Redis's byte output, returned as a bulk string.
    let pack = "return cmsgpack.pack(tonumber(ARGV[1]))";
    let bytes = |r: Reply| match r {
        Reply::Bulk(Some(b)) => b,
        r => panic!("{r:?}"),
    };
    assert_eq!(
        bytes(eval(&mut c, pack, &[b"0.1"])),
        [0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]
    );
    assert_eq!(
        bytes(eval(&mut c, pack, &[b"-1099511627776"])),
        [0xd3, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00]
    );
    // A binary-safe round trip: a map and an array the client packed.
    let mut mp = vec![
        0x82, 0xa1, b'k', 0x93, 0x01, 0xd0, 0x80, 0xa3, 0x00, 0xff, b'x',
    ];
    mp.extend_from_slice(&[0xa1, b'n', 0xcb]);
    mp.extend_from_slice(&1.5f64.to_be_bytes());
    let script = "local t = cmsgpack.unpack(ARGV[1]) \
                  return {t.k[1], t.k[2], t.k[3], tostring(t.n), cmsgpack.pack(t.k)}";
    assert_eq!(
        eval(&mut c, script, &[&mp]),
        Reply::Array(Some(vec![
            Reply::Int(1),
            Reply::Int(-128),
            Reply::Bulk(Some(vec![0x00, 0xff, b'x'])),
            bulk("1.5"),
            Reply::Bulk(Some(vec![0x93, 0x01, 0xd0, 0x80, 0xa3, 0x00, 0xff, b'x'])),
        ]))
    );
    // Streams: unpack_limit walks values one by one.
    let script = "local s = cmsgpack.pack('a', 2, 'c') \
                  local o1, a = cmsgpack.unpack_limit(s, 1) \
                  local o2, b, c = cmsgpack.unpack_limit(s, 2, o1) \
                  return {o1, a, o2, b, c}";
    assert_eq!(
        eval(&mut c, script, &[]),
        Reply::Array(Some(vec![
            Reply::Int(2),
            bulk("a"),
            Reply::Int(-1),
            Reply::Int(2),
            bulk("c")
        ]))
    );
    // Hostile input: a header declaring 4G items, truncated strings, bytes
    // no type starts with, deep nesting: errors, and the server goes on.
    let unpack = "return cmsgpack.unpack(ARGV[1])";
    for (input, want) in [
        (
            &[0xdd, 0xff, 0xff, 0xff, 0xff][..],
            "Missing bytes in input.",
        ),
        (
            &[0xdb, 0xff, 0xff, 0xff, 0xff, 0x41][..],
            "Missing bytes in input.",
        ),
        (&[0xc1][..], "Bad data format in input."),
        (&[0x81, 0xc0, 0x01][..], "table index is nil"),
    ] {
        let e = err(eval(&mut c, unpack, &[input]));
        assert!(e.starts_with("ERR ") && e.contains(want), "{input:?}: {e}");
    }
    let mut deep = vec![0x91; 200_000];
    deep.push(0x01);
    let e = err(eval(&mut c, unpack, &[&deep]));
    assert!(e.contains("Too many nested data structures"), "{e}");
    assert_eq!(
        err(eval(&mut c, "return cmsgpack.unpack({})", &[]))
            .split(" script:")
            .next(),
        Some("ERR user_script:1: bad argument #1 to 'unpack' (string expected, got table)")
    );
    assert_eq!(c.call(&["PING"]), Reply::Status("PONG".into()));
}

#[test]
fn struct_and_bit_work_on_client_bytes() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    let script = "local a, b, s, nxt = struct.unpack('>I2 i4 s', ARGV[1]) \
                  return {a, b, s, nxt, struct.pack('<h', -2), struct.size('!4 b i4')}";
    let mut data = vec![0x01, 0x02, 0xff, 0xff, 0xff, 0xfe];
    data.extend_from_slice(b"hi\0");
    assert_eq!(
        eval(&mut c, script, &[&data]),
        Reply::Array(Some(vec![
            Reply::Int(258),
            Reply::Int(-2),
            bulk("hi"),
            Reply::Int(10),
            Reply::Bulk(Some(vec![0xfe, 0xff])),
            Reply::Int(8),
        ]))
    );
    let e = err(eval(
        &mut c,
        "return struct.unpack('i4', ARGV[1])",
        &[b"ab"],
    ));
    assert!(
        e.contains("bad argument #2 to 'unpack' (data string too short)"),
        "{e}"
    );
    let e = err(eval(&mut c, "return struct.pack('i40', 1)", &[]));
    assert!(
        e.contains("integral size 40 is larger than limit of 32"),
        "{e}"
    );
    assert_eq!(
        eval(&mut c, "return {bit.band(7, 3), bit.tohex(-1, -4)}", &[]),
        Reply::Array(Some(vec![Reply::Int(3), bulk("FFFF")]))
    );
    let e = err(eval(&mut c, "return bit.bor(1, {})", &[]));
    assert!(
        e.contains("bad argument #2 to 'bor' (number expected, got table)"),
        "{e}"
    );
    // Every library table is read-only.
    for lib in ["cmsgpack", "struct", "bit", "cjson"] {
        let e = err(eval(&mut c, &format!("{lib}.x = 1"), &[]));
        assert!(
            e.contains("Attempt to modify a readonly table"),
            "{lib}: {e}"
        );
    }
}

#[test]
fn redis_call_takes_thousands_of_arguments() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    let script = "local a = {} for i = 1, 7999 do a[i] = ARGV[1] .. i end \
                  return redis.call('rpush', 'l', unpack(a))";
    assert_eq!(eval(&mut c, script, &[b"v"]), Reply::Int(7999));
    assert_eq!(c.call(&["LINDEX", "l", "-1"]), bulk("v7999"));
    // And as many cached scripts as anyone loads.
    for i in 0..9000 {
        c.send(&[b"SCRIPT", b"LOAD", format!("return {i}").as_bytes()]);
    }
    for _ in 0..9000 {
        assert!(matches!(c.reply(), Reply::Bulk(Some(_))));
    }
    assert_eq!(eval(&mut c, "return 7", &[]), Reply::Int(7));
}

#[test]
fn cluster_is_answered_as_by_a_non_cluster_redis() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    let off = Reply::Error("ERR This instance has cluster support disabled".into());
    assert_eq!(c.call(&["CLUSTER", "INFO"]), off);
    assert_eq!(c.call(&["CLUSTER", "RESET", "HARD"]), off);
    let e = err(eval(
        &mut c,
        "return redis.call('cluster', 'reset', 'hard')",
        &[],
    ));
    assert!(
        e.contains("This Redis command is not allowed from script"),
        "{e}"
    );
}

#[test]
fn a_long_pack_goes_busy_and_script_kill_stops_it() {
    let kv = Kv::start(Arc::new(Store::new(16)), quiet());
    let mut admin = kv.conn();
    assert_eq!(
        admin.call(&["CONFIG", "SET", "busy-reply-threshold", "20"]),
        ok()
    );
    // 8 references to itself: 8^16 items, all in Rust, no Lua instruction
    // for the count hook; cmsgpack checks in itself.
    let mut runner = kv.conn();
    runner.send(&[
        b"EVAL",
        b"local t = {} for i = 1, 8 do t[i] = t end return #cmsgpack.pack(t)",
        b"0",
    ]);
    let start = Instant::now();
    loop {
        match admin.call(&["SCRIPT", "KILL"]) {
            Reply::Status(s) if s == "OK" => break,
            Reply::Error(e) if e.starts_with("NOTBUSY") => {
                assert!(start.elapsed() < Duration::from_secs(20), "never busy");
                std::thread::sleep(Duration::from_millis(5));
            }
            r => panic!("{r:?}"),
        }
    }
    let e = err(runner.reply());
    assert!(e.contains("Script killed by user with SCRIPT KILL"), "{e}");
    assert_eq!(runner.call(&["PING"]), Reply::Status("PONG".into()));
}
