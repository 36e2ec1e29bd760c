//! Writing to the key space: [`Ks`] is the only way commands change data.
//! Each change is (1) encoded into the round's log [`Batch`] as an op of the
//! current record, (2) remembered in the batch's undo list (only with a log),
//! (3) applied, and (4) announced to clients watching the key; creations,
//! deletes, expiries and read misses are also noted for keyspace
//! notifications ([`super::notify`]; commands note their own events). If the
//! round's log append fails, [`Batch::rollback`] replays the undo list
//! backwards, so memory never keeps a change the log does not have.
//!
//! Reads go through [`Ks::read`] (which counts hits and misses) and writes
//! through [`Ks::lookup_write`]; both delete an expired key they meet and log
//! the delete, as Redis's `expireIfNeeded` does. So the log replays with time frozen:
//! incremental ops (LPUSH on an existing list) stay correct. Collections
//! change through [`coll`]'s ops.

mod cgroup;
mod coll;
#[cfg(test)]
mod stream_undo_tests;

use super::aof::{self, Op};
use super::blocking::Waiter;
use super::db::{Db, Keyspace};
use super::dict::Dict;
use super::notify as ev;
use super::value::{Entry, Value, WrongType};
pub use cgroup::pel_item;
pub use coll::{Applied, reload, value_ops};

enum Undo {
    Coll {
        db: usize,
        key: Box<[u8]>,
        u: coll::CollUndo,
    },
    Renamed {
        from: (usize, Box<[u8]>),
        to: (usize, Box<[u8]>),
        old: Option<Entry>,
    },
    /// A client blocked this round: take it out.
    Blocked(u64),
    /// A waiter served (or unblocked) this round: put it back in its place.
    Served(Box<Waiter>),
    Restore {
        db: usize,
        key: Box<[u8]>,
        old: Option<Entry>,
    },
    Expire {
        db: usize,
        key: Box<[u8]>,
        old: u64,
    },
    Flush {
        db: usize,
        dict: Dict<Entry>,
        expires: usize,
    },
    Swap(usize, usize),
}

/// The log records and undo list of one locked round.
#[derive(Default)]
pub struct Batch {
    logging: bool,
    /// Encoded records, ready to append.
    pub buf: Vec<u8>,
    open: Option<usize>,
    depth: u32,
    undo: Vec<Undo>,
    /// SAVE ran in this round: fsync the log once the round is written,
    /// whatever `--fsync` says, before anyone gets a reply.
    pub sync_wanted: bool,
}

impl Batch {
    /// A batch that logs (and can undo) when `logging`.
    pub fn new(logging: bool) -> Batch {
        Batch {
            logging,
            ..Batch::default()
        }
    }

    /// True when this round changed something that must be logged.
    pub fn has_records(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Forget everything (after a successful append).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.undo.clear();
        self.open = None;
        self.depth = 0;
        if self.buf.capacity() > 8 << 20 {
            self.buf = Vec::new();
        }
    }

    /// Undo every change of the round, newest first.
    pub fn rollback(&mut self, space: &mut Keyspace) {
        while let Some(u) = self.undo.pop() {
            match u {
                Undo::Restore { db, key, old } => match old {
                    Some(e) => {
                        put_raw(&mut space.dbs[db], &key, e);
                    }
                    None => {
                        remove_raw(&mut space.dbs[db], &key);
                    }
                },
                Undo::Expire { db, key, old } => {
                    if let Some(e) = space.dbs[db].dict.get_mut(&key) {
                        let was = e.expires_at;
                        e.expires_at = old;
                        adjust(&mut space.dbs[db].expires, was, old);
                    }
                }
                Undo::Flush { db, dict, expires } => {
                    space.dbs[db].dict = dict;
                    space.dbs[db].expires = expires;
                }
                Undo::Swap(a, b) => swap_dbs(space, a, b),
                Undo::Coll { db, key, u } => coll::undo_coll(&mut space.dbs[db], &key, u),
                Undo::Renamed { from, to, old } => {
                    if let Some(e) = remove_raw(&mut space.dbs[to.0], &to.1) {
                        put_raw(&mut space.dbs[from.0], &from.1, e);
                    }
                    if let Some(e) = old {
                        put_raw(&mut space.dbs[to.0], &to.1, e);
                    }
                }
                Undo::Blocked(client) => {
                    space.blocking.unblock(client);
                }
                Undo::Served(w) => space.blocking.block(*w),
            }
        }
        self.clear();
    }
}

fn adjust(count: &mut usize, was: u64, now: u64) {
    match (was != 0, now != 0) {
        (false, true) => *count += 1,
        (true, false) => *count = count.saturating_sub(1),
        _ => {}
    }
}

fn put_raw(db: &mut Db, key: &[u8], e: Entry) -> Option<Entry> {
    let new_exp = e.expires_at;
    let old = db.dict.insert(key, e);
    adjust(
        &mut db.expires,
        old.as_ref().map_or(0, |o| o.expires_at),
        new_exp,
    );
    old
}

fn remove_raw(db: &mut Db, key: &[u8]) -> Option<Entry> {
    let old = db.dict.remove(key)?;
    adjust(&mut db.expires, old.expires_at, 0);
    Some(old)
}

fn swap_dbs(space: &mut Keyspace, a: usize, b: usize) {
    if a == b {
        return;
    }
    let (lo, hi) = (a.min(b), a.max(b));
    let (x, y) = space.dbs.split_at_mut(hi);
    std::mem::swap(&mut x[lo].dict, &mut y[0].dict);
    std::mem::swap(&mut x[lo].expires, &mut y[0].expires);
}

/// Apply one replayed op to `space` (time frozen: nothing expires here).
pub fn apply_record(space: &mut Keyspace, rec: aof::Record, now: u64) {
    let n = space.dbs.len() as u32;
    let db_ok = |d: u32| d < n;
    match rec {
        aof::Record::SetStr(d, k, v, exp) if db_ok(d) => {
            put_raw(
                &mut space.dbs[d as usize],
                &k,
                Entry::new(Value::Str(v), exp, now),
            );
        }
        aof::Record::Del(d, k) if db_ok(d) => {
            remove_raw(&mut space.dbs[d as usize], &k);
        }
        aof::Record::Expire(d, k, exp) if db_ok(d) => {
            let db = &mut space.dbs[d as usize];
            if let Some(e) = db.dict.get_mut(&k) {
                let was = e.expires_at;
                e.expires_at = exp;
                adjust(&mut db.expires, was, exp);
            }
        }
        aof::Record::FlushDb(d) if db_ok(d) => {
            space.dbs[d as usize].dict.clear();
            space.dbs[d as usize].expires = 0;
        }
        aof::Record::FlushAll => {
            for db in space.dbs.iter_mut() {
                db.dict.clear();
                db.expires = 0;
            }
        }
        aof::Record::SwapDb(a, b) if db_ok(a) && db_ok(b) => {
            swap_dbs(space, a as usize, b as usize)
        }
        aof::Record::Coll(c) if db_ok(c.db) => {
            let enc = space.enc;
            c.with_op(|op| coll::apply_coll(&mut space.dbs[c.db as usize], op, now, &enc, None));
        }
        aof::Record::Rename(d1, k1, d2, k2) if db_ok(d1) && db_ok(d2) => {
            coll::apply_rename(&mut space.dbs, d1 as usize, &k1, d2 as usize, &k2)
        }
        // An op for a database this server does not have (--databases
        // lowered): dropped, and reported by the caller's key count.
        _ => {}
    }
}

/// Writable access to the locked key space for one command (or one EXEC).
pub struct Ks<'a> {
    /// The data.
    pub space: &'a mut Keyspace,
    /// This round's log records and undo list.
    pub batch: &'a mut Batch,
    /// The command's clock (Unix ms), fixed for its whole run as in Redis.
    pub now: u64,
}

impl Ks<'_> {
    /// Start a command (or a transaction): its ops form one record.
    pub fn begin(&mut self) {
        self.batch.depth += 1;
    }

    /// End what [`begin`](Self::begin) started; the outermost end closes the record.
    pub fn end(&mut self) {
        self.batch.depth = self.batch.depth.saturating_sub(1);
        if self.batch.depth == 0 {
            if let Some(s) = self.batch.open.take() {
                aof::end_record(&mut self.batch.buf, s);
            }
        }
    }

    fn log(&mut self, op: Op<'_>) {
        self.space.changes += 1;
        if !self.batch.logging {
            return;
        }
        let b = &mut *self.batch;
        if b.open.is_none() {
            b.open = Some(aof::begin_record(&mut b.buf));
        }
        aof::push_op(&mut b.buf, op);
        if b.depth == 0 {
            // A change outside begin/end (housekeeping): its own record.
            if let Some(s) = b.open.take() {
                aof::end_record(&mut b.buf, s);
            }
        }
    }

    fn log_value(&mut self, db: usize, key: &[u8], value: &Value, exp: u64) {
        if !self.batch.logging {
            self.space.changes += 1;
            return;
        }
        // Split borrow: the ops borrow `value`, the batch is separate.
        let b = &mut *self.batch;
        if b.open.is_none() {
            b.open = Some(aof::begin_record(&mut b.buf));
        }
        if !matches!(value, Value::Str(_)) {
            // A collection is written whole after clearing the key.
            aof::push_op(&mut b.buf, Op::Del(db as u32, key));
        }
        value_ops(db, key, value, exp, &mut |op| aof::push_op(&mut b.buf, op));
        if b.depth == 0 {
            if let Some(st) = b.open.take() {
                aof::end_record(&mut b.buf, st);
            }
        }
        self.space.changes += 1;
    }

    /// The live entry at `key` for a read: counts a hit or a miss, updates
    /// its access time; an expired key reads as absent.
    pub fn read(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        self.lookup(db, key, true)
    }

    /// [`Ks::read`] for a command that looks at a key without using it
    /// (TTL, TYPE, EXISTS, OBJECT): its access time stays as it was.
    pub fn read_notouch(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        self.lookup(db, key, false)
    }

    fn lookup(&mut self, db: usize, key: &[u8], touch: bool) -> Option<&mut Entry> {
        let now = self.now;
        let expired = match self.space.dbs[db].dict.get(key) {
            None => false,
            Some(e) => !e.live(now),
        };
        if expired {
            // Lazy expiry, as Redis: the delete is logged like any other.
            self.expire_now(db, key);
        }
        let space = &mut *self.space;
        match space.dbs[db].dict.get_mut(key) {
            Some(e) => {
                space.stats.hits += 1;
                if touch {
                    e.access = (now / 1000) as u32;
                }
                Some(e)
            }
            None => {
                space.stats.misses += 1;
                space.notify.event(ev::KEYMISS, "keymiss", db, key);
                None
            }
        }
    }

    /// The live entry at `key`, without counting or touching it.
    pub fn peek(&self, db: usize, key: &[u8]) -> Option<&Entry> {
        self.space.dbs[db]
            .dict
            .get(key)
            .filter(|e| e.live(self.now))
    }

    /// The live entry at `key`, mutable, without counting or touching it.
    pub fn peek_mut(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let now = self.now;
        self.space.dbs[db].dict.get_mut(key).filter(|e| e.live(now))
    }

    /// A live string at `key` for a read: `Ok(None)` when absent.
    pub fn read_str(&mut self, db: usize, key: &[u8]) -> Result<Option<&Vec<u8>>, WrongType> {
        match self.read(db, key) {
            None => Ok(None),
            Some(e) => e.value.as_str().map(Some),
        }
    }

    /// The live entry at `key` for a write: an expired key is deleted (and the
    /// delete logged) first.
    pub fn lookup_write(&mut self, db: usize, key: &[u8]) -> Option<&Entry> {
        let expired = match self.space.dbs[db].dict.get(key) {
            None => return None,
            Some(e) => !e.live(self.now),
        };
        if expired {
            self.expire_now(db, key);
            return None;
        }
        self.space.dbs[db].dict.get(key)
    }

    /// Delete an expired key (logged, watchers told, counted, `expired` noted).
    pub fn expire_now(&mut self, db: usize, key: &[u8]) {
        self.log(Op::Del(db as u32, key));
        let old = remove_raw(&mut self.space.dbs[db], key);
        self.space.stats.expired += 1;
        self.remember(Undo::Restore {
            db,
            key: key.into(),
            old,
        });
        self.space.touch_expired(db, key);
        self.space.blocking.signal(db, key);
        self.notify(ev::EXPIRED, "expired", db, key);
    }

    /// Delete `key` to free memory (`maxmemory`): logged, watchers told,
    /// counted, `evicted` noted.
    pub fn evict(&mut self, db: usize, key: &[u8]) {
        self.log(Op::Del(db as u32, key));
        let old = remove_raw(&mut self.space.dbs[db], key);
        self.space.stats.evicted += 1;
        self.remember(Undo::Restore {
            db,
            key: key.into(),
            old,
        });
        self.space.touch(db, key);
        self.notify(ev::EVICTED, "evicted", db, key);
    }

    fn remember(&mut self, u: Undo) {
        if self.batch.logging {
            self.batch.undo.push(u);
        }
    }

    /// Set `key` to `value` expiring at `exp` (0: never); notes `new` when
    /// no live key was there (after `expired` for a dead one).
    pub fn put(&mut self, db: usize, key: &[u8], value: Value, exp: u64) {
        self.log_value(db, key, &value, exp);
        let old = put_raw(
            &mut self.space.dbs[db],
            key,
            Entry::new(value, exp, self.now),
        );
        if self.space.notify.wants(ev::NEW | ev::EXPIRED) {
            match &old {
                None => self.notify(ev::NEW, "new", db, key),
                Some(o) if !o.live(self.now) => {
                    self.notify(ev::EXPIRED, "expired", db, key);
                    self.notify(ev::NEW, "new", db, key);
                }
                Some(_) => {}
            }
        }
        self.remember(Undo::Restore {
            db,
            key: key.into(),
            old,
        });
        self.space.touch(db, key);
        self.space.blocking.signal(db, key);
    }

    /// Change the string at `key` in place (it must exist, live, as a
    /// string), keeping its expiry; logs the new value.
    pub fn modify_str<R>(&mut self, db: usize, key: &[u8], f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        if self.batch.logging {
            if let Some(e) = self.space.dbs[db].dict.get(key) {
                let old = Some(e.clone());
                self.batch.undo.push(Undo::Restore {
                    db,
                    key: key.into(),
                    old,
                });
            }
        }
        let (r, exp) = {
            let e = self.space.dbs[db]
                .dict
                .get_mut(key)
                .expect("modify_str on a missing key");
            let s = e.value.as_str_mut().expect("modify_str on a string");
            e.raw = true;
            (f(s), e.expires_at)
        };
        if self.batch.logging {
            let v = match &self.space.dbs[db].dict.get(key).expect("present").value {
                Value::Str(s) => s.clone(),
                _ => Vec::new(),
            };
            self.log_value(db, key, &Value::Str(v), exp);
        } else {
            self.space.changes += 1;
        }
        self.space.touch(db, key);
        r
    }

    /// Delete `key` (noting `del`); true if a live key was removed.
    pub fn remove(&mut self, db: usize, key: &[u8]) -> bool {
        let live = match self.space.dbs[db].dict.get(key) {
            None => return false,
            Some(e) => e.live(self.now),
        };
        if !live {
            self.expire_now(db, key);
            return false;
        }
        self.log(Op::Del(db as u32, key));
        let old = remove_raw(&mut self.space.dbs[db], key);
        self.remember(Undo::Restore {
            db,
            key: key.into(),
            old,
        });
        self.space.touch(db, key);
        self.space.blocking.signal(db, key);
        self.notify(ev::GENERIC, "del", db, key);
        true
    }

    /// Take the live entry out of `key` (for RENAME, MOVE, GETDEL); logged as a delete.
    pub fn take(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        let e = self.lookup_write(db, key)?.clone();
        self.remove(db, key);
        Some(e)
    }

    /// Set the expiry of the live `key` to `at` (Unix ms; 0 removes it); a
    /// time not after now deletes the key. False if there is no such key.
    /// Notes `expire`, `persist` or (deleted) `del`, as EXPIRE, PERSIST and
    /// GETEX do.
    pub fn set_expiry(&mut self, db: usize, key: &[u8], at: u64) -> bool {
        if self.lookup_write(db, key).is_none() {
            return false;
        }
        if at != 0 && at <= self.now {
            self.remove(db, key);
            return true;
        }
        self.log(Op::Expire(db as u32, key, at));
        let d = &mut self.space.dbs[db];
        let e = d.dict.get_mut(key).expect("live key");
        let old = e.expires_at;
        e.expires_at = at;
        adjust(&mut d.expires, old, at);
        self.remember(Undo::Expire {
            db,
            key: key.into(),
            old,
        });
        self.space.touch(db, key);
        let name = if at == 0 { "persist" } else { "expire" };
        self.notify(ev::GENERIC, name, db, key);
        true
    }

    /// Empty database `db`.
    pub fn flush_db(&mut self, db: usize) {
        self.space.touch_all(db, None, self.now);
        if self.space.tracking.on {
            self.space.tracking.flushed();
        }
        self.log(Op::FlushDb(db as u32));
        self.signal_all(db);
        let d = &mut self.space.dbs[db];
        let dict = std::mem::take(&mut d.dict);
        let expires = std::mem::take(&mut d.expires);
        self.remember(Undo::Flush { db, dict, expires });
    }

    /// Empty every database.
    pub fn flush_all(&mut self) {
        for db in 0..self.space.dbs.len() {
            self.space.touch_all(db, None, self.now);
        }
        if self.space.tracking.on {
            self.space.tracking.flushed();
        }
        self.log(Op::FlushAll);
        for db in 0..self.space.dbs.len() {
            self.signal_all(db);
            let d = &mut self.space.dbs[db];
            let dict = std::mem::take(&mut d.dict);
            let expires = std::mem::take(&mut d.expires);
            self.remember(Undo::Flush { db, dict, expires });
        }
    }

    /// Swap databases `a` and `b`.
    pub fn swap_db(&mut self, a: usize, b: usize) {
        self.space.touch_all(a, Some(b), self.now);
        self.space.touch_all(b, Some(a), self.now);
        if self.space.tracking.on && a != b {
            // Every key of both databases may read differently now.
            self.space.tracking.flushed();
        }
        self.log(Op::SwapDb(a as u32, b as u32));
        swap_dbs(self.space, a, b);
        self.remember(Undo::Swap(a, b));
        // Clients blocked in either database may find their key there now
        // (or, in XREADGROUP, find it gone).
        for d in [a, b] {
            self.signal_all(d);
        }
    }

    /// Every key waited on in `db` may have changed.
    fn signal_all(&mut self, db: usize) {
        if self.space.blocking.is_empty() {
            return;
        }
        for k in self.space.blocking.keys(db) {
            self.space.blocking.signal(db, &k);
        }
    }

    /// How many commands are running nested (0: between commands).
    pub fn depth(&self) -> u32 {
        self.batch.depth
    }

    /// True inside another command (EXEC's queue, a script): blocking
    /// commands must not block there.
    pub fn nested(&self) -> bool {
        self.batch.depth > 1
    }

    /// Park a client in a blocking pop (undone with the round).
    pub fn block(&mut self, w: Waiter) {
        let id = w.client;
        self.space.blocking.block(w);
        self.remember(Undo::Blocked(id));
    }

    /// Take a blocked client out (served, unblocked); undone with the round.
    pub fn unblock(&mut self, client: u64) -> Option<Waiter> {
        let w = self.space.blocking.unblock(client)?;
        if self.batch.logging {
            self.batch.undo.push(Undo::Served(Box::new(w.clone())));
        }
        Some(w)
    }

    /// Remove up to `budget` expired keys of each database, walking its table
    /// with a cursor kept in `cursors`; returns how many were removed.
    pub fn sweep(&mut self, cursors: &mut Vec<u64>, budget: usize) -> usize {
        cursors.resize(self.space.dbs.len(), 0);
        let now = self.now;
        let mut removed = 0;
        for (db, cursor) in cursors.iter_mut().enumerate() {
            if self.space.dbs[db].expires == 0 {
                continue;
            }
            let mut dead = Vec::new();
            *cursor = self.space.dbs[db].dict.scan(*cursor, budget, |k, e| {
                if !e.live(now) {
                    dead.push(k.to_vec());
                }
            });
            for k in dead {
                self.expire_now(db, &k);
                removed += 1;
            }
        }
        removed
    }
}
