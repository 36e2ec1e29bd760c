//! `netkit kv` on a terminal: a redis-cli style prompt drawn by the
//! terminal's one owner (`crate::term`), so a reply, a pub/sub message or a
//! notice that arrives while a line is being typed is printed above the
//! prompt and never tears the line.
//!
//! The socket is watched while the prompt waits for keys: a server that
//! goes away turns the prompt into `not connected> ` at once, the next
//! command connects again (selecting the database again), and messages in
//! subscribed mode and MONITOR output are shown as they arrive, until
//! Ctrl-C, which drops that connection and opens a fresh one (as redis-cli
//! 7.2 does). Ctrl-C while a reply is awaited (BLPOP) does the same.
//! `help` is answered from the command table (and the server's COMMAND
//! DOCS), never sent. Every line is appended to the history file as it is
//! entered, except lines with passwords.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use super::ClientConfig;
use super::conn::{Conn, Target};
use super::format::show_reply;
use super::help::Help;
use super::state::{self, Mode, State};
use crate::connect::render::render_text;
use crate::kv::protocol::split_args;
use crate::kv::resp::Reply;
use crate::term::console::Console;
use crate::term::prompt::{Event, Prompt};
use crate::term::tty;

/// How long a command may take before the prompt is taken away while its
/// reply is awaited (so a fast reply does not make the prompt flicker).
const PROMPT_GRACE: Duration = Duration::from_millis(150);

/// The history file: `$NETKIT_KV_HISTORY` (empty: none), else
/// `~/.netkit_kv_history`.
pub fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NETKIT_KV_HISTORY") {
        return (!p.is_empty()).then(|| PathBuf::from(p));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".netkit_kv_history"))
}

/// How the session ends.
enum Flow {
    Quit,
    Signal(i32),
}

/// What waiting for a reply gave.
enum Got {
    Reply(Reply),
    /// The connection is gone (said so on screen).
    Lost,
    /// Ctrl-C: the connection was dropped.
    Interrupted,
    /// The session must end.
    End(Flow),
}

/// Run the prompt; Ok(true) when it ended normally.
pub fn run(cfg: &ClientConfig) -> Result<bool> {
    let console = Console::open_terminal().ok_or_else(|| anyhow!("no terminal for the prompt"))?;
    let stdout = if io::stdout().is_terminal() {
        None
    } else {
        Some(File::from(
            io::stdout()
                .as_fd()
                .try_clone_to_owned()
                .context("cannot use stdout")?,
        ))
    };
    let help = Rc::new(RefCell::new(Help::builtin()));
    let mut prompt = Prompt::start(console.clone(), 0, history_path())?;
    let h = help.clone();
    prompt.set_hinter(Box::new(move |line| h.borrow().hint(line)));
    let h = help.clone();
    prompt.set_completer(Box::new(move |line| h.borrow().completions(line)));
    let mut repl = Repl {
        cfg,
        target: cfg.target.clone(),
        conn: None,
        state: State::new(cfg.db),
        help,
        docs_loaded: false,
        prompt,
        console: console.clone(),
        stdout,
        raw: cfg.raw.unwrap_or(!io::stdout().is_terminal()),
        ahead: VecDeque::new(),
    };
    let flow = repl.session();
    console.finish(None);
    drop(repl); // the terminal is restored here
    console.close();
    match flow? {
        Flow::Quit => Ok(true),
        Flow::Signal(sig) => {
            let _ = signal_hook::low_level::emulate_default_handler(sig);
            Ok(false)
        }
    }
}

struct Repl<'a> {
    cfg: &'a ClientConfig,
    target: Target,
    conn: Option<Conn>,
    state: State,
    help: Rc<RefCell<Help>>,
    /// The server's COMMAND DOCS were read (or it has none).
    docs_loaded: bool,
    prompt: Prompt,
    console: Arc<Console>,
    /// Replies go here when stdout is not the terminal.
    stdout: Option<File>,
    raw: bool,
    /// Lines entered while a reply was awaited, run next.
    ahead: VecDeque<String>,
}

impl Repl<'_> {
    fn session(&mut self) -> Result<Flow> {
        if let Some(f) = self.connect()? {
            return Ok(f);
        }
        loop {
            self.refresh();
            if let Some(line) = self.ahead.pop_front() {
                if let Some(f) = self.entered(&line)? {
                    return Ok(f);
                }
                continue;
            }
            let fds: Vec<_> = self.conn.iter().map(Conn::fd).collect();
            let ev = self
                .prompt
                .next(&fds, None)
                .context("cannot read the terminal")?;
            let flow = match ev {
                Event::Line(l) => self.entered(&l)?,
                Event::Pasted(lines) => {
                    self.ahead.extend(lines);
                    None
                }
                Event::Interrupt { discarded, .. } => {
                    if self.state.mode != Mode::Normal {
                        self.reconnect()?
                    } else if discarded.is_empty() {
                        Some(Flow::Quit)
                    } else {
                        self.prompt
                            .echo(&format!("{}{discarded}^C", self.prompt.prompt()));
                        None
                    }
                }
                Event::Eof | Event::InputClosed => Some(Flow::Quit),
                Event::Woken(_) => {
                    self.incoming();
                    None
                }
                Event::Timeout => None,
                Event::Terminate(sig) => Some(Flow::Signal(sig)),
            };
            if let Some(f) = flow {
                return Ok(f);
            }
        }
    }

    /// The prompt, the status row and the prompt's visibility for the state.
    fn refresh(&mut self) {
        let text = self
            .state
            .prompt(&self.target.to_string(), self.conn.is_some());
        if text != self.prompt.prompt() {
            self.prompt.set_prompt(&text);
        }
        let status = match self.state.mode {
            Mode::Normal => vec![],
            Mode::Subscribed => vec![
                "\x1b[90mReading messages... (press Ctrl-C to leave subscribed mode)\x1b[0m".into(),
            ],
            Mode::Monitor => {
                vec!["\x1b[90mReading monitor output... (press Ctrl-C to stop)\x1b[0m".into()]
            }
        };
        self.console.set_status(status);
        self.prompt.set_visible(self.state.mode != Mode::Monitor);
    }

    fn note(&self, text: &str) {
        self.console.rows(text);
    }

    /// Show a reply: on the terminal, terminal-safe; on a redirected
    /// stdout, as it is.
    fn show(&mut self, args: &[Vec<u8>], r: &Reply) {
        let bytes = show_reply(args, r, self.raw);
        match &mut self.stdout {
            Some(out) => {
                let _ = out.write_all(&bytes).and_then(|()| out.flush());
            }
            None => self.console.rows(&render_text(&bytes)),
        }
    }

    /// One entered line: local commands, or commands for the server.
    fn entered(&mut self, line: &str) -> Result<Option<Flow>> {
        self.prompt.echo(&format!("{}{line}", self.prompt.prompt()));
        let args = match split_args(line.as_bytes()) {
            Ok(a) if a.is_empty() => return Ok(None),
            Ok(a) => a,
            Err(_) => {
                self.prompt.remember(line);
                self.note("Invalid argument(s)");
                return Ok(None);
            }
        };
        let (times, args) = match state::repeat(&args) {
            Ok(r) => r,
            Err(e) => {
                self.note(e);
                return Ok(None);
            }
        };
        if !state::sensitive(args) {
            self.prompt.remember(line);
        }
        let word = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        match word.as_str() {
            "quit" | "exit" => return Ok(Some(Flow::Quit)),
            "help" | "?" => {
                let text = self.help.borrow().text(&args[1..]);
                self.note(&text);
                return Ok(None);
            }
            "clear" if args.len() == 1 => {
                self.console.clear();
                return Ok(None);
            }
            "connect" if args.len() == 3 => {
                let port = std::str::from_utf8(&args[2])
                    .ok()
                    .and_then(|p| p.parse().ok());
                let Some(port) = port else {
                    self.note("connect HOST PORT: the port is a number");
                    return Ok(None);
                };
                self.target = Target::Tcp {
                    host: String::from_utf8_lossy(&args[1]).into_owned(),
                    port,
                };
                self.conn = None;
                self.state = State::new(0);
                self.docs_loaded = false;
                return self.connect();
            }
            _ => {}
        }
        for _ in 0..times {
            if let Some(f) = self.command(args)? {
                return Ok(Some(f));
            }
            if self.conn.is_none() {
                break;
            }
        }
        Ok(None)
    }

    /// Send one command and show its replies.
    fn command(&mut self, args: &[Vec<u8>]) -> Result<Option<Flow>> {
        self.notice_close();
        if self.conn.is_none() {
            if let Some(f) = self.connect()? {
                return Ok(Some(f));
            }
        }
        let Some(conn) = self.conn.as_mut() else {
            return Ok(None);
        };
        if let Err(e) = conn.send(args) {
            self.lost(&format!("Error: {e}"));
            return Ok(None);
        }
        if self.state.mode == Mode::Subscribed {
            return Ok(None); // replies and messages come as they come
        }
        let mut confirmations = state::confirmations(args);
        loop {
            let r = match self.wait_reply()? {
                Got::Reply(r) => r,
                Got::Lost => return Ok(None),
                Got::End(f) => return Ok(Some(f)),
                Got::Interrupted => {
                    let flow = self.reconnect()?;
                    if self.conn.is_some() {
                        self.note("(interrupted: the reply was abandoned; reconnected)");
                    }
                    return Ok(flow);
                }
            };
            if let (Some(left), Some(kind)) = (confirmations.as_mut(), state::pubsub_kind(&r)) {
                // One confirmation per channel; messages may come between.
                let word = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
                self.state.confirmed(&r);
                self.show(args, &r);
                if kind == word {
                    *left -= 1;
                    if *left == 0 {
                        return Ok(None);
                    }
                }
                continue;
            }
            if matches!(r, Reply::Push(_)) {
                self.show(&[], &r); // out of band (RESP3): not the reply
                continue;
            }
            self.state.after(args, &r);
            let authed = args[0].eq_ignore_ascii_case(b"auth") && !matches!(r, Reply::Error(_));
            self.show(args, &r);
            if authed {
                return self.after_auth();
            }
            return Ok(None);
        }
    }

    /// After a successful AUTH: what a password-protected server refused
    /// before it (the database, the command docs).
    fn after_auth(&mut self) -> Result<Option<Flow>> {
        if self.state.want_db != self.state.db {
            if let Some(f) = self.select()? {
                return Ok(Some(f));
            }
        }
        self.load_docs()
    }

    /// Wait for the next reply. Keys typed meanwhile are kept (lines run
    /// next); the prompt is taken away if the reply is slow.
    fn wait_reply(&mut self) -> Result<Got> {
        let got = self.wait_inner();
        self.prompt.set_visible(true);
        got
    }

    fn wait_inner(&mut self) -> Result<Got> {
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
    fn lost(&mut self, why: &str) {
        self.conn = None;
        self.state.disconnected();
        self.note(why);
    }

    /// If the server closed the connection while the prompt was idle and
    /// that was not seen yet, see it now (so the command goes to a fresh
    /// connection instead of a dead one).
    fn notice_close(&mut self) {
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
    fn incoming(&mut self) {
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
    fn reconnect(&mut self) -> Result<Option<Flow>> {
        self.conn = None;
        self.state.disconnected();
        self.connect()
    }

    /// Connect (say why not on failure), then select the database, switch
    /// to RESP3 with `-3`, and read the server's command docs once.
    fn connect(&mut self) -> Result<Option<Flow>> {
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

    fn select(&mut self) -> Result<Option<Flow>> {
        let db = self.state.want_db;
        match self.call(&[b"SELECT".to_vec(), db.to_string().into_bytes()])? {
            Ok(Reply::Error(e)) => self.note(&format!("SELECT {db} failed: {e}")),
            Ok(_) => self.state.db = db,
            Err(f) => return Ok(f),
        }
        Ok(None)
    }

    fn load_docs(&mut self) -> Result<Option<Flow>> {
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
    fn call(&mut self, args: &[Vec<u8>]) -> Result<Result<Reply, Option<Flow>>> {
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
