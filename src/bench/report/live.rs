//! What is shown while a run goes: the progress bar (one factory, hidden
//! when stderr is not a terminal) and the `--interval` rows, text or NDJSON,
//! flushed as they go.

use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use super::rate;
use crate::bench::{BenchConfig, Clock, Kind, Limit, Meter, Output};
use crate::units::format_bytes;

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

/// The `--interval` rows: text on stdout, or, with `--json` or
/// `--json-stream`, NDJSON flushed line by line (stdout then holds nothing
/// but JSON objects, the summary last).
pub struct IntervalRows {
    every: Option<Duration>,
    kind: Kind,
    output: Output,
    origin: Instant,
    from: Instant,
    sent: u64,
    received: u64,
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
            sent: 0,
            received: 0,
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
            || meter.sent.load(Ordering::Relaxed) > self.sent
            || meter.received.load(Ordering::Relaxed) > self.received;
        if now > self.from && (pending || now - self.from >= every / 10) {
            self.emit(&ProgressBar::hidden(), meter, now);
        }
    }

    fn emit(&mut self, bar: &ProgressBar, meter: &Meter, to: Instant) {
        let sent = meter.sent.load(Ordering::Relaxed);
        let received = meter.received.load(Ordering::Relaxed);
        let ops = meter.ops.load(Ordering::Relaxed);
        let (d_out, d_in, dops) = (
            sent.saturating_sub(self.sent),
            received.saturating_sub(self.received),
            ops.saturating_sub(self.ops),
        );
        let db = d_out + d_in;
        let start = self.from.duration_since(self.origin).as_secs_f64();
        let end = to.duration_since(self.origin).as_secs_f64();
        let secs = end - start;
        self.from = to;
        (self.sent, self.received, self.ops) = (sent, received, ops);
        let line = match self.output {
            Output::JsonStream | Output::Json => json!({
                "event": "interval",
                "kind": self.kind.name(),
                "start_s": start,
                "end_s": end,
                "duration_s": secs,
                "bytes_out": d_out,
                "bytes_in": d_in,
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
