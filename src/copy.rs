//! One direction of a pipe: bytes from a reader to a writer, each chunk
//! passed on the moment it arrives.
//!
//! `copy` takes any `Read` and `Write`. When both ends also hand out a plain
//! kernel descriptor (`PlainFd`: nothing of theirs buffered or transformed in
//! user space) it asks `zerocopy` for a path that is proven to deliver a lone
//! small write at once and measured faster than this loop; otherwise, and for
//! every wrapped end (a hex dump tap, `--crlf`, and later TLS), it runs the
//! plain loop: one `read`, then `write_all` of exactly what was read. Nothing
//! waits to fill a buffer and no corking flag is ever set.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::hexdump::TapReader;
use crate::zerocopy;

/// Read buffer of the plain loop: large buffers halve the syscalls of nc's
/// 16 KiB on bulk data; a small chunk still goes out as soon as it is read.
pub const BUF: usize = 256 * 1024;

/// Which side of a copy failed: a read error is the source's, a write error the sink's.
#[derive(Debug)]
pub enum CopyError {
    /// Reading the source failed.
    Read(io::Error),
    /// Writing the sink failed.
    Write(io::Error),
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
    if let (Some(src), Some(dst)) = (from.plain_fd(), to.plain_fd()) {
        match zerocopy::copy(src, dst, counter, touch)? {
            zerocopy::Outcome::Done => return Ok(()),
            zerocopy::Outcome::NotTaken => {}
        }
    }
    copy_plain(from, to, counter, touch)
}

/// The plain loop: read a chunk, write all of it, repeat until EOF. A
/// non-blocking end that would block is waited for with `poll`.
pub fn copy_plain<R, W>(
    mut from: R,
    mut to: W,
    counter: &AtomicU64,
    touch: &dyn Fn(),
) -> Result<(), CopyError>
where
    R: Read + PlainFd,
    W: Write + PlainFd,
{
    let src = from.poll_fd().map(|f| f.as_raw_fd());
    let dst = to.poll_fd().map(|f| f.as_raw_fd());
    let mut buf = vec![0u8; BUF];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && src.is_some() => {
                zerocopy::wait(src, libc::POLLIN).map_err(CopyError::Read)?;
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
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && dst.is_some() => {
                    zerocopy::wait(dst, libc::POLLOUT).map_err(CopyError::Write)?;
                }
                Err(e) => return Err(CopyError::Write(e)),
            }
        }
        counter.fetch_add(n as u64, Ordering::Relaxed);
        touch();
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
