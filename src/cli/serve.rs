//! `netkit serve [tcp|udp|unix]`: the arguments and their conversion into
//! [`TcpConfig`] (every stream server: TCP, TLS, Unix) / [`UdpConfig`]
//! (datagrams: UDP, Unix `--dgram`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::LogArgs;
use super::forward::{FaultArgs, UpstreamArgs, parse_target};
use super::tls::TlsServerArgs;
use crate::acl::{self, Acl, Cidr};
use crate::error;
use crate::hexdump::HexDump;
use crate::net::{self, StreamOptions};
use crate::proxy::server::ProxyServer;
use crate::serve::exec::ExecCommand;
use crate::serve::forward::Forward;
use crate::serve::udp_forward::UdpForward;
use crate::serve::{TcpConfig, TcpMode, UdpConfig, UdpMode};
use crate::transport::unix::{self, UnixAddr};
use crate::units::{parse_duration, parse_nonzero_duration, parse_nonzero_size};

/// `netkit serve [tcp|udp|unix] [MODE] [OPTIONS] <[ADDR:]PORT|PATH>`; tcp when omitted.
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
    "  netkit serve --echo --deny 127.0.0.2 --hexdump - 0\n",
    "  netkit serve --tls --echo 4433      TLS with a certificate made at start (its SHA-256 on the listening line)\n",
    "  netkit serve unix --echo /tmp/echo.sock   the same modes on a Unix socket\n\n",
    "Every byte is passed on as it arrives. -k is accepted by every mode; only listen mode changes:\n",
    "there a client that stops reading (1 MiB of stdin waiting, or data unread for 10s) is dropped\n",
    "with a TCP reset; stdin waits at most 1s for a client that takes nothing.\n",
    "Servers bind 127.0.0.1 unless --bind (or ADDR:PORT) says otherwise.\n",
    "The first stderr line is `listening on <addr> (<proto> <mode>)`; port 0 picks a free port.\n",
    "Ctrl-C or SIGTERM stops accepting, lets live connections finish for --grace, prints a summary.\n",
    "A client that vanishes without closing is held for ever unless --idle-timeout or --keepalive\n",
    "releases it (--keepalive=DUR: after about 2 x DUR)."
))]
pub struct ServeArgs {
    /// Protocol; TCP when omitted.
    #[command(subcommand)]
    pub proto: Option<ServeProto>,
    /// TCP options, when no protocol is named.
    #[command(flatten)]
    pub tcp: TcpServeArgs,
}

/// `serve tcp`, `serve udp` or `serve unix`.
#[derive(Debug, Subcommand)]
pub enum ServeProto {
    /// Serve over TCP (the default).
    #[command(
        long_about = "Serve over TCP (the default when no protocol is named): netcat listen \
        mode, one client piped to stdin/stdout (-k: many, stdin to all), or one service per \
        connection: echo, upper, discard, source (chargen), time, framed echo, a command per \
        client (--exec, --sh-exec), a line chat (--chat), a relay (--forward) or a proxy \
        (--socks5, --http-proxy); with --tls, over TLS. Every mode serves its clients at once; \
        one slow client never stalls another."
    )]
    Tcp(TcpServeArgs),
    /// Serve over UDP.
    #[command(
        long_about = "Serve over UDP: datagrams to stdout with stdin lines sent to the last \
        peer, echo, discard, the time service, or a relay (--forward). The port is bound \
        exclusively (no other process shares it); echo and discard run one socket per core and \
        answer in batches. Datagrams from the server's own port, from UDP service ports (7, 9, \
        13, 17, 19, 37) or port 0, and empty ones, are never answered, so a forged source \
        address cannot start a loop."
    )]
    #[command(after_help = concat!(
        "Examples:\n",
        "  netkit serve udp 9000                datagrams to stdout; stdin lines to the last peer\n",
        "  netkit serve udp --time 9000         then: printf TIME | nc -u -w1 127.0.0.1 9000"
    ))]
    Udp(UdpServeArgs),
    /// Serve on a Unix socket (a path, or @name for a Linux abstract socket): every TCP mode, or datagrams with --dgram.
    #[command(after_help = concat!(
        "Examples:\n",
        "  netkit serve unix --echo /tmp/echo.sock     then: netkit connect -U /tmp/echo.sock\n",
        "  netkit serve unix --chat --unix-mode 660 /run/chat.sock\n",
        "  netkit serve unix --dgram --echo @echo      abstract name; then: netkit connect -U -u @echo\n",
        "  netkit serve unix /tmp/in.sock > out.bin    receive one client's bytes, like nc -lU\n\n",
        "A stale socket file (nothing listens on it) is replaced; a live one is an error.\n",
        "The file is removed when the server stops."
    ))]
    Unix(UnixServeArgs),
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
    /// Relay each client to TARGET: HOST:PORT, or a Unix socket /path or @name (like socat TCP-LISTEN,fork TCP:HOST:PORT).
    #[arg(long, value_name = "TARGET", help_heading = "Modes")]
    pub forward: Option<String>,
    /// A SOCKS5 proxy (CONNECT; names resolved here), like microsocks.
    #[arg(long, help_heading = "Modes")]
    pub socks5: bool,
    /// An HTTP proxy for CONNECT tunnels only, like ncat -l --proxy-type http.
    #[arg(long, help_heading = "Modes")]
    pub http_proxy: bool,
}

/// Where an IP server listens.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Where to listen: PORT, ADDR:PORT or [V6]:PORT (0 picks a free port).
    #[arg(value_name = "[ADDR:]PORT", required = true)]
    pub addr: Option<String>,
    /// Address to bind (default 127.0.0.1; 0.0.0.0 or :: accept other hosts).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
}

/// Options every server shares.
#[derive(Debug, Args)]
pub struct ServerCommonArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// Exit after this many connections (UDP: datagrams).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Close a connection with no traffic for this long (e.g. 30s; datagrams: a --forward session).
    #[arg(long, value_name = "DURATION", value_parser = parse_nonzero_duration)]
    pub idle_timeout: Option<Duration>,
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

/// Options of every stream server (TCP and Unix).
#[derive(Debug, Args)]
pub struct StreamServeArgs {
    /// Keep listening after the first client (listen mode: many clients, stdin to all; the other modes always do).
    #[arg(short = 'k', long)]
    pub keep_open: bool,
    /// At most N connections at once; further clients are accepted and closed at once
    /// [default: 100 with --exec/--sh-exec (a process each), else no limit].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_conns: Option<u64>,
    /// --framed: the largest frame accepted; a bigger length closes the connection [default: 16MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_nonzero_size)]
    pub max_frame: Option<u64>,
    /// On Ctrl-C/SIGTERM, how long live connections may take to finish.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub grace: Duration,
    #[command(flatten)]
    pub tls: TlsServerArgs,
}

/// `serve tcp` options.
#[derive(Debug, Args)]
pub struct TcpServeArgs {
    #[command(flatten)]
    pub mode: TcpModeArgs,
    #[command(flatten)]
    pub listen: ListenArgs,
    #[command(flatten)]
    pub common: ServerCommonArgs,
    #[command(flatten)]
    pub stream: StreamServeArgs,
    /// Set TCP_NODELAY on each connection (modes that forward bytes always do).
    #[arg(long)]
    pub nodelay: bool,
    /// Drop a client that vanished without closing (no FIN or RST) after about 2 x DURATION:
    /// probes start after DURATION of silence, then every DURATION/3; 3 unanswered probes (or
    /// unacknowledged data for as long) end it. Only as --keepalive or --keepalive=DURATION.
    #[arg(long, value_name = "DURATION", value_parser = parse_nonzero_duration, num_args = 0..=1, require_equals = true, default_missing_value = "60s")]
    pub keepalive: Option<Duration>,
    #[command(flatten)]
    pub upstream: UpstreamArgs,
    #[command(flatten)]
    pub faults: FaultArgs,
}

/// `serve unix` options.
#[derive(Debug, Args)]
pub struct UnixServeArgs {
    #[command(flatten)]
    pub mode: TcpModeArgs,
    /// The socket: a filesystem path, or @name for a Linux abstract socket.
    #[arg(value_name = "PATH")]
    pub path: String,
    /// Datagrams (SOCK_DGRAM) instead of a stream; modes: listen, --echo, --discard, --time.
    #[arg(long)]
    pub dgram: bool,
    /// Permissions of the socket file, in octal: who may connect (e.g. 660, 600).
    #[arg(long, value_name = "MODE", value_parser = unix::parse_mode)]
    pub unix_mode: Option<u32>,
    #[command(flatten)]
    pub common: ServerCommonArgs,
    #[command(flatten)]
    pub stream: StreamServeArgs,
    #[command(flatten)]
    pub upstream: UpstreamArgs,
    #[command(flatten)]
    pub faults: FaultArgs,
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
    /// Relay datagrams to HOST:PORT, one upstream socket per client (ended after --idle-timeout, default 60s).
    #[arg(long, value_name = "HOST:PORT", help_heading = "Modes")]
    pub forward: Option<String>,
}

/// `serve udp` options.
#[derive(Debug, Args)]
pub struct UdpServeArgs {
    #[command(flatten)]
    pub mode: UdpModeArgs,
    #[command(flatten)]
    pub listen: ListenArgs,
    #[command(flatten)]
    pub common: ServerCommonArgs,
    #[command(flatten)]
    pub faults: FaultArgs,
    /// Accepted for nc -luk / ncat -luk: every UDP mode already serves all peers
    /// (hidden: it changes nothing here).
    #[arg(short = 'k', long, hide = true)]
    pub keep_open: bool,
}

impl ServeArgs {
    /// The TCP or UDP arguments, whichever way they were spelled.
    pub fn into_proto(self) -> ServeProto {
        self.proto.unwrap_or(ServeProto::Tcp(self.tcp))
    }
}

impl ListenArgs {
    /// The address to bind: `[ADDR:]PORT` with `--bind`, loopback by default.
    pub fn listen_addr(&self) -> Result<SocketAddr> {
        let spec = self.addr.as_deref().ok_or_else(|| {
            error::usage("give a port to listen on, e.g. 7878 (0 picks a free one)")
        })?;
        net::listen_addr(spec, self.bind.as_deref())
    }

    /// Names a generated TLS certificate should also carry: the host given.
    fn names(&self) -> Vec<String> {
        let from_spec = self
            .addr
            .as_deref()
            .and_then(|a| net::split_host_port(a).ok())
            .and_then(|(h, p)| p.map(|_| h));
        from_spec
            .into_iter()
            .chain(self.bind.clone())
            .map(|h| h.trim_matches(['[', ']']).to_string())
            .filter(|h| !h.is_empty())
            .collect()
    }
}

impl UnixServeArgs {
    /// The socket address.
    pub fn unix_addr(&self) -> Result<UnixAddr> {
        UnixAddr::parse(&self.path)
    }
}

impl ServerCommonArgs {
    /// `--allow`/`--deny` filter IP clients; a Unix socket's gate is its file mode.
    fn no_acl_for_unix(&self) -> Result<()> {
        if !self.allow.is_empty()
            || !self.deny.is_empty()
            || !self.allow_file.is_empty()
            || !self.deny_file.is_empty()
        {
            return Err(error::usage(
                "--allow/--deny filter IP addresses; on a Unix socket use --unix-mode (file permissions)",
            ));
        }
        Ok(())
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
        } else if self.forward.is_some() {
            TcpMode::Forward
        } else if self.socks5 {
            TcpMode::Socks5
        } else if self.http_proxy {
            TcpMode::HttpProxy
        } else {
            TcpMode::Listen
        }
    }

    /// The `--exec`/`--sh-exec` command, checked to be runnable.
    fn exec_command(&self) -> Result<Option<ExecCommand>> {
        exec_command(self.exec.as_deref(), self.sh_exec.as_deref())
    }
}

/// `--exec`/`--sh-exec` (serve and connect), checked to be runnable.
pub(super) fn exec_command(
    exec: Option<&str>,
    sh_exec: Option<&str>,
) -> Result<Option<ExecCommand>> {
    let cmd = match (exec, sh_exec) {
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

/// The config of a stream server, TCP or Unix: what the two share.
fn stream_config(
    mode_args: &TcpModeArgs,
    common: &ServerCommonArgs,
    s: &StreamServeArgs,
    sock: StreamOptions,
    names: &[String],
    upstream: &UpstreamArgs,
    fault_args: &FaultArgs,
) -> Result<TcpConfig> {
    let mode = mode_args.mode();
    let faults = fault_args.faults(mode == TcpMode::Forward, false)?;
    let forward = match &mode_args.forward {
        Some(t) => Some(Forward {
            target: parse_target(t)?,
            upstream: upstream.dial_options()?,
            faults,
        }),
        None => {
            upstream.check_unused("applies to --forward")?;
            None
        }
    };
    let proxy = match mode {
        TcpMode::Socks5 | TcpMode::HttpProxy => Some(ProxyServer {
            auth: upstream.proxy_auth.clone(),
            upstream: upstream.dial_options()?,
            idle_timeout: common.idle_timeout,
            log: (&common.log).into(),
        }),
        _ if upstream.proxy_auth.is_some() => {
            return Err(error::usage(
                "--proxy-auth applies to --socks5 and --http-proxy",
            ));
        }
        _ => None,
    };
    let exec = mode_args.exec_command()?;
    if s.max_frame.is_some() && mode != TcpMode::Framed {
        return Err(error::usage("--max-frame applies to --framed"));
    }
    if mode == TcpMode::Listen && !s.keep_open {
        // One client, then exit: there is nothing to count or cap.
        if s.max_conns.is_some() {
            return Err(error::usage(
                "--max-conns needs many clients: add -k, or pick a mode",
            ));
        }
        if common.count.is_some() {
            return Err(error::usage(
                "--count needs many clients: add -k, or pick a mode",
            ));
        }
    }
    if mode == TcpMode::Exec && common.idle_timeout.is_some() {
        return Err(error::usage(
            "--idle-timeout does not apply to --exec/--sh-exec: the command owns the socket",
        ));
    }
    let hexdump_modes = [
        TcpMode::Listen,
        TcpMode::Echo,
        TcpMode::Discard,
        TcpMode::Chat,
        TcpMode::Forward,
    ];
    if common.hexdump.is_some() && !hexdump_modes.contains(&mode) {
        return Err(error::usage(format!(
            "--hexdump works in listen, --echo, --discard, --chat and --forward modes, not --{}",
            mode.name()
        )));
    }
    // -k is harmless with the other modes, which serve many clients anyway,
    // so ncat's `-lk -c CMD` translates as `serve -k --sh-exec CMD`.
    Ok(TcpConfig {
        mode,
        keep_open: s.keep_open,
        // A process per client: 400 clients must not make 800 processes.
        max_conns: s
            .max_conns
            .or((mode == TcpMode::Exec).then_some(crate::serve::exec::DEFAULT_MAX_CONNS)),
        idle_timeout: common.idle_timeout,
        count: common.count,
        stream: sock,
        max_frame: s.max_frame.unwrap_or(16 << 20),
        grace: s.grace,
        log: (&common.log).into(),
        acl: common.acl()?,
        hexdump: hexdump_of(common.hexdump.as_deref())?,
        exec,
        tls: s.tls.build(names)?,
        forward,
        proxy,
    })
}

impl TryFrom<&TcpServeArgs> for TcpConfig {
    type Error = anyhow::Error;

    fn try_from(a: &TcpServeArgs) -> Result<TcpConfig> {
        let sock = StreamOptions {
            nodelay: a.nodelay,
            keepalive: a.keepalive,
        };
        stream_config(
            &a.mode,
            &a.common,
            &a.stream,
            sock,
            &a.listen.names(),
            &a.upstream,
            &a.faults,
        )
    }
}

/// `serve unix` without `--dgram`.
impl TryFrom<&UnixServeArgs> for TcpConfig {
    type Error = anyhow::Error;

    fn try_from(a: &UnixServeArgs) -> Result<TcpConfig> {
        a.common.no_acl_for_unix()?;
        stream_config(
            &a.mode,
            &a.common,
            &a.stream,
            StreamOptions::default(),
            &[],
            &a.upstream,
            &a.faults,
        )
    }
}

/// `serve unix --dgram`: the datagram modes.
impl TryFrom<&UnixServeArgs> for UdpConfig {
    type Error = anyhow::Error;

    fn try_from(a: &UnixServeArgs) -> Result<UdpConfig> {
        a.common.no_acl_for_unix()?;
        let mode = match a.mode.mode() {
            TcpMode::Listen => UdpMode::Listen,
            TcpMode::Echo => UdpMode::Echo,
            TcpMode::Discard => UdpMode::Discard,
            TcpMode::Time => UdpMode::Time,
            TcpMode::Forward => UdpMode::Forward,
            other => {
                return Err(error::usage(format!(
                    "--dgram serves datagrams: listen, --echo, --discard, --time or --forward, not --{}",
                    other.name()
                )));
            }
        };
        if a.stream.tls.wanted() {
            return Err(error::usage("--tls is for streams, not --dgram"));
        }
        // -k is accepted (nc -lUuk): a datagram server serves every peer anyway.
        if a.stream.max_conns.is_some() {
            return Err(error::usage("--max-conns is for streams, not --dgram"));
        }
        a.upstream.check_unused("is for streams, not --dgram")?;
        datagram_config(
            mode,
            a.mode.forward.as_deref(),
            &a.common,
            &a.faults,
            Acl::default(),
        )
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
        } else if m.forward.is_some() {
            UdpMode::Forward
        } else {
            UdpMode::Listen
        };
        datagram_config(
            mode,
            m.forward.as_deref(),
            &a.common,
            &a.faults,
            a.common.acl()?,
        )
    }
}

/// The config of a datagram server, UDP or Unix `--dgram`.
fn datagram_config(
    mode: UdpMode,
    forward: Option<&str>,
    common: &ServerCommonArgs,
    fault_args: &FaultArgs,
    acl: Acl,
) -> Result<UdpConfig> {
    let faults = fault_args.faults(forward.is_some(), true)?;
    let forward = match forward {
        Some(t) => Some(UdpForward {
            target: parse_target(t)?,
            faults,
            idle: common.idle_timeout.unwrap_or(Duration::from_secs(60)),
        }),
        None => {
            if common.idle_timeout.is_some() {
                return Err(error::usage(
                    "--idle-timeout applies to streams, and to datagram --forward sessions",
                ));
            }
            None
        }
    };
    if forward.is_some() && common.hexdump.is_some() {
        return Err(error::usage(
            "--hexdump is not available with datagram --forward",
        ));
    }
    Ok(UdpConfig {
        mode,
        count: common.count,
        log: (&common.log).into(),
        acl,
        hexdump: hexdump_of(common.hexdump.as_deref())?,
        forward,
    })
}
