//! Latency: ping-pong of `--size` bytes over `-c` connections (one thread
//! each up to one per core, beyond that the readiness loops of `mux`),
//! against an echo server; round trips go into an HDR histogram and the
//! warm-up is left out.
//!
//! Closed loop (the default) sends the next request when the reply is in.
//! With `--rate` it runs open loop: a sender thread per connection sends on a
//! fixed schedule and the reader measures each reply from the *intended* send
//! time, so a stall shows up in every request it delays (no coordinated
//! omission). Reads block: on a loaded 2-core machine a spinning client
//! took a core from the server and tripled p99 (measured), so nothing spins
//! except the last 200µs of an open-loop wait.
//!
//! A wrong server is told apart from a slow one: a reply that differs from the
//! request (a source server) is an error at once; no reply within `--timeout`
//! (a discard server) exits with "no reply".

use crate::transport::Stream;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::sync_channel;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use hdrhistogram::Histogram;

use super::report::{Percentiles, Report, StreamFigures};
use super::{
    BenchConfig, Clock, Meter, Target, mux, nanos, new_histogram, no_reply, spawn_named, supervise,
};

const NEEDS: &str = "latency needs an echo server (netkit serve --echo)";

/// Requests in flight per connection in open-loop mode, at most.
const MAX_IN_FLIGHT: usize = 1 << 20;
/// The largest closed-loop message sent with a blocking write before its
/// reply is read. A larger one fills both socket buffers while the echo
/// server waits for room to answer: it goes through `mux`, which reads
/// the reply while the request is still being written (with TLS, a writer
/// thread does).
const BLOCKING_MAX: usize = 64 * 1024;

/// Run a latency bench against `target`.
pub fn run(cfg: &BenchConfig, target: &Target) -> Result<Report> {
    let meter = Arc::new(Meter::default());
    let mut streams = Vec::with_capacity(cfg.connections);
    for _ in 0..cfg.connections {
        let s = target.connect(cfg)?;
        if let Some(t) = s.socket().tcp() {
            t.set_nodelay(true).context("cannot set TCP_NODELAY")?;
        }
        s.set_timeouts(Some(cfg.timeout))?;
        streams.push(s);
    }
    let clock = Clock::new(cfg);
    let cores = thread::available_parallelism().map_or(2, |n| n.get());
    // TLS keeps a thread per connection: the readiness loops of `mux` write
    // plaintext without watching for ciphertext left behind.
    if cfg.rate.is_none()
        && cfg.tls_client.is_none()
        && (streams.len() > cores || cfg.size > BLOCKING_MAX)
    {
        let threads = cores.min(streams.len());
        return multiplexed(cfg, target, streams, clock, meter, threads);
    }
    let mut workers = Vec::with_capacity(streams.len());
    for (id, stream) in streams.into_iter().enumerate() {
        let (meter, cfg2, target2) = (meter.clone(), cfg.clone(), target.clone());
        workers.push(spawn_named(&format!("conn-{id}"), move || {
            let r = match cfg2.rate {
                Some(total) => {
                    let per_conn = total / cfg2.connections as f64;
                    open_loop(id, stream, &cfg2, &clock, &meter, &target2, per_conn)
                }
                None => closed_loop(id, stream, &cfg2, &clock, &meter, &target2),
            };
            if r.is_err() {
                meter.stop.store(true, Ordering::Relaxed);
            }
            r
        })?);
    }
    let results = supervise(cfg, &clock, &meter, workers)?;
    report(cfg, target, results)
}

/// Many connections from one readiness loop per core (see `mux`).
fn multiplexed(
    cfg: &BenchConfig,
    target: &Target,
    streams: Vec<Stream>,
    clock: Clock,
    meter: Arc<Meter>,
    threads: usize,
) -> Result<Report> {
    let mut shares: Vec<Vec<(usize, Stream, Vec<u8>)>> = (0..threads).map(|_| Vec::new()).collect();
    for (id, stream) in streams.into_iter().enumerate() {
        shares[id % threads].push((id, stream, request(id, cfg.size)));
    }
    let mut workers = Vec::with_capacity(threads);
    for (i, share) in shares.into_iter().enumerate() {
        let (meter, cfg2, target2) = (meter.clone(), cfg.clone(), target.clone());
        workers.push(spawn_named(&format!("latency-loop-{i}"), move || {
            let r = mux::closed_loop(share, &cfg2, &clock, &meter, &target2);
            if r.is_err() {
                meter.stop.store(true, Ordering::Relaxed);
            }
            r
        })?);
    }
    let results = supervise(cfg, &clock, &meter, workers)?;
    let mut flat: Vec<_> = results.into_iter().flatten().collect();
    flat.sort_by_key(|(fig, _)| fig.id);
    report(cfg, target, flat)
}

/// The report of a run whose workers each return figures and a histogram
/// (latency, connect): per-connection rows and merged percentiles.
pub(super) fn report(
    cfg: &BenchConfig,
    target: &Target,
    results: Vec<(StreamFigures, Histogram<u64>)>,
) -> Result<Report> {
    let mut all = new_histogram();
    let mut report = Report::new(cfg, target.describe());
    for (fig, h) in results {
        all.add(&h)
            .map_err(|e| anyhow!("cannot merge histograms: {e:?}"))?;
        report.secs = report.secs.max(fig.secs);
        report.streams.push(fig);
    }
    report.latency = Some(Percentiles::of(&all));
    Ok(report)
}

/// The request of connection `id`: printable, different per connection.
fn request(id: usize, size: usize) -> Vec<u8> {
    (0..size).map(|i| b'A' + ((i + id) % 26) as u8).collect()
}

fn closed_loop(
    id: usize,
    mut stream: Stream,
    cfg: &BenchConfig,
    clock: &Clock,
    meter: &Meter,
    target: &Target,
) -> Result<(StreamFigures, Histogram<u64>)> {
    let req = request(id, cfg.size);
    let mut reply = vec![0u8; cfg.size];
    let mut hist = new_histogram();
    let mut fig = StreamFigures {
        id,
        ..Default::default()
    };
    let mut last = clock.measure;
    loop {
        let t0 = Instant::now();
        if clock.over(t0) || meter.stopped() {
            break;
        }
        if req.len() > BLOCKING_MAX {
            // (TLS) A request past the socket buffers is written from a
            // second thread while this one reads the echo.
            let mut writer = stream.try_clone().context("cannot clone the stream")?;
            let (wrote, read) = thread::scope(|s| {
                let w = s.spawn(|| write_req(&mut writer, &req, target));
                let r = read_reply(&mut stream, &mut reply, cfg.timeout, target);
                (w.join(), r)
            });
            read?;
            wrote.map_err(|_| anyhow!("connection {id}: the writer panicked"))??;
        } else {
            write_req(&mut stream, &req, target)?;
            read_reply(&mut stream, &mut reply, cfg.timeout, target)?;
        }
        let t1 = Instant::now();
        check(&req, &reply, target)?;
        fig.sent += req.len() as u64;
        fig.received += reply.len() as u64;
        if t0 >= clock.measure {
            hist.saturating_record(nanos(t1 - t0).max(1));
            fig.ops += 1;
            fig.measured += 2 * req.len() as u64;
            meter.ops.fetch_add(1, Ordering::Relaxed);
            last = t1;
        }
    }
    fig.secs = last.duration_since(clock.measure).as_secs_f64();
    Ok((fig, hist))
}

fn open_loop(
    id: usize,
    stream: Stream,
    cfg: &BenchConfig,
    clock: &Clock,
    meter: &Meter,
    target: &Target,
    per_second: f64,
) -> Result<(StreamFigures, Histogram<u64>)> {
    let period = Duration::from_secs_f64(1.0 / per_second);
    // (intended send time, actual send time) of each request in flight.
    let (tx, rx) = sync_channel::<(Instant, Instant)>(MAX_IN_FLIGHT);
    let mut writer = stream.try_clone().context("cannot clone the stream")?;
    let req = request(id, cfg.size);
    let (clock2, target2) = (*clock, target.clone());
    let req2 = req.clone();
    // The sender returns how many requests it sent on the measured part of
    // its schedule.
    let sender = spawn_named(&format!("conn-{id}-sender"), move || -> Result<u64> {
        let mut k: u32 = 0;
        let mut issued = 0u64;
        loop {
            // Spread connections over the period so they do not send in bursts.
            let intended = clock2.start + period.mul_f64(f64::from(k) + id as f64 / 1024.0);
            // Stop near -t in real time too: a rate the machine cannot
            // keep leaves the schedule behind the clock, and the report
            // says so.
            if clock2.over(intended) || clock2.late(Instant::now()) {
                break;
            }
            wait_until(intended);
            write_req(&mut writer, &req2, &target2)?;
            if intended >= clock2.measure {
                issued += 1;
            }
            if tx.send((intended, Instant::now())).is_err() {
                break; // the reader failed; its error is reported
            }
            k = k.saturating_add(1);
        }
        Ok(issued)
    })?;
    let mut reader = stream;
    let mut reply = vec![0u8; cfg.size];
    let mut hist = new_histogram();
    let mut fig = StreamFigures {
        id,
        ..Default::default()
    };
    let mut last = clock.measure;
    let mut failure = None;
    for (intended, sent_at) in rx.iter() {
        if let Err(e) = read_reply(&mut reader, &mut reply, cfg.timeout, target)
            .and_then(|()| check(&req, &reply, target))
        {
            failure = Some(e);
            break;
        }
        let now = Instant::now();
        fig.sent += req.len() as u64;
        fig.received += reply.len() as u64;
        // Requests sent in the measured window count, each timed from when
        // it should have gone: a client or server that falls behind the
        // schedule shows in every request it delays.
        if sent_at >= clock.measure {
            hist.saturating_record(nanos(now.saturating_duration_since(intended)).max(1));
            fig.ops += 1;
            fig.measured += 2 * req.len() as u64;
            meter.ops.fetch_add(1, Ordering::Relaxed);
            last = now;
        }
        if meter.stopped() {
            break;
        }
    }
    if let Some(e) = failure {
        // Unblock the sender if it waits on a full socket; its result no longer matters.
        let _ = reader.shutdown(std::net::Shutdown::Both);
        let _ = sender.join();
        return Err(e);
    }
    fig.issued = sender
        .join()
        .map_err(|_| anyhow!("connection {id}: the sender panicked"))??;
    fig.secs = last.duration_since(clock.measure).as_secs_f64();
    Ok((fig, hist))
}

/// Sleep until shortly before `t`, then spin: `sleep` alone overshoots by tens of µs.
pub(super) fn wait_until(t: Instant) {
    const SPIN: Duration = Duration::from_micros(200);
    let now = Instant::now();
    if t > now + SPIN {
        thread::sleep(t - now - SPIN);
    }
    while Instant::now() < t {
        std::hint::spin_loop();
    }
}

fn check(req: &[u8], reply: &[u8], target: &Target) -> Result<()> {
    if req != reply {
        return Err(anyhow!(
            "the reply from {} differs from the request: {NEEDS}",
            target.describe()
        ));
    }
    Ok(())
}

fn write_req(stream: &mut Stream, req: &[u8], target: &Target) -> Result<()> {
    stream.write_all(req).map_err(|e| {
        if matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            anyhow!("{} stopped reading requests: {NEEDS}", target.describe())
        } else {
            anyhow::Error::new(e).context(format!("cannot send to {}", target.describe()))
        }
    })
}

fn read_error(e: io::Error, timeout: Duration, target: &Target) -> anyhow::Error {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => no_reply(target, timeout, NEEDS),
        io::ErrorKind::UnexpectedEof => {
            anyhow!(
                "{} closed the connection mid-reply: {NEEDS}",
                target.describe()
            )
        }
        _ => anyhow::Error::new(e).context(format!("cannot read from {}", target.describe())),
    }
}

fn read_reply(
    stream: &mut Stream,
    buf: &mut [u8],
    timeout: Duration,
    target: &Target,
) -> Result<()> {
    loop {
        match stream.read_exact(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(e, timeout, target)),
            Ok(()) => return Ok(()),
        }
    }
}
