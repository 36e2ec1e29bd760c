//! Serving clients while a script is busy (past `busy-reply-threshold`).
//!
//! Other event loops find the store locked and, seeing the busy flag,
//! answer their clients here instead of waiting; the script's own loop does
//! the same for its other clients from the script's count hook, through
//! [`LoopIo`]. As Redis lets through the commands it flags `allow-busy`:
//! `SCRIPT KILL`, `SHUTDOWN NOSAVE`, `QUIT`, `AUTH`, `HELLO` and the
//! transaction commands do something; every other command gets Redis's
//! `-BUSY` error. `WATCH` cannot
//! read the store the script holds, and the script may still change those
//! keys: it succeeds, and the next `EXEC` fails as on a touched key (Redis
//! fails it only if the script does touch one).

use std::sync::atomic::Ordering;
use std::time::Duration;

use mio::net::TcpListener as MioListener;
use mio::{Events, Token};

use super::run::Interrupt;
use super::{BUSY, Kill, NOTBUSY, UNKILLABLE};
use crate::kv::cmd::{connection, server};
use crate::kv::conn::Conn;
use crate::kv::reply::Out;
use crate::kv::server::{Clients, LISTENER, WAKER, drive, max_buffer, replies_done};
use crate::kv::session::Session;
use crate::kv::shared::Shared;

/// Answer one command while a script is busy. As in Redis, the
/// transaction commands still work (so a pipelined MULTI ... EXEC never runs
/// half): MULTI opens one, a refused command inside it dooms it, EXEC then
/// answers `-EXECABORT` and DISCARD drops it; watches are let go (UNWATCH,
/// DISCARD, EXEC) when the client next reaches the store.
pub fn answer(srv: &Shared, sess: &mut Session, out: &mut Out, line: bool, argv: &[&[u8]]) {
    let is = |i: usize, w: &str| {
        argv.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(w.as_bytes()))
    };
    let leave_multi = |sess: &mut Session| {
        sess.multi = None;
        sess.multi_error = false;
        sess.handle.set_multi(None);
        sess.watch_stale = !sess.watched.is_empty();
        sess.watch_dirty = false;
    };
    if !line && (is(0, "auth") || is(0, "hello")) {
        if let Some(q) = sess.multi.as_mut() {
            q.push(argv.iter().map(|a| a.to_vec()).collect());
            sess.handle.set_multi(Some(q.len()));
            out.status("QUEUED");
        } else if is(0, "hello") {
            connection::hello_client(srv, sess, out, argv);
        } else if argv.len() < 2 {
            out.err("ERR wrong number of arguments for 'auth' command");
        } else {
            connection::auth_client(srv, sess, out, argv);
        }
        return;
    }
    let reply: Result<(), String> = if is(0, "script") && is(1, "kill") && argv.len() == 2 {
        match srv.scripts.kill() {
            Kill::Ok => Ok(()),
            Kill::NotBusy => Err(NOTBUSY.into()),
            Kill::Unkillable => Err(UNKILLABLE.into()),
        }
    } else if is(0, "quit") {
        sess.close = true;
        Ok(())
    } else if is(0, "shutdown") && sess.multi.is_none() && !line {
        // Only NOSAVE stops a busy server, as in Redis: the script's
        // writes are then not logged (the shutdown flag ends it unlogged).
        match server::shutdown_options(argv) {
            Ok(true) => match srv.shutdown.get() {
                Some(s) => {
                    srv.cfg
                        .log
                        .info("SHUTDOWN NOSAVE asked by a client during a busy script");
                    sess.close = true;
                    srv.scripts.flags.nosave.store(true, Ordering::SeqCst);
                    s.trigger();
                    return;
                }
                None => Err("ERR this server cannot be shut down from a client".into()),
            },
            Ok(false) => Err(BUSY.into()),
            Err(e) => Err(e.into()),
        }
    } else if line {
        Err(BUSY.into())
    } else if is(0, "multi") && argv.len() == 1 {
        if sess.multi.is_some() {
            Err("ERR MULTI calls can not be nested".into())
        } else {
            sess.multi = Some(Vec::new());
            sess.multi_error = false;
            sess.handle.set_multi(Some(0));
            Ok(())
        }
    } else if (is(0, "exec") || is(0, "discard")) && argv.len() == 1 {
        match (sess.multi.is_some(), is(0, "exec")) {
            (false, true) => Err("ERR EXEC without MULTI".into()),
            (false, false) => Err("ERR DISCARD without MULTI".into()),
            (true, exec) => {
                leave_multi(sess);
                if exec {
                    Err(format!(
                        "EXECABORT Transaction discarded because of: {BUSY}"
                    ))
                } else {
                    Ok(())
                }
            }
        }
    } else if is(0, "unwatch") && argv.len() == 1 {
        sess.watch_stale = !sess.watched.is_empty();
        sess.watch_dirty = false;
        Ok(())
    } else if is(0, "watch") {
        if argv.len() < 2 {
            Err("ERR wrong number of arguments for 'watch' command".into())
        } else if sess.multi.is_some() {
            Err("ERR WATCH inside MULTI is not allowed".into())
        } else {
            sess.watch_dirty = true;
            Ok(())
        }
    } else {
        if sess.multi.is_some() {
            sess.multi_error = true; // as Redis's flagTransaction
        }
        Err(BUSY.into())
    };
    match (line, reply) {
        (false, Ok(())) => out.ok(),
        (false, Err(e)) => out.err(&e),
        (true, Ok(())) => out.buf.extend_from_slice(b"OK\n"),
        (true, Err(e)) => out.buf.extend_from_slice(format!("ERR {e}\n").as_bytes()),
    }
}

/// Answer every complete command `c` has sent, as [`answer`] does.
pub fn answer_all(srv: &Shared, c: &mut Conn) {
    let lim = srv.cfg.limits;
    drive(c, &lim, |sess, out, line, argv| {
        let at = out.buf.len();
        answer(srv, sess, out, line, argv);
        if !line {
            replies_done(sess, out, at);
        }
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
    /// Clients later in this round: their input was read with the script's,
    /// so no new event will name them; they are answered here too.
    pub(crate) waiting: &'a [usize],
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
        for &i in self.waiting {
            if let Some(Some(c)) = self.clients.conns.get_mut(i) {
                if c.has_input() && c.closing.is_none() {
                    answer_all(sh, c);
                    if c.flush().is_err() {
                        c.closing.get_or_insert_with(|| "write error".into());
                    }
                    self.touched.push(i);
                }
            }
        }
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
