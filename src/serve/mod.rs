//! Servers. Each entry point takes an already bound socket, a shutdown handle
//! and a config, and returns a summary: `main` and the tests bind, the server
//! serves. Stream modes run on any [`crate::transport::Stream`] (TCP, TLS,
//! Unix), datagram modes on UDP or Unix datagram sockets.
//!
//! - `tcp`: the accept loop, connection limits, a thread per connection and
//!   the graceful stop; it dispatches to one handler per mode.
//! - `evloop`: `--echo` on a few readiness loops instead of a thread per client.
//! - `services`: the inetd classics (echo, upper, discard, source, time).
//! - `framed`: the length-prefixed echo and its pure header parser.
//! - `listen`: netcat listen mode (stdin/stdout), single client or `-k`.
//! - `broadcast`: bounded per-client queues for one-to-many sends.
//! - `exec`: `--exec`/`--sh-exec`, a process per connection on the socket.
//! - `fdbudget`: how many connections fit under the open-file limit.
//! - `chat`: `--chat`, lines from each client to all the others.
//! - `forward`: `--forward`, each client relayed to a target, with faults.
//! - `udp`: the UDP modes, in batches; `dgram`: the same on a Unix datagram
//!   socket; `udp_sockets`: one
//!   UDP socket per core on one port; `udp_guard`: which datagrams are never
//!   answered.
//! - `udp_forward`: `serve udp --forward`, one upstream socket per client.

pub mod broadcast;
pub mod chat;
mod conns;
mod dgram;
mod end;
pub mod evloop;
pub mod exec;
pub mod fdbudget;
pub mod forward;
pub mod framed;
pub mod listen;
pub mod services;
pub mod tcp;
pub mod udp;
pub mod udp_forward;
pub mod udp_guard;
pub mod udp_sockets;
mod udp_stdin;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::acl::Acl;
use crate::hexdump::HexDump;
use crate::log::{Listening, Log};
use crate::net::{self, StreamOptions};
use crate::shutdown::Shutdown;
use crate::transport::listener::Listener;
use crate::transport::tlsconfig::TlsServer;
use crate::transport::unix::{self, UnixAddr};

/// `netkit serve tcp`: bind `addr`, print the listening line, serve until
/// `--count` or a signal, print the summary.
pub fn listen_and_serve_tcp(addr: SocketAddr, cfg: &TcpConfig) -> Result<()> {
    let listener = net::bind_tcp(addr)?;
    let local = listener.local_addr()?;
    let shutdown = stop_on_signals()?;
    announce(cfg, local.to_string(), "tcp", net::loopback_note(&local));
    serve_stream(listener.into(), shutdown, cfg)
}

/// A stop handle that SIGINT/SIGTERM trigger. Installed before the
/// listening line: whoever reads it may stop the server at once.
fn stop_on_signals() -> Result<Shutdown> {
    let shutdown = Shutdown::new();
    shutdown.stop_on_signals()?;
    Ok(shutdown)
}

/// `netkit serve unix`: bind the socket (replacing a stale file), print the
/// listening line, serve; the socket file is removed at the end.
pub fn listen_and_serve_unix(addr: &UnixAddr, mode: Option<u32>, cfg: &TcpConfig) -> Result<()> {
    let (listener, file) = unix::bind_listener(addr, mode)?;
    let shutdown = stop_on_signals()?;
    announce(cfg, addr.to_string(), "unix", None);
    let r = serve_stream(listener.into(), shutdown, cfg);
    drop(file);
    r
}

/// `netkit serve unix --dgram`.
pub fn listen_and_serve_unix_dgram(
    addr: &UnixAddr,
    mode: Option<u32>,
    cfg: &UdpConfig,
) -> Result<()> {
    let (socket, file) = unix::bind_datagram(addr, mode)?;
    let shutdown = stop_on_signals()?;
    cfg.log.announce(&Listening {
        addr: addr.to_string(),
        proto: "unixgram",
        mode: &cfg.describe(),
        tls_sha256: None,
        note: None,
    });
    let started = Instant::now();
    let r = udp::run(socket, shutdown, cfg);
    drop(file);
    cfg.log.summary(&r?, started.elapsed(), "datagrams");
    Ok(())
}

/// The listening line of a stream server: `tls` (or `unix+tls`) and the
/// certificate's fingerprint with `--tls`.
fn announce(cfg: &TcpConfig, addr: String, proto: &str, note: Option<&str>) {
    let proto = match (&cfg.tls, proto) {
        (None, p) => p.to_string(),
        (Some(_), "tcp") => "tls".to_string(),
        (Some(_), p) => format!("{p}+tls"),
    };
    let mode = match &cfg.forward {
        Some(f) => {
            let faults = f
                .faults
                .as_ref()
                .map(|x| format!(", {}", x.describe()))
                .unwrap_or_default();
            let tls = if f.upstream.tls.is_some() {
                " over TLS"
            } else {
                ""
            };
            format!("forward to {}{tls}{faults}", f.target)
        }
        None => cfg.mode.name().to_string(),
    };
    cfg.log.announce(&Listening {
        addr,
        proto: &proto,
        mode: &mode,
        tls_sha256: cfg.tls.as_ref().map(|t| t.fingerprint.as_str()),
        note,
    });
}

fn serve_stream(listener: Listener, shutdown: Shutdown, cfg: &TcpConfig) -> Result<()> {
    let started = Instant::now();
    let summary = tcp::run(listener, shutdown, cfg)?;
    cfg.log.summary(&summary, started.elapsed(), "connections");
    Ok(())
}

/// `netkit serve udp`: the same for a UDP socket.
pub fn listen_and_serve_udp(addr: SocketAddr, cfg: &UdpConfig) -> Result<()> {
    let socket = net::bind_udp(addr)?;
    let local = socket.local_addr()?;
    let shutdown = stop_on_signals()?;
    let group = udp::group(socket, cfg);
    cfg.log.announce(&Listening {
        addr: local.to_string(),
        proto: "udp",
        mode: &cfg.describe(),
        tls_sha256: None,
        note: net::loopback_note(&local),
    });
    let started = Instant::now();
    let summary = udp::run_group(group, shutdown, cfg)?;
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
    /// Relay each client to a target (`TcpConfig::forward`).
    Forward,
    /// A SOCKS5 proxy (`TcpConfig::proxy`).
    Socks5,
    /// An HTTP CONNECT proxy (`TcpConfig::proxy`).
    HttpProxy,
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
            TcpMode::Forward => "forward",
            TcpMode::Socks5 => "socks5",
            TcpMode::HttpProxy => "http-proxy",
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
    /// Relay to a target (`UdpConfig::forward`).
    Forward,
}

impl UdpMode {
    /// The name shown in the listening line.
    pub fn name(self) -> &'static str {
        match self {
            UdpMode::Listen => "listen",
            UdpMode::Echo => "echo",
            UdpMode::Discard => "discard",
            UdpMode::Time => "time",
            UdpMode::Forward => "forward",
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
    /// `--tls`: every connection is a TLS session with this configuration.
    pub tls: Option<TlsServer>,
    /// `--forward`: the target, how to reach it, and the faults to inject.
    pub forward: Option<forward::Forward>,
    /// `--socks5`/`--http-proxy`: credentials and how targets are dialed.
    pub proxy: Option<crate::proxy::server::ProxyServer>,
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
            tls: None,
            forward: None,
            proxy: None,
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
    /// `--forward`: the target, faults and session idle timeout.
    pub forward: Option<udp_forward::UdpForward>,
}

impl UdpConfig {
    /// The mode as the listening line describes it.
    pub fn describe(&self) -> String {
        match &self.forward {
            Some(f) => {
                let faults = f
                    .faults
                    .as_ref()
                    .map(|x| format!(", {}", x.describe()))
                    .unwrap_or_default();
                format!("forward to {}{faults}", f.target)
            }
            None => self.mode.name().to_string(),
        }
    }
}
