//! The prompt's connection: connecting (database, RESP3, the server's
//! command docs), waiting for a reply while keys are still read (Ctrl-C
//! gives up on it), data that arrives while the prompt is idle, and the
//! loss of the connection, said once.

use std::time::Duration;

use anyhow::{Context, Result};

use super::conn::Conn;
use super::help::Help;
use super::repl::{Flow, Got, PROMPT_GRACE, Repl};
use super::state::{Mode, State};
use crate::kv::resp::Reply;
use crate::term::prompt::Event;
use crate::term::tty;

impl Repl<'_> {
    /// After a successful AUTH: what a password-protected server refused
    /// before it (the database, the command docs).
    pub(super) fn after_auth(&mut self) -> Result<Option<Flow>> {
        if self.state.want_db != self.state.db {
            if let Some(f) = self.select()? {
                return Ok(Some(f));
            }
        }
        self.load_docs()
    }

    /// Wait for the next reply. Keys typed meanwhile are kept (lines run
    /// next); the prompt is taken away if the reply is slow.
    pub(super) fn wait_reply(&mut self) -> Result<Got> {
        let got = self.wait_inner();
        self.prompt.set_visible(true);
        got
    }

    pub(super) fn wait_inner(&mut self) -> Result<Got> {
        let mut hidden = false;
        loop {
            let Some(conn) = self.conn.as_mut() else {
                return Ok(Got::Lost);
            };
            match conn.take_reply() {
                Ok(Some(r)) => return Ok(Got::Reply(r)),
                Ok(None) => {}
                Err(e) => {
                    self.lost(&format!("Error: {e:#}"));
                    return Ok(Got::Lost);
                }
            }
            if conn.closed() {
                self.lost("Error: Server closed the connection");
                return Ok(Got::Lost);
            }
            let fd = conn.fd();
            let wait = if hidden { None } else { Some(PROMPT_GRACE) };
            let ev = self
                .prompt
                .next(&[fd], wait)
                .context("cannot read the terminal")?;
            match ev {
                Event::Woken(_) => {
                    if let Some(Err(e)) = self.conn.as_mut().map(Conn::fill) {
                        self.lost(&format!("Error: {e}"));
                        return Ok(Got::Lost);
                    }
                }
                Event::Timeout => {
                    hidden = true;
                    self.prompt.set_visible(false);
                }
                Event::Interrupt { .. } => {
                    self.conn = None;
                    self.state.disconnected();
                    return Ok(Got::Interrupted);
                }
                Event::Line(l) => self.ahead.push_back(l),
                Event::Pasted(lines) => self.ahead.extend(lines),
                Event::Eof => {}
                Event::Terminate(sig) => return Ok(Got::End(Flow::Signal(sig))),
                Event::InputClosed => return Ok(Got::End(Flow::Quit)),
            }
        }
    }

    /// The connection is gone: say why, once.
    pub(super) fn lost(&mut self, why: &str) {
        self.conn = None;
        self.state.disconnected();
        self.note(why);
    }

    /// If the server closed the connection while the prompt was idle and
    /// that was not seen yet, see it now (so the command goes to a fresh
    /// connection instead of a dead one).
    pub(super) fn notice_close(&mut self) {
        let Some(fd) = self.conn.as_ref().map(Conn::fd) else {
            return;
        };
        if tty::poll_readable(&[fd], Some(Duration::ZERO)).is_ok_and(|r| r[0]) {
            self.incoming();
        }
    }

    /// The socket is readable while no reply is awaited: messages
    /// (subscribed mode, MONITOR, RESP3 pushes), replies to commands sent
    /// in subscribed mode, or the end of the connection.
    pub(super) fn incoming(&mut self) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let filled = conn.fill();
        loop {
            let Some(conn) = self.conn.as_mut() else {
                return;
            };
            match conn.take_reply() {
                Ok(Some(r)) => {
                    self.state.confirmed(&r);
                    if self.state.mode == Mode::Subscribed && r == Reply::Status("RESET".into()) {
                        self.state = State::new(0);
                    }
                    self.show(&[], &r);
                }
                Ok(None) => break,
                Err(e) => return self.lost(&format!("Error: {e:#}")),
            }
        }
        match (filled, self.conn.as_ref().is_some_and(Conn::closed)) {
            (Err(e), _) => self.lost(&format!("Error: {e}")),
            (Ok(()), true) => self.lost("Error: Server closed the connection"),
            _ => {}
        }
    }

    /// Drop the connection (leaving subscribed mode, MONITOR, or a reply
    /// that will not come) and open a fresh one.
    pub(super) fn reconnect(&mut self) -> Result<Option<Flow>> {
        self.conn = None;
        self.state.disconnected();
        self.connect()
    }

    /// Connect (say why not on failure), then select the database, switch
    /// to RESP3 with `-3`, and read the server's command docs once.
    pub(super) fn connect(&mut self) -> Result<Option<Flow>> {
        let conn = match Conn::open(&self.target) {
            Ok(c) => c,
            Err(e) => {
                let why = e.root_cause().to_string();
                let why = why.split(" (os error").next().unwrap_or(&why);
                self.note(&format!("Could not connect to {}: {why}", self.target));
                return Ok(None);
            }
        };
        self.conn = Some(conn);
        self.state.disconnected();
        if self.cfg.resp3 {
            match self.call(&[b"HELLO".to_vec(), b"3".to_vec()])? {
                Ok(Reply::Error(e)) => self.note(&format!("HELLO 3 failed: {e}")),
                Ok(_) => {}
                Err(f) => return Ok(f),
            }
        }
        if self.state.want_db != 0 {
            if let Some(f) = self.select()? {
                return Ok(Some(f));
            }
        }
        self.load_docs()
    }

    pub(super) fn select(&mut self) -> Result<Option<Flow>> {
        let db = self.state.want_db;
        match self.call(&[b"SELECT".to_vec(), db.to_string().into_bytes()])? {
            Ok(Reply::Error(e)) => self.note(&format!("SELECT {db} failed: {e}")),
            Ok(_) => self.state.db = db,
            Err(f) => return Ok(f),
        }
        Ok(None)
    }

    pub(super) fn load_docs(&mut self) -> Result<Option<Flow>> {
        if self.docs_loaded {
            return Ok(None);
        }
        match self.call(&[b"COMMAND".to_vec(), b"DOCS".to_vec()])? {
            Ok(Reply::Error(e)) if e.starts_with("NOAUTH") => {}
            Ok(r) => {
                self.docs_loaded = true;
                if let Some(server) = Help::from_docs(&r) {
                    let table = std::mem::take(&mut *self.help.borrow_mut());
                    *self.help.borrow_mut() = server.merged(table);
                }
            }
            Err(f) => return Ok(f),
        }
        Ok(None)
    }

    /// A command of the prompt's own: its reply, or `Err(flow)` when the
    /// session must end (`Err(None)`: the connection is gone, said so).
    pub(super) fn call(&mut self, args: &[Vec<u8>]) -> Result<Result<Reply, Option<Flow>>> {
        let Some(conn) = self.conn.as_mut() else {
            return Ok(Err(None));
        };
        if let Err(e) = conn.send(args) {
            self.lost(&format!("Error: {e}"));
            return Ok(Err(None));
        }
        loop {
            return Ok(match self.wait_reply()? {
                Got::Reply(Reply::Push(p)) => {
                    self.show(&[], &Reply::Push(p));
                    continue;
                }
                Got::Reply(r) => Ok(r),
                Got::Lost | Got::Interrupted => Err(None),
                Got::End(f) => Err(Some(f)),
            });
        }
    }
}
