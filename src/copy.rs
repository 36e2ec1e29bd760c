//! One direction of a pipe: bytes from a reader to a writer, each chunk
//! passed on the moment it arrives.
//!
//! `copy` takes any `Read` and `Write`. When both ends also hand out a plain
//! kernel descriptor (`PlainFd`: nothing of theirs buffered or transformed in
//! user space) it asks `zerocopy` for a path that is proven to deliver a lone
//! small write at once and measured faster than this loop; otherwise, and for
//! every wrapped end (a hex dump tap, `--crlf`, a TLS stream), it runs the
//! plain loop: one `read`, then `write_all` of exactly what was read. Nothing
//! waits to fill a buffer and no corking flag is ever set.
//!
//! The same two paths serve the netcat pipe (`pipe`) and every relay
//! (`relay`: `--forward`, the proxies, `--exec` over TLS); a relay's idle
//! timeout is the one thing it adds (`copy_watched`).

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::hexdump::TapReader;
use crate::transport::{Socket, Stream};
use crate::zerocopy;

/// Read buffer of the plain loop: large buffers halve the syscalls of nc's
/// 16 KiB on bulk data; a small chunk still goes out as soon as it is read.
pub const BUF: usize = 256 * 1024;
/// Read buffer when the source is a pipe (stdin, an `--exec` child's
/// stdout), grown to `zerocopy::PIPE_SIZE`: one read takes all a writer put
/// there while we were writing.
pub const PIPE_BUF: usize = 1 << 20;

/// The plain loop's buffer size for a source polled on `src`; a pipe
/// source is grown to match.
fn buffer_for(src: Option<RawFd>) -> usize {
    let Some(fd) = src else { return BUF };
    // SAFETY: the descriptor is the source's, open for the whole copy.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    if zerocopy::Kind::of(borrowed) == zerocopy::Kind::Pipe {
        zerocopy::grow_pipe(fd);
        PIPE_BUF
    } else {
        BUF
    }
}

/// Which side of a copy failed: a read error is the source's, a write error the sink's.
#[derive(Debug)]
pub enum CopyError {
    /// Reading the source failed.
    Read(io::Error),
    /// Writing the sink failed.
    Write(io::Error),
    /// The idle check of `copy_watched` said to stop.
    Idle,
}

/// What a copy reports as it goes, and asks while an end makes it wait.
pub struct Meter<'a> {
    /// Bytes passed on so far.
    pub counter: &'a AtomicU64,
    /// Called after each chunk.
    pub touch: &'a dyn Fn(),
    /// Asked whenever a read or write would block (a socket timeout ran
    /// out, or a non-blocking end has nothing) and about once a second while
    /// waiting: true ends the copy with `CopyError::Idle`.
    pub idle: Option<&'a dyn Fn() -> bool>,
}

/// How long a wait with an idle check sleeps between two checks.
const IDLE_CHECK: Duration = Duration::from_secs(1);

impl Meter<'_> {
    /// `n` bytes are out.
    pub(crate) fn moved(&self, n: usize) {
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        (self.touch)();
    }

    /// Wait until `fd` is ready for `events` (or in error); `side` says whose
    /// failure a failed `poll` is. Without a descriptor there is nothing to
    /// wait on: only the idle check is asked.
    pub(crate) fn wait(
        &self,
        fd: Option<RawFd>,
        events: libc::c_short,
        side: fn(io::Error) -> CopyError,
    ) -> Result<(), CopyError> {
        loop {
            if self.idle.is_some_and(|idle| idle()) {
                return Err(CopyError::Idle);
            }
            let Some(fd) = fd else { return Ok(()) };
            let slice = self.idle.map(|_| IDLE_CHECK);
            if zerocopy::poll(fd, events, slice).map_err(side)? {
                return Ok(());
            }
        }
    }
}

/// Set TCP_NODELAY on a socket that forwards bytes: with Nagle's algorithm
/// a small write that follows another one waits for the peer's ACK of the
/// first, which a peer delaying its ACKs sends about 40 ms later (measured:
/// a header and a body written 0.5 ms apart came back after 44 ms through
/// `connect`, 48 ms through nc, 0.65 ms with this). Bulk data is unaffected:
/// each write carries a whole chunk. Not a TCP socket: nothing to do.
pub fn no_delay(s: &Socket) {
    if let Some(t) = s.tcp() {
        let _ = t.set_nodelay(true);
    }
}

/// An end of a copy that may expose its descriptor for the zero-copy path.
/// Return `None` whenever bytes pass through user space on their way (a
/// wrapper that records or rewrites them, a TLS session).
pub trait PlainFd {
    /// The descriptor to splice from or into, if the bytes may bypass user space.
    fn plain_fd(&self) -> Option<BorrowedFd<'_>>;

    /// The descriptor to wait on when a read or write would block (stdin or
    /// stdout left non-blocking by whoever started us); a wrapper gives its
    /// inner end's.
    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        self.plain_fd()
    }
}

impl PlainFd for File {
    fn plain_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.as_fd())
    }
}

impl PlainFd for TcpStream {
    fn plain_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.as_fd())
    }
}

impl PlainFd for Socket {
    fn plain_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.as_fd())
    }
}

/// TLS has no descriptor that carries the plaintext, so it never splices;
/// while it waits, it waits on its socket.
impl PlainFd for Stream {
    fn plain_fd(&self) -> Option<BorrowedFd<'_>> {
        Stream::plain_fd(self)
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.socket().as_fd())
    }
}

impl<T: PlainFd + ?Sized> PlainFd for &mut T {
    fn plain_fd(&self) -> Option<BorrowedFd<'_>> {
        (**self).plain_fd()
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        (**self).poll_fd()
    }
}

impl<T: PlainFd + ?Sized> PlainFd for &T {
    fn plain_fd(&self) -> Option<BorrowedFd<'_>> {
        (**self).plain_fd()
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        (**self).poll_fd()
    }
}

impl<R: PlainFd> PlainFd for TapReader<R> {
    fn plain_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        self.get_ref().poll_fd()
    }
}

impl<R: PlainFd> PlainFd for Crlf<R> {
    fn plain_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        self.inner.poll_fd()
    }
}

/// Copy everything from `from` to `to` until EOF, adding each chunk to
/// `counter` and calling `touch` after it.
pub fn copy<R, W>(from: R, to: W, counter: &AtomicU64, touch: &dyn Fn()) -> Result<(), CopyError>
where
    R: Read + PlainFd,
    W: Write + PlainFd,
{
    copy_watched(
        from,
        to,
        &Meter {
            counter,
            touch,
            idle: None,
        },
    )
}

/// `copy` with a `Meter`: a relay's idle check ends it with
/// `CopyError::Idle` when nothing has moved for long enough.
pub fn copy_watched<R, W>(from: R, to: W, m: &Meter<'_>) -> Result<(), CopyError>
where
    R: Read + PlainFd,
    W: Write + PlainFd,
{
    if let (Some(src), Some(dst)) = (from.plain_fd(), to.plain_fd()) {
        match zerocopy::copy(src, dst, m)? {
            zerocopy::Outcome::Done => return Ok(()),
            zerocopy::Outcome::NotTaken => {}
        }
    }
    copy_plain(from, to, m)
}

/// The plain loop: read a chunk, write all of it, repeat until EOF. An end
/// that would block (non-blocking, or its socket timeout ran out) is waited
/// for with `poll`.
fn copy_plain<R, W>(mut from: R, mut to: W, m: &Meter<'_>) -> Result<(), CopyError>
where
    R: Read + PlainFd,
    W: Write + PlainFd,
{
    let src = from.poll_fd().map(|f| f.as_raw_fd());
    let dst = to.poll_fd().map(|f| f.as_raw_fd());
    let mut buf = vec![0u8; buffer_for(src)];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock && (src.is_some() || m.idle.is_some()) =>
            {
                m.wait(src, libc::POLLIN, CopyError::Read)?;
                continue;
            }
            Err(e) => return Err(CopyError::Read(e)),
        };
        let mut out = &buf[..n];
        while !out.is_empty() {
            match to.write(out) {
                Ok(0) => return Err(CopyError::Write(io::ErrorKind::WriteZero.into())),
                Ok(m) => out = &out[m..],
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        && (dst.is_some() || m.idle.is_some()) =>
                {
                    m.wait(dst, libc::POLLOUT, CopyError::Write)?;
                }
                Err(e) => return Err(CopyError::Write(e)),
            }
        }
        m.moved(n);
    }
}

/// `--crlf` in pipe mode, like `nc -C`: every `\n` read through it comes out
/// as `\r\n`, except one already preceded by `\r` (also across chunks).
pub struct Crlf<R> {
    inner: R,
    /// The last byte handed out was `\r`.
    after_cr: bool,
    /// A `\n` that did not fit in the caller's buffer after its `\r`.
    pending_lf: bool,
    raw: Vec<u8>,
}

impl<R: Read> Crlf<R> {
    /// Translate what `inner` yields.
    pub fn new(inner: R) -> Crlf<R> {
        Crlf {
            inner,
            after_cr: false,
            pending_lf: false,
            raw: Vec::new(),
        }
    }
}

impl<R: Read> Read for Crlf<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.pending_lf {
            self.pending_lf = false;
            self.after_cr = false;
            buf[0] = b'\n';
            return Ok(1);
        }
        // Read at most half the room, so even an all-`\n` chunk fits.
        let want = buf.len().div_ceil(2);
        self.raw.resize(want, 0);
        let n = self.inner.read(&mut self.raw)?;
        let mut out = 0;
        for &b in &self.raw[..n] {
            if b == b'\n' && !self.after_cr {
                if out + 1 < buf.len() {
                    buf[out] = b'\r';
                    buf[out + 1] = b'\n';
                    out += 2;
                } else {
                    buf[out] = b'\r';
                    out += 1;
                    self.pending_lf = true;
                }
            } else {
                buf[out] = b;
                out += 1;
            }
            self.after_cr = b == b'\r';
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crlf_all(chunks: &[&[u8]], buf_len: usize) -> Vec<u8> {
        struct Chunks<'a>(Vec<&'a [u8]>);
        impl Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let Some(first) = self.0.first_mut() else {
                    return Ok(0);
                };
                let n = first.len().min(buf.len());
                buf[..n].copy_from_slice(&first[..n]);
                *first = &first[n..];
                if first.is_empty() {
                    self.0.remove(0);
                }
                Ok(n)
            }
        }
        let mut r = Crlf::new(Chunks(chunks.to_vec()));
        let mut out = Vec::new();
        let mut buf = vec![0u8; buf_len];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 && !r.pending_lf {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn crlf_translates_bare_line_feeds_only() {
        for len in [1, 2, 3, 7, 64] {
            assert_eq!(crlf_all(&[b"a\nb\r\nc\n"], len), b"a\r\nb\r\nc\r\n");
            assert_eq!(crlf_all(&[b"\n\n\n"], len), b"\r\n\r\n\r\n");
            assert_eq!(crlf_all(&[b"x\r", b"\ny\n"], len), b"x\r\ny\r\n");
            assert_eq!(crlf_all(&[b"no newline"], len), b"no newline");
            assert_eq!(crlf_all(&[b"\r\r\n\n"], len), b"\r\r\n\r\n");
        }
    }

    #[test]
    fn wrapped_ends_never_take_the_zero_copy_path() {
        let f = File::open("/dev/null").unwrap();
        assert!(f.plain_fd().is_some());
        assert!(Crlf::new(&f).plain_fd().is_none());
        let tap = crate::hexdump::Tap::new(|_, _| {});
        assert!(
            tap.reader(&f, crate::hexdump::Direction::In)
                .plain_fd()
                .is_none()
        );
    }
}
