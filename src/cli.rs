//! Every clap type of the command line, with doc comments as help text.
//! No I/O here: `main` turns these into the plain config structs of each module.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

use crate::units::{parse_duration, parse_size};

/// The exit-code table shown under `--help`, as a literal for `concat!`.
macro_rules! exit_codes {
    () => {
        "Exit codes:\n  0  success\n  1  runtime failure (I/O error, port in use, protocol error)\n  \
         2  usage error (bad flag, port, size or duration)\n  3  connection refused\n  \
         4  timed out (connect or idle timeout)\n  5  no reply (UDP: nothing came back within --reply-timeout)"
    };
}

/// netkit — listen, connect, pipe, probe, benchmark and serve key-values over TCP and UDP.
#[derive(Debug, Parser)]
#[command(name = "netkit", version, about, long_about = None)]
#[command(after_help = concat!(
    "Examples:\n",
    "  netkit serve --echo 7878             echo server on 127.0.0.1:7878\n",
    "  echo hi | netkit connect localhost 7878\n",
    "  netkit serve 9000 > dir.tar          receive a file (tar c dir | netkit connect host 9000)\n",
    "  netkit serve udp --time 0            UDP time service on a free port\n\n",
    exit_codes!()
))]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Listen on a port: netcat listen mode or a classic service (echo, discard, chargen, time...).
    Serve(ServeArgs),
    /// Connect to HOST PORT and pipe stdin/stdout through the socket.
    Connect(ConnectArgs),
    /// Measure throughput, latency, connection rate or UDP loss (in-process server or HOST:PORT).
    Bench(BenchArgs),
    /// Print a shell completion script to stdout.
    #[command(after_help = "Example:\n  netkit completions bash > /etc/bash_completion.d/netkit")]
    Completions {
        /// The shell to generate completions for.
        shell: Shell,
    },
    /// Print the man page (or write every page into a directory).
    #[command(after_help = "Examples:\n  netkit man | man -l -\n  netkit man --out-dir man/")]
    Man {
        /// Write netkit.1 and one page per subcommand into this directory.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

/// `netkit serve [tcp|udp] [MODE] [OPTIONS] <[ADDR:]PORT>`; tcp when omitted.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
#[command(after_help = concat!(
    "Examples:\n",
    "  netkit serve --echo 7878             echo server (same as: netkit serve tcp --echo 7878)\n",
    "  netkit serve 9000 > out.bin          receive one client's bytes, then exit\n",
    "  netkit serve -k 9000                 many clients; stdin goes to all of them\n",
    "  netkit serve --discard -v 0          count bytes on a free port\n",
    "  netkit serve udp --echo --bind ::1 7\n\n",
    "Servers bind 127.0.0.1 unless --bind (or ADDR:PORT) says otherwise.\n",
    "The first stderr line is `listening on <addr> (<proto> <mode>)`; port 0 picks a free port.\n",
    "Ctrl-C or SIGTERM stops accepting, lets live connections finish for --grace, prints a summary."
))]
pub struct ServeArgs {
    /// Protocol; TCP when omitted.
    #[command(subcommand)]
    pub proto: Option<ServeProto>,
    /// TCP options, when no protocol is named.
    #[command(flatten)]
    pub tcp: TcpServeArgs,
}

/// `serve tcp` or `serve udp`.
#[derive(Debug, Subcommand)]
pub enum ServeProto {
    /// Serve over TCP (the default).
    Tcp(TcpServeArgs),
    /// Serve over UDP.
    #[command(after_help = concat!(
        "Examples:\n",
        "  netkit serve udp 9000                datagrams to stdout; stdin lines to the last peer\n",
        "  netkit serve udp --time 9000         then: printf TIME | nc -u -w1 127.0.0.1 9000"
    ))]
    Udp(UdpServeArgs),
}

/// The TCP service, one at a time; netcat listen mode when none is given.
#[derive(Debug, Args, Default)]
#[group(id = "tcp_mode", multiple = false)]
pub struct TcpModeArgs {
    /// Echo every byte back to its sender (RFC 862).
    #[arg(long, help_heading = "Modes")]
    pub echo: bool,
    /// Line echo, upper-cased; `quit` answers `bye` and closes.
    #[arg(long, help_heading = "Modes")]
    pub upper: bool,
    /// Read and count everything (RFC 863); -v prints bytes per connection.
    #[arg(long, help_heading = "Modes")]
    pub discard: bool,
    /// Send an endless chargen pattern until the client closes (RFC 864).
    #[arg(long, help_heading = "Modes")]
    pub source: bool,
    /// Send the Unix time in seconds and a newline, then close.
    #[arg(long, help_heading = "Modes")]
    pub time: bool,
    /// Echo frames: a 4-byte big-endian length, then that many bytes.
    #[arg(long, help_heading = "Modes")]
    pub framed: bool,
}

/// Options every server shares.
#[derive(Debug, Args)]
pub struct ServerCommonArgs {
    /// Where to listen: PORT, ADDR:PORT or [V6]:PORT (0 picks a free port).
    #[arg(value_name = "[ADDR:]PORT", required = true)]
    pub addr: Option<String>,
    /// Address to bind (default 127.0.0.1; 0.0.0.0 or :: accept other hosts).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Log each connection (peer, bytes in/out, duration, how it ended).
    #[arg(short, long, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// Logs and the summary as one JSON object per line on stderr.
    #[arg(long)]
    pub json: bool,
    /// Exit after this many connections (UDP: datagrams).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Close a connection with no traffic for this long (e.g. 30s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub idle_timeout: Option<Duration>,
    /// On Ctrl-C/SIGTERM, how long live connections may take to finish.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub grace: Duration,
}

/// `serve tcp` options.
#[derive(Debug, Args)]
pub struct TcpServeArgs {
    #[command(flatten)]
    pub mode: TcpModeArgs,
    #[command(flatten)]
    pub common: ServerCommonArgs,
    /// Keep listening after the first client (netcat mode: many clients, stdin to all).
    #[arg(short = 'k', long)]
    pub keep_open: bool,
    /// At most N connections at once; further clients are accepted and closed at once.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_conns: Option<u64>,
    /// Set TCP_NODELAY on each connection.
    #[arg(long)]
    pub nodelay: bool,
    /// Enable TCP keepalive, probing after this much idle time.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, num_args = 0..=1, default_missing_value = "60s")]
    pub keepalive: Option<Duration>,
    /// --framed: the largest frame accepted; a bigger length closes the connection.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "16MiB")]
    pub max_frame: u64,
}

/// The UDP service; datagrams to stdout when none is given.
#[derive(Debug, Args, Default)]
#[group(id = "udp_mode", multiple = false)]
pub struct UdpModeArgs {
    /// Send every datagram back to its sender.
    #[arg(long, help_heading = "Modes")]
    pub echo: bool,
    /// Count datagrams and bytes.
    #[arg(long, help_heading = "Modes")]
    pub discard: bool,
    /// Answer a `TIME` datagram with the Unix time; anything else with an error datagram.
    #[arg(long, help_heading = "Modes")]
    pub time: bool,
}

/// `serve udp` options.
#[derive(Debug, Args)]
pub struct UdpServeArgs {
    #[command(flatten)]
    pub mode: UdpModeArgs,
    #[command(flatten)]
    pub common: ServerCommonArgs,
}

/// `netkit connect [OPTIONS] <HOST> <PORT>`.
#[derive(Debug, Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  echo hi | netkit connect localhost 7878     prints the echo, exits 0\n",
    "  tar c dir | netkit connect host 9000        every byte, then half-close\n",
    "  netkit connect [::1]:7878 < req > resp\n",
    "  printf TIME | netkit connect -u 127.0.0.1 9000\n\n",
    "At stdin EOF the write side is shut down and netkit reads until the peer closes.\n",
    "HOST may be a name, an IPv4 or an IPv6 address; every address of a name is tried.\n\n",
    exit_codes!()
))]
pub struct ConnectArgs {
    /// Host name or address; also HOST:PORT or [V6]:PORT.
    pub host: String,
    /// Port, unless given in HOST.
    pub port: Option<String>,
    /// Use UDP: stdin chunks become datagrams, replies go to stdout.
    #[arg(short, long)]
    pub udp: bool,
    /// Connect timeout for each address.
    #[arg(short = 'w', long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    pub timeout: Duration,
    /// Close when no data moves either way for this long (exit code 4).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub idle_timeout: Option<Duration>,
    /// Quit this long after stdin EOF, even if the peer has not closed.
    #[arg(short = 'q', value_name = "SECS", value_parser = parse_duration)]
    pub quit_after: Option<Duration>,
    /// Do not shut down the write side at stdin EOF.
    #[arg(long)]
    pub no_shutdown: bool,
    /// UDP: how long to wait for replies after stdin EOF.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "1s")]
    pub reply_timeout: Duration,
    /// IPv4 only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 only.
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Local address to connect from.
    #[arg(short, long, value_name = "ADDR")]
    pub source: Option<std::net::IpAddr>,
    /// Local port to connect from.
    #[arg(short = 'p', long, value_name = "PORT")]
    pub source_port: Option<u16>,
    /// Set TCP_NODELAY.
    #[arg(long)]
    pub nodelay: bool,
    /// Report the connection and how it ended on stderr.
    #[arg(short, long)]
    pub verbose: bool,
}

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
    "  netkit bench udp --rate 50000 --json      loss, reordering and RTT as one JSON object\n\n",
    "With no HOST:PORT the matching netkit server runs in-process on 127.0.0.1 port 0.\n",
    "A server of the wrong kind is detected (no reply, or a reply that differs) within --timeout.\n\n",
    exit_codes!()
))]
pub struct BenchArgs {
    /// What to measure: throughput (default), latency, connect or udp.
    #[arg(value_name = "KIND")]
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
    /// latency, connect: concurrent connections, each on its own thread.
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
    /// Print one JSON summary object on stdout instead of the table.
    #[arg(long, conflicts_with = "json_stream")]
    pub json: bool,
    /// Print one JSON object per interval (default 1s) and a summary, one per line.
    #[arg(long)]
    pub json_stream: bool,
}

/// The completion script for `shell`, as `netkit completions SHELL` prints it.
pub fn completion_script(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "netkit", &mut out);
    out
}

/// The file name of `shell`'s completion script under `completions/`.
pub fn completion_file_name(shell: Shell) -> String {
    use clap_complete::Generator;
    shell.file_name("netkit")
}

/// Every shell netkit ships completions for.
pub const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Zsh,
    Shell::Fish,
    Shell::PowerShell,
    Shell::Elvish,
];

/// Man pages as (file name, roff text): `netkit.1` and one per subcommand.
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let cmd = Cli::command();
    let mut pages = Vec::new();
    let mut top = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut top)?;
    pages.push(("netkit.1".to_string(), top));
    for sub in cmd.get_subcommands() {
        let name = format!("netkit-{}", sub.get_name());
        let sub = sub
            .clone()
            .name(name.clone())
            .bin_name(format!("netkit {}", sub.get_name()));
        let mut page = Vec::new();
        clap_mangen::Man::new(sub).render(&mut page)?;
        pages.push((format!("{name}.1"), page));
    }
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_valid() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("netkit").chain(args.iter().copied()))
    }

    #[test]
    fn serve_accepts_the_three_spellings() {
        for args in [
            &["serve", "--echo", "7878"][..],
            &["serve", "tcp", "--echo", "7878"],
            &["serve", "udp", "--echo", "7878"],
        ] {
            let cli = parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            let Command::Serve(s) = cli.command else {
                panic!("not serve")
            };
            let common = match &s.proto {
                None => &s.tcp.common,
                Some(ServeProto::Tcp(t)) => &t.common,
                Some(ServeProto::Udp(u)) => &u.common,
            };
            assert_eq!(common.addr.as_deref(), Some("7878"));
        }
    }

    #[test]
    fn serve_rejects_two_modes_and_a_missing_port() {
        assert!(parse(&["serve", "--echo", "--discard", "1"]).is_err());
        assert!(parse(&["serve", "--echo"]).is_err());
        assert!(parse(&["serve", "udp", "--upper", "1"]).is_err());
    }
}
