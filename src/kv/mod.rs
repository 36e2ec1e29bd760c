//! `netkit kv`: a Redis-compatible key-value server (RESP2, RESP3, inline
//! commands) that also speaks the seed's line protocol (so nc works), plus a
//! redis-cli-like client and a log checker.
//!
//! - `protocol`: pure request parsing (resumable), the client's reply parser.
//! - `reply`: the reply writer, RESP2 or RESP3 per connection.
//! - `cmd`: the command table, dispatch and one file per command family.
//! - `value`, `dict`, `db`: what a key holds, the scan-friendly hash table, databases.
//! - `types`: hashes, lists, sets and sorted sets (a skip list with spans).
//! - `blocking`: clients parked in BLPOP & co, and the keys that may wake them.
//! - `keyspace`: the only write path: log op, undo entry, change, watch notice.
//! - `store`: the key space behind one lock, rounds that commit or undo.
//! - `aof` (format, replay, check) and `logfile` (appends, fsync, compaction).
//! - `notify`: keyspace notifications (`notify-keyspace-events`).
//! - `tracking`: client-side caching (`CLIENT TRACKING`) and its invalidations.
//! - `session`, `shared`, `conn`, `server`: clients, shared state, the event loops.
//! - `stream`: a connection's socket, plain TCP or TLS (`kv serve --tls`).
//! - `checklog`: `netkit kv check-log FILE [--fix]`.
//! - `client`: one-shot commands, reply formatting and the REPL.

pub mod aof;
pub mod blocking;
pub mod checklog;
pub mod client;
pub mod cmd;
pub mod conn;
pub mod crc64;
pub mod db;
pub mod dict;
pub mod digest;
pub mod dump;
pub mod evict;
pub mod glob;
pub mod keyspace;
pub mod logfile;
pub mod memory;
pub mod monitor;
pub mod notify;
pub mod protocol;
pub mod pubsub;
pub mod reply;
pub mod resp;
pub mod script;
pub mod server;
pub mod session;
pub mod shared;
pub mod store;
pub mod stream;
pub mod tracking;
pub mod types;
pub mod users;
pub mod value;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;

use crate::net;
use crate::shutdown::Shutdown;
use logfile::Fsync;
use shared::Config;
use store::Store;

/// `netkit kv serve`: open (replay) the store, bind `addr`, print the
/// listening line, serve until a signal, print the summary.
pub fn listen_and_serve(addr: SocketAddr, fsync: Fsync, cfg: Config) -> Result<()> {
    let log = cfg.log;
    let (store, mode) = match &cfg.data {
        None => (
            Store::new(cfg.databases),
            "kv, in memory only: nothing is saved (--data FILE to persist)".to_string(),
        ),
        Some(p) => {
            let (store, opened) = Store::open(p, cfg.databases, fsync)?;
            if opened.torn > 0 {
                log.warn(&format!(
                    "warning: {}: cut a torn last record ({} bytes at offset {}, a crash mid-write); kept {} good records",
                    p.display(),
                    opened.torn,
                    opened.torn_at,
                    opened.records
                ));
            }
            let mode = format!(
                "kv, log {} fsync {}, {} keys from {} records",
                p.display(),
                fsync.name(),
                opened.keys,
                opened.records
            );
            (store, mode)
        }
    };
    store.set_notify(cfg.notify_keyspace_events);
    let listener = net::bind_tcp(addr)?;
    let local = listener.local_addr()?;
    // Signals first: whoever reads the listening line may stop us at once.
    let shutdown = Shutdown::new();
    shutdown.stop_on_signals()?;
    log.announce(&crate::log::Listening {
        addr: local.to_string(),
        proto: if cfg.tls.is_some() { "tls" } else { "tcp" },
        mode: &mode,
        tls_sha256: cfg.tls.as_ref().map(|t| t.fingerprint.as_str()),
        note: net::loopback_note(&local),
    });
    let started = Instant::now();
    let summary = server::run(listener, shutdown, Arc::new(store), cfg)?;
    log.summary(&summary, started.elapsed(), "connections");
    Ok(())
}
