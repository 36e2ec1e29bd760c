//! ACL users of `netkit kv serve`, in memory only (no ACL file): who may
//! authenticate with which password, and which commands, keys and channels
//! each may use.
//!
//! Every client runs as a user (`default` until it authenticates as
//! another). The default user starts with every permission and no password
//! (`--requirepass` / `CONFIG SET requirepass` give it one). While every
//! user may do everything, [`Users::open`] is true and the command path
//! checks nothing else; otherwise each command is checked against its
//! client's user ([`check`]).

pub mod cats;
pub mod describe;
pub mod log;
pub mod rules;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};

use crate::kv::cmd::CommandSpec;
pub use rules::Perms;

/// One user: a name and its permissions, shared by its clients, so a
/// change applies to them at once.
#[derive(Debug)]
pub struct User {
    /// The name.
    pub name: String,
    perms: RwLock<Arc<Perms>>,
}

impl User {
    fn new(name: &str, perms: Perms) -> Arc<User> {
        Arc::new(User {
            name: name.to_string(),
            perms: RwLock::new(Arc::new(perms)),
        })
    }

    /// The current permissions.
    pub fn perms(&self) -> Arc<Perms> {
        self.perms
            .read()
            .map(|p| p.clone())
            .unwrap_or_else(|_| Arc::new(Perms::new()))
    }

    fn set(&self, p: Perms) {
        if let Ok(mut g) = self.perms.write() {
            *g = Arc::new(p);
        }
    }
}

/// Every user, by name.
#[derive(Debug)]
pub struct Users {
    map: RwLock<BTreeMap<String, Arc<User>>>,
    default: Arc<User>,
    /// Deleted users some client may still run as (until it is closed).
    zombies: Mutex<Vec<Weak<User>>>,
    open: AtomicBool,
    /// `ACL LOG`.
    pub log: log::AclLog,
}

impl Default for Users {
    fn default() -> Self {
        Users::new()
    }
}

/// What [`check`] refused: the command, or the argument at this position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The command (or subcommand).
    Command,
    /// A key.
    Key(usize),
    /// A channel.
    Channel(usize),
}

impl Users {
    /// Only the default user, allowed everything, no password.
    pub fn new() -> Users {
        let default = User::new("default", Perms::everything());
        let mut map = BTreeMap::new();
        map.insert("default".to_string(), default.clone());
        Users {
            map: RwLock::new(map),
            default,
            zombies: Mutex::new(Vec::new()),
            open: AtomicBool::new(true),
            log: log::AclLog::default(),
        }
    }

    /// True while every user may do everything: commands need no check.
    #[inline]
    pub fn open(&self) -> bool {
        self.open.load(Ordering::Relaxed)
    }

    fn recompute(&self) {
        let live = self
            .map
            .read()
            .map(|m| m.values().all(|u| u.perms().unrestricted()))
            .unwrap_or(false);
        let zombies = self.zombies.lock().is_ok_and(|mut z| {
            z.retain(|w| w.strong_count() > 0);
            z.is_empty()
        });
        self.open.store(live && zombies, Ordering::SeqCst);
    }

    /// The default user.
    pub fn default_user(&self) -> Arc<User> {
        self.default.clone()
    }

    /// Does a new connection start unauthenticated (the default user has a
    /// password or is off)?
    pub fn default_needs_auth(&self) -> bool {
        let p = self.default.perms();
        !(p.nopass && p.enabled)
    }

    /// The user named `name`.
    pub fn get(&self, name: &[u8]) -> Option<Arc<User>> {
        let name = std::str::from_utf8(name).ok()?;
        self.map.read().ok()?.get(name).cloned()
    }

    /// Every user, by name.
    pub fn all(&self) -> Vec<Arc<User>> {
        self.map
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// `ACL SETUSER name rules...`: creates the user if needed; every rule
    /// or none is applied. Returns the user and its permissions before.
    pub fn set_user(&self, name: &[u8], rules: &[&[u8]]) -> Result<(Arc<User>, Perms), String> {
        if name.iter().any(|&c| c.is_ascii_whitespace() || c == 0) {
            return Err("ERR Usernames can't contain spaces or null characters".into());
        }
        let name = String::from_utf8_lossy(name).into_owned();
        let mut map = self.map.write().map_err(|_| "ERR users are unavailable")?;
        let existing = map.get(&name).cloned();
        let before = existing.as_ref().map(|u| (*u.perms()).clone());
        let mut p = before.clone().unwrap_or_default();
        for r in rules {
            p.apply(r).map_err(|why| {
                format!(
                    "ERR Error in ACL SETUSER modifier '{}': {why}",
                    String::from_utf8_lossy(r)
                )
            })?;
        }
        let user = match existing {
            Some(u) => {
                u.set(p);
                u
            }
            None => {
                let u = User::new(&name, p);
                map.insert(name, u.clone());
                u
            }
        };
        drop(map);
        self.recompute();
        Ok((user, before.unwrap_or_default()))
    }

    /// `ACL DELUSER`: the users removed (their clients must be closed).
    pub fn del_users(&self, names: &[&[u8]]) -> Result<Vec<Arc<User>>, &'static str> {
        if names.iter().any(|n| *n == b"default") {
            return Err("ERR The 'default' user cannot be removed");
        }
        let mut gone = Vec::new();
        if let Ok(mut m) = self.map.write() {
            for n in names {
                if let Some(u) = m.remove(String::from_utf8_lossy(n).as_ref()) {
                    gone.push(u);
                }
            }
        }
        for u in &gone {
            // Until its clients are closed they may run nothing.
            u.set(Perms::new());
            if let Ok(mut z) = self.zombies.lock() {
                z.push(Arc::downgrade(u));
            }
        }
        self.recompute();
        Ok(gone)
    }

    /// The user `name` if `pass` is one of its passwords (or it is
    /// `nopass`) and it is on.
    pub fn authenticate(&self, name: &[u8], pass: &[u8]) -> Option<Arc<User>> {
        let u = self.get(name)?;
        let p = u.perms();
        if !p.enabled {
            return None;
        }
        if p.nopass {
            return Some(u);
        }
        let h = rules::hash_password(pass);
        let mut ok = false;
        for stored in &p.passwords {
            // Compare every byte, whatever the first difference.
            let diff = stored
                .bytes()
                .zip(h.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            ok |= diff == 0 && stored.len() == h.len();
        }
        ok.then_some(u)
    }

    /// `--requirepass` / `CONFIG SET requirepass`: the default user's only
    /// password (`None`: nopass), as Redis does.
    pub fn set_default_password(&self, pass: Option<&[u8]>) {
        let mut p = (*self.default.perms()).clone();
        let _ = p.apply(b"resetpass");
        match pass {
            Some(pw) => {
                let mut rule = b">".to_vec();
                rule.extend_from_slice(pw);
                let _ = p.apply(&rule);
            }
            None => {
                let _ = p.apply(b"nopass");
            }
        }
        self.default.set(p);
    }

    /// Forget deleted users whose clients are all gone.
    pub fn client_gone(&self) {
        if !self.open() {
            self.recompute();
        }
    }
}

/// Channel arguments of `argv` for `spec`: positions and whether they are
/// patterns.
fn channels(spec: &CommandSpec, argc: usize) -> (std::ops::Range<usize>, bool) {
    match spec.name {
        "publish" | "spublish" => (1..2.min(argc), false),
        "subscribe" | "ssubscribe" => (1..argc, false),
        "psubscribe" => (1..argc, true),
        _ => (0..0, false),
    }
}

/// May `p` run `argv` (resolved to `spec`, whose id is `id`)?
pub fn check(p: &Perms, id: usize, spec: &CommandSpec, argv: &[&[u8]]) -> Result<(), Denied> {
    if !p.allcommands && spec.flags & crate::kv::cmd::NO_AUTH == 0 && !p.allows(id) {
        return Err(Denied::Command);
    }
    // Shard channels sit at key positions (for cluster slots) but are not
    // keys: Redis's key specs say `not_key`, and ACL checks them as channels.
    let shard = matches!(spec.name, "spublish" | "ssubscribe" | "sunsubscribe");
    if !p.allkeys && !shard {
        for i in spec.key_positions(argv) {
            if argv.get(i).is_some_and(|k| !p.key_ok(k)) {
                return Err(Denied::Key(i));
            }
        }
    }
    if !p.allchannels {
        let (range, pattern) = channels(spec, argv.len());
        for i in range {
            if !p.channel_ok(argv[i], pattern) {
                return Err(Denied::Channel(i));
            }
        }
    }
    Ok(())
}

/// Are all of `sess`'s subscriptions allowed by its user's channel rules?
pub fn subscriptions_allowed(sess: &crate::kv::session::Session) -> bool {
    let p = sess.user.perms();
    let s = &sess.pubsub;
    p.allchannels
        || (s.channels.iter().all(|c| p.channel_ok(c, false))
            && s.shard.iter().all(|c| p.channel_ok(c, false))
            && s.patterns.iter().all(|c| p.channel_ok(c, true)))
}
