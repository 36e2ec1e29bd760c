//! Listeners: TCP or Unix stream. `accept` returns a [`Socket`] and its
//! [`Peer`], so the accept loop of `serve` is one loop for both.

use std::io;
use std::net::{Shutdown, TcpListener};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixListener;

use super::{Peer, Socket, unix};

/// A listening socket.
#[derive(Debug)]
pub enum Listener {
    /// TCP.
    Tcp(TcpListener),
    /// A Unix stream socket.
    Unix(UnixListener),
}

impl Listener {
    /// Accept one connection.
    pub fn accept(&self) -> io::Result<(Socket, Peer)> {
        match self {
            Listener::Tcp(l) => l.accept().map(|(s, a)| (Socket::Tcp(s), Peer::Inet(a))),
            Listener::Unix(l) => l.accept().map(|(s, _)| {
                let peer = unix::peer_of(&s);
                (Socket::Unix(s), peer)
            }),
        }
    }

    /// A second handle on the listener.
    pub fn try_clone(&self) -> io::Result<Listener> {
        Ok(match self {
            Listener::Tcp(l) => Listener::Tcp(l.try_clone()?),
            Listener::Unix(l) => Listener::Unix(l.try_clone()?),
        })
    }

    /// Make a blocked `accept` return (Linux: shutdown(2) on a listening
    /// socket, TCP or Unix, fails pending and later accepts with EINVAL).
    pub fn wake(&self) {
        let _ = socket2::SockRef::from(self).shutdown(Shutdown::Both);
    }

    /// Where it listens, as the listening line shows it.
    pub fn describe(&self) -> String {
        match self {
            Listener::Tcp(l) => l
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "?".into()),
            Listener::Unix(l) => l
                .local_addr()
                .ok()
                .and_then(|a| unix::describe(&a))
                .unwrap_or_else(|| "?".into()),
        }
    }

    /// O_NONBLOCK.
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.set_nonblocking(on),
            Listener::Unix(l) => l.set_nonblocking(on),
        }
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Listener::Tcp(l) => l.as_fd(),
            Listener::Unix(l) => l.as_fd(),
        }
    }
}

impl From<TcpListener> for Listener {
    fn from(l: TcpListener) -> Self {
        Listener::Tcp(l)
    }
}

impl From<UnixListener> for Listener {
    fn from(l: UnixListener) -> Self {
        Listener::Unix(l)
    }
}
