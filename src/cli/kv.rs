//! `netkit kv`: the arguments of the client and of `kv serve`, and their
//! conversion into [`ClientConfig`] and the server's [`Config`].

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::LogArgs;
use crate::error;
use crate::kv::aof::Fsync;
use crate::kv::client::ClientConfig;
use crate::kv::protocol::Limits;
use crate::kv::server::Config;
use crate::net;
use crate::units::parse_size;

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
    #[command(flatten)]
    pub tls: super::tls::TlsServerArgs,
}

impl TryFrom<KvClientArgs> for ClientConfig {
    type Error = anyhow::Error;

    fn try_from(a: KvClientArgs) -> Result<ClientConfig> {
        use std::os::unix::ffi::OsStringExt;
        let (host, port) = match net::split_host_port(&a.addr)? {
            (h, Some(p)) => (h, net::parse_port(&p)?),
            (_, None) => {
                return Err(error::usage(format!(
                    "--addr '{}' needs a port, e.g. 127.0.0.1:6380",
                    a.addr
                )));
            }
        };
        Ok(ClientConfig {
            host,
            port,
            raw: if a.raw {
                Some(true)
            } else if a.no_raw {
                Some(false)
            } else {
                None
            },
            stdin_last: a.stdin_last,
            args: a.command.into_iter().map(|s| s.into_vec()).collect(),
        })
    }
}

impl KvServeArgs {
    /// The address to bind: `[ADDR:]PORT` with `--bind`, loopback by default.
    pub fn listen_addr(&self) -> Result<SocketAddr> {
        net::listen_addr(&self.addr, self.bind.as_deref())
    }

    /// When the log is fsynced.
    pub fn fsync(&self) -> Fsync {
        match self.fsync {
            FsyncArg::Always => Fsync::Always,
            FsyncArg::Everysec => Fsync::EverySec,
            FsyncArg::No => Fsync::No,
        }
    }
}

impl TryFrom<&KvServeArgs> for Config {
    type Error = anyhow::Error;

    fn try_from(a: &KvServeArgs) -> Result<Config> {
        let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        let names: Vec<String> = a.bind.iter().cloned().collect();
        Ok(Config {
            limits: Limits {
                max_line: size(a.max_line),
                max_bulk: size(a.max_bulk),
                max_args: size(a.max_args),
            },
            max_conns: size(a.max_conns),
            threads: a.threads,
            log: (&a.log).into(),
            tls: a.tls.build(&names)?,
        })
    }
}
