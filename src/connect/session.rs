//! State one interactive session shares between the prompt (main thread)
//! and the reader thread: counters, the idle clock, `:hex`, how the
//! session ended, and where messages go.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::term::console::Console;
use crate::units::{format_bytes, format_duration};

/// How the reader saw the session end.
#[derive(Debug)]
pub enum Ending {
    /// The peer closed its side.
    PeerClosed,
    /// A read failed (a reset): the session's error.
    Lost(io::Error),
    /// Our stdout (a pipe or file) stopped taking data.
    OutputClosed,
}

/// Where the session's own messages and the prompt go.
#[derive(Clone)]
pub enum Ui {
    /// A terminal, drawn by the console.
    Console(Arc<Console>),
    /// No terminal to draw on (`-i` with piped stdin): messages on stderr.
    Plain,
}

impl Ui {
    /// Show a message of our own, on its own rows.
    pub fn notice(&self, text: &str) {
        match self {
            Ui::Console(c) => c.rows(text),
            Ui::Plain => eprintln!("{text}"),
        }
    }

    /// The console, if there is one.
    pub fn console(&self) -> Option<&Arc<Console>> {
        match self {
            Ui::Console(c) => Some(c),
            Ui::Plain => None,
        }
    }
}

/// Counters and flags both threads use.
pub struct Shared {
    /// The peer's address.
    pub peer: crate::transport::Peer,
    started: Instant,
    /// `:hex on`.
    pub hex: AtomicBool,
    /// Bytes sent.
    pub sent: AtomicU64,
    /// Bytes received.
    pub received: AtomicU64,
    /// Milliseconds after `started` of the last byte either way.
    last_ms: AtomicU64,
    ending: Mutex<Option<Ending>>,
    ended: AtomicBool,
    /// Held around a send and its tap, and around a receive's tap, so the
    /// session log shows a request before the reply it caused.
    tap_order: Mutex<()>,
}

impl Shared {
    /// A fresh session with `peer`.
    pub fn new(peer: crate::transport::Peer) -> Shared {
        Shared {
            peer,
            started: Instant::now(),
            hex: AtomicBool::new(false),
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
            last_ms: AtomicU64::new(0),
            ending: Mutex::new(None),
            ended: AtomicBool::new(false),
            tap_order: Mutex::new(()),
        }
    }

    /// Data moved: restart the idle clock.
    pub fn touch(&self) {
        let ms = self.started.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Time since data last moved either way.
    pub fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }

    /// Hold this while sending and tapping what was sent, and while tapping
    /// what was received.
    pub fn tap_order(&self) -> std::sync::MutexGuard<'_, ()> {
        self.tap_order.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Record how the reader ended.
    pub fn end(&self, ending: Ending) {
        if let Ok(mut slot) = self.ending.lock() {
            *slot = Some(ending);
        }
        self.ended.store(true, Ordering::SeqCst);
    }

    /// The reader has ended.
    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    /// Take the reader's ending (once).
    pub fn take_ending(&self) -> Option<Ending> {
        self.ending.lock().ok().and_then(|mut e| e.take())
    }

    /// The `:status` line.
    pub fn status(&self, crlf: bool) -> String {
        let on_off = |b: bool| if b { "on" } else { "off" };
        format!(
            "peer {}, sent {}, received {}, connected {}, hex {}, crlf {}",
            self.peer,
            format_bytes(self.sent.load(Ordering::Relaxed)),
            format_bytes(self.received.load(Ordering::Relaxed)),
            format_duration(self.started.elapsed()),
            on_off(self.hex.load(Ordering::Relaxed)),
            on_off(crlf),
        )
    }
}
