//! One UDP socket per core on one port, without opening the port to others.
//!
//! The first socket is bound exclusively (no `SO_REUSEADDR`, no
//! `SO_REUSEPORT`; `net::bind_udp`), so binding fails if anyone holds the
//! port, and a second netkit fails the same way against this one. Only
//! then is `SO_REUSEPORT` set on it and the others bound next to it, all
//! in this process. Linux lets a socket join such a group only with
//! `SO_REUSEPORT` and the same effective user id, so another user's
//! process cannot bind the port; a process of the same user that asks for
//! `SO_REUSEPORT` can, and to keep it from taking clients' datagrams the
//! group gets a classic BPF program that picks one of *our* sockets by the
//! sender's port: a socket that joins later is never chosen. Steering by
//! source port also keeps each client on one socket, so its datagrams are
//! answered in order.

use std::io;
use std::mem::size_of;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, SockRef, Socket, Type};

/// `SO_ATTACH_REUSEPORT_CBPF` from `asm-generic/socket.h`.
const SO_ATTACH_REUSEPORT_CBPF: libc::c_int = 51;
/// Classic BPF's base offset of the network header (`SKF_NET_OFF`).
const SKF_NET_OFF: u32 = (-0x100000i32) as u32;

/// `first` and up to `n - 1` more sockets bound to its address, sharing
/// the port. Falls back to `first` alone if the kernel refuses the rest.
pub fn spread(first: UdpSocket, n: usize) -> Vec<UdpSocket> {
    let mut all = vec![first];
    if n < 2 {
        return all;
    }
    let Ok(local) = all[0].local_addr() else {
        return all;
    };
    if SockRef::from(&all[0]).set_reuse_port(true).is_err() {
        return all;
    }
    for _ in 1..n {
        match sibling(&all[0], local) {
            Ok(s) => all.push(s),
            Err(_) => break,
        }
    }
    if all.len() < 2 || attach_steering(&all[0], all.len() as u32).is_err() {
        // Without the program the kernel would hash clients to a late
        // joiner too: serve on the first socket alone, and take the flag
        // back so nobody can join it.
        all.truncate(1);
        let _ = SockRef::from(&all[0]).set_reuse_port(false);
    }
    all
}

/// Another socket like `first`, bound to `local` with `SO_REUSEPORT`.
fn sibling(first: &UdpSocket, local: SocketAddr) -> io::Result<UdpSocket> {
    let model = SockRef::from(first);
    let s = Socket::new(Domain::for_address(local), Type::DGRAM, Some(Protocol::UDP))?;
    if local.is_ipv6() {
        s.set_only_v6(model.only_v6()?)?;
    }
    // The kernel reports twice what was asked; ask for the same.
    s.set_recv_buffer_size(model.recv_buffer_size()? / 2)?;
    s.set_send_buffer_size(model.send_buffer_size()? / 2)?;
    s.set_reuse_port(true)?;
    s.bind(&local.into())?;
    Ok(s.into())
}

/// A classic BPF instruction.
#[repr(C)]
#[derive(Clone, Copy)]
struct SockFilter {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const SockFilter,
}

const fn op(code: u16, jt: u8, jf: u8, k: u32) -> SockFilter {
    SockFilter { code, jt, jf, k }
}

/// The program: `return source_port % n`. For a reuseport group the
/// packet starts at the UDP payload, so the port is read through the
/// network-header offset: after the IPv4 header (its length from IHL) or
/// the fixed IPv6 header. Anything else goes to socket 0.
fn steering_program(n: u32) -> Vec<SockFilter> {
    const LD_B_ABS: u16 = 0x30; // BPF_LD | BPF_B | BPF_ABS
    const LD_H_ABS: u16 = 0x28; // BPF_LD | BPF_H | BPF_ABS
    const LD_H_IND: u16 = 0x48; // BPF_LD | BPF_H | BPF_IND
    const LDX_B_MSH: u16 = 0xb1; // BPF_LDX | BPF_B | BPF_MSH
    const RSH_K: u16 = 0x74; // BPF_ALU | BPF_RSH | BPF_K
    const MOD_K: u16 = 0x94; // BPF_ALU | BPF_MOD | BPF_K
    const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const JA: u16 = 0x05; // BPF_JMP | BPF_JA
    const RET_A: u16 = 0x16; // BPF_RET | BPF_A
    const RET_K: u16 = 0x06; // BPF_RET | BPF_K
    vec![
        op(LD_B_ABS, 0, 0, SKF_NET_OFF), // 0: A = first byte of the IP header
        op(RSH_K, 0, 0, 4),              // 1: A = the IP version
        op(JEQ_K, 0, 3, 4),              // 2: IPv4 goes on, else to 6
        op(LDX_B_MSH, 0, 0, SKF_NET_OFF), // 3: X = the IPv4 header's length
        op(LD_H_IND, 0, 0, SKF_NET_OFF), // 4: A = the UDP source port
        op(JA, 0, 0, 2),                 // 5: to 8
        op(JEQ_K, 0, 3, 6),              // 6: IPv6 goes on, else to 10
        op(LD_H_ABS, 0, 0, SKF_NET_OFF + 40), // 7: A = the UDP source port
        op(MOD_K, 0, 0, n),              // 8: A %= n
        op(RET_A, 0, 0, 0),              // 9: socket A
        op(RET_K, 0, 0, 0),              // 10: socket 0
    ]
}

/// Attach the steering program to `socket`'s reuseport group.
fn attach_steering(socket: &UdpSocket, n: u32) -> io::Result<()> {
    let prog = steering_program(n);
    let fprog = SockFprog {
        len: prog.len() as u16,
        filter: prog.as_ptr(),
    };
    // SAFETY: setsockopt copies the program; `fprog` points at `prog`,
    // which lives until the call returns.
    let r = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_ATTACH_REUSEPORT_CBPF,
            (&fprog as *const SockFprog).cast(),
            size_of::<SockFprog>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
