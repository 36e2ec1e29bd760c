//! The netcat pipe: stdin to a stream (TCP, TLS or Unix) and the stream to
//! stdout, both at once on two threads (`try_clone`), shared by `connect`
//! and `serve` listen mode.
//!
//! Each direction is one `copy::copy`: every chunk is written on the moment
//! it is read, whatever stdin and stdout are, and whatever carries the
//! stream (TLS has no plain descriptor, so it always takes the plain loop). At input EOF the write side is
//! shut down (unless `--no-shutdown`) and the socket is read until the peer
//! closes; when stdout is itself a socket (a relay under `serve --exec`), the
//! peer's EOF is passed on as a half-close too. The session ends when both
//! directions are done; with a terminal on stdin the peer closing is enough,
//! since nobody is part-way through sending a file. `-q SECS` behaves like
//! netcat-openbsd's (measured with 1.219): it never cuts the reply short; once
//! both directions are done it waits SECS more before returning. The socket
//! gets TCP_NODELAY (`copy::no_delay`).

use std::fs::File;
use std::io;
use std::net::Shutdown as SockShutdown;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::copy::{self, CopyError, Crlf};
use crate::error::Failure;
use crate::hexdump::Direction::{In, Out};
use crate::shutdown::Shutdown;
use crate::transport::Stream;
use crate::zerocopy::Kind;

/// How a pipe session behaves at its ends.
#[derive(Debug, Clone, Default)]
pub struct PipeOptions {
    /// `-q`: after input EOF, once the peer has closed too, wait this long
    /// before returning (netcat-openbsd's quit timer; it never cuts a reply).
    pub quit_after: Option<Duration>,
    /// Fail with "timed out" when nothing moves either way for this long.
    pub idle_timeout: Option<Duration>,
    /// Keep the write side open at input EOF.
    pub no_shutdown: bool,
    /// The input is a terminal: the peer closing ends the session.
    pub input_is_tty: bool,
    /// `--hexdump`: see every chunk; data then takes the plain copy path.
    pub tap: Option<crate::hexdump::Tap>,
    /// `--crlf`: every `\n` from the input goes out as `\r\n` (like `nc -C`).
    pub crlf: bool,
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

/// Run the two-way pipe between `input`/`output` and `stream` until done.
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
    copy::no_delay(stream.socket());
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

    {
        let tx = tx.clone();
        let c = counters.clone();
        let tap = opts.tap.clone();
        thread::Builder::new()
            .name("socket-to-stdout".into())
            .spawn(move || {
                let touch = || c.touch();
                let copied = match &tap {
                    Some(t) => copy::copy(t.reader(&reader, In), &output, &c.received, &touch),
                    None => copy::copy(&reader, &output, &c.received, &touch),
                };
                let ev = match copied {
                    Ok(()) => {
                        pass_on_eof(&output);
                        Event::PeerEof
                    }
                    Err(CopyError::Read(e)) => Event::PeerError(e),
                    Err(CopyError::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
                        Event::OutputClosed
                    }
                    Err(CopyError::Write(e)) => Event::OutputError(e),
                    // No idle check was given: not reached.
                    Err(CopyError::Idle) => Event::PeerError(io::ErrorKind::TimedOut.into()),
                };
                let _ = tx.send(ev);
            })
            .context("cannot start the reader thread")?;
    }
    {
        let tx = tx.clone();
        let c = counters.clone();
        let (no_shutdown, crlf, tap) = (opts.no_shutdown, opts.crlf, opts.tap.clone());
        thread::Builder::new()
            .name("stdin-to-socket".into())
            .spawn(move || {
                let touch = || c.touch();
                let copied = match (&tap, crlf) {
                    (None, false) => copy::copy(&input, &writer, &c.sent, &touch),
                    (None, true) => copy::copy(Crlf::new(&input), &writer, &c.sent, &touch),
                    (Some(t), false) => copy::copy(t.reader(&input, Out), &writer, &c.sent, &touch),
                    (Some(t), true) => {
                        let r = t.reader(Crlf::new(&input), Out);
                        copy::copy(r, &writer, &c.sent, &touch)
                    }
                };
                let ev = match copied {
                    Ok(()) => {
                        if !no_shutdown {
                            let _ = writer.shutdown_write();
                        }
                        Event::InputEof
                    }
                    Err(CopyError::Read(e)) => Event::InputError(e),
                    Err(CopyError::Write(_) | CopyError::Idle) => Event::SendError,
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
    let mut input_eof = false;
    let mut input_done = false;
    loop {
        let event = match opts.idle_timeout {
            Some(idle) => match rx.recv_timeout(idle.saturating_sub(counters.idle_for())) {
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
                input_eof = true;
                input_done = true;
            }
            Some(Event::InputError(e)) => {
                return Err(anyhow::Error::new(e).context("cannot read stdin"));
            }
            Some(Event::SendError) => input_done = true,
            Some(Event::Stopped) => return Ok(outcome(PipeEnd::Stopped)),
            None => {}
        }
        if peer_done && (input_done || opts.input_is_tty) {
            if let (Some(q), true) = (opts.quit_after, input_eof) {
                // nc -q: linger after both ends are done; only a stop cuts it.
                if linger(&rx, q) {
                    return Ok(outcome(PipeEnd::Stopped));
                }
            }
            return Ok(outcome(PipeEnd::PeerClosed));
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

/// Wait `q` (the copy threads are done); true if a stop came meanwhile.
fn linger(rx: &mpsc::Receiver<Event>, q: Duration) -> bool {
    let until = Instant::now() + q;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Event::Stopped) => return true,
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => return false,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // No stop handle: nothing can cut the wait short.
                thread::sleep(left);
                return false;
            }
        }
    }
}

/// The peer finished sending: when our output is a socket, half-close it so
/// whoever reads it sees the end too (a relay under `serve --exec`). A pipe
/// or file sees its end when the process exits.
fn pass_on_eof(output: &File) {
    if Kind::of(output.as_fd()) == Kind::Socket {
        let _ = socket2::SockRef::from(output).shutdown(SockShutdown::Write);
    }
}

/// Duplicate stdin as a `File`: unbuffered, and usable from another thread.
pub fn stdin_file() -> Result<File> {
    let fd = io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .context("cannot use stdin")?;
    Ok(File::from(fd))
}

/// Duplicate stdout as a `File`: no line buffering on binary data.
pub fn stdout_file() -> Result<File> {
    let fd = io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .context("cannot use stdout")?;
    Ok(File::from(fd))
}
