//! One relay direction between two plain sockets by splice(2): socket ->
//! our own pipe -> socket, so the bytes never enter user memory.
//!
//! Each splice into the pipe returns as soon as the socket has anything
//! (like a read), and what came in is spliced out at once, without
//! SPLICE_F_MORE (which corks the sending socket for up to 200 ms): a lone
//! small write crosses the relay immediately. We own both ends of the pipe,
//! so no reader waits on a pipe wakeup.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes asked for per splice.
const CHUNK: usize = 1 << 20;
/// Pipe capacity asked for.
const PIPE_SIZE: libc::c_int = 1 << 20;

/// Which side failed.
pub enum SpliceError {
    /// Reading the source (or it does not support splice: nothing was moved).
    Read(io::Error),
    /// Writing the sink.
    Write(io::Error),
    /// splice is refused before any byte moved: use the plain loop.
    Unsupported,
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 fills two descriptors on success, which we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both were just created and belong to nobody else.
    let p = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: F_SETPIPE_SZ on our pipe; failure keeps the default size.
    unsafe {
        libc::fcntl(p.1.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_SIZE);
    }
    Ok(p)
}

fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    loop {
        // SAFETY: both descriptors are valid for the call; null offsets use
        // (and move) the descriptors' own positions. No SPLICE_F_MORE.
        let n = unsafe {
            libc::splice(
                from,
                std::ptr::null_mut(),
                to,
                std::ptr::null_mut(),
                len,
                libc::SPLICE_F_MOVE,
            )
        };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Move everything from `from` to `to` until EOF. `on_idle` is asked when a
/// read times out (SO_RCVTIMEO): true ends the copy as idle.
pub fn pump(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    counter: &AtomicU64,
    touch: &dyn Fn(),
    on_idle: &dyn Fn() -> bool,
) -> Result<bool, SpliceError> {
    let (pr, pw) = pipe().map_err(|_| SpliceError::Unsupported)?;
    let (f, t) = (from.as_raw_fd(), to.as_raw_fd());
    let mut moved_any = false;
    loop {
        let n = match splice(f, pw.as_raw_fd(), CHUNK) {
            Ok(0) => return Ok(false),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if on_idle() {
                    return Ok(true);
                }
                continue;
            }
            Err(e)
                if !moved_any && matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) =>
            {
                return Err(SpliceError::Unsupported);
            }
            Err(e) => return Err(SpliceError::Read(e)),
        };
        moved_any = true;
        touch();
        let mut left = n;
        while left > 0 {
            match splice(pr.as_raw_fd(), t, left) {
                Ok(0) => return Err(SpliceError::Write(io::ErrorKind::WriteZero.into())),
                Ok(m) => {
                    left -= m;
                    counter.fetch_add(m as u64, Ordering::Relaxed);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // A write timeout: the peer is not reading.
                    return Err(SpliceError::Write(io::ErrorKind::TimedOut.into()));
                }
                Err(e) => return Err(SpliceError::Write(e)),
            }
        }
        touch();
    }
}
