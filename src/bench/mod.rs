//! `netkit bench`: throughput, latency, connection rate and UDP loss.
//!
//! This module owns the configuration, the in-process servers (the matching
//! `serve` mode on 127.0.0.1 port 0 when no target is given), the shared
//! counters the workers bump and the supervisor loop that drives the progress
//! bar and the `--interval` rows. Each kind lives in its own file and returns
//! a [`report::Report`]; `report` renders it.
//!
//! - `throughput`: blocks to a discard server, from a source, or both ways through echo.
//! - `latency`: closed-loop ping-pong, or open loop at `--rate` (no coordinated omission).
//! - `connect`: connections opened and closed per second.
//! - `udp`: sequence-numbered datagrams to a UDP echo server (`udp_send`: the
//!   sender; `udp_search`: `--find-rate`).
//! - `report`: tables, JSON, interval rows and the progress bar factory.
//! - `config`: the plain config and its checks; `driver`: counters, clock,
//!   supervisor; `server`: the in-process server.

mod config;
pub mod connect;
mod driver;
pub mod latency;
pub mod mux;
pub mod report;
mod server;
pub mod throughput;
pub mod udp;
mod udp_search;
mod udp_send;

use std::net::SocketAddr;

use anyhow::{Result, anyhow};

use crate::net;
use crate::transport::Stream;
use crate::transport::dial::{self, DialOptions};
use crate::transport::tlsconfig::parse_pin;
use crate::transport::unix::UnixAddr;

pub use config::{
    BenchConfig, DEFAULT_BLOCK, DEFAULT_DATAGRAM, DEFAULT_MESSAGE, Direction, Kind, Limit,
    MAX_BLOCK, MAX_DATAGRAM, MAX_MESSAGE, Output, parse_rate, validate,
};
pub use driver::{Clock, Meter, nanos, new_histogram, no_reply, spawn_named, supervise};
pub use report::Report;
use server::InProcess;

/// Socket buffers asked for on bench sockets (the kernel may cap them).
pub const SOCKET_BUFFER: usize = 4 << 20;

/// Run one bench: start the in-process server if needed, measure, stop it.
pub fn run(cfg: &BenchConfig) -> Result<Report> {
    validate(cfg)?;
    let mut cfg = cfg.clone();
    let (target, server) = match (&cfg.target, &cfg.unix) {
        (Some((host, port)), None) => {
            let addrs = net::resolve(host, *port, net::Family::Any)?;
            (Target::Remote(host.clone(), *port, addrs), None)
        }
        (_, Some(path)) if cfg.target.is_some() || !is_auto(path) => {
            (Target::Unix(path.clone()), None)
        }
        _ => {
            let server = InProcess::start(&cfg)?;
            if let (Some(t), Some(fp)) = (&mut cfg.tls, &server.fingerprint) {
                t.pin = Some(parse_pin(fp).map_err(|e| anyhow!(e))?);
            }
            let target = match &server.unix {
                Some(u) => Target::Unix(u.clone()),
                None => Target::Local(server.addr),
            };
            (target, Some(server))
        }
    };
    cfg.tls_client = cfg.tls.as_ref().map(|t| t.build()).transpose()?;
    let cfg = &cfg;
    let result = match cfg.kind {
        Kind::Throughput => throughput::run(cfg, &target),
        Kind::Latency => latency::run(cfg, &target),
        Kind::Connect => connect::run(cfg, &target, server.as_ref().and_then(|s| s.counters())),
        Kind::Udp => udp::run(cfg, &target),
    };
    let opened = result.as_ref().map_or(0, |r| r.opened);
    let summary = match server {
        Some(s) => Some(s.stop(opened, cfg.timeout)?),
        None => None,
    };
    let mut report = result?;
    report.server = summary;
    report.in_process = cfg.target.is_none();
    Ok(report)
}

/// `--unix` without a path: an in-process server on an abstract socket.
pub const AUTO_UNIX: &str = "@netkit-bench";

fn is_auto(a: &UnixAddr) -> bool {
    *a == UnixAddr::Abstract(AUTO_UNIX.as_bytes()[1..].to_vec())
}

/// Where the workers connect.
#[derive(Debug, Clone)]
pub enum Target {
    /// The in-process server.
    Local(SocketAddr),
    /// A user-given server: its name, port and resolved addresses.
    Remote(String, u16, Vec<SocketAddr>),
    /// A Unix stream socket (in-process or given).
    Unix(UnixAddr),
}

impl Target {
    /// The text shown in reports and errors.
    pub fn describe(&self) -> String {
        match self {
            Target::Local(a) => a.to_string(),
            Target::Remote(h, p, _) => net::host_port(h, *p),
            Target::Unix(u) => u.to_string(),
        }
    }

    /// Connect one stream, with TLS (and its handshake) when the run has it.
    pub fn connect(&self, cfg: &BenchConfig) -> Result<Stream> {
        let target = match self {
            Target::Local(a) => dial::Target::Tcp {
                host: a.ip().to_string(),
                port: a.port(),
            },
            Target::Remote(h, p, _) => dial::Target::Tcp {
                host: h.clone(),
                port: *p,
            },
            Target::Unix(u) => dial::Target::Unix(u.clone()),
        };
        dial::dial(
            &target,
            &DialOptions {
                connect: net::ConnectOptions {
                    timeout: Some(cfg.timeout),
                    ..Default::default()
                },
                tls: cfg.tls_client.clone(),
                ..Default::default()
            },
        )
    }

    /// The first resolved address (for the hot connect loop and UDP).
    pub fn first_addr(&self) -> Option<SocketAddr> {
        match self {
            Target::Local(a) => Some(*a),
            Target::Remote(_, _, addrs) => Some(addrs[0]),
            Target::Unix(_) => None,
        }
    }
}
