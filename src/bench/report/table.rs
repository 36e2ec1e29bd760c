//! The human table of a run.

use super::{GIB, Report, Trial, rate};
use crate::bench::Kind;
use crate::units::format_bytes;

impl Report {
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
        if let Some(max) = self.max_loss {
            out.push_str(&format!(
                "highest rate under {max}% loss: {:.0} datagrams/s sent, {:.0} echoed/s ({} trials)\n",
                self.trials
                    .iter()
                    .filter(|t| t.loss_percent < max)
                    .map(|t| t.rate_sent)
                    .fold(0.0, f64::max),
                self.ops_per_sec(),
                self.trials.len(),
            ));
        }
        if let (Some(asked), Some(got), Some(false)) =
            (self.rate_asked, self.rate_achieved(), self.rate_met())
        {
            let what = if self.kind == Kind::Udp {
                "sent"
            } else {
                "answered"
            };
            out.push_str(&format!(
                "rate not met: {what} {got:.0}/s of the {asked:.0}/s asked (the client, the server or \
                 the machine cannot go faster; latencies count from the intended send times)\n"
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

impl Trial {
    /// One trial as a text row (printed as it ends).
    pub fn row(&self) -> String {
        let asked = match self.rate_asked {
            Some(r) => format!("{r:.0}/s asked"),
            None => "flat out".into(),
        };
        format!(
            "trial: {asked:>14}  sent {:>10.0}/s  echoed {:>10.0}/s  loss {:>7.3}%",
            self.rate_sent, self.echoed_per_s, self.loss_percent
        )
    }
}
