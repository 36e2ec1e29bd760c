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
use std::time::{Duration, Instant};

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

/// How long a command may take before the prompt is taken away while its
/// reply is awaited (so a fast reply does not make the prompt flicker).
pub(super) const PROMPT_GRACE: Duration = Duration::from_millis(150);

/// A command that took this long gets its time printed, as redis-cli does.
const SLOW: Duration = Duration::from_millis(500);

/// The history file: `$NETKIT_KV_HISTORY` (empty: none), else
/// `~/.netkit_kv_history`.
pub fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NETKIT_KV_HISTORY") {
        return (!p.is_empty()).then(|| PathBuf::from(p));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".netkit_kv_history"))
}

/// How the session ends.
pub(super) enum Flow {
    Quit,
    Signal(i32),
}

/// What waiting for a reply gave.
pub(super) enum Got {
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
    // The address from the start (not a bare `> ` while connecting).
    prompt.set_prompt(&State::new(cfg.db).prompt(&cfg.target.to_string(), true));
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

pub(super) struct Repl<'a> {
    pub(super) cfg: &'a ClientConfig,
    pub(super) target: Target,
    pub(super) conn: Option<Conn>,
    pub(super) state: State,
    pub(super) help: Rc<RefCell<Help>>,
    /// The server's COMMAND DOCS were read (or it has none).
    pub(super) docs_loaded: bool,
    pub(super) prompt: Prompt,
    pub(super) console: Arc<Console>,
    /// Replies go here when stdout is not the terminal.
    pub(super) stdout: Option<File>,
    pub(super) raw: bool,
    /// Lines entered while a reply was awaited, run next.
    pub(super) ahead: VecDeque<String>,
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

    pub(super) fn note(&self, text: &str) {
        self.console.rows(text);
    }

    /// Show a reply: on the terminal, terminal-safe; on a redirected
    /// stdout, as it is.
    pub(super) fn show(&mut self, args: &[Vec<u8>], r: &Reply) {
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
        let started = Instant::now();
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
            let took = started.elapsed();
            if took >= SLOW && !self.raw {
                // As redis-cli: how long a slow command took.
                self.note(&format!("({:.2}s)", took.as_secs_f64()));
            }
            if authed {
                return self.after_auth();
            }
            return Ok(None);
        }
    }
}
