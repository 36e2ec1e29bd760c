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

use std::mem::size_of;
use std::os::fd::AsRawFd;

/// `UDP_SEGMENT` from `linux/udp.h`: the GSO segment size of a send.
pub(crate) const UDP_SEGMENT: libc::c_int = 103;
/// `UDP_GRO` from `linux/udp.h`: coalesce received datagrams; the segment
/// size comes back as a control message.
pub(crate) const UDP_GRO: libc::c_int = 104;
/// Most segments the kernel takes in one GSO send.
pub const MAX_SEGMENTS: usize = 64;
/// The largest UDP payload in one buffer (a datagram, or a GSO/GRO run).
pub const MAX_PAYLOAD: usize = 65507;
/// Control-message room per message, in 8-byte words (one `int` cmsg).
pub(crate) const CTRL_WORDS: usize = 4;

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

mod recv;
mod send;

pub use recv::{Received, RecvBatch};
pub use send::{Outgoing, Sender, Sent};

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
