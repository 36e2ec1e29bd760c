//! Sending: `sendmmsg` of many buffers at once, a run of datagrams per
//! buffer with GSO, and the fallback to one datagram per buffer where the
//! route cannot segment.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};

use socket2::SockAddr;

use super::{CTRL_WORDS, UDP_SEGMENT};

/// One buffer to send: a datagram, or with `segment`, a run of datagrams
/// of that size (GSO; the last may be shorter).
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// The bytes.
    pub data: &'a [u8],
    /// Where to; `None` on a connected socket.
    pub to: Option<SocketAddr>,
    /// The size of each datagram in `data`, when it holds more than one.
    pub segment: Option<usize>,
}

impl Outgoing<'_> {
    fn datagrams(&self) -> usize {
        match self.segment {
            Some(s) if s > 0 && !self.data.is_empty() => self.data.len().div_ceil(s),
            _ => 1,
        }
    }
}

/// What a `Sender::send` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Datagrams that left.
    pub datagrams: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Datagrams the kernel refused (no buffer, unreachable...); dropped.
    pub dropped: u64,
}

/// Scratch space for `sendmmsg`, and whether GSO works on this socket.
pub struct Sender {
    iovs: Vec<libc::iovec>,
    names: Vec<Option<SockAddr>>,
    ctrl: Vec<[u64; CTRL_WORDS]>,
    hdrs: Vec<libc::mmsghdr>,
    gso: bool,
}

// SAFETY: as for `RecvBatch`: the pointers are scratch, rewritten per call.
unsafe impl Send for Sender {}

impl Default for Sender {
    fn default() -> Self {
        Sender::new()
    }
}

impl Sender {
    /// A sender that tries GSO for runs.
    pub fn new() -> Sender {
        Sender {
            iovs: Vec::new(),
            names: Vec::new(),
            ctrl: Vec::new(),
            hdrs: Vec::new(),
            gso: true,
        }
    }

    /// False once a GSO send failed and runs go one datagram at a time.
    pub fn gso(&self) -> bool {
        self.gso
    }

    /// Never use GSO (runs are split into single datagrams).
    pub fn disable_gso(&mut self) {
        self.gso = false;
    }

    /// Send every message, as few system calls as the kernel allows. A
    /// message the kernel refuses is dropped and counted; the others go.
    pub fn send(&mut self, socket: &impl AsRawFd, msgs: &[Outgoing<'_>]) -> io::Result<Sent> {
        let fd = socket.as_raw_fd();
        let mut sent = Sent::default();
        if !self.gso {
            let split = split_runs(msgs);
            return self.send_plain(fd, &split, &mut sent).map(|()| sent);
        }
        let mut rest = msgs;
        while !rest.is_empty() {
            match self.sendmmsg(fd, rest) {
                Ok(n) => {
                    for m in &rest[..n] {
                        sent.datagrams += m.datagrams() as u64;
                        sent.bytes += m.data.len() as u64;
                    }
                    rest = &rest[n..];
                }
                Err(e) if rest[0].segment.is_some() && gso_unsupported(&e) => {
                    // This route cannot segment: one datagram per message from now on.
                    self.gso = false;
                    let split = split_runs(rest);
                    self.send_plain(fd, &split, &mut sent)?;
                    return Ok(sent);
                }
                Err(e) if fatal(&e) => return Err(e),
                Err(_) => {
                    sent.dropped += rest[0].datagrams() as u64;
                    rest = &rest[1..];
                }
            }
        }
        Ok(sent)
    }

    fn send_plain(&mut self, fd: RawFd, msgs: &[Outgoing<'_>], sent: &mut Sent) -> io::Result<()> {
        let mut rest = msgs;
        while !rest.is_empty() {
            match self.sendmmsg(fd, rest) {
                Ok(n) => {
                    for m in &rest[..n] {
                        sent.datagrams += 1;
                        sent.bytes += m.data.len() as u64;
                    }
                    rest = &rest[n..];
                }
                Err(e) if fatal(&e) => return Err(e),
                Err(_) => {
                    sent.dropped += 1;
                    rest = &rest[1..];
                }
            }
        }
        Ok(())
    }

    /// One `sendmmsg` of as many of `msgs` as fit; how many the kernel took.
    fn sendmmsg(&mut self, fd: RawFd, msgs: &[Outgoing<'_>]) -> io::Result<usize> {
        let n = msgs.len().min(1024);
        self.iovs.clear();
        self.names.clear();
        self.ctrl.clear();
        for m in &msgs[..n] {
            self.iovs.push(libc::iovec {
                iov_base: m.data.as_ptr() as *mut libc::c_void,
                iov_len: m.data.len(),
            });
            self.names.push(m.to.map(SockAddr::from));
            let mut ctrl = [0u64; CTRL_WORDS];
            if let Some(seg) = m.segment.filter(|&s| s < m.data.len()) {
                write_segment_cmsg(&mut ctrl, seg as u16);
            }
            self.ctrl.push(ctrl);
        }
        self.hdrs.clear();
        for i in 0..n {
            // SAFETY: all-zero is a valid mmsghdr.
            let mut h: libc::mmsghdr = unsafe { zeroed() };
            if let Some(name) = &self.names[i] {
                h.msg_hdr.msg_name = name.as_ptr() as *mut libc::c_void;
                h.msg_hdr.msg_namelen = name.len();
            }
            h.msg_hdr.msg_iov = &mut self.iovs[i];
            h.msg_hdr.msg_iovlen = 1;
            if self.ctrl[i][0] != 0 {
                h.msg_hdr.msg_control = self.ctrl[i].as_mut_ptr().cast();
                // SAFETY: CMSG_SPACE only computes a size.
                h.msg_hdr.msg_controllen =
                    unsafe { libc::CMSG_SPACE(size_of::<u16>() as u32) } as _;
            }
            self.hdrs.push(h);
        }
        loop {
            // SAFETY: the headers point into `self`'s scratch vectors and into
            // `msgs`, all alive for the call; `n` is the number of headers.
            let r = unsafe { libc::sendmmsg(fd, self.hdrs.as_mut_ptr(), n as libc::c_uint, 0) };
            if r >= 0 {
                return Ok(r as usize);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

/// Write a `UDP_SEGMENT` control message with `seg` into `ctrl`.
fn write_segment_cmsg(ctrl: &mut [u64; CTRL_WORDS], seg: u16) {
    // A scratch msghdr only to let CMSG_FIRSTHDR find the buffer's start.
    // SAFETY: all-zero is a valid msghdr; the CMSG_* macros stay within
    // `ctrl`, which is CMSG_SPACE(2) = 24 bytes or more and 8-aligned.
    unsafe {
        let mut mh: libc::msghdr = zeroed();
        mh.msg_control = ctrl.as_mut_ptr().cast();
        mh.msg_controllen = libc::CMSG_SPACE(size_of::<u16>() as u32) as _;
        let c = libc::CMSG_FIRSTHDR(&mh);
        (*c).cmsg_level = libc::SOL_UDP;
        (*c).cmsg_type = UDP_SEGMENT;
        (*c).cmsg_len = libc::CMSG_LEN(size_of::<u16>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut u16, seg);
    }
}

/// GSO runs as single datagrams.
fn split_runs<'a>(msgs: &[Outgoing<'a>]) -> Vec<Outgoing<'a>> {
    let mut out = Vec::with_capacity(msgs.len());
    for m in msgs {
        match m.segment {
            Some(s) if s > 0 && s < m.data.len() => {
                out.extend(m.data.chunks(s).map(|d| Outgoing {
                    data: d,
                    to: m.to,
                    segment: None,
                }));
            }
            _ => out.push(Outgoing {
                segment: None,
                ..*m
            }),
        }
    }
    out
}

/// Errors that mean GSO cannot work here (rather than "this datagram").
fn gso_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EIO | libc::EINVAL | libc::ENOPROTOOPT | libc::EOPNOTSUPP)
    )
}

/// Errors that concern the socket, not one datagram: stop sending.
fn fatal(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EBADF | libc::ENOTSOCK | libc::EPIPE)
    )
}
