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
use std::time::Duration;

use anyhow::Result;

use crate::net;

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
    let (target, server) = match &cfg.target {
        Some((host, port)) => {
            let addrs = net::resolve(host, *port, net::Family::Any)?;
            (Target::Remote(host.clone(), *port, addrs), None)
        }
        None => {
            let server = InProcess::start(cfg)?;
            (Target::Local(server.addr), Some(server))
        }
    };
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

/// Where the workers connect.
#[derive(Debug, Clone)]
pub enum Target {
    /// The in-process server.
    Local(SocketAddr),
    /// A user-given server: its name, port and resolved addresses.
    Remote(String, u16, Vec<SocketAddr>),
}

impl Target {
    /// The text shown in reports and errors.
    pub fn describe(&self) -> String {
        match self {
            Target::Local(a) => a.to_string(),
            Target::Remote(h, p, _) => net::host_port(h, *p),
        }
    }

    /// Connect a TCP stream, trying every address; a refusal or timeout keeps its exit code.
    pub fn connect_tcp(&self, timeout: Duration) -> Result<std::net::TcpStream> {
        let opts = net::ConnectOptions {
            timeout: Some(timeout),
            ..Default::default()
        };
        match self {
            Target::Local(a) => net::connect_tcp(&a.ip().to_string(), a.port(), &opts),
            Target::Remote(h, p, _) => net::connect_tcp(h, *p, &opts),
        }
    }

    /// The first resolved address (for the hot connect loop and UDP).
    pub fn first_addr(&self) -> SocketAddr {
        match self {
            Target::Local(a) => *a,
            Target::Remote(_, _, addrs) => addrs[0],
        }
    }
}
