//! SOCKS5 messages (RFC 1928) and username/password auth (RFC 1929), as pure
//! functions over bytes: each parser returns "need more" or the message and
//! how many bytes it took, so the socket code reads exactly one message and
//! never a byte of the tunnel behind it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::Credentials;

/// Protocol version byte.
pub const VERSION: u8 = 5;
/// No authentication.
pub const NO_AUTH: u8 = 0;
/// Username/password (RFC 1929).
pub const USER_PASS: u8 = 2;
/// "No acceptable methods".
pub const NO_METHOD: u8 = 0xff;
/// The CONNECT command.
pub const CMD_CONNECT: u8 = 1;

/// The longest SOCKS5 message: a request with a 255-byte name, or auth with
/// two 255-byte fields.
pub const MAX_MESSAGE: usize = 513;

/// A parse result: not enough bytes yet (at least this many in all are
/// needed), or the value and the bytes it took.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed<T> {
    /// Need at least this many bytes in total.
    Need(usize),
    /// The message and its length.
    Done(T, usize),
}

/// A malformed or unacceptable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadMessage(pub String);

impl std::fmt::Display for BadMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadMessage {}

fn bad<T>(msg: impl Into<String>) -> Result<T, BadMessage> {
    Err(BadMessage(msg.into()))
}

/// Where a CONNECT goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// An address.
    Ip(IpAddr),
    /// A name for the proxy to resolve.
    Name(String),
}

impl std::fmt::Display for Dest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dest::Ip(IpAddr::V6(a)) => write!(f, "[{a}]"),
            Dest::Ip(a) => write!(f, "{a}"),
            Dest::Name(n) => f.write_str(n),
        }
    }
}

/// Reply codes (RFC 1928 section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// 0: succeeded.
    Ok = 0,
    /// 1: general failure.
    Failure = 1,
    /// 2: not allowed by ruleset.
    NotAllowed = 2,
    /// 3: network unreachable.
    NetUnreachable = 3,
    /// 4: host unreachable.
    HostUnreachable = 4,
    /// 5: connection refused.
    Refused = 5,
    /// 6: TTL expired.
    TtlExpired = 6,
    /// 7: command not supported.
    CommandNotSupported = 7,
    /// 8: address type not supported.
    AddressNotSupported = 8,
}

impl Reply {
    /// From the wire.
    pub fn from_code(c: u8) -> Option<Reply> {
        Some(match c {
            0 => Reply::Ok,
            1 => Reply::Failure,
            2 => Reply::NotAllowed,
            3 => Reply::NetUnreachable,
            4 => Reply::HostUnreachable,
            5 => Reply::Refused,
            6 => Reply::TtlExpired,
            7 => Reply::CommandNotSupported,
            8 => Reply::AddressNotSupported,
            _ => return None,
        })
    }

    /// What it means, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Reply::Ok => "succeeded",
            Reply::Failure => "general failure",
            Reply::NotAllowed => "not allowed by the proxy's rules",
            Reply::NetUnreachable => "network unreachable",
            Reply::HostUnreachable => "host unreachable",
            Reply::Refused => "connection refused",
            Reply::TtlExpired => "timed out",
            Reply::CommandNotSupported => "command not supported",
            Reply::AddressNotSupported => "address type not supported",
        }
    }

    /// The reply for a failed connect to the target.
    pub fn for_io(e: &std::io::Error) -> Reply {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::ConnectionRefused => Reply::Refused,
            K::TimedOut | K::WouldBlock => Reply::TtlExpired,
            K::NetworkUnreachable => Reply::NetUnreachable,
            K::HostUnreachable | K::NotFound => Reply::HostUnreachable,
            K::PermissionDenied => Reply::NotAllowed,
            _ => Reply::HostUnreachable,
        }
    }
}

// ---- client side ----

/// The greeting: the methods we offer.
pub fn encode_greeting(with_auth: bool) -> Vec<u8> {
    if with_auth {
        vec![VERSION, 2, NO_AUTH, USER_PASS]
    } else {
        vec![VERSION, 1, NO_AUTH]
    }
}

/// The server's method choice (2 bytes).
pub fn parse_method_choice(b: &[u8]) -> Result<Parsed<u8>, BadMessage> {
    if b.len() < 2 {
        return Ok(Parsed::Need(2));
    }
    if b[0] != VERSION {
        return bad(format!("not a SOCKS5 server (version byte {})", b[0]));
    }
    Ok(Parsed::Done(b[1], 2))
}

/// RFC 1929 request.
pub fn encode_user_pass(c: &Credentials) -> Vec<u8> {
    let mut out = vec![1, c.user.len() as u8];
    out.extend_from_slice(c.user.as_bytes());
    out.push(c.pass.len() as u8);
    out.extend_from_slice(c.pass.as_bytes());
    out
}

/// RFC 1929 status (2 bytes): true when accepted.
pub fn parse_auth_status(b: &[u8]) -> Result<Parsed<bool>, BadMessage> {
    if b.len() < 2 {
        return Ok(Parsed::Need(2));
    }
    if b[0] != 1 {
        return bad("bad SOCKS5 authentication reply");
    }
    Ok(Parsed::Done(b[1] == 0, 2))
}

/// A CONNECT request. A name goes as a name (the proxy resolves it).
pub fn encode_connect(dest: &Dest, port: u16) -> Result<Vec<u8>, BadMessage> {
    let mut out = vec![VERSION, CMD_CONNECT, 0];
    match dest {
        Dest::Ip(IpAddr::V4(a)) => {
            out.push(1);
            out.extend_from_slice(&a.octets());
        }
        Dest::Ip(IpAddr::V6(a)) => {
            out.push(4);
            out.extend_from_slice(&a.octets());
        }
        Dest::Name(n) => {
            if n.is_empty() || n.len() > 255 {
                return bad(format!(
                    "host name '{n}' is too long for SOCKS5 (255 bytes)"
                ));
            }
            out.push(3);
            out.push(n.len() as u8);
            out.extend_from_slice(n.as_bytes());
        }
    }
    out.extend_from_slice(&port.to_be_bytes());
    Ok(out)
}

/// The address part shared by requests and replies, at `b[3..]`.
fn parse_addr(b: &[u8]) -> Result<Parsed<(Dest, u16)>, BadMessage> {
    if b.len() < 5 {
        return Ok(Parsed::Need(5));
    }
    let (dest, end) = match b[3] {
        1 => {
            if b.len() < 10 {
                return Ok(Parsed::Need(10));
            }
            let ip = Ipv4Addr::new(b[4], b[5], b[6], b[7]);
            (Dest::Ip(IpAddr::V4(ip)), 8)
        }
        4 => {
            if b.len() < 22 {
                return Ok(Parsed::Need(22));
            }
            let mut o = [0u8; 16];
            o.copy_from_slice(&b[4..20]);
            (Dest::Ip(IpAddr::V6(Ipv6Addr::from(o))), 20)
        }
        3 => {
            let len = b[4] as usize;
            if len == 0 {
                return bad("empty host name in SOCKS5 message");
            }
            if b.len() < 5 + len + 2 {
                return Ok(Parsed::Need(5 + len + 2));
            }
            let name = std::str::from_utf8(&b[5..5 + len])
                .map_err(|_| BadMessage("host name in SOCKS5 message is not UTF-8".into()))?;
            (Dest::Name(name.to_string()), 5 + len)
        }
        t => return bad(format!("unknown SOCKS5 address type {t}")),
    };
    let port = u16::from_be_bytes([b[end], b[end + 1]]);
    Ok(Parsed::Done((dest, port), end + 2))
}

/// The server's reply to CONNECT: its code and bound address.
pub fn parse_reply(b: &[u8]) -> Result<Parsed<(u8, Dest, u16)>, BadMessage> {
    if b.len() < 2 {
        return Ok(Parsed::Need(2));
    }
    if b[0] != VERSION {
        return bad(format!("bad SOCKS5 reply (version byte {})", b[0]));
    }
    Ok(match parse_addr(b)? {
        Parsed::Need(n) => Parsed::Need(n),
        Parsed::Done((d, p), n) => Parsed::Done((b[1], d, p), n),
    })
}

// ---- server side ----

/// A client's greeting: the methods it offers.
pub fn parse_greeting(b: &[u8]) -> Result<Parsed<Vec<u8>>, BadMessage> {
    if b.len() < 2 {
        return Ok(Parsed::Need(2));
    }
    if b[0] != VERSION {
        return bad(format!("not a SOCKS5 client (version byte {})", b[0]));
    }
    let n = b[1] as usize;
    if n == 0 {
        return bad("SOCKS5 greeting offers no method");
    }
    if b.len() < 2 + n {
        return Ok(Parsed::Need(2 + n));
    }
    Ok(Parsed::Done(b[2..2 + n].to_vec(), 2 + n))
}

/// A client's RFC 1929 credentials.
pub fn parse_user_pass(b: &[u8]) -> Result<Parsed<Credentials>, BadMessage> {
    if b.len() < 2 {
        return Ok(Parsed::Need(2));
    }
    if b[0] != 1 {
        return bad("bad SOCKS5 authentication version");
    }
    let ulen = b[1] as usize;
    if b.len() < 2 + ulen + 1 {
        return Ok(Parsed::Need(2 + ulen + 1));
    }
    let plen = b[2 + ulen] as usize;
    let total = 3 + ulen + plen;
    if b.len() < total {
        return Ok(Parsed::Need(total));
    }
    Ok(Parsed::Done(
        Credentials {
            user: String::from_utf8_lossy(&b[2..2 + ulen]).into_owned(),
            pass: String::from_utf8_lossy(&b[3 + ulen..total]).into_owned(),
        },
        total,
    ))
}

/// A client's request: command, destination, port.
pub fn parse_request(b: &[u8]) -> Result<Parsed<(u8, Dest, u16)>, BadMessage> {
    if b.len() < 2 {
        return Ok(Parsed::Need(2));
    }
    if b[0] != VERSION {
        return bad(format!("bad SOCKS5 request (version byte {})", b[0]));
    }
    Ok(match parse_addr(b)? {
        Parsed::Need(n) => Parsed::Need(n),
        Parsed::Done((d, p), n) => Parsed::Done((b[1], d, p), n),
    })
}

/// The server's reply, with the address it connected from.
pub fn encode_reply(code: Reply, bound: Option<SocketAddr>) -> Vec<u8> {
    let mut out = vec![VERSION, code as u8, 0];
    match bound {
        Some(SocketAddr::V6(a)) => {
            out.push(4);
            out.extend_from_slice(&a.ip().octets());
            out.extend_from_slice(&a.port().to_be_bytes());
        }
        Some(SocketAddr::V4(a)) => {
            out.push(1);
            out.extend_from_slice(&a.ip().octets());
            out.extend_from_slice(&a.port().to_be_bytes());
        }
        None => out.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0]),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every strict prefix of a valid message asks for more; the whole parses.
    fn prefixes<T: std::fmt::Debug>(
        msg: &[u8],
        parse: impl Fn(&[u8]) -> Result<Parsed<T>, BadMessage>,
    ) -> T {
        for i in 0..msg.len() {
            match parse(&msg[..i]) {
                Ok(Parsed::Need(n)) => assert!(n > i && n <= msg.len(), "prefix {i}: need {n}"),
                other => panic!("prefix {i} of {msg:?}: {other:?}"),
            }
        }
        // Extra bytes after the message (the tunnel) are not taken.
        let mut more = msg.to_vec();
        more.extend_from_slice(b"tunnel");
        match parse(&more) {
            Ok(Parsed::Done(v, n)) => {
                assert_eq!(n, msg.len());
                v
            }
            other => panic!("{msg:?}: {other:?}"),
        }
    }

    #[test]
    fn requests_round_trip_through_both_sides() {
        for (dest, port) in [
            (Dest::Name("example.test".into()), 443),
            (Dest::Ip("127.0.0.1".parse().unwrap()), 80),
            (Dest::Ip("::1".parse().unwrap()), 8080),
        ] {
            let req = encode_connect(&dest, port).unwrap();
            let (cmd, d, p) = prefixes(&req, parse_request);
            assert_eq!((cmd, d, p), (CMD_CONNECT, dest, port));
        }
        let reply = encode_reply(Reply::Ok, Some("[::1]:9".parse().unwrap()));
        let (code, d, p) = prefixes(&reply, parse_reply);
        assert_eq!((code, d, p), (0, Dest::Ip("::1".parse().unwrap()), 9));
        let none = encode_reply(Reply::Refused, None);
        assert_eq!(prefixes(&none, parse_reply).0, 5);
    }

    #[test]
    fn greetings_and_auth() {
        assert_eq!(prefixes(&encode_greeting(true), parse_greeting), vec![0, 2]);
        assert_eq!(prefixes(&[5, 0], parse_method_choice), 0);
        let c = Credentials {
            user: "alice".into(),
            pass: "s3cr:t".into(),
        };
        assert_eq!(prefixes(&encode_user_pass(&c), parse_user_pass), c);
        assert!(prefixes(&[1, 0], parse_auth_status));
        assert!(!prefixes(&[1, 1], parse_auth_status));
    }

    #[test]
    fn hostile_messages_are_refused() {
        assert!(parse_greeting(&[4, 1, 0]).is_err());
        assert!(parse_greeting(&[5, 0]).is_err());
        assert!(parse_request(&[5, 1, 0, 9, 0, 0]).is_err());
        assert!(parse_request(&[5, 1, 0, 3, 0, 0, 80]).is_err());
        assert!(parse_request(&[5, 1, 0, 3, 2, 0xff, 0xfe, 0, 80]).is_err());
        assert!(encode_connect(&Dest::Name("x".repeat(256)), 1).is_err());
        // The largest legal message fits the bound.
        let long = encode_connect(&Dest::Name("x".repeat(255)), 1).unwrap();
        assert!(long.len() <= MAX_MESSAGE);
    }
}
