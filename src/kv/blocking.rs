//! Clients parked in a blocking pop (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH,
//! BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP), kept with the data behind the
//! store's lock so that blocking, waking and serving are atomic with the
//! writes that cause them, whichever event loop runs them.
//!
//! How a wakeup travels: a write that may feed a waiting client (a push, a
//! ZADD, a key created or renamed into place) marks its key ready
//! ([`Blocking::signal`]); when the writing command (or the whole EXEC)
//! ends, [`crate::kv::cmd::blocking::serve_ready`] pops on behalf of the
//! waiters of each ready key, first blocked first served, logs each pop as
//! its own record, and queues the reply in the round's outbox for the loop
//! that owns the client. The reply is sent only if the round's log append
//! succeeds; if it fails, the undo list puts the waiters back in their
//! places. A waiter leaves on timeout, disconnect or `CLIENT UNBLOCK`, under
//! the same lock, so it is served exactly once or not at all.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// A session's side of being blocked: when it gives up (none: never).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parked {
    /// Timeout instant.
    pub deadline: Option<Instant>,
}

/// What a blocked client waits to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockOp {
    /// BLPOP/BRPOP (one element, `count` none) or BLMPOP (up to `count`).
    Pop {
        /// From the head.
        front: bool,
        /// BLMPOP's COUNT.
        count: Option<usize>,
    },
    /// BLMOVE / BRPOPLPUSH to `dst`.
    Move {
        /// The destination list.
        dst: Box<[u8]>,
        /// Pop from the head.
        from_front: bool,
        /// Push at the head.
        to_front: bool,
    },
    /// BZPOPMIN/BZPOPMAX (`count` none) or BZMPOP (up to `count`).
    ZPop {
        /// Highest scores first.
        max: bool,
        /// BZMPOP's COUNT.
        count: Option<usize>,
    },
    /// XREAD / XREADGROUP BLOCK.
    XRead {
        /// Each key and the ID to read after.
        streams: Vec<StreamWait>,
        /// XREADGROUP's group, consumer and NOACK.
        group: Option<GroupRead>,
        /// Entries per stream at most.
        count: usize,
    },
}

/// XREADGROUP's group, consumer and NOACK.
pub type GroupRead = (Box<[u8]>, Box<[u8]>, bool);

/// One stream an XREAD waits on: entries after `gt` (for XREADGROUP `>`,
/// the maximum ID: after the group's last ID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamWait {
    /// The key.
    pub key: Box<[u8]>,
    /// Read after this ID.
    pub gt: crate::kv::types::StreamId,
}

/// The type a waiter waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wants {
    /// A list.
    List,
    /// A sorted set.
    ZSet,
    /// A stream.
    Stream,
}

impl BlockOp {
    /// The type of value this op is served from.
    pub fn wants(&self) -> Wants {
        match self {
            BlockOp::ZPop { .. } => Wants::ZSet,
            BlockOp::XRead { .. } => Wants::Stream,
            _ => Wants::List,
        }
    }
}

/// A blocked client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiter {
    /// The client id.
    pub client: u64,
    /// The event loop that owns it (where its reply goes).
    pub worker: usize,
    /// It speaks RESP3.
    pub resp3: bool,
    /// Its database.
    pub db: usize,
    /// The keys it waits on, in command order, without repeats.
    pub keys: Vec<Box<[u8]>>,
    /// What to do when one is ready.
    pub op: BlockOp,
    /// Its command's index in the table (INFO commandstats).
    pub cmd: usize,
    /// Order of blocking (FIFO service).
    pub seq: u64,
}

/// Clients waiting on one key: (sequence, client id), in blocking order.
type Queue = VecDeque<(u64, u64)>;

/// Every blocked client and the keys they wait on.
#[derive(Debug, Default)]
pub struct Blocking {
    /// Per database: key -> its queue.
    queues: Vec<HashMap<Box<[u8]>, Queue>>,
    waiters: HashMap<u64, Waiter>,
    ready: Vec<(usize, Box<[u8]>)>,
    seq: u64,
}

impl Blocking {
    /// Nobody blocked, for `n` databases.
    pub fn new(n: usize) -> Blocking {
        Blocking {
            queues: (0..n).map(|_| HashMap::new()).collect(),
            ..Blocking::default()
        }
    }

    /// How many clients are blocked (INFO's `blocked_clients`).
    pub fn len(&self) -> usize {
        self.waiters.len()
    }

    /// True when nobody is blocked.
    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// Keys waited on in `db` (INFO's `blocking_keys`... and SWAPDB).
    pub fn keys(&self, db: usize) -> Vec<Box<[u8]>> {
        self.queues
            .get(db)
            .map(|q| q.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Park `w` (a new waiter gets the next sequence number; one put back
    /// by an undo keeps its own and its place).
    pub fn block(&mut self, mut w: Waiter) {
        if w.seq == 0 {
            self.seq += 1;
            w.seq = self.seq;
        }
        if let Some(q) = self.queues.get_mut(w.db) {
            for k in &w.keys {
                let list = q.entry(k.clone()).or_default();
                let at = list.partition_point(|&(s, _)| s < w.seq);
                list.insert(at, (w.seq, w.client));
            }
        }
        self.waiters.insert(w.client, w);
    }

    /// Take `client` out; its waiter if it was blocked.
    pub fn unblock(&mut self, client: u64) -> Option<Waiter> {
        let w = self.waiters.remove(&client)?;
        if let Some(q) = self.queues.get_mut(w.db) {
            for k in &w.keys {
                if let Some(list) = q.get_mut(k) {
                    list.retain(|&(_, c)| c != client);
                    if list.is_empty() {
                        q.remove(k);
                    }
                }
            }
        }
        Some(w)
    }

    /// The waiter of `client`.
    pub fn waiter(&self, client: u64) -> Option<&Waiter> {
        self.waiters.get(&client)
    }

    /// The `i`-th client waiting on `key` in `db`, first blocked first.
    pub fn nth(&self, db: usize, key: &[u8], i: usize) -> Option<u64> {
        self.queues.get(db)?.get(key)?.get(i).map(|&(_, c)| c)
    }

    /// `key` in `db` may now feed a waiter: remember it for serving.
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if self.waiters.is_empty() {
            return;
        }
        let waited = self.queues.get(db).is_some_and(|q| q.contains_key(key));
        if waited && !self.ready.iter().any(|(d, k)| *d == db && &k[..] == key) {
            self.ready.push((db, key.into()));
        }
    }

    /// True when some key is ready.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// The next ready key, oldest first.
    pub fn take_ready(&mut self) -> Option<(usize, Box<[u8]>)> {
        if self.ready.is_empty() {
            None
        } else {
            Some(self.ready.remove(0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(client: u64, keys: &[&str]) -> Waiter {
        Waiter {
            client,
            worker: 0,
            resp3: false,
            db: 0,
            keys: keys.iter().map(|k| k.as_bytes().into()).collect(),
            op: BlockOp::Pop {
                front: true,
                count: None,
            },
            cmd: usize::MAX,
            seq: 0,
        }
    }

    #[test]
    fn fifo_per_key_and_undo_keeps_places() {
        let mut b = Blocking::new(2);
        b.block(w(1, &["a", "b"]));
        b.block(w(2, &["a"]));
        b.block(w(3, &["a"]));
        assert_eq!(b.nth(0, b"a", 0), Some(1));
        let gone = b.unblock(1).expect("blocked");
        assert_eq!(b.nth(0, b"a", 0), Some(2));
        assert_eq!(b.nth(0, b"b", 0), None);
        // Put back (an undone serve): first again.
        b.block(gone);
        assert_eq!(
            (0..3).map(|i| b.nth(0, b"a", i)).collect::<Vec<_>>(),
            vec![Some(1), Some(2), Some(3)]
        );
        assert_eq!(b.len(), 3);
        b.signal(0, b"a");
        b.signal(0, b"a");
        b.signal(0, b"zzz");
        b.signal(1, b"a");
        assert_eq!(b.take_ready(), Some((0, b"a".to_vec().into())));
        assert_eq!(b.take_ready(), None);
        assert!(b.unblock(9).is_none());
    }
}
