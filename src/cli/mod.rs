//! The command line: every clap type, with doc comments as help text, and the
//! conversion of each subcommand's arguments into the plain config of the
//! module that runs it. Nothing outside this module sees clap.
//!
//! - `serve`, `connect`, `bench`, `kv`: one file per subcommand, holding its
//!   args and their `TryFrom` into `serve::TcpConfig`, `connect::ConnectConfig`...
//!   Conversions check what clap cannot (a mode that refuses an option, a
//!   missing port) and return usage errors; they may read files the options
//!   name (`--allow-file`), but open no sockets.
//! - `generated`: completion scripts and man pages rendered from these types.

/// The exit-code table shown under `--help`, as a literal for `concat!`.
macro_rules! exit_codes {
    () => {
        "Exit codes:\n  0  success\n  1  runtime failure (I/O error, port in use, protocol error)\n  \
         2  usage error (bad flag, port, size or duration)\n  3  connection refused\n  \
         4  timed out (connect or idle timeout)\n  5  no reply (UDP: nothing came back within --reply-timeout)\n  \
         6  TLS handshake failed (certificate expired, wrong name, unknown CA, pin mismatch)\n  \
         7  proxy refused (credentials, rules, target unreachable)"
    };
}

mod bench;
mod connect;
mod forward;
mod generated;
mod kv;
mod serve;
mod tls;

pub use bench::BenchArgs;
pub use connect::ConnectArgs;
pub use forward::{FaultArgs, UpstreamArgs};
pub use generated::{SHELLS, completion_file_name, completion_script, man_pages, write_man_pages};
pub use kv::{FsyncArg, KvArgs, KvClientArgs, KvCommand, KvServeArgs};
pub use serve::{
    ListenArgs, ServeArgs, ServeProto, ServerCommonArgs, StreamServeArgs, TcpModeArgs,
    TcpServeArgs, UdpModeArgs, UdpServeArgs, UnixServeArgs,
};
pub use tls::{TlsClientArgs, TlsServerArgs};

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;

use crate::log::{Level, Log};

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

impl From<&LogArgs> for Log {
    fn from(args: &LogArgs) -> Log {
        Log {
            level: if args.quiet {
                Level::Quiet
            } else if args.verbose {
                Level::Verbose
            } else {
                Level::Normal
            },
            json: args.json,
        }
    }
}

impl Cli {
    /// True when stderr carries JSON objects (`serve --json`, `kv serve
    /// --json`, `connect --json` outside `-z`): an error is reported as one.
    pub fn json_on_stderr(&self) -> bool {
        match &self.command {
            Command::Serve(s) => match &s.proto {
                None => s.tcp.common.log.json,
                Some(ServeProto::Tcp(t)) => t.common.log.json,
                Some(ServeProto::Udp(u)) => u.common.log.json,
                Some(ServeProto::Unix(u)) => u.common.log.json,
            },
            Command::Connect(c) => c.json && !c.probe,
            Command::Kv(k) => matches!(&k.serve, Some(KvCommand::Serve(s)) if s.log.json),
            _ => false,
        }
    }
}

/// `netkit serve --echo udp 9000`: the protocol named after an option,
/// where clap reads it as the port. Returns the command line as it should
/// be (`netkit serve udp --echo 9000`).
pub fn misplaced_protocol(args: &[String]) -> Option<String> {
    let is_proto = |a: &str| matches!(a, "tcp" | "udp" | "unix");
    if args.get(1).map(String::as_str) != Some("serve") || args.get(2).is_some_and(|a| is_proto(a))
    {
        return None;
    }
    let pos = args.iter().skip(3).position(|a| is_proto(a))? + 3;
    let mut fixed = vec!["netkit".to_string(), "serve".into(), args[pos].clone()];
    fixed.extend(
        args.iter()
            .enumerate()
            .skip(2)
            .filter(|&(i, _)| i != pos)
            .map(|(_, a)| a.clone()),
    );
    Some(fixed.join(" "))
}

/// Clap's rendered error in netkit's form: `netkit: error: <message>` on
/// one line (tips in parentheses), then the usage line and where the help
/// is. Two lines in all.
pub fn short_usage_error(rendered: &str) -> String {
    let mut message = Vec::new();
    let mut tips = Vec::new();
    let mut usage = None;
    let mut lines = rendered.lines();
    for line in lines.by_ref() {
        if line.trim().is_empty() {
            break;
        }
        message.push(line.trim().trim_start_matches("error:").trim());
    }
    for line in lines {
        let t = line.trim();
        if let Some(tip) = t.strip_prefix("tip:") {
            tips.push(tip.trim().to_string());
        } else if let Some(u) = t.strip_prefix("Usage:") {
            usage.get_or_insert_with(|| u.trim().to_string());
        }
    }
    let mut out = format!("netkit: error: {}", message.join(" "));
    for tip in tips {
        out.push_str(&format!(" ({tip})"));
    }
    out.push('\n');
    if let Some(u) = usage {
        // `netkit serve [OPTIONS] <PORT>` -> help is `netkit serve --help`.
        let path: Vec<&str> = u
            .split_whitespace()
            .take_while(|w| !w.starts_with(['[', '<', '-']))
            .collect();
        out.push_str(&format!("usage: {u}  (more: {} --help)\n", path.join(" ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

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
            let listen = match &s.proto {
                None => &s.tcp.listen,
                Some(ServeProto::Tcp(t)) => &t.listen,
                Some(ServeProto::Udp(u)) => &u.listen,
                Some(ServeProto::Unix(_)) => panic!("not unix"),
            };
            assert_eq!(listen.addr.as_deref(), Some("7878"));
        }
    }

    #[test]
    fn usage_errors_are_two_lines() {
        let rendered = "error: unexpected argument '--bogus' found\n\n  tip: to pass '--bogus' as a value, use '-- --bogus'\n\nUsage: netkit serve [OPTIONS] <[ADDR:]PORT>\n       netkit serve <COMMAND>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            short_usage_error(rendered),
            "netkit: error: unexpected argument '--bogus' found (to pass '--bogus' as a value, use '-- --bogus')\n\
             usage: netkit serve [OPTIONS] <[ADDR:]PORT>  (more: netkit serve --help)\n"
        );
        let missing = "error: the following required arguments were not provided:\n  <HOST>\n\nUsage: netkit connect <HOST> [PORT]\n\nFor more information, try '--help'.\n";
        assert_eq!(
            short_usage_error(missing),
            "netkit: error: the following required arguments were not provided: <HOST>\n\
             usage: netkit connect <HOST> [PORT]  (more: netkit connect --help)\n"
        );
        let bare = "error: invalid value 'x' for '--count <N>': invalid digit found in string\n\nFor more information, try '--help'.\n";
        assert_eq!(
            short_usage_error(bare),
            "netkit: error: invalid value 'x' for '--count <N>': invalid digit found in string\n"
        );
    }

    #[test]
    fn a_protocol_after_options_is_put_back_after_serve() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            misplaced_protocol(&args(&["netkit", "serve", "--echo", "udp", "9000"])),
            Some("netkit serve udp --echo 9000".into())
        );
        assert_eq!(
            misplaced_protocol(&args(&["netkit", "serve", "udp", "--echo", "9"])),
            None
        );
        assert_eq!(
            misplaced_protocol(&args(&["netkit", "connect", "h", "udp"])),
            None
        );
    }

    #[test]
    fn serve_rejects_two_modes_and_a_missing_port() {
        assert!(parse(&["serve", "--echo", "--discard", "1"]).is_err());
        assert!(parse(&["serve", "--echo"]).is_err());
        assert!(parse(&["serve", "udp", "--upper", "1"]).is_err());
    }
}
