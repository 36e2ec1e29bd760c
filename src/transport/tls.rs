//! A TLS session (rustls) over a socket that one thread can read while
//! another writes, blocking or not.
//!
//! rustls's `StreamOwned` wants `&mut` for both directions, so a reader
//! blocked in `read` would stall every write. Here the session sits behind a
//! mutex that is held only to feed it ciphertext or take ciphertext out,
//! never across a socket call:
//!
//! - a read takes the read lock (one reader at a time), returns plaintext
//!   rustls already has, else reads the socket *without* the session lock,
//!   then feeds those bytes (`read_tls`, `process_new_packets`);
//! - a write takes the write lock (one writer at a time), encrypts under the
//!   session lock into a staging buffer, releases it, and writes the buffer
//!   to the socket. Records leave in the order rustls made them, because
//!   ciphertext is only ever taken out while holding the write lock.
//!
//! Lock order is write lock, then session; read lock, then session; a reader
//! that must send (an alert, a key update reply) takes the write lock with no
//! session lock held. Every write is encrypted and sent before `write`
//! returns: no byte waits for a later one.
//!
//! End of stream: close_notify reads as EOF; so does a TCP FIN without one
//! (as ncat and socat treat it: many peers never send close_notify).
//! `shutdown_write` sends close_notify and then FIN, so half-close works
//! through TLS 1.3.
//!
//! Non-blocking sockets (readiness loops): the same calls return
//! `WouldBlock`; ciphertext the socket did not take stays in `pending` and a
//! further write refuses new plaintext until `flush_pending` has sent it, so
//! at most one write's ciphertext is ever held.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rustls::Connection;

use super::Socket;

/// Bytes read from the socket per call: big reads, few syscalls.
const RAW: usize = 256 * 1024;
/// Plaintext encrypted per round of a write (64 KiB of it is 4 records).
const WRITE_CHUNK: usize = 256 * 1024;

/// A TLS session over a socket; clones share the session.
#[derive(Clone)]
pub struct TlsStream {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream")
            .field("socket", &self.shared.sock)
            .finish_non_exhaustive()
    }
}

struct Shared {
    sock: Socket,
    conn: Mutex<Connection>,
    rd: Mutex<RawIn>,
    wr: Mutex<Out>,
}

/// Ciphertext read from the socket and not yet fed to rustls.
struct RawIn {
    buf: Vec<u8>,
    pos: usize,
    end: usize,
}

/// The write side's staging buffer; `pos..` is ciphertext not yet sent.
struct Out {
    buf: Vec<u8>,
    pos: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A TLS failure as an I/O error, keeping rustls's error for messages.
pub fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// The rustls error inside an I/O error made by [`tls_error`], if any.
pub fn as_tls_error(e: &io::Error) -> Option<&rustls::Error> {
    e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
}

impl TlsStream {
    /// Wrap a connected socket; the handshake runs in [`TlsStream::handshake`]
    /// (or, non-blocking, inside the first reads and writes).
    pub fn new(sock: Socket, conn: impl Into<Connection>) -> TlsStream {
        let mut conn = conn.into();
        // Room for one whole write's records: a write is one socket send.
        conn.set_buffer_limit(Some(2 * WRITE_CHUNK));
        TlsStream {
            shared: Arc::new(Shared {
                sock,
                conn: Mutex::new(conn),
                rd: Mutex::new(RawIn {
                    buf: Vec::new(),
                    pos: 0,
                    end: 0,
                }),
                wr: Mutex::new(Out {
                    buf: Vec::new(),
                    pos: 0,
                }),
            }),
        }
    }

    /// The socket underneath.
    pub fn socket(&self) -> &Socket {
        &self.shared.sock
    }

    /// Run the handshake to completion on a blocking socket, within `timeout`
    /// (a client that never speaks must not hold a thread for ever).
    pub fn handshake(&self, timeout: Option<Duration>) -> io::Result<()> {
        let sock = &self.shared.sock;
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            self.send_queued()?;
            if !lock(&self.shared.conn).is_handshaking() {
                return Ok(());
            }
            if let Some(d) = deadline {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "TLS handshake timed out",
                    ));
                }
                sock.set_read_timeout(Some(left))?;
            }
            let got = self.fill();
            if deadline.is_some() {
                sock.set_read_timeout(None)?;
            }
            match got {
                Ok(true) => {}
                Ok(false) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the peer closed the connection during the TLS handshake",
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && deadline.is_some() => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "TLS handshake timed out",
                    ));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Read once from the socket and feed rustls; `Ok(false)` at EOF.
    fn fill(&self) -> io::Result<bool> {
        let mut raw = lock(&self.shared.rd);
        let n = self.read_raw(&mut raw)?;
        self.feed(&mut raw, n == 0)?;
        Ok(n > 0)
    }

    /// Read what the socket has into `raw` (no session lock held); 0 at EOF.
    fn read_raw(&self, raw: &mut RawIn) -> io::Result<usize> {
        if raw.pos == raw.end {
            raw.pos = 0;
            raw.end = 0;
        }
        if raw.buf.len() < RAW {
            raw.buf.resize(RAW, 0);
        }
        if raw.end == raw.buf.len() {
            raw.buf.copy_within(raw.pos..raw.end, 0);
            raw.end -= raw.pos;
            raw.pos = 0;
        }
        let end = raw.end;
        loop {
            match (&self.shared.sock).read(&mut raw.buf[end..]) {
                Ok(n) => {
                    raw.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Feed buffered ciphertext to rustls until it is all in or rustls's
    /// plaintext buffer is full; `eof` tells rustls the socket has ended.
    /// Sends what rustls then wants to send (alerts, handshake replies).
    fn feed(&self, raw: &mut RawIn, eof: bool) -> io::Result<()> {
        let mut conn = lock(&self.shared.conn);
        let mut failed = None;
        while raw.pos < raw.end {
            let mut slice = &raw.buf[raw.pos..raw.end];
            match conn.read_tls(&mut slice) {
                Ok(0) => break,
                Ok(n) => raw.pos += n,
                // rustls's plaintext buffer is full: the reader drains it first.
                Err(_) => break,
            }
            if let Err(e) = conn.process_new_packets() {
                failed = Some(e);
                break;
            }
        }
        if eof && raw.pos == raw.end {
            let _ = conn.read_tls(&mut &[][..]);
        }
        if failed.is_none()
            && let Err(e) = conn.process_new_packets()
        {
            failed = Some(e);
        }
        let wants_write = conn.wants_write();
        drop(conn);
        if wants_write {
            // An alert about the failure is best effort; the failure is what counts.
            let sent = self.send_queued();
            if failed.is_none() {
                sent?;
            }
        }
        match failed {
            Some(e) => Err(tls_error(e)),
            None => Ok(()),
        }
    }

    /// Read plaintext; `Ok(0)` at the end of the stream.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut raw = lock(&self.shared.rd);
        loop {
            if raw.pos < raw.end {
                self.feed(&mut raw, false)?;
            }
            match lock(&self.shared.conn).reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // A FIN without close_notify: the end, as for ncat and socat.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            let n = self.read_raw(&mut raw)?;
            self.feed(&mut raw, n == 0)?;
        }
    }

    /// Encrypt and send all of `buf` (blocking), or as much as the socket
    /// takes (non-blocking: the rest of the ciphertext is kept as pending).
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut out = lock(&self.shared.wr);
        self.send_out(&mut out)?; // WouldBlock: the previous write is still going
        let take = buf.len().min(WRITE_CHUNK);
        let n = {
            let mut conn = lock(&self.shared.conn);
            let n = conn.writer().write(&buf[..take])?;
            take_ciphertext(&mut conn, &mut out)?;
            n
        };
        match self.send_out(&mut out) {
            Ok(()) => Ok(n),
            // The plaintext is taken; its ciphertext waits for flush_pending.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(n),
            Err(e) => Err(e),
        }
    }

    /// Take what rustls wants to send and send it (holding the write lock).
    fn send_queued(&self) -> io::Result<()> {
        let mut out = lock(&self.shared.wr);
        self.send_out(&mut out)?;
        take_ciphertext(&mut lock(&self.shared.conn), &mut out)?;
        self.send_out(&mut out)
    }

    /// Write the staged ciphertext to the socket.
    fn send_out(&self, out: &mut Out) -> io::Result<()> {
        while out.pos < out.buf.len() {
            match (&self.shared.sock).write(&out.buf[out.pos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => out.pos += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        out.buf.clear();
        out.pos = 0;
        Ok(())
    }

    /// True when ciphertext waits for the socket (non-blocking use).
    pub fn has_pending(&self) -> bool {
        let out = lock(&self.shared.wr);
        out.pos < out.buf.len()
    }

    /// Send ciphertext a non-blocking write or read left behind.
    pub fn flush_pending(&self) -> io::Result<()> {
        self.send_queued()
    }

    /// Send close_notify, then shut down the socket's write side.
    pub fn shutdown_write(&self) -> io::Result<()> {
        lock(&self.shared.conn).send_close_notify();
        let sent = self.send_queued();
        let shut = self.shared.sock.shutdown(std::net::Shutdown::Write);
        sent.and(shut)
    }

    /// What was negotiated, for `-v`.
    pub fn info(&self) -> TlsInfo {
        let conn = lock(&self.shared.conn);
        TlsInfo {
            version: conn
                .protocol_version()
                .map(|v| format!("{v:?}").replace("TLSv1_", "TLSv1."))
                .unwrap_or_default(),
            cipher: conn
                .negotiated_cipher_suite()
                .map(|c| format!("{:?}", c.suite()))
                .unwrap_or_default(),
            alpn: conn
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
            sni: match &*conn {
                Connection::Server(s) => s.server_name().map(str::to_string),
                Connection::Client(_) => None,
            },
            peer_sha256: conn
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| super::tlsconfig::fingerprint(c.as_ref())),
        }
    }
}

/// Move everything rustls wants to send into the staging buffer.
fn take_ciphertext(conn: &mut Connection, out: &mut Out) -> io::Result<()> {
    while conn.wants_write() {
        conn.write_tls(&mut out.buf)?;
    }
    Ok(())
}

/// The negotiated parameters of a session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: String,
    /// The cipher suite.
    pub cipher: String,
    /// The ALPN protocol agreed, if any.
    pub alpn: Option<String>,
    /// The server name the client asked for (server side).
    pub sni: Option<String>,
    /// SHA-256 of the peer's certificate, when it sent one.
    pub peer_sha256: Option<String>,
}

impl std::fmt::Display for TlsInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.version, self.cipher)?;
        if let Some(a) = &self.alpn {
            write!(f, ", ALPN {a}")?;
        }
        if let Some(s) = &self.sni {
            write!(f, ", SNI {s}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::tlsconfig::{TlsClientOptions, TlsServerOptions};
    use std::net::{TcpListener, TcpStream};

    /// A connected client/server pair over loopback, handshakes done.
    fn pair() -> (TlsStream, TlsStream) {
        let server = TlsServerOptions::default().build(&[]).unwrap();
        let client = TlsClientOptions {
            pin: Some(crate::transport::tlsconfig::parse_pin(&server.fingerprint).unwrap()),
            ..Default::default()
        }
        .build()
        .unwrap();
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let srv = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let t = TlsStream::new(Socket::Tcp(s), server.session().unwrap());
            t.handshake(Some(Duration::from_secs(10))).unwrap();
            t
        });
        let c = TlsStream::new(
            Socket::Tcp(TcpStream::connect(addr).unwrap()),
            client.session("localhost").unwrap(),
        );
        c.handshake(Some(Duration::from_secs(10))).unwrap();
        (c, srv.join().unwrap())
    }

    #[test]
    fn both_directions_at_once_with_half_close() {
        let (c, s) = pair();
        // 8 MiB each way at the same time: a lock held across a socket call
        // would deadlock here once both send buffers fill.
        let data: Vec<u8> = (0..8u32 << 20).map(|i| (i % 251) as u8).collect();
        let (c2, s2) = (c.clone(), s.clone());
        let d1 = data.clone();
        let w1 = std::thread::spawn(move || {
            let mut off = 0;
            while off < d1.len() {
                off += c2.write(&d1[off..]).unwrap();
            }
            c2.shutdown_write().unwrap();
        });
        let d2 = data.clone();
        let w2 = std::thread::spawn(move || {
            let mut off = 0;
            while off < d2.len() {
                off += s2.write(&d2[off..]).unwrap();
            }
            s2.shutdown_write().unwrap();
        });
        let read_all = |t: &TlsStream| {
            let mut got = Vec::new();
            let mut buf = vec![0u8; 100_000];
            loop {
                let n = t.read(&mut buf).unwrap();
                if n == 0 {
                    return got;
                }
                got.extend_from_slice(&buf[..n]);
            }
        };
        let at_server = std::thread::spawn(move || read_all(&s));
        let at_client = read_all(&c);
        w1.join().unwrap();
        w2.join().unwrap();
        assert!(at_client == data);
        assert!(at_server.join().unwrap() == data);
    }

    #[test]
    fn a_lone_small_write_arrives_at_once() {
        let (c, s) = pair();
        c.write(b"x").unwrap();
        let mut b = [0u8; 8];
        assert_eq!(s.read(&mut b).unwrap(), 1);
        assert_eq!(&b[..1], b"x");
    }

    #[test]
    fn non_blocking_reads_say_would_block_and_writes_keep_pending() {
        let (c, s) = pair();
        s.socket().set_nonblocking(true).unwrap();
        let mut b = [0u8; 64];
        assert_eq!(
            s.read(&mut b).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        c.write(b"hello").unwrap();
        let mut got = 0;
        for _ in 0..1000 {
            match s.read(&mut b) {
                Ok(n) => {
                    got = n;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(&b[..got], b"hello");
        // Fill the peer's buffers: writes keep at most one write's ciphertext.
        let big = vec![7u8; 1 << 20];
        let mut accepted = 0usize;
        loop {
            match s.write(&big) {
                Ok(n) => accepted += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
            assert!(accepted < 256 << 20, "writes never blocked");
        }
        assert!(s.has_pending());
        assert!(lock(&s.shared.wr).buf.len() <= 2 * WRITE_CHUNK + 64 * 1024);
    }
}
