//! Which UDP datagrams a service must not answer. A UDP source address is
//! whatever the sender wrote, so a reply can be aimed at a third party: a
//! datagram forged to come from the server's own port makes it answer
//! itself for ever, and one forged between two services (echo and time)
//! makes them answer each other for ever. As inetd does for its built-in
//! services, nothing is answered that comes from
//!
//! - the server's own port (on any address: itself, or a twin elsewhere),
//! - a well-known service port that answers datagrams: echo (7),
//!   discard (9), daytime (13), qotd (17), chargen (19) and time (37),
//! - port 0, which no reply can reach;
//!
//! and an empty datagram gets no reply either (it is how probes and
//! wake-ups look, and answering it is what starts a loop). The time
//! service also stays silent to a datagram that is itself a service's
//! error reply (`ERR ...`), which ends a loop between it and an echo
//! server on ports this list cannot know.

use std::net::SocketAddr;

/// Source ports of services that answer datagrams (RFC 862, 863, 867, 865,
/// 864, 868).
pub const SERVICE_PORTS: [u16; 6] = [7, 9, 13, 17, 19, 37];

/// Why a datagram gets no reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Silence {
    /// It came from the server's own port.
    OwnPort,
    /// It came from a port of a service that answers datagrams.
    ServicePort,
    /// Its source port is 0.
    PortZero,
    /// It carries no bytes.
    Empty,
    /// It is an error reply of a service (time mode only).
    ErrorReply,
}

impl Silence {
    /// How logs name it.
    pub fn describe(self) -> &'static str {
        match self {
            Silence::OwnPort => "from this server's own port",
            Silence::ServicePort => "from a UDP service port (7, 9, 13, 17, 19, 37)",
            Silence::PortZero => "from port 0",
            Silence::Empty => "empty",
            Silence::ErrorReply => "an error reply of another service",
        }
    }

    /// A short name for JSON logs.
    pub fn code(self) -> &'static str {
        match self {
            Silence::OwnPort => "own_port",
            Silence::ServicePort => "service_port",
            Silence::PortZero => "port_zero",
            Silence::Empty => "empty",
            Silence::ErrorReply => "error_reply",
        }
    }
}

/// Whether a service bound to `local` may answer `peer`'s datagram of
/// `len` bytes; `None` when it may.
pub fn check(local: SocketAddr, peer: SocketAddr, len: usize) -> Option<Silence> {
    let port = peer.port();
    if port == local.port() {
        Some(Silence::OwnPort)
    } else if port == 0 {
        Some(Silence::PortZero)
    } else if SERVICE_PORTS.contains(&port) {
        Some(Silence::ServicePort)
    } else if len == 0 {
        Some(Silence::Empty)
    } else {
        None
    }
}

/// The time service's extra rule: a datagram that is a service's error
/// reply gets none.
pub fn is_error_reply(datagram: &[u8]) -> bool {
    datagram.starts_with(b"ERR ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> SocketAddr {
        s.parse().expect("address")
    }

    #[test]
    fn loops_and_empty_datagrams_are_not_answered() {
        let local = at("127.0.0.1:9000");
        assert_eq!(
            check(local, at("127.0.0.1:9000"), 5),
            Some(Silence::OwnPort)
        );
        assert_eq!(check(local, at("10.1.2.3:9000"), 5), Some(Silence::OwnPort));
        assert_eq!(
            check(at("[::]:9000"), at("[::ffff:127.0.0.1]:9000"), 5),
            Some(Silence::OwnPort)
        );
        for p in SERVICE_PORTS {
            let peer = SocketAddr::new(local.ip(), p);
            assert_eq!(check(local, peer, 5), Some(Silence::ServicePort), "{p}");
        }
        assert_eq!(check(local, at("127.0.0.1:0"), 5), Some(Silence::PortZero));
        assert_eq!(check(local, at("127.0.0.1:40000"), 0), Some(Silence::Empty));
        assert_eq!(check(local, at("127.0.0.1:40000"), 1), None);
        assert_eq!(check(local, at("[::1]:53"), 64), None);
    }

    #[test]
    fn error_replies_are_recognised() {
        assert!(is_error_reply(b"ERR unknown request; send TIME\n"));
        assert!(!is_error_reply(b"TIME"));
        assert!(!is_error_reply(b"ERROR"));
        assert!(!is_error_reply(b""));
    }
}
