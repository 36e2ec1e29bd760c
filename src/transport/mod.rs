//! Transports: one stream type that every mode runs on, whatever carries it.
//!
//! A [`Stream`] is a connected byte stream: plain TCP, a Unix stream socket,
//! or TLS over either. `&Stream` is `Read + Write` (as `&TcpStream` is), so a
//! mode is written once against it: `serve --echo --tls`, `serve unix --chat`,
//! `kv serve --tls`, `bench --tls` and the `connect` prompt over TLS differ only
//! in how the stream was made. A stream can be cloned (`try_clone`) so one
//! thread reads while another writes; for TLS the clones share one session
//! (see `tls` for how reads and writes proceed at once without deadlock).
//!
//! Datagrams (UDP, Unix datagram sockets) have their own small type in `dgram`.
//!
//! How the fast paths fit:
//! - Zero-copy (`splice(2)` in `zerocopy`) needs a plain descriptor on both
//!   sides. A copy loop asks [`Stream::plain_fd`]: TCP and Unix streams have
//!   one, TLS has none (the kernel cannot encrypt), so TLS takes the buffered
//!   read/write loop. No mode special-cases a transport; it asks the stream.
//! - Readiness loops (`serve --echo`'s `evloop`, the kv server) register
//!   [`Stream::raw_fd`] with mio and use the stream non-blocking. TLS works
//!   there too: a read feeds what the socket has to rustls (`read_tls`,
//!   `process_new_packets`) and returns `WouldBlock` only when neither rustls
//!   nor the socket has a byte left; a write encrypts and sends what the
//!   socket takes, keeping the rest of that write's ciphertext, and
//!   [`Stream::wants_write`] tells the loop to wait for room
//!   ([`Stream::flush_pending`] sends it). Measured against a thread per TLS
//!   connection, see `serve::evloop`.
//!
//! - `tls`: the TLS stream over a socket and its handshake.
//! - `tlsconfig`: client and server configurations (roots, pins, client
//!   certificates, the self-signed certificate made at start) and fingerprints.
//! - `unix`: Unix socket addresses (`PATH`, `@abstract`), binding with stale
//!   file removal, and peer credentials.
//! - `listener`: TCP or Unix listeners, accepting a socket and its peer.
//! - `dial`: how a client reaches a target: TCP, Unix, through a proxy, with TLS.
//! - `dgram`: UDP and Unix datagram sockets behind one type.

pub mod dgram;
pub mod dial;
pub mod listener;
pub mod tls;
pub mod tlsconfig;
pub mod unix;

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

pub use tls::TlsStream;

/// A connected socket without TLS: TCP or a Unix stream.
#[derive(Debug)]
pub enum Socket {
    /// TCP.
    Tcp(TcpStream),
    /// A Unix stream socket.
    Unix(UnixStream),
}

impl Socket {
    /// A second handle on the same socket.
    pub fn try_clone(&self) -> io::Result<Socket> {
        Ok(match self {
            Socket::Tcp(s) => Socket::Tcp(s.try_clone()?),
            Socket::Unix(s) => Socket::Unix(s.try_clone()?),
        })
    }

    /// shutdown(2).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.shutdown(how),
            Socket::Unix(s) => s.shutdown(how),
        }
    }

    /// The other end.
    pub fn peer(&self) -> Peer {
        match self {
            Socket::Tcp(s) => s.peer_addr().map(Peer::Inet).unwrap_or(Peer::Unknown),
            Socket::Unix(s) => unix::peer_of(s),
        }
    }

    /// This end (a TCP address; for Unix, the path the server bound, if any).
    pub fn local(&self) -> Peer {
        match self {
            Socket::Tcp(s) => s.local_addr().map(Peer::Inet).unwrap_or(Peer::Unknown),
            Socket::Unix(s) => unix::local_of(s),
        }
    }

    /// The TCP stream, when this is one (for TCP-only socket options).
    pub fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Socket::Tcp(s) => Some(s),
            Socket::Unix(_) => None,
        }
    }

    /// SO_RCVTIMEO.
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.set_read_timeout(t),
            Socket::Unix(s) => s.set_read_timeout(t),
        }
    }

    /// SO_SNDTIMEO.
    pub fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.set_write_timeout(t),
            Socket::Unix(s) => s.set_write_timeout(t),
        }
    }

    /// O_NONBLOCK.
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.set_nonblocking(on),
            Socket::Unix(s) => s.set_nonblocking(on),
        }
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Socket::Tcp(s) => s.as_fd(),
            Socket::Unix(s) => s.as_fd(),
        }
    }
}

impl From<Socket> for std::os::fd::OwnedFd {
    fn from(s: Socket) -> Self {
        match s {
            Socket::Tcp(s) => s.into(),
            Socket::Unix(s) => s.into(),
        }
    }
}

impl Read for &Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match *self {
            Socket::Tcp(s) => (&*s).read(buf),
            Socket::Unix(s) => (&*s).read(buf),
        }
    }
}

impl Write for &Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match *self {
            Socket::Tcp(s) => (&*s).write(buf),
            Socket::Unix(s) => (&*s).write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match *self {
            Socket::Tcp(s) => (&*s).write_vectored(bufs),
            Socket::Unix(s) => (&*s).write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Who is at the other end of a stream (or datagram).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// An IP address and port.
    Inet(SocketAddr),
    /// A Unix socket: the path it is bound to (clients usually have none)
    /// and, for a connected stream, the peer's credentials.
    Unix {
        /// The bound path (`@name` for an abstract address), if any.
        path: Option<String>,
        /// The peer process (SO_PEERCRED), when known.
        pid: Option<i32>,
        /// Its user id.
        uid: Option<u32>,
    },
    /// Not known (the socket is gone).
    Unknown,
}

impl Peer {
    /// The IP address, for `--allow`/`--deny`.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Peer::Inet(a) => Some(a.ip()),
            _ => None,
        }
    }

    /// The socket address, when this is an IP peer.
    pub fn inet(&self) -> Option<SocketAddr> {
        match self {
            Peer::Inet(a) => Some(*a),
            _ => None,
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Inet(a) => write!(f, "{a}"),
            Peer::Unix {
                path: Some(p), pid, ..
            } => match pid {
                Some(pid) => write!(f, "{p} (pid {pid})"),
                None => write!(f, "{p}"),
            },
            Peer::Unix {
                path: None,
                pid: Some(pid),
                ..
            } => write!(f, "unix:pid={pid}"),
            Peer::Unix { .. } => write!(f, "unix:unnamed"),
            Peer::Unknown => write!(f, "unknown"),
        }
    }
}

/// A connected byte stream: TCP, Unix, or TLS over either.
#[derive(Debug)]
pub enum Stream {
    /// Bytes as they are on the wire.
    Plain(Socket),
    /// TLS (rustls) over a socket.
    Tls(TlsStream),
}

impl Stream {
    /// The socket underneath (for options, timeouts, shutdown).
    pub fn socket(&self) -> &Socket {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(t) => t.socket(),
        }
    }

    /// The descriptor that carries these very bytes, for zero-copy paths;
    /// `None` for TLS, whose bytes exist only after decryption.
    pub fn plain_fd(&self) -> Option<BorrowedFd<'_>> {
        match self {
            Stream::Plain(s) => Some(s.as_fd()),
            Stream::Tls(_) => None,
        }
    }

    /// The socket's descriptor, for readiness (mio) registration.
    pub fn raw_fd(&self) -> RawFd {
        self.socket().as_fd().as_raw_fd()
    }

    /// True for TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    /// A second handle: a dup of the socket, or (TLS) the same session.
    pub fn try_clone(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Plain(s) => Stream::Plain(s.try_clone()?),
            Stream::Tls(t) => Stream::Tls(t.clone()),
        })
    }

    /// End our direction: TLS sends close_notify first; then FIN.
    pub fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.shutdown(Shutdown::Write),
            Stream::Tls(t) => t.shutdown_write(),
        }
    }

    /// shutdown(2) with TLS's close_notify for the write direction.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match how {
            Shutdown::Write => self.shutdown_write(),
            _ => self.socket().shutdown(how),
        }
    }

    /// The other end.
    pub fn peer(&self) -> Peer {
        self.socket().peer()
    }

    /// Read and write timeouts on the socket.
    pub fn set_timeouts(&self, t: Option<Duration>) -> io::Result<()> {
        self.socket().set_read_timeout(t)?;
        self.socket().set_write_timeout(t)
    }

    /// O_NONBLOCK on the socket (TLS then works as described in the module docs).
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        self.socket().set_nonblocking(on)
    }

    /// True when a TLS write left ciphertext the socket did not take
    /// (non-blocking use only): wait for it to be writable, then `flush_pending`.
    pub fn wants_write(&self) -> bool {
        match self {
            Stream::Plain(_) => false,
            Stream::Tls(t) => t.has_pending(),
        }
    }

    /// Send ciphertext a non-blocking write left behind; `WouldBlock` if some remains.
    pub fn flush_pending(&self) -> io::Result<()> {
        match self {
            Stream::Plain(_) => Ok(()),
            Stream::Tls(t) => t.flush_pending(),
        }
    }
}

impl From<TcpStream> for Stream {
    fn from(s: TcpStream) -> Self {
        Stream::Plain(Socket::Tcp(s))
    }
}

impl From<UnixStream> for Stream {
    fn from(s: UnixStream) -> Self {
        Stream::Plain(Socket::Unix(s))
    }
}

impl From<Socket> for Stream {
    fn from(s: Socket) -> Self {
        Stream::Plain(s)
    }
}

impl Read for &Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match *self {
            Stream::Plain(s) => (&*s).read(buf),
            Stream::Tls(t) => t.read(buf),
        }
    }
}

impl Write for &Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match *self {
            Stream::Plain(s) => (&*s).write(buf),
            Stream::Tls(t) => t.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
