//! How a connection ended, as its `-v` record says it.

use std::io;

/// What a reset connection ended with: the peer closed with bytes unread.
pub const RESET: &str = "reset by peer";

/// How a connection ended, for the `-v` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The client closed its side.
    PeerClosed,
    /// The service finished on its own (`time`, `quit`).
    Done,
    /// No traffic for `--idle-timeout`.
    Idle,
    /// Still live at the end of `--grace`, and closed by the server; what
    /// the handler saw then, if it says more than that the socket closed
    /// (`command killed by signal 15`).
    Cut(Option<String>),
    /// Anything else, described.
    Error(String),
}

impl End {
    /// Classify an I/O error that ended a connection.
    pub fn from_io(e: &io::Error) -> End {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => End::Idle,
            io::ErrorKind::ConnectionReset => End::Error(RESET.into()),
            io::ErrorKind::BrokenPipe => End::Error("peer stopped reading".into()),
            io::ErrorKind::UnexpectedEof => End::Error("peer closed mid-message".into()),
            _ => match crate::transport::tls::as_tls_error(e) {
                Some(t) => End::Error(format!("TLS: {t}")),
                None => End::Error(e.to_string()),
            },
        }
    }

    /// The end of a connection the server cut at the end of `--grace`.
    pub fn cut(self) -> End {
        match self {
            End::Done | End::Cut(_) => self,
            End::Error(e) if e.starts_with("command") => End::Cut(Some(e)),
            _ => End::Cut(None),
        }
    }

    /// How the `-v` record puts it.
    pub fn describe(&self) -> String {
        match self {
            End::PeerClosed => "closed by peer".into(),
            End::Done => "done".into(),
            End::Idle => "idle timeout".into(),
            End::Cut(None) => "cut at the end of --grace".into(),
            End::Cut(Some(detail)) => format!("cut at the end of --grace ({detail})"),
            End::Error(e) => e.clone(),
        }
    }
}
