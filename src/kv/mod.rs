//! `netkit kv`: a small key-value server speaking RESP2 (so redis-cli and
//! Redis client libraries work) and a line protocol (so nc works), plus a
//! redis-cli-like client.
//!
//! - `protocol`: pure parsers (bytes -> need more | command | error) and the reply parser.
//! - `command`: executes a parsed command against the store, writes the reply.
//! - `store`: the sharded, expiring key space.
//! - `aof`: the append-only log behind `--data`, replay, torn-tail repair, compaction.
//! - `server`: the readiness-loop socket layer (why: see its module docs).
//! - `stream`: a connection, plain TCP or TLS (`kv serve --tls`).
//! - `client`: one-shot commands, reply formatting and the REPL.

pub mod aof;
pub mod client;
pub mod command;
pub mod protocol;
pub mod server;
pub mod store;
pub mod stream;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::log::Log;
use crate::net;
use crate::shutdown::Shutdown;
use aof::{Aof, Fsync};
use store::{Store, now_ms};

/// How the store was opened, for the startup line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// Records replayed from the log.
    pub records: u64,
    /// Live keys after replay.
    pub keys: usize,
    /// Bytes dropped from a torn or corrupt tail.
    pub dropped: u64,
}

/// Open the store: in memory only, or replayed from (and logging to) `data`.
/// A torn or corrupt tail is truncated with a warning on `log`.
pub fn open_store(data: Option<&Path>, fsync: Fsync, log: &Log) -> Result<(Arc<Store>, Opened)> {
    let Some(path) = data else {
        return Ok((
            Arc::new(Store::new(None)),
            Opened {
                records: 0,
                keys: 0,
                dropped: 0,
            },
        ));
    };
    let mem = Store::new(None);
    let now = now_ms();
    let replay = aof::replay(path, |rec| mem.apply(rec, now))
        .with_context(|| format!("cannot read the log {}", path.display()))?;
    if replay.dropped > 0 {
        log.warn(&format!(
            "warning: {}: dropped {} bytes of a torn or corrupt record at offset {}; kept {} good records",
            path.display(),
            replay.dropped,
            replay.bad_at.unwrap_or(0),
            replay.records
        ));
    }
    let aof = Aof::open(path, fsync)
        .with_context(|| format!("cannot open the log {}", path.display()))?;
    let store = mem.with_aof(Arc::new(aof));
    let keys = store.len();
    Ok((
        Arc::new(store),
        Opened {
            records: replay.records,
            keys,
            dropped: replay.dropped,
        },
    ))
}

/// `netkit kv serve`: open (replay) the store, bind `addr`, print the
/// listening line, serve until a signal, print the summary.
pub fn listen_and_serve(
    addr: SocketAddr,
    data: Option<&Path>,
    fsync: Fsync,
    cfg: &server::Config,
) -> Result<()> {
    let log = cfg.log;
    let (store, opened) = open_store(data, fsync, &log)?;
    let listener = net::bind_tcp(addr)?;
    let local = listener.local_addr()?;
    let mode = match data {
        None => "kv, in memory only: nothing is saved (--data FILE to persist)".to_string(),
        Some(p) => format!(
            "kv, log {} fsync {}, {} keys from {} records",
            p.display(),
            match fsync {
                Fsync::Always => "always",
                Fsync::EverySec => "everysec",
                Fsync::No => "no",
            },
            opened.keys,
            opened.records
        ),
    };
    log.announce(&crate::log::Listening {
        addr: local.to_string(),
        proto: if cfg.tls.is_some() { "tls" } else { "tcp" },
        mode: &mode,
        tls_sha256: cfg.tls.as_ref().map(|t| t.fingerprint.as_str()),
        note: net::loopback_note(&local),
    });
    let shutdown = Shutdown::new();
    shutdown.stop_on_signals()?;
    let started = Instant::now();
    let summary = server::run(listener, shutdown, store, cfg)?;
    log.summary(&summary, started.elapsed(), "connections");
    Ok(())
}
