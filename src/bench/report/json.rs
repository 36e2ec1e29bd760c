//! The one-object JSON summary of a run.

use serde_json::{Value, json};

use super::{GIB, Percentiles, Report, Trial, rate};
use crate::bench::{Direction, Kind};

impl Percentiles {
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

impl Trial {
    /// One trial as a JSON object (`--json-stream` prints it as it ends).
    pub fn json(&self) -> Value {
        json!({
            "event": "trial",
            "rate_asked": self.rate_asked,
            "rate_sent": self.rate_sent,
            "datagrams_per_s": self.echoed_per_s,
            "loss_percent": self.loss_percent,
        })
    }
}

impl Report {
    /// The one-object JSON summary. Names and units are netkit's one schema:
    /// `peer`, `bytes_in`/`bytes_out` (warm-up included, as the server
    /// counts them), `duration_s` (the measured window), `error` on failure.
    pub fn json(&self) -> Value {
        let sum = |f: fn(&super::StreamFigures) -> u64| self.streams.iter().map(f).sum::<u64>();
        let mut v = json!({
            "event": "summary",
            "kind": self.kind.name(),
            "peer": self.target,
            "in_process": self.in_process,
            "size": self.size,
            "duration_s": self.secs,
            "warmup_s": self.warmup.as_secs_f64(),
            "bytes_out": sum(|s| s.sent),
            "bytes_in": sum(|s| s.received),
        });
        let obj = v.as_object_mut().expect("a json object");
        if let (Some(asked), Some(got), Some(met)) =
            (self.rate_asked, self.rate_achieved(), self.rate_met())
        {
            obj.insert("rate_asked".into(), json!(asked));
            obj.insert("rate_achieved".into(), json!(got));
            obj.insert("rate_met".into(), json!(met));
        }
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
                            "bytes_measured": s.measured,
                            "bytes_out": s.sent,
                            "bytes_in": s.received,
                            "duration_s": s.secs,
                            "gbit_s": s.bits_per_sec() / 1e9,
                            "gib_s": s.bits_per_sec() / 8.0 / GIB,
                        })
                    })
                    .collect();
                obj.insert("streams".into(), Value::Array(streams));
                obj.insert(
                    "total".into(),
                    json!({
                        "bytes_measured": self.measured_bytes(),
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
                    obj.insert("datagrams_out".into(), json!(u.sent));
                    obj.insert("datagrams_in".into(), json!(u.received));
                    obj.insert("lost".into(), json!(u.lost()));
                    obj.insert("loss_percent".into(), json!(u.loss_percent()));
                    obj.insert("reordered".into(), json!(u.reordered));
                    obj.insert("duplicates".into(), json!(u.duplicates));
                    obj.insert("datagrams_per_s".into(), json!(self.ops_per_sec()));
                    obj.insert(
                        "gbit_s".into(),
                        json!(rate(u.received as f64 * self.size as f64 * 8.0, self.secs) / 1e9),
                    );
                }
            }
        }
        if let Some(max) = self.max_loss {
            obj.insert("max_loss_percent".into(), json!(max));
            obj.insert(
                "trials".into(),
                Value::Array(self.trials.iter().map(Trial::json).collect()),
            );
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
}

/// The summary of a run that failed: what was asked and the error, so a
/// `--json` consumer always reads one object.
pub fn error_json(cfg: &crate::bench::BenchConfig, err: &anyhow::Error) -> Value {
    let peer = cfg
        .target
        .as_ref()
        .map(|(h, p)| crate::net::host_port(h, *p));
    json!({
        "event": "summary",
        "kind": cfg.kind.name(),
        "peer": peer,
        "in_process": cfg.target.is_none(),
        "error": format!("{err:#}"),
        "hint": crate::error::hint(err),
        "exit_code": crate::error::exit_code(err),
    })
}
