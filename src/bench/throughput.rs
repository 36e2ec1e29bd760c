//! Throughput: each of `-P` streams runs on its own thread and writes large
//! blocks to a discard server, reads from a source server (`--reverse`), or
//! both at once through an echo server (`--bidir`, one extra writer thread).
//!
//! A stalled peer is caught by socket timeouts: a server that stops reading
//! (echo without a reader, a source that never reads) fails the writes after
//! `--timeout`; one that sends nothing fails the reads.

use std::io::{self, Read, Write};
use std::net::Shutdown as HalfClose;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};

use crate::transport::Stream;

use super::report::{Report, StreamFigures};
use super::{
    BenchConfig, Clock, Direction, Limit, Meter, SOCKET_BUFFER, Target, no_reply, spawn_named,
    supervise,
};

/// Run a throughput bench against `target`.
pub fn run(cfg: &BenchConfig, target: &Target) -> Result<Report> {
    let meter = Arc::new(Meter::default());
    // Connect every stream first, so a refused or silent target fails before any thread starts.
    let mut streams = Vec::with_capacity(cfg.streams);
    for _ in 0..cfg.streams {
        let s = target.connect(cfg)?;
        tune(&s, cfg)?;
        streams.push(s);
    }
    let clock = Clock::new(cfg);
    let per_stream = match cfg.limit {
        Limit::Bytes(n) => Some(n.div_ceil(cfg.streams as u64)),
        Limit::Time(_) => None,
    };
    let mut workers = Vec::with_capacity(cfg.streams);
    for (id, stream) in streams.into_iter().enumerate() {
        let (meter, cfg2, target2) = (meter.clone(), cfg.clone(), target.clone());
        workers.push(spawn_named(&format!("stream-{id}"), move || {
            let r = one_stream(id, stream, &cfg2, &clock, &meter, per_stream, &target2);
            if r.is_err() {
                meter.stop.store(true, Ordering::Relaxed);
            }
            r
        })?);
    }
    let figures = supervise(cfg, &clock, &meter, workers)?;
    let mut report = Report::new(cfg, target.describe());
    report.secs = figures.iter().map(|f| f.secs).fold(0.0, f64::max);
    report.streams = figures;
    Ok(report)
}

fn tune(s: &Stream, cfg: &BenchConfig) -> Result<()> {
    let sock = socket2::SockRef::from(s.socket());
    // Big buffers keep the pipe full; the kernel caps them at its limits.
    if cfg.direction != Direction::Receive {
        let _ = sock.set_send_buffer_size(SOCKET_BUFFER);
    }
    if cfg.direction != Direction::Send {
        let _ = sock.set_recv_buffer_size(SOCKET_BUFFER);
    }
    s.set_timeouts(Some(cfg.timeout))
        .context("cannot set socket timeouts")?;
    Ok(())
}

/// What one direction of one stream moved.
#[derive(Debug, Default, Clone, Copy)]
struct Moved {
    total: u64,
    measured: u64,
    last: Option<Instant>,
}

impl Moved {
    fn add(&mut self, n: usize, clock: &Clock, now: Instant) -> bool {
        self.total += n as u64;
        if now >= clock.measure {
            self.measured += n as u64;
            self.last = Some(now);
            true
        } else {
            false
        }
    }

    fn secs(&self, clock: &Clock) -> f64 {
        self.last
            .map_or(0.0, |l| l.duration_since(clock.measure).as_secs_f64())
    }
}

fn one_stream(
    id: usize,
    stream: Stream,
    cfg: &BenchConfig,
    clock: &Clock,
    meter: &Meter,
    limit: Option<u64>,
    target: &Target,
) -> Result<StreamFigures> {
    let (sent, received) = match cfg.direction {
        Direction::Send => {
            let sent = write_blocks(&stream, cfg, clock, meter, limit, target)?;
            let _ = stream.shutdown(HalfClose::Write);
            // Wait for the server to close: then it has counted every byte.
            let _ = drain(&stream, clock, meter, None, target, cfg.timeout, false);
            (sent, Moved::default())
        }
        Direction::Receive => {
            let got = drain(&stream, clock, meter, limit, target, cfg.timeout, true)?;
            (Moved::default(), got)
        }
        Direction::Both => {
            let writer = stream.try_clone().context("cannot clone the stream")?;
            let (cfg2, clock2, target2) = (cfg.clone(), *clock, target.clone());
            let wmeter = Arc::new(Meter::default());
            let wm = wmeter.clone();
            let w = spawn_named(&format!("stream-{id}-writer"), move || {
                let r = write_blocks(&writer, &cfg2, &clock2, &wm, limit, &target2);
                let _ = writer.shutdown(HalfClose::Write);
                r
            })?;
            // The reader reports both directions to the shared meter: its own
            // bytes directly, the writer's by polling the writer's meter.
            let got = drain_echo(&stream, clock, meter, &wmeter, target, cfg.timeout);
            let sent = w
                .join()
                .map_err(|_| anyhow!("stream {id}: the writer panicked"))??;
            let got = got?;
            if got.total != sent.total {
                return Err(anyhow!(
                    "stream {id}: sent {} bytes but {} came back: is {} an echo server?",
                    sent.total,
                    got.total,
                    target.describe()
                ));
            }
            (sent, got)
        }
    };
    let secs = sent.secs(clock).max(received.secs(clock));
    Ok(StreamFigures {
        id,
        sent: sent.total,
        received: received.total,
        measured: sent.measured + received.measured,
        ops: 0,
        opened: 1,
        issued: 0,
        secs,
    })
}

fn write_blocks(
    mut stream: &Stream,
    cfg: &BenchConfig,
    clock: &Clock,
    meter: &Meter,
    limit: Option<u64>,
    target: &Target,
) -> Result<Moved> {
    let block = pattern(cfg.size);
    let mut moved = Moved::default();
    loop {
        let now = Instant::now();
        if clock.over(now) || meter.stopped() {
            break;
        }
        let want = match limit {
            Some(l) if moved.total >= l => break,
            Some(l) => (l - moved.total).min(block.len() as u64) as usize,
            None => block.len(),
        };
        match stream.write(&block[..want]) {
            Ok(0) => return Err(anyhow!("{} stopped accepting data", target.describe())),
            Ok(n) => {
                if moved.add(n, clock, Instant::now()) {
                    meter.sent.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => {
                return Err(no_reply(
                    target,
                    cfg.timeout,
                    "the server stopped reading (throughput needs a discard server, --bidir an echo server)",
                ));
            }
            Err(e) => {
                return Err(
                    anyhow::Error::new(e).context(format!("cannot write to {}", target.describe()))
                );
            }
        }
    }
    Ok(moved)
}

/// Read until EOF, the clock ends, or `limit` bytes (when `counting`).
fn drain(
    mut stream: &Stream,
    clock: &Clock,
    meter: &Meter,
    limit: Option<u64>,
    target: &Target,
    timeout: Duration,
    counting: bool,
) -> Result<Moved> {
    let mut buf = vec![0u8; 1 << 20];
    let mut moved = Moved::default();
    loop {
        if counting && (clock.over(Instant::now()) || meter.stopped()) {
            break;
        }
        let want = match limit {
            Some(l) if moved.total >= l => break,
            Some(l) => (l - moved.total).min(buf.len() as u64) as usize,
            None => buf.len(),
        };
        match stream.read(&mut buf[..want]) {
            Ok(0) if counting => {
                return Err(anyhow!(
                    "{} closed the connection: --reverse needs a source server (netkit serve --source)",
                    target.describe()
                ));
            }
            Ok(0) => break,
            Ok(n) => {
                if moved.add(n, clock, Instant::now()) && counting {
                    meter.received.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) && counting => {
                return Err(no_reply(
                    target,
                    timeout,
                    "--reverse needs a source server (netkit serve --source)",
                ));
            }
            Err(e) if !counting => return Err(e.into()),
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("cannot read from {}", target.describe())));
            }
        }
    }
    Ok(moved)
}

/// The reading half of `--bidir`: read until the echo server closes.
fn drain_echo(
    mut stream: &Stream,
    clock: &Clock,
    meter: &Meter,
    writer: &Meter,
    target: &Target,
    timeout: Duration,
) -> Result<Moved> {
    let mut buf = vec![0u8; 1 << 20];
    let mut moved = Moved::default();
    let mut reported_sent = 0;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if moved.add(n, clock, Instant::now()) {
                    meter.received.fetch_add(n as u64, Ordering::Relaxed);
                }
                let s = writer.sent.load(Ordering::Relaxed);
                meter.sent.fetch_add(s - reported_sent, Ordering::Relaxed);
                reported_sent = s;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => {
                return Err(no_reply(
                    target,
                    timeout,
                    "--bidir needs an echo server (netkit serve --echo)",
                ));
            }
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("cannot read from {}", target.describe())));
            }
        }
        if meter.stopped() {
            writer.stop.store(true, Ordering::Relaxed);
        }
    }
    Ok(moved)
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A block of printable bytes, so a capture of the stream is readable.
pub fn pattern(size: usize) -> Vec<u8> {
    (0..size).map(|i| b'a' + (i % 26) as u8).collect()
}
