//! `netkit connect`: pipe mode, half-close, timeouts, UDP and exit codes,
//! against servers the test binds on port 0.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, UdpSocket};
use std::process::Stdio;
use std::thread;

use common::{InProcess, PATIENCE, netkit, random_bytes, run_with_input, spawn_server};
use netkit::serve::{TcpConfig, TcpMode};

fn echo_server() -> InProcess {
    InProcess::tcp(TcpConfig {
        mode: TcpMode::Echo,
        ..TcpConfig::default()
    })
}

/// Run `netkit ARGS` with `input` on stdin; (exit code, stdout, stderr).
fn run(args: &[&str], input: &[u8]) -> (Option<i32>, Vec<u8>, String) {
    let out = run_with_input(args, input);
    (
        out.status.code(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn echo_hi_through_localhost_prints_hi_and_exits_0() {
    let srv = echo_server();
    let port = srv.addr.port().to_string();
    // localhost may resolve to ::1 first; the server is on 127.0.0.1 only.
    let (code, out, err) = run(&["connect", "localhost", &port], b"hi\n");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, b"hi\n");
    let (code, out, _) = run(&["connect", &format!("127.0.0.1:{port}")], b"x");
    assert_eq!((code, out), (Some(0), b"x".to_vec()));
}

#[test]
fn a_large_random_payload_arrives_byte_for_byte_through_connect_and_serve() {
    let mut srv = spawn_server(&["serve", "0"]);
    let mut server_out = srv.stdout.take().unwrap();
    let reader = thread::spawn(move || {
        let mut got = Vec::new();
        server_out.read_to_end(&mut got).unwrap();
        got
    });
    drop(srv.stdin.take()); // the server has nothing to send
    let data = random_bytes(24 << 20, 42);
    let (code, out, err) = run(
        &["connect", "127.0.0.1", &srv.addr.port().to_string()],
        &data,
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.is_empty());
    let got = reader.join().unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "payload differs");
    assert!(srv.wait_exit().success());
}

#[test]
fn stdin_eof_half_closes_and_the_reply_still_arrives() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let server = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut req = Vec::new();
        s.read_to_end(&mut req).unwrap(); // returns only on the client's half-close
        s.write_all(b"reply after your EOF: ").unwrap();
        s.write_all(&req).unwrap();
    });
    let (code, out, err) = run(&["connect", "127.0.0.1", &port], b"request");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, b"reply after your EOF: request");
    server.join().unwrap();
}

#[test]
fn no_shutdown_keeps_the_write_side_open() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let server = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).unwrap();
        // No EOF arrives while the client lives: prove it by answering, then closing.
        s.write_all(b"ok").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        s.read_to_end(&mut rest).unwrap();
        rest
    });
    let (code, out, err) = run(&["connect", "--no-shutdown", "127.0.0.1", &port], b"data");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, b"ok");
    assert!(server.join().unwrap().is_empty());
}

#[test]
fn refused_exits_3_with_one_line() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    let (code, _, err) = run(&["connect", "127.0.0.1", &port], b"");
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.starts_with("netkit: error: cannot connect to 127.0.0.1:"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn connect_timeout_exits_4_against_a_full_backlog() {
    // A loopback listener that never accepts, with its backlog filled: new
    // SYNs are dropped, so a connect times out without leaving the machine.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(
        &"127.0.0.1:0"
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .into(),
    )
    .unwrap();
    sock.listen(0).unwrap();
    let addr = sock.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(s) =
            std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(200))
        {
            fillers.push(s);
        }
    }
    let (code, _, err) = run(
        &[
            "connect",
            "-w",
            "300ms",
            "127.0.0.1",
            &addr.port().to_string(),
        ],
        b"",
    );
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("timed out"), "{err}");
}

#[test]
fn idle_timeout_exits_4_when_nothing_moves() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let _server = thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        let mut buf = Vec::new();
        let _ = (&s).read_to_end(&mut buf);
    });
    let mut child = netkit()
        .args(["connect", "--idle-timeout", "200ms", "127.0.0.1", &port])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _keep_stdin_open = child.stdin.take();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("idle timeout"));
}

#[test]
fn a_closed_stdout_ends_quietly_with_0() {
    let srv = InProcess::tcp(TcpConfig {
        mode: TcpMode::Source,
        ..TcpConfig::default()
    });
    let mut child = netkit()
        .args(["connect", "127.0.0.1", &srv.addr.port().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _stdin = child.stdin.take();
    let mut stdout = child.stdout.take().unwrap();
    let mut one = [0u8; 1];
    stdout.read_exact(&mut one).unwrap(); // like `| head -c1`
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn udp_time_prints_the_time() {
    let srv = spawn_server(&["serve", "udp", "--time", "0"]);
    let (code, out, err) = run(
        &["connect", "-u", "127.0.0.1", &srv.addr.port().to_string()],
        b"TIME",
    );
    assert_eq!(code, Some(0), "{err}");
    let t: u64 = String::from_utf8(out).unwrap().trim().parse().unwrap();
    assert!(t.abs_diff(netkit::serve::services::unix_seconds()) <= 5);
}

#[test]
fn udp_with_no_reply_exits_0_like_nc_unless_a_reply_is_expected() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    // Fire and forget (statsd, syslog): silence is not a failure.
    let args = [
        "connect",
        "-u",
        "--reply-timeout",
        "200ms",
        "127.0.0.1",
        &port,
    ];
    let (code, out, err) = run(&args, b"anyone?");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.is_empty() && err.is_empty(), "{err}");
    let mut buf = [0u8; 16];
    let n = silent.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"anyone?");
    // --expect-reply asks for the check: exit 5.
    let mut args = args.to_vec();
    args.insert(2, "--expect-reply");
    let (code, out, err) = run(&args, b"anyone?");
    assert_eq!(code, Some(5), "{err}");
    assert!(out.is_empty());
    assert!(err.contains("no reply"), "{err}");
}

#[test]
fn udp_to_a_closed_port_says_so_and_fails_only_when_a_reply_is_expected() {
    let closed = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    let (code, _, err) = run(&["connect", "-u", "127.0.0.1", &port], b"x");
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("port unreachable"), "{err}");
    let (code, _, err) = run(
        &["connect", "-u", "--expect-reply", "127.0.0.1", &port],
        b"x",
    );
    assert_eq!(code, Some(3), "{err}");
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        &["connect", "127.0.0.1"][..],
        &["connect", "127.0.0.1", "99999"],
        &["connect", "127.0.0.1:1", "2"],
        &["connect", "127.0.0.1", "0"],
        &["connect", "-w", "forever", "127.0.0.1", "1"],
        &["connect", "-4", "-6", "127.0.0.1", "1"],
    ] {
        let (code, _, err) = run(args, b"");
        assert_eq!(code, Some(2), "{args:?}: {err}");
    }
}

#[test]
fn ipv6_and_family_flags() {
    let srv = spawn_server(&["serve", "--echo", "--bind", "::1", "0"]);
    let port = srv.addr.port().to_string();
    let (code, out, err) = run(&["connect", "-6", "::1", &port], b"six");
    assert_eq!((code, out), (Some(0), b"six".to_vec()), "{err}");
    let (code, _, err) = run(&["connect", "-4", "::1", &port], b"");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("no IPv4 address"), "{err}");
}

#[test]
fn source_address_and_port_are_used() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let server = thread::spawn(move || {
        let (s, peer) = listener.accept().unwrap();
        drop(s);
        peer
    });
    let (code, _, err) = run(&["connect", "-s", "127.0.0.2", "127.0.0.1", &port], b"");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(server.join().unwrap().ip().to_string(), "127.0.0.2");
}
