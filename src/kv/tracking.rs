//! Client-side caching (`CLIENT TRACKING`), as Redis 7.0's tracking.c
//! behaves, kept with the key space under the store lock.
//!
//! - Default mode: after a read-only command of a tracking client, its keys
//!   go in the tracking table (key -> client ids). When a key changes
//!   ([`Keyspace::touch`](super::db::Keyspace::touch): any write, an expiry,
//!   a script's or a transaction's write), every client that had read it is
//!   sent one invalidation and the key is forgotten. The table holds at most
//!   `tracking-table-max-keys` keys (default 1M): past that the oldest keys
//!   are dropped and their readers told, as if the keys had changed.
//! - BCAST: each changed key matching a client's prefix is collected per
//!   prefix and sent, one message per prefix, when the command ends.
//! - OPTIN / OPTOUT with `CLIENT CACHING`; NOLOOP skips a client's own writes.
//! - FLUSHDB, FLUSHALL (and SWAPDB) send a null ("everything") to every
//!   tracking client and empty the table.
//!
//! Messages are noted under the lock as (tracking client, keys) and routed
//! when the outermost command ends ([`flush`]): to the client itself or to
//! its `REDIRECT` target, through the round's outbox like pub/sub messages
//! (so another loop gets them only once the round commits); the owning loop
//! encodes them for the receiver's protocol ([`Push::deliver`]): a RESP3
//! `>2 invalidate [keys]` push, or for a RESP2 redirect target in pub/sub
//! mode a `message` on `__redis__:invalidate`. A client's own invalidations
//! come after its reply, as in Redis, except for keys evicted before its
//! command ran (`evict::admit` routes those at once). A gone redirect target marks the
//! client `broken_redirect` and sends it a `tracking-redir-broken` push.
//!
//! Cost when nobody tracks: [`Keyspace::touch`](super::db::Keyspace::touch)
//! reads one bool, dispatch reads one byte of the session.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::reply::Out;
use super::session::{ClientHandle, Registry};

/// Tracking is on.
pub const ON: u8 = 1;
/// BCAST mode.
pub const BCAST: u8 = 1 << 1;
/// OPTIN mode.
pub const OPTIN: u8 = 1 << 2;
/// OPTOUT mode.
pub const OPTOUT: u8 = 1 << 3;
/// NOLOOP.
pub const NOLOOP: u8 = 1 << 4;
/// `CLIENT CACHING YES` (OPTIN) or `NO` (OPTOUT) given for the next command.
pub const CACHING: u8 = 1 << 5;
/// The redirect target has gone (`broken_redirect`, flag `R`).
pub const BROKEN: u8 = 1 << 6;

/// Redis's default `tracking-table-max-keys`.
pub const DEFAULT_MAX_KEYS: usize = 1_000_000;

/// Keys of one invalidation, shared by the clients it goes to (`None`:
/// every key, after a flush).
pub type Keys = Option<Arc<Vec<Box<[u8]>>>>;

/// What one connection receives.
#[derive(Debug)]
pub enum Push {
    /// Keys to drop from the cache (`None`: all of them, after a flush).
    Invalidate {
        /// The keys, or none for "everything".
        keys: Keys,
        /// Sent to a `REDIRECT` target (a RESP2 target gets it as a pub/sub
        /// message if it is in subscribe mode).
        redirected: bool,
    },
    /// The redirect target (this id) has gone.
    RedirBroken(u64),
}

/// The pub/sub channel RESP2 redirect targets receive invalidations on.
pub const CHANNEL: &[u8] = b"__redis__:invalidate";

impl Push {
    /// Encode it into `out` (the receiver's output; `subscribed`: the
    /// receiver is in pub/sub mode). False when nothing fits the receiver's
    /// protocol (a RESP2 client without a redirect gets nothing, as Redis).
    pub fn deliver(&self, subscribed: bool, out: &mut Out) -> bool {
        let start = out.buf.len();
        match self {
            Push::RedirBroken(id) => {
                if !out.resp3 {
                    return false;
                }
                out.push(2);
                out.bulk(b"tracking-redir-broken");
                out.int(*id as i64);
            }
            Push::Invalidate { keys, redirected } => {
                if out.resp3 {
                    out.push(2);
                    out.bulk(b"invalidate");
                } else if *redirected && subscribed {
                    out.push(3);
                    out.bulk(b"message");
                    out.bulk(CHANNEL);
                } else {
                    return false;
                }
                match keys {
                    Some(keys) => {
                        out.array(keys.len());
                        for k in keys.iter() {
                            out.bulk(k);
                        }
                    }
                    None => out.null(),
                }
            }
        }
        out.pushed(start);
        true
    }
}

/// One tracking client's settings.
#[derive(Debug)]
pub struct Client {
    /// Mode flags ([`ON`], [`BCAST`], ...; [`BROKEN`] once the target went).
    pub flags: u8,
    /// `REDIRECT` target (0: none).
    pub redirect: u64,
    /// BCAST prefixes, in the order given.
    pub prefixes: Vec<Box<[u8]>>,
    /// Its loop and shared face (flags mirrored for `CLIENT LIST`).
    pub handle: Arc<ClientHandle>,
}

#[derive(Debug, Default)]
struct Bcast {
    /// Keys changed since the last flush, sorted, each with who changed it
    /// (0: nobody, an expiry).
    keys: BTreeMap<Box<[u8]>, u64>,
    clients: Vec<u64>,
}

#[derive(Debug)]
struct Tracked {
    ids: Vec<u64>,
    /// Its place in `order` (to find the oldest keys).
    seq: u64,
}

/// The tracking table, the prefix table and the tracking clients.
#[derive(Debug)]
pub struct Tracking {
    /// Some client tracks: writes must look here.
    pub on: bool,
    /// The client whose command runs (0: none; NOLOOP compares with it).
    pub current: u64,
    /// A script run by a tracking client called a read-only command: the
    /// script's declared keys are remembered (Redis 7.0).
    pub script_read: bool,
    clients: HashMap<u64, Client>,
    table: HashMap<Box<[u8]>, Tracked>,
    order: VecDeque<(u64, Box<[u8]>)>,
    seq: u64,
    items: u64,
    prefixes: BTreeMap<Box<[u8]>, Bcast>,
    bcast_dirty: bool,
    max_keys: usize,
    /// Messages noted, not yet routed: (tracking client, keys or all).
    pending: Vec<(u64, Keys)>,
}

impl Default for Tracking {
    fn default() -> Self {
        Tracking {
            on: false,
            current: 0,
            script_read: false,
            clients: HashMap::new(),
            table: HashMap::new(),
            order: VecDeque::new(),
            seq: 0,
            items: 0,
            prefixes: BTreeMap::new(),
            bcast_dirty: false,
            max_keys: DEFAULT_MAX_KEYS,
            pending: Vec::new(),
        }
    }
}

/// Why `CLIENT TRACKING ON` was refused (Redis's texts).
fn prefix_collision(c: Option<&Client>, new: &[&[u8]]) -> Option<String> {
    let overlap = |a: &[u8], b: &[u8]| {
        let n = a.len().min(b.len());
        a[..n] == b[..n]
    };
    for (i, p) in new.iter().enumerate() {
        for old in c.map(|c| c.prefixes.as_slice()).unwrap_or(&[]) {
            if overlap(old, p) {
                return Some(format!(
                    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(old)
                ));
            }
        }
        for q in &new[i + 1..] {
            if overlap(p, q) {
                return Some(format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(q)
                ));
            }
        }
    }
    None
}

impl Tracking {
    /// Flags of client `id` (0: not tracking).
    pub fn flags(&self, id: u64) -> u8 {
        self.clients.get(&id).map_or(0, |c| c.flags)
    }

    /// Client `id`'s settings, if it tracks.
    pub fn client(&self, id: u64) -> Option<&Client> {
        self.clients.get(&id)
    }

    /// `CLIENT TRACKING ON` for `handle`'s client with `opts` (mode bits),
    /// `redirect` (0: none) and BCAST `prefixes`; checks the combination
    /// against its current mode as Redis does. Returns the client's new flags.
    pub fn enable(
        &mut self,
        handle: &Arc<ClientHandle>,
        opts: u8,
        redirect: u64,
        prefixes: &[&[u8]],
    ) -> Result<u8, String> {
        let id = handle.id;
        let old = self.clients.get(&id);
        let was = old.map_or(0, |c| c.flags);
        if opts & BCAST == 0 && !prefixes.is_empty() {
            return Err("ERR PREFIX option requires BCAST mode to be enabled".into());
        }
        if was & ON != 0 && (was & BCAST != 0) != (opts & BCAST != 0) {
            return Err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.".into());
        }
        if opts & BCAST != 0 && opts & (OPTIN | OPTOUT) != 0 {
            return Err("ERR OPTIN and OPTOUT are not compatible with BCAST".into());
        }
        if opts & OPTIN != 0 && opts & OPTOUT != 0 {
            return Err("ERR You can't specify both OPTIN mode and OPTOUT mode".into());
        }
        if (opts & OPTIN != 0 && was & OPTOUT != 0) || (opts & OPTOUT != 0 && was & OPTIN != 0) {
            return Err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.".into());
        }
        if opts & BCAST != 0 {
            if let Some(e) = prefix_collision(old, prefixes) {
                return Err(e);
            }
        }
        let c = self.clients.entry(id).or_insert_with(|| Client {
            flags: 0,
            redirect: 0,
            prefixes: Vec::new(),
            handle: handle.clone(),
        });
        // As Redis: CACHING survives, the other modes are set anew.
        c.flags = ON | (c.flags & CACHING) | (opts & (BCAST | OPTIN | OPTOUT | NOLOOP));
        c.redirect = redirect;
        if opts & BCAST != 0 {
            let empty: [&[u8]; 1] = [b""];
            let list = if prefixes.is_empty() {
                &empty[..]
            } else {
                prefixes
            };
            for p in list {
                let b = self.prefixes.entry((*p).into()).or_default();
                if !b.clients.contains(&id) {
                    b.clients.push(id);
                    c.prefixes.push((*p).into());
                }
            }
        }
        let flags = c.flags;
        mirror(c);
        self.on = true;
        self.current = id;
        Ok(flags)
    }

    /// `CLIENT TRACKING OFF`, `RESET`, a closed connection. The table's
    /// references to the client are dropped lazily (its id is never reused);
    /// when nobody tracks any more, the tables are emptied.
    pub fn disable(&mut self, id: u64) {
        let Some(c) = self.clients.remove(&id) else {
            return;
        };
        for p in &c.prefixes {
            if let Some(b) = self.prefixes.get_mut(p) {
                b.clients.retain(|&x| x != id);
                if b.clients.is_empty() {
                    self.prefixes.remove(p);
                }
            }
        }
        c.handle.tracking.store(0, Ordering::Relaxed);
        if self.clients.is_empty() {
            self.on = false;
            self.table = HashMap::new();
            self.order = VecDeque::new();
            self.items = 0;
            self.prefixes.clear();
            self.bcast_dirty = false;
        }
    }

    /// `CLIENT CACHING YES|NO` was accepted: note it for the next command.
    pub fn set_caching(&mut self, id: u64, on: bool) {
        if let Some(c) = self.clients.get_mut(&id) {
            if on {
                c.flags |= CACHING;
            } else {
                c.flags &= !CACHING;
            }
        }
    }

    /// Remember that client `id` read `keys` (default mode).
    pub fn remember<'k>(&mut self, id: u64, keys: impl Iterator<Item = &'k [u8]>) {
        for k in keys {
            match self.table.get_mut(k) {
                Some(t) => {
                    if !t.ids.contains(&id) {
                        t.ids.push(id);
                        self.items += 1;
                    }
                }
                None => {
                    self.seq += 1;
                    self.table.insert(
                        k.into(),
                        Tracked {
                            ids: vec![id],
                            seq: self.seq,
                        },
                    );
                    self.order.push_back((self.seq, k.into()));
                    self.items += 1;
                }
            }
        }
        self.limit();
    }

    /// `tracking-table-max-keys` (0: no limit); a lower limit applies now.
    pub fn set_max_keys(&mut self, n: usize) {
        self.max_keys = n;
        self.limit();
    }

    /// The limit (`CONFIG GET`).
    pub fn max_keys(&self) -> usize {
        self.max_keys
    }

    /// Drop the oldest keys past the limit, telling their readers.
    fn limit(&mut self) {
        if self.max_keys > 0 {
            while self.table.len() > self.max_keys {
                let Some((seq, k)) = self.order.pop_front() else {
                    break;
                };
                if self.table.get(&k).is_some_and(|t| t.seq == seq) {
                    self.invalidate(&k, None);
                }
            }
        }
        // Keys invalidated since they were added leave stale places behind.
        if self.order.len() > 2 * self.table.len() + 1024 {
            let table = &self.table;
            self.order
                .retain(|(seq, k)| table.get(k).is_some_and(|t| t.seq == *seq));
        }
    }

    /// `key` changed: its readers are told and it is forgotten. `bcast`:
    /// also tell BCAST clients, naming who changed it (0: nobody, an expiry);
    /// None when the key did not change but leaves the full table (then
    /// every reader is told). NOLOOP clients are not told of changes made
    /// while their own command runs.
    pub fn invalidate(&mut self, key: &[u8], bcast: Option<u64>) {
        if let (Some(w), false) = (bcast, self.prefixes.is_empty()) {
            for (p, b) in self.prefixes.iter_mut() {
                if key.starts_with(p) {
                    b.keys.insert(key.into(), w);
                    self.bcast_dirty = true;
                }
            }
        }
        let Some(t) = self.table.remove(key) else {
            return;
        };
        self.items -= t.ids.len() as u64;
        let mut keys = None;
        for id in t.ids {
            let Some(c) = self.clients.get(&id) else {
                continue; // stopped tracking or gone
            };
            let own = bcast.is_some() && c.flags & NOLOOP != 0 && id == self.current;
            if c.flags & BCAST != 0 || own {
                continue;
            }
            let keys = keys.get_or_insert_with(|| Arc::new(vec![Box::<[u8]>::from(key)]));
            self.pending.push((id, Some(keys.clone())));
        }
    }

    /// A key changed by the running command (see [`Tracking::invalidate`]).
    pub fn modified(&mut self, key: &[u8]) {
        let w = self.current;
        self.invalidate(key, Some(w));
    }

    /// A key expired (lazily or by the sweep).
    pub fn expired(&mut self, key: &[u8]) {
        self.invalidate(key, Some(0));
    }

    /// FLUSHDB, FLUSHALL, SWAPDB: every tracking client drops everything.
    pub fn flushed(&mut self) {
        for &id in self.clients.keys() {
            self.pending.push((id, None));
        }
        self.table.clear();
        self.order.clear();
        self.items = 0;
    }

    /// Messages are waiting to be routed.
    #[inline]
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty() || self.bcast_dirty
    }

    /// Route what was noted: calls `to(receiver, its loop, message)` for
    /// each message (a gone redirect target: the client gets a
    /// `tracking-redir-broken` instead, and is marked).
    pub fn route(&mut self, reg: &Registry, mut to: impl FnMut(u64, usize, Arc<Push>)) {
        if std::mem::take(&mut self.bcast_dirty) {
            for b in self.prefixes.values_mut() {
                if b.keys.is_empty() {
                    continue;
                }
                let keys = std::mem::take(&mut b.keys);
                let all: Arc<Vec<Box<[u8]>>> = Arc::new(keys.keys().cloned().collect());
                for &id in &b.clients {
                    let noloop = self.clients.get(&id).is_some_and(|c| c.flags & NOLOOP != 0);
                    if !noloop {
                        self.pending.push((id, Some(all.clone())));
                        continue;
                    }
                    let mine: Vec<Box<[u8]>> = keys
                        .iter()
                        .filter(|&(_, &w)| w != id)
                        .map(|(k, _)| k.clone())
                        .collect();
                    if !mine.is_empty() {
                        self.pending.push((id, Some(Arc::new(mine))));
                    }
                }
            }
        }
        for (id, keys) in self.pending.drain(..) {
            let Some(c) = self.clients.get_mut(&id) else {
                continue;
            };
            if c.redirect == 0 {
                let m = Push::Invalidate {
                    keys,
                    redirected: false,
                };
                to(id, c.handle.worker, Arc::new(m));
                continue;
            }
            match reg.get(c.redirect) {
                Some(h) => {
                    let m = Push::Invalidate {
                        keys,
                        redirected: true,
                    };
                    to(h.id, h.worker, Arc::new(m));
                }
                None => {
                    c.flags |= BROKEN;
                    mirror(c);
                    to(id, c.handle.worker, Arc::new(Push::RedirBroken(c.redirect)));
                }
            }
        }
    }

    /// Tracking clients (INFO's `tracking_clients`).
    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    /// Keys in the table (`tracking_total_keys`).
    pub fn total_keys(&self) -> usize {
        self.table.len()
    }

    /// Client ids in the table (`tracking_total_items`).
    pub fn total_items(&self) -> u64 {
        self.items
    }

    /// BCAST prefixes (`tracking_total_prefixes`).
    pub fn total_prefixes(&self) -> usize {
        self.prefixes.len()
    }
}

/// Mirror a client's flags and redirect into its handle (`CLIENT LIST`).
fn mirror(c: &Client) {
    c.handle.tracking.store(c.flags, Ordering::Relaxed);
    c.handle.redir.store(c.redirect, Ordering::Relaxed);
}
