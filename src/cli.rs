//! Every clap type of the command line, with doc comments as help text.
//! No I/O here: `main` turns these into the plain config structs of each module.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

use crate::acl::Cidr;
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
    "  netkit serve udp --time 0            UDP time service on a free port\n",
    "  netkit connect -z 127.0.0.1 1-1024   which ports are open\n",
    "  netkit bench latency -c 50           round-trip percentiles on this machine's loopback\n",
    "  netkit kv serve                      a Redis-protocol key-value server on 127.0.0.1:6380\n\n",
    exit_codes!()
))]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run; boxing buys nothing
pub enum Command {
    /// Listen on a port: netcat listen mode or a classic service (echo, discard, chargen, time...).
    Serve(ServeArgs),
    /// Connect to HOST PORT and pipe stdin/stdout through the socket.
    Connect(ConnectArgs),
    /// A key-value server (Redis protocol and a line protocol) and its client.
    Kv(KvArgs),
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
    "  netkit serve udp --echo --bind ::1 7\n",
    "  netkit serve --sh-exec 'tr a-z A-Z' 9000   a process per connection (like ncat -c)\n",
    "  netkit serve --chat 7000             line chat between clients (like ncat --chat)\n",
    "  netkit serve --echo --deny 127.0.0.2 --hexdump - 0\n\n",
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
    /// Run CMD for each connection, the socket as its stdin/stdout (split at spaces, no shell).
    #[arg(long, value_name = "CMD", help_heading = "Modes")]
    pub exec: Option<String>,
    /// Run `/bin/sh -c CMD` for each connection, the socket as its stdin/stdout.
    #[arg(long, value_name = "CMD", help_heading = "Modes")]
    pub sh_exec: Option<String>,
    /// Chat room: each line from a client goes to all the others, prefixed with the sender.
    #[arg(long, help_heading = "Modes")]
    pub chat: bool,
}

/// How much a server says on stderr, and in which form.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Log each connection (peer, bytes in/out, duration, how it ended).
    #[arg(short, long, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// Logs and the summary as one JSON object per line on stderr.
    #[arg(long)]
    pub json: bool,
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
    #[command(flatten)]
    pub log: LogArgs,
    /// Exit after this many connections (UDP: datagrams).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Close a connection with no traffic for this long (e.g. 30s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub idle_timeout: Option<Duration>,
    /// On Ctrl-C/SIGTERM, how long live connections may take to finish.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub grace: Duration,
    /// Admit only clients in this network (CIDR or address; repeatable).
    #[arg(long, value_name = "CIDR", help_heading = "Access")]
    pub allow: Vec<Cidr>,
    /// Refuse clients in this network (CIDR or address; repeatable; wins over --allow).
    #[arg(long, value_name = "CIDR", help_heading = "Access")]
    pub deny: Vec<Cidr>,
    /// Read --allow networks from FILE, one per line, `#` comments.
    #[arg(long, value_name = "FILE", help_heading = "Access")]
    pub allow_file: Vec<PathBuf>,
    /// Read --deny networks from FILE, one per line, `#` comments.
    #[arg(long, value_name = "FILE", help_heading = "Access")]
    pub deny_file: Vec<PathBuf>,
    /// Record every chunk both ways as a hex dump to FILE (`-`: stderr).
    #[arg(long, value_name = "FILE|-")]
    pub hexdump: Option<String>,
}

/// `serve tcp` options.
#[derive(Debug, Args)]
pub struct TcpServeArgs {
    #[command(flatten)]
    pub mode: TcpModeArgs,
    #[command(flatten)]
    pub common: ServerCommonArgs,
    /// Keep listening after the first client (listen mode: many clients, stdin to all; the other modes always do).
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
    /// Accepted for nc -luk / ncat -luk: every UDP mode already serves all peers.
    #[arg(short = 'k', long)]
    pub keep_open: bool,
}

/// `netkit connect [OPTIONS] <HOST> <PORT>`.
#[derive(Debug, Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  echo hi | netkit connect localhost 7878     prints the echo, exits 0\n",
    "  tar c dir | netkit connect host 9000        every byte, then half-close\n",
    "  netkit connect [::1]:7878 < req > resp\n",
    "  printf TIME | netkit connect -u 127.0.0.1 9000\n",
    "  netkit connect 127.0.0.1 7878              on a terminal: a prompt (:help lists commands)\n",
    "  netkit connect -z 127.0.0.1 1-1024,8080    which ports are open (exit 0 if any)\n",
    "  netkit connect -z -u -v 127.0.0.1 53,123   UDP: open, closed or open|filtered\n",
    "  echo hello | netkit connect --framed 127.0.0.1 9000\n",
    "  netkit connect --hexdump trace.txt host 80 < req   both directions, like socat -x\n\n",
    "At stdin EOF the write side is shut down and netkit reads until the peer closes.\n",
    "On a terminal (or with -i) a prompt sends each line with \\n; escapes \\n \\r \\t \\\\ \\0 \\xHH send raw bytes;\n",
    ":hex on|off, :crlf on|off, :send FILE, :status, :quit; Ctrl-D half-closes. History is kept in\n",
    "$NETKIT_HISTORY, else $XDG_DATA_HOME/netkit/history, else ~/.local/share/netkit/history.\n",
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
    /// Connect timeout for each address [default: 10s; with -z, per port: 1s].
    #[arg(short = 'w', long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Close when no data moves either way for this long (exit code 4).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub idle_timeout: Option<Duration>,
    /// Like nc -q: after stdin EOF the whole reply is still read; once the peer has closed too, wait SECS, then exit.
    #[arg(short = 'q', value_name = "SECS", value_parser = parse_duration, conflicts_with = "no_shutdown")]
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
    /// Report the connection and how it ended on stderr (-z: every port, its state and time).
    #[arg(short, long)]
    pub verbose: bool,
    /// A prompt even when stdin is not a terminal (one line, one send).
    #[arg(short, long, conflicts_with_all = ["framed", "probe"])]
    pub interactive: bool,
    /// Send every \n from stdin as \r\n, like nc -C (a \n already after \r is left alone; the prompt ends lines with \r\n).
    #[arg(short = 'C', long)]
    pub crlf: bool,
    /// Probe PORT (a list: 20-30,80,443) and print the open ports; exit 0 if any is open.
    #[arg(short = 'z', long = "probe")]
    pub probe: bool,
    /// -z: how many ports to probe at once.
    #[arg(long, value_name = "N", requires = "probe", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: Option<u32>,
    /// Send each stdin line as one frame (4-byte big-endian length + bytes); print each frame received as a line.
    #[arg(long, conflicts_with_all = ["udp", "probe"])]
    pub framed: bool,
    /// A live byte counter and rate on stderr while piping (hidden when stderr is not a terminal).
    #[arg(long, conflicts_with = "probe")]
    pub progress: bool,
    /// One JSON summary object on stderr at exit (-z: one object per port on stdout).
    #[arg(long)]
    pub json: bool,
    /// Record every chunk both ways as a hex dump to FILE (`-`: stderr).
    #[arg(long, value_name = "FILE|-", conflicts_with_all = ["interactive", "probe", "framed"])]
    pub hexdump: Option<String>,
}

/// `netkit kv serve ...` or `netkit kv [OPTIONS] [COMMAND ARGS...]`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
#[command(after_help = concat!(
    "Examples:\n",
    "  netkit kv serve                      server on 127.0.0.1:6380, in memory\n",
    "  netkit kv serve --data kv.aof 0      durable, on a free port\n",
    "  netkit kv set greeting 'hello world'\n",
    "  netkit kv get greeting               value on stdout; exit 1 if there is none\n",
    "  netkit kv -x set blob < file.bin     last argument from stdin\n",
    "  netkit kv                            a redis-cli style prompt (on a terminal)\n\n",
    "Any command is sent as RESP, so this also talks to redis-server.\n",
    "Output is formatted like redis-cli on a terminal and raw when piped.\n\n",
    exit_codes!()
))]
pub struct KvArgs {
    /// `serve`, or nothing for the client.
    #[command(subcommand)]
    pub serve: Option<KvCommand>,
    /// Client options and the command to send.
    #[command(flatten)]
    pub client: KvClientArgs,
}

/// The kv server subcommand.
#[derive(Debug, Subcommand)]
pub enum KvCommand {
    /// Serve a key-value store speaking RESP2 (redis-cli, client libraries) and a line protocol (nc).
    Serve(KvServeArgs),
}

/// `netkit kv` client options.
#[derive(Debug, Args)]
pub struct KvClientArgs {
    /// Server to talk to.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:6380")]
    pub addr: String,
    /// Print replies raw (bare values), even on a terminal.
    #[arg(long, conflicts_with = "no_raw")]
    pub raw: bool,
    /// Print replies formatted like redis-cli, even when piped.
    #[arg(long)]
    pub no_raw: bool,
    /// Read the last argument from stdin.
    #[arg(short = 'x')]
    pub stdin_last: bool,
    /// The command and its arguments (any command is passed through as RESP).
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<std::ffi::OsString>,
}

/// When the log is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FsyncArg {
    /// Before every acknowledgement (batched per round of requests).
    Always,
    /// Once a second.
    Everysec,
    /// Never explicitly; the OS decides.
    No,
}

/// `netkit kv serve` options.
#[derive(Debug, Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  netkit kv serve                      127.0.0.1:6380, in memory only\n",
    "  netkit kv serve --data kv.aof        every write logged before it is acknowledged\n",
    "  netkit kv serve --data kv.aof --fsync always 7000\n",
    "  redis-cli -p 6380 set k v  /  echo 'GET k' | nc 127.0.0.1 6380\n\n",
    "A connection whose first byte is `*` speaks RESP2; any other speaks the line protocol:\n",
    "SET key value (the rest of the line), GET key, DEL key, QUIT.\n",
    "The log is compacted when it grows past twice its compacted size (and 64MiB), or on BGREWRITEAOF.\n",
    "A torn or corrupt tail is truncated with a warning at start.\n",
    "Ctrl-C or SIGTERM: answer what was received, fsync the log, print a summary."
))]
pub struct KvServeArgs {
    /// Where to listen: PORT, ADDR:PORT or [V6]:PORT (0 picks a free port).
    #[arg(value_name = "[ADDR:]PORT", default_value = "6380")]
    pub addr: String,
    /// Address to bind (default 127.0.0.1; 0.0.0.0 or :: accept other hosts).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Append every write to this log before acknowledging it; replay it at start.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// When the log is fsynced (with --data).
    #[arg(long, value_enum, default_value = "everysec", requires = "data")]
    pub fsync: FsyncArg,
    /// At most N clients at once; the next one gets an error and is closed.
    #[arg(long, value_name = "N", default_value = "10000", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_conns: u64,
    /// Largest bulk string (a key or value) a client may send.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "512MiB")]
    pub max_bulk: u64,
    /// Longest line (line protocol) a client may send.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64KiB")]
    pub max_line: u64,
    /// Most arguments in one command.
    #[arg(long, value_name = "N", default_value = "1048576", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_args: u64,
    /// Event-loop threads (0: one per core).
    #[arg(long, value_name = "N", default_value = "0")]
    pub threads: usize,
    #[command(flatten)]
    pub log: LogArgs,
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
