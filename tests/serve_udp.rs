//! `serve udp`: its modes (time, listen), and against hostile peers:
//! forged source addresses that would make a server answer itself or
//! another service for ever, empty datagrams, a second process that wants
//! the port, a stop that must not depend on a datagram, and what listen
//! mode counts as sent.
//!
//! Silence is never waited out: the server's `-v` record says a datagram
//! was not answered, and only then is the socket checked to be empty.

mod common;

use std::io::{ErrorKind, Write};
use std::net::{SocketAddr, SocketAddrV4, UdpSocket};
use std::process::Command;
use std::thread;

use common::{PATIENCE, Running, run_bounded, spawn_server};
use socket2::{Domain, Protocol, Socket, Type};

fn udp_client(ip: &str, port: u16) -> UdpSocket {
    let s = UdpSocket::bind((ip, port)).unwrap_or_else(|e| panic!("bind {ip}:{port}: {e}"));
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s
}

/// Nothing is queued on `s` (checked without waiting).
fn assert_nothing_queued(s: &UdpSocket, what: &str) {
    s.set_nonblocking(true).expect("nonblocking");
    let mut buf = [0u8; 64];
    match s.recv(&mut buf) {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("{what}: expected no reply, got {other:?}"),
    }
    s.set_nonblocking(false).expect("blocking");
}

/// One echo from `srv`, so we know it is serving.
fn echoes(srv: SocketAddr) {
    let c = udp_client("127.0.0.1", 0);
    c.send_to(b"ping", srv).expect("send");
    let mut buf = [0u8; 16];
    let n = c.recv(&mut buf).expect("an echo");
    assert_eq!(&buf[..n], b"ping");
}

#[test]
fn datagrams_from_the_servers_own_port_or_empty_ones_are_not_answered() {
    let srv = spawn_server(&["serve", "udp", "--echo", "-v", "0"]);
    // Another loopback address, the server's port: a twin of the server.
    let twin = udp_client("127.0.0.2", srv.addr.port());
    twin.send_to(b"loop?", srv.addr).expect("send");
    srv.wait_stderr("not answered: from this server's own port");
    assert_nothing_queued(&twin, "own port");
    let c = udp_client("127.0.0.1", 0);
    c.send_to(b"", srv.addr).expect("send");
    srv.wait_stderr("not answered: empty");
    assert_nothing_queued(&c, "empty datagram");
    echoes(srv.addr);
}

#[test]
fn datagrams_from_service_ports_are_not_answered() {
    let srv = spawn_server(&["serve", "udp", "--time", "-v", "0"]);
    for port in [7u16, 13, 19, 37] {
        let Ok(s) = UdpSocket::bind(("127.0.0.3", port)) else {
            eprintln!("SKIP: binding port {port} needs root or CAP_NET_BIND_SERVICE");
            return;
        };
        s.send_to(b"TIME", srv.addr).expect("send");
        srv.wait_stderr("not answered: from a UDP service port");
        assert_nothing_queued(&s, "service port");
    }
}

/// A raw IPv4 socket, or `None` (with the reason printed) without root.
fn raw_socket() -> Option<Socket> {
    match Socket::new(
        Domain::IPV4,
        Type::RAW,
        Some(Protocol::from(libc_ipproto_raw())),
    ) {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("SKIP: forging a source address needs a raw socket (root): {e}");
            None
        }
    }
}

fn libc_ipproto_raw() -> i32 {
    255 // IPPROTO_RAW: the packet carries its own IP header
}

/// Send one UDP datagram whose source is forged to `from`.
fn forge(raw: &Socket, from: SocketAddrV4, to: SocketAddrV4, payload: &[u8]) {
    let udp_len = 8 + payload.len();
    let total = 20 + udp_len;
    let mut p = Vec::with_capacity(total);
    p.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        0,
        0,
        0,
        64,
        17,
        0,
        0,
    ]);
    p.extend_from_slice(&from.ip().octets());
    p.extend_from_slice(&to.ip().octets());
    p.extend_from_slice(&from.port().to_be_bytes());
    p.extend_from_slice(&to.port().to_be_bytes());
    p.extend_from_slice(&(udp_len as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]); // no UDP checksum (allowed over IPv4)
    p.extend_from_slice(payload);
    raw.send_to(&p, &SocketAddr::V4(to).into())
        .expect("send a forged datagram");
}

fn v4(a: SocketAddr) -> SocketAddrV4 {
    match a {
        SocketAddr::V4(a) => a,
        SocketAddr::V6(_) => panic!("IPv4 expected"),
    }
}

#[test]
fn a_datagram_forged_from_the_server_itself_is_not_answered() {
    let Some(raw) = raw_socket() else { return };
    let srv = spawn_server(&["serve", "udp", "--echo", "-v", "0"]);
    forge(&raw, v4(srv.addr), v4(srv.addr), b"answer yourself");
    srv.wait_stderr("not answered: from this server's own port");
    echoes(srv.addr);
}

#[test]
fn a_datagram_forged_between_time_and_echo_does_not_ping_pong() {
    let Some(raw) = raw_socket() else { return };
    let echo = spawn_server(&["serve", "udp", "--echo", "-v", "0"]);
    let time = spawn_server(&["serve", "udp", "--time", "-v", "0"]);
    // "From" the time server to the echo server: echo answers time, time
    // answers with an error, echo returns the error, and time stays silent.
    forge(&raw, v4(time.addr), v4(echo.addr), b"hello");
    time.wait_stderr("not answered: an error reply of another service");
    echoes(echo.addr);
}

#[test]
fn a_second_process_cannot_take_the_port() {
    let srv = spawn_server(&["serve", "udp", "--echo", "0"]);
    let port = srv.addr.port().to_string();
    let out = run_bounded(&["serve", "udp", "--echo", &port]);
    assert_eq!(out.status.code(), Some(1), "a second netkit must not bind");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use"), "{err}");
    // A socket with SO_REUSEADDR (what netkit itself used to set) fails too.
    let s = Socket::new(Domain::IPV4, Type::DGRAM, None).expect("socket");
    s.set_reuse_address(true).expect("reuseaddr");
    assert!(
        s.bind(&srv.addr.into()).is_err(),
        "SO_REUSEADDR shared the port"
    );
    echoes(srv.addr);
}

#[test]
fn a_same_user_socket_that_joins_the_port_gets_no_datagrams() {
    let srv = spawn_server(&["serve", "udp", "--echo", "0"]);
    // Linux lets a socket of the same user join with SO_REUSEPORT.
    let joiner = Socket::new(Domain::IPV4, Type::DGRAM, None).expect("socket");
    joiner.set_reuse_port(true).expect("reuseport");
    if let Err(e) = joiner.bind(&srv.addr.into()) {
        eprintln!("the kernel refused SO_REUSEPORT next to netkit ({e}); nothing to steal");
        return;
    }
    let joiner: UdpSocket = joiner.into();
    // Many clients, so hashing alone would hand some of them to the joiner.
    for i in 0..40u8 {
        let c = udp_client("127.0.0.1", 0);
        c.send_to(&[i; 10], srv.addr).expect("send");
        let mut buf = [0u8; 16];
        let n = c.recv(&mut buf).expect("every client gets its echo");
        assert_eq!(&buf[..n], &[i; 10]);
    }
    assert_nothing_queued(&joiner, "the joined socket");
}

#[test]
fn another_users_process_cannot_bind_the_port() {
    if !common::have("setpriv") || !common::have("python3") {
        return;
    }
    let srv = spawn_server(&["serve", "udp", "--echo", "0"]);
    let script = format!(
        "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n\
         s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEPORT,1)\n\
         try:\n s.bind(('127.0.0.1',{}))\n print('bound')\nexcept OSError as e:\n print('refused', e.errno)",
        srv.addr.port()
    );
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "python3",
            "-c",
            &script,
        ])
        .output()
        .expect("setpriv");
    if !out.status.success() {
        eprintln!(
            "SKIP: cannot run as another user: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return;
    }
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "refused 98");
}

#[test]
fn sigterm_stops_the_server_even_when_another_socket_shares_the_port() {
    let mut srv = spawn_server(&["serve", "udp", "--echo", "0"]);
    // Whatever the kernel lets share the port (SO_REUSEPORT for this user
    // now, SO_REUSEADDR before), the stop must not need a datagram.
    let other = Socket::new(Domain::IPV4, Type::DGRAM, None).expect("socket");
    let _ = other.set_reuse_address(true);
    let _ = other.set_reuse_port(true);
    let _shared = other.bind(&srv.addr.into()).is_ok();
    srv.signal(15);
    assert!(srv.wait_exit().success());
}

#[test]
fn listen_mode_counts_the_bytes_it_sends() {
    let mut srv = spawn_server(&["serve", "udp", "--json", "-v", "0"]);
    let c = udp_client("127.0.0.1", 0);
    c.send_to(b"hello\n", srv.addr).expect("send");
    srv.wait_stderr("datagram");
    let mut stdin = srv.stdin.take().expect("stdin");
    stdin.write_all(b"reply\n").expect("write");
    stdin.flush().expect("flush");
    let mut buf = [0u8; 16];
    let n = c.recv(&mut buf).expect("the stdin line");
    assert_eq!(&buf[..n], b"reply\n");
    srv.signal(15);
    let summary = last_json(&mut srv, "summary");
    assert_eq!(summary["bytes_in"], 6);
    assert_eq!(summary["bytes_out"], 6, "{summary}");
}

/// The next stderr JSON object whose event is `event`.
fn last_json(srv: &mut Running, event: &str) -> serde_json::Value {
    loop {
        let line = srv
            .stderr_line()
            .unwrap_or_else(|| panic!("no {event} event"));
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
            && v["event"] == event
        {
            return v;
        }
    }
}

#[test]
fn udp_time_answers_time_and_errors_on_anything_else() {
    let srv = spawn_server(&["serve", "udp", "--time", "0"]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut buf = [0u8; 256];
    sock.send_to(b"TIME", srv.addr).unwrap();
    let n = sock.recv(&mut buf).unwrap();
    let t: u64 = std::str::from_utf8(&buf[..n])
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(t.abs_diff(netkit::serve::services::unix_seconds()) <= 5);
    sock.send_to(b"hello?", srv.addr).unwrap();
    let n = sock.recv(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"ERR"));
}

#[test]
fn udp_listen_writes_datagrams_to_stdout_and_stdin_lines_to_the_last_peer() {
    let mut srv = spawn_server(&["serve", "udp", "--count", "2", "-v", "0"]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(PATIENCE)).unwrap();
    sock.send_to(b"one\n", srv.addr).unwrap();
    // Once the server has logged the datagram it has a peer; a stdin line goes to it.
    srv.wait_stderr("byte datagram");
    let mut stdin = srv.stdin.take().unwrap();
    stdin.write_all(b"reply\n").unwrap();
    stdin.flush().unwrap();
    let mut buf = [0u8; 64];
    let n = sock.recv(&mut buf).expect("the stdin line as a datagram");
    assert_eq!(&buf[..n], b"reply\n");
    sock.send_to(b"two\n", srv.addr).unwrap();
    assert!(srv.wait_exit().success());
    assert_eq!(srv.read_stdout(), b"one\ntwo\n");
}

#[test]
fn udp_server_stops_cleanly_when_asked() {
    // In-process: the stop handle ends the loop, idle or busy, repeatedly.
    for round in 0..20 {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        let flood = (round % 2 == 1).then(|| {
            let c = UdpSocket::bind("127.0.0.1:0").unwrap();
            thread::spawn(move || {
                for _ in 0..20_000 {
                    let _ = c.send_to(&[7u8; 512], addr);
                }
            })
        });
        let shutdown = netkit::shutdown::Shutdown::new();
        let s = shutdown.clone();
        let cfg = netkit::serve::UdpConfig {
            mode: netkit::serve::UdpMode::Echo,
            count: None,
            log: netkit::log::Log {
                level: netkit::log::Level::Quiet,
                json: false,
            },
            acl: Default::default(),
            hexdump: None,
            forward: None,
        };
        let server = thread::spawn(move || netkit::serve::udp::run(socket, s, &cfg));
        if let Some(f) = flood {
            f.join().unwrap();
        }
        shutdown.trigger();
        server.join().expect("no panic").expect("no error");
    }
    // The binary: SIGINT prints the summary and exits 0.
    let mut srv = spawn_server(&["serve", "udp", "--echo", "0"]);
    srv.signal(2);
    assert!(srv.wait_exit().success());
    assert!(srv.wait_stderr("served").contains("0 datagrams"));
}
