//! Diagnostics on stderr: the listening line, per-connection records (`-v`),
//! warnings and the closing summary, as text or one JSON object per line.
//! Data never goes through here: stdout belongs to the data.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};

use crate::transport::Peer;
use crate::units::{format_bytes, format_duration};

/// How much a server or client says on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Level {
    /// Errors only (`-q`).
    Quiet,
    /// The listening line, warnings and the summary.
    #[default]
    Normal,
    /// Also one record per connection (`-v`).
    Verbose,
}

/// Where and how diagnostics are written.
#[derive(Debug, Clone, Copy, Default)]
pub struct Log {
    /// How much to say.
    pub level: Level,
    /// One JSON object per line instead of text.
    pub json: bool,
}

/// What a connection did, for its `-v` record.
#[derive(Debug, Clone)]
pub struct ConnRecord {
    /// The client.
    pub peer: Peer,
    /// Bytes read from the client.
    pub bytes_in: u64,
    /// Bytes written to the client.
    pub bytes_out: u64,
    /// How long it lasted.
    pub duration: Duration,
    /// How it ended: `closed by peer`, `idle timeout`, an error...
    pub end: String,
}

/// What the listening line says.
#[derive(Debug, Clone)]
pub struct Listening<'a> {
    /// `127.0.0.1:7878`, `/run/x.sock`, `@name`.
    pub addr: String,
    /// `tcp`, `udp`, `tls`, `unix`, `unixgram`, `unix+tls`.
    pub proto: &'a str,
    /// The mode.
    pub mode: &'a str,
    /// The certificate's SHA-256, for TLS.
    pub tls_sha256: Option<&'a str>,
    /// A note after the parenthesis (loopback only...).
    pub note: Option<&'a str>,
}

/// Totals a server prints when it stops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Connections served (UDP: datagrams received).
    pub connections: u64,
    /// Connections turned away (`--max-conns`, `--deny`).
    pub rejected: u64,
    /// Bytes received from clients.
    pub bytes_in: u64,
    /// Bytes sent to clients.
    pub bytes_out: u64,
}

/// Seconds, to the millisecond: the unit of every `duration_s`.
pub fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

fn emit(line: &str) {
    let mut err = std::io::stderr().lock();
    // stderr going away is not worth failing a server for.
    let _ = writeln!(err, "{line}");
}

impl Log {
    /// The first line of every server: `listening on <addr> (<proto> <mode>)`.
    pub fn listening(&self, addr: SocketAddr, proto: &str, mode: &str, note: Option<&str>) {
        self.announce(&Listening {
            addr: addr.to_string(),
            proto,
            mode,
            tls_sha256: None,
            note,
        });
    }

    /// The listening line for any transport: a TLS server adds the SHA-256
    /// of its certificate (`(tls echo, sha256 AB:CD:...)`), which a client
    /// passes to `--tls-pin`.
    pub fn announce(&self, l: &Listening<'_>) {
        if self.level == Level::Quiet {
            return;
        }
        if self.json {
            let mut v = json!({"event": "listening", "addr": l.addr, "proto": l.proto, "mode": l.mode, "note": l.note});
            if let Some(fp) = l.tls_sha256 {
                v["tls_sha256"] = json!(fp);
            }
            emit(&v.to_string());
        } else {
            let tls = l
                .tls_sha256
                .map(|fp| format!(", sha256 {fp}"))
                .unwrap_or_default();
            match l.note {
                Some(n) => emit(&format!(
                    "listening on {} ({} {}{tls}); {n}",
                    l.addr, l.proto, l.mode
                )),
                None => emit(&format!(
                    "listening on {} ({} {}{tls})",
                    l.addr, l.proto, l.mode
                )),
            }
        }
    }

    /// An informational line, shown unless `-q`.
    pub fn info(&self, msg: &str) {
        if self.level >= Level::Normal {
            self.line("info", msg);
        }
    }

    /// A line shown only with `-v`.
    pub fn verbose(&self, msg: &str) {
        if self.level >= Level::Verbose {
            self.line("info", msg);
        }
    }

    /// Something that happened, shown at `at` and above: with `--json` one
    /// object, `{"event": name, ...fields}` (the fields carry what the text
    /// says: `peer`, `reason`, `error`...), else the `text` line.
    pub fn event(&self, at: Level, name: &str, fields: Value, text: impl FnOnce() -> String) {
        if self.level < at {
            return;
        }
        if self.json {
            let mut v = json!({ "event": name });
            if let (Some(obj), Value::Object(extra)) = (v.as_object_mut(), fields) {
                obj.extend(extra);
            }
            emit(&v.to_string());
        } else {
            emit(&format!("netkit: {}", text()));
        }
    }

    /// A problem worth reporting even with `-q`.
    pub fn warn(&self, msg: &str) {
        self.line("warning", msg);
    }

    fn line(&self, event: &str, msg: &str) {
        if self.json {
            emit(&json!({"event": event, "message": msg}).to_string());
        } else {
            emit(&format!("netkit: {msg}"));
        }
    }

    /// One connection's record, with `-v`.
    pub fn connection(&self, rec: &ConnRecord) {
        if self.level < Level::Verbose {
            return;
        }
        if self.json {
            emit(
                &json!({
                    "event": "connection",
                    "peer": rec.peer.to_string(),
                    "bytes_in": rec.bytes_in,
                    "bytes_out": rec.bytes_out,
                    "duration_s": secs(rec.duration),
                    "end": rec.end,
                })
                .to_string(),
            );
        } else {
            emit(&format!(
                "{}: in {} ({} bytes), out {} ({} bytes), {}, {}",
                rec.peer,
                format_bytes(rec.bytes_in),
                rec.bytes_in,
                format_bytes(rec.bytes_out),
                rec.bytes_out,
                format_duration(rec.duration),
                rec.end
            ));
        }
    }

    /// The closing summary of a server.
    pub fn summary(&self, s: &Summary, elapsed: Duration, what: &str) {
        if self.level == Level::Quiet {
            return;
        }
        if self.json {
            emit(
                &json!({
                    "event": "summary",
                    what: s.connections,
                    "rejected": s.rejected,
                    "bytes_in": s.bytes_in,
                    "bytes_out": s.bytes_out,
                    "duration_s": secs(elapsed),
                })
                .to_string(),
            );
        } else {
            let rejected = if s.rejected > 0 {
                format!(" ({} rejected)", s.rejected)
            } else {
                String::new()
            };
            let what = if s.connections == 1 {
                what.trim_end_matches('s')
            } else {
                what
            };
            emit(&format!(
                "netkit: served {} {what}{rejected}, {} in, {} out, in {}",
                s.connections,
                format_bytes(s.bytes_in),
                format_bytes(s.bytes_out),
                format_duration(elapsed)
            ));
        }
    }
}
