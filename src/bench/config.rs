//! What a bench run is asked to do: the kind, the limits, the sizes and the
//! output format, as a plain config built from the flags, and the checks that
//! refuse combinations that make no sense.

use std::time::Duration;

use anyhow::Result;

use super::udp;
use crate::error::usage;
use crate::transport::tlsconfig::{TlsClient, TlsClientOptions};
use crate::transport::unix::UnixAddr;

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bytes per second over TCP.
    Throughput,
    /// Request/response round trips over TCP.
    Latency,
    /// TCP connections opened and closed per second.
    Connect,
    /// Datagrams to a UDP echo server.
    Udp,
}

impl Kind {
    /// Parse a kind name as typed on the command line.
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "throughput" | "tput" => Some(Kind::Throughput),
            "latency" | "lat" => Some(Kind::Latency),
            "connect" | "conn" => Some(Kind::Connect),
            "udp" => Some(Kind::Udp),
            _ => None,
        }
    }

    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Throughput => "throughput",
            Kind::Latency => "latency",
            Kind::Connect => "connect",
            Kind::Udp => "udp",
        }
    }
}

/// Which way the bytes of a throughput run go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client to a discard server.
    Send,
    /// A source server to the client (`--reverse`).
    Receive,
    /// Both ways through an echo server (`--bidir`).
    Both,
}

/// When a run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// After this long (plus the warm-up).
    Time(Duration),
    /// After this many bytes in all (throughput only).
    Bytes(u64),
}

/// A plain description of one bench run, built by `main` from the flags.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// What to measure.
    pub kind: Kind,
    /// The server to measure; `None` starts one in-process.
    pub target: Option<(String, u16)>,
    /// Throughput direction.
    pub direction: Direction,
    /// When to stop.
    pub limit: Limit,
    /// Block, message or datagram size in bytes (at least 1).
    pub size: usize,
    /// Throughput streams (`-P`).
    pub streams: usize,
    /// Latency and connect connections (`-c`).
    pub connections: usize,
    /// Time run before measuring starts.
    pub warmup: Duration,
    /// Requests or datagrams per second in all; `None` is flat out.
    pub rate: Option<f64>,
    /// Period of the interval rows.
    pub interval: Option<Duration>,
    /// Connect timeout and reply timeout.
    pub timeout: Duration,
    /// No progress bar.
    pub quiet: bool,
    /// How the results are printed.
    pub output: Output,
    /// `--tls`: TLS on every connection (the in-process server gets a fresh
    /// certificate, trusted by its pin).
    pub tls: Option<TlsClientOptions>,
    /// `--unix`: a Unix stream socket; with a target, its path.
    pub unix: Option<UnixAddr>,
    /// The client TLS configuration `run` builds from `tls`.
    pub tls_client: Option<TlsClient>,
    /// udp: search the highest rate with less than this loss, in percent.
    pub find_rate: Option<f64>,
    /// udp: send runs of datagrams with GSO and receive with GRO.
    pub gso: bool,
}

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Text rows and a table.
    Text,
    /// One JSON summary object.
    Json,
    /// One JSON object per interval, then the summary.
    JsonStream,
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig {
            kind: Kind::Throughput,
            target: None,
            direction: Direction::Send,
            limit: Limit::Time(Duration::from_secs(10)),
            size: DEFAULT_BLOCK,
            streams: 1,
            connections: 1,
            warmup: Duration::ZERO,
            rate: None,
            interval: None,
            timeout: Duration::from_secs(5),
            quiet: true,
            output: Output::Text,
            tls: None,
            unix: None,
            tls_client: None,
            find_rate: None,
            gso: true,
        }
    }
}

/// Default throughput block. Measured on loopback (2 cores, in-process
/// discard server): 128KiB 20, 256KiB 25, 512KiB 31, 1MiB 50, 2MiB 40 Gbit/s.
pub const DEFAULT_BLOCK: usize = 1 << 20;
/// Default latency message size.
pub const DEFAULT_MESSAGE: usize = 64;
/// Default UDP datagram size: one loopback-friendly, Ethernet-sized payload.
pub const DEFAULT_DATAGRAM: usize = 1400;
/// The largest UDP payload over IPv4.
pub const MAX_DATAGRAM: usize = 65507;
/// Largest latency message; a message is held twice per connection.
pub const MAX_MESSAGE: usize = 16 << 20;
/// Largest throughput block.
pub const MAX_BLOCK: usize = 64 << 20;

/// Parse `--rate`: a positive number, optionally with `k` or `M` (thousands, millions).
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, scale) = match t.strip_suffix(['k', 'K']) {
        Some(n) => (n, 1e3),
        None => match t.strip_suffix('M') {
            Some(n) => (n, 1e6),
            None => (t, 1.0),
        },
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a rate (try 1000, 50k, 1M)"))?;
    let v = v * scale;
    if !v.is_finite() || v <= 0.0 || v > 1e9 {
        return Err(format!(
            "rate '{s}' must be above 0 and at most 1e9 per second"
        ));
    }
    Ok(v)
}

/// Check a config for combinations that make no sense, as usage errors.
pub fn validate(cfg: &BenchConfig) -> Result<()> {
    if cfg.size == 0 {
        return Err(usage("--size must be at least 1 byte"));
    }
    match cfg.kind {
        Kind::Throughput if cfg.size > MAX_BLOCK => {
            return Err(usage("--size: a throughput block is at most 64MiB"));
        }
        Kind::Latency if cfg.size > MAX_MESSAGE => {
            return Err(usage("--size: a latency message is at most 16MiB"));
        }
        Kind::Udp if cfg.size < udp::HEADER || cfg.size > MAX_DATAGRAM => {
            return Err(usage(format!(
                "--size: a udp datagram is {} to {MAX_DATAGRAM} bytes (it carries a sequence number and a timestamp)",
                udp::HEADER
            )));
        }
        _ => {}
    }
    if cfg.kind != Kind::Throughput {
        if matches!(cfg.limit, Limit::Bytes(_)) {
            return Err(usage(
                "-n/--bytes applies to throughput; use -t for other kinds",
            ));
        }
        if cfg.direction != Direction::Send {
            return Err(usage("--reverse and --bidir apply to throughput"));
        }
        if cfg.streams != 1 {
            return Err(usage(format!(
                "-P applies to throughput; {} uses -c for connections",
                cfg.kind.name()
            )));
        }
    } else if cfg.connections != 1 {
        return Err(usage(
            "-c applies to latency and connect; throughput uses -P",
        ));
    }
    if cfg.kind == Kind::Udp && cfg.connections != 1 {
        return Err(usage("-c does not apply to udp"));
    }
    if !cfg.gso && cfg.kind != Kind::Udp {
        return Err(usage("--no-gso applies to udp"));
    }
    if let Some(loss) = cfg.find_rate {
        if cfg.kind != Kind::Udp {
            return Err(usage("--find-rate applies to udp"));
        }
        if cfg.rate.is_some() {
            return Err(usage("--find-rate searches the rate; drop --rate"));
        }
        if cfg.interval.is_some() {
            return Err(usage(
                "--find-rate prints one row per trial; drop -i/--interval",
            ));
        }
        if !(loss > 0.0 && loss < 100.0) {
            return Err(usage("--max-loss is a percentage above 0 and below 100"));
        }
    }
    if cfg.rate.is_some() && !matches!(cfg.kind, Kind::Latency | Kind::Udp) {
        return Err(usage("--rate applies to latency and udp"));
    }
    if matches!(cfg.limit, Limit::Time(d) if d.is_zero()) {
        return Err(usage("-t/--duration must be above 0"));
    }
    if matches!(cfg.limit, Limit::Bytes(0)) {
        return Err(usage("-n/--bytes must be at least 1 byte"));
    }
    if cfg.interval.is_some_and(|i| i < Duration::from_millis(10)) {
        return Err(usage("--interval must be at least 10ms"));
    }
    if cfg.timeout.is_zero() {
        return Err(usage("-w/--timeout must be above 0"));
    }
    if cfg.kind == Kind::Udp && (cfg.tls.is_some() || cfg.unix.is_some()) {
        return Err(usage(
            "udp measures UDP; --tls and --unix are for the stream kinds",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse() {
        assert_eq!(parse_rate("1000"), Ok(1000.0));
        assert_eq!(parse_rate("50k"), Ok(50_000.0));
        assert_eq!(parse_rate("1M"), Ok(1e6));
        assert_eq!(parse_rate("0.5"), Ok(0.5));
        for bad in ["0", "-1", "x", "", "1e99", "k"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kinds_parse() {
        assert_eq!(Kind::parse("latency"), Some(Kind::Latency));
        assert_eq!(Kind::parse("udp"), Some(Kind::Udp));
        assert_eq!(Kind::parse("bogus"), None);
    }

    #[test]
    fn nonsense_combinations_are_usage_errors() {
        let bad = [
            BenchConfig {
                size: 0,
                ..Default::default()
            },
            BenchConfig {
                kind: Kind::Latency,
                limit: Limit::Bytes(10),
                size: 64,
                ..Default::default()
            },
            BenchConfig {
                kind: Kind::Udp,
                size: 4,
                ..Default::default()
            },
            BenchConfig {
                rate: Some(10.0),
                ..Default::default()
            },
            BenchConfig {
                connections: 3,
                ..Default::default()
            },
            BenchConfig {
                limit: Limit::Time(Duration::ZERO),
                ..Default::default()
            },
        ];
        for cfg in bad {
            let err = validate(&cfg).expect_err("should be refused");
            assert_eq!(crate::error::exit_code(&err), crate::error::code::USAGE);
        }
        assert!(validate(&BenchConfig::default()).is_ok());
    }
}
