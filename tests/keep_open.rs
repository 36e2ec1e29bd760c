//! `serve -k`: stdin goes to every client through a queue bounded in bytes and time.
//! A client that stops reading is dropped with a reset (an error, never an
//! end of stream that passes for a complete transfer), the others get every
//! byte, and stalled clients cost a few MiB, not a queue of chunks each.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::thread;

use common::{PATIENCE, Reaped, Running, random_bytes, spawn_server};

/// A client that never reads: a small receive buffer, so the server's side
/// fills quickly.
fn stalled_client(srv: &Running) -> TcpStream {
    let sock =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    sock.set_recv_buffer_size(4096).expect("rcvbuf");
    sock.connect(&srv.addr.into()).expect("connect");
    sock.into()
}

/// Make sure the server serves each of `clients` (it subscribes a client
/// before reading from it): each says hello and the hello reaches stdout.
fn register(stdout: &mut impl BufRead, clients: &mut [&mut TcpStream]) {
    for c in clients.iter_mut() {
        c.write_all(b"hello\n").unwrap();
    }
    for _ in 0..clients.len() {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, "hello\n");
    }
}

/// A dropped client reads what reached it (in order: a prefix of `sent`),
/// then a reset, never a clean end. Returns how much it read.
fn read_until_reset(c: &mut TcpStream, sent: Option<&[u8]>) -> usize {
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0usize;
    let err = loop {
        match c.read(&mut buf) {
            Ok(0) => panic!("the dropped client saw a clean end after {total} bytes"),
            Ok(n) => {
                if let Some(sent) = sent {
                    assert!(buf[..n] == sent[total..total + n], "bytes out of order");
                }
                total += n;
            }
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");
    total
}

/// A field of /proc/PID/status, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

#[test]
fn a_client_that_stops_reading_is_reset_and_the_others_get_every_byte() {
    let mut srv = spawn_server(&["serve", "-k", "0"]);
    let mut stdout = BufReader::new(srv.stdout.take().unwrap());
    let mut fast = TcpStream::connect(srv.addr).unwrap();
    let mut stalled = stalled_client(&srv);
    register(&mut stdout, &mut [&mut fast, &mut stalled]);

    let data = random_bytes(32 << 20, 8);
    let reader = {
        let mut fast = fast.try_clone().unwrap();
        fast.set_read_timeout(Some(PATIENCE)).unwrap();
        thread::spawn(move || {
            let mut got = Vec::new();
            fast.read_to_end(&mut got).map(|_| got)
        })
    };
    let mut stdin = srv.stdin.take().unwrap();
    let feed = {
        let data = data.clone();
        thread::spawn(move || {
            stdin.write_all(&data).unwrap();
            // EOF: the clients still served are half-closed.
        })
    };
    srv.wait_stderr("dropped and reset");
    feed.join().unwrap();
    let got = reader
        .join()
        .unwrap()
        .expect("the fast client reads to a clean end");
    assert_eq!(got.len(), data.len());
    assert!(got == data, "the fast client's bytes differ");

    let total = read_until_reset(&mut stalled, Some(&data));
    assert!(total < data.len());
}

/// stdin waits at most a second for clients that take nothing; then they
/// fill their 1 MiB and are dropped with a reset, costing a few MiB.
#[test]
fn four_stalled_clients_cost_a_few_mib_and_are_reset() {
    let mut srv = spawn_server(&["serve", "-k", "0"]);
    let pid = srv.pid();
    let mut stdout = BufReader::new(srv.stdout.take().unwrap());
    let mut clients: Vec<TcpStream> = (0..4).map(|_| stalled_client(&srv)).collect();
    {
        let mut refs: Vec<&mut TcpStream> = clients.iter_mut().collect();
        register(&mut stdout, &mut refs);
    }
    let before = status_kib(pid, "VmRSS:");
    let mut stdin = srv.stdin.take().unwrap();
    let (tx, rx) = channel();
    thread::spawn(move || {
        // 96 MiB: more than the old 64 MiB per-client queue could hold.
        let chunk = random_bytes(1 << 20, 9);
        for _ in 0..96 {
            if stdin.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = tx.send(stdin); // keep stdin open: the server stays up to be measured
    });
    for _ in 0..4 {
        srv.wait_stderr("dropped and reset");
    }
    for mut c in clients {
        read_until_reset(&mut c, None);
    }
    let _stdin = rx
        .recv_timeout(PATIENCE * 3)
        .expect("stdin was taken in full");
    let peak = status_kib(pid, "VmHWM:");
    eprintln!("server RSS before {before} KiB, peak {peak} KiB");
    assert!(
        peak < before + 16 * 1024,
        "peak RSS {peak} KiB, {before} KiB before the broadcast"
    );
}

/// The time bound, on a Unix socket (its send buffer is fixed, where TCP's
/// grows to take megabytes a stalled client never reads): 768 KiB is under
/// the byte bound, but a client that leaves it unread for 10 s is dropped
/// while stdin stays quiet (a Unix socket has no reset: it sees the stream
/// end); a client that reads gets it all and stays connected.
#[test]
fn a_client_that_leaves_data_unread_for_10s_is_dropped() {
    let dir = common::TempDir::new("keep-open-time");
    let path = dir.path("k.sock");
    let (child, _, stderr) = common::spawn_unix_server(&["serve", "unix", "-k", &path]);
    let mut srv = Reaped(child);
    let mut stdout = BufReader::new(srv.0.stdout.take().unwrap());
    let mut reading = UnixStream::connect(&path).unwrap();
    let mut stalled = UnixStream::connect(&path).unwrap();
    for c in [&mut reading, &mut stalled] {
        c.write_all(b"hello\n").unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, "hello\n");
    }
    let data = random_bytes(768 << 10, 13);
    let mut stdin = srv.0.stdin.take().unwrap();
    stdin.write_all(&data).unwrap();
    reading.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut got = vec![0u8; data.len()];
    reading.read_exact(&mut got).unwrap();
    assert!(got == data, "the reading client's bytes differ");
    // Nothing more is sent: the stalled client's writer enforces the bound.
    let deadline = std::time::Instant::now() + PATIENCE * 3;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = stderr
            .recv_timeout(left)
            .expect("the stalled client was not dropped");
        if line.contains("dropped and reset") {
            break;
        }
    }
    stalled.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut held = Vec::new();
    stalled.read_to_end(&mut held).unwrap();
    assert!(held.len() < data.len() && held[..] == data[..held.len()]);
    stdin.write_all(b"still here\n").unwrap();
    drop(stdin);
    let mut rest = Vec::new();
    reading.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"still here\n");
}

/// The same over TLS: a stalled `openssl s_client` (its stdout never read)
/// is dropped, while `netkit connect --tls` gets every byte of 32 MiB
/// (writes that time out on a full socket keep their ciphertext pending;
/// it must all go out, in order, before the close_notify).
#[test]
fn over_tls_a_stalled_client_is_dropped_and_the_other_gets_every_byte() {
    if !common::have("openssl") {
        return;
    }
    let mut srv = spawn_server(&["serve", "--tls", "-k", "0"]);
    let fp = common::fingerprint_of(&srv.listening);
    let port = srv.addr.port().to_string();
    let mut stdout = BufReader::new(srv.stdout.take().unwrap());
    let fast = common::netkit()
        .args(["connect", "--tls", "--tls-pin", &fp, "127.0.0.1", &port])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("netkit connect --tls");
    let mut fast = Reaped(fast);
    let stalled = Command::new("openssl")
        .args([
            "s_client",
            "-quiet",
            "-connect",
            &format!("127.0.0.1:{port}"),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_client");
    let mut stalled = Reaped(stalled);
    let mut fast_in = fast.0.stdin.take().unwrap();
    let mut stalled_in = stalled.0.stdin.take().unwrap();
    for w in [&mut fast_in, &mut stalled_in] {
        w.write_all(b"hello\n").unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, "hello\n");
    }
    let mut fast_out = fast.0.stdout.take().unwrap();
    let data = random_bytes(32 << 20, 12);
    // Exactly the broadcast: netkit connect keeps its stdout open while its
    // own stdin is.
    let want = data.len();
    let reader = thread::spawn(move || {
        let mut got = vec![0u8; want];
        fast_out.read_exact(&mut got).map(|()| got)
    });
    let mut stdin = srv.stdin.take().unwrap();
    let feed = {
        let data = data.clone();
        thread::spawn(move || stdin.write_all(&data).unwrap())
    };
    srv.wait_stderr("dropped and reset");
    feed.join().unwrap();
    let got = reader.join().unwrap().expect("read netkit's stdout");
    assert_eq!(got.len(), data.len());
    assert!(got == data, "the TLS client's bytes differ");
    drop(fast_in);
}
