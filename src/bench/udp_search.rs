//! `bench udp --find-rate`: the highest rate the path echoes with less than
//! `--max-loss` percent lost. A first trial runs flat out; if it loses
//! too much, a bisection between nothing and the rate it reached narrows
//! the answer down to 5%, each trial a fresh run of `-t`. The report is
//! the best trial that kept under the bound, with every trial listed.

use std::io::Write;

use anyhow::Result;

use super::report::{Report, Trial};
use super::{BenchConfig, Output, Target, udp};
use crate::error::Failure;

/// Stop bisecting when the bracket is this narrow, relative to its top.
const PRECISION: f64 = 0.05;
/// At most this many trials after the first.
const MAX_STEPS: usize = 10;
/// Rates below this are not worth a trial.
const FLOOR: f64 = 100.0;

/// Search; `max_loss` is a percentage.
pub fn run(cfg: &BenchConfig, target: &Target, max_loss: f64) -> Result<Report> {
    let mut trials = Vec::new();
    let flat = trial(cfg, target, None, &mut trials)?;
    let mut best = None;
    let top = flat.udp.map_or(0.0, |u| u.sent as f64) / flat.secs.max(1e-9);
    if loss(&flat) < max_loss {
        best = Some(flat);
    } else {
        let (mut lo, mut hi) = (0.0f64, top);
        for _ in 0..MAX_STEPS {
            if hi - lo <= PRECISION * hi || hi < FLOOR {
                break;
            }
            let mid = (lo + hi) / 2.0;
            let r = trial(cfg, target, Some(mid), &mut trials)?;
            if loss(&r) < max_loss {
                lo = mid;
                best = Some(r);
            } else {
                hi = mid;
            }
        }
    }
    let Some(mut report) = best else {
        return Err(Failure::NoReply(format!(
            "no rate above {FLOOR}/s kept loss under {max_loss}% on {}",
            target.describe()
        ))
        .into());
    };
    report.trials = trials;
    report.max_loss = Some(max_loss);
    Ok(report)
}

fn loss(r: &Report) -> f64 {
    r.udp.map_or(100.0, |u| u.loss_percent())
}

/// One trial at `rate` (flat out when `None`), recorded and shown as a row.
fn trial(
    cfg: &BenchConfig,
    target: &Target,
    rate: Option<f64>,
    trials: &mut Vec<Trial>,
) -> Result<Report> {
    let one = BenchConfig {
        rate,
        find_rate: None,
        interval: None,
        // Trials print rows of their own, not interval rows.
        output: match cfg.output {
            Output::JsonStream => Output::Json,
            o => o,
        },
        ..cfg.clone()
    };
    let r = udp::run_once(&one, target)?;
    let t = Trial {
        rate_asked: rate,
        rate_sent: r.udp.map_or(0.0, |u| u.sent as f64) / r.secs.max(1e-9),
        echoed_per_s: r.ops_per_sec(),
        loss_percent: loss(&r),
    };
    let line = match cfg.output {
        Output::JsonStream => t.json().to_string(),
        Output::Json => String::new(),
        Output::Text => t.row(),
    };
    if !line.is_empty() {
        let mut out = std::io::stdout().lock();
        // A closed stdout ends the run through the final print.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    trials.push(t);
    Ok(r)
}
