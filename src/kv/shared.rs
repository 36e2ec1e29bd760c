//! What every event loop and command shares: fixed settings, the ones
//! `CONFIG SET` may change, counters for INFO, the client registry, and each
//! loop's mailbox (how one loop asks another to act on its clients:
//! `CLIENT KILL`, the replies of blocked clients served by another loop,
//! pub/sub messages for its subscribers), the pub/sub registry and the
//! scripting state every loop must see (the script cache, whether a script
//! is busy and asked to die).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use mio::Waker;

use super::protocol::Limits;
use super::pubsub::{PubMsg, PubSub};
use super::script::Scripts;
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
    /// Event-loop threads (0: one per core but one, at least one).
    pub threads: usize,
    /// `--busy-poll`: how long a loop polls without sleeping after work.
    pub busy_poll: std::time::Duration,
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
    /// `--notify-keyspace-events` (flags of [`super::notify`]; 0: off).
    pub notify_keyspace_events: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            max_conns: 10_000,
            threads: 0,
            busy_poll: std::time::Duration::ZERO,
            databases: 16,
            data: None,
            acl: Acl::default(),
            settings: Settings::default(),
            log: Log::default(),
            tls: None,
            notify_keyspace_events: 0,
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
    /// The same for clients subscribed to pub/sub channels (Redis's
    /// `pubsub` class: 32 MiB by default).
    pub pubsub_output_limit: u64,
    /// `busy-reply-threshold` (alias `lua-time-limit`), milliseconds: past
    /// this a running script makes other clients' commands answer `-BUSY`
    /// and `SCRIPT KILL` may stop it (0: never busy).
    pub busy_reply_ms: u64,
    /// `maxmemory-policy`: what to evict past `maxmemory` (see
    /// [`super::evict`]); an LFU policy makes `OBJECT FREQ` answer.
    pub maxmemory_policy: &'static str,
    /// `maxmemory`, bytes (0: no limit); [`Shared::maxmemory`] mirrors it
    /// for the per-command check.
    pub maxmemory: u64,
}

/// The `maxmemory-policy` values Redis 7.0 accepts.
pub const MAXMEMORY_POLICIES: [&str; 8] = [
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];

impl Default for Settings {
    fn default() -> Self {
        Settings {
            requirepass: None,
            timeout: 0,
            tcp_keepalive: 300,
            output_limit: 1 << 30,
            pubsub_output_limit: 32 << 20,
            busy_reply_ms: 5000,
            maxmemory_policy: "noeviction",
            maxmemory: 0,
        }
    }
}

/// A request from one event loop to another.
#[derive(Debug)]
pub enum Msg {
    /// Close this client (CLIENT KILL).
    Kill(u64),
    /// Its user's channel permissions shrank: close this client if it is
    /// subscribed to a channel it may no longer use (as Redis does).
    CheckChannels(u64),
    /// Try accepting again (a descriptor was freed at the fd limit).
    Accept,
    /// A blocked client was served (or unblocked): send it this reply and
    /// let it run its next commands.
    Unblock(u64, Vec<u8>),
    /// A pub/sub message for one of the loop's clients.
    Push(u64, Arc<PubMsg>),
    /// A MONITOR line for one of the loop's clients.
    Monitor(u64, Arc<[u8]>),
    /// A client-side caching invalidation for one of the loop's clients.
    Track(u64, Arc<super::tracking::Push>),
}

/// One event loop's inbox. A loop is woken once per batch: a sender that
/// finds a wakeup already pending only queues.
#[derive(Default)]
pub struct Mailbox {
    msgs: Mutex<Vec<Msg>>,
    waker: OnceLock<Arc<Waker>>,
    pending: AtomicBool,
}

impl Mailbox {
    /// Set the waker (once, by the owning loop).
    pub fn set_waker(&self, w: Arc<Waker>) {
        let _ = self.waker.set(w);
    }

    /// Deliver `m` and wake the loop.
    pub fn send(&self, m: Msg) {
        self.send_all(std::iter::once(m));
    }

    /// Deliver every message of `ms` with one lock and at most one wakeup.
    pub fn send_all(&self, ms: impl IntoIterator<Item = Msg>) {
        if let Ok(mut v) = self.msgs.lock() {
            v.extend(ms);
        }
        if !self.pending.swap(true, Ordering::SeqCst) {
            if let Some(w) = self.waker.get() {
                let _ = w.wake();
            }
        }
    }

    /// Take every message.
    pub fn drain(&self) -> Vec<Msg> {
        self.pending.store(false, Ordering::SeqCst);
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

/// One event loop's counters for one command (INFO commandstats): one
/// writer each, so plain loads and stores.
#[derive(Debug, Default)]
pub struct CmdStat {
    /// Times it ran.
    pub calls: AtomicU64,
    /// Times it was refused before running (arity, auth, ACL, OOM...).
    pub rejected: AtomicU64,
    /// Times it ran and answered an error.
    pub failed: AtomicU64,
}

impl CmdStat {
    /// Add one to `c` (this loop is its only writer).
    #[inline]
    pub fn bump(c: &AtomicU64) {
        c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }
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
    pub calls: Vec<Vec<CmdStat>>,
    /// Who is subscribed to what (every loop's clients).
    pub pubsub: PubSub,
    /// MONITOR's clients.
    pub monitors: super::monitor::Monitors,
    /// The script cache and the running script's busy/kill state.
    pub scripts: Scripts,
    /// Error replies by code (INFO errorstats).
    pub errors: ErrorStats,
    /// Stops the server (`SHUTDOWN`); set once the server runs.
    pub shutdown: std::sync::OnceLock<crate::shutdown::Shutdown>,
    /// `maxmemory` (0: none), read before every command.
    pub maxmemory: AtomicU64,
    /// ACL users.
    pub users: super::users::Users,
}

/// Error replies counted by their code (the first word: `ERR`,
/// `WRONGTYPE`, a script's own), as INFO errorstats shows them. At most
/// [`ErrorStats::MAX_CODES`] codes are kept, so a script inventing codes
/// cannot grow it without bound (Redis stops tracking at 128 too).
#[derive(Debug, Default)]
pub struct ErrorStats {
    codes: Mutex<std::collections::BTreeMap<String, u64>>,
    total: AtomicU64,
}

impl ErrorStats {
    /// Most distinct codes kept.
    pub const MAX_CODES: usize = 128;

    /// Count the error reply that starts at `reply` (`-CODE message\r\n`).
    pub fn count(&self, reply: &[u8]) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let body = reply.strip_prefix(b"-").unwrap_or(reply);
        let end = body
            .iter()
            .position(|&b| b == b' ' || b == b'\r')
            .unwrap_or(body.len());
        let code = String::from_utf8_lossy(&body[..end]);
        if let Ok(mut m) = self.codes.lock() {
            if let Some(n) = m.get_mut(code.as_ref()) {
                *n += 1;
            } else if m.len() < Self::MAX_CODES {
                m.insert(code.into_owned(), 1);
            }
        }
    }

    /// Every code and its count, by code.
    pub fn codes(&self) -> Vec<(String, u64)> {
        self.codes
            .lock()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    }

    /// All error replies (INFO's `total_error_replies`).
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        self.total.store(0, Ordering::Relaxed);
        if let Ok(mut m) = self.codes.lock() {
            m.clear();
        }
    }
}

impl Shared {
    /// How many event loops serve (one mailbox each).
    pub fn loops(&self) -> usize {
        self.mailboxes.len()
    }

    /// Shared state for `threads` event loops serving `store` on `addr`.
    pub fn new(cfg: Config, store: Arc<Store>, addr: SocketAddr, threads: usize) -> Shared {
        let cfg_maxmemory = cfg.settings.maxmemory;
        let sh = Shared {
            settings: RwLock::new(cfg.settings.clone()),
            cfg,
            registry: Registry::default(),
            stats: Stats::default(),
            mailboxes: (0..threads).map(|_| Mailbox::default()).collect(),
            store,
            started: Instant::now(),
            addr,
            fd_limited: AtomicBool::new(false),
            pubsub: PubSub::default(),
            monitors: Default::default(),
            scripts: Scripts::default(),
            errors: ErrorStats::default(),
            shutdown: std::sync::OnceLock::new(),
            maxmemory: AtomicU64::new(cfg_maxmemory),
            users: super::users::Users::new(),
            calls: (0..threads)
                .map(|_| {
                    (0..super::cmd::count())
                        .map(|_| CmdStat::default())
                        .collect()
                })
                .collect(),
        };
        let pass = sh.cfg.settings.requirepass.clone();
        sh.users.set_default_password(pass.as_deref());
        sh
    }

    /// Per command name, summed over the loops: calls, rejected calls,
    /// failed calls (INFO commandstats; commands with any of them only).
    pub fn command_calls(&self) -> Vec<(&'static str, [u64; 3])> {
        let names = super::cmd::names();
        names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let mut sum = [0u64; 3];
                for s in self.calls.iter().filter_map(|w| w.get(i)) {
                    for (t, c) in sum.iter_mut().zip([&s.calls, &s.rejected, &s.failed]) {
                        *t += c.load(Ordering::Relaxed);
                    }
                }
                (*n, sum)
            })
            .filter(|(_, s)| s.iter().any(|c| *c > 0))
            .collect()
    }

    /// CONFIG RESETSTAT: every command's counters back to 0.
    pub fn reset_command_calls(&self) {
        for s in self.calls.iter().flatten() {
            for c in [&s.calls, &s.rejected, &s.failed] {
                c.store(0, Ordering::Relaxed);
            }
        }
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
