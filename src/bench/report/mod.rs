//! What a bench run found and how it is shown: the final table, the JSON
//! summary, the `--interval` rows (text or NDJSON, flushed as they go) and the
//! one factory for the progress bar, which is hidden when stderr is not a
//! terminal so pipes and tests see clean output.
//!
//! - `json`: the summary object; `table`: the human table; `live`: the
//!   progress bar and the `--interval` rows.

mod json;
mod live;
mod table;

pub use json::error_json;
pub use live::{BarState, IntervalRows, progress_bar, update_bar};

use std::io::Write;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::{BenchConfig, Direction, Kind, Output};
use crate::log::Summary;

/// One stream or connection of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamFigures {
    /// 0-based index.
    pub id: usize,
    /// Bytes written, warm-up included (what the server should count).
    pub sent: u64,
    /// Bytes read, warm-up included.
    pub received: u64,
    /// Bytes moved during the measured window (both ways for `--bidir`).
    pub measured: u64,
    /// Operations in the measured window (round trips, connections).
    pub ops: u64,
    /// Connections this worker opened, warm-up included (connect).
    pub opened: u64,
    /// Requests or datagrams sent in the measured window (`--rate`).
    pub issued: u64,
    /// Length of this stream's measured window in seconds.
    pub secs: f64,
}

impl StreamFigures {
    /// Bits per second over the measured window.
    pub fn bits_per_sec(&self) -> f64 {
        rate(self.measured as f64 * 8.0, self.secs)
    }
}

pub(crate) fn rate(amount: f64, secs: f64) -> f64 {
    if secs > 0.0 { amount / secs } else { 0.0 }
}

/// Latency percentiles in nanoseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Smallest.
    pub min: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest.
    pub max: u64,
}

impl Percentiles {
    /// Read the percentiles of a histogram of nanoseconds.
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        if h.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            count: h.len(),
            min: h.min(),
            mean: h.mean(),
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

/// UDP counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpFigures {
    /// Datagrams sent.
    pub sent: u64,
    /// Datagrams echoed back (duplicates not counted).
    pub received: u64,
    /// Datagrams that arrived after one with a higher sequence number.
    pub reordered: u64,
    /// Datagrams that came back twice or more.
    pub duplicates: u64,
}

impl UdpFigures {
    /// Datagrams that never came back.
    pub fn lost(&self) -> u64 {
        self.sent.saturating_sub(self.received)
    }

    /// Loss as a percentage of datagrams sent.
    pub fn loss_percent(&self) -> f64 {
        if self.sent == 0 {
            0.0
        } else {
            self.lost() as f64 * 100.0 / self.sent as f64
        }
    }
}

/// Everything a run found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The kind measured.
    pub kind: Kind,
    /// The server measured.
    pub target: String,
    /// True when the server ran in this process.
    pub in_process: bool,
    /// Throughput direction.
    pub direction: Direction,
    /// Block, message or datagram size.
    pub size: usize,
    /// The measured window, in seconds.
    pub secs: f64,
    /// Warm-up excluded from the figures.
    pub warmup: Duration,
    /// Per stream (throughput) or per connection (latency, connect).
    pub streams: Vec<StreamFigures>,
    /// Round-trip or connect-time percentiles.
    pub latency: Option<Percentiles>,
    /// UDP counts.
    pub udp: Option<UdpFigures>,
    /// The in-process server's own count, to compare with the client's.
    pub server: Option<Summary>,
    /// TCP connections the client opened in all (warm-up and the first
    /// check included): the in-process server is stopped only once it has
    /// accepted that many, so its count is complete.
    pub opened: u64,
    /// `--rate`: requests or datagrams per second asked for.
    pub rate_asked: Option<f64>,
    /// The measured window asked for (`-t`), in seconds; 0 with `-n`.
    pub window: f64,
    /// `--find-rate`: every trial, in order.
    pub trials: Vec<Trial>,
    /// `--find-rate`: the loss bound, in percent.
    pub max_loss: Option<f64>,
}

/// One trial of `bench udp --find-rate`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trial {
    /// The rate asked for; `None` is flat out.
    pub rate_asked: Option<f64>,
    /// Datagrams sent per second.
    pub rate_sent: f64,
    /// Datagrams echoed per second.
    pub echoed_per_s: f64,
    /// Datagrams lost, in percent.
    pub loss_percent: f64,
}

/// A rate counts as met when the run came within this fraction of it.
const RATE_MET: f64 = 0.97;

impl Report {
    /// A report with no figures yet.
    pub fn new(cfg: &BenchConfig, target: String) -> Report {
        Report {
            kind: cfg.kind,
            target,
            in_process: false,
            direction: cfg.direction,
            size: cfg.size,
            secs: 0.0,
            warmup: cfg.warmup,
            streams: Vec::new(),
            latency: None,
            udp: None,
            server: None,
            opened: match cfg.kind {
                Kind::Throughput => cfg.streams as u64,
                Kind::Latency => cfg.connections as u64,
                Kind::Connect | Kind::Udp => 0,
            },
            rate_asked: cfg.rate,
            window: match cfg.limit {
                super::Limit::Time(d) => d.as_secs_f64(),
                super::Limit::Bytes(_) => 0.0,
            },
            trials: Vec::new(),
            max_loss: None,
        }
    }

    /// With `--rate`: what the run sent per second in the window asked for
    /// (requests or datagrams): a sender that fell too far behind its
    /// schedule stopped early and did not keep the rate.
    pub fn rate_achieved(&self) -> Option<f64> {
        self.rate_asked?;
        let n: u64 = self.streams.iter().map(|s| s.issued).sum();
        Some(rate(n as f64, self.window))
    }

    /// With `--rate`: false when the machine or the server could not keep
    /// the rate (the run still stopped at `-t`; latencies are measured from
    /// the intended send times, so the backlog shows in them).
    pub fn rate_met(&self) -> Option<bool> {
        Some(self.rate_achieved()? >= RATE_MET * self.rate_asked?)
    }

    /// Bytes moved in the measured window, all streams.
    pub fn measured_bytes(&self) -> u64 {
        self.streams.iter().map(|s| s.measured).sum()
    }

    /// Operations in the measured window, all streams (UDP: datagrams echoed).
    pub fn ops(&self) -> u64 {
        match self.udp {
            Some(u) => u.received,
            None => self.streams.iter().map(|s| s.ops).sum(),
        }
    }

    /// Bits per second, all streams.
    pub fn bits_per_sec(&self) -> f64 {
        rate(self.measured_bytes() as f64 * 8.0, self.secs)
    }

    /// Operations per second.
    pub fn ops_per_sec(&self) -> f64 {
        rate(self.ops() as f64, self.secs)
    }

    pub(super) fn server_kind(&self) -> &'static str {
        match (self.kind, self.direction) {
            (Kind::Throughput, Direction::Send) | (Kind::Connect, _) => "discard",
            (Kind::Throughput, Direction::Receive) => "source",
            (Kind::Udp, _) => "udp echo",
            _ => "echo",
        }
    }
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Print the final result on stdout in the chosen format.
pub fn print(report: &Report, output: Output) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match output {
        Output::Text => stdout.write_all(report.table().as_bytes())?,
        Output::Json | Output::JsonStream => writeln!(stdout, "{}", report.json())?,
    }
    stdout.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_ordered() {
        let mut h = super::super::new_histogram();
        for v in 1..=10_000u64 {
            h.record(v * 1000).expect("in range");
        }
        let p = Percentiles::of(&h);
        assert!(p.min <= p.p50 && p.p50 <= p.p90 && p.p90 <= p.p99);
        assert!(p.p99 <= p.p999 && p.p999 <= p.max);
        assert_eq!(p.count, 10_000);
        assert!((p.p50 as f64 - 5_000_000.0).abs() < 10_000.0);
    }

    #[test]
    fn udp_loss() {
        let u = UdpFigures {
            sent: 200,
            received: 150,
            ..Default::default()
        };
        assert_eq!(u.lost(), 50);
        assert!((u.loss_percent() - 25.0).abs() < 1e-9);
        assert_eq!(UdpFigures::default().loss_percent(), 0.0);
    }
}
