//! The matching netkit server, run in this process when no target is
//! given: discard, source or echo over TCP (with `--tls`, TLS; with
//! `--unix`, on an abstract Unix socket), echo over UDP.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};

use super::{AUTO_UNIX, BenchConfig, Direction, Kind, SOCKET_BUFFER, spawn_named};
use crate::log::{Level, Log, Summary};
use crate::net::{self, StreamOptions};
use crate::serve::tcp::Counters;
use crate::serve::{self, TcpConfig, TcpMode, UdpConfig, UdpMode};
use crate::shutdown::Shutdown;
use crate::transport::listener::Listener;
use crate::transport::tlsconfig::TlsServerOptions;
use crate::transport::unix::{self, UnixAddr};

/// The matching netkit server, run in this process on 127.0.0.1 port 0.
pub struct InProcess {
    /// Where it listens.
    pub addr: SocketAddr,
    /// `--unix`: the abstract socket it listens on.
    pub unix: Option<UnixAddr>,
    /// `--tls`: its certificate's SHA-256, for the client's pin.
    pub fingerprint: Option<String>,
    shutdown: Shutdown,
    handle: JoinHandle<Result<Summary>>,
    /// The TCP server's running totals (none for UDP).
    counters: Option<Arc<Counters>>,
}

impl InProcess {
    /// Start the server `cfg` needs.
    pub fn start(cfg: &BenchConfig) -> Result<InProcess> {
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
                counters: None,
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
        let (listener, addr, unix): (Listener, SocketAddr, Option<UnixAddr>) = if cfg.unix.is_some()
        {
            // A name of our own, so runs at the same time never meet.
            static N: AtomicU64 = AtomicU64::new(0);
            let name = format!(
                "{AUTO_UNIX}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            );
            let path = UnixAddr::parse(&name)?;
            let (listener, _) = unix::bind_listener(&path, None)?;
            (listener.into(), loopback, Some(path))
        } else {
            let listener: TcpListener = net::bind_tcp(loopback)?;
            let addr = listener.local_addr()?;
            (listener.into(), addr, None)
        };
        let (s, counters) = (shutdown.clone(), Arc::new(Counters::default()));
        let c = counters.clone();
        let handle = spawn_named("bench-server", move || {
            serve::tcp::run_counted(listener, s, &scfg, c)
        })?;
        Ok(InProcess {
            addr,
            unix,
            fingerprint,
            shutdown,
            handle,
            counters: Some(counters),
        })
    }

    /// The TCP server's running totals (none for UDP).
    pub fn counters(&self) -> Option<Arc<Counters>> {
        self.counters.clone()
    }

    /// Stop it and return what it counted. A TCP server is first given up
    /// to `patience` to accept the `opened` connections the client made:
    /// the last ones may still wait in its backlog (a loaded machine leaves
    /// thousands there), and a stop would reset them uncounted.
    pub fn stop(self, opened: u64, patience: Duration) -> Result<Summary> {
        if let Some(c) = &self.counters {
            let deadline = Instant::now() + patience;
            while c.connections.load(Ordering::Acquire) < opened
                && Instant::now() < deadline
                && !self.handle.is_finished()
            {
                thread::sleep(Duration::from_millis(1));
            }
        }
        self.shutdown.trigger();
        self.handle
            .join()
            .map_err(|_| anyhow!("the in-process server panicked"))?
            .context("the in-process server failed")
    }
}
