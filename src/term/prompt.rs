//! The prompt: keys from the input terminal through the `Editor`, drawn by
//! the `Console`, with history kept in a file (rustyline's format, saved
//! after every remembered line) and the signals a terminal program must
//! handle (resize, terminate, Ctrl-Z). `next` waits on the terminal, on
//! the caller's wake-up descriptors and on a timeout at once, so a session
//! can end (the peer closed) or time out while a line is half typed.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rustyline::history::{FileHistory, History};

use super::console::Console;
use super::edit::{Action, Editor, HISTORY_MAX};
use super::keys::{Decoder, Key};
use super::tty::{self, RawMode};

/// How long a lone ESC waits for the rest of a sequence.
const ESC_WAIT: Duration = Duration::from_millis(40);

/// What `next` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A typed line (Enter).
    Line(String),
    /// Complete lines of a paste, in order.
    Pasted(Vec<String>),
    /// Ctrl-C (see `Action::Interrupt`).
    Interrupt {
        /// What was on the line.
        discarded: String,
        /// A second Ctrl-C in a row on an empty line.
        repeated: bool,
    },
    /// Ctrl-D on an empty line.
    Eof,
    /// The caller's descriptor number `.0` is readable.
    Woken(usize),
    /// The timeout passed.
    Timeout,
    /// SIGTERM, SIGHUP or SIGINT arrived: restore and end with it.
    Terminate(i32),
    /// The input terminal is gone.
    InputClosed,
}

/// Signal flags and the pipe their handlers write to.
struct Signals {
    wake: UnixStream,
    terminate: Arc<AtomicUsize>,
    winch: Arc<AtomicBool>,
    ids: Vec<signal_hook::SigId>,
}

impl Signals {
    fn install() -> Result<Signals> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGWINCH};
        let (wake, writer) = UnixStream::pair().context("cannot create the signal pipe")?;
        wake.set_nonblocking(true)
            .context("cannot set up the signal pipe")?;
        let terminate = Arc::new(AtomicUsize::new(0));
        let winch = Arc::new(AtomicBool::new(false));
        let mut ids = Vec::new();
        for sig in [SIGTERM, SIGHUP, SIGINT] {
            ids.push(signal_hook::flag::register_usize(
                sig,
                terminate.clone(),
                sig as usize,
            )?);
        }
        ids.push(signal_hook::flag::register(SIGWINCH, winch.clone())?);
        for sig in [SIGTERM, SIGHUP, SIGINT, SIGWINCH] {
            let w = writer
                .try_clone()
                .context("cannot set up the signal pipe")?;
            ids.push(signal_hook::low_level::pipe::register(sig, w)?);
        }
        Ok(Signals {
            wake,
            terminate,
            winch,
            ids,
        })
    }

    fn drain(&self) {
        let mut buf = [0u8; 64];
        while matches!(io::Read::read(&mut &self.wake, &mut buf), Ok(n) if n > 0) {}
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

/// Whole-line completions for a line (Tab).
pub type Completer = Box<dyn Fn(&str) -> Vec<String>>;
/// Grey text shown after a line (argument hints).
pub type Hinter = Box<dyn Fn(&str) -> Option<String>>;

/// The interactive prompt on a terminal.
pub struct Prompt {
    console: Arc<Console>,
    raw: RawMode,
    input: RawFd,
    decoder: Decoder,
    queued: VecDeque<Key>,
    editor: Editor,
    prompt: String,
    visible: bool,
    history: Option<(PathBuf, FileHistory)>,
    history_failed: bool,
    signals: Signals,
    completer: Option<Completer>,
    hinter: Option<Hinter>,
}

impl Prompt {
    /// Put the input terminal `input` in raw mode, turn on bracketed paste,
    /// load the history from `history` (a missing file is a first run).
    pub fn start(console: Arc<Console>, input: RawFd, history: Option<PathBuf>) -> Result<Prompt> {
        let signals = Signals::install().context("cannot install signal handlers")?;
        let raw = RawMode::enter(input).context("cannot put the terminal in raw mode")?;
        console.bracketed_paste(true);
        let mut entries = Vec::new();
        let history = history.map(|path| {
            let mut h = FileHistory::new();
            let _ = h.set_max_len(HISTORY_MAX);
            let _ = h.load(&path);
            entries.extend(h.iter().cloned());
            (path, h)
        });
        Ok(Prompt {
            console,
            raw,
            input,
            decoder: Decoder::new(),
            queued: VecDeque::new(),
            editor: Editor::new(entries),
            prompt: "> ".into(),
            visible: true,
            history,
            history_failed: false,
            signals,
            completer: None,
            hinter: None,
        })
    }

    /// Complete lines with `completer` on Tab (candidates with control
    /// characters are dropped).
    pub fn set_completer(&mut self, completer: Completer) {
        self.completer = Some(completer);
    }

    /// Show `hinter`'s text, in grey, after the line being edited.
    pub fn set_hinter(&mut self, hinter: Hinter) {
        self.hinter = Some(hinter);
    }

    /// The console this prompt draws on.
    pub fn console(&self) -> &Arc<Console> {
        &self.console
    }

    /// Change the prompt text.
    pub fn set_prompt(&mut self, prompt: &str) {
        self.prompt = prompt.to_string();
    }

    /// The prompt text.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// Show or hide the prompt (keys are still read).
    pub fn set_visible(&mut self, visible: bool) {
        self.visible = visible;
        self.draw();
    }

    /// Show `text` as rows, the edit buffer as it is now: used to echo an
    /// entered line (the buffer is already empty then).
    pub fn echo(&self, text: &str) {
        let (prompt, view) = (self.prompt.clone(), self.editor.view());
        let visible = self.visible;
        self.console.rows_and_footer(text, |f| {
            f.show_prompt = visible;
            f.prompt = view.prompt.unwrap_or(prompt);
            f.line = view.line;
            f.cursor = view.cursor;
            f.hint.clear();
        });
    }

    /// Add a line to the history and append it to the history file.
    pub fn remember(&mut self, line: &str) {
        if !self.editor.remember(line) {
            return;
        }
        let Some((path, h)) = self.history.as_mut() else {
            return;
        };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let saved = h.add(line).and_then(|_| h.append(path));
        if let Err(e) = saved {
            if !self.history_failed {
                self.history_failed = true;
                self.console.rows(&format!(
                    "netkit: warning: cannot save history to {}: {e}",
                    path.display()
                ));
            }
        }
    }

    fn draw(&self) {
        let view = self.editor.view();
        let hint = match (&self.hinter, &view.prompt) {
            (Some(h), None) => h(&view.line)
                .map(|t| t.chars().filter(|c| !c.is_control()).collect())
                .unwrap_or_default(),
            _ => String::new(),
        };
        let (visible, prompt) = (self.visible, &self.prompt);
        self.console.footer(|f| {
            f.show_prompt = visible;
            f.prompt = view.prompt.unwrap_or_else(|| prompt.clone());
            f.line = view.line;
            f.cursor = view.cursor;
            f.hint = hint;
        });
    }

    /// Wait for a line or another event. `wake` are descriptors that end the
    /// wait when readable (`Event::Woken(index)`); `timeout` bounds it.
    pub fn next(&mut self, wake: &[RawFd], timeout: Option<Duration>) -> io::Result<Event> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if self.console.broken() {
                return Ok(Event::InputClosed);
            }
            while let Some(key) = self.queued.pop_front().or_else(|| self.decoder.next_key()) {
                if let Some(ev) = self.handle(key) {
                    return Ok(ev);
                }
            }
            self.draw();
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                return Ok(Event::Timeout);
            }
            let wait = if self.decoder.pending() {
                Some(left.map_or(ESC_WAIT, |l| l.min(ESC_WAIT)))
            } else {
                left
            };
            let mut fds = vec![self.input, self.signals.wake.as_raw_fd()];
            fds.extend_from_slice(wake);
            let ready = tty::poll_readable(&fds, wait)?;
            if ready[1] {
                self.signals.drain();
                let sig = self.signals.terminate.load(Ordering::SeqCst);
                if sig != 0 {
                    return Ok(Event::Terminate(sig as i32));
                }
                if self.signals.winch.swap(false, Ordering::SeqCst) {
                    self.console.resized();
                }
            }
            if let Some(i) = ready[2..].iter().position(|&r| r) {
                return Ok(Event::Woken(i));
            }
            if ready[0] {
                match self.feed_input() {
                    Ok(0) => return Ok(Event::InputClosed),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return Ok(Event::InputClosed),
                }
            } else if self.decoder.pending() {
                // Quiet after a partial sequence: a lone ESC is the Esc key.
                if let Some(key) = self.decoder.flush_escape() {
                    self.queued.push_back(key);
                }
            }
        }
    }

    /// Read what the terminal has, without waiting; a Ctrl-C in it is taken
    /// out and reported, other keys stay queued for `next`. For long
    /// operations (sending a file) that Ctrl-C must stop.
    pub fn interrupted(&mut self) -> bool {
        if tty::poll_readable(&[self.input], Some(Duration::ZERO)).is_ok_and(|r| r[0]) {
            let _ = self.feed_input();
        }
        let mut hit = false;
        while let Some(k) = self.decoder.next_key() {
            if k == Key::Ctrl('c') {
                hit = true;
            } else {
                self.queued.push_back(k);
            }
        }
        if let Some(pos) = self.queued.iter().position(|k| *k == Key::Ctrl('c')) {
            self.queued.remove(pos);
            hit = true;
        }
        hit
    }

    /// One read from the terminal into the decoder; 0 at end of input.
    fn feed_input(&mut self) -> io::Result<usize> {
        let mut buf = [0u8; 4096];
        // SAFETY: reading into a buffer we own, at most its length.
        let n = unsafe { libc::read(self.input, buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        self.decoder.feed(&buf[..n]);
        Ok(n)
    }

    fn handle(&mut self, key: Key) -> Option<Event> {
        match self.editor.key(key) {
            Action::Edited => None,
            Action::Tab => {
                if let Some(complete) = &self.completer {
                    let candidates = complete(self.editor.line())
                        .into_iter()
                        .filter(|c| !c.chars().any(char::is_control))
                        .collect();
                    self.editor.complete(candidates);
                }
                None
            }
            Action::Submit(l) => Some(Event::Line(l)),
            Action::Pasted(lines) if lines.is_empty() => None,
            Action::Pasted(lines) => Some(Event::Pasted(lines)),
            Action::Interrupt {
                discarded,
                repeated,
            } => Some(Event::Interrupt {
                discarded,
                repeated,
            }),
            Action::Eof => Some(Event::Eof),
            Action::ClearScreen => {
                self.console.clear();
                None
            }
            Action::Suspend => {
                self.suspend();
                None
            }
        }
    }

    /// Ctrl-Z: hand the terminal back, stop, and take it again on `fg`.
    fn suspend(&mut self) {
        self.console.footer(|f| f.show_prompt = false);
        self.console.bracketed_paste(false);
        self.raw.restore();
        let _ = signal_hook::low_level::raise(signal_hook::consts::SIGTSTP);
        let _ = self.raw.reenter();
        self.console.bracketed_paste(true);
        self.console.resized();
    }

    /// Remove the prompt and give the terminal back (also on drop).
    pub fn finish(&mut self) {
        self.console.leave();
        self.raw.restore();
    }
}

impl Drop for Prompt {
    fn drop(&mut self) {
        self.finish();
    }
}
