//! Serving clients while a script is busy (past `busy-reply-threshold`).
//!
//! Other event loops find the store locked and, seeing the busy flag,
//! answer their clients here instead of waiting; the script's own loop does
//! the same for its other clients from the script's count hook, through
//! [`LoopIo`]. Only `SCRIPT KILL`, `FUNCTION KILL` and `QUIT` do something;
//! every other command gets Redis's `-BUSY` error.

use std::time::Duration;

use mio::net::TcpListener as MioListener;
use mio::{Events, Token};

use super::run::Interrupt;
use super::{BUSY, Kill, NOTBUSY, UNKILLABLE};
use crate::kv::conn::Conn;
use crate::kv::reply::Out;
use crate::kv::server::{Clients, LISTENER, WAKER, drive, max_buffer};
use crate::kv::session::Session;
use crate::kv::shared::Shared;

/// Answer one command while a script is busy.
pub fn answer(srv: &Shared, sess: &mut Session, out: &mut Out, line: bool, argv: &[&[u8]]) {
    let is = |i: usize, w: &str| {
        argv.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(w.as_bytes()))
    };
    let reply: Result<(), &str> = if is(0, "script") && is(1, "kill") && argv.len() == 2 {
        match srv.scripts.kill() {
            Kill::Ok => Ok(()),
            Kill::NotBusy => Err(NOTBUSY),
            Kill::Unkillable => Err(UNKILLABLE),
        }
    } else if is(0, "quit") {
        sess.close = true;
        Ok(())
    } else {
        Err(BUSY)
    };
    match (line, reply) {
        (false, Ok(())) => out.ok(),
        (false, Err(e)) => out.err(e),
        (true, Ok(())) => out.buf.extend_from_slice(b"OK\n"),
        (true, Err(e)) => out.buf.extend_from_slice(format!("ERR {e}\n").as_bytes()),
    }
}

/// Answer every complete command `c` has sent, as [`answer`] does.
pub fn answer_all(srv: &Shared, c: &mut Conn) {
    let lim = srv.cfg.limits;
    drive(c, &lim, |sess, out, line, argv| {
        answer(srv, sess, out, line, argv)
    });
}

/// The script's own loop, seen from its count hook: its poll and its other
/// clients (the one running the script is out of `conns` meanwhile).
pub(crate) struct LoopIo<'a> {
    /// The loop's clients and poll.
    pub(crate) clients: Clients<'a>,
    /// The listener: new clients are accepted (and told -BUSY) meanwhile.
    pub(crate) listener: Option<&'a MioListener>,
    /// Clients not to touch (their round state may still be rewound).
    pub(crate) skip: &'a [usize],
    /// Clients already run this round whose replies may go out now (no
    /// log: nothing to wait for), as Redis flushes during a busy script.
    pub(crate) done: &'a [usize],
    /// Clients served here: the loop flushes (and maybe closes) them after.
    pub(crate) touched: &'a mut Vec<usize>,
    /// Its mailbox was signalled here: the loop drains it after.
    pub(crate) missed: &'a mut bool,
    /// Reused event buffer.
    pub(crate) events: Option<Events>,
}

impl Interrupt for LoopIo<'_> {
    fn serve(&mut self) {
        let events = self
            .events
            .get_or_insert_with(|| Events::with_capacity(256));
        if self
            .clients
            .poll
            .poll(events, Some(Duration::ZERO))
            .is_err()
        {
            return;
        }
        let ready: Vec<(Token, bool)> = events
            .iter()
            .map(|e| (e.token(), e.is_read_closed() || e.is_error()))
            .collect();
        for &i in self.done {
            if let Some(Some(c)) = self.clients.conns.get_mut(i) {
                if c.pending() > 0 && c.flush().is_err() {
                    c.closing.get_or_insert_with(|| "write error".into());
                }
            }
        }
        let sh = self.clients.sh;
        let cap = max_buffer(&sh.cfg);
        for (t, closed) in ready {
            let i = match t {
                WAKER => {
                    *self.missed = true;
                    continue;
                }
                LISTENER => {
                    if let Some(l) = self.listener {
                        self.clients.accept_all(l);
                    }
                    continue;
                }
                Token(i) => i,
            };
            let Some(Some(c)) = self.clients.conns.get_mut(i) else {
                continue;
            };
            if closed {
                c.read_to_end = true;
            }
            self.touched.push(i);
            if self.skip.contains(&i) {
                c.more = true; // read it after the round
                continue;
            }
            if c.closing.is_none() && !c.peer_closed {
                c.read_some(cap);
                answer_all(sh, c);
                if c.flush().is_err() {
                    c.closing.get_or_insert_with(|| "write error".into());
                }
            }
        }
    }
}
