//! The kv server's connections: a plain mio TCP stream, or a TLS session
//! (`kv serve --tls`) over the same non-blocking socket. Both are `Read +
//! Write + mio::event::Source`, so the readiness loop of `server` is the
//! same for both; TLS ciphertext a write could not send yet is reported by
//! `wants_write` and sent by `flush_pending` when the socket is writable.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, RawFd};

use mio::event::Source;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use crate::transport::tlsconfig::TlsServer;
use crate::transport::{Socket, TlsStream};

/// One client connection.
pub enum KvStream {
    /// Plain TCP.
    Plain(mio::net::TcpStream),
    /// TLS over the (non-blocking) socket.
    Tls(TlsStream, RawFd),
}

impl KvStream {
    /// Wrap an accepted socket; with `tls`, a server session (the handshake
    /// runs inside the first reads).
    pub fn new(stream: mio::net::TcpStream, tls: Option<&TlsServer>) -> io::Result<KvStream> {
        let Some(tls) = tls else {
            return Ok(KvStream::Plain(stream));
        };
        let fd = stream.as_raw_fd();
        // SAFETY: the descriptor comes out of `stream`, which gives it up.
        let std = unsafe { std::net::TcpStream::from_raw_fd(stream.into_raw_fd()) };
        Ok(KvStream::Tls(
            TlsStream::new(Socket::Tcp(std), tls.session()?),
            fd,
        ))
    }

    /// TCP_NODELAY.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        match self {
            KvStream::Plain(s) => s.set_nodelay(on),
            KvStream::Tls(t, _) => match t.socket().tcp() {
                Some(s) => s.set_nodelay(on),
                None => Ok(()),
            },
        }
    }

    /// True when TLS ciphertext waits for the socket.
    pub fn wants_write(&self) -> bool {
        match self {
            KvStream::Plain(_) => false,
            KvStream::Tls(t, _) => t.has_pending(),
        }
    }

    /// Send what TLS left behind; `WouldBlock` if some remains.
    pub fn flush_pending(&self) -> io::Result<()> {
        match self {
            KvStream::Plain(_) => Ok(()),
            KvStream::Tls(t, _) => t.flush_pending(),
        }
    }
}

impl Read for KvStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            KvStream::Plain(s) => s.read(buf),
            KvStream::Tls(t, _) => t.read(buf),
        }
    }
}

impl Write for KvStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            KvStream::Plain(s) => s.write(buf),
            KvStream::Tls(t, _) => t.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Source for KvStream {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            KvStream::Plain(s) => s.register(r, t, i),
            KvStream::Tls(_, fd) => SourceFd(fd).register(r, t, i),
        }
    }

    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            KvStream::Plain(s) => s.reregister(r, t, i),
            KvStream::Tls(_, fd) => SourceFd(fd).reregister(r, t, i),
        }
    }

    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        match self {
            KvStream::Plain(s) => s.deregister(r),
            KvStream::Tls(_, fd) => SourceFd(fd).deregister(r),
        }
    }
}
