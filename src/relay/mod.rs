//! Relaying between two endpoints in both directions at once: a stream (any
//! transport) or a child process's pipes. Used by `serve --forward`, the
//! proxy servers, `serve --exec` over TLS and `connect --exec`.
//!
//! Each direction runs on its own thread and writes every chunk the moment it
//! is read: no byte waits for a later one. When one side ends its direction
//! (EOF), the other side's write half is shut down (FIN after TLS
//! close_notify, or the pipe closed), and the other direction goes on: a
//! half-close passes through both ways. The relay ends when both directions
//! have ended, or at the first error, which tears both sides down so no
//! thread stays blocked.
//!
//! Network faults (`serve --forward --delay/--jitter/--limit-rate/--cut-after`)
//! are applied here, per direction, by `faults::Shaper`: a delayed direction
//! gets a second thread (a delay line), so reading goes on while chunks wait
//! for their time.
//!
//! Without faults, a direction is one `copy::copy_watched`, the same copy as
//! the netcat pipe's: splice between plain sockets (`zerocopy`, measured in
//! `serve::forward`), the plain loop for TLS, pipes and a `--hexdump` tap,
//! and the relay's idle timeout as its idle check. Every TCP socket relayed
//! gets TCP_NODELAY (`copy::no_delay`): a small write never waits for an ACK.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub mod event;

use crate::copy::{self, BUF, CopyError, Meter, PlainFd};
use crate::faults::{Faults, Shaper};
use crate::hexdump::{Direction, Tap};
use crate::transport::{Socket, Stream};

/// One side of a relay.
pub enum Endpoint {
    /// A connected stream.
    Stream(Arc<Stream>),
    /// A program: what it writes (`from`, its stdout) and what it reads (`to`, its stdin).
    Pipes {
        /// Read end: the program's output.
        from: File,
        /// Write end: the program's input.
        to: File,
    },
}

/// How a relay behaves.
#[derive(Clone, Default)]
pub struct RelayOptions {
    /// End when nothing moves either way for this long.
    pub idle_timeout: Option<Duration>,
    /// Network faults to inject (both directions).
    pub faults: Option<Arc<Faults>>,
    /// `--hexdump`: side A's bytes are "received" (`<`), side B's "sent" (`>`).
    pub tap: Option<Tap>,
}

/// How a relay ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayEnd {
    /// Both directions reached their end.
    Closed,
    /// Nothing moved for the idle timeout.
    Idle,
    /// `--cut-after` reset both sides.
    Cut,
    /// A read or write failed; which side and why.
    Error(String),
}

impl RelayEnd {
    /// How a `-v` record puts it.
    pub fn describe(&self) -> String {
        match self {
            RelayEnd::Closed => "closed by both sides".into(),
            RelayEnd::Idle => "idle timeout".into(),
            RelayEnd::Cut => "cut (--cut-after): reset both sides".into(),
            RelayEnd::Error(e) => e.clone(),
        }
    }
}

/// What a relay moved and how it ended.
#[derive(Debug, Clone)]
pub struct RelayOutcome {
    /// Bytes from A to B.
    pub a_to_b: u64,
    /// Bytes from B to A.
    pub b_to_a: u64,
    /// How it ended.
    pub end: RelayEnd,
}

/// The read half of an endpoint.
enum Reader {
    Stream(Arc<Stream>),
    File(File),
}

impl Read for Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Reader::Stream(s) => (&**s).read(buf),
            Reader::File(f) => f.read(buf),
        }
    }
}

impl PlainFd for Reader {
    fn plain_fd(&self) -> Option<BorrowedFd<'_>> {
        match self {
            Reader::Stream(s) => PlainFd::plain_fd(&**s),
            Reader::File(f) => Some(f.as_fd()),
        }
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        match self {
            Reader::Stream(s) => PlainFd::poll_fd(&**s),
            Reader::File(f) => Some(f.as_fd()),
        }
    }
}

/// The write half of an endpoint.
enum Writer {
    Stream(Arc<Stream>),
    File(Option<File>),
}

impl Write for Writer {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Writer::Stream(s) => (&**s).write(data),
            Writer::File(Some(f)) => f.write(data),
            Writer::File(None) => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl PlainFd for Writer {
    fn plain_fd(&self) -> Option<BorrowedFd<'_>> {
        match self {
            Writer::Stream(s) => PlainFd::plain_fd(&**s),
            Writer::File(f) => f.as_ref().map(|f| f.as_fd()),
        }
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        match self {
            Writer::Stream(s) => PlainFd::poll_fd(&**s),
            Writer::File(f) => f.as_ref().map(|f| f.as_fd()),
        }
    }
}

impl Writer {
    /// End this direction: FIN (after close_notify), or close the pipe.
    fn close(&mut self) {
        match self {
            Writer::Stream(s) => {
                let _ = s.shutdown_write();
            }
            Writer::File(f) => drop(f.take()),
        }
    }
}

/// Tears a stream down from another thread: a reset (`cut`) or a shutdown.
#[derive(Clone)]
struct Breaker(Vec<Arc<Stream>>);

impl Breaker {
    fn shutdown(&self) {
        for s in &self.0 {
            let _ = s.socket().shutdown(Shutdown::Both);
        }
    }

    fn reset(&self) {
        for s in &self.0 {
            reset(s.socket());
        }
    }
}

/// Abort a connection with a TCP reset (RST) instead of a FIN; it also wakes
/// any thread blocked on the socket. Unix sockets have no reset: shut down.
pub fn reset(socket: &Socket) {
    match socket {
        Socket::Tcp(t) => {
            use std::os::fd::AsRawFd;
            let sock = socket2::SockRef::from(t);
            let _ = sock.set_linger(Some(Duration::ZERO));
            let unspec = libc::sockaddr {
                sa_family: libc::AF_UNSPEC as libc::sa_family_t,
                sa_data: [0; 14],
            };
            // SAFETY: connect(2) with AF_UNSPEC disconnects a TCP socket,
            // sending RST from ESTABLISHED; the address outlives the call.
            unsafe {
                libc::connect(
                    t.as_raw_fd(),
                    &unspec,
                    std::mem::size_of::<libc::sockaddr>() as libc::socklen_t,
                );
            }
        }
        Socket::Unix(u) => {
            let _ = u.shutdown(Shutdown::Both);
        }
    }
}

/// Shared state of one relay.
struct State {
    started: Instant,
    last_ms: AtomicU64,
    ended: Mutex<Option<RelayEnd>>,
    cut: AtomicBool,
}

impl State {
    fn touch(&self) {
        self.last_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }

    /// Record the first abnormal end; later ones are consequences.
    fn end(&self, e: RelayEnd) {
        let mut g = self.ended.lock().unwrap_or_else(|p| p.into_inner());
        if g.is_none() {
            *g = Some(e);
        }
    }
}

fn split(e: Endpoint) -> (Reader, Writer, Option<Arc<Stream>>) {
    match e {
        Endpoint::Stream(s) => (
            Reader::Stream(s.clone()),
            Writer::Stream(s.clone()),
            Some(s),
        ),
        Endpoint::Pipes { from, to } => (Reader::File(from), Writer::File(Some(to)), None),
    }
}

/// Relay between `a` and `b` until both directions end.
pub fn relay(a: Endpoint, b: Endpoint, opts: &RelayOptions) -> RelayOutcome {
    let (ra, wa, sa) = split(a);
    let (rb, wb, sb) = split(b);
    let breaker = Breaker(sa.iter().chain(sb.iter()).cloned().collect());
    for s in &breaker.0 {
        copy::no_delay(s.socket());
    }
    if let Some(idle) = opts.idle_timeout {
        for s in &breaker.0 {
            let _ = s
                .socket()
                .set_read_timeout(Some(idle.min(Duration::from_secs(1))));
        }
    }
    let state = Arc::new(State {
        started: Instant::now(),
        last_ms: AtomicU64::new(0),
        ended: Mutex::new(None),
        cut: AtomicBool::new(false),
    });
    let a_to_b = Arc::new(AtomicU64::new(0));
    let b_to_a = Arc::new(AtomicU64::new(0));
    let shaper = opts.faults.as_ref().map(|f| Shaper::new(f.clone()));
    let watchdog = opts
        .faults
        .as_ref()
        .and_then(|f| f.cut_after_time)
        .map(|t| cut_timer(t, breaker.clone(), state.clone()));

    let forward = {
        let (state, breaker, counter, opts, shaper) = (
            state.clone(),
            breaker.clone(),
            a_to_b.clone(),
            opts.clone(),
            shaper.clone(),
        );
        thread::Builder::new()
            .name("relay-a-to-b".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                direction(
                    ra,
                    wb,
                    &counter,
                    &state,
                    &breaker,
                    &opts,
                    shaper,
                    Direction::In,
                )
            })
    };
    match forward {
        Ok(handle) => {
            direction(
                rb,
                wa,
                &b_to_a,
                &state,
                &breaker,
                opts,
                shaper,
                Direction::Out,
            );
            let _ = handle.join();
        }
        Err(e) => state.end(RelayEnd::Error(format!("cannot start a relay thread: {e}"))),
    }
    if let Some((stop, h)) = watchdog {
        drop(stop);
        let _ = h.join();
    }
    let end = state
        .ended
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .unwrap_or(RelayEnd::Closed);
    let end = if state.cut.load(Ordering::Relaxed) {
        RelayEnd::Cut
    } else {
        end
    };
    RelayOutcome {
        a_to_b: a_to_b.load(Ordering::Relaxed),
        b_to_a: b_to_a.load(Ordering::Relaxed),
        end,
    }
}

/// `--cut-after DURATION`: reset both sides when the time is up.
fn cut_timer(
    after: Duration,
    breaker: Breaker,
    state: Arc<State>,
) -> (std::sync::mpsc::Sender<()>, thread::JoinHandle<()>) {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let h = thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(after) {
            state.cut.store(true, Ordering::Relaxed);
            breaker.reset();
        }
    });
    (tx, h)
}

#[allow(clippy::too_many_arguments)]
fn direction(
    from: Reader,
    to: Writer,
    counter: &AtomicU64,
    state: &State,
    breaker: &Breaker,
    opts: &RelayOptions,
    shaper: Option<Shaper>,
    dir: Direction,
) {
    match shaper {
        Some(shaper) => shaped(from, to, counter, state, breaker, opts, &shaper, dir),
        None => unshaped(from, to, counter, state, breaker, opts, dir),
    }
}

/// A direction without faults: the pipe's copy (`copy::copy_watched`).
fn unshaped(
    from: Reader,
    mut to: Writer,
    counter: &AtomicU64,
    state: &State,
    breaker: &Breaker,
    opts: &RelayOptions,
    dir: Direction,
) {
    let idle = || opts.idle_timeout.is_some_and(|i| state.idle_for() >= i);
    let m = Meter {
        counter,
        touch: &|| state.touch(),
        idle: opts.idle_timeout.map(|_| &idle as &dyn Fn() -> bool),
    };
    let copied = match &opts.tap {
        Some(t) => copy::copy_watched(t.reader(from, dir), &mut to, &m),
        None => copy::copy_watched(from, &mut to, &m),
    };
    let failed = match copied {
        Ok(()) => {
            to.close();
            return;
        }
        Err(CopyError::Idle) => RelayEnd::Idle,
        Err(CopyError::Read(e)) => RelayEnd::Error(describe(dir, "read", &e)),
        Err(CopyError::Write(e)) => RelayEnd::Error(describe(dir, "write", &e)),
    };
    if !state.cut.load(Ordering::Relaxed) {
        state.end(failed);
    }
    breaker.shutdown();
}

/// A direction with network faults: chunks limited, paced, delayed or cut.
#[allow(clippy::too_many_arguments)]
fn shaped(
    mut from: Reader,
    to: Writer,
    counter: &AtomicU64,
    state: &State,
    breaker: &Breaker,
    opts: &RelayOptions,
    shaper: &Shaper,
    dir: Direction,
) {
    let mut buf = vec![0u8; BUF];
    let mut sink = if shaper.delays() {
        Sink::Delayed(shaper.delay_line(to))
    } else {
        Sink::Direct(to)
    };
    loop {
        let want = shaper.chunk_limit(BUF);
        let n = match from.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                match opts.idle_timeout {
                    Some(idle) if state.idle_for() >= idle => {
                        state.end(RelayEnd::Idle);
                        breaker.shutdown();
                        return;
                    }
                    _ => continue,
                }
            }
            Err(e) => {
                if !state.cut.load(Ordering::Relaxed) {
                    state.end(RelayEnd::Error(describe(dir, "read", &e)));
                }
                breaker.shutdown();
                return;
            }
        };
        state.touch();
        let (allowed, cut_now) = shaper.take_budget(n);
        let chunk = &buf[..allowed];
        if let Some(t) = &opts.tap
            && !chunk.is_empty()
        {
            t.call(dir, chunk);
        }
        if let Err(e) = sink.send(chunk, shaper) {
            if !state.cut.load(Ordering::Relaxed) {
                state.end(RelayEnd::Error(describe(dir, "write", &e)));
            }
            breaker.shutdown();
            return;
        }
        counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        state.touch();
        if cut_now {
            // Everything up to the limit is out: then the reset.
            let _ = sink.finish(false);
            state.cut.store(true, Ordering::Relaxed);
            breaker.reset();
            return;
        }
    }
    if let Err(e) = sink.finish(true) {
        state.end(RelayEnd::Error(describe(dir, "write", &e)));
        breaker.shutdown();
    }
}

fn describe(dir: Direction, what: &str, e: &io::Error) -> String {
    let (from, to) = match dir {
        Direction::In => ("client", "upstream"),
        Direction::Out => ("upstream", "client"),
    };
    let side = if what == "read" { from } else { to };
    let why = match e.kind() {
        io::ErrorKind::ConnectionReset => "reset".to_string(),
        io::ErrorKind::BrokenPipe => "closed".to_string(),
        _ => match crate::transport::tls::as_tls_error(e) {
            Some(t) => format!("TLS: {t}"),
            None => e.to_string(),
        },
    };
    format!("{side} {why}")
}

/// Where a direction's chunks go: straight to the writer, or through a delay line.
enum Sink {
    Direct(Writer),
    Delayed(crate::faults::DelayLine<Writer>),
}

impl Sink {
    fn send(&mut self, chunk: &[u8], shaper: &Shaper) -> io::Result<()> {
        match self {
            Sink::Direct(w) => {
                if chunk.is_empty() {
                    return Ok(());
                }
                w.write_all(chunk)?;
                shaper.pace(chunk.len());
                Ok(())
            }
            Sink::Delayed(d) => d.push(chunk),
        }
    }

    /// Wait for what is queued, then close the write side when `close`.
    fn finish(&mut self, close: bool) -> io::Result<()> {
        match self {
            Sink::Direct(w) => {
                if close {
                    w.close();
                }
                Ok(())
            }
            Sink::Delayed(d) => d.finish(close),
        }
    }
}

impl crate::faults::ChunkWriter for Writer {
    fn write_chunk(&mut self, data: &[u8]) -> io::Result<()> {
        self.write_all(data)
    }

    fn close(&mut self) {
        Writer::close(self)
    }
}

#[cfg(test)]
mod tests;
