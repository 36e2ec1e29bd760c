//! The client's connection: a TCP or Unix stream socket, the bytes read
//! from it and the replies parsed out of them. Reading is split in two so a
//! prompt can wait on the socket and the keyboard at once: `fill` takes
//! what the socket has without blocking, `take_reply` parses what was
//! read. One-shot commands use the blocking `call`.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};

use crate::kv::protocol::{Limits, encode_command};
use crate::kv::resp::{Reply, ReplyReader};
use crate::net::{self, ConnectOptions};

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `--addr HOST:PORT`.
    Tcp {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
    /// `-s PATH`: a Unix socket (redis-server's `unixsocket`).
    Unix(PathBuf),
}

impl fmt::Display for Target {
    /// `127.0.0.1:6380`, `[::1]:6380`, `unix:/tmp/redis.sock`: the prompt's
    /// address part.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Target::Tcp { host, port } => write!(f, "{host}:{port}"),
            Target::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// The socket under a connection.
#[derive(Debug)]
enum Link {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Link {
    fn fd(&self) -> RawFd {
        match self {
            Link::Tcp(s) => s.as_raw_fd(),
            Link::Unix(s) => s.as_raw_fd(),
        }
    }

    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Link::Tcp(s) => read_into(s, buf),
            Link::Unix(s) => read_into(s, buf),
        }
    }

    fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        match self {
            Link::Tcp(s) => write_whole(s, buf),
            Link::Unix(s) => write_whole(s, buf),
        }
    }

    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match self {
            Link::Tcp(s) => s.set_nonblocking(on),
            Link::Unix(s) => s.set_nonblocking(on),
        }
    }
}

fn read_into(mut r: impl Read, buf: &mut [u8]) -> io::Result<usize> {
    r.read(buf)
}

fn write_whole(mut w: impl Write, buf: &[u8]) -> io::Result<()> {
    w.write_all(buf)
}

/// Most bytes one `fill` reads before the caller gets to parse and draw.
const FILL_MAX: usize = 4 << 20;

/// A connection to a RESP server.
pub struct Conn {
    link: Link,
    replies: ReplyReader,
    limits: Limits,
    /// The server closed its side (what was read before is still parsed).
    closed: bool,
}

impl Conn {
    /// Connect to `target` (TCP: every address the name resolves to).
    pub fn open(target: &Target) -> Result<Conn> {
        let link = match target {
            Target::Tcp { host, port } => {
                let opts = ConnectOptions {
                    timeout: Some(Duration::from_secs(10)),
                    ..ConnectOptions::default()
                };
                let s = net::connect_tcp(host, *port, &opts)?;
                let _ = s.set_nodelay(true);
                Link::Tcp(s)
            }
            Target::Unix(p) => Link::Unix(
                UnixStream::connect(p)
                    .with_context(|| format!("cannot connect to {}", p.display()))?,
            ),
        };
        Ok(Conn {
            link,
            replies: ReplyReader::default(),
            limits: Limits {
                max_args: usize::MAX,
                ..Limits::default()
            },
            closed: false,
        })
    }

    /// The socket, to wait on.
    pub fn fd(&self) -> RawFd {
        self.link.fd()
    }

    /// The server has closed the connection (replies read before that may
    /// still be waiting in `take_reply`).
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Send one command.
    pub fn send(&mut self, args: &[Vec<u8>]) -> io::Result<()> {
        self.link.write_all(&encode_command(args))
    }

    /// The next whole reply among the bytes read so far.
    pub fn take_reply(&mut self) -> Result<Option<Reply>> {
        self.replies
            .next(&self.limits)
            .map_err(|e| anyhow!("bad reply from the server: {}", e.0))
    }

    /// Read what the socket has now, without waiting. Sets `closed` at the
    /// end of the stream; an error (a reset) is returned as it is.
    pub fn fill(&mut self) -> io::Result<()> {
        let s = &self.link;
        s.set_nonblocking(true)?;
        let mut chunk = [0u8; 64 * 1024];
        let mut got = 0;
        let result = loop {
            match s.read(&mut chunk) {
                Ok(0) => {
                    self.closed = true;
                    break Ok(());
                }
                Ok(n) => {
                    self.replies.feed(&chunk[..n]);
                    got += n;
                    if got >= FILL_MAX {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        s.set_nonblocking(false)?;
        result
    }

    /// Wait for the next reply (one-shot commands).
    pub fn read_reply(&mut self) -> Result<Reply> {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            if let Some(r) = self.take_reply()? {
                return Ok(r);
            }
            if self.closed {
                bail!("the server closed the connection");
            }
            let n = loop {
                match self.link.read(&mut chunk) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    r => break r.context("cannot read the reply")?,
                }
            };
            if n == 0 {
                self.closed = true;
            }
            self.replies.feed(&chunk[..n]);
        }
    }

    /// Send one command and wait for its reply.
    pub fn call(&mut self, args: &[Vec<u8>]) -> Result<Reply> {
        self.send(args).context("cannot send the command")?;
        self.read_reply()
    }
}
