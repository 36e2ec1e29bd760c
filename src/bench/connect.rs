//! Connection rate: `-c` threads each open a TCP connection, time the
//! handshake, and close it with a reset (SO_LINGER 0) so the client side
//! leaves no TIME_WAIT behind and a long run does not run out of ports.
//!
//! Against the in-process server the client stays at most `AHEAD`
//! connections ahead of what the server has accepted: a full backlog makes
//! the kernel drop handshakes the client already counts as made (measured:
//! a loaded machine let 2,700 pile up in 1.5 s), so the rate would count
//! connections no server ever saw.
//!
//! With `--tls` the time includes the TLS handshake (a full one each time:
//! no session resumption), so the rate is handshakes per second; with
//! `--unix`, Unix socket connections.

use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use hdrhistogram::Histogram;

use super::report::{Report, StreamFigures};
use super::{BenchConfig, Clock, Meter, Target, nanos, new_histogram, spawn_named, supervise};
use crate::serve::tcp::Counters;

/// Most connections opened and not yet accepted by the in-process server.
const AHEAD: u64 = 512;

/// Connections opened by all workers, and what the in-process server accepted.
struct Pace {
    opened: AtomicU64,
    accepted: Option<Arc<Counters>>,
}

impl Pace {
    /// Wait until the server is less than `AHEAD` behind (or the run ends).
    fn wait(&self, clock: &Clock, meter: &Meter) {
        let Some(c) = &self.accepted else { return };
        while self.opened.load(Ordering::Relaxed) >= c.connections.load(Ordering::Relaxed) + AHEAD
            && !clock.over(Instant::now())
            && !meter.stopped()
        {
            std::thread::sleep(Duration::from_micros(100));
        }
    }
}

/// Run a connection-rate bench against `target`; `accepted` is the
/// in-process server's count, if the server is ours.
pub fn run(cfg: &BenchConfig, target: &Target, accepted: Option<Arc<Counters>>) -> Result<Report> {
    // One connection first, so a refused or silent target fails with its own exit code.
    drop(target.connect(cfg)?);
    let pace = Arc::new(Pace {
        opened: AtomicU64::new(1),
        accepted,
    });
    let meter = Arc::new(Meter::default());
    let clock = Clock::new(cfg);
    let mut workers = Vec::with_capacity(cfg.connections);
    for id in 0..cfg.connections {
        let (meter, cfg2, target2, pace) =
            (meter.clone(), cfg.clone(), target.clone(), pace.clone());
        workers.push(spawn_named(&format!("connect-{id}"), move || {
            let r = connect_loop(id, &cfg2, &clock, &meter, &target2, &pace);
            if r.is_err() {
                meter.stop.store(true, Ordering::Relaxed);
            }
            r
        })?);
    }
    let results = supervise(cfg, &clock, &meter, workers)?;
    // The first check above, then every connection of every worker.
    let opened = 1 + results.iter().map(|(f, _)| f.opened).sum::<u64>();
    let mut report = super::latency::report(cfg, target, results)?;
    report.opened = opened;
    Ok(report)
}

fn connect_loop(
    id: usize,
    cfg: &BenchConfig,
    clock: &Clock,
    meter: &Meter,
    target: &Target,
    pace: &Pace,
) -> Result<(StreamFigures, Histogram<u64>)> {
    let addr = target.first_addr();
    let plain_tcp = cfg.tls_client.is_none() && addr.is_some();
    let mut hist = new_histogram();
    let mut fig = StreamFigures {
        id,
        ..Default::default()
    };
    let mut last = clock.measure;
    loop {
        pace.wait(clock, meter);
        let t0 = Instant::now();
        if clock.over(t0) || meter.stopped() {
            break;
        }
        pace.opened.fetch_add(1, Ordering::Relaxed);
        let t1 = if plain_tcp && let Some(addr) = addr {
            let stream = TcpStream::connect_timeout(&addr, cfg.timeout).map_err(|e| {
                let hint = if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) {
                    " (out of local ports; try fewer -c or a shorter -t)"
                } else {
                    ""
                };
                anyhow::Error::new(e).context(format!(
                    "cannot connect to {} after {} connections{hint}",
                    target.describe(),
                    fig.ops
                ))
            })?;
            let t1 = Instant::now();
            let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            t1
        } else {
            let stream = target
                .connect(cfg)
                .map_err(|e| e.context(format!("after {} connections", fig.ops)))?;
            let t1 = Instant::now();
            if let Some(t) = stream.socket().tcp() {
                let _ = socket2::SockRef::from(t).set_linger(Some(Duration::ZERO));
            }
            t1
        };
        fig.opened += 1;
        if t0 >= clock.measure {
            hist.saturating_record(nanos(t1 - t0).max(1));
            fig.ops += 1;
            meter.ops.fetch_add(1, Ordering::Relaxed);
            last = t1;
        }
    }
    fig.secs = last.duration_since(clock.measure).as_secs_f64();
    Ok((fig, hist))
}
