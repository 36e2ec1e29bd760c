//! Servers. Each entry point takes an already bound socket, a shutdown handle
//! and a config, and returns a summary: `main` and the tests bind, the server
//! serves.
//!
//! - `tcp`: the accept loop, connection limits, a thread per connection and
//!   the graceful stop; it dispatches to one handler per mode.
//! - `evloop`: `--echo` on a few readiness loops instead of a thread per client.
//! - `services`: the inetd classics (echo, upper, discard, source, time).
//! - `framed`: the length-prefixed echo and its pure header parser.
//! - `listen`: netcat listen mode (stdin/stdout), single client or `-k`.
//! - `broadcast`: bounded per-client queues for one-to-many sends.
//! - `exec`: `--exec`/`--sh-exec`, a process per connection on the socket.
//! - `chat`: `--chat`, lines from each client to all the others.
//! - `udp`: the UDP modes on one socket.

pub mod broadcast;
pub mod chat;
pub mod evloop;
pub mod exec;
pub mod framed;
pub mod listen;
pub mod services;
pub mod tcp;
pub mod udp;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::acl::Acl;
use crate::hexdump::HexDump;
use crate::log::Log;
use crate::net::{self, StreamOptions};
use crate::shutdown::Shutdown;

/// `netkit serve tcp`: bind `addr`, print the listening line, serve until
/// `--count` or a signal, print the summary.
pub fn listen_and_serve_tcp(addr: SocketAddr, cfg: &TcpConfig) -> Result<()> {
    let listener = net::bind_tcp(addr)?;
    let local = listener.local_addr()?;
    cfg.log
        .listening(local, "tcp", cfg.mode.name(), net::loopback_note(&local));
    let shutdown = Shutdown::new();
    shutdown.stop_on_signals()?;
    let started = Instant::now();
    let summary = tcp::run(listener, shutdown, cfg)?;
    cfg.log.summary(&summary, started.elapsed(), "connections");
    Ok(())
}

/// `netkit serve udp`: the same for a UDP socket.
pub fn listen_and_serve_udp(addr: SocketAddr, cfg: &UdpConfig) -> Result<()> {
    let socket = net::bind_udp(addr)?;
    let local = socket.local_addr()?;
    cfg.log
        .listening(local, "udp", cfg.mode.name(), net::loopback_note(&local));
    let shutdown = Shutdown::new();
    shutdown.stop_on_signals()?;
    let started = Instant::now();
    let summary = udp::run(socket, shutdown, cfg)?;
    cfg.log.summary(&summary, started.elapsed(), "datagrams");
    Ok(())
}

/// What a TCP server does with each connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpMode {
    /// netcat listen: the client's bytes to stdout, stdin to the client.
    Listen,
    /// RFC 862 echo.
    Echo,
    /// Line echo, upper-cased.
    Upper,
    /// RFC 863 discard.
    Discard,
    /// RFC 864 chargen, endless.
    Source,
    /// Unix time, then close.
    Time,
    /// Length-prefixed frame echo.
    Framed,
    /// A process per connection (`TcpConfig::exec` says which).
    Exec,
    /// Lines from each client to all others.
    Chat,
}

impl TcpMode {
    /// The name shown in the listening line.
    pub fn name(self) -> &'static str {
        match self {
            TcpMode::Listen => "listen",
            TcpMode::Echo => "echo",
            TcpMode::Upper => "upper",
            TcpMode::Discard => "discard",
            TcpMode::Source => "source",
            TcpMode::Time => "time",
            TcpMode::Framed => "framed",
            TcpMode::Exec => "exec",
            TcpMode::Chat => "chat",
        }
    }
}

/// What a UDP server does with each datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdpMode {
    /// Datagrams to stdout; stdin lines to the last peer.
    Listen,
    /// Every datagram back to its sender.
    Echo,
    /// Count only.
    Discard,
    /// `TIME` answered with the Unix time.
    Time,
}

impl UdpMode {
    /// The name shown in the listening line.
    pub fn name(self) -> &'static str {
        match self {
            UdpMode::Listen => "listen",
            UdpMode::Echo => "echo",
            UdpMode::Discard => "discard",
            UdpMode::Time => "time",
        }
    }
}

/// Configuration of a TCP server.
#[derive(Debug, Clone)]
pub struct TcpConfig {
    /// The service.
    pub mode: TcpMode,
    /// Listen mode: keep accepting after the first client.
    pub keep_open: bool,
    /// At most this many live connections; more are accepted and closed at once.
    pub max_conns: Option<u64>,
    /// Close a connection with no traffic for this long.
    pub idle_timeout: Option<Duration>,
    /// Stop accepting after this many connections, then exit when they end.
    pub count: Option<u64>,
    /// Options set on each accepted stream.
    pub stream: StreamOptions,
    /// Largest frame `--framed` accepts.
    pub max_frame: u64,
    /// How long live connections may take to finish after a stop request.
    pub grace: Duration,
    /// Diagnostics.
    pub log: Log,
    /// Which clients are admitted (`--allow`/`--deny`); open by default.
    pub acl: Acl,
    /// `--hexdump`: where chunks in both directions are recorded.
    pub hexdump: Option<Arc<HexDump>>,
    /// `--exec`/`--sh-exec`: the command `TcpMode::Exec` runs.
    pub exec: Option<exec::ExecCommand>,
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            mode: TcpMode::Echo,
            keep_open: false,
            max_conns: None,
            idle_timeout: None,
            count: None,
            stream: StreamOptions::default(),
            max_frame: 16 << 20,
            grace: Duration::from_secs(5),
            log: Log::default(),
            acl: Acl::default(),
            hexdump: None,
            exec: None,
        }
    }
}

/// Configuration of a UDP server.
#[derive(Debug, Clone)]
pub struct UdpConfig {
    /// The service.
    pub mode: UdpMode,
    /// Stop after this many datagrams.
    pub count: Option<u64>,
    /// Diagnostics.
    pub log: Log,
    /// Whose datagrams are handled (`--allow`/`--deny`); others are ignored.
    pub acl: Acl,
    /// `--hexdump`: where datagrams in both directions are recorded.
    pub hexdump: Option<Arc<HexDump>>,
}
