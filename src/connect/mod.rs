//! `netkit connect`: a TCP client that pipes stdin/stdout through the socket
//! (see `crate::pipe`), or a UDP client (`udp`).

pub mod udp;

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use crate::hexdump::HexDump;
use crate::net::{self, ConnectOptions, StreamOptions};
use crate::pipe::{self, Counters, PipeOptions};

/// Everything `connect` needs, free of clap types.
#[derive(Debug, Clone)]
pub struct ConnectConfig {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// UDP instead of TCP.
    pub udp: bool,
    /// Timeout, family, source address.
    pub connect: ConnectOptions,
    /// Socket options.
    pub stream: StreamOptions,
    /// Pipe behaviour at the ends.
    pub pipe: PipeOptions,
    /// UDP: how long to wait for replies after stdin EOF.
    pub reply_timeout: Duration,
    /// Report the connection and its end on stderr.
    pub verbose: bool,
    /// `--hexdump`: record both directions.
    pub hexdump: Option<Arc<HexDump>>,
}

/// Connect and run the session until both sides are done.
pub fn run(cfg: &ConnectConfig) -> Result<()> {
    if cfg.udp {
        return udp::run(cfg);
    }
    let stream = net::connect_tcp(&cfg.host, cfg.port, &cfg.connect)?;
    cfg.stream.apply(&stream)?;
    if cfg.verbose {
        if let (Ok(peer), Ok(local)) = (stream.peer_addr(), stream.local_addr()) {
            eprintln!("netkit: connected to {peer} from {local}");
        }
    }
    let mut opts = cfg.pipe.clone();
    opts.input_is_tty = std::io::stdin().is_terminal();
    if let Some(d) = &cfg.hexdump {
        opts.tap = Some(d.tap(stream.peer_addr().ok()));
    }
    let outcome = pipe::run(
        stream,
        pipe::stdin_file()?,
        pipe::stdout_file()?,
        &opts,
        Arc::new(Counters::default()),
        None,
    )?;
    if cfg.verbose {
        eprintln!(
            "netkit: {}: sent {} bytes, received {} bytes",
            outcome.end.describe(),
            outcome.sent,
            outcome.received
        );
    }
    Ok(())
}
