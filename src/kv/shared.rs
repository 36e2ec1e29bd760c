//! What every event loop and command shares: fixed settings, the ones
//! `CONFIG SET` may change, counters for INFO, the client registry, and each
//! loop's mailbox (how one loop asks another to act on its clients:
//! `CLIENT KILL` today; issue 11's pub/sub pushes and blocked-pop wakeups
//! travel the same way).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use mio::Waker;

use super::protocol::Limits;
use super::session::Registry;
use super::store::Store;
use crate::acl::Acl;
use crate::log::Log;

/// Server settings fixed at start (plain data; `main` builds it).
#[derive(Debug, Clone)]
pub struct Config {
    /// Parser limits.
    pub limits: Limits,
    /// Most clients at once (`maxclients`).
    pub max_conns: usize,
    /// Event-loop threads (0: one per core).
    pub threads: usize,
    /// `--databases`.
    pub databases: usize,
    /// `--data`.
    pub data: Option<PathBuf>,
    /// `--allow` / `--deny`.
    pub acl: Acl,
    /// Settings `CONFIG SET` may change later.
    pub settings: Settings,
    /// Diagnostics.
    pub log: Log,
    /// `--tls`: every connection is a TLS session (see `stream`).
    pub tls: Option<crate::transport::tlsconfig::TlsServer>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            max_conns: 10_000,
            threads: 0,
            databases: 16,
            data: None,
            acl: Acl::default(),
            settings: Settings::default(),
            log: Log::default(),
            tls: None,
        }
    }
}

/// Settings that `CONFIG SET` can change while serving.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `requirepass`: clients must `AUTH` first.
    pub requirepass: Option<Vec<u8>>,
    /// `timeout`: close clients idle this many seconds (0: never).
    pub timeout: u64,
    /// `tcp-keepalive`: seconds between keepalive probes (0: off).
    pub tcp_keepalive: u64,
    /// Largest pending output of one client before it is disconnected
    /// (`client-output-buffer-limit` for normal clients; 0: no limit).
    pub output_limit: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            requirepass: None,
            timeout: 0,
            tcp_keepalive: 300,
            output_limit: 1 << 30,
        }
    }
}

/// A request from one event loop to another.
#[derive(Debug)]
pub enum Msg {
    /// Close this client (CLIENT KILL).
    Kill(u64),
    /// Try accepting again (a descriptor was freed at the fd limit).
    Accept,
}

/// One event loop's inbox.
#[derive(Default)]
pub struct Mailbox {
    msgs: Mutex<Vec<Msg>>,
    waker: OnceLock<Arc<Waker>>,
}

impl Mailbox {
    /// Set the waker (once, by the owning loop).
    pub fn set_waker(&self, w: Arc<Waker>) {
        let _ = self.waker.set(w);
    }

    /// Deliver `m` and wake the loop.
    pub fn send(&self, m: Msg) {
        if let Ok(mut v) = self.msgs.lock() {
            v.push(m);
        }
        if let Some(w) = self.waker.get() {
            let _ = w.wake();
        }
    }

    /// Take every message.
    pub fn drain(&self) -> Vec<Msg> {
        self.msgs
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

/// Counters for INFO's stats section.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Connections refused (maxclients, --deny).
    pub rejected: AtomicU64,
    /// Commands run.
    pub commands: AtomicU64,
    /// Bytes read from clients.
    pub net_in: AtomicU64,
    /// Bytes written to clients.
    pub net_out: AtomicU64,
    /// Clients closed for exceeding the output limit.
    pub output_disconnects: AtomicU64,
    /// Clients closed for idling past `timeout`.
    pub timeouts: AtomicU64,
}

/// Everything shared by the loops and the commands.
pub struct Shared {
    /// Fixed settings.
    pub cfg: Config,
    /// Settings CONFIG SET changes.
    pub settings: RwLock<Settings>,
    /// Connected clients.
    pub registry: Registry,
    /// Counters.
    pub stats: Stats,
    /// One per event loop.
    pub mailboxes: Vec<Mailbox>,
    /// The store.
    pub store: Arc<Store>,
    /// When the server started.
    pub started: Instant,
    /// The bound address.
    pub addr: SocketAddr,
    /// At the file-descriptor limit: accepting waits for a close.
    pub fd_limited: AtomicBool,
    /// Per event loop, per command: calls (INFO commandstats).
    pub calls: Vec<Vec<AtomicU64>>,
}

impl Shared {
    /// Shared state for `threads` event loops serving `store` on `addr`.
    pub fn new(cfg: Config, store: Arc<Store>, addr: SocketAddr, threads: usize) -> Shared {
        Shared {
            settings: RwLock::new(cfg.settings.clone()),
            cfg,
            registry: Registry::default(),
            stats: Stats::default(),
            mailboxes: (0..threads).map(|_| Mailbox::default()).collect(),
            store,
            started: Instant::now(),
            addr,
            fd_limited: AtomicBool::new(false),
            calls: (0..threads)
                .map(|_| {
                    (0..super::cmd::count())
                        .map(|_| AtomicU64::new(0))
                        .collect()
                })
                .collect(),
        }
    }

    /// Calls per command name, summed over the loops (non-zero only).
    pub fn command_calls(&self) -> Vec<(&'static str, u64)> {
        let names = super::cmd::names();
        names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let c: u64 = self
                    .calls
                    .iter()
                    .map(|w| w.get(i).map_or(0, |a| a.load(Ordering::Relaxed)))
                    .sum();
                (*n, c)
            })
            .filter(|(_, c)| *c > 0)
            .collect()
    }

    /// A copy of the changeable settings.
    pub fn settings(&self) -> Settings {
        self.settings.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// Ask the loop owning client `id` (on `worker`) to close it.
    pub fn kill(&self, worker: usize, id: u64) {
        if let Some(m) = self.mailboxes.get(worker) {
            m.send(Msg::Kill(id));
        }
    }

    /// Tell every loop to retry accepting.
    pub fn wake_accept(&self) {
        if self.fd_limited.load(Ordering::Relaxed) {
            for m in &self.mailboxes {
                m.send(Msg::Accept);
            }
        }
    }
}
