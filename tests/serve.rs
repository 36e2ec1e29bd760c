//! `netkit serve`: every TCP and UDP mode through the real binary or the
//! in-process server, limits, hostile clients and the graceful stop.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::Duration;

use common::{InProcess, PATIENCE, random_bytes, roundtrip, spawn_server};
use netkit::serve::{TcpConfig, TcpMode};

fn cfg(mode: TcpMode) -> TcpConfig {
    TcpConfig {
        mode,
        ..TcpConfig::default()
    }
}

fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s
}

#[test]
fn echo_in_all_three_spellings_reports_its_address() {
    for args in [
        &["serve", "--echo", "0"][..],
        &["serve", "tcp", "--echo", "0"],
    ] {
        let srv = spawn_server(args);
        assert!(srv.addr.ip().is_loopback());
        let mut c = connect(srv.addr);
        assert_eq!(roundtrip(&mut c, b"ping\n", 5), b"ping\n");
    }
    let srv = spawn_server(&["serve", "udp", "--echo", "0"]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(PATIENCE)).unwrap();
    sock.send_to(b"dgram", srv.addr).unwrap();
    let mut buf = [0u8; 64];
    let (n, _) = sock.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"dgram");
}

#[test]
fn listening_mentions_loopback_and_ipv6_bind_works() {
    let srv = spawn_server(&["serve", "--echo", "--bind", "::1", "0"]);
    assert_eq!(srv.addr.ip().to_string(), "::1");
    let mut c = connect(srv.addr);
    assert_eq!(roundtrip(&mut c, b"v6", 2), b"v6");

    let mut srv = spawn_server(&["serve", "--echo", "--count", "1", "0"]);
    let line = srv.listening.clone();
    assert!(line.starts_with("listening on 127.0.0.1:"), "{line}");
    assert!(
        line.contains("(tcp echo)") && line.contains("--bind 0.0.0.0"),
        "{line}"
    );
    drop(connect(srv.addr));
    assert!(srv.wait_exit().success());
}

#[test]
fn echo_returns_a_large_payload_byte_for_byte() {
    let srv = InProcess::tcp(cfg(TcpMode::Echo));
    let mut c = srv.client();
    let data = random_bytes(4 << 20, 7);
    let w = c.try_clone().unwrap();
    let d2 = data.clone();
    let writer = thread::spawn(move || {
        let mut w = w;
        w.write_all(&d2).unwrap();
        w.shutdown(Shutdown::Write).unwrap();
    });
    let mut back = Vec::new();
    c.read_to_end(&mut back).unwrap();
    writer.join().unwrap();
    assert!(back == data, "echo differs");
    drop(c);
    let summary = srv.stop();
    assert_eq!(summary.connections, 1);
    assert_eq!(summary.bytes_in, data.len() as u64);
    assert_eq!(summary.bytes_out, data.len() as u64);
}

/// A FIN that arrives with the last bytes, before the loop reads them:
/// the echo loop stops reading after a short read, so it must still notice
/// that FIN (poll saw it; no later edge will come) and close.
#[test]
fn echo_notices_a_fin_that_came_with_the_last_bytes() {
    let srv = InProcess::tcp(cfg(TcpMode::Echo));
    for round in 0..100u32 {
        let mut c = srv.client();
        c.set_read_timeout(Some(PATIENCE)).unwrap();
        let msg = format!("round {round}\n");
        c.write_all(msg.as_bytes()).unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut back = Vec::new();
        c.read_to_end(&mut back)
            .unwrap_or_else(|e| panic!("round {round}: no EOF after the echo: {e}"));
        assert_eq!(back, msg.as_bytes(), "round {round}");
    }
    srv.stop();
}

#[test]
fn upper_uppercases_lines_and_quit_says_bye() {
    let srv = InProcess::tcp(cfg(TcpMode::Upper));
    let mut c = srv.client();
    assert_eq!(roundtrip(&mut c, b"hello world\n", 12), b"HELLO WORLD\n");
    assert_eq!(roundtrip(&mut c, b"crlf\r\n", 6), b"CRLF\r\n");
    c.write_all(b"quit\n").unwrap();
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"bye\n");
}

#[test]
fn upper_drops_an_endless_line_and_keeps_serving() {
    let srv = InProcess::tcp(cfg(TcpMode::Upper));
    let mut c = srv.client();
    let junk = vec![b'a'; 200 * 1024];
    let _ = c.write_all(&junk); // the server may close before all of it is read
    let mut rest = Vec::new();
    let _ = c.read_to_end(&mut rest);
    assert!(
        rest.ends_with(b"ERR line too long\n"),
        "{:?}",
        String::from_utf8_lossy(&rest[rest.len().saturating_sub(40)..])
    );
    let mut c2 = srv.client();
    assert_eq!(roundtrip(&mut c2, b"ok\n", 3), b"OK\n");
}

#[test]
fn discard_counts_bytes_and_logs_them_with_v() {
    let srv = spawn_server(&["serve", "--discard", "-v", "0"]);
    let mut c = connect(srv.addr);
    c.write_all(&vec![0u8; 100_000]).unwrap();
    drop(c);
    let line = srv.wait_stderr("closed by peer");
    assert!(line.contains("(100000 bytes)"), "{line}");
}

#[test]
fn source_sends_the_chargen_pattern_until_the_client_leaves() {
    let srv = InProcess::tcp(cfg(TcpMode::Source));
    let mut c = srv.client();
    let mut buf = vec![0u8; 300_000];
    c.read_exact(&mut buf).unwrap();
    assert_eq!(&buf[..8], b" !\"#$%&'");
    assert_eq!(&buf[72..76], b"\r\n!\"");
    drop(c);
    let summary = srv.stop();
    assert!(summary.bytes_out >= 300_000);
}

#[test]
fn time_sends_unix_seconds_then_closes() {
    let srv = InProcess::tcp(cfg(TcpMode::Time));
    let mut c = srv.client();
    let mut s = String::new();
    c.read_to_string(&mut s).unwrap();
    let t: u64 = s.trim_end().parse().expect("a number");
    let now = netkit::serve::services::unix_seconds();
    assert!(s.ends_with('\n') && t.abs_diff(now) <= 5, "{s}");
}

#[test]
fn framed_echoes_frames_and_drops_an_oversized_one_without_allocating() {
    let srv = spawn_server(&["serve", "--framed", "--max-frame", "1KiB", "-v", "0"]);
    let mut c = connect(srv.addr);
    let mut frame = 5u32.to_be_bytes().to_vec();
    frame.extend_from_slice(b"hello");
    assert_eq!(roundtrip(&mut c, &frame, 9), frame);
    // An empty frame is a frame too.
    assert_eq!(roundtrip(&mut c, &[0, 0, 0, 0], 4), [0, 0, 0, 0]);

    let mut bad = connect(srv.addr);
    bad.write_all(&u32::MAX.to_be_bytes()).unwrap();
    let mut rest = Vec::new();
    bad.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    let line = srv.wait_stderr("exceeds --max-frame");
    assert!(line.contains("4294967295"), "{line}");
    // The first client is still served.
    assert_eq!(roundtrip(&mut c, &frame, 9), frame);
}

#[test]
fn listen_mode_pipes_one_client_both_ways_then_exits() {
    let mut srv = spawn_server(&["serve", "0"]);
    let mut stdin = srv.stdin.take().unwrap();
    let mut c = connect(srv.addr);
    c.write_all(b"from client\n").unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    stdin.write_all(b"from server\n").unwrap();
    drop(stdin);
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"from server\n");
    assert!(srv.wait_exit().success());
    assert_eq!(srv.read_stdout(), b"from client\n");
}

#[test]
fn keep_open_serves_many_clients_and_broadcasts_stdin() {
    let mut srv = spawn_server(&["serve", "-k", "-v", "0"]);
    let mut a = connect(srv.addr);
    let mut b = connect(srv.addr);
    a.write_all(b"A\n").unwrap();
    b.write_all(b"B\n").unwrap();
    // Both are registered once the server has read from each of them.
    let mut stdout = BufReader::new(srv.stdout.take().unwrap());
    let mut lines = [String::new(), String::new()];
    for l in &mut lines {
        stdout.read_line(l).unwrap();
    }
    lines.sort();
    assert_eq!(lines, ["A\n", "B\n"]);
    let mut stdin = srv.stdin.take().unwrap();
    stdin.write_all(b"to all\n").unwrap();
    drop(stdin); // EOF: every client is half-closed
    for c in [&mut a, &mut b] {
        let mut got = Vec::new();
        c.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"to all\n");
    }
}

#[test]
fn count_exits_after_n_connections() {
    let mut srv = spawn_server(&["serve", "--echo", "--count", "2", "0"]);
    for _ in 0..2 {
        let mut c = connect(srv.addr);
        assert_eq!(roundtrip(&mut c, b"x", 1), b"x");
    }
    let status = srv.wait_exit();
    assert!(status.success());
    let summary = srv.wait_stderr("served");
    assert!(summary.contains("served 2 connections"), "{summary}");
}

#[test]
fn max_conns_turns_extra_clients_away_without_harm() {
    let srv = InProcess::tcp(TcpConfig {
        max_conns: Some(1),
        ..cfg(TcpMode::Echo)
    });
    let mut first = srv.client();
    assert_eq!(roundtrip(&mut first, b"1", 1), b"1");
    let mut second = srv.client();
    let mut buf = [0u8; 1];
    let _ = second.write_all(b"2");
    assert!(
        matches!(second.read(&mut buf), Ok(0) | Err(_)),
        "extra client was served"
    );
    assert_eq!(roundtrip(&mut first, b"3", 1), b"3");
    drop(first);
    drop(second);
    let summary = srv.stop();
    assert_eq!(summary.rejected, 1);
}

#[test]
fn idle_timeout_closes_a_silent_client() {
    let srv = InProcess::tcp(TcpConfig {
        idle_timeout: Some(Duration::from_millis(200)),
        ..cfg(TcpMode::Echo)
    });
    let mut silent = srv.client();
    let mut buf = [0u8; 1];
    assert_eq!(silent.read(&mut buf).unwrap(), 0, "the server closed it");
}

#[test]
fn hostile_clients_never_stall_the_others() {
    let srv = InProcess::tcp(cfg(TcpMode::Echo));
    // One connects and never sends; one sends a lot and never reads.
    let _mute = srv.client();
    let hog = srv.client();
    let mut hog_w = hog.try_clone().unwrap();
    hog_w
        .set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let chunk = vec![7u8; 1 << 20];
    let hog_thread = thread::spawn(move || {
        // Fills both socket buffers; the server's write to it blocks.
        while hog_w.write_all(&chunk).is_ok() {}
    });
    hog_thread.join().unwrap();
    // 200 clients at once, all served while the hog is stuck.
    let clients: Vec<_> = (0..200)
        .map(|i| {
            let addr = srv.addr;
            thread::spawn(move || {
                let mut c = TcpStream::connect(addr).unwrap();
                c.set_read_timeout(Some(PATIENCE)).unwrap();
                let msg = format!("client {i}\n");
                assert_eq!(roundtrip(&mut c, msg.as_bytes(), msg.len()), msg.as_bytes());
            })
        })
        .collect();
    for c in clients {
        c.join().expect("a client was not served");
    }
    drop(hog);
}

#[test]
fn sigterm_lets_a_live_connection_finish_then_prints_a_summary() {
    let mut srv = spawn_server(&["serve", "--echo", "--grace", "10s", "0"]);
    let mut c = connect(srv.addr);
    assert_eq!(roundtrip(&mut c, b"before", 6), b"before");
    srv.signal(15);
    // New clients are refused once the server has stopped accepting...
    let deadline = std::time::Instant::now() + PATIENCE;
    while TcpStream::connect(srv.addr).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "still accepting after SIGTERM"
        );
    }
    // ...but the live one is still echoed during the grace period.
    assert_eq!(roundtrip(&mut c, b"during", 6), b"during");
    drop(c);
    let status = srv.wait_exit();
    assert!(status.success(), "{status:?}");
    let line = srv.wait_stderr("served");
    assert!(line.contains("in,") && line.contains("out"), "{line}");
}

#[test]
fn sigint_after_grace_closes_stuck_connections() {
    let mut srv = spawn_server(&["serve", "--echo", "--grace", "100ms", "0"]);
    let mut c = connect(srv.addr);
    assert_eq!(roundtrip(&mut c, b"x", 1), b"x");
    srv.signal(2);
    let mut buf = [0u8; 1];
    assert_eq!(
        c.read(&mut buf).unwrap_or(0),
        0,
        "closed after the grace period"
    );
    assert!(srv.wait_exit().success());
    let line = srv.wait_stderr("served");
    assert!(line.contains("served 1 connection,"), "{line}");
}

#[test]
fn port_in_use_is_a_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = common::netkit()
        .args(["serve", "--echo", &port])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("netkit: error: cannot listen on 127.0.0.1:"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    for args in [
        &["serve", "--echo", "70000"][..],
        &["serve", "--echo", "--bind", "127.0.0.1", "127.0.0.2:5"],
        &["serve", "udp", "--idle-timeout", "1s", "0"],
        &["serve", "--echo", "--idle-timeout", "soon", "0"],
    ] {
        let out = common::netkit().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error"), "{args:?}: {err}");
    }
}

#[test]
fn a_stop_says_what_it_waits_for_and_cut_connections_are_logged_as_cut() {
    // Echo runs on readiness loops, upper on a thread per connection.
    for (mode, reply) in [("--echo", b"x\n"), ("--upper", b"X\n")] {
        let mut srv = spawn_server(&["serve", mode, "-v", "--grace", "200ms", "0"]);
        let mut c = connect(srv.addr);
        // An answer proves the server holds the connection before the stop.
        assert_eq!(roundtrip(&mut c, b"x\n", 2), reply);
        srv.signal(15);
        let waiting = srv.wait_stderr("stopping:");
        assert!(
            waiting.contains("waiting up to 200ms for 1 connection to finish"),
            "{waiting}"
        );
        let record = srv.wait_stderr("127.0.0.1:");
        assert!(
            record.ends_with("cut at the end of --grace"),
            "{mode}: {record}"
        );
        assert!(srv.wait_exit().success());
        drop(c);
    }
}

#[test]
fn keepalive_takes_its_duration_only_after_an_equals_sign() {
    // `--keepalive 0`: keepalive at its default, and 0 is the port.
    let srv = spawn_server(&["serve", "--echo", "--keepalive", "0"]);
    assert_ne!(srv.addr.port(), 0);
    let srv = spawn_server(&["serve", "--echo", "--keepalive=5s", "0"]);
    assert_ne!(srv.addr.port(), 0);
    let out = common::netkit()
        .args(["serve", "--echo", "--keepalive=0s", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a zero keepalive is refused");
}
