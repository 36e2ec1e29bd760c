//! The console: the one owner of the terminal's output. Every thread that
//! shows something (the socket reader's data, the prompt's notices, a
//! progress bar, the line being edited) goes through it, under one lock,
//! and it keeps the `Screen` model that places each of them. Whatever is
//! written is written whole, in one `write(2)` per update.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::{Arc, Mutex, MutexGuard};

use super::screen::{Footer, Screen};
use super::tty;

/// Bracketed paste on and off (xterm's mode 2004).
const PASTE_ON: &str = "\x1b[?2004h";
const PASTE_OFF: &str = "\x1b[?2004l";

struct State {
    out: File,
    screen: Screen,
    /// A write failed (the terminal went away); nothing more is drawn.
    broken: bool,
    /// Bracketed paste is on.
    paste_mode: bool,
    /// The session is over: the prompt stays hidden whatever asks for it.
    finished: bool,
}

/// The terminal's single writer; share it as `Arc<Console>`.
pub struct Console {
    state: Mutex<State>,
    fd: RawFd,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Console")
    }
}

impl Console {
    /// A console drawing on `out`, a terminal.
    pub fn new(out: File) -> Arc<Console> {
        let fd = out.as_raw_fd();
        let width = tty::width(fd).unwrap_or(super::screen::DEFAULT_WIDTH);
        Arc::new(Console {
            state: Mutex::new(State {
                out,
                screen: Screen::new(width),
                broken: false,
                paste_mode: false,
                finished: false,
            }),
            fd,
        })
    }

    /// The terminal a prompt draws on: stdout if it is one, else
    /// `/dev/tty`, else stderr; only when stdin is a terminal too (keys
    /// come from stdin). With stdout redirected, data goes there and the
    /// prompt to the terminal, as with `nc host port > file`.
    pub fn open_terminal() -> Option<Arc<Console>> {
        if !tty::is_tty(0) {
            return None;
        }
        let dup = |fd: std::os::fd::BorrowedFd<'_>| fd.try_clone_to_owned().ok().map(File::from);
        let file = if tty::is_tty(1) {
            dup(io::stdout().as_fd())
        } else {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/tty")
                .ok()
                .or_else(|| tty::is_tty(2).then(|| dup(io::stderr().as_fd())).flatten())
        }?;
        Some(Console::new(file))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run `f` on the screen and write what it produced.
    fn update(&self, f: impl FnOnce(&mut Screen, bool, &mut String)) {
        let mut st = self.lock();
        if st.broken {
            return;
        }
        let mut out = String::new();
        let finished = st.finished;
        f(&mut st.screen, finished, &mut out);
        if out.is_empty() {
            return;
        }
        // Synchronized update (mode 2026): terminals that know it show the
        // change at once; others ignore it.
        let framed = format!("\x1b[?2026h{out}\x1b[?2026l");
        let st = &mut *st;
        if st.out.write_all(framed.as_bytes()).is_err() {
            st.broken = true;
        }
    }

    /// Draw nothing more: the terminal has been handed back.
    pub fn close(&self) {
        self.lock().broken = true;
    }

    /// A write to the terminal failed (or `close`); the session should end.
    pub fn broken(&self) -> bool {
        self.lock().broken
    }

    /// Output text (see `Screen::output`): continues the last row.
    pub fn output(&self, text: &str) {
        self.update(|s, _, o| s.output(text, o));
    }

    /// Whole rows of our own: notices, echoed lines.
    pub fn rows(&self, text: &str) {
        self.update(|s, _, o| s.rows(text, o));
    }

    /// Start the next output on a fresh row (on screen only).
    pub fn break_row(&self) {
        self.update(|s, _, o| s.break_row(o));
    }

    /// Change the footer (ignored once the session is finished).
    pub fn footer(&self, f: impl FnOnce(&mut Footer)) {
        self.update(|s, finished, o| {
            let mut footer = s.footer().clone();
            f(&mut footer);
            if finished {
                footer = Footer::default();
            }
            s.set_footer(footer, o);
        });
    }

    /// Rows of our own, and the footer changed in the same update: an
    /// entered line is echoed as the edit buffer empties, never both.
    pub fn rows_and_footer(&self, text: &str, f: impl FnOnce(&mut Footer)) {
        self.update(|s, finished, o| {
            let mut footer = s.footer().clone();
            f(&mut footer);
            if finished {
                footer = Footer::default();
            }
            s.rows_and_footer(text, footer, o);
        });
    }

    /// The session is over: show `text` (if any) as rows, remove the
    /// prompt and status rows for good, so nothing of the prompt is left
    /// after the last output.
    pub fn finish(&self, text: Option<&str>) {
        let mut st = self.lock();
        st.finished = true;
        drop(st);
        self.update(|s, _, o| match text {
            Some(t) => s.rows_and_footer(t, Footer::default(), o),
            None => s.set_footer(Footer::default(), o),
        });
    }

    /// Set the status rows (progress bars) above the prompt.
    pub fn set_status(&self, rows: Vec<String>) {
        self.footer(|f| f.status = rows);
    }

    /// The terminal may have changed size.
    pub fn resized(&self) {
        let width = tty::width(self.fd).unwrap_or(super::screen::DEFAULT_WIDTH);
        self.update(|s, _, o| s.resize(width, o));
    }

    /// Ctrl-L.
    pub fn clear(&self) {
        self.update(|s, _, o| s.clear(o));
    }

    /// Turn bracketed paste on or off.
    pub fn bracketed_paste(&self, on: bool) {
        let mut st = self.lock();
        if st.paste_mode == on || st.broken {
            return;
        }
        st.paste_mode = on;
        let seq = if on { PASTE_ON } else { PASTE_OFF };
        let _ = st.out.write_all(seq.as_bytes());
    }

    /// Erase the footer for good, leaving the cursor on a fresh row after
    /// the output, paste mode off: the terminal is handed back.
    pub fn leave(&self) {
        self.update(|s, _, o| s.leave(o));
        self.bracketed_paste(false);
    }

    /// The terminal's width as last seen.
    pub fn width(&self) -> usize {
        self.lock().screen.width()
    }
}

/// An indicatif draw target that shows a bar as a status row of the
/// console, so a bar is drawn by the owner, below the output, never over it.
#[derive(Debug)]
pub struct StatusTerm {
    console: Arc<Console>,
    row: Mutex<String>,
}

impl StatusTerm {
    /// A target drawing into `console`'s status row.
    pub fn new(console: Arc<Console>) -> StatusTerm {
        StatusTerm {
            console,
            row: Mutex::new(String::new()),
        }
    }

    fn row(&self) -> MutexGuard<'_, String> {
        self.row.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl indicatif::TermLike for StatusTerm {
    fn width(&self) -> u16 {
        u16::try_from(self.console.width().saturating_sub(1)).unwrap_or(u16::MAX)
    }
    fn move_cursor_up(&self, _: usize) -> io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> io::Result<()> {
        self.write_str(s)
    }
    fn write_str(&self, s: &str) -> io::Result<()> {
        let mut row = self.row();
        // indicatif starts a redraw with "\r" and pads with spaces.
        match s.rsplit_once('\r') {
            Some((_, rest)) => *row = rest.to_string(),
            None => row.push_str(s),
        }
        Ok(())
    }
    fn clear_line(&self) -> io::Result<()> {
        self.row().clear();
        Ok(())
    }
    fn flush(&self) -> io::Result<()> {
        let text = self.row().trim_end().to_string();
        let rows = if text.is_empty() { vec![] } else { vec![text] };
        self.console.set_status(rows);
        Ok(())
    }
}

/// A writer whose flushed text is shown as console rows (`--hexdump -` at
/// the prompt): records appear between output rows, never inside one.
pub struct RowsWriter {
    console: Arc<Console>,
    buf: Vec<u8>,
}

impl RowsWriter {
    /// Rows into `console`.
    pub fn new(console: Arc<Console>) -> RowsWriter {
        RowsWriter {
            console,
            buf: Vec::new(),
        }
    }
}

impl Write for RowsWriter {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let text = String::from_utf8_lossy(&self.buf).into_owned();
            self.buf.clear();
            self.console.rows(&text);
        }
        Ok(())
    }
}
