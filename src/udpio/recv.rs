//! Receiving: `recvmmsg` into a batch of buffers, each message with its
//! sender and, with GRO, the size of the datagrams it holds.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};

use socket2::{SockAddr, SockAddrStorage};

use super::{CTRL_WORDS, UDP_GRO};

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
