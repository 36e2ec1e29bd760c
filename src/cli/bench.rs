//! `netkit bench`: the arguments and their conversion into [`BenchConfig`].

use std::time::Duration;

use anyhow::Result;
use clap::Args;

use super::tls::TlsClientArgs;
use crate::bench::{self, BenchConfig, Direction, Kind, Limit, Output};
use crate::error;
use crate::net;
use crate::transport::unix::UnixAddr;
use crate::units::{parse_duration, parse_size};

/// `netkit bench [KIND] [OPTIONS] [HOST:PORT]`.
#[derive(Debug, Args)]
#[command(after_help = concat!(
    "Kinds:\n",
    "  throughput  blocks to a discard server (--reverse: from a source server; --bidir: through an echo server)\n",
    "  latency     ping-pong of --size bytes over -c connections against an echo server\n",
    "  connect     TCP connections opened and closed per second, connect-time percentiles\n",
    "  udp         sequence-numbered datagrams to a UDP echo server: packets/s, loss, reordering, RTT\n\n",
    "Examples:\n",
    "  netkit bench                              loopback throughput, in-process discard server, 10s\n",
    "  netkit bench throughput -P 2 -t 5         two streams, two threads\n",
    "  netkit bench throughput --reverse 127.0.0.1:9000   read from `netkit serve --source 9000`\n",
    "  netkit bench latency --size 64 -t 5       round trips, percentiles from an HDR histogram\n",
    "  netkit bench latency -c 50 127.0.0.1:7    50 connections against any TCP echo server\n",
    "  netkit bench latency --rate 10000         open loop: measured from the intended send time\n",
    "  netkit bench connect -c 4 -t 2            connections per second\n",
    "  netkit bench udp --rate 50000 --json      loss, reordering and RTT as one JSON object\n",
    "  netkit bench udp --find-rate -t 1         highest rate with under 1% loss (1s per trial)\n",
    "  netkit bench --tls -n 2GiB                TLS throughput (in-process TLS server, trusted by its pin)\n",
    "  netkit bench connect --tls -c 4           TLS handshakes per second\n",
    "  netkit bench latency --unix               over a Unix socket (in-process; --unix PATH for a server)\n\n",
    "With no HOST:PORT the matching netkit server runs in-process on 127.0.0.1 port 0.\n",
    "A server of the wrong kind is detected (no reply, or a reply that differs) within --timeout.\n\n",
    exit_codes!()
))]
pub struct BenchArgs {
    /// What to measure: throughput (default), latency, connect or udp.
    #[arg(value_name = "KIND", value_parser = KindOrTarget)]
    pub kind: Option<String>,
    /// A server to measure instead of an in-process one: HOST:PORT or [V6]:PORT.
    #[arg(value_name = "HOST:PORT")]
    pub target: Option<String>,
    /// Measure for this long (after --warmup) [default: 10s].
    #[arg(short = 't', long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "bytes")]
    pub duration: Option<Duration>,
    /// throughput: move this many bytes in total instead of running for a duration.
    #[arg(short = 'n', long, value_name = "SIZE", value_parser = parse_size)]
    pub bytes: Option<u64>,
    /// Block, message or datagram size [default: throughput 1MiB, latency 64, udp 1400].
    #[arg(short = 'l', long, value_name = "SIZE", value_parser = parse_size)]
    pub size: Option<u64>,
    /// throughput: parallel streams, each on its own thread.
    #[arg(short = 'P', long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub parallel: u32,
    /// latency, connect: concurrent connections (latency: beyond one per core, driven by readiness loops).
    #[arg(short = 'c', long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub connections: u32,
    /// throughput: read from a source server instead of writing to a discard server.
    #[arg(long, conflicts_with = "bidir")]
    pub reverse: bool,
    /// throughput: write and read at once through an echo server.
    #[arg(long)]
    pub bidir: bool,
    /// Run this long before measuring; not counted [default: latency 1s, others 0].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub warmup: Option<Duration>,
    /// latency: requests per second in all (open loop); udp: datagrams per second. Flat out when absent.
    #[arg(long, value_name = "PER_SECOND", value_parser = crate::bench::parse_rate)]
    pub rate: Option<f64>,
    /// Print a row of figures every DURATION (e.g. 1s).
    #[arg(short = 'i', long, value_name = "DURATION", value_parser = parse_duration)]
    pub interval: Option<Duration>,
    /// Connect timeout, and how long to wait for a reply before giving up.
    #[arg(short = 'w', long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub timeout: Duration,
    /// No progress bar (it is also hidden when stderr is not a terminal).
    #[arg(short, long)]
    pub quiet: bool,
    /// udp: find the highest rate with less than --max-loss lost (a trial of -t per step).
    #[arg(long, conflicts_with = "rate")]
    pub find_rate: bool,
    /// udp --find-rate: the loss bound, in percent.
    #[arg(
        long,
        value_name = "PERCENT",
        default_value_t = 1.0,
        requires = "find_rate"
    )]
    pub max_loss: f64,
    /// udp: one buffer per datagram (no GSO/GRO runs; still batched with sendmmsg/recvmmsg).
    #[arg(long)]
    pub no_gso: bool,
    /// Print one JSON summary object on stdout instead of the table.
    #[arg(long, conflicts_with = "json_stream")]
    pub json: bool,
    /// Print one JSON object per interval (default 1s) and a summary, one per line.
    #[arg(long)]
    pub json_stream: bool,
    /// Over a Unix stream socket: the server at PATH (@name: abstract), or an in-process one.
    #[arg(short = 'U', long, value_name = "PATH", num_args = 0..=1, default_missing_value = bench::AUTO_UNIX, help_heading = "Transports")]
    pub unix: Option<String>,
    #[command(flatten)]
    pub tls: TlsClientArgs,
}

/// KIND: any text (a bare `HOST:PORT` may stand in its place), offering
/// the kinds to shell completion and `--help`.
#[derive(Debug, Clone, Copy)]
struct KindOrTarget;

impl clap::builder::TypedValueParser for KindOrTarget {
    type Value = String;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        value
            .to_str()
            .map(str::to_string)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidUtf8))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let kinds = [
            ("throughput", "bytes per second (default)"),
            ("latency", "round trips"),
            ("connect", "connections per second"),
            ("udp", "datagrams, loss and round trips"),
        ];
        Some(Box::new(
            kinds
                .into_iter()
                .map(|(k, h)| clap::builder::PossibleValue::new(k).help(h)),
        ))
    }
}

impl TryFrom<BenchArgs> for BenchConfig {
    type Error = anyhow::Error;

    fn try_from(a: BenchArgs) -> Result<BenchConfig> {
        // KIND is optional, so `netkit bench HOST:PORT` names a target, not a kind.
        let (kind, target) = match (a.kind, a.target) {
            (None, t) => (Kind::Throughput, t),
            (Some(k), t) => match Kind::parse(&k) {
                Some(kind) => (kind, t),
                None if t.is_none() && k.contains(':') => (Kind::Throughput, Some(k)),
                None => {
                    return Err(error::usage(format!(
                        "unknown bench kind '{k}' (throughput, latency, connect or udp)"
                    )));
                }
            },
        };
        let unix = a.unix.as_deref().map(UnixAddr::parse).transpose()?;
        if unix.is_some() && target.is_some() {
            return Err(error::usage(
                "--unix PATH names the server; give no HOST:PORT with it",
            ));
        }
        let tls = if a.tls.wanted() {
            // The options are built in bench::run, which pins the in-process
            // server's certificate; the files are checked here.
            let _ = a.tls.build()?;
            Some(a.tls.options())
        } else {
            None
        };
        let target = match target {
            None => None,
            Some(t) => match net::split_host_port(&t)? {
                (h, Some(p)) if !h.is_empty() => {
                    let port = net::parse_port(&p)?;
                    if port == 0 {
                        return Err(error::usage("cannot bench port 0"));
                    }
                    Some((h, port))
                }
                _ => {
                    return Err(error::usage(format!(
                        "bad target '{t}': give HOST:PORT, e.g. 127.0.0.1:7878"
                    )));
                }
            },
        };
        let size = match a.size {
            Some(s) => usize::try_from(s).map_err(|_| error::usage("--size is too large"))?,
            None => match kind {
                Kind::Throughput | Kind::Connect => bench::DEFAULT_BLOCK,
                Kind::Latency => bench::DEFAULT_MESSAGE,
                Kind::Udp => bench::DEFAULT_DATAGRAM,
            },
        };
        let limit = match (a.bytes, a.duration) {
            (Some(n), _) => Limit::Bytes(n),
            (None, Some(d)) => Limit::Time(d),
            // --find-rate: -t is each trial's length.
            (None, None) if a.find_rate => Limit::Time(Duration::from_secs(2)),
            (None, None) => Limit::Time(Duration::from_secs(10)),
        };
        let warmup = a.warmup.unwrap_or(match kind {
            Kind::Latency => Duration::from_secs(1),
            _ => Duration::ZERO,
        });
        Ok(BenchConfig {
            kind,
            target,
            direction: if a.reverse {
                Direction::Receive
            } else if a.bidir {
                Direction::Both
            } else {
                Direction::Send
            },
            limit,
            size,
            streams: a.parallel as usize,
            connections: a.connections as usize,
            warmup,
            rate: a.rate,
            interval: a.interval,
            timeout: a.timeout,
            quiet: a.quiet,
            find_rate: a.find_rate.then_some(a.max_loss),
            gso: !a.no_gso,
            output: if a.json {
                Output::Json
            } else if a.json_stream {
                Output::JsonStream
            } else {
                Output::Text
            },
            tls,
            unix,
            tls_client: None,
        })
    }
}
