//! Datagram sockets: UDP, or a Unix datagram socket, behind one type so the
//! datagram modes of `serve` (listen, echo, discard, time, forward) and
//! `connect -u` are written once.

use std::fmt;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::{SocketAddr as UnixSocketAddr, UnixDatagram};

use super::unix;

/// A datagram socket.
#[derive(Debug)]
pub enum Dgram {
    /// UDP.
    Udp(UdpSocket),
    /// A Unix datagram socket.
    Unix(UnixDatagram),
}

/// Who sent a datagram (and where a reply goes).
#[derive(Debug, Clone)]
pub enum DgramPeer {
    /// An IP sender.
    Inet(SocketAddr),
    /// A Unix sender; unnamed senders cannot be answered.
    Unix(UnixSocketAddr),
}

impl DgramPeer {
    /// The IP address, for `--allow`/`--deny`.
    pub fn inet(&self) -> Option<SocketAddr> {
        match self {
            DgramPeer::Inet(a) => Some(*a),
            DgramPeer::Unix(_) => None,
        }
    }

    /// A key telling senders apart (one upstream socket per client in `--forward`).
    pub fn key(&self) -> String {
        self.to_string()
    }

    /// False for an unnamed Unix sender: nothing can be sent back to it.
    pub fn can_reply(&self) -> bool {
        match self {
            DgramPeer::Inet(_) => true,
            DgramPeer::Unix(a) => !a.is_unnamed(),
        }
    }
}

impl fmt::Display for DgramPeer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DgramPeer::Inet(a) => write!(f, "{a}"),
            DgramPeer::Unix(a) => match unix::describe(a) {
                Some(d) => f.write_str(&d),
                None => f.write_str("unix:unnamed"),
            },
        }
    }
}

impl Dgram {
    /// Receive one datagram and its sender.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, DgramPeer)> {
        match self {
            Dgram::Udp(s) => s.recv_from(buf).map(|(n, a)| (n, DgramPeer::Inet(a))),
            Dgram::Unix(s) => s.recv_from(buf).map(|(n, a)| (n, DgramPeer::Unix(a))),
        }
    }

    /// Send one datagram to `to`.
    pub fn send_to(&self, buf: &[u8], to: &DgramPeer) -> io::Result<usize> {
        match (self, to) {
            (Dgram::Udp(s), DgramPeer::Inet(a)) => s.send_to(buf, a),
            (Dgram::Unix(s), DgramPeer::Unix(a)) => s.send_to_addr(buf, a),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "datagram peer of another family",
            )),
        }
    }

    /// Send on a connected socket.
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Dgram::Udp(s) => s.send(buf),
            Dgram::Unix(s) => s.send(buf),
        }
    }

    /// Receive on a connected socket.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Dgram::Udp(s) => s.recv(buf),
            Dgram::Unix(s) => s.recv(buf),
        }
    }

    /// A second handle.
    pub fn try_clone(&self) -> io::Result<Dgram> {
        Ok(match self {
            Dgram::Udp(s) => Dgram::Udp(s.try_clone()?),
            Dgram::Unix(s) => Dgram::Unix(s.try_clone()?),
        })
    }

    /// SO_RCVTIMEO.
    pub fn set_read_timeout(&self, t: Option<std::time::Duration>) -> io::Result<()> {
        match self {
            Dgram::Udp(s) => s.set_read_timeout(t),
            Dgram::Unix(s) => s.set_read_timeout(t),
        }
    }

    /// Where it is bound, as the listening line shows it.
    pub fn describe(&self) -> String {
        match self {
            Dgram::Udp(s) => s
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "?".into()),
            Dgram::Unix(s) => s
                .local_addr()
                .ok()
                .and_then(|a| unix::describe(&a))
                .unwrap_or_else(|| "?".into()),
        }
    }
}

impl AsFd for Dgram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Dgram::Udp(s) => s.as_fd(),
            Dgram::Unix(s) => s.as_fd(),
        }
    }
}

impl From<UdpSocket> for Dgram {
    fn from(s: UdpSocket) -> Self {
        Dgram::Udp(s)
    }
}

impl From<UnixDatagram> for Dgram {
    fn from(s: UnixDatagram) -> Self {
        Dgram::Unix(s)
    }
}
