//! The shared store: every database behind one lock, and the log.
//!
//! Why one lock and not shards: a command, an `MSET` or a whole `EXEC` must
//! be atomic and logged as one record, `WATCH` must see every change, and a
//! failed log append must be undone before anyone else reads. Event loops
//! take the lock once per round (not per command), run every complete
//! command their clients sent, append the round's records with one write,
//! and release it; socket reads and writes happen outside the lock, which is
//! where a server like this spends its time. Redis runs commands on one
//! thread for the same reasons.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use super::aof::{self, Problem};
use super::db::Keyspace;
use super::keyspace::{Batch, Ks, apply_record, value_ops};
use super::logfile::Aof;
use super::value::Value;

/// Now as Unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The key space and its log.
pub struct Store {
    space: Mutex<Keyspace>,
    aof: Option<Arc<Aof>>,
}

/// The store locked for one round of commands.
pub struct Round<'a> {
    guard: MutexGuard<'a, Keyspace>,
    batch: &'a mut Batch,
    aof: Option<&'a Arc<Aof>>,
}

/// The store, locked (see [`Store::lock_for`]).
pub struct Locked<'a>(MutexGuard<'a, Keyspace>);

/// A round whose log append failed: everything it changed was undone.
#[derive(Debug)]
pub struct CommitError(pub String);

impl Round<'_> {
    /// Access for one command at time `now`.
    pub fn ks(&mut self, now: u64) -> Ks<'_> {
        Ks {
            space: &mut self.guard,
            batch: self.batch,
            now,
        }
    }

    /// Bytes of log records this round has produced so far.
    pub fn log_len(&self) -> usize {
        self.batch.buf.len()
    }

    /// SAVE asked for an fsync after this round.
    pub fn sync_wanted(&self) -> bool {
        self.batch.sync_wanted
    }

    /// The locked key space (read-only work such as INFO).
    pub fn space(&mut self) -> &mut Keyspace {
        &mut self.guard
    }

    /// Undo everything the round changed, as a failed append does.
    #[cfg(test)]
    pub fn abort(mut self) {
        self.batch.rollback(&mut self.guard);
    }

    /// Append the round's records (one write). On success returns the log
    /// position to fsync to (with `--fsync always`); on failure the file was
    /// truncated back and every change of the round undone, so nobody saw it.
    pub fn commit(mut self) -> Result<Option<u64>, CommitError> {
        let Some(aof) = self.aof else {
            self.batch.clear();
            return Ok(None);
        };
        if !self.batch.has_records() {
            self.batch.clear();
            return Ok(None);
        }
        match aof.append(&self.batch.buf) {
            Ok(pos) => {
                self.batch.clear();
                Ok(Some(pos))
            }
            Err(e) => {
                self.batch.rollback(&mut self.guard);
                Err(CommitError(format!("cannot write the log: {e}")))
            }
        }
    }
}

/// What opening a log found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opened {
    /// Records replayed.
    pub records: u64,
    /// Live keys after replay.
    pub keys: usize,
    /// Bytes of a torn tail that were cut (0: none).
    pub torn: u64,
    /// Where the torn tail started.
    pub torn_at: u64,
}

impl Store {
    /// An empty in-memory store with `databases` databases.
    pub fn new(databases: usize) -> Store {
        Store {
            space: Mutex::new(Keyspace::new(databases)),
            aof: None,
        }
    }

    /// A store replayed from the log at `path` (created if missing), logging
    /// to it from now on. A torn tail is truncated (reported in `Opened`); a
    /// corrupt record in the middle is an error naming its offset.
    pub fn open(
        path: &Path,
        databases: usize,
        fsync: super::logfile::Fsync,
    ) -> anyhow::Result<(Store, Opened)> {
        use anyhow::Context;
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read the log {}", path.display()));
            }
        };
        let mut space = Keyspace::new(databases);
        let now = now_ms();
        let scan = aof::scan(&data, |ops| {
            for op in ops {
                apply_record(&mut space, op, now);
            }
        })
        .with_context(|| format!("{}", path.display()))?;
        let mut opened = Opened {
            records: scan.records,
            ..Opened::default()
        };
        for p in &scan.problems {
            match *p {
                Problem::Corrupt { at, next, why } => anyhow::bail!(
                    "the log {} is corrupt at offset {at} ({why}; good records follow at offset {next}); \
                     refusing to start: run `netkit kv check-log {} --fix` to repair it (a backup is kept)",
                    path.display(),
                    path.display()
                ),
                Problem::Torn { at, bytes } => {
                    opened.torn = bytes;
                    opened.torn_at = at;
                }
            }
        }
        if opened.torn > 0 {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot open {} to cut its torn tail", path.display()))?;
            f.set_len(opened.torn_at)
                .and_then(|_| f.sync_all())
                .with_context(|| format!("cannot cut the torn tail of {}", path.display()))?;
        }
        // Time was frozen during replay; now drop what has expired.
        for db in space.dbs.iter_mut() {
            let gone = db.dict.retain_collect(|_, e| e.live(now));
            db.expires -= gone.iter().filter(|(_, e)| e.expires_at != 0).count();
        }
        opened.keys = space.total_keys();
        let aof = Aof::open(path, fsync)
            .with_context(|| format!("cannot open the log {}", path.display()))?;
        let store = Store {
            space: Mutex::new(space),
            aof: Some(Arc::new(aof)),
        };
        if scan.v1 {
            // A seed log: rewrite it in the current format before appending.
            store.rewrite_log().with_context(|| {
                format!("cannot convert {} to the current format", path.display())
            })?;
        }
        Ok((store, opened))
    }

    /// Set `notify-keyspace-events` (flags of [`super::notify`]).
    pub fn set_notify(&self, flags: u32) {
        self.space.lock().notify.set(flags);
    }

    /// The log, if any.
    pub fn aof(&self) -> Option<&Arc<Aof>> {
        self.aof.as_ref()
    }

    /// Lock the store for a round of commands, recording into `batch`.
    pub fn round<'a>(&'a self, batch: &'a mut Batch) -> Round<'a> {
        Round {
            guard: self.space.lock(),
            batch,
            aof: self.aof.as_ref(),
        }
    }

    /// Wait at most `wait` for the store (an event loop checks in between
    /// whether a busy script holds it, so it never hangs behind one).
    pub fn lock_for(&self, wait: Duration) -> Option<Locked<'_>> {
        self.space.try_lock_for(wait).map(Locked)
    }

    /// A round on a store already locked with [`lock_for`](Self::lock_for).
    pub fn round_locked<'a>(&'a self, locked: Locked<'a>, batch: &'a mut Batch) -> Round<'a> {
        Round {
            guard: locked.0,
            batch,
            aof: self.aof.as_ref(),
        }
    }

    /// A fresh batch for this store's rounds.
    pub fn batch(&self) -> Batch {
        Batch::new(self.aof.is_some())
    }

    /// Compact the log: snapshot the live data with the store locked (the
    /// snapshot and the start of capture are one instant), then write it out.
    /// False when there is no log or a rewrite is already running.
    pub fn rewrite_log(&self) -> std::io::Result<bool> {
        let Some(aof) = &self.aof else {
            return Ok(false);
        };
        if !aof.begin_rewrite() {
            return Ok(false);
        }
        self.rewrite_claimed().map(|()| true)
    }

    /// [`Store::rewrite_log`] once `begin_rewrite` has claimed it (BGSAVE
    /// claims before its thread starts, so INFO shows it at once).
    pub fn rewrite_claimed(&self) -> std::io::Result<()> {
        let Some(aof) = &self.aof else {
            return Ok(());
        };
        let now = now_ms();
        let snapshot: Vec<(u32, Vec<u8>, Value, u64)> = {
            let space = self.space.lock();
            aof.start_capture();
            let mut v = Vec::with_capacity(space.total_keys());
            for (i, db) in space.dbs.iter().enumerate() {
                for (k, e) in db.dict.iter() {
                    if e.live(now) {
                        v.push((i as u32, k.to_vec(), e.value.clone(), e.expires_at));
                    }
                }
            }
            v
        };
        // Records of about 1 MiB each; a big collection is written as
        // HSET/RPUSH/SADD/ZADD ops of 512 items, over as many records.
        let mut it = snapshot.into_iter().peekable();
        let records = std::iter::from_fn(move || {
            it.peek()?;
            let mut buf = Vec::new();
            let mut s = aof::begin_record(&mut buf);
            while buf.len() < 1 << 20 {
                let Some((db, k, v, exp)) = it.next() else {
                    break;
                };
                value_ops(db as usize, &k, &v, exp, &mut |op| {
                    if buf.len() - s >= 1 << 20 {
                        aof::end_record(&mut buf, s);
                        s = aof::begin_record(&mut buf);
                    }
                    aof::push_op(&mut buf, op);
                });
            }
            aof::end_record(&mut buf, s);
            Some(buf)
        });
        aof.finish_rewrite(records)
    }
}
