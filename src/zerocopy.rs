//! The zero-copy paths of `copy::copy`: Linux `splice(2)` between two plain
//! descriptors, taken only where it delivers every byte at once and was
//! measured faster than the plain loop (see `route`).
//!
//! Two kernel behaviours shape it, both reproduced with a few lines of
//! Python's `os.splice` on this project's machines:
//!
//! - `SPLICE_F_MORE` corks small writes into a socket for about 200 ms, so no
//!   call here passes it (nor `SPLICE_F_MOVE`, a no-op).
//! - A splice from a socket into a pipe holds the pipe's lock while it waits
//!   for the socket. The process reading that pipe (our stdout) then blocks
//!   in `read(2)` until more data or EOF reaches the socket, although
//!   `poll(2)` already called the pipe readable. So a socket is only spliced
//!   after `poll` says it has data (or EOF), when the splice cannot wait.
//!
//! - A splice from a pipe into a socket holds that pipe's lock while TCP
//!   sends (on loopback: while the receiver's side runs too), so a writer
//!   feeding our stdin in small pieces (`head -c` writes 4-8 KiB) spends its
//!   time waiting for the lock: 1.1-1.2 GiB/s against 1.5-1.7 for the plain
//!   loop. A pipe into a socket therefore takes the plain loop, with the pipe
//!   grown and a 1 MiB buffer (`copy::buffer_for`), which also kept up with
//!   splice for a writer of 128 KiB pieces (`cat`: 1.9-2.1 against 1.9-2.3).
//!
//! A socket into anything but a pipe goes through a pipe of our own, which
//! nobody else reads. A regular file goes into a socket by `sendfile(2)`
//! (2 GiB netkit -> netkit: 3.8-5.3 GiB/s, against 1.8-2.6 for the loop).
//! Unsafe code is limited to thin calls to `splice`, `sendfile`, `poll`,
//! `pipe2`, `fstat` and `fcntl` on descriptors the caller owns.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::copy::{CopyError, Meter};

/// Bytes asked for per `splice` call.
const CHUNK: usize = 1 << 20;
/// Bytes asked for per `sendfile` call (4 MiB measured fastest of 256 KiB to 16 MiB).
const FILE_CHUNK: usize = 4 << 20;
/// Pipe capacity asked for (the unprivileged maximum by default).
pub const PIPE_SIZE: libc::c_int = 1 << 20;

/// What a descriptor is, as far as splice cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A pipe or FIFO.
    Pipe,
    /// A socket (TCP or Unix stream).
    Socket,
    /// A regular file not opened for append.
    File,
    /// `/dev/null`.
    DevNull,
    /// Anything else: a terminal, a character device, an append-only file.
    Other,
}

impl Kind {
    /// Classify `fd` with `fstat`.
    pub fn of(fd: BorrowedFd<'_>) -> Kind {
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: fstat writes a stat struct for a valid, borrowed descriptor.
        if unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) } != 0 {
            return Kind::Other;
        }
        // SAFETY: fstat returned 0, so the struct is initialised.
        let st = unsafe { st.assume_init() };
        match st.st_mode & libc::S_IFMT {
            libc::S_IFIFO => Kind::Pipe,
            libc::S_IFSOCK => Kind::Socket,
            libc::S_IFREG if !has_append(fd) => Kind::File,
            libc::S_IFCHR if st.st_rdev == libc::makedev(1, 3) => Kind::DevNull,
            _ => Kind::Other,
        }
    }
}

/// How bytes move from one kind of descriptor to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The plain read/write loop.
    Plain,
    /// `sendfile(2)` from a regular file into a socket.
    FileToSocket,
    /// `poll` for data, then one splice from a socket into a pipe.
    SocketToPipe,
    /// A socket into our own pipe, then out to a socket, file or `/dev/null`.
    ThroughPipe,
}

/// The route for a copy from `src` to `dst`. Each splice route has a test
/// that a lone small write comes out while the source stays open; the
/// choices were measured on loopback against the plain loop (README,
/// "Performance"). A regular file into a socket takes sendfile(2): a file
/// has no later bytes to wait for, and the kernel sends the last page of
/// each call without corking it.
pub fn route(src: Kind, dst: Kind) -> Route {
    match (src, dst) {
        (Kind::File, Kind::Socket) => Route::FileToSocket,
        (Kind::Socket, Kind::Pipe) => Route::SocketToPipe,
        (Kind::Socket, Kind::Socket | Kind::File | Kind::DevNull) => Route::ThroughPipe,
        _ => Route::Plain,
    }
}

/// Whether a zero-copy route ran the copy to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything was copied (EOF reached).
    Done,
    /// No zero-copy route applies (or the kernel refused the first splice);
    /// nothing was moved, the caller runs the plain loop.
    NotTaken,
}

/// Copy from `from` to `to` by splice when `route` allows it.
pub fn copy(from: BorrowedFd<'_>, to: BorrowedFd<'_>, m: &Meter<'_>) -> Result<Outcome, CopyError> {
    let (src, dst) = (Kind::of(from), Kind::of(to));
    let (f, t) = (from.as_raw_fd(), to.as_raw_fd());
    match route(src, dst) {
        Route::Plain => Ok(Outcome::NotTaken),
        Route::SocketToPipe => {
            grow_pipe(t);
            socket_to_pipe(f, t, m)
        }
        Route::FileToSocket => send_file(f, t, m),
        Route::ThroughPipe => through_pipe(f, to, m),
    }
}

fn has_append(fd: BorrowedFd<'_>) -> bool {
    // SAFETY: F_GETFL only reads the descriptor's flags.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    flags < 0 || flags & libc::O_APPEND != 0
}

/// Ask for a `PIPE_SIZE` pipe; failure only keeps the old size.
pub fn grow_pipe(fd: RawFd) {
    // SAFETY: F_SETPIPE_SZ on a descriptor we borrow; on anything but a
    // pipe it fails with EBADF/EINVAL and changes nothing.
    unsafe {
        libc::fcntl(fd, libc::F_SETPIPE_SZ, PIPE_SIZE);
    }
}

/// One splice call without flags; `Ok(0)` is EOF of `from`. EAGAIN (an
/// end left non-blocking by whoever started us, or a socket timeout that
/// ran out) is returned as `WouldBlock` for the caller to wait on.
fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    splice_with(from, to, len, 0)
}

/// `splice` with `flags` (only ever `SPLICE_F_NONBLOCK`, for the pipe of
/// `Spliced`: the sockets are non-blocking themselves), retried on EINTR.
fn splice_with(from: RawFd, to: RawFd, len: usize, flags: libc::c_uint) -> io::Result<usize> {
    loop {
        // SAFETY: both descriptors are valid for the duration of the call and
        // null offsets mean "use and advance the file position".
        let n = unsafe {
            libc::splice(
                from,
                std::ptr::null_mut(),
                to,
                std::ptr::null_mut(),
                len,
                flags,
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

fn blocked(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

/// Block until `fd` is ready for `events` (or in error), at most `limit`
/// (none: for ever); false when the limit ran out first.
pub fn poll(fd: RawFd, events: libc::c_short, limit: Option<Duration>) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    let ms = limit.map_or(-1, |d| d.as_millis().min(i32::MAX as u128) as libc::c_int);
    loop {
        // SAFETY: one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut p, 1, ms) };
        if n >= 0 {
            return Ok(n > 0);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
    )
}

/// A socket straight into a pipe (our stdout) until EOF. Each splice
/// waits for `poll` to see data first, so it never blocks holding the
/// pipe's lock (see the module docs).
fn socket_to_pipe(f: RawFd, t: RawFd, m: &Meter<'_>) -> Result<Outcome, CopyError> {
    let mut moved_any = false;
    loop {
        m.wait(Some(f), libc::POLLIN, CopyError::Read)?;
        match splice(f, t, CHUNK) {
            Ok(0) => return Ok(Outcome::Done),
            Ok(n) => {
                moved_any = true;
                m.moved(n);
            }
            Err(e) if blocked(&e) => m.wait(Some(t), libc::POLLOUT, CopyError::Write)?,
            Err(e) if !moved_any && unsupported(&e) => return Ok(Outcome::NotTaken),
            // A closed stdout reader; every other error is the socket's.
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => return Err(CopyError::Write(e)),
            Err(e) => return Err(CopyError::Read(e)),
        }
    }
}

/// A regular file into a socket by `sendfile(2)` from the file's position
/// (which it advances, as a read would) until EOF.
fn send_file(f: RawFd, t: RawFd, m: &Meter<'_>) -> Result<Outcome, CopyError> {
    let mut moved_any = false;
    loop {
        // SAFETY: both descriptors are valid for the duration of the call; a
        // null offset uses and advances the file position.
        let n = unsafe { libc::sendfile(t, f, std::ptr::null_mut(), FILE_CHUNK) };
        if n == 0 {
            return Ok(Outcome::Done);
        }
        if n > 0 {
            moved_any = true;
            m.moved(n as usize);
            continue;
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::EAGAIN) => m.wait(Some(t), libc::POLLOUT, CopyError::Write)?,
            _ if !moved_any && unsupported(&e) => return Ok(Outcome::NotTaken),
            // sendfile reports the file's failures as EIO; the rest are the socket's.
            Some(libc::EIO) => return Err(CopyError::Read(e)),
            _ => return Err(CopyError::Write(e)),
        }
    }
}

/// A socket into a socket, file or `/dev/null` through a pipe of our own.
fn through_pipe(f: RawFd, to: BorrowedFd<'_>, m: &Meter<'_>) -> Result<Outcome, CopyError> {
    let Ok((pr, pw)) = make_pipe() else {
        return Ok(Outcome::NotTaken);
    };
    let (pr_fd, pw_fd, t) = (pr.as_raw_fd(), pw.as_raw_fd(), to.as_raw_fd());
    grow_pipe(pw_fd);
    let mut moved_any = false;
    loop {
        let n = match splice(f, pw_fd, CHUNK) {
            Ok(0) => return Ok(Outcome::Done),
            Ok(n) => n,
            // Our pipe is empty here: only the socket can be the one waited for.
            Err(e) if blocked(&e) => {
                m.wait(Some(f), libc::POLLIN, CopyError::Read)?;
                continue;
            }
            Err(e) if !moved_any && unsupported(&e) => return Ok(Outcome::NotTaken),
            Err(e) => return Err(CopyError::Read(e)),
        };
        let mut left = n;
        while left > 0 {
            match splice(pr_fd, t, left) {
                Ok(0) => return Err(CopyError::Write(io::ErrorKind::WriteZero.into())),
                Ok(k) => {
                    left -= k;
                    moved_any = true;
                    m.moved(k);
                }
                Err(e) if blocked(&e) => m.wait(Some(t), libc::POLLOUT, CopyError::Write)?,
                Err(e) if !moved_any && unsupported(&e) => {
                    // The sink refuses splice: hand what is in our pipe over
                    // by read/write, then let the plain loop go on.
                    drain(&pr, to, left, m)?;
                    return Ok(Outcome::NotTaken);
                }
                Err(e) => return Err(CopyError::Write(e)),
            }
        }
    }
}

/// A pipe of our own between two non-blocking plain sockets, for readiness
/// loops (`relay::event`): `fill` splices what the source has into it,
/// `drain` splices what it holds into the destination; neither waits.
pub struct Spliced {
    r: OwnedFd,
    w: OwnedFd,
    held: usize,
}

impl Spliced {
    /// A new, grown pipe.
    pub fn new() -> io::Result<Spliced> {
        let (r, w) = make_pipe()?;
        grow_pipe(w.as_raw_fd());
        Ok(Spliced { r, w, held: 0 })
    }

    /// Bytes in the pipe, waiting for the destination.
    pub fn held(&self) -> usize {
        self.held
    }

    /// Splice from `src` (a non-blocking socket) into the pipe: `Ok(0)` is
    /// EOF, `WouldBlock` means nothing there (or the pipe is full).
    pub fn fill(&mut self, src: RawFd) -> io::Result<usize> {
        let n = splice_with(src, self.w.as_raw_fd(), CHUNK, libc::SPLICE_F_NONBLOCK)?;
        self.held += n;
        Ok(n)
    }

    /// Splice what the pipe holds into `dst`; `WouldBlock` when `dst` takes
    /// nothing now.
    pub fn drain(&mut self, dst: RawFd) -> io::Result<usize> {
        let n = splice_with(self.r.as_raw_fd(), dst, self.held, libc::SPLICE_F_NONBLOCK)?;
        self.held -= n;
        Ok(n)
    }
}

fn make_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 fills two descriptors on success, which we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn drain(
    pipe: &OwnedFd,
    to: BorrowedFd<'_>,
    mut left: usize,
    m: &Meter<'_>,
) -> Result<(), CopyError> {
    use std::io::{Read, Write};
    let mut reader = std::fs::File::from(pipe.try_clone().map_err(CopyError::Read)?);
    let mut writer = std::fs::File::from(to.try_clone_to_owned().map_err(CopyError::Write)?);
    let mut buf = vec![0u8; 64 * 1024];
    while left > 0 {
        let want = left.min(buf.len());
        let n = reader.read(&mut buf[..want]).map_err(CopyError::Read)?;
        if n == 0 {
            break;
        }
        writer.write_all(&buf[..n]).map_err(CopyError::Write)?;
        m.moved(n);
        left -= n;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
