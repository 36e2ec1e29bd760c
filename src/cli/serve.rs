//! `netkit serve [tcp|udp]`: the arguments and their conversion into
//! [`TcpConfig`] / [`UdpConfig`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::LogArgs;
use crate::acl::{self, Acl, Cidr};
use crate::error;
use crate::hexdump::HexDump;
use crate::net::{self, StreamOptions};
use crate::serve::exec::ExecCommand;
use crate::serve::{TcpConfig, TcpMode, UdpConfig, UdpMode};
use crate::units::{parse_duration, parse_size};

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
    "  netkit serve -k --sh-exec 'tr a-z A-Z' 9000   a process per connection (like ncat -lk -c)\n",
    "  netkit serve -k --sh-exec 'netkit connect backend 22' 2222   a relay (ssh, git, ...)\n",
    "  netkit serve --chat 7000             line chat between clients (like ncat --chat)\n",
    "  netkit serve --echo --deny 127.0.0.2 --hexdump - 0\n\n",
    "Every byte is passed on as it arrives. -k is accepted by every mode; only listen mode changes:\n",
    "there a client whose 1 MiB queue of stdin stays full for 1 s is dropped with a TCP reset.\n",
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
    /// Set TCP_NODELAY on each connection (listen and exec modes always do).
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

impl ServeArgs {
    /// The TCP or UDP arguments, whichever way they were spelled.
    pub fn into_proto(self) -> ServeProto {
        self.proto.unwrap_or(ServeProto::Tcp(self.tcp))
    }
}

impl ServerCommonArgs {
    /// The address to bind: `[ADDR:]PORT` with `--bind`, loopback by default.
    pub fn listen_addr(&self) -> Result<SocketAddr> {
        let spec = self.addr.as_deref().ok_or_else(|| {
            error::usage("give a port to listen on, e.g. 7878 (0 picks a free one)")
        })?;
        net::listen_addr(spec, self.bind.as_deref())
    }

    /// The `--allow`/`--deny` rules, the list files included.
    fn acl(&self) -> Result<Acl> {
        acl_of(&self.allow, &self.deny, &self.allow_file, &self.deny_file)
    }
}

/// `--allow`/`--deny` rules plus the networks listed in their files (also
/// used by `kv serve`).
pub(super) fn acl_of(
    allow: &[Cidr],
    deny: &[Cidr],
    allow_file: &[PathBuf],
    deny_file: &[PathBuf],
) -> Result<Acl> {
    let mut acl = Acl {
        allow: allow.to_vec(),
        deny: deny.to_vec(),
    };
    for f in allow_file {
        acl.allow.extend(acl::read_list(f)?);
    }
    for f in deny_file {
        acl.deny.extend(acl::read_list(f)?);
    }
    if !allow_file.is_empty() && acl.allow.is_empty() {
        return Err(error::usage(
            "--allow-file lists no network: every client would be refused",
        ));
    }
    Ok(acl)
}

/// Open the `--hexdump` target, if one was given.
pub(super) fn hexdump_of(spec: Option<&str>) -> Result<Option<Arc<HexDump>>> {
    spec.map(|s| HexDump::open(s).map(Arc::new)).transpose()
}

impl TcpModeArgs {
    fn mode(&self) -> TcpMode {
        if self.echo {
            TcpMode::Echo
        } else if self.upper {
            TcpMode::Upper
        } else if self.discard {
            TcpMode::Discard
        } else if self.source {
            TcpMode::Source
        } else if self.time {
            TcpMode::Time
        } else if self.framed {
            TcpMode::Framed
        } else if self.exec.is_some() || self.sh_exec.is_some() {
            TcpMode::Exec
        } else if self.chat {
            TcpMode::Chat
        } else {
            TcpMode::Listen
        }
    }

    /// The `--exec`/`--sh-exec` command, checked to be runnable.
    fn exec_command(&self) -> Result<Option<ExecCommand>> {
        let cmd = match (&self.exec, &self.sh_exec) {
            (Some(line), _) => ExecCommand::split(line)
                .ok_or_else(|| error::usage("--exec needs a command, e.g. --exec 'tr a-z A-Z'"))?,
            (None, Some(line)) if line.trim().is_empty() => {
                return Err(error::usage(
                    "--sh-exec needs a command, e.g. --sh-exec 'tr a-z A-Z'",
                ));
            }
            (None, Some(line)) => ExecCommand::shell(line),
            (None, None) => return Ok(None),
        };
        if !cmd.is_runnable(std::env::var_os("PATH").as_deref()) {
            return Err(error::usage(format!(
                "--exec: cannot find program '{}' (give a path, or use --sh-exec for shell syntax)",
                cmd.program
            )));
        }
        Ok(Some(cmd))
    }
}

impl TryFrom<&TcpServeArgs> for TcpConfig {
    type Error = anyhow::Error;

    fn try_from(a: &TcpServeArgs) -> Result<TcpConfig> {
        let mode = a.mode.mode();
        let exec = a.mode.exec_command()?;
        if mode == TcpMode::Exec && a.common.idle_timeout.is_some() {
            return Err(error::usage(
                "--idle-timeout does not apply to --exec/--sh-exec: the command owns the socket",
            ));
        }
        let hexdump_modes = [
            TcpMode::Listen,
            TcpMode::Echo,
            TcpMode::Discard,
            TcpMode::Chat,
        ];
        if a.common.hexdump.is_some() && !hexdump_modes.contains(&mode) {
            return Err(error::usage(format!(
                "--hexdump works in listen, --echo, --discard and --chat modes, not --{}",
                mode.name()
            )));
        }
        // -k is harmless with the other modes, which serve many clients anyway,
        // so ncat's `-lk -c CMD` translates as `serve -k --sh-exec CMD`.
        Ok(TcpConfig {
            mode,
            keep_open: a.keep_open,
            max_conns: a.max_conns,
            idle_timeout: a.common.idle_timeout,
            count: a.common.count,
            stream: StreamOptions {
                nodelay: a.nodelay,
                keepalive: a.keepalive,
            },
            max_frame: a.max_frame,
            grace: a.common.grace,
            log: (&a.common.log).into(),
            acl: a.common.acl()?,
            hexdump: hexdump_of(a.common.hexdump.as_deref())?,
            exec,
        })
    }
}

impl TryFrom<&UdpServeArgs> for UdpConfig {
    type Error = anyhow::Error;

    fn try_from(a: &UdpServeArgs) -> Result<UdpConfig> {
        let m = &a.mode;
        let mode = if m.echo {
            UdpMode::Echo
        } else if m.discard {
            UdpMode::Discard
        } else if m.time {
            UdpMode::Time
        } else {
            UdpMode::Listen
        };
        if a.common.idle_timeout.is_some() {
            return Err(error::usage(
                "--idle-timeout applies to TCP connections only",
            ));
        }
        Ok(UdpConfig {
            mode,
            count: a.common.count,
            log: (&a.common.log).into(),
            acl: a.common.acl()?,
            hexdump: hexdump_of(a.common.hexdump.as_deref())?,
        })
    }
}
