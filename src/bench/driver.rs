//! What every kind shares while it runs: the counters workers bump, the time
//! plan (warm-up, measured window, end), the supervisor loop that drives the
//! progress bar and the `--interval` rows, and small helpers.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use hdrhistogram::Histogram;

use super::{BenchConfig, Limit, Target, report};

/// Spawn a named thread, with the error as context.
pub fn spawn_named<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<JoinHandle<T>> {
    thread::Builder::new()
        .name(name.to_string())
        .spawn(f)
        .with_context(|| format!("cannot start thread {name}"))
}

/// Counters the workers bump and the supervisor reads for the bar and rows.
#[derive(Debug, Default)]
pub struct Meter {
    /// Bytes written (measured phase only).
    pub sent: AtomicU64,
    /// Bytes read (measured phase only).
    pub received: AtomicU64,
    /// Completed operations: round trips, connections, echoed datagrams.
    pub ops: AtomicU64,
    /// Set when a worker fails, so the others stop early.
    pub stop: AtomicBool,
}

impl Meter {
    /// True when workers should stop now.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// The time plan shared by all workers of a run.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// When the workers started.
    pub start: Instant,
    /// When measuring starts (after the warm-up).
    pub measure: Instant,
    /// When workers stop; `None` in `-n` mode.
    pub end: Option<Instant>,
}

impl Clock {
    /// The plan for `cfg`, starting now.
    pub fn new(cfg: &BenchConfig) -> Clock {
        let start = Instant::now();
        let measure = start + cfg.warmup;
        let end = match cfg.limit {
            Limit::Time(d) => Some(measure + d),
            Limit::Bytes(_) => None,
        };
        Clock {
            start,
            measure,
            end,
        }
    }

    /// True once the run is over at `now`.
    pub fn over(&self, now: Instant) -> bool {
        self.end.is_some_and(|e| now >= e)
    }

    /// For a sender on a `--rate` schedule: true once it is too far behind
    /// to catch up, a tenth of the run (at most a second) past the end. A
    /// short stall still sends the whole schedule; a rate the machine
    /// cannot keep stops here, and the report says the rate was not met.
    pub fn late(&self, now: Instant) -> bool {
        self.end.is_some_and(|e| {
            let grace = ((e - self.measure) / 10).min(Duration::from_secs(1));
            now >= e + grace
        })
    }
}

/// Run `workers` to completion while updating the progress bar and printing
/// interval rows; returns each worker's result in order, or the first error.
pub fn supervise<T>(
    cfg: &BenchConfig,
    clock: &Clock,
    meter: &Meter,
    workers: Vec<JoinHandle<Result<T>>>,
) -> Result<Vec<T>> {
    let bar = report::progress_bar(cfg, clock);
    let mut rows = report::IntervalRows::new(cfg, clock.measure);
    let mut state = report::BarState::new();
    let tick = Duration::from_millis(25);
    loop {
        if workers.iter().all(|w| w.is_finished()) {
            break;
        }
        thread::sleep(tick);
        let now = Instant::now();
        report::update_bar(&bar, &mut state, cfg, clock, meter, now);
        rows.maybe_emit(&bar, meter, now);
    }
    bar.finish_and_clear();
    rows.finish(meter, Instant::now());
    let mut out = Vec::with_capacity(workers.len());
    let mut first_err = None;
    for w in workers {
        match w.join() {
            Ok(Ok(v)) => out.push(v),
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(_) => {
                first_err.get_or_insert(anyhow!("a bench worker panicked"));
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// A histogram of nanoseconds, 1ns to 100s, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000_000, 3).expect("constant histogram bounds are valid")
}

/// Nanoseconds in `d`, saturating.
pub fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// An error for a peer that stopped answering: exit code 5 (no reply).
pub fn no_reply(target: &Target, timeout: Duration, needs: &str) -> anyhow::Error {
    crate::error::Failure::NoReply(format!(
        "no reply from {} within {}: {needs}",
        target.describe(),
        crate::units::format_duration(timeout)
    ))
    .into()
}
