//! Batched UDP I/O for the hot paths (`serve udp --echo/--discard`, `bench
//! udp`): many datagrams per system call with `recvmmsg`/`sendmmsg`, and
//! UDP GRO/GSO, which carry a run of equal-sized datagrams through the
//! kernel as one buffer (Linux 5.0+).
//!
//! Datagram boundaries are kept: a coalesced receive comes with its segment
//! size, and every segment is one datagram the peer sent; a reply sent with
//! a segment size leaves as that many datagrams. Why GSO/GRO at all:
//! measured on this 2-core loopback (Linux 6.18), an echo round trip of
//! 1400-byte datagrams cost about three times less CPU per datagram with
//! GSO on the sender and GRO on the receiver than with `sendmmsg` and
//! `recvmmsg` alone (see `bench/peers.sh`, section `udp`). A socket whose
//! route cannot segment (`EIO`: no checksum offload) falls back to one
//! datagram per message for good.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};

use socket2::{SockAddr, SockAddrStorage};

/// `UDP_SEGMENT` from `linux/udp.h`: the GSO segment size of a send.
const UDP_SEGMENT: libc::c_int = 103;
/// `UDP_GRO` from `linux/udp.h`: coalesce received datagrams; the segment
/// size comes back as a control message.
const UDP_GRO: libc::c_int = 104;
/// Most segments the kernel takes in one GSO send.
pub const MAX_SEGMENTS: usize = 64;
/// The largest UDP payload in one buffer (a datagram, or a GSO/GRO run).
pub const MAX_PAYLOAD: usize = 65507;
/// Control-message room per message, in 8-byte words (one `int` cmsg).
const CTRL_WORDS: usize = 4;

/// Ask the kernel to coalesce received datagrams (UDP GRO). Returns false
/// where the kernel has no UDP GRO; receiving works the same either way.
pub fn enable_gro(socket: &impl AsRawFd) -> bool {
    let on: libc::c_int = 1;
    // SAFETY: setsockopt with a valid fd and a pointer to an int of the given size.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_UDP,
            UDP_GRO,
            (&on as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        ) == 0
    }
}

/// One received buffer: a datagram, or a run of datagrams of `segment`
/// bytes each (the last may be shorter) from the same sender.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// The bytes.
    pub data: &'a [u8],
    /// The sender; `None` for a wake-up after `shutdown(2)`.
    pub peer: Option<SocketAddr>,
    /// The size of each datagram in `data`.
    pub segment: usize,
    /// The datagram was longer than the buffer and was cut.
    pub truncated: bool,
}

impl<'a> Received<'a> {
    /// The datagrams, in the order they were sent (an empty datagram is one
    /// empty slice).
    pub fn datagrams(self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let data = self.data;
        let seg = self.segment.max(1);
        let empty = data.is_empty().then_some(&data[..0]);
        data.chunks(seg).chain(empty)
    }

    /// How many datagrams `data` holds.
    pub fn count(&self) -> usize {
        if self.data.is_empty() {
            1
        } else {
            self.data.len().div_ceil(self.segment.max(1))
        }
    }
}

/// Buffers for up to `capacity` messages per `recvmmsg`.
pub struct RecvBatch {
    slot: usize,
    bufs: Vec<u8>,
    names: Vec<libc::sockaddr_storage>,
    iovs: Vec<libc::iovec>,
    ctrl: Vec<[u64; CTRL_WORDS]>,
    hdrs: Vec<libc::mmsghdr>,
    filled: usize,
}

// SAFETY: the raw pointers in `iovs`/`hdrs` point into this struct's own
// heap buffers and are rewritten before every call; nothing is shared.
unsafe impl Send for RecvBatch {}

impl RecvBatch {
    /// Room for `capacity` messages of up to `slot` bytes each (use
    /// `MAX_PAYLOAD + 1` with GRO, whose runs reach 64 KiB).
    pub fn new(capacity: usize, slot: usize) -> RecvBatch {
        let capacity = capacity.max(1);
        RecvBatch {
            slot,
            bufs: vec![0u8; capacity * slot],
            // SAFETY: all-zero is a valid sockaddr_storage.
            names: vec![unsafe { zeroed() }; capacity],
            iovs: vec![
                libc::iovec {
                    iov_base: std::ptr::null_mut(),
                    iov_len: 0
                };
                capacity
            ],
            ctrl: vec![[0u64; CTRL_WORDS]; capacity],
            // SAFETY: all-zero is a valid mmsghdr.
            hdrs: vec![unsafe { zeroed() }; capacity],
            filled: 0,
        }
    }

    /// Receive up to the capacity: block for the first message unless
    /// `nonblocking`, then take what is already queued. Returns how many
    /// messages arrived (0: none queued, nonblocking only).
    pub fn recv(&mut self, socket: &impl AsRawFd, nonblocking: bool) -> io::Result<usize> {
        self.recv_fd(socket.as_raw_fd(), nonblocking)
    }

    fn recv_fd(&mut self, fd: RawFd, nonblocking: bool) -> io::Result<usize> {
        self.filled = 0;
        let n = self.hdrs.len();
        for i in 0..n {
            self.iovs[i] = libc::iovec {
                iov_base: self.bufs[i * self.slot..].as_mut_ptr().cast(),
                iov_len: self.slot,
            };
            let h = &mut self.hdrs[i];
            h.msg_len = 0;
            h.msg_hdr.msg_name = (&mut self.names[i] as *mut libc::sockaddr_storage).cast();
            h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_hdr.msg_iov = &mut self.iovs[i];
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = self.ctrl[i].as_mut_ptr().cast();
            h.msg_hdr.msg_controllen = size_of::<[u64; CTRL_WORDS]>() as _;
            h.msg_hdr.msg_flags = 0;
        }
        let flags = if nonblocking {
            libc::MSG_DONTWAIT
        } else {
            libc::MSG_WAITFORONE
        };
        loop {
            // SAFETY: every header points into buffers owned by `self` that
            // outlive the call; `n` is the length of `hdrs`.
            let r = unsafe {
                libc::recvmmsg(
                    fd,
                    self.hdrs.as_mut_ptr(),
                    n as libc::c_uint,
                    flags,
                    std::ptr::null_mut(),
                )
            };
            if r >= 0 {
                self.filled = r as usize;
                return Ok(self.filled);
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock if nonblocking => return Ok(0),
                _ => return Err(e),
            }
        }
    }

    /// How many messages the last `recv` filled.
    pub fn len(&self) -> usize {
        self.filled
    }

    /// True when the last `recv` filled nothing.
    pub fn is_empty(&self) -> bool {
        self.filled == 0
    }

    /// Message `i` of the last `recv`.
    pub fn get(&self, i: usize) -> Received<'_> {
        let h = &self.hdrs[i];
        let len = (h.msg_len as usize).min(self.slot);
        let data = &self.bufs[i * self.slot..i * self.slot + len];
        let namelen = h.msg_hdr.msg_namelen;
        let peer = if namelen == 0 {
            None
        } else {
            let mut storage = SockAddrStorage::zeroed();
            // SAFETY: SockAddrStorage is a transparent sockaddr_storage; the
            // kernel wrote a sockaddr of `namelen` bytes into ours.
            unsafe {
                *storage.view_as::<libc::sockaddr_storage>() = self.names[i];
                SockAddr::new(storage, namelen)
            }
            .as_socket()
        };
        Received {
            data,
            peer,
            segment: gro_segment(h).filter(|&s| s > 0).unwrap_or(len),
            truncated: h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
        }
    }
}

/// The `UDP_GRO` segment size a receive carried, if any.
fn gro_segment(h: &libc::mmsghdr) -> Option<usize> {
    // SAFETY: CMSG_* walk the control buffer the kernel filled, bounded by
    // msg_controllen; the data read is an int the kernel wrote.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&h.msg_hdr);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_UDP && (*c).cmsg_type == UDP_GRO {
                let v = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::c_int);
                return usize::try_from(v).ok();
            }
            c = libc::CMSG_NXTHDR(&h.msg_hdr, c);
        }
    }
    None
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::time::Duration;

    #[test]
    fn runs_split_into_their_datagrams() {
        let r = Received {
            data: b"aaabbbc",
            peer: None,
            segment: 3,
            truncated: false,
        };
        assert_eq!(
            r.datagrams().collect::<Vec<_>>(),
            [&b"aaa"[..], b"bbb", b"c"]
        );
        assert_eq!(r.count(), 3);
        let empty = Received {
            data: b"",
            peer: None,
            segment: 0,
            truncated: false,
        };
        assert_eq!(empty.datagrams().collect::<Vec<_>>(), [&b""[..]]);
        assert_eq!(empty.count(), 1);
    }

    /// Send `runs` (with GSO when `gso`) and read them back one datagram at a
    /// time with a plain socket, so the boundaries are what a peer sees.
    fn roundtrip(gso: bool) -> Vec<Vec<u8>> {
        let rx = UdpSocket::bind("127.0.0.1:0").expect("bind");
        rx.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("t");
        let tx = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let to = rx.local_addr().expect("addr");
        let run: Vec<u8> = (0..10u8).flat_map(|i| [i; 100]).chain([99; 40]).collect();
        let mut s = Sender::new();
        if !gso {
            s.disable_gso();
        }
        let msgs = [
            Outgoing {
                data: b"first",
                to: Some(to),
                segment: None,
            },
            Outgoing {
                data: &run,
                to: Some(to),
                segment: Some(100),
            },
            Outgoing {
                data: b"",
                to: Some(to),
                segment: None,
            },
        ];
        let sent = s.send(&tx, &msgs).expect("send");
        assert_eq!(sent.datagrams, 13);
        assert_eq!(sent.bytes, 5 + 1040);
        let mut got = Vec::new();
        let mut buf = [0u8; 2000];
        for _ in 0..13 {
            let n = rx.recv(&mut buf).expect("recv");
            got.push(buf[..n].to_vec());
        }
        got
    }

    #[test]
    fn gso_runs_arrive_as_separate_datagrams() {
        for gso in [true, false] {
            let got = roundtrip(gso);
            assert_eq!(got[0], b"first");
            for (i, d) in got[1..11].iter().enumerate() {
                assert_eq!(d, &vec![i as u8; 100], "gso {gso}");
            }
            assert_eq!(got[11], vec![99u8; 40]);
            assert!(got[12].is_empty());
        }
    }

    #[test]
    fn gro_receives_runs_with_their_segment_size() {
        let rx = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let gro = enable_gro(&rx);
        let tx = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let to = rx.local_addr().expect("addr");
        let run: Vec<u8> = (0..5u8).flat_map(|i| [i; 200]).collect();
        let mut s = Sender::new();
        let msgs = [Outgoing {
            data: &run,
            to: Some(to),
            segment: Some(200),
        }];
        s.send(&tx, &msgs).expect("send");
        let mut batch = RecvBatch::new(8, MAX_PAYLOAD + 1);
        let mut datagrams = Vec::new();
        while datagrams.len() < 5 {
            let n = batch.recv(&rx, false).expect("recv");
            for i in 0..n {
                let m = batch.get(i);
                assert_eq!(m.peer, Some(tx.local_addr().expect("addr")));
                if gro {
                    // GSO in, GRO out: the run crosses loopback as one buffer.
                    assert_eq!((m.segment, m.data.len()), (200, 1000));
                } else {
                    assert_eq!(m.segment, m.data.len());
                }
                datagrams.extend(m.datagrams().map(<[u8]>::to_vec));
            }
        }
        for (i, d) in datagrams.iter().enumerate() {
            assert_eq!(d, &vec![i as u8; 200]);
        }
    }
}
