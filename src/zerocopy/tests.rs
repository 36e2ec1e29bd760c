//! Each splice route delivers a lone small write while its source stays
//! open, and moves a large payload byte for byte.

use super::*;
use crate::copy;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How long a lone write may take to come out before the test fails; the
/// broken paths held it until the connection closed.
const PATIENCE: Duration = Duration::from_secs(10);
/// Lone writes per route: the socket-to-pipe stall showed up in most tries.
const ROUNDS: usize = 50;

fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (b, _) = l.accept().unwrap();
    (a, b)
}

fn pipe_pair() -> (File, File) {
    let (r, w) = make_pipe().unwrap();
    (File::from(r), File::from(w))
}

/// Run `copy::copy(from, to)` on a thread; returns its byte counter.
fn spawn_copy<R, W>(from: R, to: W) -> (Arc<AtomicU64>, thread::JoinHandle<()>)
where
    R: Read + copy::PlainFd + Send + 'static,
    W: Write + copy::PlainFd + Send + 'static,
{
    let counter = Arc::new(AtomicU64::new(0));
    let c = counter.clone();
    let h = thread::spawn(move || {
        copy::copy(from, to, &c, &|| {}).expect("copy failed");
    });
    (counter, h)
}

/// Read exactly `n` bytes from `r` on a helper thread, within `PATIENCE`.
fn read_within(r: &Arc<Mutex<File>>, n: usize) -> Vec<u8> {
    let (tx, rx) = mpsc::channel();
    let r = r.clone();
    thread::spawn(move || {
        let mut buf = vec![0u8; n];
        let got = r.lock().unwrap().read_exact(&mut buf).map(|()| buf);
        let _ = tx.send(got);
    });
    rx.recv_timeout(PATIENCE)
        .expect("a lone write did not come out while the source was open")
        .expect("read")
}

use std::sync::Mutex;

/// Reads exactly `n` bytes from `s`, failing after `PATIENCE`.
fn socket_reader(s: &TcpStream) -> impl FnMut(usize) -> Vec<u8> + '_ {
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    move |n| {
        let mut buf = vec![0u8; n];
        (&*s)
            .read_exact(&mut buf)
            .expect("a lone write did not reach the socket");
        buf
    }
}

fn lone_writes(mut send: impl FnMut(&[u8]), mut recv: impl FnMut(usize) -> Vec<u8>) {
    for i in 0..ROUNDS {
        let msg = format!("lone write {i}\n");
        send(msg.as_bytes());
        assert_eq!(recv(msg.len()), msg.as_bytes(), "round {i}");
    }
}

#[test]
fn kinds_are_recognised() {
    let null = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .unwrap();
    assert_eq!(Kind::of(null.as_fd()), Kind::DevNull);
    let (r, _w) = pipe_pair();
    assert_eq!(Kind::of(r.as_fd()), Kind::Pipe);
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    assert_eq!(Kind::of(l.as_fd()), Kind::Socket);
    let dir = std::env::temp_dir().join(format!("netkit-kind-{}", std::process::id()));
    let f = File::create(&dir).unwrap();
    assert_eq!(Kind::of(f.as_fd()), Kind::File);
    let a = std::fs::OpenOptions::new().append(true).open(&dir).unwrap();
    assert_eq!(Kind::of(a.as_fd()), Kind::Other);
    let _ = std::fs::remove_file(&dir);
}

use std::os::fd::{AsFd, AsRawFd};

#[test]
fn the_route_table() {
    use Kind::*;
    assert_eq!(route(Socket, Pipe), Route::SocketToPipe);
    assert_eq!(route(File, Socket), Route::FileToSocket);
    for dst in [Socket, File, DevNull] {
        assert_eq!(route(Socket, dst), Route::ThroughPipe);
    }
    for (s, d) in [
        (File, File),
        (Pipe, Socket),
        (Other, Socket),
        (Socket, Other),
        (Pipe, Pipe),
    ] {
        assert_eq!(route(s, d), Route::Plain, "{s:?} -> {d:?}");
    }
}

/// A pipe into a socket takes the plain loop with a grown pipe (module docs).
#[test]
fn pipe_to_socket_delivers_a_lone_write_at_once() {
    let (pr, mut pw) = pipe_pair();
    let (a, b) = tcp_pair();
    assert_eq!(
        route(Kind::of(pr.as_fd()), Kind::of(a.as_fd())),
        Route::Plain
    );
    let (_, h) = spawn_copy(pr.try_clone().unwrap(), a);
    lone_writes(|m| pw.write_all(m).unwrap(), socket_reader(&b));
    // SAFETY: F_GETPIPE_SZ reads the size of a pipe we own.
    let size = unsafe { libc::fcntl(pr.as_raw_fd(), libc::F_GETPIPE_SZ) };
    assert_eq!(size, PIPE_SIZE, "the stdin pipe was not grown");
    drop(pw);
    h.join().unwrap();
}

#[test]
fn socket_to_pipe_delivers_a_lone_write_to_a_blocked_reader() {
    let (a, mut b) = tcp_pair();
    let (pr, pw) = pipe_pair();
    assert_eq!(
        route(Kind::of(a.as_fd()), Kind::of(pw.as_fd())),
        Route::SocketToPipe
    );
    let (_, h) = spawn_copy(a, pw);
    let pr = Arc::new(Mutex::new(pr));
    lone_writes(|m| b.write_all(m).unwrap(), |n| read_within(&pr, n));
    drop(b);
    h.join().unwrap();
}

/// Unix stream sockets take the same routes. The pipe wakeup stall shows
/// with them too (measured with os.splice: 23 of 30 lone writes stuck in
/// the pipe without the `poll` first, none with it), so the same fix holds.
#[test]
fn unix_sockets_deliver_a_lone_write_on_every_route() {
    use std::os::unix::net::UnixStream;
    let unix_reader = |s: UnixStream| {
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        move |n: usize| {
            let mut buf = vec![0u8; n];
            (&s).read_exact(&mut buf)
                .expect("a lone write did not reach the socket");
            buf
        }
    };

    // socket -> stdout pipe, with a reader already blocked on the pipe
    let (a, mut b) = UnixStream::pair().unwrap();
    let (pr, pw) = pipe_pair();
    assert_eq!(
        route(Kind::of(a.as_fd()), Kind::of(pw.as_fd())),
        Route::SocketToPipe
    );
    let (_, h) = spawn_copy(File::from(std::os::fd::OwnedFd::from(a)), pw);
    let pr = Arc::new(Mutex::new(pr));
    lone_writes(|m| b.write_all(m).unwrap(), |n| read_within(&pr, n));
    drop(b);
    h.join().unwrap();

    // stdin pipe -> socket
    let (pr, mut pw) = pipe_pair();
    let (a, b) = UnixStream::pair().unwrap();
    let (_, h) = spawn_copy(pr, File::from(std::os::fd::OwnedFd::from(a)));
    lone_writes(|m| pw.write_all(m).unwrap(), unix_reader(b));
    drop(pw);
    h.join().unwrap();

    // Unix socket -> TCP socket (a relay to a Unix target)
    let (a, mut b) = UnixStream::pair().unwrap();
    let (c, d) = tcp_pair();
    assert_eq!(
        route(Kind::of(a.as_fd()), Kind::of(c.as_fd())),
        Route::ThroughPipe
    );
    let (_, h) = spawn_copy(File::from(std::os::fd::OwnedFd::from(a)), c);
    lone_writes(|m| b.write_all(m).unwrap(), socket_reader(&d));
    drop(b);
    h.join().unwrap();
}

#[test]
fn socket_to_socket_delivers_a_lone_write_at_once() {
    let (a, mut b) = tcp_pair();
    let (c, d) = tcp_pair();
    assert_eq!(
        route(Kind::of(a.as_fd()), Kind::of(c.as_fd())),
        Route::ThroughPipe
    );
    let (_, h) = spawn_copy(a, c);
    lone_writes(|m| b.write_all(m).unwrap(), socket_reader(&d));
    drop(b);
    h.join().unwrap();
}

#[test]
fn socket_to_file_and_dev_null_deliver_a_lone_write_at_once() {
    let path = std::env::temp_dir().join(format!("netkit-zc-lone-{}", std::process::id()));
    let file = File::create(&path).unwrap();
    let null = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .unwrap();
    for sink in [file, null] {
        let (a, mut b) = tcp_pair();
        assert_eq!(
            route(Kind::of(a.as_fd()), Kind::of(sink.as_fd())),
            Route::ThroughPipe
        );
        let (counter, h) = spawn_copy(a, sink);
        // The counter moves only once the sink's write returned.
        let mut total = 0u64;
        for i in 0..ROUNDS {
            let msg = format!("lone write {i}\n");
            b.write_all(msg.as_bytes()).unwrap();
            total += msg.len() as u64;
            let deadline = Instant::now() + PATIENCE;
            while counter.load(Ordering::Relaxed) < total {
                assert!(
                    Instant::now() < deadline,
                    "round {i} never reached the sink"
                );
                thread::sleep(Duration::from_millis(1));
            }
        }
        drop(b);
        h.join().unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(text.starts_with("lone write 0\nlone write 1\n"));
    assert!(text.ends_with(&format!("lone write {}\n", ROUNDS - 1)));
}

#[test]
fn large_payloads_arrive_byte_for_byte_on_every_route() {
    let data: Arc<Vec<u8>> = Arc::new((0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect());
    let feed = |mut w: TcpStream| {
        let d = data.clone();
        thread::spawn(move || w.write_all(&d).unwrap())
    };

    // Socket -> pipe.
    let (a, b) = tcp_pair();
    let (mut pr, pw) = pipe_pair();
    let (_, h) = spawn_copy(a, pw);
    let f = feed(b);
    let mut back = Vec::new();
    pr.read_to_end(&mut back).unwrap();
    f.join().unwrap();
    h.join().unwrap();
    assert!(back == *data, "socket -> pipe");

    // Pipe -> socket.
    let (pr, mut pw) = pipe_pair();
    let (a, mut b) = tcp_pair();
    let (_, h) = spawn_copy(pr, a);
    let d = data.clone();
    let w = thread::spawn(move || pw.write_all(&d).unwrap());
    let mut back = Vec::new();
    b.read_to_end(&mut back).unwrap();
    w.join().unwrap();
    h.join().unwrap();
    assert!(back == *data, "pipe -> socket");

    // Socket -> socket.
    let (a, b) = tcp_pair();
    let (c, mut d) = tcp_pair();
    let (_, h) = spawn_copy(a, c);
    let f = feed(b);
    let mut back = Vec::new();
    d.read_to_end(&mut back).unwrap();
    f.join().unwrap();
    h.join().unwrap();
    assert!(back == *data, "socket -> socket");

    // Socket -> file.
    let path = std::env::temp_dir().join(format!("netkit-zc-big-{}", std::process::id()));
    let (a, b) = tcp_pair();
    let (counter, h) = spawn_copy(a, File::create(&path).unwrap());
    feed(b).join().unwrap();
    h.join().unwrap();
    let back = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(counter.load(Ordering::Relaxed) as usize, data.len());
    assert!(back == *data, "socket -> file");
}

/// A regular file goes out by sendfile from where its position stands (a
/// shell may have read part of it), all of it while the socket stays open,
/// and leaves the position at the end as a read loop would.
#[test]
fn file_to_socket_sends_from_the_position_and_advances_it() {
    use std::io::{Seek, SeekFrom};
    let path = std::env::temp_dir().join(format!("netkit-zc-file-{}", std::process::id()));
    let data: Vec<u8> = (0..5_000_000u32).map(|i| (i * 13 % 253) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    for skip in [0usize, 3, 4_999_990] {
        let mut file = File::open(&path).unwrap();
        file.seek(SeekFrom::Start(skip as u64)).unwrap();
        let (a, b) = tcp_pair();
        assert_eq!(
            route(Kind::of(file.as_fd()), Kind::of(a.as_fd())),
            Route::FileToSocket
        );
        // A clone shares the open file's position.
        let (counter, h) = spawn_copy(file.try_clone().unwrap(), a.try_clone().unwrap());
        let back = socket_reader(&b)(data.len() - skip);
        h.join().unwrap();
        // `a` is still open: everything arrived before any close.
        assert!(back == data[skip..], "skip {skip}");
        assert_eq!(counter.load(Ordering::Relaxed) as usize, data.len() - skip);
        assert_eq!(file.stream_position().unwrap() as usize, data.len());
        drop(a);
    }
    let _ = std::fs::remove_file(&path);
}

fn set_nonblocking(f: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: F_GETFL/F_SETFL on a descriptor we own.
    unsafe {
        let fl = libc::fcntl(f.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(f.as_raw_fd(), libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
}

#[test]
fn non_blocking_stdin_and_stdout_are_waited_for_on_every_path() {
    let data: Arc<Vec<u8>> = Arc::new(
        (0..2_000_000u32)
            .map(|i| if i % 61 == 0 { b'\n' } else { (i % 251) as u8 })
            .collect(),
    );
    for plain in [false, true] {
        // stdin: a non-blocking pipe, fed in small pieces.
        let (pr, mut pw) = pipe_pair();
        set_nonblocking(&pr);
        let (a, mut b) = tcp_pair();
        let h = thread::spawn(move || {
            let n = AtomicU64::new(0);
            if plain {
                let tap = crate::hexdump::Tap::new(|_, _| {});
                copy::copy(
                    tap.reader(&pr, crate::hexdump::Direction::Out),
                    &a,
                    &n,
                    &|| {},
                )
            } else {
                copy::copy(&pr, &a, &n, &|| {})
            }
            .expect("copy from a non-blocking pipe");
        });
        let d = data.clone();
        let w = thread::spawn(move || {
            for chunk in d.chunks(7000) {
                pw.write_all(chunk).unwrap();
            }
        });
        let mut back = Vec::new();
        let rd = thread::spawn(move || {
            b.read_to_end(&mut back).unwrap();
            back
        });
        w.join().unwrap();
        h.join().unwrap();
        assert!(
            rd.join().unwrap() == *data,
            "non-blocking stdin, plain={plain}"
        );

        // stdout: a non-blocking pipe read 4 KiB at a time, so it fills.
        let (a, b) = tcp_pair();
        let (mut pr, pw) = pipe_pair();
        set_nonblocking(&pw);
        let h = thread::spawn(move || {
            let n = AtomicU64::new(0);
            if plain {
                let tap = crate::hexdump::Tap::new(|_, _| {});
                copy::copy(
                    tap.reader(&a, crate::hexdump::Direction::In),
                    &pw,
                    &n,
                    &|| {},
                )
            } else {
                copy::copy(&a, &pw, &n, &|| {})
            }
            .expect("copy into a non-blocking pipe");
        });
        let d = data.clone();
        let f = thread::spawn(move || {
            let mut b = b;
            b.write_all(&d).unwrap();
        });
        let mut back = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = pr.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            back.extend_from_slice(&buf[..n]);
        }
        f.join().unwrap();
        h.join().unwrap();
        assert!(back == *data, "non-blocking stdout, plain={plain}");
    }
}
