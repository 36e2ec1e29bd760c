//! `netkit bench`: throughput, latency, connection rate and UDP loss.
//!
//! This module owns the configuration, the in-process servers (the matching
//! `serve` mode on 127.0.0.1 port 0 when no target is given), the shared
//! counters the workers bump and the supervisor loop that drives the progress
//! bar and the `--interval` rows. Each kind lives in its own file and returns
//! a [`report::Report`]; `report` renders it.
//!
//! - `throughput`: blocks to a discard server, from a source, or both ways through echo.
//! - `latency`: closed-loop ping-pong, or open loop at `--rate` (no coordinated omission).
//! - `connect`: connections opened and closed per second.
//! - `udp`: sequence-numbered datagrams to a UDP echo server.
//! - `report`: tables, JSON, interval rows and the progress bar factory.

pub mod connect;
pub mod latency;
pub mod mux;
pub mod report;
pub mod throughput;
pub mod udp;

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use hdrhistogram::Histogram;

use crate::error::usage;
use crate::log::{Level, Log, Summary};
use crate::net::{self, StreamOptions};
use crate::serve::{self, TcpConfig, TcpMode, UdpConfig, UdpMode};
use crate::shutdown::Shutdown;
use crate::transport::Stream;
use crate::transport::dial::{self, DialOptions};
use crate::transport::tlsconfig::{TlsClient, TlsClientOptions, TlsServerOptions, parse_pin};
use crate::transport::unix::{self, UnixAddr};

pub use report::Report;

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

/// Run one bench: start the in-process server if needed, measure, stop it.
pub fn run(cfg: &BenchConfig) -> Result<Report> {
    validate(cfg)?;
    let mut cfg = cfg.clone();
    let (target, server) = match (&cfg.target, &cfg.unix) {
        (Some((host, port)), None) => {
            let addrs = net::resolve(host, *port, net::Family::Any)?;
            (Target::Remote(host.clone(), *port, addrs), None)
        }
        (_, Some(path)) if cfg.target.is_some() || !is_auto(path) => {
            (Target::Unix(path.clone()), None)
        }
        _ => {
            let server = InProcess::start(&cfg)?;
            if let (Some(t), Some(fp)) = (&mut cfg.tls, &server.fingerprint) {
                t.pin = Some(parse_pin(fp).map_err(|e| anyhow!(e))?);
            }
            let target = match &server.unix {
                Some(u) => Target::Unix(u.clone()),
                None => Target::Local(server.addr),
            };
            (target, Some(server))
        }
    };
    cfg.tls_client = cfg.tls.as_ref().map(|t| t.build()).transpose()?;
    let cfg = &cfg;
    let result = match cfg.kind {
        Kind::Throughput => throughput::run(cfg, &target),
        Kind::Latency => latency::run(cfg, &target),
        Kind::Connect => connect::run(cfg, &target),
        Kind::Udp => udp::run(cfg, &target),
    };
    let summary = match server {
        Some(s) => Some(s.stop()?),
        None => None,
    };
    let mut report = result?;
    report.server = summary;
    report.in_process = cfg.target.is_none();
    Ok(report)
}

/// `--unix` without a path: an in-process server on an abstract socket.
pub const AUTO_UNIX: &str = "@netkit-bench";

fn is_auto(a: &UnixAddr) -> bool {
    *a == UnixAddr::Abstract(AUTO_UNIX.as_bytes()[1..].to_vec())
}

/// Where the workers connect.
#[derive(Debug, Clone)]
pub enum Target {
    /// The in-process server.
    Local(SocketAddr),
    /// A user-given server: its name, port and resolved addresses.
    Remote(String, u16, Vec<SocketAddr>),
    /// A Unix stream socket (in-process or given).
    Unix(UnixAddr),
}

impl Target {
    /// The text shown in reports and errors.
    pub fn describe(&self) -> String {
        match self {
            Target::Local(a) => a.to_string(),
            Target::Remote(h, p, _) if h.contains(':') => format!("[{h}]:{p}"),
            Target::Remote(h, p, _) => format!("{h}:{p}"),
            Target::Unix(u) => u.to_string(),
        }
    }

    /// Connect one stream, with TLS (and its handshake) when the run has it.
    pub fn connect(&self, cfg: &BenchConfig) -> Result<Stream> {
        let target = match self {
            Target::Local(a) => dial::Target::Tcp {
                host: a.ip().to_string(),
                port: a.port(),
            },
            Target::Remote(h, p, _) => dial::Target::Tcp {
                host: h.clone(),
                port: *p,
            },
            Target::Unix(u) => dial::Target::Unix(u.clone()),
        };
        dial::dial(
            &target,
            &DialOptions {
                connect: net::ConnectOptions {
                    timeout: Some(cfg.timeout),
                    ..Default::default()
                },
                tls: cfg.tls_client.clone(),
                ..Default::default()
            },
        )
    }

    /// The first resolved address (for the hot connect loop and UDP).
    pub fn first_addr(&self) -> Option<SocketAddr> {
        match self {
            Target::Local(a) => Some(*a),
            Target::Remote(_, _, addrs) => Some(addrs[0]),
            Target::Unix(_) => None,
        }
    }
}

/// The matching netkit server, run in this process on 127.0.0.1 port 0.
struct InProcess {
    addr: SocketAddr,
    /// `--unix`: the abstract socket it listens on.
    unix: Option<UnixAddr>,
    /// `--tls`: its certificate's SHA-256, for the client's pin.
    fingerprint: Option<String>,
    shutdown: Shutdown,
    handle: JoinHandle<Result<Summary>>,
}

/// Socket buffers asked for on bench sockets (the kernel may cap them).
pub const SOCKET_BUFFER: usize = 4 << 20;

impl InProcess {
    fn start(cfg: &BenchConfig) -> Result<InProcess> {
        let loopback: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
        let shutdown = Shutdown::new();
        let quiet = Log {
            level: Level::Quiet,
            json: false,
        };
        if cfg.kind == Kind::Udp {
            let socket = net::bind_udp(loopback)?;
            let sock = socket2::SockRef::from(&socket);
            let _ = sock.set_recv_buffer_size(SOCKET_BUFFER);
            let _ = sock.set_send_buffer_size(SOCKET_BUFFER);
            let addr = socket.local_addr()?;
            let s = shutdown.clone();
            let scfg = UdpConfig {
                mode: UdpMode::Echo,
                count: None,
                log: quiet,
                acl: Default::default(),
                hexdump: None,
                forward: None,
            };
            let handle = spawn_named("bench-server", move || serve::udp::run(socket, s, &scfg))?;
            return Ok(InProcess {
                addr,
                unix: None,
                fingerprint: None,
                shutdown,
                handle,
            });
        }
        let mode = match (cfg.kind, cfg.direction) {
            (Kind::Throughput, Direction::Send) | (Kind::Connect, _) => TcpMode::Discard,
            (Kind::Throughput, Direction::Receive) => TcpMode::Source,
            _ => TcpMode::Echo,
        };
        let tls = match &cfg.tls {
            Some(_) => Some(TlsServerOptions::default().build(&[])?),
            None => None,
        };
        let fingerprint = tls.as_ref().map(|t| t.fingerprint.clone());
        let scfg = TcpConfig {
            mode,
            stream: StreamOptions {
                nodelay: true,
                keepalive: None,
            },
            grace: Duration::from_secs(2),
            log: quiet,
            tls,
            ..TcpConfig::default()
        };
        let s = shutdown.clone();
        if cfg.unix.is_some() {
            // A name of our own, so runs at the same time never meet.
            static N: AtomicU64 = AtomicU64::new(0);
            let name = format!(
                "{AUTO_UNIX}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            );
            let addr = UnixAddr::parse(&name)?;
            let (listener, _) = unix::bind_listener(&addr, None)?;
            let handle = spawn_named("bench-server", move || serve::tcp::run(listener, s, &scfg))?;
            return Ok(InProcess {
                addr: loopback,
                unix: Some(addr),
                fingerprint,
                shutdown,
                handle,
            });
        }
        let listener: TcpListener = net::bind_tcp(loopback)?;
        let addr = listener.local_addr()?;
        let handle = spawn_named("bench-server", move || serve::tcp::run(listener, s, &scfg))?;
        Ok(InProcess {
            addr,
            unix: None,
            fingerprint,
            shutdown,
            handle,
        })
    }

    fn stop(self) -> Result<Summary> {
        self.shutdown.trigger();
        self.handle
            .join()
            .map_err(|_| anyhow!("the in-process server panicked"))?
            .context("the in-process server failed")
    }
}

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
