//! Exit codes and the few error kinds a caller must branch on.
//!
//! Everything else travels as `anyhow::Error` with context; `main` walks the
//! chain once, prints `netkit: error: {:#}` and picks the code from here.

use std::fmt;
use std::io;
use std::net::SocketAddr;

/// Exit codes, documented in README.md and `netkit --help`.
pub mod code {
    /// Success.
    pub const OK: i32 = 0;
    /// A runtime failure (I/O error, protocol error, port in use...).
    pub const FAILURE: i32 = 1;
    /// Bad usage: an unknown flag, a bad port, size or duration.
    pub const USAGE: i32 = 2;
    /// The peer refused the connection.
    pub const REFUSED: i32 = 3;
    /// A connect or idle timeout expired.
    pub const TIMED_OUT: i32 = 4;
    /// UDP: nothing came back within `--reply-timeout`.
    pub const NO_REPLY: i32 = 5;
    /// TLS: the handshake failed (certificate expired, wrong name, unknown
    /// CA, pin mismatch, or the peer refused ours).
    pub const TLS: i32 = 6;
    /// A proxy refused: bad credentials, a rule, or an unreachable target.
    pub const PROXY: i32 = 7;
}

/// An error whose kind decides the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The user asked for something impossible; exit 2.
    Usage(String),
    /// No reply arrived in time (UDP); exit 5.
    NoReply(String),
    /// A deadline expired; exit 4.
    TimedOut(String),
    /// The TLS handshake failed; exit 6.
    Tls(String),
    /// A proxy refused the request; exit 7.
    Proxy(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(m)
            | Failure::NoReply(m)
            | Failure::TimedOut(m)
            | Failure::Tls(m)
            | Failure::Proxy(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Failure {}

/// Shorthand for a usage error as an `anyhow::Error`.
pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    Failure::Usage(msg.into()).into()
}

/// True when the error is (or wraps) a broken pipe: `netkit ... | head` ends quietly.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The exit code for an error, from the first cause in its chain that decides one.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    if let Some(Reported(inner)) = err.downcast_ref::<Reported>() {
        return exit_code(inner);
    }
    for cause in err.chain() {
        if let Some(f) = cause.downcast_ref::<Failure>() {
            return match f {
                Failure::Usage(_) => code::USAGE,
                Failure::NoReply(_) => code::NO_REPLY,
                Failure::TimedOut(_) => code::TIMED_OUT,
                Failure::Tls(_) => code::TLS,
                Failure::Proxy(_) => code::PROXY,
            };
        }
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            if crate::transport::tls::as_tls_error(io).is_some() {
                return code::TLS;
            }
            match io.kind() {
                io::ErrorKind::ConnectionRefused => return code::REFUSED,
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => return code::TIMED_OUT,
                _ => {}
            }
        }
    }
    code::FAILURE
}

/// Where an I/O error happened, when a hint depends on it: a context
/// value in the error chain (its text is the context message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// A server binding its TCP port.
    Listen(SocketAddr),
    /// A server binding its UDP port.
    Bind(SocketAddr),
    /// A client binding its `-p` source port.
    ClientPort(u16),
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Site::Listen(a) => write!(f, "cannot listen on {a}"),
            Site::Bind(a) => write!(f, "cannot bind {a}"),
            Site::ClientPort(p) => write!(f, "cannot use local port {p} (-p)"),
        }
    }
}

/// A hint for errors users hit often, appended to the one-line message.
/// Only where it is true: the privileged-port hint for a port below 1024
/// that a server could not bind, not for a file it could not open.
pub fn hint(err: &anyhow::Error) -> Option<&'static str> {
    let site = err.downcast_ref::<Site>().copied();
    for cause in err.chain() {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            if let Some(t) = crate::transport::tls::as_tls_error(io) {
                return crate::transport::tlsconfig::hint(t);
            }
            return match (io.kind(), site) {
                (io::ErrorKind::AddrInUse, Some(Site::ClientPort(_))) => Some(
                    "it may be this client's own recent connection, kept in TIME_WAIT for about a minute; drop -p or pick another port",
                ),
                (io::ErrorKind::AddrInUse, _) => {
                    Some("another program listens there; pick another port or 0 for any free one")
                }
                (io::ErrorKind::PermissionDenied, Some(Site::Listen(a) | Site::Bind(a)))
                    if a.port() != 0 && a.port() < 1024 =>
                {
                    Some(
                        "ports below 1024 need root or CAP_NET_BIND_SERVICE; try a port above 1023",
                    )
                }
                (io::ErrorKind::ConnectionRefused, _) => {
                    Some("is a server listening on that port?")
                }
                (io::ErrorKind::AddrNotAvailable, _) => {
                    Some("that address does not belong to this machine")
                }
                _ => None,
            };
        }
    }
    None
}

/// The error as `main` prints it, without the `netkit: error:` prefix:
/// the chain on one line, and the hint if there is one.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut line = format!("{err:#}");
    if let Some(h) = hint(err) {
        line.push_str(&format!(" (hint: {h})"));
    }
    line
}

/// An error already shown to the user (as the `--json` summary): `main`
/// prints nothing more and only picks the exit code from it.
#[derive(Debug)]
pub struct Reported(pub anyhow::Error);

impl fmt::Display for Reported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for Reported {}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn codes_follow_the_chain() {
        let refused: anyhow::Error = io::Error::from(io::ErrorKind::ConnectionRefused).into();
        assert_eq!(exit_code(&refused.context("cannot connect")), code::REFUSED);
        let timed: anyhow::Error = io::Error::from(io::ErrorKind::TimedOut).into();
        assert_eq!(exit_code(&timed), code::TIMED_OUT);
        let r: anyhow::Result<()> = Err(Failure::NoReply("x".into()).into());
        assert_eq!(exit_code(&r.context("udp").unwrap_err()), code::NO_REPLY);
        assert_eq!(exit_code(&usage("bad port")), code::USAGE);
        assert_eq!(exit_code(&anyhow::anyhow!("other")), code::FAILURE);
    }

    #[test]
    fn hints_are_given_only_where_they_are_true() {
        let denied = || anyhow::Error::new(io::Error::from(io::ErrorKind::PermissionDenied));
        let low: SocketAddr = "127.0.0.1:80".parse().expect("addr");
        let high: SocketAddr = "127.0.0.1:8080".parse().expect("addr");
        assert!(hint(&denied().context(Site::Listen(low))).is_some_and(|h| h.contains("1024")));
        assert!(hint(&denied().context(Site::Bind(low))).is_some());
        assert_eq!(hint(&denied().context(Site::Listen(high))), None);
        assert_eq!(hint(&denied().context("cannot open dump.txt")), None);
        let in_use = || anyhow::Error::new(io::Error::from(io::ErrorKind::AddrInUse));
        assert!(
            hint(&in_use().context(Site::ClientPort(5000)))
                .is_some_and(|h| h.contains("TIME_WAIT"))
        );
        assert!(
            hint(&in_use().context(Site::Listen(high)))
                .is_some_and(|h| h.contains("another program"))
        );
        let shown = format!("{:#}", denied().context(Site::Listen(low)));
        assert!(
            shown.starts_with("cannot listen on 127.0.0.1:80: "),
            "{shown}"
        );
    }

    #[test]
    fn reported_errors_keep_their_exit_code() {
        let refused: anyhow::Error = io::Error::from(io::ErrorKind::ConnectionRefused).into();
        let r: anyhow::Error = Reported(refused.context("cannot connect")).into();
        assert_eq!(exit_code(&r), code::REFUSED);
    }

    #[test]
    fn broken_pipe_is_recognised_through_context() {
        let e: anyhow::Error = io::Error::from(io::ErrorKind::BrokenPipe).into();
        assert!(is_broken_pipe(&e.context("writing stdout")));
        assert!(!is_broken_pipe(&anyhow::anyhow!("no")));
    }
}
