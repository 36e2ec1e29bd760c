//! The one-object JSON summary of a run.

use serde_json::{Value, json};

use super::{GIB, Percentiles, Report, rate};
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

impl Report {
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
}
