//! The open-file budget of the accept loop. Each connection costs a mode a
//! known number of descriptors (the socket, its clones for writer threads
//! or a child's stdin/stdout); when the next client would not fit under
//! the process's limit, the loop stops accepting until a connection ends,
//! so new clients wait in the kernel's backlog and are served when
//! descriptors free up, instead of being accepted and closed unserved.

use super::TcpMode;

/// Descriptors kept free for everything else (log files, a child's
/// spawn, `--hexdump`, the odd clone).
const RESERVE: u64 = 8;

/// Descriptors one connection of `mode` holds at a time.
pub fn per_conn(mode: TcpMode, keep_open: bool, tls: bool) -> u64 {
    match mode {
        // The socket; while a child is spawned, two duplicates for its
        // stdin/stdout and the pipe that reports a failed exec. With TLS
        // the child gets pipes instead, two of whose ends stay with us.
        TcpMode::Exec if tls => 5,
        TcpMode::Exec => 3,
        // The socket, the writer thread's clone, the room's clone.
        TcpMode::Chat => 3,
        // The client, the upstream socket, and a clone of each for the
        // relay's two directions.
        TcpMode::Forward | TcpMode::Socks5 | TcpMode::HttpProxy => 4,
        // The socket and the stdin writer's clone.
        TcpMode::Listen if keep_open => 2,
        _ => 1,
    }
}

/// How many connections fit, or `None` when the limit is unknown.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// The open-file limit.
    pub limit: u64,
    /// Connections that fit under it.
    pub conns: u64,
}

impl Budget {
    /// The budget for `mode`, given the limit and what is open already.
    pub fn new(limit: u64, open: u64, per_conn: u64) -> Budget {
        let room = limit.saturating_sub(open + RESERVE);
        Budget {
            limit,
            conns: (room / per_conn.max(1)).max(1),
        }
    }

    /// The budget of this process now.
    pub fn of_process(mode: TcpMode, keep_open: bool, tls: bool) -> Option<Budget> {
        Some(Budget::new(
            crate::sys::fd_limit()?,
            crate::sys::open_fds()?,
            per_conn(mode, keep_open, tls),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets() {
        assert_eq!(Budget::new(256, 8, 3).conns, 80);
        assert_eq!(Budget::new(256, 8, 1).conns, 240);
        // Always room for one, so a server never refuses to start.
        assert_eq!(Budget::new(10, 9, 3).conns, 1);
    }
}
