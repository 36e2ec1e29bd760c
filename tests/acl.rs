//! `--allow` / `--deny` / `--allow-file` / `--deny-file` on serve (TCP and UDP).
//! Clients come from 127.0.0.1 or 127.0.0.2: both are loopback.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};

use common::{PATIENCE, netkit, roundtrip, spawn_server};

/// A TCP client whose source address is `from` (a loopback address).
fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let sock =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let local: SocketAddr = format!("{from}:0").parse().expect("addr");
    sock.bind(&local.into()).expect("bind source");
    sock.connect(&to.into()).expect("connect");
    let s: TcpStream = sock.into();
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s
}

/// True when the server closed the connection without a byte.
fn closed_at_once(mut s: TcpStream) -> bool {
    let _ = s.write_all(b"anyone?\n");
    let mut buf = [0u8; 16];
    match s.read(&mut buf) {
        Ok(0) => true,
        Err(e) => matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
        Ok(_) => false,
    }
}

#[test]
fn deny_closes_that_client_and_serves_the_others() {
    let srv = spawn_server(&["serve", "--echo", "-v", "--deny", "127.0.0.2", "0"]);
    let denied = connect_from("127.0.0.2", srv.addr);
    assert!(closed_at_once(denied));
    let line = srv.wait_stderr("rejected by --allow/--deny");
    assert!(line.contains("127.0.0.2:"), "{line}");
    let mut ok = connect_from("127.0.0.1", srv.addr);
    assert_eq!(roundtrip(&mut ok, b"hi", 2), b"hi");
    drop(ok);
    srv.signal(15);
    let summary = srv.wait_stderr("netkit: served");
    assert!(
        summary.contains("served 1 connection (1 rejected)"),
        "{summary}"
    );
}

#[test]
fn allow_file_admits_only_its_networks() {
    let dir = common::TempDir::new("acl");
    let list = dir.join("allow.txt");
    std::fs::write(&list, "# only this host\n127.0.0.1/32   # loopback one\n\n").expect("write");
    let srv = spawn_server(&[
        "serve",
        "--echo",
        "--allow-file",
        list.to_str().expect("path"),
        "0",
    ]);
    let mut ok = connect_from("127.0.0.1", srv.addr);
    assert_eq!(roundtrip(&mut ok, b"yes", 3), b"yes");
    assert!(closed_at_once(connect_from("127.0.0.2", srv.addr)));
    // The allowed client is still served after a refusal.
    assert_eq!(roundtrip(&mut ok, b"again", 5), b"again");
}

#[test]
fn listen_mode_skips_denied_clients_and_takes_the_next() {
    let mut srv = spawn_server(&[
        "serve",
        "--allow",
        "127.0.0.0/8",
        "--deny",
        "127.0.0.2",
        "0",
    ]);
    assert!(closed_at_once(connect_from("127.0.0.2", srv.addr)));
    let mut ok = connect_from("127.0.0.1", srv.addr);
    ok.write_all(b"payload").expect("write");
    drop(ok);
    drop(srv.stdin.take());
    assert_eq!(srv.read_stdout(), b"payload");
    assert!(srv.wait_exit().success());
}

#[test]
fn udp_datagrams_from_denied_peers_are_ignored() {
    let srv = spawn_server(&["serve", "udp", "--echo", "-v", "--allow", "127.0.0.2", "0"]);
    let denied = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let allowed = UdpSocket::bind("127.0.0.2:0").expect("bind");
    allowed.set_read_timeout(Some(PATIENCE)).expect("timeout");
    denied.send_to(b"no", srv.addr).expect("send");
    srv.wait_stderr("datagram ignored");
    allowed.send_to(b"yes", srv.addr).expect("send");
    let mut buf = [0u8; 16];
    let (n, _) = allowed.recv_from(&mut buf).expect("echo");
    assert_eq!(&buf[..n], b"yes");
    // The server handles datagrams in order: a reply to the denied one
    // would already be here.
    denied.set_nonblocking(true).expect("nonblocking");
    let err = denied.recv_from(&mut buf).expect_err("no reply expected");
    assert_eq!(err.kind(), ErrorKind::WouldBlock);
}

#[test]
fn bad_networks_are_usage_errors() {
    for args in [
        &["serve", "--echo", "--allow", "10.0.0.0/33", "0"][..],
        &["serve", "--echo", "--deny", "localhost", "0"],
        &["serve", "udp", "--echo", "--allow", "", "0"],
    ] {
        let out = netkit().args(args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--allow") || err.contains("--deny"), "{err}");
    }
    let dir = common::TempDir::new("acl-bad");
    let list = dir.join("deny.txt");
    std::fs::write(&list, "127.0.0.2\n127.0.0.300\n").expect("write");
    let out = netkit()
        .args([
            "serve",
            "--echo",
            "--deny-file",
            list.to_str().expect("path"),
            "0",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("netkit: error: ") && err.contains("line 2:"),
        "{err}"
    );
    let out = netkit()
        .args([
            "serve",
            "--echo",
            "--allow-file",
            "/nonexistent/netkit-list",
            "0",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
}
