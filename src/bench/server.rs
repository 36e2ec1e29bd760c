//! The matching netkit server, run in this process on 127.0.0.1 port 0 when
//! no target is given: discard, source or echo over TCP, echo over UDP.

use std::net::{SocketAddr, TcpListener};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use super::{BenchConfig, Direction, Kind, SOCKET_BUFFER, spawn_named};
use crate::log::{Level, Log, Summary};
use crate::net::{self, StreamOptions};
use crate::serve::{self, TcpConfig, TcpMode, UdpConfig, UdpMode};
use crate::shutdown::Shutdown;

/// The matching netkit server, run in this process on 127.0.0.1 port 0.
pub struct InProcess {
    /// Where it listens.
    pub addr: SocketAddr,
    shutdown: Shutdown,
    handle: JoinHandle<Result<Summary>>,
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
            };
            let handle = spawn_named("bench-server", move || serve::udp::run(socket, s, &scfg))?;
            return Ok(InProcess {
                addr,
                shutdown,
                handle,
            });
        }
        let mode = match (cfg.kind, cfg.direction) {
            (Kind::Throughput, Direction::Send) | (Kind::Connect, _) => TcpMode::Discard,
            (Kind::Throughput, Direction::Receive) => TcpMode::Source,
            _ => TcpMode::Echo,
        };
        let listener: TcpListener = net::bind_tcp(loopback)?;
        let addr = listener.local_addr()?;
        let scfg = TcpConfig {
            mode,
            stream: StreamOptions {
                nodelay: true,
                keepalive: None,
            },
            grace: Duration::from_secs(2),
            log: quiet,
            ..TcpConfig::default()
        };
        let s = shutdown.clone();
        let handle = spawn_named("bench-server", move || serve::tcp::run(listener, s, &scfg))?;
        Ok(InProcess {
            addr,
            shutdown,
            handle,
        })
    }

    /// Stop it and return what it counted.
    pub fn stop(self) -> Result<Summary> {
        self.shutdown.trigger();
        self.handle
            .join()
            .map_err(|_| anyhow!("the in-process server panicked"))?
            .context("the in-process server failed")
    }
}
