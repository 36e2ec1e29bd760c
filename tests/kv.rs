//! `netkit kv`: the protocols over real sockets, redis-cli interop, expiry,
//! concurrency and the client binary.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use common::kv::{Kv, bulk, ok, quiet, temp_path};
use common::{PATIENCE, have, netkit, spawn_server};
use netkit::kv::protocol::{Limits, Reply, encode_command};
use netkit::kv::shared::Config;
use netkit::kv::store::Store;

#[test]
fn line_protocol_set_get_del_and_errors_keep_the_connection() {
    let kv = Kv::memory();
    let mut s = TcpStream::connect(kv.addr).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s.write_all(
        b"SET greeting hello  big world\nGET greeting\r\nBOGUS x\nGET\nDEL greeting\nDEL greeting\nGET greeting\nQUIT\nGET never\n",
    )
    .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read until close");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 7, "{out:?}");
    assert_eq!(lines[0], "OK");
    assert_eq!(lines[1], "hello  big world");
    assert!(lines[2].starts_with("ERR unknown command 'BOGUS'"), "{out}");
    assert!(lines[3].starts_with("ERR"), "{out}");
    assert_eq!(&lines[4..], &["1", "0", "(nil)"]);
}

#[test]
fn line_protocol_over_long_line_is_an_error_then_usable() {
    let cfg = Config {
        limits: Limits {
            max_line: 100,
            ..Limits::default()
        },
        ..quiet()
    };
    let kv = Kv::start(Arc::new(Store::new(16)), cfg);
    let mut s = TcpStream::connect(kv.addr).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let mut req = b"SET k ".to_vec();
    req.extend(std::iter::repeat_n(b'x', 5000));
    req.extend_from_slice(b"\nSET k short\nGET k\nQUIT\n");
    s.write_all(&req).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("ERR line longer than 100"), "{out}");
    assert_eq!(&lines[1..], &["OK", "short"], "{out}");
}

#[test]
fn resp_is_binary_safe_and_shares_the_store_with_lines() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    let key = b"k\x00\xff\r\n";
    let val: Vec<u8> = (0..=255u8).collect();
    c.send(&[b"SET", key, &val]);
    assert_eq!(c.reply(), ok());
    c.send(&[b"GET", key]);
    assert_eq!(c.reply(), Reply::Bulk(Some(val)));
    assert_eq!(c.call(&["SET", "shared", "from resp"]), ok());
    let mut line = TcpStream::connect(kv.addr).expect("connect");
    line.set_read_timeout(Some(PATIENCE)).expect("timeout");
    line.write_all(b"GET shared\n").expect("write");
    let mut r = BufReader::new(line);
    let mut got = String::new();
    r.read_line(&mut got).expect("read");
    assert_eq!(got, "from resp\n");
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    let mut wire = Vec::new();
    for i in 0..2000 {
        let v = vec![
            b"SET".to_vec(),
            format!("k{i}").into_bytes(),
            format!("v{i}").into_bytes(),
        ];
        wire.extend(encode_command(&v));
        wire.extend(encode_command(&[
            b"GET".to_vec(),
            format!("k{i}").into_bytes(),
        ]));
    }
    c.s.write_all(&wire).expect("write");
    for i in 0..2000 {
        assert_eq!(c.reply(), ok());
        assert_eq!(c.reply(), bulk(&format!("v{i}")));
    }
    assert_eq!(c.call(&["DBSIZE"]), Reply::Int(2000));
}

#[test]
fn big_values_and_output_backlog_flow_through() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    // A 9 MB value arrives in many reads: the buffer grows to fit it.
    let big = common::random_bytes(9_000_000, 7);
    c.send(&[b"SET", b"big", &big]);
    assert_eq!(c.reply(), ok());
    // 60 pipelined GETs of it are ~540 MB of replies: the server must stop
    // executing while output is backed up and resume when it drains.
    let mut writer = c.s.try_clone().expect("clone");
    let n = 60;
    let w = thread::spawn(move || {
        let get = encode_command(&[b"GET".to_vec(), b"big".to_vec()]);
        for _ in 0..n {
            writer.write_all(&get).expect("write");
        }
    });
    for _ in 0..n {
        match c.reply() {
            Reply::Bulk(Some(v)) => assert!(v == big, "value differs"),
            r => panic!("{r:?}"),
        }
    }
    w.join().expect("writer");
    assert_eq!(c.call(&["PING"]), Reply::Status("PONG".into()));
}

#[test]
fn nc_speaks_the_line_protocol() {
    if !have("nc") {
        return;
    }
    let kv = Kv::memory();
    let mut child = Command::new("nc")
        .args(["-N", "127.0.0.1", &kv.addr.port().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("nc");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"SET k a value with spaces\nGET k\nQUIT\n")
        .expect("write");
    let out = child.wait_with_output().expect("nc");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "OK\na value with spaces\n"
    );
}

#[test]
fn hostile_resp_gets_an_error_and_only_that_connection_closes() {
    let kv = Kv::memory();
    for bad in [
        &b"*99999999999\r\n"[..],
        b"*1\r\n$-5\r\n",
        b"*1\r\n$1073741824\r\n", // 1 GiB header, no body: refused at once
        b"*1\r\nfoo\r\n",
    ] {
        let mut c = kv.conn();
        c.s.write_all(bad).expect("write");
        let out = c.rest();
        assert!(
            out.starts_with(b"-ERR Protocol error"),
            "{:?} -> {:?}",
            bad.escape_ascii().to_string(),
            String::from_utf8_lossy(&out)
        );
    }
    let mut c = kv.conn();
    assert_eq!(c.call(&["PING"]), Reply::Status("PONG".into()));
}

#[test]
fn limits_are_configurable_errors() {
    let cfg = Config {
        limits: Limits {
            max_bulk: 1024,
            max_args: 4,
            ..Limits::default()
        },
        ..quiet()
    };
    let kv = Kv::start(Arc::new(Store::new(16)), cfg);
    let mut c = kv.conn();
    let big = "x".repeat(2000);
    c.send(&[b"SET", b"k", big.as_bytes()]);
    let out = c.rest();
    assert!(
        out.starts_with(b"-ERR Protocol error: invalid bulk length"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    let mut c = kv.conn();
    c.send(&[b"MSET", b"a", b"1", b"b", b"2"]);
    assert!(
        c.rest()
            .starts_with(b"-ERR Protocol error: invalid multibulk length")
    );
}

#[test]
fn max_conns_turns_the_next_client_away_with_an_error() {
    let cfg = Config {
        max_conns: 1,
        ..quiet()
    };
    let kv = Kv::start(Arc::new(Store::new(16)), cfg);
    let mut first = kv.conn();
    assert_eq!(first.call(&["PING"]), Reply::Status("PONG".into()));
    let mut second = kv.conn();
    assert!(
        second
            .rest()
            .starts_with(b"-ERR max number of clients reached")
    );
    assert_eq!(first.call(&["PING"]), Reply::Status("PONG".into()));
}

#[test]
fn keys_expire_on_time() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    assert_eq!(c.call(&["SET", "short", "v", "PX", "30"]), ok());
    assert_eq!(c.call(&["SET", "long", "v", "EX", "100"]), ok());
    assert_eq!(c.call(&["SET", "forever", "v"]), ok());
    match c.call(&["PTTL", "short"]) {
        Reply::Int(ms) => assert!((0..=30).contains(&ms), "pttl {ms}"),
        r => panic!("{r:?}"),
    }
    // Ask until it is gone; each request is a real round trip, not a sleep.
    let deadline = Instant::now() + PATIENCE;
    while c.call(&["GET", "short"]) != Reply::Bulk(None) {
        assert!(Instant::now() < deadline, "key never expired");
    }
    assert_eq!(c.call(&["TTL", "short"]), Reply::Int(-2));
    assert_eq!(c.call(&["TTL", "long"]), Reply::Int(100));
    assert_eq!(c.call(&["TTL", "forever"]), Reply::Int(-1));
    assert_eq!(c.call(&["EXPIRE", "forever", "0"]), Reply::Int(1));
    assert_eq!(c.call(&["EXISTS", "forever", "long"]), Reply::Int(1));
    assert_eq!(c.call(&["DBSIZE"]), Reply::Int(1));
}

#[test]
fn concurrent_incr_on_one_key_is_exact() {
    let kv = Kv::memory();
    let clients = 16;
    let per = 500;
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let mut c = kv.conn();
            thread::spawn(move || {
                // Half pipelined, half one at a time.
                let mut wire = Vec::new();
                for _ in 0..per / 2 {
                    wire.extend(encode_command(&[b"INCR".to_vec(), b"n".to_vec()]));
                }
                c.s.write_all(&wire).expect("write");
                for _ in 0..per / 2 {
                    assert!(matches!(c.reply(), Reply::Int(_)));
                }
                for _ in 0..per / 2 {
                    assert!(matches!(c.call(&["INCR", "n"]), Reply::Int(_)));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("client thread");
    }
    let mut c = kv.conn();
    assert_eq!(c.call(&["GET", "n"]), bulk(&(clients * per).to_string()));
}

#[test]
fn client_handshakes_are_answered() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    assert!(matches!(c.call(&["HELLO", "4"]), Reply::Error(e) if e.starts_with("NOPROTO")));
    assert!(matches!(c.call(&["HELLO", "2"]), Reply::Array(Some(v)) if v.len() == 14));
    assert!(matches!(
        c.call(&["COMMAND", "DOCS"]),
        Reply::Array(Some(_))
    ));
    assert_eq!(
        c.call(&["CONFIG", "GET", "appendonly"]),
        Reply::Array(Some(vec![bulk("appendonly"), bulk("no")]))
    );
    assert_eq!(c.call(&["CLIENT", "SETNAME", "x"]), ok());
    assert_eq!(c.call(&["SELECT", "0"]), ok());
    assert_eq!(c.call(&["ZADD", "z", "1", "a"]), Reply::Int(1));
    assert!(matches!(c.call(&["NOSUCHCMD", "s"]), Reply::Error(e) if e.contains("'NOSUCHCMD'")));
    assert_eq!(c.call(&["QUIT"]), ok());
    assert!(c.rest().is_empty());
}

#[test]
fn client_list_shows_each_clients_last_command_query_buffer_and_queued_commands() {
    let kv = Kv::memory();
    let mut a = kv.conn();
    let mut b = kv.conn();
    let id = |c: &mut common::kv::Resp| match c.call(&["CLIENT", "ID"]) {
        Reply::Int(n) => format!("id={n} "),
        r => panic!("{r:?}"),
    };
    let (a_id, b_id) = (id(&mut a), id(&mut b));
    assert_eq!(b.call(&["GET", "k"]), Reply::Bulk(None));
    let text = |r: Reply| match r {
        Reply::Bulk(Some(t)) => String::from_utf8_lossy(&t).into_owned(),
        r => panic!("{r:?}"),
    };
    // Each client's row of a CLIENT LIST, found by its id.
    let row = |list: &str, id: &str| -> String {
        let rows: Vec<&str> = list.lines().filter(|l| l.starts_with(id)).collect();
        assert_eq!(rows.len(), 1, "{id}in {list}");
        rows[0].to_string()
    };
    let list = text(a.call(&["CLIENT", "LIST"]));
    assert_eq!(list.lines().count(), 2, "{list}");
    // Its own row: the command running now, all 26 bytes of it still in
    // its query buffer, as Redis shows them.
    let own = row(&list, &a_id);
    assert!(
        own.contains(" qbuf=26 ") && own.contains(" cmd=client|list "),
        "{own}"
    );
    let other = row(&list, &b_id);
    assert!(other.contains(" cmd=get "), "{other}");
    assert!(
        other.contains(" flags=N ") && other.contains(" multi=-1 "),
        "{other}"
    );
    // In MULTI: flag x and the number of commands queued.
    b.call(&["MULTI"]);
    b.call(&["INCR", "n"]);
    b.call(&["INCR", "n"]);
    b.call(&["CLIENT", "INFO"]);
    let other = row(&text(a.call(&["CLIENT", "LIST"])), &b_id);
    assert!(
        other.contains(" flags=x ") && other.contains(" multi=3 "),
        "{other}"
    );
    // Once it ran, EXEC is the command, not what it ran; while it ran, the
    // transaction still showed.
    match b.call(&["EXEC"]) {
        Reply::Array(Some(r)) => {
            let own = text(r[2].clone());
            assert!(
                own.contains(" flags=x ") && own.contains(" multi=3 "),
                "{own}"
            );
        }
        r => panic!("{r:?}"),
    }
    let other = row(&text(a.call(&["CLIENT", "LIST"])), &b_id);
    assert!(other.contains(" cmd=exec "), "{other}");
    let info = text(b.call(&["CLIENT", "INFO"]));
    assert!(
        info.contains(" cmd=client|info ") && info.contains(" multi=-1 "),
        "{info}"
    );
}

#[test]
fn redis_cli_works_unchanged() {
    if !have("redis-cli") {
        return;
    }
    let kv = Kv::memory();
    let port = kv.addr.port().to_string();
    let cli = |args: &[&str]| {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &port])
            .args(args)
            .output()
            .expect("redis-cli");
        assert!(out.status.success(), "{args:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(cli(&["SET", "k", "hello world"]), "OK\n");
    assert_eq!(cli(&["GET", "k"]), "hello world\n");
    assert_eq!(cli(&["INCRBY", "n", "5"]), "5\n");
    assert_eq!(cli(&["MGET", "k", "n", "none"]), "hello world\n5\n\n");
    assert_eq!(cli(&["KEYS", "n*"]), "n\n");
    assert_eq!(cli(&["DEL", "k", "n"]), "2\n");
    // Interactive-style pipe: redis-cli reads commands from stdin.
    let mut child = Command::new("redis-cli")
        .args(["-p", &port])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("redis-cli");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"PING\nSET a 1\nINCR a\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "PONG\nOK\n2\n");
}

#[test]
fn binary_serve_client_and_graceful_shutdown_keep_acknowledged_writes() {
    let path = temp_path("binary");
    let p = path.to_str().expect("utf-8 temp path").to_string();
    let mut srv = spawn_server(&["kv", "serve", "--data", &p, "--fsync", "no", "0"]);
    let addr = srv.addr.to_string();
    let kv = |args: &[&str]| {
        netkit()
            .args(["kv", "--addr", &addr])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("netkit kv")
    };
    let out = kv(&["set", "greeting", "hello world"]);
    assert!(out.status.success());
    assert_eq!(out.stdout, b"OK\n");
    let out = kv(&["get", "greeting"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"hello world\n");
    let out = kv(&["get", "missing"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let out = kv(&["--no-raw", "incrby", "n", "-3"]);
    assert_eq!(out.stdout, b"(integer) -3\n");
    let out = kv(&["nosuchcommand"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown command"));
    // -x: the last argument from stdin, byte for byte.
    let mut child = netkit()
        .args(["kv", "--addr", &addr, "-x", "set", "blob"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"line one\nline two\n\xff")
        .expect("write");
    assert!(child.wait().expect("wait").success());
    srv.signal(15);
    assert!(srv.wait_exit().success());
    srv.wait_stderr("served");
    let srv = spawn_server(&["kv", "serve", "--data", &p, "0"]);
    let addr = srv.addr.to_string();
    let out = netkit()
        .args(["kv", "--addr", &addr, "get", "blob"])
        .output()
        .expect("get");
    assert_eq!(out.stdout, b"line one\nline two\n\xff\n");
    let out = netkit()
        .args(["kv", "--addr", &addr, "get", "greeting"])
        .output()
        .expect("get");
    assert_eq!(out.stdout, b"hello world\n");
    drop(srv);
}

#[test]
fn startup_line_says_when_nothing_is_saved() {
    let mut child = netkit()
        .args(["kv", "serve", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    BufReader::new(child.stderr.take().expect("stderr"))
        .read_line(&mut first)
        .expect("read");
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.starts_with("listening on 127.0.0.1:"), "{first}");
    assert!(first.contains("in memory only"), "{first}");
}

#[test]
fn repl_runs_on_a_pseudo_terminal() {
    if !have("script") {
        return;
    }
    let kv = Kv::memory();
    let home = temp_path("home");
    std::fs::create_dir_all(&home).expect("home dir");
    let cmd = format!(
        "{} kv --addr 127.0.0.1:{}",
        env!("CARGO_BIN_EXE_netkit"),
        kv.addr.port()
    );
    // script(1) gives netkit a real pseudo-terminal on stdin and stdout.
    let mut child = Command::new("script")
        .args(["-qfec", &cmd, "/dev/null"])
        .env("HOME", &home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    // Consume output up to and including `needle`; keep what follows it.
    let mut wait_for = |needle: &str| {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(at) = seen
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
            {
                seen.drain(..at + needle.len());
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(chunk) => seen.extend(chunk),
                Err(_) => panic!(
                    "never saw {needle:?}; got {:?}",
                    String::from_utf8_lossy(&seen)
                ),
            }
        }
    };
    let prompt = format!("127.0.0.1:{}> ", kv.addr.port());
    for (line, want) in [
        ("set a \"x y\"", "OK"),
        ("get a", "\"x y\""),
        ("incr n", "(integer) 1"),
        ("get nope", "(nil)"),
        ("nosuch", "(error) ERR unknown command"),
    ] {
        wait_for(&prompt);
        stdin
            .write_all(format!("{line}\r").as_bytes())
            .expect("type");
        wait_for(want);
    }
    wait_for(&prompt);
    stdin.write_all(b"quit\r").expect("type");
    let status = child.wait().expect("wait");
    assert!(status.success());
    let history = std::fs::read_to_string(home.join(".netkit_kv_history")).expect("history");
    assert!(history.contains("incr n"), "{history}");
}

#[test]
fn a_request_followed_at_once_by_fin_is_answered_then_closed() {
    // The FIN can arrive with the data: the server must answer, then see EOF.
    let kv = Kv::memory();
    for _ in 0..50 {
        let mut s = TcpStream::connect(kv.addr).expect("connect");
        s.set_read_timeout(Some(PATIENCE)).expect("timeout");
        s.write_all(b"PING\r\nECHO hi\r\n").expect("write");
        s.shutdown(std::net::Shutdown::Write).expect("shutdown");
        let mut got = Vec::new();
        s.read_to_end(&mut got).expect("read to EOF");
        assert_eq!(got, b"+PONG\r\n$2\r\nhi\r\n");
    }
}

/// A connection to `addr` whose reads give up after `PATIENCE`.
fn dial(addr: std::net::SocketAddr) -> BufReader<TcpStream> {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    BufReader::new(s)
}

/// Send one RESP command on `s` and read one line of reply ("" at EOF).
fn call_line(s: &mut BufReader<TcpStream>, args: &[&str]) -> String {
    let argv: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    s.get_mut()
        .write_all(&encode_command(&argv))
        .expect("write");
    let mut line = String::new();
    s.read_line(&mut line).expect("read");
    line
}

#[test]
fn shutdown_from_a_client_answers_the_others_and_exits_cleanly() {
    let path = temp_path("shutdown");
    let p = path.to_str().expect("utf-8 temp path").to_string();
    let mut srv = spawn_server(&["kv", "serve", "--data", &p, "0"]);
    let connect = || dial(srv.addr);
    let mut a = connect();
    assert_eq!(call_line(&mut a, &["SET", "k", "v"]), "+OK\r\n");
    for bad in [&["SHUTDOWN", "LATER"][..], &["SHUTDOWN", "SAVE", "NOSAVE"]] {
        assert_eq!(call_line(&mut a, bad), "-ERR syntax error\r\n");
    }
    assert_eq!(
        call_line(&mut a, &["SHUTDOWN", "ABORT"]),
        "-ERR No shutdown in progress.\r\n"
    );
    assert_eq!(call_line(&mut a, &["MULTI"]), "+OK\r\n");
    assert_eq!(
        call_line(&mut a, &["SHUTDOWN"]),
        "-ERR Command not allowed inside a transaction\r\n"
    );
    assert!(call_line(&mut a, &["EXEC"]).starts_with("-EXECABORT"));
    // The caller gets no reply: its connection closes, and the server
    // exits 0 with its log fsynced.
    let mut b = connect();
    assert_eq!(call_line(&mut b, &["SHUTDOWN", "NOW"]), "");
    assert!(srv.wait_exit().success());
    let srv = spawn_server(&["kv", "serve", "--data", &p, "0"]);
    let mut c = dial(srv.addr);
    assert_eq!(call_line(&mut c, &["GET", "k"]), "$1\r\n");
    drop(srv);
}

#[test]
fn only_shutdown_nosave_stops_a_server_busy_in_a_script_and_its_writes_are_not_kept() {
    let path = temp_path("shutdown-busy");
    let p = path.to_str().expect("utf-8 temp path").to_string();
    let mut srv = spawn_server(&[
        "kv",
        "serve",
        "--data",
        &p,
        "--busy-reply-threshold",
        "10ms",
        "0",
    ]);
    let connect = || dial(srv.addr);
    let mut runner = connect();
    let script = "redis.call('set', 'from-script', '1') while true do end";
    let argv = vec![b"EVAL".to_vec(), script.as_bytes().to_vec(), b"0".to_vec()];
    runner
        .get_mut()
        .write_all(&encode_command(&argv))
        .expect("write");
    let mut admin = connect();
    let started = Instant::now();
    while !call_line(&mut admin, &["PING"]).starts_with("-BUSY") {
        assert!(started.elapsed() < PATIENCE, "the script never got busy");
    }
    assert!(call_line(&mut admin, &["SHUTDOWN"]).starts_with("-BUSY"));
    assert_eq!(call_line(&mut admin, &["SHUTDOWN", "NOSAVE"]), "");
    assert!(srv.wait_exit().success());
    let srv = spawn_server(&["kv", "serve", "--data", &p, "0"]);
    let mut c = dial(srv.addr);
    assert_eq!(call_line(&mut c, &["EXISTS", "from-script"]), ":0\r\n");
    drop(srv);
}

/// DEBUG DIGEST and DIGEST-VALUE are Redis's, byte for byte: the same data
/// in redis-server and in netkit give the same digests (every type, streams
/// included, an
/// expiry, two databases), and a COPY digests as its source.
#[test]
fn debug_digests_are_redis_servers_for_the_same_data() {
    let Some(redis) = common::redis::Redis::start() else {
        eprintln!("SKIP: redis-server is not installed (.ci/run installs it)");
        return;
    };
    let kv = Kv::memory();
    let mut r = redis.conn();
    let mut n = kv.conn();
    let script: &[&[&str]] = &[
        &["RPUSH", "l", "a", "b", "c"],
        &["ZADD", "z", "1.5", "a", "2", "b", "3.25", "c"],
        &["HSET", "h", "f1", "v1", "f2", "v2"],
        &["SADD", "s", "x", "y", "12"],
        &["SET", "e", "x", "EX", "100"],
        &["SET", "i", "12345"],
        &["XADD", "x", "1-1", "a", "1"],
        &["XADD", "x", "2-1", "b", "2", "c", "3"],
        &["XGROUP", "CREATE", "x", "g", "0"],
        &["COPY", "h", "h2"],
        &["SELECT", "3"],
        &["SET", "other", "v"],
        &["SELECT", "0"],
    ];
    for cmd in script {
        assert_eq!(r.call(cmd), n.call(cmd), "{cmd:?}");
    }
    let value = [
        "DEBUG",
        "DIGEST-VALUE",
        "l",
        "z",
        "h",
        "h2",
        "s",
        "e",
        "i",
        "missing",
        "x",
    ];
    let theirs = r.call(&value);
    assert_eq!(n.call(&value), theirs);
    let Reply::Array(Some(ds)) = theirs else {
        panic!("digests: {theirs:?}");
    };
    assert_eq!(ds[2], ds[3], "a copy digests as its source");
    assert_eq!(ds[7], Reply::Status("0".repeat(40)));
    assert_eq!(n.call(&["DEBUG", "DIGEST"]), r.call(&["DEBUG", "DIGEST"]));
    n.call(&["FLUSHALL"]);
    assert_eq!(n.call(&["DEBUG", "DIGEST"]), Reply::Status("0".repeat(40)));
}
