//! Exit codes and the few error kinds a caller must branch on.
//!
//! Everything else travels as `anyhow::Error` with context; `main` walks the
//! chain once, prints `netkit: error: {:#}` and picks the code from here.

use std::fmt;
use std::io;

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

/// A hint for errors users hit often, appended to the one-line message.
pub fn hint(err: &anyhow::Error) -> Option<&'static str> {
    for cause in err.chain() {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            if let Some(t) = crate::transport::tls::as_tls_error(io) {
                return crate::transport::tlsconfig::hint(t);
            }
            return match io.kind() {
                io::ErrorKind::AddrInUse => {
                    Some("another program listens there; pick another port or 0 for any free one")
                }
                io::ErrorKind::PermissionDenied => Some(
                    "ports below 1024 need root or CAP_NET_BIND_SERVICE; try a port above 1023",
                ),
                io::ErrorKind::ConnectionRefused => Some("is a server listening on that port?"),
                io::ErrorKind::AddrNotAvailable => {
                    Some("that address does not belong to this machine")
                }
                _ => None,
            };
        }
    }
    None
}

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
    fn broken_pipe_is_recognised_through_context() {
        let e: anyhow::Error = io::Error::from(io::ErrorKind::BrokenPipe).into();
        assert!(is_broken_pipe(&e.context("writing stdout")));
        assert!(!is_broken_pipe(&anyhow::anyhow!("no")));
    }
}
