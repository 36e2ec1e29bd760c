//! What a bench run found and how it is shown: the final table, the JSON
//! summary, the `--interval` rows (text or NDJSON, flushed as they go) and the
//! one factory for the progress bar, which is hidden when stderr is not a
//! terminal so pipes and tests see clean output.

use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use super::{BenchConfig, Clock, Direction, Kind, Limit, Meter, Output};
use crate::log::Summary;
use crate::units::format_bytes;

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
    /// Length of this stream's measured window in seconds.
    pub secs: f64,
}

impl StreamFigures {
    /// Bits per second over the measured window.
    pub fn bits_per_sec(&self) -> f64 {
        rate(self.measured as f64 * 8.0, self.secs)
    }
}

fn rate(amount: f64, secs: f64) -> f64 {
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

    fn json(&self) -> Value {
        let us = |ns: u64| ns as f64 / 1000.0;
        json!({
            "count": self.count,
            "min": us(self.min),
            "mean": self.mean / 1000.0,
            "p50": us(self.p50),
            "p90": us(self.p90),
            "p99": us(self.p99),
            "p99_9": us(self.p999),
            "max": us(self.max),
        })
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
}

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
        }
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

    fn server_kind(&self) -> &'static str {
        match (self.kind, self.direction) {
            (Kind::Throughput, Direction::Send) | (Kind::Connect, _) => "discard",
            (Kind::Throughput, Direction::Receive) => "source",
            (Kind::Udp, _) => "udp echo",
            _ => "echo",
        }
    }

    /// The one-object JSON summary.
    pub fn json(&self) -> Value {
        let mut v = json!({
            "event": "summary",
            "kind": self.kind.name(),
            "target": self.target,
            "in_process": self.in_process,
            "size": self.size,
            "seconds": self.secs,
            "warmup_seconds": self.warmup.as_secs_f64(),
        });
        let obj = v.as_object_mut().expect("a json object");
        match self.kind {
            Kind::Throughput => {
                let dir = match self.direction {
                    Direction::Send => "send",
                    Direction::Receive => "receive",
                    Direction::Both => "bidir",
                };
                obj.insert("direction".into(), json!(dir));
                let streams: Vec<Value> = self
                    .streams
                    .iter()
                    .map(|s| {
                        json!({
                            "id": s.id,
                            "bytes": s.measured,
                            "bytes_sent": s.sent,
                            "bytes_received": s.received,
                            "seconds": s.secs,
                            "gbit_s": s.bits_per_sec() / 1e9,
                            "gib_s": s.bits_per_sec() / 8.0 / GIB,
                        })
                    })
                    .collect();
                obj.insert("streams".into(), Value::Array(streams));
                obj.insert(
                    "total".into(),
                    json!({
                        "bytes": self.measured_bytes(),
                        "bytes_sent": self.streams.iter().map(|s| s.sent).sum::<u64>(),
                        "bytes_received": self.streams.iter().map(|s| s.received).sum::<u64>(),
                        "gbit_s": self.bits_per_sec() / 1e9,
                        "gib_s": self.bits_per_sec() / 8.0 / GIB,
                    }),
                );
            }
            Kind::Latency | Kind::Connect => {
                let (what, per) = if self.kind == Kind::Latency {
                    ("requests", "requests_per_s")
                } else {
                    ("connections_made", "connections_per_s")
                };
                obj.insert("connections".into(), json!(self.streams.len()));
                obj.insert(what.into(), json!(self.ops()));
                obj.insert(per.into(), json!(self.ops_per_sec()));
            }
            Kind::Udp => {
                if let Some(u) = self.udp {
                    obj.insert("packets_sent".into(), json!(u.sent));
                    obj.insert("packets_received".into(), json!(u.received));
                    obj.insert("lost".into(), json!(u.lost()));
                    obj.insert("loss_percent".into(), json!(u.loss_percent()));
                    obj.insert("reordered".into(), json!(u.reordered));
                    obj.insert("duplicates".into(), json!(u.duplicates));
                    obj.insert("packets_per_s".into(), json!(self.ops_per_sec()));
                    obj.insert(
                        "gbit_s".into(),
                        json!(rate(u.received as f64 * self.size as f64 * 8.0, self.secs) / 1e9),
                    );
                }
            }
        }
        if let Some(p) = self.latency {
            let key = if self.kind == Kind::Connect {
                "connect_time_us"
            } else {
                "rtt_us"
            };
            obj.insert(key.into(), p.json());
        }
        if let Some(s) = &self.server {
            obj.insert(
                "server".into(),
                json!({"connections": s.connections, "bytes_in": s.bytes_in, "bytes_out": s.bytes_out}),
            );
        }
        v
    }

    /// The human table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let server = if self.in_process {
            format!(" (in-process {} server)", self.server_kind())
        } else {
            String::new()
        };
        let warm = if self.warmup.is_zero() {
            String::new()
        } else {
            format!(" after {:.1}s warm-up", self.warmup.as_secs_f64())
        };
        let size = match self.kind {
            Kind::Throughput => format!(", {} blocks", format_bytes(self.size as u64)),
            Kind::Udp => format!(", {}-byte datagrams", self.size),
            Kind::Latency => format!(", {}-byte messages", self.size),
            Kind::Connect => String::new(),
        };
        out.push_str(&format!(
            "netkit bench {}: {}{server}, {:.2}s{warm}{size}\n",
            self.kind.name(),
            self.target,
            self.secs,
        ));
        match self.kind {
            Kind::Throughput => self.throughput_table(&mut out),
            Kind::Latency | Kind::Connect => self.ops_table(&mut out),
            Kind::Udp => self.udp_table(&mut out),
        }
        if let Some(p) = self.latency {
            let what = if self.kind == Kind::Connect {
                "connect time"
            } else {
                "round trip"
            };
            let us = |ns: u64| format!("{:.1}", ns as f64 / 1000.0);
            out.push_str(&format!(
                "{what} (µs): p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  (min {}, mean {:.1}, {} samples)\n",
                us(p.p50),
                us(p.p90),
                us(p.p99),
                us(p.p999),
                us(p.max),
                us(p.min),
                p.mean / 1000.0,
                p.count
            ));
        }
        if let Some(s) = &self.server {
            out.push_str(&format!(
                "server counted: {} in ({} bytes), {} out ({} bytes), {} {}\n",
                format_bytes(s.bytes_in),
                s.bytes_in,
                format_bytes(s.bytes_out),
                s.bytes_out,
                s.connections,
                if self.kind == Kind::Udp {
                    "datagrams"
                } else {
                    "connections"
                }
            ));
        }
        out
    }

    fn throughput_table(&self, out: &mut String) {
        out.push_str(&format!(
            "{:>6}  {:>12}  {:>10}  {:>8}  {:>16}  {:>16}\n",
            "stream", "bytes", "Gbit/s", "GiB/s", "sent", "received"
        ));
        let row = |out: &mut String, name: String, m: u64, bps: f64, sent: u64, recv: u64| {
            out.push_str(&format!(
                "{name:>6}  {:>12}  {:>10.2}  {:>8.2}  {sent:>16}  {recv:>16}\n",
                format_bytes(m),
                bps / 1e9,
                bps / 8.0 / GIB,
            ));
        };
        if self.streams.len() > 1 {
            for s in &self.streams {
                row(
                    out,
                    s.id.to_string(),
                    s.measured,
                    s.bits_per_sec(),
                    s.sent,
                    s.received,
                );
            }
        }
        row(
            out,
            "total".into(),
            self.measured_bytes(),
            self.bits_per_sec(),
            self.streams.iter().map(|s| s.sent).sum(),
            self.streams.iter().map(|s| s.received).sum(),
        );
    }

    fn ops_table(&self, out: &mut String) {
        let what = if self.kind == Kind::Latency {
            "requests"
        } else {
            "connections"
        };
        out.push_str(&format!(
            "{:>6}  {:>12}  {:>12}\n",
            "conn", what, "per second"
        ));
        if self.streams.len() > 1 && self.streams.len() <= 16 {
            for s in &self.streams {
                out.push_str(&format!(
                    "{:>6}  {:>12}  {:>12.0}\n",
                    s.id,
                    s.ops,
                    rate(s.ops as f64, s.secs)
                ));
            }
        }
        out.push_str(&format!(
            "{:>6}  {:>12}  {:>12.0}\n",
            "total",
            self.ops(),
            self.ops_per_sec()
        ));
    }

    fn udp_table(&self, out: &mut String) {
        let Some(u) = self.udp else { return };
        out.push_str(&format!(
            "{:>10}  {:>10}  {:>10}  {:>8}  {:>10}  {:>12}  {:>8}\n",
            "sent", "received", "lost", "loss %", "reordered", "packets/s", "Gbit/s"
        ));
        out.push_str(&format!(
            "{:>10}  {:>10}  {:>10}  {:>8.3}  {:>10}  {:>12.0}  {:>8.3}\n",
            u.sent,
            u.received,
            u.lost(),
            u.loss_percent(),
            u.reordered,
            self.ops_per_sec(),
            rate(u.received as f64 * self.size as f64 * 8.0, self.secs) / 1e9
        ));
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

/// The progress bar of a run: hidden when `-q`, `--json*` or stderr is not a terminal.
pub fn progress_bar(cfg: &BenchConfig, clock: &Clock) -> ProgressBar {
    if cfg.quiet || cfg.output != Output::Text || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (len, template) = match (cfg.limit, clock.end) {
        (Limit::Time(_), Some(end)) => (
            (end - clock.start).as_millis() as u64,
            "{spinner} {elapsed:>4}/{msg} [{bar:30}]",
        ),
        _ => match cfg.limit {
            Limit::Bytes(n) => (
                n,
                "{spinner} {elapsed:>4} {bytes}/{total_bytes} [{bar:30}] {msg}",
            ),
            Limit::Time(_) => (0, "{spinner} {elapsed:>4} {msg}"),
        },
    };
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// The live figure shown on the bar: the rate over the last tick.
pub struct BarState {
    last: Instant,
    bytes: u64,
    ops: u64,
}

impl BarState {
    /// Start sampling now.
    pub fn new() -> BarState {
        BarState {
            last: Instant::now(),
            bytes: 0,
            ops: 0,
        }
    }
}

impl Default for BarState {
    fn default() -> Self {
        Self::new()
    }
}

/// Move the bar and show the current rate.
pub fn update_bar(
    bar: &ProgressBar,
    state: &mut BarState,
    cfg: &BenchConfig,
    clock: &Clock,
    meter: &Meter,
    now: Instant,
) {
    if bar.is_hidden() {
        return;
    }
    let bytes = meter.sent.load(Ordering::Relaxed) + meter.received.load(Ordering::Relaxed);
    let ops = meter.ops.load(Ordering::Relaxed);
    let dt = now.duration_since(state.last).as_secs_f64();
    if dt < 0.25 {
        // Move the bar every tick, but average the rate over a quarter second.
        match cfg.limit {
            Limit::Bytes(_) => bar.set_position(bytes),
            Limit::Time(_) => {
                bar.set_position(now.saturating_duration_since(clock.start).as_millis() as u64)
            }
        }
        return;
    }
    let figure = if cfg.kind == Kind::Throughput {
        format!(
            "{:.2} Gbit/s",
            rate((bytes - state.bytes.min(bytes)) as f64 * 8.0, dt) / 1e9
        )
    } else {
        format!(
            "{:.0} {}/s",
            rate((ops - state.ops.min(ops)) as f64, dt),
            ops_name(cfg.kind)
        )
    };
    state.last = now;
    state.bytes = bytes;
    state.ops = ops;
    let phase = if now < clock.measure {
        " (warm-up)"
    } else {
        ""
    };
    match (cfg.limit, clock.end) {
        (Limit::Bytes(_), _) => {
            bar.set_position(bytes);
            bar.set_message(format!("{figure}{phase}"));
        }
        (_, Some(end)) => {
            bar.set_position(now.saturating_duration_since(clock.start).as_millis() as u64);
            bar.set_message(format!(
                "{}s {figure}{phase}",
                (end - clock.start).as_secs()
            ));
        }
        _ => bar.set_message(figure),
    }
}

fn ops_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Latency => "req",
        Kind::Connect => "conn",
        Kind::Udp => "pkt",
        Kind::Throughput => "ops",
    }
}

/// The `--interval` rows: text on stdout, or NDJSON flushed line by line.
pub struct IntervalRows {
    every: Option<Duration>,
    kind: Kind,
    output: Output,
    origin: Instant,
    from: Instant,
    bytes: u64,
    ops: u64,
}

impl IntervalRows {
    /// Rows for `cfg`, counted from `origin` (the end of the warm-up).
    pub fn new(cfg: &BenchConfig, origin: Instant) -> IntervalRows {
        let every = match (cfg.interval, cfg.output) {
            (Some(i), _) => Some(i),
            (None, Output::JsonStream) => Some(Duration::from_secs(1)),
            (None, _) => None,
        };
        IntervalRows {
            every,
            kind: cfg.kind,
            output: cfg.output,
            origin,
            from: origin,
            bytes: 0,
            ops: 0,
        }
    }

    /// Emit a row if an interval ended at or before `now`.
    pub fn maybe_emit(&mut self, bar: &ProgressBar, meter: &Meter, now: Instant) {
        let Some(every) = self.every else { return };
        if now < self.origin {
            return;
        }
        while now >= self.from + every {
            let to = self.from + every;
            self.emit(bar, meter, to);
        }
    }

    /// Emit the last, partial row if it covers a tenth of an interval or
    /// counted anything, so the rows add up to the summary.
    pub fn finish(&mut self, meter: &Meter, now: Instant) {
        let Some(every) = self.every else { return };
        let pending = meter.ops.load(Ordering::Relaxed) > self.ops
            || meter.sent.load(Ordering::Relaxed) + meter.received.load(Ordering::Relaxed)
                > self.bytes;
        if now > self.from && (pending || now - self.from >= every / 10) {
            self.emit(&ProgressBar::hidden(), meter, now);
        }
    }

    fn emit(&mut self, bar: &ProgressBar, meter: &Meter, to: Instant) {
        let bytes = meter.sent.load(Ordering::Relaxed) + meter.received.load(Ordering::Relaxed);
        let ops = meter.ops.load(Ordering::Relaxed);
        let (db, dops) = (
            bytes.saturating_sub(self.bytes),
            ops.saturating_sub(self.ops),
        );
        let start = self.from.duration_since(self.origin).as_secs_f64();
        let end = to.duration_since(self.origin).as_secs_f64();
        let secs = end - start;
        self.from = to;
        self.bytes = bytes;
        self.ops = ops;
        let line = match self.output {
            Output::JsonStream => json!({
                "event": "interval",
                "kind": self.kind.name(),
                "start_s": start,
                "end_s": end,
                "bytes": db,
                "gbit_s": rate(db as f64 * 8.0, secs) / 1e9,
                "ops": dops,
                "ops_per_s": rate(dops as f64, secs),
            })
            .to_string(),
            _ if self.kind == Kind::Throughput => format!(
                "[{start:6.2}-{end:6.2} s]  {:>12}  {:>8.2} Gbit/s",
                format_bytes(db),
                rate(db as f64 * 8.0, secs) / 1e9
            ),
            _ => format!(
                "[{start:6.2}-{end:6.2} s]  {dops:>10} {}  {:>10.0}/s",
                ops_name(self.kind),
                rate(dops as f64, secs)
            ),
        };
        bar.suspend(|| {
            let mut out = std::io::stdout().lock();
            // A closed stdout ends the run through the final print.
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        });
    }
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
