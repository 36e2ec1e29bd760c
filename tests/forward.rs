//! `serve --forward`: relaying both ways, half-close both ways, small writes
//! crossing at once, limits, TLS on either side, Unix targets, network
//! faults, and `serve udp --forward` sessions.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use common::{
    PATIENCE, TempDir, fingerprint_of, random_bytes, run_with_input, spawn_server,
    spawn_unix_server,
};

fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s
}

fn port(srv: &common::Running) -> String {
    srv.addr.port().to_string()
}

#[test]
fn forward_relays_both_ways_and_logs_each_connection() {
    let echo = spawn_server(&["serve", "--echo", "0"]);
    let fwd = spawn_server(&["serve", "--forward", &echo.addr.to_string(), "-v", "0"]);
    assert!(
        fwd.listening
            .contains(&format!("(tcp forward to {})", echo.addr)),
        "{}",
        fwd.listening
    );
    let data = random_bytes(4 << 20, 11);
    let out = run_with_input(&["connect", "127.0.0.1", &port(&fwd)], &data);
    assert!(out.status.success());
    assert!(out.stdout == data, "{} bytes back", out.stdout.len());
    fwd.wait_stderr(&format!("forwarding to {}", echo.addr));
    let rec = fwd.wait_stderr("(4194304 bytes), out");
    assert!(rec.contains("closed by peer"), "{rec}");
}

/// How a forward relays, by the options it was given: the readiness loops
/// (no options), a thread per direction running the pipe's copy (a tap), and
/// the fault-shaping loop (a rate limit far above what a test moves).
const RELAY_PATHS: [&[&str]; 3] = [&[], &["--hexdump", "/dev/null"], &["--limit-rate", "1G"]];

/// A forward, with `extra` options, in front of a listener the test controls.
fn forward_with(extra: &[&str]) -> (common::Running, TcpListener) {
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = upstream.local_addr().unwrap().to_string();
    let mut args = vec!["serve", "--forward", &target, "-v"];
    args.extend_from_slice(extra);
    args.push("0");
    let fwd = spawn_server(&args);
    (fwd, upstream)
}

#[test]
fn half_close_passes_through_in_both_directions() {
    for extra in RELAY_PATHS {
        half_close_through(extra);
    }
}

fn half_close_through(extra: &[&str]) {
    let (fwd, upstream) = forward_with(extra);
    // Client half-closes first: upstream sees EOF and can still answer.
    let mut c = connect(fwd.addr);
    let (mut u, _) = upstream.accept().unwrap();
    u.set_read_timeout(Some(PATIENCE)).unwrap();
    c.write_all(b"request").unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    u.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"request");
    u.write_all(b"answer after EOF").unwrap();
    drop(u);
    let mut back = Vec::new();
    c.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"answer after EOF");

    // Upstream half-closes first: the client sees EOF and can still send.
    let mut c = connect(fwd.addr);
    let (mut u, _) = upstream.accept().unwrap();
    u.set_read_timeout(Some(PATIENCE)).unwrap();
    u.write_all(b"banner").unwrap();
    u.shutdown(Shutdown::Write).unwrap();
    let mut back = Vec::new();
    c.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"banner");
    c.write_all(b"late words").unwrap();
    drop(c);
    let mut got = Vec::new();
    u.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"late words");
}

#[test]
fn a_lone_small_write_crosses_before_anything_closes() {
    for extra in RELAY_PATHS {
        let (fwd, upstream) = forward_with(extra);
        let mut c = connect(fwd.addr);
        let (mut u, _) = upstream.accept().unwrap();
        u.set_read_timeout(Some(PATIENCE)).unwrap();
        for round in 0..20u8 {
            c.write_all(&[round]).unwrap();
            let mut b = [0u8; 1];
            u.read_exact(&mut b).unwrap();
            assert_eq!(b[0], round, "{extra:?}");
            u.write_all(&[round + 100]).unwrap();
            c.read_exact(&mut b).unwrap();
            assert_eq!(b[0], round + 100, "{extra:?}");
        }
    }
}

/// Pipes the process `pid` holds open.
fn pipes_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("proc fd")
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|l| l.to_string_lossy().starts_with("pipe:"))
        .count()
}

/// Bulk between plain sockets moves by splice through a pipe of the
/// relay's own (relay::event): a burst read to a slow reader makes the
/// relay take one; every byte arrives in order, a lone small write after
/// the bulk still crosses at once both ways, and half-close passes through.
#[test]
fn bulk_moves_by_splice_and_small_writes_still_cross_after_it() {
    let (fwd, upstream) = forward_with(&[]);
    let before = pipes_of(fwd.pid());
    let c = connect(fwd.addr);
    let (mut u, _) = upstream.accept().unwrap();
    u.set_read_timeout(Some(PATIENCE)).unwrap();
    let data = random_bytes(32 << 20, 7);
    let mut cw = c.try_clone().unwrap();
    let d = data.clone();
    let writer = std::thread::spawn(move || cw.write_all(&d).unwrap());
    // A slow reader (4 KiB reads) lets the relay's input fill, so its reads
    // come back full.
    let mut got = Vec::with_capacity(data.len());
    let mut buf = [0u8; 4096];
    while got.len() < data.len() {
        let n = u.read(&mut buf).unwrap();
        assert!(n > 0, "upstream saw EOF after {} bytes", got.len());
        got.extend_from_slice(&buf[..n]);
    }
    writer.join().unwrap();
    assert!(got == data, "the bulk arrived changed");
    assert!(
        pipes_of(fwd.pid()) > before,
        "the relay did not take a pipe for the bulk"
    );
    // Small writes both ways, with everything open.
    let mut c = c;
    for round in 0..10u8 {
        c.write_all(&[round]).unwrap();
        let mut b = [0u8; 1];
        u.read_exact(&mut b).unwrap();
        assert_eq!(b[0], round);
        u.write_all(&[round + 100]).unwrap();
        c.read_exact(&mut b).unwrap();
        assert_eq!(b[0], round + 100);
    }
    // The client's half-close reaches upstream, which still answers.
    c.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    u.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    u.write_all(b"after EOF").unwrap();
    drop(u);
    let mut back = Vec::new();
    c.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"after EOF");
}

/// A FIN that arrives with the last bytes reaches the other side, both
/// ways, although the relay stops reading after a short read (poll saw the
/// FIN; no later edge will come).
#[test]
fn a_fin_right_behind_the_last_bytes_passes_through() {
    let (fwd, upstream) = forward_with(&[]);
    for round in 0..50u32 {
        let msg = format!("round {round}\n");
        let mut c = connect(fwd.addr);
        let (mut u, _) = upstream.accept().unwrap();
        u.set_read_timeout(Some(PATIENCE)).unwrap();
        c.write_all(msg.as_bytes()).unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        u.read_to_end(&mut got)
            .unwrap_or_else(|e| panic!("round {round}: upstream saw no EOF: {e}"));
        assert_eq!(got, msg.as_bytes());
        u.write_all(msg.as_bytes()).unwrap();
        u.shutdown(Shutdown::Write).unwrap();
        let mut back = Vec::new();
        c.read_to_end(&mut back)
            .unwrap_or_else(|e| panic!("round {round}: the client saw no EOF: {e}"));
        assert_eq!(back, msg.as_bytes());
    }
}

#[test]
fn an_idle_relay_is_closed_on_every_path() {
    for extra in RELAY_PATHS {
        let mut args = vec!["--idle-timeout", "300ms"];
        args.extend_from_slice(extra);
        let (fwd, upstream) = forward_with(&args);
        let mut c = connect(fwd.addr);
        let (mut u, _) = upstream.accept().unwrap();
        u.set_read_timeout(Some(PATIENCE)).unwrap();
        c.write_all(b"one").unwrap();
        let mut b = [0u8; 3];
        u.read_exact(&mut b).unwrap();
        // Then silence: both sides are closed, and the record says why.
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty(), "{extra:?}");
        let mut rest = Vec::new();
        let _ = u.read_to_end(&mut rest);
        let rec = fwd.wait_stderr("idle timeout");
        assert!(rec.contains("in 3 B (3 bytes)"), "{extra:?}: {rec}");
    }
}

#[test]
fn an_unreachable_target_closes_that_client_only() {
    let dir = TempDir::new("fwd-unreachable");
    let missing = dir.path("nothing.sock");
    let fwd = spawn_server(&["serve", "--forward", &missing, "-v", "0"]);
    for _ in 0..2 {
        let mut c = connect(fwd.addr);
        let mut b = Vec::new();
        c.read_to_end(&mut b).unwrap();
        assert!(b.is_empty());
    }
    let line = fwd.wait_stderr("cannot reach");
    assert!(line.contains(&missing), "{line}");
}

#[test]
fn max_conns_and_deny_apply() {
    let echo = spawn_server(&["serve", "--echo", "0"]);
    let fwd = spawn_server(&[
        "serve",
        "--forward",
        &echo.addr.to_string(),
        "--max-conns",
        "1",
        "-v",
        "0",
    ]);
    let mut first = connect(fwd.addr);
    first.write_all(b"1").unwrap();
    let mut b = [0u8; 1];
    first.read_exact(&mut b).unwrap();
    let mut second = connect(fwd.addr);
    let mut rest = Vec::new();
    second.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    fwd.wait_stderr("--max-conns reached");

    let denied = spawn_server(&[
        "serve",
        "--forward",
        &echo.addr.to_string(),
        "--deny",
        "127.0.0.1",
        "0",
    ]);
    let mut c = connect(denied.addr);
    let mut rest = Vec::new();
    let _ = c.read_to_end(&mut rest);
    assert!(rest.is_empty());
}

#[test]
fn tls_terminated_and_originated() {
    // Originate: plain clients, a TLS upstream trusted by its pin.
    let tls_echo = spawn_server(&["serve", "--tls", "--echo", "0"]);
    let fp = fingerprint_of(&tls_echo.listening);
    let fwd = spawn_server(&[
        "serve",
        "--forward",
        &tls_echo.addr.to_string(),
        "--forward-tls-pin",
        &fp,
        "0",
    ]);
    let out = run_with_input(&["connect", "127.0.0.1", &port(&fwd)], b"to tls");
    assert_eq!(
        out.stdout,
        b"to tls",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Terminate: TLS clients, a plain upstream.
    let echo = spawn_server(&["serve", "--echo", "0"]);
    let term = spawn_server(&["serve", "--tls", "--forward", &echo.addr.to_string(), "0"]);
    assert!(
        term.listening.contains("(tls forward to "),
        "{}",
        term.listening
    );
    let fp2 = fingerprint_of(&term.listening);
    let data = random_bytes(1 << 20, 3);
    let out = run_with_input(
        &["connect", "--tls-pin", &fp2, "127.0.0.1", &port(&term)],
        &data,
    );
    assert!(
        out.stdout == data,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Both at once.
    let both = spawn_server(&[
        "serve",
        "--tls",
        "--forward",
        &tls_echo.addr.to_string(),
        "--forward-tls-pin",
        &fp,
        "0",
    ]);
    let fp3 = fingerprint_of(&both.listening);
    let out = run_with_input(
        &["connect", "--tls-pin", &fp3, "127.0.0.1", &port(&both)],
        b"tls-tls",
    );
    assert_eq!(out.stdout, b"tls-tls");
}

#[test]
fn unix_sockets_on_either_side() {
    let dir = TempDir::new("fwd-unix");
    let usock = dir.path("echo.sock");
    let (mut uecho, _, _) = spawn_unix_server(&["serve", "unix", "--echo", &usock]);
    let to_unix = spawn_server(&["serve", "--forward", &usock, "0"]);
    let out = run_with_input(&["connect", "127.0.0.1", &port(&to_unix)], b"tcp->unix");
    assert_eq!(out.stdout, b"tcp->unix");

    let echo = spawn_server(&["serve", "--echo", "0"]);
    let front = dir.path("front.sock");
    let (mut ufwd, line, _) =
        spawn_unix_server(&["serve", "unix", "--forward", &echo.addr.to_string(), &front]);
    assert!(line.contains("(unix forward to "), "{line}");
    let out = run_with_input(&["connect", "-U", &front], b"unix->tcp");
    assert_eq!(out.stdout, b"unix->tcp");
    for c in [&mut uecho, &mut ufwd] {
        let _ = c.kill();
        let _ = c.wait();
    }
}

#[test]
fn delay_applies_to_each_direction() {
    let echo = spawn_server(&["serve", "--echo", "0"]);
    let fwd = spawn_server(&[
        "serve",
        "--forward",
        &echo.addr.to_string(),
        "--delay",
        "100ms",
        "0",
    ]);
    assert!(fwd.listening.contains("delay 100ms"), "{}", fwd.listening);
    let mut c = connect(fwd.addr);
    c.set_nodelay(true).unwrap();
    for _ in 0..2 {
        let t0 = Instant::now();
        c.write_all(b"ping").unwrap();
        let mut b = [0u8; 4];
        c.read_exact(&mut b).unwrap();
        // 100ms there and 100ms back, at the least.
        assert!(
            t0.elapsed() >= Duration::from_millis(195),
            "{:?}",
            t0.elapsed()
        );
    }
}

#[test]
fn cut_after_a_size_resets_both_sides_after_exactly_that_many_bytes() {
    let source = spawn_server(&["serve", "--source", "0"]);
    let fwd = spawn_server(&[
        "serve",
        "--forward",
        &source.addr.to_string(),
        "--cut-after",
        "10000",
        "-v",
        "0",
    ]);
    let mut c = connect(fwd.addr);
    let mut got = 0usize;
    let mut buf = [0u8; 4096];
    let err = loop {
        match c.read(&mut buf) {
            Ok(0) => panic!("a clean EOF after {got} bytes, not a reset"),
            Ok(n) => got += n,
            Err(e) => break e,
        }
    };
    assert_eq!(got, 10_000);
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    fwd.wait_stderr("cut (--cut-after)");
}

#[test]
fn cut_after_a_duration_and_limit_rate() {
    let echo = spawn_server(&["serve", "--echo", "0"]);
    let fwd = spawn_server(&[
        "serve",
        "--forward",
        &echo.addr.to_string(),
        "--cut-after",
        "300ms",
        "0",
    ]);
    let t0 = Instant::now();
    let mut c = connect(fwd.addr);
    let mut b = [0u8; 16];
    let r = c.read(&mut b);
    assert!(
        matches!(&r, Err(e) if e.kind() == ErrorKind::ConnectionReset),
        "{r:?}"
    );
    assert!(t0.elapsed() >= Duration::from_millis(290));

    let source = spawn_server(&["serve", "--source", "0"]);
    let slow = spawn_server(&[
        "serve",
        "--forward",
        &source.addr.to_string(),
        "--limit-rate",
        "100KiB",
        "0",
    ]);
    let mut c = connect(slow.addr);
    let t0 = Instant::now();
    let mut buf = vec![0u8; 200 * 1024];
    c.read_exact(&mut buf).unwrap();
    // 200 KiB at 100 KiB/s: about two seconds, never much less.
    assert!(
        t0.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        t0.elapsed()
    );
}

#[test]
fn fault_options_need_forward_and_the_right_protocol() {
    let run = |args: &[&str]| common::netkit().args(args).output().unwrap();
    assert_eq!(
        run(&["serve", "--echo", "--delay", "1s", "0"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&["serve", "--forward", "h:1", "--drop", "5", "0"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&["serve", "udp", "--forward", "h:1", "--cut-after", "5", "0"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&["serve", "--forward", "nohost", "0"]).status.code(),
        Some(2)
    );
}

fn udp_client() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s
}

#[test]
fn udp_forward_keeps_one_upstream_socket_per_client() {
    let echo = spawn_server(&["serve", "udp", "--echo", "0"]);
    let fwd = spawn_server(&[
        "serve",
        "udp",
        "--forward",
        &echo.addr.to_string(),
        "--idle-timeout",
        "300ms",
        "-v",
        "0",
    ]);
    let (a, b) = (udp_client(), udp_client());
    let mut buf = [0u8; 64];
    for round in 0..3 {
        a.send_to(format!("a{round}").as_bytes(), fwd.addr).unwrap();
        b.send_to(format!("b{round}").as_bytes(), fwd.addr).unwrap();
        let n = a.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], format!("a{round}").as_bytes());
        let n = b.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], format!("b{round}").as_bytes());
    }
    // Two sessions, each ended by the idle timeout.
    fwd.wait_stderr("new session");
    fwd.wait_stderr("new session");
    fwd.wait_stderr("session ended (idle)");
    fwd.wait_stderr("session ended (idle)");
    // A later datagram opens a new session and still gets its reply.
    a.send_to(b"again", fwd.addr).unwrap();
    let n = a.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"again");
}

#[test]
fn udp_forward_drop_and_delay() {
    let echo = spawn_server(&["serve", "udp", "--echo", "0"]);
    let lossy = spawn_server(&[
        "serve",
        "udp",
        "--forward",
        &echo.addr.to_string(),
        "--drop",
        "100",
        "0",
    ]);
    let out = run_with_input(
        &[
            "connect",
            "-u",
            "--expect-reply",
            "--reply-timeout",
            "300ms",
            "127.0.0.1",
            &port(&lossy),
        ],
        b"lost",
    );
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let slow = spawn_server(&[
        "serve",
        "udp",
        "--forward",
        &echo.addr.to_string(),
        "--delay",
        "100ms",
        "0",
    ]);
    let c = udp_client();
    let t0 = Instant::now();
    c.send_to(b"slow", slow.addr).unwrap();
    let mut buf = [0u8; 16];
    let n = c.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"slow");
    assert!(
        t0.elapsed() >= Duration::from_millis(195),
        "{:?}",
        t0.elapsed()
    );
}
