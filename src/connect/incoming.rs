//! What arrives from the peer during an interactive session, and where it
//! goes: a reader thread per session delivers each chunk to the session
//! log taps, then either to stdout as it is (stdout is not a terminal:
//! the file gets exactly the peer's bytes) or, rendered safe, to the
//! console (or to a terminal stdout in plain `-i` mode). `:hex on` shows a
//! hex dump instead of text.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::UdpSocket;

use crate::transport::Stream;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result};

use super::render::Renderer;
use super::session::{Ending, Shared, Ui};
use crate::hexdump::{Direction, Tap};

/// How long a held CR or unfinished UTF-8 character waits for the next
/// byte before it is shown as an escape.
const HOLD: Duration = Duration::from_millis(50);

/// The socket the reader thread reads.
pub enum Source {
    /// A TCP stream (a clone of the session's).
    Tcp(Stream),
    /// A connected UDP socket: each datagram is shown on its own rows.
    Udp(UdpSocket),
}

/// Where received bytes go.
pub struct Delivery {
    /// The session's console, or plain output.
    pub ui: Ui,
    /// Stdout when it is not a terminal: the exact bytes go there.
    pub raw: Option<File>,
    /// `--hexdump` / `-o` taps.
    pub tap: Option<Tap>,
}

impl Delivery {
    /// Text (or hex) is shown on a screen: stdout is a terminal.
    fn shows_text(&self) -> bool {
        self.raw.is_none()
    }

    fn text(&self, text: &str) {
        if text.is_empty() {
            return;
        }
        match &self.ui {
            Ui::Console(c) => c.output(text),
            Ui::Plain => {
                let mut out = io::stdout().lock();
                let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
            }
        }
    }

    /// A hex dump goes where text would, or to the console or stderr when
    /// stdout carries the raw bytes.
    fn hex(&self, rows: &str) {
        match (&self.ui, self.shows_text()) {
            (Ui::Console(c), _) => c.output(rows),
            (Ui::Plain, true) => self.text(rows),
            (Ui::Plain, false) => {
                let _ = io::stderr().lock().write_all(rows.as_bytes());
            }
        }
    }

    fn break_row(&self) {
        if let Ui::Console(c) = &self.ui {
            c.break_row();
        }
    }
}

/// Start the reader thread; when the peer is gone it records the ending
/// and writes a byte to `wake`.
pub fn spawn(
    source: Source,
    shared: Arc<Shared>,
    delivery: Delivery,
    mut wake: UnixStream,
) -> Result<()> {
    thread::Builder::new()
        .name("repl-reader".into())
        .spawn(move || {
            let ending = match source {
                Source::Tcp(s) => read_tcp(s, &shared, &delivery),
                Source::Udp(s) => read_udp(s, &shared, &delivery),
            };
            let notice = match &ending {
                Ending::PeerClosed => Some("connection closed by peer"),
                Ending::OutputClosed => Some("stdout closed"),
                // Reported once, by the caller, as the session's error.
                Ending::Lost(_) => None,
            };
            match &delivery.ui {
                Ui::Console(c) => c.finish(notice),
                Ui::Plain => {
                    if let Some(n) = notice {
                        eprintln!("{n}");
                    }
                }
            }
            shared.end(ending);
            let _ = wake.write_all(b"x");
        })
        .context("cannot start the reader thread")?;
    Ok(())
}

fn read_tcp(mut s: Stream, shared: &Shared, d: &Delivery) -> Ending {
    let mut buf = vec![0u8; 64 * 1024];
    let mut r = Renderer::new();
    let mut hex = false;
    let mut waiting = false;
    loop {
        if r.holding() != waiting {
            waiting = r.holding();
            let _ = s.socket().set_read_timeout(waiting.then_some(HOLD));
        }
        let n = match s.read(&mut buf) {
            Ok(0) => {
                d.text(&r.flush());
                return Ending::PeerClosed;
            }
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                d.text(&r.flush());
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                d.text(&r.flush());
                return Ending::Lost(e);
            }
        };
        let data = &buf[..n];
        let offset = shared.received.fetch_add(n as u64, Ordering::Relaxed);
        shared.touch();
        if let Some(t) = &d.tap {
            let _order = shared.tap_order();
            t.call(Direction::In, data);
        }
        if let Some(out) = &d.raw {
            if (&*out).write_all(data).is_err() {
                return Ending::OutputClosed;
            }
        }
        let now_hex = shared.hex.load(Ordering::Relaxed);
        if now_hex != hex {
            d.text(&r.flush());
            d.break_row();
            hex = now_hex;
        }
        if hex {
            d.hex(&crate::hexdump::dump_lines(offset, data));
        } else if d.shows_text() {
            d.text(&r.feed(data));
        }
    }
}

fn read_udp(s: UdpSocket, shared: &Shared, d: &Delivery) -> Ending {
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, from) = match s.recv_from(&mut buf) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                d.ui.notice(&format!(
                    "port unreachable: nothing listens on {}",
                    shared.peer
                ));
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Ending::Lost(e),
        };
        let data = &buf[..n];
        let offset = shared.received.fetch_add(n as u64, Ordering::Relaxed);
        shared.touch();
        if let Some(out) = &d.raw {
            if (&*out).write_all(data).is_err() {
                return Ending::OutputClosed;
            }
        }
        // A datagram is a unit: its own rows, marked with the sender.
        d.break_row();
        if shared.hex.load(Ordering::Relaxed) {
            d.hex(&format!(
                "[{from}]\n{}",
                crate::hexdump::dump_lines(offset, data)
            ));
        } else if d.shows_text() {
            let mut r = Renderer::new();
            let mut text = format!("[{from}] {}{}", r.feed(data), r.flush());
            if !text.ends_with('\n') {
                text.push('\n');
            }
            d.text(&text);
        }
    }
}
