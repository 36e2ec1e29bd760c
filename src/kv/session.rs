//! Per-connection state (database, name, protocol, transaction, watches)
//! and the server-wide client registry behind `CLIENT LIST|KILL|INFO`.
//!
//! A [`Session`] is owned by its event loop and changed only there; the
//! [`ClientHandle`] is its shared face: what other loops may read
//! (`CLIENT LIST`) or ask for (`CLIENT KILL` sets `kill` and wakes the owner
//! through its mailbox).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::pubsub::Subs;
use super::users::{User, cats};

/// A queued `MULTI` command.
pub type Queued = Vec<Vec<u8>>;

/// `CLIENT REPLY`: which replies the client gets. Pub/sub messages and
/// (un)subscribe confirmations are sent whatever this says, as Redis does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Replies {
    /// Every reply (`ON`, the default).
    #[default]
    On,
    /// None (`OFF`).
    Off,
    /// `SKIP` was the last command: the next one's reply is dropped.
    SkipNext,
    /// This command's reply is dropped, the next ones' are not.
    Skip,
}

impl Replies {
    /// Are the current command's replies dropped?
    pub fn muted(self) -> bool {
        matches!(self, Replies::Off | Replies::Skip)
    }

    /// A command is over (answered, not parked): a `SKIP` moves on.
    pub fn command_done(&mut self) {
        *self = match *self {
            Replies::SkipNext => Replies::Skip,
            Replies::Skip => Replies::On,
            r => r,
        };
    }
}

/// One connection's protocol state.
#[derive(Debug, Clone)]
pub struct Session {
    /// `CLIENT ID`.
    pub id: u64,
    /// `SELECT`ed database.
    pub db: usize,
    /// Passed `AUTH` (or no password is set).
    pub authed: bool,
    /// Inside `MULTI`: the queued commands.
    pub multi: Option<Vec<Queued>>,
    /// A command failed to queue: `EXEC` answers `EXECABORT`.
    pub multi_error: bool,
    /// `WATCH`ed keys.
    pub watched: Vec<(usize, Box<[u8]>)>,
    /// `watched` was let go while a busy script held the store: forget it
    /// there before the next command.
    pub watch_stale: bool,
    /// `WATCH` came while a busy script held the store (which may be
    /// changing those keys): the next `EXEC` fails, as on a touched key.
    pub watch_dirty: bool,
    /// Close once the pending replies are written (`QUIT`, `CLIENT KILL` of self).
    pub close: bool,
    /// `CLIENT NO-EVICT`.
    pub no_evict: bool,
    /// `CLIENT NO-TOUCH`.
    pub no_touch: bool,
    /// `CLIENT REPLY`.
    pub reply: Replies,
    /// In MONITOR mode.
    pub monitor: bool,
    /// Parked in a blocking pop: no command runs until it is served, times
    /// out or is unblocked ([`crate::kv::blocking`]).
    pub blocked: Option<crate::kv::blocking::Parked>,
    /// The error this command answered was counted in INFO errorstats
    /// already: a script's, raised from (or returned by) `redis.call` /
    /// `redis.pcall`, counted when the command in it failed.
    pub error_counted: bool,
    /// Pub/sub subscriptions.
    pub pubsub: Subs,
    /// `CLIENT TRACKING ON` (the modes live in the store's
    /// [`Tracking`](crate::kv::tracking::Tracking)); dispatch checks only this.
    pub tracking: bool,
    /// The pseudo-client of a running script (`redis.call`): blocking
    /// commands do not block, and `SELECT` stays inside the script.
    pub in_script: bool,
    /// In a script that started with memory over `maxmemory`: commands
    /// that may grow memory are refused ([`crate::kv::evict::admit`]).
    pub script_oom: bool,
    /// The shared face.
    pub handle: Arc<ClientHandle>,
    /// The ACL user it runs as (`default` until `AUTH` as another).
    pub user: Arc<User>,
}

impl Session {
    /// A fresh session for `handle`, running as the user its handle names.
    pub fn new(handle: Arc<ClientHandle>, authed: bool) -> Session {
        let user = handle.user();
        Session {
            user,
            id: handle.id,
            db: 0,
            authed,
            multi: None,
            multi_error: false,
            watched: Vec::new(),
            watch_stale: false,
            watch_dirty: false,
            close: false,
            no_evict: false,
            no_touch: false,
            reply: Replies::On,
            monitor: false,
            blocked: None,
            error_counted: false,
            pubsub: Subs::default(),
            tracking: false,
            in_script: false,
            script_oom: false,
            handle,
        }
    }

    /// Run as `user` from now on (`AUTH`, `HELLO AUTH`, `RESET`).
    pub fn set_user(&mut self, user: Arc<User>) {
        if let Ok(mut u) = self.handle.user.lock() {
            *u = user.clone();
        }
        self.user = user;
    }
}

/// What other event loops may see of, or ask of, a client.
#[derive(Debug)]
pub struct ClientHandle {
    /// `CLIENT ID`.
    pub id: u64,
    /// Peer address.
    pub addr: SocketAddr,
    /// Local address.
    pub laddr: SocketAddr,
    /// The socket's descriptor number.
    pub fd: i32,
    /// Which event loop owns it.
    pub worker: usize,
    /// When it connected.
    pub created: Instant,
    /// `CLIENT SETNAME`.
    pub name: Mutex<Option<Vec<u8>>>,
    /// `SELECT`ed database (mirrored for `CLIENT LIST`).
    pub db: AtomicUsize,
    /// Milliseconds since `created` of the last command.
    pub last_active: AtomicU64,
    /// RESP version (2 or 3).
    pub resp: AtomicUsize,
    /// Commands queued in MULTI, or -1 outside one (`CLIENT LIST`'s
    /// `multi=` and flag `x`); see [`ClientHandle::set_multi`].
    multi: AtomicIsize,
    /// Waiting in a blocking pop (`CLIENT LIST` flag `b`).
    pub blocked: AtomicBool,
    /// Asked to close by `CLIENT KILL`.
    pub kill: AtomicBool,
    /// Subscriptions: channels, patterns, shard channels (`CLIENT LIST`'s
    /// sub, psub, ssub and flag `P`).
    pub subs: [AtomicUsize; 3],
    /// The ACL user (`CLIENT LIST`'s `user=`, `CLIENT KILL USER`, and who
    /// `ACL DELUSER` closes).
    pub user: Mutex<Arc<User>>,
    /// Tracking flags ([`crate::kv::tracking`]; 0: off), for `CLIENT LIST`.
    pub tracking: AtomicU8,
    /// Tracking's `REDIRECT` target (0: none), for `CLIENT LIST`'s `redir`.
    pub redir: AtomicU64,
    /// The last command it sent, as [`cats::spec_addr`] (0: none yet), for
    /// `CLIENT LIST`'s `cmd`.
    pub last_cmd: AtomicUsize,
    /// Bytes of input from its current command on (`CLIENT LIST`'s `qbuf`).
    pub qbuf: AtomicUsize,
}

impl ClientHandle {
    /// Mirror the session's MULTI state: `Some(n)` commands queued, or
    /// `None` outside a transaction.
    pub fn set_multi(&self, queued: Option<usize>) {
        let n = queued.map_or(-1, |n| isize::try_from(n).unwrap_or(isize::MAX));
        self.multi.store(n, Ordering::Relaxed);
    }

    /// The ACL user.
    pub fn user(&self) -> Arc<User> {
        match self.user.lock() {
            Ok(u) => u.clone(),
            Err(e) => e.into_inner().clone(),
        }
    }

    /// The `CLIENT LIST` / `CLIENT INFO` line (without newline).
    pub fn line(&self) -> String {
        let name = self
            .name
            .lock()
            .map(|n| {
                n.as_deref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
            })
            .unwrap_or_default()
            .unwrap_or_default();
        let age = self.created.elapsed();
        let idle_ms =
            (age.as_millis() as u64).saturating_sub(self.last_active.load(Ordering::Relaxed));
        let multi = self.multi.load(Ordering::Relaxed);
        let subs = self.subs.each_ref().map(|n| n.load(Ordering::Relaxed));
        let mut flags = String::new();
        if subs.iter().any(|&n| n > 0) {
            flags.push('P');
        }
        if multi >= 0 {
            flags.push('x');
        }
        if self.blocked.load(Ordering::Relaxed) {
            flags.push('b');
        }
        let tracking = self.tracking.load(Ordering::Relaxed);
        let redir = if tracking & crate::kv::tracking::ON != 0 {
            flags.push('t');
            if tracking & crate::kv::tracking::BROKEN != 0 {
                flags.push('R');
            }
            if tracking & crate::kv::tracking::BCAST != 0 {
                flags.push('B');
            }
            self.redir.load(Ordering::Relaxed) as i64
        } else {
            -1
        };
        if flags.is_empty() {
            flags.push('N');
        }
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} user={} redir={} resp={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            name,
            age.as_secs(),
            idle_ms / 1000,
            flags,
            self.db.load(Ordering::Relaxed),
            subs[0],
            subs[1],
            subs[2],
            multi,
            self.qbuf.load(Ordering::Relaxed),
            cats::table()
                .fullname_at(self.last_cmd.load(Ordering::Relaxed))
                .unwrap_or("NULL"),
            self.user().name,
            redir,
            self.resp.load(Ordering::Relaxed),
        )
    }
}

/// Every connected client, by id.
#[derive(Debug, Default)]
pub struct Registry {
    clients: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
    next_id: AtomicU64,
}

impl Registry {
    /// Register a new client; returns its handle.
    pub fn add(
        &self,
        addr: SocketAddr,
        laddr: SocketAddr,
        fd: i32,
        worker: usize,
        user: Arc<User>,
    ) -> Arc<ClientHandle> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let h = Arc::new(ClientHandle {
            id,
            addr,
            laddr,
            fd,
            worker,
            created: Instant::now(),
            name: Mutex::new(None),
            db: AtomicUsize::new(0),
            last_active: AtomicU64::new(0),
            resp: AtomicUsize::new(2),
            multi: AtomicIsize::new(-1),
            blocked: AtomicBool::new(false),
            kill: AtomicBool::new(false),
            subs: Default::default(),
            user: Mutex::new(user),
            tracking: AtomicU8::new(0),
            redir: AtomicU64::new(0),
            last_cmd: AtomicUsize::new(0),
            qbuf: AtomicUsize::new(0),
        });
        if let Ok(mut m) = self.clients.lock() {
            m.insert(id, h.clone());
        }
        h
    }

    /// Forget a closed client.
    pub fn remove(&self, id: u64) {
        if let Ok(mut m) = self.clients.lock() {
            m.remove(&id);
        }
    }

    /// True while client `id` is connected.
    pub fn contains(&self, id: u64) -> bool {
        self.clients.lock().is_ok_and(|m| m.contains_key(&id))
    }

    /// Client `id`, if connected.
    pub fn get(&self, id: u64) -> Option<Arc<ClientHandle>> {
        self.clients.lock().ok()?.get(&id).cloned()
    }

    /// Every client, by id.
    pub fn all(&self) -> Vec<Arc<ClientHandle>> {
        self.clients
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// How many are connected.
    pub fn len(&self) -> usize {
        self.clients.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// True when none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
