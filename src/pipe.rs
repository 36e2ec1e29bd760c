//! The netcat pipe: stdin to a stream (TCP, TLS or Unix) and the stream to
//! stdout, both at once on two threads (`try_clone`), shared by `connect`
//! and `serve` listen mode.
//!
//! At input EOF the write side is shut down (unless `--no-shutdown`) and the
//! socket is read until the peer closes. The session ends when both
//! directions are done; with a terminal on stdin the peer closing is enough,
//! since nobody is part-way through sending a file. Data moves through large
//! buffers, and on Linux by `splice(2)` where both ends allow it (see
//! `zerocopy`).

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::Shutdown as SockShutdown;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::error::Failure;
use crate::hexdump::Direction::{In, Out};
use crate::shutdown::Shutdown;
use crate::transport::Stream;
use crate::zerocopy;

/// Copy buffer size: large buffers halve the syscalls of nc's 16 KiB.
pub const BUF: usize = 256 * 1024;

/// How a pipe session behaves at its ends.
#[derive(Debug, Clone, Default)]
pub struct PipeOptions {
    /// Quit this long after input EOF even if the peer has not closed (`-q`).
    pub quit_after: Option<Duration>,
    /// Fail with "timed out" when nothing moves either way for this long.
    pub idle_timeout: Option<Duration>,
    /// Keep the write side open at input EOF.
    pub no_shutdown: bool,
    /// The input is a terminal: the peer closing ends the session.
    pub input_is_tty: bool,
    /// `--hexdump`: see every chunk; data then takes the plain copy path.
    pub tap: Option<crate::hexdump::Tap>,
}

/// Byte counters and the time of the last activity, readable while the pipe runs.
#[derive(Debug)]
pub struct Counters {
    start: Instant,
    /// Bytes written to the socket.
    pub sent: AtomicU64,
    /// Bytes read from the socket.
    pub received: AtomicU64,
    last_ms: AtomicU64,
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            start: Instant::now(),
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
            last_ms: AtomicU64::new(0),
        }
    }
}

impl Counters {
    fn touch(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// Why a session ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeEnd {
    /// The peer closed (and our side was done).
    PeerClosed,
    /// `-q` expired after input EOF.
    QuitAfterEof,
    /// Our stdout went away (`| head`): a quiet, successful end.
    OutputClosed,
    /// A stop was requested (server shutdown).
    Stopped,
}

impl PipeEnd {
    /// Short description for logs and `--json`.
    pub fn describe(self) -> &'static str {
        match self {
            PipeEnd::PeerClosed => "closed by peer",
            PipeEnd::QuitAfterEof => "quit after stdin EOF",
            PipeEnd::OutputClosed => "stdout closed",
            PipeEnd::Stopped => "stopped",
        }
    }
}

/// What a finished session did.
#[derive(Debug, Clone)]
pub struct PipeOutcome {
    /// Bytes sent to the peer.
    pub sent: u64,
    /// Bytes received from the peer.
    pub received: u64,
    /// How it ended.
    pub end: PipeEnd,
}

enum Event {
    PeerEof,
    PeerError(io::Error),
    OutputClosed,
    OutputError(io::Error),
    InputEof,
    InputError(io::Error),
    SendError,
    Stopped,
}

/// Run the two-way pipe between `input`/`output` and `stream` (any
/// transport; zero-copy only where the stream has a plain descriptor) until done.
pub fn run(
    stream: impl Into<Stream>,
    input: File,
    output: File,
    opts: &PipeOptions,
    counters: Arc<Counters>,
    stop: Option<&Shutdown>,
) -> Result<PipeOutcome> {
    let stream: Stream = stream.into();
    let (tx, rx) = mpsc::channel::<Event>();
    let reader = stream.try_clone().context("cannot clone the socket")?;
    let writer = stream;

    if let Some(stop) = stop {
        let tx = tx.clone();
        let s = reader
            .socket()
            .try_clone()
            .context("cannot clone the socket")?;
        stop.on_trigger(move || {
            let _ = tx.send(Event::Stopped);
            let _ = s.shutdown(SockShutdown::Both);
        });
    }

    let (tap_in, tap_out) = (opts.tap.clone(), opts.tap.clone());
    {
        let tx = tx.clone();
        let c = counters.clone();
        thread::Builder::new()
            .name("socket-to-stdout".into())
            .spawn(move || {
                let copied = match (&tap_in, reader.plain_fd()) {
                    (Some(t), _) => {
                        copy_plain(t.reader(&reader, In), &output, &c.received, &|| c.touch())
                    }
                    (None, Some(_)) => {
                        zerocopy::copy(reader.socket(), &output, &c.received, &|| c.touch())
                    }
                    (None, None) => copy_plain(&reader, &output, &c.received, &|| c.touch()),
                };
                let ev = match copied {
                    Ok(()) => Event::PeerEof,
                    Err(zerocopy::CopyError::Read(e)) => Event::PeerError(e),
                    Err(zerocopy::CopyError::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
                        Event::OutputClosed
                    }
                    Err(zerocopy::CopyError::Write(e)) => Event::OutputError(e),
                };
                let _ = tx.send(ev);
            })
            .context("cannot start the reader thread")?;
    }
    {
        let tx = tx.clone();
        let c = counters.clone();
        let no_shutdown = opts.no_shutdown;
        thread::Builder::new()
            .name("stdin-to-socket".into())
            .spawn(move || {
                let copied = match (&tap_out, writer.plain_fd()) {
                    (Some(t), _) => {
                        copy_plain(t.reader(&input, Out), &writer, &c.sent, &|| c.touch())
                    }
                    (None, Some(_)) => {
                        zerocopy::copy(&input, writer.socket(), &c.sent, &|| c.touch())
                    }
                    (None, None) => copy_plain(&input, &writer, &c.sent, &|| c.touch()),
                };
                let ev = match copied {
                    Ok(()) => {
                        if !no_shutdown {
                            let _ = writer.shutdown_write();
                        }
                        Event::InputEof
                    }
                    Err(zerocopy::CopyError::Read(e)) => Event::InputError(e),
                    Err(zerocopy::CopyError::Write(_)) => Event::SendError,
                };
                let _ = tx.send(ev);
            })
            .context("cannot start the writer thread")?;
    }
    drop(tx);

    let outcome = |end| PipeOutcome {
        sent: counters.sent.load(Ordering::Relaxed),
        received: counters.received.load(Ordering::Relaxed),
        end,
    };
    let mut peer_done = false;
    let mut input_done = false;
    let mut quit_at: Option<Instant> = None;
    loop {
        let mut wait: Option<Duration> =
            quit_at.map(|q| q.saturating_duration_since(Instant::now()));
        if let Some(idle) = opts.idle_timeout {
            let left = idle.saturating_sub(counters.idle_for());
            wait = Some(wait.map_or(left, |w| w.min(left)));
        }
        let event = match wait {
            Some(w) => match rx.recv_timeout(w) {
                Ok(ev) => Some(ev),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Ok(outcome(PipeEnd::PeerClosed));
                }
            },
            None => match rx.recv() {
                Ok(ev) => Some(ev),
                Err(_) => return Ok(outcome(PipeEnd::PeerClosed)),
            },
        };
        match event {
            Some(Event::PeerEof) => peer_done = true,
            Some(Event::PeerError(e)) => {
                return Err(anyhow::Error::new(e).context("connection lost"));
            }
            Some(Event::OutputClosed) => return Ok(outcome(PipeEnd::OutputClosed)),
            Some(Event::OutputError(e)) => {
                return Err(anyhow::Error::new(e).context("cannot write to stdout"));
            }
            Some(Event::InputEof) => {
                input_done = true;
                quit_at = opts.quit_after.map(|q| Instant::now() + q);
            }
            Some(Event::InputError(e)) => {
                return Err(anyhow::Error::new(e).context("cannot read stdin"));
            }
            Some(Event::SendError) => input_done = true,
            Some(Event::Stopped) => return Ok(outcome(PipeEnd::Stopped)),
            None => {}
        }
        if peer_done && (input_done || opts.input_is_tty) {
            return Ok(outcome(PipeEnd::PeerClosed));
        }
        if quit_at.is_some_and(|q| Instant::now() >= q) {
            return Ok(outcome(PipeEnd::QuitAfterEof));
        }
        if let Some(idle) = opts.idle_timeout
            && counters.idle_for() >= idle
        {
            return Err(Failure::TimedOut(format!(
                "idle timeout: nothing moved for {}",
                crate::units::format_duration(idle)
            ))
            .into());
        }
    }
}

/// Duplicate stdin as a `File`: unbuffered, and usable from another thread.
pub fn stdin_file() -> Result<File> {
    use std::os::fd::AsFd;
    let fd = io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .context("cannot use stdin")?;
    Ok(File::from(fd))
}

/// Duplicate stdout as a `File`: no line buffering on binary data.
pub fn stdout_file() -> Result<File> {
    use std::os::fd::AsFd;
    let fd = io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .context("cannot use stdout")?;
    Ok(File::from(fd))
}

/// Plain read/write copy through a buffer; used where splice does not apply.
pub fn copy_plain(
    mut from: impl Read,
    mut to: impl Write,
    counter: &AtomicU64,
    touch: &dyn Fn(),
) -> Result<(), zerocopy::CopyError> {
    let mut buf = vec![0u8; BUF];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(zerocopy::CopyError::Read(e)),
        };
        to.write_all(&buf[..n])
            .map_err(zerocopy::CopyError::Write)?;
        counter.fetch_add(n as u64, Ordering::Relaxed);
        touch();
    }
}
