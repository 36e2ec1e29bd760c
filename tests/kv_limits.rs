//! Bounded memory and fair service: a declared length allocates nothing,
//! the output limit, the idle timeout, and the file-descriptor limit.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;

use common::kv::{Kv, ok, quiet};
use common::{PATIENCE, netkit, spawn_server, spawn_server_cmd};
use netkit::kv::protocol::Reply;
use netkit::kv::shared::{Config, Settings};
use netkit::kv::store::Store;

fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS")
}

fn pid_of(r: &common::Running) -> u32 {
    r.pid()
}

#[test]
fn a_declared_half_gigabyte_costs_only_what_arrived() {
    let server = spawn_server(&["kv", "serve", "0"]);
    let pid = pid_of(&server);
    let before = rss_kib(pid);
    let mut conns = Vec::new();
    for _ in 0..8 {
        let mut s = TcpStream::connect(server.addr).expect("connect");
        s.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n")
            .expect("write");
        s.write_all(&[b'x'; 20 * 1024]).expect("write");
        conns.push(s);
    }
    // A PING on another connection is answered after those bytes were read.
    let mut p = TcpStream::connect(server.addr).expect("connect");
    p.set_read_timeout(Some(PATIENCE)).expect("timeout");
    p.write_all(b"PING\r\n").expect("write");
    let mut buf = [0u8; 7];
    p.read_exact(&mut buf).expect("pong");
    assert_eq!(&buf, b"+PONG\r\n");
    let grown = rss_kib(pid).saturating_sub(before);
    assert!(
        grown < 32 * 1024,
        "8 clients declaring 512 MiB each grew the server by {grown} KiB"
    );
}

#[test]
fn a_client_past_the_output_limit_is_disconnected_with_a_log_line() {
    let cfg = Config {
        settings: Settings {
            output_limit: 1 << 20,
            ..Settings::default()
        },
        ..quiet()
    };
    let kv = Kv::start(Arc::new(Store::new(16)), cfg);
    let mut c = kv.conn();
    let big = "v".repeat(2 << 20);
    assert_eq!(c.call(&["SET", "big", &big]), ok());
    assert_eq!(c.call(&["STRLEN", "big"]), Reply::Int(2 << 20));
    c.send(&[b"GET", b"big"]);
    let rest = c.rest();
    assert!(
        rest.len() < 2 << 20,
        "the reply past the limit was not sent"
    );
    // Others are unaffected.
    assert_eq!(kv.conn().call(&["PING"]), Reply::Status("PONG".into()));
    // The binary logs it.
    let server = spawn_server(&["kv", "serve", "--output-limit", "64KiB", "0"]);
    let mut s = TcpStream::connect(server.addr).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s.write_all(b"SETRANGE big 100000 x\r\nGET big\r\n")
        .expect("write");
    server.wait_stderr("output buffer limit");
}

#[test]
fn idle_clients_are_closed_after_the_timeout() {
    let cfg = Config {
        settings: Settings {
            timeout: 1,
            ..Settings::default()
        },
        ..quiet()
    };
    let kv = Kv::start(Arc::new(Store::new(16)), cfg);
    let mut c = kv.conn();
    assert_eq!(c.call(&["PING"]), Reply::Status("PONG".into()));
    // The server closes it within a couple of seconds; PATIENCE bounds the wait.
    assert!(c.rest().is_empty());
    let _ = &kv;
}

#[test]
fn at_the_fd_limit_the_server_logs_once_and_serves_waiting_clients_later() {
    let mut cmd = Command::new("sh");
    let bin = netkit().get_program().to_owned();
    cmd.arg("-c")
        .arg("ulimit -n 32 && exec \"$0\" kv serve -v --threads 1 0")
        .arg(bin);
    let server = spawn_server_cmd(cmd);
    let mut open = Vec::new();
    for _ in 0..40 {
        let mut s = TcpStream::connect(server.addr).expect("connect (the backlog takes it)");
        s.set_read_timeout(Some(std::time::Duration::from_millis(300)))
            .expect("timeout");
        s.write_all(b"PING\r\n").expect("write");
        let mut buf = [0u8; 7];
        let answered = s.read_exact(&mut buf).is_ok();
        open.push((s, answered));
    }
    let waiting = open.iter().filter(|(_, a)| !a).count();
    assert!(waiting > 0, "the limit was never reached");
    server.wait_stderr("accept failed");
    // Free some descriptors: the waiting clients are accepted and answered.
    open.retain(|(_, a)| !a);
    for (s, _) in open.iter_mut() {
        s.set_read_timeout(Some(PATIENCE)).expect("timeout");
        let mut buf = [0u8; 7];
        s.read_exact(&mut buf).expect("a waiting client is served");
        assert_eq!(&buf, b"+PONG\r\n");
    }
    // One line for the whole episode.
    let mut more = 0;
    while let Some(l) = server.try_stderr_line() {
        if l.contains("accept failed") {
            more += 1;
        }
    }
    assert_eq!(more, 0, "the fd limit was logged more than once");
}

#[test]
fn deny_and_allow_filter_clients_like_serve() {
    let cfg = Config {
        acl: netkit::acl::Acl {
            allow: Vec::new(),
            deny: vec![netkit::acl::Cidr::parse("127.0.0.1").expect("cidr")],
        },
        ..quiet()
    };
    let kv = Kv::start(Arc::new(Store::new(16)), cfg);
    let mut s = TcpStream::connect(kv.addr).expect("the backlog accepts");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let _ = s.write_all(b"PING\r\n");
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(
        buf.is_empty(),
        "a denied client got {:?}",
        String::from_utf8_lossy(&buf)
    );
    let allowed = Config {
        acl: netkit::acl::Acl {
            allow: vec![netkit::acl::Cidr::parse("127.0.0.0/8").expect("cidr")],
            deny: Vec::new(),
        },
        ..quiet()
    };
    let kv = Kv::start(Arc::new(Store::new(16)), allowed);
    assert_eq!(kv.conn().call(&["PING"]), Reply::Status("PONG".into()));
}

/// CPU time (user + system) a process has used, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &s[s.rfind(')').expect("stat format") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().expect("utime") + f[12].parse::<u64>().expect("stime")
}

#[test]
fn busy_polling_stops_when_the_clients_go_quiet() {
    // A long window, so a loop that never left it would show.
    let server = spawn_server(&["kv", "serve", "--busy-poll", "20ms", "0"]);
    let pid = pid_of(&server);
    let mut s = TcpStream::connect(server.addr).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let mut buf = [0u8; 7];
    for _ in 0..200 {
        s.write_all(b"PING\r\n").expect("write");
        s.read_exact(&mut buf).expect("pong");
        assert_eq!(&buf, b"+PONG\r\n");
    }
    let before = cpu_ticks(pid);
    // Observe a quiet second (not a wait for readiness): a server that
    // kept spinning would use most of it.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let used = cpu_ticks(pid) - before;
    assert!(
        used < 20,
        "an idle server used {used} ticks of CPU in one second"
    );
    s.write_all(b"PING\r\n").expect("write");
    s.read_exact(&mut buf).expect("pong after the quiet");
    assert_eq!(&buf, b"+PONG\r\n");
}

#[test]
fn a_busy_poll_that_is_not_a_duration_is_a_usage_error() {
    let out = common::run_bounded(&["kv", "serve", "--busy-poll", "5x", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--busy-poll"), "{err}");
    assert!(err.contains("unknown duration unit 'x'"), "{err}");
}
