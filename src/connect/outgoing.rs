//! What the session sends: typed and pasted lines, and `:send FILE`. Sends
//! can be stopped: the socket has a short send timeout, so a peer that
//! stops reading never leaves the prompt deaf to Ctrl-C; between tries the
//! caller's `stop` is asked.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::UdpSocket;

use crate::transport::Stream;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::session::{Shared, Ui};
use crate::hexdump::{Direction, Tap};
use crate::term::console::StatusTerm;
use crate::units::format_bytes;

/// How long one blocked send waits before asking whether to stop.
pub const SEND_SLICE: Duration = Duration::from_millis(100);

/// Files at least this large get a progress bar on `:send`.
const BAR_THRESHOLD: u64 = 1 << 20;

/// The session's socket, for sending.
pub enum Link {
    /// TCP (with a send timeout of `SEND_SLICE`).
    Tcp(Stream),
    /// Connected UDP: one line, one datagram.
    Udp(UdpSocket),
}

/// How a send ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Sent {
    /// Every byte went out.
    All,
    /// `stop` said to stop after this many bytes.
    Stopped(usize),
}

/// Everything a send needs besides the bytes.
pub struct Sender<'a> {
    /// The socket.
    pub link: &'a Link,
    /// Counters and the idle clock.
    pub shared: &'a Shared,
    /// `-o` / `--hexdump` taps.
    pub tap: Option<&'a Tap>,
    /// Messages.
    pub ui: &'a Ui,
}

impl Sender<'_> {
    /// Send `bytes` whole (a UDP datagram in one piece), asking `stop`
    /// whenever the peer makes us wait.
    pub fn send(&self, bytes: &[u8], stop: &mut dyn FnMut() -> bool) -> io::Result<Sent> {
        match self.link {
            Link::Udp(s) => {
                match s.send(bytes) {
                    Ok(_) => self.count(bytes),
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => self.ui.notice(
                        &format!("port unreachable: nothing listens on {}", self.shared.peer),
                    ),
                    Err(e) => return Err(e),
                }
                Ok(Sent::All)
            }
            Link::Tcp(s) => {
                let mut s: &Stream = s;
                let mut done = 0;
                while done < bytes.len() {
                    let order = self.shared.tap_order();
                    let written = s.write(&bytes[done..]);
                    if let Ok(n) = written {
                        self.count(&bytes[done..done + n]);
                    }
                    drop(order);
                    match written {
                        Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                        Ok(n) => done += n,
                        Err(e)
                            if matches!(
                                e.kind(),
                                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                            ) =>
                        {
                            if stop() {
                                return Ok(Sent::Stopped(done));
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(Sent::All)
            }
        }
    }

    fn count(&self, chunk: &[u8]) {
        self.shared
            .sent
            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
        self.shared.touch();
        if let Some(t) = self.tap {
            t.call(Direction::Out, chunk);
        }
    }

    /// `:send FILE`: the file's bytes as they are, with a progress bar
    /// (a status row of the console) for large files; `stop` ends it early.
    pub fn send_file(&self, path: &Path, stop: &mut dyn FnMut() -> bool) -> io::Result<()> {
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) => {
                self.ui
                    .notice(&format!("cannot open {}: {e}", path.display()));
                return Ok(());
            }
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let bar = match self.ui.console() {
            Some(c) if len >= BAR_THRESHOLD => {
                let target = indicatif::ProgressDrawTarget::term_like_with_hz(
                    Box::new(StatusTerm::new(Arc::clone(c))),
                    10,
                );
                let bar = indicatif::ProgressBar::with_draw_target(Some(len), target);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "sending {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                ) {
                    bar.set_style(style);
                }
                bar.tick();
                bar
            }
            _ => indicatif::ProgressBar::hidden(),
        };
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        let result = loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break Ok(true),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    bar.finish_and_clear();
                    self.ui
                        .notice(&format!("cannot read {}: {e}", path.display()));
                    return Ok(());
                }
            };
            match self.send(&buf[..n], stop) {
                Ok(Sent::All) => total += n as u64,
                Ok(Sent::Stopped(k)) => {
                    total += k as u64;
                    break Ok(false);
                }
                Err(e) => break Err(e),
            }
            bar.set_position(total);
        };
        bar.finish_and_clear();
        match result {
            Ok(true) => self.ui.notice(&format!(
                "sent {} from {}",
                format_bytes(total),
                path.display()
            )),
            Ok(false) => self.ui.notice(&format!(
                "stopped: sent {} of {} from {}",
                format_bytes(total),
                format_bytes(len),
                path.display()
            )),
            Err(e) => return Err(e),
        }
        Ok(())
    }
}
