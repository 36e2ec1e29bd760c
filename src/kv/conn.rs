//! One client connection as its event loop sees it: the socket, an input
//! buffer that grows with bytes received (never with a declared length)
//! and shrinks after a big request, the parser's place in it, pending
//! output, and the session.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Instant;

use super::protocol::Parser;
use super::reply::Out;
use super::session::Session;
use super::stream::KvStream;

/// Input buffer size a connection starts with and shrinks back to.
pub const SMALL: usize = 16 * 1024;
/// Most bytes read from one client per round (fairness); more waits for
/// the next round.
pub const ROUND_READ: usize = 256 * 1024;
/// Stop running a client's commands while this much output is unsent.
pub const OUT_HIGH: usize = 1 << 20;

/// A client connection.
pub struct Conn {
    /// The socket, plain or TLS.
    pub stream: KvStream,
    /// Peer address.
    pub peer: SocketAddr,
    /// Received bytes live in `inbuf[start..filled]`.
    pub inbuf: Vec<u8>,
    /// First unconsumed byte.
    pub start: usize,
    /// End of received bytes.
    pub filled: usize,
    /// The request parser.
    pub parser: Parser,
    /// Pending replies.
    pub out: Out,
    /// How much of `out.buf` was written.
    pub out_pos: usize,
    /// Protocol state.
    pub sess: Session,
    /// Close once output is flushed, for this reason.
    pub closing: Option<String>,
    /// Input may remain unread or unexecuted: come back next round.
    pub more: bool,
    /// Last time the client sent something.
    pub last_active: Instant,
    /// When it connected.
    pub started: Instant,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Line protocol: the rest of an over-long line is being skipped.
    pub discarding: bool,
    /// The peer shut down its side: answer what it sent, then close.
    pub peer_closed: bool,
    /// Registered for writable events (output is backed up).
    pub want_write: bool,
    /// The peer closed or errored: read until EOF, not just one short read.
    pub read_to_end: bool,
}

impl Conn {
    /// A new connection.
    pub fn new(stream: KvStream, peer: SocketAddr, sess: Session) -> Conn {
        let now = Instant::now();
        Conn {
            stream,
            peer,
            inbuf: vec![0; SMALL],
            start: 0,
            filled: 0,
            parser: Parser::default(),
            out: Out::default(),
            out_pos: 0,
            sess,
            closing: None,
            more: false,
            last_active: now,
            started: now,
            bytes_in: 0,
            bytes_out: 0,
            discarding: false,
            peer_closed: false,
            want_write: false,
            read_to_end: false,
        }
    }

    /// Bytes of output not yet written.
    pub fn pending(&self) -> usize {
        self.out.buf.len() - self.out_pos
    }

    /// True when unconsumed input is waiting.
    pub fn has_input(&self) -> bool {
        self.start < self.filled
    }

    /// Read what is available, up to [`ROUND_READ`] bytes, growing the
    /// buffer only when received bytes fill it (up to `cap`).
    pub fn read_some(&mut self, cap: usize) {
        self.more = false;
        self.compact();
        let mut got = 0;
        while got < ROUND_READ {
            if self.filled == self.inbuf.len() {
                if self.inbuf.len() >= cap {
                    self.closing = Some("request larger than the input limit".into());
                    self.out.err("ERR Protocol error: request too large");
                    return;
                }
                let n = (self.inbuf.len() * 2).min(cap).max(self.inbuf.len() + 1);
                self.inbuf.resize(n, 0);
            }
            let room = (self.inbuf.len() - self.filled).min(ROUND_READ - got);
            match self
                .stream
                .read(&mut self.inbuf[self.filled..self.filled + room])
            {
                Ok(0) => {
                    self.peer_closed = true;
                    return;
                }
                Ok(n) => {
                    self.filled += n;
                    got += n;
                    self.bytes_in += n as u64;
                    self.last_active = Instant::now();
                    if n < room && !self.read_to_end {
                        // A short read took everything the socket held; data
                        // arriving later raises a new readiness event.
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.closing
                        .get_or_insert_with(|| format!("read error: {e}"));
                    return;
                }
            }
        }
        // Budget used up: the socket may hold more (edge-triggered: no new event).
        self.more = true;
    }

    /// Move unconsumed input to the front; give back a big buffer once the
    /// big request in it is done.
    pub fn compact(&mut self) {
        let live = self.filled - self.start;
        if live == 0 {
            self.start = 0;
            self.filled = 0;
            if self.inbuf.len() > 4 * SMALL {
                self.inbuf = vec![0; SMALL];
            }
            return;
        }
        if self.inbuf.len() > 4 * SMALL && live < self.inbuf.len() / 4 {
            let mut small = vec![0; (live * 2).max(SMALL)];
            small[..live].copy_from_slice(&self.inbuf[self.start..self.filled]);
            self.inbuf = small;
        } else if self.start > 0 {
            self.inbuf.copy_within(self.start..self.filled, 0);
        } else {
            return;
        }
        self.start = 0;
        self.filled = live;
    }

    /// Write pending output; `Ok(true)` when all of it went out.
    pub fn flush(&mut self) -> io::Result<bool> {
        while self.out_pos < self.out.buf.len() {
            match self.stream.write(&self.out.buf[self.out_pos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.out_pos += n;
                    self.bytes_out += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        // TLS: the replies are out only once their ciphertext is.
        match self.stream.flush_pending() {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) => return Err(e),
        }
        self.out.buf.clear();
        self.out_pos = 0;
        if self.out.buf.capacity() > 4 * OUT_HIGH {
            self.out.buf = Vec::with_capacity(SMALL);
        }
        Ok(true)
    }
}
