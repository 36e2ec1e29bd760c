//! The databases (`SELECT 0..N`) and their bookkeeping: each [`Db`] is a
//! [`Dict`] of [`Entry`] plus the keys clients `WATCH` there. The
//! [`Keyspace`] holds all of them behind the store's one lock; nothing here
//! logs or undoes: [`super::keyspace::Ks`] wraps these raw operations with the
//! log, the undo list and watch notifications.

use std::collections::{HashMap, HashSet};

use super::blocking::Blocking;
use super::dict::Dict;
use super::notify::Notify;
use super::tracking::Tracking;
use super::types::EncLimits;
use super::value::Entry;

/// A client watching a key: `stale` when the key was already expired at
/// `WATCH` time (its lazy deletion is then not a change, as in Redis 7.0).
#[derive(Debug, Clone, Copy)]
pub struct Watcher {
    /// The client id.
    pub client: u64,
    /// The key existed but had expired when watched.
    pub stale: bool,
}

/// One database.
#[derive(Default)]
pub struct Db {
    /// The keys.
    pub dict: Dict<Entry>,
    /// Keys with an expiry (for INFO's keyspace line).
    pub expires: usize,
    /// Watched keys and who watches them.
    pub watched: HashMap<Box<[u8]>, Vec<Watcher>>,
}

/// Server-wide counters kept under the store lock.
#[derive(Debug, Default, Clone, Copy)]
pub struct KsStats {
    /// Reads that found their key.
    pub hits: u64,
    /// Reads that did not.
    pub misses: u64,
    /// Keys removed because they expired.
    pub expired: u64,
    /// Keys removed to get under `maxmemory`.
    pub evicted: u64,
}

/// Every database, the watch state and counters.
pub struct Keyspace {
    /// `SELECT`able databases.
    pub dbs: Vec<Db>,
    /// Clients whose watched keys changed: their `EXEC` fails.
    pub dirty: HashSet<u64>,
    /// Counters for INFO.
    pub stats: KsStats,
    /// `DEBUG SET-ACTIVE-EXPIRE`: the background sweep of expired keys.
    pub active_expire: bool,
    /// `DEBUG PAUSE-CRON 1`: the background sweep is paused.
    pub cron_paused: bool,
    /// Writes since start or the last SAVE (INFO's `rdb_changes_since_last_save`).
    pub changes: u64,
    /// Unix seconds of the last SAVE (0: none since start; LASTSAVE).
    pub last_save: u64,
    /// Clients blocked in BLPOP & co.
    pub blocking: Blocking,
    /// The encoding limits `OBJECT ENCODING` reports against.
    pub enc: EncLimits,
    /// `notify-keyspace-events` and the events not yet published.
    pub notify: Notify,
    /// Client-side caching: who may cache which key.
    pub tracking: Tracking,
    rng: u64,
}

impl Keyspace {
    /// `n` empty databases.
    pub fn new(n: usize) -> Keyspace {
        Keyspace {
            dbs: (0..n.max(1)).map(|_| Db::default()).collect(),
            dirty: HashSet::new(),
            stats: KsStats::default(),
            active_expire: true,
            cron_paused: false,
            changes: 0,
            last_save: 0,
            blocking: Blocking::new(n.max(1)),
            enc: EncLimits::default(),
            notify: Notify::default(),
            tracking: Tracking::default(),
            rng: 0x9E37_79B9_7F4A_7C15
                ^ std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1),
        }
    }

    /// A pseudo-random number (xorshift; RANDOMKEY, sampling).
    pub fn rand(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }

    /// Total keys in every database.
    pub fn total_keys(&self) -> usize {
        self.dbs.iter().map(|d| d.dict.len()).sum()
    }

    /// Note that `key` in `db` changed: clients watching it fail their EXEC,
    /// except a stale watch whose key is now gone (deleting an already
    /// expired key is not a change).
    pub fn touch(&mut self, db: usize, key: &[u8]) {
        if self.tracking.on {
            self.tracking.modified(key);
        }
        self.touch_watched(db, key);
    }

    /// [`touch`](Self::touch) for a key that expired.
    pub fn touch_expired(&mut self, db: usize, key: &[u8]) {
        if self.tracking.on {
            self.tracking.expired(key);
        }
        self.touch_watched(db, key);
    }

    fn touch_watched(&mut self, db: usize, key: &[u8]) {
        let d = &mut self.dbs[db];
        if d.watched.is_empty() {
            return;
        }
        let gone = d.dict.get(key).is_none();
        if let Some(ws) = d.watched.get_mut(key) {
            for w in ws.iter_mut() {
                if w.stale && gone {
                    w.stale = false;
                } else {
                    self.dirty.insert(w.client);
                }
            }
        }
    }

    /// Touch every watched key of `db` that exists there (or in `other`, the
    /// database swapped in) and is not stale: FLUSHDB, FLUSHALL, SWAPDB.
    pub fn touch_all(&mut self, db: usize, other: Option<usize>, now: u64) {
        let live_in = |d: &Db, k: &[u8]| d.dict.get(k).is_some_and(|e| e.live(now));
        let d = &self.dbs[db];
        let mut hit = Vec::new();
        for (k, ws) in &d.watched {
            let here = live_in(d, k);
            let there = other.is_some_and(|o| live_in(&self.dbs[o], k));
            if here || there {
                hit.extend(ws.iter().map(|w| w.client));
            }
        }
        self.dirty.extend(hit);
    }

    /// Start watching `key` in `db` for `client`.
    pub fn watch(&mut self, db: usize, key: &[u8], client: u64, now: u64) -> bool {
        let d = &mut self.dbs[db];
        let stale = d.dict.get(key).is_some_and(|e| !e.live(now));
        let ws = d.watched.entry(key.into()).or_default();
        if ws.iter().any(|w| w.client == client) {
            return false;
        }
        ws.push(Watcher { client, stale });
        true
    }

    /// Stop watching `keys` for `client` and forget its dirty flag.
    pub fn unwatch(&mut self, client: u64, keys: &[(usize, Box<[u8]>)]) {
        for (db, k) in keys {
            if let Some(d) = self.dbs.get_mut(*db) {
                if let Some(ws) = d.watched.get_mut(k) {
                    ws.retain(|w| w.client != client);
                    if ws.is_empty() {
                        d.watched.remove(k);
                    }
                }
            }
        }
        self.dirty.remove(&client);
    }

    /// True when EXEC must fail for `client`: a watched key changed, or one
    /// that was live at WATCH time has expired since.
    pub fn watch_failed(&self, client: u64, keys: &[(usize, Box<[u8]>)], now: u64) -> bool {
        if self.dirty.contains(&client) {
            return true;
        }
        keys.iter().any(|(db, k)| {
            let d = &self.dbs[*db];
            let stale = d
                .watched
                .get(k)
                .and_then(|ws| ws.iter().find(|w| w.client == client))
                .is_some_and(|w| w.stale);
            !stale && d.dict.get(k).is_some_and(|e| !e.live(now))
        })
    }
}
