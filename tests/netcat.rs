//! The netcat semantics scripts rely on, each compared with Debian's
//! netcat-openbsd where it is installed: `-q SECS`, `-C/--crlf` in pipe mode,
//! and `-k` with modes that serve many clients anyway (ncat's `-lk -c CMD`).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::mpsc::channel;
use std::thread;
use std::time::{Duration, Instant};

use common::programs::{assert_success, run_within};
use common::{PATIENCE, have, netkit, spawn_server};

/// The parts of the slow reply, sent `GAP` apart.
const PARTS: usize = 4;
/// Longer than the -q values used below, so a timer started at stdin EOF
/// (netkit's old -q) would cut the reply.
const GAP: Duration = Duration::from_millis(300);

/// What the slow server saw and when it closed.
struct Seen {
    request: String,
    fin_before_close: bool,
    closed_at: Instant,
}

/// A server that reads one request line, answers in `PARTS` pieces `GAP`
/// apart, waits for the client's half-close, then closes.
fn slow_server() -> (SocketAddr, thread::JoinHandle<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let h = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut reader = BufReader::new(s.try_clone().unwrap());
        let mut request = String::new();
        reader.read_line(&mut request).unwrap();
        for i in 0..PARTS {
            if i > 0 {
                thread::sleep(GAP); // the slow server under test, not a readiness wait
            }
            s.write_all(format!("part {i}\n").as_bytes()).unwrap();
        }
        let mut rest = Vec::new();
        let fin_before_close = reader.read_to_end(&mut rest).is_ok() && rest.is_empty();
        drop(reader);
        drop(s);
        Seen {
            request,
            fin_before_close,
            closed_at: Instant::now(),
        }
    });
    (addr, h)
}

fn expected_reply() -> String {
    (0..PARTS).map(|i| format!("part {i}\n")).collect()
}

fn netkit_cmd(args: &[&str]) -> Command {
    let mut c = netkit();
    c.args(args);
    c
}

#[test]
fn q_delivers_a_slow_multi_part_reply_then_lingers_after_the_peer_closes() {
    for q in ["0", "500ms"] {
        let (addr, server) = slow_server();
        let port = addr.port().to_string();
        let out = run_within(
            netkit_cmd(&["connect", "-q", q, "127.0.0.1", &port]),
            b"cmd\n",
            PATIENCE * 2,
        );
        let exited_at = Instant::now();
        assert_success("netkit connect -q", &out);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            expected_reply(),
            "-q {q}"
        );
        let seen = server.join().unwrap();
        assert_eq!(seen.request, "cmd\n");
        assert!(
            seen.fin_before_close,
            "-q half-closes at stdin EOF, like nc"
        );
        if q == "500ms" {
            // nc -q SECS waits SECS after the peer's close before it exits.
            assert!(exited_at - seen.closed_at >= Duration::from_millis(500));
        }
    }
}

#[test]
fn q_gets_the_same_reply_as_netcat_openbsd() {
    if !have("nc") {
        return;
    }
    let mut outputs = Vec::new();
    for prog in ["nc", "netkit"] {
        let (addr, server) = slow_server();
        let port = addr.port().to_string();
        let mut cmd = if prog == "nc" {
            Command::new("nc")
        } else {
            netkit_cmd(&["connect"])
        };
        cmd.args(["-q", "0", "127.0.0.1", &port]);
        let out = run_within(cmd, b"cmd\n", PATIENCE * 2);
        assert_success(prog, &out);
        let seen = server.join().unwrap();
        assert!(seen.fin_before_close, "{prog} half-closes with -q");
        outputs.push(out.stdout);
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(String::from_utf8_lossy(&outputs[1]), expected_reply());
}

#[test]
fn q_and_no_shutdown_conflict() {
    let out = netkit_cmd(&["connect", "-q", "1", "--no-shutdown", "127.0.0.1", "9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// What a server receives from `prog ARGS 127.0.0.1 PORT` fed `input`.
fn received_by_server(mut cmd: Command, input: &[u8]) -> Vec<u8> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let server = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        got
    });
    cmd.args(["127.0.0.1", &port]);
    let out = run_within(cmd, input, PATIENCE);
    assert_success("client", &out);
    server.join().unwrap()
}

#[test]
fn crlf_in_pipe_mode_sends_every_bare_newline_as_crlf_like_nc_c() {
    let input: &[u8] = b"GET / HTTP/1.0\nHost: x\r\n\nbody\nlast";
    let want: &[u8] = b"GET / HTTP/1.0\r\nHost: x\r\n\r\nbody\r\nlast";
    for flag in ["-C", "--crlf"] {
        let got = received_by_server(netkit_cmd(&["connect", flag]), input);
        assert_eq!(got, want, "{flag}");
    }
    // A large input: the translation holds across chunk boundaries.
    let big: Vec<u8> = b"0123456789abcd\n".repeat(100_000);
    let got = received_by_server(netkit_cmd(&["connect", "-C"]), &big);
    assert_eq!(got, b"0123456789abcd\r\n".repeat(100_000));
    if have("nc") {
        let mut nc = Command::new("nc");
        nc.args(["-C", "-N"]);
        assert_eq!(received_by_server(nc, input), want, "nc -C");
    }
}

#[test]
fn k_is_accepted_with_modes_that_serve_many_clients() {
    // ncat -lk -c 'tr a-z A-Z'  ->  netkit serve -k --sh-exec 'tr a-z A-Z'
    let srv = spawn_server(&["serve", "-k", "--sh-exec", "tr a-z A-Z", "0"]);
    let (tx, rx) = channel();
    for i in 0..3 {
        let (addr, tx) = (srv.addr, tx.clone());
        thread::spawn(move || {
            let mut c = TcpStream::connect(addr).unwrap();
            c.set_read_timeout(Some(PATIENCE)).unwrap();
            c.write_all(format!("client {i}\n").as_bytes()).unwrap();
            c.shutdown(std::net::Shutdown::Write).unwrap();
            let mut got = String::new();
            c.read_to_string(&mut got).unwrap();
            tx.send(got).unwrap();
        });
    }
    let mut got: Vec<String> = (0..3).map(|_| rx.recv_timeout(PATIENCE).unwrap()).collect();
    got.sort();
    assert_eq!(got, ["CLIENT 0\n", "CLIENT 1\n", "CLIENT 2\n"]);

    let echo = spawn_server(&["serve", "-k", "--echo", "0"]);
    let mut c = TcpStream::connect(echo.addr).unwrap();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    assert_eq!(common::roundtrip(&mut c, b"hi", 2), b"hi");

    let udp = spawn_server(&["serve", "udp", "-k", "--echo", "0"]);
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.send_to(b"dgram", udp.addr).unwrap();
    let mut buf = [0u8; 16];
    let n = s.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"dgram");

    // nc -lUuk: a Unix datagram server takes -k too.
    let dir = common::TempDir::new("k-dgram");
    let path = dir.path("echo.sock");
    let (mut srv, line, _) =
        common::spawn_unix_server(&["serve", "unix", "--dgram", "-k", "--echo", &path]);
    assert!(line.contains(&path), "{line}");
    let c = std::os::unix::net::UnixDatagram::bind(dir.path("me.sock")).unwrap();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    c.send_to(b"unix dgram", &path).unwrap();
    let n = c.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"unix dgram");
    let _ = srv.kill();
    let _ = srv.wait();
}
